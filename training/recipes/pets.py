"""pets: Oxford-IIIT Pets, 37 breeds labelled by file name, resnet34, fine_tune(1).

The book's first model (chapters 1 and 5). The archive is downloaded once from the
dataset's home page into data/, or taken from --path (a folder of images or the archive).
"""

from __future__ import annotations

import dataclasses
import tarfile
import urllib.request
from pathlib import Path

from ..data import DataError
from ..progress import tqdm

# The dataset's home page first, then the copy the fastai course downloads (same images).
URLS = (
    "https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
    "https://s3.amazonaws.com/fast-ai-imageclas/oxford-iiit-pet.tgz",
)

OVERRIDES = dict(
    name="pets",
    labels_from="regex",
    label_regex=r"^(.+)_\d+\.jpg$",  # great_pyrenees_173.jpg -> great_pyrenees
    arch="resnet34",  # as in the book
    epochs=1,  # learn.fine_tune(1)
    freeze_epochs=1,
    size=224,  # aug_transforms(size=224, min_scale=0.75)
    resize="crop",  # Resize(460)'s default method
    presize=1.25,  # presizing: crop-and-warp from 280 px, not from the full photo
    min_scale=0.75,
    examples_per_class=1,  # 37 breeds: one each keeps the bundle small
    title="Pet breeds",
    description="37 cat and dog breeds (Oxford-IIIT Pets), a fine-tuned resnet34.",
)


class DownloadError(DataError):
    pass


def download_first(urls, target: Path) -> Path:
    """Download the first URL that works to `target`; the error lists every failure."""
    failures = []
    for url in urls:
        try:
            return download(url, target)
        except OSError as error:  # URLError, timeouts, refused connections, a full disk
            failures.append(f"{url} ({getattr(error, 'reason', error)})")
    raise DownloadError(
        "could not download the pets images from "
        + "; ".join(failures)
        + ". When offline, download images.tar.gz elsewhere and pass "
        "--path images.tar.gz (or the unpacked folder)."
    )


def download(url: str, target: Path) -> Path:
    """Stream `url` to `target` with a progress bar; a partial file never takes its name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with (
                partial.open("wb") as f,
                tqdm(
                    total=total, unit="B", unit_scale=True, desc=f"downloading {target.name}"
                ) as bar,
            ):
                while chunk := response.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(target)
    return target


def extract(archive: Path, folder: Path) -> Path:
    """Unpack once; returns the folder holding the .jpg files."""
    done = folder / ".complete"
    if not done.exists():
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(folder, filter="data")  # refuses absolute paths and links out
        except (tarfile.TarError, OSError) as error:
            raise DataError(f"{archive}: can't unpack the archive ({error}).") from None
        done.write_text("")
    # images.tar.gz unpacks to images/, the fastai copy to oxford-iiit-pet/images/.
    for images in (folder / "images", folder / "oxford-iiit-pet" / "images"):
        if images.is_dir():
            return images
    return folder


def prepare(config):
    root = Path(config.data_dir) / "oxford-iiit-pet"
    if config.path:
        given = Path(config.path)
        if given.is_dir():
            return config
        if given.is_file():
            return dataclasses.replace(config, path=str(extract(given, root)))
        raise DataError(f"{given}: no such folder or archive of the pets images.")
    archive = root / "images.tar.gz"
    if not (root / ".complete").exists() and not archive.exists():
        download_first(URLS, archive)
    return dataclasses.replace(config, path=str(extract(archive, root)))
