"""demos/web/preprocess.mjs (the in-browser demo's preprocessing) against demos/runtime.py.

Odd images (CMYK JPEG, 16-bit PNG, partial transparency, EXIF rotations, an animated GIF,
1x1, a palette with a transparent colour, every alpha value) and random-size ones for each
resize method are made with Pillow. For each, the fixture folder gets the RGBA bytes a
browser decodes, the `input` spec, and what Python makes of the same file: the uint8 image
after the resize and the float32 tensor from `preprocess`. tests/demos/web/preprocess.test.mjs
(node's own test runner) then checks the JavaScript against them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import PIL
import pytest
from image_corpus import valid_images
from PIL import Image, ImageOps

from demos import runtime

ROOT = Path(__file__).resolve().parents[2]
NODE_TEST = ROOT / "tests" / "demos" / "web" / "preprocess.test.mjs"

IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
HALVES = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
NARROW = {"mean": [0.1, 0.2, 0.3], "std": [0.05, 0.1, 0.2]}
NORMS = (IMAGENET, HALVES, NARROW)
SIZES = ([16, 16], [224, 224], [30, 50])
METHODS = ("squish", "crop", "pad")
RANDOM_PER_METHOD = 30
# Thin images: the two over 100 times taller than wide take Pillow's vertical-first path;
# 300x1 can't be padded to a square (Pillow refuses a 16x0 resize).
THIN = ((1, 300), (2, 255), (3, 290), (300, 1), (250, 2), (1, 1))
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def _texture(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Noise over gradients: every resize weight shows in the result."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) * 7 % 256], -1
    )
    noise = rng.integers(-60, 61, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _odd_images(folder: Path, rng: np.random.Generator) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def save(name: str, image: Image.Image, **kwargs) -> None:
        paths[name] = folder / name
        image.save(paths[name], **kwargs)

    rgb = Image.fromarray(_texture(rng, 64, 48))
    save("cmyk.jpg", rgb.convert("CMYK"), quality=92)
    ramp = np.linspace(0, 65535, 57 * 41).reshape(41, 57) + rng.integers(-900, 900, (41, 57))
    save("sixteen_bit.png", Image.fromarray(np.clip(ramp, 0, 65535).astype(np.uint16)))
    alpha = rng.integers(0, 256, (33, 45), dtype=np.uint8)
    alpha[:, :8] = 0  # fully transparent strip, colour bytes left as noise
    alpha[:, -8:] = 255
    rgba = np.dstack([_texture(rng, 45, 33), alpha])
    save("rgba_partial.png", Image.fromarray(rgba, "RGBA"))
    for orientation in (6, 3):
        exif = Image.Exif()
        exif[0x0112] = orientation
        stored = Image.fromarray(_texture(rng, 40, 24))
        save(f"exif_{orientation}.jpg", stored, exif=exif.tobytes(), quality=95)
    frames = [
        Image.fromarray(_texture(rng, 31, 29)).convert("P", palette=Image.ADAPTIVE)
        for _ in range(3)
    ]
    save("animated.gif", frames[0], save_all=True, append_images=frames[1:], duration=60)
    save("one_pixel.png", Image.new("RGB", (1, 1), (200, 30, 90)))
    save("one_pixel_rgba.png", Image.new("RGBA", (1, 1), (200, 30, 90, 100)))
    palette = Image.fromarray(_texture(rng, 37, 26)).quantize(colors=16)
    save("palette_transparent.png", palette, transparency=3)
    la = np.dstack([_texture(rng, 23, 35)[..., 0], rng.integers(0, 256, (35, 23))])
    save("la.png", Image.fromarray(la.astype(np.uint8), "LA"))
    # Every (colour, alpha) pair: the composite on white, value for value.
    v, a = np.mgrid[0:256, 0:256]
    sweep = np.stack([v, 255 - v, v ^ 0x55, a], -1).astype(np.uint8)
    save("alpha_sweep.png", Image.fromarray(sweep, "RGBA"))
    return paths


def _random_images(folder: Path, rng: np.random.Generator) -> list[tuple[Path, str]]:
    """[(path, resize method)]: sizes 1..300 a side, every third one with alpha."""
    folder.mkdir(parents=True, exist_ok=True)
    images = []
    for method in METHODS:
        for i in range(RANDOM_PER_METHOD):
            width, height = (int(v) for v in rng.integers(1, 301, 2))
            pixels = _texture(rng, width, height)
            if i % 3 == 2:
                alpha = rng.integers(0, 256, (height, width, 1), dtype=np.uint8)
                image = Image.fromarray(np.concatenate([pixels, alpha], -1), "RGBA")
            else:
                image = Image.fromarray(pixels)
            path = folder / f"{method}_{i:02d}_{width}x{height}.png"
            image.save(path)
            images.append((path, method))
        for width, height in THIN:
            path = folder / f"thin_{width}x{height}.png"
            if not path.exists():
                Image.fromarray(_texture(rng, width, height)).save(path)
            images.append((path, method))
    return images


def _browser_rgba(path: Path) -> Image.Image:
    """The RGBA a browser decodes: oriented, first frame, alpha kept where Python has it."""
    with Image.open(path) as image:
        image.seek(0)
        image.load()
        oriented = ImageOps.exif_transpose(image)
    mode = oriented.mode
    if mode in ALPHA_MODES or (mode == "P" and "transparency" in oriented.info):
        return oriented.convert("RGBA")
    # No alpha: whatever Pillow makes of it (CMYK, 16-bit, palette) with alpha 255.
    return runtime.open_image(path).convert("RGBA")


def _resized(image: Image.Image, spec: dict) -> Image.Image:
    """demos.runtime.preprocess's resize branch: the uint8 image it normalises."""
    height, width = spec["size"]
    if spec["resize"] == "squish":
        return image.resize((width, height), Image.BILINEAR)
    if spec["resize"] == "crop":
        return ImageOps.fit(image, (width, height), method=Image.BILINEAR)
    return ImageOps.pad(image, (width, height), method=Image.BILINEAR, color=(0, 0, 0))


def _build_fixtures(folder: Path) -> dict[str, int]:
    rng = np.random.default_rng(20240607)
    entries: list[tuple[str, str, Path, dict]] = []  # kind, name, path, spec
    for i, (name, path) in enumerate(_odd_images(folder / "odd", rng).items()):
        if name == "alpha_sweep.png":  # same size: the resize is a copy, the composite shows
            entries.append(("odd", name, path, {"size": [256, 256], "resize": "squish"} | HALVES))
            continue
        for j, method in enumerate(METHODS):
            size = SIZES[(i + j) % len(SIZES)]
            spec = {"size": size, "resize": method} | NORMS[(i + j) % len(NORMS)]
            entries.append(("odd", f"{name} {method}", path, spec))
    corpus = valid_images(folder / "corpus")
    for i, (name, (path, _label)) in enumerate(sorted(corpus.items())):
        spec = {"size": SIZES[i % len(SIZES)], "resize": METHODS[i % 3]} | IMAGENET
        entries.append(("corpus", name, path, spec))
    for i, (path, method) in enumerate(_random_images(folder / "random", rng)):
        spec = {"size": SIZES[i % len(SIZES)], "resize": method} | NORMS[i % len(NORMS)]
        entries.append((f"random {method}", path.stem, path, spec))

    cases = []
    counts: dict[str, int] = {}
    for n, (kind, name, path, spec) in enumerate(entries):
        rgba = _browser_rgba(path)
        case = {
            "kind": kind,
            "name": name,
            "width": rgba.width,
            "height": rgba.height,
            "input": spec,
            "rgba": f"{n:03d}.rgba",
        }
        (folder / case["rgba"]).write_bytes(rgba.tobytes())
        image = runtime.open_image(path)
        try:
            tensor = runtime.preprocess(image, spec)
        except ValueError as error:  # e.g. a 300x1 image padded to a square
            case["error"] = str(error)
        else:
            resized = np.asarray(_resized(image, spec))
            assert resized.shape == (*spec["size"], 3)
            # The replica above is preprocess's own resize: normalising it gives its tensor.
            again = (resized.astype(np.float32) / np.float32(255) - np.float32(spec["mean"])) / (
                np.float32(spec["std"])
            )
            np.testing.assert_array_equal(again.transpose(2, 0, 1), tensor)
            case["expected_rgb"] = f"{n:03d}.rgb"
            case["expected_tensor"] = f"{n:03d}.f32"
            (folder / case["expected_rgb"]).write_bytes(resized.tobytes())
            (folder / case["expected_tensor"]).write_bytes(tensor.astype("<f4").tobytes())
        cases.append(case)
        counts[kind] = counts.get(kind, 0) + 1
    # Pillow 12 (and numpy's float32 arithmetic) are reproduced bit for bit; a difference
    # means some rounding detail drifted: require none.
    exact = PIL.__version__.split(".")[0] == "12"  # the version this was checked against
    manifest = {"exact": exact, "pillow": PIL.__version__, "cases": cases}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return counts


def test_web_preprocess_matches_python(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH; the browser preprocessing test runs under Node")
    folder = tmp_path / "fixtures"
    counts = _build_fixtures(folder)
    assert counts["odd"] >= 25 and all(counts[f"random {m}"] >= RANDOM_PER_METHOD for m in METHODS)
    cases = json.loads((folder / "manifest.json").read_text())["cases"]
    assert any("error" in case for case in cases)  # the JS must refuse what Python refuses

    result = subprocess.run(
        [node, "--test", str(NODE_TEST)],
        cwd=ROOT,
        env={**os.environ, "PREPROCESS_FIXTURES": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test failed:\n{output[-20000:]}"
    # The per-kind agreement (shown with pytest -s or -rP).
    print("\n".join(line for line in output.splitlines() if " identical; uint8 " in line))
