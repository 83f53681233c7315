"""A tiny scene of "your own": a non-georeferenced GeoTIFF cube and label raster.

Classes 1 and 2 are blobs of a few hundred pixels; class 3 has exactly three
pixels, so a budget of 10 per class must be capped for it. Each class has its
own spectrum (plus noise), so a classifier can learn something.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning

NUM_BANDS = 12
SIZE = 40
WAVELENGTHS = np.linspace(450.0, 2300.0, NUM_BANDS)
#: Pixels of the rare class 3 (rows, cols).
RARE = ((5, 5), (5, 6), (6, 5))


def label_map(size: int = SIZE) -> np.ndarray:
    """``(size, size)`` uint8 labels: two halves of classes 1/2, three class-3 px."""
    labels = np.zeros((size, size), dtype=np.uint8)
    rows, cols = np.mgrid[:size, :size]
    labels[(rows + cols) % 3 == 0] = 1
    labels[(cols >= size // 2) & ((rows + cols) % 3 == 0)] = 2
    for row, col in RARE:
        labels[row, col] = 3
    return labels


def cube(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """``(NUM_BANDS, H, W)`` float32 reflectance-like cube, one spectrum a class."""
    rng = np.random.default_rng(seed)
    shapes = np.stack(
        [
            np.full(NUM_BANDS, 0.2),
            np.linspace(0.1, 0.6, NUM_BANDS),
            np.linspace(0.6, 0.1, NUM_BANDS),
            np.abs(np.sin(np.arange(NUM_BANDS))) * 0.5,
        ]
    )
    spectra = shapes[labels.astype(int)]  # (H, W, C)
    noise = rng.normal(0, 0.02, spectra.shape)
    return np.moveaxis(spectra + noise, -1, 0).astype(np.float32) * 10000


def write_raster(path: Path, data: np.ndarray) -> Path:
    """Write a GeoTIFF without CRS or transform (not georeferenced)."""
    count, height, width = data.shape
    profile = {
        'driver': 'GTiff',
        'height': height,
        'width': width,
        'count': count,
        'dtype': data.dtype.name,
    }
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        with rasterio.open(path, 'w', **profile) as dst:
            dst.write(data)
    return path


def write_own_scene(folder: Path, size: int = SIZE) -> dict[str, Path]:
    """Write ``cube.tif``, ``labels.tif`` and ``wavelengths.txt`` into a folder.

    Returns:
        ``{'image': ..., 'labels': ..., 'wavelengths': ...}``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    labels = label_map(size)
    image = write_raster(folder / 'cube.tif', cube(labels))
    label_path = write_raster(folder / 'labels.tif', labels[None])
    waves = folder / 'wavelengths.txt'
    waves.write_text('\n'.join(f'{w:.2f}' for w in WAVELENGTHS) + '\n')
    return {'image': image, 'labels': label_path, 'wavelengths': waves}
