from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from torchgeo_spectral.samplers import ClassBalancedSampler
from torchgeo_spectral.samplers.balanced import balanced_draw


@pytest.fixture
def labels() -> np.ndarray:
    # Imbalanced: 500 of class 1, 60 of class 2, 3 of class 7, 40 unlabelled.
    return np.repeat([1, 2, 7, 0], [500, 60, 3, 40])


def test_classes_are_balanced(labels: np.ndarray) -> None:
    sampler = ClassBalancedSampler(labels, num_samples=3001, seed=0, ignore_index=0)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 3001
    counts = Counter(labels[drawn].tolist())
    assert set(counts) == {1, 2, 7}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_rare_classes_repeat_frequent_do_not(labels: np.ndarray) -> None:
    drawn = np.array(list(ClassBalancedSampler(labels, 300, seed=1, ignore_index=0)))
    rare = drawn[labels[drawn] == 7]
    frequent = drawn[labels[drawn] == 1]
    assert len(set(rare.tolist())) == 3  # all three rare items, with replacement
    assert len(set(frequent.tolist())) == len(frequent)  # without replacement


def test_default_length_is_one_balanced_epoch(labels: np.ndarray) -> None:
    assert len(ClassBalancedSampler(labels, ignore_index=0)) == 3 * 500


def test_reproducible_under_a_seed(labels: np.ndarray) -> None:
    a = ClassBalancedSampler(labels, 100, seed=5)
    b = ClassBalancedSampler(labels, 100, seed=5)
    first, second = list(a), list(a)
    assert first == list(b)
    assert first != second  # a new draw each epoch
    assert second == list(b)


def test_tensor_labels_and_dataloader() -> None:
    targets = torch.tensor([0, 0, 0, 0, 1, 2, 2, 2])
    dataset = TensorDataset(torch.arange(8), targets)
    sampler = ClassBalancedSampler(targets, num_samples=30, seed=0)
    loader = DataLoader(dataset, batch_size=10, sampler=sampler)
    seen = torch.cat([batch[1] for batch in loader])
    assert torch.bincount(seen).tolist() == [10, 10, 10]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match='1-D'):
        ClassBalancedSampler(np.zeros((2, 2)))
    with pytest.raises(ValueError, match='no item'):
        ClassBalancedSampler(np.zeros(4), ignore_index=0)
    with pytest.raises(ValueError, match='num_samples'):
        balanced_draw(np.ones(3, dtype=np.int64), -1, np.random.default_rng())
