"""Photo-like test images, and fastai's validation pixels next to the bundle contract's.

Used by test_import_fastai.py to measure how far an imported bundle's preprocessing
(demos.runtime.preprocess) is from fastai's own validation pipeline, and runnable on its
own to print that measurement for a few common input sizes:

    python tests/training/fastai_images.py        # needs fastai (the `bench` extra)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# (width, height) of the photos: dataset photos (Oxford-IIIT Pets is mostly 500x375 and
# 375x500), web images, phone and camera photos, and a few smaller than the input size.
PHOTO_SIZES = [
    (500, 375), (375, 500), (500, 333), (333, 500), (500, 281), (400, 600), (640, 480),
    (480, 640), (800, 600), (1024, 768), (1280, 720), (720, 1280), (1600, 1200), (2048, 1536),
    (4032, 3024), (300, 225), (250, 250), (513, 391), (1000, 999), (617, 353), (200, 150),
    (150, 200), (120, 90), (96, 128),
]  # fmt: skip


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A photo-like RGB image: blurred overlapping shapes plus sensor-like noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(int(v) for v in rng.integers(40, 200, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y = rng.uniform(-0.2, 1.0) * width, rng.uniform(-0.2, 1.0) * height
        w, h = rng.uniform(0.1, 0.6) * width, rng.uniform(0.1, 0.6) * height
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.6 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(max(1.0, min(size) / 150)))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def write_photos(folder: Path, sizes=PHOTO_SIZES, seed: int = 0) -> list[Path]:
    """One JPEG per size in `folder` (quality 90, as cameras and browsers save them)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"photo_{i:02d}_{size[0]}x{size[1]}.jpg"
        photo(size, seed + i).save(path, quality=90)
        paths.append(path)
    return paths


def fastai_pixels(learn, paths) -> np.ndarray:
    """fastai's validation input for `paths`, [n, 3, H, W] float32, as learn.predict makes
    it (test_dl: PILImage.create, the item transforms, the batch transforms)."""
    batches = [b[0].numpy() for b in learn.dls.test_dl(paths, bs=8, num_workers=0)]
    return np.concatenate(batches).astype(np.float32)


def bundle_pixels(paths, spec: dict) -> np.ndarray:
    """The bundle contract's input for `paths` (demos.runtime.preprocess), [n, 3, H, W]."""
    from demos import runtime

    return np.stack([runtime.preprocess(runtime.open_image(p), spec) for p in paths])


def levels(pixels: np.ndarray, spec: dict) -> np.ndarray:
    """Normalized pixels back on the 0-255 scale, [n, 3, H, W]."""
    mean = np.asarray(spec["mean"], dtype=np.float64).reshape(1, 3, 1, 1)
    std = np.asarray(spec["std"], dtype=np.float64).reshape(1, 3, 1, 1)
    return (pixels.astype(np.float64) * std + mean) * 255.0


def pixel_differences(learn, paths, spec: dict) -> np.ndarray:
    """|fastai - bundle| per image and pixel, in levels of 255: [n, 3, H, W]."""
    fastai = levels(fastai_pixels(learn, paths), spec)
    return np.abs(fastai - levels(bundle_pixels(paths, spec), spec))


def untrained_learner(folder: Path, item_tfms, batch_tfms=None):
    """An untrained resnet18 Learner over two labels of photos: only its transforms matter."""
    from fastai.vision.all import ImageDataLoaders, resnet18, vision_learner

    for label in ("a", "b"):
        write_photos(folder / label, PHOTO_SIZES[:3], seed=100 if label == "a" else 200)
    dls = ImageDataLoaders.from_folder(
        folder, valid_pct=0.5, seed=0, bs=2, num_workers=0, item_tfms=item_tfms,
        batch_tfms=batch_tfms,
    )  # fmt: skip
    return vision_learner(dls, resnet18, pretrained=False)


def main() -> int:  # pragma: no cover - a measurement to read, not a test
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from fastai.vision.all import Resize, aug_transforms

    from training.fastai_import import validation_transform

    cases = {
        "Resize(224, squish)": (Resize(224, method="squish"), None),
        "Resize(224) (crop, fastai's default)": (Resize(224), None),
        "Resize(128) (crop)": (Resize(128), None),
        "Resize(224, pad, zeros)": (Resize(224, method="pad", pad_mode="zeros"), None),
        "Resize(460) + aug_transforms(size=224, min_scale=0.75)": (
            Resize(460), aug_transforms(size=224, min_scale=0.75)),
        "Resize(460) + aug_transforms(size=224)": (Resize(460), aug_transforms(size=224)),
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        photos = write_photos(Path(tmp) / "photos")
        print(f"{len(photos)} photo-like JPEGs, {PHOTO_SIZES[-1]} to {PHOTO_SIZES[14]} pixels")
        for i, (name, (item, batch)) in enumerate(cases.items()):
            learn = untrained_learner(Path(tmp) / f"data{i}", item, batch)
            spec = validation_transform(learn, Path("export.pkl"), echo=lambda _: None)
            diff = pixel_differences(learn, photos, spec)
            worst = diff.reshape(len(photos), -1).max(1)
            print(
                f"{name}: bundle {spec['resize']} {spec['size']}; max {diff.max():.1f}/255, "
                f"mean {diff.mean():.2f}/255, 99.9th percentile "
                f"{np.percentile(diff, 99.9):.1f}/255, images differing {(worst > 0.5).sum()}"
                f"/{len(photos)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
