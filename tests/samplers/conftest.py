"""Fake labelled scenes for the sampler tests."""

import numpy as np
import pytest
from scipy import ndimage


def fake_scene(shape: tuple[int, int] = (60, 80), seed: int = 0) -> np.ndarray:
    """Blobs of classes 1-4 on an unlabelled (0) background."""
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.normal(size=(4, *shape)), sigma=(0, 4, 4))
    labels = noise.argmax(axis=0) + 1
    labels[rng.random(shape) < 0.3] = 0
    return labels.astype(np.int64)


@pytest.fixture
def scene() -> np.ndarray:
    return fake_scene()


@pytest.fixture
def other_scene() -> np.ndarray:
    return fake_scene(seed=1)
