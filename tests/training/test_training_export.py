"""The bundle: contract fields, weights that rebuild without `training`, ONNX == torch,
and an export that never damages the previous bundle."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from training_helpers import make_folder_dataset, tiny_config

import training
from training import bundle as export_mod
from training.images import preprocess


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    root = make_folder_dataset(tmp / "data", per_label=12)
    config = tiny_config(
        tmp, root, epochs=3, title="Colours", description="Three colours.", lr_find=True, tta=True
    )
    return training.train(config, quiet=True), tmp


def _probabilities_from_bundle(bundle, paths):
    """What a demo does, with only the bundle: preprocess per model.json, run ONNX."""
    meta = json.loads((bundle / "model.json").read_text())
    size, method = tuple(meta["input"]["size"]), meta["input"]["resize"]
    x = np.stack(
        [preprocess(p, size, method, meta["input"]["mean"], meta["input"]["std"]) for p in paths]
    )
    session = onnxruntime.InferenceSession(str(bundle / "model.onnx"))
    logits = session.run([meta["onnx"]["output"]], {meta["onnx"]["input"]: x})[0]
    return torch.from_numpy(logits).softmax(1).numpy(), x


def test_bundle_follows_the_contract(trained):
    result, tmp = trained
    bundle = training.export(result, tmp / "models" / "colours")
    meta = json.loads((bundle / "model.json").read_text())
    assert meta["format"] == "model-bundle/1" and meta["task"] == "image-classification"
    assert meta["architecture"] == {"name": "simple_cnn", "num_classes": 3, "widths": [8, 16]}
    assert meta["labels"] == ["blue", "green", "red"]
    assert meta["input"] == {
        "size": [24, 24],
        "resize": "crop",
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
    }
    assert meta["onnx"] == {"input": "image", "output": "logits", "opset": 17}
    assert set(meta["metrics"]) == {"accuracy", "error_rate", "valid_loss", "n_valid"}
    assert meta["metrics"]["n_valid"] == 7 and meta["metrics"]["accuracy"] >= 0.5
    assert meta["recipe"]["recipe"] == "folder" and meta["recipe"]["epochs"] == 3
    assert set(meta["versions"]) == {
        "python",
        "torch",
        "torchvision",
        "onnx",
        "onnxruntime",
        "safetensors",
        "numpy",
        "pillow",
    }
    assert "+" not in meta["versions"]["torch"]
    assert meta["created"].endswith("+00:00")
    assert meta["title"] == "Colours" and meta["description"] == "Three colours."
    assert meta["post"] is None
    for example in meta["examples"]:
        assert (bundle / example["file"]).is_file() and example["label"] in meta["labels"]
    assert {e["label"] for e in meta["examples"]} <= set(meta["labels"])
    report = bundle / "report"
    for name in ("confusion.png", "top_losses.png", "lr_find.png"):
        with Image.open(report / name) as image:
            assert image.size[0] > 100
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["accuracy"] == meta["metrics"]["accuracy"]
    assert set(metrics["per_class"]) == set(meta["labels"])
    assert sum(map(sum, metrics["confusion"]["matrix"])) == 7
    assert "tta_accuracy" in metrics and metrics["lr_find"]["suggestion"] > 0
    assert len(metrics["history"]) == 3
    assert not [p for p in bundle.parent.iterdir() if p.name.startswith(".")]


def test_round_trip_safetensors_and_onnx_agree(trained):
    result, tmp = trained
    bundle = training.export(result, tmp / "models" / "round")
    meta = json.loads((bundle / "model.json").read_text())
    network = export_mod.rebuild(meta["architecture"])
    network.load_state_dict(load_file(str(bundle / "model.safetensors")), strict=True)
    network.eval()
    paths = [bundle / e["file"] for e in meta["examples"]] + result.data.valid.paths
    onnx_probs, x = _probabilities_from_bundle(bundle, paths)
    with torch.no_grad():
        torch_probs = network(torch.from_numpy(x)).softmax(1).numpy()
    assert np.abs(onnx_probs - torch_probs).max() < 1e-4
    # The bundle's numbers are reproducible from the bundle alone.
    valid = onnx_probs[len(meta["examples"]) :]
    accuracy = (valid.argmax(1) == result.data.valid.targets.numpy()).mean()
    assert accuracy == pytest.approx(meta["metrics"]["accuracy"])


@pytest.mark.slow
def test_torchvision_bundle_rebuilds_with_get_model(tmp_path):
    root = make_folder_dataset(tmp_path / "data", per_label=6)
    config = tiny_config(tmp_path, root, arch="resnet18", size=32, epochs=1, batch_size=6)
    bundle = training.export(training.train(config, quiet=True), tmp_path / "rn")
    meta = json.loads((bundle / "model.json").read_text())
    assert meta["architecture"] == {"name": "resnet18", "num_classes": 3}
    import torchvision  # here, not at collection (two seconds of CPU in every test process)

    network = torchvision.models.get_model("resnet18", weights=None, num_classes=3)
    state = load_file(str(bundle / "model.safetensors"))
    assert set(state) == set(network.state_dict())
    network.load_state_dict(state, strict=True)
    network.eval()
    onnx_probs, x = _probabilities_from_bundle(
        bundle, [bundle / e["file"] for e in meta["examples"]]
    )
    with torch.no_grad():
        torch_probs = network(torch.from_numpy(x)).softmax(1).numpy()
    assert np.abs(onnx_probs - torch_probs).max() < 1e-4


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_interrupted_export_leaves_the_previous_bundle(trained, monkeypatch):
    result, tmp = trained
    target = tmp / "models" / "keep"
    training.export(result, target)
    before = _snapshot(target)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the ONNX file is being written

    monkeypatch.setattr(export_mod, "write_onnx", interrupted)
    with pytest.raises(KeyboardInterrupt):
        training.export(result, target)
    assert _snapshot(target) == before
    assert sorted(p.name for p in target.parent.iterdir() if p.name.startswith(".")) == []


def test_failed_onnx_check_keeps_the_previous_bundle(trained, monkeypatch):
    result, tmp = trained
    target = tmp / "models" / "strict"
    training.export(result, target)
    before = _snapshot(target)
    monkeypatch.setattr(export_mod, "TOLERANCE", -1.0)  # no difference can pass now
    with pytest.raises(training.ExportError) as error:
        training.export(result, target)
    # The bundle's own folder, not the staging folder that is gone by now.
    assert str(error.value).startswith(f"{target}/model.onnx: ONNX Runtime's probabilities")
    assert _snapshot(target) == before


def test_onnx_logits_are_checked_where_probabilities_cannot_tell(trained, monkeypatch):
    """A constant added to every logit leaves the probabilities exactly as they were."""
    result, tmp = trained
    real_run = onnxruntime.InferenceSession.run

    def shifted(self, *args, **kwargs):
        outputs = real_run(self, *args, **kwargs)
        return [outputs[0] + 0.5, *outputs[1:]]

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", shifted)
    with pytest.raises(training.ExportError, match=r"its logits by 5\.00e-01"):
        training.export(result, tmp / "models" / "shifted")
    assert not (tmp / "models" / "shifted").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_bundle(trained):
    result, tmp = trained
    precious = tmp / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(training.ExportError, match="not a model bundle"):
        training.export(result, precious)
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_examples_of_look_alike_labels_never_overwrite_each_other(tmp_path):
    """ "café" and "cafè" both become "caf" in a file name: the class index tells them apart."""
    from training_helpers import make_folder_dataset

    import training

    root = make_folder_dataset(tmp_path / "d", per_label=20, labels=("red", "blue"))
    (root / "red").rename(root / "café")
    (root / "blue").rename(root / "cafè")
    _, path = training.run(
        "folder",
        output=str(tmp_path / "b"),
        path=str(root),
        arch="simple_cnn",
        pretrained=False,
        schedule="one_cycle",
        size=16,
        epochs=1,
        widths=[8],
        examples_per_class=2,
    )
    meta = json.loads((path / "model.json").read_text())
    files = [e["file"] for e in meta["examples"]]
    assert len(files) == len(set(files)) == 4
    assert {e["label"] for e in meta["examples"]} == {"café", "cafè"}
    assert all((path / f).is_file() for f in files)
    # The recorded recipe holds no absolute paths of the author's machine.
    for key in ("path", "data_dir", "cache_dir", "output"):
        assert not str(meta["recipe"][key]).startswith("/"), key
