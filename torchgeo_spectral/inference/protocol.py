"""The small contract between inference and models: a callable plus metadata.

Inference never reaches into a model's internals. A *predictor* is any callable

    ``predictor(x: Tensor (B, C, h, w), wavelengths: Tensor (C,)) -> Tensor``

returning dense class logits ``(B, K, h', w')`` (at input or patch resolution; the
output is resized to the tile as needed). An *embedder* has the same signature and
returns a per-patch feature map ``(B, D, h / p, w / p)``. :class:`ModelInfo` says
what the callable expects and produces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

__all__ = ['Embedder', 'ModelInfo', 'Predictor']

#: Dense class logits: ``(B, C, h, w), (C,) -> (B, K, h', w')``.
Predictor = Callable[[Tensor, Tensor], Tensor]

#: Per-patch features: ``(B, C, h, w), (C,) -> (B, D, h / p, w / p)``.
Embedder = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class ModelInfo:
    """What a predictor or embedder expects and produces.

    Attributes:
        task: ``'segmentation'``, ``'classification'``, ``'pretraining'`` or
            ``'unknown'`` (the kind of task a checkpoint was trained for).
        num_classes: Number of output classes, if known.
        patch_size: Spatial patch size; tiles and overlaps must be multiples of it.
        wavelengths: Band centres (nm) the model was fixed to, or None (any sensor).
        in_channels: Band count the model was fixed to, or None.
        sensor: Name of the sensor the model was fixed to, if any.
        class_names: Optional class names (band descriptions of outputs).
        source: Checkpoint path or a description of the model.
        extra: Anything else worth recording (hyperparameters).
    """

    task: str = 'unknown'
    num_classes: int | None = None
    patch_size: int = 1
    wavelengths: tuple[float, ...] | None = None
    in_channels: int | None = None
    sensor: str | None = None
    class_names: tuple[str, ...] | None = None
    source: str = '<callable>'
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_model(cls, model: Any, **kwargs: Any) -> ModelInfo:
        """Read ``patch_size``, fixed ``wavelengths`` and ``sensor`` off a model.

        Works with :class:`~torchgeo_spectral.models.SpectralViT` and anything that
        exposes the same attributes; missing attributes keep the defaults.

        Args:
            model: A model (e.g. an ``nn.Module``).
            **kwargs: Fields that override what is read.

        Returns:
            The info.
        """
        values: dict[str, Any] = {'source': type(model).__name__}
        patch = getattr(model, 'patch_size', None)
        if isinstance(patch, int):
            values['patch_size'] = patch
        elif isinstance(patch, Sequence) and patch and isinstance(patch[0], int):
            values['patch_size'] = int(patch[0])
        wl = getattr(model, 'wavelengths', None)
        if wl is not None:
            values['wavelengths'] = tuple(float(w) for w in wl)
            values['in_channels'] = len(values['wavelengths'])
        sensor = getattr(model, 'sensor', None)
        if isinstance(sensor, str):
            values['sensor'] = sensor
        values.update(kwargs)
        return cls(**values)
