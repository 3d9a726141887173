"""training/files.py: a folder is written whole or not at all."""

from __future__ import annotations

import os

import pytest

from training import files


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_staged_folder_replaces_the_old_one_when_the_block_ends(tmp_path):
    final = tmp_path / "bundle"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with files.staged_folder(final) as staging:
        assert staging.parent == tmp_path and staging != final
        (staging / "new.txt").write_text("new")
        assert (final / "old.txt").read_text() == "old"  # untouched until the block ends
    assert _listing(final) == ["new.txt"]
    assert _listing(tmp_path) == ["bundle"]  # neither the staging nor the old folder is left
    assert final.stat().st_mode & 0o777 == 0o755


def _write_then_fail(final, error):
    with files.staged_folder(final) as staging:
        (staging / "half.txt").write_text("half")
        raise error


@pytest.mark.parametrize("error", [RuntimeError("export failed"), KeyboardInterrupt()])
def test_an_error_in_the_block_leaves_the_old_folder_and_no_staging(tmp_path, error):
    final = tmp_path / "bundle"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(type(error)):
        _write_then_fail(final, error)
    assert _listing(final) == ["old.txt"]
    assert _listing(tmp_path) == ["bundle"]


def test_keep_existing_lets_the_first_writer_win(tmp_path):
    final = tmp_path / "cache"
    with files.staged_folder(final, keep_existing=True) as first:
        (first / "images.npy").write_text("first")
        # A second process writes the same entry meanwhile and finishes later.
        with files.staged_folder(final, keep_existing=True) as second:
            (second / "images.npy").write_text("second")
    assert (final / "images.npy").read_text() == "second"  # the inner block finished first
    assert _listing(tmp_path) == ["cache"]


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    final = tmp_path / "bundle"
    final.mkdir()
    (final / "old.txt").write_text("old")
    real_replace = os.replace

    def flaky(src, dst):
        if ".tmp-" in str(src):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"), files.staged_folder(final) as staging:
        (staging / "new.txt").write_text("new")
    assert _listing(final) == ["old.txt"]
    assert _listing(tmp_path) == ["bundle"]
