"""Band centres of the classic benchmark scenes, derived from sensor tables.

Only Indian Pines (AVIRIS, 200 bands) and Pavia University (ROSIS, 103 bands) have
tables in :mod:`torchgeo_spectral.sensors`; the others are derived here, each with
its documented approximation:

* **AVIRIS 224 channels** (:func:`aviris_224`): the channels of the Indian Pines
  table keep their published centres; the 24 channels absent from it get the
  least-squares line of their spectrometer (A: 1-32, B: 33-96, C: 97-160,
  D: 161-224) through the known channels.
* **Salinas** (204): AVIRIS 224 minus the water channels 108-112, 154-167 and 224.
* **Kennedy Space Center** (176): no published list of removed channels; the 176
  centres are AVIRIS channels spread evenly over the channels outside the water
  windows 1330-1480 nm and 1770-2000 nm (APPROXIMATION).
* **Botswana** (145): Hyperion bands 10-55, 82-97, 102-119, 134-164, 187-220
  (the list published with the scene), centres from the Hyperion table.
* **Pavia Centre** (102): evenly spaced 430-860 nm like the ROSIS table
  (APPROXIMATION; no published per-band table).
* **Houston 2013** (144): evenly spaced 380-1050 nm (CASI-1500, APPROXIMATION).
* **Uncorrected cubes**: Indian Pines (``Indian_pines.mat``, 220: AVIRIS 224
  minus channels 1, 33, 97 and 161, the channels its original ``92AV3C`` file
  lacks) and Salinas (``Salinas.mat``, all 224 AVIRIS channels).
* **Scenes published with a band count and a range only**, evenly spaced over
  it (APPROXIMATION): WHU-Hi LongKou and HongHu (270, 400-1000 nm) and HanChuan
  (274, 400-1000 nm; Headwall Nano-Hyperspec), Chikusei (128, 363-1018 nm;
  Headwall Hyperspec-VNIR-C), Houston 2018 (48, 380-1050 nm; CASI-1500), Trento
  (63, 402.89-989.09 nm; AISA Eagle) and Xiong'an (256, 400-1000 nm).

The cubes of these scenes carry no wavelengths, so each table also answers to its
scene's name wherever a sensor name is accepted for band centres
(``wavelengths='salinas'``; :func:`scene_wavelengths`, :func:`list_scenes`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .tables import _normalise_name, get_sensor

__all__ = [
    'aviris_224',
    'botswana',
    'houston2013',
    'indian_pines',
    'indian_pines_220',
    'kennedy_space_center',
    'list_scenes',
    'pavia_centre',
    'pavia_university',
    'salinas',
    'salinas_224',
    'scene_wavelengths',
    'scenes_with_bands',
]

FloatArray = npt.NDArray[np.float64]

_SPECTROMETERS = ((1, 32), (33, 96), (97, 160), (161, 224))


@cache
def aviris_224() -> FloatArray:
    """Centres (nm) of the 224 AVIRIS channels, channel order.

    Returns:
        224 centres.
    """
    table = Path(__file__).parent / 'data' / 'aviris_indian_pines.csv'
    known: dict[int, float] = {}
    with table.open() as f:
        rows = csv.DictReader(line for line in f if not line.startswith('#'))
        for row in rows:
            known[int(row['aviris_channel'])] = float(row['wavelength_nm'])
    out = np.empty(224, dtype=np.float64)
    for first, last in _SPECTROMETERS:
        channels = [c for c in range(first, last + 1) if c in known]
        slope, intercept = np.polyfit(channels, [known[c] for c in channels], 1)
        for c in range(first, last + 1):
            out[c - 1] = known.get(c, slope * c + intercept)
    return out


def _channels(ranges: list[tuple[int, int]]) -> list[int]:
    """Expand inclusive 1-based channel ranges.

    Args:
        ranges: ``(first, last)`` pairs.

    Returns:
        The channel numbers.
    """
    return [c for first, last in ranges for c in range(first, last + 1)]


def indian_pines() -> FloatArray:
    """Indian Pines corrected cube, 200 AVIRIS bands.

    Returns:
        Centres in nm.
    """
    return np.asarray(get_sensor('aviris_indian_pines').wavelengths, float)


def pavia_university() -> FloatArray:
    """Pavia University, 103 ROSIS bands.

    Returns:
        Centres in nm.
    """
    return np.asarray(get_sensor('rosis').wavelengths, float)


def pavia_centre() -> FloatArray:
    """Pavia Centre, 102 ROSIS bands, evenly spaced 430-860 nm (approximation).

    Returns:
        Centres in nm.
    """
    return np.linspace(430.0, 860.0, 102)


def salinas() -> FloatArray:
    """Salinas corrected cube: AVIRIS 224 minus channels 108-112, 154-167, 224.

    Returns:
        204 centres in nm.
    """
    removed = set(_channels([(108, 112), (154, 167), (224, 224)]))
    keep = [c - 1 for c in range(1, 225) if c not in removed]
    return aviris_224()[keep]


def kennedy_space_center() -> FloatArray:
    """KSC, 176 AVIRIS bands outside the water windows (approximation).

    Returns:
        176 centres in nm.
    """
    w = aviris_224()
    water = ((w >= 1330.0) & (w <= 1480.0)) | ((w >= 1770.0) & (w <= 2000.0))
    usable = np.flatnonzero(~water)
    pick = np.round(np.linspace(0, usable.size - 1, 176)).astype(int)
    return np.sort(w[usable[pick]])


def botswana() -> FloatArray:
    """Botswana, Hyperion bands 10-55, 82-97, 102-119, 134-164, 187-220.

    Returns:
        145 centres in nm.
    """
    table = get_sensor('hyperion')
    names = list(table.band_names)
    channels = _channels([(10, 55), (82, 97), (102, 119), (134, 164), (187, 220)])
    centres = [table.wavelengths[names.index(f'B{c:03d}')] for c in channels]
    return np.sort(np.asarray(centres, dtype=np.float64))


def houston2013() -> FloatArray:
    """Houston 2013 (GRSS DFC), 144 CASI bands evenly spaced 380-1050 nm.

    Returns:
        144 centres in nm.
    """
    return np.linspace(380.0, 1050.0, 144)


def indian_pines_220() -> FloatArray:
    """Indian Pines uncorrected cube: AVIRIS 224 minus channels 1, 33, 97, 161.

    Returns:
        220 centres in nm.
    """
    keep = [c - 1 for c in range(1, 225) if c not in (1, 33, 97, 161)]
    return aviris_224()[keep]


def salinas_224() -> FloatArray:
    """Salinas uncorrected cube: all 224 AVIRIS channels.

    Returns:
        224 centres in nm.
    """
    return aviris_224().copy()


#: Scenes published with a band count and a wavelength range only: ``(first
#: centre, last centre, bands)`` in nm, evenly spaced (APPROXIMATION).
_EVENLY_SPACED = {
    'chikusei': (363.0, 1018.0, 128),
    'houston2018': (380.0, 1050.0, 48),
    'trento': (402.89, 989.09, 63),
    'whu_hi_hanchuan': (400.0, 1000.0, 274),
    'whu_hi_honghu': (400.0, 1000.0, 270),
    'whu_hi_longkou': (400.0, 1000.0, 270),
    'xiongan': (400.0, 1000.0, 256),
}

#: Band tables by scene name (the names of :func:`list_scenes`).
_SCENES: dict[str, Callable[[], FloatArray]] = {
    'botswana': botswana,
    'houston2013': houston2013,
    'indian_pines': indian_pines,
    'indian_pines_220': indian_pines_220,
    'kennedy_space_center': kennedy_space_center,
    'pavia_centre': pavia_centre,
    'pavia_university': pavia_university,
    'salinas': salinas,
    'salinas_224': salinas_224,
    **{
        name: partial(np.linspace, first, last, count)
        for name, (first, last, count) in _EVENLY_SPACED.items()
    },
}
#: Other names the scenes go by (their files' names).
_ALIASES = {'ksc': 'kennedy_space_center', 'houston': 'houston2013'}


def list_scenes() -> list[str]:
    """Names of the classic scenes whose band tables :func:`scene_wavelengths` knows.

    Returns:
        Scene names, sorted alphabetically.
    """
    return sorted(_SCENES)


def scene_wavelengths(name: str) -> FloatArray | None:
    """Band centres of a classic scene's cube by the scene's name.

    Args:
        name: Scene name, case-insensitive; ``-``, ``_`` and spaces are
            interchangeable (``'Pavia University'`` is ``'pavia_university'``);
            ``'ksc'`` and ``'houston'`` as their files name them.

    Returns:
        Centres in nm, band order of the scene's cube, or None for another name.
    """
    key = _normalise_name(name)
    table = _SCENES.get(_ALIASES.get(key, key))
    return None if table is None else table()


def scenes_with_bands(num_bands: int) -> list[str]:
    """Classic scenes whose cubes have ``num_bands`` bands (for error hints).

    Args:
        num_bands: A cube's band count.

    Returns:
        Scene names, sorted alphabetically.
    """
    return [name for name in list_scenes() if _SCENES[name]().size == num_bands]
