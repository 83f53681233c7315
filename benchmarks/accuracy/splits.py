"""Spatially disjoint splits with label budgets (the samplers' block split)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from .config import BenchConfig
from .data import Scene

PixelIndex = tuple[NDArray[np.intp], NDArray[np.intp]]


@dataclass
class Split:
    """Training and test pixels of one (seed, budget) pair.

    Attributes:
        seed: Seed of the block assignment and of the budget sample.
        budget: Fraction of the training pixels of each class kept (>= 1 each)
            when in ``(0, 1]``; labels per class (capped at what the class has)
            when above 1.
        train: Training pixels ``(rows, cols)``.
        test: Test pixels ``(rows, cols)`` (the same for every budget of a seed).
        guard_width: Guard band between train and test regions, in pixels.
        min_distance: Smallest Chebyshev distance between a training and a test
            pixel centre (``>= window`` means no two windows overlap).
    """

    seed: int
    budget: float
    train: PixelIndex
    test: PixelIndex
    guard_width: int
    min_distance: int


def chebyshev_gap(shape: tuple[int, int], a: PixelIndex, b: PixelIndex) -> int:
    """Smallest Chebyshev distance between a pixel of ``a`` and one of ``b``.

    Args:
        shape: Scene height and width.
        a: First pixel set.
        b: Second pixel set.

    Returns:
        The distance in pixels (a large number when a set is empty).
    """
    if len(a[0]) == 0 or len(b[0]) == 0:
        return 10**9
    not_b = np.ones(shape, dtype=bool)
    not_b[b] = False
    dist = ndimage.distance_transform_cdt(not_b, metric='chessboard')
    return int(dist[a].min())


def make_split(scene: Scene, cfg: BenchConfig, seed: int, budget: float) -> Split:
    """Spatial block split of a scene with a label budget.

    Calls :func:`torchgeo_spectral.samplers.spatial_block_split` with
    ``patch_size = cfg.window`` so that the guard band keeps every training window
    apart from every test window. The block assignment depends on the seed only,
    so all budgets of a seed share the same test pixels.

    Args:
        scene: The labelled scene.
        cfg: The configuration.
        seed: Split seed.
        budget: Fraction of training pixels per class in ``(0, 1]`` (1.0 keeps
            all), or labels per class when above 1 (a class with fewer training
            pixels keeps them all).

    Returns:
        The split (test pixels capped at ``cfg.max_test_pixels`` when set).
    """
    from torchgeo_spectral.samplers.splits import SpatialSplit, spatial_block_split

    def split_with(amount: float | dict[int, int] | None) -> SpatialSplit:
        return spatial_block_split(
            scene.labels,
            patch_size=cfg.window,
            block_size=cfg.block_size,
            test_fraction=cfg.test_fraction,
            budget=amount,
            seed=seed + cfg.split_seed_offset,
        )

    if budget > 1:
        # Labels per class, capped: the regions depend on the seed only, so the
        # full split tells what each class has.
        full = split_with(None)
        ids, counts = np.unique(scene.labels[full.train], return_counts=True)
        per_class = {
            int(i): min(int(budget), int(c)) for i, c in zip(ids, counts, strict=True)
        }
        split = split_with(per_class)
    else:
        split = split_with(None if budget >= 1 else float(budget))
    test = split.test
    if cfg.max_test_pixels and len(test[0]) > cfg.max_test_pixels:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(test[0]), cfg.max_test_pixels, replace=False))
        test = (test[0][keep], test[1][keep])
    shape = (int(scene.labels.shape[0]), int(scene.labels.shape[1]))
    return Split(
        seed=seed,
        budget=budget,
        train=split.train,
        test=test,
        guard_width=int(split.params['guard_width']),
        min_distance=chebyshev_gap(shape, split.train, split.test),
    )
