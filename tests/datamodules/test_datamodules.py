from pathlib import Path

import numpy as np
import pytest
import torch
from lightning.pytorch import Trainer
from synthetic import cube, write_envi, write_geotiff, write_mask

from torchgeo_spectral.datamodules import (
    HyperspectralRasterDataModule,
    HyperspectralSceneDataModule,
    ProximalHyperspectralDataModule,
    RunningBandStatistics,
    SpectralAugmentation,
    compute_band_statistics,
)
from torchgeo_spectral.datasets import IndianPines

SCENES = Path(__file__).resolve().parents[1] / 'data' / 'hyperspectral_scenes'
WAVES = [400.0, 500.0, 600.0, 700.0]


class DictDataset(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {'image': self.images[i], 'wavelength': torch.tensor([1.0, 2.0, 3.0])}


def test_streamed_statistics_match_numpy() -> None:
    gen = torch.Generator().manual_seed(0)
    images = (
        torch.randn(10, 3, 4, 5, generator=gen)
        * torch.tensor([1.0, 5.0, 0.1])[:, None, None]
        + torch.tensor([10.0, -3.0, 0.5])[:, None, None]
    )
    images[0, 1, 0, 0] = float('nan')
    stats = compute_band_statistics(DictDataset(images), batch_size=3)
    flat = images.transpose(0, 1).reshape(3, -1).numpy().astype(np.float64)
    assert np.allclose(stats.mean.numpy(), np.nanmean(flat, axis=1), atol=1e-5)
    assert np.allclose(stats.std.numpy(), np.nanstd(flat, axis=1), atol=1e-5)
    assert stats.count.tolist() == [200, 199, 200]
    assert stats.wavelength is not None
    limited = compute_band_statistics(DictDataset(images), batch_size=3, max_batches=1)
    assert limited.count.tolist()[0] == 60


def test_running_statistics_valid_mask_and_errors() -> None:
    running = RunningBandStatistics()
    with pytest.raises(ValueError, match='no samples'):
        running.result()
    image = torch.tensor([[[1.0, 100.0]], [[2.0, 200.0]]])  # (C=2, H=1, W=2)
    running.update(image, valid=torch.tensor([[True, False]]))
    stats = running.result()
    assert stats.mean.tolist() == [1.0, 2.0]
    assert stats.std.tolist() == [1.0, 1.0]  # constant band -> 1
    with pytest.raises(ValueError, match='band count changed'):
        running.update(torch.zeros(3, 1, 1))


def test_augmentation_keeps_wavelength_and_checks_bands() -> None:
    aug = SpectralAugmentation(torch.zeros(4), torch.ones(4) * 2, train=True)
    batch = {
        'image': torch.ones(2, 4, 6, 6),
        'mask': torch.zeros(2, 6, 6, dtype=torch.long),
        'valid': torch.ones(2, 6, 6, dtype=torch.bool),
        'wavelength': torch.tensor(WAVES).expand(2, 4),
    }
    batch['image'][0, 0, 0, 0] = float('nan')
    out = aug(batch)
    assert torch.allclose(out['image'][1], torch.full((4, 6, 6), 0.5))
    assert torch.isfinite(out['image']).all()
    assert out['valid'].dtype == torch.bool
    assert out['valid'].all()
    assert torch.equal(out['wavelength'], batch['wavelength'])
    with pytest.raises(ValueError, match='5 bands but the normalization'):
        aug({'image': torch.ones(1, 5, 2, 2)})


@pytest.fixture
def raster_dirs(tmp_path: Path) -> tuple[Path, Path]:
    images, labels = tmp_path / 'images', tmp_path / 'labels'
    images.mkdir()
    labels.mkdir()
    write_geotiff(images / 'scene.tif', cube(4, 48, 48), WAVES)
    write_mask(labels / 'scene.tif', (np.arange(48 * 48).reshape(48, 48) % 3))
    return images, labels


def test_raster_datamodule(raster_dirs: tuple[Path, Path]) -> None:
    images, labels = raster_dirs
    dm = HyperspectralRasterDataModule(
        images,
        label_paths=labels,
        batch_size=2,
        patch_size=8,
        length=4,
        grid_size=3,
        split_fractions=(0.6, 0.2, 0.2),
        stats_batches=2,
    )
    dm.setup('fit')
    assert dm.statistics is not None
    assert dm.statistics.mean.shape == (4,)
    batch = next(iter(dm.train_dataloader()))
    assert batch['image'].shape == (2, 4, 8, 8)
    assert batch['mask'].shape == (2, 8, 8)
    assert batch['wavelength'].shape == (2, 4)
    assert batch['bounds'].shape == (2, 9)
    val = next(iter(dm.val_dataloader()))
    assert val['image'].shape[1:] == (4, 8, 8)
    normalised = dm.aug(batch)
    assert torch.isfinite(normalised['image']).all()
    assert torch.equal(normalised['wavelength'], batch['wavelength'])


def test_raster_datamodule_files_split_and_errors(tmp_path: Path) -> None:
    for i in range(3):
        write_envi(tmp_path / f'tile{i}', cube(4, 16, 16, seed=i), WAVES)
    dm = HyperspectralRasterDataModule(
        tmp_path,
        split='files',
        split_fractions=(1 / 3, 1 / 3, 1 / 3),
        patch_size=8,
        length=2,
        mean=[0.0] * 4,
        std=[1.0] * 4,
    )
    dm.setup('fit')
    assert len(dm.train_dataset) == 1  # type: ignore[arg-type]
    assert dm.statistics is not None
    assert dm.statistics.std.tolist() == [1.0] * 4
    with pytest.raises(ValueError, match="split must be 'grid' or 'files'"):
        HyperspectralRasterDataModule(tmp_path, split='random')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='three values'):
        HyperspectralRasterDataModule(tmp_path, split_fractions=(0.5, 0.5))
    bad = HyperspectralRasterDataModule(tmp_path, mean=[0.0], split='files')
    with pytest.raises(ValueError, match='both mean= and std='):
        bad.setup('fit')


def test_scene_datamodule_and_trainer_hook() -> None:
    dm = HyperspectralSceneDataModule(
        'IndianPines', root=SCENES / 'IndianPines', batch_size=4, patch_size=3
    )
    dm.setup('fit')
    batch = next(iter(dm.train_dataloader()))
    assert batch['image'].shape == (4, 200, 3, 3)
    assert batch['label'].shape == (4,)
    assert batch['wavelength'].shape == (4, 200)
    sizes = [len(dm.train_dataset), len(dm.val_dataset), len(dm.test_dataset)]  # type: ignore[arg-type]
    assert sum(sizes) == len(IndianPines(SCENES / 'IndianPines'))
    again = HyperspectralSceneDataModule('IndianPines', root=SCENES / 'IndianPines')
    again.setup('fit')
    assert again.train_dataset.indices == dm.train_dataset.indices  # type: ignore[union-attr]
    trainer = Trainer(accelerator='cpu', logger=False, enable_checkpointing=False)
    dm.trainer = trainer
    trainer.state.stage = 'train'  # type: ignore[assignment]
    out = dm.on_after_batch_transfer(batch, 0)
    assert torch.equal(out['wavelength'], batch['wavelength'])
    assert out['image'].abs().mean() < 10
    tiles = HyperspectralSceneDataModule(
        'Botswana', root=SCENES / 'Botswana', mode='tile', tile_size=4, batch_size=2
    )
    tiles.setup('fit')
    assert next(iter(tiles.train_dataloader()))['mask'].shape == (2, 4, 4)
    with pytest.raises(ValueError, match="unknown scene 'Nowhere'"):
        HyperspectralSceneDataModule('Nowhere')


def test_proximal_datamodule(tmp_path: Path) -> None:
    for i in range(3):
        write_envi(tmp_path / f'k{i}', cube(4, 8, 8, seed=i), WAVES, interleave='bil')
    dm = ProximalHyperspectralDataModule(
        tmp_path, batch_size=2, patch_size=4, val_split_pct=0.25, test_split_pct=0.25
    )
    dm.setup('fit')
    batch = next(iter(dm.train_dataloader()))
    assert batch['image'].shape == (2, 4, 4, 4)
    assert batch['wavelength'].shape == (2, 4)
    with pytest.raises(ValueError, match='below 1'):
        ProximalHyperspectralDataModule(tmp_path, val_split_pct=0.5, test_split_pct=0.5)
