"""Pretrained SpectralViT weights: the released-checkpoint enum and local files.

No checkpoints are released yet, so :class:`SpectralViTWeights` has no members
(an Enum with no members can be subclassed). Weights trained locally are written
by :func:`save_encoder_weights` as ``{'state_dict', 'config', 'meta'}`` and read by
:func:`load_spectral_weights`, which refuses a checkpoint of another architecture
or band grouping. To use local weights where TorchGeo expects a ``WeightsEnum``,
subclass the enum::

    from torchvision.models._api import Weights

    class MyWeights(SpectralViTWeights):
        ENMAP_MAE = Weights(
            url='file:///data/ckpt/spectral_vit_small_enmap.pt',
            transforms=None,
            meta=weights_meta(model, sensors=['enmap'], ssl_method='spectral-mae'),
        )
"""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torchvision.models._api import WeightsEnum

from .mae import SpectralMAE
from .spectral_vit import SpectralViT

__all__ = [
    'ARCHITECTURE_KEYS',
    'SpectralViTWeights',
    'load_spectral_weights',
    'read_weights_file',
    'save_encoder_weights',
    'weights_meta',
]

#: Config entries that must agree between a checkpoint and the model it loads into.
ARCHITECTURE_KEYS = (
    'architecture',
    'embed_dim',
    'depth',
    'num_heads',
    'patch_size',
    'bands_per_token',
    'token_mode',
    'spectral_mlp',
)

#: Version of the file layout written by :func:`save_encoder_weights`.
FORMAT_VERSION = 1


class SpectralViTWeights(WeightsEnum):  # type: ignore[misc]
    """Released SpectralViT checkpoints (none yet; see the module docstring).

    Each member's ``meta`` is built by :func:`weights_meta`: ``model`` (timm name),
    ``sensors``, ``wavelength_range`` (nm), ``patch_size``, ``bands_per_token``,
    ``embed_dim``, ``ssl_method``.
    """


def weights_meta(
    model: SpectralViT,
    *,
    sensors: Sequence[str],
    ssl_method: str,
    wavelength_range: tuple[float, float] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Meta dictionary describing a checkpoint (for the enum and the file).

    Args:
        model: The encoder the weights belong to.
        sensors: Sensors of the pretraining data.
        ssl_method: Pretraining method, e.g. ``'spectral-mae'``.
        wavelength_range: ``(min, max)`` nm covered by the pretraining data
            (default: the model's fixed wavelengths, if any).
        **extra: Further entries (dataset, epochs, licence...).

    Returns:
        The meta dictionary.
    """
    if wavelength_range is None and model.wavelengths is not None:
        wavelength_range = (
            float(model.wavelengths.min()),
            float(model.wavelengths.max()),
        )
    return {
        'sensors': list(sensors),
        'wavelength_range': wavelength_range,
        'patch_size': model.patch_size,
        'bands_per_token': model.bands_per_token,
        'embed_dim': model.embed_dim,
        'ssl_method': ssl_method,
        **extra,
    }


def _encoder(model: SpectralViT | SpectralMAE) -> SpectralViT:
    """The encoder of a model or MAE.

    Args:
        model: Encoder or MAE.

    Returns:
        The encoder.
    """
    return model.encoder if isinstance(model, SpectralMAE) else model


def save_encoder_weights(
    model: SpectralViT | SpectralMAE,
    path: str | os.PathLike[str],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write encoder weights with their architecture config.

    The classification head is left out (its classes belong to a task).

    Args:
        model: Encoder, or MAE whose encoder is saved.
        path: Output file (``.pt``).
        meta: Free-form description (see :func:`weights_meta`).

    Returns:
        The path written.
    """
    encoder = _encoder(model)
    state = {
        k: v.detach().cpu().clone()
        for k, v in encoder.state_dict().items()
        if not k.startswith('head.')
    }
    config = {**encoder.config(), 'format_version': FORMAT_VERSION}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({'state_dict': state, 'config': config, 'meta': dict(meta or {})}, out)
    return out


def read_weights_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by :func:`save_encoder_weights` (``weights_only=True``).

    Args:
        path: The file.

    Returns:
        ``{'state_dict', 'config', 'meta'}``.

    Raises:
        ValueError: If the file is not in that format.
    """
    loaded = torch.load(Path(path), map_location='cpu', weights_only=True)
    if (
        not isinstance(loaded, dict)
        or 'state_dict' not in loaded
        or 'config' not in loaded
    ):
        msg = (
            f'{path} is not a SpectralViT weights file (expected a dict with '
            "'state_dict' and 'config', as written by save_encoder_weights)"
        )
        raise ValueError(msg)
    return loaded


def load_spectral_weights(
    model: SpectralViT | SpectralMAE,
    source: str | os.PathLike[str] | dict[str, Any],
    *,
    strict: bool = True,
) -> dict[str, Any]:
    """Load encoder weights written by :func:`save_encoder_weights`.

    Args:
        model: Encoder, or MAE whose encoder receives the weights.
        source: Weights file, or the dict it holds.
        strict: Require every encoder tensor (except the head) to be present.

    Returns:
        The checkpoint's ``meta`` dictionary.

    Raises:
        ValueError: If the checkpoint's architecture config (width, depth, heads,
            patch size, bands per token, token mode) differs from the model's, or
            tensors are missing/unexpected with ``strict``.
    """
    ckpt = source if isinstance(source, dict) else read_weights_file(source)
    encoder = _encoder(model)
    saved = ckpt['config']
    ours = encoder.config()
    diffs = [
        f'{key}: checkpoint {saved.get(key)!r}, model {ours[key]!r}'
        for key in ARCHITECTURE_KEYS
        if key in saved and saved.get(key) != ours[key]
    ]
    if diffs:
        msg = 'checkpoint does not fit this model (' + '; '.join(diffs) + ')'
        raise ValueError(msg)
    state: dict[str, Tensor] = ckpt['state_dict']
    result = encoder.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith('head.')]
    if strict and (missing or result.unexpected_keys):
        msg = f'checkpoint tensors missing: {missing}; unexpected: {result.unexpected_keys}'
        raise ValueError(msg)
    meta: dict[str, Any] = dict(ckpt.get('meta') or {})
    return meta
