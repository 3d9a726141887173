"""Files and folders written whole or not at all: the one "write to a temporary place, then
rename" of the demos package (Space folders, demos.json).

The temporary file or folder sits beside its destination, on the same file system, so the
last step is a rename: a reader sees the old version or the new one, never half of one, and
an error or Ctrl-C on the way leaves the old one as it was. (training/files.py is the
training package's own: the packages don't import each other.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `out`; it replaces `out` when the block ends
    without an error, and is removed otherwise."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        yield staging
        staging.chmod(0o755)  # mkdtemp makes it 0700; a Space folder is ordinary content
        replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_folder(staging: Path, out: Path) -> None:
    """Swap `staging` into `out`: the old folder is moved aside first, put back if the swap
    fails, and removed after."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = out.with_name(f".{out.name}-old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """Replace `path`'s content with `text` (UTF-8, mode 0644) in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the file is committed and shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
