"""Two-process DDP pretraining on CPU (gloo); each rank writes its weights' hash.

Run by tests/tasks/test_distributed.py as ``python ddp_worker.py OUT_DIR``.
"""

import hashlib
import sys
from pathlib import Path

import torch
from lightning.pytorch import Trainer, seed_everything
from task_helpers import TINY_MAE, Cubes

from torchgeo_spectral.tasks import SpectralMAETask


def main(out: Path) -> None:
    seed_everything(0)
    task = SpectralMAETask(**TINY_MAE, mask_seed=1, lr=1e-2)
    trainer = Trainer(
        accelerator='cpu',
        strategy='ddp',
        devices=2,
        max_steps=2,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    data = torch.utils.data.DataLoader(Cubes(per_set=8), batch_size=2)
    trainer.fit(task, data)
    digest = hashlib.sha256()
    for name, value in task.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().cpu().numpy().tobytes())
    rank = trainer.global_rank
    (out / f'rank{rank}.txt').write_text(f'{trainer.global_step} {digest.hexdigest()}')


if __name__ == '__main__':
    main(Path(sys.argv[1]))
