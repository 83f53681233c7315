"""Band tables of common spectral sensors: centres, FWHM and band names.

Every table is a CSV file in ``sensors/data``: from published metadata where it
exists (EnMAP, AVIRIS-NG, AVIRIS Indian Pines, Sentinel-2, Landsat 8) and from
documented approximations elsewhere (each file says which and how; see
:func:`list_sensors` and :func:`get_sensor`).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Sequence
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


#: The packaged band tables, one CSV file per sensor, named after its key.
_DATA = resources.files('torchgeo_spectral.sensors').joinpath('data')

#: Prefix of the comment line that holds a table's one-line description.
_DESCRIPTION = '# description: '


def _table_sensor(name: str) -> Sensor:
    """Read a packaged band table, ``torchgeo_spectral/sensors/data/<name>.csv``.

    Every sensor is such a file: ``#`` comment lines (the first one,
    ``# description: ...``, becomes :attr:`Sensor.description`; the others give
    the source, or how an approximation was made), then the columns
    ``band_name,wavelength_nm,fwhm_nm`` (extra columns are ignored) in the
    product's own band order. Adding a sensor means adding a file.

    Args:
        name: Canonical sensor key, the file's stem.

    Returns:
        The sensor table, sorted by wavelength.

    Raises:
        ValueError: If the file has no description line.
    """
    text = _DATA.joinpath(f'{name}.csv').read_text(encoding='utf-8')
    comments = [line for line in text.splitlines() if line.startswith('#')]
    if not comments or not comments[0].startswith(_DESCRIPTION):
        msg = f'band table {name}.csv must start with a {_DESCRIPTION.strip()!r} line'
        raise ValueError(msg)
    lines = [line for line in text.splitlines() if line and not line.startswith('#')]
    rows = list(csv.DictReader(io.StringIO('\n'.join(lines))))
    return _make_sensor(
        name,
        [float(row['wavelength_nm']) for row in rows],
        [float(row['fwhm_nm']) for row in rows],
        [row['band_name'] for row in rows],
        comments[0].removeprefix(_DESCRIPTION),
    )


#: Keys of the packaged sensors (the CSV file names without ``.csv``).
_REGISTRY: frozenset[str] = frozenset(
    entry.name.removesuffix('.csv')
    for entry in _DATA.iterdir()
    if entry.name.endswith('.csv')
)


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
    return _table_sensor(key)


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
