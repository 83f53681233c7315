"""The foundation pretraining corpus: every real cube plus a spectral library.

:class:`FoundationDataModule` serves the data of the shipped checkpoint
(:class:`~torchgeo_spectral.models.SpectralViT_Weights`): small windows of every
real cube under one or more folders, read, cleaned, scaled and cropped by
:class:`~torchgeo_spectral.datamodules.MixedCubeFolderDataModule` (nodata-aware
crops, bad bands dropped, one scale per band set), interleaved batch by batch
with synthetic scenes of real laboratory and field spectra
(:class:`~torchgeo_spectral.datasets.SyntheticLibraryScenes`: earthlib spectra
mixed in abundance fields, seen by random real sensors and random band sets of
3-400 bands). Each batch holds one band set, as
:class:`~torchgeo_spectral.tasks.SpectralMAETask` requires.

Two things the folder module does not do are added here:

* **Band stacks**: sensors that ship one single-band file per band (e.g. the
  Landsat 8 ``*_B1.tif`` ... ``*_B11.tif`` files) are stacked into one cube,
  each file's band named by the ``_B<name>`` suffix of its stem and placed at
  that band's centre in a sensor table of :mod:`torchgeo_spectral.sensors`.
* **Balance**: a band set contributes at most ``max_batches_per_band_set``
  batches per epoch (a fresh random subset each epoch), so that a large
  multispectral scene does not drown a small hyperspectral one, and the library
  adds ``library_fraction`` of all batches (new scenes every epoch).

``exclude`` (shell patterns of paths relative to a root) leaves scenes out, so
that a leave-one-scene-out checkpoint is trained with the same recipe.
"""

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, override

import numpy as np
import numpy.typing as npt
import rasterio
import torch
from rasterio.windows import Window
from torch import Tensor, nn
from torch.utils.data import ConcatDataset, Dataset
from torchgeo.datasets.utils import Sample

from ..rasterio_env import read_env as rasterio_env
from ..samplers.band_set import BandSetBatchSampler
from ..transforms import RandomBandSubset
from .mixed import MixedCubeFolderDataModule, _Cube

__all__ = ['FoundationBatchSampler', 'FoundationDataModule', 'LibraryPatches']

#: Stem suffix that names the band of a single-band file, e.g. ``l8_B4``.
_BAND_SUFFIX = re.compile(r'_(B\w+)$', re.IGNORECASE)


@dataclass
class _StackInfo:
    """Size of a band stack (what :class:`_Cube` needs of a file's metadata).

    Attributes:
        height: Rows.
        width: Columns.
        files: One single-band file per band, in wavelength order.
    """

    height: int
    width: int
    files: list[Path] = field(default_factory=list)


class _BandStack(_Cube):
    """A cube made of single-band files of one sensor (see the module doc)."""

    @override
    def read_bands(
        self, window: tuple[int, int, int, int] | None = None
    ) -> npt.NDArray[np.float32]:
        """Read the selected band files (``window``: row, col, height, width).

        Raises:
            ValueError: Naming the file, if a band file cannot be read.
        """
        info: _StackInfo = self.info
        row, col, height, width = window or (0, 0, info.height, info.width)
        bands = []
        for index in self.indexes:
            path = info.files[int(index)]
            try:
                with rasterio_env(), rasterio.open(path) as src:
                    bands.append(
                        src.read(
                            1,
                            window=Window(col, row, width, height),
                            out_dtype='float32',
                        )
                    )
            except rasterio.errors.RasterioError as error:
                raise ValueError(f'cannot read band file {path}: {error}') from error
        return np.stack(bands).astype(np.float32)


class LibraryPatches(Dataset[Sample]):
    """Library scenes as pretraining patches: scaled, with a ``valid`` mask.

    Wraps :class:`~torchgeo_spectral.datasets.SyntheticLibraryScenes` (whose
    scenes are ``patch_size`` pixels wide) so that its samples look like the
    real patches: ``image`` multiplied by one factor for the whole library
    (``1 / mean reflectance`` of its spectra, as ``scaling='sensor'`` does for
    a real band set), ``wavelength``, and an all-True ``valid``. ``mask`` keeps
    each pixel's dominant library class, the target of the material term of
    :class:`~torchgeo_spectral.tasks.SpectralMAETask`.
    """

    def __init__(self, scenes: Any, factor: float) -> None:
        """Initialize the wrapper.

        Args:
            scenes: A :class:`~torchgeo_spectral.datasets.SyntheticLibraryScenes`.
            factor: Scale factor of the library's reflectance.
        """
        self.scenes = scenes
        self.factor = factor

    def __len__(self) -> int:
        """Number of scenes."""
        return len(self.scenes)

    @override
    def __getitem__(self, index: int) -> Sample:
        """Scene ``index`` as a patch: ``image``, ``wavelength``, ``valid``, ``mask``."""
        sample = self.scenes[index]
        image: Tensor = sample['image'] * self.factor
        valid = torch.ones(image.shape[-2:], dtype=torch.bool)
        return {
            'image': image,
            'wavelength': sample['wavelength'],
            'valid': valid,
            'mask': sample['mask'],
        }


class FoundationBatchSampler(BandSetBatchSampler):
    """Batches of real band sets (capped per epoch) and library band sets.

    Indices refer to ``ConcatDataset([real, library])``: real groups first, in
    concatenation order, then the library, whose consecutive ``batch_size``
    scenes share a band set. Each epoch takes a fresh random subset of at most
    ``max_batches`` batches of every real group and the next ``library_batches``
    library batches, and shuffles them together, deterministically for a seed
    and epoch.
    """

    def __init__(
        self,
        group_sizes: Sequence[int],
        library_size: int,
        batch_size: int,
        *,
        max_batches: int | None,
        library_batches: int,
        shuffle: bool = True,
        seed: int = 0,
    ) -> None:
        """Initialize the sampler.

        Args:
            group_sizes: Samples of each real band set, in concatenation order.
            library_size: Number of library scenes (after the real samples).
            batch_size: Samples per batch.
            max_batches: Most batches of one real band set per epoch (None: all).
            library_batches: Library batches per epoch.
            shuffle: Shuffle within groups and the batch order (else the first
                batches of each group, and always the same library batches).
            seed: Seed of the shuffles.

        Raises:
            ValueError: If the library is too small for one epoch's batches.
        """
        if library_batches * batch_size > library_size:
            msg = (
                f'the library holds {library_size} scenes, fewer than one epoch '
                f'needs ({library_batches} batches of {batch_size})'
            )
            raise ValueError(msg)
        super().__init__(
            group_sizes, batch_size, shuffle, seed, max_batches=max_batches
        )
        self.library_size = library_size
        self.library_batches = library_batches

    def extra_batches(self, start: int) -> list[list[int]]:
        """The epoch's library batches: the next ``library_batches`` band sets.

        Args:
            start: Index of the first library scene.

        Returns:
            Lists of dataset indices.
        """
        groups = self.library_size // self.batch_size
        epoch = self.epoch if self.shuffle else 0
        batches = []
        for i in range(self.library_batches):
            group = (epoch * self.library_batches + i) % groups
            first = start + group * self.batch_size
            batches.append(list(range(first, first + self.batch_size)))
        return batches


class FoundationDataModule(MixedCubeFolderDataModule):
    """Real cubes of every sensor plus spectral-library scenes, for pretraining.

    See the module documentation. Samples hold ``image`` ``(C, p, p)``,
    ``wavelength`` ``(C,)`` and ``valid`` ``(p, p)``; every batch holds one band
    set; library patches also hold ``mask`` ``(p, p)``, each pixel's dominant
    library class. :attr:`report`, :attr:`groups`, :attr:`scales` and
    :attr:`skipped` say what was read, as in the folder module;
    :attr:`library_factor` is the scale of the library's reflectance and
    :attr:`library_classes` the names of its classes (after ``setup``).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = 'data',
        patch_size: int = 5,
        stride: int | None = 3,
        batch_size: int = 32,
        num_workers: int = 0,
        val_fraction: float = 0.05,
        seed: int = 0,
        *,
        recursive: bool = True,
        exclude: Sequence[str] = (),
        wavelengths: Mapping[str, Sequence[float]] | None = None,
        band_stacks: Mapping[str, str] | None = None,
        max_batches_per_band_set: int | None = 20,
        max_bands: int | None = 128,
        library: bool = True,
        library_fraction: float = 0.5,
        library_sensors: Sequence[str] | None = None,
        library_num_bands: tuple[int, int] = (3, 400),
        library_level: int = 2,
        library_size: int = 200_000,
        library_val_batches: int = 4,
        **kwargs: Any,
    ) -> None:
        """Initialize the data module.

        Args:
            root: Folder(s) of cubes.
            patch_size: Side of the square patches (and of the library scenes).
            stride: Step between real patches.
            batch_size: Patches per batch.
            num_workers: Data loader workers.
            val_fraction: Fraction of each band set's patches for validation.
            seed: Seed of the split, the batch order and the library.
            recursive: Read the subfolders of each root too.
            exclude: Shell patterns of paths (relative to their root) to leave
                out, e.g. ``['enmap_potsdam/*']`` for a checkpoint without EnMAP.
            wavelengths: Band centres of files without wavelength metadata,
                keyed by a shell pattern of their relative path.
            band_stacks: Single-band files to stack into one cube per folder:
                a shell pattern of their relative path, mapped to the sensor
                (see :func:`~torchgeo_spectral.sensors.list_sensors`) whose
                band names (``B1``...) their ``_B<name>`` stem suffixes are.
            max_batches_per_band_set: Most batches of one real band set per
                epoch (None: every patch every epoch).
            max_bands: Training batches with more bands keep a random subset of
                ``max_bands // 2`` to ``max_bands`` of them (in wavelength order):
                joint attention costs grow with the square of the band count,
                and the encoder learns band sets it has not seen (None: all).
            library: Add spectral-library scenes.
            library_fraction: Share of the training batches that are library
                scenes, in [0, 1).
            library_sensors: Real sensors the library is seen by (default all).
            library_num_bands: Band counts of random band sets.
            library_level: earthlib label level of the library's classes (1: 2
                classes, 2: 5 land-cover types, 3: 26 materials). Scenes draw
                their materials class by class, so the level sets the material
                mix; each library patch's ``mask`` holds the dominant class.
            library_size: Library scenes to draw from across epochs.
            library_val_batches: Library batches in validation (fixed scenes).
            **kwargs: Further :class:`MixedCubeFolderDataModule` arguments
                (``scaling``, ``max_nodata_fraction``, ``augment``, ...).

        Raises:
            ValueError: If an argument is out of range.
        """
        if not 0.0 <= library_fraction < 1.0:
            msg = f'library_fraction must be in [0, 1), got {library_fraction}'
            raise ValueError(msg)
        if max_batches_per_band_set is not None and max_batches_per_band_set < 1:
            msg = (
                'max_batches_per_band_set must be >= 1 or None, got '
                f'{max_batches_per_band_set}'
            )
            raise ValueError(msg)
        super().__init__(
            root,
            patch_size,
            stride,
            batch_size,
            num_workers,
            val_fraction,
            seed,
            recursive=recursive,
            exclude=exclude,
            wavelengths=wavelengths,
            **kwargs,
        )
        if max_bands is not None and max_bands < 2:
            raise ValueError(f'max_bands must be >= 2 or None, got {max_bands}')
        self.max_bands = max_bands
        if max_bands is not None:
            subset = RandomBandSubset((max_bands // 2, max_bands), p=1.0)
            steps = (
                list(self.train_aug)
                if isinstance(self.train_aug, nn.Sequential)
                else []
            )
            self.train_aug = nn.Sequential(subset, *steps)
        self.band_stacks = dict(band_stacks or {})
        self.max_batches_per_band_set = max_batches_per_band_set
        self.library = library
        self.library_fraction = library_fraction
        self.library_sensors = library_sensors
        self.library_num_bands = library_num_bands
        self.library_level = library_level
        self.library_classes: tuple[str, ...] = ()
        self.library_size = library_size
        self.library_val_batches = library_val_batches
        self.library_factor = 1.0
        self.library_train: Dataset[Sample] | None = None
        self.library_val: Dataset[Sample] | None = None

    def _stack_files(self) -> dict[tuple[Path, str], list[Path]]:
        """Single-band files named by :attr:`band_stacks`, per folder and sensor.

        Returns:
            ``(folder, sensor)`` to the matching files.
        """
        import fnmatch

        stacks: dict[tuple[Path, str], list[Path]] = {}
        for root in self.roots:
            for path in sorted(root.rglob('*') if self.recursive else root.iterdir()):
                if not path.is_file():
                    continue
                relative = path.relative_to(root).as_posix()
                if self.excluded(relative):
                    continue
                for pattern, sensor in self.band_stacks.items():
                    if fnmatch.fnmatch(relative, pattern):
                        stacks.setdefault((path.parent, sensor), []).append(path)
                        break
        return stacks

    def _cube_files(self) -> list[tuple[Path, str]]:
        """Cube files of the roots, less the files of band stacks.

        Returns:
            ``(path, path relative to its root)`` pairs.
        """
        stacked = {path for files in self._stack_files().values() for path in files}
        return [item for item in super()._cube_files() if item[0] not in stacked]

    def _extra_cubes(self) -> list[tuple[str, _Cube, Tensor, npt.NDArray[np.float32]]]:
        """Read the band stacks (see :attr:`band_stacks`).

        Files whose band the sensor does not have, or whose size differs from
        the stack's (e.g. a panchromatic band at twice the resolution), are
        skipped with a warning. Integer files that declare no nodata take 0 as
        nodata (the fill value of Landsat and Sentinel-2 products).

        Returns:
            ``(name, cube, wavelengths, data)`` per stack.
        """
        from ..sensors import get_sensor

        cubes: list[tuple[str, _Cube, Tensor, npt.NDArray[np.float32]]] = []
        for (folder, sensor_name), files in self._stack_files().items():
            sensor = get_sensor(sensor_name)
            names = [str(n).upper() for n in (sensor.band_names or ())]
            bands: list[tuple[float, Path, tuple[int, int], str, float | None]] = []
            for path in files:
                match = _BAND_SUFFIX.search(path.stem)
                band = match.group(1).upper() if match else None
                if band is None or band not in names:
                    self._skip(
                        path.name,
                        f'expected a stem ending in one of the {sensor_name} bands '
                        f'_{"/_".join(names)}, found {path.stem!r}',
                    )
                    continue
                with rasterio_env(), rasterio.open(path) as src:
                    shape, dtype, nodata = src.shape, src.dtypes[0], src.nodata
                if nodata is None and np.issubdtype(np.dtype(dtype), np.integer):
                    nodata = 0.0
                centre = float(sensor.wavelengths[names.index(band)])
                bands.append((centre, path, shape, band, nodata))
            if len(bands) < 2:
                continue
            shapes = [b[2] for b in bands]
            common = max(set(shapes), key=shapes.count)
            for _, path, shape, _, _ in bands:
                if shape != common:
                    self._skip(
                        path.name,
                        f'{shape[0]} x {shape[1]} px, expected {common[0]} x '
                        f'{common[1]} px like the other {sensor_name} bands',
                    )
            kept = sorted(b for b in bands if b[2] == common)
            info = _StackInfo(common[0], common[1], [b[1] for b in kept])
            name = f'{folder.name}/{sensor_name} bands ' + ','.join(b[3] for b in kept)
            cube = _BandStack(
                folder / sensor_name,
                info,
                np.arange(len(kept)),
                self.nodata if self.nodata is not None else kept[0][4],
            )
            try:
                array = cube.read()
            except ValueError as error:
                self._skip(name, str(error))
                continue
            wavelength = torch.tensor([b[0] for b in kept], dtype=torch.float32)
            cubes.append((name, cube, wavelength, array))
        return cubes

    def setup(self, stage: str) -> None:
        """Read the real cubes and prepare the library scenes.

        Args:
            stage: ``'fit'``, ``'validate'``, ``'test'`` or ``'predict'``.
        """
        super().setup(stage)
        if not self.library:
            self.library_train = self.library_val = None
            return
        from ..datasets.library import SyntheticLibraryScenes, load_spectral_library

        spectra = load_spectral_library(level=self.library_level)
        self.library_classes = spectra.classes
        self.library_factor = 1.0 / float(np.abs(spectra.spectra).mean())
        options: dict[str, Any] = {
            'size': self.patch_size,
            'sensors': self.library_sensors,
            'num_bands_range': tuple(self.library_num_bands),
            'group_size': self.batch_size,
        }
        self.library_train = LibraryPatches(
            SyntheticLibraryScenes(
                spectra, length=self.library_size, seed=self.seed, **options
            ),
            self.library_factor,
        )
        self.library_val = LibraryPatches(
            SyntheticLibraryScenes(
                spectra,
                length=self.library_val_batches * self.batch_size,
                seed=self.seed + 1,
                **options,
            ),
            self.library_factor,
        )

    def _library_batches(self, real_batches: int) -> int:
        """Library batches per training epoch for a number of real batches.

        Args:
            real_batches: Real batches per epoch.

        Returns:
            ``library_fraction`` of all batches, at least 1 with a library.
        """
        if self.library_train is None:
            return 0
        share = self.library_fraction / (1.0 - self.library_fraction)
        return max(1, round(real_batches * share))

    def _batches(
        self, split: str, shuffle: bool
    ) -> tuple[Dataset[Sample], BandSetBatchSampler]:
        """Real and library samples, one band set per batch.

        Training caps every real band set at ``max_batches_per_band_set`` batches
        and adds new library scenes each epoch; validation serves every held-out
        patch and fixed library scenes.

        Args:
            split: ``'train'`` or ``'val'``.
            shuffle: Shuffle and subsample (training) or not (validation).

        Returns:
            The dataset and the batch sampler.
        """
        real: Dataset[Sample] = self._valid_attribute(f'{split}_dataset')
        library = self.library_train if split == 'train' else self.library_val
        sizes = self._sizes[split]
        cap = self.max_batches_per_band_set if shuffle else None
        real_batches = sum(
            min(-(-size // self.batch_size), cap or size) for size in sizes
        )
        if library is None:
            library_batches, library_size = 0, 0
            dataset: Dataset[Sample] = real
        else:
            library_size = len(library)  # type: ignore[arg-type]
            library_batches = (
                self._library_batches(real_batches)
                if split == 'train'
                else library_size // self.batch_size
            )
            dataset = ConcatDataset([real, library])
        sampler = FoundationBatchSampler(
            sizes,
            library_size,
            self.batch_size,
            max_batches=cap,
            library_batches=library_batches,
            shuffle=shuffle,
            seed=self.seed,
        )
        return dataset, sampler
