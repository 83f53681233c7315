"""Band sets of the cross-sensor / channel-count robustness study.

The labelled scene is resampled (Gaussian spectral response functions, via
:func:`torchgeo_spectral.sensors.resample_spectra`) to fewer or other bands, then
z-scored again with the statistics of the resampled scene.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .data import Scene, zscore

#: Sensors whose data is in the pretraining pool (see ``data.py``).
PRETRAINING_SENSORS = ('enmap', 'aviris_ng', 'corn_kernel', 'landsat8')


@dataclass
class BandSet:
    """Target bands of one robustness setting.

    Attributes:
        name: Key (``--band-sets``).
        label: Display name.
        wavelengths: Band centres in nm.
        fwhm: Band widths in nm.
        seen: How the band set relates to pretraining.
        note: Extra information (e.g. bands dropped outside the source range).
    """

    name: str
    label: str
    wavelengths: NDArray[np.float64]
    fwhm: NDArray[np.float64]
    seen: str
    note: str = ''

    @property
    def num_bands(self) -> int:
        """Number of bands."""
        return int(self.wavelengths.size)


def _uniform(
    scene: Scene, count: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``count`` evenly spaced bands over the scene's range, FWHM = spacing."""
    lo = float(scene.wavelengths.min() + scene.fwhm[0])
    hi = float(scene.wavelengths.max() - scene.fwhm[-1])
    wl = np.linspace(lo, hi, count)
    return wl, np.full(count, (hi - lo) / (count - 1))


def _inside(
    scene: Scene, wl: NDArray[np.float64], fwhm: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Target bands whose response (centre +/- FWHM) lies in the scene's range."""
    lo = scene.wavelengths.min() - scene.fwhm[0] / 2
    hi = scene.wavelengths.max() + scene.fwhm[-1] / 2
    return np.asarray((wl - fwhm >= lo) & (wl + fwhm <= hi))


def make_band_set(scene: Scene, name: str) -> BandSet:
    """The target bands of a named setting.

    ``'enmap'`` keeps the scene's own bands; ``'uniform_N'`` makes ``N`` evenly
    spaced bands; any other name is a sensor of
    :func:`torchgeo_spectral.sensors.get_sensor`, restricted to the bands the
    scene's spectral range can simulate.

    Args:
        scene: The labelled scene (its bands are the source).
        name: Setting name.

    Returns:
        The band set.
    """
    from torchgeo_spectral.sensors import get_sensor

    if name == 'enmap' or name == scene.name:
        seen = 'yes' if not scene.synthetic else 'yes (same scene)'
        return BandSet(
            name,
            f'native ({scene.wavelengths.size})',
            scene.wavelengths,
            scene.fwhm,
            seen,
        )
    if name.startswith('uniform_'):
        wl, fwhm = _uniform(scene, int(name.split('_')[1]))
        return BandSet(
            name, f'{wl.size} even bands', wl, fwhm, 'resampled (new band centres)'
        )
    sensor = get_sensor(name)
    wl = np.asarray(sensor.wavelengths, dtype=np.float64)
    fwhm = np.asarray(sensor.fwhm, dtype=np.float64)
    keep = _inside(scene, wl, fwhm)
    note = '' if keep.all() else f'{int(keep.sum())} of {wl.size} bands in range'
    seen = 'yes' if name in PRETRAINING_SENSORS else 'no (unseen sensor)'
    return BandSet(
        name, f'{name} ({int(keep.sum())})', wl[keep], fwhm[keep], seen, note
    )


def resample_scene(scene: Scene, band_set: BandSet) -> Scene:
    """The scene as seen by another band set.

    Args:
        scene: The source scene.
        band_set: Target bands.

    Returns:
        A scene with resampled ``raw`` and re-normalised ``image`` (labels and
        valid mask unchanged).
    """
    from torchgeo_spectral.sensors import resample_spectra

    if band_set.num_bands == scene.wavelengths.size and np.allclose(
        band_set.wavelengths, scene.wavelengths
    ):
        return scene
    raw = resample_spectra(
        scene.raw,
        scene.wavelengths,
        scene.fwhm,
        band_set.wavelengths,
        band_set.fwhm,
        dim=-3,
    ).astype(np.float32)
    return dataclasses.replace(
        scene,
        raw=raw,
        image=zscore(raw, scene.valid),
        wavelengths=band_set.wavelengths,
        fwhm=band_set.fwhm,
    )
