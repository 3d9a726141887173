"""The test suite's own set-up (the root conftest) holds wherever the suite is started from."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_started_with_ctrl_c_ignored_gets_it_back():
    """`make test &` in a script starts pytest with SIGINT ignored; the processes the tests
    start (a training run stopped with Ctrl-C) would inherit that and never stop."""
    probe = textwrap.dedent(
        """
        import signal, subprocess, sys
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.path.insert(0, sys.argv[1])
        import conftest
        child = "import signal; print(signal.getsignal(signal.SIGINT))"
        print(subprocess.run([sys.executable, "-c", child], capture_output=True,
                             text=True).stdout.strip())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # A process that starts with SIGINT at its default gets Python's KeyboardInterrupt.
    assert done.stdout.strip() == "<built-in function default_int_handler>", done.stdout
