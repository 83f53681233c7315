"""Batches that each hold one band set (sensor), for mixed-sensor pretraining."""

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler

__all__ = ['BandSetBatchSampler']


class BandSetBatchSampler(Sampler[list[int]]):
    """Batches drawn from one group (band set) at a time.

    Indices are shuffled within each group, cut into batches, and the batches of
    all groups are shuffled together (with ``shuffle``), deterministically for a
    seed and epoch. Under ``torch.distributed`` every rank takes every
    ``world_size``-th batch (the batch count is trimmed to a multiple).
    """

    def __init__(
        self,
        group_sizes: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        max_batches: int | None = None,
    ) -> None:
        """Initialize the sampler.

        Args:
            group_sizes: Number of samples of each group, in concatenation order.
            batch_size: Samples per batch.
            shuffle: Shuffle within groups and the batch order.
            seed: Seed of the shuffles.
            drop_last: Drop incomplete batches.
            max_batches: Most batches of one group per epoch, a fresh random
                subset each epoch with ``shuffle`` (None: all).
        """
        self.group_sizes = list(group_sizes)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.max_batches = max_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Change the shuffle of the next iteration (called by Lightning).

        Args:
            epoch: The epoch.
        """
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        """All batches of one epoch, before sharding across ranks.

        Returns:
            Lists of dataset indices.
        """
        rng = np.random.default_rng([self.seed, self.epoch])
        batches: list[list[int]] = []
        start = 0
        for size in self.group_sizes:
            order = start + (rng.permutation(size) if self.shuffle else np.arange(size))
            chunks = [
                order[i : i + self.batch_size].tolist()
                for i in range(0, size, self.batch_size)
            ]
            if self.drop_last:
                chunks = [c for c in chunks if len(c) == self.batch_size]
            batches += chunks[: self.max_batches]
            start += size
        batches += self.extra_batches(start)
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            world = torch.distributed.get_world_size()
            rank = torch.distributed.get_rank()
            batches = batches[: len(batches) - len(batches) % world][rank::world]
        return batches

    def extra_batches(self, start: int) -> list[list[int]]:
        """Batches beyond the groups, shuffled in with theirs (none here).

        Args:
            start: First dataset index after the groups.

        Returns:
            Lists of dataset indices.
        """
        return []

    def __iter__(self) -> Iterator[list[int]]:
        """Iterate over the batches of the current epoch."""
        yield from self._batches()

    def __len__(self) -> int:
        """Number of batches per epoch (on this rank)."""
        return len(self._batches())
