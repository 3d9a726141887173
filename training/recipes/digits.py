"""digits: scikit-learn's 1,797 handwritten 8x8 digits, offline, a small CNN from scratch.

The images are written once as PNG files in one folder per digit (data/digits/0/..., etc.),
so this recipe exercises exactly the folder-per-label path that real data sets take.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

OVERRIDES = dict(
    name="digits",
    labels_from="folder",
    arch="simple_cnn",  # 8x8 inputs: ImageNet backbones would be slow and gain nothing
    pretrained=False,
    widths=[32, 64, 128],  # three blocks: 16 -> 8 -> 4 pixels, ~95k parameters
    schedule="one_cycle",  # from scratch there is no body to freeze
    epochs=12,  # ~1.5 s per epoch on 2 idle CPU cores
    base_lr=1e-2,  # simple_cnn with BatchNorm tolerates a high peak LR
    batch_size=64,  # 22 steps per epoch on the 1,438 training images
    size=16,  # 8x8 upsampled 2x: room for three resolutions; 32 costs 4x for no accuracy
    resize="squish",  # the images are already square
    presize=1.0,  # they're tiny: crop from the 32x32 image itself
    min_scale=0.8,  # digits must stay whole
    flip=False,  # a flipped 2 is not a 2
    max_rotate=10.0,
    max_warp=0.1,  # strong perspective on 8 pixels turns 1s into 7s
    label_smoothing=0.1,
    examples_per_class=2,
    title="Handwritten digits",
    description="A small CNN trained from scratch on scikit-learn's 8x8 handwritten digits.",
)


def write_images(folder: Path) -> Path:
    """Save load_digits() as PNGs in label folders (once); returns the folder."""
    done = folder / ".complete"
    if done.exists():
        return folder
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    digits = load_digits()
    for i, (pixels, target) in enumerate(zip(digits.images, digits.target, strict=True)):
        label_dir = folder / str(target)
        label_dir.mkdir(parents=True, exist_ok=True)
        # Values are 0-16 (ink counts); scale to 8-bit grayscale.
        image = Image.fromarray(np.round(pixels * 255 / 16).astype(np.uint8), mode="L")
        image.save(label_dir / f"{i:04d}.png")
    done.write_text("")
    return folder


def prepare(config):
    folder = write_images(Path(config.data_dir) / "digits")
    return dataclasses.replace(config, path=str(folder))
