"""Finding labelled images, splitting them, and checking + decoding each one once.

Labels come from folder names (bears), a file-name regex (pets) or a CSV. Every image is
fully decoded before training starts: files that can't be used are listed and skipped.
The decoded images are resized once and kept as uint8 arrays (in memory and in a cache
folder), so an epoch is just indexing and a batched warp: no JPEG decoding per epoch.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .files import staged_folder
from .images import BadImage, open_rgb, resize
from .progress import tqdm

IMAGE_EXTENSIONS = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}


class DataError(Exception):
    """Bad input data; the message names the file and says what to do."""


@dataclass
class Item:
    path: Path
    label: str
    is_valid: bool | None = None  # None: decided by the random split


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class Dataset:
    """Decoded images of one split: uint8 (N, 3, H, W) and class indices (N,)."""

    images: torch.Tensor
    targets: torch.Tensor
    paths: list[str]

    def __len__(self) -> int:
        return len(self.targets)


@dataclass
class Data:
    labels: list[str]
    train: Dataset
    valid: Dataset
    skipped: list[Skipped] = field(default_factory=list)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def items_from_folders(root: str | Path) -> tuple[list[Item], list[Skipped]]:
    """Labels from each image's parent folder; train/ and valid/ folders fix the split."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder. Give a folder with one subfolder per label.")
    split_roots = {"train": False, "valid": True}
    if all((root / name).is_dir() for name in split_roots):
        tops = [(root / name, is_valid) for name, is_valid in split_roots.items()]
    else:
        tops = [(root, None)]
    items, skipped = [], []
    for top, is_valid in tops:
        for path in _files(top):
            if not _is_image(path):
                skipped.append(Skipped(str(path), "not an image file (extension)"))
            elif path.parent == top:
                skipped.append(Skipped(str(path), "not inside a label folder"))
            else:
                items.append(Item(path, path.parent.name, is_valid))
    return items, skipped


def items_from_regex(root: str | Path, pattern: str) -> tuple[list[Item], list[Skipped]]:
    """Labels from group 1 of `pattern` matched against each file name (pets)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder of images.")
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise DataError(
            f"label regex {pattern!r} is not a valid regular expression: {error}"
        ) from None
    if regex.groups < 1:
        raise DataError(f"label regex {pattern!r} needs a group, e.g. ^(.+)_\\d+\\.jpg$")
    items, skipped = [], []
    for path in _files(root):
        match = regex.match(path.name)
        if not _is_image(path):
            skipped.append(Skipped(str(path), "not an image file (extension)"))
        elif not match:
            skipped.append(Skipped(str(path), f"file name doesn't match {pattern}"))
        else:
            items.append(Item(path, match.group(1)))
    return items, skipped


def items_from_csv(csv_path: str | Path, root: str | Path | None = None) -> list[Item]:
    """Rows `fname,label[,is_valid]`; file names are relative to `root` or the CSV's folder."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: no such CSV file.")
    root = Path(root) if root else csv_path.parent
    with csv_path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in reader.fieldnames or []]
        if "fname" not in columns or "label" not in columns:
            raise DataError(
                f"{csv_path}: line 1 must name the columns fname,label[,is_valid]; "
                f"found {','.join(columns) or 'nothing'}."
            )
        items = []
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if not row["fname"] or not row["label"]:
                raise DataError(f"{csv_path}: line {line} has an empty fname or label.")
            is_valid = None
            if "is_valid" in row:
                flag = row["is_valid"].lower()
                if flag not in ("true", "false", "1", "0", "yes", "no"):
                    raise DataError(
                        f"{csv_path}: line {line}: is_valid must be true or false, "
                        f"not {row['is_valid']!r}."
                    )
                is_valid = flag in ("true", "1", "yes")
            items.append(Item(root / row["fname"], row["label"], is_valid))
    if not items:
        raise DataError(f"{csv_path}: no rows after the header.")
    return items


def split(items: list[Item], valid_pct: float, seed: int) -> tuple[list[Item], list[Item]]:
    """train/valid by the items' own flags, else a seeded random `valid_pct` split."""
    flags = {item.is_valid for item in items}
    if flags != {None}:
        if None in flags:
            raise DataError(
                "some items say whether they are validation items and some don't; "
                "mark every row (is_valid) or none."
            )
        return [i for i in items if not i.is_valid], [i for i in items if i.is_valid]
    if not 0 < valid_pct < 1:
        raise DataError(f"valid_pct must be between 0 and 1, not {valid_pct}.")
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed)).tolist()
    cut = int(valid_pct * len(items))
    return [items[i] for i in order[cut:]], [items[i] for i in order[:cut]]


def _decode(item: Item, size: tuple[int, int], method: str, fast: bool):
    try:
        image = resize(open_rgb(item.path, at_least=max(size) if fast else None), size, method)
    except BadImage as error:
        return None, str(error)
    except FileNotFoundError:
        return None, "no such file"
    return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1), None


def _cache_key(items: list[Item], size, method) -> str:
    digest = hashlib.sha1(f"v1 {size} {method}".encode())
    for item in items:
        try:
            stat = item.path.stat()
            digest.update(f"{item.path.resolve()} {stat.st_size} {stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{item.path} missing\n".encode())
    return digest.hexdigest()[:20]


def decode_all(
    items: list[Item],
    size: tuple[int, int],
    method: str,
    workers: int = 0,
    cache_dir: str | Path | None = None,
    desc: str = "images",
    progress: bool = True,
    fast: bool = False,
):
    """Decode and resize every item once: (uint8 array, kept items, skipped), cached on disk.

    `fast` lets JPEGs decode at a reduced scale (training images only: the validation
    images must be exactly the contract's transform)."""
    cache = None
    if cache_dir:
        cache = Path(cache_dir) / _cache_key(items, size, f"{method} fast={fast}")
        if (cache / "done").exists():
            meta = json.loads((cache / "meta.json").read_text())
            kept = [items[i] for i in meta["kept"]]
            skipped = [Skipped(**s) for s in meta["skipped"]]
            return np.load(cache / "images.npy"), kept, skipped
    workers = workers or os.cpu_count() or 1
    out = np.zeros((len(items), 3, *size), dtype=np.uint8)
    kept_index, skipped = [], []
    # Threads suffice: Pillow releases the GIL while decoding and resizing.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda item: _decode(item, size, method, fast), items)
        for i, (pixels, error) in enumerate(
            tqdm(
                results, total=len(items), desc=desc, leave=False, unit="img", disable=not progress
            )
        ):
            if error is None:
                out[len(kept_index)] = pixels
                kept_index.append(i)
            else:
                skipped.append(Skipped(str(items[i].path), error))
    out = out[: len(kept_index)]
    if cache is not None:
        _write_cache(cache, out, {"kept": kept_index, "skipped": [s.__dict__ for s in skipped]})
    return out, [items[i] for i in kept_index], skipped


def _write_cache(cache: Path, images: np.ndarray, meta: dict) -> None:
    """Write a cache entry whole or not at all (files.staged_folder): the processes of a
    torchrun job (or two runs at once) may all write the same entry; the first to finish
    wins and the others' copies are dropped."""
    with staged_folder(cache, keep_existing=True) as tmp:
        np.save(tmp / "images.npy", images)
        (tmp / "meta.json").write_text(json.dumps(meta))
        (tmp / "done").write_text("")
        if cache.exists() and not (cache / "done").exists():
            shutil.rmtree(cache, ignore_errors=True)  # left half-written by an older version


def load(
    items: list[Item], config, skipped: list[Skipped] | None = None, progress: bool = True
) -> Data:
    """Split, check and decode: the training set at size*presize, validation at size."""
    skipped = list(skipped or [])
    if not items:
        raise DataError(f"no images found in {config.path or 'the data'}.")
    train_items, valid_items = split(items, config.valid_pct, config.seed)
    if not train_items or not valid_items:
        raise DataError(
            f"{config.path}: need images for both training and validation; "
            f"found {len(train_items)} and {len(valid_items)}."
        )
    size = (config.size, config.size)
    big = round(config.size * config.presize)
    cache_dir = Path(config.cache_dir) if config.cache_dir else None
    train_pixels, train_kept, bad = decode_all(
        train_items,
        (big, big),
        config.resize,
        config.workers,
        cache_dir,
        "checking train images",
        progress,
        fast=True,
    )
    skipped += bad
    valid_pixels, valid_kept, bad = decode_all(
        valid_items,
        size,
        config.resize,
        config.workers,
        cache_dir,
        "checking valid images",
        progress,
    )
    skipped += bad
    labels = sorted({item.label for item in train_kept})
    if len(labels) < 2:
        raise DataError(
            f"{config.path}: found {len(labels)} label(s) {labels}; "
            "a classifier needs at least two."
        )
    index = {label: i for i, label in enumerate(labels)}
    unknown = [item for item in valid_kept if item.label not in index]
    for item in unknown:
        skipped.append(Skipped(str(item.path), f"label {item.label!r} has no training images"))
    keep = [i for i, item in enumerate(valid_kept) if item.label in index]
    valid_pixels = valid_pixels[keep]
    valid_kept = [valid_kept[i] for i in keep]
    if not valid_kept:
        raise DataError(f"{config.path}: no usable validation images.")

    def dataset(pixels, kept):
        targets = torch.tensor([index[item.label] for item in kept], dtype=torch.long)
        return Dataset(torch.from_numpy(pixels), targets, [str(item.path) for item in kept])

    return Data(
        labels, dataset(train_pixels, train_kept), dataset(valid_pixels, valid_kept), skipped
    )


def describe_skipped(skipped: list[Skipped], limit: int = 20) -> str:
    """A readable list of skipped files for the console."""
    lines = [f"Skipped {len(skipped)} file(s) that can't be used:"]
    for s in skipped[:limit]:
        lines.append(f"  {s.path}: {s.reason}")
    if len(skipped) > limit:
        lines.append(f"  ... and {len(skipped) - limit} more (all listed in report/metrics.json)")
    return "\n".join(lines)
