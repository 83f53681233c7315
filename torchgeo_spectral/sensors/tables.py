"""Band tables of common spectral sensors: centres, FWHM and band names.

Tables come from published metadata where it exists (EnMAP, AVIRIS-NG, AVIRIS
Indian Pines, as CSV files in ``sensors/data``) and from documented
approximations elsewhere (see :func:`list_sensors` and :func:`get_sensor`).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from ..wavelengths import check_fwhm, check_wavelengths

__all__ = ['Sensor', 'get_sensor', 'list_sensors']

FloatArray = npt.NDArray[np.float64]


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
                :func:`~torchgeo_spectral.wavelengths.check_wavelengths`), the FWHM are not positive, or the
                band names do not match the band count or repeat.
        """
        wavelengths = check_wavelengths(
            self.wavelengths, source=f'{self.name} wavelengths'
        )
        fwhm = check_fwhm(self.fwhm, wavelengths.size, source=f'{self.name} fwhm')
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
    """Read a packaged band table from ``torchgeo_spectral/sensors/data``.

    The CSV files have ``#`` comment lines (the source), then the columns
    ``band_name,wavelength_nm,fwhm_nm`` (extra columns are ignored), in the
    product's own band order.

    Args:
        filename: File name inside ``sensors/data``.

    Returns:
        Band names, centres (nm) and FWHM (nm), in file order.
    """
    text = (
        resources.files('torchgeo_spectral.sensors')
        .joinpath('data', filename)
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
        filename: File name inside ``sensors/data``.
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
        TypeError: If ``name`` is not a string (e.g. None).
        ValueError: If the sensor is unknown; the message lists the known names.
    """
    if not isinstance(name, str):
        msg = (
            f'sensor name must be a string, got {name!r} '
            f'({type(name).__name__}); known sensors: {", ".join(list_sensors())}'
        )
        raise TypeError(msg)
    key = _normalise_name(name)
    if key not in _REGISTRY:
        msg = f'unknown sensor {name!r}; known sensors: {", ".join(list_sensors())}'
        raise ValueError(msg)
    return _build_sensor(key)
