from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from pyproj import CRS
from synthetic import cube, listing, write_envi, write_geotiff, write_mask
from torch.utils.data import DataLoader
from torchgeo.datasets import DatasetNotFoundError, RasterDataset
from torchgeo.samplers import (
    GriddedPatchSampler,
    GridGeoSampler,
    RandomGeoSampler,
    RandomPatchSampler,
)

from torchgeo_spectral.datasets import HyperspectralRaster, collate_spectral

WAVES = [400.0, 500.0, 600.0, 700.0, 800.0, 900.0]


class Labels(RasterDataset):
    is_image = False


@pytest.fixture
def tif_dir(tmp_path: Path) -> Path:
    folder = tmp_path / 'tifs'
    folder.mkdir()
    write_geotiff(folder / 'a.tif', cube(6, 20, 24), WAVES, bbl=[1, 1, 0, 1, 1, 1])
    return folder


def test_geotiff_sample_keys(tif_dir: Path) -> None:
    ds = HyperspectralRaster(tif_dir)
    sample = ds[ds.bounds]
    assert sample['image'].shape == (6, 20, 24)
    assert sample['image'].dtype == torch.float32
    assert torch.equal(sample['wavelength'], torch.tensor(WAVES))
    assert sample['bounds'].shape == (9,)
    assert sample['transform'].shape == (9,)
    assert ds.good_bands.tolist() == [True, True, False, True, True, True]


def test_unsorted_wavelengths_reorder_bands(tmp_path: Path) -> None:
    data = cube(4, 8, 8)
    write_geotiff(tmp_path / 'u.tif', data, [700.0, 400.0, 600.0, 500.0])
    ds = HyperspectralRaster(tmp_path)
    sample = ds[ds.bounds]
    assert sample['wavelength'].tolist() == [400.0, 500.0, 600.0, 700.0]
    expected = torch.from_numpy(data[[1, 3, 2, 0]])
    assert torch.allclose(sample['image'], expected)


def test_duplicated_wavelengths_error(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'd.tif', cube(3, 8, 8), [400.0, 500.0, 500.0])
    with pytest.raises(ValueError, match='duplicated'):
        HyperspectralRaster(tmp_path)


@pytest.mark.parametrize(
    ('interleave', 'suffix'), [('bsq', '.img'), ('bil', '.bil'), ('bip', '')]
)
def test_envi(tmp_path: Path, interleave: str, suffix: str) -> None:
    data = cube(5, 10, 12)
    write_envi(
        tmp_path / 'scene_rdn', data, WAVES[:5], interleave=interleave, suffix=suffix
    )
    ds = HyperspectralRaster(tmp_path)
    assert len(ds) == 1
    sample = ds[ds.bounds]
    assert torch.allclose(sample['image'], torch.from_numpy(data))
    assert sample['wavelength'].tolist() == WAVES[:5]


def test_header_band_count_disagrees(tmp_path: Path) -> None:
    write_envi(tmp_path / 'bad', cube(4, 6, 6), WAVES[:3], header_bands=4)
    with pytest.raises(ValueError, match=r'bad\.img.*3 wavelengths for 4 bands'):
        HyperspectralRaster(tmp_path)


def test_sensor_and_explicit_wavelengths(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'rgb.tif', cube(3, 8, 8))
    ds = HyperspectralRaster(tmp_path, sensor='rgb')
    assert ds.wavelengths.tolist() == [470.0, 550.0, 650.0]
    ds = HyperspectralRaster(tmp_path, wavelengths=[650.0, 550.0, 470.0])
    sample = ds[ds.bounds]
    assert sample['wavelength'].tolist() == [470.0, 550.0, 650.0]
    assert torch.allclose(sample['image'][0], torch.from_numpy(cube(3, 8, 8)[2]))
    with pytest.raises(ValueError, match='no file'):
        HyperspectralRaster(tmp_path, wavelengths=[400.0, 500.0])
    with pytest.raises(ValueError, match='either'):
        HyperspectralRaster(tmp_path, sensor='rgb', wavelengths=[1.0, 2.0, 3.0])


def test_missing_wavelengths_error(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'plain.tif', cube(3, 8, 8))
    with (
        pytest.warns(UserWarning, match='no band wavelengths'),
        pytest.raises(ValueError, match='no file'),
    ):
        HyperspectralRaster(tmp_path)


def test_bad_bands(tif_dir: Path) -> None:
    ds = HyperspectralRaster(tif_dir, drop_bad_bands=True)
    assert ds.wavelengths.tolist() == [400.0, 500.0, 700.0, 800.0, 900.0]
    ds = HyperspectralRaster(
        tif_dir, bad_bands=[0, (750.0, 850.0)], drop_bad_bands=True
    )
    assert ds.wavelengths.tolist() == [500.0, 700.0, 900.0]
    sample = ds[ds.bounds]
    assert torch.allclose(sample['image'][1], torch.from_numpy(cube(6, 20, 24)[3]))
    with pytest.raises(ValueError, match='out of range'):
        HyperspectralRaster(tif_dir, bad_bands=[17])
    with pytest.raises(ValueError, match='low <= high'):
        HyperspectralRaster(tif_dir, bad_bands=[(900.0, 400.0)])


def test_nodata_nan_and_fill(tmp_path: Path) -> None:
    data = cube(3, 8, 8)
    data[:, 0, 0] = -9999.0
    write_geotiff(tmp_path / 'n.tif', data, WAVES[:3], nodata=-9999.0)
    ds = HyperspectralRaster(tmp_path)
    image = ds[ds.bounds]['image']
    assert torch.isnan(image[:, 0, 0]).all()
    assert torch.isfinite(image[:, 1:, :]).all()
    ds = HyperspectralRaster(tmp_path, fill_value=0.0)
    sample = ds[ds.bounds]
    assert sample['image'][:, 0, 0].tolist() == [0.0, 0.0, 0.0]
    assert not sample['valid'][0, 0]
    assert sample['valid'].sum() == 63
    # outside the footprint is nodata too
    x, y, t = ds.bounds
    sample = ds[x.start - 60 : x.stop, y.start : y.stop, t]
    assert not sample['valid'][:, :2].any()


@pytest.mark.filterwarnings('ignore::DeprecationWarning')
@pytest.mark.filterwarnings('ignore::FutureWarning')
def test_samplers_and_collate(tif_dir: Path) -> None:
    ds = HyperspectralRaster(tif_dir)
    for sampler in (
        RandomPatchSampler(ds, size=8, length=4),
        GriddedPatchSampler(ds, size=8, stride=8),
        RandomGeoSampler(ds, size=8, length=4),
        GridGeoSampler(ds, size=8, stride=8),
    ):
        loader = DataLoader(
            ds, sampler=sampler, batch_size=2, collate_fn=collate_spectral
        )
        batch = next(iter(loader))
        assert batch['image'].shape == (2, 6, 8, 8)
        assert batch['wavelength'].shape == (2, 6)


def test_intersection_with_mask(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'img.tif', cube(6, 16, 16), WAVES)
    masks = tmp_path / 'masks'
    masks.mkdir()
    label = np.arange(256).reshape(16, 16) % 4
    write_mask(masks / 'lab.tif', label)
    image_ds = HyperspectralRaster(tmp_path / 'img.tif')
    both = image_ds & Labels(masks)
    sample = both[both.bounds]
    assert sample['mask'].shape == (16, 16)
    assert torch.equal(sample['mask'], torch.from_numpy(label))
    assert sample['bounds'].shape == (9,)
    assert sample['wavelength'].shape == (6,)
    batch = collate_spectral([sample, sample])
    assert batch['mask'].shape == (2, 16, 16)


def test_mask_in_other_crs_without_overlap(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'img.tif', cube(6, 8, 8), WAVES)
    masks = tmp_path / 'masks'
    masks.mkdir()
    write_mask(
        masks / 'far.tif',
        np.ones((8, 8)),
        origin=(10.0, 50.0),
        res=0.001,
        crs='EPSG:4326',
    )
    with pytest.raises(ValueError, match=r'no overlap.*img\.tif.*far\.tif'):
        HyperspectralRaster(tmp_path / 'img.tif') & Labels(masks)


def test_reprojection_and_resampling(tif_dir: Path) -> None:
    ds = HyperspectralRaster(tif_dir, res=60.0)
    assert ds[ds.bounds]['image'].shape[-2:] == (10, 12)
    ds = HyperspectralRaster(tif_dir, crs=CRS.from_epsg(3857))
    assert ds.crs == CRS.from_epsg(3857)
    sample = ds[ds.bounds]
    assert sample['image'].shape[0] == 6
    assert torch.isfinite(sample['image']).any()


def test_mixed_band_sets(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'six.tif', cube(6, 8, 8), WAVES)
    write_geotiff(tmp_path / 'three.tif', cube(3, 8, 8), [450.0, 550.0, 650.0])
    with pytest.raises(ValueError, match='2 different band sets'):
        HyperspectralRaster(tmp_path)
    with pytest.warns(UserWarning, match='three.tif'):
        ds = HyperspectralRaster(tmp_path, num_bands=6)
    assert ds.files == [str(tmp_path / 'six.tif')]


def test_not_georeferenced_skipped(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'ok.tif', cube(3, 8, 8), [450.0, 550.0, 650.0])
    write_envi(
        tmp_path / 'lab_cube', cube(3, 8, 8), [450.0, 550.0, 650.0], georef=False
    )
    with pytest.warns(UserWarning, match='not georeferenced'):
        ds = HyperspectralRaster(tmp_path)
    assert len(ds) == 1


def test_separate_files(tmp_path: Path) -> None:
    names = [f'B{i}' for i in range(1, 12)]
    for name in names:
        res = 15.0 if name == 'B8' else 30.0
        size = 16 if name == 'B8' else 8
        data = np.full((1, size, size), int(name[1:]), dtype=np.uint16)
        write_geotiff(tmp_path / f'l8_{name}.tif', data, res=res)
    ds = HyperspectralRaster(
        tmp_path,
        sensor='landsat8',
        separate_files=True,
        filename_glob='l8_{}.tif',
        filename_regex=r'^l8_(?P<band>B\d+)\.tif$',
    )
    sample = ds[ds.bounds]
    assert sample['image'].shape == (11, 8, 8)
    assert torch.all(sample['wavelength'][1:] > sample['wavelength'][:-1])
    assert ds.bands[3] == 'B8'
    assert sample['image'][3].mean() == 8.0
    sub = HyperspectralRaster(
        tmp_path,
        sensor='landsat8',
        bands=['B4', 'B3', 'B2'],
        separate_files=True,
        filename_glob='l8_{}.tif',
        filename_regex=r'^l8_(?P<band>B\d+)\.tif$',
    )
    assert sub.bands == ('B2', 'B3', 'B4') or list(sub.bands) == ['B2', 'B3', 'B4']
    assert sub[sub.bounds]['image'][:, 0, 0].tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match='separate_files'):
        HyperspectralRaster(tmp_path, separate_files=True)


def test_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r'nope\.tif'):
        HyperspectralRaster(tmp_path / 'nope.tif')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DatasetNotFoundError):
        HyperspectralRaster(tmp_path / 'empty')
    (tmp_path / 'junk').mkdir()
    (tmp_path / 'junk' / 'notes.tif').write_text('not a raster')
    with (
        pytest.warns(UserWarning, match=r'notes\.tif'),
        pytest.raises(DatasetNotFoundError),
    ):
        HyperspectralRaster(tmp_path / 'junk')


def test_plot_and_nothing_written(tif_dir: Path) -> None:
    before = listing(tif_dir)
    ds = HyperspectralRaster(tif_dir)
    sample = ds[ds.bounds]
    fig = ds.plot(sample, suptitle='test')
    plt.close(fig)
    sample['mask'] = torch.zeros(20, 24, dtype=torch.long)
    del sample['wavelength']
    fig = ds.plot(sample, show_titles=False)
    plt.close(fig)
    assert str(ds).endswith('(400.0-900.0 nm)')
    assert listing(tif_dir) == before


def test_fast_path_matches_mosaic(tmp_path: Path) -> None:
    data = cube(3, 16, 16)
    data[:, 5, 5] = -1.0
    write_geotiff(tmp_path / 'west.tif', data[:, :, :8].copy(), WAVES[:3], nodata=-1.0)
    east = data[:, :, 8:].copy()
    write_geotiff(
        tmp_path / 'east.tif',
        east,
        WAVES[:3],
        nodata=-1.0,
        origin=(500240.0, 5800000.0),
    )
    ds = HyperspectralRaster(tmp_path)
    x, y, t = ds.bounds
    mosaic = ds[x, y, t]['image']  # spans both files: merged
    assert mosaic.shape == (3, 16, 16)
    expected = torch.from_numpy(data)
    expected[:, 5, 5] = float('nan')
    assert torch.allclose(mosaic, expected, equal_nan=True)
    inner = ds[x.start : x.start + 150, y.stop - 150 : y.stop, t]['image']  # one file
    assert torch.allclose(inner, expected[:, :5, :5], equal_nan=True)
    merged = ds._merge_or_stack(
        [str(tmp_path / 'west.tif')],
        (slice(x.start, x.start + 150, 30.0), slice(y.stop - 150, y.stop, 30.0), t),
        ds.band_indexes,
    )
    assert torch.allclose(inner, merged, equal_nan=True)


def test_caches_follow_crs_change(tif_dir: Path) -> None:
    ds = HyperspectralRaster(tif_dir)
    before = ds.bounds
    ds.crs = CRS.from_epsg(3857)
    after = ds.bounds
    assert after[0].start != before[0].start
    sample = ds[after]
    assert sample['image'].shape[0] == 6


def test_truncated_geotiff_named_at_read_time(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / 'cut.tif', cube(6, 64, 64), WAVES)
    whole = path.read_bytes()
    ds = HyperspectralRaster(path)
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r'cut\.tif: read failed .*truncated'):
        ds[ds.bounds]


def test_undeclared_nan_in_raster_is_named(tmp_path: Path) -> None:
    data = cube(6, 8, 8)
    data[1, 2, 3] = np.nan
    path = write_geotiff(tmp_path / 'nan.tif', data, WAVES)
    with pytest.raises(ValueError, match=r'nan\.tif: .*band 2, pixel \(row 2, col 3\)'):
        HyperspectralRaster(path)[HyperspectralRaster(path).bounds]
    ds = HyperspectralRaster(path, nodata=float('nan'))
    assert torch.isnan(ds[ds.bounds]['image'][1, 2, 3])


def test_envi_header_without_data_file_named(tif_dir: Path, tmp_path: Path) -> None:
    write_envi(tif_dir / 'gone', cube(6, 4, 4), WAVES)
    (tif_dir / 'gone.img').unlink()
    with pytest.warns(UserWarning, match=r'gone\.hdr: ENVI header without its data'):
        HyperspectralRaster(tif_dir)
    alone = tmp_path / 'alone'
    alone.mkdir()
    (alone / 'gone.hdr').write_text((tif_dir / 'gone.hdr').read_text())
    with pytest.raises(FileNotFoundError, match=r'gone\.hdr: .*gone\.img'):
        HyperspectralRaster(alone)


def test_only_non_georeferenced_files_one_clear_error(tmp_path: Path) -> None:
    write_envi(tmp_path / 'lab1', cube(6, 4, 4), WAVES, georef=False)
    write_envi(tmp_path / 'lab2', cube(6, 4, 4), WAVES, georef=False)
    with pytest.raises(
        ValueError, match=r'every raster .* not georeferenced .*: lab1\.img, lab2'
    ):
        HyperspectralRaster(tmp_path)
