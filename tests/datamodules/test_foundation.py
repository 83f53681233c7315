from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin
from synthetic import cube, write_geotiff

from torchgeo_spectral.datamodules import FoundationDataModule
from torchgeo_spectral.datamodules.foundation import FoundationBatchSampler


def _band_file(path: Path, value: float, size: int = 12) -> None:
    """One single-band uint16 file (0 is fill), like a Landsat 8 band."""
    data = np.full((1, size, size), value, dtype=np.uint16)
    data[0, 0, 0] = 0
    profile = {
        'driver': 'GTiff',
        'height': size,
        'width': size,
        'count': 1,
        'dtype': 'uint16',
        'crs': 'EPSG:32633',
        'transform': from_origin(0, 0, 30, 30),
    }
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)


def _corpus(root: Path) -> None:
    """Cubes in subfolders, one without wavelengths, and Landsat-style bands."""
    (root / 'hyper').mkdir(parents=True)
    write_geotiff(
        root / 'hyper' / 'a.tif', cube(20, 12, 12), [400.0 + 20 * i for i in range(20)]
    )
    (root / 'held_out').mkdir()
    write_geotiff(
        root / 'held_out' / 'b.tif', cube(6, 12, 12), [450.0 + 60 * i for i in range(6)]
    )
    (root / 'multi').mkdir()
    write_geotiff(root / 'multi' / 'plain.tif', cube(3, 12, 12))
    (root / 'l8').mkdir()
    for band, value in (('B2', 100), ('B3', 200), ('B4', 300), ('B5', 400)):
        _band_file(root / 'l8' / f'scene_{band}.tif', value)
    _band_file(root / 'l8' / 'scene_B8.tif', 500, size=24)  # panchromatic


def test_real_cubes_recursive_with_exclude_stacks_and_given_wavelengths(
    tmp_path: Path,
) -> None:
    _corpus(tmp_path)
    dm = FoundationDataModule(
        tmp_path,
        patch_size=5,
        stride=3,
        batch_size=4,
        exclude=['held_out/*'],
        wavelengths={'multi/plain.tif': [660.0, 560.0, 490.0]},
        band_stacks={'l8/scene_B*.tif': 'landsat8'},
        library=False,
        augment=False,
        max_bands=None,
    )
    with pytest.warns(UserWarning, match=r'scene_B8.tif: 24 x 24 px, expected 12 x 12'):
        dm.setup('fit')
    counts = sorted(len(key) for key in dm.groups)
    assert counts == [3, 4, 20]
    stack = next(key for key in dm.groups if len(key) == 4)
    assert stack == pytest.approx((482.04, 561.41, 654.59, 864.67), abs=0.01)
    assert not any('b.tif' in names for names in dm.groups.values())
    # The stack's 0 fill is nodata: the patch at the corner is not served.
    stack_report = next(v for k, v in dm.report.items() if k == 'landsat8')
    assert stack_report['served'] == stack_report['patches'] - 1
    seen = set()
    for batch in dm.train_dataloader():
        wl = batch['wavelength']
        assert torch.equal(wl, wl[:1].expand_as(wl))
        seen.add(wl.shape[1])
        assert batch['image'].shape[-2:] == (5, 5)
    assert seen == {3, 4, 20}


def test_library_batches_are_mixed_in_and_scaled(tmp_path: Path) -> None:
    write_geotiff(
        tmp_path / 'a.tif', cube(20, 12, 12), [400.0 + 20 * i for i in range(20)]
    )
    dm = FoundationDataModule(
        tmp_path,
        patch_size=5,
        stride=3,
        batch_size=4,
        library_fraction=0.5,
        library_size=400,
        library_num_bands=(3, 10),
        library_sensors=[],
        library_level=3,
        augment=False,
        max_bands=None,
    )
    dm.setup('fit')
    assert 2.0 < dm.library_factor < 6.0  # 1 / mean reflectance of earthlib
    assert len(dm.library_classes) == 26  # earthlib level-3 materials
    loader = dm.train_dataloader()
    real = [b for b in loader if b['image'].shape[1] == 20]
    library = [b for b in loader if b['image'].shape[1] != 20]
    assert real
    assert len(library) == len(real)
    assert all(b['image'].shape[1] <= 10 and b['valid'].all() for b in library)
    # Library pixels carry their material class (the material term's target).
    assert all(b['mask'].shape == (4, 5, 5) for b in library)
    assert all(0 <= int(b['mask'].min()) and int(b['mask'].max()) < 26 for b in library)
    assert not any('mask' in b for b in real)
    assert len(list(dm.val_dataloader())) >= dm.library_val_batches


def test_max_bands_keeps_a_random_subset() -> None:
    dm = FoundationDataModule('unused', max_bands=8, augment=False, library=False)
    assert dm.train_aug is not None
    batch = {
        'image': torch.rand(2, 30, 5, 5),
        'wavelength': torch.linspace(400, 2400, 30).expand(2, 30),
        'valid': torch.ones(2, 5, 5, dtype=torch.bool),
    }
    out = dm.train_aug(batch)
    assert 4 <= out['image'].shape[1] <= 8
    assert out['wavelength'].shape[-1] == out['image'].shape[1]
    assert torch.all(out['wavelength'][0].diff() > 0)


def test_batch_sampler_caps_band_sets_and_advances_the_library() -> None:
    sampler = FoundationBatchSampler(
        [10, 100], 40, 4, max_batches=3, library_batches=2, seed=0
    )
    batches = list(sampler)
    real = [b for b in batches if max(b) < 110]
    library = [b for b in batches if min(b) >= 110]
    assert len(real) == 3 + 3
    assert len(library) == 2
    assert all(max(b) < 10 or min(b) >= 10 for b in real)
    sampler.set_epoch(1)
    later = [b for b in sampler if min(b) >= 110]
    assert {tuple(b) for b in later}.isdisjoint(tuple(b) for b in library)
    with pytest.raises(ValueError, match='library holds 8 scenes'):
        FoundationBatchSampler([4], 8, 4, max_batches=None, library_batches=3)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match='library_fraction'):
        FoundationDataModule('x', library_fraction=1.0)
    with pytest.raises(ValueError, match='max_batches_per_band_set'):
        FoundationDataModule('x', max_batches_per_band_set=0)
    with pytest.raises(ValueError, match='max_bands'):
        FoundationDataModule('x', max_bands=1)
