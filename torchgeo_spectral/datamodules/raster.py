"""Data module for georeferenced spectral rasters (optionally with a label raster)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import torch
from torchgeo.datamodules import GeoDataModule
from torchgeo.datasets import GeoDataset, RasterDataset
from torchgeo.datasets.splits import random_bbox_assignment, random_grid_cell_assignment
from torchgeo.samplers import GriddedPatchSampler, RandomPatchSampler

from ..datasets import HyperspectralRaster
from ..datasets.io import is_sidecar
from ._normalize import StreamedStatisticsMixin

__all__ = ['HyperspectralRasterDataModule', 'LabelRaster']

PathLike = str | os.PathLike[str]


class LabelRaster(RasterDataset):
    """Single-band label rasters (``mask``), headers and side files ignored."""

    is_image = False

    @property
    def files(self) -> list[str]:
        """Raster files (headers and side files excluded).

        Returns:
            Sorted file paths.
        """
        return [f for f in super().files if not is_sidecar(f)]


class HyperspectralRasterDataModule(StreamedStatisticsMixin, GeoDataModule):
    """Spatially split patches of a :class:`HyperspectralRaster`.

    The image dataset (intersected with a :class:`LabelRaster` when
    ``label_paths`` is given) is split spatially with TorchGeo's
    :func:`~torchgeo.datasets.splits.random_grid_cell_assignment` (``split=
    'grid'``, each file cut into ``grid_size`` x ``grid_size`` cells) or
    :func:`~torchgeo.datasets.splits.random_bbox_assignment` (``split='files'``,
    whole files), seeded by ``seed``. Training draws ``length`` random patches
    (:class:`~torchgeo.samplers.RandomPatchSampler`); validation and test
    cover their regions with :class:`~torchgeo.samplers.GriddedPatchSampler`.

    Per-band mean/std come from ``mean``/``std`` or are streamed over
    ``stats_batches`` training batches
    (:func:`~torchgeo_spectral.datamodules.compute_band_statistics`); batches
    are normalized on the device, flipped during training, and keep
    ``wavelength`` ``(B, C)``.
    """

    def __init__(
        self,
        paths: PathLike | Iterable[PathLike] = 'data',
        label_paths: PathLike | Iterable[PathLike] | None = None,
        batch_size: int = 8,
        patch_size: int | tuple[int, int] = 64,
        length: int | None = None,
        num_workers: int = 0,
        split: Literal['grid', 'files'] = 'grid',
        split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
        grid_size: int = 6,
        seed: int = 0,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        stats_batches: int | None = 16,
        augment: bool = True,
        **kwargs: Any,
    ) -> None:
        """Initialize a new HyperspectralRasterDataModule.

        Args:
            paths: Image files or folders.
            label_paths: Label raster files or folders (``mask``), or None.
            batch_size: Patches per batch.
            patch_size: Patch side in pixels.
            length: Training patches per epoch (default: as TorchGeo).
            num_workers: Data loader workers.
            split: ``'grid'`` (cells of every file) or ``'files'`` (whole files).
            split_fractions: Train/val/test fractions.
            grid_size: Rows and columns of the split grid.
            seed: Seed of the split and of the training sampler.
            mean: Band means (skip streaming statistics).
            std: Band standard deviations.
            stats_batches: Training batches streamed for the statistics.
            augment: Random flips during training.
            **kwargs: Passed to :class:`HyperspectralRaster` (``sensor``,
                ``wavelengths``, ``bad_bands``, ``drop_bad_bands``, ``crs``,
                ``res``, ``fill_value``, ...).

        Raises:
            ValueError: For an unknown split or fractions of the wrong length.
        """
        super().__init__(
            HyperspectralRaster, batch_size, patch_size, length, num_workers, **kwargs
        )
        if split not in ('grid', 'files'):
            raise ValueError(f"split must be 'grid' or 'files', got {split!r}")
        if len(split_fractions) != 3:
            raise ValueError('split_fractions needs three values (train, val, test)')
        self.paths = paths
        self.label_paths = label_paths
        self.split = split
        self.split_fractions = list(split_fractions)
        self.grid_size = grid_size
        self.seed = seed
        self._init_statistics(mean, std, stats_batches, augment)

    def _build(self) -> GeoDataset:
        """The full (image [& label]) dataset.

        Returns:
            The dataset.
        """
        image = HyperspectralRaster(self.paths, **self.kwargs)
        if self.label_paths is None:
            return image
        return image & LabelRaster(self.label_paths)

    def setup(self, stage: str) -> None:
        """Split the dataset, build samplers and normalization.

        Args:
            stage: ``'fit'``, ``'validate'``, ``'test'`` or ``'predict'``.
        """
        dataset = self._build()
        generator = torch.Generator().manual_seed(self.seed)
        if self.split == 'grid':
            train, val, test = random_grid_cell_assignment(
                dataset, self.split_fractions, self.grid_size, generator=generator
            )
        else:
            train, val, test = random_bbox_assignment(
                dataset, self.split_fractions, generator=generator
            )
        self.train_dataset, self.val_dataset, self.test_dataset = train, val, test
        self.predict_dataset = dataset
        self.train_sampler = RandomPatchSampler(
            train, size=self.patch_size, length=self.length, generator=self.seed
        )
        self.val_sampler = GriddedPatchSampler(val, size=self.patch_size)
        self.test_sampler = GriddedPatchSampler(test, size=self.patch_size)
        self.predict_sampler = GriddedPatchSampler(dataset, size=self.patch_size)
        self._setup_statistics(
            train,
            RandomPatchSampler(
                train, size=self.patch_size, length=self.length, generator=self.seed
            ),
        )
