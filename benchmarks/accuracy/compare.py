"""Paired comparison of two accuracy-benchmark runs, seed by seed.

Two runs with the same seeds share splits, labels and test pixels, so the
difference of a row's OA between them, seed by seed, isolates what changed (a
recipe option, a checkpoint). For every row (band set, method, budget) present in
both ``accuracy_records.csv`` files whose OA differs, this prints the mean OA of
each run and the mean paired difference (new minus base, OA points) with its 95 %
bootstrap CI::

    python -m benchmarks.accuracy.compare benchmarks/results/accuracy_records.csv \\
        benchmarks/results/visible_loss/accuracy_records.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .metrics import format_paired

#: Columns that identify one record of a run.
KEYS = ['scene', 'band_set', 'method', 'budget', 'seed']


def paired_rows(base: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """Markdown rows of the paired differences of the rows that changed.

    Args:
        base: Records of the base run.
        new: Records of the new run.

    Returns:
        A header and one line per changed (band set, method, budget).
    """
    merged = base.merge(new, on=KEYS, suffixes=('_base', '_new'))
    merged['diff'] = 100 * (merged['oa_new'] - merged['oa_base'])
    lines = [
        '| Band set | Method | Budget | OA base | OA new | new - base (95 % CI) | Seeds |',
        '|---|---|---|---|---|---|---|',
    ]
    for (band_set, method, budget), group in merged.groupby(
        ['band_set', 'method', 'budget']
    ):
        if group['diff'].abs().max() < 1e-9:
            continue
        lines.append(
            f'| {band_set} | {method} | {budget:g} | {100 * group["oa_base"].mean():.1f} '
            f'| {100 * group["oa_new"].mean():.1f} | '
            f'{format_paired(group["diff"].to_numpy())} | {len(group)} |'
        )
    return lines


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('base', type=Path, help='accuracy_records.csv of the base run')
    parser.add_argument('new', type=Path, help='accuracy_records.csv of the new run')
    args = parser.parse_args()
    print('\n'.join(paired_rows(pd.read_csv(args.base), pd.read_csv(args.new))))


if __name__ == '__main__':
    main()
