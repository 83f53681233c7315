"""Setting per-band statistics and the normalizer on a data module."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset
from torchgeo.datasets.utils import Sample

from .augment import SpectralAugmentation
from .statistics import BandStatistics, compute_band_statistics


def resolve_statistics(
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
    dataset: Dataset[Sample],
    sampler: Iterable[Any] | None,
    *,
    batch_size: int,
    max_batches: int | None,
) -> BandStatistics:
    """Use given statistics, or stream them over the training split.

    Args:
        mean: Band means given by the user, or None.
        std: Band standard deviations given by the user, or None.
        dataset: Training dataset.
        sampler: Sampler for geo datasets, or None.
        batch_size: Batch size for streaming.
        max_batches: Batches to stream at most.

    Returns:
        The statistics.

    Raises:
        ValueError: If only one of mean/std is given or their lengths differ.
    """
    if (mean is None) != (std is None):
        raise ValueError('give both mean= and std=, or neither')
    if mean is not None and std is not None:
        if len(mean) != len(std):
            raise ValueError(f'mean has {len(mean)} values but std has {len(std)}')
        m = torch.tensor(list(mean), dtype=torch.float32)
        return BandStatistics(m, torch.tensor(list(std), dtype=torch.float32), m, None)
    return compute_band_statistics(
        dataset, sampler=sampler, batch_size=batch_size, max_batches=max_batches
    )


def augmentations(
    stats: BandStatistics, augment: bool
) -> tuple[SpectralAugmentation, SpectralAugmentation]:
    """Training and evaluation pipelines for statistics.

    Args:
        stats: Band statistics.
        augment: Add random flips to the training pipeline.

    Returns:
        ``(train_aug, aug)``.
    """
    return (
        SpectralAugmentation(stats.mean, stats.std, train=augment),
        SpectralAugmentation(stats.mean, stats.std, train=False),
    )
