"""Fixtures for the training tests; the helpers live in training_helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # training_helpers, whatever the import mode

from training_helpers import make_folder_dataset


@pytest.fixture
def colour_folder(tmp_path) -> Path:
    """Three labels (red, green, blue) of twelve small PNGs each."""
    return make_folder_dataset(tmp_path / "colours")
