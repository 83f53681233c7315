"""Per-band normalization: the one normalizer, by wavelength or band position."""

from __future__ import annotations

from typing import override

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from .base import SpectralTransform
from .functional import is_increasing


def _interp(x: Tensor, xp: Tensor, fp: Tensor) -> Tensor:
    """Piecewise-linear interpolation of ``fp(xp)`` at ``x`` (ends held).

    Args:
        x: Query points, any shape.
        xp: Strictly increasing knots ``(K,)``.
        fp: Values at the knots ``(K,)``.

    Returns:
        Interpolated values shaped like ``x``.
    """
    if xp.numel() == 1:
        return fp.expand_as(x).clone()
    right = torch.searchsorted(xp, x.contiguous()).clamp(1, xp.numel() - 1)
    left = right - 1
    t = ((x - xp[left]) / (xp[right] - xp[left])).clamp(0, 1)
    return fp[left] * (1 - t) + fp[right] * t


def _float64_vector(values: ArrayLike) -> Tensor:
    """A flat float64 copy of a list, array or tensor.

    Tensors are converted by torch: ``np.array(tensor)`` warns under numpy 2
    (``Tensor.__array__`` takes no ``copy`` keyword).

    Args:
        values: Numbers.

    Returns:
        A new ``(N,)`` float64 tensor.
    """
    if isinstance(values, Tensor):
        return values.detach().to(torch.float64, copy=True).flatten()
    return torch.from_numpy(np.array(values, dtype=np.float64)).flatten()


class WavelengthNormalize(SpectralTransform):
    """Standardize each band: the project's one per-band normalizer.

    Two ways to give the statistics:

    * **by wavelength** (``wavelengths`` given): mean and standard deviation on
      a wavelength table (e.g. a sensor's band centres) are linearly
      interpolated at the bands of each image, so one transform serves band
      subsets, shifted or simulated bands. Bands further than
      ``tolerance_nm`` outside the table are an error.
    * **by band position** (``wavelengths=None``): one mean and standard
      deviation per band of the data set's own band order (the statistics that
      :func:`~torchgeo_spectral.datamodules.compute_band_statistics` streams);
      an image with another band count is an error.

    With ``nonfinite`` set, values that are not finite after normalization
    (nodata as NaN) become that value (0: the band mean).
    """

    def __init__(
        self,
        wavelengths: ArrayLike | None,
        mean: ArrayLike,
        std: ArrayLike,
        tolerance_nm: float = 25.0,
        nonfinite: float | None = None,
    ) -> None:
        """Initialize WavelengthNormalize.

        Args:
            wavelengths: Table centres in nm, ``(K,)``, strictly increasing; or
                None for statistics by band position.
            mean: Mean per table band, ``(K,)``.
            std: Standard deviation per table band, ``(K,)``, positive.
            tolerance_nm: How far beyond the table ends a band may lie.
            nonfinite: Value for non-finite results, or None to keep them.

        Raises:
            ValueError: If the table is malformed.
        """
        super().__init__(p=1.0)
        self.mean = _float64_vector(mean)
        self.std = _float64_vector(std)
        self.table: Tensor | None = None
        sizes = {self.mean.numel(), self.std.numel()}
        if wavelengths is not None:
            self.table = _float64_vector(wavelengths)
            sizes.add(self.table.numel())
        if len(sizes) != 1 or self.mean.numel() == 0:
            msg = 'wavelengths, mean and std must be non-empty and of equal length'
            raise ValueError(msg)
        if self.table is not None and not is_increasing(self.table):
            msg = 'wavelengths of the statistics table must be strictly increasing'
            raise ValueError(msg)
        if not bool((self.std > 0).all()):
            msg = 'std must be positive'
            raise ValueError(msg)
        self.tolerance_nm = float(tolerance_nm)
        self.nonfinite = nonfinite

    @property
    def num_bands(self) -> int:
        """Number of bands of the statistics."""
        return int(self.mean.numel())

    def _by_position(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """Statistics of the image's bands by band position.

        Args:
            image: ``(B, C, H, W)``.

        Returns:
            ``(1, C)`` mean and standard deviation.

        Raises:
            ValueError: If the band count differs from the statistics.
        """
        if image.shape[1] != self.num_bands:
            msg = (
                f'batch has {image.shape[1]} bands but the normalization '
                f'statistics have {self.num_bands}'
            )
            raise ValueError(msg)
        return self.mean[None].to(image), self.std[None].to(image)

    def _by_wavelength(
        self, table: Tensor, image: Tensor, wavelength: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Statistics interpolated at the image's band centres.

        Args:
            table: Table centres in nm.
            image: ``(B, C, H, W)``.
            wavelength: ``(C,)`` or ``(B, C)``.

        Returns:
            ``(1, C)`` or ``(B, C)`` mean and standard deviation.

        Raises:
            ValueError: If a band lies too far outside the statistics table.
        """
        wl = wavelength.detach().cpu().double()
        low = float(table[0]) - self.tolerance_nm
        high = float(table[-1]) + self.tolerance_nm
        if bool((wl < low).any() or (wl > high).any()):
            msg = (
                f'bands at {float(wl.min()):g}-{float(wl.max()):g} nm lie outside '
                f'the normalization table {low:g}-{high:g} nm (with tolerance)'
            )
            raise ValueError(msg)
        mean = _interp(wl, table, self.mean).to(image)
        std = _interp(wl, table, self.std).to(image)
        if mean.ndim == 1:
            mean, std = mean[None], std[None]
        return mean, std

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Normalize the batch; wavelengths unchanged."""
        if self.table is None:
            mean, std = self._by_position(image)
        else:
            mean, std = self._by_wavelength(self.table, image, wavelength)
        out = (image - mean[:, :, None, None]) / std[:, :, None, None]
        if self.nonfinite is not None:
            fill = float(self.nonfinite)
            out = torch.nan_to_num(out, nan=fill, posinf=fill, neginf=fill)
        return out, wavelength

    def extra_repr(self) -> str:
        """Representation of the table range.

        Returns:
            Number of table bands and range.
        """
        if self.table is None:
            return f'bands={self.num_bands}, by band position'
        return (
            f'bands={self.table.numel()}, '
            f'range={float(self.table[0]):g}-{float(self.table[-1]):g} nm'
        )
