"""Classic hyperspectral benchmark scenes (Indian Pines, Pavia University, ...).

They are run only when their files are already present locally (nothing is
downloaded): ``DATA/<scene>/`` holding the usual ``.mat`` cube and ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import Scene, zscore


@dataclass(frozen=True)
class ClassicScene:
    """Where a classic scene's files are and which sensor table it uses.

    Attributes:
        cube: ``.mat`` file of the cube.
        cube_key: Variable name of the cube.
        gt: ``.mat`` file of the ground truth.
        gt_key: Variable name of the ground truth.
        sensor: Key of :func:`torchgeo_spectral.sensors.get_sensor`.
    """

    cube: str
    cube_key: str
    gt: str
    gt_key: str
    sensor: str


CLASSIC_SCENES: dict[str, ClassicScene] = {
    'indian_pines': ClassicScene(
        'Indian_pines_corrected.mat',
        'indian_pines_corrected',
        'Indian_pines_gt.mat',
        'indian_pines_gt',
        'aviris_indian_pines',
    ),
    'pavia_university': ClassicScene(
        'PaviaU.mat', 'paviaU', 'PaviaU_gt.mat', 'paviaU_gt', 'rosis'
    ),
    'pavia_centre': ClassicScene(
        'Pavia.mat', 'pavia', 'Pavia_gt.mat', 'pavia_gt', 'rosis'
    ),
}


def _find(folder: Path, name: str) -> Path | None:
    """Case-insensitive file lookup in a folder."""
    if not folder.is_dir():
        return None
    for path in folder.iterdir():
        if path.name.lower() == name.lower():
            return path
    return None


def _load_mat(path: Path, key: str) -> np.ndarray:
    """A variable of a MATLAB file (v5 via scipy, v7.3 via h5py)."""
    from scipy.io import loadmat

    try:
        data = loadmat(str(path))
    except NotImplementedError:
        import h5py

        with h5py.File(path, 'r') as f:
            return np.asarray(f[key]).T
    matches = [k for k in data if k.lower() == key.lower()]
    return np.asarray(data[matches[0] if matches else key])


def load_classic_scene(data: Path, name: str) -> Scene | None:
    """Load a classic scene when its files exist under ``data/<name>/``.

    Args:
        data: The data folder.
        name: A key of :data:`CLASSIC_SCENES`.

    Returns:
        The scene, or None when its files are absent.

    Raises:
        ValueError: If the scene name is unknown.
    """
    from torchgeo_spectral.sensors import get_sensor

    if name not in CLASSIC_SCENES:
        msg = f'unknown scene {name!r}; known: {", ".join(CLASSIC_SCENES)}'
        raise ValueError(msg)
    spec = CLASSIC_SCENES[name]
    folder = data / name
    cube_path, gt_path = _find(folder, spec.cube), _find(folder, spec.gt)
    if cube_path is None or gt_path is None:
        return None
    cube = _load_mat(cube_path, spec.cube_key).astype(np.float32)
    labels = _load_mat(gt_path, spec.gt_key).astype(np.int64)
    raw = np.moveaxis(cube, -1, 0)
    sensor = get_sensor(spec.sensor)
    if sensor.num_bands != raw.shape[0]:
        msg = f'{name}: cube has {raw.shape[0]} bands, {spec.sensor} table {sensor.num_bands}'
        raise ValueError(msg)
    valid = np.ones(labels.shape, dtype=bool)
    classes = int(labels.max())
    return Scene(
        name=name,
        raw=raw,
        image=zscore(raw, valid),
        valid=valid,
        labels=labels,
        wavelengths=np.asarray(sensor.wavelengths, dtype=np.float64),
        fwhm=np.asarray(sensor.fwhm, dtype=np.float64),
        class_names=tuple(f'class {i}' for i in range(1, classes + 1)),
        description=(
            f'{name}: {raw.shape[1]}x{raw.shape[2]} px, {raw.shape[0]} bands '
            f'({spec.sensor}), {int((labels > 0).sum())} labelled px'
        ),
    )
