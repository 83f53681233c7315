"""TorchGeo datasets for proximal and remote spectral imagery.

* :class:`HyperspectralRaster`: georeferenced GeoTIFF/ENVI rasters
  (a :class:`~torchgeo.datasets.RasterDataset`).
* :class:`ProximalHyperspectral`: folders of close-range cubes
  (a :class:`~torchgeo.datasets.NonGeoDataset`).
* Classic benchmark scenes (:class:`HyperspectralScene` subclasses):
  :class:`IndianPines`, :class:`PaviaUniversity`, :class:`PaviaCentre`,
  :class:`Salinas`, :class:`KennedySpaceCenter`, :class:`Botswana`,
  :class:`Houston2013`.
* :class:`SyntheticLibraryScenes`: synthetic scenes mixing earthlib library
  spectra (:func:`load_spectral_library`), seen by random sensors.
* :class:`FileScene`: one scene of your own, a cube and its label map given
  as files (GeoTIFF, ENVI, ``.mat``, ``.npy``, EMIT ``.nc``, PRISMA ``.he5``),
  georeferenced or not; :func:`read_emit` reads an EMIT granule onto its map
  grid, :func:`read_prisma` a PRISMA product's hyperspectral cube.
* :func:`collate_spectral`: batch collation that refuses mixed band sets.
"""

from .emit import EmitCube, read_emit
from .file_scene import FileScene
from .library import (
    LibraryScene,
    SpectralLibrary,
    SyntheticLibraryScenes,
    load_spectral_library,
)
from .prisma import read_prisma
from .product import ProductCube
from .proximal import ProximalHyperspectral
from .raster import HyperspectralRaster
from .scene import HyperspectralScene, SceneFile
from .scenes import (
    Botswana,
    Houston2013,
    IndianPines,
    KennedySpaceCenter,
    PaviaCentre,
    PaviaUniversity,
    Salinas,
)
from .utils import (
    BandSelection,
    collate_spectral,
    concat_spectral_samples,
    select_bands,
    sort_bands,
)

__all__ = [
    'BandSelection',
    'Botswana',
    'EmitCube',
    'FileScene',
    'Houston2013',
    'HyperspectralRaster',
    'HyperspectralScene',
    'IndianPines',
    'KennedySpaceCenter',
    'LibraryScene',
    'PaviaCentre',
    'PaviaUniversity',
    'ProductCube',
    'ProximalHyperspectral',
    'Salinas',
    'SceneFile',
    'SpectralLibrary',
    'SyntheticLibraryScenes',
    'collate_spectral',
    'concat_spectral_samples',
    'load_spectral_library',
    'read_emit',
    'read_prisma',
    'select_bands',
    'sort_bands',
]
