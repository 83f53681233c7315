"""Analytic reflectance spectra of a few common surface materials.

The spectra are smooth, physically plausible shapes built from a handful of
features (absorption bands, red edge, continuum slope) over 400-2500 nm. They are
not measured library spectra; they serve the synthetic demo scene only.
"""

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Names of the demo materials, in label order.
MATERIALS: tuple[str, ...] = (
    'water',
    'vegetation',
    'dry_grass',
    'soil',
    'concrete',
    'asphalt',
)


def _gauss(wl: Array, centre: float, width: float) -> Array:
    """Gaussian bump of unit height.

    Args:
        wl: Wavelengths in nm.
        centre: Centre of the bump in nm.
        width: Standard deviation in nm.

    Returns:
        Values in [0, 1], same shape as ``wl``.
    """
    return np.exp(-0.5 * ((wl - centre) / width) ** 2)


def _sigmoid(wl: Array, centre: float, width: float) -> Array:
    """Smooth step from 0 to 1 around ``centre``.

    Args:
        wl: Wavelengths in nm.
        centre: Centre of the step in nm.
        width: Width of the step in nm.

    Returns:
        Values in (0, 1), same shape as ``wl``.
    """
    return 1.0 / (1.0 + np.exp(-(wl - centre) / width))


def _water_vapour(wl: Array, depth: float) -> Array:
    """Multiplicative leaf-water absorption at 970, 1200, 1450 and 1940 nm.

    Args:
        wl: Wavelengths in nm.
        depth: Overall depth of the absorption features (0-1).

    Returns:
        Factors in (0, 1], same shape as ``wl``.
    """
    absorption = (
        0.08 * _gauss(wl, 970, 30)
        + 0.15 * _gauss(wl, 1200, 50)
        + 0.55 * _gauss(wl, 1450, 70)
        + 0.75 * _gauss(wl, 1940, 90)
        + 0.3 * _sigmoid(wl, 2400, 60)
    )
    return 1.0 - depth * absorption


def water(wl: Array) -> Array:
    """Reflectance of clear, deep water: low in the blue, near zero in the NIR."""
    return 0.02 + 0.05 * _gauss(wl, 470, 90) - 0.018 * _sigmoid(wl, 720, 40)


def vegetation(wl: Array) -> Array:
    """Reflectance of green vegetation: green peak, chlorophyll well, red edge."""
    visible = 0.04 + 0.06 * _gauss(wl, 550, 35) - 0.02 * _gauss(wl, 670, 25)
    nir = 0.42 * _sigmoid(wl, 715, 14) * (1.0 - 0.35 * _sigmoid(wl, 1350, 80))
    swir_slope = 1.0 - 0.25 * _sigmoid(wl, 2000, 200)
    return (visible + nir * swir_slope) * _water_vapour(wl, 0.8)


def dry_grass(wl: Array) -> Array:
    """Reflectance of senescent grass: weak red edge, cellulose/lignin features."""
    base = 0.08 + 0.25 * _sigmoid(wl, 650, 60) + 0.08 * _sigmoid(wl, 1000, 150)
    cellulose = 1.0 - 0.12 * _gauss(wl, 1730, 40) - 0.2 * _gauss(wl, 2100, 50)
    return base * cellulose * _water_vapour(wl, 0.35)


def soil(wl: Array) -> Array:
    """Reflectance of a bare, iron-bearing clay soil: rising continuum, clay dip."""
    continuum = 0.08 + 0.27 * _sigmoid(wl, 900, 350)
    iron = 1.0 - 0.08 * _gauss(wl, 880, 80)
    clay = 1.0 - 0.15 * _gauss(wl, 2200, 35)
    return continuum * iron * clay * _water_vapour(wl, 0.2)


def concrete(wl: Array) -> Array:
    """Reflectance of concrete: bright and flat, with a carbonate dip at 2330 nm."""
    base = 0.26 + 0.06 * _sigmoid(wl, 600, 120) - 0.03 * _sigmoid(wl, 1800, 200)
    carbonate = 1.0 - 0.15 * _gauss(wl, 2330, 40)
    return base * carbonate * _water_vapour(wl, 0.1)


def asphalt(wl: Array) -> Array:
    """Reflectance of aged asphalt: dark, slowly rising, hydrocarbon features."""
    base = 0.05 + 0.07 * _sigmoid(wl, 1200, 500)
    hydrocarbon = 1.0 - 0.1 * _gauss(wl, 1730, 30) - 0.1 * _gauss(wl, 2310, 30)
    return base * hydrocarbon


_LIBRARY: dict[str, Callable[[Array], Array]] = {
    'water': water,
    'vegetation': vegetation,
    'dry_grass': dry_grass,
    'soil': soil,
    'concrete': concrete,
    'asphalt': asphalt,
}


def material_spectra(wavelengths: Array) -> Array:
    """Reflectance of every demo material at the given wavelengths.

    Args:
        wavelengths: Band centres in nm, shape (C,).

    Returns:
        Reflectance in [0, 1], shape (len(MATERIALS), C).
    """
    wl = np.asarray(wavelengths, dtype=np.float64)
    spectra = np.stack([_LIBRARY[name](wl) for name in MATERIALS])
    return np.clip(spectra, 0.0, 1.0)
