"""bench/demo.py runs end to end for our side (--quick --skip-peer) and writes its results.

Not a timed test: it checks that the benchmark really ran (a bundle was built, predictions
and a cold start of the Space app were timed) and that demo.json has the structure
bench/common.py documents. fastai isn't installed by `make test`, so the peer is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "demo.py"


def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quick_run_writes_results(tmp_path):
    # --space-python: this Python (the default venv from requirements.txt needs the index),
    # given relative to the working folder as a user would type it.
    python = os.path.relpath(sys.executable, ROOT)
    done = run(
        "--quick",
        "--skip-peer",
        "--size",  # under --quick's 64: smaller tensors, the same code
        "32",
        "--crowd",  # under --quick's 30: still more requests than the app runs at once
        "12",
        "--results-dir",
        str(tmp_path),
        "--note",
        "a test run",
        "--space-python",
        python,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "cores" in lines[0]
    floor_line = next(line for line in lines if line.startswith("prediction vs the floor:"))
    assert floor_line.endswith("x") and "bare onnxruntime run" in floor_line

    data = json.loads((tmp_path / "demo.json").read_text())
    assert data["benchmark"] == "demo"
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu"]
    assert data["created"]
    # --skip-peer: only the floor comparison; the fastai ones need fastai.
    assert [c["what"] for c in data["comparisons"]] == ["prediction vs the floor"]
    floor = data["comparisons"][0]
    assert floor["unit"] == "s" and floor["peer_name"] == "bare onnxruntime run"
    assert 0 < floor["ours"] < 10 and 0 < floor["peer"] < 10
    assert floor["ratio"] == pytest.approx(floor["ours"] / floor["peer"])
    assert floor["goal"] == "<= 1.3" and floor["met"] is (floor["ratio"] <= 1.3)

    series = data["series"]
    assert series["note"].endswith("; a test run") and "thread per request" in series["note"]
    settings = series["settings"]
    assert settings["quick"] is True and settings["peer"] is False
    assert settings["arch"] == "resnet18" and settings["size"] == 32
    assert settings["space_python"] == "given"
    rounds = series["prediction_s"]["rounds"]
    assert set(rounds) == {"ours", "floor", "floor_default_threads"}
    assert all(len(times) == settings["rounds"] for times in rounds.values())
    starts = series["cold_start_s"]
    assert set(starts["runs"]) == {"ours", "import gradio"}
    ours = starts["runs"]["ours"]
    assert len(ours["answer"]) == len(ours["listening"]) == settings["starts"]
    assert len(starts["runs"]["import gradio"]["answer"]) == settings["starts"]
    # A real server start (imports gradio and onnxruntime, loads the model) takes time, and
    # the port listens before the first answer comes back.
    assert 0.2 < starts["median"]["ours"] < 180
    pairs = zip(ours["listening"], ours["answer"], strict=True)
    assert all(0 < listen <= answer for listen, answer in pairs)
    assert "listening after" in done.stdout
    # The crowd: every simultaneous request was answered, through the app's queue.
    crowd = series["crowd"]
    assert crowd["n"] == 12 and 0 < crowd["p50"] <= crowd["p95"] <= crowd["max"] < 600
    assert crowd["concurrency"] < 12 <= crowd["queue"]
    assert "12 simultaneous requests to our app" in done.stdout
    # In the browser: the page ran the bundle timed above (the same recipe, so not built
    # again), once per precision, with the model and the runtime downloaded.
    web = series["web"]
    assert web["settings"]["archs"] == ["resnet18"] and web["settings"]["size"] == 32
    assert set(web["models"]["resnet18"]) == {"fp32", "int8"}
    for figures in web["models"]["resnet18"].values():
        assert figures["predict_s"] > 0 and figures["bytes"]["model"] > 0
        assert figures["bytes"]["runtime"] > 0
    assert "building a resnet18 bundle" not in done.stdout


def test_bad_image_is_a_clear_error(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    for image, expected in (
        (tmp_path / "missing.jpg", "no such file"),
        (text, "not an image Pillow can read"),
    ):
        done = run("--skip-peer", "--image", str(image), "--results-dir", str(tmp_path), timeout=60)
        assert done.returncode == 1
        assert str(image) in done.stderr and expected in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "demo.json").exists()


@pytest.mark.skipif(
    importlib.util.find_spec("fastai") is not None,
    reason="fastai is installed here, so the peer would run",
)
def test_without_fastai_the_peer_needs_skip_peer(tmp_path):
    done = run("--quick", "--results-dir", str(tmp_path), timeout=60)
    assert done.returncode == 1
    assert "fastai is not installed" in done.stderr and "--skip-peer" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_documents_every_option():
    done = run("--help", timeout=60)
    assert done.returncode == 0
    for option in (
        "--quick",
        "--skip-peer",
        "--arch",
        "--size",
        "--rounds",
        "--per-round",
        "--starts",
        "--image",
        "--work",
        "--note",
        "--results-dir",
        "--space-python",
    ):
        assert option in done.stdout
    assert "default" in done.stdout


@pytest.mark.slow
def test_space_environment_that_cannot_be_made_is_a_clear_error(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_demo", SCRIPT)
    bench_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_demo)
    monkeypatch.setattr(bench_demo, "VENVS", tmp_path / "venvs")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("this-package-does-not-exist-anywhere==0.0.1\n")
    with pytest.raises(bench_demo.BenchError) as error:
        bench_demo.space_python(requirements)
    message = str(error.value)
    assert "could not make the Space's environment" in message and "--space-python" in message
    assert not any((tmp_path / "venvs").glob("*/.complete"))  # never mistaken for a good one
