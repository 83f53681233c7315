"""Simulate another sensor's bands from a spectral image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import override

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import Tensor, nn

from ..sensors import Sensor, get_sensor, resample_spectra, resampling_matrix
from .base import SpectralTransform


class SimulateSensor(SpectralTransform):
    """Resample an image to the bands of another sensor with Gaussian SRFs.

    The output equals :func:`torchgeo_spectral.sensors.resample_spectra` with the
    target sensor's centres and FWHM, and ``wavelength`` becomes the target's
    centres (float32). A batch whose samples carry different wavelengths is
    resampled sample by sample.
    """

    def __init__(
        self,
        target: str | Sensor,
        source_fwhm: ArrayLike | None = None,
        drop_out_of_range: bool = False,
        p: float = 1.0,
        seed: int | None = None,
    ) -> None:
        """Initialise SimulateSensor.

        Args:
            target: Target sensor (a :class:`~torchgeo_spectral.sensors.Sensor` or
                a name for :func:`~torchgeo_spectral.sensors.get_sensor`, e.g.
                ``'sentinel2'``).
            source_fwhm: FWHM (nm) of the input bands, or None; it only widens the
                accepted source range.
            drop_out_of_range: Keep only the target bands that
                :func:`~torchgeo_spectral.sensors.resampling_matrix` accepts
                (inside the source range), instead of raising (e.g. to simulate
                Landsat 8 from a VNIR/SWIR sensor without its thermal bands).
            p: Probability of simulating (one draw per batch).
            seed: Seed of the generator used for ``p``.
        """
        super().__init__(p=p, seed=seed)
        self.sensor = get_sensor(target) if isinstance(target, str) else target
        self.source_fwhm: NDArray[np.float64] | None = (
            None if source_fwhm is None else np.asarray(source_fwhm, dtype=np.float64)
        )
        self.drop_out_of_range = drop_out_of_range

    def _target(self, src: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        """Target centres and FWHM usable from a source band table.

        Args:
            src: Source centres (nm).

        Returns:
            ``(centres, fwhm)`` of the target bands to simulate.

        Raises:
            ValueError: If no target band lies inside the source range.
        """
        dst = np.asarray(self.sensor.wavelengths, dtype=np.float64)
        fwhm = np.asarray(self.sensor.fwhm, dtype=np.float64)
        if not self.drop_out_of_range:
            return dst, fwhm
        # Ask the sensors module band by band, so its range rule is the only one.
        keep = np.array(
            [
                self._covered(src, dst[i : i + 1], fwhm[i : i + 1])
                for i in range(dst.size)
            ]
        )
        if not keep.any():
            msg = (
                f'no band of {self.sensor.name} lies inside the source range '
                f'{src[0]:g}-{src[-1]:g} nm'
            )
            raise ValueError(msg)
        return dst[keep], fwhm[keep]

    def _covered(
        self,
        src: NDArray[np.float64],
        dst: NDArray[np.float64],
        fwhm: NDArray[np.float64],
    ) -> bool:
        """Whether the sensors module accepts resampling ``src`` to one band.

        Args:
            src: Source centres (nm).
            dst: One target centre (nm), shape ``(1,)``.
            fwhm: Its FWHM (nm), shape ``(1,)``.

        Returns:
            True when :func:`~torchgeo_spectral.sensors.resampling_matrix` accepts
            the band.
        """
        try:
            resampling_matrix(src, self.source_fwhm, dst, fwhm)
        except ValueError:
            return False
        return True

    def _resample(self, image: Tensor, src: Tensor) -> tuple[Tensor, Tensor]:
        src_np = src.detach().cpu().double().numpy()
        dst, fwhm = self._target(src_np)
        out = resample_spectra(image, src_np, self.source_fwhm, dst, fwhm, dim=-3)
        return out, torch.tensor(dst, dtype=torch.float32, device=image.device)

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Resample the batch to the target bands.

        The result is ``(B, C', H, W)`` with the target centres, ``(C',)`` or
        ``(B, C')``.
        """
        if not self.coin():
            return image, wavelength
        if wavelength.ndim == 1 or bool((wavelength == wavelength[:1]).all()):
            src = wavelength if wavelength.ndim == 1 else wavelength[0]
            out, dst = self._resample(image, src)
        else:
            pairs = [
                self._resample(img, wl)
                for img, wl in zip(image, wavelength, strict=True)
            ]
            out = torch.stack([o for o, _ in pairs])
            dst = pairs[0][1]
        if wavelength.ndim == 2:
            dst = dst.expand(image.shape[0], -1).clone()
        return out, dst

    def extra_repr(self) -> str:
        """Representation of the target.

        Returns:
            Target name and probability.
        """
        return f'target={self.sensor.name!r}, p={self.p}'


class RandomSimulateSensor(SpectralTransform):
    """Simulate one sensor drawn at random from a list, once per batch.

    For pretraining on few sensors: each batch is, with probability ``p``,
    resampled (as :class:`SimulateSensor` with ``drop_out_of_range=True``) to a
    target drawn uniformly from those that suit its band set: targets that keep
    at least ``min_bands`` bands inside the source range and have fewer bands
    than the source (simulating a coarser sensor, never inventing detail). A
    batch that no target suits passes unchanged.
    """

    def __init__(
        self,
        targets: Sequence[str | Sensor] = ('sentinel2', 'landsat8', 'desis', 'rgb'),
        min_bands: int = 3,
        p: float = 0.25,
        seed: int | None = None,
    ) -> None:
        """Initialize RandomSimulateSensor.

        Args:
            targets: Sensors (or names for
                :func:`~torchgeo_spectral.sensors.get_sensor`) to draw from.
            min_bands: Fewest simulated bands a target must keep.
            p: Probability of simulating (one draw per batch).
            seed: Seed of the draws.

        Raises:
            ValueError: If ``targets`` is empty or ``min_bands`` < 1.
        """
        super().__init__(p=p, seed=seed)
        if not targets:
            raise ValueError('targets must name at least one sensor')
        if min_bands < 1:
            raise ValueError(f'min_bands must be >= 1, got {min_bands}')
        self.min_bands = int(min_bands)
        self.simulators = nn.ModuleList(
            SimulateSensor(t, drop_out_of_range=True) for t in targets
        )
        self._suitable: dict[tuple[float, ...], list[int]] = {}

    def suitable(self, wavelength: Tensor) -> list[int]:
        """Indices of the targets that suit a source band set (cached).

        Args:
            wavelength: ``(C,)`` source centres in nm.

        Returns:
            Indices into :attr:`simulators`.
        """
        src = wavelength.detach().cpu().double().numpy()
        key = tuple(round(float(w), 3) for w in src)
        if key not in self._suitable:
            found = []
            for i, sim in enumerate(self.simulators):
                assert isinstance(sim, SimulateSensor)
                try:
                    count = sim._target(src)[0].size
                except ValueError:
                    continue
                if self.min_bands <= count < src.size:
                    found.append(i)
            self._suitable[key] = found
        return self._suitable[key]

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Resample the batch (one band set) to a random suitable sensor.

        The result is the simulated image and its centres, or the input unchanged.
        """
        if not self.coin():
            return image, wavelength
        src = wavelength if wavelength.ndim == 1 else wavelength[0]
        choices = self.suitable(src)
        if not choices:
            return image, wavelength
        sim = self.simulators[choices[self.randint(0, len(choices) - 1)]]
        assert isinstance(sim, SimulateSensor)
        return sim.apply_batch(image, wavelength)

    def extra_repr(self) -> str:
        """Representation of the targets.

        Returns:
            Target names and probability.
        """
        names = [
            s.sensor.name for s in self.simulators if isinstance(s, SimulateSensor)
        ]
        return f'targets={names}, p={self.p}'
