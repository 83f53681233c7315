"""Intensity augmentations: illumination and sensor noise (bands unchanged)."""

from __future__ import annotations

from typing import override

import torch
from torch import Tensor

from .base import SpectralTransform


def _range(value: float | tuple[float, float], name: str) -> tuple[float, float]:
    low, high = (value, value) if isinstance(value, int | float) else value
    if low > high:
        msg = f'{name} must be (low, high) with low <= high, got {value!r}'
        raise ValueError(msg)
    return float(low), float(high)


class RandomIlluminationScale(SpectralTransform):
    """Scale brightness, optionally with a smooth linear tilt across the spectrum.

    Each selected sample is multiplied by ``s * (1 + t * u(lambda))``, where
    ``s ~ U(scale)``, ``t ~ U(tilt)`` and ``u = (lambda - mid) / span`` runs from
    -0.5 at the shortest to +0.5 at the longest band, so ``t`` is the relative gain
    difference between both ends. Wavelengths are unchanged.
    """

    def __init__(
        self,
        scale: float | tuple[float, float] = (0.8, 1.2),
        tilt: float | tuple[float, float] = (0.0, 0.0),
        p: float = 0.5,
        seed: int | None = None,
    ) -> None:
        """Initialise RandomIlluminationScale.

        Args:
            scale: Range of the overall gain ``s`` (positive).
            tilt: Range of the spectral tilt ``t``, inside ``(-2, 2)`` so that
                gains stay positive.
            p: Probability of applying, per sample.
            seed: Seed of the transform's generator.

        Raises:
            ValueError: If a range is invalid.
        """
        super().__init__(p=p, seed=seed)
        self.scale = _range(scale, 'scale')
        self.tilt = _range(tilt, 'tilt')
        if self.scale[0] <= 0:
            msg = f'scale must be positive, got {scale!r}'
            raise ValueError(msg)
        if not -2 < self.tilt[0] <= self.tilt[1] < 2:
            msg = f'tilt must lie inside (-2, 2), got {tilt!r}'
            raise ValueError(msg)

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Scale the selected samples of the batch; wavelengths unchanged."""
        batch = image.shape[0]
        scale = self.uniform(*self.scale, batch, 1)
        tilt = self.uniform(*self.tilt, batch, 1)
        apply = self.coins(batch)[:, None]
        wl = wavelength.detach().cpu().double().expand(batch, -1)
        lo, hi = (
            wl.min(dim=-1, keepdim=True).values,
            wl.max(dim=-1, keepdim=True).values,
        )
        span = (hi - lo).clamp_min(1e-6)
        position = ((wl - (lo + hi) / 2) / span).float()
        gain = torch.where(apply, scale * (1 + tilt * position), 1.0)
        return image * gain.to(image)[:, :, None, None], wavelength


class RandomGaussianNoise(SpectralTransform):
    """Add white Gaussian noise at a random signal-to-noise ratio.

    For each selected sample, ``snr_db ~ U(snr_db)`` and every band ``c`` receives
    noise of standard deviation ``rms_c / 10 ** (snr_db / 20)``, where ``rms_c`` is
    the root mean square of that band over the image (so noisy bands scale with
    their signal, as photon-limited sensors do). Wavelengths are unchanged.
    """

    def __init__(
        self,
        snr_db: float | tuple[float, float] = (20.0, 40.0),
        p: float = 0.5,
        seed: int | None = None,
    ) -> None:
        """Initialise RandomGaussianNoise.

        Args:
            snr_db: Range of the signal-to-noise ratio in decibels.
            p: Probability of applying, per sample.
            seed: Seed of the transform's generator (noise included).
        """
        super().__init__(p=p, seed=seed)
        self.snr_db = _range(snr_db, 'snr_db')

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Add noise to the selected samples of the batch; wavelengths unchanged."""
        batch = image.shape[0]
        snr = self.uniform(*self.snr_db, batch)
        apply = self.coins(batch)
        rms = image.float().pow(2).mean(dim=(-2, -1), keepdim=True).sqrt()
        factor = torch.where(apply, 10 ** (-snr / 20), 0.0).to(rms)
        sigma = rms * factor[:, None, None, None]
        noise = torch.randn(
            image.shape,
            generator=self.device_generator(image.device),
            device=image.device,
            dtype=sigma.dtype,
        )
        return (image + noise * sigma).to(image.dtype), wavelength
