"""Reading arrays from MATLAB ``.mat`` files, classic (v5) and v7.3 (HDF5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import scipy.io

__all__ = ['load_mat_array']


#: A variable, or a field of a MATLAB struct, as the file's reader gives it.
Node = Any


def _v5_fields(node: Node) -> dict[str, Node] | None:
    """Fields of a classic MATLAB struct as scipy reads it, or None for an array.

    Args:
        node: A value of :func:`scipy.io.loadmat`'s result (a struct is a
            record array of one element, a struct array one of several).

    Returns:
        The fields of a struct of one element, or None.
    """
    names = getattr(getattr(node, 'dtype', None), 'names', None)
    if not names or node.size != 1:
        return None
    return {name: node.flat[0][name] for name in names}


def _hdf5_fields(node: Node) -> dict[str, Node] | None:
    """Fields of a MATLAB v7.3 struct (an HDF5 group), or None for a dataset.

    Args:
        node: An HDF5 group or dataset.

    Returns:
        The group's members (without MATLAB's ``#refs#`` bookkeeping), or None.
    """
    if not isinstance(node, h5py.Group):
        return None
    return {k: node[k] for k in node if not k.startswith('#')}


def _is_numeric_map(node: Node) -> bool:
    """Whether a struct field is a numeric array of two axes or more.

    Args:
        node: An array or HDF5 dataset.

    Returns:
        True for numeric (or logical) arrays with ``ndim >= 2``.
    """
    dtype = getattr(node, 'dtype', None)
    return (
        dtype is not None
        and (np.issubdtype(dtype, np.number) or dtype == np.bool_)
        and len(getattr(node, 'shape', ())) >= 2
    )


def _find(
    path: Path,
    variables: dict[str, Node],
    key: str | None,
    fields: Callable[[Node], dict[str, Node] | None],
) -> Node:
    """Find the array ``key`` names, through struct fields.

    ``key`` may name a field of a struct with a dot (``'GT.gt'``). A struct
    named without a field (or the only variable, a struct) gives its only
    numeric array of two axes or more: Chikusei's ground truth, for one, is a
    struct ``GT`` whose label map is its field ``gt``.

    Args:
        path: The file, for error messages.
        variables: The file's variables by name.
        key: Variable or ``variable.field`` name, or None for the only variable.
        fields: The struct fields of a node, or None for an array.

    Returns:
        The array node.

    Raises:
        ValueError: If a name is absent, the key is None with several
            variables, or a struct has no single array to choose.
    """
    if key is None:
        if len(variables) != 1:
            raise ValueError(f'{path}: several variables {list(variables)}; name one')
        parts = list(variables)
    else:
        parts = key.split('.')
    name = ''
    members: dict[str, Node] | None = variables
    for part in parts:
        if members is None:
            msg = f'{path}: {name!r} is an array, not a struct with a field {part!r}'
            raise ValueError(msg)
        if part not in members:
            where = f'struct {name!r} has no field' if name else 'no variable'
            raise ValueError(f'{path}: {where} {part!r} (found {list(members)})')
        node = members[part]
        name = f'{name}.{part}' if name else part
        members = fields(node)
    if members is not None:
        maps = [k for k, v in members.items() if _is_numeric_map(v)]
        if len(maps) != 1:
            example = maps[0] if maps else next(iter(members), 'field')
            msg = (
                f'{path}: {name!r} is a MATLAB struct; name the field to read, '
                f"e.g. '{name}.{example}' (fields: {list(members)})"
            )
            raise ValueError(msg)
        node = members[maps[0]]
    return node


def _from_hdf5(
    path: Path, key: str | None, dtype: npt.DTypeLike | None
) -> npt.NDArray[Any]:
    """Read a variable of a MATLAB v7.3 file.

    MATLAB stores arrays column-major, so HDF5 sees them with reversed axes;
    the array is transposed back to MATLAB's ``(rows, cols, ...)`` order.

    Args:
        path: The file.
        key: Variable (or ``variable.field``) name, or None for the only one.
        dtype: Type to convert to while reading, or None.

    Returns:
        The array in MATLAB axis order.

    Raises:
        ValueError: Naming the file, if the variable is absent or ambiguous.
        TypeError: Naming the file, if the variable is not an array.
    """
    with h5py.File(path, 'r') as f:
        variables = _hdf5_fields(f)
        assert variables is not None  # a file is a group
        node = _find(path, variables, key, _hdf5_fields)
        if not isinstance(node, h5py.Dataset):
            raise TypeError(f'{path}: variable {node.name!r} is not a numeric array')
        data = node[()] if dtype is None else node.astype(dtype)[()]
        return np.asarray(data).T


def load_mat_array(
    path: str | Path, key: str | None = None, dtype: npt.DTypeLike | None = None
) -> npt.NDArray[Any]:
    """Load one array from a ``.mat`` file of any MATLAB version.

    Args:
        path: The ``.mat`` file.
        key: Variable name, or None when the file holds one variable; a
            struct's field as ``'variable.field'`` (a struct named alone gives
            its only numeric array of two axes or more).
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
    variables = {k: v for k, v in content.items() if not k.startswith('__')}
    return np.asarray(_find(path, variables, key, _v5_fields), dtype=dtype)
