"""Tests of the projection-rank benchmark (benchmarks/projection_rank.py)."""

from types import ModuleType

import pytest
import torch
from bench_helpers import import_benchmark


@pytest.fixture(scope='module')
def bench() -> ModuleType:
    return import_benchmark('benchmarks.projection_rank')


def test_smooth_kernels_have_low_rank_and_high_cosine(bench: ModuleType) -> None:
    torch.manual_seed(0)
    base = torch.randn(2, 16)
    # kernels that drift slowly from one direction to another over 40 bands
    weights = torch.linspace(0, 1, 40)[:, None]
    smooth = bench.kernel_statistics((1 - weights) * base[0] + weights * base[1])
    rough = bench.kernel_statistics(torch.randn(40, 16))
    assert smooth['effective_rank'] == pytest.approx(1.0, abs=1e-3)
    assert smooth['cosine_10_apart'] > 0.5
    assert rough['effective_rank'] > 10
    assert abs(rough['cosine_10_apart']) < 0.3


def test_band_kernels_of_the_shipped_checkpoint(bench: ModuleType) -> None:
    wavelengths = torch.linspace(420.0, 2400.0, 30)
    kernels = bench.band_kernels('SPECTRAL_MAE_FOUNDATION', wavelengths)
    assert kernels.shape == (30, 128)
