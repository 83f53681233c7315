"""Reading spectral cubes: ENVI, GeoTIFF/TIFF and NumPy files, read-only.

Every reader returns arrays of shape ``(C, H, W)`` in FILE band order; sorting by
wavelength happens in the datasets. Nothing is ever written next to the data:
GDAL's auxiliary ``.aux.xml`` files are disabled while reading.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.errors
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from ..rasterio_env import read_env as rasterio_env
from ..sensors import read_bad_bands
from ..wavelengths import MissingWavelengthsError, read_wavelengths

__all__ = [
    'ENVI_DATA_SUFFIXES',
    'SIDECAR_SUFFIXES',
    'CubeInfo',
    'band_table_tags',
    'envi_data_file',
    'find_cubes',
    'is_sidecar',
    'missing_data_message',
    'orphan_headers',
    'rasterio_env',
    'read_cube',
    'read_failed_message',
    'read_georeference',
    'read_npy_wavelengths',
    'read_reference',
]

#: Extensions of ENVI data files next to a ``.hdr`` (or none, as AVIRIS-NG).
ENVI_DATA_SUFFIXES = ('', '.img', '.bsq', '.bil', '.bip', '.raw', '.dat')

#: Extensions never treated as rasters (headers, metadata, GDAL side files).
SIDECAR_SUFFIXES = frozenset(
    {
        '.hdr',
        '.xml',
        '.aux',
        '.ovr',
        '.txt',
        '.csv',
        '.json',
        '.geojson',
        '.gpkg',
        '.md',
        '.sta',
        '.msk',
        '.py',
        '.pyc',
        '.zip',
        '.roi',
        '.prj',
        '.wld',
        '.tfw',
    }
)

_TIFF_SUFFIXES = ('.tif', '.tiff')
_NPY_SUFFIX = '.npy'


def is_sidecar(path: str | os.PathLike[str]) -> bool:
    """Whether a file is a header or metadata side file rather than a raster.

    Args:
        path: A file path.

    Returns:
        True for headers, GDAL side files and text/metadata files.
    """
    name = os.path.basename(os.fspath(path)).lower()
    if name.endswith('.aux.xml') or name.startswith('.'):
        return True
    return os.path.splitext(name)[1] in SIDECAR_SUFFIXES


def envi_data_file(header: Path) -> Path | None:
    """Find the data file described by an ENVI header.

    Args:
        header: Path of a ``.hdr`` file.

    Returns:
        The data file (``x``, ``x.img``, ``x.bsq``, ``x.bil``, ``x.bip``, ``x.raw``
        or ``x.dat`` for ``x.hdr``, also ``x.hdr`` -> ``x.hdr`` minus suffix), or
        None when absent.
    """
    stem = header.with_suffix('')
    for suffix in ENVI_DATA_SUFFIXES:
        candidate = stem.with_name(stem.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def missing_data_message(header: Path) -> str:
    """Say which data files an ENVI header lacks.

    Args:
        header: A ``.hdr`` file without its data file.

    Returns:
        ``'<header>: ENVI header without its data file (<names> not found)'``.
    """
    stem = header.with_suffix('')
    names = ', '.join(stem.name + suffix for suffix in ENVI_DATA_SUFFIXES)
    return f'{header}: ENVI header without its data file ({names} not found)'


def orphan_headers(paths: list[Path]) -> list[Path]:
    """The ENVI headers among ``paths`` whose data file is missing.

    Args:
        paths: Files.

    Returns:
        Sorted headers without a data file.
    """
    return sorted(
        p for p in paths if p.suffix.lower() == '.hdr' and envi_data_file(p) is None
    )


def find_cubes(root: Path) -> list[Path]:
    """List the cubes in a folder: ENVI data files, (Geo)TIFFs and ``.npy``.

    An ENVI header whose data file is missing is skipped with a warning that
    names it.

    Args:
        root: Folder to search (not recursive).

    Returns:
        Sorted cube paths (ENVI cubes by their data file).
    """
    found: set[Path] = set()
    files = [path for path in sorted(root.iterdir()) if path.is_file()]
    for path in files:
        suffix = path.suffix.lower()
        if suffix == '.hdr':
            data = envi_data_file(path)
            if data is not None:
                found.add(data)
        elif suffix in _TIFF_SUFFIXES or suffix == _NPY_SUFFIX:
            found.add(path)
    for header in orphan_headers(files):
        warnings.warn(f'skipping {missing_data_message(header)}', UserWarning, 2)
    return sorted(found)


def read_npy_wavelengths(path: Path) -> npt.NDArray[np.float64] | None:
    """Wavelength sidecar of a ``.npy`` cube.

    Looks for ``<stem>.wavelengths.txt`` / ``.csv`` and then ``wavelengths.txt`` /
    ``.csv`` in the same folder (shared by all cubes there), read by
    :func:`~torchgeo_spectral.wavelengths.read_wavelengths` (one centre per line,
    or comma separated on one line; units by the module's rule).

    Args:
        path: The ``.npy`` cube.

    Returns:
        Centres in nm in file band order, or None if there is no sidecar.

    Raises:
        ~torchgeo_spectral.wavelengths.WavelengthError: Naming the sidecar, if
            it holds non-numeric or implausible values.
    """
    candidates = [
        path.with_name(f'{path.stem}.wavelengths{ext}') for ext in ('.txt', '.csv')
    ] + [path.with_name(f'wavelengths{ext}') for ext in ('.txt', '.csv')]
    for candidate in candidates:
        if candidate.is_file():
            return read_wavelengths(candidate).centres
    return None


@dataclass(frozen=True)
class CubeInfo:
    """Metadata of one cube file.

    Attributes:
        path: The cube (ENVI data file, TIFF or ``.npy``).
        count: Number of bands.
        height: Number of lines.
        width: Number of samples per line.
        wavelengths: Centres in nm in file band order, or None when the file has
            none.
        good: Bad-band list from the file (True = good), or None.
        layout: ``'chw'``, ``'hwc'`` or ``'hw'`` (single band) for ``.npy``
            files, ``'raster'`` otherwise.
        nodata: The nodata value the file declares (TIFF nodata, ENVI ``data
            ignore value``), or None.
    """

    path: Path
    count: int
    height: int
    width: int
    wavelengths: npt.NDArray[np.float64] | None
    good: npt.NDArray[np.bool_] | None
    layout: str
    nodata: float | None = None

    @classmethod
    def read(cls, path: Path, num_bands: int | None = None) -> CubeInfo:
        """Read the metadata of a cube.

        Args:
            path: The cube.
            num_bands: Expected band count (used to tell ``(C, H, W)`` from
                ``(H, W, C)`` for ``.npy`` files without a sidecar).

        Returns:
            The metadata.

        Raises:
            FileNotFoundError: If the file does not exist.
            ValueError: Naming the file, if it cannot be read or its band count
                disagrees with its wavelengths.
        """
        if not path.is_file():
            raise FileNotFoundError(f'{path}: no such file')
        if path.suffix.lower() == _NPY_SUFFIX:
            return cls._read_npy(path, num_bands)
        try:
            with rasterio_env(), rasterio.open(path) as src:
                count, height, width = src.count, src.height, src.width
                nodata = None if src.nodata is None else float(src.nodata)
        except rasterio.errors.RasterioIOError as error:
            raise ValueError(f'{path}: not a readable raster ({error})') from error
        wavelengths: npt.NDArray[np.float64] | None
        try:
            with rasterio_env(), warnings.catch_warnings():
                warnings.simplefilter('ignore', UserWarning)
                wavelengths = read_wavelengths(path).centres
        except MissingWavelengthsError:
            wavelengths = None
        with rasterio_env():
            good = read_bad_bands(path)
        return cls(path, count, height, width, wavelengths, good, 'raster', nodata)

    @classmethod
    def _read_npy(cls, path: Path, num_bands: int | None) -> CubeInfo:
        """Read the metadata of a ``.npy`` cube.

        Args:
            path: The ``.npy`` file.
            num_bands: Expected band count, or None.

        Returns:
            The metadata.

        Raises:
            ValueError: Naming the file, if it is not a 3-D array or matches no
                layout for its wavelengths.
        """
        try:
            array = np.load(path, mmap_mode='r')
        except (OSError, ValueError) as error:
            raise ValueError(f'{path}: not a readable .npy array ({error})') from error
        wavelengths = read_npy_wavelengths(path)
        if array.ndim == 2:
            # (a mask, read with num_bands=1, may share the cubes' folder-wide file)
            if num_bands != 1 and wavelengths is not None and wavelengths.size != 1:
                msg = (
                    f'{path}: a 2-D array of shape {array.shape} holds one band, but '
                    f'its wavelength file lists {wavelengths.size} wavelengths; save '
                    'the cube as (C, H, W) or (H, W, C)'
                )
                raise ValueError(msg)
            height, width = array.shape
            single = (
                wavelengths
                if wavelengths is not None and wavelengths.size == 1
                else None
            )
            return cls(path, 1, int(height), int(width), single, None, 'hw')
        if array.ndim != 3:
            msg = (
                f'{path}: expected a 3-D cube (C, H, W) or (H, W, C), got {array.shape}'
            )
            raise ValueError(msg)
        count = wavelengths.size if wavelengths is not None else num_bands
        if count is None or array.shape[0] == count:
            layout = 'chw'
        elif array.shape[2] == count:
            layout = 'hwc'
        else:
            msg = (
                f'{path}: array of shape {array.shape} has no axis of {count} bands '
                '(the number of wavelengths)'
            )
            raise ValueError(msg)
        c, h, w = array.shape if layout == 'chw' else np.roll(array.shape, 1)
        return cls(path, int(c), int(h), int(w), wavelengths, None, layout)


def read_failed_message(path: str | os.PathLike[str], error: BaseException) -> str:
    """Name the file and GDAL's own reason when a read fails.

    rasterio's "Read failed. See previous exception for details." hides the
    reason in the exception's cause; this puts both in one line.

    Args:
        path: The file being read.
        error: The rasterio error.

    Returns:
        ``'<path>: read failed (<reason>); the file may be truncated or corrupt'``.
    """
    cause = error.__cause__ or error.__context__
    reason = f'{error}: {cause}' if cause is not None else str(error)
    return f'{path}: read failed ({reason}); the file may be truncated or corrupt'


def read_cube(
    info: CubeInfo,
    indexes: npt.NDArray[np.intp] | None = None,
    window: tuple[int, int, int, int] | None = None,
) -> npt.NDArray[np.float32]:
    """Read (part of) a cube as float32 ``(C, h, w)``.

    Args:
        info: Metadata of the cube.
        indexes: 0-based band indices in the order wanted, or None for all.
        window: ``(row, col, height, width)`` to read, or None for the whole cube.

    Returns:
        The data.

    Raises:
        ValueError: Naming the file, if it cannot be read.
    """
    row, col, height, width = window or (0, 0, info.height, info.width)
    if info.layout == 'raster':
        bands: Any = None if indexes is None else [int(i) + 1 for i in indexes]
        try:
            with rasterio_env(), rasterio.open(info.path) as src:
                data = src.read(
                    bands, window=Window(col, row, width, height), out_dtype='float32'
                )
        except rasterio.errors.RasterioError as error:
            raise ValueError(read_failed_message(info.path, error)) from error
        return np.asarray(data, dtype=np.float32)
    array = np.load(info.path, mmap_mode='r')
    if info.layout == 'hw':
        block = array[None, row : row + height, col : col + width]
    elif info.layout == 'hwc':
        block = array[row : row + height, col : col + width, :]
        block = np.moveaxis(block, -1, 0)
    else:
        block = array[:, row : row + height, col : col + width]
    if indexes is not None:
        block = block[indexes]
    return np.array(block, dtype=np.float32)


def read_reference(path: Path) -> npt.NDArray[np.float32]:
    """Read a dark or white reference in any supported format.

    ``.npy`` references are taken as stored (any of ``(C,)``, ``(C, W)``,
    ``(C, L, W)``); rasters are read as ``(C, L, W)``.

    Args:
        path: The reference file.

    Returns:
        The reference as float32.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: Naming the file, if it cannot be read.
    """
    if not path.is_file():
        raise FileNotFoundError(f'{path}: reference file not found')
    if path.suffix.lower() == _NPY_SUFFIX:
        try:
            return np.asarray(np.load(path), dtype=np.float32)
        except (OSError, ValueError) as error:
            raise ValueError(f'{path}: not a readable .npy array ({error})') from error
    if path.suffix.lower() == '.hdr':
        data = envi_data_file(path)
        if data is None:
            raise ValueError(f'{path}: ENVI header without a data file')
        path = data
    try:
        with rasterio_env(), rasterio.open(path) as src:
            return np.asarray(src.read(out_dtype='float32'))
    except rasterio.errors.RasterioIOError as error:
        raise ValueError(f'{path}: not a readable raster ({error})') from error


def read_georeference(path: Path) -> tuple[Affine, CRS] | None:
    """Transform and CRS of a raster; None when it is not georeferenced.

    Args:
        path: A raster, or a ``.mat``/``.npy`` array (never georeferenced).

    Returns:
        ``(transform, crs)``, or None.
    """
    if path.suffix.lower() in ('.mat', '.npy'):
        return None
    with rasterio_env(), rasterio.open(path) as src:
        crs, transform = src.crs, src.transform
    if crs is None or transform == Affine.identity():
        return None
    return transform, crs


def band_table_tags(
    wavelengths: npt.ArrayLike, fwhm: npt.ArrayLike
) -> tuple[list[dict[str, str]], list[str]]:
    """Band tags and descriptions of a band table, as the package's readers take them.

    Write them with ``wavelength_units='nm'`` as a dataset tag: a GeoTIFF so
    tagged carries its band table for :class:`CubeInfo` and
    :func:`~torchgeo_spectral.sensors.read_band_metadata`.

    Args:
        wavelengths: Band centres in nm.
        fwhm: Band widths (FWHM) in nm.

    Returns:
        ``(tags, descriptions)``: per band ``{'wavelength', 'fwhm'}`` and
        ``'<centre> nm'``.
    """
    centres = np.asarray(wavelengths, dtype=np.float64).reshape(-1)
    widths = np.asarray(fwhm, dtype=np.float64).reshape(-1)
    tags = [
        {'wavelength': f'{c:.3f}', 'fwhm': f'{w:.3f}'}
        for c, w in zip(centres, widths, strict=True)
    ]
    return tags, [f'{c:.1f} nm' for c in centres]
