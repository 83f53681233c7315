"""Classical per-pixel baselines on spectra: PCA + RBF SVM and a random forest."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .config import BenchConfig


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
        cfg: The configuration (``pca_components``, ``svm_c``).
        seed: Random seed.

    Returns:
        Predicted test classes.
    """
    components = max(1, min(cfg.pca_components, x_train.shape[1], len(y_train) - 1))
    model = make_pipeline(
        StandardScaler(),
        PCA(n_components=components, random_state=seed),
        SVC(C=cfg.svm_c, gamma='scale', random_state=seed),
    )
    model.fit(x_train, y_train)
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
) -> Pipeline | DummyClassifier:
    """Multinomial logistic regression on frozen (standardised) features.

    Args:
        f_train: Training features ``(N, D)``.
        y_train: Training classes.
        cfg: The configuration (``probe_c``).

    Returns:
        The fitted probe (``.predict(features)``).
    """
    if len(np.unique(y_train)) < 2:
        return DummyClassifier(strategy='most_frequent').fit(f_train, y_train)
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=cfg.probe_c, max_iter=500)
    )
    return model.fit(f_train, y_train)


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
