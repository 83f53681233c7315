from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from synthetic import cube, listing, write_envi, write_geotiff
from torchgeo.datasets import DatasetNotFoundError

from torchgeo_spectral.datasets import ProximalHyperspectral

WAVES = [500.0, 400.0, 700.0, 600.0]  # unsorted on purpose


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / 'cubes'
    root.mkdir()
    write_envi(
        root / 'k1', cube(4, 6, 8, seed=1), WAVES, interleave='bil', suffix='.raw'
    )
    write_envi(
        root / 'k2', cube(4, 6, 8, seed=2), WAVES, interleave='bil', suffix='.raw'
    )
    return root


def test_envi_folder_sorted_bands(folder: Path) -> None:
    ds = ProximalHyperspectral(folder)
    assert len(ds) == 2
    sample = ds[0]
    assert sample['wavelength'].tolist() == [400.0, 500.0, 600.0, 700.0]
    raw = cube(4, 6, 8, seed=1)
    assert torch.allclose(sample['image'], torch.from_numpy(raw[[1, 0, 3, 2]]))
    with pytest.raises(IndexError):
        ds[5]


def test_npy_sidecar_and_layouts(tmp_path: Path) -> None:
    data = cube(3, 5, 7)
    np.save(tmp_path / 'chw.npy', data)
    np.save(tmp_path / 'hwc.npy', np.moveaxis(data, 0, -1))
    (tmp_path / 'wavelengths.txt').write_text('450, 550, 650\n')
    ds = ProximalHyperspectral(tmp_path)
    assert len(ds) == 2
    assert torch.allclose(ds[0]['image'], ds[1]['image'])
    assert ds[0]['image'].shape == (3, 5, 7)
    explicit = ProximalHyperspectral(tmp_path / 'chw.npy', wavelengths=[0.5, 0.6, 0.7])
    assert explicit[0]['wavelength'].tolist() == [500.0, 600.0, 700.0]  # um -> nm


def test_tiff_and_sensor(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'rgb.tif', cube(3, 6, 6))
    ds = ProximalHyperspectral(tmp_path, sensor='rgb')
    assert ds[0]['wavelength'].tolist() == [470.0, 550.0, 650.0]
    with pytest.raises(ValueError, match=r'rgb\.tif.*no band wavelengths'):
        ProximalHyperspectral(tmp_path)
    with pytest.raises(ValueError, match=r'rgb\.tif: 3 bands but 4 wavelengths'):
        ProximalHyperspectral(tmp_path, wavelengths=[400.0, 500.0, 600.0, 700.0])


def test_duplicate_wavelengths(tmp_path: Path) -> None:
    np.save(tmp_path / 'a.npy', cube(3, 4, 4))
    with pytest.raises(ValueError, match='duplicated'):
        ProximalHyperspectral(tmp_path, wavelengths=[500.0, 500.0, 600.0])


def test_labels_csv(folder: Path, tmp_path: Path) -> None:
    csv = tmp_path / 'labels.csv'
    csv.write_text('filename,label\nk1.raw,healthy\nk2,diseased\n')
    ds = ProximalHyperspectral(folder, labels=csv)
    assert ds.classes == ['diseased', 'healthy']
    assert ds[0]['label'] == 1
    assert ds[1]['label'] == 0
    ds = ProximalHyperspectral(folder, labels=csv, classes=['healthy', 'diseased', 'x'])
    assert ds[0]['label'] == 0
    with pytest.raises(
        ValueError, match=r"labels\.csv: label 'diseased'.*not in the class"
    ):
        ProximalHyperspectral(folder, labels=csv, classes=['healthy'])
    csv.write_text('filename,label\nk1.raw,healthy\n')
    with pytest.raises(ValueError, match='no label for cube k2'):
        ProximalHyperspectral(folder, labels=csv)
    with pytest.raises(FileNotFoundError, match=r'missing\.csv'):
        ProximalHyperspectral(folder, labels=tmp_path / 'missing.csv')


def test_masks_folder(folder: Path, tmp_path: Path) -> None:
    masks = tmp_path / 'masks'
    masks.mkdir()
    np.save(masks / 'k1.npy', np.ones((6, 8), dtype=np.uint8))
    np.save(masks / 'k2.npy', np.zeros((6, 8), dtype=np.uint8))
    ds = ProximalHyperspectral(folder, masks=masks, patch_size=4, stride=2)
    assert len(ds) == 2 * 2 * 3
    sample = ds[0]
    assert sample['mask'].shape == (4, 4)
    assert sample['mask'].dtype == torch.long
    assert sample['mask'].sum() == 16
    np.save(masks / 'k2.npy', np.zeros((5, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match=r'k2\.npy: mask of shape'):
        ProximalHyperspectral(folder, masks=masks)
    (masks / 'k2.npy').unlink()
    with pytest.raises(FileNotFoundError, match='no mask named k2'):
        ProximalHyperspectral(folder, masks=masks)


@pytest.mark.parametrize('shape', ['line', 'flat', 'frames', 'full'])
def test_calibration(folder: Path, tmp_path: Path, shape: str) -> None:
    raw = cube(4, 6, 8, seed=1)
    white_line = raw.max(axis=1, keepdims=True) + 10.0  # (C, 1, W)
    dark_line = np.full((4, 1, 8), 1.0, dtype=np.float32)
    if shape == 'line':
        white, dark = white_line, dark_line
    elif shape == 'flat':
        white, dark = white_line[:, 0, :], dark_line[:, 0, :]
    elif shape == 'frames':
        white = np.repeat(white_line, 3, axis=1)
        dark = np.repeat(dark_line, 3, axis=1)
    else:
        white = np.repeat(white_line, 6, axis=1)
        dark = np.repeat(dark_line, 6, axis=1)
    np.save(tmp_path / 'white.npy', white)
    np.save(tmp_path / 'dark.npy', dark)
    ds = ProximalHyperspectral(
        folder, white=tmp_path / 'white.npy', dark=tmp_path / 'dark.npy'
    )
    expected = (raw - dark_line) / (white_line - dark_line)
    assert torch.allclose(ds[0]['image'], torch.from_numpy(expected[[1, 0, 3, 2]]))
    assert ds[0]['image'].max() < 1.0


def test_calibration_patch_and_envi_reference(folder: Path, tmp_path: Path) -> None:
    refs = tmp_path / 'refs'
    refs.mkdir()
    white = write_envi(refs / 'white', np.full((4, 2, 8), 11.0, np.float32), WAVES)
    ds = ProximalHyperspectral(folder, white=white, patch_size=4, stride=4)
    raw = cube(4, 6, 8, seed=1)
    assert torch.allclose(
        ds[1]['image'], torch.from_numpy(raw[[1, 0, 3, 2], :4, 4:] / 11.0)
    )


def test_calibration_wrong_shape(folder: Path, tmp_path: Path) -> None:
    np.save(tmp_path / 'white.npy', np.ones((4, 1, 5), np.float32))
    with pytest.raises(ValueError, match=r'white\.npy: reference of shape \(4, 1, 5\)'):
        ProximalHyperspectral(folder, white=tmp_path / 'white.npy')
    np.save(tmp_path / 'white.npy', np.ones((3, 8), np.float32))
    with pytest.raises(ValueError, match=r'white\.npy'):
        ProximalHyperspectral(folder, white=tmp_path / 'white.npy')
    with pytest.raises(FileNotFoundError, match=r'nothere\.npy'):
        ProximalHyperspectral(folder, white=tmp_path / 'nothere.npy')
    with pytest.raises(ValueError, match='needs white'):
        ProximalHyperspectral(folder, dark=tmp_path / 'white.npy')


def test_bad_bands_and_patch_too_large(folder: Path) -> None:
    ds = ProximalHyperspectral(folder, bad_bands=[(590.0, 710.0)], drop_bad_bands=True)
    assert ds[0]['wavelength'].tolist() == [400.0, 500.0]
    with pytest.raises(ValueError, match=r'k1\.raw: cube of 6 x 8 pixels'):
        ProximalHyperspectral(folder, patch_size=7)


def test_empty_and_missing(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError):
        ProximalHyperspectral(tmp_path)
    with pytest.raises(FileNotFoundError, match='absent'):
        ProximalHyperspectral(tmp_path / 'absent')


def test_mixed_band_sets(folder: Path) -> None:
    write_envi(folder / 'other', cube(3, 6, 8), [400.0, 500.0, 600.0])
    with pytest.raises(ValueError, match=r'other\.img: band set'):
        ProximalHyperspectral(folder)


def test_plot_and_nothing_written(folder: Path, tmp_path: Path) -> None:
    csv = tmp_path / 'labels.csv'
    csv.write_text('filename,label\nk1,a\nk2,b\n')
    before = listing(folder)
    ds = ProximalHyperspectral(folder, labels=csv)
    fig = ds.plot(ds[0], suptitle='kernel')
    plt.close(fig)
    assert listing(folder) == before


def test_envi_header_without_data_file_is_named(folder: Path, tmp_path: Path) -> None:
    (folder / 'lost.hdr').write_text((folder / 'k1.hdr').read_text())
    with pytest.warns(UserWarning, match=r'lost\.hdr: ENVI header without its data'):
        assert len(ProximalHyperspectral(folder)) == 2
    alone = tmp_path / 'alone'
    alone.mkdir()
    (alone / 'lost.hdr').write_text((folder / 'k1.hdr').read_text())
    with pytest.raises(FileNotFoundError, match=r'lost\.hdr: .*lost\.img'):
        ProximalHyperspectral(alone)
    with pytest.raises(FileNotFoundError, match=r'lost\.hdr: .*not found'):
        ProximalHyperspectral(alone / 'lost.hdr')


def test_undeclared_nan_names_file_band_and_pixel(tmp_path: Path) -> None:
    data = cube(4, 6, 8)
    data[2, 3, 5] = np.nan
    path = write_geotiff(tmp_path / 'nan.tif', data, [400.0, 500.0, 600.0, 700.0])
    ds = ProximalHyperspectral(path)
    with pytest.raises(
        ValueError, match=r'nan\.tif: .*band 3 \(600 nm\), pixel \(row 3, col 5\)'
    ):
        ds[0]
    declared = ProximalHyperspectral(path, nodata=float('nan'))
    assert torch.isnan(declared[0]['image'][2, 3, 5])


def test_oversized_cube_refused_before_reading(folder: Path) -> None:
    with pytest.raises(ValueError, match=r'k1\.raw: a whole-cube sample .* needs'):
        ProximalHyperspectral(folder, max_sample_bytes=100)
    assert len(ProximalHyperspectral(folder, patch_size=2, max_sample_bytes=100)) > 2


def test_envi_header_with_too_few_wavelengths(tmp_path: Path) -> None:
    write_envi(tmp_path / 'c', cube(12, 4, 4), [400.0 + 10 * i for i in range(12)])
    header = tmp_path / 'c.hdr'
    text = header.read_text().splitlines()
    text = [
        'wavelength = {' + ', '.join(str(400 + 10 * i) for i in range(10)) + '}'
        if line.startswith('wavelength =')
        else line
        for line in text
    ]
    header.write_text('\n'.join(text) + '\n')
    with pytest.raises(ValueError, match='found 10 wavelengths for 12 bands'):
        ProximalHyperspectral(tmp_path)


def test_2d_npy_with_wavelength_file(tmp_path: Path) -> None:
    np.save(tmp_path / 'flat.npy', cube(1, 5, 6)[0])
    (tmp_path / 'flat.wavelengths.txt').write_text('400 500 600')
    with pytest.raises(ValueError, match=r'flat\.npy: a 2-D array of shape \(5, 6\)'):
        ProximalHyperspectral(tmp_path)
