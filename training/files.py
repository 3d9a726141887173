"""Folders written whole or not at all: the one "write to a temporary folder, then rename"
of the training package (bundles, the fastai import, the decoded-image cache).

The temporary folder is made beside the destination, on the same file system, so the last
step is a rename: a reader sees the old folder or the new one, never half of one, and an
interruption (an error, Ctrl-C, a killed job) leaves the old folder as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_folder(final: Path, *, keep_existing: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside `final` to write into.

    When the block ends without an error, the folder becomes `final`. An existing `final`
    is replaced (moved aside first and put back if the rename fails), unless
    `keep_existing`: then the first writer wins and this copy is dropped, which is what
    processes writing the same cache entry at once want. On an error the temporary folder
    is removed and `final` is untouched.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield staging
        staging.chmod(0o755)  # mkdtemp makes it private; bundles and caches are shared
        if keep_existing:
            try:
                os.replace(staging, final)  # fails when another process filled `final` first
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        else:
            replace_folder(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_folder(staging: Path, final: Path) -> None:
    """Put `staging` where `final` is; the old folder is removed only once the new one is
    in place, and is put back if the rename fails."""
    if not final.exists():
        os.replace(staging, final)
        return
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
