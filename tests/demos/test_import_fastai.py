"""`demos import-fastai`: a real fastai learner, exported with learn.export(), becomes a bundle.

fastai is the optional `bench` extra; the tests that need it skip without it. The bundle
is then loaded by the demo runtime, and its predictions are compared with fastai's own
validation pipeline (`learn.dls.test_dl`) on the same images.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

from demos import runtime
from demos.cli import main as cli_main
from demos.fastai_import import (
    FastaiImportError,
    describe,
    import_fastai,
    load,
    validation_transform,
    write_bundle,
)

COLOURS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (40, 60, 220)}
SIZE = (24, 40)  # (height, width): not square, so a swapped axis shows


def _image(colour, rng, size):
    h, w = size
    pixels = np.array(COLOURS[colour]) * rng.uniform(0.7, 1.1) + rng.normal(0, 25, (h, w, 3))
    side = min(h, w) // 3
    top, left = rng.integers(0, h - side), rng.integers(0, w - side)
    pixels[top : top + side, left : left + side] = rng.uniform(0, 255)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(export.pkl, the learner, test images): a resnet18 fastai learner trained briefly."""
    pytest.importorskip("fastai", reason="fastai is the optional `bench` extra")
    from fastai.vision.all import (
        ImageDataLoaders,
        Normalize,
        Resize,
        error_rate,
        imagenet_stats,
        resnet18,
        set_seed,
        vision_learner,
    )

    set_seed(0, reproducible=True)  # the same weights every run
    root = tmp_path_factory.mktemp("fastai")
    rng = np.random.default_rng(0)
    for colour in COLOURS:
        (root / "data" / colour).mkdir(parents=True)
        for i in range(10):
            _image(colour, rng, (40, 56)).save(root / "data" / colour / f"{i}.png")
    dls = ImageDataLoaders.from_folder(
        root / "data", valid_pct=0.2, seed=0, bs=8, num_workers=0,
        item_tfms=Resize(SIZE, method="squish"),
        batch_tfms=Normalize.from_stats(*imagenet_stats),
    )  # fmt: skip
    learn = vision_learner(dls, resnet18, pretrained=False, metrics=error_rate)
    learn.fit(1, 1e-3)
    learn.export(root / "export.pkl")
    # Test images of other sizes and shapes than the training ones, plus a grayscale one.
    images = []
    for i, size in enumerate([(60, 30), (31, 77), (24, 40), (100, 100)]):
        path = root / f"test_{i}.png"
        _image(list(COLOURS)[i % 3], rng, size).save(path)
        images.append(path)
    Image.open(images[0]).convert("L").save(root / "test_gray.png")
    images.append(root / "test_gray.png")
    return root / "export.pkl", learn, images


def _fastai_logits(learn, images):
    import torch

    batch = learn.dls.test_dl(images).one_batch()[0]
    with torch.no_grad():
        return learn.model.eval()(batch).numpy()


def _bundle_logits(model, images, spec=None):
    spec = spec or model.meta["input"]
    batch = np.stack([runtime.preprocess(runtime.open_image(p), spec) for p in images])
    return model.logits(batch)


def test_import_writes_a_bundle_that_predicts_like_fastai(exported, tmp_path):
    export, learn, images = exported
    lines = []
    folder = import_fastai(
        export, "colours", trust=True, models=tmp_path, echo=lines.append,
        examples=[export.parent / "data" / "red" / "0.png"],
    )  # fmt: skip
    assert folder == tmp_path / "colours"
    assert [p.name for p in tmp_path.iterdir()] == ["colours"]  # no temporary folder left
    model = runtime.load(folder)  # the ONNX backend, as the demo uses it
    meta = model.meta
    assert meta["labels"] == list(learn.dls.vocab) == ["blue", "green", "red"]
    assert meta["input"]["size"] == list(SIZE) and meta["input"]["resize"] == "squish"
    assert meta["input"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert meta["architecture"]["name"] == "fastai/resnet18"
    assert meta["examples"] == [{"file": "examples/0.png", "label": "red"}]
    assert "fastai" in meta["versions"]

    expected = _fastai_logits(learn, images)
    assert np.allclose(_bundle_logits(model, images), expected, atol=1e-3)
    # The comparison can tell transforms apart: cropping instead of squishing changes it.
    crop = {**meta["input"], "resize": "crop"}
    assert not np.allclose(_bundle_logits(model, images, crop), expected, atol=1e-3)

    # The weights are the learner's, as safetensors.
    from safetensors.numpy import load_file

    weights = load_file(folder / "model.safetensors")
    state = learn.model.state_dict()
    assert set(weights) == set(state)
    for key in ("0.0.weight", "1.8.weight"):
        assert np.array_equal(weights[key], state[key].numpy())


@pytest.mark.parametrize("method", ["crop", "pad"])
def test_other_resize_methods_match_fastai(exported, tmp_path, method):
    export, _, images = exported
    learn = load(export)  # a fresh copy: the Resize transform is changed below
    for loader in learn.dls.loaders:  # each DataLoader holds its own copy of the pipeline
        resize = loader.after_item.fs[0]
        assert type(resize).__name__ == "Resize"
        resize.method, resize.pad_mode = method, "zeros"
    meta = describe(learn, export, "colours")
    assert meta["input"]["resize"] == method and meta["input"]["size"] == list(SIZE)
    model = runtime.load(write_bundle(learn, meta, tmp_path / "colours", echo=print))
    expected = _fastai_logits(learn, images)
    error = np.abs(_bundle_logits(model, images) - expected).max(1)
    # A wrong method as the yardstick: squishing instead of cropping or padding.
    squish = {**model.meta["input"], "resize": "squish"}
    wrong = np.abs(_bundle_logits(model, images, squish) - expected).max(1)
    # Exact for the image with the target's aspect ratio (index 2), where all methods agree.
    assert error[2] < 1e-3
    # Elsewhere the contract and fastai differ by design: the contract crops a fractional
    # box in one resample (fastai truncates the box to whole pixels first) and pads after
    # resizing (fastai before, so black blends into the edge). Still much closer to fastai
    # than a wrong method.
    others = [0, 1, 3, 4]
    assert (error[others] < 0.75 * wrong[others]).all(), (error, wrong)
    if method == "crop":
        assert error.max() < 0.1


def test_reflection_padding_is_imported_with_a_warning(exported):
    export, _, _ = exported
    learn = load(export)
    for loader in learn.dls.loaders:
        loader.after_item.fs[0].method = "pad"  # pad_mode stays fastai's default, reflection
    lines = []
    assert validation_transform(learn, export, echo=lines.append)["resize"] == "pad"
    assert "pads with reflection; bundles pad with black" in lines[0]


def test_refuses_without_trust_and_never_opens_the_file(tmp_path, capsys):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    export = tmp_path / "export.pkl"
    export.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(FastaiImportError, match="refusing to load it without --trust.*runs any"):
        import_fastai(export, "x", models=tmp_path / "models")
    assert cli_main(["import-fastai", str(export), "--name", "x"]) == 2
    assert "--trust" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "models").exists()


def test_a_pickle_that_is_not_a_learner(exported, tmp_path):
    export = tmp_path / "export.pkl"
    import torch

    torch.save({"not": "a learner"}, export)  # the container learn.export() uses
    with pytest.raises(FastaiImportError, match="holds something other than a fastai Learner"):
        import_fastai(export, "x", trust=True, models=tmp_path / "models")
    export.write_bytes(b"garbage")
    with pytest.raises(FastaiImportError, match="could not be loaded as a fastai Learner"):
        import_fastai(export, "x", trust=True, models=tmp_path / "models")


def test_missing_file_and_bad_name(tmp_path):
    with pytest.raises(FastaiImportError, match="nope.pkl: no such file"):
        import_fastai(tmp_path / "nope.pkl", "x", trust=True)
    (tmp_path / "e.pkl").write_bytes(b"")
    with pytest.raises(FastaiImportError, match="--name '../x' must be letters"):
        import_fastai(tmp_path / "e.pkl", "../x", trust=True)


def test_without_fastai_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "fastai", None)
    monkeypatch.setitem(__import__("sys").modules, "fastai.learner", None)
    (tmp_path / "export.pkl").write_bytes(b"")
    with pytest.raises(FastaiImportError, match=r"fastai is not installed.*\[bench\]"):
        import_fastai(tmp_path / "export.pkl", "x", trust=True, models=tmp_path)


@pytest.mark.parametrize("name", ["my bears", ".hidden", "a/b", ""])
def test_names_that_cannot_be_a_demo_are_refused_before_loading(tmp_path, name):
    from demos.fastai_import import FastaiImportError, import_fastai

    export = tmp_path / "export.pkl"
    export.write_bytes(b"not even a pickle")  # never opened: the name is checked first
    with pytest.raises(FastaiImportError, match="--name"):
        import_fastai(export, name, trust=True, models=tmp_path / "models")
