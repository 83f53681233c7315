"""Classification metrics: OA, AA, Cohen's kappa and macro-F1."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, recall_score

#: Metric keys in table order, with their display names.
METRICS: dict[str, str] = {'oa': 'OA', 'aa': 'AA', 'kappa': 'kappa', 'f1': 'macro-F1'}


def scores(y_true: NDArray[np.int64], y_pred: NDArray[np.int64]) -> dict[str, float]:
    """Overall accuracy, average (per-class) accuracy, kappa and macro-F1.

    AA and macro-F1 average over the classes present in ``y_true`` (a class
    missing from the test pixels cannot be scored).

    Args:
        y_true: True classes.
        y_pred: Predicted classes.

    Returns:
        ``{'oa', 'aa', 'kappa', 'f1'}`` in ``[0, 1]`` (kappa in ``[-1, 1]``).
    """
    present = np.unique(y_true)
    return {
        'oa': float(accuracy_score(y_true, y_pred)),
        'aa': float(
            recall_score(
                y_true, y_pred, labels=present, average='macro', zero_division=0
            )
        ),
        'kappa': float(cohen_kappa_score(y_true, y_pred)),
        'f1': float(
            f1_score(y_true, y_pred, labels=present, average='macro', zero_division=0)
        ),
    }


def bootstrap_ci(
    diffs: NDArray[np.float64],
    level: float = 0.95,
    resamples: int = 10000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of paired differences and its percentile bootstrap confidence interval.

    The seeds are the resampled units: each seed gives one paired difference
    (same split, same labels, same test pixels for both methods).

    Args:
        diffs: One paired difference per seed.
        level: Confidence level.
        resamples: Bootstrap resamples.
        seed: Seed of the resampling.

    Returns:
        ``(mean, low, high)``; the interval is ``(mean, mean)`` for one seed and
        NaN for none.
    """
    values = np.asarray(diffs, dtype=np.float64)
    if values.size == 0:
        return float('nan'), float('nan'), float('nan')
    mean = float(values.mean())
    if values.size == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(resamples, values.size))
    means = values[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return mean, float(low), float(high)


def format_paired(diffs: NDArray[np.float64]) -> str:
    """Paired differences as ``'+1.2 [-0.3, +2.8]'``: mean and 95 % bootstrap CI.

    Args:
        diffs: One paired difference per seed (OA points).

    Returns:
        The text every paired table of the benchmarks prints.
    """
    mean, low, high = bootstrap_ci(diffs)
    return f'{mean:+.1f} [{low:+.1f}, {high:+.1f}]'
