"""Open task checkpoints as predictors and embedders.

A Lightning checkpoint (``.ckpt``) is read with ``torch.load(weights_only=True)``;
the task class is identified from its hyperparameters (the ``_class_path`` that
``torchgeo fit`` stores, else the hyperparameters that only one task has), rebuilt
from them with any pretrained-weight paths dropped (the checkpoint's own weights
are loaded instead, so nothing is read from elsewhere or downloaded), and wrapped
in the :mod:`~torchgeo_spectral.inference.protocol` callables.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor, nn

from .protocol import Embedder, ModelInfo, Predictor

__all__ = [
    'TASK_KINDS',
    'CheckpointError',
    'identify_task',
    'load_embedder',
    'load_predictor',
    'load_task',
]

#: Kind of every task class inference knows, by class name.
TASK_KINDS: dict[str, str] = {
    'SpectralSegmentationTask': 'segmentation',
    'SpectralClassificationTask': 'classification',
    'SpectralRegressionTask': 'regression',
    'SpectralPixelwiseRegressionTask': 'pixelwise_regression',
    'SpectralMAETask': 'pretraining',
}

# Hyperparameters set by no pretrained weights loader at rebuild time.
_WEIGHT_KEYS = ('weights', 'imagenet_weights')
# Only classes from these packages are imported from a stored class path.
_TRUSTED_PREFIXES = ('torchgeo_spectral.',)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used for the requested inference."""


def _read(path: Path) -> dict[str, Any]:
    """Load a Lightning checkpoint safely.

    Args:
        path: Checkpoint path.

    Returns:
        The checkpoint dictionary.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If it is not a Lightning checkpoint or holds objects that
            ``weights_only`` loading refuses.
    """
    if not path.exists():
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'{path} could not be read with weights_only=True (it stores arbitrary '
            f'Python objects): {str(err).splitlines()[0]}'
        ) from err
    if not isinstance(ckpt, Mapping) or 'state_dict' not in ckpt:
        raise CheckpointError(
            f'{path} is not a Lightning task checkpoint (no state_dict); inference '
            'needs a .ckpt written while training a torchgeo_spectral task'
        )
    return dict(ckpt)


def identify_task(hparams: Mapping[str, Any]) -> str:
    """Name of the task class that wrote a checkpoint.

    Args:
        hparams: The checkpoint's ``hyper_parameters``.

    Returns:
        A class name (a key of :data:`TASK_KINDS`) or a full class path.

    Raises:
        CheckpointError: If the task cannot be identified.
    """
    class_path = hparams.get('_class_path')
    if isinstance(class_path, str):
        return class_path
    keys = set(hparams)
    if {'spatial_mask_ratio', 'decoder_embed_dim'} & keys:
        return 'SpectralMAETask'
    if 'head_channels' in keys:
        if 'num_classes' in keys:
            return 'SpectralSegmentationTask'
        return 'SpectralPixelwiseRegressionTask'
    if 'num_outputs' in keys:
        return 'SpectralRegressionTask'
    if 'num_classes' in keys:
        return 'SpectralClassificationTask'
    raise CheckpointError(
        'cannot tell which task wrote this checkpoint (no _class_path and no '
        f'task-specific hyperparameters among {sorted(keys)})'
    )


def _task_class(name: str) -> type[nn.Module]:
    """Import a task class by name or trusted class path.

    Args:
        name: Class name in ``torchgeo_spectral.tasks`` or a full class path.

    Returns:
        The class.

    Raises:
        CheckpointError: If the class is unknown or from an untrusted module.
    """
    if '.' in name:
        module_name, _, cls_name = name.rpartition('.')
        if not module_name.startswith(_TRUSTED_PREFIXES):
            raise CheckpointError(
                f'checkpoint task class {name} is not a torchgeo_spectral task'
            )
    else:
        module_name, cls_name = 'torchgeo_spectral.tasks', name
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError) as err:
        raise CheckpointError(f'unknown task class {name}: {err}') from err
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        raise CheckpointError(f'{name} is not a task (LightningModule) class')
    return cls


def task_kind(name: str) -> str:
    """Kind of a task (see :data:`TASK_KINDS`) from its class name or path.

    Args:
        name: Class name or path.

    Returns:
        The kind, or ``'unknown'``.
    """
    return TASK_KINDS.get(name.rpartition('.')[2], 'unknown')


def load_task(
    path: str | Path, device: str | torch.device = 'cpu'
) -> tuple[nn.Module, str, dict[str, Any]]:
    """Rebuild a task from its checkpoint, in eval mode on ``device``.

    Args:
        path: Lightning checkpoint.
        device: Device to move the task to.

    Returns:
        ``(task, class name, hyperparameters)``.

    Raises:
        CheckpointError: If the checkpoint cannot be rebuilt.
    """
    path = Path(path)
    ckpt = _read(path)
    hparams = dict(ckpt.get('hyper_parameters') or {})
    name = identify_task(hparams)
    cls = _task_class(name)
    params = inspect.signature(cls.__init__).parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kwargs = {
        k: v
        for k, v in hparams.items()
        if not k.startswith('_') and (accepts_any or k in params)
    }
    for key in _WEIGHT_KEYS:
        if key in kwargs:
            kwargs[key] = None
    try:
        task = cls(**kwargs)
        task.load_state_dict(ckpt['state_dict'])
    except (TypeError, RuntimeError, ValueError) as err:
        raise CheckpointError(
            f'cannot rebuild {cls.__name__} from {path}: {err}'
        ) from err
    task.eval().to(device)
    return task, cls.__name__, hparams


def _encoder(task: nn.Module) -> nn.Module:
    """The spectral encoder inside a task (the module with a feature map).

    Args:
        task: A task.

    Returns:
        The first submodule exposing ``forward_feature_map``.

    Raises:
        CheckpointError: If there is none.
    """
    for module in task.modules():
        if callable(getattr(module, 'forward_feature_map', None)):
            return module
    raise CheckpointError(f'{type(task).__name__} holds no spectral encoder')


def _info(
    task: nn.Module, name: str, hparams: Mapping[str, Any], source: Path
) -> ModelInfo:
    """Describe a rebuilt task.

    Args:
        task: The task.
        name: Its class name.
        hparams: Its hyperparameters.
        source: Checkpoint path.

    Returns:
        The model info.
    """
    encoder = _encoder(task)
    fixed = None
    default = getattr(task, 'default_wavelengths', None)
    if callable(default):
        wl = default()
        if isinstance(wl, Tensor):
            fixed = tuple(float(w) for w in wl.flatten().tolist())
    labels = hparams.get('labels')
    num = hparams.get('num_classes')
    return ModelInfo(
        task=task_kind(name),
        num_classes=int(num) if isinstance(num, int) else None,
        patch_size=int(getattr(encoder, 'patch_size', 1)),
        wavelengths=fixed,
        in_channels=len(fixed) if fixed else None,
        sensor=hparams.get('sensor')
        if isinstance(hparams.get('sensor'), str)
        else None,
        class_names=tuple(str(x) for x in labels) if labels else None,
        source=str(source.resolve()),
        extra={'task_class': name},
    )


def load_predictor(
    path: str | Path, device: str | torch.device = 'cpu'
) -> tuple[Predictor, ModelInfo]:
    """Open a segmentation checkpoint as a dense class-logit predictor.

    Args:
        path: A ``SpectralSegmentationTask`` Lightning checkpoint.
        device: Device to run on.

    Returns:
        ``(predictor, info)``; the predictor maps ``(B, C, h, w), (C,)`` to
        logits ``(B, K, h, w)``.

    Raises:
        CheckpointError: If the checkpoint is of another task (for example MAE
            pretraining or image classification) or cannot be rebuilt.
    """
    path = Path(path)
    ckpt = _read(path)
    name = identify_task(dict(ckpt.get('hyper_parameters') or {}))
    kind = task_kind(name)
    if kind != 'segmentation':
        hint = (
            ' (use `torchgeo-spectral embed` to export its encoder embeddings)'
            if kind == 'pretraining'
            else ''
        )
        raise CheckpointError(
            f'{path} is a {name} checkpoint ({kind}); predict-map needs a '
            f'SpectralSegmentationTask checkpoint{hint}'
        )
    del ckpt
    task, name, hparams = load_task(path, device)

    def predictor(x: Tensor, wavelengths: Tensor) -> Tensor:
        out: Tensor = task(x, wavelengths)
        return out

    return predictor, _info(task, name, hparams, path)


def load_embedder(
    path: str | Path, device: str | torch.device = 'cpu'
) -> tuple[Embedder, ModelInfo]:
    """Open any task checkpoint with a spectral encoder as a per-patch embedder.

    Args:
        path: A Lightning checkpoint of a torchgeo_spectral task (pretraining or
            fine-tuning).
        device: Device to run on.

    Returns:
        ``(embedder, info)``; the embedder maps ``(B, C, h, w), (C,)`` to the
        encoder's feature map ``(B, D, h / p, w / p)``.

    Raises:
        CheckpointError: If the checkpoint holds no spectral encoder.
    """
    path = Path(path)
    task, name, hparams = load_task(path, device)
    encoder = _encoder(task)
    feature_map = cast(Callable[[Tensor, Tensor], Tensor], encoder.forward_feature_map)

    def embedder(x: Tensor, wavelengths: Tensor) -> Tensor:
        return feature_map(x, wavelengths)

    info = _info(task, name, hparams, path)
    dim = getattr(encoder, 'embed_dim', None)
    extra = {**info.extra, 'embed_dim': dim}
    return embedder, ModelInfo(**{**info.__dict__, 'extra': extra})
