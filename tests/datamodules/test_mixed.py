from pathlib import Path

import pytest
import torch
from synthetic import cube, write_envi, write_geotiff

from torchgeo_spectral.datamodules import MixedCubeFolderDataModule
from torchgeo_spectral.samplers import BandSetBatchSampler


def test_batches_hold_one_band_set(tmp_path: Path) -> None:
    write_geotiff(
        tmp_path / 'remote.tif', cube(8, 16, 16), [450.0 + 50 * i for i in range(8)]
    )
    write_envi(
        tmp_path / 'lab',
        cube(5, 16, 16),
        [400.0, 500.0, 600.0, 700.0, 800.0],
        georef=False,
    )
    (tmp_path / 'notes.txt').write_text('not a cube')
    dm = MixedCubeFolderDataModule(
        tmp_path, patch_size=8, batch_size=3, val_fraction=0.25
    )
    dm.setup('fit')
    assert len(dm.groups) == 2
    counts = set()
    for batch in dm.train_dataloader():
        wl = batch['wavelength']
        assert torch.equal(wl, wl[:1].expand_as(wl))
        assert wl.shape[1] == batch['image'].shape[1]
        counts.add(wl.shape[1])
    assert counts == {5, 8}
    assert len(list(dm.val_dataloader())) >= 2


def test_no_readable_cube_fails_in_setup(tmp_path: Path) -> None:
    (tmp_path / 'broken.tif').write_bytes(b'not a tiff')
    (tmp_path / 'readme.md').write_text('hello')
    dm = MixedCubeFolderDataModule(tmp_path)
    with (
        pytest.warns(UserWarning, match=r'skipping .*broken\.tif'),
        pytest.raises(ValueError, match=r'no readable cube .*broken\.tif'),
    ):
        dm.setup('fit')
    with pytest.raises(FileNotFoundError):
        MixedCubeFolderDataModule(tmp_path / 'missing').setup('fit')


def test_batch_sampler_is_seeded_and_shards() -> None:
    sampler = BandSetBatchSampler([5, 3], batch_size=2, seed=1)
    first = list(sampler)
    assert first == list(sampler)
    assert sorted(i for b in first for i in b) == list(range(8))
    assert all(max(b) < 5 or min(b) >= 5 for b in first)
    sampler.set_epoch(1)
    assert list(sampler) != first


def _enmap_like(tmp_path: Path) -> None:
    """A 6-band cube with a nodata border, one all-nodata band and a bbl."""
    data = cube(6, 24, 24) + 1000.0
    data[3] = -32768.0  # a bad band everywhere (no bbl entry)
    data[:, :, 12:] = -32768.0  # nodata on the right half
    write_geotiff(
        tmp_path / 'enmap.tif',
        data,
        [450.0, 550.0, 650.0, 1350.0, 1600.0, 2200.0],
        bbl=[1, 1, 1, 1, 1, 0],
        nodata=-32768.0,
    )


def test_nodata_crops_avoided_and_bad_bands_dropped(tmp_path: Path) -> None:
    _enmap_like(tmp_path)
    dm = MixedCubeFolderDataModule(
        tmp_path, patch_size=8, batch_size=4, val_fraction=0.0, augment=False
    )
    dm.setup('fit')
    (key,) = dm.groups
    # bbl drops 2200 nm, the all-nodata band (1350 nm) is dropped too.
    assert dm.dropped_bands[key] == [1350.0]
    assert dm.report['enmap.tif'] == {'patches': 9, 'touching_nodata': 6, 'served': 3}
    for batch in dm.train_dataloader():
        assert batch['wavelength'][0].tolist() == [450.0, 550.0, 650.0, 1600.0]
        assert bool(batch['valid'].all())
        assert torch.isfinite(batch['image']).all()
    loose = MixedCubeFolderDataModule(
        tmp_path, patch_size=8, val_fraction=0.0, max_nodata_fraction=0.5
    )
    loose.setup('fit')
    assert loose.report['enmap.tif']['served'] == 6
    half = [s['valid'].float().mean() for s in loose.train_dataset]
    assert min(half) == 0.5  # the half-nodata patches: masked, zero-filled


def test_scaling_keeps_shape_and_level_across_cubes(tmp_path: Path) -> None:
    wl = [500.0, 600.0, 700.0]
    bright = cube(3, 8, 8) + 1000.0
    write_geotiff(tmp_path / 'bright.tif', bright, wl)
    write_geotiff(tmp_path / 'dark.tif', bright / 4, wl, origin=(600000.0, 5800000.0))
    dm = MixedCubeFolderDataModule(
        tmp_path, patch_size=8, batch_size=2, val_fraction=0.0, augment=False
    )
    dm.setup('fit')
    batch = next(iter(dm.train_dataloader()))
    means = batch['image'].mean(dim=(-2, -1))  # (2, C) mean spectra
    # One factor per sensor: the dark cube stays 4x darker, same shape.
    ratio = means.max(dim=0).values / means.min(dim=0).values
    assert torch.allclose(ratio, torch.full((3,), 4.0), rtol=1e-3)
    assert abs(float(batch['image'].mean()) - 1.0) < 1e-3
    fixed = MixedCubeFolderDataModule(tmp_path, patch_size=8, scaling=1e-3)
    fixed.setup('fit')
    assert next(iter(fixed.scales.values())) == 1e-3


def test_small_cubes_padded_with_warning_or_skipped(tmp_path: Path) -> None:
    wl = [500.0, 600.0, 700.0, 800.0]
    write_geotiff(tmp_path / 'big.tif', cube(4, 16, 16), wl)
    write_geotiff(tmp_path / 'small.tif', cube(4, 5, 6), wl)
    dm = MixedCubeFolderDataModule(tmp_path, patch_size=8, val_fraction=0.0)
    with pytest.warns(UserWarning, match=r'small\.tif: 5 x 6 px is smaller'):
        dm.setup('fit')
    assert dm.report['small.tif']['served'] == 1
    sample = dm.train_dataset[len(dm.train_dataset) - 1]
    sizes = {
        int(dm.train_dataset[i]['valid'].sum()) for i in range(len(dm.train_dataset))
    }
    assert sample['image'].shape == (4, 8, 8)
    assert 30 in sizes  # the padded small cube: 5 x 6 valid pixels
    skip = MixedCubeFolderDataModule(tmp_path, patch_size=8, small_cubes='skip')
    with pytest.warns(UserWarning, match=r'skipping .*small\.tif'):
        skip.setup('fit')
    assert 'small.tif' in skip.skipped


def test_cache_and_disk_reads_agree(tmp_path: Path) -> None:
    write_geotiff(tmp_path / 'a.tif', cube(4, 16, 16), [500.0, 600.0, 700.0, 800.0])
    samples = []
    for cache in (True, False):
        dm = MixedCubeFolderDataModule(
            tmp_path, patch_size=8, val_fraction=0.0, cache=cache
        )
        dm.setup('fit')
        samples.append(dm.train_dataset[2])
    assert torch.equal(samples[0]['image'], samples[1]['image'])


def test_training_batches_are_augmented_per_band_set() -> None:
    from torchgeo_spectral.datamodules.mixed import _pretraining_augmentation

    torch.manual_seed(0)
    aug = _pretraining_augmentation(['sentinel2'])
    wl = torch.linspace(420.0, 2400.0, 60)
    batch = {
        'image': torch.rand(4, 60, 8, 8) + 0.5,
        'wavelength': wl.expand(4, -1),
        'valid': torch.ones(4, 8, 8, dtype=torch.bool),
    }
    counts = set()
    for _ in range(12):
        out = aug(batch)
        assert out['image'].shape[1] == out['wavelength'].shape[1]
        assert out['valid'] is batch['valid']
        counts.add(out['image'].shape[1])
    assert 60 in counts
    assert any(c < 60 for c in counts)


@pytest.mark.data
def test_real_enmap_tiles_lose_bad_bands_keep_level(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / 'enmap'
    folder.mkdir()
    for tile in sorted((shared_data / 'enmap_potsdam' / 'images').glob('*.tif'))[:3]:
        (folder / tile.name).symlink_to(tile)
    dm = MixedCubeFolderDataModule(
        folder, patch_size=16, val_fraction=0.0, augment=False
    )
    dm.setup('fit')
    (key,) = dm.groups
    assert len(key) == 218  # 224 EnMAP bands less the 6 bad (bbl) bands
    batch = next(iter(dm.train_dataloader()))
    assert batch['image'].shape[1:] == (218, 16, 16)
    assert 0.5 < float(batch['image'].mean()) < 1.5  # one scale for the sensor


def test_several_roots_recursive_and_excluded(tmp_path: Path) -> None:
    first, second = tmp_path / 'one', tmp_path / 'two'
    (first / 'sub').mkdir(parents=True)
    second.mkdir()
    write_geotiff(
        first / 'sub' / 'a.tif', cube(6, 8, 8), [450.0 + 50 * i for i in range(6)]
    )
    write_geotiff(second / 'b.tif', cube(4, 8, 8), [500.0 + 60 * i for i in range(4)])
    write_geotiff(second / 'skip_me.tif', cube(3, 8, 8), [500.0, 600.0, 700.0])
    flat = MixedCubeFolderDataModule([first, second], patch_size=4, exclude=['skip_*'])
    flat.setup('fit')
    assert [len(key) for key in flat.groups] == [4]  # a.tif is in a subfolder
    deep = MixedCubeFolderDataModule(
        [first, second], patch_size=4, recursive=True, exclude=['skip_*']
    )
    deep.setup('fit')
    assert sorted(len(key) for key in deep.groups) == [4, 6]
    with pytest.raises(ValueError, match='at least one folder'):
        MixedCubeFolderDataModule([])
