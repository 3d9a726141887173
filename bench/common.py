"""What every benchmark shares: the machine's description, medians, and the results file.

Each benchmark writes ``bench/results/<name>.json``; ``bench/report.py`` turns those files into
the site's Benchmarks page. A result file looks like::

    {"benchmark": "demo", "machine": {...}, "created": "...",
     "comparisons": [{"what": "prediction, one image", "ours": 0.012, "peer": 0.031,
                      "peer_name": "fastai learn.predict", "unit": "s", "ratio": 0.39,
                      "goal": "<= 0.5", "met": true}],
     "series": {...}}   # optional extra figures for plots

``ratio`` is always ours / peer in the unit given, so for times lower is better and for
throughputs higher is better; ``goal`` says which way, in words a reader can check.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    """Cores, CPU model, memory and GPU (if any), as printed next to every figure."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        gpu = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if gpu.returncode == 0 and gpu.stdout.strip():
            info["gpu"] = gpu.stdout.strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def describe(info: dict) -> str:
    gpu = f", {info['gpu']}" if info.get("gpu") else ", no GPU"
    memory = f", {info['memory_gib']} GiB" if "memory_gib" in info else ""
    return f"{info['cores']} cores ({info['cpu']}){memory}{gpu}, Python {info['python']}"


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of `fn()` over `repeats` runs, after `warmup` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def comparison(
    what: str,
    ours: float,
    peer: float,
    *,
    peer_name: str,
    unit: str,
    at_most: float | None = None,
    at_least: float | None = None,
    goal: str | None = None,
    met: bool | None = None,
) -> dict:
    """One comparison. With `at_most` (`at_least`), the goal is "ratio <= at_most" (">=
    at_least") and `met` follows from the figures; other goals (a compound one, none stated)
    pass `goal` and `met` themselves."""
    ratio = ours / peer if peer else None
    if at_most is not None:
        goal, met = f"<= {at_most}", ratio is not None and ratio <= at_most
    elif at_least is not None:
        goal, met = f">= {at_least}", ratio is not None and ratio >= at_least
    return {
        "what": what,
        "ours": ours,
        "peer": peer,
        "peer_name": peer_name,
        "unit": unit,
        "ratio": ratio,
        "goal": goal,
        "met": bool(met),
    }


def line(c: dict) -> str:
    """One printed line per comparison, ending in the ratio."""
    ratio = f"{c['ratio']:.2f}x" if c["ratio"] is not None else "n/a"
    verdict = "goal met" if c["met"] else "goal missed"
    return (
        f"{c['what']}: ours {c['ours']:.4g} {c['unit']}, {c['peer_name']} "
        f"{c['peer']:.4g} {c['unit']} ({c['goal']}, {verdict}) ratio {ratio}"
    )


def write_results(
    name: str, comparisons: list[dict], series: dict | None = None, info: dict | None = None
) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {
        "benchmark": name,
        "machine": info or machine(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "comparisons": comparisons,
        "series": series or {},
    }
    path.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    return path
