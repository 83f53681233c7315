"""The wavelength contract: band centres in nanometres, checked in one place."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

__all__ = ['validate_fwhm', 'validate_wavelengths']

FloatArray = npt.NDArray[np.float64]


def _format_indices(indices: npt.NDArray[np.intp], values: FloatArray) -> str:
    """Describe offending entries as ``index [..]: [..]`` (at most five shown).

    Args:
        indices: Offending indices.
        values: Values at those indices.

    Returns:
        A short human-readable description.
    """
    more = f' (and {indices.size - 5} more)' if indices.size > 5 else ''
    return f'index {indices[:5].tolist()}: {values[:5].tolist()}{more}'


def _as_float_vector(values: npt.ArrayLike, name: str) -> FloatArray:
    """Convert to a 1-D float64 array, failing with a readable message.

    Args:
        values: Array-like input (list, NumPy array, tensor).
        name: Name used in error messages.

    Returns:
        A new float64 1-D array.

    Raises:
        ValueError: If the input is not numeric, not 1-D or empty.
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        msg = f'{name} must be numeric: {error}'
        raise ValueError(msg) from error
    if array.ndim != 1:
        msg = f'{name} must be 1-D, got shape {array.shape}'
        raise ValueError(msg)
    if array.size == 0:
        msg = f'{name} is empty'
        raise ValueError(msg)
    return array


def validate_wavelengths(
    wavelengths: npt.ArrayLike,
    num_bands: int | None = None,
    *,
    name: str = 'wavelengths',
) -> np.ndarray:
    """Check band centres and return them as a float64 array.

    Args:
        wavelengths: Band centres in nm (list, NumPy array or tensor).
        num_bands: Expected number of bands, or None to accept any.
        name: Name used in error messages.

    Returns:
        A new 1-D float64 array of the centres.

    Raises:
        ValueError: If the centres are not 1-D, empty, of the wrong length
            (``expected N, found M``), not finite, not positive, or not strictly
            increasing (``duplicated`` or ``unsorted``); the message names the
            offending indices and values.
    """
    array = _as_float_vector(wavelengths, name)
    if num_bands is not None and array.size != num_bands:
        msg = f'{name}: expected {num_bands} band centres, found {array.size}'
        raise ValueError(msg)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        msg = f'{name} has non-finite values at {_format_indices(bad, array[bad])}'
        raise ValueError(msg)
    bad = np.flatnonzero(array <= 0)
    if bad.size:
        msg = (
            f'{name} must be positive (nm); non-positive (zero or negative) values '
            f'at {_format_indices(bad, array[bad])}'
        )
        raise ValueError(msg)
    step = np.diff(array)
    equal = np.flatnonzero(step == 0)
    if equal.size:
        i = int(equal[0])
        msg = (
            f'{name} must be strictly increasing: duplicated value {array[i]} at '
            f'index {i} and {i + 1} ({equal.size} duplicate(s))'
        )
        raise ValueError(msg)
    down = np.flatnonzero(step < 0)
    if down.size:
        i = int(down[0])
        msg = (
            f'{name} must be strictly increasing: unsorted at index {i + 1} '
            f'({array[i + 1]} after {array[i]}; {down.size} descent(s)); sort the '
            'bands by wavelength first'
        )
        raise ValueError(msg)
    return array


def validate_fwhm(fwhm: npt.ArrayLike, num_bands: int, *, name: str) -> FloatArray:
    """Check band widths (FWHM) and return them as a float64 array.

    Args:
        fwhm: FWHM in nm per band.
        num_bands: Expected number of bands.
        name: Name used in error messages.

    Returns:
        A new 1-D float64 array.

    Raises:
        ValueError: If not 1-D, of the wrong length, not finite or not positive.
    """
    array = _as_float_vector(fwhm, name)
    if array.size != num_bands:
        msg = f'{name}: expected {num_bands} values, found {array.size}'
        raise ValueError(msg)
    bad = np.flatnonzero(~np.isfinite(array) | (array <= 0))
    if bad.size:
        msg = (
            f'{name} must be finite and positive; bad values at '
            f'{_format_indices(bad, array[bad])}'
        )
        raise ValueError(msg)
    return array
