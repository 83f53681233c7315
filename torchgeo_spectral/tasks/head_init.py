"""Closed-form linear-probe initialization of a pooled head (LP-FT).

Fine-tuning a pretrained encoder under a randomly initialized head spends its
first steps on large, noisy head gradients that also flow into (and distort)
the encoder; with a few hundred steps the head may not even reach the optimum
of a linear probe on the frozen features. Solving that probe first, to
convergence on the frozen training features, and starting fine-tuning from it
("linear probing then fine-tuning", Kumar et al., ICLR 2022) avoids both. The
probe here minimizes the task's own loss (label smoothing and class weights
included) on standardized features with L-BFGS, plus a ridge penalty, and is
then written into the head: into its :class:`~torchgeo_spectral.models.heads.HeadNorm`
statistics when it has one, else folded into the linear layer.
"""

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..models.heads import HeadNorm

#: L-BFGS iterations of the probe (it converges in far fewer on typical sizes).
PROBE_MAX_ITER = 500
#: Training samples read for the probe at most (an initialization needs no more;
#: it bounds the memory of the cached features on large training sets).
PROBE_MAX_SAMPLES = 100_000
#: Variance floor of the standardization (that of :class:`HeadNorm`).
_EPS = 1e-5


def fit_linear_probe(
    features: Tensor, loss: Callable[[Tensor], Tensor], out_features: int, l2: float
) -> tuple[Tensor, Tensor]:
    """Fit a linear layer on standardized features by L-BFGS.

    Args:
        features: Frozen features (N, F), already standardized.
        loss: The task's loss of the outputs (N, out_features).
        out_features: Outputs of the layer.
        l2: Weight of the ridge penalty ``l2 / 2 * ||W||^2`` (not on the bias).

    Returns:
        ``(weight, bias)`` of shapes (out_features, F) and (out_features,).

    Raises:
        ValueError: If the loss is not finite at the solution.
    """
    linear = nn.Linear(features.shape[1], out_features).to(features)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    optimizer = torch.optim.LBFGS(
        linear.parameters(),
        lr=1.0,
        max_iter=PROBE_MAX_ITER,
        history_size=20,
        line_search_fn='strong_wolfe',
    )

    def closure() -> Tensor:
        optimizer.zero_grad()
        value = loss(linear(features)) + 0.5 * l2 * linear.weight.square().sum()
        torch.autograd.backward(value)
        return value

    with torch.enable_grad():
        # LBFGS.step is not annotated in torch
        optimizer.step(closure)  # type: ignore[no-untyped-call]
    with torch.no_grad():
        final = float(loss(linear(features)))
    if not math.isfinite(final):
        raise ValueError(
            f'head_init: the linear probe diverged (loss {final}); check '
            'the training features and targets for NaN or infinite values'
        )
    return linear.weight.detach(), linear.bias.detach()


@torch.no_grad()
def initialize_head(
    head: nn.Sequential, features: Tensor, loss: Callable[[Tensor], Tensor]
) -> None:
    """Write the linear probe of ``features`` into a pooled head.

    The probe is fitted on features standardized with their own mean and
    variance, with a ridge penalty of ``1 / N`` (that of scikit-learn's
    ``LogisticRegression(C=1)`` on N samples). With a leading
    :class:`HeadNorm` the statistics become its running statistics; else the
    standardization is folded into the linear layer, so the head computes the
    same function either way.

    Args:
        head: ``Sequential(HeadNorm or Identity, Linear)``, as built by
            :class:`~torchgeo_spectral.models.heads.SpectralClassifier`.
        features: Frozen features (N, F) of the training samples.
        loss: The task's loss of the head's outputs (N, K).

    Raises:
        ValueError: If there are fewer than two samples, features are not
            finite, or the probe diverges.
    """
    norm, linear = head[0], head[-1]
    assert isinstance(linear, nn.Linear)
    if features.shape[0] < 2:
        raise ValueError(
            'head_init: the linear probe needs at least 2 training samples, '
            f'found {features.shape[0]}'
        )
    features = features.float()
    bad = int((~torch.isfinite(features)).any(dim=1).sum())
    if bad:
        raise ValueError(
            f'head_init: the encoder features of {bad} of {features.shape[0]} '
            'training samples are not finite (NaN or infinite); check the input '
            'for unmasked nodata'
        )
    mean = features.mean(dim=0)
    var = features.var(dim=0)
    scale = (var + _EPS).sqrt()
    weight, bias = fit_linear_probe(
        (features - mean) / scale, loss, linear.out_features, 1.0 / features.shape[0]
    )
    if isinstance(norm, HeadNorm):
        assert norm.running_mean is not None
        assert norm.running_var is not None
        norm.running_mean.copy_(mean)
        norm.running_var.copy_(var)
    else:
        weight = weight / scale
        bias = bias - weight @ mean
    linear.weight.copy_(weight)
    linear.bias.copy_(bias)


__all__ = ['PROBE_MAX_ITER', 'PROBE_MAX_SAMPLES', 'fit_linear_probe', 'initialize_head']
