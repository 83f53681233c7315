"""The GDAL settings under which this package reads rasters."""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import rasterio
from rasterio.errors import NotGeoreferencedWarning

#: GDAL configuration for reads. TorchGeo's CLI exports
#: ``GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR`` (a cloud-storage optimisation) into
#: the environment, which stops GDAL from finding ENVI ``.hdr`` sidecars, so ENVI
#: cubes would not open. Configuration options set here take precedence over
#: environment variables. PAM is off so that reads never write ``.aux.xml`` files
#: into the user's data folders.
READ_OPTIONS = {'GDAL_DISABLE_READDIR_ON_OPEN': 'NO', 'GDAL_PAM_ENABLED': 'NO'}


@contextmanager
def read_env() -> Iterator[None]:
    """Open rasters for reading: ENVI sidecars found, no side files, quiet on cubes.

    Yields:
        Nothing; rasters opened inside the block see :data:`READ_OPTIONS`, and
        rasterio's warning for rasters without georeferencing (proximal cubes) is
        silenced.
    """
    with rasterio.Env(**READ_OPTIONS), warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        yield
