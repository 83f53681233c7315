"""TorchGeo tasks for spectral pretraining and fine-tuning.

* :class:`SpectralMAETask`: masked-autoencoder pretraining on batches that carry
  their band centres (``wavelength``), mixing sensors across batches.
* :class:`SpectralClassificationTask`, :class:`SpectralSegmentationTask`,
  :class:`SpectralRegressionTask`, :class:`SpectralPixelwiseRegressionTask`:
  TorchGeo's tasks with a wavelength-aware spectral ViT backbone, initialized
  from a pretraining checkpoint or exported encoder weights, trained with a
  few-label recipe (:class:`SpectralFineTuneMixin`: low encoder learning rate,
  layer-wise decay, warm-up + cosine, no weight decay on norms and biases,
  label smoothing, optional linear probe then fine-tune).
"""

from ..wavelengths import MixedBandSetsError, WavelengthError
from .finetune import (
    DenseHeadMixin,
    LabelTargetMixin,
    PooledHeadMixin,
    SpectralClassificationTask,
    SpectralFineTuneMixin,
    SpectralPixelwiseRegressionTask,
    SpectralRegressionTask,
    SpectralSegmentationTask,
    ValueTargetMixin,
)
from .pretrain import SpectralMAETask
from .wavelengths import batch_wavelengths

__all__ = [
    'DenseHeadMixin',
    'LabelTargetMixin',
    'MixedBandSetsError',
    'PooledHeadMixin',
    'SpectralClassificationTask',
    'SpectralFineTuneMixin',
    'SpectralMAETask',
    'SpectralPixelwiseRegressionTask',
    'SpectralRegressionTask',
    'SpectralSegmentationTask',
    'ValueTargetMixin',
    'WavelengthError',
    'batch_wavelengths',
]
