"""Setting per-band statistics and the normalizer on a data module."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset
from torchgeo.datamodules import BaseDataModule
from torchgeo.datasets.utils import Sample

from ..datasets import collate_spectral
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


class StreamedStatisticsMixin(BaseDataModule):
    """Normalization of a data module from given or streamed band statistics.

    The random-split data modules share this: the user's ``mean``/``std`` are
    kept, and at the first ``setup`` the statistics are taken from them or
    streamed over the training split (:func:`resolve_statistics`), then turned
    into the training and evaluation pipelines (:func:`augmentations`).
    Batches are collated with :func:`~torchgeo_spectral.datasets.collate_spectral`.
    """

    def _init_statistics(
        self,
        mean: Sequence[float] | None,
        std: Sequence[float] | None,
        stats_batches: int | None,
        augment: bool,
    ) -> None:
        """Keep the normalization settings (called from ``__init__``).

        Args:
            mean: Band means (skip streaming statistics).
            std: Band standard deviations.
            stats_batches: Training batches streamed for the statistics.
            augment: Random flips during training.
        """
        self.user_mean = mean
        self.user_std = std
        self.stats_batches = stats_batches
        self.augment = augment
        self.collate_fn = collate_spectral
        self.statistics: BandStatistics | None = None

    def _setup_statistics(
        self, train: Dataset[Sample], sampler: Iterable[Any] | None
    ) -> None:
        """Resolve the statistics once and build the normalizers.

        Args:
            train: Training dataset.
            sampler: Sampler over ``train`` for geo datasets, or None.
        """
        if self.statistics is None:
            self.statistics = resolve_statistics(
                self.user_mean,
                self.user_std,
                train,
                sampler,
                batch_size=self.batch_size,
                max_batches=self.stats_batches,
            )
            self.train_aug, self.aug = augmentations(self.statistics, self.augment)
