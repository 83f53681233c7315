"""Reading the input raster: metadata, band wavelengths and padded tile windows."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.crs import CRS
from rasterio.windows import Window

from ..datasets.product import product_format
from ..rasterio_env import read_env
from ..wavelengths import (
    BAND_SET_TOLERANCE_NM,
    MissingWavelengthsError,
    read_wavelengths,
    same_band_set,
    sort_bands,
    to_nanometers,
)
from .protocol import ModelInfo
from .tiling import Tile, clip_span

__all__ = [
    'RasterInfo',
    'TileReader',
    'input_files',
    'open_input',
    'open_raster_info',
    'resolve_wavelengths',
    'spectral_order',
]

#: GDAL options for tile reads: uncompressed GeoTIFFs are read straight from the
#: file instead of block by block through the cache (for a pixel-interleaved
#: 224-band cube, about 5x faster on a cold read); other files are unaffected.
TILE_READ_OPTIONS = {'GTIFF_DIRECT_IO': 'YES'}


@dataclass(frozen=True)
class RasterInfo:
    """What inference needs to know about the input raster.

    Attributes:
        path: Raster path.
        height: Rows.
        width: Columns.
        count: Bands.
        crs: CRS, or None.
        transform: Affine transform.
        nodata: Nodata value, or None.
        wavelengths: Band centres in nm from the metadata, or None.
    """

    path: Path
    height: int
    width: int
    count: int
    crs: CRS | None
    transform: Any
    nodata: float | None
    wavelengths: tuple[float, ...] | None


def _data_file(path: Path) -> Path:
    """The data file of an ENVI header (``x.hdr`` -> ``x``, ``x.img``, ...).

    Args:
        path: A raster path, possibly an ENVI ``.hdr``.

    Returns:
        The path to open with rasterio (``path`` itself if not a header).
    """
    if path.suffix.lower() != '.hdr':
        return path
    stem = path.with_suffix('')
    for ext in ('', '.img', '.dat', '.bsq', '.bil', '.bip', '.raw'):
        candidate = stem.with_name(stem.name + ext)
        if candidate.is_file():
            return candidate
    return stem


def input_files(path: Path) -> dict[str, Path]:
    """Every file an input raster consists of, by role (for guards and resume).

    Args:
        path: The raster as given (a GeoTIFF, an ENVI data file or header...).

    Returns:
        ``{'input raster': path}``, plus ``'input data file'`` for an ENVI header
        and ``'input header'`` for an ENVI data file with a ``.hdr`` beside it.
    """
    files = {'input raster': path}
    data = _data_file(path)
    if data != path:
        files['input data file'] = data
    for header in (path.with_suffix('.hdr'), path.with_name(path.name + '.hdr')):
        if header != path and header.is_file():
            files['input header'] = header
            break
    return files


def open_raster_info(path: Path) -> RasterInfo:
    """Read the metadata of a raster, warning if it has no CRS.

    Args:
        path: A GeoTIFF, ENVI file (data file or ``.hdr``) or any GDAL raster.

    Returns:
        Its metadata.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it is a sensor product that rasterio does not read as a
            cube (an EMIT granule, a PRISMA product), naming the command that
            converts it.
        ~torchgeo_spectral.wavelengths.WavelengthError: If the file's
            wavelengths break the rules of :mod:`torchgeo_spectral.wavelengths`
            (units, plausibility, count).
    """
    path = _data_file(Path(path))
    if not path.exists():
        raise FileNotFoundError(f'input raster {path} does not exist')
    if (product := product_format(path)) is not None:
        msg = (
            f'input raster {path}: rasterio does not read {product.name} files as '
            f'a cube; write it as a GeoTIFF first: torchgeo-spectral '
            f'{product.command} {path.name} {path.stem}.tif'
        )
        raise ValueError(msg)
    try:
        wavelengths: tuple[float, ...] | None = tuple(
            read_wavelengths(path).centres.tolist()
        )
    except MissingWavelengthsError:
        wavelengths = None
    with read_env(), rasterio.open(path) as src:
        info = RasterInfo(
            path=path,
            height=src.height,
            width=src.width,
            count=src.count,
            crs=src.crs,
            transform=src.transform,
            nodata=src.nodata,
            wavelengths=wavelengths,
        )
    if info.crs is None:
        warnings.warn(
            f'input raster {path} has no CRS: outputs are written without one',
            UserWarning,
            stacklevel=2,
        )
    return info


class TileReader:
    """Reads tiles as float32 arrays, zero-padded where they leave the raster.

    Pixels whose bands are all nodata (or NaN) are zeroed and reported invalid.
    The dataset handle is opened lazily, so that one reader per thread is cheap.

    Args:
        path: Raster path.
        nodata: Nodata value of the raster, or None.
        band_order: 0-based band indices in the order to return them (e.g.
            sorted by wavelength); all bands in file order when None.
    """

    def __init__(
        self, path: Path, nodata: float | None, band_order: Sequence[int] | None = None
    ) -> None:
        """Initialize (see the class docstring)."""
        self.path = path
        self.nodata = nodata
        self.indexes = [i + 1 for i in band_order] if band_order is not None else None
        self._src: Any = None

    def read(self, tile: Tile) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """Read one tile.

        Args:
            tile: The tile.

        Returns:
            ``(image, valid)``: image (C, size, size) and a validity mask
            (size, size), False outside the raster and on nodata pixels.
        """
        images, valid = self.read_batch([tile])
        return images[0], valid[0]

    def read_batch(
        self, tiles: Sequence[Tile]
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """Read a batch of tiles, one window per run of neighbouring tiles.

        Consecutive tiles of one grid row overlap; reading their union once and
        slicing it is several times cheaper than one read per tile (GDAL decodes
        and de-interleaves each block once), and gives the same values. The window
        is at most ``len(tiles)`` tiles wide, so memory does not grow with the
        scene.

        Args:
            tiles: Tiles of one size.

        Returns:
            ``(images, valid)``: (B, C, size, size) and (B, size, size).
        """
        if self._src is None:
            with read_env(), rasterio.Env(**TILE_READ_OPTIONS):
                self._src = rasterio.open(self.path)
        src = self._src
        size = tiles[0].size
        count = len(self.indexes) if self.indexes is not None else src.count
        images = np.zeros((len(tiles), count, size, size), dtype=np.float32)
        valid = np.zeros((len(tiles), size, size), dtype=bool)
        start = 0
        while start < len(tiles):
            stop = start + 1
            while (
                stop < len(tiles)
                and tiles[stop].row_off == tiles[start].row_off
                and tiles[stop].col_off <= tiles[stop - 1].col_end
            ):
                stop += 1
            run = tiles[start:stop]
            r0, r1, tr0, tr1 = clip_span(run[0].row_off, run[0].row_end, src.height)
            c_lo, c_hi, _, _ = clip_span(
                min(t.col_off for t in run), max(t.col_end for t in run), src.width
            )
            if r1 > r0 and c_hi > c_lo:
                window = Window(c_lo, r0, c_hi - c_lo, r1 - r0)
                with rasterio.Env(**TILE_READ_OPTIONS):
                    data = src.read(self.indexes, window=window, out_dtype='float32')
                bad = np.isnan(data)
                if self.nodata is not None and not np.isnan(self.nodata):
                    bad |= data == np.float32(self.nodata)
                good = ~bad.all(axis=0)
                np.copyto(data, np.float32(0.0), where=bad)
                for k, tile in enumerate(run, start=start):
                    c0, c1, tc0, tc1 = clip_span(tile.col_off, tile.col_end, src.width)
                    if c1 > c0:
                        cols = slice(c0 - c_lo, c1 - c_lo)
                        images[k, :, tr0:tr1, tc0:tc1] = data[:, :, cols]
                        valid[k, tr0:tr1, tc0:tc1] = good[:, cols]
            start = stop
        return images, valid

    def close(self) -> None:
        """Close the dataset handle."""
        if self._src is not None:
            self._src.close()
            self._src = None


def resolve_wavelengths(
    info: RasterInfo,
    wavelengths: Sequence[float] | None,
    expected: Sequence[float] | None,
    expected_channels: int | None,
    sensor: str | None = None,
) -> tuple[float, ...]:
    """Choose the band wavelengths fed to the model and check them against it.

    Order of preference: ``wavelengths`` given by the caller, those in the
    raster's metadata, then the model's own (when it was fixed to a sensor).
    Caller's wavelengths are converted to nm by
    :func:`~torchgeo_spectral.wavelengths.to_nanometers` (micrometres convert;
    band indices and implausible values are errors); they match the model's when
    :func:`~torchgeo_spectral.wavelengths.same_band_set` says so.

    Args:
        info: Input raster metadata.
        wavelengths: Wavelengths given by the caller, or None.
        expected: Wavelengths the model was fixed to, or None (any sensor).
        expected_channels: Band count the model was fixed to, or None.
        sensor: Name of the model's sensor, for messages.

    Returns:
        One wavelength (nm) per raster band.

    Raises:
        ValueError: On a band count or wavelength mismatch, or when no wavelengths
            are known.
    """
    what = f' ({sensor})' if sensor else ''
    if expected is not None and len(expected) != info.count:
        raise ValueError(
            f'{info.path} has {info.count} bands but the model expects '
            f'{len(expected)} bands{what} at fixed wavelengths '
            f'{expected[0]:.1f}-{expected[-1]:.1f} nm'
        )
    if expected_channels is not None and expected_channels != info.count:
        raise ValueError(
            f'{info.path} has {info.count} bands but the model expects '
            f'{expected_channels}{what}'
        )
    if wavelengths is not None:
        found = tuple(to_nanometers(wavelengths, source='wavelengths').tolist())
        if len(found) != info.count:
            raise ValueError(
                f'{len(found)} wavelengths given for {info.count} bands of {info.path}'
            )
    elif info.wavelengths is not None:
        found = info.wavelengths
    elif expected is not None:
        return tuple(float(w) for w in expected)
    else:
        raise ValueError(
            f'{info.path} carries no band wavelengths and the model is not fixed to '
            'a sensor: pass wavelengths=... (or --wavelengths FILE)'
        )
    if expected is not None:
        # compare in wavelength order: files may store bands unsorted (EnMAP
        # stores VNIR then SWIR, which overlap), models see them sorted
        order = np.argsort(found, kind='stable')
        mine = np.asarray(found, dtype=np.float64)[order]
        theirs = np.sort(np.asarray(expected, dtype=np.float64))
        if not same_band_set(mine, theirs):
            i = int(np.argmax(np.abs(mine - theirs)))
            raise ValueError(
                f'band wavelengths of {info.path} do not match the model{what}: '
                f'band {int(order[i]) + 1} is at {mine[i]:.2f} nm where the model '
                f'expects {theirs[i]:.2f} nm (tolerance {BAND_SET_TOLERANCE_NM} nm)'
            )
    return found


def spectral_order(
    wavelengths: Sequence[float],
) -> tuple[list[int] | None, tuple[float, ...]]:
    """Order that sorts bands by wavelength, as the spectral models require.

    Args:
        wavelengths: Band centres in file order.

    Returns:
        ``(order, sorted_wavelengths)``; ``order`` is None when the bands are
        already strictly increasing.

    Raises:
        ~torchgeo_spectral.wavelengths.WavelengthError: If two bands share a wavelength.
    """
    ordered, order = sort_bands(wavelengths, source='band wavelengths')
    if (order == np.arange(order.size)).all():
        return None, tuple(ordered.tolist())
    return [int(i) for i in order], tuple(ordered.tolist())


def open_input(
    path: Path, wavelengths: Sequence[float] | None, info: ModelInfo
) -> tuple[RasterInfo, list[int] | None, tuple[float, ...]]:
    """Open the input raster and choose the band wavelengths and order for a model.

    Args:
        path: The input raster.
        wavelengths: Band centres given by the caller, or None.
        info: What the model expects.

    Returns:
        The raster's metadata, the band order that sorts the bands by wavelength
        (None when they are sorted) and the sorted wavelengths.
    """
    raster = open_raster_info(path)
    chosen = resolve_wavelengths(
        raster, wavelengths, info.wavelengths, info.in_channels, info.sensor
    )
    band_order, sorted_wavelengths = spectral_order(chosen)
    return raster, band_order, sorted_wavelengths
