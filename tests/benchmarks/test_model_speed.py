"""Unit tests of ``benchmarks/model_speed.py``: the timing helpers of ``--compile``."""

import importlib
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def speed() -> ModuleType:
    if str(ROOT / 'benchmarks') not in sys.path:
        sys.path.insert(0, str(ROOT / 'benchmarks'))
    return importlib.import_module('model_speed')


def test_measure_pair_times_the_eager_step_too(speed: ModuleType) -> None:
    """With ``eager``, FLOPs come from the eager step and its median is returned."""
    calls = {'ours': 0, 'ref': 0, 'eager': 0}
    a = torch.randn(16, 16)

    def step(name: str) -> None:
        calls[name] += 1
        if name == 'eager':  # only the eager step does FLOPs
            a @ a

    ours_s, ref_s, flops, _, cut, eager_s = speed.measure_pair(
        lambda: step('ours'),
        lambda: step('ref'),
        torch.device('cpu'),
        repeats=3,
        budget_s=60.0,
        eager=lambda: step('eager'),
    )
    assert flops == 2 * 16**3
    assert calls == {'ours': 3, 'ref': 4, 'eager': 4}
    assert not cut
    assert min(ours_s, ref_s, eager_s) >= 0.0
    *_, no_eager = speed.measure_pair(
        lambda: None, lambda: None, torch.device('cpu'), repeats=1, budget_s=60.0
    )
    assert math.isnan(no_eager)  # no eager step, no eager time


def test_compile_step_names_the_failure(speed: ModuleType) -> None:
    def broken() -> None:
        raise RuntimeError('no C++ compiler\nfound')

    with pytest.raises(speed.CompileError, match='no C\\+\\+ compiler found'):
        speed.compile_step(broken, torch.device('cpu'))
    assert speed.compile_step(lambda: None, torch.device('cpu')) >= 0.0


def test_format_row_adds_compile_columns(speed: ModuleType) -> None:
    row = speed.Result('encoder', 13, 32, 'joint', '8', 2.0, 1.0, 0.1, 5.0, 0.97)
    row.compile_s, row.vs_eager = 12.34, 1.5
    plain = speed.format_row(row, 512, compiled=False)
    compiled = speed.format_row(row, 512, compiled=True)
    assert plain.endswith('| 0.97 |')
    assert compiled == plain + ' 12.3 | 1.50 |'
    row.note = 'skipped'
    assert speed.format_row(row, 512, compiled=True).count('|') == compiled.count('|')
