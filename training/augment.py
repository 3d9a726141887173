"""Batch augmentation in the spirit of fastai's aug_transforms, on whatever device holds the batch.

Every image of a batch draws its own crop, flip, rotation, zoom and perspective warp. They
compose into one 3x3 homography per image, so the whole batch is resampled by a single
`grid_sample` call (one interpolation, no blur from chained resizes), then lighting is
changed in logit space as fastai does. Random numbers come from a CPU generator, so a
seed gives the same augmentations on the CPU and on a GPU.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _eye(n: int) -> torch.Tensor:
    return torch.eye(3).repeat(n, 1, 1)


def _uniform(n: int, low: float, high: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) * (high - low) + low


def _chance(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) < p


def crop_matrices(n: int, min_scale: float, g: torch.Generator) -> torch.Tensor:
    """RandomResizedCrop: a box of area share U(min_scale, 1) and aspect ratio 3/4..4/3."""
    scale = _uniform(n, min_scale, 1.0, g)
    log_ratio = _uniform(n, math.log(3 / 4), math.log(4 / 3), g)
    # Half-extents in normalized coordinates ([-1, 1] spans the whole image).
    w = torch.sqrt(scale * log_ratio.exp()).clamp(max=1.0)
    h = torch.sqrt(scale / log_ratio.exp()).clamp(max=1.0)
    cx = (torch.rand(n, generator=g) * 2 - 1) * (1 - w)
    cy = (torch.rand(n, generator=g) * 2 - 1) * (1 - h)
    m = _eye(n)
    m[:, 0, 0], m[:, 1, 1], m[:, 0, 2], m[:, 1, 2] = w, h, cx, cy
    return m


def flip_matrices(n: int, g: torch.Generator) -> torch.Tensor:
    m = _eye(n)
    m[:, 0, 0] = torch.where(_chance(n, 0.5, g), -1.0, 1.0)
    return m


def rotate_matrices(
    n: int, max_degrees: float, p: float, aspect: float, g: torch.Generator
) -> torch.Tensor:
    """Rotation about the centre; `aspect` = width/height keeps angles right on non-squares."""
    angle = _uniform(n, -max_degrees, max_degrees, g) * math.pi / 180
    angle = torch.where(_chance(n, p, g), angle, torch.zeros(n))
    cos, sin = angle.cos(), angle.sin()
    m = _eye(n)
    # Rotate in pixel units: x scaled by the width, y by the height.
    m[:, 0, 0], m[:, 0, 1] = cos, -sin / aspect
    m[:, 1, 0], m[:, 1, 1] = sin * aspect, cos
    return m


def zoom_matrices(n: int, max_zoom: float, p: float, g: torch.Generator) -> torch.Tensor:
    """Zoom in by U(1, max_zoom) towards a random point that keeps the view inside the image."""
    zoom = torch.where(_chance(n, p, g), _uniform(n, 1.0, max_zoom, g), torch.ones(n))
    s = 1 / zoom
    m = _eye(n)
    m[:, 0, 0], m[:, 1, 1] = s, s
    m[:, 0, 2] = (1 - s) * (torch.rand(n, generator=g) * 2 - 1)
    m[:, 1, 2] = (1 - s) * (torch.rand(n, generator=g) * 2 - 1)
    return m


def homographies(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """The 3x3 matrices H (H[2,2] = 1) with H @ src[i] ~ dst[i] for 4 point pairs, batched."""
    n = src.shape[0]
    x, y = src[..., 0], src[..., 1]
    u, v = dst[..., 0], dst[..., 1]
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], -1)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], -1)
    a = torch.cat([rows_u, rows_v], 1)
    b = torch.cat([u, v], 1)
    h = torch.linalg.solve(a, b)
    return torch.cat([h, torch.ones(n, 1)], 1).reshape(n, 3, 3)


def warp_matrices(n: int, max_warp: float, p: float, g: torch.Generator) -> torch.Tensor:
    """Perspective warp: tilt the image sideways and up/down by up to `max_warp` each."""
    on = _chance(n, p, g)
    mx = torch.where(on, _uniform(n, -max_warp, max_warp, g), torch.zeros(n))
    my = torch.where(on, _uniform(n, -max_warp, max_warp, g), torch.zeros(n))
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]]).repeat(n, 1, 1)
    # Top edge shorter and bottom longer (mx), left edge shorter and right longer (my).
    sx = torch.stack([mx, -mx, -mx, mx], 1)
    sy = torch.stack([my, -my, -my, my], 1)
    moved = corners.clone()
    moved[..., 0] += sx
    moved[..., 1] += sy
    return homographies(corners, moved)


def sample_matrices(n: int, config, aspect: float, g: torch.Generator, train: bool = True):
    """One homography per image mapping output coordinates to input coordinates."""
    m = crop_matrices(n, config.min_scale, g) if config.min_scale < 1 else _eye(n)
    if train and config.augment:
        if config.flip:
            m = m @ flip_matrices(n, g)
        m = m @ rotate_matrices(n, config.max_rotate, config.p_affine, aspect, g)
        m = m @ zoom_matrices(n, config.max_zoom, config.p_affine, g)
        m = m @ warp_matrices(n, config.max_warp, config.p_affine, g)
    return m


def warp_batch(x: torch.Tensor, matrices: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resample float images `x` (B, C, H, W) through per-image homographies to `size`."""
    n = x.shape[0]
    h, w = size
    ys = (torch.arange(h, device=x.device, dtype=torch.float32) * 2 + 1) / h - 1
    xs = (torch.arange(w, device=x.device, dtype=torch.float32) * 2 + 1) / w - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([grid_x, grid_y, torch.ones_like(grid_x)], -1).reshape(1, -1, 3)
    mapped = points @ matrices.to(x.device, torch.float32).transpose(1, 2)
    grid = mapped[..., :2] / mapped[..., 2:].clamp(min=1e-6)
    # Reflection fills what a rotation or warp uncovers with image content, as fastai does.
    return F.grid_sample(
        x, grid.reshape(n, h, w, 2), mode="bilinear", padding_mode="reflection", align_corners=False
    )


def lighting(x: torch.Tensor, max_lighting: float, p: float, g: torch.Generator) -> torch.Tensor:
    """Brightness and contrast in logit space, per image (fastai's Brightness and Contrast)."""
    n = x.shape[0]
    brightness = _uniform(n, 0.5 * (1 - max_lighting), 0.5 * (1 + max_lighting), g)
    brightness = torch.where(_chance(n, p, g), brightness, torch.full((n,), 0.5))
    log_contrast = _uniform(n, math.log(1 - max_lighting), -math.log(1 - max_lighting), g)
    contrast = torch.where(_chance(n, p, g), log_contrast.exp(), torch.ones(n))
    shift = torch.logit(brightness).to(x.device).view(n, 1, 1, 1)
    contrast = contrast.to(x.device).view(n, 1, 1, 1)
    logits = torch.logit(x.clamp(1e-4, 1 - 1e-4))
    return torch.sigmoid(logits * contrast + shift)


def augment(x: torch.Tensor, config, size: tuple[int, int], g: torch.Generator) -> torch.Tensor:
    """uint8 (B, 3, H, W) training images to augmented float images in 0-1 at `size`."""
    x = x.float() / 255
    matrices = sample_matrices(x.shape[0], config, size[1] / size[0], g)
    x = warp_batch(x, matrices, size)
    if config.augment and config.max_lighting > 0:
        x = lighting(x, config.max_lighting, config.p_lighting, g)
    return x
