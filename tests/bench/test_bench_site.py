"""bench/site.py on a tiny corpus, our side only: real builds and a real `mkdocs serve` edit ->
reload loop, the results file's shape.

Not a timed test: it checks what was measured and written, never how fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "site.py"


def run(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_quick_run_builds_and_serves_ours_and_the_floor(tmp_path):
    results, work = tmp_path / "results", tmp_path / "work"
    done = run(
        "--quick",
        "--skip-peer",
        "--sizes",
        "3",
        "6",
        "--results",
        str(results),
        "--keep",
        str(work),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "machine: " in out and " cores (" in out
    assert "mkdocs-jupyter skipped (--skip-peer)" in out

    data = json.loads((results / "site.json").read_text("utf-8"))
    assert data["benchmark"] == "site"
    assert data["machine"]["cores"] >= 1
    whats = [c["what"] for c in data["comparisons"]]
    # --quick measures the serve loop too, at each size after the builds.
    assert whats == [
        "rebuild after editing one notebook, 3 posts",
        "serve: reload after editing one post, 3 posts",
        "rebuild after editing one notebook, 6 posts",
        "serve: reload after editing one post, 6 posts",
    ]
    for c in data["comparisons"]:
        serve = c["what"].startswith("serve: ")
        assert c["peer_name"] == (
            "plain mkdocs serve (floor)" if serve else "plain mkdocs build (floor)"
        )
        assert c["unit"] == "s" and c["goal"] == ("<= 1.5" if serve else "<= 1.2")
        assert c["ours"] > 0 and c["peer"] > 0
        assert abs(c["ratio"] - c["ours"] / c["peer"]) < 1e-9
        assert c["met"] == (c["ratio"] <= (1.5 if serve else 1.2))
        # One printed line per comparison, ending in the ratio.
        assert any(
            line.startswith(c["what"]) and line.endswith(f"ratio {c['ratio']:.2f}x")
            for line in out.splitlines()
        )
    series = data["series"]
    assert series["posts"] == [3, 6] and series["repeats"] == 1
    for key in ("ours_cold", "ours_rebuild", "floor", "serve_ours", "serve_floor"):
        assert len(series[key]) == 2 and all(t > 0 for t in series[key])
    assert "peer_cold" not in series
    assert series["runs"]["6"]["ours_rebuild"] == [round(series["ours_rebuild"][1], 4)]
    # One timed reload per repeat (the warm-up edit is not among them).
    assert series["runs"]["3"]["serve_ours"] == [round(series["serve_ours"][0], 4)]
    assert series["runs"]["3"]["serve_floor"] == [round(series["serve_floor"][0], 4)]
    serve = next(c for c in data["comparisons"] if c["what"].endswith("one post, 6 posts"))
    assert (round(serve["ours"], 4), round(serve["peer"], 4)) == (
        series["serve_ours"][1],
        series["serve_floor"][1],
    )
    assert "growth, ours cold: " in out and "ms per post, time ~ n^" in out

    # The timed builds were real: every post is a page of our blog and of the floor, with
    # its figure, and the edited notebook's change reached our site.
    for site in ("ours", "floor"):
        pages = sorted((work / "posts-6" / site / "public").glob("2025/*/*/post-*/index.html"))
        assert len(pages) == 6, site
        assert all("Classifying" in p.read_text("utf-8") for p in pages)
        assert any((work / "posts-6" / site / "public").rglob("*.png")), site
    edited = (work / "posts-6" / "ours" / "public").glob("2025/*/*/post-003/index.html")
    assert "edited 1 times" in next(edited).read_text("utf-8")

    # So were the reloads: each server, on 127.0.0.1, rebuilt after the warm-up edit and the
    # timed one, and the edited files carry a marker.
    for key in ("serve_ours", "serve_floor"):
        log = (work / "posts-3" / f"{key}.log").read_text("utf-8")
        assert "Serving on http://127.0.0.1:" in log, log
        assert log.count("Detected file changes") >= 2, log
    post = "2025-01-02-post-001"
    assert "serve-edit-" in (work / "posts-3" / "ours" / "posts" / f"{post}.ipynb").read_text()
    assert (
        "serve-edit-" in (work / "posts-3" / "floor" / "site" / "posts" / f"{post}.md").read_text()
    )


def test_skip_serve_and_skip_builds_together_are_a_clear_error():
    done = run("--skip-serve", "--skip-builds", timeout=60)
    assert done.returncode == 2
    assert "leave nothing to measure" in done.stderr and "Traceback" not in done.stderr


def test_bad_sizes_are_a_clear_error():
    done = run("--sizes", "1", timeout=60)
    assert done.returncode == 2
    assert "at least 2 posts" in done.stderr and "Traceback" not in done.stderr


def test_help_documents_every_option():
    done = run("--help", timeout=60)
    assert done.returncode == 0
    for option in (
        "--sizes",
        "--repeats",
        "--quick",
        "--skip-peer",
        "--skip-serve",
        "--skip-builds",
        "--python",
        "--peer-python",
        "--results",
        "--keep",
    ):
        assert option in done.stdout
