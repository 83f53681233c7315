"""Band tables of common spectral sensors, band-metadata I/O and SRF resampling.

Every spectral image in this package travels with the centre wavelengths of its
bands (nm, strictly increasing; see :mod:`torchgeo_spectral.wavelengths`). This
package provides

* :mod:`.tables`: :class:`Sensor` tables (centres, FWHM, band names) of common
  sensors, from published metadata where it exists and from documented
  approximations elsewhere (see :func:`list_sensors` and :func:`get_sensor`);
* :mod:`.scenes`: the band tables of the classic benchmark scenes (Indian
  Pines, Salinas, Pavia, KSC, Botswana, Houston 2013 and 2018, WHU-Hi,
  Chikusei, Trento, Xiong'an), by scene name
  (:func:`scene_wavelengths`, :func:`list_scenes`);
* :mod:`.io`: :func:`read_band_metadata` and :func:`read_bad_bands`, which read
  band metadata from ENVI headers and GeoTIFF band tags through rasterio (raw:
  :func:`read_wavelengths`, from :mod:`torchgeo_spectral.wavelengths`, decides
  the units and converts to nm);
* :mod:`.resampling`: :func:`spectral_response`, :func:`resampling_matrix` and
  :func:`resample_spectra`, which simulate one sensor from another with Gaussian
  spectral response functions (SRFs).
"""

from ..wavelengths import read_wavelengths
from .io import read_bad_bands, read_band_metadata
from .resampling import resample_spectra, resampling_matrix, spectral_response
from .scenes import list_scenes, scene_wavelengths
from .tables import Sensor, get_sensor, list_sensors

__all__ = [
    'Sensor',
    'get_sensor',
    'list_scenes',
    'list_sensors',
    'read_bad_bands',
    'read_band_metadata',
    'read_wavelengths',
    'resample_spectra',
    'resampling_matrix',
    'scene_wavelengths',
    'spectral_response',
]
