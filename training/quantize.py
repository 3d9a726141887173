"""model.int8.onnx: the bundle's network quantised to int8 for the web and CPU Spaces.

Static QDQ quantisation with ONNX Runtime's own tool (`quantize_static`): int8 weights
per output channel, uint8 activations whose ranges are calibrated on a few hundred
training images. The file is about a quarter of model.onnx and runs faster in ONNX
Runtime Web and on CPUs. Dynamic quantisation is not used: in WebAssembly it is many
times slower than fp32.

Its validation accuracy is measured here, beside the fp32 one, and model.json records
whether readers should prefer it (`int8.preferred`: within MAX_DROP of fp32), so the
in-browser page and the Space runtime follow one decision made once.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .images import IMAGENET_MEAN, IMAGENET_STD

FILE = "model.int8.onnx"
MAX_DROP = 0.005  # half a point of accuracy: the most int8 may lose and still be preferred
METHOD = "static QDQ: per-channel int8 weights, uint8 activations (onnxruntime quantize_static)"
BATCH = 32


def normalise(
    images: torch.Tensor,
    size: tuple[int, int] | None = None,
    mean: tuple[float, ...] | list[float] = IMAGENET_MEAN,
    std: tuple[float, ...] | list[float] = IMAGENET_STD,
) -> np.ndarray:
    """uint8 (N, 3, H, W) → the model's float32 input (model.json's input.mean and std;
    training's bundles use ImageNet's), resized to `size` if it differs."""
    x = images.float() / 255
    if size is not None and tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(mean).view(1, 3, 1, 1)
    std = torch.tensor(std).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous().numpy().astype(np.float32)


class _Calibration:
    """The CalibrationDataReader protocol: one {input: batch} dict at a time, then None."""

    def __init__(self, batches: list[np.ndarray], input_name: str):
        self._batches = iter(batches)
        self._name = input_name

    def get_next(self):
        batch = next(self._batches, None)
        return None if batch is None else {self._name: batch}

    def rewind(self):  # called by some calibrators between passes; one pass is enough here
        pass


def _session(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def predictions(
    path: Path,
    images: torch.Tensor,
    input_name: str = "image",
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
) -> np.ndarray:
    """Top-1 class index of every image (uint8 N,3,H,W at the model's size) under ONNX Runtime."""
    session = _session(path)
    out = []
    for start in range(0, len(images), BATCH):
        x = normalise(images[start : start + BATCH], None, mean, std)
        out.append(session.run(None, {input_name: x})[0].argmax(1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def calibration_batches(
    train_images: torch.Tensor,
    size: tuple[int, int],
    n: int,
    seed: int,
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
) -> list[np.ndarray]:
    """`n` training images spread over the set (a fixed shuffle), at the model's input size."""
    generator = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(train_images), generator=generator)[: max(1, n)]
    chosen = train_images[pick]
    return [normalise(chosen[i : i + BATCH], size, mean, std) for i in range(0, len(chosen), BATCH)]


def _quantise(fp32: Path, out: Path, calibration: list[np.ndarray], input_name: str) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference and graph folding first, as ONNX Runtime's docs recommend: the
        # quantiser then sees BatchNorm folded into the convolutions.
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            _Calibration(calibration, input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )


def write_int8(
    fp32: Path,
    out: Path,
    calibration: list[np.ndarray],
    valid_images: torch.Tensor,
    valid_targets: torch.Tensor,
    fp32_accuracy: float,
    input_name: str = "image",
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
) -> dict:
    """Quantise `fp32` into `out`; returns model.json's `int8` entry. `mean` and `std` are
    the bundle's input normalisation (the calibration batches must use the same)."""
    # The quantiser logs every node it can't quantise (some on the root logger) at INFO and
    # WARNING; the accuracy check below is what matters to the user. Quiet while it runs.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        _quantise(fp32, out, calibration, input_name)
    finally:
        logging.disable(previous)
    int8 = predictions(out, valid_images, input_name, mean, std)
    reference = predictions(fp32, valid_images, input_name, mean, std)
    targets = valid_targets.numpy()
    accuracy = float((int8 == targets).mean())
    return {
        "file": FILE,
        "method": METHOD,
        "accuracy": accuracy,
        "agreement": float((int8 == reference).mean()),  # top-1 equal to the fp32 model's
        "calibration_images": int(sum(len(b) for b in calibration)),
        "bytes": out.stat().st_size,
        "preferred": accuracy >= fp32_accuracy - MAX_DROP,
    }
