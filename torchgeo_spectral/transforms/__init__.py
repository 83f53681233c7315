"""Spectral transforms and augmentations that keep wavelengths consistent.

Every transform takes a sample or batch dictionary (``image`` ``(C, H, W)`` or
``(B, C, H, W)`` and ``wavelength`` ``(C,)`` or ``(B, C)``; other keys pass
through) or an ``(image, wavelength)`` pair, and returns the same structure with
``wavelength`` matching the image's bands. Band-set changes draw one band set per
call, so apply them to batches (e.g. in ``on_after_batch_transfer``).
"""

from .bands import RandomBandDropout, RandomBandSubset, RandomBandWindow
from .base import SpectralTransform
from .intensity import RandomGaussianNoise, RandomIlluminationScale
from .normalize import WavelengthNormalize
from .sensor import RandomSimulateSensor, SimulateSensor
from .shift import RandomSpectralShift

__all__ = (
    'RandomBandDropout',
    'RandomBandSubset',
    'RandomBandWindow',
    'RandomGaussianNoise',
    'RandomIlluminationScale',
    'RandomSimulateSensor',
    'RandomSpectralShift',
    'SimulateSensor',
    'SpectralTransform',
    'WavelengthNormalize',
)
