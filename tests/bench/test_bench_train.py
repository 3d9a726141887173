"""bench/train.py end to end on our side only (fastai isn't in the test environment)."""

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_train_bench_runs_ours_and_prints_medians(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/train.py"),
            "--skip-fastai",
            "--size",
            "16",  # the smallest a resnet takes: what's checked is the run, not the speed
            "--epochs",
            "1",
            "--freeze-epochs",
            "0",
            "--repeats",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert text.startswith("machine: ") and "cores" in text.splitlines()[0]
    assert "2 run(s) each" in text
    assert "run 1: ours" in text and "run 2: ours" in text
    assert "median of 2:" in text
    [row] = [line for line in text.splitlines() if line.startswith("ours ")]
    images_per_s, seconds, error_rate, n_train = row.split()[1:]
    assert float(images_per_s) > 0 and float(seconds) > 0
    assert 0 <= float(error_rate) <= 1 and int(n_train) == 1438
    assert "fastai skipped (--skip-fastai)" in text


def load_script():
    spec = importlib.util.spec_from_file_location("bench_train", ROOT / "bench/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("ours_error", "met"), [(0.1, True), (0.3, False)])
def test_medians_goal_and_results_with_a_stand_in_for_fastai(
    tmp_path, monkeypatch, ours_error, met
):
    bench_train = load_script()
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import common

    monkeypatch.setattr(common, "RESULTS", tmp_path)
    monkeypatch.setitem(sys.modules, "fastai", types.ModuleType("fastai"))  # "installed"
    speeds = {"ours": iter([100.0, 300.0, 200.0]), "fastai": iter([50.0, 40.0, 400.0])}

    def row(name, error):
        images_per_s = next(speeds[name])
        return {
            "name": name,
            "seconds": 1000 / images_per_s,
            "images_per_s": images_per_s,
            "error_rate": error,
            "n_train": 10,
        }

    monkeypatch.setattr(bench_train, "run_ours", lambda args, folder: row("ours", ours_error))
    monkeypatch.setattr(bench_train, "run_fastai", lambda args, folder: row("fastai", 0.2))
    monkeypatch.setattr(bench_train, "folder_of", lambda args: tmp_path)
    assert bench_train.main(["--repeats", "3", "--note", "stand-in"]) == 0
    data = json.loads((tmp_path / "train.json").read_text())
    [c] = data["comparisons"]
    # Each side's median run, not its first or its mean.
    assert (c["ours"], c["peer"], c["ratio"]) == (200.0, 50.0, 4.0)
    assert c["met"] is met  # 4x, but the error rate must be no worse too
    series = data["series"]
    assert series["images_per_s_runs"] == {
        "ours": [100.0, 300.0, 200.0],
        "fastai": [50.0, 40.0, 400.0],
    }
    assert series["seconds"] == {"ours": 5.0, "fastai": 20.0}
    assert series["repeats"] == 3 and series["note"] == "stand-in"
    assert data["machine"]["cores"] >= 1


def test_repeats_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exit_:
        load_script().parse(["--repeats", "0"])
    assert exit_.value.code == 2 and "--repeats must be at least 1" in capsys.readouterr().err
