from pathlib import Path
from typing import Any

import pytest
import torch
from lightning.pytorch import Trainer
from task_helpers import TINY, TINY_MAE, Cubes, loader, quiet_trainer, wavelengths
from torchgeo.tasks import Classification

from torchgeo_spectral.models import BackboneMismatchError
from torchgeo_spectral.tasks import (
    SpectralClassificationTask,
    SpectralMAETask,
    SpectralPixelwiseRegressionTask,
    SpectralRegressionTask,
    SpectralSegmentationTask,
)


def _fit(task: Any, data: Cubes, steps: int = 1) -> Trainer:
    trainer = quiet_trainer(max_steps=steps, limit_val_batches=1)
    trainer.fit(task, loader(data), loader(data))
    return trainer


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A SpectralMAETask checkpoint and its exported encoder."""
    folder = tmp_path_factory.mktemp('pretrained')
    task = SpectralMAETask(**TINY_MAE)
    trainer = quiet_trainer(max_steps=1, limit_val_batches=0)
    trainer.fit(task, loader(Cubes(per_set=4)))
    ckpt = folder / 'mae.ckpt'
    trainer.save_checkpoint(ckpt)
    encoder = task.export_encoder(folder / 'encoder.pt')
    return {'ckpt': ckpt, 'encoder': encoder}


def _encoder_state(path: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    prefix = 'model.encoder.'
    return {
        k.removeprefix(prefix): v
        for k, v in ckpt['state_dict'].items()
        if k.startswith(prefix)
    }


@pytest.mark.parametrize('source', ['ckpt', 'encoder'])
def test_backbone_from_pretraining(pretrained: dict[str, Path], source: str) -> None:
    task = SpectralClassificationTask(
        **TINY, weights=str(pretrained[source]), num_classes=3
    )
    expected = _encoder_state(pretrained['ckpt'])
    state = task.model.backbone.state_dict()
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def test_linear_probe_trains_head_only(pretrained: dict[str, Path]) -> None:
    task = SpectralClassificationTask(
        **TINY, weights=str(pretrained['ckpt']), num_classes=3, freeze_backbone=True
    )
    trainable = {n for n, p in task.model.named_parameters() if p.requires_grad}
    assert trainable == {'head.1.weight', 'head.1.bias'}
    assert isinstance(task.model.head[0], torch.nn.BatchNorm1d)
    assert not task.model.head[0].affine
    before = {n: p.clone() for n, p in task.model.named_parameters()}
    _fit(task, Cubes(per_set=8), steps=2)
    after = dict(task.model.named_parameters())
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed == {'head.1.weight', 'head.1.bias'}


def test_full_finetune_classification_two_sensors() -> None:
    task = SpectralClassificationTask(**TINY, num_classes=3)
    embed = task.model.backbone.patch_embed
    before = [p.clone() for p in embed.parameters()]
    _fit(task, Cubes((wavelengths(12), wavelengths(5, 450, 900)), per_set=4), steps=2)
    assert any(not torch.equal(b, a) for b, a in zip(before, embed.parameters()))


def test_segmentation(pretrained: dict[str, Path]) -> None:
    task = SpectralSegmentationTask(
        **TINY, weights=str(pretrained['encoder']), num_classes=3, freeze_backbone=True
    )
    x = torch.rand(2, 12, 16, 16)
    assert task(x, wavelengths(12)).shape == (2, 3, 16, 16)
    assert not any(p.requires_grad for p in task.model.backbone.parameters())
    _fit(task, Cubes(per_set=4))


def test_regression_tasks() -> None:
    data = Cubes(per_set=4)
    for sample in data.samples:
        sample['label'] = sample['target'].squeeze()
        sample['mask'] = sample['image'][:1].clone()
    _fit(SpectralRegressionTask(**TINY, num_outputs=1), data)
    _fit(SpectralPixelwiseRegressionTask(**TINY), data)


def test_mismatched_grouping_is_rejected(pretrained: dict[str, Path]) -> None:
    other = {**TINY, 'bands_per_token': 2}
    for source in ('ckpt', 'encoder'):
        with pytest.raises(BackboneMismatchError, match='bands_per_token'):
            SpectralClassificationTask(
                **other, weights=str(pretrained[source]), num_classes=3
            )


def test_mismatched_architecture_is_rejected(pretrained: dict[str, Path]) -> None:
    other = {**TINY, 'embed_dim': 64}
    fix = f'checkpoint settings embed_dim={TINY["embed_dim"]}'
    with pytest.raises(BackboneMismatchError, match=fix):
        SpectralSegmentationTask(
            **other, weights=str(pretrained['ckpt']), num_classes=3
        )


def test_pooled_token_mode_pretraining_fine_tunes(tmp_path: Path) -> None:
    pooled = {**TINY, 'token_mode': 'pooled'}
    mae = SpectralMAETask(**TINY_MAE, token_mode='pooled')
    encoder = mae.export_encoder(tmp_path / 'pooled.pt')
    task = SpectralClassificationTask(**pooled, weights=str(encoder), num_classes=3)
    assert task.model.backbone.spectral_pool is not None
    state = task.model.backbone.state_dict()
    for key, value in mae.encoder.state_dict().items():
        assert torch.equal(state[key], value), key
    _fit(task, Cubes(per_set=4))
    with pytest.raises(BackboneMismatchError, match='token_mode'):
        SpectralClassificationTask(**TINY, weights=str(encoder), num_classes=3)


def test_not_a_pretraining_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / 'other.ckpt'
    torch.save(
        {'state_dict': {'model.weight': torch.zeros(1)}, 'hyper_parameters': {}}, path
    )
    with pytest.raises(BackboneMismatchError, match='no SpectralMAE encoder'):
        SpectralClassificationTask(**TINY, weights=str(path), num_classes=3)


def test_unknown_model() -> None:
    with pytest.raises(ValueError, match=r'valid models: .*spectral_vit_base'):
        SpectralSegmentationTask(model='vit_small_patch16_224', num_classes=3)


def test_default_wavelengths_for_plain_batches() -> None:
    task = SpectralClassificationTask(**TINY, num_classes=3, sensor='enmap')
    assert task(torch.rand(1, 224, 8, 8)).shape == (1, 3)


def test_stock_torchgeo_classification_with_timm_name() -> None:
    task = Classification(
        model='spectral_vit_tiny.enmap', in_channels=224, num_classes=6
    )
    assert task(torch.rand(1, 224, 16, 16)).shape == (1, 6)


def test_checkpoint_of_a_plain_trainer_records_its_task_class(
    pretrained: dict[str, Path],
) -> None:
    from torchgeo_spectral.inference import load_task

    ckpt = torch.load(pretrained['ckpt'], map_location='cpu', weights_only=True)
    assert ckpt['task_class_path'] == 'torchgeo_spectral.tasks.pretrain.SpectralMAETask'
    assert '_class_path' not in ckpt['hyper_parameters']
    task, _ = load_task(pretrained['ckpt'])
    assert isinstance(task, SpectralMAETask)
