"""Tiny but real model bundles for the demos tests, made without importing `training`.

The network is the contract's `simple_cnn`, trained for a few steps on generated images
of three colours so that its predictions mean something (a red image comes out "red"),
then written exactly as models/README.md describes: model.json, model.safetensors,
model.onnx (exported from the same weights), examples/ and report/metrics.json.

Tests import `make_bundle` from here (`from bundle_factory import make_bundle`) or use the
`tiny_bundle` / `make_bundle` fixtures from conftest.py.
"""

from __future__ import annotations

import copy
import json
import platform
import shutil
import warnings
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

LABELS = ["red", "green", "blue"]
SIZE = (32, 32)  # [height, width]
WIDTHS = [8, 16]
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
# The pure colour each label stands for; generated images are noisy variations of it.
COLOURS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (40, 60, 220)}

# Marks a model.json field to delete: make_bundle(tmp_path, labels=DROP).
DROP = object()

_trained: dict[str, object] = {}


def colour_image(label: str, rng: np.random.Generator, size=(40, 48)) -> Image.Image:
    """A noisy image of `label`'s colour with a random grey square on it, `size` = (h, w)."""
    h, w = size
    base = np.array(COLOURS[label], dtype=np.float32)
    shade = rng.uniform(0.7, 1.15)
    pixels = base * shade + rng.normal(0, 18, size=(h, w, 3))
    # A distracting grey square, so the network can't just look at one pixel.
    side = int(rng.integers(h // 5, h // 2))
    top, left = int(rng.integers(0, h - side)), int(rng.integers(0, w - side))
    pixels[top : top + side, left : left + side] = rng.uniform(60, 200)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def simple_cnn(widths, num_classes):
    """The contract's from-scratch network (models/README.md, `simple_cnn`)."""
    from torch import nn

    layers, c_in = [], 3
    for i, width in enumerate(widths):
        layers += [nn.Conv2d(c_in, width, 3, padding=1, bias=False), nn.BatchNorm2d(width)]
        layers.append(nn.ReLU())
        if i < len(widths) - 1:
            layers.append(nn.MaxPool2d(2))
        c_in = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
    return nn.Sequential(*layers)


def _to_tensor_batch(images):
    """Squish to SIZE with bilinear, scale to 0-1, normalize, CHW: the contract's transform."""
    arrays = []
    for image in images:
        resized = image.resize((SIZE[1], SIZE[0]), Image.BILINEAR)
        x = (np.asarray(resized, dtype=np.float32) / 255.0 - MEAN) / STD
        arrays.append(x.transpose(2, 0, 1))
    return np.stack(arrays).astype(np.float32)


def _train():
    """Train once per test session; returns (state_dict, onnx bytes, accuracy)."""
    if "weights" in _trained:
        return _trained["weights"], _trained["onnx"], _trained["accuracy"]
    import io

    import torch

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = simple_cnn(WIDTHS, len(LABELS))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(40):
        targets = rng.integers(0, len(LABELS), size=24)
        x = torch.from_numpy(_to_tensor_batch([colour_image(LABELS[t], rng) for t in targets]))
        loss = torch.nn.functional.cross_entropy(model(x), torch.from_numpy(targets))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    valid_rng = np.random.default_rng(1)
    targets = np.arange(30) % len(LABELS)
    x = torch.from_numpy(_to_tensor_batch([colour_image(LABELS[t], valid_rng) for t in targets]))
    with torch.no_grad():
        accuracy = float((model(x).argmax(1).numpy() == targets).mean())
    buffer = io.BytesIO()
    export_onnx(model, buffer)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    _trained.update(weights=state, onnx=buffer.getvalue(), accuracy=accuracy)
    return state, buffer.getvalue(), accuracy


def export_onnx(model, file) -> None:
    """Export `model` as the contract says: input "image", output "logits", dynamic batch."""
    import torch

    # The TorchScript exporter: the dynamo one needs onnxscript, which the project doesn't
    # install; its deprecation warnings are torch's business, not these tests'.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            torch.zeros(1, 3, *SIZE),
            file,
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def model_json(name: str, accuracy: float, examples: list[dict]) -> dict:
    """A complete model.json for the tiny colour model."""
    return {
        "format": "model-bundle/1",
        "name": name,
        "task": "image-classification",
        "architecture": {"name": "simple_cnn", "num_classes": len(LABELS), "widths": WIDTHS},
        "labels": list(LABELS),
        "input": {"size": list(SIZE), "resize": "squish", "mean": MEAN, "std": STD},
        "onnx": {"input": "image", "output": "logits", "opset": 17},
        "metrics": {
            "accuracy": accuracy,
            "error_rate": round(1 - accuracy, 6),
            "valid_loss": 0.1,
            "n_valid": 30,
        },
        "examples": examples,
        "recipe": {"recipe": "colours", "steps": 40, "base_lr": 0.02},
        "versions": {
            "python": platform.python_version(),
            "torch": _version("torch").split("+")[0],
            "torchvision": _version("torchvision").split("+")[0],
            "onnx": _version("onnx"),
            "onnxruntime": _version("onnxruntime"),
            "safetensors": _version("safetensors"),
        },
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "title": "Colours",
        "description": "A tiny CNN that tells red, green and blue images apart.",
        "post": None,
    }


def make_bundle(
    tmp_path: Path,
    name: str = "colours",
    *,
    remove: tuple[str, ...] = (),
    onnx_bytes: bytes | None = None,
    **overrides,
) -> Path:
    """Write a bundle to `tmp_path / name` and return its folder.

    `overrides` replace top-level model.json fields (`format="model-bundle/9"`,
    `labels=[...]`; `DROP` deletes the field); a dict value for `input`, `onnx` or
    `architecture` is merged into that field. `remove` lists files to delete afterwards
    (`remove=("model.onnx",)`), `onnx_bytes` replaces the ONNX file's content.
    """
    import torch  # noqa: F401  (safetensors.torch needs it)
    from safetensors.torch import save_file

    state, onnx_data, accuracy = _train()
    folder = Path(tmp_path) / name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "examples").mkdir(parents=True)
    (folder / "report").mkdir()
    rng = np.random.default_rng(2)
    examples = []
    for label in LABELS:
        relative = f"examples/{label}_0.png"
        colour_image(label, rng).save(folder / relative)
        examples.append({"file": relative, "label": label})
    meta = model_json(name, accuracy, examples)
    for key, value in overrides.items():
        if value is DROP:
            meta.pop(key, None)
        elif isinstance(value, dict) and isinstance(meta.get(key), dict):
            meta[key] = {**meta[key], **copy.deepcopy(value)}
        else:
            meta[key] = copy.deepcopy(value)
    (folder / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    save_file(state, str(folder / "model.safetensors"))
    (folder / "model.onnx").write_bytes(onnx_bytes if onnx_bytes is not None else onnx_data)
    (folder / "report" / "metrics.json").write_text(json.dumps(meta.get("metrics", {}), indent=2))
    for relative in remove:
        target = folder / relative
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    return folder
