"""Optimisers and the warmup + cosine learning-rate schedule."""

from collections.abc import Iterable
from typing import Literal

from torch import nn
from torch.optim import SGD, Adam, AdamW, Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
)

#: Names of the supported optimisers.
OptimizerName = Literal['adamw', 'adam', 'sgd']


def parameter_groups(
    model: nn.Module, weight_decay: float
) -> list[dict[str, list[nn.Parameter] | float]]:
    """Split trainable parameters into decayed weights and undecayed rest.

    Biases, normalisation weights and embeddings (parameters with at most one
    dimension, as in MAE) get no weight decay.

    Args:
        model: The module whose trainable parameters to group.
        weight_decay: Weight decay of the decayed group.

    Returns:
        Parameter groups for a torch optimiser.
    """
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for param in model.parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim <= 1 else decay).append(param)
    return [
        {'params': decay, 'weight_decay': weight_decay},
        {'params': no_decay, 'weight_decay': 0.0},
    ]


def build_optimizer(
    params: Iterable[dict[str, list[nn.Parameter] | float]],
    name: str,
    lr: float,
    weight_decay: float = 0.0,
) -> Optimizer:
    """Create an optimiser by name.

    Args:
        params: Parameter groups (see :func:`parameter_groups`).
        name: One of ``'adamw'`` (betas 0.9/0.95, as MAE), ``'adam'`` or ``'sgd'``
            (momentum 0.9).
        lr: Base learning rate.
        weight_decay: Default weight decay for groups that set none.

    Returns:
        The optimiser.

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
    """Linear warmup from ~0 to the base rate, then cosine decay.

    Built from :class:`~torch.optim.lr_scheduler.LinearLR` and
    :class:`~torch.optim.lr_scheduler.CosineAnnealingLR` joined by
    :class:`~torch.optim.lr_scheduler.SequentialLR`; step it once per
    optimiser step.

    Args:
        optimizer: The optimiser to schedule.
        total_steps: Number of optimiser steps of the whole run.
        warmup_steps: Number of warmup steps (clipped to ``total_steps``).
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


__all__ = ['OptimizerName', 'build_optimizer', 'parameter_groups', 'warmup_cosine']
