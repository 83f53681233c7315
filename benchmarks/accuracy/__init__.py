"""Few-label accuracy benchmark of the spectral MAE against baselines.

Run ``python -m benchmarks.accuracy --help`` from the repository root. The
protocol (spatially disjoint splits, label budgets, seeds, metrics, methods) is
described in ``benchmarks/README.md`` and ``docs/guide/benchmarks.rst``.
"""

from .config import BenchConfig, parse_args
from .runner import main, run

__all__ = ['BenchConfig', 'main', 'parse_args', 'run']
