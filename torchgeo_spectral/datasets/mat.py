"""Reading arrays from MATLAB ``.mat`` files, classic (v5) and v7.3 (HDF5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import scipy.io

__all__ = ['load_mat_array']


def _from_hdf5(
    path: Path, key: str | None, dtype: npt.DTypeLike | None
) -> npt.NDArray[Any]:
    """Read a variable of a MATLAB v7.3 file.

    MATLAB stores arrays column-major, so HDF5 sees them with reversed axes;
    the array is transposed back to MATLAB's ``(rows, cols, ...)`` order.

    Args:
        path: The file.
        key: Variable name, or None for the only variable.
        dtype: Type to convert to while reading, or None.

    Returns:
        The array in MATLAB axis order.

    Raises:
        ValueError: Naming the file, if the variable is absent or ambiguous.
        TypeError: Naming the file, if the variable is not an array.
    """
    with h5py.File(path, 'r') as f:
        names = [k for k in f if not k.startswith('#')]
        name = _pick(path, key, names)
        node = f[name]
        if not isinstance(node, h5py.Dataset):
            raise TypeError(f'{path}: variable {name!r} is not a numeric array')
        data = node[()] if dtype is None else node.astype(dtype)[()]
        return np.asarray(data).T


def _pick(path: Path, key: str | None, names: list[str]) -> str:
    """Choose the variable to read.

    Args:
        path: The file, for error messages.
        key: Requested name, or None.
        names: Variables in the file.

    Returns:
        The variable name.

    Raises:
        ValueError: If the key is absent, or None with several variables.
    """
    if key is not None:
        if key not in names:
            raise ValueError(f'{path}: no variable {key!r} (found {names})')
        return key
    if len(names) != 1:
        raise ValueError(f'{path}: several variables {names}; name one')
    return names[0]


def load_mat_array(
    path: str | Path, key: str | None = None, dtype: npt.DTypeLike | None = None
) -> npt.NDArray[Any]:
    """Load one array from a ``.mat`` file of any MATLAB version.

    Args:
        path: The ``.mat`` file.
        key: Variable name, or None when the file holds one variable.
        dtype: Type of the array returned, or None for the stored one. A v7.3
            (HDF5) variable is converted while it is read, so that a float64
            cube of several GB is never held whole.

    Returns:
        The array in MATLAB axis order (e.g. ``(rows, cols, bands)``).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: Naming the file, if it is not a readable ``.mat`` file or the
            variable is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: no such file')
    # v7.3 files are HDF5, also those written without MATLAB's header (h5py),
    # which scipy takes for corrupt classic files
    if h5py.is_hdf5(path):
        return _from_hdf5(path, key, dtype)
    try:
        content = scipy.io.loadmat(path)
    except (
        NotImplementedError,
        ValueError,
        TypeError,
        OSError,
        scipy.io.matlab.MatReadError,
    ) as error:
        raise ValueError(f'{path}: not a readable MATLAB file ({error})') from error
    names = [k for k in content if not k.startswith('__')]
    return np.asarray(content[_pick(path, key, names)], dtype=dtype)
