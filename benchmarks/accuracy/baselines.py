"""Classical per-pixel baselines on spectra: PCA + RBF SVM and a random forest."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .config import BenchConfig

#: Inverse regularization strengths of the linear probe tried by cross-validation.
PROBE_C_GRID = tuple(float(c) for c in np.logspace(-3, 2, 11))
#: Regularization strengths of the RBF SVM tried by cross-validation.
SVM_C_GRID = (1.0, 10.0, 100.0, 1000.0)
#: Folds of the cross-validation that picks ``C`` on the training labels.
CV_FOLDS = 3


def cv_folds(y_train: NDArray[np.int64]) -> int:
    """Folds of the cross-validation that picks ``C`` (0: too few labels for any).

    At most :data:`CV_FOLDS`, and no more than the second most frequent class
    has labels: stratified folds then put two classes in every training fold,
    so every fit of the search is defined.

    Args:
        y_train: Training classes.

    Returns:
        The number of folds, or 0 when fewer than two classes have two labels.
    """
    counts = np.sort(np.unique(y_train, return_counts=True)[1])
    folds = min(CV_FOLDS, int(counts[-2])) if len(counts) > 1 else 0
    return folds if folds >= 2 else 0


def fit_regularized(
    model: Pipeline,
    fixed: float | None,
    grid: tuple[float, ...],
    x_train: NDArray[np.float32],
    y_train: NDArray[np.int64],
) -> Pipeline | GridSearchCV:
    """Fit with a fixed ``C``, or with the ``C`` that the training labels pick.

    A few labels leave no validation set, and the best regularization differs
    from one feature space to the next (a 64-d embedding vs 218 raw bands): one
    fixed ``C`` favours whichever features it happens to suit. So by default
    each fit picks its own ``C`` by stratified cross-validation on its training
    labels only (test pixels never take part), as linear-probe protocols sweep
    the regularization; ties go to the strongest regularization. Without
    enough labels for two folds, ``C`` is scikit-learn's default, 1.

    Args:
        model: Pipeline whose last step takes ``C``.
        fixed: A fixed ``C``, or ``None`` to cross-validate.
        grid: Values of ``C`` to try, in increasing order.
        x_train: Training features.
        y_train: Training classes.

    Returns:
        The fitted pipeline, or the fitted search (refitted on all labels).
    """
    param = f'{model.steps[-1][0]}__C'
    folds = cv_folds(y_train)
    if fixed is not None or not folds:
        model.set_params(**{param: 1.0 if fixed is None else fixed})
        return model.fit(x_train, y_train)
    search = GridSearchCV(
        model,
        {param: list(grid)},
        cv=StratifiedKFold(n_splits=folds),
        error_score='raise',
    )
    with warnings.catch_warnings():
        # a class with fewer labels than folds (common at 1 %) is left out of
        # some training folds; every C is still ranked on the same folds
        warnings.filterwarnings('ignore', message='The least populated class in y')
        return search.fit(x_train, y_train)


def pca_svm(
    x_train: NDArray[np.float32],
    y_train: NDArray[np.int64],
    x_test: NDArray[np.float32],
    cfg: BenchConfig,
    seed: int,
) -> NDArray[np.int64]:
    """Standardise, project on principal components, classify with an RBF SVM.

    Args:
        x_train: Training spectra ``(N, C)``.
        y_train: Training classes.
        x_test: Test spectra.
        cfg: The configuration (``pca_components``, ``svm_c``; ``None``:
            cross-validated, see :func:`fit_regularized`).
        seed: Random seed.

    Returns:
        Predicted test classes.
    """
    fitted = len(y_train)
    folds = cv_folds(y_train) if cfg.svm_c is None else 0
    if folds:
        # each cross-validation fold fits the PCA on its training part only
        fitted -= -(-fitted // folds)
    components = max(1, min(cfg.pca_components, x_train.shape[1], fitted - 1))
    model = make_pipeline(
        StandardScaler(),
        PCA(n_components=components, random_state=seed),
        SVC(gamma='scale', random_state=seed),
    )
    model = fit_regularized(model, cfg.svm_c, SVM_C_GRID, x_train, y_train)
    return np.asarray(model.predict(x_test), dtype=np.int64)


def random_forest(
    x_train: NDArray[np.float32],
    y_train: NDArray[np.int64],
    x_test: NDArray[np.float32],
    cfg: BenchConfig,
    seed: int,
) -> NDArray[np.int64]:
    """Random forest on the full spectra.

    Args:
        x_train: Training spectra ``(N, C)``.
        y_train: Training classes.
        x_test: Test spectra.
        cfg: The configuration (``rf_trees``).
        seed: Random seed.

    Returns:
        Predicted test classes.
    """
    model = RandomForestClassifier(
        n_estimators=cfg.rf_trees, random_state=seed, n_jobs=-1
    )
    model.fit(x_train, y_train)
    return np.asarray(model.predict(x_test), dtype=np.int64)


def linear_spectra(
    x_train: NDArray[np.float32],
    y_train: NDArray[np.int64],
    x_test: NDArray[np.float32],
    cfg: BenchConfig,
    seed: int,
) -> NDArray[np.int64]:
    """The linear probe of the neural rows, fitted on the raw pixel spectra.

    The reference an encoder's linear probe must beat to add anything over its
    input: on linearly mixed spectra it can be stronger than a random forest.
    Arguments and result as for :func:`pca_svm` (``cfg.probe_c``; the fit is
    deterministic, so ``seed`` is unused).
    """
    del seed
    return np.asarray(fit_probe(x_train, y_train, cfg).predict(x_test), dtype=np.int64)


def fit_probe(
    f_train: NDArray[np.float32], y_train: NDArray[np.int64], cfg: BenchConfig
) -> Pipeline | GridSearchCV | DummyClassifier:
    """Multinomial logistic regression on frozen (standardised) features.

    Args:
        f_train: Training features ``(N, D)``.
        y_train: Training classes.
        cfg: The configuration (``probe_c``; ``None``: cross-validated, see
            :func:`fit_regularized`).

    Returns:
        The fitted probe (``.predict(features)``).
    """
    if len(np.unique(y_train)) < 2:
        return DummyClassifier(strategy='most_frequent').fit(f_train, y_train)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return fit_regularized(model, cfg.probe_c, PROBE_C_GRID, f_train, y_train)


def window_mean(
    image: NDArray[np.float32], valid: NDArray[np.bool_], size: int
) -> NDArray[np.float32]:
    """Mean spectrum of the valid pixels in the ``size x size`` window of each pixel.

    The spatial half of the spatial-spectral baseline: a normalized box filter
    (invalid pixels neither count nor dilute the mean), over the same window the
    neural methods read, so the spatial split's guard band keeps train and test
    windows apart for it too.

    Args:
        image: ``(C, H, W)`` normalized image.
        valid: ``(H, W)`` valid-pixel mask.
        size: Window side in pixels.

    Returns:
        ``(C, H, W)`` smoothed image.
    """
    from scipy.ndimage import uniform_filter

    weight = valid.astype(np.float64)
    norm = uniform_filter(weight, size=size, mode='constant')
    norm = np.where(norm > 0, norm, 1.0)
    # one filter over all bands: no smoothing across the band axis
    summed = uniform_filter(image * weight, size=(1, size, size), mode='constant')
    return (summed / norm).astype(np.float32)


#: Spatial-spectral SVM: the same PCA + RBF SVM, fed pixel spectra stacked with the
#: mean spectrum of their window (see :func:`window_mean`).
spatial_svm = pca_svm
