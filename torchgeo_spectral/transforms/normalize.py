"""Per-band normalisation keyed by wavelength."""

from __future__ import annotations

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


class WavelengthNormalize(SpectralTransform):
    """Standardise each band with statistics looked up by its wavelength.

    Mean and standard deviation are given on a wavelength table (e.g. a
    sensor's band centres) and linearly interpolated at the bands of each
    image, so one transform serves band subsets, shifted or simulated bands.
    Bands further than ``tolerance_nm`` outside the table are an error.
    """

    def __init__(
        self,
        wavelengths: ArrayLike,
        mean: ArrayLike,
        std: ArrayLike,
        tolerance_nm: float = 25.0,
    ) -> None:
        """Initialise WavelengthNormalize.

        Args:
            wavelengths: Table centres in nm, ``(K,)``, strictly increasing.
            mean: Mean per table band, ``(K,)``.
            std: Standard deviation per table band, ``(K,)``, positive.
            tolerance_nm: How far beyond the table ends a band may lie.

        Raises:
            ValueError: If the table is malformed.
        """
        super().__init__(p=1.0)
        self.table = torch.from_numpy(np.array(wavelengths, dtype=np.float64)).flatten()
        self.mean = torch.from_numpy(np.array(mean, dtype=np.float64)).flatten()
        self.std = torch.from_numpy(np.array(std, dtype=np.float64)).flatten()
        sizes = {self.table.numel(), self.mean.numel(), self.std.numel()}
        if len(sizes) != 1 or self.table.numel() == 0:
            msg = 'wavelengths, mean and std must be non-empty and of equal length'
            raise ValueError(msg)
        if not is_increasing(self.table):
            msg = 'wavelengths of the statistics table must be strictly increasing'
            raise ValueError(msg)
        if not bool((self.std > 0).all()):
            msg = 'std must be positive'
            raise ValueError(msg)
        self.tolerance_nm = float(tolerance_nm)

    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Normalise the batch.

        Args:
            image: ``(B, C, H, W)``.
            wavelength: ``(C,)`` or ``(B, C)``.

        Returns:
            The normalised image and the unchanged wavelengths.

        Raises:
            ValueError: If a band lies too far outside the statistics table.
        """
        wl = wavelength.detach().cpu().double()
        low = float(self.table[0]) - self.tolerance_nm
        high = float(self.table[-1]) + self.tolerance_nm
        if bool((wl < low).any() or (wl > high).any()):
            msg = (
                f'bands at {float(wl.min()):g}-{float(wl.max()):g} nm lie outside '
                f'the normalisation table {low:g}-{high:g} nm (with tolerance)'
            )
            raise ValueError(msg)
        mean = _interp(wl, self.table, self.mean).to(image)
        std = _interp(wl, self.table, self.std).to(image)
        if mean.ndim == 1:
            mean, std = mean[None], std[None]
        return (image - mean[:, :, None, None]) / std[:, :, None, None], wavelength

    def extra_repr(self) -> str:
        """Representation of the table range.

        Returns:
            Number of table bands and range.
        """
        return (
            f'bands={self.table.numel()}, '
            f'range={float(self.table[0]):g}-{float(self.table[-1]):g} nm'
        )
