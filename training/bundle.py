"""Write a trained model as a bundle folder (models/README.md), atomically.

Everything is written into a temporary folder beside the destination, checked (the
weights load into the network the demos will build, and ONNX Runtime agrees with torch
within 1e-4), and only then renamed into place: an interruption at any point before
that leaves the previous bundle as it was.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import quantize, report
from .files import staged_folder
from .images import IMAGENET_MEAN, IMAGENET_STD, open_rgb
from .models import architecture, simple_cnn

FORMAT = "model-bundle/1"
OPSET = 17
TOLERANCE = 1e-4  # the largest allowed difference between torch and ONNX probabilities
WEB_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
# A bundle's name becomes a folder, a URL path (/NAME/) and a Space name; demos/bundles.py
# reads bundles with the same rule (tests/demos/test_contract_agreement.py).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ExportError(Exception):
    """The bundle could not be written or failed its checks; the previous one is intact."""


def _version(package: str) -> str:
    try:
        return metadata.version(package).split("+")[0]
    except metadata.PackageNotFoundError:
        return "unknown"


def versions(*extra: str) -> dict:
    """model.json's `versions`: what wrote the bundle, and what its readers pin. `extra`
    names further distributions (the fastai import adds "fastai")."""
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
        **{name.lower(): _version(name) for name in extra},
    }


def rebuild(spec: dict) -> torch.nn.Module:
    """The network as a reader of model.json builds it, without any training code paths."""
    if spec["name"] == "simple_cnn":
        return simple_cnn(spec["widths"], spec["num_classes"])
    import torchvision  # only for torchvision networks; importing it costs a second

    return torchvision.models.get_model(spec["name"], weights=None, num_classes=spec["num_classes"])


def write_weights(model: torch.nn.Module, path: Path, spec: dict | None = None) -> None:
    """The weights as safetensors. With `spec` (model.json's architecture), they are checked
    to load into the network a reader builds from it; a network no reader can rebuild (a
    fastai body and head) has none, and its ONNX graph carries it instead."""
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt"})
    if spec is None:
        return
    # The demos' way back: the same keys and shapes must load into a freshly built network.
    try:
        rebuild(spec).load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as error:
        raise ExportError(
            f"{path.name}: the weights don't fit {spec['name']} as built from model.json: {error}"
        ) from None


def write_onnx(
    model: torch.nn.Module, sample: torch.Tensor, path: Path, num_classes: int | None = None
) -> float:
    """Export with a dynamic batch axis; returns the largest probability gap to torch.

    The export is refused (ExportError) when the network's output isn't [batch,
    num_classes] or ONNX Runtime's probabilities on `sample` differ from torch's by more
    than TOLERANCE.
    """
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
    with torch.no_grad():
        expected = model(sample)
    if num_classes is not None and tuple(expected.shape) != (len(sample), num_classes):
        raise ExportError(
            f"{path.name}: the network outputs shape {list(expected.shape)}, expected "
            f"[batch, {num_classes}] (one logit per label); the bundle was not written."
        )
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], {"image": sample.numpy()})[0]
    got = torch.from_numpy(logits).softmax(1).numpy()
    gap = float(np.abs(got - expected.softmax(1).numpy()).max())
    # Logits too: where one class dominates, probabilities hide errors in the others.
    if gap > TOLERANCE or not np.allclose(logits, expected.numpy(), atol=1e-4, rtol=1e-3):
        worst = float(np.abs(logits - expected.numpy()).max())
        raise ExportError(
            f"{path.name}: ONNX Runtime's probabilities differ from torch's by {gap:.2e} "
            f"(at most {TOLERANCE}), its logits by {worst:.2e}: the network uses an operation "
            "ONNX can't express faithfully; the bundle was not written."
        )
    return gap


@contextmanager
def in_bundle(final: Path) -> Iterator[None]:
    """Checks name the file they failed on (model.onnx); this puts the bundle's folder in front,
    since the file itself was in a staging folder that is gone by the time anyone reads it."""
    try:
        yield
    except ExportError as error:
        if type(error) is not ExportError:  # a subclass's message already names its file
            raise
        raise ExportError(f"{final}/{error}") from None


def write_model_json(meta: dict, folder: Path) -> None:
    (folder / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


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
    with in_bundle(final), staged_folder(final) as tmp:
        spec = architecture(result.config, len(result.labels))
        model = result.model.to("cpu").eval()
        write_weights(model, tmp / "model.safetensors", spec)
        write_onnx(model, _sample_batch(result), tmp / "model.onnx", len(result.labels))
        int8 = write_int8(result, tmp) if result.config.int8 else None
        examples = write_examples(result, tmp / "examples", result.config.examples_per_class)
        report.write(result, tmp / "report", int8)
        write_model_json(model_json(result, examples, int8), tmp)
    return final
