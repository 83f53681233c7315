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
