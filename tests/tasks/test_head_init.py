"""A pooled head initialized from the closed-form linear probe (head_init='probe')."""

from pathlib import Path
from typing import Any

import pytest
import torch
from task_helpers import TINY, Cubes, loader, quiet_trainer
from torch import nn

from torchgeo_spectral.models.heads import HeadNorm
from torchgeo_spectral.tasks import SpectralClassificationTask, SpectralRegressionTask
from torchgeo_spectral.tasks.head_init import fit_linear_probe, initialize_head

PIXEL = {**TINY, 'patch_size': 1, 'depth': 1}


def _train_accuracy(task: SpectralClassificationTask, data: Cubes) -> float:
    task.eval()
    with torch.no_grad():
        batch = next(iter(loader(data, batch_size=len(data))))
        logits = task(batch['image'], batch['wavelength'][0])
    return float((logits.argmax(1) == batch['label']).float().mean())


@pytest.mark.parametrize('head_norm', [False, True])
def test_probe_head_fits_the_training_labels_before_any_step(head_norm: bool) -> None:
    # lr = 0: the head after one step is the initialization itself. Random labels
    # of 8 samples are linearly separable in 32 feature dimensions: the probe
    # classifies them all, a random head about a third.
    data = Cubes(per_set=8, size=5)
    accuracy = {}
    for head_init in ('random', 'probe'):
        torch.manual_seed(0)
        task = SpectralClassificationTask(
            **PIXEL, num_classes=3, lr=0.0, head_init=head_init, head_norm=head_norm
        )
        quiet_trainer(max_steps=1).fit(task, loader(data))
        accuracy[head_init] = _train_accuracy(task, data)
    assert accuracy['probe'] == 1.0
    assert accuracy['random'] < 1.0


def test_probe_head_fits_regression_targets() -> None:
    data = Cubes(per_set=8, size=5)
    errors = {}
    for head_init in ('random', 'probe'):
        torch.manual_seed(0)
        task = SpectralRegressionTask(**PIXEL, lr=0.0, head_init=head_init)
        quiet_trainer(max_steps=1).fit(task, loader(data))
        batch = next(iter(loader(data, batch_size=len(data))))
        with torch.no_grad():
            predicted = task.eval()(batch['image'], batch['wavelength'][0])
        target = batch['label'].float().unsqueeze(1)  # the regression task's key
        errors[head_init] = float((predicted - target).square().mean())
    assert errors['probe'] < 0.1 * errors['random']


def test_probe_head_is_the_same_function_with_and_without_head_norm() -> None:
    torch.manual_seed(0)
    features = torch.randn(40, 6) * torch.tensor([10.0, 1, 1, 0.1, 3, 1]) + 5
    labels = torch.randint(0, 3, (40,))
    heads = [
        nn.Sequential(norm, nn.Linear(6, 3)) for norm in (nn.Identity(), HeadNorm(6))
    ]
    for head in heads:
        initialize_head(
            head, features, lambda y: nn.functional.cross_entropy(y, labels)
        )
        head.eval()
    assert torch.allclose(heads[0](features), heads[1](features), atol=1e-4)


def test_probe_matches_the_ridge_least_squares_solution() -> None:
    torch.manual_seed(0)
    x = torch.randn(50, 4, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]], dtype=torch.float64) + 3
    weight, bias = fit_linear_probe(
        x, lambda out: (out - y).square().mean(), out_features=1, l2=0.02
    )
    # normal equations of mean squared error + l2 / 2 |w|^2, bias unpenalized
    design = torch.cat([x, torch.ones(50, 1, dtype=x.dtype)], dim=1)
    penalty = torch.diag(torch.tensor([0.01] * 4 + [0.0], dtype=x.dtype)) * 50
    exact = torch.linalg.solve(design.T @ design + penalty, design.T @ y)
    assert torch.allclose(weight.flatten(), exact[:4, 0], atol=1e-5)
    assert torch.allclose(bias, exact[4], atol=1e-5)


def test_probe_refuses_non_finite_features() -> None:
    features = torch.randn(4, 3)
    features[0, 0] = float('nan')
    with pytest.raises(
        ValueError, match='features of 1 of 4 training samples are not finite'
    ):
        initialize_head(
            nn.Sequential(nn.Identity(), nn.Linear(3, 2)),
            features,
            lambda y: nn.functional.cross_entropy(y, torch.tensor([0, 1, 0, 1])),
        )


def test_unknown_head_init_is_refused() -> None:
    with pytest.raises(ValueError, match="head_init must be 'random' or 'probe'"):
        SpectralClassificationTask(**PIXEL, num_classes=3, head_init='lstsq')


def test_resumed_fit_keeps_its_trained_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = SpectralClassificationTask.initialize_head_from_probe

    def counted(self: Any) -> None:
        calls.append(self.trainer.global_step)
        original(self)

    monkeypatch.setattr(
        SpectralClassificationTask, 'initialize_head_from_probe', counted
    )
    data = Cubes(per_set=8, size=5)
    task = SpectralClassificationTask(**PIXEL, num_classes=3, head_init='probe')
    trainer = quiet_trainer(max_steps=1)
    trainer.fit(task, loader(data))
    trainer.save_checkpoint(tmp_path / 'step1.ckpt')
    resumed = SpectralClassificationTask(**PIXEL, num_classes=3, head_init='probe')
    quiet_trainer(max_steps=2).fit(
        resumed, loader(data), ckpt_path=tmp_path / 'step1.ckpt'
    )
    assert calls == [0]
