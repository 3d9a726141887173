"""Run one model bundle (models/README.md) as a Gradio app.

This file is self-contained on purpose: it imports only the standard library, numpy,
Pillow, onnxruntime and gradio, never torch and nothing else from this repository (the
PyTorch backend is demos/torch_backend.py, which passes itself to `load`), because
`python -m demos space` copies it verbatim into each Hugging Face Space folder next to a
short app.py.

    model = load("models/digits")              # validates the bundle, opens an ONNX session
    model.predict("some.png")                  # {"0": 0.01, "1": 0.95, ...}
    build_app(model).launch()                  # the web app; its API is API_NAME

Clients call the app like any Gradio app:

    from gradio_client import Client, handle_file
    Client(url).predict(handle_file("cat.jpg"), api_name=API_NAME)
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMAT = "model-bundle/1"
TASKS = ("image-classification",)
RESIZE_METHODS = ("squish", "crop", "pad")
BACKENDS = ("onnx", "torch")
# "auto" runs model.int8.onnx where training recorded it as preferred (its validation
# accuracy within half a point of fp32), else model.onnx.
PRECISIONS = ("auto", "fp32", "int8")

# The endpoint users call: Client(url).predict(handle_file(path), api_name=API_NAME).
API_NAME = "/predict"
# Uploads larger than this are refused by Gradio before they reach Python; a 12 MP
# phone JPEG is 3-6 MB, a 48 MP one under 20 MB.
MAX_FILE_SIZE = "20mb"
# The largest image we decode: enough for a 48 MP phone photo (8000x6000), far below the
# 20000x20000 images that would need 1.2 GB of RAM each on a 2-vCPU/16 GB Space.
MAX_PIXELS = 50_000_000


def cpu_count() -> int:
    """The CPUs this process may use, at least 1.

    os.cpu_count(), lowered to the CPU affinity mask and to a cgroup CPU quota where
    there is one: a container limited to 2 vCPUs on a 64-core host (a free Space, most
    container hosts' small tier) counts 2, not 64.
    """
    count = os.cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        with contextlib.suppress(OSError):
            count = min(count, len(os.sched_getaffinity(0)) or count)
    quota = _cgroup_cpu_quota()
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup's quota (v2 cpu.max, v1 cfs_quota_us), None if unlimited."""
    try:  # cgroup v2: "max 100000" (no limit) or "200000 100000" (2 CPUs)
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return int(quota) / int(period) if quota != "max" and int(period) > 0 else None
    except (OSError, ValueError):
        pass
    try:  # cgroup v1: a quota of -1 means no limit
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


# As many predictions run at once as there are CPUs (2 on a free Space), each ONNX Runtime
# session run on one thread, so a slow upload or a big image never blocks the other
# users; the rest wait in a queue sized for a link shared with a class or a workshop
# (a few hundred people clicking within seconds), beyond which Gradio answers "Queue is
# full" instead of letting requests pile up without bound.
CPUS = cpu_count()
CONCURRENCY = CPUS
QUEUE_SIZE = 200
ONNX_THREADS = 1

SUPPORTED = "PNG, JPEG, WebP, GIF or BMP"

log = logging.getLogger(__name__)

# The limit is ours, checked by _check_size once Pillow has read the header (before any
# pixel is decoded). Pillow's own, global, limit is left alone: this module is also imported
# in notebooks and other programs, whose settings are not ours to change.


class BundleError(Exception):
    """A bundle that can't be served; the message names the file and the field."""


class BadImage(ValueError):
    """An input that isn't a usable image; the message is short and meant for the user."""


# ---------------------------------------------------------------------------------------
# Images


def _display_name(source: Any) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) and name else "the image"


def _check_size(image: Image.Image, name: str) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise BadImage(
            f'"{name}" is too large: {width}x{height} pixels, over the '
            f"{MAX_PIXELS // 1_000_000} megapixels this demo accepts. Resize it and try again."
        )
    if width == 0 or height == 0:
        raise BadImage(f'"{name}" has no pixels ({width}x{height}). Try another image.')


def open_image(
    source: str | os.PathLike | io.IOBase | bytes | Image.Image, name: str | None = None
) -> Image.Image:
    """Open `source` (a path, a binary file, bytes or a PIL image) as an RGB image.

    Applies step 1 of the bundle contract's preprocessing: EXIF orientation, first frame,
    conversion to RGB. Anything that isn't a usable image raises BadImage with a short
    message for the user that names the file and says what to do.
    """
    if isinstance(source, Image.Image):
        _check_size(source, name or "the image")
        return to_rgb(source)
    name = name or _display_name(source)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        try:
            size = os.path.getsize(source)
        except OSError:
            raise BadImage(f'"{name}" could not be read. Upload the file again.') from None
        if size == 0:
            raise BadImage(f'"{name}" is empty (0 bytes). Upload a {SUPPORTED} image.')
    try:
        image = Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(
            f'"{name}" is too large to decode (over {MAX_PIXELS // 1_000_000} megapixels, '
            "possibly a decompression bomb). Resize it and try again."
        ) from None
    except UnidentifiedImageError:
        raise BadImage(
            f'"{name}" is not an image this demo can read. Upload a {SUPPORTED} image.'
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        # Pillow reports some malformed headers as SyntaxError or ValueError.
        raise BadImage(
            f'"{name}" could not be read ({error}). Upload a {SUPPORTED} image.'
        ) from None
    with image:
        _check_size(image, name)
        try:
            # Animated GIF/WebP/APNG: the contract takes the first frame.
            image.seek(0)
            image.load()
        except (OSError, ValueError, SyntaxError, EOFError):
            raise BadImage(
                f'"{name}" is truncated or corrupt. Re-save or download it again and retry.'
            ) from None
        except MemoryError:
            raise BadImage(f'"{name}" is too large to decode. Resize it and try again.') from None
        try:
            oriented = ImageOps.exif_transpose(image)
        except Exception:  # a broken EXIF block shouldn't lose the picture
            log.warning("ignoring unreadable EXIF orientation in %s", name)
            oriented = image.copy()
        return to_rgb(oriented)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB as the contract says.

    Transparency (RGBA, LA, PA, palette with a transparent colour) is composited on white.
    16-bit images are scaled to 8 bits (65535 becomes 255) rather than clipped, as are
    32-bit integer and float images whose values go above 255; float images up to 1.0
    are taken as 0-1. These rules match training/images.py, value for value.
    """
    mode = image.mode
    if mode == "RGB":
        return image.copy() if image.readonly else image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Pillow's convert() clips these to 0-255 instead of scaling them.
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        peak = values.max() if values.size else 0.0
        top = 65535.0 if mode.startswith("I;16") or peak > 255 else 255.0
        if mode == "F" and peak <= 1.0:
            top = 1.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")


def preprocess(image: Image.Image, input_spec: dict) -> np.ndarray:
    """The contract's validation transform: float32 array [3, H, W] for one image.

    `input_spec` is model.json's `input` (size [h, w], resize squish|crop|pad, mean, std).
    """
    if image.mode != "RGB":
        image = to_rgb(image)
    height, width = (int(v) for v in input_spec["size"])
    method = input_spec.get("resize", "squish")
    if method == "squish":
        image = image.resize((width, height), Image.BILINEAR)
    elif method == "crop":
        # The largest centred box with the target aspect ratio, then a resize; ImageOps
        # does both in one resample (a fractional box), as training/images.py does.
        image = ImageOps.fit(image, (width, height), method=Image.BILINEAR)
    elif method == "pad":
        # Fit inside keeping the aspect ratio, centred on black.
        image = ImageOps.pad(image, (width, height), method=Image.BILINEAR, color=(0, 0, 0))
    else:
        raise ValueError(f"unknown resize method {method!r}; expected one of {RESIZE_METHODS}")
    pixels = np.asarray(image, dtype=np.float32) / np.float32(255.0)
    mean = np.asarray(input_spec["mean"], dtype=np.float32)
    std = np.asarray(input_spec["std"], dtype=np.float32)
    return np.ascontiguousarray(((pixels - mean) / std).transpose(2, 0, 1), dtype=np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------
# Bundles


def _fail(file: Path, field_name: str, problem: str, fix: str = "") -> BundleError:
    where = f"{file}: field '{field_name}'" if field_name else str(file)
    return BundleError(f"{where}: {problem}" + (f". {fix}" if fix else ""))


_REEXPORT = "Re-export the bundle with `python -m training` or fix model.json"


@dataclass(frozen=True)
class _Rule:
    """One field of model.json: where it is, its JSON type, and what else it must satisfy."""

    path: str  # dotted: "input.size"
    kind: type
    required: bool = True
    # (value, meta, file) -> None, or (field, problem, fix) for a value that won't do
    check: Callable[[Any, dict, Path], tuple[str, str, str] | None] | None = None
    wrong_type: str = ""  # the message for another type ("" : "has the wrong type (T)")
    fix: str = _REEXPORT  # the advice for a missing field or one of another type


def _one_of(choices: tuple[str, ...], what: str) -> Callable:
    def check(value, meta, file):
        if value not in choices:
            return "", f"is {value!r}; {what} {', '.join(choices)}", ""
        return None

    return check


def _format(value, meta, file):
    if value != FORMAT:
        return (
            "",
            f"is {value!r} but this demo reads {FORMAT!r}",
            "Re-export the bundle with this repository's `python -m training`",
        )
    return None


def _labels(value, meta, file):
    if not value or not all(isinstance(label, str) for label in value):
        return "", "must be a non-empty list of strings", _REEXPORT
    if len(set(value)) != len(value):
        return "", "has duplicate names", _REEXPORT
    return None


def _num_classes(value, meta, file):
    if value != len(meta["labels"]):
        return "", f"is {value} but 'labels' has {len(meta['labels'])} names", _REEXPORT
    return None


def _size(value, meta, file):
    if len(value) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        return "", f"must be [height, width] in pixels, not {value}", ""
    return None


def _rgb(positive: bool) -> Callable:
    def check(value, meta, file):
        if len(value) != 3 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        ):
            return "", "must be 3 numbers (R, G, B)", ""
        if positive and any(v <= 0 for v in value):
            return "", "must be positive", ""
        return None

    return check


def _examples(value, meta, file):
    for i, example in enumerate(value):
        if not isinstance(example, dict) or not isinstance(example.get("file"), str):
            return f"examples[{i}]", "must be an object with a 'file' path", ""
        if not (file.parent / example["file"]).is_file():
            return (
                f"examples[{i}].file",
                f"names {example['file']}, which is missing from the bundle",
                "Copy the image back or remove the entry",
            )
    return None


# model.json's fields in the order they are checked (models/README.md describes each).
_RULES = (
    _Rule("format", str, check=_format),
    _Rule("name", str),
    _Rule("task", str, check=_one_of(TASKS, "supported tasks:")),
    _Rule("labels", list, check=_labels),
    _Rule("architecture", dict),
    _Rule("architecture.name", str),
    _Rule("architecture.num_classes", int, check=_num_classes),
    _Rule("input", dict),
    _Rule("input.size", list, check=_size),
    _Rule("input.resize", str, check=_one_of(RESIZE_METHODS, "expected one of")),
    _Rule("input.mean", list, check=_rgb(positive=False)),
    _Rule("input.std", list, check=_rgb(positive=True)),
    _Rule("onnx", dict),
    _Rule("onnx.input", str),
    _Rule("onnx.output", str),
    _Rule("title", str, required=False, wrong_type="must be a string or null", fix=""),
    _Rule("description", str, required=False, wrong_type="must be a string or null", fix=""),
    _Rule("post", str, required=False, wrong_type="must be a URL string or null", fix=""),
    _Rule("metrics", dict, required=False, wrong_type="must be an object", fix=""),
    _Rule("int8", dict, required=False, wrong_type="must be an object (file, accuracy, preferred)"),
    _Rule("int8.file", str),
    _Rule("int8.preferred", bool),
    _Rule(
        "examples",
        list,
        required=False,
        check=_examples,
        wrong_type="must be a list of {file, label}",
        fix="",
    ),
)


def _apply(rule: _Rule, meta: dict, file: Path) -> None:
    parent_path, _, key = rule.path.rpartition(".")
    parent = meta
    for part in filter(None, parent_path.split(".")):
        parent = parent.get(part)
        if not isinstance(parent, dict):
            return  # an optional object that isn't there: nothing inside it to check
    value = parent.get(key)
    if key not in parent or (not rule.required and not value and value is not False):
        if rule.required:
            raise _fail(file, rule.path, "missing", rule.fix)
        return  # optional, and absent, null or empty
    if not isinstance(value, rule.kind) or (isinstance(value, bool) and rule.kind is not bool):
        problem = rule.wrong_type or f"has the wrong type ({type(value).__name__})"
        raise _fail(file, rule.path, problem, rule.fix)
    found = rule.check(value, meta, file) if rule.check else None
    if found:
        field_name, problem, fix = found
        raise _fail(file, field_name or rule.path, problem, fix)


def read_model_json(folder: Path) -> dict:
    """Read and validate `folder/model.json`; returns the parsed dict."""
    file = folder / "model.json"
    if not folder.is_dir():
        raise BundleError(f"{folder}: no such bundle folder (expected models/<name>/model.json)")
    if not file.is_file():
        raise _fail(
            file,
            "",
            "missing; a bundle folder holds model.json, model.onnx and model.safetensors",
            "Export the model again with `python -m training`",
        )
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise _fail(
            file,
            "",
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})",
            _REEXPORT,
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(file, "", f"can't be read ({error})") from None
    if not isinstance(meta, dict):
        raise _fail(file, "", "must hold a JSON object", _REEXPORT)

    for rule in _RULES:
        _apply(rule, meta, file)
    return meta


@dataclass
class Model:
    """A loaded bundle: metadata from model.json plus a backend that maps images to logits."""

    folder: Path
    meta: dict
    backend: str
    _run: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    weights: str = "model.onnx"  # the file that runs: model.onnx, model.int8.onnx, .safetensors

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def title(self) -> str:
        return self.meta.get("title") or self.name

    @property
    def description(self) -> str:
        return self.meta.get("description") or ""

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    @property
    def metrics(self) -> dict:
        return dict(self.meta.get("metrics") or {})

    @property
    def post(self) -> str | None:
        """The blog post's URL; only http(s) URLs, since pages turn it into a link."""
        post = self.meta.get("post") or None
        if post and not post.startswith(("https://", "http://")):
            log.warning("%s: ignoring 'post' %r, not an http(s) URL", self.folder, post)
            return None
        return post

    @property
    def examples(self) -> list[tuple[Path, str | None]]:
        """(absolute path, true label) for each example image."""
        return [(self.folder / e["file"], e.get("label")) for e in self.meta.get("examples") or []]

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw logits [batch, num_classes] for a preprocessed float32 batch [batch, 3, H, W]."""
        return self._run(np.ascontiguousarray(batch, dtype=np.float32))

    def predict(self, image: Any) -> dict[str, float]:
        """Every label's probability for one image (a path, file, bytes or PIL image).

        Raises BadImage for inputs that aren't usable images.
        """
        x = preprocess(open_image(image), self.meta["input"])[None]
        probs = softmax(self.logits(x))[0]
        return {label: float(p) for label, p in zip(self.meta["labels"], probs, strict=True)}


def onnx_file(folder: Path, meta: dict, precision: str = "auto") -> str:
    """The ONNX file to run: model.int8.onnx when asked for, or when "auto" and training
    recorded it as preferred and it is present; model.onnx otherwise."""
    if precision not in PRECISIONS:
        raise BundleError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    int8 = meta.get("int8") or {}
    if precision == "int8":
        if not int8:
            raise _fail(
                folder / "model.json",
                "int8",
                "missing: this bundle has no int8 model",
                "Re-export it with `python -m training` (int8 is on by default)",
            )
        return int8["file"]
    if precision == "auto" and int8.get("preferred") and (folder / int8["file"]).is_file():
        return int8["file"]
    return "model.onnx"


def load(
    path: str | os.PathLike,
    backend: str | Callable[[Path, dict], Callable[[np.ndarray], np.ndarray]] = "onnx",
    precision: str = "auto",
) -> Model:
    """Load and validate the bundle in folder `path` for inference.

    backend "onnx" (default) runs the bundle's ONNX model on ONNX Runtime (which file:
    `onnx_file(precision)`). A callable `backend(folder, meta) -> run` runs anything else:
    the repository's PyTorch backend (`demos.torch_backend.load`) passes one, so this file,
    which Space folders copy, never touches torch. Raises BundleError naming the file and
    field for anything that doesn't match the contract.
    """
    folder = Path(path)
    if backend == "torch":
        raise BundleError(
            "the PyTorch backend is not part of the Space runtime: in this repository use "
            "demos.torch_backend.load(folder) (or `--backend torch`), or the ONNX backend"
        )
    if not callable(backend) and backend != "onnx":
        raise BundleError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    meta = read_model_json(folder)
    if callable(backend):
        weights = getattr(backend, "weights", "model.safetensors")
        run = backend(folder, meta)
        backend = getattr(backend, "backend_name", "torch")
    else:
        weights = onnx_file(folder, meta, precision)
        run = _onnx_backend(folder, meta, weights)
    model = Model(folder=folder, meta=meta, backend=backend, _run=run, weights=weights)
    # One dry run catches an output size that doesn't match the labels before anyone uploads.
    height, width = meta["input"]["size"]
    try:
        out = model.logits(np.zeros((1, 3, height, width), dtype=np.float32))
    except BundleError:
        raise
    except Exception as error:  # any runtime failure means a broken bundle
        raise _fail(
            folder / weights,
            "",
            f"fails on a {height}x{width} input ({error})",
            "Check input.size in model.json or re-export",
        ) from None
    if out.ndim != 2 or out.shape[1] != len(meta["labels"]):
        raise _fail(
            folder / "model.json",
            "labels",
            f"has {len(meta['labels'])} names but {weights} outputs shape {list(out.shape)}",
            _REEXPORT,
        )
    return model


def _onnx_backend(
    folder: Path, meta: dict, weights: str = "model.onnx"
) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime as ort

    file = folder / weights
    if not file.is_file():
        raise _fail(
            file,
            "",
            "missing; the ONNX backend needs it",
            "Re-export the bundle, or serve with --backend torch",
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = ONNX_THREADS
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about unused initializers aren't the user's concern
    try:
        session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise _fail(
            file,
            "",
            f"is not a valid ONNX model ({str(error).strip()[:200]})",
            "Re-export the bundle",
        ) from None
    input_name, output_name = meta["onnx"]["input"], meta["onnx"]["output"]
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    if input_name not in inputs:
        raise _fail(
            folder / "model.json",
            "onnx.input",
            f"is {input_name!r} but {weights}'s inputs are {sorted(inputs)}",
            _REEXPORT,
        )
    if output_name not in outputs:
        raise _fail(
            folder / "model.json",
            "onnx.output",
            f"is {output_name!r} but {weights}'s outputs are {outputs}",
            _REEXPORT,
        )
    shape = inputs[input_name].shape
    expected = [3, *meta["input"]["size"]]
    if len(shape) != 4 or any(
        isinstance(d, int) and d != e for d, e in zip(shape[1:], expected, strict=True)
    ):
        raise _fail(
            folder / "model.json",
            "input.size",
            f"is {meta['input']['size']} but {weights} expects {shape}",
            _REEXPORT,
        )

    def run(batch: np.ndarray) -> np.ndarray:
        return session.run([output_name], {input_name: batch})[0]

    return run


# ---------------------------------------------------------------------------------------
# The app


def _upload_source(payload: Any) -> tuple[Any, str]:
    """(something open_image reads, the name to show) for a raw gr.Image payload.

    The events run with preprocess=False: gr.Image's own preprocess calls PIL.Image.open()
    on every upload, so a text file named .png or a decompression bomb would fail inside
    Gradio with a generic message. Here the raw upload goes to open_image(), which has a
    message for each case.
    """
    if isinstance(payload, str | os.PathLike):  # a plain path (direct Python calls)
        return payload, Path(payload).name
    if not isinstance(payload, dict):
        raise BadImage(f"Expected an uploaded image file. Upload a {SUPPORTED} image.")
    name = Path(payload.get("orig_name") or payload.get("path") or "the image").name
    if payload.get("path"):
        return payload["path"], name
    url = payload.get("url") or ""
    if url.startswith("data:") and "," in url:  # a base64 data URL sent through the API
        import base64
        import binascii

        try:
            return base64.b64decode(url.split(",", 1)[1], validate=False), name
        except (binascii.Error, ValueError):
            raise BadImage(
                "The pasted image could not be decoded. Upload a file instead."
            ) from None
    raise BadImage(f"Expected an uploaded image file. Upload a {SUPPORTED} image.")


def _metrics_markdown(metrics: dict) -> str:
    parts = []
    if isinstance(metrics.get("accuracy"), int | float):
        parts.append(f"accuracy **{metrics['accuracy']:.1%}**")
    if isinstance(metrics.get("error_rate"), int | float):
        parts.append(f"error rate {metrics['error_rate']:.1%}")
    if isinstance(metrics.get("valid_loss"), int | float):
        parts.append(f"loss {metrics['valid_loss']:.3f}")
    if not parts:
        return ""
    n = metrics.get("n_valid")
    on = f" on {n} validation images" if isinstance(n, int) else " on the validation set"
    return "Validation" + on + ": " + ", ".join(parts) + "."


# The title of the message the page shows for an upload it can't use.
BAD_IMAGE_TITLE = "Can't use this image"
FAILURE_TITLE = "Something went wrong"
FAILURE_MESSAGE = (
    "Something went wrong while classifying this image; the server log has the details. "
    "Try another image."
)


def _message_html(title: str, message: str) -> str:
    """The page's error panel: a title and one message, escaped (file names are the
    visitor's), in Gradio's error colours; role=alert so screen readers announce it."""
    import html

    def text(value: str) -> str:
        # gr.HTML fills its value into a JS template: neutralise template syntax too.
        return (
            html.escape(value).replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;")
        )

    return (
        '<div role="alert" style="padding:0.75rem 1rem;border-radius:var(--radius-lg);'
        "border:1px solid var(--error-border-color);background:var(--error-background-fill);"
        'color:var(--error-text-color)">'
        f"<strong>{text(title)}</strong><br>{text(message)}</div>"
    )


def _intro_markdown(model: Model) -> list[str]:
    """The page's text above the image, one Markdown block each: the title, the
    description (if any), then the validation metrics and the blog post link (if any)."""
    texts = [f"# {model.title}"]
    if model.description:
        texts.append(model.description)
    details = _metrics_markdown(model.metrics)
    if model.post:
        details += f" [Read the blog post about this model]({model.post})."
    if details:
        texts.append(details.strip())
    return texts


def _upload_classifier(
    model: Model, on_predict: Callable[[Callable], Callable] | None
) -> Callable[[Any], dict[str, float]]:
    """A raw gr.Image payload -> {label: probability}, for both the API and the page.

    The model call is decorated with `on_predict` here, once; the upload is checked and
    opened (BadImage for a bad one) before that call. A BadImage is logged as one line,
    anything else with its traceback; both are re-raised for the caller to present.
    """

    def classify(image: Image.Image) -> dict[str, float]:
        return model.predict(image)

    run_model = on_predict(classify) if on_predict is not None else classify

    def run(image: dict) -> dict[str, float]:
        try:
            source, name = _upload_source(image)
            return run_model(open_image(source, name))
        except BadImage as error:
            # The visitor's mistake, not the server's: one log line, no traceback.
            log.info("rejected an upload: %s", error)
            raise
        except Exception:  # the server keeps running; the user gets one line
            log.exception("prediction failed for %s", image)
            raise

    return run


def build_app(model: Model, *, on_predict: Callable[[Callable], Callable] | None = None):
    """The Gradio app for `model`: image in (upload, webcam, paste, an example), classes out.

    on_predict: a decorator applied to the function that runs the model, called once when
    the app is built: `build_app(model, on_predict=spaces.GPU)` on a ZeroGPU Space. The
    decorated function takes the opened RGB image (PIL) and returns {label: probability};
    bad input raises BadImage (a picklable ValueError) before it is called. Unexpected
    errors are logged with their traceback on the server and shown to the user as one line.

    The API endpoint (API_NAME) returns every label, best first, and raises the short
    message as an error for a bad image. On the page, a bad upload is cleared from the
    input and one message with its title (BAD_IMAGE_TITLE) replaces any earlier one; the
    prediction shows the top 5 classes.

    The returned gr.Blocks has its queue configured (CONCURRENCY, QUEUE_SIZE); launch it
    with `max_file_size=MAX_FILE_SIZE` (launch() below does), or mount it with
    gr.mount_gradio_app(..., max_file_size=MAX_FILE_SIZE).
    """
    import gradio as gr

    run = _upload_classifier(model, on_predict)

    def predict(image: dict | None) -> dict[str, float] | None:
        """The API: every label's probability, or an error with the short message."""
        if image is None:
            return None
        try:
            return run(image)
        except BadImage as error:
            raise gr.Error(str(error), title=BAD_IMAGE_TITLE, print_exception=False) from None
        except Exception:
            # print_exception=False: run() has logged the traceback already.
            raise gr.Error(FAILURE_MESSAGE, title=FAILURE_TITLE, print_exception=False) from None

    def show(image: dict | None):
        """The page: (prediction, input, message). Gradio 6's toasts show neither an
        error's title nor one message per upload, so the page has its own panel."""
        if image is None:  # cleared, by the visitor or after a bad upload: keep the message
            return None, gr.skip(), gr.skip()
        try:
            return run(image), gr.skip(), gr.update(value="", visible=False)
        except BadImage as error:
            message = _message_html(BAD_IMAGE_TITLE, str(error))
            return None, None, gr.update(value=message, visible=True)
        except Exception:
            message = _message_html(FAILURE_TITLE, FAILURE_MESSAGE)
            return None, gr.skip(), gr.update(value=message, visible=True)

    with gr.Blocks(title=model.title, analytics_enabled=False) as app:
        for text in _intro_markdown(model):
            gr.Markdown(text)
        with gr.Row():
            with gr.Column():
                image = gr.Image(
                    label="Image",
                    sources=["upload", "webcam", "clipboard"],
                    type="filepath",
                    image_mode=None,
                    height=320,
                    elem_id="image",
                )
                message = gr.HTML(visible=False, js_on_load=None, elem_id="message")
                button = gr.Button("Classify", variant="primary")
            with gr.Column():
                label = gr.Label(
                    num_top_classes=min(5, len(model.labels)),
                    label="Prediction",
                    elem_id="prediction",
                )
        if model.examples:
            # Thumbnails without captions: a caption would give the answer away.
            gr.Examples(
                examples=[[str(path)] for path, _ in model.examples],
                inputs=[image],
                label="Examples (click one)",
                examples_per_page=max(10, min(len(model.examples), 30)),
                elem_id="examples",
            )
        # The API's output: never shown, it holds every label (the page's shows the top 5).
        scores = gr.Label(visible=False, label="Scores")
        api_trigger = gr.Button(visible=False)
        # preprocess=False everywhere: the functions get the raw upload and do every check
        # themselves (see _upload_source). One concurrency group: CONCURRENCY predictions at
        # once, whether they come from the API, the button or an upload.
        api_trigger.click(
            predict,
            image,
            scores,
            api_name=API_NAME.lstrip("/"),
            preprocess=False,
            concurrency_id="predict",
        )
        page = {
            "fn": show,
            "inputs": image,
            "outputs": [label, image, message],
            "api_visibility": "private",
            "preprocess": False,
            "concurrency_id": "predict",
            "show_progress_on": label,
        }
        button.click(**page)
        # Uploading, pasting, taking a photo or clicking an example classifies at once.
        image.change(**page)
    app.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    return app


def launch(app, **kwargs):
    """app.launch() with this module's upload limit; keyword arguments pass through."""
    kwargs.setdefault("max_file_size", MAX_FILE_SIZE)
    return app.launch(**kwargs)
