"""Turn a fastai `learn.export()` file into a model bundle the demos can serve.

The book's models (pets, bears) are fastai Learners saved with `learn.export()`. This
loads one (fastai must be installed: the `bench` extra, or `pip install fastai`), and
writes models/NAME/ per models/README.md: the weights as safetensors, the vocab as labels,
the network as ONNX (checked against PyTorch), and the validation transform read from the
DataLoaders (size, resize method, normalization).

Loading export.pkl unpickles it, and unpickling runs whatever code the file contains: only
import files you made yourself or trust, and say so with --trust.

The bundle is named after the file (models/bears.pkl -> bears), or after its folder when
the file has fastai's default name (bears/export.pkl -> bears); --name chooses another.
learn.export() keeps no validation metrics: --valid DIR measures the accuracy on a folder
of labelled images (one subfolder per label) with the bundle's ONNX model.

Example:

    python -m training import-fastai bears/export.pkl --trust --valid bears/valid
    python -m training import-fastai pets.pkl --name pets --trust --code is_cat.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import shutil
import sys
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from .bundle import (
    FORMAT,
    NAME_PATTERN,
    OPSET,
    ExportError,
    in_bundle,
    versions,
    write_model_json,
    write_onnx,
    write_weights,
)
from .files import staged_folder
from .images import BadImage, preprocess

DEFAULT_MODELS = Path("models")
# File and folder names that say nothing about the model: fastai's default `export`, and the
# folders exports land in (Colab's /content, Kaggle's /kaggle/working, a dataset's images/).
GENERIC_STEMS = {"export", "model", "models", "learner", "learn", "final", "best", "checkpoint"}
GENERIC_FOLDERS = GENERIC_STEMS | {
    "exports", "output", "outputs", "content", "working", "kaggle", "tmp", "temp", "data",
    "dataset", "datasets", "images", "imgs", "train", "valid", "downloads", "desktop",
    "documents", "home", "root", "src", "notebooks", "nbs", "checkpoints", "artifacts",
    "weights", "files", "drive", "mydrive", "my drive",
}  # fmt: skip
# The --valid images, by extension (fastai's get_image_files takes the same kinds).
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
VALID_BATCH = 16
# fastai's validation pixels against the bundle's, in levels of 255, on 24 photo-like
# JPEGs (tests/training/fastai_images.py, asserted by tests/training/test_import_fastai.py).
CROP_MAX_LEVELS = 22
PRESIZE_MAX_LEVELS = 35
PRESIZE_MEAN_LEVELS = 1
UNTRUSTED = (
    "{file}: refusing to load it without --trust. A fastai export is a pickle, and "
    "unpickling runs any code the file contains; pass --trust only for a file you made "
    "yourself or got from someone you trust."
)


class FastaiImportError(ExportError):
    """export.pkl can't become a bundle; the message names the file and the fix."""


def import_fastai(
    export: str | Path,
    name: str | None = None,
    *,
    trust: bool = False,
    models: str | Path = DEFAULT_MODELS,
    code: str | Path | None = None,
    examples: list[str | Path] = (),
    valid: str | Path | None = None,
    title: str | None = None,
    description: str | None = None,
    post: str | None = None,
    echo=print,
) -> Path:
    """Write bundle `models/NAME` from fastai export `export`; returns the bundle folder.

    Refuses (before opening the file) unless `trust` is true. `name` defaults to
    default_name(export). `code` is a Python file run first, for exports that refer to
    functions defined in the training notebook (the book's `is_cat`). `examples` are images
    copied into the bundle as demo examples. `valid` is a folder of labelled images (one
    subfolder per label) on which the bundle's ONNX model measures the accuracy recorded
    in model.json.
    """
    export = Path(export)
    if not trust:
        raise FastaiImportError(UNTRUSTED.format(file=export))
    if not export.is_file():
        raise FastaiImportError(f"{export}: no such file; give the path of a learn.export() file.")
    if name is None:
        name = default_name(export)
        echo(f"Bundle name: {name} (from {export}; --name NAME chooses another)")
    if not name or not NAME_PATTERN.match(name):
        # The name becomes a folder, a URL path (/NAME/) and a Space name.
        raise FastaiImportError(
            f"--name {name!r} must be letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit), such as 'bears'."
        )
    for example in examples:
        if not Path(example).is_file():
            raise FastaiImportError(f"--examples: {example} is not a file.")
    if valid is not None and not Path(valid).is_dir():
        raise FastaiImportError(
            f"--valid {valid}: no such folder; give a folder of labelled images with one "
            "subfolder per label (valid/grizzly/1.jpg, valid/black/2.jpg, ...)."
        )
    learn = load(export, code=code)
    echo(f"Loaded {export}: {type(learn.model).__name__} with {len(vocab(learn, export))} classes")
    meta = describe(learn, export, name, title=title, description=description, post=post, echo=echo)
    images = labelled_images(Path(valid), meta["labels"], echo=echo) if valid is not None else None
    if images is None and "accuracy" not in meta["metrics"]:
        echo(
            f"note: {export} holds no validation metrics (learn.export() doesn't keep them), so "
            "the demo shows no accuracy; pass --valid DIR, a folder of labelled images with one "
            "subfolder per label, to measure it."
        )
    return write_bundle(
        learn, meta, Path(models) / name, examples=examples,
        valid=(Path(valid), images) if images is not None else None, echo=echo,
    )  # fmt: skip


def default_name(export: Path) -> str:
    """The bundle name for `export` when --name isn't given.

    The file's name when it names the model (models/bears.pkl -> bears), else the name of
    its folder (bears/export.pkl -> bears): learn.export() writes `export.pkl` into the
    Learner's path, the dataset's folder. Lowercased, with runs of other characters than
    letters, digits, '.', '_' and '-' made one '-'.
    """
    folder = Path(os.path.abspath(export)).parent  # not resolve(): a link's own folder
    candidates = [(export.stem, GENERIC_STEMS)]
    if folder != Path.home() and folder.parent != folder:  # not ~/ or /
        candidates.append((folder.name, GENERIC_FOLDERS))
    for text, generic in candidates:
        slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
        if slug and slug not in generic and text.lower() not in generic:
            return slug
    raise FastaiImportError(
        f"{export}: neither the file name nor its folder ({folder.name or folder}) says what "
        "the model is; name the bundle with --name NAME (e.g. --name bears)."
    )


def labelled_images(valid: Path, labels: list[str], echo=print) -> list[tuple[Path, int]]:
    """(image, label index) for every image in `valid`'s label subfolders, sorted.

    Subfolders must be named after labels the model knows; an image outside the subfolders
    has no label. Both are errors naming the folder, rather than images silently left out.
    Files that aren't images by their extension (notes.txt) are skipped and counted; hidden
    ones (.DS_Store) are skipped.
    """
    entries = sorted(p for p in valid.iterdir() if not p.name.startswith("."))
    folders = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    unknown = [p.name for p in folders if p.name not in labels]
    known = ", ".join(labels[:20]) + (", ..." if len(labels) > 20 else "")
    if unknown:
        which = ", ".join(unknown[:10]) + (", ..." if len(unknown) > 10 else "")
        raise FastaiImportError(
            f"--valid {valid}: the subfolder{'s' if len(unknown) > 1 else ''} {which} "
            f"{'are not labels' if len(unknown) > 1 else 'is not a label'} the model knows "
            f"({known}); rename or remove {'them' if len(unknown) > 1 else 'it'}."
        )
    if loose:
        which = loose[0].name + (f" and {len(loose) - 1} more" if len(loose) > 1 else "")
        raise FastaiImportError(
            f"--valid {valid}: {which} {'are' if len(loose) > 1 else 'is'} outside the label "
            "subfolders, so without a label; move each image into the subfolder named after "
            f"its label ({known})."
        )
    images, skipped = [], []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if any(part.startswith(".") for part in path.relative_to(valid).parts):
                continue
            if path.is_file():
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    images.append((path, labels.index(folder.name)))
                else:
                    skipped.append(path)
    if not images:
        raise FastaiImportError(
            f"--valid {valid}: no images (.jpg, .png, ...) in subfolders named after the labels "
            f"({known}); put each validation image in the subfolder named after its label."
        )
    if skipped:
        many = len(skipped) > 1
        echo(
            f"note: --valid {valid}: skipped {len(skipped)} file{'s' if many else ''} that "
            f"{'are not images' if many else 'is not an image'} "
            f"({skipped[0].relative_to(valid)}{', ...' if many else ''})."
        )
    return images


def load(export: Path, *, code: str | Path | None = None):
    """Unpickle the Learner on the CPU. Only call this for a trusted file."""
    try:
        with warnings.catch_warnings():
            # fastai's modules use torch.jit.script, which torch marks deprecated: not ours.
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*torch.jit")
            from fastai.learner import load_learner
    except ImportError:
        raise FastaiImportError(
            "fastai is not installed: install the `bench` extra (pip install -e '.[bench]') "
            "or `pip install fastai`, then run the import again."
        ) from None
    if code is not None:
        _run_definitions(Path(code))
    if _truncated(export):  # found before torch reports it as a zip archive error
        raise FastaiImportError(_unreadable(export))
    try:
        with warnings.catch_warnings():
            # fastai's own pickle warning repeats what --trust already acknowledged.
            warnings.simplefilter("ignore", UserWarning)
            learn = load_learner(export, cpu=True)
    except AttributeError as err:
        if "Can't get attribute" not in str(err):  # pickle's "missing definition" error
            raise FastaiImportError(
                f"{export} holds something other than a fastai Learner ({_summary(err)}): "
                "export the Learner with learn.export()."
            ) from None
        raise FastaiImportError(
            f"{export} refers to a function or class that isn't defined here "
            f"({' '.join(str(err).split())}). Put its definition (e.g. the notebook's "
            "`def is_cat(x): ...`) in a .py file and pass it with --code FILE."
        ) from None
    except Exception as err:  # a corrupt or foreign pickle fails in many ways
        raise FastaiImportError(_unreadable(export, err)) from None
    if not hasattr(learn, "model") or not hasattr(learn, "dls"):
        raise FastaiImportError(
            f"{export} holds a {type(learn).__name__}, not a fastai Learner: export it with "
            "learn.export()."
        )
    learn.model.eval()
    return learn


def _truncated(export: Path) -> bool:
    """A zip archive (what torch.save, and so learn.export(), writes) without its end: a copy
    or download cut short. The archive's directory is at its end, so nothing can be read."""
    with export.open("rb") as file:
        head = file.read(4)
    return head == b"PK\x03\x04" and not zipfile.is_zipfile(export)


def _unreadable(export: Path, err: BaseException | None = None) -> str:
    """One sentence for an export that can't be unpickled: what is wrong, and the fix."""
    size = export.stat().st_size
    fix = "copy or download it again, or export it again with learn.export()"
    if size == 0:
        return f"{export} is empty (0 bytes): {fix}."
    with export.open("rb") as file:
        pickled = file.read(1) == b"\x80"  # a pickle's first opcode: the legacy torch.save
    if _truncated(export) or (pickled and (isinstance(err, EOFError) or "truncated" in str(err))):
        return f"{export} is cut short ({size:,} bytes, and its end is missing): {fix}."
    return (
        f"{export} could not be loaded as a fastai Learner ({type(err).__name__}: "
        f"{_summary(err)}); check that it is the file learn.export() wrote, or export it again."
    )


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
    (flips, rotations, lighting, random crops) are skipped there. The size is the last
    one the validation images are resized to: with presizing (the book's
    `item_tfms=Resize(460), batch_tfms=aug_transforms(size=224)`), the batch's 224, not
    the item's 460. Where fastai's pixels and the contract's differ, `echo` says by how
    much (measured by tests/training/fastai_images.py).
    """
    item = list(getattr(learn.dls.after_item, "fs", []))
    batch = list(getattr(learn.dls.after_batch, "fs", []))
    names = [type(t).__name__ for t in item + batch]
    size, resize, note = _item_resize(item, export)
    presize = _batch_resize(batch)
    if presize is not None:
        size, resize, note = _presized(export, size, resize, *presize)
    if size is None:
        raise FastaiImportError(
            f"{export}: no Resize in the DataLoaders' transforms ({', '.join(names) or 'none'});"
            " the demo needs a fixed input size: train with item_tfms=Resize(SIZE)."
        )
    if note:
        echo(note)
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


def _item_resize(item: list, export: Path) -> tuple[list[int] | None, str | None, str | None]:
    """([height, width], contract resize method, note) of the per-image resize (Pillow)."""
    for tfm in item:
        kind = type(tfm).__name__
        if kind == "Resize":
            width, height = (int(v) for v in tfm.size)  # fastai stores (width, height)
            method = str(tfm.method)
            if method not in ("squish", "crop", "pad"):
                raise FastaiImportError(f"{export}: unknown Resize method {method!r}.")
            return [height, width], method, _resize_note(export, method, str(tfm.pad_mode))
        if kind == "RandomResizedCrop":
            width, height = (int(v) for v in tfm.size)
            note = (
                f"warning: {export} uses {kind}, which on the validation set squishes to "
                f"{tfm.val_xtra:.0%} more than the size and cuts the centre; bundles describe "
                "squish, crop or pad only, so the demo squishes to the size (slightly less "
                "zoomed). Train with item_tfms=Resize(...) for an exact match."
            )
            return [height, width], "squish", note
    return None, None, None


def _resize_note(export: Path, method: str, pad_mode: str) -> str | None:
    """What differs between fastai's Resize(method) and the contract's, with the numbers
    tests/training/fastai_images.py measures on 24 photo-like JPEGs (500x375 and others)."""
    if method == "squish":
        return None  # the same Pillow resize: pixel for pixel
    if method == "crop":
        return (
            f"note: {export} resizes with fastai's crop, which rounds the crop box down to whole "
            "pixels and resamples only inside it; the bundle resamples the exact centred box "
            f"(the contract's crop). Pixels differ by up to {CROP_MAX_LEVELS}/255 (about 1/255 "
            "on average) for photos less than twice the input size, a few levels for larger "
            "ones, so probabilities differ slightly; train with Resize(SIZE, method='squish') "
            "for the same pixels as fastai."
        )
    # fastai pads the original to the target's shape and then resizes; the contract resizes
    # and then pads, so edge pixels blend differently and the border can move by a pixel.
    if pad_mode == "zeros":
        return (
            f"warning: {export} pads before resizing (rounding the padding to whole pixels); "
            "bundles resize, then pad: the rows or columns along the padded edges differ from "
            "fastai's (by up to 200/255 where the border falls a pixel apart), the rest by a "
            "few levels."
        )
    return (
        f"warning: {export} pads with {pad_mode}; bundles pad with black, after resizing: the "
        "padded borders differ from fastai's (train with Resize(..., pad_mode='zeros') to "
        "come closer)."
    )


def _batch_resize(batch: list) -> tuple[object, list[int]] | None:
    """(transform, [height, width]) of the last batch transform that resizes validation
    images: RandomResizedCropGPU, or an AffineCoordTfm given a size (aug_transforms(size=...)
    merges its flips, rotations and zooms into one). Both resample with grid_sample."""
    found = None
    for tfm in batch:
        kinds = {cls.__name__ for cls in type(tfm).__mro__}
        size = getattr(tfm, "size", None)
        if size is None or not kinds & {"RandomResizedCropGPU", "AffineCoordTfm"}:
            continue
        height, width = (size, size) if isinstance(size, int) else (int(v) for v in size)
        found = (tfm, [int(height), int(width)])  # both store (height, width)
    return found


def _presized(export: Path, size, resize, tfm, final: list[int]):
    """(size, resize, note) for a per-image resize followed by a per-batch one (presizing)."""
    kind = type(tfm).__name__
    if size is None:
        note = (
            f"warning: {export} resizes only per batch ({kind} to {final[0]}x{final[1]}), so "
            "its images all had one size; the bundle squishes any image to that size."
        )
        return final, "squish", note
    height, width = size
    aspect = width / height
    # On the validation set RandomResizedCropGPU crops the centre to its `ratio` range (and
    # by valid_scale), then resizes; AffineCoordTfm only resizes.
    ratio = getattr(tfm, "ratio", (0, float("inf"))) if kind == "RandomResizedCropGPU" else None
    crops = ratio is not None and (
        not ratio[0] <= aspect <= ratio[1] or float(getattr(tfm, "valid_scale", 1.0)) != 1.0
    )
    steps = (
        f"{export} presizes: each image to {height}x{width} ({resize}) with Pillow, then each "
        f"batch to {final[0]}x{final[1]} with {kind} (torch's grid_sample, not antialiased)"
    )
    if crops or height * final[1] != width * final[0]:
        note = (
            f"warning: {steps}, which on the validation set also changes the images' shape; "
            f"the bundle describes one resize ({resize} to {final[0]}x{final[1]}), so "
            "predictions near the borders differ from fastai's."
        )
    else:
        note = (
            f"note: {steps}; the bundle does one Pillow {resize} to {final[0]}x{final[1]} (the "
            f"contract's {resize}): pixels differ by up to {PRESIZE_MAX_LEVELS}/255 (about "
            f"{PRESIZE_MEAN_LEVELS}/255 on average), and probabilities more than for a single "
            "resize; train with item_tfms=Resize(SIZE, method='squish') and no batch resize "
            "for the same pixels as fastai."
        )
    return final, resize, note


def _architecture(learn, num_classes: int) -> dict:
    # The network is fastai's body + head, not a torchvision model or simple_cnn, so the
    # contract's torch backend can't rebuild it from model.json: the ONNX graph carries it.
    # `framework: fastai` tells the PyTorch backend to say so (demos/torch_backend.py).
    arch = getattr(learn, "arch", None)
    body = getattr(arch, "__name__", None) or type(learn.model).__name__
    return {"name": f"fastai/{body}", "num_classes": num_classes,
            "framework": "fastai", "body": body}  # fmt: skip


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


def describe(
    learn, export: Path, name: str, *, title=None, description=None, post=None, echo=print
) -> dict:
    """model.json for the learner (examples are filled in by write_bundle)."""
    _check_task(learn, export)
    labels = vocab(learn, export)
    return {
        "format": FORMAT,
        "name": name,
        "task": "image-classification",
        "architecture": _architecture(learn, len(labels)),
        "labels": labels,
        "input": validation_transform(learn, export, echo=echo),
        "onnx": {"input": "image", "output": "logits", "opset": OPSET},
        "metrics": _metrics(learn),
        "examples": [],
        "recipe": {"source": "fastai learn.export()", "file": export.name},
        "versions": versions("fastai"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "title": title or name.replace("-", " ").replace("_", " ").capitalize(),
        "description": description
        or f"A fastai image classifier for {', '.join(labels[:5])}"
        + (" and more." if len(labels) > 5 else "."),
        "post": post,
    }


def write_bundle(learn, meta: dict, folder: Path, *, examples=(), valid=None, echo=print) -> Path:
    """Write the bundle whole or not at all (files.staged_folder), with training's writers.

    `valid`: (folder, labelled_images(folder)); the written bundle's ONNX model is measured
    on those images, with the contract's preprocessing, before the bundle takes its place.
    """
    import torch

    with in_bundle(folder), staged_folder(folder) as staging:
        model = learn.model.cpu().eval()
        # No architecture a reader could rebuild: the ONNX graph carries fastai's network.
        write_weights(model, staging / "model.safetensors")
        echo("Wrote model.safetensors; exporting to ONNX")
        height, width = meta["input"]["size"]
        sample = torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(0))
        write_onnx(model, sample, staging / "model.onnx", len(meta["labels"]))
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
        if valid is not None:
            meta["metrics"] = measure(staging / "model.onnx", meta, *valid, echo=echo)
            # The folder's name only: model.json is committed, a full path can be personal.
            meta["recipe"]["valid"] = Path(os.path.abspath(valid[0])).name
        write_model_json(meta, staging)
        (staging / "report").mkdir()
        (staging / "report" / "metrics.json").write_text(json.dumps(meta["metrics"], indent=2))
    echo(f"Wrote the bundle {folder}")
    return folder


def measure(
    onnx_file: Path, meta: dict, valid: Path, images: list[tuple[Path, int]], echo=print
) -> dict:
    """accuracy, error_rate and n_valid of `onnx_file` on labelled `images`, with the
    contract's preprocessing (training.images, which the demos match): the numbers the
    demo's visitors get."""
    import numpy as np
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    spec = meta["input"]
    size = tuple(spec["size"])
    echo(f"Measuring the accuracy on {len(images)} images in {valid} with model.onnx")
    correct = 0
    for start in range(0, len(images), VALID_BATCH):
        chunk = images[start : start + VALID_BATCH]
        batch = []
        for path, _ in chunk:
            try:
                batch.append(preprocess(path, size, spec["resize"], spec["mean"], spec["std"]))
            except BadImage as error:
                reason = str(error).replace(f" '{path}'", "")  # Pillow repeats the path
                raise FastaiImportError(
                    f"--valid {path}: not a usable image ({reason}); replace it, or remove it "
                    f"from {valid}."
                ) from None
        logits = session.run(["logits"], {"image": np.stack(batch)})[0]
        correct += sum(
            int(p == label) for p, (_, label) in zip(logits.argmax(axis=1), chunk, strict=True)
        )
    accuracy = correct / len(images)
    echo(f"Accuracy on {valid}: {accuracy:.1%} ({correct} of {len(images)} images)")
    return {"accuracy": accuracy, "error_rate": 1 - accuracy, "n_valid": len(images)}


def _summary(err: BaseException, limit: int = 160) -> str:
    """The error's first sentence (of its first line), at most `limit` characters."""
    lines = str(err).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if not text:
        return "no details"
    sentence = re.split(r"(?<=[^.\s]{2})\.\s", text, maxsplit=1)[0].rstrip(".")
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " ..."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", type=Path, help="the file learn.export() wrote (export.pkl)")
    parser.add_argument(
        "--name", default=None,
        help="the bundle's name, models/NAME/; when not given (%(default)s): the file's name, "
        "or its folder's when the file is export.pkl or the like (bears/export.pkl and "
        "models/bears.pkl both give bears)",
    )  # fmt: skip
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
    parser.add_argument(
        "--valid", type=Path, default=None, metavar="DIR",
        help="a folder of labelled images, one subfolder per label (DIR/grizzly/1.jpg): the "
        "bundle's accuracy on them goes into model.json; when not given (%(default)s), the demo "
        "shows no accuracy, as learn.export() keeps none",
    )  # fmt: skip
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
        valid=args.valid,
        title=args.title,
        description=args.description,
        post=args.post,
    )
    return 0
