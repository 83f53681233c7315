"""Tiny models and random spectral cubes for the task tests (imported by them)."""

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from lightning.pytorch import Trainer
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

#: Architecture arguments of a tiny spectral ViT (fast on CPU).
TINY: dict[str, Any] = {
    'model': 'spectral_vit_tiny',
    'patch_size': 4,
    'bands_per_token': 4,
    'embed_dim': 32,
    'depth': 1,
    'num_heads': 2,
}
TINY_MAE: dict[str, Any] = {
    **TINY,
    'decoder_embed_dim': 32,
    'decoder_depth': 1,
    'decoder_num_heads': 2,
}


def wavelengths(count: int, start: float = 420.0, stop: float = 2400.0) -> Tensor:
    return torch.linspace(start, stop, count)


class Cubes(Dataset[dict[str, Tensor]]):
    """Random cubes from one or more band sets, with class and pixel labels."""

    def __init__(
        self,
        band_sets: Sequence[Tensor] = (wavelengths(12),),
        per_set: int = 8,
        size: int = 16,
        num_classes: int = 3,
        seed: int = 0,
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.samples = []
        for wl in band_sets:
            for _ in range(per_set):
                image = torch.rand(len(wl), size, size, generator=gen)
                mask = torch.randint(0, num_classes, (size, size), generator=gen)
                self.samples.append(
                    {
                        'image': image,
                        'wavelength': wl.clone(),
                        'mask': mask,
                        'label': mask[size // 2, size // 2].clone(),
                        'target': image.mean().reshape(1),
                    }
                )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return self.samples[index]


class BySensor(Sampler[list[int]]):
    """Batches that each hold samples of one band set (sets alternate)."""

    def __init__(self, per_set: int, num_sets: int, batch_size: int) -> None:
        self.per_set, self.num_sets, self.batch_size = per_set, num_sets, batch_size

    def __iter__(self) -> Iterator[list[int]]:
        for start in range(0, self.per_set, self.batch_size):
            for s in range(self.num_sets):
                base = s * self.per_set
                stop = min(start + self.batch_size, self.per_set)
                yield list(range(base + start, base + stop))

    def __len__(self) -> int:
        return self.num_sets * -(-self.per_set // self.batch_size)


def loader(dataset: Dataset[dict[str, Tensor]], batch_size: int = 4) -> DataLoader[Any]:
    return DataLoader(dataset, batch_size=batch_size)


def quiet_trainer(**kwargs: Any) -> Trainer:
    """A CPU Trainer without logger, checkpoints, progress bar or sanity steps.

    Args:
        **kwargs: Further ``Trainer`` arguments (e.g. ``max_steps=1``).

    Returns:
        The trainer.
    """
    options: dict[str, Any] = {
        'accelerator': 'cpu',
        'logger': False,
        'enable_checkpointing': False,
        'enable_progress_bar': False,
        'enable_model_summary': False,
        'num_sanity_val_steps': 0,
        **kwargs,
    }
    return Trainer(**options)
