"""demos/torch_backend.py keeps its own copy of the contract's simple_cnn (demos never
imports training): the two must build the same network."""

from __future__ import annotations

import torch

from demos import torch_backend


def test_simple_cnn_copies_agree():
    from training.models import simple_cnn

    for widths, classes in (([8, 16], 3), ([32, 64, 128], 10), ([4], 2)):
        ours, theirs = torch_backend.simple_cnn(widths, classes), simple_cnn(widths, classes)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
            (k, v.shape) for k, v in theirs.state_dict().items()
        ]
        theirs.load_state_dict(ours.state_dict())
        x = torch.randn(2, 3, 16, 16)
        with torch.no_grad():
            assert torch.allclose(ours.eval()(x), theirs.eval()(x))


def test_bundle_factory_builds_the_same_network():
    """tests/demos/bundle_factory.py makes bundles without training's code: same network."""
    from bundle_factory import simple_cnn as factory_cnn

    ours, theirs = torch_backend.simple_cnn([8, 16], 3), factory_cnn([8, 16], 3)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in theirs.state_dict().items()
    ]


def test_to_rgb_copies_agree(tmp_path):
    """demos.runtime.to_rgb (copied into Spaces) and training.images.to_rgb give the same
    pixels for every Pillow mode the contract names."""
    import numpy as np
    from PIL import Image

    from demos import runtime
    from training import images

    rng = np.random.default_rng(1)
    rgba = Image.fromarray(rng.integers(0, 256, (9, 7, 4), dtype=np.uint8), "RGBA")
    cases = {
        "RGBA": rgba,
        "LA": rgba.convert("LA"),
        "L": rgba.convert("L"),
        "1": rgba.convert("1"),
        "P": rgba.convert("RGB").convert("P"),
        "CMYK": rgba.convert("RGB").convert("CMYK"),
        "I;16": Image.fromarray(rng.integers(0, 65536, (9, 7)).astype(np.uint16)),
        "I": Image.fromarray(rng.integers(0, 70000, (9, 7)).astype(np.int32)),
        "F": Image.fromarray(rng.random((9, 7)).astype(np.float32)),
        "PA": rgba.convert("PA"),
    }
    for mode, image in cases.items():
        a = np.asarray(runtime.to_rgb(image.copy()))
        b = np.asarray(images.to_rgb(image.copy()))
        assert a.shape == b.shape and (a == b).all(), mode
