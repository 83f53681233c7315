"""Data modules for non-georeferenced spectral datasets (proximal cubes, scenes)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch.utils.data import random_split
from torchgeo.datamodules import NonGeoDataModule
from torchgeo.datasets import NonGeoDataset

from ..datasets import ProximalHyperspectral
from ..datasets.scene import HyperspectralScene
from ._normalize import StreamedStatisticsMixin

__all__ = [
    'HyperspectralSceneDataModule',
    'ProximalHyperspectralDataModule',
    'SpectralNonGeoDataModule',
]


class SpectralNonGeoDataModule(StreamedStatisticsMixin, NonGeoDataModule):
    """Seeded random train/val/test split of a spectral NonGeoDataset.

    Per-band mean/std come from ``mean``/``std`` or are streamed over the
    training split (at most ``stats_batches`` batches; all when None) with
    :func:`~torchgeo_spectral.datamodules.compute_band_statistics`. Batches
    are collated with :func:`~torchgeo_spectral.datasets.collate_spectral`
    (``wavelength`` ``(B, C)``), normalised on the device with kornia and
    flipped during training when ``augment``.
    """

    def __init__(
        self,
        dataset_class: type[NonGeoDataset],
        batch_size: int = 32,
        num_workers: int = 0,
        val_split_pct: float = 0.2,
        test_split_pct: float = 0.2,
        seed: int = 0,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        stats_batches: int | None = None,
        augment: bool = True,
        **kwargs: Any,
    ) -> None:
        """Initialize a new SpectralNonGeoDataModule.

        Args:
            dataset_class: Dataset to build with ``**kwargs``.
            batch_size: Samples per batch.
            num_workers: Data loader workers.
            val_split_pct: Fraction of samples for validation.
            test_split_pct: Fraction of samples for testing.
            seed: Seed of the split.
            mean: Band means (skip streaming statistics).
            std: Band standard deviations.
            stats_batches: Training batches streamed for the statistics.
            augment: Random flips during training.
            **kwargs: Passed to ``dataset_class``.

        Raises:
            ValueError: If the split fractions leave no training data.
        """
        super().__init__(dataset_class, batch_size, num_workers, **kwargs)
        if not 0 <= val_split_pct < 1 or not 0 <= test_split_pct < 1:
            raise ValueError('split fractions must be in [0, 1)')
        if val_split_pct + test_split_pct >= 1:
            raise ValueError('val_split_pct + test_split_pct must be below 1')
        self.val_split_pct = val_split_pct
        self.test_split_pct = test_split_pct
        self.seed = seed
        self._init_statistics(mean, std, stats_batches, augment)

    def setup(self, stage: str) -> None:
        """Build and split the dataset, and the normalisation.

        Args:
            stage: ``'fit'``, ``'validate'``, ``'test'`` or ``'predict'``.
        """
        dataset = self.dataset_class(**self.kwargs)
        fractions = [
            1 - self.val_split_pct - self.test_split_pct,
            self.val_split_pct,
            self.test_split_pct,
        ]
        generator = torch.Generator().manual_seed(self.seed)
        train, val, test = random_split(dataset, fractions, generator=generator)
        self.train_dataset, self.val_dataset, self.test_dataset = train, val, test
        self.predict_dataset = dataset
        self._setup_statistics(train, None)


class ProximalHyperspectralDataModule(SpectralNonGeoDataModule):
    """A folder of close-range cubes (:class:`ProximalHyperspectral`), split.

    Use ``patch_size`` (passed to the dataset) unless every cube has the same
    size, so that samples can be batched.
    """

    def __init__(self, root: str | os.PathLike[str] = 'data', **kwargs: Any) -> None:
        """Initialize a new ProximalHyperspectralDataModule.

        Args:
            root: Folder of cubes.
            **kwargs: The split, statistics and loader arguments of
                :class:`SpectralNonGeoDataModule` (``batch_size``,
                ``val_split_pct``, ``seed``, ``mean``, ...), the rest passed to
                :class:`ProximalHyperspectral` (``labels``, ``masks``, ``dark``,
                ``white``, ``patch_size``, ...).
        """
        super().__init__(ProximalHyperspectral, root=root, **kwargs)


def scene_class(name: str | type[HyperspectralScene]) -> type[HyperspectralScene]:
    """Look up a scene class by name, class path, or the class itself.

    Args:
        name: A classic scene name (``'IndianPines'``), the dotted path of a
            :class:`HyperspectralScene` subclass, or the subclass.

    Returns:
        The class.

    Raises:
        ValueError: If the name is unknown or not a ``HyperspectralScene``.
    """
    from .scene import resolve_scene_class

    return resolve_scene_class(name)


class HyperspectralSceneDataModule(SpectralNonGeoDataModule):
    """A classic benchmark scene (Indian Pines, Pavia, ...), randomly split.

    In ``'patch'`` mode the labelled pixels are split at random (note that
    neighbouring patches overlap, so random pixel splits overestimate accuracy;
    use the geo samplers for spatially disjoint splits).
    """

    def __init__(
        self,
        scene: str | type[HyperspectralScene] = 'IndianPines',
        root: str | os.PathLike[str] = 'data',
        mode: Literal['patch', 'tile'] = 'patch',
        **kwargs: Any,
    ) -> None:
        """Initialize a new HyperspectralSceneDataModule.

        Args:
            scene: Scene class name (``IndianPines``, ``PaviaUniversity``,
                ``PaviaCentre``, ``Salinas``, ``KennedySpaceCenter``,
                ``Botswana``, ``Houston2013``), or any
                :class:`HyperspectralScene` subclass or its class path.
            root: Folder of the scene files.
            mode: ``'patch'`` or ``'tile'``.
            **kwargs: The split, statistics and loader arguments of
                :class:`SpectralNonGeoDataModule` (``batch_size``,
                ``val_split_pct``, ``seed``, ``mean``, ...), the rest passed to
                the scene (``patch_size``, ``tile_size``, ``download``,
                ``checksum``).
        """
        super().__init__(scene_class(scene), root=root, mode=mode, **kwargs)
