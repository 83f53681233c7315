"""Tests of the EMIT I/O benchmark (benchmarks/emit_io.py)."""

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from bench_helpers import import_benchmark

from torchgeo_spectral.datasets import read_emit


@pytest.fixture(scope='module')
def bench() -> ModuleType:
    return import_benchmark('benchmarks.emit_io')


def test_the_stand_in_is_a_granule_of_a_rotated_swath(
    bench: ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / 'granule.nc'
    height, width = bench.write_granule(path, rows=30, cols=20, bands=60)
    cube = read_emit(path)
    assert cube.image.shape == (60, height, width)
    # a rotated swath on a larger grid: most swath pixels land (nearest
    # neighbours, as real GLTs), the corners stay empty
    landed = int(np.isfinite(cube.image[0]).sum())
    assert 0.9 * 30 * 20 < landed <= 30 * 20
    assert height * width > 30 * 20
    # the water-absorption bands are flagged as EMIT flags them
    flagged = cube.wavelengths[~cube.good]
    assert flagged.size > 0
    assert all(1340 < w < 1445 or 1790 < w < 1955 for w in flagged)


def test_table(bench: ModuleType) -> None:
    figures = {'seconds': 2.5, 'before_kib': 2**20, 'peak_kib': 3 * 2**20}
    text = bench.table({'read_emit': figures}, (10, 8, 5, 12, 11))
    assert '10 x 8 px swath, 5 bands, on a 12 x 11 px grid' in text
    assert '| read_emit | 2.5 | 3.00 | 1.00 |' in text
