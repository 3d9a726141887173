"""demos.runtime: bundle validation, the contract's preprocessing, both backends."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from bundle_factory import DROP, LABELS, MEAN, STD, export_onnx
from PIL import Image

from demos import runtime, torch_backend


@pytest.fixture(scope="module")
def onnx_model(tiny_bundle):
    return runtime.load(tiny_bundle)


@pytest.fixture(scope="module")
def torch_model(tiny_bundle):
    return torch_backend.load(tiny_bundle)


def test_metadata(onnx_model, tiny_bundle):
    assert onnx_model.name == "colours"
    assert onnx_model.title == "Colours"
    assert onnx_model.labels == LABELS
    assert onnx_model.metrics["n_valid"] == 30
    assert onnx_model.post is None
    assert [label for _, label in onnx_model.examples] == LABELS
    assert all(
        path.is_file() and path.parent == tiny_bundle / "examples"
        for path, _ in onnx_model.examples
    )


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_examples_are_classified(backend, onnx_model, torch_model):
    model = onnx_model if backend == "onnx" else torch_model
    for path, label in model.examples:
        probs = model.predict(path)
        assert list(probs) == LABELS
        assert sum(probs.values()) == pytest.approx(1.0)
        assert max(probs, key=probs.get) == label
        assert probs[label] > 0.9


def _digits_images():
    """Real photos would need a download; scikit-learn's bundled digits are real scans."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return [Image.fromarray((digits.images[i] * 16).astype(np.uint8), "L") for i in range(6)]


def test_backends_agree(onnx_model, torch_model, valid_images):
    """ONNX Runtime and PyTorch (safetensors) give the same probabilities on real inputs."""
    inputs = [path for path, _ in onnx_model.examples]
    inputs += [path for path, _ in valid_images.values()]
    inputs += _digits_images()
    for image in inputs:
        a, b = onnx_model.predict(image), torch_model.predict(image)
        assert np.allclose(list(a.values()), list(b.values()), atol=1e-4, rtol=0), image


@pytest.mark.parametrize("resize", ["squish", "crop", "pad"])
def test_backends_agree_for_every_resize(resize, make_bundle, tmp_path):
    folder = make_bundle(tmp_path, input={"resize": resize})
    onnx_model, torch_model = runtime.load(folder), torch_backend.load(folder)
    for image in _digits_images()[:3]:
        a, b = onnx_model.predict(image), torch_model.predict(image)
        assert np.allclose(list(a.values()), list(b.values()), atol=1e-4, rtol=0)


# --- preprocessing: the contract's "Preprocessing" section -----------------------------

SPEC = {"size": [32, 32], "resize": "squish", "mean": MEAN, "std": STD}


def _normalized(rgb):
    return (np.array(rgb, dtype=np.float32) / 255 - np.float32(MEAN)) / np.float32(STD)


def test_preprocess_matches_torchvision_validation_transform():
    """An independent implementation: torchvision's PIL resize, to_tensor and normalize."""
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as F

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8))
    spec = {**SPEC, "size": [24, 40]}
    ours = runtime.preprocess(image, spec)
    resized = F.resize(image, [24, 40], interpolation=InterpolationMode.BILINEAR)
    reference = F.normalize(F.to_tensor(resized), MEAN, STD)
    assert ours.shape == (3, 24, 40) and ours.dtype == np.float32
    assert torch.allclose(torch.from_numpy(ours), reference, atol=1e-6)


def test_squish_keeps_a_solid_colour_exact():
    x = runtime.preprocess(Image.new("RGB", (90, 20), (200, 100, 50)), SPEC)
    assert np.allclose(x, _normalized((200, 100, 50))[:, None, None], atol=1e-6)


def test_crop_keeps_the_centre_box():
    # 90x30: red | green | blue thirds; the centred 30x30 square is the green third (the
    # outermost output columns may blend in a little of the neighbours, as bilinear does).
    image = Image.new("RGB", (90, 30), (255, 0, 0))
    image.paste((0, 255, 0), (30, 0, 60, 30))
    image.paste((0, 0, 255), (60, 0, 90, 30))
    x = runtime.preprocess(image, {**SPEC, "resize": "crop"})
    assert x.shape == (3, 32, 32)
    assert np.allclose(x[:, :, 2:-2], _normalized((0, 255, 0))[:, None, None], atol=1e-6)
    # Tall images lose the top and bottom instead.
    tall = Image.new("RGB", (30, 90), (255, 0, 0))
    tall.paste((0, 0, 255), (0, 30, 30, 60))
    x = runtime.preprocess(tall, {**SPEC, "resize": "crop"})
    assert np.allclose(x[:, 2:-2, :], _normalized((0, 0, 255))[:, None, None], atol=1e-6)


def test_pad_centres_on_black():
    x = runtime.preprocess(Image.new("RGB", (64, 32), (255, 255, 255)), {**SPEC, "resize": "pad"})
    black, white = _normalized((0, 0, 0)), _normalized((255, 255, 255))
    assert np.allclose(x[:, :8, :], black[:, None, None], atol=1e-6)
    assert np.allclose(x[:, 24:, :], black[:, None, None], atol=1e-6)
    assert np.allclose(x[:, 8:24, :], white[:, None, None], atol=1e-6)


# --- step 1: opening and converting to RGB ---------------------------------------------


def test_sixteen_bit_is_scaled_not_clipped():
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    rgb = runtime.open_image(_png_bytes(Image.fromarray(values)))
    assert np.asarray(rgb)[0, :, 0].tolist() == [0, 1, 128, 255]
    floats = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), "F")
    assert np.asarray(runtime.to_rgb(floats))[0, :, 1].tolist() == [0, 128, 255]


def _png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_transparency_is_composited_on_white():
    rgba = Image.new("RGBA", (2, 1), (255, 0, 0, 255))
    rgba.putpixel((1, 0), (0, 0, 0, 0))
    assert np.asarray(runtime.to_rgb(rgba)).tolist() == [[[255, 0, 0], [255, 255, 255]]]
    la = Image.new("LA", (1, 1), (0, 0))
    assert runtime.to_rgb(la).getpixel((0, 0)) == (255, 255, 255)
    palette = Image.new("P", (1, 1), 0)
    palette.info["transparency"] = 0
    assert runtime.to_rgb(palette).getpixel((0, 0)) == (255, 255, 255)


def test_every_valid_kind_opens_as_rgb(valid_images):
    for case, (path, _) in valid_images.items():
        image = runtime.open_image(path)
        assert image.mode == "RGB", case
    # EXIF orientation 6 turns the stored 64x40 landscape into a 40x64 portrait.
    assert runtime.open_image(valid_images["exif_rotated"][0]).size == (40, 64)
    # The first frame of the GIF is red, the later ones blue.
    r, _, b = runtime.open_image(valid_images["animated"][0]).getpixel((5, 5))
    assert r > 150 and b < 100


def test_open_image_accepts_files_bytes_and_pil(valid_images):
    path = valid_images["rgba"][0]
    with open(path, "rb") as file:
        from_file = runtime.open_image(file)
    from_bytes = runtime.open_image(path.read_bytes())
    from_pil = runtime.open_image(Image.open(path))
    assert np.array_equal(np.asarray(from_file), np.asarray(from_bytes))
    assert np.array_equal(np.asarray(from_file), np.asarray(from_pil))


# demos.runtime turns this warning into an error at import; pytest resets warning filters
# for each test, so restore that here (open_image also checks the size itself).
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_bad_images_raise_short_messages(bad_images):
    for case, (path, phrase) in bad_images.items():
        with pytest.raises(runtime.BadImage) as caught:
            runtime.open_image(path)
        message = str(caught.value)
        assert phrase in message, case
        assert path.name in message, case
        assert len(message) < 200 and "Traceback" not in message, case


# --- bundle validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "file", "field"),
    [
        ({"format": "model-bundle/9"}, "model.json", "'format'"),
        ({"labels": DROP}, "model.json", "'labels'"),
        ({"labels": ["a", "b"]}, "model.json", "'architecture.num_classes'"),
        ({"labels": ["a", "a", "b"]}, "model.json", "'labels'"),
        ({"task": "segmentation"}, "model.json", "'task'"),
        ({"input": {"resize": "stretch"}}, "model.json", "'input.resize'"),
        ({"input": {"size": [32]}}, "model.json", "'input.size'"),
        ({"input": {"std": [0.2, 0, 0.2]}}, "model.json", "'input.std'"),
        ({"onnx": {"input": "pixels"}}, "model.json", "'onnx.input'"),
        ({"onnx": {"output": "probs"}}, "model.json", "'onnx.output'"),
        ({"input": {"size": [64, 64]}}, "model.json", "'input.size'"),
        (
            {"examples": [{"file": "examples/gone.png", "label": "red"}]},
            "model.json",
            "'examples[0].file'",
        ),
    ],
)
def test_broken_model_json_names_file_and_field(overrides, file, field, make_bundle, tmp_path):
    folder = make_bundle(tmp_path, **overrides)
    with pytest.raises(runtime.BundleError) as caught:
        runtime.load(folder)
    assert str(folder / file) in str(caught.value)
    assert field in str(caught.value)


def test_labels_that_do_not_match_the_onnx_output(make_bundle, tmp_path):
    folder = make_bundle(
        tmp_path, labels=["red", "green", "blue", "pink"], architecture={"num_classes": 4}
    )
    with pytest.raises(
        runtime.BundleError,
        match=r"model\.json: field 'labels'.*4 names.*"
        r"model\.onnx outputs shape \[1, 3\]",
    ):
        runtime.load(folder)
    with pytest.raises(runtime.BundleError, match=r"model\.safetensors.*doesn't match"):
        torch_backend.load(folder)


@pytest.mark.parametrize(
    ("remove", "backend", "missing"),
    [
        ("model.onnx", "onnx", "model.onnx"),
        ("model.safetensors", "torch", "model.safetensors"),
        ("model.json", "onnx", "model.json"),
    ],
)
def test_missing_files(remove, backend, missing, make_bundle, tmp_path):
    folder = make_bundle(tmp_path, remove=(remove,))
    load = torch_backend.load if backend == "torch" else runtime.load
    with pytest.raises(runtime.BundleError, match="missing") as caught:
        load(folder)
    assert str(folder / missing) in str(caught.value)


def test_unreadable_files(make_bundle, tmp_path):
    folder = make_bundle(tmp_path, onnx_bytes=b"not a protobuf")
    with pytest.raises(runtime.BundleError, match=r"model\.onnx: is not a valid ONNX model"):
        runtime.load(folder)
    (folder / "model.json").write_text('{"format": "model-bundle/1",')
    with pytest.raises(runtime.BundleError, match=r"model\.json: not valid JSON \(line 1"):
        runtime.load(folder)
    with pytest.raises(runtime.BundleError, match="no such bundle folder"):
        runtime.load(tmp_path / "nowhere")
    with pytest.raises(runtime.BundleError, match="unknown backend"):
        runtime.load(folder, backend="tensorflow")
    # The Space's runtime has no PyTorch backend of its own: it names the way to it.
    with pytest.raises(runtime.BundleError, match=r"demos\.torch_backend\.load"):
        runtime.load(folder, backend="torch")


def test_torchvision_architecture(make_bundle, tmp_path):
    """A torchvision name is rebuilt with get_model(name, weights=None, num_classes=N)."""
    import torch
    import torchvision
    from safetensors.torch import save_file

    torch.manual_seed(0)
    network = torchvision.models.get_model("resnet18", weights=None, num_classes=3).eval()
    onnx_file = tmp_path / "resnet.onnx"
    export_onnx(network, str(onnx_file))
    folder = make_bundle(
        tmp_path,
        architecture={"name": "resnet18", "num_classes": 3},
        onnx_bytes=onnx_file.read_bytes(),
    )
    save_file(network.state_dict(), str(folder / "model.safetensors"))
    a = runtime.load(folder).predict(folder / "examples" / "red_0.png")
    b = torch_backend.load(folder).predict(folder / "examples" / "red_0.png")
    assert np.allclose(list(a.values()), list(b.values()), atol=1e-4, rtol=0)
    meta = json.loads((folder / "model.json").read_text())
    meta["architecture"]["name"] = "resnet_nine_thousand"
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(runtime.BundleError, match=re.escape("'architecture.name'")):
        torch_backend.load(folder)


# ---------------------------------------------------------------------------------------
# Sizing for a link shared with a class


def test_queue_and_concurrency_are_sized_for_a_class(tiny_bundle):
    """A burst of a few hundred visitors waits in the queue instead of being refused
    ("Queue is full" at the old 16); one prediction per CPU runs at once, whichever
    event (API, button, upload) it comes from; ONNX Runtime runs each on one thread."""
    assert runtime.QUEUE_SIZE == 200
    assert runtime.CONCURRENCY == runtime.CPUS == runtime.cpu_count() >= 1
    assert runtime.ONNX_THREADS == 1
    app = runtime.build_app(runtime.load(tiny_bundle))
    assert app._queue.max_size == 200
    assert app._queue.default_concurrency_limit == runtime.CONCURRENCY
    queued = [fn for fn in app.fns.values() if fn.queue]
    assert len(queued) == 3  # the API, the button and the upload
    assert {fn.concurrency_id for fn in queued} == {"predict"}
    assert {fn.concurrency_limit for fn in queued} == {"default"}  # the queue's, above


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0),
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu.max": "garbage"}, None),
        ({}, None),
    ],
)
def test_cgroup_cpu_quota(files, expected, tmp_path):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert runtime._cgroup_cpu_quota(tmp_path) == expected


def test_cpu_count_follows_the_container_quota(monkeypatch):
    """A 2-vCPU container on a 64-core host (a free Space) runs 2 predictions at once."""
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 64)
    if hasattr(runtime.os, "sched_getaffinity"):
        monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: set(range(64)))
    monkeypatch.setattr(runtime, "_cgroup_cpu_quota", lambda: 2.0)
    assert runtime.cpu_count() == 2
    monkeypatch.setattr(runtime, "_cgroup_cpu_quota", lambda: 1.5)
    assert runtime.cpu_count() == 2
    monkeypatch.setattr(runtime, "_cgroup_cpu_quota", lambda: 0.5)
    assert runtime.cpu_count() == 1
    monkeypatch.setattr(runtime, "_cgroup_cpu_quota", lambda: None)
    assert runtime.cpu_count() == 64
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: None)
    assert runtime.cpu_count() == 1


def test_page_message_escapes_the_file_name():
    name = '"<img src=x onerror=alert(1)>${x}{{y}}.png" is empty'
    html = runtime._message_html(runtime.BAD_IMAGE_TITLE, name)
    assert "<img" not in html and "${" not in html and "{{" not in html
    assert "Can&#x27;t use this image" in html and 'role="alert"' in html
