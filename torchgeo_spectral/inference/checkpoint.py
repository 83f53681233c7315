"""Open task checkpoints as predictors and embedders, the Lightning way.

The file is first vetted by :func:`torchgeo_spectral.models.weights.read_checkpoint`
(``weights_only=True``, one clear error per kind of bad file). The task class is the
one the checkpoint records: the ``_class_path`` that LightningCLI (``torchgeo fit``)
stores in the hyperparameters, or the class the caller names (``task_class=``,
``--task-class``) for a checkpoint written without the CLI. It is never guessed.
The task is then rebuilt by Lightning's own
``TaskClass.load_from_checkpoint(path, map_location=..., weights_only=True)``, with
any pretrained-weight paths in its hyperparameters set to None (the checkpoint's
own weights are loaded instead, so nothing is read from elsewhere or downloaded),
and wrapped in the :mod:`~torchgeo_spectral.inference.protocol` callables.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import torch
from lightning.pytorch import LightningModule
from torch import Tensor, nn

from ..models.weights import (
    TASK_CLASS_KEY,
    CheckpointError,
    is_lightning_checkpoint,
    read_checkpoint,
)
from .protocol import Embedder, ModelInfo, Predictor

__all__ = [
    'TASK_KINDS',
    'CheckpointError',
    'checkpoint_task_class',
    'load_embedder',
    'load_predictor',
    'load_task',
    'resolve_device',
    'task_kind',
]

#: Kind of every task class inference knows, by class name (subclasses inherit it).
TASK_KINDS: dict[str, str] = {
    'SpectralSegmentationTask': 'segmentation',
    'SpectralClassificationTask': 'classification',
    'SpectralRegressionTask': 'regression',
    'SpectralPixelwiseRegressionTask': 'pixelwise_regression',
    'SpectralMAETask': 'pretraining',
}

# Hyperparameters naming pretrained weights: set to None when rebuilding a task.
_WEIGHT_KEYS = ('weights', 'imagenet_weights')
# Packages whose classes a checkpoint may name without being imported beforehand.
_TRUSTED_PREFIXES = ('torchgeo_spectral.',)
_TASKS_MODULE = 'torchgeo_spectral.tasks'


def resolve_device(device: str | torch.device) -> torch.device:
    """Check that a torch device exists on this machine before any work.

    Args:
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``...

    Returns:
        The device.

    Raises:
        ValueError: If the name is not a device, or the device is not available
            (for example ``cuda`` on a machine without a CUDA GPU).
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f'device {device!r} is not a torch device (use cpu, cuda, cuda:1, mps)'
        ) from err
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError(
                f'device {device!r} asked for, but no CUDA GPU is available '
                '(torch.cuda.is_available() is False); use --device cpu'
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f'device {device!r} asked for, but this machine has {count} CUDA '
                f'GPU(s) (cuda:0 to cuda:{count - 1})'
            )
    elif dev.type == 'mps' and not torch.backends.mps.is_available():
        raise ValueError(f'device {device!r} asked for, but MPS is not available')
    elif dev.type not in ('cpu', 'cuda', 'mps'):
        raise ValueError(f'device {device!r} is not supported (use cpu, cuda, mps)')
    return dev


def _resolve_class(
    name: str, source: str, from_checkpoint: bool
) -> type[LightningModule]:
    """Find a task class by name or class path, without running untrusted code.

    A class path stored in a checkpoint is imported only from this package, or
    taken from a module that is already imported; a class the user names is
    imported as asked.

    Args:
        name: A class name in ``torchgeo_spectral.tasks`` or a full class path.
        source: The checkpoint path, for messages.
        from_checkpoint: Whether the name comes from the checkpoint (untrusted).

    Returns:
        The LightningModule subclass.

    Raises:
        CheckpointError: If the class is unknown, untrusted or not a task.
    """
    if '.' in name:
        module_name, _, cls_name = name.rpartition('.')
    else:
        module_name, cls_name = _TASKS_MODULE, name
    trusted = module_name.startswith(_TRUSTED_PREFIXES) or module_name in sys.modules
    if from_checkpoint and not trusted:
        raise CheckpointError(
            f'checkpoint {source} names the task class {name}, which is not a '
            'torchgeo_spectral task and not imported: refused (import its module '
            'first, or pass the class with task_class=/--task-class)'
        )
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError) as err:
        raise CheckpointError(
            f'unknown task class {name} (checkpoint {source}): {err}'
        ) from err
    if not (inspect.isclass(cls) and issubclass(cls, LightningModule)):
        raise CheckpointError(
            f'{name} (checkpoint {source}) is not a task (LightningModule) class'
        )
    return cls


def task_kind(cls: type[nn.Module]) -> str:
    """Kind of a task class (see :data:`TASK_KINDS`), inherited by subclasses.

    Args:
        cls: The task class.

    Returns:
        The kind, or ``'unknown'``.
    """
    for klass in cls.__mro__:
        if klass.__name__ in TASK_KINDS:
            return TASK_KINDS[klass.__name__]
    return 'unknown'


def checkpoint_task_class(
    path: str | Path, task_class: str | type[LightningModule] | None = None
) -> tuple[type[LightningModule], dict[str, Any]]:
    """Read a checkpoint safely and find the task class that wrote it.

    Args:
        path: A Lightning checkpoint.
        task_class: The class (or its name) to rebuild, for checkpoints written
            without LightningCLI; by default the checkpoint's ``_class_path``
            (LightningCLI) or its ``task_class_path`` (every task of this package).

    Returns:
        ``(task class, hyperparameters)``.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If the file cannot be read safely, is not a Lightning
            checkpoint, or does not say which task wrote it.
    """
    ckpt = read_checkpoint(path)
    if not is_lightning_checkpoint(ckpt):
        raise CheckpointError(
            f'{path} is not a Lightning task checkpoint (no state_dict and '
            'hyper_parameters); inference needs a .ckpt written while training a '
            'torchgeo_spectral task'
        )
    hparams = dict(ckpt.get('hyper_parameters') or {})
    if isinstance(task_class, type):
        return task_class, hparams
    if task_class is not None:
        return _resolve_class(task_class, str(path), from_checkpoint=False), hparams
    stored = hparams.get('_class_path', ckpt.get(TASK_CLASS_KEY))
    if not isinstance(stored, str):
        raise CheckpointError(
            f'checkpoint {path} does not record its task class (no LightningCLI '
            '_class_path in its hyperparameters and no task_class_path); '
            'name it with task_class=... (--task-class), e.g. '
            'SpectralSegmentationTask'
        )
    return _resolve_class(stored, str(path), from_checkpoint=True), hparams


def load_task(
    path: str | Path,
    device: str | torch.device = 'cpu',
    task_class: str | type[LightningModule] | None = None,
) -> tuple[LightningModule, dict[str, Any]]:
    """Rebuild a task from its checkpoint with ``load_from_checkpoint``, in eval mode.

    Args:
        path: Lightning checkpoint.
        device: Device to load the weights onto.
        task_class: The task class for checkpoints that do not record it (see
            :func:`checkpoint_task_class`).

    Returns:
        ``(task, hyperparameters)``.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the device is not available.
        CheckpointError: If the checkpoint cannot be read or rebuilt.
    """
    dev = resolve_device(device)
    cls, hparams = checkpoint_task_class(path, task_class)
    return _rebuild(cls, hparams, Path(path), dev), hparams


def _rebuild(
    cls: type[LightningModule],
    hparams: Mapping[str, Any],
    path: Path,
    dev: torch.device,
) -> LightningModule:
    """Run ``cls.load_from_checkpoint`` safely and turn its failures into one error.

    Args:
        cls: Task class.
        hparams: The checkpoint's hyperparameters.
        path: Checkpoint.
        dev: Device.

    Returns:
        The task, in eval mode on ``dev``.

    Raises:
        CheckpointError: If the task cannot be rebuilt from the checkpoint.
    """
    params = inspect.signature(cls.__init__).parameters
    overrides = {k: None for k in _WEIGHT_KEYS if k in hparams and k in params}
    try:
        with warnings.catch_warnings():
            # a checkpoint saved by hand has no loops or optimizer state
            warnings.simplefilter('ignore', UserWarning)
            task = cls.load_from_checkpoint(
                path, map_location=dev, weights_only=True, **overrides
            )
    except (TypeError, RuntimeError, ValueError, KeyError) as err:
        detail = ' '.join(str(err).split()) or type(err).__name__
        raise CheckpointError(
            f'cannot rebuild {cls.__name__} from {path}: {detail}'
        ) from err
    return task.eval().to(dev)


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


def _info(task: nn.Module, hparams: Mapping[str, Any], source: Path) -> ModelInfo:
    """Describe a rebuilt task.

    Args:
        task: The task.
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
    sensor = hparams.get('sensor')
    cls = type(task)
    return ModelInfo(
        task=task_kind(cls),
        num_classes=int(num) if isinstance(num, int) else None,
        patch_size=int(getattr(encoder, 'patch_size', 1)),
        wavelengths=fixed,
        in_channels=len(fixed) if fixed else None,
        sensor=sensor if isinstance(sensor, str) else None,
        class_names=tuple(str(x) for x in labels) if labels else None,
        source=str(source.resolve()),
        extra={'task_class': f'{cls.__module__}.{cls.__qualname__}'},
    )


def load_predictor(
    path: str | Path,
    device: str | torch.device = 'cpu',
    task_class: str | type[LightningModule] | None = None,
) -> tuple[Predictor, ModelInfo]:
    """Open a segmentation checkpoint as a dense class-logit predictor.

    Args:
        path: A ``SpectralSegmentationTask`` Lightning checkpoint.
        device: Device to run on.
        task_class: The task class, for checkpoints that do not record it.

    Returns:
        ``(predictor, info)``; the predictor maps ``(B, C, h, w), (C,)`` to
        logits ``(B, K, h, w)``.

    Raises:
        CheckpointError: If the checkpoint is of another task (for example MAE
            pretraining or image classification) or cannot be rebuilt.
    """
    path = Path(path)
    dev = resolve_device(device)
    cls, hparams = checkpoint_task_class(path, task_class)
    kind = task_kind(cls)
    if kind != 'segmentation':
        hints = {
            'pretraining': ' (use `torchgeo-spectral embed` to export its encoder '
            'embeddings)',
            # a pixel classifier maps a scene through its fine-tuning config
            'classification': ' (a pixel classifier of conf/few_label_scene*.yaml '
            'maps its scene with `torchgeo-spectral predict --config ... '
            '--ckpt_path ...`, which writes the SceneMapWriter GeoTIFF)',
        }
        hint = hints.get(kind, '')
        raise CheckpointError(
            f'{path} is a {cls.__name__} checkpoint ({kind}); predict-map needs a '
            f'SpectralSegmentationTask checkpoint{hint}'
        )
    task = _rebuild(cls, hparams, path, dev)

    def predictor(x: Tensor, wavelengths: Tensor) -> Tensor:
        out: Tensor = task(x, wavelengths)
        return out

    return predictor, _info(task, hparams, path)


def load_embedder(
    path: str | Path,
    device: str | torch.device = 'cpu',
    task_class: str | type[LightningModule] | None = None,
) -> tuple[Embedder, ModelInfo]:
    """Open any task checkpoint with a spectral encoder as a per-patch embedder.

    Args:
        path: A Lightning checkpoint of a torchgeo_spectral task (pretraining or
            fine-tuning).
        device: Device to run on.
        task_class: The task class, for checkpoints that do not record it.

    Returns:
        ``(embedder, info)``; the embedder maps ``(B, C, h, w), (C,)`` to the
        encoder's feature map ``(B, D, h / p, w / p)``.

    Raises:
        CheckpointError: If the checkpoint holds no spectral encoder.
    """
    path = Path(path)
    task, hparams = load_task(path, device, task_class)
    encoder = _encoder(task)
    feature_map = cast(Callable[[Tensor, Tensor], Tensor], encoder.forward_feature_map)

    def embedder(x: Tensor, wavelengths: Tensor) -> Tensor:
        return feature_map(x, wavelengths)

    info = _info(task, hparams, path)
    dim = getattr(encoder, 'embed_dim', None)
    extra = {**info.extra, 'embed_dim': dim}
    return embedder, ModelInfo(**{**info.__dict__, 'extra': extra})
