"""Writers of tiny synthetic spectral rasters for the tests (GeoTIFF, ENVI, npy)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

CRS = 'EPSG:32633'


def cube(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Deterministic float32 cube whose band b holds values 100*b + pixel index."""
    rng = np.random.default_rng(seed)
    base = np.arange(height * width, dtype=np.float32).reshape(height, width)
    data = np.stack([100.0 * b + base for b in range(count)]).astype(np.float32)
    return data + rng.uniform(0, 0.01, data.shape).astype(np.float32)


def write_geotiff(
    path: Path,
    data: np.ndarray,
    wavelengths: Sequence[float] | None = None,
    *,
    bbl: Sequence[int] | None = None,
    nodata: float | None = None,
    origin: tuple[float, float] = (500000.0, 5800000.0),
    res: float = 30.0,
    crs: str = CRS,
) -> Path:
    """Write a tiled GeoTIFF with per-band wavelength/fwhm/bbl tags."""
    count, height, width = data.shape
    profile = {
        'driver': 'GTiff',
        'height': height,
        'width': width,
        'count': count,
        'dtype': data.dtype.name,
        'crs': crs,
        'transform': from_origin(origin[0], origin[1], res, res),
        'nodata': nodata,
    }
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
        for i in range(count):
            tags = {}
            if wavelengths is not None:
                tags.update(
                    wavelength=str(wavelengths[i]),
                    fwhm='5.0',
                    wavelength_units='Nanometers',
                )
            if bbl is not None:
                tags['bbl'] = str(bbl[i])
            if tags:
                dst.update_tags(i + 1, **tags)
    return path


def write_envi(
    stem: Path,
    data: np.ndarray,
    wavelengths: Sequence[float] | None = None,
    *,
    interleave: str = 'bsq',
    suffix: str = '.img',
    bbl: Sequence[int] | None = None,
    georef: bool = True,
    nodata: float | None = None,
    header_bands: int | None = None,
) -> Path:
    """Write an ENVI cube (float32 little endian) and its text header; returns the data file."""
    count, height, width = data.shape
    order = {'bsq': (0, 1, 2), 'bil': (1, 0, 2), 'bip': (1, 2, 0)}[interleave]
    data_path = stem.with_name(stem.name + suffix)
    np.ascontiguousarray(data.astype('<f4').transpose(order)).tofile(data_path)
    lines = [
        'ENVI',
        f'samples = {width}',
        f'lines = {height}',
        f'bands = {header_bands or count}',
        'header offset = 0',
        'file type = ENVI Standard',
        'data type = 4',
        f'interleave = {interleave}',
        'byte order = 0',
    ]
    if georef:
        lines.append(
            'map info = { UTM , 1 , 1 , 500000 , 5800000 , 30 , 30 , 33 , North , WGS-84 }'
        )
    if wavelengths is not None:
        lines.append('wavelength units = Nanometers')
        lines.append(
            'wavelength = {' + ', '.join(f'{w:.3f}' for w in wavelengths) + '}'
        )
    if bbl is not None:
        lines.append('bbl = {' + ', '.join(str(b) for b in bbl) + '}')
    if nodata is not None:
        lines.append(f'data ignore value = {nodata}')
    stem.with_name(stem.name + '.hdr').write_text('\n'.join(lines) + '\n')
    return data_path


def write_mask(
    path: Path,
    mask: np.ndarray,
    *,
    origin: tuple[float, float] = (500000.0, 5800000.0),
    res: float = 30.0,
    crs: str = CRS,
) -> Path:
    """Write a single-band uint8 label GeoTIFF."""
    height, width = mask.shape
    with rasterio.open(
        path,
        'w',
        driver='GTiff',
        height=height,
        width=width,
        count=1,
        dtype='uint8',
        crs=crs,
        transform=from_origin(origin[0], origin[1], res, res),
    ) as dst:
        dst.write(mask.astype('uint8'), 1)
    return path


def listing(folder: Path) -> list[str]:
    """Sorted relative paths of every file under a folder."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*'))
