"""Wavelengths of a batch: extraction and validation.

Every batch the spectral tasks see must say which band centres (nm) its image
channels carry, either per sample (``batch['wavelength']`` of shape (B, C), as
stacked by the collate functions) or once (shape (C,)). A batch may hold one band
set only; different sensors are mixed *across* batches, never within one.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

#: Batch key holding the band centres in nm.
WAVELENGTH_KEY = 'wavelength'


class WavelengthError(ValueError):
    """The wavelengths of a batch are missing or disagree with its image."""


class MixedBandSetsError(WavelengthError):
    """A batch holds samples with different band sets."""


def as_wavelength_tensor(values: Sequence[float] | Tensor | None) -> Tensor | None:
    """Convert optional band centres to a 1-D float32 tensor.

    Args:
        values: Band centres in nm, or None.

    Returns:
        A tensor of shape (C,), or None when ``values`` is None.

    Raises:
        WavelengthError: If the values are not a non-empty 1-D sequence.
    """
    if values is None:
        return None
    tensor = torch.as_tensor(values, dtype=torch.float32).detach().clone()
    if tensor.ndim != 1 or tensor.numel() == 0:
        raise WavelengthError(
            f'wavelengths must be a non-empty 1-D sequence, got shape '
            f'{tuple(tensor.shape)}'
        )
    return tensor


def batch_wavelengths(
    batch: Mapping[str, Any], default: Tensor | None = None, key: str = 'image'
) -> Tensor:
    """Band centres shared by every sample of a batch.

    Args:
        batch: A batch with ``image`` (B, C, H, W) and ``wavelength`` ((B, C) or
            (C,)).
        default: Band centres (C,) to use when the batch has no ``wavelength``.
        key: Key of the image in the batch.

    Returns:
        Band centres of shape (C,), float32, on the device of the image.

    Raises:
        WavelengthError: If the batch has no wavelengths and no default is
            given, or if their count disagrees with the image channels.
        MixedBandSetsError: If the samples of the batch carry different band
            sets.
    """
    image: Tensor = batch[key]
    raw = batch.get(WAVELENGTH_KEY)
    if raw is None:
        if default is None:
            raise WavelengthError(
                f"batch has no '{WAVELENGTH_KEY}' key: use a torchgeo_spectral "
                'dataset, or give the task `wavelengths=[...]` or `sensor=...`'
            )
        wavelengths = default
    else:
        wavelengths = torch.as_tensor(raw)
    if wavelengths.ndim == 2:
        first = wavelengths[0]
        if wavelengths.shape[1] != first.numel() or not bool(
            torch.all(wavelengths == first.unsqueeze(0))
        ):
            raise MixedBandSetsError(
                'a batch must hold one band set, but its samples carry different '
                'wavelengths; batch samples by sensor (mix sensors across batches)'
            )
        wavelengths = first
    if wavelengths.ndim != 1:
        raise WavelengthError(
            f"'{WAVELENGTH_KEY}' must have shape (C,) or (B, C), got "
            f'{tuple(wavelengths.shape)}'
        )
    channels = image.shape[-3]
    if wavelengths.numel() != channels:
        raise WavelengthError(
            f'batch has {wavelengths.numel()} wavelengths but its image has '
            f'{channels} channels (shape {tuple(image.shape)})'
        )
    return wavelengths.to(device=image.device, dtype=torch.float32)


def default_wavelengths(
    wavelengths: Sequence[float] | None = None, sensor: str | None = None
) -> Tensor | None:
    """Band centres to assume for batches without a ``wavelength`` key.

    Args:
        wavelengths: Explicit band centres in nm.
        sensor: Name of a sensor known to :func:`torchgeo_spectral.sensors.get_sensor`.

    Returns:
        Band centres of shape (C,), or None when neither is given.

    Raises:
        WavelengthError: If both are given.
        ValueError: If the sensor is unknown.
    """
    if wavelengths is not None and sensor is not None:
        raise WavelengthError('give either wavelengths or sensor, not both')
    if sensor is not None:
        from torchgeo_spectral.sensors import get_sensor

        return as_wavelength_tensor(
            torch.tensor(get_sensor(sensor).wavelengths.tolist())
        )
    return as_wavelength_tensor(wavelengths)
