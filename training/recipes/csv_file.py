"""csv FILE: rows of fname,label[,is_valid]; file names relative to the CSV's folder."""

from __future__ import annotations

from pathlib import Path

from ..data import DataError
from . import named_after

OVERRIDES = dict(
    labels_from="csv",
    arch="resnet34",  # the book's default backbone
    size=224,  # ImageNet's training size
    resize="crop",  # fastai's Resize default
    epochs=4,
)


def prepare(config):
    if not config.path:
        raise DataError("the csv recipe needs a FILE: python -m training csv labels.csv")
    if not Path(config.path).is_file():
        raise DataError(f"{config.path}: no such CSV file (columns fname,label[,is_valid]).")
    return named_after(config, Path(config.path).stem)
