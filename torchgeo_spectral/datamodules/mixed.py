"""Pretraining data from a folder of cubes of different sensors.

:class:`MixedCubeFolderDataModule` reads every cube in a folder (ENVI, GeoTIFF,
``.npy``; georeferenced remote-sensing rasters and close-range proximal cubes
alike), groups the cubes by band set, tiles them into patches and serves
batches that each hold patches of one band set: sensors mix across batches,
never within one, as :class:`~torchgeo_spectral.tasks.SpectralMAETask` requires.
Georeferencing is not needed for masked-autoencoder pretraining and is ignored.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Sampler
from torchgeo.datamodules import NonGeoDataModule

Sample = dict[str, Tensor]


def standardise_sample(sample: Sample) -> Sample:
    """Scale a sample's image to zero mean and unit variance (one scalar each).

    One mean and one standard deviation over the whole patch keep the spectral
    shape while putting reflectance, radiance and raw counts on one scale.

    Args:
        sample: A sample with ``image``.

    Returns:
        The sample with a standardised ``image``.
    """
    image = sample['image'].float()
    std = image.std().clamp(min=1e-6)
    sample['image'] = (image - image.mean()) / std
    return sample


class BandSetBatchSampler(Sampler[list[int]]):
    """Batches drawn from one group (band set) at a time.

    Indices are shuffled within each group, cut into batches, and the batches of
    all groups are shuffled together (with ``shuffle``), deterministically for a
    seed and epoch. Under ``torch.distributed`` every rank takes every
    ``world_size``-th batch (the batch count is trimmed to a multiple).
    """

    def __init__(
        self,
        group_sizes: list[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        """Initialise the sampler.

        Args:
            group_sizes: Number of samples of each group, in concatenation order.
            batch_size: Samples per batch.
            shuffle: Shuffle within groups and the batch order.
            seed: Seed of the shuffles.
            drop_last: Drop incomplete batches.
        """
        self.group_sizes = group_sizes
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Change the shuffle of the next iteration (called by Lightning).

        Args:
            epoch: The epoch.
        """
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        """All batches of one epoch, before sharding across ranks.

        Returns:
            Lists of dataset indices.
        """
        rng = np.random.default_rng([self.seed, self.epoch])
        batches: list[list[int]] = []
        start = 0
        for size in self.group_sizes:
            order = start + (rng.permutation(size) if self.shuffle else np.arange(size))
            for i in range(0, size, self.batch_size):
                chunk = order[i : i + self.batch_size].tolist()
                if len(chunk) == self.batch_size or not self.drop_last:
                    batches.append(chunk)
            start += size
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            world = torch.distributed.get_world_size()
            rank = torch.distributed.get_rank()
            batches = batches[: len(batches) - len(batches) % world][rank::world]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        """Iterate over the batches of the current epoch."""
        yield from self._batches()

    def __len__(self) -> int:
        """Number of batches per epoch (on this rank)."""
        return len(self._batches())


def _band_key(
    wavelengths: Tensor, known: Iterable[tuple[float, ...]] = ()
) -> tuple[float, ...]:
    """Hashable identity of a band set: the first known one it matches.

    Band sets match by :func:`~torchgeo_spectral.wavelengths.same_band_set` (the
    package's one tolerance), so that cubes grouped together here are also
    collated together.

    Args:
        wavelengths: Band centres in nm.
        known: Keys of the band sets seen so far.

    Returns:
        The matching key, or the centres themselves for a new band set.
    """
    from ..wavelengths import find_band_set

    return find_band_set(wavelengths, known) or tuple(float(w) for w in wavelengths)


class MixedCubeFolderDataModule(NonGeoDataModule):
    """Patches of every cube in a folder, batched by band set, for pretraining.

    Each cube is read with
    :class:`~torchgeo_spectral.datasets.ProximalHyperspectral` (its wavelengths
    from the file metadata or sidecars), tiled into ``patch_size`` patches,
    standardised per patch, and assigned to the group of its band set. A
    ``val_fraction`` of each group's patches is held out for validation.

    Raises (in :meth:`setup`, before training): :class:`FileNotFoundError` for a
    missing folder, :class:`ValueError` when no file in it is a readable cube
    (the message lists each file and why it was skipped).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] = 'data',
        patch_size: int = 32,
        stride: int | None = None,
        batch_size: int = 16,
        num_workers: int = 0,
        val_fraction: float = 0.1,
        seed: int = 0,
    ) -> None:
        """Initialise the data module.

        Args:
            root: Folder of cubes (not recursive).
            patch_size: Side of the square patches.
            stride: Step between patches (default ``patch_size``).
            batch_size: Patches per batch.
            num_workers: Data loader workers.
            val_fraction: Fraction of each band set's patches for validation.
            seed: Seed of the split and the batch order.

        Raises:
            ValueError: If ``val_fraction`` is not in [0, 1).
        """
        from torchgeo_spectral.datasets import ProximalHyperspectral

        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
        super().__init__(ProximalHyperspectral, batch_size, num_workers)
        self.root = Path(root)
        self.patch_size = patch_size
        self.stride = stride
        self.val_fraction = val_fraction
        self.seed = seed
        self.aug = _identity
        self.skipped: dict[str, str] = {}
        self.groups: dict[tuple[float, ...], list[str]] = {}
        self._sizes: dict[str, list[int]] = {}

    def _read_cubes(self) -> dict[tuple[float, ...], list[Dataset[Sample]]]:
        """Open every readable cube, grouped by band set.

        Returns:
            Datasets of patches per band set.

        Raises:
            FileNotFoundError: If the folder does not exist.
            ValueError: If no file is a readable cube.
        """
        from torchgeo_spectral.datasets import ProximalHyperspectral
        from torchgeo_spectral.datasets.io import find_cubes

        if not self.root.is_dir():
            raise FileNotFoundError(f'{self.root}: no such folder of cubes')
        groups: dict[tuple[float, ...], list[Dataset[Sample]]] = {}
        self.skipped, self.groups = {}, {}
        for path in find_cubes(self.root):
            try:
                cube = ProximalHyperspectral(
                    path,
                    patch_size=self.patch_size,
                    stride=self.stride,
                    transforms=standardise_sample,
                )
            except (OSError, ValueError, RuntimeError, KeyError, TypeError) as error:
                self.skipped[path.name] = f'{type(error).__name__}: {error}'
                continue
            key = _band_key(cube.wavelengths, groups)
            groups.setdefault(key, []).append(cube)
            self.groups.setdefault(key, []).append(path.name)
        if not groups:
            listing = sorted(p.name for p in self.root.iterdir())
            detail = '; '.join(f'{k}: {v}' for k, v in self.skipped.items())
            raise ValueError(
                f'no readable cube in {self.root} (ENVI .hdr + data, GeoTIFF or '
                f'.npy with wavelengths); files: {listing[:10]}'
                + (f'; skipped: {detail}' if detail else '')
            )
        return groups

    def setup(self, stage: str) -> None:
        """Read the cubes and split each band set's patches into train/val.

        Args:
            stage: ``'fit'``, ``'validate'``, ``'test'`` or ``'predict'``.
        """
        generator = torch.Generator().manual_seed(self.seed)
        parts: dict[str, list[Dataset[Sample]]] = {'train': [], 'val': []}
        self._sizes = {'train': [], 'val': []}
        for datasets in self._read_cubes().values():
            group: ConcatDataset[Sample] = ConcatDataset(datasets)
            order = torch.randperm(len(group), generator=generator).tolist()
            num_val = round(self.val_fraction * len(group))
            if self.val_fraction > 0 and len(group) > 1:
                num_val = max(1, num_val)
            for name, index in (('val', order[:num_val]), ('train', order[num_val:])):
                if index:
                    parts[name].append(torch.utils.data.Subset(group, index))
                    self._sizes[name].append(len(index))
        self.train_dataset = ConcatDataset(parts['train'])
        self.val_dataset = ConcatDataset(parts['val']) if parts['val'] else None
        self.test_dataset = self.val_dataset

    def _loader(self, split: str, shuffle: bool) -> DataLoader[Sample]:
        """A loader whose batches each hold one band set.

        Args:
            split: ``'train'`` or ``'val'``.
            shuffle: Shuffle patches and batch order.

        Returns:
            The data loader.
        """
        from torchgeo_spectral.datasets import collate_spectral

        dataset = self._valid_attribute(f'{split}_dataset')
        sampler = BandSetBatchSampler(
            self._sizes[split], self.batch_size, shuffle=shuffle, seed=self.seed
        )
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate_spectral,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader[Sample]:
        """Shuffled training batches, one band set per batch."""
        return self._loader('train', shuffle=True)

    def val_dataloader(self) -> DataLoader[Sample]:
        """Validation batches, one band set per batch."""
        return self._loader('val', shuffle=False)

    def test_dataloader(self) -> DataLoader[Sample]:
        """Test batches (the validation patches), one band set per batch."""
        return self._loader('val', shuffle=False)


def _identity(batch: dict[str, Any]) -> dict[str, Any]:
    """Return the batch unchanged (patches are standardised when read).

    Args:
        batch: A batch.

    Returns:
        The same batch.
    """
    return batch
