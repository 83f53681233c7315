"""EMIT granules (NetCDF-4): read onto their GLT's grid, as a scene of your own."""

from pathlib import Path

import geopandas
import h5py
import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from shapely.geometry import box

import torchgeo_spectral.datasets.emit as emit_module
from torchgeo_spectral.datamodules.scene import write_class_map
from torchgeo_spectral.datasets import FileScene, read_emit
from torchgeo_spectral.datasets.emit import is_emit

ROWS, COLS, BANDS = 6, 4, 5
WAVELENGTHS = np.array([450.0, 650.0, 1400.0, 1650.0, 2200.0])
GOOD = np.array([1, 1, 0, 1, 1], dtype=np.uint8)  # 1400 nm: water absorption
# the GLT's grid: 0.001 degree pixels from (10.0 E, 50.0 N), 7 x 5 px
GEOTRANSFORM = (10.0, 0.001, 0.0, 50.0, 0.0, -0.001)


def swath() -> np.ndarray:
    """(downtrack, crosstrack, bands) values that name their row, column and band."""
    rows, cols, bands = np.meshgrid(
        np.arange(ROWS), np.arange(COLS), np.arange(BANDS), indexing='ij'
    )
    values = (100 * rows + 10 * cols + bands + 1).astype(np.float32) / 1000
    values[0, 0] = -9999.0  # no data
    return values


def glt() -> tuple[np.ndarray, np.ndarray]:
    """A rotated swath on a 7 x 5 grid: every swath pixel once, corners empty."""
    glt_x = np.zeros((7, 5), dtype=np.int32)
    glt_y = np.zeros((7, 5), dtype=np.int32)
    for row in range(ROWS):
        for col in range(COLS):
            y, x = row + (col % 2), col + 1
            glt_x[y, x], glt_y[y, x] = col + 1, row + 1  # 1-based
    return glt_x, glt_y


def write_emit(path: Path, *, drop: str | None = None) -> Path:
    """An EMIT L2A reflectance granule as NASA lays it out (groups, GLT, attributes)."""
    glt_x, glt_y = glt()
    with h5py.File(path, 'w') as f:
        if drop != 'reflectance':
            cube = f.create_dataset('reflectance', data=swath())
            cube.attrs['_FillValue'] = np.float32(-9999.0)
        params = f.create_group('sensor_band_parameters')
        params['wavelengths'] = WAVELENGTHS.astype(np.float32)
        params['fwhm'] = np.full(BANDS, 8.5, dtype=np.float32)
        params['good_wavelengths'] = GOOD
        location = f.create_group('location')
        if drop != 'glt':
            location['glt_x'], location['glt_y'] = glt_x, glt_y
        f.attrs['geotransform'] = np.array(GEOTRANSFORM)
        f.attrs['spatial_ref'] = CRS.from_epsg(4326).to_wkt()
    return path


def test_read_emit_applies_the_glt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emit_module, '_ROWS_PER_BLOCK', 4)  # two blocks of rows
    path = write_emit(tmp_path / 'EMIT_L2A_RFL_001.nc')
    assert is_emit(path)
    cube = read_emit(path)
    glt_x, glt_y = glt()
    data = swath()
    assert cube.image.shape == (BANDS, 7, 5)
    for y, x in np.ndindex(7, 5):
        if glt_x[y, x] == 0:
            assert np.isnan(cube.image[:, y, x]).all()
        elif (glt_y[y, x], glt_x[y, x]) == (1, 1):
            assert np.isnan(cube.image[:, y, x]).all()  # the fill value
        else:
            expected = data[glt_y[y, x] - 1, glt_x[y, x] - 1]
            np.testing.assert_array_equal(cube.image[:, y, x], expected)
    np.testing.assert_array_equal(cube.good, GOOD.astype(bool))
    np.testing.assert_allclose(cube.wavelengths, WAVELENGTHS)
    assert cube.transform.to_gdal() == GEOTRANSFORM
    assert cube.crs == CRS.from_epsg(4326)
    # other files are not EMIT granules
    (tmp_path / 'cube.npy').write_bytes(b'')
    assert not is_emit(tmp_path / 'cube.npy')
    assert not is_emit(tmp_path / 'missing.nc')


def test_bad_granules_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no EMIT cube variable .*'location'"):
        read_emit(write_emit(tmp_path / 'mask.nc', drop='reflectance'))
    with pytest.raises(
        ValueError, match=r"glt\.nc: an EMIT granule needs 'location/glt_x'"
    ):
        read_emit(write_emit(tmp_path / 'glt.nc', drop='glt'))
    path = write_emit(tmp_path / 'grid.nc')
    with h5py.File(path, 'r+') as f:
        del f.attrs['geotransform']
    with pytest.raises(
        ValueError, match=r"grid\.nc: .* 'geotransform' and 'spatial_ref'"
    ):
        read_emit(path)
    path = write_emit(tmp_path / 'far.nc')
    with h5py.File(path, 'r+') as f:
        f['location/glt_y'][0, 1] = ROWS + 1
    with pytest.raises(
        ValueError, match=r'points outside the 6 x 4 swath \(largest row 7'
    ):
        read_emit(path)
    path = write_emit(tmp_path / 'bands.nc')
    with h5py.File(path, 'r+') as f:
        del f['sensor_band_parameters/fwhm']
        f['sensor_band_parameters/fwhm'] = np.ones(3)
    with pytest.raises(
        ValueError, match='has 5 bands but the band table has 5 wavelengths, 3 FWHM'
    ):
        read_emit(path)


def test_an_emit_granule_is_a_scene_of_your_own(tmp_path: Path) -> None:
    path = write_emit(tmp_path / 'EMIT_L2A_RFL_001.nc')
    # field polygons in lon/lat over grid rows 1-3 and columns 2-3
    fields = geopandas.GeoDataFrame(
        {'crop': ['wheat']},
        geometry=[box(10.002, 50.0 - 0.004, 10.004, 50.0 - 0.001)],
        crs='EPSG:4326',
    )
    fields.to_file(tmp_path / 'fields.gpkg')
    scene = FileScene(path, tmp_path / 'fields.gpkg', labels_key='crop', patch_size=1)
    # the band good_wavelengths flags is left out, as an ENVI bbl is
    np.testing.assert_allclose(scene.wavelengths.numpy(), WAVELENGTHS[GOOD == 1])
    assert scene.image.shape == (4, 7, 5)
    assert scene.class_names == ('wheat',)
    expected = np.zeros((7, 5), dtype=np.int64)
    expected[1:4, 2:4] = 1
    np.testing.assert_array_equal(scene.gt, expected)
    # grid pixels no swath pixel reaches, and the fill value, are no data
    glt_x, glt_y = glt()
    np.testing.assert_array_equal(
        scene.nodata, (glt_x == 0) | ((glt_x == 1) & (glt_y == 1))
    )
    # a map of the scene lands on the granule's grid
    assert scene.georeference is not None
    write_class_map(tmp_path / 'map.tif', scene.gt, scene)
    with rasterio.open(tmp_path / 'map.tif') as src:
        assert src.transform.to_gdal() == GEOTRANSFORM
        assert src.crs == CRS.from_epsg(4326)


def test_emit_to_geotiff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from torchgeo_spectral.datasets import HyperspectralRaster
    from torchgeo_spectral.main import main

    granule = write_emit(tmp_path / 'EMIT_L2A_RFL_001.nc')
    output = tmp_path / 'tif' / 'emit.tif'
    main(['emit-to-geotiff', str(granule), str(output)])
    assert capsys.readouterr().out.strip() == str(output)
    assert not list(output.parent.glob('.*partial'))
    # the GeoTIFF is the scene the granule is, for every reader
    from_nc = FileScene(granule, mode='tile', tile_size=4)
    from_tif = FileScene(output, mode='tile', tile_size=4)
    np.testing.assert_array_equal(from_tif.image, from_nc.image)
    np.testing.assert_allclose(from_tif.wavelengths, from_nc.wavelengths)
    assert from_tif.georeference == from_nc.georeference
    raster = HyperspectralRaster(output.parent)
    assert raster.crs == CRS.from_epsg(4326)
    sample = raster[raster.bounds]
    assert sample['image'].shape == (4, 7, 5)
    np.testing.assert_allclose(sample['wavelength'], WAVELENGTHS[GOOD == 1])
    # an existing output is refused, the granule never written over, and a
    # failed conversion leaves no file
    with pytest.raises(SystemExit):
        main(['emit-to-geotiff', str(granule), str(output)])
    assert 'exists' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['emit-to-geotiff', str(granule), str(granule), '--overwrite'])
    assert 'is the granule' in capsys.readouterr().err
    broken = write_emit(tmp_path / 'broken.nc', drop='glt')
    with pytest.raises(SystemExit):
        main(['emit-to-geotiff', str(broken), str(tmp_path / 'broken.tif')])
    assert "needs 'location/glt_x'" in capsys.readouterr().err
    assert not (tmp_path / 'broken.tif').exists()


def test_predict_map_names_the_conversion(tmp_path: Path) -> None:
    from torchgeo_spectral.inference.raster import open_raster_info

    granule = write_emit(tmp_path / 'EMIT_L2A_RFL_001.nc')
    with pytest.raises(
        ValueError,
        match=r'does not read EMIT files .* emit-to-geotiff EMIT_L2A_RFL_001\.nc',
    ):
        open_raster_info(granule)
