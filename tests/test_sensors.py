"""Tests of torchgeo_spectral.sensors: band tables, wavelength I/O, resampling."""

import csv
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin

from torchgeo_spectral.sensors import (
    Sensor,
    get_sensor,
    list_sensors,
    read_bad_bands,
    read_wavelengths,
    resample_spectra,
    resampling_matrix,
    spectral_response,
)
from torchgeo_spectral.wavelengths import check_wavelengths

PUBLISHED_COUNTS = {
    'aviris_indian_pines': 200,
    'aviris_ng': 425,
    'desis': 235,
    'enmap': 224,
    'hyperion': 242,
    'hyspex_swir': 288,
    'hyspex_vnir': 186,
    'landsat8': 11,
    'landsat9': 11,
    'prisma': 239,
    'rgb': 3,
    'rosis': 103,
    'sentinel2': 13,
    'specim_iq': 204,
}

AVIRIS_NG_WITH_FWHM = 'aviris_ng/ang20170323t202244_rdn_7000-7010'
AVIRIS_NG_BAND_NAMES = 'aviris_ng/ang20160910t185702_2rdn_img'


# ---------------------------------------------------------------------------------
# helpers writing small fake files
# ---------------------------------------------------------------------------------


def write_envi(
    path: Path, header_extra: str, bands: int = 3, *, hdr_name: str | None = None
) -> Path:
    """Write a tiny float32 BSQ ENVI file (data + .hdr) and return the data path."""
    np.zeros((bands, 2, 2), dtype=np.float32).tofile(path)
    header = (
        f'ENVI\nsamples = 2\nlines = 2\nbands = {bands}\nheader offset = 0\n'
        'file type = ENVI Standard\ndata type = 4\ninterleave = bsq\n'
        'byte order = 0\n'
    )
    hdr = path.parent / (hdr_name or path.name + '.hdr')
    hdr.write_text(header + header_extra)
    return path


def write_tiff(
    path: Path,
    band_tags: list[dict[str, str]],
    *,
    ns: str | None = None,
    dataset_tags: dict[str, str] | None = None,
) -> Path:
    """Write a tiny float32 GeoTIFF with the given per-band tags."""
    profile = {
        'driver': 'GTiff',
        'width': 2,
        'height': 2,
        'count': len(band_tags),
        'dtype': 'float32',
        'crs': 'EPSG:32633',
        'transform': from_origin(0, 0, 30, 30),
    }
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(np.zeros((len(band_tags), 2, 2), dtype=np.float32))
        if dataset_tags:
            dst.update_tags(**dataset_tags)
        for i, tags in enumerate(band_tags, start=1):
            dst.update_tags(i, ns=ns, **tags)
    return path


# ---------------------------------------------------------------------------------
# sensor tables
# ---------------------------------------------------------------------------------


def test_list_sensors_is_sorted_and_complete() -> None:
    names = list_sensors()
    assert names == sorted(PUBLISHED_COUNTS)


@pytest.mark.parametrize(('name', 'count'), sorted(PUBLISHED_COUNTS.items()))
def test_table_counts_and_invariants(name: str, count: int) -> None:
    sensor = get_sensor(name)
    assert isinstance(sensor, Sensor)
    assert sensor.name == name
    assert sensor.num_bands == count
    assert sensor.wavelengths.shape == (count,)
    assert sensor.fwhm.shape == (count,)
    assert sensor.wavelengths.dtype == np.float64
    assert sensor.fwhm.dtype == np.float64
    assert np.all(np.diff(sensor.wavelengths) > 0)
    assert np.all(sensor.fwhm > 0)
    assert len(sensor.band_names) == count
    assert len(set(sensor.band_names)) == count
    assert sensor.description
    assert '\n' not in sensor.description
    np.testing.assert_array_equal(
        check_wavelengths(sensor.wavelengths, count), sensor.wavelengths
    )


@pytest.mark.parametrize(
    ('name', 'first', 'last'),
    [
        ('aviris_ng', 376, 2501),
        ('enmap', 418, 2446),
        ('hyperion', 355.59, 2577.08),
        ('rosis', 430, 860),
        ('hyspex_vnir', 400, 1000),
        ('hyspex_swir', 930, 2500),
        ('specim_iq', 397, 1003),
        ('desis', 401, 999),
        ('prisma', 400, 2505),
    ],
)
def test_table_ranges(name: str, first: float, last: float) -> None:
    sensor = get_sensor(name)
    assert sensor.wavelengths[0] == pytest.approx(first, abs=1.0)
    assert sensor.wavelengths[-1] == pytest.approx(last, abs=1.0)


@pytest.mark.parametrize(
    'name', ['hyperion', 'prisma', 'rosis', 'hyspex_vnir', 'desis', 'landsat9', 'rgb']
)
def test_approximations_say_so(name: str) -> None:
    assert 'APPROXIMATION' in get_sensor(name).description


def test_tables_are_immutable() -> None:
    sensor = get_sensor('enmap')
    with pytest.raises(ValueError, match='read-only'):
        sensor.wavelengths[0] = 1.0
    assert get_sensor('enmap') is sensor
    assert get_sensor('enmap') == sensor
    assert 'num_bands=224' in repr(sensor)


def test_get_sensor_aliases() -> None:
    assert get_sensor('AVIRIS-NG') is get_sensor('aviris_ng')
    assert get_sensor('Sentinel2').num_bands == 13
    assert get_sensor(' HySpex-VNIR ').name == 'hyspex_vnir'


def test_get_sensor_unknown() -> None:
    with pytest.raises(ValueError, match=r"unknown sensor 'modis'.*enmap.*sentinel2"):
        get_sensor('modis')


def test_sentinel2_order_and_names() -> None:
    sensor = get_sensor('sentinel2')
    assert sensor.band_names == (
        'B1',
        'B2',
        'B3',
        'B4',
        'B5',
        'B6',
        'B7',
        'B8',
        'B8A',
        'B9',
        'B10',
        'B11',
        'B12',
    )
    assert sensor.wavelengths[sensor.band_names.index('B4')] == pytest.approx(664.6)


@pytest.mark.parametrize('name', ['landsat8', 'landsat9'])
def test_landsat_pan_sorts_between_green_and_red(name: str) -> None:
    sensor = get_sensor(name)
    assert sensor.band_names == (
        'B1',
        'B2',
        'B3',
        'B8',
        'B4',
        'B5',
        'B9',
        'B6',
        'B7',
        'B10',
        'B11',
    )
    pan = sensor.wavelengths[sensor.band_names.index('B8')]
    assert 580 < pan < 600


def test_hyperion_keeps_band_numbers() -> None:
    sensor = get_sensor('hyperion')
    assert sensor.band_names[0] == 'B001'
    assert sensor.wavelengths[0] == pytest.approx(355.59)
    assert sensor.wavelengths[-1] == pytest.approx(2577.08)
    assert sensor.band_names[-1] == 'B242'
    # VNIR and SWIR overlap, so SWIR band 71 sorts before VNIR band 70.
    assert sensor.band_names.index('B071') < sensor.band_names.index('B070')


def test_sensor_validates_its_table() -> None:
    with pytest.raises(ValueError, match='band_names: expected 2, found 1'):
        Sensor('x', np.array([500.0, 600.0]), np.array([10.0, 10.0]), ('a',), 'x')
    with pytest.raises(ValueError, match='unsorted'):
        Sensor('x', np.array([600.0, 500.0]), np.array([10.0, 10.0]), ('a', 'b'), 'x')
    with pytest.raises(ValueError, match='fwhm must be finite and positive'):
        Sensor('x', np.array([500.0, 600.0]), np.array([10.0, 0.0]), ('a', 'b'), 'x')
    with pytest.raises(ValueError, match='repeated names'):
        Sensor('x', np.array([500.0, 600.0]), np.array([1.0, 1.0]), ('a', 'a'), 'x')


def test_band_table_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every sensor is a CSV file: extra columns are ignored, the file's own band
    # order is sorted, and a file without its description line is an error.
    from torchgeo_spectral.sensors import tables

    (tmp_path / 'cam.csv').write_text(
        '# description: Test camera.\n# source line\n'
        'band_name,wavelength_nm,fwhm_nm,extra\nR,650,40,x\nG,550,30,y\n'
    )
    (tmp_path / 'bare.csv').write_text('band_name,wavelength_nm,fwhm_nm\nB1,500,10\n')
    monkeypatch.setattr(tables, '_DATA', tmp_path)
    cam = tables._table_sensor('cam')
    assert cam.band_names == ('G', 'R')
    np.testing.assert_array_equal(cam.wavelengths, [550.0, 650.0])
    np.testing.assert_array_equal(cam.fwhm, [30.0, 40.0])
    assert cam.description == 'Test camera.'
    with pytest.raises(
        ValueError, match=r"bare\.csv must start with a '# description:'"
    ):
        tables._table_sensor('bare')


# ---------------------------------------------------------------------------------
# tables equal the shared real data
# ---------------------------------------------------------------------------------


@pytest.mark.data
def test_enmap_table_matches_tiles(shared_data: Path) -> None:
    sensor = get_sensor('enmap')
    tiles = sorted((shared_data / 'enmap_potsdam' / 'images').glob('*.tif'))
    assert tiles
    for tile in tiles:
        centres, fwhm = read_wavelengths(tile)
        assert fwhm is not None
        order = np.argsort(centres)
        np.testing.assert_array_equal(centres[order], sensor.wavelengths)
        np.testing.assert_array_equal(fwhm[order], sensor.fwhm)
        assert sensor.band_names == tuple(f'B{i + 1}' for i in order)


@pytest.mark.data
def test_enmap_bad_bands(shared_data: Path) -> None:
    tile = next((shared_data / 'enmap_potsdam' / 'images').glob('*.tif'))
    good = read_bad_bands(tile)
    assert good is not None
    assert good.dtype == np.bool_
    assert good.shape == (224,)
    assert int((~good).sum()) == 6
    centres, _ = read_wavelengths(tile)
    bad = centres[~good]
    assert bad.min() == pytest.approx(1331, abs=1)
    assert bad.max() == pytest.approx(1391, abs=1)


@pytest.mark.data
def test_aviris_ng_table_matches_header(shared_data: Path) -> None:
    sensor = get_sensor('aviris_ng')
    centres, fwhm = read_wavelengths(shared_data / AVIRIS_NG_WITH_FWHM)
    assert fwhm is not None
    np.testing.assert_array_equal(centres, sensor.wavelengths)
    np.testing.assert_array_equal(fwhm, sensor.fwhm)
    # The .hdr path is accepted too.
    via_header, _ = read_wavelengths(shared_data / (AVIRIS_NG_WITH_FWHM + '.hdr'))
    np.testing.assert_array_equal(via_header, centres)
    assert read_bad_bands(shared_data / AVIRIS_NG_WITH_FWHM) is None


@pytest.mark.data
def test_aviris_ng_band_name_wavelengths(shared_data: Path) -> None:
    # This header has wavelengths only as band names ('376.44 Nanometers').
    centres, fwhm = read_wavelengths(shared_data / AVIRIS_NG_BAND_NAMES)
    assert fwhm is None
    assert centres.shape == (425,)
    assert centres[0] == pytest.approx(376.44)
    # Another flight's calibration: within 1 nm of the packaged table.
    np.testing.assert_allclose(centres, get_sensor('aviris_ng').wavelengths, atol=1.0)


@pytest.mark.data
def test_indian_pines_table_matches_csv(shared_data: Path) -> None:
    path = shared_data / 'wavelengths' / 'indian_pines_corrected_200_wavelengths.csv'
    with path.open() as file:
        rows = list(csv.DictReader(file))
    centres = np.array([float(row['center_nm']) for row in rows])
    fwhm = np.array([float(row['fwhm_nm']) for row in rows])
    sensor = get_sensor('aviris_indian_pines')
    order = np.argsort(centres, kind='stable')
    np.testing.assert_array_equal(sensor.wavelengths, centres[order])
    np.testing.assert_array_equal(sensor.fwhm, fwhm[order])
    assert sensor.band_names == tuple(f'B{i + 1}' for i in order)
    spc = np.loadtxt(shared_data / 'wavelengths' / '92AV3C.spc', skiprows=2)
    channels = np.array([int(row['aviris_channel']) for row in rows])
    subset = spc[np.isin(spc[:, 4], channels)]
    np.testing.assert_allclose(subset[:, 0], centres, atol=1e-3)


# ---------------------------------------------------------------------------------
# check_wavelengths
# ---------------------------------------------------------------------------------


def test_validate_accepts_lists_and_tensors() -> None:
    out = check_wavelengths([400, 500, 600], 3)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [400.0, 500.0, 600.0])
    from_tensor = check_wavelengths(torch.tensor([400.0, 500.0]))
    np.testing.assert_array_equal(from_tensor, [400.0, 500.0])


@pytest.mark.parametrize(
    ('values', 'num_bands', 'match'),
    [
        ([[400.0, 500.0]], None, r'must be 1-D, got shape \(1, 2\)'),
        ([], None, 'is empty'),
        ([400.0, np.nan, 600.0], None, r'non-finite values at index \[1\]'),
        ([400.0, np.inf], None, 'non-finite'),
        ([-5.0, 500.0], None, r'must be positive.*index \[0\]: \[-5.0\]'),
        ([0.0, 500.0], None, 'must be positive'),
        ([400.0, 500.0, 500.0], None, r'duplicated value 500.0 at index 1 and 2'),
        ([400.0, 600.0, 500.0], None, r'unsorted at index 2 \(500.0 after 600.0'),
        ([400.0, 500.0], 3, 'expected 3 band centres, found 2'),
        (['a', 'b'], None, 'must be numeric'),
    ],
)
def test_validate_rejects(
    values: list[float], num_bands: int | None, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        check_wavelengths(values, num_bands)


def test_validate_uses_name() -> None:
    with pytest.raises(ValueError, match=r'^band centres: expected 4'):
        check_wavelengths([1.0, 2.0], 4, source='band centres')


# ---------------------------------------------------------------------------------
# read_wavelengths / read_bad_bands on fake files
# ---------------------------------------------------------------------------------


def test_read_envi_nanometres(tmp_path: Path) -> None:
    path = write_envi(
        tmp_path / 'cube.img',
        'wavelength units = Nanometers\nwavelength = {500.0, 400.0, 600.0}\n'
        'fwhm = {10.0, 11.0, 12.0}\nbbl = {1, 0, 1}\n',
    )
    centres, fwhm = read_wavelengths(path)
    np.testing.assert_array_equal(centres, [500.0, 400.0, 600.0])  # file order
    assert fwhm is not None
    np.testing.assert_array_equal(fwhm, [10.0, 11.0, 12.0])
    good = read_bad_bands(path)
    assert good is not None
    np.testing.assert_array_equal(good, [True, False, True])
    # Opening through the header works as well.
    centres_hdr, _ = read_wavelengths(tmp_path / 'cube.img.hdr')
    np.testing.assert_array_equal(centres_hdr, centres)


def test_read_envi_micrometres(tmp_path: Path) -> None:
    path = write_envi(
        tmp_path / 'cube',
        'wavelength units = Micrometers\nwavelength = {0.45, 0.55, 0.65}\n'
        'fwhm = {0.01, 0.01, 0.02}\n',
        hdr_name='cube.hdr',
    )
    centres, fwhm = read_wavelengths(path)
    np.testing.assert_allclose(centres, [450.0, 550.0, 650.0])
    assert fwhm is not None
    np.testing.assert_allclose(fwhm, [10.0, 10.0, 20.0])
    assert read_bad_bands(path) is None


def test_read_envi_without_units_guesses_micrometres(tmp_path: Path) -> None:
    path = write_envi(tmp_path / 'cube.img', 'wavelength = {0.45, 0.55, 0.65}\n')
    centres, fwhm = read_wavelengths(path)
    np.testing.assert_allclose(centres, [450.0, 550.0, 650.0])
    assert fwhm is None


def test_read_envi_count_mismatch(tmp_path: Path) -> None:
    path = write_envi(tmp_path / 'cube.img', 'wavelength = {450, 550}\n')
    with pytest.raises(ValueError, match=r'cube\.img: found 2 wavelengths for 3 bands'):
        read_wavelengths(path)


def test_read_envi_bad_units(tmp_path: Path) -> None:
    path = write_envi(
        tmp_path / 'cube.img',
        'wavelength units = Wavenumber\nwavelength = {4000, 5000, 6000}\n',
    )
    with pytest.raises(ValueError, match="unsupported wavelength units 'Wavenumber'"):
        read_wavelengths(path)


def test_read_envi_bbl_mismatch(tmp_path: Path) -> None:
    path = write_envi(tmp_path / 'cube.img', 'bbl = {1, 0}\n')
    with pytest.raises(ValueError, match='found 2 bad-band flags for 3 bands'):
        read_bad_bands(path)


def test_read_envi_band_names(tmp_path: Path) -> None:
    path = write_envi(
        tmp_path / 'cube.img',
        'band names = {400.5 Nanometers, 0.5005 Micrometers, 600 nm}\n',
    )
    centres, fwhm = read_wavelengths(path)
    np.testing.assert_allclose(centres, [400.5, 500.5, 600.0])
    assert fwhm is None


def test_read_envi_no_wavelengths(tmp_path: Path) -> None:
    path = write_envi(tmp_path / 'cube.img', 'band names = {red, green, blue}\n')
    with pytest.raises(ValueError, match=r'cube\.img: no band wavelengths found'):
        read_wavelengths(path)


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='no such file'):
        read_wavelengths(tmp_path / 'missing.tif')


def test_read_tiff_band_tags(tmp_path: Path) -> None:
    tags = [
        {'wavelength': '418.24', 'fwhm': '6.99', 'bbl': '1'},
        {'WAVELENGTH': '423.87', 'fwhm': '6.67', 'bbl': '0'},
    ]
    for tag in tags:
        tag['wavelength_units'] = 'Nanometers'
    path = write_tiff(tmp_path / 'tile.tif', tags)
    centres, fwhm = read_wavelengths(path)
    np.testing.assert_allclose(centres, [418.24, 423.87])
    assert fwhm is not None
    np.testing.assert_allclose(fwhm, [6.99, 6.67])
    good = read_bad_bands(path)
    assert good is not None
    np.testing.assert_array_equal(good, [True, False])


def test_read_tiff_micrometres_dataset_units(tmp_path: Path) -> None:
    path = write_tiff(
        tmp_path / 'tile.tif',
        [{'wavelength': '0.49'}, {'wavelength': '0.56'}, {'wavelength': '0.665'}],
        dataset_tags={'wavelength_units': 'micrometers'},
    )
    centres, fwhm = read_wavelengths(path)
    np.testing.assert_allclose(centres, [490.0, 560.0, 665.0])
    assert fwhm is None
    assert read_bad_bands(path) is None


def test_read_tiff_partial_tags(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / 'tile.tif', [{'wavelength': '500'}, {'other': '1'}])
    with pytest.raises(ValueError, match=r'tile\.tif: bands \[2\] have no wavelength'):
        read_wavelengths(path)


def test_read_tiff_partial_fwhm(tmp_path: Path) -> None:
    path = write_tiff(
        tmp_path / 'tile.tif',
        [{'wavelength': '500', 'fwhm': '5'}, {'wavelength': '600'}],
    )
    with pytest.raises(ValueError, match=r'bands \[2\] have no fwhm tag'):
        read_wavelengths(path)


def test_read_tiff_no_wavelengths(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / 'plain.tif', [{}, {}])
    with pytest.raises(ValueError, match=r'plain\.tif: no band wavelengths found'):
        read_wavelengths(path)


def test_read_tiff_imagery_domain(tmp_path: Path) -> None:
    path = write_tiff(
        tmp_path / 'imagery.tif',
        [
            {'CENTRAL_WAVELENGTH_UM': '0.665', 'FWHM_UM': '0.031'},
            {'CENTRAL_WAVELENGTH_UM': '0.842', 'FWHM_UM': '0.106'},
        ],
        ns='IMAGERY',
    )
    centres, fwhm = read_wavelengths(path)
    np.testing.assert_allclose(centres, [665.0, 842.0])
    assert fwhm is not None
    np.testing.assert_allclose(fwhm, [31.0, 106.0])


def test_read_tiff_invalid_fwhm_is_dropped(tmp_path: Path) -> None:
    path = write_tiff(
        tmp_path / 'tile.tif',
        [{'wavelength': '500', 'fwhm': '0'}, {'wavelength': '600', 'fwhm': '0'}],
    )
    with pytest.warns(UserWarning, match='ignoring it'):
        centres, fwhm = read_wavelengths(path)
    np.testing.assert_array_equal(centres, [500.0, 600.0])
    assert fwhm is None


# ---------------------------------------------------------------------------------
# spectral response and resampling
# ---------------------------------------------------------------------------------


def test_spectral_response_rows_sum_to_one() -> None:
    grid = np.arange(400.0, 701.0)
    srf = spectral_response([500.0, 600.0], [10.0, 20.0], grid)
    assert srf.shape == (2, grid.size)
    np.testing.assert_allclose(srf.sum(axis=1), 1.0)
    assert grid[srf.argmax(axis=1)].tolist() == [500.0, 600.0]
    # Half maximum at centre +/- FWHM/2.
    assert srf[0, 105] == pytest.approx(srf[0, 100] / 2, rel=1e-6)


def test_spectral_response_band_off_grid() -> None:
    with pytest.raises(ValueError, match='spectral response is zero'):
        spectral_response([500.0, 5000.0], [10.0, 10.0], np.arange(400.0, 600.0))


def test_resampling_matrix_rows_sum_to_one() -> None:
    src, dst = get_sensor('aviris_ng'), get_sensor('sentinel2')
    matrix = resampling_matrix(src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    assert matrix.shape == (13, 425)
    assert matrix.dtype == np.float64
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert np.all(matrix >= 0)
    # The returned matrix is a copy: editing it does not touch the cache.
    matrix[:] = 0
    again = resampling_matrix(src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    np.testing.assert_allclose(again.sum(axis=1), 1.0)


def test_resample_flat_spectrum_stays_flat() -> None:
    src, dst = get_sensor('enmap'), get_sensor('sentinel2')
    x = np.full((224, 3, 3), 0.25)
    y = resample_spectra(x, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    assert y.shape == (13, 3, 3)
    np.testing.assert_allclose(y, 0.25, rtol=1e-12)


def test_resample_linear_spectrum_hits_target_centres() -> None:
    src, dst = get_sensor('aviris_ng'), get_sensor('enmap')
    spectrum = 0.3 + 1e-3 * src.wavelengths
    y = resample_spectra(
        spectrum, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm, dim=-1
    )
    np.testing.assert_allclose(y, 0.3 + 1e-3 * dst.wavelengths, atol=1e-6)


def test_resample_narrow_bands_pick_source_values() -> None:
    # Target bands much narrower than the source sampling and centred on source
    # centres reproduce the source values.
    src = np.arange(400.0, 1001.0, 10.0)
    x = np.sin(src / 50.0)
    dst = src[5:-5]
    y = resample_spectra(x, src, None, dst, np.full(dst.size, 0.5), dim=0)
    np.testing.assert_allclose(y, x[5:-5], atol=1e-3)


def test_resample_gaussian_matches_direct_integration() -> None:
    src = np.arange(400.0, 900.0, 1.0)
    x = np.exp(-(((src - 650.0) / 40.0) ** 2))
    dst, fwhm = np.array([560.0, 650.0, 700.0]), np.array([30.0, 60.0, 20.0])
    y = resample_spectra(x, src, np.ones_like(src), dst, fwhm, dim=0)
    expected = spectral_response(dst, fwhm, src) @ x
    np.testing.assert_allclose(y, expected, rtol=1e-3)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64, torch.bfloat16])
def test_resample_tensor_aviris_ng_to_sentinel2(dtype: torch.dtype) -> None:
    src, dst = get_sensor('aviris_ng'), get_sensor('sentinel2')
    x = torch.rand(2, 425, 4, 5, generator=torch.Generator().manual_seed(0))
    x = x.to(dtype)
    y = resample_spectra(x, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    assert isinstance(y, torch.Tensor)
    assert y.shape == (2, 13, 4, 5)
    assert y.dtype == dtype
    assert y.device == x.device
    matrix = torch.as_tensor(
        resampling_matrix(src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    )
    expected = torch.einsum('oc,bchw->bohw', matrix, x.double())
    tol = 1e-2 if dtype == torch.bfloat16 else 1e-5
    torch.testing.assert_close(y.double(), expected, atol=tol, rtol=tol)


def test_resample_numpy_aviris_ng_to_sentinel2() -> None:
    src, dst = get_sensor('aviris_ng'), get_sensor('sentinel2')
    x = np.random.default_rng(0).random((2, 425, 4, 5), dtype=np.float32)
    y = resample_spectra(x, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    assert isinstance(y, np.ndarray)
    assert y.shape == (2, 13, 4, 5)
    assert y.dtype == np.float32
    tensor = resample_spectra(
        torch.from_numpy(x), src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm
    )
    np.testing.assert_allclose(y, tensor.numpy(), rtol=1e-5, atol=1e-6)


def test_resample_other_dims_and_integers() -> None:
    src, dst = get_sensor('enmap'), get_sensor('rgb')
    x = np.full((3, 3, 224), 1000, dtype=np.int16)
    y = resample_spectra(
        x, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm, dim=-1
    )
    assert y.dtype == np.int16
    assert y.shape == (3, 3, 3)
    np.testing.assert_array_equal(y, 1000)
    t = torch.full((224, 2), 7, dtype=torch.int32)
    out = resample_spectra(
        t, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm, dim=0
    )
    assert out.dtype == torch.int32
    assert torch.equal(out, torch.full((3, 2), 7, dtype=torch.int32))


def test_resample_keeps_nan_local() -> None:
    # Issue 14: one NaN source band made every output band NaN.
    src, dst = get_sensor('enmap'), get_sensor('sentinel2')
    matrix = resampling_matrix(src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    band = int(np.argmin(np.abs(src.wavelengths - 665.0)))  # under S2 B4 (red)
    touched = matrix[:, band] != 0
    assert touched.any()
    assert not touched.all()
    x = np.ones((224, 2, 3), dtype=np.float32)
    x[band, 0, 0] = np.nan
    for data in (x, torch.from_numpy(x)):
        y = np.asarray(
            resample_spectra(data, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
        )
        np.testing.assert_array_equal(np.isnan(y[:, 0, 0]), touched)
        np.testing.assert_allclose(y[~touched, 0, 0], 1.0, rtol=1e-5)
        assert not np.isnan(y[:, 1:, :]).any()
        assert not np.isnan(y[:, 0, 1:]).any()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_resample_keeps_cuda_device() -> None:
    src, dst = get_sensor('aviris_ng'), get_sensor('sentinel2')
    x = torch.rand(1, 425, 2, 2, device='cuda')
    y = resample_spectra(x, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    assert y.device == x.device


def test_resample_gradients_flow() -> None:
    src, dst = get_sensor('aviris_ng'), get_sensor('sentinel2')
    x = torch.rand(1, 425, 2, 2, requires_grad=True)
    y = resample_spectra(x, src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert grad.shape == x.shape
    assert torch.all(grad >= 0)
    assert grad.sum() > 0


def test_resample_out_of_range() -> None:
    src, dst = get_sensor('rosis'), get_sensor('sentinel2')
    with pytest.raises(
        ValueError, match=r'target band 8 \(864.7 nm\).*source range 428-862 nm'
    ):
        resample_spectra(
            np.zeros((103, 1, 1)), src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm
        )


def test_resample_out_of_range_thermal() -> None:
    src, dst = get_sensor('aviris_ng'), get_sensor('landsat8')
    with pytest.raises(ValueError, match=r'band 9 \(10895 nm.*band 10 \(12005 nm'):
        resampling_matrix(src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)


def test_resample_without_source_fwhm_narrows_range() -> None:
    src = np.arange(400.0, 801.0, 10.0)
    # 803 nm lies inside the source range with source FWHM 10 (395-805), not without.
    resampling_matrix(src, np.full(src.size, 10.0), [803.0], [10.0])
    with pytest.raises(ValueError, match='outside the source range 400-800 nm'):
        resampling_matrix(src, None, [803.0], [10.0])


def test_resample_to_own_table_is_near_identity() -> None:
    sensor = get_sensor('enmap')
    matrix = resampling_matrix(
        sensor.wavelengths, sensor.fwhm, sensor.wavelengths, sensor.fwhm
    )
    spectrum = np.linspace(0.1, 0.5, sensor.num_bands)
    np.testing.assert_allclose(matrix @ spectrum, spectrum, atol=2e-3)


@pytest.mark.parametrize(
    ('src', 'dst', 'match'),
    [
        ([500.0, 400.0, 600.0], [500.0], '^src_wavelengths must be strictly.*unsorted'),
        ([400.0, 500.0, 600.0], [500.0, 500.0], '^dst_wavelengths.*duplicated'),
        ([400.0, np.nan, 600.0], [500.0], '^src_wavelengths has non-finite'),
        ([-400.0, 500.0, 600.0], [500.0], '^src_wavelengths must be positive'),
    ],
)
def test_resample_rejects_bad_tables(
    src: list[float], dst: list[float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        resampling_matrix(src, None, dst, np.ones(len(dst)))


def test_resample_rejects_bad_inputs() -> None:
    src, dst = get_sensor('enmap'), get_sensor('rgb')
    args = (src.wavelengths, src.fwhm, dst.wavelengths, dst.fwhm)
    with pytest.raises(ValueError, match='x has 200 bands along dim -3 but'):
        resample_spectra(np.zeros((200, 2, 2)), *args)
    with pytest.raises(ValueError, match='dim -3 is out of range'):
        resample_spectra(np.zeros(224), *args)
    with pytest.raises(ValueError, match='dst_fwhm: expected 3 values, found 2'):
        resample_spectra(np.zeros(224), *args[:3], dst.fwhm[:2], dim=0)
    with pytest.raises(ValueError, match='cannot resample'):
        resample_spectra(np.zeros(224, dtype=np.complex64), *args, dim=0)
    with pytest.raises(TypeError, match=r'must be a torch\.Tensor or numpy\.ndarray'):
        resample_spectra([0.0] * 224, *args, dim=0)  # type: ignore[type-var]
