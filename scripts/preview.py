"""make preview: the blog and its demos, served locally together, offline.

1. Trains the `digits` sample if its bundle can't run (about a minute on 2 CPU cores); a clone
   runs it as committed (its small int8 model is in git).
2. Serves every bundle in models/ with `python -m demos serve` (default http://127.0.0.1:7860/).
3. Serves the blog with `mkdocs serve` (default http://127.0.0.1:8000/, live reload), its
   demo cards pointing at the local demo server.

Ctrl-C stops both servers. This script only starts the three packages' own commands, so it
stays a thin layer over what a user can also run by hand.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "digits"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def stop(processes: list[subprocess.Popen], *, interrupted: bool = False) -> None:
    """Stop the servers once, whatever else arrives meanwhile."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if interrupted:
        # Ctrl-C in a terminal reaches the whole process group: give the servers a moment to
        # shut down by themselves before asking again.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            time.sleep(0.1)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def needs_sample(models: Path) -> bool:
    """Train the sample on a first run (no bundle can run yet), or when its bundle is there
    without any weights it can run on; never re-add a sample the user removed. A clone can
    run the sample as committed: its small int8 model is in git (the other weights are not),
    so a first run trains nothing and leaves `git status` clean."""
    from demos.bundles import has_weights

    sample = models / SAMPLE
    if (sample / "model.json").is_file():
        return not has_weights(sample)
    return not any(has_weights(p.parent) for p in models.glob("*/model.json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make preview",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--blog-port", type=int, default=8000, help="the blog's port (default: 8000)"
    )
    parser.add_argument(
        "--demo-port", type=int, default=7860, help="the demos' port (default: 7860)"
    )
    parser.add_argument(
        "--models", type=Path, default=ROOT / "models", help="bundles folder (default: models)"
    )
    parser.add_argument(
        "--no-train",
        action="store_true",
        help="don't train the digits sample when its bundle is missing (default: train it)",
    )
    args = parser.parse_args(argv)
    # Ctrl-C and a polite kill both stop the servers (a shell's `&` would have SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    for name, port in (("blog", args.blog_port), ("demos", args.demo_port)):
        if not port_is_free(args.host, port):
            print(
                f"error: port {port} (the {name}) is in use on {args.host}: stop the other "
                f"server, or choose another port (make preview PORT=8001 DEMO_PORT=7861).",
                file=sys.stderr,
            )
            return 2

    python = sys.executable
    if needs_sample(args.models) and not args.no_train:
        sample = args.models / SAMPLE
        print(
            f"Training the {SAMPLE} sample into {sample} (first run only, about a minute)…",
            flush=True,
        )
        trainer = subprocess.Popen(
            [python, "-m", "training", SAMPLE, "--output", str(sample)], cwd=ROOT
        )
        try:
            code = trainer.wait()
        except KeyboardInterrupt:
            # The trainer got the same Ctrl-C: let it finish its clean stop (it keeps the
            # best epoch so far) instead of killing it half-way through writing the bundle.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                trainer.wait(timeout=60)
            except subprocess.TimeoutExpired:
                trainer.kill()
            print("Stopped.")
            return 130
        if code != 0:
            print("error: training the sample failed (see above).", file=sys.stderr)
            return code

    blog_url = f"http://{args.host}:{args.blog_port}/"
    demo_url = f"http://{args.host}:{args.demo_port}/"
    env = {**os.environ, "DEMOS_URL": demo_url, "SITE_URL": blog_url, "NO_MKDOCS_2_WARNING": "1"}
    commands = [
        [
            python,
            "-m",
            "demos",
            "serve",
            "--models",
            str(args.models),
            "--host",
            args.host,
            "--port",
            str(args.demo_port),
        ],
        [python, "-m", "mkdocs", "serve", "--dev-addr", f"{args.host}:{args.blog_port}"],
    ]
    processes: list[subprocess.Popen] = []
    try:
        for command in commands:
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env))
        deadline = time.monotonic() + 180
        pending = {blog_url, demo_url}
        while pending:
            if any(p.poll() is not None for p in processes):
                print("error: a server stopped while starting (see above).", file=sys.stderr)
                stop(processes)
                return 1
            if time.monotonic() > deadline:
                print("error: the servers did not answer within 3 minutes.", file=sys.stderr)
                stop(processes)
                return 1
            pending = {url for url in pending if not answers(url)}
            time.sleep(0.5)
        print(f"\n  Blog:  {blog_url}\n  Demos: {demo_url}\n\nCtrl-C stops both.\n", flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("error: a server stopped (see above); stopping the other.", file=sys.stderr)
        stop(processes)
        return 1
    except KeyboardInterrupt:
        stop(processes, interrupted=True)
        print("Stopped.")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
