"""PRISMA products (HDF-EOS5): the hyperspectral cube, its bands and the L2D grid."""

from pathlib import Path

import h5py
import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS

import torchgeo_spectral.datasets.prisma as prisma_module
from torchgeo_spectral.datasets import FileScene, read_prisma
from torchgeo_spectral.datasets.prisma import is_prisma

ROWS, COLS = 5, 4
# VNIR centres as PRISMA stores them: descending, with an empty slot (0 nm)
VNIR_CW = np.array([950.0, 700.0, 0.0, 450.0])
VNIR_FLAGS = np.array([1, 1, 0, 1], dtype=np.int8)
SWIR_CW = np.array([930.0, 1600.0, 2200.0])
SWIR_FLAGS = np.array([1, 1, 1], dtype=np.int8)
# L2D corners: centres of the corner pixels of a 30 m UTM 33N grid
UL = (500015.0, 5000015.0)
LR = (UL[0] + 30.0 * (COLS - 1), UL[1] - 30.0 * (ROWS - 1))


def digital_numbers(bands: int, detector: int) -> np.ndarray:
    """``(rows, bands, columns)`` DNs that name their row, band, column and detector."""
    rows, bands_, cols = np.meshgrid(
        np.arange(ROWS), np.arange(bands), np.arange(COLS), indexing='ij'
    )
    dn = 1000 * detector + 100 * rows + 10 * cols + bands_ + 1
    dn[0, :, 0] = 0  # the fill around the swath
    return dn.astype(np.uint16)


def write_prisma(path: Path, level: str = 'L2D', *, drop: str | None = None) -> Path:
    """A PRISMA product as ASI lays it out (swath groups, root attributes)."""
    with h5py.File(path, 'w') as f:
        fields = f.create_group(f'HDFEOS/SWATHS/PRS_{level}_HCO/Data Fields')
        fields['VNIR_Cube'] = digital_numbers(VNIR_CW.size, 1)
        if drop != 'swir':
            fields['SWIR_Cube'] = digital_numbers(SWIR_CW.size, 2)
        f.attrs['List_Cw_Vnir'] = VNIR_CW.astype(np.float32)
        f.attrs['List_Fwhm_Vnir'] = np.where(VNIR_CW > 0, 10.0, 0.0).astype(np.float32)
        f.attrs['List_Cw_Vnir_Flags'] = VNIR_FLAGS
        f.attrs['List_Cw_Swir'] = SWIR_CW.astype(np.float32)
        f.attrs['List_Fwhm_Swir'] = np.full(SWIR_CW.size, 12.0, dtype=np.float32)
        f.attrs['List_Cw_Swir_Flags'] = SWIR_FLAGS
        if level.startswith('L2'):
            f.attrs['L2ScaleVnirMin'], f.attrs['L2ScaleVnirMax'] = 0.0, 65.535
            f.attrs['L2ScaleSwirMin'], f.attrs['L2ScaleSwirMax'] = 0.0, 131.07
        else:
            f.attrs['ScaleFactor_Vnir'], f.attrs['Offset_Vnir'] = 100.0, 0.5
            f.attrs['ScaleFactor_Swir'], f.attrs['Offset_Swir'] = 200.0, 0.0
        if level == 'L2D' and drop != 'grid':
            f.attrs['Epsg_Code'] = np.int32(32633)
            f.attrs['Product_ULcorner_easting'] = UL[0]
            f.attrs['Product_ULcorner_northing'] = UL[1]
            f.attrs['Product_LRcorner_easting'] = LR[0]
            f.attrs['Product_LRcorner_northing'] = LR[1]
    return path


def test_read_prisma_joins_the_detectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prisma_module, '_ROWS_PER_BLOCK', 2)  # three blocks of rows
    path = write_prisma(tmp_path / 'PRS_L2D_STD_001.he5')
    assert is_prisma(path)
    cube = read_prisma(path)
    # present bands only, sorted by wavelength across both detectors
    np.testing.assert_allclose(cube.wavelengths, [450, 700, 930, 950, 1600, 2200])
    np.testing.assert_allclose(cube.fwhm, [10, 10, 12, 10, 12, 12])
    assert cube.good.all()
    assert cube.image.shape == (6, ROWS, COLS)
    # where each band came from: (detector, band index in its cube)
    sources = [(1, 3), (1, 1), (2, 0), (1, 0), (2, 1), (2, 2)]
    vnir, swir = digital_numbers(4, 1), digital_numbers(3, 2)
    for k, (detector, band) in enumerate(sources):
        dn = (vnir if detector == 1 else swir)[:, band].astype(np.float32)
        # reflectance min + DN * (max - min) / 65535: 0.001 per DN (VNIR), 0.002 (SWIR)
        expected = dn * (0.001 * detector)
        expected[0, 0] = np.nan  # every DN of the pixel is 0
        np.testing.assert_allclose(cube.image[k], expected, rtol=1e-6)
    # the corners are pixel centres: the grid starts half a pixel further out
    assert cube.transform is not None
    assert cube.transform.to_gdal() == (
        UL[0] - 15.0,
        30.0,
        0.0,
        UL[1] + 15.0,
        0.0,
        -30.0,
    )
    assert cube.crs == CRS.from_epsg(32633)
    # other HDF5 files are not PRISMA products
    with h5py.File(tmp_path / 'other.h5', 'w') as f:
        f['x'] = np.zeros(3)
    assert not is_prisma(tmp_path / 'other.h5')
    assert not is_prisma(tmp_path / 'missing.he5')


def test_l1_radiance_is_in_swath_geometry(tmp_path: Path) -> None:
    cube = read_prisma(write_prisma(tmp_path / 'PRS_L1_STD_001.he5', 'L1'))
    # radiance DN / scale - offset
    vnir = digital_numbers(4, 1)[:, 3].astype(np.float32)
    expected = vnir / 100.0 - 0.5
    expected[0, 0] = np.nan
    np.testing.assert_allclose(cube.image[0], expected, rtol=1e-6)
    assert cube.transform is None
    assert cube.crs is None


def test_bad_products_are_named(tmp_path: Path) -> None:
    with h5py.File(tmp_path / 'pan.he5', 'w') as f:
        f.create_group('HDFEOS/SWATHS/PRS_L2D_PCO/Data Fields')
    with pytest.raises(ValueError, match=r'pan\.he5: no PRISMA hyperspectral swath'):
        read_prisma(tmp_path / 'pan.he5')
    with pytest.raises(
        ValueError, match=r'swir\.he5: .*SWIR_Cube should be a .* cube, found missing'
    ):
        read_prisma(write_prisma(tmp_path / 'swir.he5', drop='swir'))
    with pytest.raises(
        ValueError, match=r"grid\.he5: .* needs the attribute 'Epsg_Code'"
    ):
        read_prisma(write_prisma(tmp_path / 'grid.he5', drop='grid'))
    path = write_prisma(tmp_path / 'bands.he5')
    with h5py.File(path, 'r+') as f:
        f.attrs['List_Fwhm_Swir'] = np.ones(2, dtype=np.float32)
    with pytest.raises(
        ValueError,
        match='SWIR cube has 3 bands but its band table has 3 centres, 2 FWHM',
    ):
        read_prisma(path)
    path = write_prisma(tmp_path / 'corners.he5')
    with h5py.File(path, 'r+') as f:
        f.attrs['Product_LRcorner_easting'] = UL[0] - 90.0
    with pytest.raises(ValueError, match='do not span a north-up grid of 5 x 4'):
        read_prisma(path)


def test_a_prisma_product_is_a_scene_of_your_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchgeo_spectral.main import main

    product = write_prisma(tmp_path / 'PRS_L2D_STD_001.he5')
    scene = FileScene(product, mode='tile', tile_size=2)
    np.testing.assert_allclose(
        scene.wavelengths.numpy(), [450, 700, 930, 950, 1600, 2200]
    )
    assert scene.georeference is not None
    assert scene.georeference[1] == CRS.from_epsg(32633)
    assert scene.nodata[0, 0]
    assert scene.nodata.sum() == 1
    # the GeoTIFF export is the same scene, for the rasterio readers too
    output = tmp_path / 'prisma.tif'
    main(['prisma-to-geotiff', str(product), str(output)])
    assert capsys.readouterr().out.strip() == str(output)
    from_tif = FileScene(output, mode='tile', tile_size=2)
    np.testing.assert_array_equal(from_tif.image, scene.image)
    np.testing.assert_allclose(from_tif.wavelengths, scene.wavelengths)
    assert from_tif.georeference == scene.georeference
    with rasterio.open(output) as src:
        assert src.crs == CRS.from_epsg(32633)
        assert src.tags(1)['wavelength'].startswith('450')
    # the product itself is never written over
    with pytest.raises(SystemExit):
        main(['prisma-to-geotiff', str(product), str(product), '--overwrite'])
    assert 'is the product' in capsys.readouterr().err


def test_predict_map_names_the_conversion(tmp_path: Path) -> None:
    from torchgeo_spectral.inference.raster import open_raster_info

    product = write_prisma(tmp_path / 'PRS_L2D_STD_001.he5')
    with pytest.raises(
        ValueError,
        match=r'does not read PRISMA files .* torchgeo-spectral prisma-to-geotiff '
        r'PRS_L2D_STD_001\.he5 PRS_L2D_STD_001\.tif',
    ):
        open_raster_info(product)


def test_only_known_products_have_a_command() -> None:
    from torchgeo_spectral.datasets.product import geotiff_command, product_formats
    from torchgeo_spectral.main import PLUGIN_COMMANDS

    assert [f.command for f in product_formats()] == [
        'emit-to-geotiff',
        'prisma-to-geotiff',
    ]
    with pytest.raises(ValueError, match="no product format has the command 'x'"):
        geotiff_command('x', [])
    for fmt in product_formats():  # `torchgeo-spectral --help` lists each one
        assert f'  {fmt.command} ' in PLUGIN_COMMANDS
