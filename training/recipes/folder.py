"""folder PATH: one subfolder per label (the book's bears), resnet34 fine-tuned.

PATH/<label>/*.jpg, or PATH/train/<label>/... and PATH/valid/<label>/... for a fixed split.
"""

from __future__ import annotations

from pathlib import Path

from ..data import DataError
from . import named_after

OVERRIDES = dict(
    labels_from="folder",
    arch="resnet34",  # the book's default backbone
    size=224,  # ImageNet's training size, what the pretrained weights expect
    resize="crop",  # fastai's Resize default: keep proportions, lose the edges
    epochs=4,  # chapter 2's bear classifier: fine_tune(4)
)


def prepare(config):
    if not config.path:
        raise DataError("the folder recipe needs a PATH: python -m training folder PATH")
    if not Path(config.path).is_dir():
        raise DataError(
            f"{config.path}: no such folder. Give a folder with one subfolder "
            "per label (or train/ and valid/ folders that have them)."
        )
    # data/bears becomes the "bears" bundle, demo and Space unless --name says otherwise.
    return named_after(config, Path(config.path).resolve().name)
