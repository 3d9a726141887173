"""demos/files.py: demos.json is replaced whole or not at all (the staged folders are checked
with training's in tests/test_staged_folders.py)."""

from __future__ import annotations

import pytest

from demos import files


def test_write_text_replaces_the_file_in_one_step(tmp_path):
    path = tmp_path / "demos.json"
    path.write_text("old")
    files.write_text(path, '{"digits": {}}\n')
    assert path.read_text() == '{"digits": {}}\n'
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demos.json"]


def test_an_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "demos.json"
    path.write_text("old")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_text(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demos.json"]
