"""A data loader that resumes exactly mid-epoch from a Lightning checkpoint.

Lightning saves the state of data loaders that implement ``state_dict`` and
``load_state_dict`` in its checkpoints and restores it when fitting resumes
(``trainer.fit(..., ckpt_path=...)``). :class:`ResumableDataLoader` shuffles
with a seed per epoch and records how many batches of the current epoch the
training loop has taken, so that a run stopped mid-epoch continues with the
very next batch: together with deterministic training (and, for
:class:`~torchgeo_spectral.tasks.SpectralMAETask`, ``mask_seed``), the resumed
run reaches the same weights as an uninterrupted one.
"""

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class EpochSeededSampler(Sampler[int]):
    """Indices in a fixed order per epoch (seeded shuffle), from an offset.

    Attributes:
        epoch: Current epoch (Lightning calls :meth:`set_epoch`).
        start: Number of leading indices to skip in the next iteration.
    """

    def __init__(self, size: int, shuffle: bool = True, seed: int = 0) -> None:
        """Initialise the sampler.

        Args:
            size: Dataset length.
            shuffle: Shuffle the indices (otherwise keep their order).
            seed: Seed; epoch ``e`` uses the permutation of seed ``seed + e``.
        """
        self.size = size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order the next iteration follows.

        Args:
            epoch: The epoch.
        """
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        """Iterate over the indices of the current epoch from ``start``."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        start, self.start = self.start, 0
        yield from order[start:]

    def __len__(self) -> int:
        """Dataset length (the full epoch)."""
        return self.size


class ResumableDataLoader(DataLoader[Any]):
    """A :class:`~torch.utils.data.DataLoader` with Lightning-resumable position.

    The loader has a length, so Lightning fetches no batch ahead of the training
    loop: the batches produced in the current epoch are the batches trained on.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        batch_size: int = 1,
        shuffle: bool = True,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        """Initialise the loader.

        Args:
            dataset: The dataset.
            batch_size: Samples per batch.
            shuffle: Shuffle per epoch (seeded).
            seed: Shuffle seed.
            **kwargs: Other :class:`~torch.utils.data.DataLoader` arguments
                (not ``sampler``, ``batch_sampler`` or ``shuffle``).
        """
        sampler = EpochSeededSampler(len(dataset), shuffle, seed)  # type: ignore[arg-type]
        super().__init__(dataset, batch_size=batch_size, sampler=sampler, **kwargs)
        self._yielded = 0
        self._skip = 0

    @property
    def seeded_sampler(self) -> EpochSeededSampler:
        """The loader's sampler (set at construction)."""
        sampler = self.sampler
        if not isinstance(sampler, EpochSeededSampler):
            raise TypeError('ResumableDataLoader needs its EpochSeededSampler')
        return sampler

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        """Iterate over the epoch's batches, skipping those already trained on."""
        skip, self._skip = self._skip, 0
        self.seeded_sampler.start = skip * int(self.batch_size or 1)
        self._yielded = skip
        for batch in super().__iter__():
            self._yielded += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        """Position in the current epoch.

        Returns:
            ``{'epoch', 'batches'}``: the epoch and the batches consumed by the
            training loop in it.
        """
        return {'epoch': self.seeded_sampler.epoch, 'batches': self._yielded}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        """Continue from a saved position at the next iteration.

        Args:
            state_dict: A dict from :meth:`state_dict`.
        """
        self.seeded_sampler.set_epoch(int(state_dict['epoch']))
        self._skip = int(state_dict['batches'])
