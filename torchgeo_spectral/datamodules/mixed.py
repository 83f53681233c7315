"""Pretraining data from a folder of cubes of different sensors.

:class:`MixedCubeFolderDataModule` reads every cube in a folder (ENVI, GeoTIFF,
``.npy``; georeferenced remote-sensing rasters and close-range proximal cubes
alike), groups the cubes by band set, crops them into patches and serves
batches that each hold patches of one band set: sensors mix across batches,
never within one, as :class:`~torchgeo_spectral.tasks.SpectralMAETask` requires.
Georeferencing is not needed for masked-autoencoder pretraining and is ignored.

What it does to the data, and why (see the design's small-data recipe):

* **Nodata-aware crops**: pixels equal to the file's (or the given) nodata
  value, or not finite, are nodata; patches whose share of nodata pixels
  exceeds ``max_nodata_fraction`` (default 0: any) are not served. The
  remaining nodata pixels are 0 in ``image`` and False in ``valid``.
* **Bad bands dropped**: the file's bad-band list (``bbl``) and bands without a
  single valid value (e.g. EnMAP's -32768 water-vapour bands) are removed.
* **Scaling that keeps spectral shape and level**: one scalar per band set
  (``scaling='sensor'``: its mean valid value becomes 1) or a fixed factor for
  all (``scaling=1e-4`` for reflectance x 10^4), never per-cube or per-band
  z-scores, which would map every cube's mean spectrum to zero.
* **Spectral augmentation** of training batches: simulation of a random
  coarser sensor, brightness and tilt, noise and band dropout
  (:mod:`torchgeo_spectral.transforms`).
* **Small cubes** (smaller than ``patch_size``) are padded (``valid`` False in
  the padding) and reported with a warning, or skipped with a warning.
* **In-memory cache**: each cube is read once, band-selected and scaled, so a
  batch is a few tensor slices instead of a disk read per patch.
"""

import fnmatch
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, override

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset
from torchgeo.datamodules import NonGeoDataModule
from torchgeo.datasets.utils import Sample

from ..samplers.band_set import BandSetBatchSampler
from ..transforms import (
    RandomBandDropout,
    RandomGaussianNoise,
    RandomIlluminationScale,
    RandomSimulateSensor,
)

__all__ = ['MixedCubeFolderDataModule']


#: Sensors that training batches may be resampled to (coarser than the source).
DEFAULT_SIMULATED_SENSORS = ('sentinel2', 'landsat8', 'desis', 'rgb')


def _positions(length: int, patch: int, step: int) -> list[int]:
    """Offsets of patches along one axis, the last one flush with the edge.

    Args:
        length: Pixels along the axis.
        patch: Patch side.
        step: Stride.

    Returns:
        Offsets (``[0]`` when the axis is shorter than the patch: padded).
    """
    if length <= patch:
        return [0]
    offsets = list(range(0, length - patch + 1, step))
    if offsets[-1] != length - patch:
        offsets.append(length - patch)
    return offsets


def _to_sample_arrays(
    array: npt.NDArray[np.float32], factor: float
) -> tuple[Tensor, Tensor]:
    """Scale a block with NaN for nodata; nodata becomes 0 and invalid.

    Args:
        array: ``(C, h, w)`` values, NaN where nodata.
        factor: Scale factor of its band set.

    Returns:
        ``image`` ``(C, h, w)`` float32 and ``valid`` ``(h, w)`` bool.
    """
    image = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    finite = torch.isfinite(image)
    valid = finite.all(dim=0)
    image = torch.where(finite, image * factor, 0.0)
    return image, valid


@dataclass
class _Cube:
    """One cube of a band set, its band choice, nodata value and scale.

    Attributes:
        path: The cube file.
        info: Its metadata (``CubeInfo``).
        indexes: File band indices to read, in wavelength order.
        nodata: Nodata value (NaN is always nodata), or None.
        factor: Scale factor of its band set.
        image: Cached scaled image ``(C, H, W)`` (0 at nodata), or None.
        valid: Cached ``(H, W)`` mask of valid pixels, or None.
    """

    path: Path
    info: Any
    indexes: npt.NDArray[np.intp]
    nodata: float | None
    factor: float = 1.0
    image: Tensor | None = None
    valid: Tensor | None = None

    def read_bands(
        self, window: tuple[int, int, int, int] | None = None
    ) -> npt.NDArray[np.float32]:
        """Read the selected bands from disk as they are stored.

        Args:
            window: ``(row, col, height, width)`` inside the cube, or None.

        Returns:
            ``(C, h, w)`` float32.
        """
        from ..datasets.io import read_cube

        return read_cube(self.info, self.indexes, window)

    def read(
        self, window: tuple[int, int, int, int] | None = None
    ) -> npt.NDArray[np.float32]:
        """The bands of :meth:`read_bands` with the nodata value as NaN."""
        array = self.read_bands(window)
        if self.nodata is not None and not np.isnan(self.nodata):
            array[array == np.float32(self.nodata)] = np.nan
        return array

    def crop(self, row: int, col: int, size: int) -> tuple[Tensor, Tensor]:
        """One ``size`` x ``size`` patch, padded past the cube's edge.

        Args:
            row: Top row.
            col: Left column.
            size: Patch side.

        Returns:
            ``image`` ``(C, size, size)`` and ``valid`` ``(size, size)``.
        """
        height = min(size, self.info.height - row)
        width = min(size, self.info.width - col)
        if self.image is not None and self.valid is not None:
            image = self.image[:, row : row + height, col : col + width].clone()
            valid = self.valid[row : row + height, col : col + width].clone()
        else:
            block = self.read((row, col, height, width))
            image, valid = _to_sample_arrays(block, self.factor)
        if height < size or width < size:
            pad = (0, size - width, 0, size - height)
            image = F.pad(image, pad, value=0.0)
            valid = F.pad(valid, pad, value=False)
        return image, valid


class _CubePatches(Dataset[Sample]):
    """The patches of one cube (windows chosen at setup)."""

    def __init__(
        self, cube: _Cube, windows: list[tuple[int, int]], size: int, wavelength: Tensor
    ) -> None:
        """Initialize the patches.

        Args:
            cube: The cube.
            windows: ``(row, col)`` of every patch.
            size: Patch side.
            wavelength: ``(C,)`` band centres in nm of the served bands.
        """
        self.cube = cube
        self.windows = windows
        self.size = size
        self.wavelength = wavelength

    def __len__(self) -> int:
        """Number of patches."""
        return len(self.windows)

    @override
    def __getitem__(self, index: int) -> Sample:
        """Patch ``index``: ``image``, ``wavelength`` and ``valid``."""
        row, col = self.windows[index]
        image, valid = self.cube.crop(row, col, self.size)
        return {'image': image, 'wavelength': self.wavelength.clone(), 'valid': valid}


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

    Each cube is opened with
    :class:`~torchgeo_spectral.datasets.ProximalHyperspectral` (its wavelengths
    from the file metadata or sidecars, bands sorted by wavelength), read once,
    cleaned (nodata, bad bands), scaled per band set and cropped into
    ``patch_size`` patches that avoid nodata; see the module documentation. A
    ``val_fraction`` of each band set's patches is held out for validation.

    Samples hold ``image`` ``(C, p, p)``, ``wavelength`` ``(C,)`` and ``valid``
    ``(p, p)``. Files that cannot be used are skipped with a warning naming
    them and the reason (also kept in :attr:`skipped`); :attr:`report` counts
    each cube's patches, :attr:`dropped_bands` and :attr:`scales` say what was
    done to each band set.

    Raises (in :meth:`setup`, before training): :class:`FileNotFoundError` for a
    missing folder, :class:`ValueError` when no file in it is a readable cube
    (the message lists each file and why it was skipped).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = 'data',
        patch_size: int = 32,
        stride: int | None = None,
        batch_size: int = 16,
        num_workers: int = 0,
        val_fraction: float = 0.1,
        seed: int = 0,
        *,
        nodata: float | None = None,
        drop_bad_bands: bool = True,
        max_nodata_fraction: float = 0.0,
        scaling: float | Literal['sensor', 'none'] = 'sensor',
        small_cubes: Literal['pad', 'skip'] = 'pad',
        augment: bool = True,
        simulate_sensors: Sequence[str] = DEFAULT_SIMULATED_SENSORS,
        cache: bool = True,
        recursive: bool = False,
        exclude: Sequence[str] = (),
        wavelengths: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        """Initialize the data module.

        Args:
            root: Folder of cubes, or a list of folders.
            patch_size: Side of the square patches.
            stride: Step between patches (default ``patch_size``).
            batch_size: Patches per batch.
            num_workers: Data loader workers.
            val_fraction: Fraction of each band set's patches for validation.
            seed: Seed of the split and the batch order.
            nodata: Nodata value of every cube, overriding the files' own (NaN
                is always nodata).
            drop_bad_bands: Drop the files' bad bands (``bbl``) and bands with
                no valid value in some cube of the band set.
            max_nodata_fraction: Largest share of nodata pixels in a served
                patch (0: patches touching nodata are avoided).
            scaling: ``'sensor'`` (divide each band set by its mean valid value),
                a number (multiply every cube by it, e.g. ``1e-4``) or ``'none'``.
            small_cubes: ``'pad'`` cubes smaller than ``patch_size`` (with a
                warning) or ``'skip'`` them (with a warning).
            augment: Augment training batches (sensor simulation, brightness,
                noise, band dropout).
            simulate_sensors: Sensors that training batches may be resampled to
                (empty: no sensor simulation).
            cache: Keep the cleaned, scaled cubes in memory (else every patch is
                read from disk; setup reads every cube once either way).
            recursive: Also read the cubes in the subfolders of each root.
            exclude: Shell patterns (:mod:`fnmatch`) of files to leave out,
                matched against each file's path relative to its root (e.g.
                ``'enmap_potsdam/*'``, ``'*_obs*'``), e.g. to hold out a scene.
            wavelengths: Band centres (nm, file band order) of files whose
                metadata has none, keyed by a shell pattern of the path relative
                to the root (e.g. ``{'sentinel2_demmin/sentinel2_*.tif': [664.6,
                559.8, 492.4, 832.8]}``).

        Raises:
            ValueError: If an argument is out of range.
        """
        from torchgeo_spectral.datasets import ProximalHyperspectral

        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
        if not 0.0 <= max_nodata_fraction < 1.0:
            msg = f'max_nodata_fraction must be in [0, 1), got {max_nodata_fraction}'
            raise ValueError(msg)
        if isinstance(scaling, str) and scaling not in ('sensor', 'none'):
            msg = f"scaling must be 'sensor', 'none' or a number, got {scaling!r}"
            raise ValueError(msg)
        if not isinstance(scaling, str) and not scaling > 0:
            raise ValueError(f'a scaling factor must be positive, got {scaling}')
        if small_cubes not in ('pad', 'skip'):
            raise ValueError(
                f"small_cubes must be 'pad' or 'skip', got {small_cubes!r}"
            )
        if patch_size < 1 or (stride is not None and stride < 1):
            raise ValueError(
                f'patch_size and stride must be >= 1, got {patch_size}, {stride}'
            )
        super().__init__(ProximalHyperspectral, batch_size, num_workers)
        roots = [root] if isinstance(root, (str, os.PathLike)) else list(root)
        if not roots:
            raise ValueError('root must name at least one folder of cubes')
        self.roots = [Path(folder) for folder in roots]
        self.root = self.roots[0]
        self.recursive = recursive
        self.exclude = tuple(exclude)
        self.file_wavelengths = dict(wavelengths or {})
        self.patch_size = patch_size
        self.stride = stride
        self.val_fraction = val_fraction
        self.seed = seed
        self.nodata = nodata
        self.drop_bad_bands = drop_bad_bands
        self.max_nodata_fraction = max_nodata_fraction
        self.scaling = scaling
        self.small_cubes = small_cubes
        self.cache = cache
        # Patches are scaled when read: no normalization.
        self.aug = nn.Identity()
        self.train_aug = (
            _pretraining_augmentation(simulate_sensors) if augment else None
        )
        self.skipped: dict[str, str] = {}
        self.groups: dict[tuple[float, ...], list[str]] = {}
        self.report: dict[str, dict[str, int]] = {}
        self.dropped_bands: dict[tuple[float, ...], list[float]] = {}
        self.scales: dict[tuple[float, ...], float] = {}
        self._sizes: dict[str, list[int]] = {}

    def _skip(self, name: str, reason: str) -> None:
        """Record and warn about a file that is not used.

        Args:
            name: File name.
            reason: Why.
        """
        self.skipped[name] = reason
        warnings.warn(
            f'{type(self).__name__}: skipping {name}: {reason}',
            UserWarning,
            stacklevel=3,
        )

    def excluded(self, relative: str) -> bool:
        """Whether a file is left out by :attr:`exclude`.

        Args:
            relative: Its path relative to its root, with ``/`` separators.

        Returns:
            True if a pattern matches the path or the file name.
        """
        name = relative.rsplit('/', 1)[-1]
        return any(
            fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(name, pattern)
            for pattern in self.exclude
        )

    def _cube_files(self) -> list[tuple[Path, str]]:
        """Every cube file of the roots that :attr:`exclude` does not leave out.

        Returns:
            ``(path, path relative to its root)`` pairs.

        Raises:
            FileNotFoundError: If a root is not a folder.
        """
        from torchgeo_spectral.datasets.io import find_cubes

        files: list[tuple[Path, str]] = []
        for root in self.roots:
            if not root.is_dir():
                raise FileNotFoundError(f'{root}: no such folder of cubes')
            folders = [root]
            if self.recursive:
                folders += sorted(p for p in root.rglob('*') if p.is_dir())
            for folder in folders:
                for path in find_cubes(folder):
                    relative = path.relative_to(root).as_posix()
                    if not self.excluded(relative):
                        files.append((path, relative))
        return files

    def _given_wavelengths(self, relative: str) -> list[float] | None:
        """Band centres given in :attr:`file_wavelengths` for a file.

        Args:
            relative: The file's path relative to its root.

        Returns:
            The centres of the first matching pattern, or None.
        """
        for pattern, centres in self.file_wavelengths.items():
            if fnmatch.fnmatch(relative, pattern):
                return [float(value) for value in centres]
        return None

    def _file_cubes(self) -> list[tuple[str, _Cube, Tensor, npt.NDArray[np.float32]]]:
        """Every readable cube file of the roots, read; unreadable files skipped.

        Returns:
            ``(path relative to its root, cube, wavelengths, data)`` per file.
        """
        from torchgeo_spectral.datasets import ProximalHyperspectral

        cubes = []
        for path, relative in self._cube_files():
            try:
                dataset = ProximalHyperspectral(
                    path,
                    wavelengths=self._given_wavelengths(relative),
                    drop_bad_bands=self.drop_bad_bands,
                )
                info = dataset.infos[0]
                nodata = self.nodata if self.nodata is not None else info.nodata
                cube = _Cube(path, info, dataset.selection.indexes, nodata)
                array = cube.read()
            except (OSError, ValueError, RuntimeError, KeyError, TypeError) as error:
                self._skip(relative, f'{type(error).__name__}: {error}')
                continue
            cubes.append((relative, cube, dataset.wavelengths, array))
        return cubes

    def _extra_cubes(self) -> list[tuple[str, _Cube, Tensor, npt.NDArray[np.float32]]]:
        """Cubes that are not single files (a hook for subclasses).

        Returns:
            ``(name, cube, wavelengths, data)`` per cube; none here.
        """
        return []

    def _open_cubes(
        self,
    ) -> dict[tuple[float, ...], list[tuple[_Cube, Tensor, npt.NDArray[np.float32]]]]:
        """Open and read every usable cube, grouped by band set.

        Returns:
            Per band set: the cube, its wavelengths and its data (NaN at nodata).

        Raises:
            FileNotFoundError: If a root folder does not exist.
            ValueError: If no file is a readable cube.
        """
        opened: dict[
            tuple[float, ...], list[tuple[_Cube, Tensor, npt.NDArray[np.float32]]]
        ] = {}
        for name, cube, wavelength, array in [
            *self._file_cubes(),
            *self._extra_cubes(),
        ]:
            if not np.isfinite(array).any():
                self._skip(name, 'every value is nodata')
                continue
            key = _band_key(wavelength, opened)
            opened.setdefault(key, []).append((cube, wavelength, array))
        if not opened:
            listing = sorted(p.name for root in self.roots for p in root.iterdir())
            detail = '; '.join(f'{k}: {v}' for k, v in self.skipped.items())
            where = ', '.join(str(root) for root in self.roots)
            raise ValueError(
                f'no readable cube in {where} (ENVI .hdr + data, GeoTIFF or '
                f'.npy with wavelengths); files: {listing[:10]}'
                + (f'; skipped: {detail}' if detail else '')
            )
        return opened

    def _scale_factor(self, arrays: Sequence[npt.NDArray[np.float32]]) -> float:
        """The scale factor of one band set.

        Args:
            arrays: Its cubes (kept bands, NaN at nodata).

        Returns:
            The factor every value of the band set is multiplied by.
        """
        if not isinstance(self.scaling, str):
            return float(self.scaling)
        if self.scaling == 'none':
            return 1.0
        total, count = 0.0, 0
        for array in arrays:
            valid = np.isfinite(array).all(axis=0)
            values = array[:, valid]
            total += float(np.abs(values, dtype=np.float64).sum())
            count += values.size
        level = total / max(count, 1)
        return 1.0 / level if level > 0 else 1.0

    def _windows(
        self, cube: _Cube, valid: npt.NDArray[np.bool_]
    ) -> list[tuple[int, int]]:
        """Patch offsets of a cube that respect ``max_nodata_fraction``.

        Args:
            cube: The cube.
            valid: Its ``(H, W)`` valid-pixel mask.

        Returns:
            ``(row, col)`` offsets; the cube's counts go to :attr:`report`.
        """
        size = self.patch_size
        step = self.stride or size
        height, width = valid.shape
        # Summed-area table: invalid pixels of any window in O(1).
        table = np.zeros((height + 1, width + 1), dtype=np.int64)
        table[1:, 1:] = (~valid).cumsum(0).cumsum(1)
        kept: list[tuple[int, int]] = []
        total = touching = 0
        for row in _positions(height, size, step):
            for col in _positions(width, size, step):
                r1, c1 = min(row + size, height), min(col + size, width)
                bad = table[r1, c1] - table[row, c1] - table[r1, col] + table[row, col]
                area = (r1 - row) * (c1 - col)
                total += 1
                touching += int(bad > 0)
                if bad <= self.max_nodata_fraction * area:
                    kept.append((row, col))
        self.report[cube.path.name] = {
            'patches': total,
            'touching_nodata': touching,
            'served': len(kept),
        }
        return kept

    def _read_cubes(self) -> dict[tuple[float, ...], list[Dataset[Sample]]]:
        """Open, clean, scale and crop every usable cube, grouped by band set.

        Returns:
            Datasets of patches per band set.

        Raises:
            FileNotFoundError: If the folder does not exist.
            ValueError: If no file is a readable cube.
        """
        self.skipped, self.groups, self.report = {}, {}, {}
        self.dropped_bands, self.scales = {}, {}
        groups: dict[tuple[float, ...], list[Dataset[Sample]]] = {}
        for key, members in self._open_cubes().items():
            wavelength = members[0][1]
            keep = np.ones(wavelength.numel(), dtype=bool)
            if self.drop_bad_bands:
                for _, _, array in members:
                    keep &= np.isfinite(array).any(axis=(1, 2))
            if not keep.any():
                for cube, _, _ in members:
                    self._skip(
                        cube.path.name,
                        'no band has a valid value in every cube of its band set',
                    )
                continue
            self.dropped_bands[key] = [
                float(w) for w in wavelength[torch.from_numpy(~keep)]
            ]
            arrays = [array[keep] for _, _, array in members]
            factor = self._scale_factor(arrays)
            self.scales[key] = factor
            served = wavelength[torch.from_numpy(keep)].clone()
            for (cube, _, _), array in zip(members, arrays, strict=True):
                cube.indexes = cube.indexes[keep]
                cube.factor = factor
                valid = np.isfinite(array).all(axis=0)
                height, width = valid.shape
                if height < self.patch_size or width < self.patch_size:
                    size = f'{height} x {width} px is smaller than patch_size={self.patch_size}'
                    if self.small_cubes == 'skip':
                        self._skip(cube.path.name, f"{size} (small_cubes='skip')")
                        continue
                    warnings.warn(
                        f'MixedCubeFolderDataModule: {cube.path}: {size}; its patches '
                        'are zero-padded (valid=False in the padding)',
                        UserWarning,
                        stacklevel=2,
                    )
                windows = self._windows(cube, valid)
                if not windows:
                    self._skip(
                        cube.path.name,
                        f'every patch has more than {self.max_nodata_fraction:.0%} '
                        'nodata pixels (raise max_nodata_fraction to use it)',
                    )
                    continue
                if self.cache:
                    cube.image, cube.valid = _to_sample_arrays(array, factor)
                groups.setdefault(key, []).append(
                    _CubePatches(cube, windows, self.patch_size, served)
                )
                self.groups.setdefault(key, []).append(cube.path.name)
        if not groups:
            detail = '; '.join(f'{k}: {v}' for k, v in self.skipped.items())
            where = ', '.join(str(root) for root in self.roots)
            raise ValueError(f'no usable cube in {where}; skipped: {detail}')
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
                    parts[name].append(Subset(group, index))
                    self._sizes[name].append(len(index))
        self.train_dataset = ConcatDataset(parts['train'])
        self.val_dataset = ConcatDataset(parts['val']) if parts['val'] else None
        self.test_dataset = self.val_dataset

    def _batches(
        self, split: str, shuffle: bool
    ) -> tuple[Dataset[Sample], BandSetBatchSampler]:
        """The dataset of a split and its sampler of one-band-set batches.

        Args:
            split: ``'train'`` or ``'val'``.
            shuffle: Shuffle patches and batch order.

        Returns:
            The dataset and the batch sampler.
        """
        dataset: Dataset[Sample] = self._valid_attribute(f'{split}_dataset')
        sampler = BandSetBatchSampler(
            self._sizes[split], self.batch_size, shuffle=shuffle, seed=self.seed
        )
        return dataset, sampler

    def _loader(self, split: str, shuffle: bool) -> DataLoader[Sample]:
        """A loader whose batches each hold one band set.

        Args:
            split: ``'train'`` or ``'val'``.
            shuffle: Shuffle patches and batch order (training).

        Returns:
            The data loader.
        """
        from torchgeo_spectral.datasets import collate_spectral

        dataset, sampler = self._batches(split, shuffle)
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


def _pretraining_augmentation(simulate_sensors: Sequence[str]) -> nn.Sequential:
    """Spectral augmentation of pretraining batches (on the device).

    A random coarser sensor (when the batch's band set allows one), brightness
    with a mild spectral tilt, sensor noise, and removal of random bands: the
    encoder learns spectra that survive other sensors and illumination.

    Args:
        simulate_sensors: Sensors to draw from (empty: no sensor simulation).

    Returns:
        The pipeline; each step passes ``valid`` and other keys through.
    """
    steps: list[nn.Module] = []
    if simulate_sensors:
        steps.append(RandomSimulateSensor(tuple(simulate_sensors), p=0.25))
    steps += [
        RandomIlluminationScale(scale=(0.8, 1.25), tilt=(-0.2, 0.2), p=0.5),
        RandomGaussianNoise(snr_db=(25.0, 50.0), p=0.5),
        RandomBandDropout(drop_prob=0.1, mode='remove', min_keep=3, p=0.25),
    ]
    return nn.Sequential(*steps)
