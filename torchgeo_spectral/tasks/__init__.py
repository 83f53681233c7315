"""TorchGeo tasks for spectral pretraining and fine-tuning.

* :class:`SpectralMAETask`: masked-autoencoder pretraining on batches that carry
  their band centres (``wavelength``), mixing sensors across batches.
* :class:`SpectralClassificationTask`, :class:`SpectralSegmentationTask`,
  :class:`SpectralRegressionTask`, :class:`SpectralPixelwiseRegressionTask`:
  TorchGeo's tasks with a wavelength-aware spectral ViT backbone, initialised
  from a pretraining checkpoint or exported encoder weights, for full
  fine-tuning or linear probing (``freeze_backbone=True``).
* :class:`MixedCubeFolderDataModule`: pretraining batches from a folder of cubes
  of several sensors (proximal and remote), one band set per batch.
* :class:`ResumableDataLoader`: exact mid-epoch resumption from checkpoints.
"""

from .backbone import (
    BackboneMismatchError,
    available_models,
    checkpoint_encoder_weights,
    load_pretrained_backbone,
    read_checkpoint_encoder,
)
from .finetune import (
    SpectralClassificationTask,
    SpectralFineTuneMixin,
    SpectralPixelwiseRegressionTask,
    SpectralRegressionTask,
    SpectralSegmentationTask,
)
from .heads import FeatureMapHead, SpectralDenseModel
from .mixed import BandSetBatchSampler, MixedCubeFolderDataModule
from .pretrain import SpectralMAETask
from .resumable import EpochSeededSampler, ResumableDataLoader
from .wavelengths import MixedBandSetsError, WavelengthError, batch_wavelengths

__all__ = [
    'BackboneMismatchError',
    'BandSetBatchSampler',
    'EpochSeededSampler',
    'FeatureMapHead',
    'MixedBandSetsError',
    'MixedCubeFolderDataModule',
    'ResumableDataLoader',
    'SpectralClassificationTask',
    'SpectralDenseModel',
    'SpectralFineTuneMixin',
    'SpectralMAETask',
    'SpectralPixelwiseRegressionTask',
    'SpectralRegressionTask',
    'SpectralSegmentationTask',
    'WavelengthError',
    'available_models',
    'batch_wavelengths',
    'checkpoint_encoder_weights',
    'load_pretrained_backbone',
    'read_checkpoint_encoder',
]
