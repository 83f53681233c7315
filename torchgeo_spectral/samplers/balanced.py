"""Class-balanced sampling over dataset indices."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch.utils.data import Sampler


def balanced_draw(
    classes: NDArray[np.int64], num_samples: int, rng: np.random.Generator
) -> NDArray[np.intp]:
    """Draw item indices so that every class appears equally often.

    Each class gets ``num_samples // K`` draws (the remainder goes to randomly
    chosen classes). Within a class, items are drawn without replacement while
    the class has enough of them, and with replacement when it is rare. The
    result is shuffled.

    Args:
        classes: Class of every item (``(N,)``).
        num_samples: Number of indices to draw.
        rng: Random generator.

    Returns:
        ``(num_samples,)`` item indices.

    Raises:
        ValueError: If there are no items or ``num_samples`` is negative.
    """
    if len(classes) == 0:
        msg = 'cannot balance an empty set of items'
        raise ValueError(msg)
    if num_samples < 0:
        msg = f'num_samples must be >= 0, got {num_samples}'
        raise ValueError(msg)
    uniques = np.unique(classes)
    per_class = np.full(len(uniques), num_samples // len(uniques))
    extra = rng.choice(len(uniques), size=num_samples % len(uniques), replace=False)
    per_class[extra] += 1
    draws = []
    for cls, count in zip(uniques, per_class, strict=True):
        members = np.flatnonzero(classes == cls)
        replace = bool(count > len(members))
        draws.append(rng.choice(members, size=int(count), replace=replace))
    out = np.concatenate(draws).astype(np.intp)
    rng.shuffle(out)
    return out


class ClassBalancedSampler(Sampler[int]):
    """Sample dataset indices with every class equally represented.

    Use it as the ``sampler`` of a :class:`~torch.utils.data.DataLoader` over a
    dataset whose item ``i`` has class ``labels[i]`` (e.g. the patches of a
    benchmark scene around labelled pixels). Rare classes are drawn with
    replacement; frequent classes without replacement within an epoch. Each
    iteration (epoch) draws afresh from the sampler's generator, so a seed makes
    the whole sequence of epochs reproducible.
    """

    def __init__(
        self,
        labels: ArrayLike | torch.Tensor,
        num_samples: int | None = None,
        seed: int | None = None,
        ignore_index: int | None = None,
    ) -> None:
        """Initialise a new ClassBalancedSampler.

        Args:
            labels: Class of every dataset item, ``(N,)``.
            num_samples: Indices per epoch; defaults to the number of classes times
                the size of the largest class.
            seed: Seed of the generator (None for a random one).
            ignore_index: Class whose items are never drawn (e.g. 0, unlabelled).

        Raises:
            ValueError: If ``labels`` is not 1-D or no item is left to draw.
        """
        values = (
            labels.detach().cpu().numpy()
            if isinstance(labels, torch.Tensor)
            else np.asarray(labels)
        )
        if values.ndim != 1:
            msg = f'labels must be 1-D (one class per item), got shape {values.shape}'
            raise ValueError(msg)
        values = values.astype(np.int64)
        self.items: NDArray[np.intp] = np.arange(len(values), dtype=np.intp)
        if ignore_index is not None:
            self.items = self.items[values != ignore_index]
        if len(self.items) == 0:
            msg = 'no item left to sample (labels empty or all ignored)'
            raise ValueError(msg)
        self.classes: NDArray[np.int64] = values[self.items]
        _, sizes = np.unique(self.classes, return_counts=True)
        self.num_samples = (
            int(len(sizes) * sizes.max()) if num_samples is None else int(num_samples)
        )
        self.generator = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[int]:
        """Yield the dataset indices of one epoch.

        Yields:
            Dataset indices, classes equally represented.
        """
        draw = balanced_draw(self.classes, self.num_samples, self.generator)
        yield from self.items[draw].tolist()

    def __len__(self) -> int:
        """Number of indices per epoch.

        Returns:
            ``num_samples``.
        """
        return self.num_samples
