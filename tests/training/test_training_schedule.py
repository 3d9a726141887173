"""fine_tune as fastai does it: LRs per param group, momentum, AdamW groups, frozen body."""

from __future__ import annotations

import math

import pytest
import torch
from training_helpers import make_folder_dataset, tiny_config

from training import models, schedule, train


def fastai_lr(pos: float, peak: float, div: float, pct: float, div_final: float = 1e5):
    """fastai's combined_cos written out: cosine warm-up to the peak, cosine annealing after."""

    def cos(a, b, t):
        return a + (1 + math.cos(math.pi * (1 - t))) * (b - a) / 2

    if pos < pct:
        return cos(peak / div, peak, pos / pct)
    return cos(peak, peak / div_final, (pos - pct) / (1 - pct))


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ft")
    root = make_folder_dataset(tmp / "data", per_label=20)
    config = tiny_config(
        tmp,
        root,
        arch="resnet18",
        schedule="fine_tune",
        freeze_epochs=1,
        epochs=2,
        base_lr=2e-3,
        batch_size=4,
        size=32,
        valid_pct=0.2,
        augment=False,
    )
    return train(config, quiet=True)


def test_phase_peaks_follow_fine_tune():
    config = tiny_config(
        __import__("pathlib").Path("."),
        ".",
        schedule="fine_tune",
        base_lr=2e-3,
        freeze_epochs=1,
        epochs=3,
    )
    frozen, unfrozen = schedule.phases(config, 3)
    assert frozen.frozen and frozen.pct_start == 0.99 and frozen.div == 25
    assert frozen.lrs == pytest.approx([2e-4, 2e-4, 2e-3])
    # base_lr halved, then slice(base_lr/100, base_lr) spread geometrically over 3 groups.
    assert unfrozen.lrs == pytest.approx([1e-5, 1e-4, 1e-3])
    assert unfrozen.pct_start == 0.3 and unfrozen.div == 5 and not unfrozen.frozen


def test_lr_per_param_group_at_start_peak_and_end(fine_tuned):
    log = fine_tuned.schedule
    peaks = {"frozen": [2e-4, 2e-4, 2e-3], "unfrozen": [1e-5, 1e-4, 1e-3]}
    shape = {"frozen": (25.0, 0.99), "unfrozen": (5.0, 0.3)}
    for phase, peak in peaks.items():
        steps = [s for s in log if s["phase"] == phase]
        assert len(steps) == {"frozen": 12, "unfrozen": 24}[phase]  # 48 images / 4 per batch
        div, pct = shape[phase]
        # Start: every param group at its layer group's peak / div.
        first = steps[0]
        assert first["pos"] == 0
        for lr, group in zip(first["lrs"], first["layer_groups"], strict=True):
            assert lr == pytest.approx(peak[group] / div, rel=1e-9)
        assert first["moms"] == pytest.approx([0.95] * len(first["moms"]))
        # Every step, every group: the one-cycle formula; LR never above the peak.
        for step in steps:
            for lr, group in zip(step["lrs"], step["layer_groups"], strict=True):
                assert lr == pytest.approx(fastai_lr(step["pos"], peak[group], div, pct), rel=1e-9)
                assert lr <= peak[group] * (1 + 1e-12)
        # End: the frozen cycle is still warming up (pct_start 0.99): near its peak, momentum
        # near 0.85; the unfrozen cycle has annealed far below its start, momentum back up.
        last = steps[-1]
        for lr, group in zip(last["lrs"], last["layer_groups"], strict=True):
            if phase == "frozen":
                assert peak[group] * 0.95 < lr <= peak[group]
            else:
                assert lr < peak[group] / div / 10
        assert (max(last["moms"]) < 0.86) if phase == "frozen" else (min(last["moms"]) > 0.94)
    # Peak: the unfrozen cycle's highest LR is within 1% of each group's peak, near 30%.
    unfrozen = [s for s in log if s["phase"] == "unfrozen"]
    top = max(range(len(unfrozen)), key=lambda i: unfrozen[i]["lrs"][-1])
    assert abs(unfrozen[top]["pos"] - 0.3) < 1 / 24 + 1e-9
    for lr, group in zip(unfrozen[top]["lrs"], unfrozen[top]["layer_groups"], strict=True):
        assert lr == pytest.approx(peaks["unfrozen"][group], rel=0.01)
    assert min(unfrozen[top]["moms"]) < 0.86


def test_frozen_phase_changes_only_head_and_norm_layers(tmp_path):
    root = make_folder_dataset(tmp_path / "data", per_label=8)
    config = tiny_config(
        tmp_path,
        root,
        arch="resnet18",
        schedule="fine_tune",
        freeze_epochs=1,
        epochs=0,
        batch_size=4,
        size=32,
        base_lr=1e-2,
    )
    before = models.build("resnet18", 3, pretrained=False, seed=config.seed)
    result = train(config, quiet=True)
    norm_ids = models.norm_parameters(before)
    norm_names = {n for n, p in before.named_parameters() if id(p) in norm_ids}
    after = dict(result.model.named_parameters())
    body_same = norm_changed = 0
    for name, p in before.named_parameters():
        changed = not torch.equal(p, after[name])
        if name.startswith("fc."):
            assert changed, name
        elif name in norm_names:
            norm_changed += changed
        else:
            assert not changed, f"{name} changed while the body was frozen"
            body_same += 1
    assert body_same > 10 and norm_changed > 10


def test_adamw_groups_skip_decay_on_norms_and_biases():
    model = models.build("resnet18", 4, pretrained=False)
    groups = models.layer_groups(model, "resnet18")
    assert len(groups) == 3 and groups[2] == list(model.fc.parameters())
    opt = schedule.optimizer(model, groups, models.norm_parameters(model), 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    for group in opt.param_groups:
        kinds = {
            "bn" in names[id(p)] or "downsample.1" in names[id(p)] or names[id(p)].endswith("bias")
            for p in group["params"]
        }
        assert kinds == {group["weight_decay"] == 0.0}
        assert group["eps"] == 1e-5 and group["betas"][1] == 0.99
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))


def test_valley_picks_the_middle_of_the_longest_descent():
    from training.loop import valley

    lrs = [10 ** (-7 + i * 0.1) for i in range(60)]
    losses = [2.0] * 10 + [2.0 - 0.05 * i for i in range(30)] + [0.5 + 0.3 * i for i in range(20)]
    suggestion = valley(lrs, losses)
    assert lrs[20] <= suggestion <= lrs[30]
