"""Every checkpoint and weights file goes through this module.

:func:`read_checkpoint` is the one place the package calls :func:`torch.load`:
always with ``weights_only=True`` (a file that stores arbitrary Python objects is
refused, never unpickled), with one clear error per kind of bad file (missing,
empty, text, truncated, pickled objects) that names the file. On top of it:

* :func:`read_weights_file` returns encoder weights ``{'state_dict', 'config',
  'meta'}`` from a file written by :func:`save_encoder_weights` or from a
  :class:`~torchgeo_spectral.tasks.SpectralMAETask` Lightning checkpoint;
* :func:`load_spectral_weights` loads them into a model, refusing a checkpoint of
  another architecture or band grouping;
* inference rebuilds whole tasks with Lightning's ``load_from_checkpoint`` after
  :func:`read_checkpoint` has vetted the file.

No checkpoints are released yet, so :class:`SpectralViTWeights` has no members
(an Enum with no members can be subclassed). To use local weights where TorchGeo
expects a ``WeightsEnum``, subclass the enum::

    from torchvision.models._api import Weights

    class MyWeights(SpectralViTWeights):
        ENMAP_MAE = Weights(
            url='file:///data/ckpt/spectral_vit_small_enmap.pt',
            transforms=None,
            meta=weights_meta(model, sensors=['enmap'], ssl_method='spectral-mae'),
        )
"""

import os
import pickle
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torchvision.models._api import WeightsEnum

from .mae import SpectralMAE
from .spectral_vit import SpectralViT

__all__ = [
    'ARCHITECTURE_KEYS',
    'CKPT_ENCODER_PREFIX',
    'ENCODER_CONFIG_KEY',
    'TASK_CLASS_KEY',
    'BackboneMismatchError',
    'CheckpointError',
    'SpectralViTWeights',
    'checkpoint_encoder_weights',
    'is_lightning_checkpoint',
    'load_spectral_weights',
    'read_checkpoint',
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
    'projection',
)

#: Version of the file layout written by :func:`save_encoder_weights`.
FORMAT_VERSION = 1

#: Prefix of the encoder weights in a SpectralMAETask checkpoint's state dict.
CKPT_ENCODER_PREFIX = 'model.encoder.'
#: Checkpoint entry where SpectralMAETask stores the encoder's architecture config.
ENCODER_CONFIG_KEY = 'spectral_encoder_config'

#: Checkpoint key of the class path of the task that wrote it (read by inference).
TASK_CLASS_KEY = 'task_class_path'

# First bytes of torch.save's legacy (non-zip) format: a pickled magic number.
_LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19'


class CheckpointError(ValueError):
    """A checkpoint or weights file that cannot be read or used.

    Raised with a one-line message that names the file and what is wrong with it
    (empty, text, truncated, pickled Python objects, wrong kind of checkpoint).
    """


class BackboneMismatchError(ValueError):
    """Pretrained weights do not fit the backbone (architecture or grouping)."""


def _unreadable_reason(path: Path, error: BaseException) -> str:
    """Say in a few words why :func:`torch.load` could not read a file.

    Args:
        path: The file.
        error: What :func:`torch.load` raised.

    Returns:
        A short reason, e.g. ``'it is text, not a PyTorch file'``.
    """
    with path.open('rb') as f:
        head = f.read(4096)
    if zipfile.is_zipfile(path):
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f'its archive is damaged ({detail})'
    if head.startswith(b'PK'):
        return 'it is truncated or damaged (its zip archive has no end)'
    if head.startswith(_LEGACY_MAGIC):
        return 'it is truncated or damaged (legacy torch.save format)'
    try:
        head.decode('utf-8')
    except UnicodeDecodeError:
        return 'it is not a file written by torch.save'
    return 'it is text, not a file written by torch.save'


def _refused_detail(error: BaseException) -> str:
    """The line of a ``weights_only`` refusal that names the refused object.

    Args:
        error: The :class:`pickle.UnpicklingError` raised by :func:`torch.load`.

    Returns:
        E.g. ``'Unsupported global: GLOBAL __main__.Evil'``.
    """
    for line in str(error).splitlines():
        line = line.strip()
        if line.startswith('WeightsUnpickler error:'):
            return line.removeprefix('WeightsUnpickler error:').strip()
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint or weights file safely: the package's one ``torch.load``.

    The file is loaded on the CPU with ``weights_only=True``, so only tensors and
    plain Python types are read; a file that stores other Python objects (a
    pickled model, custom classes) is refused rather than executed.

    Args:
        path: A Lightning ``.ckpt``, exported encoder weights or any file written
            by :func:`torch.save` holding a dictionary.

    Returns:
        The dictionary stored in the file.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If it is a directory, empty, text, truncated or damaged,
            stores Python objects that safe loading refuses, or holds something
            other than a dictionary.
    """
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f'checkpoint {file} does not exist')
    if file.is_dir():
        raise CheckpointError(f'checkpoint {file} is a directory, not a file')
    if file.stat().st_size == 0:
        raise CheckpointError(f'checkpoint {file} is empty (0 bytes)')
    try:
        loaded = torch.load(file, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        if zipfile.is_zipfile(file) or file.read_bytes()[:16].startswith(_LEGACY_MAGIC):
            raise CheckpointError(
                f'checkpoint {file} stores Python objects that safe loading '
                f'(weights_only=True) refuses ({_refused_detail(err)}); only '
                'checkpoints of tensors and plain values are read'
            ) from err
        raise CheckpointError(
            f'cannot read checkpoint {file}: {_unreadable_reason(file, err)}'
        ) from err
    except (RuntimeError, EOFError, KeyError, ValueError, IndexError) as err:
        raise CheckpointError(
            f'cannot read checkpoint {file}: {_unreadable_reason(file, err)}'
        ) from err
    if not isinstance(loaded, Mapping):
        raise CheckpointError(
            f'checkpoint {file} holds a {type(loaded).__name__}, not a dictionary '
            'of weights'
        )
    return dict(loaded)


def is_lightning_checkpoint(obj: Mapping[str, Any]) -> bool:
    """Whether a loaded dictionary is a Lightning checkpoint.

    Args:
        obj: What :func:`read_checkpoint` returned.

    Returns:
        True for a ``state_dict`` with Lightning's bookkeeping (exported encoder
        weights have a ``config`` instead).
    """
    return 'state_dict' in obj and (
        'pytorch-lightning_version' in obj or 'hyper_parameters' in obj
    )


def checkpoint_encoder_weights(
    checkpoint: Mapping[str, Any], source: str = 'checkpoint'
) -> dict[str, Any]:
    """The encoder of a SpectralMAETask checkpoint, as an encoder weights dict.

    Args:
        checkpoint: A loaded Lightning checkpoint of a SpectralMAETask.
        source: Name of the file, for messages.

    Returns:
        ``{'state_dict', 'config', 'meta'}`` as written by
        :func:`save_encoder_weights` (``config`` is empty for checkpoints that did
        not store the encoder's config).

    Raises:
        BackboneMismatchError: If the checkpoint holds no MAE encoder.
    """
    state = {
        key.removeprefix(CKPT_ENCODER_PREFIX): value
        for key, value in checkpoint['state_dict'].items()
        if key.startswith(CKPT_ENCODER_PREFIX)
    }
    if not state:
        raise BackboneMismatchError(
            f'{source} holds no SpectralMAE encoder (no "{CKPT_ENCODER_PREFIX}*" '
            'weights); give a SpectralMAETask checkpoint or exported encoder weights'
        )
    return {
        'state_dict': state,
        'config': dict(checkpoint.get(ENCODER_CONFIG_KEY) or {}),
        'meta': dict(checkpoint.get('hyper_parameters') or {}),
    }


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
    """Read encoder weights from an exported file or a SpectralMAETask checkpoint.

    Args:
        path: A file written by :func:`save_encoder_weights` (or
            ``SpectralMAETask.export_encoder``), or a Lightning ``.ckpt`` of a
            SpectralMAETask (its encoder is extracted).

    Returns:
        ``{'state_dict', 'config', 'meta'}``.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If the file cannot be read safely (see
            :func:`read_checkpoint`) or holds no encoder weights.
        BackboneMismatchError: If a Lightning checkpoint holds no MAE encoder.
    """
    loaded = read_checkpoint(path)
    if is_lightning_checkpoint(loaded):
        return checkpoint_encoder_weights(loaded, str(path))
    if 'state_dict' not in loaded or 'config' not in loaded:
        msg = (
            f'{path} is not a SpectralViT weights file (expected a dict with '
            "'state_dict' and 'config', as written by save_encoder_weights, or a "
            'SpectralMAETask checkpoint)'
        )
        raise CheckpointError(msg)
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
