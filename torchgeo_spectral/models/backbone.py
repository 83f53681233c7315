"""Spectral ViT backbones for the tasks: names, construction and weights.

One place for what every task needs from :mod:`torchgeo_spectral.models`:
checking a model name (with a list of valid names when it is wrong), building a
:class:`~torchgeo_spectral.models.SpectralViT` with optional size overrides, and
loading pretrained encoder weights from a :class:`SpectralMAETask` Lightning
checkpoint or from exported encoder weights, with a clear error when they come
from another architecture or band grouping. Files are read by
:func:`torchgeo_spectral.models.weights.read_checkpoint`, the package's one
checkpoint reader.
"""

from pathlib import Path
from typing import Any

import timm
from torch import Tensor, nn

from .spectral_vit import SpectralViT
from .weights import (
    CKPT_ENCODER_PREFIX,
    ENCODER_CONFIG_KEY,
    BackboneMismatchError,
    checkpoint_encoder_weights,
    existing_file,
    is_lightning_checkpoint,
    load_spectral_weights,
    read_checkpoint,
    read_weights_file,
)

__all__ = [
    'CKPT_ENCODER_PREFIX',
    'ENCODER_CONFIG_KEY',
    'BackboneMismatchError',
    'available_models',
    'check_model_name',
    'checkpoint_encoder_weights',
    'create_spectral_vit',
    'freeze',
    'load_pretrained_backbone',
    'read_checkpoint_encoder',
    'size_overrides',
]


def available_models() -> list[str]:
    """Names of the registered spectral ViT models (without sensor tags).

    Returns:
        Sorted timm model names, e.g. ``['spectral_vit_base', ...]``.
    """
    return sorted(timm.list_models('spectral_vit*'))


def check_model_name(name: str) -> str:
    """Check that a spectral ViT name (optionally with a sensor tag) exists.

    Args:
        name: A timm name such as ``'spectral_vit_tiny'`` or
            ``'spectral_vit_small.enmap'``.

    Returns:
        The name, unchanged.

    Raises:
        ValueError: If the architecture is not registered; the message lists
            the valid names.
    """
    valid = available_models()
    base = name.split('.', 1)[0]
    if base not in valid:
        raise ValueError(
            f'unknown model {name!r}; valid models: {", ".join(valid)} '
            "(optionally with a sensor tag, e.g. 'spectral_vit_small.enmap')"
        )
    return name


def size_overrides(**sizes: float | None) -> dict[str, Any]:
    """Keep the size arguments that were given.

    Args:
        **sizes: Keyword arguments such as ``embed_dim=None, depth=4``.

    Returns:
        The arguments whose value is not None.
    """
    return {key: value for key, value in sizes.items() if value is not None}


def create_spectral_vit(
    name: str, num_classes: int = 0, wavelengths: Tensor | None = None, **overrides: Any
) -> SpectralViT:
    """Build a spectral ViT by timm name, with optional size overrides.

    Args:
        name: Registered name, optionally with a sensor tag.
        num_classes: Size of the classification head; 0 for none.
        wavelengths: Default band centres (nm) for inputs without them.
        **overrides: Architecture arguments (``patch_size``, ``bands_per_token``,
            ``embed_dim``, ``depth``, ``num_heads``, ...); None values are
            dropped.

    Returns:
        The model.
    """
    check_model_name(name)
    kwargs = {key: value for key, value in overrides.items() if value is not None}
    if wavelengths is not None:
        kwargs['wavelengths'] = wavelengths.tolist()
    model = timm.create_model(name, num_classes=num_classes, **kwargs)
    if not isinstance(model, SpectralViT):
        raise TypeError(
            f'{name} did not build a SpectralViT but {type(model).__name__}'
        )
    return model


def read_checkpoint_encoder(path: str | Path) -> dict[str, Any]:
    """Encoder weights of a SpectralMAETask checkpoint (read ``weights_only``).

    Args:
        path: A Lightning ``.ckpt`` written while training a SpectralMAETask.

    Returns:
        ``{'state_dict', 'config', 'meta'}`` (see
        :func:`~torchgeo_spectral.models.weights.checkpoint_encoder_weights`).

    Raises:
        CheckpointError: If the file cannot be read safely.
        BackboneMismatchError: If the file is not a Lightning checkpoint of
            a SpectralMAETask.
    """
    checkpoint = read_checkpoint(path)
    if not is_lightning_checkpoint(checkpoint):
        raise BackboneMismatchError(f'{path} is not a Lightning checkpoint')
    return checkpoint_encoder_weights(checkpoint, str(path))


def load_pretrained_backbone(encoder: SpectralViT, path: str | Path) -> dict[str, Any]:
    """Initialise a backbone from a SpectralMAETask checkpoint or exported weights.

    Both files are read with ``weights_only=True``. The architecture config
    stored with the weights (width, depth, heads, patch size, bands per token,
    token mode) must match the backbone's, and every backbone tensor except the
    classification head must be present with the same shape.

    Args:
        encoder: The spectral ViT to initialise.
        path: A Lightning ``.ckpt`` of a SpectralMAETask, or a file written by
            :func:`torchgeo_spectral.models.save_encoder_weights` (or
            :meth:`SpectralMAETask.export_encoder`).

    Returns:
        The metadata stored with the weights (the task's hyperparameters for a
        checkpoint).

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If the file cannot be read safely or holds no weights.
        BackboneMismatchError: If the weights do not fit the backbone.
    """
    file = existing_file(path, 'weights file')
    loaded = read_weights_file(file)
    try:
        meta: dict[str, Any] = load_spectral_weights(encoder, loaded)
    except (ValueError, RuntimeError, KeyError, TypeError) as error:
        raise BackboneMismatchError(
            f'{file} does not fit the backbone (different architecture or band '
            f'grouping?): {error}'
        ) from error
    return meta


def freeze(module: nn.Module, trainable: nn.Module | None = None) -> None:
    """Freeze a module's parameters, optionally keeping one submodule trainable.

    Args:
        module: Module to freeze.
        trainable: Submodule whose parameters stay trainable.
    """
    for param in module.parameters():
        param.requires_grad = False
    if trainable is not None:
        for param in trainable.parameters():
            param.requires_grad = True
