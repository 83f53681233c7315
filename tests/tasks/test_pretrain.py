from pathlib import Path

import pytest
import torch
from lightning.pytorch import Trainer
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from task_helpers import TINY_MAE, BySensor, Cubes, loader, wavelengths
from torch.utils.data import DataLoader

from torchgeo_spectral.models import available_models
from torchgeo_spectral.tasks import SpectralMAETask, WavelengthError


def _trainer(tmp_path: Path, **kwargs: object) -> Trainer:
    options: dict[str, object] = {
        'accelerator': 'cpu',
        'max_steps': 2,
        'limit_val_batches': 1,
        'num_sanity_val_steps': 0,
        'enable_progress_bar': False,
        'enable_model_summary': False,
        'enable_checkpointing': False,
        'logger': CSVLogger(tmp_path, name='logs', version=0),
        'default_root_dir': tmp_path,
        'log_every_n_steps': 1,
    }
    options.update(kwargs)
    return Trainer(**options)  # type: ignore[arg-type]


def test_pretrain_mixed_sensors_logs_losses_and_figures(tmp_path: Path) -> None:
    # Two sensors (12 VNIR-SWIR bands and 7 VNIR bands), never mixed in a batch.
    sets = (wavelengths(12), wavelengths(7, 400, 1000))
    data = Cubes(sets, per_set=4)
    train = DataLoader(data, batch_sampler=BySensor(4, 2, 2))
    task = SpectralMAETask(**TINY_MAE, warmup_steps=1)
    trainer = _trainer(tmp_path, max_steps=4)
    trainer.fit(task, train, DataLoader(data, batch_size=2))
    assert trainer.global_step == 4
    metrics = (tmp_path / 'logs' / 'version_0' / 'metrics.csv').read_text()
    assert 'train_loss' in metrics
    assert 'val_loss' in metrics
    figures = list((tmp_path / 'logs' / 'version_0' / 'figures').glob('*.png'))
    assert figures, 'a PNG figure is written when no logger takes figures'


def test_figure_goes_to_tensorboard(tmp_path: Path) -> None:
    data = Cubes(per_set=4)
    task = SpectralMAETask(**TINY_MAE)
    logger = TensorBoardLogger(tmp_path, name='tb', version=0)
    trainer = _trainer(tmp_path, max_steps=1, logger=logger)
    trainer.fit(task, loader(data), loader(data))
    events = list((tmp_path / 'tb' / 'version_0').glob('events.out.tfevents*'))
    assert events
    assert events[0].stat().st_size > 10_000
    assert not (tmp_path / 'tb' / 'version_0' / 'figures').exists()


def test_wavelength_count_mismatch_fails_before_training(tmp_path: Path) -> None:
    from lightning.pytorch import LightningDataModule

    batch = {
        'image': torch.rand(2, 12, 16, 16),
        'wavelength': wavelengths(11).expand(2, 11),
    }

    class Module(LightningDataModule):
        def train_dataloader(self) -> DataLoader[dict[str, torch.Tensor]]:
            return DataLoader([batch], batch_size=None)

    task = SpectralMAETask(**TINY_MAE)
    before = [p.detach().clone() for p in task.parameters()]
    trainer = _trainer(tmp_path, num_sanity_val_steps=0)
    with pytest.raises(ValueError, match=r'first training batch .*12') as info:
        trainer.fit(task, datamodule=Module())
    assert '11' in str(info.value)
    assert trainer.global_step == 0
    after = list(task.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_batch_without_wavelengths_fails_before_training(tmp_path: Path) -> None:
    from lightning.pytorch import LightningDataModule

    class Module(LightningDataModule):
        def train_dataloader(self) -> DataLoader[dict[str, torch.Tensor]]:
            return DataLoader([{'image': torch.rand(2, 12, 16, 16)}], batch_size=None)

    trainer = _trainer(tmp_path, num_sanity_val_steps=0)
    with pytest.raises(WavelengthError, match="no 'wavelength' key"):
        trainer.fit(SpectralMAETask(**TINY_MAE), datamodule=Module())
    assert trainer.global_step == 0


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(ValueError, match='spectral_vit_small') as info:
        SpectralMAETask(model='spectral_vit_huge')
    assert 'unknown model' in str(info.value)
    assert 'spectral_vit_tiny' in available_models()


def test_bad_hyperparameters() -> None:
    with pytest.raises(ValueError, match='spatial_mask_ratio'):
        SpectralMAETask(**TINY_MAE, spatial_mask_ratio=1.0)
    with pytest.raises(ValueError, match='optimizer'):
        SpectralMAETask(**TINY_MAE, optimizer='lbfgs')  # type: ignore[arg-type]


def test_warmup_cosine_schedule(tmp_path: Path) -> None:
    task = SpectralMAETask(**TINY_MAE, lr=1e-2, warmup_steps=2, optimizer='sgd')
    trainer = _trainer(tmp_path, max_steps=4, limit_val_batches=0)
    lrs: list[float] = []

    from lightning.pytorch.callbacks import Callback

    class LrSpy(Callback):
        def on_train_batch_start(self, trainer: Trainer, *args: object) -> None:
            lrs.append(trainer.optimizers[0].param_groups[0]['lr'])

    trainer.callbacks.append(LrSpy())
    trainer.fit(task, loader(Cubes(per_set=8), batch_size=2))
    assert lrs[0] < lrs[1] < lrs[2]  # warmup
    assert lrs[2] == pytest.approx(1e-2)
    assert lrs[3] < lrs[2]  # cosine decay


def test_export_encoder(tmp_path: Path) -> None:
    task = SpectralMAETask(**TINY_MAE)
    path = task.export_encoder(tmp_path / 'encoder.pt')
    assert path.is_file()


def test_material_term_trains_a_head_on_batches_with_a_mask(tmp_path: Path) -> None:
    data = Cubes(per_set=4, num_classes=3)
    task = SpectralMAETask(**TINY_MAE, material_classes=3, material_pixels=5)
    assert task.material_head is not None
    before = task.material_head.weight.detach().clone()
    trainer = _trainer(tmp_path, max_steps=2)
    trainer.fit(task, loader(data, batch_size=2), loader(data, batch_size=2))
    assert not torch.equal(before, task.material_head.weight)
    metrics = (tmp_path / 'logs' / 'version_0' / 'metrics.csv').read_text()
    assert 'train_material_loss' in metrics
    assert 'val_material_loss' in metrics
    # Without the term there is no head.
    assert SpectralMAETask(**TINY_MAE).material_head is None


def test_material_loss_is_the_cross_entropy_of_single_pixels() -> None:
    task = SpectralMAETask(**{**TINY_MAE, 'patch_size': 1}, material_classes=3)
    x = torch.rand(2, 12, 4, 4)
    wl = wavelengths(12)
    mask = torch.randint(0, 3, (2, 4, 4))
    task.hparams['material_pixels'] = 16  # every pixel: the order cannot matter
    loss = task.material_loss(x, wl, mask)
    pixels = x.permute(0, 2, 3, 1).reshape(32, 12, 1, 1)
    encoder, head = task.encoder, task.material_head
    assert head is not None
    logits = head(encoder(pixels, wl))
    expected = torch.nn.functional.cross_entropy(logits, mask.reshape(-1))
    torch.testing.assert_close(loss, expected)
    # Patch tokens: each cell is labelled with its most frequent class.
    patches = SpectralMAETask(**TINY_MAE, material_classes=3, material_pixels=1)
    cells = torch.zeros(1, 16, 16, dtype=torch.long)
    cells[0, :4, :4] = 2
    cells[0, 0, 0] = 1
    generator = torch.Generator().manual_seed(0)
    assert patches.material_loss(torch.rand(1, 12, 16, 16), wl, cells, generator) > 0


def test_material_class_out_of_range_is_named() -> None:
    task = SpectralMAETask(**{**TINY_MAE, 'patch_size': 1}, material_classes=3)
    mask = torch.full((1, 4, 4), 5)
    with pytest.raises(ValueError, match=r'classes 5\.\.5, expected 0\.\.2'):
        task.material_loss(torch.rand(1, 12, 4, 4), wavelengths(12), mask)
    with pytest.raises(ValueError, match='material_classes > 0'):
        SpectralMAETask(**TINY_MAE).material_loss(
            torch.rand(1, 12, 4, 4), wavelengths(12), mask
        )
    with pytest.raises(ValueError, match='material_pixels >= 1'):
        SpectralMAETask(**TINY_MAE, material_classes=3, material_pixels=0)
    with pytest.raises(ValueError, match='material_min_bands >= 1'):
        SpectralMAETask(**TINY_MAE, material_classes=3, material_min_bands=0)


def test_material_term_skips_batches_with_too_few_bands() -> None:
    task = SpectralMAETask(**TINY_MAE, material_classes=3, material_min_bands=12)
    mask = torch.zeros(2, 16, 16, dtype=torch.long)
    assert task.has_materials({'image': torch.rand(2, 12, 16, 16), 'mask': mask})
    assert not task.has_materials({'image': torch.rand(2, 11, 16, 16), 'mask': mask})
    assert not task.has_materials({'image': torch.rand(2, 12, 16, 16)})
    assert not SpectralMAETask(**TINY_MAE).has_materials(
        {'image': torch.rand(2, 12, 16, 16), 'mask': mask}
    )
    # Checkpoints of earlier versions score every batch with a mask.
    del task.hparams['material_min_bands']
    assert task.has_materials({'image': torch.rand(2, 3, 16, 16), 'mask': mask})


def test_training_skips_the_material_term_below_min_bands(tmp_path: Path) -> None:
    data = Cubes(per_set=4, num_classes=3)  # 12 bands
    task = SpectralMAETask(**TINY_MAE, material_classes=3, material_min_bands=13)
    assert task.material_head is not None
    before = task.material_head.weight.detach().clone()
    trainer = _trainer(tmp_path, max_steps=2)
    trainer.fit(task, loader(data, batch_size=2), loader(data, batch_size=2))
    assert torch.equal(before, task.material_head.weight)
    metrics = (tmp_path / 'logs' / 'version_0' / 'metrics.csv').read_text()
    assert 'train_loss' in metrics
    assert 'material_loss' not in metrics
