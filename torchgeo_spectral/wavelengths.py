"""The wavelength contract: band centres read, converted, checked and compared here.

Every spectral image in this package travels with the centre wavelengths of its
bands. This module is the one place where they are read (raster metadata, sidecar
text files, lists, sensor tables), converted to nanometres, checked, compared and
sorted; datasets call it once, at construction, and nothing downstream re-checks
the values (collate checks that a batch holds one band set, models check shapes).

The rules:

* **Units.** Centres are stored in nanometres. Where the source states its units
  (ENVI ``wavelength units``, a ``wavelength_units`` tag, GDAL's ``IMAGERY``
  domain, band names such as ``'450 nm'``, or ``units=`` given by the caller),
  those are used: nanometres and micrometres (``nm``, ``um``, ``µm``,
  ``micrometers``, ``microns`` ...) are accepted, anything else (wavenumbers,
  frequencies, band indices) is an error. Values without units follow ONE rule:
  all within :data:`MICROMETER_RANGE` (0.2-15) are micrometres, all within
  :data:`NANOMETER_RANGE` (200-15000) are nanometres, anything else is an error
  (the two ranges do not overlap, so no value is ambiguous).
* **Plausibility.** After conversion every centre lies in
  :data:`NANOMETER_RANGE`, the physical range of imaging spectroscopy from the
  near ultraviolet to the thermal infrared. Consecutive integers starting at 0 or
  1 (``0..N-1``, ``1..N``) are band indices, not centres, and are refused in any
  unit; values tagged as micrometres that read as nanometres (``420-2400``
  "Micrometers") and the converse are refused as mislabelled units.
* **Checks.** Centres are finite, positive and, once sorted, strictly increasing
  (:func:`check_wavelengths`); :func:`sort_bands` gives the order that sorts them.
* **Band sets.** Two vectors of centres are the same band set when they have the
  same length and agree within :data:`BAND_SET_TOLERANCE_NM` everywhere
  (:func:`same_band_set`); every comparison in the package uses this tolerance.

Every error is a :class:`WavelengthError` (a :class:`ValueError`) naming its
source (file path, argument or sensor) and the offending values.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt
import torch

if TYPE_CHECKING:
    from .sensors.tables import Sensor

__all__ = [
    'BAND_SET_TOLERANCE_NM',
    'MICROMETER_RANGE',
    'NANOMETER_RANGE',
    'AddWavelengths',
    'MissingWavelengthsError',
    'MixedBandSetsError',
    'WavelengthError',
    'Wavelengths',
    'check_fwhm',
    'check_wavelengths',
    'find_band_set',
    'normalize_units',
    'read_wavelengths',
    'same_band_set',
    'sort_bands',
    'to_nanometers',
]

FloatArray = npt.NDArray[np.float64]

#: Largest difference (nm) between two band centres of the same band set. Half a
#: nanometre: well below the spectral sampling of any imaging spectrometer (about
#: 2-15 nm) and of the spectral encoding, and well above the rounding of
#: wavelengths written with one or two decimals to metadata.
BAND_SET_TOLERANCE_NM = 0.5

#: Physical range (nm) of band centres: near ultraviolet to thermal infrared.
NANOMETER_RANGE = (200.0, 15000.0)

#: The same range in micrometres: unit-less values within it are micrometres.
MICROMETER_RANGE = (0.2, 15.0)

_NANOMETER_UNITS = frozenset(
    {'nm', 'nanometer', 'nanometers', 'nanometre', 'nanometres'}
)
_MICROMETER_UNITS = frozenset(
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
_UNKNOWN_UNITS = frozenset({'', 'unknown', 'none', 'n/a', 'unitless'})
_SIDECAR_SUFFIXES = frozenset({'.txt', '.csv'})
_SPLIT = re.compile(r'[,;\s]+')
#: Header names of the centre column of a wavelength table.
_CENTER_HEADER = re.compile(r'wavelength|cent(er|re)|^nm$|_nm$|\(nm\)')


class WavelengthError(ValueError):
    """Band centres that are missing, malformed, implausible or inconsistent."""


class MixedBandSetsError(WavelengthError):
    """A batch (or dataset) holds samples with different band sets."""


class MissingWavelengthsError(WavelengthError):
    """A file carries no band wavelengths in any place this package reads."""


class Wavelengths(NamedTuple):
    """Band centres and widths in nanometres, in the source's band order."""

    #: Centre wavelengths (nm), shape ``(C,)``, float64.
    centres: FloatArray
    #: Full widths at half maximum (nm), shape ``(C,)``, or None when the source
    #: has none (or only invalid ones).
    fwhm: FloatArray | None


# --------------------------------------------------------------------------- helpers


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


def _preview(values: FloatArray) -> str:
    """Short description of a vector of values for error messages.

    Args:
        values: The values.

    Returns:
        ``[a, b, c, ..., z] (N values)`` with at most four values shown.
    """
    shown = [float(f'{v:.6g}') for v in values[:3].tolist()]
    if values.size > 4:
        return f'{shown} ... {float(values[-1]):.6g} ({values.size} values)'
    return f'{[float(f"{v:.6g}") for v in values.tolist()]}'


def _as_float_vector(values: npt.ArrayLike | torch.Tensor, source: str) -> FloatArray:
    """Convert to a 1-D float64 array, failing with a readable message.

    Args:
        values: Array-like input (list, NumPy array, tensor).
        source: Name of the source for error messages.

    Returns:
        A new float64 1-D array.

    Raises:
        WavelengthError: If the input is not numeric, not 1-D or empty.
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        msg = f'{source} must be numeric: {error}'
        raise WavelengthError(msg) from error
    if array.ndim != 1:
        msg = f'{source} must be 1-D, got shape {array.shape}'
        raise WavelengthError(msg)
    if array.size == 0:
        msg = f'{source} is empty'
        raise WavelengthError(msg)
    return array


def _check_finite(array: FloatArray, source: str) -> None:
    """Refuse non-finite values, naming their indices.

    Args:
        array: Values.
        source: Name of the source for error messages.

    Raises:
        WavelengthError: If a value is NaN or infinite.
    """
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        msg = f'{source} has non-finite values at {_format_indices(bad, array[bad])}'
        raise WavelengthError(msg)


# ----------------------------------------------------------------------------- units


def normalize_units(units: str | None, *, source: str = 'wavelengths') -> str | None:
    """Canonical name of a wavelength unit.

    Args:
        units: A unit name as found in metadata (``'Nanometers'``, ``'µm'``,
            ``'Unknown'`` ...), or None.
        source: Name of the source for error messages.

    Returns:
        ``'nm'``, ``'um'``, or None when the units are not stated.

    Raises:
        WavelengthError: For any other unit (wavenumbers, frequencies, indices).
    """
    key = (units or '').strip().lower()
    if key in _NANOMETER_UNITS:
        return 'nm'
    if key in _MICROMETER_UNITS:
        return 'um'
    if key in _UNKNOWN_UNITS:
        return None
    msg = (
        f'{source}: unsupported wavelength units {units!r} '
        '(expected nanometers or micrometers)'
    )
    raise WavelengthError(msg)


def _within(values: FloatArray, bounds: tuple[float, float]) -> bool:
    """Whether every value lies in the closed interval ``bounds``.

    Args:
        values: Values.
        bounds: ``(low, high)``.

    Returns:
        True if all values are within.
    """
    return bool(np.all((values >= bounds[0]) & (values <= bounds[1])))


def _check_not_indices(array: FloatArray, source: str) -> None:
    """Refuse consecutive integers from 0 or 1, which are band indices.

    Args:
        array: Values in source order.
        source: Name of the source for error messages.

    Raises:
        WavelengthError: If the values look like band indices.
    """
    if array.size < 2 or not np.all(array == np.round(array)):
        return
    ordered = np.sort(array)
    if ordered[0] in (0.0, 1.0) and np.all(np.diff(ordered) == 1.0):
        msg = (
            f'{source}: values {_preview(array)} look like band indices '
            f'({int(ordered[0])}..{int(ordered[-1])}), not band centres; give the '
            'centre wavelength of each band in nm (or micrometers with units)'
        )
        raise WavelengthError(msg)


def _scale(array: FloatArray, units: str | None, source: str) -> float:
    """Factor converting ``array`` in ``units`` (canonical or None) to nm.

    Args:
        array: Finite values in source units.
        units: ``'nm'``, ``'um'`` or None (not stated).
        source: Name of the source for error messages.

    Returns:
        1 for nanometres, 1000 for micrometres.

    Raises:
        WavelengthError: If units are not stated and the values fit neither
            range, or stated units are contradicted by the values.
    """
    low, high = float(array.min()), float(array.max())
    if units is None:
        if _within(array, MICROMETER_RANGE):
            return 1000.0
        if _within(array, NANOMETER_RANGE):
            return 1.0
        msg = (
            f'{source}: cannot tell the units of wavelengths {_preview(array)} '
            f'(range {low:g}-{high:g}): values without units must all lie in '
            f'{MICROMETER_RANGE[0]:g}-{MICROMETER_RANGE[1]:g} (micrometers) or '
            f'{NANOMETER_RANGE[0]:g}-{NANOMETER_RANGE[1]:g} (nanometers); give '
            "the units (units='nm' or 'um')"
        )
        raise WavelengthError(msg)
    in_um = _within(array, MICROMETER_RANGE)
    in_nm = _within(array, NANOMETER_RANGE)
    if units == 'um' and in_nm and not in_um:
        msg = (
            f'{source}: mislabelled units: wavelengths {_preview(array)} are '
            f'tagged micrometers but read as nanometers (they would be '
            f'{low * 1000:g}-{high * 1000:g} nm); fix the units tag or give '
            "units='nm'"
        )
        raise WavelengthError(msg)
    if units == 'nm' and in_um and not in_nm:
        msg = (
            f'{source}: mislabelled units: wavelengths {_preview(array)} are '
            'tagged nanometers but read as micrometers (they would be '
            f'{low:g}-{high:g} nm); fix the units tag or give units='
            "'um'"
        )
        raise WavelengthError(msg)
    return 1000.0 if units == 'um' else 1.0


def _convert(
    values: npt.ArrayLike | torch.Tensor,
    units: str | Sequence[str | None] | None,
    source: str,
) -> tuple[FloatArray, FloatArray]:
    """Convert centres to nm; return them and the per-band scale used.

    Args:
        values: Centres in source units.
        units: One unit for all bands, or one per band (as band tags may carry).
        source: Name of the source for error messages.

    Returns:
        Centres in nm and the scale factor of each band.

    Raises:
        WavelengthError: See :func:`to_nanometers`.
    """
    array = _as_float_vector(values, source)
    _check_finite(array, source)
    _check_not_indices(array, source)
    if units is None or isinstance(units, str):
        per_band = [normalize_units(units, source=source)] * array.size
    else:
        if len(units) != array.size:
            msg = f'{source}: {len(units)} units for {array.size} wavelengths'
            raise WavelengthError(msg)
        per_band = [normalize_units(u, source=source) for u in units]
    scale = np.empty(array.size, dtype=np.float64)
    for unit in set(per_band):
        group = np.array([u == unit for u in per_band])
        scale[group] = _scale(array[group], unit, source)
    nm = array * scale
    bad = np.flatnonzero((nm < NANOMETER_RANGE[0]) | (nm > NANOMETER_RANGE[1]))
    if bad.size:
        msg = (
            f'{source}: wavelengths outside the physical range '
            f'{NANOMETER_RANGE[0]:g}-{NANOMETER_RANGE[1]:g} nm of imaging '
            f'spectroscopy at {_format_indices(bad, nm[bad])} (nm)'
        )
        raise WavelengthError(msg)
    return nm, scale


def to_nanometers(
    values: npt.ArrayLike | torch.Tensor,
    units: str | None = None,
    *,
    source: str = 'wavelengths',
) -> FloatArray:
    """Convert band centres to nanometres by the module's one rule.

    With ``units`` (``'nm'``, ``'um'``, ``'Micrometers'`` ...) the values are
    converted from those units; without, values all within 0.2-15 are taken as
    micrometres and values all within 200-15000 as nanometres. The order of the
    values is kept.

    Args:
        values: Band centres (list, NumPy array or tensor), any order.
        units: Their units, or None when the source does not say.
        source: Name of the source (file path, argument name) for errors.

    Returns:
        A new 1-D float64 array of centres in nm, in the input order.

    Raises:
        WavelengthError: Naming ``source`` and the values, if the values are not
            a finite 1-D vector, look like band indices, carry unsupported or
            mislabelled units, fit no unit range, or end outside 200-15000 nm.
    """
    nm, _ = _convert(values, units, source)
    return nm


# ---------------------------------------------------------------------------- checks


def check_wavelengths(
    values: npt.ArrayLike | torch.Tensor,
    num_bands: int | None = None,
    *,
    source: str = 'wavelengths',
) -> FloatArray:
    """Check sorted band centres (nm) and return them as a float64 array.

    Args:
        values: Band centres in nm (list, NumPy array or tensor), sorted.
        num_bands: Expected number of bands, or None to accept any.
        source: Name of the source for error messages.

    Returns:
        A new 1-D float64 array of the centres.

    Raises:
        WavelengthError: If the centres are not 1-D, empty, of the wrong length
            (``expected N, found M``), not finite, not positive, or not strictly
            increasing (``duplicated`` or ``unsorted``); the message names the
            offending indices and values.
    """
    array = _as_float_vector(values, source)
    if num_bands is not None and array.size != num_bands:
        msg = f'{source}: expected {num_bands} band centres, found {array.size}'
        raise WavelengthError(msg)
    _check_finite(array, source)
    bad = np.flatnonzero(array <= 0)
    if bad.size:
        msg = (
            f'{source} must be positive (nm); non-positive (zero or negative) values '
            f'at {_format_indices(bad, array[bad])}'
        )
        raise WavelengthError(msg)
    step = np.diff(array)
    equal = np.flatnonzero(step == 0)
    if equal.size:
        i = int(equal[0])
        msg = (
            f'{source} must be strictly increasing: duplicated value {array[i]} at '
            f'index {i} and {i + 1} ({equal.size} duplicate(s))'
        )
        raise WavelengthError(msg)
    down = np.flatnonzero(step < 0)
    if down.size:
        i = int(down[0])
        msg = (
            f'{source} must be strictly increasing: unsorted at index {i + 1} '
            f'({array[i + 1]} after {array[i]}; {down.size} descent(s)); sort the '
            'bands by wavelength first'
        )
        raise WavelengthError(msg)
    return array


def check_fwhm(
    fwhm: npt.ArrayLike | torch.Tensor, num_bands: int, *, source: str
) -> FloatArray:
    """Check band widths (FWHM, nm) and return them as a float64 array.

    Args:
        fwhm: FWHM in nm per band.
        num_bands: Expected number of bands.
        source: Name of the source for error messages.

    Returns:
        A new 1-D float64 array.

    Raises:
        WavelengthError: If not 1-D, of the wrong length, not finite or not
            positive.
    """
    array = _as_float_vector(fwhm, source)
    if array.size != num_bands:
        msg = f'{source}: expected {num_bands} values, found {array.size}'
        raise WavelengthError(msg)
    bad = np.flatnonzero(~np.isfinite(array) | (array <= 0))
    if bad.size:
        msg = (
            f'{source} must be finite and positive; bad values at '
            f'{_format_indices(bad, array[bad])}'
        )
        raise WavelengthError(msg)
    return array


def sort_bands(
    values: npt.ArrayLike | torch.Tensor, *, source: str = 'wavelengths'
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Sort band centres and return them with the permutation that sorts them.

    Args:
        values: Band centres in nm, in file order (any order).
        source: Name of the source for error messages (e.g. the file path).

    Returns:
        The strictly increasing centres and the indices (into the input order)
        that produce them (a stable sort).

    Raises:
        ~torchgeo_spectral.wavelengths.WavelengthError: If the centres are
            duplicated, non-finite, non-positive or not a 1-D vector.
    """
    array = _as_float_vector(values, source)
    order = np.argsort(array, kind='stable')
    ordered = array[order]
    equal = np.flatnonzero(np.diff(ordered) == 0)
    if equal.size:
        i = int(equal[0])
        msg = (
            f'{source}: duplicated wavelength: bands {int(order[i]) + 1} and '
            f'{int(order[i + 1]) + 1} (1-based, source order) share the wavelength '
            f'{ordered[i]:.2f} nm ({equal.size} duplicate(s)); give distinct band '
            'centres'
        )
        raise WavelengthError(msg)
    return check_wavelengths(ordered, source=source), order


# ------------------------------------------------------------------------- band sets


def same_band_set(
    a: npt.ArrayLike | torch.Tensor | None, b: npt.ArrayLike | torch.Tensor | None
) -> bool:
    """Whether two vectors of centres describe the same band set.

    They do when both are None, or when they have the same length and every pair
    of centres differs by at most :data:`BAND_SET_TOLERANCE_NM`.

    Args:
        a: Centres in nm (sorted the same way as ``b``), or None.
        b: Centres in nm, or None.

    Returns:
        True for the same band set.
    """
    if a is None or b is None:
        return a is None and b is None
    first = np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, float)
    second = np.asarray(b.detach().cpu() if isinstance(b, torch.Tensor) else b, float)
    return first.shape == second.shape and bool(
        np.all(np.abs(first - second) <= BAND_SET_TOLERANCE_NM)
    )


def find_band_set(
    wavelengths: npt.ArrayLike | torch.Tensor, known: Iterable[tuple[float, ...]]
) -> tuple[float, ...] | None:
    """The first of ``known`` that is the same band set as ``wavelengths``.

    Used to group samples by band set with :func:`same_band_set`'s tolerance
    rather than by exact (or rounded) values.

    Args:
        wavelengths: Centres in nm.
        known: Band sets seen so far.

    Returns:
        The matching band set, or None when there is none.
    """
    for candidate in known:
        if same_band_set(candidate, wavelengths):
            return candidate
    return None


# --------------------------------------------------------------------------- reading


def _parse_sidecar(path: Path) -> tuple[FloatArray, FloatArray | None]:
    """Centres (and FWHM) in a text/CSV file, in its units.

    One numeric line holds every centre (``400, 410, 420``); otherwise each numeric
    line is one band whose first value is the centre and whose second, if every
    line has one, is the FWHM. A header row picks the columns by name instead: the
    first whose name says ``wavelength``, ``center``/``centre`` or ``nm`` holds the
    centres, one named ``fwhm`` the widths. Lines before the first numeric one (headers) and ``#`` comments are
    skipped.

    Args:
        path: The text or CSV file.

    Returns:
        Centres and FWHM (or None), as written in the file.

    Raises:
        WavelengthError: Naming the file, if it cannot be read, holds no numbers
            or has a non-numeric value in a numeric line.
    """
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        msg = f'{path}: cannot read wavelength file: {error}'
        raise WavelengthError(msg) from error
    rows: list[list[float]] = []
    header: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = [f for f in _SPLIT.split(line.split('#', 1)[0].strip()) if f]
        if not fields:
            continue
        try:
            float(fields[0])
        except ValueError:
            if not rows:  # a header line
                header = [f.lower() for f in fields]
                continue
        try:
            rows.append([float(f) for f in fields])
        except ValueError as error:
            msg = f'{path}: line {number} has a non-numeric value: {error}'
            raise WavelengthError(msg) from error
    if not rows:
        msg = f'{path}: no wavelengths found in the file'
        raise MissingWavelengthsError(msg)
    if len(rows) == 1:
        return np.array(rows[0], dtype=np.float64), None
    # A header picks the columns by name (a band-number column may come first).
    named = [
        i
        for i, name in enumerate(header)
        if 'fwhm' not in name and _CENTER_HEADER.search(name)
    ]
    center = named[0] if named else 0
    widths = [i for i, name in enumerate(header) if 'fwhm' in name]
    width = widths[0] if widths else (center + 1 if len(header) < 2 else None)
    if any(len(row) <= center for row in rows):
        msg = f'{path}: some lines have no value in column {center + 1} (centres)'
        raise WavelengthError(msg)
    centres = np.array([row[center] for row in rows], dtype=np.float64)
    if width is not None and all(len(row) > width for row in rows):
        return centres, np.array([row[width] for row in rows], dtype=np.float64)
    return centres, None


def _read_raster(
    path: Path, units: str | None, num_bands: int | None
) -> tuple[FloatArray, FloatArray | None, list[str | None]]:
    """Raw centres, FWHM and per-band units of a raster, via :mod:`.sensors.io`.

    Args:
        path: Raster readable by rasterio (or an ENVI ``.hdr``).
        units: Units to assume where the file states none.
        num_bands: Expected band count, or None.

    Returns:
        Centres and FWHM as stored, and the units of each band.

    Raises:
        MissingWavelengthsError: If the file carries no wavelengths.
        WavelengthError: If the count disagrees with the bands (or
            ``num_bands``), or the file's units contradict ``units``.
    """
    from .sensors.io import read_band_metadata

    raw = read_band_metadata(path)
    if raw is None:
        msg = (
            f'{path}: no band wavelengths found (looked for ENVI "wavelength", '
            'band tags "wavelength", IMAGERY "CENTRAL_WAVELENGTH_UM" and '
            'wavelength band names)'
        )
        raise MissingWavelengthsError(msg)
    if raw.centres.size != raw.num_bands:
        msg = (
            f'{path}: found {raw.centres.size} wavelengths for {raw.num_bands} '
            f'bands (in the {raw.where})'
        )
        raise WavelengthError(msg)
    if num_bands is not None and raw.num_bands != num_bands:
        msg = f'{path}: expected {num_bands} bands, found {raw.num_bands}'
        raise WavelengthError(msg)
    if raw.fwhm is not None and raw.fwhm.size != raw.num_bands:
        msg = f'{path}: found {raw.fwhm.size} FWHM values for {raw.num_bands} bands'
        raise WavelengthError(msg)
    given = normalize_units(units, source=str(path))
    per_band: list[str | None] = []
    for unit in raw.units:
        stated = normalize_units(unit, source=str(path))
        if stated is not None and given is not None and stated != given:
            msg = f'{path}: the file states wavelength units {unit!r}, not {units!r}'
            raise WavelengthError(msg)
        per_band.append(stated or given)
    return raw.centres, raw.fwhm, per_band


def _named_table(name: str) -> Wavelengths | None:
    """The band table of a sensor or classic scene called ``name``, else None.

    Args:
        name: A sensor name or alias (:func:`~torchgeo_spectral.sensors.get_sensor`),
            or a classic scene's name
            (:func:`~torchgeo_spectral.sensors.scene_wavelengths`).

    Returns:
        Its centres (and FWHM for a sensor), or None when nothing has that name.
    """
    from .sensors import get_sensor, scene_wavelengths

    try:
        sensor = get_sensor(name)
    except ValueError:
        centres = scene_wavelengths(name)
        return None if centres is None else Wavelengths(centres.copy(), None)
    return Wavelengths(sensor.wavelengths.copy(), sensor.fwhm.copy())


def read_wavelengths(
    source: str
    | os.PathLike[str]
    | Sensor
    | npt.ArrayLike
    | torch.Tensor
    | Sequence[float],
    *,
    units: str | None = None,
    num_bands: int | None = None,
) -> Wavelengths:
    """Band centres (and FWHM where known) in nm from any source, source order.

    Sources:

    * a raster file (GeoTIFF, ENVI data file or ``.hdr``): ENVI ``wavelength``
      (+ ``fwhm``, ``wavelength units``), per-band ``wavelength`` tags (+
      ``fwhm``, ``wavelength_units``), GDAL's ``IMAGERY`` domain, or band names
      such as ``'450.5 Nanometers'`` (read by :mod:`torchgeo_spectral.sensors.io`);
    * a sidecar ``.txt``/``.csv`` file of centres (one per line, or comma
      separated on one line; an optional second column is the FWHM);
    * a list, array or tensor of centres;
    * a sensor name known to :func:`~torchgeo_spectral.sensors.get_sensor`, or a
      :class:`~torchgeo_spectral.sensors.Sensor`;
    * the name of a classic benchmark scene whose cube carries no wavelengths
      (``'salinas'``, ``'botswana'``, ...:
      :func:`~torchgeo_spectral.sensors.list_scenes`), for its band table.

    Units are those the source states, else ``units``, else the unit-less rule of
    :func:`to_nanometers`. The order is kept (files with overlapping spectrometers
    are not sorted): sort with :func:`sort_bands`.

    Args:
        source: Where the centres are.
        units: Units of the values where the source does not state them.
        num_bands: Expected number of bands, or None.

    Returns:
        Centres and FWHM (or None) in nm.

    Raises:
        ~torchgeo_spectral.wavelengths.MissingWavelengthsError: If a file
            carries no wavelengths.
        ~torchgeo_spectral.wavelengths.WavelengthError: Naming the source and
            values, for any rule of this module that the centres break, a band
            count other than ``num_bands``, or a source that is neither a file
            nor a sensor.
        TypeError: If ``source`` is None.
    """
    from .sensors.tables import Sensor

    if source is None:
        msg = 'read_wavelengths: source is None (give a file, values or a sensor)'
        raise TypeError(msg)
    if isinstance(source, Sensor):
        return Wavelengths(source.wavelengths.copy(), source.fwhm.copy())
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            table = _named_table(source) if isinstance(source, str) else None
            if table is not None:
                return table
            msg = (
                f'{source}: no such file (raster or wavelength list), sensor or '
                'classic scene (see torchgeo_spectral.sensors.list_sensors and '
                'list_scenes)'
            )
            raise WavelengthError(msg)
        name = str(path)
        if path.suffix.lower() in _SIDECAR_SUFFIXES:
            raw_centres, raw_fwhm = _parse_sidecar(path)
            per_band: str | list[str | None] | None = units
        else:
            raw_centres, raw_fwhm, per_band = _read_raster(path, units, num_bands)
    else:
        name = 'wavelengths'
        raw_centres = _as_float_vector(source, name)
        raw_fwhm, per_band = None, units
    if num_bands is not None and raw_centres.size != num_bands:
        msg = f'{name}: expected {num_bands} band centres, found {raw_centres.size}'
        raise WavelengthError(msg)
    centres, scale = _convert(raw_centres, per_band, name)
    fwhm = None
    if raw_fwhm is not None:
        if raw_fwhm.size != centres.size:
            msg = f'{name}: found {raw_fwhm.size} FWHM values for {centres.size} bands'
            raise WavelengthError(msg)
        fwhm = raw_fwhm * scale
        if not np.all(np.isfinite(fwhm) & (fwhm > 0)):
            warnings.warn(
                f'{name}: FWHM has non-finite or non-positive values; ignoring it',
                UserWarning,
                stacklevel=2,
            )
            fwhm = None
    return Wavelengths(centres, fwhm)


# ------------------------------------------------------------- TorchGeo's datasets


def _dataset_wavelengths(dataset: object) -> npt.ArrayLike | torch.Tensor:
    """Band centres a (TorchGeo) dataset exposes, in the order it returns bands.

    TorchGeo's :class:`~torchgeo.datasets.EnMAP` has a class-level ``wavelengths``
    dict (band name to micrometres) and the selected ``bands``;
    :class:`~torchgeo.datasets.HySpecNet11k` has a ``wavelengths`` tensor of the
    selected bands.

    Args:
        dataset: A dataset with a ``wavelengths`` attribute.

    Returns:
        One centre per returned band, in the dataset's units.

    Raises:
        WavelengthError: If the dataset has no usable ``wavelengths``.
    """
    name = type(dataset).__name__
    values = getattr(dataset, 'wavelengths', None)
    if values is None:
        msg = f'{name} has no wavelengths attribute: give the band centres'
        raise WavelengthError(msg)
    if isinstance(values, Mapping):
        bands = getattr(dataset, 'bands', None) or list(values)
        missing = [band for band in bands if band not in values]
        if missing:
            msg = f'{name}.wavelengths has no centre for bands {missing[:10]}'
            raise WavelengthError(msg)
        return [float(values[band]) for band in bands]
    result: npt.ArrayLike | torch.Tensor = values
    return result


class AddWavelengths:
    """Sample transform: put ``wavelength`` (nm, sorted) into each sample.

    Makes datasets that carry no band centres, or carry them in micrometres
    (TorchGeo's :class:`~torchgeo.datasets.EnMAP` and
    :class:`~torchgeo.datasets.HySpecNet11k`), follow this package's contract:
    the centres are converted once, here, by :func:`to_nanometers`, sorted, and
    the image channels reordered to match (EnMAP's VNIR and SWIR overlap). A
    ``wavelength`` the sample already has is replaced (HySpecNet11k puts its
    micrometres there). Works on one sample (``image`` ``(C, H, W)``) and on a
    batch (``(B, C, H, W)``, ``wavelength`` becomes ``(B, C)``).

    Example::

        from torchgeo.datasets import HySpecNet11k
        from torchgeo_spectral.wavelengths import AddWavelengths

        ds = HySpecNet11k(root)
        ds.transforms = AddWavelengths(ds)  # 'wavelength' in nm, bands sorted
    """

    def __init__(
        self, source: object, units: str | None = None, *, key: str = 'image'
    ) -> None:
        """Initialize the transform.

        Args:
            source: A dataset with a ``wavelengths`` attribute (dict of band name
                to centre with ``bands``, or a vector), a sensor name, or the
                centres themselves, in the order the dataset returns bands.
            units: Units of the centres when the source does not state them
                (TorchGeo's EnMAP tables are micrometres; the unit-less rule of
                :func:`to_nanometers` also recognises them).
            key: Sample key of the image whose channels the centres describe.

        Raises:
            WavelengthError: If the centres break the module's rules.
        """
        if isinstance(source, str | os.PathLike) or not hasattr(source, 'wavelengths'):
            values: Any = source
            centres = read_wavelengths(values, units=units).centres
            name = 'wavelengths' if not isinstance(source, str) else source
        else:
            name = f'{type(source).__name__}.wavelengths'
            centres = to_nanometers(_dataset_wavelengths(source), units, source=name)
        ordered, order = sort_bands(centres, source=str(name))
        self.key = key
        self.wavelengths = torch.tensor(ordered, dtype=torch.float32)
        identity = bool(np.all(order == np.arange(order.size)))
        self.order: torch.Tensor | None = (
            None if identity else torch.as_tensor(order, dtype=torch.long)
        )

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        """Add the centres to a sample (or batch) and sort its channels.

        Args:
            sample: A sample with ``image`` of shape ``(C, H, W)`` or a batch
                with ``(B, C, H, W)``.

        Returns:
            The same dictionary with ``wavelength`` ``(C,)`` (or ``(B, C)``) in
            nm and the channels in increasing wavelength.

        Raises:
            WavelengthError: If the image does not have one channel per centre.
        """
        image: torch.Tensor = sample[self.key]
        channels = self.wavelengths.numel()
        if image.ndim not in (3, 4) or image.shape[-3] != channels:
            msg = (
                f'AddWavelengths: {self.key!r} of shape {tuple(image.shape)} does not '
                f'have the {channels} channels of the band centres (dimension -3)'
            )
            raise WavelengthError(msg)
        if self.order is not None:
            sample[self.key] = image.index_select(-3, self.order.to(image.device))
        wavelength = self.wavelengths.to(image.device)
        if image.ndim == 4:
            wavelength = wavelength.expand(image.shape[0], channels).clone()
        sample['wavelength'] = wavelength.clone()
        return sample

    def __repr__(self) -> str:
        """Short description.

        Returns:
            For example ``AddWavelengths(202 bands, 418.4-2445.3 nm, sorted)``.
        """
        w = self.wavelengths
        sort = ', reordered' if self.order is not None else ''
        return (
            f'AddWavelengths({w.numel()} bands, {float(w[0]):.1f}-'
            f'{float(w[-1]):.1f} nm{sort})'
        )
