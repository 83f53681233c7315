"""Multi-scale features of a :class:`SpectralViT` for dense decoders.

A simple feature pyramid (ViTDet style) turns the encoder's single feature map of
stride ``p`` (pooled over spectral groups) into maps of strides 4, 8, 16 and 32:
transposed convolutions for strides below ``p``, identity at ``p``, max pooling
above. It is what ``timm.create_model('spectral_vit_*', features_only=True)``
returns, with a timm ``feature_info``, so smp's ``tu-`` encoders (and therefore
TorchGeo's ``SemanticSegmentationTask`` with U-Net, UPerNet, DPT...) accept it.
"""

from collections.abc import Sequence
from typing import Any

from timm.models._features import FeatureInfo
from torch import Tensor, nn

from .spectral_vit import SpectralViT
from .validation import WavelengthsLike

__all__ = ['PYRAMID_STRIDES', 'SpectralFeaturePyramid']

#: Strides of the pyramid levels (smp's transformer-style layout).
PYRAMID_STRIDES = (4, 8, 16, 32)


def _is_power_of_two(value: int) -> bool:
    """Whether ``value`` is a positive power of two.

    Args:
        value: Integer to test.

    Returns:
        True for 1, 2, 4, ...
    """
    return value > 0 and value & (value - 1) == 0


def _level(dim: int, out_dim: int, patch_size: int, stride: int) -> nn.Module:
    """One pyramid level mapping the stride-``p`` map to stride ``stride``.

    Args:
        dim: Encoder width ``D``.
        out_dim: Channels of the level.
        patch_size: Encoder patch size ``p``.
        stride: Target stride.

    Returns:
        The level module.

    Raises:
        ValueError: If ``p`` and ``stride`` are not related by a power of two.
    """
    if stride < patch_size:
        factor = patch_size // stride
        if patch_size % stride or not _is_power_of_two(factor):
            msg = (
                f'patch size {patch_size} and stride {stride} differ by no power of two'
            )
            raise ValueError(msg)
        layers: list[nn.Module] = []
        channels = dim
        while factor > 1:
            nxt = out_dim if factor == 2 else max(channels // 2, out_dim)
            layers.append(nn.ConvTranspose2d(channels, nxt, kernel_size=2, stride=2))
            if factor > 2:
                layers += [nn.GroupNorm(1, nxt), nn.GELU()]
            channels = nxt
            factor //= 2
        return nn.Sequential(*layers)
    factor = stride // patch_size
    if stride % patch_size or not _is_power_of_two(factor):
        msg = f'patch size {patch_size} and stride {stride} differ by no power of two'
        raise ValueError(msg)
    if factor == 1:
        return nn.Identity()
    return nn.MaxPool2d(kernel_size=factor, stride=factor, ceil_mode=True)


class SpectralFeaturePyramid(nn.Module):
    """Feature-extraction wrapper: a list of maps at strides 4, 8, 16, 32.

    Channels follow ViTDet: ``D/4`` at stride 4 (when below ``p``), ``D/2`` at
    stride 8 (when below ``p``), ``D`` at ``p`` and above. The wrapped encoder is
    available as ``.model``; its classification head is removed.

    Attributes:
        feature_info: timm :class:`~timm.models._features.FeatureInfo` of the levels.
        pretrained_cfg: The encoder's timm cfg (set by the timm entrypoints).
        in_chans: The encoder's expected band count.
    """

    pretrained_cfg: dict[str, Any]
    default_cfg: dict[str, Any]
    in_chans: int | None

    def __init__(
        self,
        model: SpectralViT,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        **kwargs: Any,
    ) -> None:
        """Wrap an encoder.

        Args:
            model: The encoder.
            out_indices: Which of the four levels (0: stride 4 ... 3: stride 32) to
                return.
            **kwargs: timm feature options without effect here (``output_fmt``...).

        Raises:
            ValueError: For out-of-range indices or a patch size that is not a
                power of two (pyramid strides are powers of two).
        """
        super().__init__()
        indices = tuple(int(i) for i in out_indices)
        if not indices or any(i < 0 or i >= len(PYRAMID_STRIDES) for i in indices):
            msg = f'out_indices must be within 0..{len(PYRAMID_STRIDES) - 1}, got {indices}'
            raise ValueError(msg)
        model.reset_classifier(0)
        self.model = model
        self.out_indices = indices
        dim, p = model.embed_dim, model.patch_size
        channels = [
            dim if stride >= p else max(dim * stride // p, 1)
            for stride in PYRAMID_STRIDES
        ]
        self.levels = nn.ModuleList(
            _level(dim, channels[i], p, stride) if i in indices else nn.Identity()
            for i, stride in enumerate(PYRAMID_STRIDES)
        )
        info = [
            {'num_chs': channels[i], 'reduction': stride, 'module': f'levels.{i}'}
            for i, stride in enumerate(PYRAMID_STRIDES)
        ]
        self.feature_info = FeatureInfo(info, indices)
        self.pretrained_cfg = dict(model.pretrained_cfg)
        self.default_cfg = self.pretrained_cfg
        self.in_chans = model.in_chans

    def forward(
        self, x: Tensor, wavelengths: WavelengthsLike | None = None
    ) -> list[Tensor]:
        """Compute the pyramid.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres (nm), or ``None`` for
                the encoder's fixed wavelengths.

        Returns:
            One ``(B, channels, H / stride, W / stride)`` map per output index.
        """
        fmap = self.model.forward_feature_map(x, wavelengths)
        return [self.levels[i](fmap) for i in self.out_indices]
