"""model.int8.onnx: written by training, measured honestly, and preferred only when it is
within half a point of the fp32 model's accuracy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest

pytestmark = pytest.mark.slow


def _valid_split(meta: dict, bundle: Path):
    from training.data import items_from_folders, split

    # The digits_bundle fixture keeps its data at ROOT/data/digits beside ROOT/models/digits.
    items, _ = items_from_folders(bundle.parent.parent / "data" / "digits")
    _, valid = split(items, meta["recipe"]["valid_pct"], meta["recipe"]["seed"])
    return valid


def test_int8_model_is_static_qdq_per_channel_and_smaller(digits_bundle):
    meta = json.loads((digits_bundle / "model.json").read_text())
    int8 = meta["int8"]
    path = digits_bundle / int8["file"]
    assert int8["file"] == "model.int8.onnx" and path.is_file()
    assert int8["bytes"] == path.stat().st_size
    assert path.stat().st_size < 0.5 * (digits_bundle / "model.onnx").stat().st_size
    graph = onnx.load(str(path)).graph
    ops = [node.op_type for node in graph.node]
    # Static QDQ: activations quantised at fixed, calibrated scales (no DynamicQuantizeLinear).
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    assert "DynamicQuantizeLinear" not in ops
    # Per-channel weights: a convolution's weight scale has one value per output channel.
    scales = {init.name: onnx.numpy_helper.to_array(init) for init in graph.initializer}
    weight_scales = [
        scales[n.input[1]]
        for n in graph.node
        if n.op_type == "DequantizeLinear" and n.input[1] in scales and scales[n.input[1]].size > 1
    ]
    assert weight_scales, "no per-channel weight scales"
    zero_points = [
        onnx.numpy_helper.to_array(init)
        for init in graph.initializer
        if init.data_type == onnx.TensorProto.UINT8
    ]
    assert zero_points, "activations should be uint8"
    assert 0 < int8["calibration_images"] <= meta["recipe"]["calibration_images"]


def test_int8_accuracy_is_what_the_runtime_measures(digits_bundle):
    """The accuracy in model.json is re-measured with demos.runtime on the validation files."""
    from demos import runtime

    meta = json.loads((digits_bundle / "model.json").read_text())
    model = runtime.load(digits_bundle, precision="int8")
    assert model.weights == "model.int8.onnx"
    valid = _valid_split(meta, digits_bundle)
    assert len(valid) == meta["metrics"]["n_valid"]
    correct = []
    for item in valid:
        probs = model.predict(item.path)
        correct.append(max(probs, key=probs.get) == item.label)
    measured = float(np.mean(correct))
    assert abs(measured - meta["int8"]["accuracy"]) <= 1 / len(valid) + 1e-9
    fp32 = meta["metrics"]["accuracy"]
    assert meta["int8"]["preferred"] == (meta["int8"]["accuracy"] >= fp32 - 0.005)
    assert meta["int8"]["agreement"] >= 0.98


def test_runtime_follows_the_recorded_preference(digits_bundle, tmp_path):
    import shutil

    from demos import runtime

    bundle = tmp_path / "digits"
    shutil.copytree(digits_bundle, bundle)
    meta = json.loads((bundle / "model.json").read_text())
    meta["int8"]["preferred"] = True
    (bundle / "model.json").write_text(json.dumps(meta))
    assert runtime.load(bundle).weights == "model.int8.onnx"
    assert runtime.load(bundle, precision="fp32").weights == "model.onnx"
    meta["int8"]["preferred"] = False  # more than half a point lost: the fp32 model runs
    (bundle / "model.json").write_text(json.dumps(meta))
    assert runtime.load(bundle).weights == "model.onnx"
    meta["int8"]["preferred"] = True
    (bundle / "model.json").write_text(json.dumps(meta))
    (bundle / "model.int8.onnx").unlink()  # preferred but not copied: fall back, don't fail
    assert runtime.load(bundle).weights == "model.onnx"
    with pytest.raises(runtime.BundleError, match=re.escape("model.int8.onnx: missing")):
        runtime.load(bundle, precision="int8")
    meta["int8"] = "yes"
    (bundle / "model.json").write_text(json.dumps(meta))
    with pytest.raises(runtime.BundleError, match="'int8'"):
        runtime.load(bundle)
