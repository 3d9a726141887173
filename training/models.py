"""Networks: torchvision backbones with a new head, and the contract's `simple_cnn`.

A torchvision model is built as `get_model(name, weights=None, num_classes=N)`, exactly
the module the demos rebuild from model.json, and the pretrained weights are copied into
everything but its last Linear layer (the new head). So the exported state_dict has
exactly that module's keys, and no pretrained-model surgery has to be remembered.
"""

from __future__ import annotations

import torch
from torch import nn

NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


class WeightsUnavailable(Exception):
    """Pretrained weights could not be downloaded (usually: no internet)."""


def simple_cnn(widths: list[int], num_classes: int) -> nn.Sequential:
    """models/README.md's from-scratch network: conv-BN-ReLU blocks, max-pool between them."""
    layers: list[nn.Module] = []
    c_in = 3
    for i, width in enumerate(widths):
        layers += [
            nn.Conv2d(c_in, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        if i < len(widths) - 1:
            layers.append(nn.MaxPool2d(2))
        c_in = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
    return nn.Sequential(*layers)


def head_name(model: nn.Module) -> str:
    """The name of the classifier: the last Linear layer in the module tree."""
    last = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last = name
    if last is None:
        raise ValueError(f"{type(model).__name__} has no Linear layer to use as the head")
    return last


def build(
    arch: str, num_classes: int, pretrained: bool, widths: list[int] | None = None, seed: int = 42
) -> nn.Module:
    """The network for `arch` with a fresh `num_classes` head (seeded)."""
    torch.manual_seed(seed)
    if arch == "simple_cnn":
        return simple_cnn(widths or [32, 64, 128], num_classes)
    import torchvision  # here, not at import: it costs a second (digits never needs it)

    available = torchvision.models.list_models(module=torchvision.models)
    if arch not in available:
        close = [a for a in available if arch.split("_")[0] in a][:8]
        hint = f" Similar: {', '.join(close)}." if close else ""
        raise ValueError(
            f"unknown architecture {arch!r}: use simple_cnn or a torchvision "
            f"classification model such as resnet34.{hint}"
        )
    model = torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
    if pretrained:
        try:
            source = torchvision.models.get_model(arch, weights="DEFAULT")
        except (OSError, RuntimeError) as error:  # URLError is an OSError
            raise WeightsUnavailable(
                f"could not download the pretrained {arch} weights ({error}). Connect to the "
                "internet once (torchvision caches them in ~/.cache/torch), or train from "
                "scratch with --no-pretrained."
            ) from None
        head = head_name(model)
        state = {k: v for k, v in source.state_dict().items() if not k.startswith(head + ".")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        assert not unexpected and all(k.startswith(head + ".") for k in missing), missing
    return model


def layer_groups(model: nn.Module, arch: str) -> list[list[nn.Parameter]]:
    """fastai's split for discriminative learning rates: [body start, body end, head]."""
    head = head_name(model)
    named = list(model.named_parameters())
    head_params = [p for n, p in named if n.startswith(head + ".")]
    body = [(n, p) for n, p in named if not n.startswith(head + ".")]
    if arch.startswith(("resnet", "resnext", "wide_resnet")):
        # As fastai's resnet split: stem + layer1 + layer2, then layer3 + layer4.
        early = ("conv1.", "bn1.", "layer1.", "layer2.")
        first = [p for n, p in body if n.startswith(early)]
        second = [p for n, p in body if not n.startswith(early)]
    elif arch == "simple_cnn":
        return [[p for _, p in body], head_params]
    else:
        # Elsewhere: the body's parameters halved in order (weights of the early layers first).
        total = sum(p.numel() for _, p in body)
        first, second, seen = [], [], 0
        for _, p in body:
            (first if seen < total / 2 else second).append(p)
            seen += p.numel()
    return [first, second, head_params]


def norm_parameters(model: nn.Module) -> set[int]:
    """ids of the parameters of normalization layers (trainable while frozen, no decay)."""
    ids = set()
    for module in model.modules():
        if isinstance(module, NORM_TYPES):
            ids.update(id(p) for p in module.parameters(recurse=False))
    return ids


def freeze(model: nn.Module, groups: list[list[nn.Parameter]]) -> None:
    """Train only the last group and every normalization layer (fastai's freeze, train_bn)."""
    norms = norm_parameters(model)
    for group in groups[:-1]:
        for p in group:
            p.requires_grad_(id(p) in norms)
    for p in groups[-1]:
        p.requires_grad_(True)


def unfreeze(model: nn.Module) -> None:
    for p in model.parameters():
        p.requires_grad_(True)


def architecture(config, num_classes: int) -> dict:
    """model.json's `architecture` field: enough to rebuild the network without `training`."""
    spec = {"name": config.arch, "num_classes": num_classes}
    if config.arch == "simple_cnn":
        spec["widths"] = list(config.widths)
    return spec
