"""A spectral-library corpus: real laboratory and field spectra, mixed into scenes.

Source and licence: the spectra are those of the Earth Library, the ``earthlib``
package on PyPI (version 1.1, Christopher Anderson, MIT licence,
https://github.com/earth-chris/earthlib). Its package data
``earthlib/data/spectra.sli`` (an ENVI spectral library) and
``earthlib/data/spectra.csv`` (one metadata row per spectrum) hold 7,261 surface
reflectance spectra from 400 to 2450 nm at 10 nm band widths (180 bands; the
strong water-vapour regions 1360-1450 nm and 1800-1950 nm are left out): soils of
the ICRAF-ISRIC soil database, urban materials, non-photosynthetic vegetation and
burned materials measured with an ASD spectrometer, and 2,000 vegetation canopies
simulated with PROSAIL. Each spectrum carries earthlib's land-cover levels:
``pervious``/``impervious`` (level 1); ``bare``, ``built``, ``burned``, ``npv``
and ``vegetation`` (level 2); and the material, e.g. ``soil``, ``road``,
``canopy`` (level 3). The library has no water spectra.

The files are read directly, found with :func:`importlib.util.find_spec`, rather
than through ``import earthlib``, which takes seconds (it reads both metadata
tables with pandas and sets up logging at import) and would add nothing here.

* :func:`load_spectral_library` returns the spectra (reflectance 0-1), their
  wavelengths (nm, checked by :func:`~torchgeo_spectral.wavelengths.check_wavelengths`)
  and class labels as a :class:`SpectralLibrary`.
* :class:`SyntheticLibraryScenes` is a TorchGeo
  :class:`~torchgeo.datasets.NonGeoDataset` of synthetic scenes that mix library
  spectra with smooth abundance fields, illumination and sensor noise, as seen by
  a random real sensor or a random band set of 3 to 400 bands; it is the
  spectral-library part of the foundation pretraining corpus.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from scipy.ndimage import gaussian_filter
from torchgeo.datasets import NonGeoDataset
from torchgeo.datasets.utils import Sample

from ..plot.sample import SpectralPlotMixin
from ..sensors import get_sensor, list_sensors, resample_spectra
from ..sensors.io import _parse_list, envi_list
from ..wavelengths import check_fwhm, check_wavelengths, to_nanometers

__all__ = [
    'LibraryScene',
    'SpectralLibrary',
    'SyntheticLibraryScenes',
    'load_spectral_library',
]

FloatArray = npt.NDArray[np.float64]

#: Band width (FWHM, nm) of the earthlib spectra, as its documentation states.
EARTHLIB_FWHM_NM = 10.0

#: Metadata column holding each label level (``LEVEL_3`` is the material; the
#: column that earthlib's schema calls level 3 holds ``measured``/``simulated``
#: in the packaged table and is exposed as :attr:`SpectralLibrary.origin`).
_LEVEL_COLUMNS = {1: 'LEVEL_1', 2: 'LEVEL_2', 3: 'LEVEL_3'}

#: Largest number of spectrum names allowed to differ between the earthlib
#: header and table (rows match by position; see :func:`_load_earthlib`).
_MAX_NAME_MISMATCHES = 5

#: ENVI data types of a spectral library that this reader accepts.
_ENVI_DTYPES = {4: np.float32, 5: np.float64}


@dataclass(frozen=True)
class SpectralLibrary:
    """Reflectance spectra with their band table and class labels.

    Attributes:
        spectra: Reflectance, shape ``(N, C)``, float32 in [0, 1], read-only.
        wavelengths: Band centres in nm, shape ``(C,)``, strictly increasing.
        fwhm: Band widths (FWHM) in nm, shape ``(C,)``.
        names: Identifier of each spectrum, length ``N``.
        classes: Sorted class names of the chosen label level.
        labels: Index into :attr:`classes` of each spectrum, shape ``(N,)``.
        level1: earthlib level 1 of each spectrum (``pervious``/``impervious``).
        level2: earthlib level 2 (``bare``, ``built``, ``burned``, ``npv``,
            ``vegetation``).
        level3: Material (``soil``, ``canopy``, ``road``, ``paint``, ...).
        origin: ``measured`` or ``simulated`` (PROSAIL canopies).
        source: Data source (``icraf-isric-soil-database``, ``asd``, ``prosail``,
            ``specevo``).
    """

    spectra: np.ndarray
    wavelengths: np.ndarray
    fwhm: np.ndarray
    names: tuple[str, ...]
    classes: tuple[str, ...]
    labels: np.ndarray
    level1: np.ndarray
    level2: np.ndarray
    level3: np.ndarray
    origin: np.ndarray
    source: np.ndarray

    def __post_init__(self) -> None:
        """Check that every per-spectrum field has one entry per spectrum.

        Raises:
            ValueError: If the spectra are not ``(N, C)`` with ``C`` matching the
                wavelengths and FWHM, a per-spectrum field has another length
                than ``N``, or a label is outside :attr:`classes`.
        """
        wavelengths = check_wavelengths(self.wavelengths, source='library wavelengths')
        fwhm = check_fwhm(self.fwhm, wavelengths.size, source='library fwhm')
        spectra = np.asarray(self.spectra, dtype=np.float32)
        if spectra.ndim != 2 or spectra.shape[1] != wavelengths.size:
            msg = (
                f'library spectra: expected shape (N, {wavelengths.size}), found '
                f'{spectra.shape}'
            )
            raise ValueError(msg)
        count = spectra.shape[0]
        fields: dict[str, Any] = {
            'names': self.names,
            'labels': self.labels,
            'level1': self.level1,
            'level2': self.level2,
            'level3': self.level3,
            'origin': self.origin,
            'source': self.source,
        }
        for key, value in fields.items():
            if len(value) != count:
                msg = f'library {key}: expected {count} entries, found {len(value)}'
                raise ValueError(msg)
        labels = np.asarray(self.labels, dtype=np.int64)
        if count and (labels.min() < 0 or labels.max() >= len(self.classes)):
            msg = (
                f'library labels must lie in [0, {len(self.classes) - 1}] '
                f'({len(self.classes)} classes), found {labels.min()}-{labels.max()}'
            )
            raise ValueError(msg)
        arrays = {
            'spectra': spectra,
            'wavelengths': wavelengths,
            'fwhm': fwhm,
            'labels': labels,
            **{
                key: np.asarray(getattr(self, key), dtype=str)
                for key in ('level1', 'level2', 'level3', 'origin', 'source')
            },
        }
        for key, array in arrays.items():
            array = array.copy() if array is getattr(self, key) else array
            array.setflags(write=False)
            object.__setattr__(self, key, array)
        object.__setattr__(self, 'names', tuple(str(name) for name in self.names))
        object.__setattr__(self, 'classes', tuple(str(c) for c in self.classes))

    def __len__(self) -> int:
        """Number of spectra."""
        return int(self.spectra.shape[0])

    def select(self, keep: npt.ArrayLike) -> SpectralLibrary:
        """A sub-library of the chosen spectra, with the same classes.

        Args:
            keep: Boolean mask of shape ``(N,)`` or integer indices, e.g.
                ``library.origin == 'measured'``.

        Returns:
            A new library holding only those spectra.
        """
        index = np.arange(len(self))[np.asarray(keep)]
        return SpectralLibrary(
            spectra=self.spectra[index],
            wavelengths=self.wavelengths,
            fwhm=self.fwhm,
            names=tuple(self.names[i] for i in index),
            classes=self.classes,
            labels=self.labels[index],
            level1=self.level1[index],
            level2=self.level2[index],
            level3=self.level3[index],
            origin=self.origin[index],
            source=self.source[index],
        )


def _earthlib_data() -> Path:
    """Folder of earthlib's package data, found without importing earthlib.

    Returns:
        The ``earthlib/data`` folder.

    Raises:
        ModuleNotFoundError: If earthlib is not installed.
    """
    spec = importlib.util.find_spec('earthlib')
    if spec is None or not spec.submodule_search_locations:
        msg = (
            'the spectral library needs the earthlib package (MIT licence): '
            'pip install earthlib'
        )
        raise ModuleNotFoundError(msg, name='earthlib')
    return Path(next(iter(spec.submodule_search_locations))) / 'data'


def _read_envi_header(path: Path) -> dict[str, str]:
    """Read the ``key = value`` entries of an ENVI header.

    Args:
        path: The ``.hdr`` file.

    Returns:
        Lower-case keys and their raw values (lists keep their braces).

    Raises:
        ValueError: If the file is not an ENVI header.
    """
    text = path.read_text(encoding='utf-8')
    if not text.startswith('ENVI'):
        msg = f'{path}: not an ENVI header (expected "ENVI" on the first line)'
        raise ValueError(msg)
    pattern = re.compile(r'^\s*([^=\n]+?)\s*=\s*(\{[^}]*\}|[^\n]*)', re.MULTILINE)
    return {key.lower(): value.strip() for key, value in pattern.findall(text)}


def _header_int(header: dict[str, str], key: str, path: Path) -> int:
    """An integer entry of an ENVI header.

    Args:
        header: Parsed header.
        key: Entry name.
        path: Header file (for error messages).

    Returns:
        The value.

    Raises:
        ValueError: If the entry is missing or not an integer.
    """
    try:
        return int(header[key])
    except (KeyError, ValueError) as error:
        msg = f'{path}: expected an integer {key!r}, found {header.get(key)!r}'
        raise ValueError(msg) from error


def _read_envi_library(path: Path) -> tuple[np.ndarray, FloatArray, list[str]]:
    """Read an ENVI spectral library (``.sli`` with a ``.sli.hdr`` sidecar).

    Args:
        path: The ``.sli`` file.

    Returns:
        Spectra ``(N, C)`` float32, centres in nm ``(C,)`` (units from the
        header, converted by the project's one rule) and spectrum names.

    Raises:
        ValueError: If the header and data disagree (band count, spectrum count,
            size, data type, interleave), naming the file and both values.
    """
    header_path = path.with_name(path.name + '.hdr')
    header = _read_envi_header(header_path)
    samples = _header_int(header, 'samples', header_path)
    lines = _header_int(header, 'lines', header_path)
    dtype_code = _header_int(header, 'data type', header_path)
    if dtype_code not in _ENVI_DTYPES:
        msg = (
            f'{header_path}: expected data type 4 or 5 (float32/float64), found '
            f'{dtype_code}'
        )
        raise ValueError(msg)
    dtype = np.dtype(_ENVI_DTYPES[dtype_code]).newbyteorder(
        '>' if header.get('byte order', '0') == '1' else '<'
    )
    offset = int(header.get('header offset', '0'))
    raw = np.fromfile(path, dtype=dtype, offset=offset)
    if raw.size != samples * lines:
        msg = (
            f'{path}: expected {lines} spectra x {samples} bands = '
            f'{samples * lines} values (from {header_path.name}), found {raw.size}'
        )
        raise ValueError(msg)
    spectra = raw.reshape(lines, samples).astype(np.float32)
    centres = _parse_list(header.get('wavelength', ''), header_path, 'wavelength')
    if centres.size != samples:
        msg = f'{header_path}: expected {samples} wavelengths, found {centres.size}'
        raise ValueError(msg)
    centres = to_nanometers(centres, header.get('wavelength units'), source=str(path))
    names = envi_list(header.get('spectra names', ''))
    if len(names) != lines:
        msg = f'{header_path}: expected {lines} spectra names, found {len(names)}'
        raise ValueError(msg)
    return spectra, check_wavelengths(centres, source=f'{path} wavelengths'), names


@functools.cache
def _load_earthlib(folder: Path) -> tuple[np.ndarray, FloatArray, list[dict[str, str]]]:
    """Read (once per folder) the earthlib spectra and metadata.

    Args:
        folder: earthlib's package data folder.

    Returns:
        Spectra clipped to [0, 1], centres in nm, and metadata rows in the
        order of the spectra.

    Raises:
        ValueError: If the metadata rows do not name the same spectra, in the
            same order, as the spectral library.
    """
    spectra, centres, names = _read_envi_library(folder / 'spectra.sli')
    table = folder / 'spectra.csv'
    with table.open(newline='', encoding='utf-8') as file:
        rows = list(csv.DictReader(file))
    # Rows match spectra by position, as in earthlib itself; names are checked
    # so that a shifted table fails. earthlib 1.1 names one burned spectrum
    # 'burncham' in the header and 'burnedcham' in the table, hence a tolerance.
    found = [row.get('NAME', '') for row in rows]
    differ = [i for i, (a, b) in enumerate(zip(found, names, strict=False)) if a != b]
    if len(found) != len(names) or len(differ) > _MAX_NAME_MISMATCHES:
        first = differ[0] if differ else min(len(found), len(names))
        msg = (
            f'{table}: expected {len(names)} rows naming the spectra of '
            f'spectra.sli in the same order, found {len(found)} rows and '
            f'{len(differ)} different names (first at row {first}: '
            f'{found[first] if first < len(found) else None!r} vs '
            f'{names[first] if first < len(names) else None!r})'
        )
        raise ValueError(msg)
    # A few measured spectra exceed 1 by up to 2 %; reflectance is kept in [0, 1].
    np.clip(spectra, 0.0, 1.0, out=spectra)
    spectra.setflags(write=False)
    return spectra, centres, rows


def load_spectral_library(level: int = 2) -> SpectralLibrary:
    """Load the earthlib spectral library (7,261 spectra, 400-2450 nm).

    Reads earthlib's packaged ENVI spectral library and metadata table offline
    (see the module docstring for source and licence). Reflectance is clipped
    to [0, 1]; band widths are earthlib's documented 10 nm.

    Args:
        level: Label level for :attr:`SpectralLibrary.classes` and
            :attr:`SpectralLibrary.labels`: 1 (``impervious``, ``pervious``),
            2 (``bare``, ``built``, ``burned``, ``npv``, ``vegetation``) or 3
            (materials such as ``soil``, ``canopy``, ``road``).

    Returns:
        The library; all levels are available as attributes whatever ``level``.

    Raises:
        ValueError: If ``level`` is not 1, 2 or 3, or the package data is
            inconsistent.
        ModuleNotFoundError: If earthlib is not installed.
    """
    if level not in _LEVEL_COLUMNS:
        msg = f'level must be 1, 2 or 3, found {level!r}'
        raise ValueError(msg)
    spectra, centres, rows = _load_earthlib(_earthlib_data())
    columns = {
        key: np.array([row[key] for row in rows], dtype=str)
        for key in ('LEVEL_1', 'LEVEL_2', 'LEVEL_3', 'LEVEL_4', 'SOURCE')
    }
    classes, labels = np.unique(columns[_LEVEL_COLUMNS[level]], return_inverse=True)
    return SpectralLibrary(
        spectra=spectra,
        wavelengths=centres,
        fwhm=np.full(centres.size, EARTHLIB_FWHM_NM),
        names=tuple(row['NAME'] for row in rows),
        classes=tuple(classes.tolist()),
        labels=labels.astype(np.int64),
        level1=columns['LEVEL_1'],
        level2=columns['LEVEL_2'],
        level3=columns['LEVEL_3'],
        origin=columns['LEVEL_4'],
        source=columns['SOURCE'],
    )


@dataclass(frozen=True)
class LibraryScene:
    """Every component of one synthetic scene of :class:`SyntheticLibraryScenes`.

    Attributes:
        image: Reflectance cube ``(C, H, W)``, float32.
        wavelengths: Band centres in nm ``(C,)``.
        fwhm: Band widths in nm ``(C,)``.
        sensor: Sensor name, or ``'random'`` for a random band set.
        endmembers: Library index of each endmember ``(2K,)``: the first
            spectrum of each of the ``K`` materials, then the second.
        endmember_labels: Class index of each endmember ``(2K,)``.
        abundances: Fraction of each endmember per pixel ``(2K, H, W)``,
            non-negative, summing to 1 over the endmembers.
        shading: Brightness scale times the unshaded fraction per pixel
            ``(H, W)``, a factor of the mixture at every band.
        tilt: Spectral slope per pixel ``(H, W)``: band ``c`` of the mixture is
            multiplied by ``shading * (1 + tilt * (wavelength_c - 1425) / 1025)``.
        mask: Dominant class per pixel ``(H, W)``: the class with the largest
            summed abundance of its endmembers.
    """

    image: np.ndarray
    wavelengths: np.ndarray
    fwhm: np.ndarray
    sensor: str
    endmembers: np.ndarray
    endmember_labels: np.ndarray
    abundances: np.ndarray
    shading: np.ndarray
    tilt: np.ndarray
    mask: np.ndarray


def _check_range(value: tuple[int, int], low: int, high: int, name: str) -> None:
    """Check an inclusive integer range ``(lo, hi)`` inside ``[low, high]``.

    Args:
        value: The range.
        low: Smallest allowed value.
        high: Largest allowed value.
        name: Argument name (for error messages).

    Raises:
        ValueError: If the range is malformed or outside the bounds.
    """
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        msg = (
            f'{name} must be (lo, hi) with {low} <= lo <= hi <= {high}, '
            f'found {tuple(value)}'
        )
        raise ValueError(msg)


def _smooth_fields(
    rng: np.random.Generator, count: int, size: int, sigma: float
) -> np.ndarray:
    """Smooth random fields with zero mean and unit standard deviation.

    Args:
        rng: Random generator.
        count: Number of fields.
        size: Height and width.
        sigma: Gaussian smoothing radius in pixels.

    Returns:
        Array ``(count, size, size)``, float64.
    """
    noise = rng.standard_normal((count, size, size))
    fields = gaussian_filter(noise, sigma=(0.0, sigma, sigma), mode='wrap')
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    fields /= fields.std(axis=(1, 2), keepdims=True) + 1e-12
    return fields


class SyntheticLibraryScenes(SpectralPlotMixin, NonGeoDataset):
    """Synthetic scenes of mixed library spectra, seen by random sensors.

    Each sample is one scene, generated from ``(seed, index)`` alone, so every
    index always gives the same scene, in any order and in any worker:

    1. **Endmembers.** ``K`` materials (``materials_range``) are drawn, from
       at least two classes: distinct classes first, each uniformly among the
       classes (not the spectra, so soils, 58 % of earthlib, do not dominate);
       each material takes two random library spectra of its class, so that the
       scene has ``2K`` endmembers and within-class spectral variability.
    2. **Abundances.** Each material gets a smooth Gaussian-filtered noise
       field (random length scale); a softmax over materials with a random
       sharpness and random per-material prevalence (a logistic-normal draw, a
       Dirichlet-like distribution) turns them into fractions that sum to 1:
       gentle gradients at low sharpness, patchy near-pure regions at high.
       Another smooth field splits each material's fraction between its two
       spectra.
    3. **Linear mixing** of the endmembers by the abundances.
    4. **Illumination.** A smooth per-pixel brightness scale (topography, with
       up to 8 % fine texture), shade
       (a dark patchy field that darkens a pixel by up to 60 %) and a smooth
       per-pixel spectral slope (a linear tilt in wavelength of up to 15 %).
    5. **Band set.** With probability ``sensor_probability`` a random sensor of
       ``sensors`` (its bands whose centres lie within the library's range, see
       :meth:`sensor_bands`); otherwise a random band set: a random number of
       bands in ``num_bands_range``, over a random range within 400-2450 nm,
       evenly spaced with jitter, with a random FWHM between half and 1.5
       times the spacing (at most 20-150 nm, at least 2.5 nm).
    6. **Resampling** of the endmembers to that band set with the project's
       Gaussian SRF resampling (:func:`~torchgeo_spectral.sensors.resample_spectra`).
       Mixing, shade and scale are linear, so resampling the endmembers before
       mixing gives the cube that resampling the mixed cube would, at a
       fraction of the cost; the slope is applied at band centres.
    7. **Sensor noise** at the sensor's bands: Gaussian, with a signal-dependent
       part (random SNR of 30-500) and a floor (0.0005-0.005 reflectance). The
       result is not clipped, as atmospherically corrected products are not.

    Samples are ``{'image': (C, H, W) float32, 'wavelength': (C,) float32 nm,
    'mask': (H, W) int64}``; ``mask`` holds the dominant class (index into
    :attr:`classes`), usable as labels of a realistic scene. Consecutive
    indices ``group_size * g`` to ``group_size * (g + 1) - 1`` share one band set,
    so that a sequential sampler with ``batch_size=group_size`` gives batches of
    one band set, as :func:`~torchgeo_spectral.datasets.collate_spectral` requires.
    """

    def __init__(
        self,
        library: SpectralLibrary | None = None,
        *,
        length: int = 1000,
        size: int = 64,
        sensors: Sequence[str] | None = None,
        num_bands_range: tuple[int, int] = (3, 400),
        sensor_probability: float = 0.5,
        materials_range: tuple[int, int] = (2, 6),
        group_size: int = 1,
        seed: int = 0,
        transforms: Callable[[Sample], Sample] | None = None,
    ) -> None:
        """Initialize the dataset.

        Args:
            library: Spectra to mix; default :func:`load_spectral_library`
                (level-2 classes). Pass another :class:`SpectralLibrary` to add
                materials (e.g. water) or to select spectra.
            length: Number of scenes.
            size: Scene height and width in pixels.
            sensors: Names of :func:`~torchgeo_spectral.sensors.list_sensors`
                to simulate; default all of them. An empty sequence gives only
                random band sets.
            num_bands_range: Smallest and largest band count (inclusive) of
                random band sets, within 3-400.
            sensor_probability: Probability that a band set is a real sensor's
                rather than a random one (ignored without sensors).
            materials_range: Smallest and largest number (inclusive) of
                materials per scene, within 2-20 (each with two library
                spectra).
            group_size: Number of consecutive scenes that share a band set.
            seed: Seed of the whole dataset (non-negative).
            transforms: Function applied to each sample.

        Raises:
            ValueError: If an argument is out of range, a sensor is unknown or
                has fewer than 3 bands within the library's range, or the
                library has fewer than two classes.
        """
        self.library = library if library is not None else load_spectral_library()
        present = np.unique(self.library.labels)
        if present.size < 2:
            msg = (
                'the library must hold spectra of at least 2 classes, found '
                f'{present.size} ({[self.library.classes[i] for i in present]})'
            )
            raise ValueError(msg)
        for name, value, low in (
            ('length', length, 0),
            ('size', size, 1),
            ('group_size', group_size, 1),
            ('seed', seed, 0),
        ):
            if not isinstance(value, int) or value < low:
                msg = f'{name} must be an integer >= {low}, found {value!r}'
                raise ValueError(msg)
        _check_range(num_bands_range, 3, 400, 'num_bands_range')
        _check_range(materials_range, 2, 20, 'materials_range')
        if not 0.0 <= sensor_probability <= 1.0:
            msg = f'sensor_probability must lie in [0, 1], found {sensor_probability}'
            raise ValueError(msg)
        self.length = length
        self.size = size
        self.num_bands_range = num_bands_range
        self.materials_range = materials_range
        self.group_size = group_size
        self.seed = seed
        self.transforms = transforms
        self.classes = self.library.classes
        self.present_classes = present
        self.sensors = tuple(list_sensors() if sensors is None else sensors)
        self.sensor_probability = sensor_probability if self.sensors else 0.0
        self._sensor_bands = {name: self.sensor_bands(name) for name in self.sensors}
        self._class_members = [
            np.flatnonzero(self.library.labels == label) for label in present
        ]

    @property
    def wavelength_range(self) -> tuple[float, float]:
        """Range (nm) in which target band centres may lie.

        The library's first and last centre, widened by half their FWHM, as
        :func:`~torchgeo_spectral.sensors.resampling_matrix` accepts.
        """
        wavelengths, fwhm = self.library.wavelengths, self.library.fwhm
        return (
            float(wavelengths[0] - fwhm[0] / 2),
            float(wavelengths[-1] + fwhm[-1] / 2),
        )

    def sensor_bands(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Band centres and FWHM of a sensor within the library's range.

        Bands centred outside :attr:`wavelength_range` (e.g. thermal or below
        395 nm) cannot be simulated from the library and are left out.

        Args:
            name: Sensor name (see :func:`~torchgeo_spectral.sensors.list_sensors`).

        Returns:
            Centres and FWHM in nm.

        Raises:
            ValueError: If the sensor is unknown or fewer than 3 of its bands
                lie within the range.
        """
        sensor = get_sensor(name)
        low, high = self.wavelength_range
        keep = (sensor.wavelengths >= low) & (sensor.wavelengths <= high)
        if keep.sum() < 3:
            msg = (
                f'sensor {name!r}: expected at least 3 bands within the library '
                f'range {low:g}-{high:g} nm, found {int(keep.sum())}'
            )
            raise ValueError(msg)
        return sensor.wavelengths[keep], sensor.fwhm[keep]

    def __len__(self) -> int:
        """Number of scenes."""
        return self.length

    def band_set(self, index: int) -> tuple[str, np.ndarray, np.ndarray]:
        """Band set of scene ``index`` (shared by its group of scenes).

        Args:
            index: Scene index.

        Returns:
            Sensor name (``'random'`` for a random band set), centres and FWHM
            in nm.
        """
        rng = np.random.default_rng((self.seed, 0, index // self.group_size))
        if self.sensors and rng.random() < self.sensor_probability:
            name = self.sensors[int(rng.integers(len(self.sensors)))]
            centres, fwhm = self._sensor_bands[name]
            return name, centres, fwhm
        count = int(rng.integers(self.num_bands_range[0], self.num_bands_range[1] + 1))
        low, high = self.wavelength_range
        low, high = max(low, 400.0), min(high, 2450.0)
        min_span = min(max(1.5 * (count - 1), 30.0), high - low)
        span = rng.uniform(min_span, high - low)
        start = rng.uniform(low, high - span)
        spacing = span / max(count - 1, 1)
        centres = start + spacing * np.arange(count)
        jitter = rng.uniform(-0.3, 0.3, count) * spacing
        jitter[0] = abs(jitter[0])
        jitter[-1] = -abs(jitter[-1])
        centres = centres + jitter
        widest = rng.uniform(20.0, 150.0)
        width = min(max(spacing * rng.uniform(0.5, 1.5), 2.5), widest)
        fwhm = width * rng.uniform(0.9, 1.1, count)
        return 'random', centres, fwhm

    def generate(self, index: int) -> LibraryScene:
        """Generate scene ``index`` with all its components.

        Args:
            index: Scene index in ``[0, len(self))``.

        Returns:
            The scene.

        Raises:
            IndexError: If ``index`` is out of range.
        """
        if not 0 <= index < self.length:
            msg = f'index {index} out of range for {self.length} scenes'
            raise IndexError(msg)
        sensor, centres, fwhm = self.band_set(index)
        rng = np.random.default_rng((self.seed, 1, index))
        size = self.size

        # 1. Endmembers: distinct classes first, then any class.
        count = int(rng.integers(self.materials_range[0], self.materials_range[1] + 1))
        groups = len(self._class_members)
        distinct = rng.permutation(groups)[: min(count, groups)]
        extra = rng.integers(groups, size=count - distinct.size)
        chosen = np.concatenate([distinct, extra])
        # Two spectra per material, blended by a smooth field below (within-
        # class variability); the first set holds distinct classes.
        members = np.array(
            [
                self._class_members[g][rng.integers(self._class_members[g].size)]
                for g in np.concatenate([chosen, chosen])
            ]
        )
        labels = self.library.labels[members]

        # 2. Abundances: softmax of smooth fields (logistic-normal), each
        # material split between its two spectra by another smooth field.
        scale = size * rng.uniform(0.04, 0.25)
        sharpness = math.exp(rng.uniform(math.log(0.7), math.log(8.0)))
        prevalence = np.log(rng.dirichlet(np.ones(count)) + 1e-3)
        logits = sharpness * _smooth_fields(rng, count, size, scale)
        logits += prevalence[:, None, None]
        logits -= logits.max(axis=0, keepdims=True)
        odds = np.exp(logits)
        materials = odds / odds.sum(axis=0, keepdims=True)
        blend = _smooth_fields(rng, count, size, size * rng.uniform(0.05, 0.3))
        blend = 1.0 / (1.0 + np.exp(-1.5 * blend))
        abundances = np.concatenate([materials * (1.0 - blend), materials * blend])

        # 3-4. Illumination: brightness (topography) times unshaded fraction,
        # and a spectral tilt, all smooth per-pixel fields.
        fields = _smooth_fields(rng, 3, size, size * rng.uniform(0.1, 0.4))
        texture = _smooth_fields(rng, 1, size, rng.uniform(0.5, 2.0))[0]
        brightness = rng.uniform(0.7, 1.2) * np.exp(
            rng.uniform(0.0, 0.2) * fields[0] + rng.uniform(0.0, 0.08) * texture
        )
        shade_cover = rng.uniform(-1.0, 1.5)
        shade = rng.uniform(0.0, 0.6) / (1.0 + np.exp(-4.0 * (fields[1] - shade_cover)))
        shading = brightness * (1.0 - shade)
        tilt = rng.uniform(0.0, 0.15) * np.tanh(fields[2])

        # 5-6. Endmembers at the target bands (K, C).
        spectra = resample_spectra(
            self.library.spectra[members].astype(np.float64),
            self.library.wavelengths,
            self.library.fwhm,
            centres,
            fwhm,
            dim=-1,
        )
        # Mixing and illumination in one product: band c of pixel p is
        # sum_k S[k, c] A[k, p] g[p] (1 + t[p] r[c]), with g the shading, t the
        # tilt and r the relative wavelength, i.e. [S; S r]^T [A g; A g t].
        relative = (centres - 1425.0) / 1025.0
        lit = abundances.reshape(members.size, -1) * shading.reshape(1, -1)
        weights = np.concatenate([lit, lit * tilt.reshape(1, -1)]).astype(np.float32)
        rows = np.concatenate([spectra, spectra * relative]).astype(np.float32)
        image = (rows.T @ weights).reshape(-1, size, size)

        # 7. Sensor noise.
        snr = math.exp(rng.uniform(math.log(30.0), math.log(500.0)))
        floor = rng.uniform(0.0005, 0.005)
        noise = rng.standard_normal(image.shape, dtype=np.float32)
        image += noise * (np.abs(image) * np.float32(1.0 / snr) + np.float32(floor))

        class_abundance = np.zeros((len(self.classes), size, size))
        np.add.at(class_abundance, labels, abundances)
        mask = class_abundance.argmax(axis=0)
        return LibraryScene(
            image=image,
            wavelengths=check_wavelengths(centres, image.shape[0]),
            fwhm=np.asarray(fwhm, dtype=np.float64),
            sensor=sensor,
            endmembers=members,
            endmember_labels=labels,
            abundances=abundances,
            shading=shading,
            tilt=tilt,
            mask=mask.astype(np.int64),
        )

    def __getitem__(self, index: int) -> Sample:
        """Scene ``index`` as a sample.

        Args:
            index: Scene index.

        Returns:
            ``{'image': (C, H, W), 'wavelength': (C,), 'mask': (H, W)}``.
        """
        scene = self.generate(index)
        sample: Sample = {
            'image': torch.from_numpy(scene.image),
            'wavelength': torch.from_numpy(scene.wavelengths.astype(np.float32)),
            'mask': torch.from_numpy(scene.mask),
        }
        if self.transforms is not None:
            sample = self.transforms(sample)
        return sample

    def plot_class_names(self) -> list[str]:
        """Names of the classes, to title a sample's ``label``.

        Returns:
            The library's classes.
        """
        return list(self.classes)
