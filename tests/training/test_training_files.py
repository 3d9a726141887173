"""training/files.py's own behaviour; what it shares with demos/files.py is checked on both
in tests/test_staged_folders.py."""

from __future__ import annotations

from training import files


def test_keep_existing_lets_the_first_writer_win(tmp_path):
    final = tmp_path / "cache"
    with files.staged_folder(final, keep_existing=True) as first:
        (first / "images.npy").write_text("first")
        # A second process writes the same entry meanwhile and finishes first.
        with files.staged_folder(final, keep_existing=True) as second:
            (second / "images.npy").write_text("second")
    assert (final / "images.npy").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # the loser's copy is gone
