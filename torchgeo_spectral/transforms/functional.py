"""Stateless helpers for spectral transforms."""

from __future__ import annotations

import torch
from torch import Tensor


def interpolate_bands(image: Tensor, src: Tensor, dst: Tensor) -> Tensor:
    """Linearly interpolate a batch of cubes along the band axis.

    Values beyond the first or last source centre are held constant.

    Args:
        image: ``(B, C, H, W)`` cubes.
        src: Source band centres ``(C,)`` or ``(B, C)``, strictly increasing.
        dst: Target band centres ``(C',)`` or ``(B, C')``.

    Returns:
        ``(B, C', H, W)`` cubes sampled at ``dst``.
    """
    batch, bands = image.shape[:2]
    src2 = src.to(image.dtype).expand(batch, bands).contiguous()
    dst2 = dst.to(image.dtype).expand(batch, dst.shape[-1]).contiguous()
    if bands == 1:
        return image.expand(batch, dst2.shape[1], *image.shape[2:]).clone()
    right = torch.searchsorted(src2, dst2).clamp(1, bands - 1)
    left = right - 1
    x0 = torch.gather(src2, 1, left)
    x1 = torch.gather(src2, 1, right)
    t = ((dst2 - x0) / (x1 - x0)).clamp(0, 1)[:, :, None, None]
    spatial = image.shape[2:]

    def take(index: Tensor) -> Tensor:
        expanded = index[:, :, None, None].expand(-1, -1, *spatial)
        return torch.gather(image, 1, expanded)

    return take(left) * (1 - t) + take(right) * t


def band_spacing(wavelength: Tensor) -> Tensor:
    """Local spacing of band centres, a stand-in for unknown FWHM.

    Args:
        wavelength: ``(C,)`` or ``(B, C)`` band centres, ``C >= 2``.

    Returns:
        Spacing per band (central differences inside, one-sided at the ends).
    """
    (spacing,) = torch.gradient(wavelength, dim=-1)
    return spacing


def is_increasing(wavelength: Tensor) -> bool:
    """Whether band centres are strictly increasing along the last axis.

    Args:
        wavelength: ``(C,)`` or ``(B, C)``.

    Returns:
        True when every row is strictly increasing.
    """
    return bool((wavelength.diff(dim=-1) > 0).all())
