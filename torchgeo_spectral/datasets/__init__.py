"""TorchGeo datasets for proximal and remote spectral imagery.

* :class:`HyperspectralRaster`: georeferenced GeoTIFF/ENVI rasters
  (a :class:`~torchgeo.datasets.RasterDataset`).
* :class:`ProximalHyperspectral`: folders of close-range cubes
  (a :class:`~torchgeo.datasets.NonGeoDataset`).
* :func:`collate_spectral`: batch collation that refuses mixed band sets.
"""

from .plot import false_colour_bands, plot_spectral_sample
from .proximal import ProximalHyperspectral
from .raster import HyperspectralRaster
from .utils import (
    BandSelection,
    collate_spectral,
    concat_spectral_samples,
    select_bands,
    sort_bands,
)

__all__ = [
    'BandSelection',
    'HyperspectralRaster',
    'ProximalHyperspectral',
    'collate_spectral',
    'concat_spectral_samples',
    'false_colour_bands',
    'plot_spectral_sample',
    'select_bands',
    'sort_bands',
]
