"""bench/train.py end to end on our side only (fastai isn't in the test environment)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_train_bench_runs_ours_and_prints_medians(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench/train.py"), "--skip-fastai", "--size", "32",
         "--epochs", "1", "--freeze-epochs", "0", "--repeats", "2"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
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
