"""Labelled scenes and unlabelled pretraining cubes for the accuracy benchmark.

Everything is read into memory as ``(C, H, W)`` float32 arrays with band centres
in nm, sorted by wavelength. Values are z-scored per band (label-free statistics
or the file the data ships with) and invalid pixels are set to 0 after
normalisation, so that a zero is "no information" to every model.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.errors import NotGeoreferencedWarning
from rasterio.merge import merge

FloatArray = NDArray[np.float32]

#: Class names of the EnMAP Potsdam land-cover map (level 3 of the EnMAP-Box
#: example data; the id order is inferred from class frequencies).
ENMAP_CLASSES = ('roof', 'pavement', 'low vegetation', 'tree', 'soil', 'water')
ENMAP_NODATA = -32768.0
#: Landsat 8 bands at 30 m used for pretraining (B8 is 15 m panchromatic,
#: B10/B11 are thermal).
LANDSAT_BANDS = ('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B9')


@dataclass
class Scene:
    """A labelled scene held in memory.

    Attributes:
        name: Short name used in tables.
        raw: Physical values ``(C, H, W)``; invalid pixels hold the band mean.
        image: Normalised values ``(C, H, W)``; invalid pixels are 0.
        valid: ``(H, W)`` mask of pixels with data.
        labels: ``(H, W)`` int64 class ids, 0 = ignore.
        wavelengths: Band centres in nm ``(C,)``.
        fwhm: Band widths in nm ``(C,)``.
        class_names: Names of classes ``1..K``.
        description: One line on where the scene comes from.
        synthetic: True when generated here instead of read from files.
    """

    name: str
    raw: FloatArray
    image: FloatArray
    valid: NDArray[np.bool_]
    labels: NDArray[np.int64]
    wavelengths: NDArray[np.float64]
    fwhm: NDArray[np.float64]
    class_names: tuple[str, ...]
    description: str
    synthetic: bool = False

    @property
    def num_classes(self) -> int:
        """Number of classes ``K`` (ids ``1..K``)."""
        return len(self.class_names)

    def class_counts(self) -> dict[int, int]:
        """Labelled pixels per class id.

        Returns:
            Mapping from class id to its pixel count.
        """
        ids, counts = np.unique(self.labels[self.labels > 0], return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts, strict=True)}


@dataclass
class Cube:
    """An unlabelled normalised cube used for pretraining.

    Attributes:
        name: Short name.
        image: Normalised values ``(C, H, W)``.
        wavelengths: Band centres in nm ``(C,)``.
        note: Where it comes from.
    """

    name: str
    image: FloatArray
    wavelengths: NDArray[np.float64]
    note: str = ''
    shape: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        """Record the shape."""
        self.shape = tuple(self.image.shape)

    def crops(self, n: int, size: int, rng: np.random.Generator) -> FloatArray:
        """Random square crops with random flips.

        Args:
            n: Number of crops.
            size: Side in pixels (``<=`` both image sides).
            rng: Random generator.

        Returns:
            Array ``(n, C, size, size)``.
        """
        _, h, w = self.image.shape
        out = np.empty((n, self.image.shape[0], size, size), dtype=np.float32)
        for i in range(n):
            r = int(rng.integers(0, h - size + 1))
            c = int(rng.integers(0, w - size + 1))
            crop = self.image[:, r : r + size, c : c + size]
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            if rng.random() < 0.5:
                crop = crop[:, :, ::-1]
            out[i] = crop
        return out


def zscore(
    raw: FloatArray,
    valid: NDArray[np.bool_],
    mean: NDArray[np.float64] | None = None,
    std: NDArray[np.float64] | None = None,
) -> FloatArray:
    """Per-band z-score; invalid pixels become 0.

    Args:
        raw: ``(C, H, W)`` values.
        valid: ``(H, W)`` valid-pixel mask.
        mean: Per-band means (default: over valid pixels).
        std: Per-band standard deviations (default: over valid pixels).

    Returns:
        The normalised float32 cube.
    """
    pixels = raw[:, valid].astype(np.float64)
    mean = pixels.mean(axis=1) if mean is None else mean
    std = pixels.std(axis=1) if std is None else std
    std = np.where(std > 1e-12, std, 1.0)
    out = (raw - mean[:, None, None]) / std[:, None, None]
    out[:, ~valid] = 0.0
    return out.astype(np.float32)


def _fill_invalid(raw: FloatArray, valid: NDArray[np.bool_]) -> FloatArray:
    """Replace invalid pixels by the band mean of the valid ones."""
    means = raw[:, valid].mean(axis=1)
    out = raw.copy()
    out[:, ~valid] = means[:, None]
    return out


def _read_normalize_csv(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-band mean and std from EnMAP-Box ``Normalize_Bands.csv`` (NaN if blank)."""
    with path.open() as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r['Band_Number']))
    mean = np.array([float(r['mean'] or 'nan') for r in rows])
    std = np.array([float(r['std'] or 'nan') for r in rows])
    return mean, std


def _mosaic(paths: list[Path], nodata: float | None) -> FloatArray:
    """Mosaic georeferenced tiles by their transforms (in memory)."""
    arr, _ = merge([str(p) for p in paths], nodata=nodata)
    return arr.astype(np.float32)


def load_enmap_potsdam(root: Path) -> Scene:
    """Read the EnMAP Potsdam land-cover excerpt as one scene.

    Uses the full image ``enmap_potsdam.tif`` with the full label map when it
    exists; otherwise mosaics the 32x32 image and label tiles by their
    georeferencing (pixels outside the tiles are invalid). Drops the bad bands
    (``bbl``) and z-scores with ``Normalize_Bands.csv`` when present.

    Args:
        root: The ``enmap_potsdam`` folder.

    Returns:
        The scene.
    """
    from torchgeo_spectral.sensors import read_bad_bands, read_wavelengths

    full = root / 'enmap_potsdam.tif'
    if full.exists():
        tiles = [full]
        image = _mosaic(tiles, ENMAP_NODATA)
        labels = _mosaic([root / 'enmap_landcover_unstyled.tif'], None)[0]
        how = 'full image'
    else:
        tiles = sorted((root / 'images').glob('*.tif'))
        image = _mosaic(tiles, ENMAP_NODATA)
        labels = _mosaic(sorted((root / 'labels').glob('*.tif')), None)[0]
        how = f'mosaic of {len(tiles)} 32x32 tiles'
    wavelengths, fwhm = read_wavelengths(tiles[0])
    good = read_bad_bands(tiles[0])
    good = np.ones(image.shape[0], bool) if good is None else good
    fwhm = np.full_like(wavelengths, 10.0) if fwhm is None else fwhm
    valid = np.all(image[good] != ENMAP_NODATA, axis=0) & np.all(
        np.isfinite(image[good]), axis=0
    )
    norm_csv = root / 'Normalize_Bands.csv'
    if norm_csv.exists():
        mean, std = _read_normalize_csv(norm_csv)
        mean, std = mean[good], std[good]
        how += ', Normalize_Bands.csv z-score'
    else:
        mean = std = None
        how += ', scene z-score'
    raw = _fill_invalid(image[good], valid)
    order = np.argsort(wavelengths[good])
    raw = raw[order]
    if mean is not None and std is not None:
        mean, std = mean[order], std[order]
    return Scene(
        name='enmap_potsdam',
        raw=raw,
        image=zscore(raw, valid, mean, std),
        valid=valid,
        labels=np.where(valid, labels, 0).astype(np.int64),
        wavelengths=wavelengths[good][order],
        fwhm=fwhm[good][order],
        class_names=ENMAP_CLASSES,
        description=(
            f'EnMAP L2A Potsdam, {int(good.sum())} of {good.size} bands (bbl), '
            f'{image.shape[1]}x{image.shape[2]} px grid ({how}), '
            f'{int((labels > 0).sum())} labelled px'
        ),
    )


def _read_envi(path: Path) -> tuple[FloatArray, NDArray[np.float64]]:
    """Read a cube and its band centres through rasterio (ENVI or GeoTIFF)."""
    from torchgeo_spectral.sensors import read_wavelengths

    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            arr = src.read().astype(np.float32)
    wavelengths, _ = read_wavelengths(path)
    order = np.argsort(wavelengths)
    return arr[order], wavelengths[order]


def _cube(name: str, arr: FloatArray, wl: NDArray[np.float64], note: str) -> Cube:
    valid = np.all(np.isfinite(arr), axis=0)
    return Cube(name, zscore(np.nan_to_num(arr), valid), wl, note)


def load_pretraining_cubes(data: Path, scene: Scene | None) -> list[Cube]:
    """Unlabelled cubes for pretraining: the scene's image plus other sensors.

    Reads, when present: AVIRIS-NG radiance cubes, the proximal corn-kernel cube
    and the 30 m Landsat 8 OLI bands. Each cube is z-scored with its own
    label-free statistics. No label is ever read here.

    Args:
        data: The shared data folder.
        scene: The labelled scene whose image (not labels) joins the pool.

    Returns:
        The cubes; each batch of pretraining draws from one cube.
    """
    cubes: list[Cube] = []
    if scene is not None:
        cubes.append(Cube(scene.name, scene.image, scene.wavelengths, 'image only'))
    for hdr in sorted((data / 'aviris_ng').glob('*rdn*.hdr')):
        arr, wl = _read_envi(hdr.with_suffix(''))
        cubes.append(_cube('aviris_ng/' + hdr.stem[:18], arr, wl, 'radiance'))
    corn = data / 'corn_kernel_proximal' / 'corn-kernel-hyperspectral.raw'
    if corn.exists():
        arr, wl = _read_envi(corn)
        cubes.append(_cube('corn_kernel', arr, wl, 'proximal VNIR, raw counts'))
    landsat = _load_landsat(data / 'landsat8')
    if landsat is not None:
        cubes.append(landsat)
    return cubes


def _load_landsat(folder: Path) -> Cube | None:
    """The 30 m Landsat 8 OLI bands as one cube, or None when absent."""
    from torchgeo_spectral.sensors import get_sensor

    paths = [folder / f'l8_{band}.tif' for band in LANDSAT_BANDS]
    if not all(p.exists() for p in paths):
        return None
    sensor = get_sensor('landsat8')
    lookup = dict(zip(sensor.band_names, sensor.wavelengths, strict=True))
    bands = []
    for p in paths:
        with rasterio.open(p) as src:
            bands.append(src.read(1).astype(np.float32))
    arr = np.stack(bands)
    wl = np.array([lookup[b] for b in LANDSAT_BANDS], dtype=np.float64)
    order = np.argsort(wl)
    return _cube('landsat8', arr[order], wl[order], 'OLI L1T DN, 8 bands at 30 m')


def _smooth_spectra(
    rng: np.random.Generator, k: int, wavelengths: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``k`` random smooth spectra (sums of Gaussian bumps)."""
    x = (wavelengths - wavelengths.min()) / np.ptp(wavelengths)
    spectra = np.zeros((k, x.size))
    for i in range(k):
        for _ in range(4):
            centre, width, amp = rng.random(), 0.05 + 0.2 * rng.random(), rng.random()
            spectra[i] += amp * np.exp(-0.5 * ((x - centre) / width) ** 2)
    return spectra


def synthetic_scene(seed: int = 0, size: int = 64, bands: int = 48) -> Scene:
    """A small labelled scene for runs without the shared data.

    Six classes occupy Voronoi regions; each class has a smooth spectrum, pixels
    add within-class variation and noise, and half of the pixels are unlabelled.

    Args:
        seed: Random seed.
        size: Side of the square scene in pixels.
        bands: Number of bands (evenly spaced 420-2400 nm).

    Returns:
        The scene (``synthetic=True``).
    """
    rng = np.random.default_rng(seed)
    wl = np.linspace(420.0, 2400.0, bands)
    k = 6
    centres = rng.random((24, 2)) * size
    rows, cols = np.mgrid[0:size, 0:size]
    dist = (rows[..., None] - centres[:, 0]) ** 2 + (
        cols[..., None] - centres[:, 1]
    ) ** 2
    region = dist.argmin(-1)
    classes = rng.integers(0, k, len(centres))
    classes[:k] = np.arange(k)
    label_map = classes[region] + 1
    protos = _smooth_spectra(rng, k, wl)
    raw = protos[label_map - 1].transpose(2, 0, 1)
    raw = raw * (1 + 0.15 * rng.standard_normal((1, size, size)))
    raw = (raw + 0.05 * rng.standard_normal(raw.shape)).astype(np.float32)
    labels = np.where(rng.random((size, size)) < 0.5, label_map, 0)
    valid = np.ones((size, size), bool)
    return Scene(
        name='synthetic',
        raw=raw,
        image=zscore(raw, valid),
        valid=valid,
        labels=labels.astype(np.int64),
        wavelengths=wl,
        fwhm=np.full(bands, 1.5 * (wl[1] - wl[0])),
        class_names=tuple(f'class {i}' for i in range(1, k + 1)),
        description=f'synthetic {size}x{size} px, {bands} bands, {k} classes',
        synthetic=True,
    )


def synthetic_cubes(scene: Scene, seed: int = 0) -> list[Cube]:
    """Unlabelled cubes for pretraining without shared data.

    Args:
        scene: The synthetic labelled scene (its image joins the pool).
        seed: Random seed.

    Returns:
        The scene image plus a 20-band synthetic cube.
    """
    rng = np.random.default_rng(seed + 1)
    wl = np.linspace(450.0, 1000.0, 20)
    raw = _smooth_spectra(rng, 1, wl)[0][:, None, None] * np.ones((20, 40, 40))
    raw = raw + 0.1 * rng.standard_normal(raw.shape)
    valid = np.ones((40, 40), bool)
    other = Cube('synthetic_vnir', zscore(raw.astype(np.float32), valid), wl)
    return [Cube(scene.name, scene.image, scene.wavelengths, 'image only'), other]
