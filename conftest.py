"""Fixtures shared by the tests that run the template as a user would (README, e2e).

At the repository root, not in tests/: a conftest in tests/ would put tests/ first on sys.path,
where tests/blog/ would shadow the blog package.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs a pytest process per core: each (and what it starts) computes on one
    # thread, instead of every process spinning up a thread per core (torch's default), which
    # left the cores switching between threads. Set before any test module imports torch.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
# A run started in the background by a script (`make test &`, where the shell has no job
# control) begins with Ctrl-C ignored, and every process it starts inherits that: the tests
# that stop a training run or a server with SIGINT, as a terminal's Ctrl-C would, then wait
# for a stop that never comes. The tests stand for a terminal: Ctrl-C works again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
TEMPLATE_PARTS = ("mkdocs.yml", "site", "posts", "models", "scripts", ".gitignore")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A copy of what a user's clone holds (without trained weights, which git ignores)."""
    return copy_template(tmp_path_factory.mktemp("template"))


def copy_template(root: Path) -> Path:
    """Copy what a user's clone holds into `root` (made if needed); returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                root / name,
                ignore=shutil.ignore_patterns("model.onnx", "model.safetensors", ".*"),
            )
        else:
            shutil.copy(source, root / name)
    return root


@pytest.fixture(scope="session")
def digits_bundle(tmp_path_factory) -> Path:
    """The digits sample, trained once per test run as a user would (`python -m training
    digits`), on scikit-learn's images written to a temporary folder. Tests must not change it.

    Under pytest-xdist (`make test` runs the suite on a process per core) the workers share
    one copy: the first to get here trains it while holding a lock, the others wait and reuse
    it.
    """
    import fcntl

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    root = base / "digits-sample"
    out = root / "models" / "digits"
    failed = base / "digits-sample.failed"  # one worker's failure, reported by every worker
    with open(base / "digits-sample.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.is_file():
            pytest.fail(f"training the digits sample failed:\n{failed.read_text()}")
        if not (root / "done").is_file():
            try:
                _train_digits(root, out)
            except BaseException as error:
                failed.write_text(str(error) or type(error).__name__)
                raise
            (root / "done").write_text("")  # last: everything above is in place
    return out


def _train_digits(root: Path, out: Path) -> None:
    import subprocess
    import sys

    from training.recipes.digits import write_images

    shutil.rmtree(root, ignore_errors=True)  # a worker that failed half-way
    data = write_images(root / "data" / "digits").parent
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "training",
            "digits",
            "--data-dir",
            str(data),
            "--cache-dir",
            str(root / "cache"),
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (root / "train-stdout.txt").write_text(done.stdout)  # the progress table, for its test


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle, which it keeps within groups
def pytest_collection_modifyitems(config, items):
    """Test files with slow tests run first. pytest-xdist hands out whole files in this order
    (with the scheduler below), so the long ones start while there is other work to run
    beside them, and the run doesn't end with one process finishing a long file while the
    others wait."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # a stable sort


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's file-by-file scheduler, handing out files in collection order (slow
    files first, above) where its own hands out the files with the most tests first."""
    from xdist.scheduler import LoadFileScheduling

    if config.getvalue("dist") != "loadfile":
        return None
    if not hasattr(LoadFileScheduling, "_assign_work_unit"):
        return None  # an xdist whose internals changed: its own order, slower but correct

    class SlowFilesFirst(LoadFileScheduling):
        def _assign_work_unit(self, node):
            if not hasattr(self, "_rank"):
                self._rank = {}
                for index, nodeid in enumerate(self.collection):
                    self._rank.setdefault(self._split_scope(nodeid), index)
            first = min(self.workqueue, key=self._rank.__getitem__)
            self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return SlowFilesFirst(config, log)
