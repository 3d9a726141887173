"""Write a trained model as a bundle folder (models/README.md), atomically.

Everything is written into a temporary folder beside the destination, checked (the
weights load into the network the demos will build, and ONNX Runtime agrees with torch
within 1e-4), and only then renamed into place: an interruption at any point before
that leaves the previous bundle as it was.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import tempfile
import warnings
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
import torchvision
from safetensors.torch import load_file, save_file

from . import quantize, report
from .images import IMAGENET_MEAN, IMAGENET_STD, open_rgb
from .models import architecture, simple_cnn

FORMAT = "model-bundle/1"
OPSET = 17
TOLERANCE = 1e-4  # the largest allowed difference between torch and ONNX probabilities
WEB_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}


class ExportError(Exception):
    """The bundle could not be written or failed its checks; the previous one is intact."""


def _version(package: str) -> str:
    try:
        return metadata.version(package).split("+")[0]
    except metadata.PackageNotFoundError:
        return "unknown"


def versions() -> dict:
    return {
        "python": platform.python_version(),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "onnx": _version("onnx"),
        "onnxruntime": _version("onnxruntime"),
        "safetensors": _version("safetensors"),
        # What the Space's requirements pin too: the preprocessing runs on these.
        "numpy": _version("numpy"),
        "pillow": _version("Pillow"),
    }


def rebuild(spec: dict) -> torch.nn.Module:
    """The network as a reader of model.json builds it, without any training code paths."""
    if spec["name"] == "simple_cnn":
        return simple_cnn(spec["widths"], spec["num_classes"])
    return torchvision.models.get_model(spec["name"], weights=None, num_classes=spec["num_classes"])


def write_weights(model: torch.nn.Module, spec: dict, path: Path) -> None:
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt"})
    # The demos' way back: the same keys and shapes must load into a freshly built network.
    try:
        rebuild(spec).load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as error:
        raise ExportError(
            f"{path}: the weights don't fit {spec['name']} as built from model.json: {error}"
        ) from None


def write_onnx(model: torch.nn.Module, sample: torch.Tensor, path: Path) -> float:
    """Export with a dynamic batch axis; returns the largest probability gap to torch."""
    import onnxruntime

    model = model.eval()
    # The TorchScript exporter: the dynamo exporter needs onnxscript, which isn't a dependency
    # (its deprecation warning is silenced; the ONNX check below guards the result).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            sample[:1],
            str(path),
            input_names=["image"],
            output_names=["logits"],
            opset_version=OPSET,
            dynamo=False,
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        )
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(sample).softmax(1).numpy()
    logits = session.run(["logits"], {"image": sample.numpy()})[0]
    got = torch.from_numpy(logits).softmax(1).numpy()
    gap = float(np.abs(got - expected).max())
    if gap > TOLERANCE:
        raise ExportError(
            f"{path}: ONNX Runtime's probabilities differ from torch's by {gap:.2e} "
            f"(more than {TOLERANCE}); the bundle was not written."
        )
    return gap


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "label"


def write_examples(result, folder: Path, per_class: int) -> list[dict]:
    """The first `per_class` validation images of each label, as web-friendly files."""
    folder.mkdir()
    examples, counts = [], {}
    # Labels that only differ in characters a file name can't hold ("café", "cafè") get
    # their class index in front, so no example overwrites another.
    stems = [_safe(label) for label in result.labels]
    stems = [f"{i}_{stem}" if stems.count(stem) > 1 else stem for i, stem in enumerate(stems)]
    for path, target in zip(
        result.data.valid.paths, result.data.valid.targets.tolist(), strict=True
    ):
        label = result.labels[target]
        n = counts.get(label, 0)
        if n >= per_class:
            continue
        counts[label] = n + 1
        source = Path(path)
        suffix = source.suffix.lower()
        if suffix in WEB_IMAGE_SUFFIXES:
            name = f"{stems[target]}_{n}{'.jpg' if suffix == '.jpeg' else suffix}"
            shutil.copyfile(source, folder / name)
        else:  # TIFF, BMP, 16-bit formats...: a browser may not show them; store RGB PNG
            name = f"{stems[target]}_{n}.png"
            open_rgb(source).save(folder / name)
        examples.append({"file": f"examples/{name}", "label": label})
    return examples


def model_json(result, examples: list[dict], int8: dict | None = None) -> dict:
    config = result.config
    m = result.metrics
    return {
        "format": FORMAT,
        "name": config.name,
        "task": "image-classification",
        "architecture": architecture(config, len(result.labels)),
        "labels": list(result.labels),
        "input": {
            "size": [config.size, config.size],
            "resize": config.resize,
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
        },
        "onnx": {"input": "image", "output": "logits", "opset": OPSET},
        "metrics": {
            "accuracy": m["accuracy"],
            "error_rate": m["error_rate"],
            "valid_loss": m["valid_loss"],
            "n_valid": m["n_valid"],
        },
        **({"int8": int8} if int8 else {}),
        "examples": examples,
        "recipe": config.to_dict(),
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "title": config.title or config.name,
        "description": config.description,
        "post": config.post or None,
    }


def _sample_batch(result, n: int = 8) -> torch.Tensor:
    images = result.data.valid.images[:n].float() / 255
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return ((images - mean) / std).contiguous()


def write_int8(result, folder: Path) -> dict:
    """model.int8.onnx beside model.onnx, calibrated on training images; its model.json entry."""
    config = result.config
    size = (config.size, config.size)
    batches = quantize.calibration_batches(
        result.data.train.images, size, config.calibration_images, config.seed
    )
    return quantize.write_int8(
        folder / "model.onnx",
        folder / quantize.FILE,
        batches,
        result.data.valid.images,
        result.data.valid.targets,
        result.metrics["accuracy"],
    )


def export(result, output: str | Path | None = None) -> Path:
    """Write `result` as a bundle at `output` (default: the config's) and return its path."""
    final = Path(output or result.config.output)
    if final.exists() and any(final.iterdir()) and not (final / "model.json").exists():
        raise ExportError(
            f"{final} exists and is not a model bundle (no model.json); "
            "choose another --output or empty that folder."
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        spec = architecture(result.config, len(result.labels))
        model = result.model.to("cpu").eval()
        write_weights(model, spec, tmp / "model.safetensors")
        write_onnx(model, _sample_batch(result), tmp / "model.onnx")
        int8 = write_int8(result, tmp) if result.config.int8 else None
        examples = write_examples(result, tmp / "examples", result.config.examples_per_class)
        report.write(result, tmp / "report", int8)
        content = json.dumps(model_json(result, examples, int8), indent=2) + "\n"
        (tmp / "model.json").write_text(content)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a bundle is meant to be shared
        _swap(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _swap(tmp: Path, final: Path) -> None:
    """Put `tmp` where `final` is; the old bundle is removed only once the new one is there."""
    if not final.exists():
        tmp.rename(final)
        return
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    final.rename(old)
    try:
        tmp.rename(final)
    except BaseException:
        old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)
