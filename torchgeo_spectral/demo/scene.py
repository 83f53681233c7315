"""The demo scene: real library spectra, mixed, lit and seen by a real sensor.

The scene is one :class:`~torchgeo_spectral.datasets.SyntheticLibraryScenes`
scene (the spectral-library part of the foundation pretraining corpus) whose
library is regrouped into land-cover classes (:data:`DEMO_CLASSES`): every
class takes several measured (or, for vegetation, PROSAIL-simulated) earthlib
spectra, mixed at sub-pixel scale by smooth abundance fields, lit by
topographic brightness, shade and a spectral tilt, resampled to a real
hyperspectral sensor's bands with the project's SRF resampling, and observed
with signal-dependent sensor noise. The label of a pixel is its dominant class.

The library spectra are shared with the pretraining corpus; the scene itself
is drawn with its own seed (:data:`DEMO_SEED`), which the corpus does not use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin

from torchgeo_spectral.datasets import (
    LibraryScene,
    SpectralLibrary,
    SyntheticLibraryScenes,
    load_spectral_library,
)
from torchgeo_spectral.datasets.io import band_table_tags

__all__ = [
    'DEMO_CLASSES',
    'DEMO_CRS',
    'DEMO_SEED',
    'DemoScene',
    'demo_library',
    'generate_scene',
    'write_scene',
]

#: Land-cover classes of the demo and the earthlib materials (level 3) of each.
DEMO_CLASSES: dict[str, tuple[str, ...]] = {
    'vegetation': ('canopy',),
    'dry_vegetation': ('litter', 'npv', 'bark', 'wood'),
    'soil': ('soil',),
    'sand_gravel': ('sand', 'gravel', 'dirt'),
    'asphalt': ('road', 'asphalt', 'parking_lot', 'driveway'),
    'concrete': ('sidewalk', 'bridge', 'manhole'),
    'roofs': ('comp_shingle', 'wood_shingle', 'tile', 'concrete_tile', 'metal'),
    'burned': ('char',),
}

#: Seed of the demo scene: not a seed of the pretraining corpus.
DEMO_SEED = 2026

#: Coordinate reference system of the demo scene (UTM zone 33N, near Potsdam).
DEMO_CRS = 'EPSG:32633'
#: Upper-left corner (easting, northing) of the demo scene in ``DEMO_CRS``.
DEMO_ORIGIN = (360_000.0, 5_810_000.0)
#: Ground sampling distance of the demo scene in metres (as EnMAP).
DEMO_GSD = 30.0


@dataclass(frozen=True)
class DemoScene:
    """A generated demo scene with its georeference.

    Attributes:
        scene: The library scene (cube, band table, abundances, class mask).
        classes: Class names, index ``k`` being label ``k + 1`` on disk.
        transform: Affine pixel-to-map transform.
        crs: Coordinate reference system.
    """

    scene: LibraryScene
    classes: tuple[str, ...]
    transform: Affine
    crs: str

    @property
    def labels(self) -> npt.NDArray[np.int64]:
        """Dominant class per pixel, ``0..K-1``, shape ``(H, W)``."""
        return self.scene.mask


def demo_library() -> SpectralLibrary:
    """The earthlib library regrouped into the demo's land-cover classes.

    Returns:
        The spectra of the materials of :data:`DEMO_CLASSES`, labelled by the
        index of their class.
    """
    library = load_spectral_library(level=3)
    labels = np.full(len(library), -1, dtype=np.int64)
    for index, materials in enumerate(DEMO_CLASSES.values()):
        labels[np.isin(library.level3, materials)] = index
    keep = labels >= 0
    chosen = library.select(keep)
    return SpectralLibrary(
        spectra=chosen.spectra,
        wavelengths=chosen.wavelengths,
        fwhm=chosen.fwhm,
        names=chosen.names,
        classes=tuple(DEMO_CLASSES),
        labels=labels[keep],
        level1=chosen.level1,
        level2=chosen.level2,
        level3=chosen.level3,
        origin=chosen.origin,
        source=chosen.source,
    )


def generate_scene(
    size: int = 128, sensor: str = 'enmap', seed: int = DEMO_SEED
) -> DemoScene:
    """Generate the demo scene.

    Every class of :data:`DEMO_CLASSES` appears with two library spectra;
    eight more materials, drawn at random among the classes, add within-class
    variability (two more spectra each). Abundances, illumination and
    noise follow :class:`~torchgeo_spectral.datasets.SyntheticLibraryScenes`.

    Args:
        size: Height and width in pixels.
        sensor: Sensor whose bands the scene is resampled to (a name of
            :func:`~torchgeo_spectral.sensors.list_sensors`).
        seed: Seed of the scene.

    Returns:
        The scene.
    """
    count = 2 * len(DEMO_CLASSES)
    scenes = SyntheticLibraryScenes(
        demo_library(),
        length=1,
        size=size,
        sensors=[sensor],
        sensor_probability=1.0,
        materials_range=(count, count),
        seed=seed,
    )
    return DemoScene(
        scene=scenes.generate(0),
        classes=tuple(DEMO_CLASSES),
        transform=from_origin(*DEMO_ORIGIN, DEMO_GSD, DEMO_GSD),
        crs=DEMO_CRS,
    )


def write_scene(demo: DemoScene, folder: str | Path) -> tuple[Path, Path]:
    """Write the scene as ``scene.tif`` (cube) and ``labels.tif`` (classes).

    The cube carries per-band ``wavelength`` and ``fwhm`` tags in nm (as EnMAP
    L2A products do), read back by the project's wavelength contract; the label
    raster stores ``1..K`` (0 = no data) and names the classes.

    Args:
        demo: The scene.
        folder: Output folder, created when missing.

    Returns:
        Paths of the cube and of the label GeoTIFF.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    image = demo.scene.image
    channels, height, width = image.shape
    common = {
        'driver': 'GTiff',
        'height': height,
        'width': width,
        'crs': CRS.from_string(demo.crs),
        'transform': demo.transform,
    }
    image_path = out / 'scene.tif'
    with rasterio.open(
        image_path, 'w', count=channels, dtype='float32', **common
    ) as dst:
        dst.write(image.astype(np.float32))
        dst.update_tags(
            wavelength_units='nm',
            sensor=demo.scene.sensor,
            description='synthetic demo scene of earthlib library spectra',
        )
        tags, descriptions = band_table_tags(demo.scene.wavelengths, demo.scene.fwhm)
        for band, (band_tags, description) in enumerate(
            zip(tags, descriptions, strict=True), start=1
        ):
            dst.update_tags(band, **band_tags)
            dst.set_band_description(band, description)
    label_path = out / 'labels.tif'
    with rasterio.open(
        label_path, 'w', count=1, dtype='uint8', nodata=0, **common
    ) as dst:
        dst.write((demo.labels + 1).astype(np.uint8)[None])
        dst.update_tags(
            classes=','.join(demo.classes), encoding='0 = no data, 1..K = classes'
        )
    return image_path, label_path
