"""Integration tests on the real data excerpts in ../shared/data (skipped when absent)."""

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch
from torch.utils.data import DataLoader
from torchgeo.samplers import GriddedPatchSampler, RandomPatchSampler

from torchgeo_spectral.datamodules import LabelRaster, compute_band_statistics
from torchgeo_spectral.datasets import (
    HyperspectralRaster,
    ProximalHyperspectral,
    collate_spectral,
)

pytestmark = pytest.mark.data


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*'))


def test_enmap_tiles_with_labels(shared_data: Path) -> None:
    root = shared_data / 'enmap_potsdam'
    before = listing(root)
    images = HyperspectralRaster(root / 'images')
    assert len(images) == 18
    assert images.wavelengths.numel() == 224
    assert 418 < images.wavelengths[0] < 419
    assert int((~images.good_bands).sum()) == 6
    dataset = images & LabelRaster(root / 'labels')
    sampler = RandomPatchSampler(dataset, size=16, length=8, generator=0)
    loader = DataLoader(
        dataset, sampler=sampler, batch_size=4, collate_fn=collate_spectral
    )
    batch = next(iter(loader))
    assert batch['image'].shape == (4, 224, 16, 16)
    assert batch['mask'].shape == (4, 16, 16)
    assert batch['mask'].max() <= 6
    assert batch['wavelength'].shape == (4, 224)
    dropped = HyperspectralRaster(root / 'images', drop_bad_bands=True)
    sample = dropped[next(iter(GriddedPatchSampler(dropped, size=32)))]
    assert sample['image'].shape == (218, 32, 32)
    assert not ((sample['wavelength'] > 1330) & (sample['wavelength'] < 1392)).any()
    stats = compute_band_statistics(
        dropped, sampler=RandomPatchSampler(dropped, size=16, length=8, generator=0)
    )
    assert torch.isfinite(stats.mean).all()
    plt.close(dropped.plot(sample))
    assert listing(root) == before


def test_aviris_ng_envi_cube(shared_data: Path) -> None:
    root = shared_data / 'aviris_ng'
    cube = root / 'ang20160910t185702_2rdn_img'
    ds = HyperspectralRaster(cube)
    assert ds.crs.to_epsg() == 32611
    assert ds.res == (15.0, 15.0)
    sample = ds[ds.bounds]
    assert sample['image'].shape == (425, 25, 30)
    assert sample['wavelength'].shape == (425,)
    assert torch.all(sample['wavelength'][1:] > sample['wavelength'][:-1])
    with pytest.warns(UserWarning, match='not georeferenced'):
        folder = HyperspectralRaster(root, num_bands=425)
    assert folder.files == [str(cube)]
    with pytest.raises(ValueError, match=r'no file'):
        HyperspectralRaster(root, sensor='enmap')


def test_corn_kernel_proximal(shared_data: Path) -> None:
    root = shared_data / 'corn_kernel_proximal'
    before = listing(root)
    ds = ProximalHyperspectral(root)
    sample = ds[0]
    assert sample['image'].shape == (580, 31, 43)
    assert 366 < sample['wavelength'][0] < 367
    assert 1048 < sample['wavelength'][-1] < 1049
    patches = ProximalHyperspectral(root, patch_size=16, stride=8)
    assert len(patches) == 2 * 4
    plt.close(ds.plot(sample))
    assert listing(root) == before


def test_landsat8_separate_band_files(shared_data: Path) -> None:
    root = shared_data / 'landsat8'
    ds = HyperspectralRaster(
        root,
        sensor='landsat8',
        separate_files=True,
        filename_glob='l8_{}.tif',
        filename_regex=r'^l8_(?P<band>B\d+)\.tif$',
    )
    assert ds.res == (30.0, 30.0)
    assert len(ds.bands) == 11
    sampler = GriddedPatchSampler(ds, size=64, stride=256)
    sample = ds[next(iter(sampler))]
    assert sample['image'].shape == (11, 64, 64)
    assert torch.all(sample['wavelength'][1:] > sample['wavelength'][:-1])
    pan = ds.bands.index('B8')
    assert torch.isfinite(sample['image'][pan]).all()
