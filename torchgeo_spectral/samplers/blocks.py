"""Block partitioning of a pixel grid into train/val/test roles with a guard band.

This module holds the geometry shared by the array splits
(:mod:`torchgeo_spectral.samplers.splits`) and the georeferenced regions of
interest (:mod:`torchgeo_spectral.samplers.geo`): cutting a grid into blocks,
assigning each block a role, and the width of the guard band that keeps patches
of different roles apart.

Guard rule (exact). A patch of ``patch_size`` (``p``) pixels centred on pixel
``a`` covers ``p`` consecutive rows and columns around ``a``. Two such patches
centred on ``a`` and ``b`` overlap if and only if the Chebyshev distance
``max(|a_row - b_row|, |a_col - b_col|) <= p - 1`` (for odd ``p = 2r + 1``:
``<= 2r``). A split is therefore leak-free when every pair of pixel centres of
different roles is at Chebyshev distance ``>= p``, i.e. at least ``p - 1``
guard pixels lie between them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

#: Region codes of a role map: guard band, then the three roles.
GUARD, TRAIN, VAL, TEST = 0, 1, 2, 3
#: Names of the non-guard region codes.
ROLE_NAMES: dict[int, str] = {TRAIN: 'train', VAL: 'val', TEST: 'test'}

Pattern = Literal['random', 'checkerboard']


def to_pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """Return ``(value, value)`` for an int, or the validated pair.

    Args:
        value: A positive int or a pair of positive ints.
        name: Argument name used in error messages.

    Returns:
        A pair of positive ints.

    Raises:
        ValueError: If a value is not a positive integer.
    """
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or any(int(v) != v or v < 1 for v in pair):
        msg = f'{name} must be a positive int or a pair of them, got {value!r}'
        raise ValueError(msg)
    return int(pair[0]), int(pair[1])


def erosion_size(patch_size: int) -> int:
    """Side of the square structuring element that carves the guard band.

    Every role region is eroded by ``h - 1 = erosion_size // 2`` pixels on each
    boundary with another role, with ``h = ceil((p + 1) / 2)``. Two kept pixels of
    different roles then have disjoint ``(h - 1)``-balls, hence Chebyshev distance
    ``>= 2h - 1 >= p``: their patches cannot overlap. The guard band is
    ``2(h - 1)`` pixels wide: ``p - 1`` for odd ``p``, ``p`` for even ``p``.

    Args:
        patch_size: Side of the square patches in pixels (``>= 1``).

    Returns:
        The odd side ``2h - 1`` of the structuring element.
    """
    half = (patch_size + 2) // 2
    return 2 * half - 1


def guard_width(patch_size: int) -> int:
    """Pixels of guard band between two regions of different roles.

    Args:
        patch_size: Side of the square patches in pixels.

    Returns:
        The guard band width in pixels (``p - 1`` for odd ``p``, ``p`` for even).
    """
    return erosion_size(patch_size) - 1


def block_grid(shape: tuple[int, int], block_size: tuple[int, int]) -> tuple[int, int]:
    """Number of block rows and columns that cover a grid.

    Args:
        shape: Grid height and width in pixels.
        block_size: Block height and width in pixels.

    Returns:
        ``(block_rows, block_cols)``; edge blocks may be smaller.
    """
    return -(-shape[0] // block_size[0]), -(-shape[1] // block_size[1])


def block_ids(shape: tuple[int, int], block_size: tuple[int, int]) -> NDArray[np.intp]:
    """Map every pixel to the flat index of its block (row-major over blocks).

    Args:
        shape: Grid height and width in pixels.
        block_size: Block height and width in pixels.

    Returns:
        An ``(H, W)`` array of block indices.
    """
    _, ncols = block_grid(shape, block_size)
    rows = np.arange(shape[0]) // block_size[0]
    cols = np.arange(shape[1]) // block_size[1]
    return (rows[:, None] * ncols + cols[None, :]).astype(np.intp)


def _pick_fraction(
    counts: NDArray[np.int64],
    candidates: NDArray[np.intp],
    fraction: float,
    rng: np.random.Generator,
    trials: int,
) -> NDArray[np.intp]:
    """Pick candidate blocks holding about ``fraction`` of the candidates' pixels.

    Several random orders are tried; the one whose per-class fractions are closest
    to ``fraction`` wins, so that rare classes appear on both sides when possible.

    Args:
        counts: ``(num_blocks, num_classes)`` labelled-pixel counts.
        candidates: Indices of the blocks to choose from.
        fraction: Target fraction of the candidates' labelled pixels.
        rng: Random generator.
        trials: Number of random orders to try.

    Returns:
        The chosen block indices: at least one and never all of them, or none
        when ``fraction`` is 0 or fewer than two candidates exist.
    """
    if fraction <= 0 or len(candidates) < 2:
        return np.empty(0, dtype=np.intp)
    sub = counts[candidates]
    class_total = sub.sum(axis=0)
    present = class_total > 0
    total = max(int(class_total.sum()), 1)
    best: NDArray[np.intp] = candidates[:1]
    best_score = np.inf
    for _ in range(max(trials, 1)):
        order = rng.permutation(len(candidates))
        cum = np.cumsum(sub[order].sum(axis=1))
        take = int(np.searchsorted(cum, fraction * total)) + 1
        take = min(take, len(candidates) - 1)
        chosen = order[:take]
        frac = sub[chosen].sum(axis=0)[present] / class_total[present]
        score = float(np.abs(frac - fraction).sum())
        if score < best_score:
            best, best_score = candidates[chosen], score
    return np.sort(best)


def assign_block_roles(
    counts: NDArray[np.int64],
    grid: tuple[int, int],
    *,
    pattern: Pattern,
    test_fraction: float,
    val_fraction: float,
    rng: np.random.Generator,
    trials: int = 64,
) -> NDArray[np.uint8]:
    """Give every block a role (train, val or test).

    Args:
        counts: ``(num_blocks, num_classes)`` labelled-pixel counts per block.
        grid: Block rows and columns.
        pattern: ``'random'`` picks test blocks holding about ``test_fraction`` of
            the labelled pixels; ``'checkerboard'`` makes one colour of a
            checkerboard (chosen at random) the test blocks.
        test_fraction: Target fraction of labelled pixels in test blocks
            (``'random'`` only).
        val_fraction: Target fraction of the remaining (non-test) labelled pixels
            moved to validation blocks.
        rng: Random generator.
        trials: Random orders tried when picking blocks by fraction.

    Returns:
        A ``(block_rows, block_cols)`` array of role codes.

    Raises:
        ValueError: If the pattern is unknown or a fraction is out of range.
    """
    if not 0 <= val_fraction < 1:
        msg = f'val_fraction must lie in [0, 1), got {val_fraction}'
        raise ValueError(msg)
    num_blocks = grid[0] * grid[1]
    roles = np.full(num_blocks, TRAIN, dtype=np.uint8)
    if pattern == 'checkerboard':
        by, bx = np.divmod(np.arange(num_blocks), grid[1])
        colour = int(rng.integers(2))
        roles[(by + bx) % 2 == colour] = TEST
    elif pattern == 'random':
        if not 0 < test_fraction < 1:
            msg = f'test_fraction must lie in (0, 1), got {test_fraction}'
            raise ValueError(msg)
        test = _pick_fraction(counts, np.arange(num_blocks), test_fraction, rng, trials)
        roles[test] = TEST
    else:
        msg = f"pattern must be 'random' or 'checkerboard', got {pattern!r}"
        raise ValueError(msg)
    rest = np.flatnonzero(roles == TRAIN).astype(np.intp)
    roles[_pick_fraction(counts, rest, val_fraction, rng, trials)] = VAL
    return roles.reshape(grid)
