"""A run stopped mid-epoch and resumed from its checkpoint equals an uninterrupted run."""

from pathlib import Path

import pytest
import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from task_helpers import TINY_MAE, Cubes

from torchgeo_spectral.samplers import ResumableDataLoader
from torchgeo_spectral.tasks import SpectralMAETask

# 16 samples in batches of 4: 4 steps per epoch; 6 steps end mid-epoch 1.
TOTAL_STEPS = 6


class Crash(Callback):
    """Simulates a crash when a given step is about to start."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: object, batch: object, batch_idx: int
    ) -> None:
        if trainer.global_step == self.step:
            raise RuntimeError('simulated crash')


def _run(
    root: Path, crash_at: int | None = None, ckpt_path: str | None = None
) -> SpectralMAETask:
    seed_everything(0)
    task = SpectralMAETask(**TINY_MAE, mask_seed=7, warmup_steps=2, lr=1e-2)
    trainer = Trainer(
        accelerator='cpu',
        max_steps=TOTAL_STEPS,
        max_epochs=-1,
        limit_val_batches=0,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        callbacks=[
            ModelCheckpoint(dirpath=root, every_n_train_steps=1, save_last=True),
            *([Crash(crash_at)] if crash_at is not None else []),
        ],
        default_root_dir=root,
    )
    train = ResumableDataLoader(Cubes(per_set=16), batch_size=4, shuffle=True, seed=3)
    trainer.fit(task, train, ckpt_path=ckpt_path)
    assert trainer.global_step == TOTAL_STEPS
    return task


def test_resume_mid_epoch_matches_uninterrupted(tmp_path: Path) -> None:
    reference = _run(tmp_path / 'reference')
    with pytest.raises(RuntimeError, match='simulated crash'):
        _run(tmp_path / 'interrupted', crash_at=5)  # dies after step 5: mid-epoch 1
    last = tmp_path / 'interrupted' / 'last.ckpt'
    state = torch.load(last, map_location='cpu', weights_only=True)
    assert state['loops']['fit_loop']['state_dict']['combined_loader'] == [
        {'epoch': 1, 'batches': 1}
    ]
    resumed = _run(tmp_path / 'resumed', ckpt_path=str(last))
    for (name, a), b in zip(
        reference.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_loader_positions() -> None:
    loader = ResumableDataLoader(list(range(10)), batch_size=3, shuffle=True, seed=1)
    first = [b.tolist() for b in loader]
    again = [b.tolist() for b in loader]
    assert first == again  # same order while the epoch is unchanged
    loader.load_state_dict({'epoch': 0, 'batches': 2})
    assert [b.tolist() for b in loader] == first[2:]
    loader.sampler.set_epoch(1)  # type: ignore[attr-defined]
    assert [b.tolist() for b in loader] != first
