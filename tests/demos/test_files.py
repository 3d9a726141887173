"""demos/files.py: Space folders and demos.json are replaced whole or not at all."""

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


def _write_then_fail(out):
    with files.staged_folder(out) as staging:
        (staging / "app.py").write_text("new")
        raise ValueError("bad bundle")


def test_a_staged_folder_is_dropped_on_error(tmp_path):
    out = tmp_path / "space"
    out.mkdir()
    (out / "app.py").write_text("old")
    with pytest.raises(ValueError, match="bad bundle"):
        _write_then_fail(out)
    assert (out / "app.py").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["space"]
