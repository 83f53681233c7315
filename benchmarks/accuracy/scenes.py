"""Classic hyperspectral benchmark scenes (Indian Pines, Pavia University, ...).

They are read through :mod:`torchgeo_spectral.datasets` and run only when their
files are already present locally (nothing is downloaded): ``DATA/<scene>/``
holding the files the dataset class expects (e.g. ``Indian_pines_corrected.mat``
and ``Indian_pines_gt.mat``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .data import Scene, zscore

#: ``--scenes`` key -> dataset class name in :mod:`torchgeo_spectral.datasets`.
CLASSIC_SCENES: dict[str, str] = {
    'indian_pines': 'IndianPines',
    'pavia_university': 'PaviaUniversity',
    'pavia_centre': 'PaviaCentre',
    'salinas': 'Salinas',
    'kennedy_space_center': 'KennedySpaceCenter',
    'botswana': 'Botswana',
    'houston2013': 'Houston2013',
}


def load_classic_scene(data: Path, name: str) -> Scene | None:
    """Load a classic scene when its files exist under ``data/<name>/``.

    Args:
        data: The data folder.
        name: A key of :data:`CLASSIC_SCENES`.

    Returns:
        The scene (FWHM approximated by the band spacing), or None when its files
        are absent.

    Raises:
        ValueError: If the scene name is unknown.
    """
    from torchgeo.datasets import DatasetNotFoundError

    from torchgeo_spectral import datasets

    if name not in CLASSIC_SCENES:
        msg = f'unknown scene {name!r}; known: {", ".join(CLASSIC_SCENES)}'
        raise ValueError(msg)
    cls = getattr(datasets, CLASSIC_SCENES[name])
    try:
        ds = cls(root=data / name, mode='tile', download=False)
    except DatasetNotFoundError:
        return None
    raw = np.asarray(ds.image, dtype=np.float32)
    labels = np.asarray(ds.gt, dtype=np.int64)
    wavelengths = ds.wavelengths.double().numpy()
    valid = np.ones(labels.shape, dtype=bool)
    return Scene(
        name=name,
        raw=raw,
        image=zscore(raw, valid),
        valid=valid,
        labels=labels,
        wavelengths=wavelengths,
        fwhm=np.gradient(wavelengths),
        class_names=tuple(ds.class_names),
        description=(
            f'{cls.__name__}: {raw.shape[1]}x{raw.shape[2]} px, {raw.shape[0]} '
            f'bands, {int((labels > 0).sum())} labelled px'
        ),
    )
