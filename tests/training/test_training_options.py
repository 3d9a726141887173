"""The optional tricks each run end to end: mixup, label smoothing, progressive resizing,
TTA, lr_find; and the pets recipe on a local folder of pets-style file names."""

from __future__ import annotations

import contextlib
import tarfile

import numpy as np
import pytest
from training_helpers import shape_image, tiny_config

import training
from training import recipes
from training.loop import _epoch_sizes


def test_mixup_smoothing_progressive_tta(colour_folder, tmp_path):
    config = tiny_config(
        tmp_path,
        colour_folder,
        mixup=0.4,
        label_smoothing=0.1,
        progressive=True,
        tta=True,
        epochs=3,
        size=32,
        channels_last=False,
    )
    result = training.train(config, quiet=True)
    assert [row["size"] for row in result.history] == [16, 24, 32]
    assert 0 <= result.metrics["tta_accuracy"] <= 1
    assert all(np.isfinite(row["train_loss"]) for row in result.history)
    assert _epoch_sizes(config, 1) == [32]


def test_lr_find_restores_the_weights(colour_folder, tmp_path):
    import torch

    from training import models, schedule
    from training.loop import Batches, lr_find

    config = tiny_config(tmp_path, colour_folder).resolved()
    data = training.loop.load_data(config, progress=False)
    model = models.build("simple_cnn", 3, False, [8, 16])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    groups = models.layer_groups(model, "simple_cnn")
    opt = schedule.optimizer(model, groups, models.norm_parameters(model), 0.01)
    batches = Batches(config, torch.device("cpu"), torch.Generator().manual_seed(0))
    found = lr_find(model, data.train, batches, opt, config, contextlib.nullcontext, steps=40)
    assert 1e-7 <= found["suggestion"] <= 10 and len(found["lrs"]) == len(found["losses"])
    assert found["lrs"] == sorted(found["lrs"])
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def _pets_like(folder, n=6):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for breed, colour in (("Abyssinian", "red"), ("great_pyrenees", "blue")):
        for i in range(n):
            shape_image(colour, rng).save(folder / f"{breed}_{i + 1}.jpg")
    (folder / "Abyssinian_100.mat").write_bytes(b"MATLAB")  # the real archive has these


def test_pets_recipe_with_a_local_archive(tmp_path):
    _pets_like(tmp_path / "images")
    with tarfile.open(tmp_path / "images.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "images", arcname="images")
    config = recipes.prepare(
        recipes.config(
            "pets",
            path=str(tmp_path / "images.tar.gz"),
            data_dir=str(tmp_path / "data"),
            arch="simple_cnn",
            pretrained=False,
            widths=[8],
            size=24,
            epochs=1,
            freeze_epochs=1,
            batch_size=4,
            cache_dir="",
            valid_pct=0.25,
        )
    )
    assert config.path.endswith("images")
    result = training.train(config, quiet=True)
    assert result.labels == ["Abyssinian", "great_pyrenees"]
    assert [s.reason for s in result.data.skipped] == ["not an image file (extension)"]
    assert {row["phase"] for row in result.history} == {"frozen", "unfrozen"}


def test_progressive_resizing_ends_at_the_export_size():
    from training.config import Config
    from training.loop import _epoch_sizes

    sizes = _epoch_sizes(Config(size=100, progressive=True), 4)
    assert sizes[0] == 48 and sizes[-1] == 100
    assert sizes == sorted(sizes)


@pytest.mark.parametrize("name", ["cuda:3", "mps", "tpu"])
def test_unavailable_devices_are_clear_errors(name):
    from training.loop import pick_device

    with pytest.raises(ValueError, match="use"):
        pick_device(name)
