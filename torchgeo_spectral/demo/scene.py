"""A synthetic, georeferenced hyperspectral scene for the demo.

Six materials with analytic reflectance spectra (:mod:`.spectra`) are mixed
linearly with smooth spatial abundances (Gaussian-filtered random fields passed
through a softmax), lit by a smooth brightness field and observed with
band-dependent sensor noise. The label of a pixel is its dominant material.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin
from scipy.ndimage import gaussian_filter

from .spectra import MATERIALS, material_spectra

#: Coordinate reference system of the demo scene (UTM zone 33N, near Potsdam).
DEMO_CRS = 'EPSG:32633'
#: Upper-left corner (easting, northing) of the demo scene in ``DEMO_CRS``.
DEMO_ORIGIN = (360_000.0, 5_810_000.0)
#: Ground sampling distance of the demo scene in metres (as EnMAP).
DEMO_GSD = 30.0


@dataclass(frozen=True)
class SyntheticScene:
    """A generated scene held in memory.

    Attributes:
        image: Reflectance cube, float32, shape (C, H, W).
        labels: Dominant material per pixel, uint8, shape (H, W).
        abundances: Material fractions, float32, shape (K, H, W), summing to one.
        wavelengths: Band centres in nm, float32, shape (C,).
        fwhm: Band widths in nm, float32, shape (C,).
        transform: Affine pixel-to-map transform.
        crs: Coordinate reference system of the map coordinates.
        classes: Material name of each label value.
    """

    image: NDArray[np.float32]
    labels: NDArray[np.uint8]
    abundances: NDArray[np.float32]
    wavelengths: NDArray[np.float32]
    fwhm: NDArray[np.float32]
    transform: Affine
    crs: str
    classes: tuple[str, ...]


def _abundances(
    rng: np.random.Generator, num: int, size: int, smoothness: float, sharpness: float
) -> NDArray[np.float64]:
    """Smooth random material fractions that sum to one per pixel.

    Args:
        rng: Random number generator.
        num: Number of materials.
        size: Height and width of the scene in pixels.
        smoothness: Standard deviation in pixels of the Gaussian filter.
        sharpness: Softmax inverse temperature; larger gives purer pixels.

    Returns:
        Fractions of shape (num, size, size).
    """
    fields = rng.standard_normal((num, size, size))
    fields = np.stack([gaussian_filter(f, smoothness, mode='wrap') for f in fields])
    fields /= fields.std(axis=(1, 2), keepdims=True)
    logits = sharpness * fields
    logits -= logits.max(axis=0, keepdims=True)
    weights = np.exp(logits)
    fractions: NDArray[np.float64] = weights / weights.sum(axis=0, keepdims=True)
    return fractions


def generate_scene(
    wavelengths: NDArray[np.floating] | list[float],
    fwhm: NDArray[np.floating] | list[float] | None = None,
    size: int = 128,
    seed: int = 0,
    smoothness: float = 6.0,
    sharpness: float = 2.5,
    noise: float = 0.006,
) -> SyntheticScene:
    """Generate a synthetic hyperspectral scene.

    Args:
        wavelengths: Band centres in nm, shape (C,).
        fwhm: Band widths in nm, shape (C,); 10 nm when None.
        size: Height and width in pixels.
        seed: Seed of the random number generator (the scene is deterministic).
        smoothness: Spatial scale of the material patches, in pixels.
        sharpness: How pure pixels are (softmax inverse temperature).
        noise: Standard deviation of the sensor noise in reflectance units,
            tripled in the atmospheric water-vapour bands.

    Returns:
        The scene, with labels = dominant material.

    Raises:
        ValueError: If the wavelengths are not a non-empty 1-D array.
    """
    wl = np.asarray(wavelengths, dtype=np.float64)
    if wl.ndim != 1 or wl.size == 0:
        raise ValueError(f'wavelengths must be a non-empty 1-D array, got {wl.shape}')
    widths = np.full_like(wl, 10.0) if fwhm is None else np.asarray(fwhm, np.float64)
    rng = np.random.default_rng(seed)
    spectra = material_spectra(wl)  # (K, C)
    fractions = _abundances(rng, len(MATERIALS), size, smoothness, sharpness)
    cube = np.einsum('khw,kc->chw', fractions, spectra)
    brightness = gaussian_filter(rng.standard_normal((size, size)), 10.0, mode='wrap')
    brightness = 1.0 + 0.08 * brightness / brightness.std()
    cube *= brightness[None]
    vapour = (np.abs(wl - 1400) < 60) | (np.abs(wl - 1900) < 80)
    sigma = np.where(vapour, 3 * noise, noise)[:, None, None]
    cube += sigma * rng.standard_normal(cube.shape)
    return SyntheticScene(
        image=np.clip(cube, 0.0, 1.0).astype(np.float32),
        labels=fractions.argmax(axis=0).astype(np.uint8),
        abundances=fractions.astype(np.float32),
        wavelengths=wl.astype(np.float32),
        fwhm=widths.astype(np.float32),
        transform=from_origin(*DEMO_ORIGIN, DEMO_GSD, DEMO_GSD),
        crs=DEMO_CRS,
        classes=MATERIALS,
    )


def write_scene(scene: SyntheticScene, folder: str | Path) -> tuple[Path, Path]:
    """Write a scene as two GeoTIFFs: ``scene.tif`` and ``labels.tif``.

    The cube carries per-band ``wavelength`` and ``fwhm`` tags (nm), as EnMAP
    L2A products do; the label raster stores ``1..K`` (0 = no data, the usual
    convention of label rasters) and carries the class names.

    Args:
        scene: The scene to write.
        folder: Output folder, created when missing.

    Returns:
        Paths of the image and label GeoTIFFs.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    channels, height, width = scene.image.shape
    common = {
        'driver': 'GTiff',
        'height': height,
        'width': width,
        'crs': CRS.from_string(scene.crs),
        'transform': scene.transform,
    }
    image_path = out / 'scene.tif'
    with rasterio.open(
        image_path, 'w', count=channels, dtype='float32', **common
    ) as dst:
        dst.write(scene.image)
        dst.update_tags(wavelength_units='nm', description='synthetic demo scene')
        for band in range(channels):
            dst.update_tags(
                band + 1,
                wavelength=f'{scene.wavelengths[band]:.3f}',
                fwhm=f'{scene.fwhm[band]:.3f}',
            )
            dst.set_band_description(band + 1, f'{scene.wavelengths[band]:.1f} nm')
    label_path = out / 'labels.tif'
    with rasterio.open(label_path, 'w', count=1, dtype='uint8', **common) as dst:
        dst.write(scene.labels[None] + 1)
        dst.nodata = 0
        dst.update_tags(
            classes=','.join(scene.classes), encoding='0 = no data, 1..K = classes'
        )
    return image_path, label_path


def read_scene(folder: str | Path) -> SyntheticScene:
    """Read a scene written by :func:`write_scene`.

    Args:
        folder: Folder holding ``scene.tif`` and ``labels.tif``.

    Returns:
        The scene (abundances are not stored and come back empty).

    Raises:
        FileNotFoundError: If either GeoTIFF is missing.
    """
    root = Path(folder)
    image_path, label_path = root / 'scene.tif', root / 'labels.tif'
    for path in (image_path, label_path):
        if not path.is_file():
            raise FileNotFoundError(f'{path} not found; generate the scene first')
    with rasterio.open(image_path) as src:
        image = src.read().astype(np.float32)
        wl = [float(src.tags(b + 1)['wavelength']) for b in range(src.count)]
        fwhm = [float(src.tags(b + 1)['fwhm']) for b in range(src.count)]
        transform, crs = src.transform, src.crs.to_string()
    with rasterio.open(label_path) as src:
        labels = (src.read(1).astype(np.int16) - 1).clip(0).astype(np.uint8)
        classes = tuple(src.tags()['classes'].split(','))
    return SyntheticScene(
        image=image,
        labels=labels,
        abundances=np.zeros((0, *labels.shape), np.float32),
        wavelengths=np.asarray(wl, np.float32),
        fwhm=np.asarray(fwhm, np.float32),
        transform=transform,
        crs=crs,
        classes=classes,
    )
