"""Lightning data modules for spectral datasets.

* :class:`HyperspectralRasterDataModule`: spatially split patches of
  georeferenced rasters (TorchGeo ``GeoDataModule``).
* :class:`ProximalHyperspectralDataModule` and
  :class:`HyperspectralSceneDataModule`: seeded random splits of
  non-georeferenced datasets (TorchGeo ``NonGeoDataModule``).
* :class:`SceneDataModule`: one scene and its label map (a classic scene or
  your own files): pretraining on every pixel, few-label fine-tuning on a
  spatially disjoint split.
* :class:`MixedCubeFolderDataModule`: pretraining batches from a folder of cubes
  of several sensors (proximal and remote), one band set per batch.
* :class:`FoundationDataModule`: the foundation pretraining corpus, every real
  cube under some folders plus spectral-library scenes.
* :func:`compute_band_statistics`: per-band mean/std streamed over a dataset.
"""

# Kept importable from here for old callers; documented in samplers.
from ..samplers.band_set import BandSetBatchSampler as BandSetBatchSampler
from .augment import SpectralAugmentation
from .foundation import FoundationDataModule
from .mixed import MixedCubeFolderDataModule
from .nongeo import (
    HyperspectralSceneDataModule,
    ProximalHyperspectralDataModule,
    SpectralNonGeoDataModule,
)
from .raster import HyperspectralRasterDataModule, LabelRaster
from .scene import SceneDataModule, SceneMapWriter, ScenePixels
from .statistics import BandStatistics, RunningBandStatistics, compute_band_statistics

__all__ = [
    'BandStatistics',
    'FoundationDataModule',
    'HyperspectralRasterDataModule',
    'HyperspectralSceneDataModule',
    'LabelRaster',
    'MixedCubeFolderDataModule',
    'ProximalHyperspectralDataModule',
    'RunningBandStatistics',
    'SceneDataModule',
    'SceneMapWriter',
    'ScenePixels',
    'SpectralAugmentation',
    'SpectralNonGeoDataModule',
    'compute_band_statistics',
]
