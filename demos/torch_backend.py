"""The PyTorch backend for the demos: a bundle's network rebuilt from model.json's
`architecture`, with model.safetensors loaded, behind the same runtime.Model.

It lives apart from demos/runtime.py, which Space folders copy: a Space runs ONNX and never
needs torch. `simple_cnn` repeats training.models.simple_cnn (demos never imports training);
tests/demos/test_torch_backend.py checks the two agree.

    model = load("models/digits")     # runtime.Model, run by torch
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from demos import runtime
from demos.runtime import _REEXPORT, BundleError, _fail


def load(path: str | os.PathLike) -> runtime.Model:
    """runtime.load with this backend: the same checks, model and predict()."""
    return runtime.load(path, backend=build)


def simple_cnn(widths: list[int], num_classes: int):
    """The contract's `simple_cnn` (models/README.md), state_dict keys 0.weight, 1.weight, ..."""
    from torch import nn

    layers: list = []
    c_in = 3
    for i, width in enumerate(widths):
        layers += [
            nn.Conv2d(c_in, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        ]
        if i < len(widths) - 1:
            layers.append(nn.MaxPool2d(2))
        c_in = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
    return nn.Sequential(*layers)


def build(folder: Path, meta: dict) -> Callable[[np.ndarray], np.ndarray]:
    """The network from model.json's `architecture` with model.safetensors loaded; returns
    run(batch) -> logits for runtime.Model."""
    file = folder / "model.safetensors"
    if not file.is_file():
        raise _fail(
            file,
            "",
            "missing; the PyTorch backend needs it",
            "Re-export the bundle, or serve with --backend onnx",
        )
    try:
        import torch
        from safetensors.torch import load_file
    except ImportError as error:
        raise BundleError(
            f"the PyTorch backend needs torch and safetensors ({error}); "
            "install them or use the ONNX backend"
        ) from None
    arch, model_json = meta["architecture"], folder / "model.json"
    num_classes = arch["num_classes"]
    if arch.get("framework") == "fastai":
        raise _fail(
            model_json,
            "architecture",
            f"{arch['name']!r} is a fastai network (a torchvision body with fastai's "
            "head), which only the ONNX backend runs",
            "Serve it with --backend onnx (the default)",
        )
    if arch["name"] == "simple_cnn":
        widths = arch.get("widths")
        if (
            not isinstance(widths, list)
            or not widths
            or not all(isinstance(w, int) and w > 0 for w in widths)
        ):
            raise _fail(
                model_json,
                "architecture.widths",
                "simple_cnn needs a list of positive channel widths",
                _REEXPORT,
            )
        network = simple_cnn(widths, num_classes)
    else:
        try:
            import torchvision
        except ImportError as error:
            raise BundleError(
                f"{model_json}: architecture {arch['name']!r} needs torchvision ({error}); "
                "install it or use the ONNX backend"
            ) from None
        try:
            network = torchvision.models.get_model(
                arch["name"], weights=None, num_classes=num_classes
            )
        except (ValueError, KeyError) as error:
            raise _fail(
                model_json,
                "architecture.name",
                f"{arch['name']!r} is neither simple_cnn nor a torchvision model ({error})",
            ) from None
    try:
        state = load_file(str(file))
    except Exception as error:  # safetensors raises its own error types
        raise _fail(file, "", f"can't be read ({error})", "Re-export the bundle") from None
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[:3]
        raise _fail(
            file,
            "",
            "doesn't match the architecture in model.json ("
            + " ".join(line.strip() for line in first)
            + ")",
            _REEXPORT,
        ) from None
    network.eval()
    # One forward pass at a time: each already uses all of torch's intra-op threads, so
    # running two at once would only make both slower.
    lock = threading.Lock()

    def run(batch: np.ndarray) -> np.ndarray:
        with lock, torch.inference_mode():
            return network(torch.from_numpy(batch)).float().numpy()

    return run


build.weights = "model.safetensors"  # what runtime.load names in its errors
build.backend_name = "torch"
