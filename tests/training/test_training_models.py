"""Networks: every supported backbone builds, runs, splits into layer groups, and has
exactly the state_dict keys the demos expect from get_model(name, weights=None, ...)."""

from __future__ import annotations

import pytest
import torch

from training import models


@pytest.fixture
def torchvision():
    """Imported by the tests that use it: at collection, every test process would pay for it
    (it brings in torch._dynamo, two seconds of CPU)."""
    import torchvision

    return torchvision


@pytest.mark.parametrize("arch", ["resnet18", "resnet34", "resnet50", "convnext_tiny"])
def test_backbones_build_run_and_split(arch, torchvision):
    model = models.build(arch, 5, pretrained=False)
    reference = torchvision.models.get_model(arch, weights=None, num_classes=5)
    assert list(model.state_dict()) == list(reference.state_dict())
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 5) and torch.isfinite(out).all()
    groups = models.layer_groups(model, arch)
    assert len(groups) == 3 and all(groups)
    assert sum(len(g) for g in groups) == len(list(model.parameters()))
    head = models.head_name(model)
    assert {id(p) for p in groups[-1]} == {id(p) for p in model.get_submodule(head).parameters()}


def test_simple_cnn_is_the_contract_network():
    model = models.simple_cnn([4, 8, 16], 3)
    keys = list(model.state_dict())
    # conv, bn, relu, pool | conv, bn, relu, pool | conv, bn, relu | avgpool, flatten, linear
    assert keys[0] == "0.weight" and "1.weight" in keys and "1.running_mean" in keys
    assert keys[-2:] == ["13.weight", "13.bias"]
    assert "0.bias" not in keys  # convolutions without bias
    assert model(torch.randn(1, 3, 16, 16)).shape == (1, 3)


def test_pretrained_weights_are_copied_into_everything_but_the_head(monkeypatch, torchvision):
    original = torchvision.models.get_model
    sources = {}

    def fake_get_model(name, weights=None, **kwargs):
        # Stands in for the download: an ImageNet-shaped network with its own random weights.
        model = original(name, weights=None, **kwargs)
        if weights == "DEFAULT":
            sources[name] = model
        return model

    monkeypatch.setattr(torchvision.models, "get_model", fake_get_model)
    model = models.build("resnet18", 4, pretrained=True, seed=3)
    source = sources["resnet18"].state_dict()
    for key, value in model.state_dict().items():
        if key.startswith("fc."):
            assert value.shape[0] == 4
        else:
            assert torch.equal(value, source[key]), key


def test_unknown_architecture_names_choices():
    with pytest.raises(ValueError, match=r"unknown architecture 'resnet9'.*resnet"):
        models.build("resnet9", 2, pretrained=False)
