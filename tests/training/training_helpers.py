"""Tiny generated image data sets for the training tests (no downloads, no weights).

A module with its own name (not conftest.py) so `from training_helpers import ...` can't
pick up another package's conftest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"red": (210, 50, 40), "green": (40, 180, 70), "blue": (40, 70, 210)}


def shape_image(label: str, rng: np.random.Generator, size=(40, 48)) -> Image.Image:
    """A noisy image of the label's colour with a grey square on it; size = (h, w)."""
    h, w = size
    pixels = np.array(COLOURS[label], np.float32) * rng.uniform(0.75, 1.1)
    pixels = pixels + rng.normal(0, 16, size=(h, w, 3))
    side = int(rng.integers(h // 5, h // 2))
    top, left = int(rng.integers(0, h - side)), int(rng.integers(0, w - side))
    pixels[top : top + side, left : left + side] = rng.uniform(60, 200)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def make_folder_dataset(
    root: Path, per_label: int = 12, labels=tuple(COLOURS), seed: int = 0, fmt: str = "png"
) -> Path:
    """root/<label>/<label>_<i>.<fmt> images for each label."""
    rng = np.random.default_rng(seed)
    for label in labels:
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_label):
            shape_image(label, rng).save(root / label / f"{label}_{i}.{fmt}")
    return root


def tiny_config(tmp_path: Path, path: Path, **changes):
    """A fast CPU config: simple_cnn, 24 px, a couple of epochs, no pretrained weights."""
    from training import recipes

    base = dict(
        path=str(path),
        arch="simple_cnn",
        pretrained=False,
        widths=[8, 16],
        size=24,
        presize=1.25,
        epochs=2,
        freeze_epochs=0,
        schedule="one_cycle",
        base_lr=1e-2,
        batch_size=8,
        cache_dir="",
        output=str(tmp_path / "models" / "tiny"),
        name="tiny",
        examples_per_class=1,
        workers=2,
    )
    base.update(changes)
    return recipes.config("folder", **base)
