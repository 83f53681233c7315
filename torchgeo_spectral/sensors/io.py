"""Band metadata I/O: raw wavelengths, FWHM and bad-band lists of raster files.

Reads ENVI headers and GeoTIFF band tags through rasterio. Wavelengths come back
as stored, with the units the file states; the units rule, plausibility checks and
conversion to nm live in :mod:`torchgeo_spectral.wavelengths`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.errors import RasterioIOError

from ..rasterio_env import read_env

__all__ = ['RawBandMetadata', 'envi_list', 'read_bad_bands', 'read_band_metadata']

FloatArray = npt.NDArray[np.float64]


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


def envi_list(text: str) -> list[str]:
    """The items of an ENVI header list such as ``{400.1, 410.2}``.

    Args:
        text: The header value, braces included or not.

    Returns:
        The items, stripped, without empty ones (a trailing comma).
    """
    items = (item.strip() for item in text.strip().strip('{}').split(','))
    return [item for item in items if item]


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
    try:
        return np.array([float(item) for item in envi_list(text)], dtype=np.float64)
    except ValueError as error:
        msg = f'{path}: cannot parse ENVI {key!r}: {error}'
        raise ValueError(msg) from error


class RawBandMetadata(NamedTuple):
    """Band wavelengths as a raster stores them, before any unit decision.

    Units, plausibility and conversion to nm are decided by
    :func:`torchgeo_spectral.wavelengths.read_wavelengths`, not here.

    Attributes:
        centres: Centre wavelengths as stored, file band order.
        fwhm: FWHM as stored, or None.
        units: The units the file states for each band (None where it states
            none), as written (``'Micrometers'``, ``'nm'`` ...).
        num_bands: Number of bands of the raster.
        where: Which metadata held them (for messages).
    """

    centres: FloatArray
    fwhm: FloatArray | None
    units: tuple[str | None, ...]
    num_bands: int
    where: str


def _envi_wavelengths(src: Any, path: object) -> RawBandMetadata | None:
    """Wavelengths from the ENVI header domain.

    Args:
        src: Open rasterio dataset.
        path: File path (for error messages).

    Returns:
        The raw metadata, or None if the header has none.
    """
    tags = {key.lower(): value for key, value in src.tags(ns='ENVI').items()}
    if 'wavelength' not in tags:
        return None
    centres = _parse_list(tags['wavelength'], path, 'wavelength')
    fwhm = _parse_list(tags['fwhm'], path, 'fwhm') if 'fwhm' in tags else None
    units = (tags.get('wavelength_units'),) * centres.size
    return RawBandMetadata(centres, fwhm, units, int(src.count), 'ENVI header')


def _tagged_on_all_bands(
    band_tags: Sequence[Mapping[str, str]], key: str, path: object, what: str
) -> bool:
    """Whether every band carries ``key``; an error if only some do.

    Args:
        band_tags: Tags of each band.
        key: The tag looked for.
        path: File path (for error messages).
        what: Name of the tag in the message.

    Returns:
        True if every band has the tag, False if none has.

    Raises:
        ValueError: Naming the bands without it, if only some have it.
    """
    has = [key in tags for tags in band_tags]
    if any(has) and not all(has):
        missing = [i + 1 for i, ok in enumerate(has) if not ok]
        msg = f'{path}: bands {missing[:10]} have no {what} (others have)'
        raise ValueError(msg)
    return all(has)


def _band_tag_wavelengths(src: Any, path: object) -> RawBandMetadata | None:
    """Wavelengths from per-band tags (``wavelength``, ``fwhm``, units).

    Args:
        src: Open rasterio dataset.
        path: File path (for error messages).

    Returns:
        The raw metadata, or None if no band has a wavelength.

    Raises:
        ValueError: If only some bands have a wavelength (or FWHM), or a value
            is not numeric.
    """
    dataset_tags = {key.lower(): value for key, value in src.tags().items()}
    band_tags = [
        {key.lower(): value for key, value in src.tags(i).items()}
        for i in range(1, src.count + 1)
    ]
    if not _tagged_on_all_bands(band_tags, 'wavelength', path, 'wavelength tag'):
        return None
    has_fwhm = _tagged_on_all_bands(band_tags, 'fwhm', path, 'fwhm tag')
    try:
        centres = np.array([float(tags['wavelength']) for tags in band_tags])
        fwhm = (
            np.array([float(tags['fwhm']) for tags in band_tags]) if has_fwhm else None
        )
    except ValueError as error:
        msg = f'{path}: cannot parse band wavelength/fwhm tags: {error}'
        raise ValueError(msg) from error
    units = tuple(
        tags.get('wavelength_units', dataset_tags.get('wavelength_units'))
        for tags in band_tags
    )
    return RawBandMetadata(centres, fwhm, units, int(src.count), 'band tags')


def _imagery_wavelengths(src: Any, path: object) -> RawBandMetadata | None:
    """Wavelengths from GDAL's IMAGERY domain (``CENTRAL_WAVELENGTH_UM``).

    Args:
        src: Open rasterio dataset.
        path: File path (for error messages).

    Returns:
        The raw metadata (micrometres), or None if absent.

    Raises:
        ValueError: If only some bands have a centre, or a value is not numeric.
    """
    band_tags = [src.tags(i, ns='IMAGERY') for i in range(1, src.count + 1)]
    key = 'CENTRAL_WAVELENGTH_UM'
    if not _tagged_on_all_bands(band_tags, key, path, key):
        return None
    try:
        centres = np.array([float(tags['CENTRAL_WAVELENGTH_UM']) for tags in band_tags])
        fwhm = (
            np.array([float(tags['FWHM_UM']) for tags in band_tags])
            if all('FWHM_UM' in tags for tags in band_tags)
            else None
        )
    except ValueError as error:
        msg = f'{path}: cannot parse IMAGERY wavelength tags: {error}'
        raise ValueError(msg) from error
    units = ('um',) * centres.size
    return RawBandMetadata(centres, fwhm, units, int(src.count), 'IMAGERY domain')


def _band_name_wavelengths(src: Any) -> RawBandMetadata | None:
    """Wavelengths from band names such as ``'376.44 Nanometers'``.

    Some ENVI headers carry wavelengths only as band names; they count only when
    every band name is a number followed by a length unit.

    Args:
        src: Open rasterio dataset.

    Returns:
        The raw metadata, or None if the names are not all wavelengths.
    """
    matches = [_BAND_NAME_RE.match(name or '') for name in src.descriptions]
    if not matches or not all(matches):
        return None
    values, units = [], []
    for match in matches:
        assert match is not None  # checked above, for the type checker
        values.append(float(match.group(1)))
        units.append(match.group(2))
    centres = np.array(values, dtype=np.float64)
    return RawBandMetadata(centres, None, tuple(units), int(src.count), 'band names')


def read_band_metadata(path: str | os.PathLike[str]) -> RawBandMetadata | None:
    """Band wavelengths of a raster file as stored, in file band order.

    Sources, in order of preference:

    1. the ENVI header (``wavelength``, ``fwhm``, ``wavelength units``);
    2. per-band tags ``wavelength``/``WAVELENGTH``, ``fwhm`` and optional
       ``wavelength_units`` (band or dataset level), as in EnMAP GeoTIFFs;
    3. GDAL's ``IMAGERY`` domain (``CENTRAL_WAVELENGTH_UM``, ``FWHM_UM``);
    4. band names that are all wavelengths with units (``'376.44 Nanometers'``).

    This is the raw reader: use
    :func:`torchgeo_spectral.wavelengths.read_wavelengths`, which decides units
    and plausibility and converts to nm.

    Args:
        path: Raster readable by rasterio (GeoTIFF, ENVI data file or its
            ``.hdr``).

    Returns:
        The stored values, or None when the file carries no wavelengths.

    Raises:
        ValueError: Naming the file, if it cannot be opened or its tags are
            partial or not numeric.
    """
    with _open(path) as src:
        found: RawBandMetadata | None = (
            _envi_wavelengths(src, path)
            or _band_tag_wavelengths(src, path)
            or _imagery_wavelengths(src, path)
            or _band_name_wavelengths(src)
        )
    return found


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
            if not _tagged_on_all_bands(band_tags, 'bbl', path, 'bbl tag'):
                return None
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
