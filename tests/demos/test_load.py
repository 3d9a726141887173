"""A class opening a shared link at once: 100 simultaneous requests, every one answered."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from demos import runtime

# The burst itself is a measuring tool of bench/ (bench/demo.py records its latencies).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from crowd import burst, summary

pytestmark = pytest.mark.slow


def test_a_hundred_simultaneous_visitors_all_get_an_answer(launched_app, tiny_bundle):
    """With the old queue of 16, most of these got "Queue is full"."""
    latencies = burst(
        launched_app,
        tiny_bundle / "examples" / "red_0.png",
        n=100,
        api_name=runtime.API_NAME,
        timeout=120,
        check=lambda result: result["label"] == "red",
    )
    stats = summary(latencies)
    print(
        f"100 simultaneous requests: p50 {stats['p50']:.2f} s, p95 {stats['p95']:.2f} s, "
        f"max {stats['max']:.2f} s"
    )
    assert stats["n"] == 100
