"""The few-label fine-tuning recipe of the Spectral*Task classes."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning
import pytest
import torch
from jsonargparse import ArgumentParser
from lightning.pytorch import Callback, Trainer
from task_helpers import TINY, Cubes, loader, quiet_trainer
from timm.layers import DropPath

from torchgeo_spectral.tasks import (
    SpectralClassificationTask,
    SpectralMAETask,
    SpectralPixelwiseRegressionTask,
    SpectralRegressionTask,
    SpectralSegmentationTask,
)
from torchgeo_spectral.tasks.optim import encoder_layer_id, parameter_groups

DEEP = {**TINY, 'depth': 2}


def _attach(task: Any, steps: int) -> None:
    """Let configure_optimizers see a run of ``steps`` optimizer steps."""
    task._trainer = SimpleNamespace(
        estimated_stepping_batches=steps, max_steps=steps, max_epochs=None
    )


def _groups(task: Any) -> list[dict[str, Any]]:
    """Optimizer groups of a task attached to a short run."""
    _attach(task, steps=10)
    config = task.configure_optimizers()
    return list(config['optimizer'].param_groups)


def test_defaults_in_every_task() -> None:
    for cls, extra in [
        (SpectralClassificationTask, {'num_classes': 3}),
        (SpectralSegmentationTask, {'num_classes': 3}),
        (SpectralRegressionTask, {}),
        (SpectralPixelwiseRegressionTask, {}),
    ]:
        hp = cls(**TINY, **extra).hparams
        assert hp['model'] == 'spectral_vit_tiny', cls
        assert hp['patch_size'] == TINY['patch_size'], cls
        assert hp['layer_decay'] == 0.75, cls
        assert hp['backbone_lr_scale'] == 0.1, cls
        assert hp['weight_decay'] == 0.05, cls
        assert hp['warmup_fraction'] == 0.1, cls
        assert hp['drop_path_rate'] == 0.1, cls
        assert hp['probe_epochs'] == 0, cls
    assert SpectralClassificationTask(**TINY, num_classes=3).hparams[
        'label_smoothing'
    ] == pytest.approx(0.1)


def test_no_weight_decay_on_norms_biases_embeddings() -> None:
    task = SpectralClassificationTask(**DEEP, num_classes=3)
    names = {id(p): n for n, p in task.model.named_parameters()}
    for group in _groups(task):
        for param in group['params']:
            if param.ndim <= 1:
                assert group['weight_decay'] == 0.0, names[id(param)]
            else:
                assert group['weight_decay'] == 0.05, names[id(param)]


def test_layer_decay_and_encoder_scale() -> None:
    task = SpectralClassificationTask(**DEEP, num_classes=3, lr=1e-3)
    lr_of = {}
    for group in _groups(task):
        for param in group['params']:
            lr_of[id(param)] = group['initial_lr']
    model = task.model
    head = lr_of[id(model.head[1].weight)]
    top = lr_of[id(model.backbone.norm.weight)]
    block1 = lr_of[id(model.backbone.blocks[1].mlp.fc1.weight)]
    block0 = lr_of[id(model.backbone.blocks[0].mlp.fc1.weight)]
    embed = lr_of[id(model.backbone.patch_embed.bases)]
    assert head == pytest.approx(1e-3)
    assert top == pytest.approx(1e-4)
    assert block1 == pytest.approx(1e-4 * 0.75)
    assert block0 == pytest.approx(1e-4 * 0.75**2)
    assert embed == pytest.approx(1e-4 * 0.75**3)


def test_encoder_layer_ids() -> None:
    assert encoder_layer_id('patch_embed.proj.weight', 12) == 0
    assert encoder_layer_id('spectral_embed.mlp.0.weight', 12) == 0
    assert encoder_layer_id('blocks.0.attn.qkv.weight', 12) == 1
    assert encoder_layer_id('blocks.11.norm1.weight', 12) == 12
    assert encoder_layer_id('norm.weight', 12) == 13


def test_parameter_groups_without_encoder() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    groups = parameter_groups(model, 0.1, 1e-2)
    decay = {g['weight_decay']: len(g['params']) for g in groups}
    assert decay == {0.1: 1, 0.0: 3}
    assert all(g['lr'] == pytest.approx(1e-2) for g in groups)


def test_warmup_then_cosine_per_step() -> None:
    task = SpectralClassificationTask(**TINY, num_classes=3, lr=1e-3)
    _attach(task, steps=10)
    config = task.configure_optimizers()
    scheduler = config['lr_scheduler']['scheduler']
    assert config['lr_scheduler']['interval'] == 'step'
    head = -1
    rates = []
    for _ in range(10):
        rates.append(scheduler.get_last_lr()[head])
        config['optimizer'].step()
        scheduler.step()
    assert rates[0] < 1e-5
    assert max(rates) == pytest.approx(1e-3, rel=1e-3)
    assert rates[-1] < rates[2]


def test_drop_path() -> None:
    task = SpectralClassificationTask(**DEEP, num_classes=3, drop_path_rate=0.2)
    last = task.model.backbone.blocks[-1].drop_path1
    assert isinstance(last, DropPath)
    assert last.drop_prob == pytest.approx(0.2)


def test_label_smoothing_and_class_weights() -> None:
    task = SpectralClassificationTask(
        **TINY, num_classes=3, label_smoothing=0.2, class_weights=[1.0, 2.0, 3.0]
    )
    assert task.criterion.label_smoothing == pytest.approx(0.2)
    assert torch.equal(task.criterion.weight, torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match='expected 3 values'):
        SpectralClassificationTask(**TINY, num_classes=3, class_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="loss='ce' only"):
        SpectralSegmentationTask(
            **TINY, num_classes=3, loss='focal', class_weights='balanced'
        )


def test_balanced_class_weights_from_training_batches() -> None:
    data = Cubes(per_set=8)
    labels = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1])
    for sample, label in zip(data.samples, labels, strict=True):
        sample['label'] = label
    task = SpectralClassificationTask(**TINY, num_classes=3, class_weights='balanced')
    quiet_trainer(max_steps=1).fit(task, loader(data))
    # n / (K * n_k): 8 / (3 * 6) and 8 / (3 * 2); the absent class keeps 1.
    expected = torch.tensor([8 / 18, 8 / 6, 1.0])
    assert torch.allclose(task.criterion.weight, expected)


class _EncoderAfterEachEpoch(Callback):
    def __init__(self) -> None:
        self.weights: list[torch.Tensor] = []

    def on_train_epoch_end(self, trainer: Trainer, pl_module: Any) -> None:
        self.weights.append(pl_module.model.backbone.patch_embed.bases.clone())


def test_probe_then_finetune_without_validation_loader() -> None:
    """Issue 12: no ReduceLROnPlateau waiting for a val_loss that never comes."""
    task = SpectralClassificationTask(**TINY, num_classes=3, probe_epochs=1)
    before = task.model.backbone.patch_embed.bases.clone()
    head = task.model.head[1].weight.clone()
    record = _EncoderAfterEachEpoch()
    trainer = quiet_trainer(max_epochs=2, callbacks=[record])
    trainer.fit(task, loader(Cubes(per_set=4)))
    assert trainer.current_epoch == 2
    assert torch.equal(before, record.weights[0])  # probe epoch: encoder fixed
    assert not torch.equal(record.weights[0], record.weights[1])
    assert not torch.equal(head, task.model.head[1].weight)
    # Nothing is frozen: distributed strategies see the same parameters throughout.
    assert all(p.requires_grad for p in task.model.parameters())


def test_options_settable_from_yaml() -> None:
    """LightningCLI (jsonargparse) sees the arguments declared in the mix-ins."""
    parser = ArgumentParser()
    parser.add_class_arguments(SpectralPixelwiseRegressionTask, 'model')
    config = parser.parse_string(
        'model:\n  layer_decay: 0.5\n  num_outputs: 4\n  patch_size: 2\n'
        '  output_activation: softmax\n  head_channels: 8\n  ignore_value: -1\n'
    )
    options = config.model.as_dict()
    assert options['layer_decay'] == 0.5
    assert options['num_outputs'] == 4
    assert options['output_activation'] == 'softmax'
    assert options['head_channels'] == 8
    assert options['model'] == 'spectral_vit_tiny'
    parser = ArgumentParser()
    parser.add_class_arguments(SpectralClassificationTask, 'model')
    config = parser.parse_string(
        'model:\n  class_weights: balanced\n  pool: center\n  probe_blocks: 2\n'
    )
    assert config.model.class_weights == 'balanced'
    assert config.model.pool == 'center'
    parser = ArgumentParser()
    parser.add_class_arguments(SpectralMAETask, 'model')
    config = parser.parse_string('model:\n  patch_size: 2\n  sensor: enmap\n')
    assert config.model.patch_size == 2
    assert config.model.sensor == 'enmap'
    assert config.model.decoder_depth == 2


def test_checkpoint_round_trip_keeps_recipe_and_weights(tmp_path: Path) -> None:
    task = SpectralClassificationTask(
        **TINY, num_classes=3, class_weights='balanced', pool='center'
    )
    task.criterion.weight.copy_(torch.tensor([0.5, 2.0, 1.0]))
    path = tmp_path / 'task.ckpt'
    torch.save(
        {
            'state_dict': task.state_dict(),
            'hyper_parameters': dict(task.hparams),
            'pytorch-lightning_version': lightning.__version__,
        },
        path,
    )
    loaded = SpectralClassificationTask.load_from_checkpoint(path, weights_only=True)
    assert loaded.hparams['class_weights'] == 'balanced'
    assert loaded.hparams['pool'] == 'center'
    assert torch.equal(loaded.criterion.weight, torch.tensor([0.5, 2.0, 1.0]))
    x, wl = torch.rand(2, 12, 16, 16), torch.linspace(420, 2400, 12)
    assert torch.allclose(loaded.eval()(x, wl), task.eval()(x, wl))
