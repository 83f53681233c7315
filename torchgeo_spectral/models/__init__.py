"""Spectral ViT encoder, spectral MAE and their timm registration.

Importing this package registers ``spectral_vit_nano``, ``spectral_vit_tiny``,
``spectral_vit_small`` and ``spectral_vit_base`` (with one tag per sensor, e.g.
``spectral_vit_small.enmap``, and ``spectral_vit_nano.mae_foundation``, the shipped
checkpoint :attr:`SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION`) with timm.
"""

from . import registry as registry
from .backbone import (
    BackboneMismatchError,
    available_models,
    checkpoint_encoder_weights,
    load_pretrained_backbone,
    read_checkpoint_encoder,
)
from .encoding import SpectralEncoding, group_wavelengths, sincos_1d, sincos_2d
from .features import SpectralFeaturePyramid
from .heads import FeatureMapHead, SpectralDenseModel
from .mae import MAEOutput, SpectralMAE
from .masking import SpectralMask, two_stage_mask
from .registry import (
    spectral_vit_base,
    spectral_vit_nano,
    spectral_vit_small,
    spectral_vit_tiny,
)
from .spectral_vit import SpectralPooling, SpectralViT
from .transfer import TransferReport, load_imagenet_weights
from .weights import (
    SpectralViT_Weights,
    SpectralWeightsEnum,
    load_spectral_weights,
    resolve_weights,
    save_encoder_weights,
    save_safetensors_weights,
    weights_meta,
)

__all__ = [
    'BackboneMismatchError',
    'FeatureMapHead',
    'MAEOutput',
    'SpectralDenseModel',
    'SpectralEncoding',
    'SpectralFeaturePyramid',
    'SpectralMAE',
    'SpectralMask',
    'SpectralPooling',
    'SpectralViT',
    'SpectralViT_Weights',
    'SpectralWeightsEnum',
    'TransferReport',
    'available_models',
    'checkpoint_encoder_weights',
    'group_wavelengths',
    'load_imagenet_weights',
    'load_pretrained_backbone',
    'load_spectral_weights',
    'read_checkpoint_encoder',
    'resolve_weights',
    'save_encoder_weights',
    'save_safetensors_weights',
    'sincos_1d',
    'sincos_2d',
    'spectral_vit_base',
    'spectral_vit_nano',
    'spectral_vit_small',
    'spectral_vit_tiny',
    'two_stage_mask',
    'weights_meta',
]
