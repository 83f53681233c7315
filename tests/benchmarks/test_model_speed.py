"""Unit tests of ``benchmarks/model_speed.py``: paired timing and the ``--compile`` helpers."""

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

    timing = speed.measure_pair(
        lambda: step('ours'),
        lambda: step('ref'),
        torch.device('cpu'),
        repeats=3,
        budget_s=60.0,
        eager=lambda: step('eager'),
    )
    assert timing.flops == 2 * 16**3
    assert calls == {'ours': 3, 'ref': 4, 'eager': 4}
    assert not timing.cut
    assert min(timing.ours_s, timing.ref_s, timing.eager_s) >= 0.0
    no_eager = speed.measure_pair(
        lambda: None, lambda: None, torch.device('cpu'), repeats=1, budget_s=60.0
    )
    assert math.isnan(no_eager.eager_s)  # no eager step, no eager time
    assert math.isnan(no_eager.vs_eager)


def test_measure_pair_uses_paired_ratios_in_alternating_order(
    speed: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ratio is the median of per-round ratios; the order flips every round."""
    now = [0.0]
    monkeypatch.setattr(speed, 'step_clock', lambda device: lambda: now[0])
    # Round durations after the untimed warm-up steps (first entry of each list):
    # the load triples in round 0 on the reference's side only.
    durations = {'ours': [1.0, 1.0, 2.0, 3.0], 'ref': [1.0, 3.0, 2.2, 3.3]}
    order: list[str] = []

    def step(name: str) -> None:
        order.append(name)
        now[0] += durations[name].pop(0)

    timing = speed.measure_pair(
        lambda: step('ours'),
        lambda: step('ref'),
        torch.device('cpu'),
        repeats=3,
        budget_s=60.0,
    )
    assert order == ['ours', 'ref', 'ours', 'ref', 'ref', 'ours', 'ours', 'ref']
    # Paired ratios 3.0, 1.1, 1.1: median 1.1 (the ratio of medians would be 1.5).
    assert timing.ratio == pytest.approx(1.1)
    assert timing.ours_s == 2.0
    assert timing.ref_s == pytest.approx(3.0)
    assert timing.ratio_range == pytest.approx((1.1, 2.05))


def test_compile_step_names_the_failure(speed: ModuleType) -> None:
    def broken() -> None:
        raise RuntimeError('no C++ compiler\nfound')

    with pytest.raises(speed.CompileError, match='no C\\+\\+ compiler found'):
        speed.compile_step(broken, torch.device('cpu'))
    assert speed.compile_step(lambda: None, torch.device('cpu')) >= 0.0


def test_format_row_adds_compile_columns(speed: ModuleType) -> None:
    row = speed.Result('encoder', 13, 32, 'joint', '8', 2.0, 1.0, 0.1, 5.0, 0.97)
    row.compile_s, row.vs_eager = 12.34, 1.5
    row.ratio_range = (0.93, 1.01)
    plain = speed.format_row(row, 512, compiled=False)
    compiled = speed.format_row(row, 512, compiled=True)
    assert plain.endswith('| 0.97 | 0.93-1.01 |')
    assert compiled == plain + ' 12.3 | 1.50 |'
    row.note = 'skipped'
    assert speed.format_row(row, 512, compiled=True).count('|') == compiled.count('|')
