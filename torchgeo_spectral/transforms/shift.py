"""Random spectral shift: perturb band centres within a fraction of their FWHM."""

from __future__ import annotations

from typing import Literal, override

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from .base import SpectralTransform
from .functional import band_spacing, interpolate_bands, is_increasing


class RandomSpectralShift(SpectralTransform):
    """Shift band centres by up to ``max_fraction`` of each band's FWHM.

    A factor ``u ~ U(-1, 1)`` is drawn (once per batch, or per sample with
    ``same_on_batch=False``) and band ``c`` moves by ``u * max_fraction *
    fwhm_c`` nm. If unequal FWHM would break the strict ordering of the centres,
    every band moves by ``u * max_fraction * min(fwhm)`` instead. The output
    ``wavelength`` holds the shifted centres in both modes:

    * ``mode='relabel'`` (default): the image is unchanged; this simulates a
      wavelength-calibration error (the data no longer sit exactly at the
      labelled centres), teaching robustness to imprecise band tables.
    * ``mode='interpolate'``: the image is linearly interpolated along the
      spectrum to the shifted centres (ends held constant), so data and
      wavelengths stay physically consistent, as for a sensor whose bands sit
      slightly elsewhere.

    With ``same_on_batch=False`` a ``(C,)`` wavelength of a batch becomes
    ``(B, C)``.
    """

    def __init__(
        self,
        max_fraction: float = 0.25,
        fwhm: ArrayLike | None = None,
        mode: Literal['relabel', 'interpolate'] = 'relabel',
        same_on_batch: bool = True,
        p: float = 0.5,
        seed: int | None = None,
    ) -> None:
        """Initialise RandomSpectralShift.

        Args:
            max_fraction: Largest shift as a fraction of the FWHM (``>= 0``).
            fwhm: FWHM of the bands (nm), ``(C,)``; None estimates it by the
                local band spacing.
            mode: ``'relabel'`` or ``'interpolate'`` (see above).
            same_on_batch: One shift for the whole batch (keeps a shared
                ``(C,)`` wavelength) or one per sample.
            p: Probability of applying (per batch, or per sample with
                ``same_on_batch=False``).
            seed: Seed of the transform's generator.

        Raises:
            ValueError: If an argument is out of range.
        """
        super().__init__(p=p, seed=seed)
        if max_fraction < 0:
            msg = f'max_fraction must be >= 0, got {max_fraction}'
            raise ValueError(msg)
        if mode not in ('relabel', 'interpolate'):
            msg = f"mode must be 'relabel' or 'interpolate', got {mode!r}"
            raise ValueError(msg)
        self.max_fraction = float(max_fraction)
        self.fwhm = (
            None if fwhm is None else torch.from_numpy(np.array(fwhm, dtype=np.float64))
        )
        self.mode = mode
        self.same_on_batch = same_on_batch

    def _widths(self, wavelength: Tensor) -> Tensor:
        bands = wavelength.shape[-1]
        if self.fwhm is not None:
            if self.fwhm.shape != (bands,):
                msg = f'fwhm has {self.fwhm.numel()} values for {bands} bands'
                raise ValueError(msg)
            return self.fwhm.to(wavelength.device)
        if bands < 2:
            msg = 'cannot estimate the FWHM of a single band; pass fwhm'
            raise ValueError(msg)
        return band_spacing(wavelength).abs()

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Shift the band centres (and interpolate the image if asked)."""
        batch = image.shape[0]
        wl = wavelength.double()
        widths = self._widths(wl)
        if self.same_on_batch:
            factor = self.uniform(-1, 1, 1) * float(self.coin())
        else:
            factor = self.uniform(-1, 1, batch) * self.coins(batch)
            wl = wl.expand(batch, -1)
        factor = factor.double().to(wl.device)[:, None] * self.max_fraction
        if factor.shape[0] == 1 and wl.ndim == 1:
            factor = factor[0]
        shifted = wl + factor * widths
        if not is_increasing(shifted):
            floor = widths.min(dim=-1, keepdim=True).values
            shifted = wl + factor * floor
        out = shifted.to(wavelength.dtype)
        if self.mode == 'interpolate':
            image = interpolate_bands(image, wavelength, out)
        return image, out
