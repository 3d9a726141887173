"""Batch augmentation: exact when switched off, different per image, seeded."""

from __future__ import annotations

import torch

from training import augment
from training.config import Config


def _batch(n=6, size=20):
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)


def test_identity_when_everything_is_off():
    config = Config(augment=False, min_scale=1.0)
    x = _batch()
    out = augment.augment(x, config, (20, 20), torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, x.float() / 255, atol=1e-5, rtol=0)


def test_flip_matrix_mirrors_exactly():
    x = _batch(1).float() / 255
    flipped = augment.warp_batch(x, torch.diag(torch.tensor([-1.0, 1, 1])).unsqueeze(0), (20, 20))
    torch.testing.assert_close(flipped, x.flip(-1), atol=1e-4, rtol=0)


def test_each_image_gets_its_own_parameters():
    config = Config()  # aug_transforms' defaults
    same = _batch(1).repeat(8, 1, 1, 1)
    out = augment.augment(same, config, (16, 16), torch.Generator().manual_seed(1))
    assert out.shape == (8, 3, 16, 16) and out.min() >= 0 and out.max() <= 1
    distinct = {tuple(o.flatten()[:50].tolist()) for o in out}
    assert len(distinct) == 8


def test_seeded_and_device_independent_parameters():
    config = Config()
    a = augment.augment(_batch(), config, (16, 16), torch.Generator().manual_seed(5))
    b = augment.augment(_batch(), config, (16, 16), torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, b)


def test_warp_is_a_true_homography_of_the_corners():
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]]).unsqueeze(0)
    moved = corners + torch.tensor([[0.1, 0.05], [-0.1, -0.05], [-0.1, -0.05], [0.1, 0.05]])
    h = augment.homographies(corners, moved)[0]
    for src, dst in zip(corners[0], moved[0], strict=True):
        p = h @ torch.tensor([src[0], src[1], 1.0])
        torch.testing.assert_close(p[:2] / p[2], dst, atol=1e-5, rtol=0)


def test_lighting_ranges():
    x = torch.full((200, 3, 2, 2), 0.5)
    out = augment.lighting(x, 0.2, 1.0, torch.Generator().manual_seed(0))
    # Brightness 0.4..0.6 at mid-grey (contrast doesn't move 0.5 in logit space).
    assert 0.39 < out.min() < 0.45 and 0.55 < out.max() < 0.61
