"""The on-demand deploy workflow (.github/workflows/demos.yml), checked for the facts a deploy
depends on (tests/test_workflows.py lints it with the other workflows)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "demos.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    # PyYAML reads the `on:` key as the boolean True (YAML 1.1).
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True)
    return data


def _steps(workflow) -> list[dict]:
    return workflow["jobs"]["deploy"]["steps"]


def test_runs_by_hand_with_model_and_space_inputs(workflow):
    assert set(workflow["on"]) == {"workflow_dispatch"}
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["model"]["required"] and inputs["space"]["required"]
    assert inputs["source"]["options"] == ["hub", "train"]


def test_the_token_comes_from_the_secret_only_where_needed(workflow):
    text = WORKFLOW.read_text()
    assert "HF_TOKEN" not in json.dumps(workflow["jobs"]["deploy"].get("env", {}))
    uses_token = [step["name"] for step in _steps(workflow) if "HF_TOKEN" in step.get("env", {})]
    expected = ["Check the HF_TOKEN secret", "Download the bundle from the Hub"]
    assert uses_token == [*expected, "Deploy to the Space"]
    assert set(re.findall(r"secrets\.(\w+)", text)) == {"HF_TOKEN"}
    assert 'echo "$HF_TOKEN"' not in text and "set -x" not in text


def test_inputs_never_reach_a_script_unquoted(workflow):
    # `${{ inputs.x }}` pasted into a `run:` script would let an input inject shell code.
    for step in _steps(workflow):
        assert "${{" not in step.get("run", ""), step["name"]


def test_installs_the_demo_extra_and_runs_the_deploy_command(workflow):
    runs = "\n".join(step.get("run", "") for step in _steps(workflow))
    assert "pip install '.[demo]'" in runs and "pip install '.[demo,train]'" in runs
    assert 'python -m demos deploy "$MODEL" --space "$SPACE"' in runs
    assert 'hf download "$repo" --local-dir "models/$MODEL"' in runs
    assert 'python -m training "$MODEL"' in runs
    assert "git add demos.json" in runs
