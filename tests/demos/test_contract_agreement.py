"""demos and training implement the contract's preprocessing separately; they must agree.

The demos package never imports training, but this test may: it is the check that
"Preprocessing matches the training's validation transform exactly". It is skipped when
training isn't importable (a demos-only install).
"""

from __future__ import annotations

import numpy as np
import pytest
from bundle_factory import MEAN, STD
from PIL import Image

from demos import runtime

images = pytest.importorskip("training.images", reason="the training package isn't installed")


def _awkward_images(folder):
    """Odd sizes and aspect ratios, so rounding in crop and pad shows."""
    rng = np.random.default_rng(3)
    paths = []
    for width, height in [(37, 23), (23, 61), (50, 50), (33, 34), (401, 97)]:
        path = folder / f"noise_{width}x{height}.png"
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("resize", ["squish", "crop", "pad"])
@pytest.mark.parametrize("size", [(32, 32), (24, 40), (41, 19)])
def test_same_array_as_training(resize, size, valid_images, tmp_path):
    spec = {"size": list(size), "resize": resize, "mean": MEAN, "std": STD}
    paths = [path for path, _ in valid_images.values()] + _awkward_images(tmp_path)
    for path in paths:
        ours = runtime.preprocess(runtime.open_image(path), spec)
        theirs = images.preprocess(path, size, resize, MEAN, STD)
        assert ours.dtype == theirs.dtype == np.float32
        assert np.array_equal(ours, theirs), path.name


def test_bundle_names_follow_one_rule():
    from demos.bundles import NAME_PATTERN
    from training.bundle import NAME_PATTERN as TRAINING_NAME_PATTERN

    assert NAME_PATTERN.pattern == TRAINING_NAME_PATTERN.pattern
