"""Band centres as the tasks need them: the batch's, or a validated fallback.

Datasets put each sample's band centres (nm) in ``wavelength`` and the collate
functions stack them, checking that a batch holds one band set; the model checks
that their shape fits the image. Tasks only pass ``batch['wavelength']`` on, and
fall back to the ``wavelengths=``/``sensor=`` hyperparameters (validated once,
when the task is built) for batches from stock TorchGeo data modules, which
carry none.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..wavelengths import WavelengthError, check_wavelengths, to_nanometers

#: Batch key holding the band centres in nm.
WAVELENGTH_KEY = 'wavelength'


def batch_wavelengths(
    batch: Mapping[str, Any], default: Tensor | None = None
) -> Tensor:
    """The band centres to pass to the model with a batch's image.

    Args:
        batch: A batch with ``image`` (B, C, H, W) and usually ``wavelength``
            ((B, C) or (C,)).
        default: Band centres (C,) for batches without ``wavelength``.

    Returns:
        ``batch['wavelength']`` (or ``default``) as a float tensor on the
        image's device; its shape is checked by the model.

    Raises:
        WavelengthError: If the batch has no wavelengths and there is no default.
    """
    image: Tensor = batch['image']
    raw = batch.get(WAVELENGTH_KEY)
    if raw is None:
        if default is None:
            raise WavelengthError(
                f"batch has no '{WAVELENGTH_KEY}' key: use a torchgeo_spectral "
                'dataset, or give the task `wavelengths=[...]` or `sensor=...`'
            )
        raw = default
    return torch.as_tensor(raw).to(device=image.device, dtype=torch.float32)


def fallback_wavelengths(
    wavelengths: Sequence[float] | None = None, sensor: str | None = None
) -> Tensor | None:
    """Validated band centres for batches without a ``wavelength`` key.

    Args:
        wavelengths: Explicit band centres in nm.
        sensor: Name of a sensor known to :func:`torchgeo_spectral.sensors.get_sensor`.

    Returns:
        Band centres of shape (C,), or None when neither is given.

    Raises:
        WavelengthError: If both are given.
        ValueError: If the sensor is unknown or the wavelengths are invalid
            (the message names the offending values).
    """
    if wavelengths is not None and sensor is not None:
        raise WavelengthError(
            f'give either wavelengths or sensor, not both (found sensor={sensor!r} '
            f'and {len(wavelengths)} wavelengths)'
        )
    if sensor is not None:
        from torchgeo_spectral.sensors import get_sensor

        wavelengths = get_sensor(sensor).wavelengths.tolist()
    if wavelengths is None:
        return None
    values = check_wavelengths(
        to_nanometers(wavelengths, source='task wavelengths'), source='task wavelengths'
    )
    return torch.tensor(values, dtype=torch.float32)
