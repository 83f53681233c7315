"""Optimizers, parameter groups and the warm-up + cosine learning-rate schedule."""

import math
import re
from collections.abc import Iterable
from typing import Any, Literal

from lightning.pytorch import Trainer
from lightning.pytorch.utilities.types import LRSchedulerConfigType
from torch import nn
from torch.optim import SGD, Adam, AdamW, Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
)

#: Names of the supported optimizers.
OptimizerName = Literal['adamw', 'adam', 'sgd']

#: One parameter group of a torch optimizer.
ParamGroup = dict[str, Any]

#: Encoder parameters that belong to the input side (layer 0 of layer decay).
_EMBEDDING = re.compile(r'^(patch_embed|spectral_embed|pos_embed|cls_token|mask_token)')
#: Encoder parameters of transformer block ``i`` (layer ``i + 1``).
_BLOCK = re.compile(r'^blocks\.(\d+)\.')


def encoder_layer_id(name: str, depth: int) -> int:
    """Layer index of an encoder parameter for layer-wise learning-rate decay.

    As in BEiT and the MAE fine-tuning recipe: embeddings are layer 0, block
    ``i`` is layer ``i + 1``, and everything after the blocks (final norm,
    spectral pooling, head) is layer ``depth + 1``.

    Args:
        name: Parameter name relative to the encoder (e.g. ``'blocks.3.mlp.fc1.weight'``).
        depth: Number of transformer blocks of the encoder.

    Returns:
        The layer index, from 0 to ``depth + 1``.
    """
    if _EMBEDDING.match(name):
        return 0
    block = _BLOCK.match(name)
    if block:
        return int(block.group(1)) + 1
    return depth + 1


def _no_weight_decay_names(module: nn.Module) -> set[str]:
    """Names a module asks to exclude from weight decay (timm's ``no_weight_decay``).

    Args:
        module: A module, possibly defining ``no_weight_decay()``.

    Returns:
        The names (relative to ``module``).
    """
    method = getattr(module, 'no_weight_decay', None)
    return set(method()) if callable(method) else set()


def parameter_groups(
    model: nn.Module,
    weight_decay: float,
    lr: float | None = None,
    *,
    encoder: nn.Module | None = None,
    encoder_lr_scale: float = 1.0,
    layer_decay: float = 1.0,
) -> list[ParamGroup]:
    """Parameter groups with selective weight decay and layer-wise lr decay.

    Weight decay is off for biases, normalization weights and embeddings
    (parameters with at most one dimension, as in MAE) and for the names the
    encoder lists in ``no_weight_decay()`` (timm convention). Parameters of
    ``encoder`` (a :class:`~torchgeo_spectral.models.SpectralViT` inside
    ``model``) get the learning rate ``lr * encoder_lr_scale *
    layer_decay ** (depth + 1 - layer)`` (see :func:`encoder_layer_id`): the
    deeper a layer, the more it may move; every other parameter (the head)
    gets ``lr``. Each group also carries its factor as ``'lr_scale'``.

    Args:
        model: The module whose parameters to group.
        weight_decay: Weight decay of the decayed groups.
        lr: Base learning rate; None leaves ``'lr'`` to the optimizer default.
        encoder: The encoder inside ``model`` that gets scaled learning rates.
        encoder_lr_scale: Learning-rate factor of the whole encoder.
        layer_decay: Factor per layer from the top of the encoder down (1: off).

    Returns:
        Parameter groups for a torch optimizer (empty groups left out).
    """
    encoder_names: dict[int, str] = {}
    skip: set[str] = set()
    depth = 0
    if encoder is not None:
        encoder_names = {id(p): n for n, p in encoder.named_parameters()}
        skip = _no_weight_decay_names(encoder)
        depth = int(getattr(encoder, 'depth', len(getattr(encoder, 'blocks', ()))))
    groups: dict[tuple[bool, float], ParamGroup] = {}
    for param in model.parameters():
        if not param.requires_grad:
            continue
        name = encoder_names.get(id(param))
        scale = 1.0
        if name is not None:
            layer = encoder_layer_id(name, depth)
            scale = encoder_lr_scale * layer_decay ** (depth + 1 - layer)
        decay = param.ndim > 1 and (name is None or name not in skip)
        group = groups.setdefault(
            (decay, scale),
            {
                'params': [],
                'weight_decay': weight_decay if decay else 0.0,
                'lr_scale': scale,
            },
        )
        group['params'].append(param)
    result = list(groups.values())
    if lr is not None:
        for group in result:
            group['lr'] = lr * group['lr_scale']
    return result


def build_optimizer(
    params: Iterable[ParamGroup], name: str, lr: float, weight_decay: float = 0.0
) -> Optimizer:
    """Create an optimizer by name.

    Args:
        params: Parameter groups (see :func:`parameter_groups`).
        name: One of ``'adamw'`` (betas 0.9/0.95, as MAE), ``'adam'`` or ``'sgd'``
            (momentum 0.9).
        lr: Base learning rate (for groups that set none).
        weight_decay: Default weight decay for groups that set none.

    Returns:
        The optimizer.

    Raises:
        ValueError: If the name is unknown.
    """
    groups = list(params)
    match name.lower():
        case 'adamw':
            return AdamW(groups, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.95))
        case 'adam':
            return Adam(groups, lr=lr, weight_decay=weight_decay)
        case 'sgd':
            return SGD(groups, lr=lr, weight_decay=weight_decay, momentum=0.9)
    raise ValueError(f"unknown optimizer {name!r}; choose 'adamw', 'adam' or 'sgd'")


def warmup_cosine(
    optimizer: Optimizer, total_steps: int, warmup_steps: int, min_lr_ratio: float = 0.0
) -> LRScheduler:
    """Linear warm-up from ~0 to the base rate, then cosine decay.

    Built from :class:`~torch.optim.lr_scheduler.LinearLR` and
    :class:`~torch.optim.lr_scheduler.CosineAnnealingLR` joined by
    :class:`~torch.optim.lr_scheduler.SequentialLR`; step it once per
    optimizer step. Every parameter group follows the same curve relative to
    its own base rate.

    Args:
        optimizer: The optimizer to schedule.
        total_steps: Number of optimizer steps of the whole run.
        warmup_steps: Number of warm-up steps (clipped to ``total_steps``).
        min_lr_ratio: Final learning rate as a fraction of the base rate.

    Returns:
        The scheduler.
    """
    total = max(1, int(total_steps))
    warmup = min(max(0, int(warmup_steps)), total)
    base_lrs = [group['lr'] for group in optimizer.param_groups]
    eta_min = min_lr_ratio * min(base_lrs) if base_lrs else 0.0
    cosine = CosineAnnealingLR(optimizer, T_max=max(1, total - warmup), eta_min=eta_min)
    if warmup == 0:
        return cosine
    ramp = LinearLR(optimizer, start_factor=1e-3, end_factor=1.0, total_iters=warmup)
    return SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])


def trainer_schedule(
    trainer: Trainer,
    optimizer: Optimizer,
    *,
    warmup_fraction: float = 0.0,
    warmup_epochs: float | None = None,
    warmup_steps: int | None = None,
    min_lr_ratio: float = 0.0,
) -> LRSchedulerConfigType:
    """Warm-up + cosine schedule sized to a Lightning trainer's run.

    The run length is the trainer's ``estimated_stepping_batches`` (from
    ``max_epochs`` or ``max_steps``). The warm-up is ``warmup_steps`` if given,
    else ``warmup_epochs`` epochs, else ``warmup_fraction`` of the run.

    Args:
        trainer: The trainer (attached to the module being configured).
        optimizer: The optimizer to schedule.
        warmup_fraction: Warm-up as a fraction of all steps.
        warmup_epochs: Warm-up in epochs (overrides ``warmup_fraction``).
        warmup_steps: Warm-up in optimizer steps (overrides both).
        min_lr_ratio: Final learning rate as a fraction of the base rate.

    Returns:
        Lightning's ``lr_scheduler`` entry, stepped every optimizer step.

    Raises:
        ValueError: If the run has no finite length (set ``max_epochs`` or
            ``max_steps``).
    """
    total = trainer.estimated_stepping_batches
    if not math.isfinite(total):
        if trainer.max_steps is None or trainer.max_steps < 0:
            raise ValueError(
                'the cosine schedule needs a finite run: set trainer max_epochs or '
                f'max_steps (found max_epochs={trainer.max_epochs}, '
                f'max_steps={trainer.max_steps})'
            )
        total = trainer.max_steps
    total_steps = max(1, int(total))
    if warmup_steps is None:
        if warmup_epochs is not None:
            batches = trainer.num_training_batches
            per_epoch = (
                batches / trainer.accumulate_grad_batches
                if math.isfinite(batches)
                else total_steps
            )
            warmup_steps = round(warmup_epochs * per_epoch)
        else:
            warmup_steps = round(warmup_fraction * total_steps)
    scheduler = warmup_cosine(optimizer, total_steps, warmup_steps, min_lr_ratio)
    return {'scheduler': scheduler, 'interval': 'step'}


__all__ = [
    'OptimizerName',
    'ParamGroup',
    'build_optimizer',
    'encoder_layer_id',
    'parameter_groups',
    'trainer_schedule',
    'warmup_cosine',
]
