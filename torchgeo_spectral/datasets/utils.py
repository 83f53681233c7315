"""Bad-band selection and collation of spectral samples.

Sorting and comparing band centres is done by :mod:`torchgeo_spectral.wavelengths`
(:func:`sort_bands` is re-exported here for compatibility).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torchgeo.datasets.utils import Sample

from ..sensors import get_sensor
from ..wavelengths import MixedBandSetsError, same_band_set, sort_bands, to_nanometers

__all__ = [
    'BadBandSpec',
    'BandSelection',
    'collate_spectral',
    'concat_spectral_samples',
    'requested_wavelengths',
    'select_bands',
    'sort_bands',
]


def requested_wavelengths(
    wavelengths: Sequence[float] | None, sensor: str | None
) -> npt.NDArray[np.float64] | None:
    """Band centres the user asked for: ``wavelengths=`` or a sensor's table.

    The datasets that accept either argument share this, so that both are read
    by one rule (:func:`~torchgeo_spectral.wavelengths.to_nanometers` for
    explicit values).

    Args:
        wavelengths: Explicit centres in file band order, or None.
        sensor: Sensor name (:func:`~torchgeo_spectral.sensors.get_sensor`), or None.

    Returns:
        Centres in nm, file order, or None when neither is given.

    Raises:
        ValueError: If both are given.
        ~torchgeo_spectral.wavelengths.WavelengthError: If the explicit centres
            break the wavelength rules.
    """
    if wavelengths is not None and sensor is not None:
        raise ValueError('give either sensor= or wavelengths=, not both')
    if wavelengths is not None:
        return to_nanometers(wavelengths, source='wavelengths=')
    if sensor is not None:
        return np.asarray(get_sensor(sensor).wavelengths, dtype=np.float64)
    return None


#: A bad-band entry: a 0-based band index (in file order) or an inclusive
#: ``(low, high)`` wavelength range in nm.
BadBandSpec = int | tuple[float, float] | Sequence[float]


@dataclass(frozen=True)
class BandSelection:
    """Which bands of a file to read, and their centres.

    Attributes:
        indexes: 0-based band indices into the FILE, in increasing-wavelength
            order, bad bands removed when requested.
        wavelengths: Centres in nm of the selected bands (strictly increasing).
        good: Boolean mask over the selected bands, False where a band is
            flagged bad (all True when bad bands were dropped).
    """

    indexes: npt.NDArray[np.intp]
    wavelengths: npt.NDArray[np.float64]
    good: npt.NDArray[np.bool_]


def _bad_band_mask(
    wavelengths: npt.NDArray[np.float64],
    bad_bands: Iterable[BadBandSpec] | None,
    file_good: npt.NDArray[np.bool_] | None,
    *,
    name: str,
) -> npt.NDArray[np.bool_]:
    """Boolean mask (file order) of GOOD bands.

    Args:
        wavelengths: Centres in file order.
        bad_bands: User bad bands: 0-based indices or ``(low, high)`` nm ranges.
        file_good: Bad-band list read from the file (True = good), or None.
        name: Name used in error messages.

    Returns:
        True for good bands, in file order.

    Raises:
        ValueError: If an index is out of range or a range is malformed.
    """
    count = wavelengths.size
    good = np.ones(count, dtype=bool)
    if file_good is not None:
        if file_good.shape != (count,):
            msg = (
                f'{name}: bad-band list has {file_good.size} entries for {count} bands'
            )
            raise ValueError(msg)
        good &= file_good.astype(bool)
    for spec in bad_bands or ():
        if isinstance(spec, int | np.integer):
            if not -count <= int(spec) < count:
                msg = f'{name}: bad band index {spec} out of range for {count} bands'
                raise ValueError(msg)
            good[int(spec)] = False
            continue
        bounds = list(spec)
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            msg = (
                f'{name}: bad band range {spec!r} must be (low, high) in nm with '
                'low <= high'
            )
            raise ValueError(msg)
        good &= ~((wavelengths >= bounds[0]) & (wavelengths <= bounds[1]))
    return good


def select_bands(
    wavelengths: npt.ArrayLike,
    *,
    bad_bands: Iterable[BadBandSpec] | None = None,
    file_good: npt.NDArray[np.bool_] | None = None,
    drop_bad_bands: bool = False,
    name: str = 'wavelengths',
) -> BandSelection:
    """Order bands by wavelength and optionally drop bad ones.

    Args:
        wavelengths: Band centres in nm, in file order.
        bad_bands: 0-based band indices (file order) or ``(low, high)`` nm ranges
            to flag as bad, in addition to ``file_good``.
        file_good: Bad-band list from the file metadata (True = good).
        drop_bad_bands: If True, flagged bands are removed from the selection.
        name: Name used in error messages (e.g. the file path).

    Returns:
        The band selection.

    Raises:
        ValueError: If wavelengths are duplicated/invalid, every band would be
            dropped, or a bad-band entry is invalid.
    """
    array = np.asarray(wavelengths, dtype=np.float64)
    sorted_w, order = sort_bands(array, source=name)
    good = _bad_band_mask(array, bad_bands, file_good, name=name)[order]
    if drop_bad_bands:
        if not good.any():
            raise ValueError(f'{name}: every band is flagged bad')
        return BandSelection(order[good], sorted_w[good], np.ones(good.sum(), bool))
    return BandSelection(order, sorted_w, good)


def _check_wavelength_rows(values: Sequence[Tensor]) -> Tensor:
    """Stack per-sample wavelength vectors, requiring that they all agree.

    Args:
        values: One ``(C,)`` tensor per sample.

    Returns:
        A ``(B, C)`` tensor.

    Raises:
        ~torchgeo_spectral.wavelengths.MixedBandSetsError: If the samples have
            different band sets (see
            :func:`~torchgeo_spectral.wavelengths.same_band_set`).
    """
    first = values[0]
    for i, value in enumerate(values[1:], start=1):
        if not same_band_set(value, first):
            msg = (
                'collate_spectral: a batch must not mix band sets, but sample '
                f'{i} has {value.numel()} bands ({_describe(value)}) while sample 0 '
                f'has {first.numel()} bands ({_describe(first)}); group samples by '
                'sensor/band set (one dataset per band set)'
            )
            raise MixedBandSetsError(msg)
    return torch.stack(list(values))


def _describe(wavelength: Tensor) -> str:
    """Short description of a wavelength vector for error messages.

    Args:
        wavelength: ``(C,)`` tensor in nm.

    Returns:
        A string like ``'400.0-2500.0 nm'``.
    """
    if wavelength.numel() == 0:
        return 'empty'
    return f'{float(wavelength.min()):.1f}-{float(wavelength.max()):.1f} nm'


def collate_spectral(samples: Iterable[Sample]) -> Sample:
    """Stack spectral samples into a batch, refusing mixed band sets.

    Every key is stacked along a new batch dimension, like TorchGeo's
    :func:`~torchgeo.datasets.stack_samples`; ``wavelength`` becomes ``(B, C)``
    and every row is checked, once per batch, to be the same band set as the
    first (:func:`~torchgeo_spectral.wavelengths.same_band_set`, within
    :data:`~torchgeo_spectral.wavelengths.BAND_SET_TOLERANCE_NM`). Rows keep
    their own values.

    Args:
        samples: Samples with equally shaped tensors.

    Returns:
        The batch.

    Raises:
        ValueError: If the samples are empty or lack a key another sample has.
        ~torchgeo_spectral.wavelengths.MixedBandSetsError: If they mix band sets
            (different ``wavelength``).
    """
    samples = list(samples)
    if not samples:
        raise ValueError('collate_spectral: no samples to collate')
    # Check the band sets first so that a mismatch is reported as such.
    keys = sorted(samples[0], key=lambda k: k != 'wavelength')
    batch: Sample = {}
    for key in keys:
        values = []
        for i, sample in enumerate(samples):
            if key not in sample:
                msg = f'collate_spectral: sample {i} has no {key!r} (sample 0 has)'
                raise ValueError(msg)
            value = sample[key]
            values.append(
                value if isinstance(value, Tensor) else torch.as_tensor(value)
            )
        if key == 'wavelength':
            batch[key] = _check_wavelength_rows(values)
        else:
            batch[key] = torch.stack(values)
    return batch


def concat_spectral_samples(samples: Iterable[Sample]) -> Sample:
    """Join the samples of an image and a mask dataset over the same slice.

    Used by ``HyperspectralRaster & other``: ``image`` and ``mask`` are
    concatenated along channels as TorchGeo's
    :func:`~torchgeo.datasets.concat_samples` does, but ``bounds``, ``transform``
    and ``wavelength`` are taken once (from the first sample that has them)
    instead of being concatenated, so they keep their shapes.

    Args:
        samples: Samples of the same spatiotemporal slice.

    Returns:
        A single sample.
    """
    single = {'bounds', 'transform', 'wavelength'}
    out: dict[str, list[Tensor]] = {}
    for sample in samples:
        for key, value in sample.items():
            out.setdefault(key, []).append(value)
    joined: Sample = {}
    for key, values in out.items():
        joined[key] = values[0] if key in single else torch.cat(values)
    return joined
