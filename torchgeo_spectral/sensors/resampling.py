"""Spectral resampling with Gaussian spectral response functions (SRFs).

Simulates one sensor from another: :func:`spectral_response`,
:func:`resampling_matrix` and :func:`resample_spectra`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt
import torch

from ..wavelengths import (
    _as_float_vector,
    _format_indices,
    check_fwhm,
    check_wavelengths,
)

__all__ = ['resample_spectra', 'resampling_matrix', 'spectral_response']

FloatArray = npt.NDArray[np.float64]

#: Factor from full width at half maximum to the standard deviation of a Gaussian.
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))

#: Largest integration step (nm) of the resampling grid.
_MAX_STEP_NM = 1.0

#: Half width of the integration window of a target SRF, in units of its FWHM.
_WINDOW_FWHM = 3.0


def spectral_response(
    wavelengths: npt.ArrayLike, fwhm: npt.ArrayLike, grid: npt.ArrayLike
) -> np.ndarray:
    """Gaussian spectral response functions sampled on a wavelength grid.

    Args:
        wavelengths: Band centres in nm, shape ``(C,)`` (strictly increasing).
        fwhm: Band FWHM in nm, shape ``(C,)``.
        grid: Wavelengths (nm) at which to sample, shape ``(G,)``.

    Returns:
        Array of shape ``(C, G)``; each row sums to 1.

    Raises:
        ValueError: If the inputs are invalid, or a band's response vanishes on
            the grid (the band lies outside it).
    """
    centres = check_wavelengths(wavelengths)
    widths = check_fwhm(fwhm, centres.size, source='fwhm')
    points = _as_float_vector(grid, 'grid')
    if not np.all(np.isfinite(points)):
        msg = 'grid has non-finite values'
        raise ValueError(msg)
    sigma = widths[:, None] * _FWHM_TO_SIGMA
    response = np.exp(-0.5 * ((points[None, :] - centres[:, None]) / sigma) ** 2)
    total = response.sum(axis=1, keepdims=True)
    empty = np.flatnonzero(total[:, 0] <= 0)
    if empty.size:
        msg = (
            'spectral response is zero on the grid '
            f'({points.min()}-{points.max()} nm) for bands at '
            f'{_format_indices(empty, centres[empty])}'
        )
        raise ValueError(msg)
    normalised: np.ndarray = response / total
    return normalised


def _interpolation_row(
    grid: FloatArray, weights: FloatArray, src: FloatArray
) -> FloatArray:
    """Weights of source bands in ``sum(weights * interp(grid))``.

    The source spectrum is interpolated linearly between band centres and held
    constant beyond the first and last centre.

    Args:
        grid: Integration points (nm), shape ``(K,)``.
        weights: Integration weights at those points, shape ``(K,)``.
        src: Source band centres (nm), strictly increasing, shape ``(C,)``.

    Returns:
        Row of shape ``(C,)`` with the weight of each source band.
    """
    row = np.zeros(src.size, dtype=np.float64)
    if src.size == 1:
        row[0] = weights.sum()
        return row
    left = np.clip(np.searchsorted(src, grid, side='right') - 1, 0, src.size - 2)
    t = np.clip((grid - src[left]) / (src[left + 1] - src[left]), 0.0, 1.0)
    np.add.at(row, left, weights * (1.0 - t))
    np.add.at(row, left + 1, weights * t)
    return row


@functools.lru_cache(maxsize=64)
def _cached_matrix(
    src_wavelengths: tuple[float, ...],
    src_fwhm: tuple[float, ...] | None,
    dst_wavelengths: tuple[float, ...],
    dst_fwhm: tuple[float, ...],
) -> FloatArray:
    """Compute (once per band-table pair) the resampling matrix.

    Args:
        src_wavelengths: Validated source centres (nm).
        src_fwhm: Validated source FWHM (nm), or None.
        dst_wavelengths: Validated target centres (nm).
        dst_fwhm: Validated target FWHM (nm).

    Returns:
        Read-only matrix of shape ``(C_dst, C_src)`` whose rows sum to 1.

    Raises:
        ValueError: If a target band's centre lies outside the source range.
    """
    src = np.array(src_wavelengths)
    dst = np.array(dst_wavelengths)
    widths = np.array(dst_fwhm)
    low, high = src[0], src[-1]
    if src_fwhm is not None:
        low -= src_fwhm[0] / 2
        high += src_fwhm[-1] / 2
    tol = 1e-9 * max(abs(high), 1.0)
    outside = np.flatnonzero((dst < low - tol) | (dst > high + tol))
    if outside.size:
        bands = ', '.join(f'band {i} ({dst[i]:g} nm)' for i in outside[:5])
        more = f' and {outside.size - 5} more' if outside.size > 5 else ''
        msg = (
            f'target {bands}{more} outside the source range {low:g}-{high:g} nm '
            f'(source centres {src[0]:g}-{src[-1]:g} nm)'
        )
        raise ValueError(msg)
    matrix = np.zeros((dst.size, src.size), dtype=np.float64)
    for j, (centre, width) in enumerate(zip(dst, widths, strict=True)):
        start = max(centre - _WINDOW_FWHM * width, low)
        stop = min(centre + _WINDOW_FWHM * width, high)
        step = min(_MAX_STEP_NM, width / 20.0)
        num = max(math.ceil((stop - start) / step), 2) + 1
        inside = src[(src > start) & (src < stop)]
        grid = np.union1d(np.linspace(start, stop, num), inside)
        # Trapezoid weights on the (non-uniform) grid; source centres are grid
        # points, so the piecewise-linear spectrum is integrated without aliasing.
        spacing = np.diff(grid)
        trapezoid = np.zeros_like(grid)
        trapezoid[:-1] += spacing / 2
        trapezoid[1:] += spacing / 2
        sigma = width * _FWHM_TO_SIGMA
        srf = np.exp(-0.5 * ((grid - centre) / sigma) ** 2)
        row = _interpolation_row(grid, srf * trapezoid, src)
        matrix[j] = row / row.sum()
    matrix.setflags(write=False)
    return matrix


def _prepare_pair(
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
) -> FloatArray:
    """Validate both band tables and fetch the cached resampling matrix.

    Args:
        src_wavelengths: Source centres (nm).
        src_fwhm: Source FWHM (nm), or None.
        dst_wavelengths: Target centres (nm).
        dst_fwhm: Target FWHM (nm).

    Returns:
        Read-only matrix of shape ``(C_dst, C_src)``.
    """
    src = check_wavelengths(src_wavelengths, source='src_wavelengths')
    src_widths = (
        None if src_fwhm is None else check_fwhm(src_fwhm, src.size, source='src_fwhm')
    )
    dst = check_wavelengths(dst_wavelengths, source='dst_wavelengths')
    dst_widths = check_fwhm(dst_fwhm, dst.size, source='dst_fwhm')
    return _cached_matrix(
        tuple(src.tolist()),
        None if src_widths is None else tuple(src_widths.tolist()),
        tuple(dst.tolist()),
        tuple(dst_widths.tolist()),
    )


def resampling_matrix(
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
) -> np.ndarray:
    """Matrix that simulates target bands from source bands.

    Row ``j`` holds the weights with which source bands enter target band ``j``:
    the source spectrum, linearly interpolated between its band centres, is
    integrated against the Gaussian SRF of the target band (window of +/- 3 FWHM
    clipped to the source range, step at most 1 nm and FWHM/20, source centres
    included as grid points) and normalised, so each row sums to 1. Source FWHM
    only widen the accepted range by half a width at each end; broader source
    bands are not deconvolved. Matrices are cached per band-table pair.

    Args:
        src_wavelengths: Source centres (nm), shape ``(C_src,)``, strictly
            increasing.
        src_fwhm: Source FWHM (nm), shape ``(C_src,)``, or None (range ends at
            the first and last centre).
        dst_wavelengths: Target centres (nm), shape ``(C_dst,)``, strictly
            increasing.
        dst_fwhm: Target FWHM (nm), shape ``(C_dst,)``.

    Returns:
        A new float64 array of shape ``(C_dst, C_src)``.

    Raises:
        ValueError: If a band table is invalid, or a target band's centre falls
            outside the source range ``[min - src_fwhm/2, max + src_fwhm/2]``; the
            message names the bands and the range.
    """
    return _prepare_pair(src_wavelengths, src_fwhm, dst_wavelengths, dst_fwhm).copy()


def resample_spectra[ArrayT: (torch.Tensor, np.ndarray)](
    x: ArrayT,
    src_wavelengths: npt.ArrayLike,
    src_fwhm: npt.ArrayLike | None,
    dst_wavelengths: npt.ArrayLike,
    dst_fwhm: npt.ArrayLike,
    *,
    dim: int = -3,
) -> ArrayT:
    """Simulate target-sensor bands from source spectra with Gaussian SRFs.

    Applies :func:`resampling_matrix` along the band dimension. Floating inputs
    keep their dtype (half precision is computed in float32); integer inputs are
    computed in floating point and rounded back. NaN stays local: an output band
    is NaN exactly where a source band with a non-zero weight in it is NaN, so a
    NaN source band spoils only the output bands whose response touches it.

    Args:
        x: Spectra or cubes, a tensor or NumPy array with the ``C_src`` bands
            along ``dim``, e.g. ``(B, C, H, W)`` or ``(C, H, W)``.
        src_wavelengths: Source centres (nm), shape ``(C_src,)``.
        src_fwhm: Source FWHM (nm), or None.
        dst_wavelengths: Target centres (nm), shape ``(C_dst,)``.
        dst_fwhm: Target FWHM (nm), shape ``(C_dst,)``.
        dim: Band dimension of ``x`` (default -3, for ``(..., C, H, W)``; use -1
            for ``(..., C)`` spectra).

    Returns:
        Same type, dtype and device as ``x``, with ``C_dst`` bands along ``dim``.

    Raises:
        ValueError: If ``dim`` is out of range, ``x`` has another number of bands
            than ``src_wavelengths``, the dtype is not real, or
            :func:`resampling_matrix` fails.
        TypeError: If ``x`` is neither a tensor nor a NumPy array.
    """
    if not isinstance(x, torch.Tensor | np.ndarray):
        msg = f'x must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}'
        raise TypeError(msg)
    ndim = x.ndim
    if not -ndim <= dim < ndim:
        msg = f'dim {dim} is out of range for x with {ndim} dimension(s)'
        raise ValueError(msg)
    matrix = _prepare_pair(src_wavelengths, src_fwhm, dst_wavelengths, dst_fwhm)
    if x.shape[dim] != matrix.shape[1]:
        msg = (
            f'x has {x.shape[dim]} bands along dim {dim} but src_wavelengths has '
            f'{matrix.shape[1]}'
        )
        raise ValueError(msg)
    if isinstance(x, torch.Tensor):
        return _resample_tensor(x, matrix, dim)
    return _resample_array(x, matrix, dim)


def _resample_tensor(x: torch.Tensor, matrix: FloatArray, dim: int) -> torch.Tensor:
    """Apply a resampling matrix to a tensor along ``dim``.

    The one implementation of the resampling product: NumPy arrays come here too
    (:func:`_resample_array`), computed in float32 or float64.

    Args:
        x: Input tensor.
        matrix: Matrix of shape ``(C_dst, C_src)``.
        dim: Band dimension.

    Returns:
        Tensor of the input's dtype and device (integers rounded).

    Raises:
        ValueError: For complex or boolean tensors.
    """
    if x.dtype.is_complex or x.dtype == torch.bool:
        msg = f'cannot resample a tensor of dtype {x.dtype}'
        raise ValueError(msg)
    if x.dtype in (torch.float32, torch.float64):
        compute = x.dtype
    elif x.dtype.is_floating_point:
        compute = torch.float32
    else:
        compute = torch.float64
    # np.array copies the read-only cached matrix (torch wants writable memory).
    weights = torch.as_tensor(np.array(matrix), dtype=compute, device=x.device)
    moved = torch.movedim(x.to(compute), dim, -1)
    nan = torch.isnan(moved)
    if bool(nan.any()):
        # 0 * NaN is NaN: zero the NaN bands, then mark the outputs they touch.
        touched = nan.to(compute) @ (weights != 0).to(compute).T > 0
        result = torch.where(nan, torch.zeros_like(moved), moved) @ weights.T
        result = result.masked_fill(touched, float('nan'))
    else:
        result = moved @ weights.T
    out = torch.movedim(result, -1, dim)
    if not x.dtype.is_floating_point:
        out = out.round()
    return out.to(x.dtype)


def _resample_array(x: np.ndarray, matrix: FloatArray, dim: int) -> np.ndarray:
    """Apply a resampling matrix to a NumPy array along ``dim``.

    The array is read into the compute dtype (its own float32 or float64, float64
    otherwise; any byte order) and resampled by :func:`_resample_tensor`.

    Args:
        x: Input array.
        matrix: Matrix of shape ``(C_dst, C_src)``.
        dim: Band dimension.

    Returns:
        Array of the input's dtype (integers rounded).

    Raises:
        ValueError: For non-real dtypes.
    """
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        msg = f'cannot resample an array of dtype {x.dtype}'
        raise ValueError(msg)
    compute = np.dtype(np.float32 if x.dtype == np.float32 else np.float64)
    values = torch.from_numpy(np.ascontiguousarray(x, dtype=compute))
    out = _resample_tensor(values, matrix, dim).numpy()
    if np.issubdtype(x.dtype, np.integer):
        out = np.rint(out)
    result: np.ndarray = out.astype(x.dtype, copy=False)
    return result
