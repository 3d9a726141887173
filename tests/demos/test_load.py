"""A class opening a shared link at once: 100 simultaneous requests, every one answered."""

from __future__ import annotations

import pytest
from load import burst, summary

from demos import runtime

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
