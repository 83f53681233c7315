"""TorchGeo tasks for spectral pretraining and fine-tuning.

* :class:`SpectralMAETask`: masked-autoencoder pretraining on batches that carry
  their band centres (``wavelength``), mixing sensors across batches.
* :class:`SpectralClassificationTask`, :class:`SpectralSegmentationTask`,
  :class:`SpectralRegressionTask`, :class:`SpectralPixelwiseRegressionTask`:
  TorchGeo's tasks with a wavelength-aware spectral ViT backbone, initialised
  from a pretraining checkpoint or exported encoder weights, for full
  fine-tuning or linear probing (``freeze_backbone=True``).
"""

from .finetune import (
    SpectralClassificationTask,
    SpectralFineTuneMixin,
    SpectralPixelwiseRegressionTask,
    SpectralRegressionTask,
    SpectralSegmentationTask,
)
from .pretrain import SpectralMAETask
from .wavelengths import MixedBandSetsError, WavelengthError, batch_wavelengths

__all__ = [
    'MixedBandSetsError',
    'SpectralClassificationTask',
    'SpectralFineTuneMixin',
    'SpectralMAETask',
    'SpectralPixelwiseRegressionTask',
    'SpectralRegressionTask',
    'SpectralSegmentationTask',
    'WavelengthError',
    'batch_wavelengths',
]
