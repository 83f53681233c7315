"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# Two cores in CI: keep intra-op threads bounded so parallel tools do not thrash.
torch.set_num_threads(min(2, os.cpu_count() or 1))


def shared_data_dir() -> Path | None:
    """Folder of the real data excerpts, or None when it is absent.

    ``$TORCHGEO_SPECTRAL_DATA`` wins; otherwise ``../shared/data`` beside the repo.
    """
    env = os.environ.get('TORCHGEO_SPECTRAL_DATA')
    path = Path(env) if env else ROOT.parent / 'shared' / 'data'
    return path if path.is_dir() else None


@pytest.fixture
def shared_data() -> Path:
    """Path of the real data excerpts; skips the test when they are absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip('real data excerpts not found (set TORCHGEO_SPECTRAL_DATA)')
    return path
