"""Band tables of common spectral sensors, wavelength I/O and spectral resampling.

Every spectral image in this package travels with the centre wavelengths of its
bands (nm, strictly increasing). This module provides

* :class:`Sensor` tables (centres, FWHM, band names) of common sensors, from
  published metadata where it exists and from documented approximations elsewhere
  (see :func:`list_sensors` and :func:`get_sensor`);
* :func:`validate_wavelengths`, the single place where band centres are checked;
* :func:`read_wavelengths` and :func:`read_bad_bands`, which read band metadata
  from ENVI headers and GeoTIFF band tags through rasterio;
* :func:`spectral_response`, :func:`resampling_matrix` and
  :func:`resample_spectra`, which simulate one sensor from another with Gaussian
  spectral response functions (SRFs).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import rasterio
import torch
from rasterio.errors import RasterioIOError

from .rasterio_env import read_env

__all__ = [
    'Sensor',
    'get_sensor',
    'list_sensors',
    'read_bad_bands',
    'read_wavelengths',
    'resample_spectra',
    'resampling_matrix',
    'spectral_response',
    'validate_wavelengths',
]

FloatArray = npt.NDArray[np.float64]

#: Factor from full width at half maximum to the standard deviation of a Gaussian.
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))

#: Largest integration step (nm) of the resampling grid.
_MAX_STEP_NM = 1.0

#: Half width of the integration window of a target SRF, in units of its FWHM.
_WINDOW_FWHM = 3.0


# ----------------------------------------------------------------------------------
# Sensor tables
# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sensor:
    """Band table of a spectral sensor.

    Bands are ordered by increasing centre wavelength; ``band_names`` keep the
    sensor's (or product's) own band names, so the original band order can be
    recovered from them when a product stores bands in another order.

    Attributes:
        name: Canonical lower-case key, e.g. ``'enmap'``.
        wavelengths: Band centres in nm, shape ``(C,)``, float64, strictly
            increasing.
        fwhm: Full width at half maximum of each band in nm, shape ``(C,)``,
            float64, positive.
        band_names: Band names in the order of ``wavelengths``.
        description: One line naming the sensor and the source of the table,
            including whether it is an approximation.
    """

    name: str
    wavelengths: np.ndarray
    fwhm: np.ndarray
    band_names: tuple[str, ...]
    description: str

    def __post_init__(self) -> None:
        """Validate the table and freeze its arrays.

        Raises:
            ValueError: If the wavelengths are invalid (see
                :func:`validate_wavelengths`), the FWHM are not positive, or the
                band names do not match the band count or repeat.
        """
        wavelengths = validate_wavelengths(
            self.wavelengths, name=f'{self.name} wavelengths'
        )
        fwhm = _validate_fwhm(self.fwhm, wavelengths.size, name=f'{self.name} fwhm')
        names = tuple(str(band) for band in self.band_names)
        if len(names) != wavelengths.size:
            msg = (
                f'{self.name} band_names: expected {wavelengths.size}, '
                f'found {len(names)}'
            )
            raise ValueError(msg)
        if len(set(names)) != len(names):
            repeated = sorted({band for band in names if names.count(band) > 1})
            msg = f'{self.name} band_names: repeated names {repeated}'
            raise ValueError(msg)
        wavelengths.setflags(write=False)
        fwhm.setflags(write=False)
        object.__setattr__(self, 'wavelengths', wavelengths)
        object.__setattr__(self, 'fwhm', fwhm)
        object.__setattr__(self, 'band_names', names)

    @property
    def num_bands(self) -> int:
        """Number of bands ``C``."""
        return int(self.wavelengths.size)

    def __repr__(self) -> str:
        """Short summary without the full arrays.

        Returns:
            For example ``Sensor(name='enmap', num_bands=224, 418.2-2445.5 nm)``.
        """
        return (
            f'Sensor(name={self.name!r}, num_bands={self.num_bands}, '
            f'{self.wavelengths[0]:.1f}-{self.wavelengths[-1]:.1f} nm)'
        )

    def __eq__(self, other: object) -> bool:
        """Compare two tables field by field (arrays element-wise).

        Args:
            other: Object to compare with.

        Returns:
            True if ``other`` is a :class:`Sensor` with identical fields.
        """
        if not isinstance(other, Sensor):
            return NotImplemented
        return (
            self.name == other.name
            and self.band_names == other.band_names
            and self.description == other.description
            and np.array_equal(self.wavelengths, other.wavelengths)
            and np.array_equal(self.fwhm, other.fwhm)
        )

    def __hash__(self) -> int:
        """Hash of the name and band names (consistent with ``__eq__``).

        Returns:
            The hash value.
        """
        return hash((self.name, self.band_names))


def _normalise_name(name: str) -> str:
    """Canonical registry key of a sensor name.

    Args:
        name: Sensor name in any case, with ``-``, ``_`` or spaces as separators.

    Returns:
        Lower-case key with ``_`` separators.
    """
    return re.sub(r'[\s\-]+', '_', name.strip().lower())


def _make_sensor(
    name: str,
    wavelengths: Sequence[float] | FloatArray,
    fwhm: Sequence[float] | FloatArray | float,
    band_names: Sequence[str],
    description: str,
) -> Sensor:
    """Build a :class:`Sensor`, sorting its bands by centre wavelength.

    Args:
        name: Canonical sensor key.
        wavelengths: Band centres (nm) in the sensor's own order.
        fwhm: FWHM (nm) per band, or one value for every band.
        band_names: Band names in the sensor's own order.
        description: One-line description of the table and its source.

    Returns:
        The sensor table with bands sorted by wavelength.
    """
    centres = np.asarray(wavelengths, dtype=np.float64)
    widths = np.broadcast_to(np.asarray(fwhm, dtype=np.float64), centres.shape)
    order = np.argsort(centres, kind='stable')
    return Sensor(
        name=name,
        wavelengths=centres[order],
        fwhm=widths[order].copy(),
        band_names=tuple(band_names[i] for i in order),
        description=description,
    )


def _even(start: float, stop: float, num: int) -> FloatArray:
    """Evenly spaced band centres, rounded to 0.01 nm.

    Args:
        start: First centre (nm).
        stop: Last centre (nm).
        num: Number of bands.

    Returns:
        ``num`` centres from ``start`` to ``stop`` inclusive.
    """
    return np.round(np.linspace(start, stop, num), 2)


def _numbered(prefix: str, num: int, width: int = 0, first: int = 1) -> list[str]:
    """Band names ``prefix + number``.

    Args:
        prefix: Name prefix, e.g. ``'B'``.
        num: Number of names.
        width: Zero-padding width of the number (0 for none).
        first: Number of the first band.

    Returns:
        The names, e.g. ``['B1', 'B2', ...]``.
    """
    return [f'{prefix}{i:0{width}d}' for i in range(first, first + num)]


def _load_table(filename: str) -> tuple[list[str], FloatArray, FloatArray]:
    """Read a packaged band table from ``torchgeo_spectral/sensor_tables``.

    The CSV files have ``#`` comment lines (the source), then the columns
    ``band_name,wavelength_nm,fwhm_nm`` (extra columns are ignored), in the
    product's own band order.

    Args:
        filename: File name inside ``sensor_tables``.

    Returns:
        Band names, centres (nm) and FWHM (nm), in file order.
    """
    text = (
        resources.files('torchgeo_spectral')
        .joinpath('sensor_tables', filename)
        .read_text(encoding='utf-8')
    )
    lines = [line for line in text.splitlines() if line and not line.startswith('#')]
    rows = list(csv.DictReader(io.StringIO('\n'.join(lines))))
    names = [row['band_name'] for row in rows]
    centres = np.array([float(row['wavelength_nm']) for row in rows])
    widths = np.array([float(row['fwhm_nm']) for row in rows])
    return names, centres, widths


def _table_sensor(name: str, filename: str, description: str) -> Sensor:
    """Sensor from a packaged CSV band table.

    Args:
        name: Canonical sensor key.
        filename: File name inside ``sensor_tables``.
        description: One-line description of the table and its source.

    Returns:
        The sensor table, sorted by wavelength.
    """
    names, centres, widths = _load_table(filename)
    return _make_sensor(name, centres, widths, names, description)


def _aviris_indian_pines() -> Sensor:
    """AVIRIS 1992 bands of the 200-band corrected Indian Pines cube.

    Returns:
        The sensor table.
    """
    return _table_sensor(
        'aviris_indian_pines',
        'aviris_indian_pines.csv',
        'AVIRIS (1992) 200-band corrected Indian Pines set: centres and FWHM from '
        'the 92AV3C.spc calibration table; names B1-B200 are cube band numbers.',
    )


def _aviris_ng() -> Sensor:
    """AVIRIS-NG, 425 bands 377-2501 nm.

    Returns:
        The sensor table.
    """
    return _table_sensor(
        'aviris_ng',
        'aviris_ng.csv',
        'AVIRIS-NG, 425 bands: centres and FWHM from the ENVI header of the '
        'radiance product ang20170323t202244_rdn (calibration varies by flight '
        'by <1 nm).',
    )


def _enmap() -> Sensor:
    """EnMAP HSI, 224 bands 418-2446 nm.

    Returns:
        The sensor table.
    """
    return _table_sensor(
        'enmap',
        'enmap.csv',
        'EnMAP HSI L2A, 224 bands (VNIR B1-B91, SWIR B92-B224, overlapping '
        '902-993 nm): centres and FWHM from the product band metadata.',
    )


def _prisma() -> Sensor:
    """PRISMA, 66 VNIR + 173 SWIR bands (approximation).

    Returns:
        The sensor table.
    """
    vnir = _even(400.0, 1010.0, 66)
    swir = _even(920.0, 2505.0, 173)
    return _make_sensor(
        'prisma',
        np.concatenate([vnir, swir]),
        12.0,
        _numbered('VNIR', 66) + _numbered('SWIR', 173),
        'PRISMA, 239 bands (VNIR 66 over 400-1010 nm, SWIR 173 over 920-2505 nm): '
        'APPROXIMATION, evenly spaced centres with the nominal FWHM bound 12 nm.',
    )


def _hyperion() -> Sensor:
    """EO-1 Hyperion, 242 bands (VNIR 1-70, SWIR 71-242; approximation).

    Returns:
        The sensor table.
    """
    vnir = _even(355.59, 1057.68, 70)
    swir = _even(851.92, 2577.08, 172)
    return _make_sensor(
        'hyperion',
        np.concatenate([vnir, swir]),
        10.0,
        _numbered('B', 242, width=3),
        'EO-1 Hyperion, 242 bands (VNIR B001-B070 355.59-1057.68 nm, SWIR '
        'B071-B242 851.92-2577.08 nm): APPROXIMATION, evenly spaced centres '
        'between the published end bands, nominal FWHM 10 nm.',
    )


#: Sensors without a published per-band table: evenly spaced centres over the
#: published range with the nominal FWHM, as (first nm, last nm, bands, FWHM nm,
#: description).
_EVENLY_SPACED: dict[str, tuple[float, float, int, float, str]] = {
    'rosis': (
        430.0,
        860.0,
        103,
        4.0,
        (
            'ROSIS-03 (Pavia scenes), 103 bands: APPROXIMATION, evenly spaced centres '
            '430-860 nm (no published per-band table), FWHM 4 nm.'
        ),
    ),
    'hyspex_vnir': (
        400.0,
        1000.0,
        186,
        3.26,
        (
            'HySpex VNIR-1800, 186 bands: APPROXIMATION, evenly spaced centres '
            '400-1000 nm, FWHM = nominal spectral sampling 3.26 nm.'
        ),
    ),
    'hyspex_swir': (
        930.0,
        2500.0,
        288,
        5.45,
        (
            'HySpex SWIR-384, 288 bands: APPROXIMATION, evenly spaced centres '
            '930-2500 nm, FWHM = nominal spectral sampling 5.45 nm.'
        ),
    ),
    'specim_iq': (
        397.0,
        1003.0,
        204,
        7.0,
        (
            'Specim IQ, 204 bands: APPROXIMATION, evenly spaced centres 397-1003 nm, '
            'nominal FWHM 7 nm.'
        ),
    ),
    'desis': (
        401.0,
        999.0,
        235,
        3.5,
        (
            'DESIS (ISS), 235 bands: APPROXIMATION, evenly spaced centres 401-999 nm '
            '(2.55 nm sampling), nominal FWHM 3.5 nm.'
        ),
    ),
}


def _evenly_spaced(name: str) -> Callable[[], Sensor]:
    """Builder of one of the :data:`_EVENLY_SPACED` sensor tables.

    Args:
        name: Key of :data:`_EVENLY_SPACED`.

    Returns:
        A function that builds the table.
    """
    first, last, num, fwhm, description = _EVENLY_SPACED[name]

    def build() -> Sensor:
        return _make_sensor(
            name, _even(first, last, num), fwhm, _numbered('B', num), description
        )

    return build


def _sentinel2() -> Sensor:
    """Sentinel-2A MSI, 13 bands.

    Returns:
        The sensor table.
    """
    table = {
        'B1': (442.7, 21.0),
        'B2': (492.4, 66.0),
        'B3': (559.8, 36.0),
        'B4': (664.6, 31.0),
        'B5': (704.1, 15.0),
        'B6': (740.5, 15.0),
        'B7': (782.8, 20.0),
        'B8': (832.8, 106.0),
        'B8A': (864.7, 21.0),
        'B9': (945.1, 20.0),
        'B10': (1373.5, 31.0),
        'B11': (1613.7, 91.0),
        'B12': (2202.4, 175.0),
    }
    return _make_sensor(
        'sentinel2',
        [centre for centre, _ in table.values()],
        [width for _, width in table.values()],
        list(table),
        'Sentinel-2A MSI, 13 bands: published central wavelengths and bandwidths '
        '(ESA); bandwidths used as Gaussian FWHM.',
    )


def _landsat8() -> Sensor:
    """Landsat 8 OLI/TIRS, 11 bands.

    Returns:
        The sensor table.
    """
    table = {
        'B1': (442.96, 15.98),
        'B2': (482.04, 60.04),
        'B3': (561.41, 57.33),
        'B4': (654.59, 37.47),
        'B5': (864.67, 28.25),
        'B6': (1608.86, 84.72),
        'B7': (2200.73, 186.66),
        'B8': (589.50, 172.40),
        'B9': (1373.43, 20.39),
        'B10': (10895.0, 590.0),
        'B11': (12005.0, 1010.0),
    }
    return _make_sensor(
        'landsat8',
        [centre for centre, _ in table.values()],
        [width for _, width in table.values()],
        list(table),
        'Landsat 8 OLI/TIRS, 11 bands: OLI centres and FWHM from Barsi et al. '
        '(2014); TIRS B10/B11 from the nominal band edges (10.60-11.19, '
        '11.50-12.51 um).',
    )


def _landsat9() -> Sensor:
    """Landsat 9 OLI-2/TIRS-2, 11 bands (nominal band edges).

    Returns:
        The sensor table.
    """
    edges = {
        'B1': (430.0, 450.0),
        'B2': (450.0, 510.0),
        'B3': (530.0, 590.0),
        'B4': (640.0, 670.0),
        'B5': (850.0, 880.0),
        'B6': (1570.0, 1650.0),
        'B7': (2110.0, 2290.0),
        'B8': (500.0, 680.0),
        'B9': (1360.0, 1380.0),
        'B10': (10600.0, 11190.0),
        'B11': (11500.0, 12510.0),
    }
    return _make_sensor(
        'landsat9',
        [(low + high) / 2 for low, high in edges.values()],
        [high - low for low, high in edges.values()],
        list(edges),
        'Landsat 9 OLI-2/TIRS-2, 11 bands: APPROXIMATION, centres and widths from '
        'the nominal USGS band edges (midpoint, width as FWHM).',
    )


def _rgb() -> Sensor:
    """Generic RGB camera, 3 bands.

    Returns:
        The sensor table.
    """
    return _make_sensor(
        'rgb',
        [470.0, 550.0, 650.0],
        50.0,
        ['B', 'G', 'R'],
        'Generic RGB camera: APPROXIMATION, blue 470, green 550, red 650 nm, '
        'FWHM 50 nm each.',
    )


_REGISTRY: dict[str, Callable[[], Sensor]] = {
    'aviris_indian_pines': _aviris_indian_pines,
    'aviris_ng': _aviris_ng,
    'enmap': _enmap,
    'hyperion': _hyperion,
    'landsat8': _landsat8,
    'landsat9': _landsat9,
    'prisma': _prisma,
    'rgb': _rgb,
    'sentinel2': _sentinel2,
    **{name: _evenly_spaced(name) for name in _EVENLY_SPACED},
}


def list_sensors() -> list[str]:
    """Names of the sensors known to :func:`get_sensor`.

    Returns:
        Canonical sensor keys, sorted alphabetically.
    """
    return sorted(_REGISTRY)


@functools.cache
def _build_sensor(key: str) -> Sensor:
    """Build (once) the table of a registered sensor.

    Args:
        key: Canonical sensor key.

    Returns:
        The sensor table.
    """
    return _REGISTRY[key]()


def get_sensor(name: str) -> Sensor:
    """Band table of a sensor by name.

    Args:
        name: Sensor name, case-insensitive; ``-``, ``_`` and spaces are
            interchangeable (``'AVIRIS-NG'`` is ``'aviris_ng'``).

    Returns:
        The (immutable, shared) sensor table.

    Raises:
        ValueError: If the sensor is unknown; the message lists the known names.
    """
    key = _normalise_name(name)
    if key not in _REGISTRY:
        msg = f'unknown sensor {name!r}; known sensors: {", ".join(list_sensors())}'
        raise ValueError(msg)
    return _build_sensor(key)


# ----------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------


def _format_indices(indices: npt.NDArray[np.intp], values: FloatArray) -> str:
    """Describe offending entries as ``index [..]: [..]`` (at most five shown).

    Args:
        indices: Offending indices.
        values: Values at those indices.

    Returns:
        A short human-readable description.
    """
    more = f' (and {indices.size - 5} more)' if indices.size > 5 else ''
    return f'index {indices[:5].tolist()}: {values[:5].tolist()}{more}'


def _as_float_vector(values: npt.ArrayLike, name: str) -> FloatArray:
    """Convert to a 1-D float64 array, failing with a readable message.

    Args:
        values: Array-like input (list, NumPy array, tensor).
        name: Name used in error messages.

    Returns:
        A new float64 1-D array.

    Raises:
        ValueError: If the input is not numeric, not 1-D or empty.
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        msg = f'{name} must be numeric: {error}'
        raise ValueError(msg) from error
    if array.ndim != 1:
        msg = f'{name} must be 1-D, got shape {array.shape}'
        raise ValueError(msg)
    if array.size == 0:
        msg = f'{name} is empty'
        raise ValueError(msg)
    return array


def validate_wavelengths(
    wavelengths: npt.ArrayLike,
    num_bands: int | None = None,
    *,
    name: str = 'wavelengths',
) -> np.ndarray:
    """Check band centres and return them as a float64 array.

    Args:
        wavelengths: Band centres in nm (list, NumPy array or tensor).
        num_bands: Expected number of bands, or None to accept any.
        name: Name used in error messages.

    Returns:
        A new 1-D float64 array of the centres.

    Raises:
        ValueError: If the centres are not 1-D, empty, of the wrong length
            (``expected N, found M``), not finite, not positive, or not strictly
            increasing (``duplicated`` or ``unsorted``); the message names the
            offending indices and values.
    """
    array = _as_float_vector(wavelengths, name)
    if num_bands is not None and array.size != num_bands:
        msg = f'{name}: expected {num_bands} band centres, found {array.size}'
        raise ValueError(msg)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        msg = f'{name} has non-finite values at {_format_indices(bad, array[bad])}'
        raise ValueError(msg)
    bad = np.flatnonzero(array <= 0)
    if bad.size:
        msg = (
            f'{name} must be positive (nm); non-positive (zero or negative) values '
            f'at {_format_indices(bad, array[bad])}'
        )
        raise ValueError(msg)
    step = np.diff(array)
    equal = np.flatnonzero(step == 0)
    if equal.size:
        i = int(equal[0])
        msg = (
            f'{name} must be strictly increasing: duplicated value {array[i]} at '
            f'index {i} and {i + 1} ({equal.size} duplicate(s))'
        )
        raise ValueError(msg)
    down = np.flatnonzero(step < 0)
    if down.size:
        i = int(down[0])
        msg = (
            f'{name} must be strictly increasing: unsorted at index {i + 1} '
            f'({array[i + 1]} after {array[i]}; {down.size} descent(s)); sort the '
            'bands by wavelength first'
        )
        raise ValueError(msg)
    return array


def _validate_fwhm(fwhm: npt.ArrayLike, num_bands: int, *, name: str) -> FloatArray:
    """Check band widths (FWHM) and return them as a float64 array.

    Args:
        fwhm: FWHM in nm per band.
        num_bands: Expected number of bands.
        name: Name used in error messages.

    Returns:
        A new 1-D float64 array.

    Raises:
        ValueError: If not 1-D, of the wrong length, not finite or not positive.
    """
    array = _as_float_vector(fwhm, name)
    if array.size != num_bands:
        msg = f'{name}: expected {num_bands} values, found {array.size}'
        raise ValueError(msg)
    bad = np.flatnonzero(~np.isfinite(array) | (array <= 0))
    if bad.size:
        msg = (
            f'{name} must be finite and positive; bad values at '
            f'{_format_indices(bad, array[bad])}'
        )
        raise ValueError(msg)
    return array


# ----------------------------------------------------------------------------------
# Reading band metadata
# ----------------------------------------------------------------------------------

_NANOMETRE_UNITS = frozenset(
    {'nm', 'nanometer', 'nanometers', 'nanometre', 'nanometres'}
)
_MICROMETRE_UNITS = frozenset(
    {
        'um',
        'µm',
        'μm',
        'micron',
        'microns',
        'micrometer',
        'micrometers',
        'micrometre',
        'micrometres',
    }
)
_UNKNOWN_UNITS = frozenset({'', 'unknown', 'none', 'n/a'})
_BAND_NAME_RE = re.compile(
    r'^\s*(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*'
    r'(nm|nanometers?|nanometres?|um|µm|μm|microns?|micrometers?|micrometres?)\s*$',
    re.IGNORECASE,
)


def _open(path: str | os.PathLike[str]) -> Any:
    """Open a raster with rasterio, accepting an ENVI ``.hdr`` path too.

    Args:
        path: Raster file, or the ``.hdr`` header of an ENVI file.

    Returns:
        An open rasterio dataset (use as a context manager).

    Raises:
        ValueError: If the file cannot be opened.
    """
    path = Path(path)
    candidates = [path]
    if path.suffix.lower() == '.hdr':
        stem = path.with_suffix('')
        candidates = [stem] + [
            stem.with_suffix(ext) for ext in ('.img', '.dat', '.raw', '.bsq', '.bil')
        ]
    for candidate in candidates:
        if candidate.is_file():
            try:
                with read_env():
                    return rasterio.open(candidate)
            except RasterioIOError as error:
                msg = f'{path}: cannot open raster: {error}'
                raise ValueError(msg) from error
    msg = f'{path}: no such raster file'
    raise ValueError(msg)


def _parse_list(text: str, path: object, key: str) -> FloatArray:
    """Parse an ENVI list such as ``{400.1, 410.2}`` into floats.

    Args:
        text: The tag value.
        path: File path (for error messages).
        key: Tag name (for error messages).

    Returns:
        The values.

    Raises:
        ValueError: If a value is not numeric.
    """
    items = [item.strip() for item in text.strip().strip('{}').split(',')]
    try:
        return np.array([float(item) for item in items if item], dtype=np.float64)
    except ValueError as error:
        msg = f'{path}: cannot parse ENVI {key!r}: {error}'
        raise ValueError(msg) from error


def _unit_scale(units: str | None, values: FloatArray, path: object) -> float:
    """Factor converting wavelengths in ``units`` to nm.

    Without units (or ``Unknown``), values all below 30 are taken as micrometres
    and larger ones as nanometres.

    Args:
        units: Unit string from the file, or None.
        values: The wavelengths (for the unit-less guess).
        path: File path (for error messages).

    Returns:
        1 for nanometres, 1000 for micrometres.

    Raises:
        ValueError: If the unit is neither (e.g. wavenumbers or band indices).
    """
    key = (units or '').strip().lower()
    if key in _NANOMETRE_UNITS:
        return 1.0
    if key in _MICROMETRE_UNITS:
        return 1000.0
    if key in _UNKNOWN_UNITS:
        finite = values[np.isfinite(values)]
        return 1000.0 if finite.size and finite.max() < 30 else 1.0
    msg = (
        f'{path}: unsupported wavelength units {units!r} '
        '(expected nanometers or micrometers)'
    )
    raise ValueError(msg)


def _envi_wavelengths(
    src: Any, path: object
) -> tuple[FloatArray, FloatArray | None] | None:
    """Wavelengths from the ENVI header domain.

    Args:
        src: Open rasterio dataset.
        path: File path (for error messages).

    Returns:
        Centres (nm) and FWHM (nm or None), or None if the header has none.
    """
    tags = {key.lower(): value for key, value in src.tags(ns='ENVI').items()}
    if 'wavelength' not in tags:
        return None
    centres = _parse_list(tags['wavelength'], path, 'wavelength')
    scale = _unit_scale(tags.get('wavelength_units'), centres, path)
    fwhm = _parse_list(tags['fwhm'], path, 'fwhm') * scale if 'fwhm' in tags else None
    return centres * scale, fwhm


def _band_tag_wavelengths(
    src: Any, path: object
) -> tuple[FloatArray, FloatArray | None] | None:
    """Wavelengths from per-band tags (``wavelength``, ``fwhm``, units).

    Args:
        src: Open rasterio dataset.
        path: File path (for error messages).

    Returns:
        Centres (nm) and FWHM (nm or None), or None if no band has a wavelength.

    Raises:
        ValueError: If only some bands have a wavelength (or FWHM), or a value
            is not numeric.
    """
    dataset_tags = {key.lower(): value for key, value in src.tags().items()}
    band_tags = [
        {key.lower(): value for key, value in src.tags(i).items()}
        for i in range(1, src.count + 1)
    ]
    has = [('wavelength' in tags) for tags in band_tags]
    if not any(has):
        return None
    if not all(has):
        missing = [i + 1 for i, ok in enumerate(has) if not ok]
        msg = f'{path}: bands {missing[:10]} have no wavelength tag'
        raise ValueError(msg)
    has_fwhm = [('fwhm' in tags) for tags in band_tags]
    if any(has_fwhm) and not all(has_fwhm):
        missing = [i + 1 for i, ok in enumerate(has_fwhm) if not ok]
        msg = f'{path}: bands {missing[:10]} have no fwhm tag (others have)'
        raise ValueError(msg)
    try:
        centres = np.array([float(tags['wavelength']) for tags in band_tags])
        fwhm = (
            np.array([float(tags['fwhm']) for tags in band_tags])
            if all(has_fwhm)
            else None
        )
    except ValueError as error:
        msg = f'{path}: cannot parse band wavelength/fwhm tags: {error}'
        raise ValueError(msg) from error
    units = [
        tags.get('wavelength_units', dataset_tags.get('wavelength_units'))
        for tags in band_tags
    ]
    if len(set(units)) == 1:
        scale: FloatArray | float = _unit_scale(units[0], centres, path)
    else:
        scale = np.array(
            [
                _unit_scale(unit, centres[i : i + 1], path)
                for i, unit in enumerate(units)
            ]
        )
    return centres * scale, None if fwhm is None else fwhm * scale


def _imagery_wavelengths(
    src: Any, path: object
) -> tuple[FloatArray, FloatArray | None] | None:
    """Wavelengths from GDAL's IMAGERY domain (``CENTRAL_WAVELENGTH_UM``).

    Args:
        src: Open rasterio dataset.
        path: File path (for error messages).

    Returns:
        Centres (nm) and FWHM (nm or None), or None if absent.

    Raises:
        ValueError: If only some bands have a centre, or a value is not numeric.
    """
    band_tags = [src.tags(i, ns='IMAGERY') for i in range(1, src.count + 1)]
    has = ['CENTRAL_WAVELENGTH_UM' in tags for tags in band_tags]
    if not any(has):
        return None
    if not all(has):
        missing = [i + 1 for i, ok in enumerate(has) if not ok]
        msg = f'{path}: bands {missing[:10]} have no CENTRAL_WAVELENGTH_UM'
        raise ValueError(msg)
    try:
        centres = np.array([float(tags['CENTRAL_WAVELENGTH_UM']) for tags in band_tags])
        fwhm = (
            np.array([float(tags['FWHM_UM']) for tags in band_tags]) * 1000.0
            if all('FWHM_UM' in tags for tags in band_tags)
            else None
        )
    except ValueError as error:
        msg = f'{path}: cannot parse IMAGERY wavelength tags: {error}'
        raise ValueError(msg) from error
    return centres * 1000.0, fwhm


def _band_name_wavelengths(src: Any) -> tuple[FloatArray, None] | None:
    """Wavelengths from band names such as ``'376.44 Nanometers'``.

    Some ENVI headers carry wavelengths only as band names; they count only when
    every band name is a number followed by a length unit.

    Args:
        src: Open rasterio dataset.

    Returns:
        Centres (nm) and None, or None if the names are not all wavelengths.
    """
    matches = [_BAND_NAME_RE.match(name or '') for name in src.descriptions]
    if not matches or not all(matches):
        return None
    values = []
    for match in matches:
        assert match is not None  # checked above, for the type checker
        unit = match.group(2).lower()
        scale = 1.0 if unit in _NANOMETRE_UNITS else 1000.0
        values.append(float(match.group(1)) * scale)
    return np.array(values, dtype=np.float64), None


def read_wavelengths(
    path: str | os.PathLike[str],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Band centres and FWHM of a raster file, in file band order.

    Sources, in order of preference:

    1. the ENVI header (``wavelength``, ``fwhm``, ``wavelength units``);
    2. per-band tags ``wavelength``/``WAVELENGTH``, ``fwhm`` and optional
       ``wavelength_units`` (band or dataset level), as in EnMAP GeoTIFFs;
    3. GDAL's ``IMAGERY`` domain (``CENTRAL_WAVELENGTH_UM``, ``FWHM_UM``);
    4. band names that are all wavelengths with units (``'376.44 Nanometers'``).

    Micrometres are converted to nm; without units, values below 30 are taken as
    micrometres. The order is not checked (products with overlapping
    spectrometers are not sorted); pass the result to
    :func:`validate_wavelengths` after sorting the bands if needed.

    Args:
        path: Raster readable by rasterio (GeoTIFF, ENVI data file or its
            ``.hdr``).

    Returns:
        Centres in nm, shape ``(C,)``, and FWHM in nm, shape ``(C,)``, or None
        when the file has no (usable) FWHM.

    Raises:
        ValueError: Naming the file, if it cannot be opened, has no wavelengths,
            has a different number of wavelengths (or FWHM) than bands, or has
            non-finite or non-positive wavelengths.
    """
    with _open(path) as src:
        count = int(src.count)
        found = (
            _envi_wavelengths(src, path)
            or _band_tag_wavelengths(src, path)
            or _imagery_wavelengths(src, path)
            or _band_name_wavelengths(src)
        )
    if found is None:
        msg = (
            f'{path}: no band wavelengths found (looked for ENVI "wavelength", '
            'band tags "wavelength", IMAGERY "CENTRAL_WAVELENGTH_UM" and '
            'wavelength band names)'
        )
        raise ValueError(msg)
    centres, fwhm = found
    if centres.size != count:
        msg = f'{path}: found {centres.size} wavelengths for {count} bands'
        raise ValueError(msg)
    bad = np.flatnonzero(~np.isfinite(centres) | (centres <= 0))
    if bad.size:
        msg = (
            f'{path}: invalid (non-finite or non-positive) wavelengths at '
            f'{_format_indices(bad, centres[bad])}'
        )
        raise ValueError(msg)
    if fwhm is not None:
        if fwhm.size != count:
            msg = f'{path}: found {fwhm.size} FWHM values for {count} bands'
            raise ValueError(msg)
        if not np.all(np.isfinite(fwhm) & (fwhm > 0)):
            warnings.warn(
                f'{path}: FWHM has non-finite or non-positive values; ignoring it',
                UserWarning,
                stacklevel=2,
            )
            fwhm = None
    return centres, fwhm


def read_bad_bands(path: str | os.PathLike[str]) -> np.ndarray | None:
    """Bad-band list of a raster file, in file band order.

    Reads the ENVI ``bbl`` header entry or per-band ``bbl`` tags (as in EnMAP
    GeoTIFFs); ``1`` marks a good band and ``0`` a bad one.

    Args:
        path: Raster readable by rasterio (GeoTIFF, ENVI data file or its
            ``.hdr``).

    Returns:
        Boolean array of shape ``(C,)``, True for GOOD bands, or None if the
        file has no bad-band list.

    Raises:
        ValueError: Naming the file, if the list does not match the band count,
            only some bands are tagged, or a value is not numeric.
    """
    with _open(path) as src:
        count = int(src.count)
        envi = {key.lower(): value for key, value in src.tags(ns='ENVI').items()}
        if 'bbl' in envi:
            values = _parse_list(envi['bbl'], path, 'bbl')
        else:
            band_tags = [
                {key.lower(): value for key, value in src.tags(i).items()}
                for i in range(1, count + 1)
            ]
            has = ['bbl' in tags for tags in band_tags]
            if not any(has):
                return None
            if not all(has):
                missing = [i + 1 for i, ok in enumerate(has) if not ok]
                msg = f'{path}: bands {missing[:10]} have no bbl tag'
                raise ValueError(msg)
            try:
                values = np.array([float(tags['bbl']) for tags in band_tags])
            except ValueError as error:
                msg = f'{path}: cannot parse bbl tags: {error}'
                raise ValueError(msg) from error
    if values.size != count:
        msg = f'{path}: found {values.size} bad-band flags for {count} bands'
        raise ValueError(msg)
    good: np.ndarray = values != 0
    return good


# ----------------------------------------------------------------------------------
# Spectral response and resampling
# ----------------------------------------------------------------------------------


def spectral_response(
    wavelengths: npt.ArrayLike, fwhm: npt.ArrayLike, grid: npt.ArrayLike
) -> np.ndarray:
    """Gaussian spectral response functions sampled on a wavelength grid.

    Args:
        wavelengths: Band centres in nm, shape ``(C,)`` (strictly increasing).
        fwhm: Band FWHM in nm, shape ``(C,)``.
        grid: Wavelengths (nm) at which to sample, shape ``(G,)``.

    Returns:
        Array of shape ``(C, G)``; each row sums to 1.

    Raises:
        ValueError: If the inputs are invalid, or a band's response vanishes on
            the grid (the band lies outside it).
    """
    centres = validate_wavelengths(wavelengths)
    widths = _validate_fwhm(fwhm, centres.size, name='fwhm')
    points = _as_float_vector(grid, 'grid')
    if not np.all(np.isfinite(points)):
        msg = 'grid has non-finite values'
        raise ValueError(msg)
    sigma = widths[:, None] * _FWHM_TO_SIGMA
    response = np.exp(-0.5 * ((points[None, :] - centres[:, None]) / sigma) ** 2)
    total = response.sum(axis=1, keepdims=True)
    empty = np.flatnonzero(total[:, 0] <= 0)
    if empty.size:
        msg = (
            'spectral response is zero on the grid '
            f'({points.min()}-{points.max()} nm) for bands at '
            f'{_format_indices(empty, centres[empty])}'
        )
        raise ValueError(msg)
    normalised: np.ndarray = response / total
    return normalised


def _interpolation_row(
    grid: FloatArray, weights: FloatArray, src: FloatArray
) -> FloatArray:
    """Weights of source bands in ``sum(weights * interp(grid))``.

    The source spectrum is interpolated linearly between band centres and held
    constant beyond the first and last centre.

    Args:
        grid: Integration points (nm), shape ``(K,)``.
        weights: Integration weights at those points, shape ``(K,)``.
        src: Source band centres (nm), strictly increasing, shape ``(C,)``.

    Returns:
        Row of shape ``(C,)`` with the weight of each source band.
    """
    row = np.zeros(src.size, dtype=np.float64)
    if src.size == 1:
        row[0] = weights.sum()
        return row
    left = np.clip(np.searchsorted(src, grid, side='right') - 1, 0, src.size - 2)
    t = np.clip((grid - src[left]) / (src[left + 1] - src[left]), 0.0, 1.0)
    np.add.at(row, left, weights * (1.0 - t))
    np.add.at(row, left + 1, weights * t)
    return row


@functools.lru_cache(maxsize=64)
def _cached_matrix(
    src_wavelengths: tuple[float, ...],
    src_fwhm: tuple[float, ...] | None,
    dst_wavelengths: tuple[float, ...],
    dst_fwhm: tuple[float, ...],
) -> FloatArray:
    """Compute (once per band-table pair) the resampling matrix.

    Args:
        src_wavelengths: Validated source centres (nm).
        src_fwhm: Validated source FWHM (nm), or None.
        dst_wavelengths: Validated target centres (nm).
        dst_fwhm: Validated target FWHM (nm).

    Returns:
        Read-only matrix of shape ``(C_dst, C_src)`` whose rows sum to 1.

    Raises:
        ValueError: If a target band's centre lies outside the source range.
    """
    src = np.array(src_wavelengths)
    dst = np.array(dst_wavelengths)
    widths = np.array(dst_fwhm)
    low, high = src[0], src[-1]
    if src_fwhm is not None:
        low -= src_fwhm[0] / 2
        high += src_fwhm[-1] / 2
    tol = 1e-9 * max(abs(high), 1.0)
    outside = np.flatnonzero((dst < low - tol) | (dst > high + tol))
    if outside.size:
        bands = ', '.join(f'band {i} ({dst[i]:g} nm)' for i in outside[:5])
        more = f' and {outside.size - 5} more' if outside.size > 5 else ''
        msg = (
            f'target {bands}{more} outside the source range {low:g}-{high:g} nm '
            f'(source centres {src[0]:g}-{src[-1]:g} nm)'
        )
        raise ValueError(msg)
    matrix = np.zeros((dst.size, src.size), dtype=np.float64)
    for j, (centre, width) in enumerate(zip(dst, widths, strict=True)):
        start = max(centre - _WINDOW_FWHM * width, low)
        stop = min(centre + _WINDOW_FWHM * width, high)
        step = min(_MAX_STEP_NM, width / 20.0)
        num = max(math.ceil((stop - start) / step), 2) + 1
        inside = src[(src > start) & (src < stop)]
        grid = np.union1d(np.linspace(start, stop, num), inside)
        # Trapezoid weights on the (non-uniform) grid; source centres are grid
        # points, so the piecewise-linear spectrum is integrated without aliasing.
        spacing = np.diff(grid)
        trapezoid = np.zeros_like(grid)
        trapezoid[:-1] += spacing / 2
        trapezoid[1:] += spacing / 2
        sigma = width * _FWHM_TO_SIGMA
        srf = np.exp(-0.5 * ((grid - centre) / sigma) ** 2)
        row = _interpolation_row(grid, srf * trapezoid, src)
        matrix[j] = row / row.sum()
    matrix.setflags(write=False)
    return matrix


def _prepare_pair(
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
) -> FloatArray:
    """Validate both band tables and fetch the cached resampling matrix.

    Args:
        src_wavelengths: Source centres (nm).
        src_fwhm: Source FWHM (nm), or None.
        dst_wavelengths: Target centres (nm).
        dst_fwhm: Target FWHM (nm).

    Returns:
        Read-only matrix of shape ``(C_dst, C_src)``.
    """
    src = validate_wavelengths(src_wavelengths, name='src_wavelengths')
    src_widths = (
        None
        if src_fwhm is None
        else _validate_fwhm(src_fwhm, src.size, name='src_fwhm')
    )
    dst = validate_wavelengths(dst_wavelengths, name='dst_wavelengths')
    dst_widths = _validate_fwhm(dst_fwhm, dst.size, name='dst_fwhm')
    return _cached_matrix(
        tuple(src.tolist()),
        None if src_widths is None else tuple(src_widths.tolist()),
        tuple(dst.tolist()),
        tuple(dst_widths.tolist()),
    )


def resampling_matrix(
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
) -> np.ndarray:
    """Matrix that simulates target bands from source bands.

    Row ``j`` holds the weights with which source bands enter target band ``j``:
    the source spectrum, linearly interpolated between its band centres, is
    integrated against the Gaussian SRF of the target band (window of +/- 3 FWHM
    clipped to the source range, step at most 1 nm and FWHM/20, source centres
    included as grid points) and normalised, so each row sums to 1. Source FWHM
    only widen the accepted range by half a width at each end; broader source
    bands are not deconvolved. Matrices are cached per band-table pair.

    Args:
        src_wavelengths: Source centres (nm), shape ``(C_src,)``, strictly
            increasing.
        src_fwhm: Source FWHM (nm), shape ``(C_src,)``, or None (range ends at
            the first and last centre).
        dst_wavelengths: Target centres (nm), shape ``(C_dst,)``, strictly
            increasing.
        dst_fwhm: Target FWHM (nm), shape ``(C_dst,)``.

    Returns:
        A new float64 array of shape ``(C_dst, C_src)``.

    Raises:
        ValueError: If a band table is invalid, or a target band's centre falls
            outside the source range ``[min - src_fwhm/2, max + src_fwhm/2]``; the
            message names the bands and the range.
    """
    return _prepare_pair(src_wavelengths, src_fwhm, dst_wavelengths, dst_fwhm).copy()


@overload
def resample_spectra(
    x: torch.Tensor,
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
    *,
    dim: int = -3,
) -> torch.Tensor: ...


@overload
def resample_spectra(
    x: np.ndarray,
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
    *,
    dim: int = -3,
) -> np.ndarray: ...


def resample_spectra(
    x: torch.Tensor | np.ndarray,
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
    *,
    dim: int = -3,
) -> torch.Tensor | np.ndarray:
    """Simulate target-sensor bands from source spectra with Gaussian SRFs.

    Applies :func:`resampling_matrix` along the band dimension. Floating inputs
    keep their dtype (half precision is computed in float32); integer inputs are
    computed in floating point and rounded back.

    Args:
        x: Spectra or cubes, a tensor or NumPy array with the ``C_src`` bands
            along ``dim``, e.g. ``(B, C, H, W)`` or ``(C, H, W)``.
        src_wavelengths: Source centres (nm), shape ``(C_src,)``.
        src_fwhm: Source FWHM (nm), or None.
        dst_wavelengths: Target centres (nm), shape ``(C_dst,)``.
        dst_fwhm: Target FWHM (nm), shape ``(C_dst,)``.
        dim: Band dimension of ``x`` (default -3, for ``(..., C, H, W)``; use -1
            for ``(..., C)`` spectra).

    Returns:
        Same type, dtype and device as ``x``, with ``C_dst`` bands along ``dim``.

    Raises:
        ValueError: If ``dim`` is out of range, ``x`` has another number of bands
            than ``src_wavelengths``, the dtype is not real, or
            :func:`resampling_matrix` fails.
        TypeError: If ``x`` is neither a tensor nor a NumPy array.
    """
    if not isinstance(x, torch.Tensor | np.ndarray):
        msg = f'x must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}'
        raise TypeError(msg)
    ndim = x.ndim
    if not -ndim <= dim < ndim:
        msg = f'dim {dim} is out of range for x with {ndim} dimension(s)'
        raise ValueError(msg)
    matrix = _prepare_pair(src_wavelengths, src_fwhm, dst_wavelengths, dst_fwhm)
    if x.shape[dim] != matrix.shape[1]:
        msg = (
            f'x has {x.shape[dim]} bands along dim {dim} but src_wavelengths has '
            f'{matrix.shape[1]}'
        )
        raise ValueError(msg)
    if isinstance(x, torch.Tensor):
        return _resample_tensor(x, matrix, dim)
    return _resample_array(x, matrix, dim)


def _resample_tensor(x: torch.Tensor, matrix: FloatArray, dim: int) -> torch.Tensor:
    """Apply a resampling matrix to a tensor along ``dim``.

    Args:
        x: Input tensor.
        matrix: Matrix of shape ``(C_dst, C_src)``.
        dim: Band dimension.

    Returns:
        Tensor of the input's dtype and device.

    Raises:
        ValueError: For complex or boolean tensors.
    """
    if x.dtype.is_complex or x.dtype == torch.bool:
        msg = f'cannot resample a tensor of dtype {x.dtype}'
        raise ValueError(msg)
    if x.dtype in (torch.float32, torch.float64):
        compute = x.dtype
    elif x.dtype.is_floating_point:
        compute = torch.float32
    else:
        compute = torch.float64
    # np.array copies the read-only cached matrix (torch wants writable memory).
    weights = torch.as_tensor(np.array(matrix), dtype=compute, device=x.device)
    moved = torch.movedim(x.to(compute), dim, -1)
    out = torch.movedim(moved @ weights.T, -1, dim)
    if not x.dtype.is_floating_point:
        out = out.round()
    return out.to(x.dtype)


def _resample_array(x: np.ndarray, matrix: FloatArray, dim: int) -> np.ndarray:
    """Apply a resampling matrix to a NumPy array along ``dim``.

    Args:
        x: Input array.
        matrix: Matrix of shape ``(C_dst, C_src)``.
        dim: Band dimension.

    Returns:
        Array of the input's dtype.

    Raises:
        ValueError: For non-real dtypes.
    """
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        msg = f'cannot resample an array of dtype {x.dtype}'
        raise ValueError(msg)
    compute = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    moved = np.moveaxis(x.astype(compute, copy=False), dim, -1)
    out = np.moveaxis(moved @ matrix.T.astype(compute), -1, dim)
    if np.issubdtype(x.dtype, np.integer):
        out = np.rint(out)
    result: np.ndarray = out.astype(x.dtype, copy=False)
    return result
