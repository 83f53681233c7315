"""Per-band normalization statistics, streamed over a dataset."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler
from torchgeo.datasets.utils import Sample

from ..datasets.utils import collate_spectral

__all__ = ['BandStatistics', 'RunningBandStatistics', 'compute_band_statistics']


@dataclass(frozen=True)
class BandStatistics:
    """Mean and standard deviation of every band.

    Attributes:
        mean: ``(C,)`` float32.
        std: ``(C,)`` float32 (population standard deviation, at least ``eps``).
        count: ``(C,)`` number of valid values that entered each band.
        wavelength: ``(C,)`` band centres of the samples, or None.
    """

    mean: Tensor
    std: Tensor
    count: Tensor
    wavelength: Tensor | None


class RunningBandStatistics:
    """Chan/Welford running mean and variance per band, NaN-aware.

    Values that are not finite, or outside a ``valid`` mask, are ignored.
    Accumulates in float64 so long streams stay accurate.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.count: Tensor | None = None
        self.mean: Tensor | None = None
        self.m2: Tensor | None = None
        self.wavelength: Tensor | None = None

    def update(self, image: Tensor, valid: Tensor | None = None) -> None:
        """Add a batch.

        Args:
            image: ``(B, C, H, W)`` or ``(C, H, W)`` values.
            valid: Optional ``(B, H, W)``/``(H, W)`` mask of pixels to use.

        Raises:
            ValueError: If the band count changes between updates.
        """
        if image.ndim == 3:
            image = image.unsqueeze(0)
            valid = None if valid is None else valid.unsqueeze(0)
        x = image.detach().to(torch.float64).transpose(0, 1).reshape(image.shape[1], -1)
        keep = torch.isfinite(x)
        if valid is not None:
            keep &= valid.reshape(1, -1).to(torch.bool)
        n_b = keep.sum(dim=1).to(torch.float64)
        safe = torch.where(keep, x, torch.zeros((), dtype=x.dtype))
        mean_b = safe.sum(dim=1) / n_b.clamp(min=1)
        m2_b = (
            torch.where(keep, x - mean_b[:, None], torch.zeros((), dtype=x.dtype)) ** 2
        ).sum(dim=1)
        if self.count is None or self.mean is None or self.m2 is None:
            self.count, self.mean, self.m2 = n_b, mean_b, m2_b
            return
        if n_b.shape != self.count.shape:
            msg = f'band count changed from {self.count.numel()} to {n_b.numel()}'
            raise ValueError(msg)
        total = self.count + n_b
        delta = mean_b - self.mean
        ratio = torch.where(
            total > 0, n_b / total.clamp(min=1), torch.zeros_like(total)
        )
        self.mean = self.mean + delta * ratio
        self.m2 = self.m2 + m2_b + delta**2 * self.count * ratio
        self.count = total

    def result(self, eps: float = 1e-6) -> BandStatistics:
        """The statistics so far.

        Args:
            eps: Standard deviations below this (constant bands) become 1.

        Returns:
            The statistics.

        Raises:
            ValueError: If no value was seen.
        """
        if self.count is None or self.mean is None or self.m2 is None:
            raise ValueError('no samples were streamed; cannot compute statistics')
        empty = self.count == 0
        variance = self.m2 / self.count.clamp(min=1)
        std = variance.sqrt()
        std = torch.where(std < eps, torch.ones_like(std), std)
        mean = torch.where(empty, torch.zeros_like(self.mean), self.mean)
        return BandStatistics(
            mean.to(torch.float32), std.to(torch.float32), self.count, self.wavelength
        )


def compute_band_statistics(
    dataset: Dataset[Sample],
    *,
    sampler: Sampler[Any] | Iterable[Any] | None = None,
    batch_size: int = 16,
    num_workers: int = 0,
    max_batches: int | None = None,
    collate_fn: Callable[[Sequence[Sample]], Sample] = collate_spectral,
) -> BandStatistics:
    """Per-band mean and std of ``image`` over a dataset, one batch at a time.

    Only one batch is in memory at once (running Chan/Welford sums). Non-finite
    values (nodata as NaN) and pixels outside a ``valid`` mask are ignored.

    Args:
        dataset: Any dataset of spectral samples (a training split).
        sampler: Sampler for geo datasets (e.g. ``RandomPatchSampler``), or None
            to iterate over the indices in order.
        batch_size: Samples per batch.
        num_workers: Data loader workers.
        max_batches: Stop after this many batches (None: all).
        collate_fn: Collation (refuses mixed band sets by default).

    Returns:
        The statistics.
    """
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_fn,
    )
    running = RunningBandStatistics()
    for i, batch in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        running.update(batch['image'], batch.get('valid'))
        if running.wavelength is None and 'wavelength' in batch:
            running.wavelength = batch['wavelength'][0].clone()
    return running.result()
