"""Every command in the README runs, as written, in a copy of the template.

In the spirit of sqlite-utils' documented-commands test: the README's ```sh and ```python blocks
are read, and each command is either run here, or is one of the few listed below with the
test that covers it or the reason it can't run here (the network).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# Commands not run here, and why. A README command in neither this table nor the test fails.
NOT_RUN_HERE = {
    "make preview": "run for real by tests/e2e/test_preview.py (scripts/preview.py)",
    "make test": "the command that runs this test (CI runs it)",
    "source .venv/bin/activate": "environment set-up; the test calls the venv's python",
    # Executing the example notebook is a test of its own; running it here too doubled the time.
    "python scripts/execute_posts.py posts/2026-11-20-notebook-features.ipynb": (
        "run for real by tests/test_execute_posts.py on a copy of that notebook"
    ),
}
NETWORK = {
    "python -m demos deploy bears --space YOUR-NAME/bears",
    "python -m demos deploy bears --space YOUR-NAME/bears-web --static",
    "python -m training folder data/bears",
}


def readme_blocks() -> list[tuple[str, str]]:
    return re.findall(r"^ *```(sh|python)\n(.*?)^ *```", README.read_text("utf-8"), re.S | re.M)


def readme_commands() -> list[str]:
    commands = []
    for language, body in readme_blocks():
        if language != "sh":
            continue
        for line in body.splitlines():
            command = line.split(" #")[0].strip()
            if command:
                commands.append(command)
    return commands


def test_every_command_is_run_or_listed():
    commands = readme_commands()
    assert "make preview" in commands[:2] and "make test" in commands[:2]  # the first two
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/preview.py" in makefile and "pytest" in makefile
    network = [c for c in commands if c in NETWORK]
    assert sorted(network) == sorted(NETWORK), "the network-only commands are listed in NETWORK"
    text = README.read_text("utf-8")
    for command in NETWORK:
        line = next(line for line in text.splitlines() if command in line)
        assert "needs network" in line, f"README must say `{command}` needs network"


@pytest.fixture(scope="module")
def bears(template):
    """The template, plus data/bears as the README describes it."""
    root = template
    # "One folder per label": three kinds of bear, as generated pictures.
    rng = np.random.default_rng(0)
    colours = {"grizzly": (120, 80, 40), "black": (20, 20, 20), "teddy": (230, 190, 120)}
    for label, colour in colours.items():
        folder = root / "data" / "bears" / label
        folder.mkdir(parents=True)
        for i in range(30):
            pixels = np.clip(rng.normal(colour, 25, size=(48, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def argv(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[0] == "python", command
    return [sys.executable, *words[1:]]


def run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        argv(command),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def test_readme_commands_run(bears):
    template = bears
    python_blocks = [body for language, body in readme_blocks() if language == "python"]
    ran = []
    for command in readme_commands():
        if command in NOT_RUN_HERE or command in NETWORK:
            continue
        if re.match(r"python -m demos serve\b", command):
            serve_and_call(command, template, python_blocks)
        else:
            run(command, template)
        ran.append(command)
    # What the commands made, as the README says.
    assert (template / "models/bears/model.json").is_file()
    assert (template / "models/bears/report/confusion.png").is_file()
    space = template / "build/spaces/bears"
    assert (space / "app.py").is_file() and (space / "requirements.txt").is_file()
    assert list((template / "posts").glob("*-is-it-a-bear.ipynb"))
    assert len(ran) >= 6  # a README parsed into fewer commands fails here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_call(command: str, cwd: Path, python_blocks: list[str]) -> None:
    """Start the documented server, run the README's Python against it, then Ctrl-C it.

    On a free port instead of the README's 7860 (which a developer's `make preview` may
    hold): the command gets `--port`, and the Python its address."""
    port = free_port()
    python_blocks = [code.replace("127.0.0.1:7860", f"127.0.0.1:{port}") for code in python_blocks]
    assert all(str(port) in code for code in python_blocks if "Client(" in code)
    log = cwd / "serve.log"
    process = subprocess.Popen(
        [*argv(command), "--port", str(port)],
        cwd=cwd,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while "Serving" not in log.read_text() or str(port) not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        for code in python_blocks:
            result = subprocess.run(
                [sys.executable, "-c", textwrap.dedent(code)],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert result.stdout.strip().splitlines()[-1] == "grizzly", result.stdout
    finally:
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0, log.read_text()[-2000:]
