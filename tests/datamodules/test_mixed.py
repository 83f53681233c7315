import sys
from pathlib import Path

import pytest
import torch

from torchgeo_spectral.datamodules import BandSetBatchSampler, MixedCubeFolderDataModule

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from synthetic import cube, write_envi, write_geotiff


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
    with pytest.raises(ValueError, match=r'no readable cube .*broken\.tif'):
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
