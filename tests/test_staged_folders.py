"""The packages' "write to a temporary folder, then rename" homes behave alike.

training/files.py and demos/files.py can't share code (neither package imports the other), so
each holds its own staged_folder and replace_folder; the same checks run on both here.
"""

from __future__ import annotations

import os

import pytest

from demos import files as demos_files
from training import files as training_files

HOMES = pytest.mark.parametrize("files", [training_files, demos_files], ids=["training", "demos"])


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def _old_folder(tmp_path):
    final = tmp_path / "bundle"
    final.mkdir()
    (final / "old.txt").write_text("old")
    return final


@HOMES
def test_a_staged_folder_replaces_the_old_one_when_the_block_ends(files, tmp_path):
    final = _old_folder(tmp_path)
    with files.staged_folder(final) as staging:
        assert staging.parent == tmp_path and staging != final
        (staging / "new.txt").write_text("new")
        assert (final / "old.txt").read_text() == "old"  # untouched until the block ends
    assert _listing(final) == ["new.txt"]
    assert _listing(tmp_path) == ["bundle"]  # neither the staging nor the old folder is left
    assert final.stat().st_mode & 0o777 == 0o755  # shared content, not mkdtemp's 0700


def _write_then_fail(files, final, error):
    with files.staged_folder(final) as staging:
        (staging / "half.txt").write_text("half")
        raise error


@HOMES
@pytest.mark.parametrize("error", [RuntimeError("export failed"), KeyboardInterrupt()])
def test_an_error_in_the_block_leaves_the_old_folder_and_no_staging(files, tmp_path, error):
    final = _old_folder(tmp_path)
    with pytest.raises(type(error)):
        _write_then_fail(files, final, error)
    assert _listing(final) == ["old.txt"]
    assert _listing(tmp_path) == ["bundle"]


@HOMES
def test_a_failed_rename_puts_the_old_folder_back(files, tmp_path, monkeypatch):
    final = _old_folder(tmp_path)
    staging = tmp_path / "staging"
    staging.mkdir()
    real_replace = os.replace

    def flaky(src, dst):
        if src == staging:
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        files.replace_folder(staging, final)
    assert _listing(final) == ["old.txt"]
    assert _listing(tmp_path) == ["bundle", "staging"]  # the old folder is back, not aside
