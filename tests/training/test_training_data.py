"""Finding labels, splitting, and checking every image before training."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from training_helpers import make_folder_dataset, shape_image, tiny_config

from training import data
from training.data import DataError


def test_folder_labels_and_seeded_split(colour_folder):
    items, skipped = data.items_from_folders(colour_folder)
    assert len(items) == 36 and not skipped
    assert {item.label for item in items} == {"red", "green", "blue"}
    train, valid = data.split(items, 0.25, seed=7)
    assert len(valid) == 9 and len(train) == 27
    again = data.split(items, 0.25, seed=7)[1]
    other = data.split(items, 0.25, seed=8)[1]
    assert [i.path for i in valid] == [i.path for i in again]
    assert [i.path for i in valid] != [i.path for i in other]


def test_train_and_valid_folders_fix_the_split(tmp_path):
    make_folder_dataset(tmp_path / "d" / "train", per_label=4)
    make_folder_dataset(tmp_path / "d" / "valid", per_label=2, seed=1)
    items, _ = data.items_from_folders(tmp_path / "d")
    train, valid = data.split(items, 0.2, seed=0)
    assert len(train) == 12 and len(valid) == 6
    assert all("valid" in str(i.path) for i in valid)


def test_regex_labels_from_file_names(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("great_pyrenees_1.jpg", "great_pyrenees_22.jpg", "Abyssinian_3.jpg"):
        shape_image("red", rng).save(tmp_path / name)
    (tmp_path / "notes_x.jpg").write_bytes(b"")
    (tmp_path / "list.txt").write_text("x")
    items, skipped = data.items_from_regex(tmp_path, r"^(.+)_\d+\.jpg$")
    assert sorted(i.label for i in items) == ["Abyssinian", "great_pyrenees", "great_pyrenees"]
    reasons = {s.path.split("/")[-1]: s.reason for s in skipped}
    assert "doesn't match" in reasons["notes_x.jpg"] and "not an image" in reasons["list.txt"]
    with pytest.raises(DataError, match="needs a group"):
        data.items_from_regex(tmp_path, r"\d+")


def test_csv_labels_and_errors_name_the_line(tmp_path):
    make_folder_dataset(tmp_path / "imgs", per_label=2)
    (tmp_path / "labels.csv").write_text(
        "fname,label,is_valid\nimgs/red/red_0.png,warm,false\nimgs/blue/blue_0.png,cold,True\n"
        "imgs/red/red_1.png,warm,0\n"
    )
    items = data.items_from_csv(tmp_path / "labels.csv")
    assert [(i.label, i.is_valid) for i in items] == [
        ("warm", False),
        ("cold", True),
        ("warm", False),
    ]
    train, valid = data.split(items, 0.2, 0)
    assert len(train) == 2 and len(valid) == 1
    (tmp_path / "bad.csv").write_text("fname,label,is_valid\na.png,x,maybe\n")
    with pytest.raises(DataError, match=r"bad.csv: line 2: is_valid"):
        data.items_from_csv(tmp_path / "bad.csv")
    (tmp_path / "cols.csv").write_text("file,class\na.png,x\n")
    with pytest.raises(DataError, match="line 1 must name the columns"):
        data.items_from_csv(tmp_path / "cols.csv")


def _broken_corpus(root):
    """Good images plus every kind of bad file, in label folders."""
    make_folder_dataset(root, per_label=6)
    good = (root / "red" / "red_0.png").read_bytes()
    (root / "red" / "zero.png").write_bytes(b"")
    (root / "red" / "truncated.png").write_bytes(good[: len(good) // 3])
    (root / "green" / "text.jpg").write_text("this is not a JPEG")
    (root / "green" / "random.png").write_bytes(np.random.default_rng(0).bytes(500))
    (root / "blue" / "readme.txt").write_text("about this folder")
    Image.new("CMYK", (30, 20), (0, 200, 200, 0)).save(root / "blue" / "cmyk.jpg")
    Image.new("LA", (30, 20), (90, 200)).save(root / "blue" / "gray_alpha.png")
    (root / "stray.png").write_bytes(good)  # not in a label folder
    return {"zero.png", "truncated.png", "text.jpg", "random.png", "readme.txt", "stray.png"}


def test_broken_images_are_reported_and_skipped(tmp_path, capsys):
    root = tmp_path / "broken"
    bad = _broken_corpus(root)
    config = tiny_config(tmp_path, root, valid_pct=0.3).resolved()
    items, skipped = data.items_from_folders(root)
    loaded = data.load(items, config, skipped)
    names = {s.path.split("/")[-1] for s in loaded.skipped}
    assert names == bad
    reasons = {s.path.split("/")[-1]: s.reason for s in loaded.skipped}
    assert "empty" in reasons["zero.png"]
    assert "label folder" in reasons["stray.png"]
    # 18 good images + the CMYK and grayscale-with-alpha ones are usable.
    assert len(loaded.train) + len(loaded.valid) == 20
    assert loaded.train.images.dtype.is_floating_point is False
    assert loaded.train.images.shape[1:] == (3, 30, 30)  # size 24 * presize 1.25
    assert loaded.valid.images.shape[1:] == (3, 24, 24)
    text = data.describe_skipped(loaded.skipped)
    assert "truncated.png" in text and "Skipped 6 file(s)" in text


def test_training_survives_a_broken_corpus(tmp_path):
    from training import train

    root = tmp_path / "broken"
    _broken_corpus(root)
    result = train(tiny_config(tmp_path, root, epochs=1, valid_pct=0.3), quiet=True)
    assert len(result.data.skipped) == 6
    assert result.metrics["n_valid"] == len(result.data.valid)


def test_decoded_images_are_cached(tmp_path, colour_folder):
    items, _ = data.items_from_folders(colour_folder)
    first, _, _ = data.decode_all(items, (16, 16), "squish", cache_dir=tmp_path / "c")
    assert len(list((tmp_path / "c").iterdir())) == 1
    # A cached run returns the same pixels without decoding: prove it by breaking a file.
    (colour_folder / "red" / "red_0.png").write_bytes(b"")
    import os

    os.utime(colour_folder / "red" / "red_0.png", ns=(0, 0))
    second, _, skipped = data.decode_all(items, (16, 16), "squish", cache_dir=tmp_path / "c")
    # The file changed (size and mtime), so the cache key changed and the file is re-checked.
    assert len(skipped) == 1 and len(second) == len(first) - 1
    third, _, _ = data.decode_all(items, (16, 16), "squish", cache_dir=tmp_path / "c")
    assert np.array_equal(second, third) and len(list((tmp_path / "c").iterdir())) == 2


def test_clear_errors_for_unusable_data(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        data.items_from_folders(tmp_path / "missing")
    make_folder_dataset(tmp_path / "one", per_label=10, labels=("red",))
    config = tiny_config(tmp_path, tmp_path / "one").resolved()
    with pytest.raises(DataError, match="at least two"):
        data.load(data.items_from_folders(tmp_path / "one")[0], config)


def test_cache_entries_are_written_whole_and_the_first_writer_wins(tmp_path):
    entry = tmp_path / "cache" / "abc"
    first = np.full((2, 3, 4, 4), 1, dtype=np.uint8)
    data._write_cache(entry, first, {"kept": [0, 1], "skipped": []})
    assert (entry / "done").exists() and np.array_equal(np.load(entry / "images.npy"), first)
    # Another process finishing the same entry later doesn't touch the complete one.
    data._write_cache(entry, np.zeros_like(first), {"kept": [0, 1], "skipped": []})
    assert np.array_equal(np.load(entry / "images.npy"), first)
    # A half-written entry (no "done", as an interrupted older version left it) is replaced.
    (entry / "done").unlink()
    data._write_cache(entry, np.zeros_like(first), {"kept": [0, 1], "skipped": []})
    assert (entry / "done").exists() and not np.load(entry / "images.npy").any()
    assert sorted(p.name for p in entry.parent.iterdir()) == ["abc"]  # no temporary folders
