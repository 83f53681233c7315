"""ENVI cubes open under TorchGeo's CLI environment (GDAL_DISABLE_READDIR_ON_OPEN)."""

from pathlib import Path

import numpy as np
import pytest
import rasterio

from torchgeo_spectral.datasets import ProximalHyperspectral
from torchgeo_spectral.rasterio_env import read_env
from torchgeo_spectral.sensors import read_wavelengths


def write_envi_cube(path: Path) -> Path:
    np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5).tofile(path)
    (path.parent / (path.name + '.hdr')).write_text(
        'ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\n'
        'file type = ENVI Standard\ndata type = 4\ninterleave = bsq\n'
        'byte order = 0\nwavelength units = Nanometers\n'
        'wavelength = {450.0, 550.0, 650.0}\n'
    )
    return path


@pytest.fixture
def cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``torchgeo.main.main`` exports before it runs a command."""
    monkeypatch.setenv('GDAL_DISABLE_READDIR_ON_OPEN', 'EMPTY_DIR')


@pytest.mark.usefixtures('cli_environment')
def test_plain_rasterio_cannot_open_envi(tmp_path: Path) -> None:
    cube = write_envi_cube(tmp_path / 'cube.raw')
    with pytest.raises(rasterio.errors.RasterioIOError):
        rasterio.open(cube)
    with read_env(), rasterio.open(cube) as src:
        assert src.count == 3


@pytest.mark.usefixtures('cli_environment')
def test_readers_open_envi(tmp_path: Path) -> None:
    cube = write_envi_cube(tmp_path / 'cube.raw')
    wavelengths, _ = read_wavelengths(cube)
    np.testing.assert_array_equal(wavelengths, [450.0, 550.0, 650.0])
    sample = ProximalHyperspectral(tmp_path)[0]
    assert sample['image'].shape == (3, 4, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cube.raw', 'cube.raw.hdr']
