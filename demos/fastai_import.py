"""Turn a fastai `learn.export()` file into a model bundle the demos can serve.

The book's models (pets, bears) are fastai Learners saved with `learn.export()`. This
loads one (fastai must be installed: the `bench` extra, or `pip install fastai`), and
writes models/NAME/ per models/README.md: the weights as safetensors, the vocab as labels,
the network as ONNX (checked against PyTorch), and the validation transform read from the
DataLoaders (size, resize method, normalization).

Loading export.pkl unpickles it, and unpickling runs whatever code the file contains: only
import files you made yourself or trust, and say so with --trust.

Example:

    python -m demos import-fastai export.pkl --name bears --trust
    python -m demos import-fastai pets.pkl --name pets --trust --code is_cat.py
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import runpy
import shutil
import sys
import tempfile
import warnings
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from demos.app import NAME_PATTERN
from demos.errors import DemosError
from demos.space import replace_folder

DEFAULT_MODELS = Path("models")
FORMAT = "model-bundle/1"
ONNX_OPSET = 17
# The ONNX graph must agree with PyTorch to this tolerance on a random batch.
ONNX_ATOL = 1e-4
UNTRUSTED = (
    "{file}: refusing to load it without --trust. A fastai export is a pickle, and "
    "unpickling runs any code the file contains; pass --trust only for a file you made "
    "yourself or got from someone you trust."
)


class FastaiImportError(DemosError):
    """export.pkl can't become a bundle; the message names the file and the fix."""


def import_fastai(
    export: str | Path,
    name: str,
    *,
    trust: bool = False,
    models: str | Path = DEFAULT_MODELS,
    code: str | Path | None = None,
    examples: list[str | Path] = (),
    title: str | None = None,
    description: str | None = None,
    post: str | None = None,
    echo=print,
) -> Path:
    """Write bundle `models/NAME` from fastai export `export`; returns the bundle folder.

    Refuses (before opening the file) unless `trust` is true. `code` is a Python file run
    first, for exports that refer to functions defined in the training notebook (the
    book's `is_cat`). `examples` are images copied into the bundle as demo examples.
    """
    export = Path(export)
    if not trust:
        raise FastaiImportError(UNTRUSTED.format(file=export))
    if not export.is_file():
        raise FastaiImportError(f"{export}: no such file; give the path of a learn.export() file.")
    if not name or not NAME_PATTERN.match(name):
        # The name becomes a folder, a URL path (/NAME/) and a Space name.
        raise FastaiImportError(f"--name {name!r} must be letters, digits, '.', '_' and '-' "
                                "(starting with a letter or digit), such as 'bears'.")
    for example in examples:
        if not Path(example).is_file():
            raise FastaiImportError(f"--examples: {example} is not a file.")
    learn = load(export, code=code)
    echo(f"Loaded {export}: {type(learn.model).__name__} with {len(vocab(learn, export))} classes")
    meta = describe(learn, export, name, title=title, description=description, post=post, echo=echo)
    return write_bundle(learn, meta, Path(models) / name, examples=examples, echo=echo)


def load(export: Path, *, code: str | Path | None = None):
    """Unpickle the Learner on the CPU. Only call this for a trusted file."""
    try:
        from fastai.learner import load_learner
    except ImportError:
        raise FastaiImportError(
            "fastai is not installed: install the `bench` extra (pip install -e '.[bench]') "
            "or `pip install fastai`, then run the import again."
        ) from None
    if code is not None:
        _run_definitions(Path(code))
    try:
        with warnings.catch_warnings():
            # fastai's own pickle warning repeats what --trust already acknowledged.
            warnings.simplefilter("ignore", UserWarning)
            learn = load_learner(export, cpu=True)
    except AttributeError as err:
        if "Can't get attribute" not in str(err):  # pickle's "missing definition" error
            raise FastaiImportError(
                f"{export} holds something other than a fastai Learner ({_first_line(err)}): "
                "export the Learner with learn.export()."
            ) from None
        raise FastaiImportError(
            f"{export} refers to a function or class that isn't defined here "
            f"({' '.join(str(err).split())}). Put its definition (e.g. the notebook's "
            "`def is_cat(x): ...`) in a .py file and pass it with --code FILE."
        ) from None
    except Exception as err:  # a corrupt or foreign pickle fails in many ways
        raise FastaiImportError(
            f"{export} could not be loaded as a fastai Learner ({type(err).__name__}: "
            f"{_first_line(err)}). Is it the file learn.export() wrote?"
        ) from None
    if not hasattr(learn, "model") or not hasattr(learn, "dls"):
        raise FastaiImportError(
            f"{export} holds a {type(learn).__name__}, not a fastai Learner: export it with "
            "learn.export()."
        )
    learn.model.eval()
    return learn


def _run_definitions(code: Path) -> None:
    """Run `code` into __main__, where pickles made in a notebook look for its functions."""
    if not code.is_file():
        raise FastaiImportError(f"--code {code}: no such file.")
    namespace = runpy.run_path(str(code), run_name="__fastai_definitions__")
    main = sys.modules["__main__"]
    for key, value in namespace.items():
        if not key.startswith("__"):
            setattr(main, key, value)


def vocab(learn, export: Path) -> list[str]:
    labels = getattr(learn.dls, "vocab", None)
    if labels is None or not len(labels):
        raise FastaiImportError(
            f"{export}: the Learner's DataLoaders have no vocab; only single-label image "
            "classifiers (e.g. ImageDataLoaders, DataBlock with CategoryBlock) can be imported."
        )
    if isinstance(labels, (list, tuple)) and labels and isinstance(labels[0], (list, tuple)):
        raise FastaiImportError(f"{export}: the model predicts several targets; not supported.")
    return [str(label) for label in labels]


def _check_task(learn, export: Path) -> None:
    loss = type(getattr(learn, "loss_func", None)).__name__
    if loss not in ("CrossEntropyLossFlat", "CrossEntropyLoss", "LabelSmoothingCrossEntropyFlat",
                    "LabelSmoothingCrossEntropy", "FocalLossFlat"):  # fmt: skip
        raise FastaiImportError(
            f"{export}: the Learner's loss is {loss}; only single-label classification "
            "(softmax over the vocab, e.g. CrossEntropyLossFlat) fits task "
            "image-classification. Multi-label and regression models aren't supported yet."
        )


def validation_transform(learn, export: Path, echo=print) -> dict:
    """The contract's `input` block (size, resize, mean, std) from the DataLoaders.

    Only the transforms that run on the validation set matter: fastai's augmentations
    (flips, rotations, random crops) are skipped there.
    """
    item = list(getattr(learn.dls.after_item, "fs", []))
    batch = list(getattr(learn.dls.after_batch, "fs", []))
    names = [type(t).__name__ for t in item + batch]
    size = resize = None
    for tfm in item + batch:
        kind = type(tfm).__name__
        if kind == "Resize":
            width, height = (int(v) for v in tfm.size)  # fastai stores (width, height)
            size = [height, width]
            method = str(tfm.method)
            resize = {"squish": "squish", "crop": "crop", "pad": "pad"}.get(method)
            if resize is None:
                raise FastaiImportError(f"{export}: unknown Resize method {method!r}.")
            if resize == "crop":
                echo(
                    f"note: {export} crops a box rounded to whole pixels; bundles crop the exact "
                    "box, so predictions can differ from fastai's in the last decimals."
                )
            if resize == "pad":
                # fastai pads the original to the target's shape and then resizes; the
                # contract resizes and then pads, so edge pixels blend differently.
                if str(tfm.pad_mode) == "zeros":
                    echo(
                        f"warning: {export} pads before resizing; bundles resize, then pad: "
                        "pixels along the padded edges differ slightly from fastai's."
                    )
                else:
                    echo(
                        f"warning: {export} pads with {tfm.pad_mode}; bundles pad with black, "
                        "after resizing: the padded borders differ from fastai's (train with "
                        "Resize(..., pad_mode='zeros') to come closer)."
                    )
            break
        if kind in ("RandomResizedCrop", "RandomResizedCropGPU"):
            width, height = (int(v) for v in tfm.size)
            size, resize = [height, width], "squish"
            echo(
                f"warning: {export} uses {kind}, which on the validation set squishes to "
                f"{tfm.val_xtra:.0%} more than the size and cuts the centre; bundles describe "
                "squish, crop or pad only, so the demo squishes to the size (slightly less "
                "zoomed). Train with item_tfms=Resize(...) for an exact match."
            )
            break
    if size is None:
        raise FastaiImportError(
            f"{export}: no Resize in the DataLoaders' transforms ({', '.join(names) or 'none'});"
            " the demo needs a fixed input size: train with item_tfms=Resize(SIZE)."
        )
    mean, std = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    for tfm in batch:
        kind = type(tfm).__name__
        if kind == "IntToFloatTensor" and float(getattr(tfm, "div", 255.0)) != 255.0:
            raise FastaiImportError(
                f"{export}: IntToFloatTensor divides by {tfm.div}, not 255; not supported."
            )
        if kind == "Normalize":
            # Rounded: the stats are stored as float32 (0.485 becomes 0.48500001430511475).
            mean = [round(float(v), 7) for v in tfm.mean.flatten()]
            std = [round(float(v), 7) for v in tfm.std.flatten()]
            if len(mean) != 3 or len(std) != 3:
                raise FastaiImportError(
                    f"{export}: Normalize has {len(mean)} channels; RGB images need 3."
                )
    return {"size": size, "resize": resize, "mean": mean, "std": std}


def _architecture(learn, num_classes: int) -> dict:
    # The network is fastai's body + head, not a torchvision model or simple_cnn, so the
    # contract's torch backend can't rebuild it from model.json: the ONNX graph carries it.
    arch = getattr(learn, "arch", None)
    body = getattr(arch, "__name__", None) or type(learn.model).__name__
    return {"name": f"fastai/{body}", "num_classes": num_classes, "framework": "fastai",
            "body": body}  # fmt: skip


def _metrics(learn) -> dict:
    """The last epoch's validation metrics, when the export still holds them."""
    recorder = getattr(learn, "recorder", None)
    names = list(getattr(recorder, "metric_names", None) or [])
    values = list(getattr(recorder, "__dict__", {}).get("values") or [])
    if not names or not values:
        return {}
    # metric_names is ["epoch", "train_loss", "valid_loss", *metrics, "time"]; values lack
    # the first and last.
    last = dict(zip(names[1:-1], values[-1], strict=False))
    metrics = {}
    if "valid_loss" in last:
        metrics["valid_loss"] = float(last["valid_loss"])
    if "accuracy" in last:
        metrics["accuracy"] = float(last["accuracy"])
        metrics["error_rate"] = 1 - metrics["accuracy"]
    elif "error_rate" in last:
        metrics["error_rate"] = float(last["error_rate"])
        metrics["accuracy"] = 1 - metrics["error_rate"]
    return metrics


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution).split("+")[0]
    except metadata.PackageNotFoundError:
        return None


def describe(
    learn, export: Path, name: str, *, title=None, description=None, post=None, echo=print
) -> dict:
    """model.json for the learner (examples are filled in by write_bundle)."""
    _check_task(learn, export)
    labels = vocab(learn, export)
    versions = {"python": platform.python_version()}
    for distribution in ("torch", "torchvision", "onnx", "onnxruntime", "safetensors",
                         "fastai", "numpy", "Pillow"):  # fmt: skip
        if version := _version(distribution):
            versions[distribution] = version
    return {
        "format": FORMAT,
        "name": name,
        "task": "image-classification",
        "architecture": _architecture(learn, len(labels)),
        "labels": labels,
        "input": validation_transform(learn, export, echo=echo),
        "onnx": {"input": "image", "output": "logits", "opset": ONNX_OPSET},
        "metrics": _metrics(learn),
        "examples": [],
        "recipe": {"source": "fastai learn.export()", "file": export.name},
        "versions": versions,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "title": title or name.replace("-", " ").replace("_", " ").capitalize(),
        "description": description
        or f"A fastai image classifier for {', '.join(labels[:5])}"
        + (" and more." if len(labels) > 5 else "."),
        "post": post,
    }


def write_bundle(learn, meta: dict, folder: Path, *, examples=(), echo=print) -> Path:
    """Write the bundle to a temporary folder next to `folder`, then rename it into place."""
    from safetensors.torch import save_file

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        model = learn.model.cpu().eval()
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(staging / "model.safetensors"), metadata={"format": "pt"})
        echo("Wrote model.safetensors; exporting to ONNX")
        height, width = meta["input"]["size"]
        onnx_bytes = _export_onnx(model, height, width)
        (staging / "model.onnx").write_bytes(onnx_bytes)
        _check_onnx(model, onnx_bytes, height, width, len(meta["labels"]))
        echo("Checked model.onnx against PyTorch")
        (staging / "examples").mkdir()
        for source in examples:
            source = Path(source)
            target = f"examples/{source.name}"
            if any(e["file"] == target for e in meta["examples"]):
                # grizzly/1.jpg and black/1.jpg: keep both, numbered.
                target = f"examples/{len(meta['examples'])}_{source.name}"
            shutil.copy2(source, staging / target)
            # An example in a folder named after a class (data/bears/grizzly/1.jpg) is labelled.
            label = source.parent.name if source.parent.name in meta["labels"] else None
            meta["examples"].append({"file": target, "label": label})
        (staging / "report").mkdir()
        (staging / "report" / "metrics.json").write_text(json.dumps(meta["metrics"], indent=2))
        (staging / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        staging.chmod(0o755)
        replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    echo(f"Wrote the bundle {folder}")
    return folder


def _export_onnx(model, height: int, width: int) -> bytes:
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        # The TorchScript exporter: the dynamo one needs onnxscript, which isn't installed.
        torch.onnx.export(
            model,
            torch.zeros(1, 3, height, width),
            buffer,
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def _check_onnx(model, onnx_bytes: bytes, height: int, width: int, num_classes: int) -> None:
    import numpy as np
    import onnxruntime as ort
    import torch

    batch = torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(batch).numpy()
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"image": batch.numpy()})[0]
    if expected.shape != (2, num_classes):
        raise FastaiImportError(
            f"the network outputs shape {list(expected.shape)}, expected [batch, {num_classes}]"
            " (one logit per vocab entry)."
        )
    if not np.allclose(got, expected, atol=ONNX_ATOL, rtol=1e-3):
        worst = float(np.abs(got - expected).max())
        raise FastaiImportError(
            f"the ONNX export disagrees with PyTorch (max difference {worst:.2g}); the network "
            "uses an operation ONNX can't express faithfully."
        )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else "no details"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", type=Path, help="the file learn.export() wrote (export.pkl)")
    parser.add_argument("--name", required=True, help="the bundle's name: models/NAME/")
    parser.add_argument(
        "--trust", action="store_true",
        help="confirm that you trust the file: loading it runs the code it contains",
    )  # fmt: skip
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="bundles folder")
    parser.add_argument(
        "--code", type=Path, default=None,
        help="a .py file defining functions the export refers to (e.g. the notebook's is_cat)",
    )  # fmt: skip
    parser.add_argument(
        "--examples", type=Path, nargs="*", default=[],
        help="images to show as clickable examples (labelled when in a folder named after a class)",
    )  # fmt: skip
    parser.add_argument(
        "--title",
        default=None,
        help="the demo's title; when not given (%(default)s): NAME capitalised",
    )
    parser.add_argument("--description", default=None, help="one paragraph shown by the demo")
    parser.add_argument("--post", default=None, help="URL of the blog post about the model")


def run(args: argparse.Namespace) -> int:
    import_fastai(
        args.export,
        args.name,
        trust=args.trust,
        models=args.models,
        code=args.code,
        examples=args.examples,
        title=args.title,
        description=args.description,
        post=args.post,
    )
    return 0
