"""Generated test images: the awkward-but-valid kinds and the bad inputs of issue 4.

Everything is made with Pillow (and numpy) into a folder at test time; no binary files
live in the repository.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

RED = (220, 40, 40)
BLUE = (40, 60, 220)


def _solid(colour, size=(48, 40)) -> Image.Image:
    return Image.new("RGB", size, colour)


def valid_images(folder: Path) -> dict[str, tuple[Path, str | None]]:
    """{case: (path, expected label or None when any label will do)}: unusual but valid."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[Path, str | None]] = {}

    def save(name, image, label, **kwargs):
        path = folder / name
        image.save(path, **kwargs)
        cases[path.stem] = (path, label)

    save("grayscale.png", _solid(RED).convert("L"), None)
    rgba = Image.new("RGBA", (48, 40), (*RED, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 10, 40))  # a transparent strip, composited on white
    save("rgba.png", rgba, "red")
    save("palette.png", _solid(BLUE).convert("P", palette=Image.ADAPTIVE, colors=8), "blue")
    save("cmyk.jpg", _solid(RED).convert("CMYK"), "red", quality=95)
    sixteen = Image.fromarray(np.full((40, 48), 40000, dtype=np.uint16))
    save("sixteen_bit.png", sixteen, None)
    # EXIF orientation 6 (rotate 90 degrees clockwise on display): stored 40x64 landscape.
    rotated = _solid(RED, (64, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    save("exif_rotated.jpg", rotated, "red", exif=exif.tobytes(), quality=95)
    frames = [_solid(RED), _solid(BLUE), _solid(BLUE)]
    save("animated.gif", frames[0], "red", save_all=True, append_images=frames[1:], duration=80)
    save("large_photo.jpg", _solid(BLUE, (3000, 2000)), "blue", quality=80)
    return cases


def bad_images(folder: Path) -> dict[str, tuple[Path, str]]:
    """{case: (path, a phrase the user-facing error must contain)}."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[Path, str]] = {}

    text = folder / "notes.png"
    text.write_text("these are my notes, not a picture\n")
    cases["text_named_png"] = (text, "not an image")

    empty = folder / "empty.png"
    empty.write_bytes(b"")
    cases["zero_bytes"] = (empty, "empty")

    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "JPEG", quality=90)
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    cases["truncated_jpeg"] = (truncated, "truncated")

    # A decompression bomb: a few kB of PNG that decode to 60 megapixels, between Pillow's
    # warning and error thresholds for the lowered limit (1-bit keeps the test cheap).
    bomb = folder / "bomb.png"
    Image.new("1", (10_000, 6_000)).save(bomb, optimize=True)
    cases["decompression_bomb"] = (bomb, "too large")

    huge = folder / "huge.png"
    Image.new("1", (20_000, 20_000)).save(huge)
    cases["20000x20000"] = (huge, "too large")
    return cases
