"""bench/report.py: results files -> the Benchmarks page and its plots, built by MkDocs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "report.py"
MACHINE = {"cores": 2, "cpu": "Test CPU 3000", "python": "3.11.7", "memory_gib": 8.0}


def comparison(what, ours, peer, peer_name, unit, goal, met):
    return {
        "what": what,
        "ours": ours,
        "peer": peer,
        "peer_name": peer_name,
        "unit": unit,
        "ratio": ours / peer,
        "goal": goal,
        "met": met,
    }


def write_results(folder: Path) -> None:
    folder.mkdir()
    site = {
        "benchmark": "site",
        "machine": MACHINE,
        "created": "2026-11-20T10:00:00+00:00",
        "comparisons": [
            comparison("cold build, 25 posts", 4.0, 10.0, "mkdocs-jupyter", "s", "<= 0.5", True),
            comparison(
                "rebuild after editing one notebook, 25 posts",
                3.0,
                2.0,
                "plain mkdocs build (floor)",
                "s",
                "<= 1.2",
                False,
            ),
        ],
        "series": {
            "posts": [25, 50],
            "repeats": 3,
            "ours_cold": [4.0, 7.5],
            "ours_rebuild": [3.0, 5.0],
            "floor": [2.0, 4.1],
            "peer_cold": [10.0, 19.0],
            "peer_rebuild": [3.5, 6.0],
        },
    }
    train = {
        "benchmark": "train",
        "machine": MACHINE | {"gpu": "Test GPU"},
        "created": "2026-11-21T10:00:00+00:00",
        "comparisons": [
            comparison(
                "training throughput, resnet18 64 px, cpu",
                300.0,
                100.0,
                "fastai fine_tune",
                "images/s",
                ">= 2x, error rate no worse",
                True,
            )
        ],
        "series": {
            "error_rate": {"ours": 0.0125, "fastai": 0.0150},
            "repeats": 2,
            "images_per_s_runs": {"ours": [290.0, 310.0], "fastai": [99.0, 101.0]},
            "note": "from scratch on a CPU",
        },
    }
    (folder / "site.json").write_text(json.dumps(site), "utf-8")
    (folder / "train.json").write_text(json.dumps(train), "utf-8")
    gpu = {
        **train,
        "benchmark": "train-cuda",
        "comparisons": [
            comparison(
                "training throughput, resnet18 224 px, cuda",
                2400.0,
                750.0,
                "fastai fine_tune",
                "images/s",
                ">= 2x, error rate no worse",
                True,
            )
        ],
    }
    (folder / "train-cuda.json").write_text(json.dumps(gpu), "utf-8")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_page_tables_and_plots_build_with_mkdocs_strict(tmp_path):
    write_results(tmp_path / "results")
    docs = tmp_path / "docs"
    page, assets = docs / "benchmarks.md", docs / "assets" / "benchmarks"
    done = run(
        "--results",
        str(tmp_path / "results"),
        "--page",
        str(page),
        "--assets",
        str(assets),
        "--note",
        "Measured on a shared machine.",
    )
    assert done.returncode == 0, done.stderr
    text = page.read_text("utf-8")
    assert "!!! note\n\n    Measured on a shared machine.\n" in text
    # Training comes before the site build, whatever the file names' order.
    assert (
        text.index("## Training\n")
        < text.index("## Training on a GPU")
        < text.index("## Site build")
    )
    assert "| training throughput, resnet18 224 px, cuda | 2,400 images/s |" in text
    assert "| cold build, 25 posts | 4 s | mkdocs-jupyter: 10 s | 0.40× | ≤ 0.5 | yes |" in text
    assert (
        "| rebuild after editing one notebook, 25 posts | 3 s | plain mkdocs build (floor): "
        "2 s | 1.50× | ≤ 1.2 | **no** |"
    ) in text
    assert "| training throughput, resnet18 64 px, cpu | 300 images/s |" in text
    assert (
        "Measured on 2 cores (Test CPU 3000), 8.0 GiB, no GPU, Python 3.11.7, on 2026-11-20."
        in text
    )
    assert "Test GPU, Python 3.11.7, on 2026-11-21." in text
    assert (
        "Error rates: ours 0.0125, fastai 0.0150. Medians of 2 alternating runs; images "
        "per second in each run: ours 290.0, 310.0; fastai 99.0, 101.0."
    ) in text
    assert "Note: from scratch on a CPU." in text
    assert "| 50 | 7.50 s | 5.00 s | 4.10 s | 19.00 s | 6.00 s |" in text
    for name in ("ratios.png", "site-build.png"):
        assert f"](assets/benchmarks/{name})" in text
        assert (assets / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The page's links resolve in a real MkDocs build (strict: a broken image link fails).
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\ndocs_dir: docs\n"
        "markdown_extensions: [admonition, tables]\nnav:\n"
        "  - Benchmarks: benchmarks.md\n",
        "utf-8",
    )
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "site" / "assets" / "benchmarks" / "site-build.png").is_file()


def test_no_results_yet(tmp_path):
    (tmp_path / "results").mkdir()
    page = tmp_path / "benchmarks.md"
    done = run(
        "--results",
        str(tmp_path / "results"),
        "--page",
        str(page),
        "--assets",
        str(tmp_path / "assets"),
    )
    assert done.returncode == 0, done.stderr
    assert "No results yet: run `make bench`." in page.read_text("utf-8")


def test_a_broken_results_file_is_named(tmp_path):
    write_results(tmp_path / "results")
    (tmp_path / "results" / "demo.json").write_text("{not json", "utf-8")
    done = run(
        "--results",
        str(tmp_path / "results"),
        "--page",
        str(tmp_path / "b.md"),
        "--assets",
        str(tmp_path / "assets"),
    )
    assert done.returncode == 1
    assert "demo.json: can't be read as JSON" in done.stderr
    assert "python bench/demo.py" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "b.md").exists()


def test_a_results_file_without_comparisons_is_named(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "site.json").write_text('{"benchmark": "site"}', "utf-8")
    done = run(
        "--results",
        str(tmp_path / "results"),
        "--page",
        str(tmp_path / "b.md"),
        "--assets",
        str(tmp_path / "assets"),
    )
    assert done.returncode == 1
    assert "site.json: not a results file (missing machine, comparisons)" in done.stderr
