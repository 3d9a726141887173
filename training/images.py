"""Opening images the way the bundle contract says (models/README.md, "Preprocessing").

`open_rgb` + `resize` + `normalize` are the validation transform; the demos package
implements the same steps on its own, so any change here is a change of the contract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

RESIZE_METHODS = ("squish", "crop", "pad")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BadImage(Exception):
    """An image file that can't be used; the message says why."""


def to_rgb(image: Image.Image) -> Image.Image:
    """Grayscale, palette, RGBA (on white), CMYK and 16-bit images as 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Pillow's convert("L") clips 16-bit values instead of scaling them: scale by hand.
        pixels = np.nan_to_num(np.asarray(image, dtype=np.float64))
        peak = pixels.max() if pixels.size else 0.0
        top = 65535.0 if image.mode.startswith("I;16") or peak > 255 else 255.0
        if image.mode == "F" and peak <= 1.0:
            top = 1.0  # float images up to 1.0 are taken as 0-1
        image = Image.fromarray(np.clip(pixels / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB") if image.mode != "RGB" else image


def open_rgb(path: str | Path, at_least: int | None = None) -> Image.Image:
    """Decode a whole image file (EXIF-rotated, first frame, RGB), or raise BadImage.

    `at_least` (training images only, never the validation transform): let JPEG decoding
    skip detail, down to a size still at least `at_least` pixels on both sides. A 12 MP
    photo then decodes about 8x faster; the whole file is still read and checked.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise BadImage("the file is empty (0 bytes)")
        with Image.open(path) as image:
            image.seek(0)
            if at_least and image.format == "JPEG":
                image.draft(image.mode, (at_least, at_least))
            image.load()  # decodes every pixel, so a truncated file fails here, not in epoch 3
            try:
                oriented = ImageOps.exif_transpose(image)
            except Exception:  # a broken EXIF block shouldn't lose the picture (demos agree)
                oriented = image.copy()
            return to_rgb(oriented)
    except BadImage:
        raise
    except Image.DecompressionBombError as error:
        raise BadImage(f"the image is too large to open safely ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow reports unknown formats and truncated data as OSError (or rarely others).
        raise BadImage(str(error) or type(error).__name__) from None


def resize(image: Image.Image, size: tuple[int, int], method: str) -> Image.Image:
    """Resize to `size` = (height, width) with bilinear filtering: squish, crop or pad."""
    height, width = size
    if method == "squish":
        return image.resize((width, height), Image.BILINEAR)
    if method == "crop":
        # The largest centred box with the target aspect ratio, resized to the target.
        return ImageOps.fit(image, (width, height), method=Image.BILINEAR)
    if method == "pad":
        # Fit inside keeping the aspect ratio, then centre on a black canvas.
        return ImageOps.pad(image, (width, height), method=Image.BILINEAR, color=(0, 0, 0))
    raise ValueError(f"unknown resize method {method!r}; choose one of {', '.join(RESIZE_METHODS)}")


def normalize(pixels: np.ndarray, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> np.ndarray:
    """uint8 HWC RGB -> float32 CHW, scaled to 0-1 and normalized per channel."""
    x = pixels.astype(np.float32) / 255.0
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def preprocess(
    path: str | Path, size: tuple[int, int], method: str, mean=IMAGENET_MEAN, std=IMAGENET_STD
) -> np.ndarray:
    """The whole validation transform of the contract: a file to a float32 CHW array."""
    return normalize(np.asarray(resize(open_rgb(path), size, method)), mean, std)
