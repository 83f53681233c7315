"""Band metadata I/O: wavelengths, FWHM and bad-band lists of raster files.

Reads ENVI headers and GeoTIFF band tags through rasterio.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.errors import RasterioIOError

from ..rasterio_env import read_env
from ..wavelengths import _format_indices

__all__ = ['read_bad_bands', 'read_wavelengths']

FloatArray = npt.NDArray[np.float64]


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
