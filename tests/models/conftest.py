"""Fixtures of tiny spectral models (fast on two CPU cores)."""

from collections.abc import Iterator

import pytest
import torch
from model_helpers import TINY

from torchgeo_spectral.models import SpectralMAE, SpectralViT


@pytest.fixture
def tiny_vit() -> SpectralViT:
    """A 2-block, width-32 encoder with 4x4 patches and 8 bands per token."""
    torch.manual_seed(0)
    return SpectralViT(**TINY)  # type: ignore[arg-type]


@pytest.fixture
def tiny_mae() -> SpectralMAE:
    """A tiny MAE over a tiny encoder."""
    torch.manual_seed(0)
    encoder = SpectralViT(**TINY)  # type: ignore[arg-type]
    return SpectralMAE(
        encoder, decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2
    )


@pytest.fixture(autouse=True)
def _single_thread() -> Iterator[None]:
    """Run the tiny model tests on one intra-op thread (less sync overhead)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
