"""A burst of simultaneous visitors against a running demo, through Gradio's HTTP API.

    from crowd import burst, summary       # bench/ on sys.path
    latencies = burst("http://127.0.0.1:7860/digits/", "three.png", n=100)
    print(summary(latencies))        # {"n": 100, "p50": 0.41, "p95": 0.83, "max": 0.9}

All `n` requests start at the same moment, as when a link is shared with a class: each
uploads the image (POST gradio_api/upload), joins the queue (POST gradio_api/call/NAME)
and waits for its answer on the event stream (GET gradio_api/call/NAME/EVENT_ID), the
calls `gradio_client` and curl make. A latency is the time from the start to the answer:
upload, waiting in the queue and the prediction.

The requests are coroutines on one asyncio loop (httpx, which Gradio already depends on)
rather than `gradio_client` Clients: a Client costs ~0.2 s of its own per call and ~1 s on
its first, and 100 of them in threads would share the GIL with a server launched in the
same process, so their latencies would mostly measure the client.
"""

from __future__ import annotations

import asyncio
import json
import math
import mimetypes
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


class BurstFailed(AssertionError):
    """Some requests of a burst failed: `errors` holds their messages, `latencies` the rest."""

    def __init__(self, errors: list[str], latencies: list[float], n: int):
        self.errors, self.latencies = errors, latencies
        common = "; ".join(f"{count}x {text}" for text, count in Counter(errors).most_common(3))
        super().__init__(f"{len(errors)} of {n} requests failed: {common}")


def burst(
    url: str,
    image: str | Path,
    n: int = 100,
    *,
    api_name: str = "/predict",
    timeout: float = 120.0,
    check: Callable[[Any], bool] | None = None,
) -> list[float]:
    """Send `n` simultaneous requests for `image` to the Gradio app at `url`; their
    latencies in seconds, in the order the requests were made.

    Every request must be answered within `timeout` seconds of the start (and its output,
    the endpoint's first value, satisfy `check` where one is given); otherwise BurstFailed
    says how many failed and why ("Queue is full", a timeout, an error message...).
    """
    return asyncio.run(_burst(url, Path(image), n, api_name.strip("/"), timeout, check))


async def _burst(url, image, n, api, timeout, check) -> list[float]:
    import httpx

    base = url.rstrip("/") + "/gradio_api"
    content = image.read_bytes()
    mime = mimetypes.guess_type(image.name)[0] or "application/octet-stream"
    errors: list[str] = []

    async def request(client: httpx.AsyncClient, began: float) -> float | None:
        step = "upload"
        try:
            response = await client.post(
                f"{base}/upload", files={"files": (image.name, content, mime)}
            )
            response.raise_for_status()
            file = {
                "path": response.json()[0],
                "orig_name": image.name,
                "meta": {"_type": "gradio.FileData"},
            }
            step = "join the queue"
            response = await client.post(f"{base}/call/{api}", json={"data": [file]})
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:120]}")
            event_id = response.json()["event_id"]
            event, step = None, "wait for the answer"
            async with client.stream("GET", f"{base}/call/{api}/{event_id}") as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event in ("complete", "error"):
                        data = line.split(":", 1)[1].strip()
                        if event == "error":
                            raise RuntimeError(f"error event: {data[:160]}")
                        output = json.loads(data)[0]
                        if check is not None and not check(output):
                            raise RuntimeError(f"unexpected output {data[:160]}")
                        return time.perf_counter() - began
            raise RuntimeError(f"the event stream ended without an answer (last event {event})")
        except Exception as error:  # every failure is reported
            errors.append(f"{step}: {type(error).__name__}: {error}"[:200])
            return None

    # A connection per call, none kept alive: a pooled connection idle for longer than the
    # server's keep-alive timeout (uvicorn: 5 s) can be closed just as it is reused.
    limits = httpx.Limits(max_connections=2 * n + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        began = time.perf_counter()
        tasks = [asyncio.ensure_future(request(client, began)) for _ in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            errors.append(f"{len(pending)} request(s) unanswered after {timeout:.0f} s")
        latencies = [task.result() for task in tasks if task in done]
    answered = [latency for latency in latencies if latency is not None]
    if errors:
        raise BurstFailed(errors, answered, n)
    return answered


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(latencies: list[float]) -> dict[str, float]:
    """{"n", "p50", "p95", "max"} of a burst's latencies, in seconds."""
    return {
        "n": len(latencies),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "max": max(latencies),
    }
