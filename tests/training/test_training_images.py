"""The contract's validation transform: opening, converting and resizing images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training.images import BadImage, normalize, open_rgb, preprocess, resize


def test_modes_are_converted_to_rgb(tmp_path):
    cases = {
        "gray.png": Image.new("L", (4, 3), 128),
        "rgba.png": Image.new("RGBA", (4, 3), (255, 0, 0, 0)),  # fully transparent red
        "cmyk.jpg": Image.new("CMYK", (4, 3), (0, 255, 255, 0)),
        "palette.gif": Image.new("P", (4, 3), 5),
        "deep.png": Image.fromarray(np.full((3, 4), 65535, np.uint16)),  # 16-bit white
    }
    for name, image in cases.items():
        image.save(tmp_path / name)
    # Float images (TIFF) in 0-1 are scaled to 0-255, not clipped to black.
    Image.fromarray(np.full((3, 4), 0.5, np.float32), "F").save(tmp_path / "float.tif")
    assert open_rgb(tmp_path / "float.tif").getpixel((0, 0)) == (128, 128, 128)
    for name in cases:
        rgb = open_rgb(tmp_path / name)
        assert rgb.mode == "RGB" and rgb.size == (4, 3), name
    # Transparent pixels are composited on white, 16-bit values are scaled (not clipped).
    assert open_rgb(tmp_path / "rgba.png").getpixel((0, 0)) == (255, 255, 255)
    assert open_rgb(tmp_path / "deep.png").getpixel((0, 0)) == (255, 255, 255)
    assert open_rgb(tmp_path / "gray.png").getpixel((0, 0)) == (128, 128, 128)


def test_half_transparent_is_blended_on_white(tmp_path):
    Image.new("RGBA", (2, 2), (0, 0, 0, 128)).save(tmp_path / "half.png")
    value = open_rgb(tmp_path / "half.png").getpixel((0, 0))[0]
    assert 120 <= value <= 130


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (6, 2), (0, 0, 0))
    image.putpixel((0, 0), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    image.save(tmp_path / "rotated.jpg", exif=exif, quality=100)
    shown = open_rgb(tmp_path / "rotated.jpg")
    assert shown.size == (2, 6)


def test_bad_files_raise_bad_image(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    Image.new("RGB", (64, 64), (9, 99, 199)).save(tmp_path / "ok.jpg")
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    for name in ("empty.jpg", "text.png", "cut.jpg"):
        with pytest.raises(BadImage):
            open_rgb(tmp_path / name)
    with pytest.raises(BadImage, match="empty"):
        open_rgb(tmp_path / "empty.jpg")


def test_resize_methods():
    image = Image.new("RGB", (40, 20), (255, 255, 255))
    assert resize(image, (10, 12), "squish").size == (12, 10)
    assert resize(image, (10, 10), "crop").size == (10, 10)
    padded = np.asarray(resize(image, (10, 10), "pad"))
    # A 2:1 white image fitted into a square: black bands above and below.
    assert padded.shape == (10, 10, 3)
    assert padded[0].max() == 0 and padded[-1].max() == 0 and padded[5].min() == 255
    # crop keeps the centre: a left-half-black image loses its outer edges equally.
    half = np.zeros((20, 40, 3), np.uint8)
    half[:, 20:] = 255
    cropped = np.asarray(resize(Image.fromarray(half), (20, 20), "crop"))
    assert cropped[:, :8].max() == 0 and cropped[:, 12:].min() == 255
    with pytest.raises(ValueError, match="squish, crop, pad"):
        resize(image, (10, 10), "stretch")


def test_preprocess_is_bilinear_resize_then_imagenet_normalization(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)).save(tmp_path / "x.png")
    x = preprocess(tmp_path / "x.png", (16, 16), "squish")
    expected = (
        np.asarray(Image.open(tmp_path / "x.png").resize((16, 16), Image.BILINEAR), np.float32)
        / 255
    )
    expected = (expected - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    assert x.shape == (3, 16, 16) and x.dtype == np.float32
    np.testing.assert_allclose(x, expected.transpose(2, 0, 1), atol=1e-6)
    assert normalize(np.zeros((2, 2, 3), np.uint8)).shape == (3, 2, 2)


def test_fast_jpeg_decoding_keeps_enough_pixels_and_still_checks(tmp_path):
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8).repeat(20, 0).repeat(20, 1)
    Image.fromarray(big).save(tmp_path / "photo.jpg", quality=90)  # 1280x960
    full = open_rgb(tmp_path / "photo.jpg")
    fast = open_rgb(tmp_path / "photo.jpg", at_least=200)
    assert full.size == (1280, 960)
    assert min(fast.size) >= 200 and fast.size[0] < 1280  # decoded at a reduced scale
    a = np.asarray(resize(full, (50, 50), "crop"), np.float32)
    b = np.asarray(resize(fast, (50, 50), "crop"), np.float32)
    assert np.abs(a - b).mean() < 8  # the same picture
    data = (tmp_path / "photo.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadImage):
        open_rgb(tmp_path / "cut.jpg", at_least=200)
