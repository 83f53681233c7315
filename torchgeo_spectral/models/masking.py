"""Two-stage spatial-spectral masking of (group, patch) tokens.

Stage 1 hides ``round(spatial_mask_ratio * N)`` of the ``N`` patch positions of each
sample, with every spectral group at those positions. Stage 2 hides, among the
remaining positions, ``round(spectral_mask_ratio * G)`` of the ``G`` spectral
groups: the same groups at every remaining position of a sample
(``mode='shared'``) or a fresh draw per position (``mode='per_position'``). Counts
round half up, so every sample and position has exactly the same number of
visible tokens, which keeps the visible set a dense ``(B, V)`` gather.
"""

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from .validation import check_ratio

__all__ = ['SpectralMask', 'SpectralMaskMode', 'masked_count', 'two_stage_mask']

#: How spectral groups are drawn at the positions left by the spatial stage.
SpectralMaskMode = Literal['shared', 'per_position']


@dataclass(frozen=True)
class SpectralMask:
    """Result of :func:`two_stage_mask`.

    Attributes:
        mask: ``(B, G * N)`` bool, ``True`` where the token is masked (group-major
            token order ``g * N + n``).
        visible: ``(B, Nv, Gv)`` flat indices ``g * N + n`` of the visible tokens,
            grouped by visible position (``Nv`` positions, ``Gv`` groups each).
        visible_positions: ``(B, Nv)`` patch indices of the visible positions.
    """

    mask: Tensor
    visible: Tensor
    visible_positions: Tensor


def masked_count(ratio: float, total: int) -> int:
    """Number of masked items: ``floor(ratio * total + 0.5)``.

    Args:
        ratio: Masking ratio in ``[0, 1)``.
        total: Number of items.

    Returns:
        The number of items to mask.
    """
    return math.floor(ratio * total + 0.5)


def _keep_indices(noise: Tensor, keep: int) -> Tensor:
    """Indices of the ``keep`` smallest noise values along the last axis, sorted.

    Args:
        noise: Uniform noise ``(..., L)``.
        keep: Number of indices to keep.

    Returns:
        ``(..., keep)`` sorted indices.
    """
    return noise.argsort(dim=-1)[..., :keep].sort(dim=-1).values


def two_stage_mask(
    batch: int,
    num_groups: int,
    num_positions: int,
    spatial_mask_ratio: float,
    spectral_mask_ratio: float,
    mode: SpectralMaskMode = 'shared',
    *,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
) -> SpectralMask:
    """Draw a two-stage spatial-then-spectral token mask.

    Args:
        batch: Batch size ``B``.
        num_groups: Spectral groups ``G``.
        num_positions: Patch positions ``N``.
        spatial_mask_ratio: Fraction of positions masked across all groups.
        spectral_mask_ratio: Fraction of groups masked at the remaining positions;
            at least one group stays visible there.
        mode: ``'shared'`` or ``'per_position'`` spectral draws.
        generator: Random generator for reproducible masks (noise is drawn on the
            generator's device, then moved to ``device``).
        device: Device of the result (default: the generator's, else CPU).

    Returns:
        The mask and the visible-token indices.

    Raises:
        ValueError: If a ratio is outside ``[0, 1)``, the mode is unknown, or the
            spatial stage would mask every position.

    Warns:
        UserWarning: If the ratios mask no token at all (for example
            ``spatial_mask_ratio=0`` with a single spectral group).
    """
    check_ratio('spatial_mask_ratio', spatial_mask_ratio)
    check_ratio('spectral_mask_ratio', spectral_mask_ratio)
    if mode not in ('shared', 'per_position'):
        msg = f"spectral_mask_mode must be 'shared' or 'per_position', got {mode!r}"
        raise ValueError(msg)
    keep_pos = num_positions - masked_count(spatial_mask_ratio, num_positions)
    # The spectral stage always leaves one group visible at each remaining
    # position, so cubes with a single group (RGB, few bands) still train when
    # batches of several sensors share one spectral_mask_ratio.
    keep_grp = max(1, num_groups - masked_count(spectral_mask_ratio, num_groups))
    if keep_pos < 1 or keep_grp < 1:
        msg = (
            f'masking leaves no visible token: {keep_pos} of {num_positions} positions '
            f'and {keep_grp} of {num_groups} spectral groups stay visible; lower '
            f'spatial_mask_ratio={spatial_mask_ratio} or '
            f'spectral_mask_ratio={spectral_mask_ratio}'
        )
        raise ValueError(msg)
    if keep_pos == num_positions and keep_grp == num_groups:
        # Not an error: one band set of a mixed-sensor run may be too small to
        # mask while the others train. But a batch with nothing masked scores a
        # loss of 0 and teaches nothing, which a user would not see otherwise.
        msg = (
            f'masking hides no token: spatial_mask_ratio={spatial_mask_ratio} of '
            f'{num_positions} positions and spectral_mask_ratio={spectral_mask_ratio} '
            f'of {num_groups} spectral groups mask nothing, so these batches have a '
            'loss of 0 and do not train; raise spatial_mask_ratio (one spectral '
            'group always stays visible)'
        )
        if num_positions == 1:
            # 1 px tiles (conf/pretrain_scene.yaml) of a cube of one token
            msg += (
                '; with one position per sample (1 px tiles) only spectral groups '
                'can be hidden: pretrain a cube of one group on larger tiles '
                '(tile_size 5) with spatial_mask_ratio 0.75'
            )
        warnings.warn(msg, UserWarning, stacklevel=2)
    noise_device = generator.device if generator is not None else device
    out_device = device if device is not None else noise_device

    def rand(*shape: int) -> Tensor:
        return torch.rand(*shape, generator=generator, device=noise_device)

    positions = _keep_indices(rand(batch, num_positions), keep_pos)
    if mode == 'shared':
        groups = _keep_indices(rand(batch, num_groups), keep_grp)
        groups = groups[:, None, :].expand(batch, keep_pos, keep_grp)
    else:
        groups = _keep_indices(rand(batch, keep_pos, num_groups), keep_grp)
    visible = (groups * num_positions + positions[:, :, None]).to(out_device)
    mask = torch.ones(
        batch, num_groups * num_positions, dtype=torch.bool, device=out_device
    )
    mask.scatter_(1, visible.flatten(1), False)
    return SpectralMask(
        mask=mask, visible=visible, visible_positions=positions.to(out_device)
    )
