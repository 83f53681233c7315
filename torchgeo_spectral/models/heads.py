"""Heads on top of the spectral ViT: pooled (image or pixel) and dense.

* :class:`SpectralClassifier`: one vector per input (the centre token or the mean
  of the feature map, optionally the outputs of the last blocks concatenated),
  then a linear layer; with ``norm=True`` a BatchNorm without affine parameters
  comes first, as in the MAE linear probe.
* :class:`SpectralDenseModel`: per-pixel outputs at full resolution from the
  (B, D, H/p, W/p) feature map, upsampled, plus a per-pixel linear projection of
  the input spectrum (:class:`SpectralPixelProjection`), so outputs vary inside
  a patch.
"""

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .spectral_vit import SpectralViT

#: How a pooled head reduces the feature map to one vector.
PoolMode = Literal['auto', 'center', 'mean']

#: Activation of dense outputs (``None``: raw values).
OutputActivation = Literal['softmax', 'relu', 'softplus'] | None


class SpectralPixelProjection(nn.Module):
    """Per-pixel linear projection of a spectrum with any band count.

    The weight of band ``c`` is generated from its wavelength: a linear map of
    a fixed Fourier encoding of the wavelength (periods from 20 nm to 5000 nm,
    the scales of spectral features from narrow absorption lines to the whole
    VNIR-SWIR range). A pixel's feature is the band mean of value times weight,
    so one module serves every sensor and its scale does not grow with ``C``.
    """

    def __init__(self, out_channels: int, frequencies: int = 16) -> None:
        """Initialize the projection.

        Args:
            out_channels: Output channels per pixel.
            frequencies: Number of Fourier periods of the wavelength encoding.
        """
        super().__init__()
        periods = torch.logspace(math.log10(20.0), math.log10(5000.0), frequencies)
        self.register_buffer('omega', 2 * math.pi / periods, persistent=False)
        self.weight = nn.Linear(2 * frequencies, out_channels)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    omega: Tensor

    def forward(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        """Project every pixel's spectrum.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (B, C) in nm.

        Returns:
            Features (B, out_channels, H, W).
        """
        angles = wavelengths.to(x.dtype).unsqueeze(-1) * self.omega.to(x.dtype)
        weights = self.weight(torch.cat([angles.sin(), angles.cos()], dim=-1))
        out = torch.einsum('bchw,bck->bkhw', x, weights) / x.shape[1]
        return out + self.bias[None, :, None, None]


class FeatureMapHead(nn.Module):
    """A light decoder: 3x3 conv block, bilinear upsampling, 1x1 classifier.

    The decoded feature map is upsampled to the input size and summed with the
    per-pixel features (if given) before the 1x1 classifier, so that outputs
    follow the pixels inside each patch.

    Attributes:
        decoder: The conv block (frozen by ``freeze_decoder``).
        classifier: The 1x1 convolution producing the outputs.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64) -> None:
        """Initialize the head.

        Args:
            in_channels: Channels of the feature map (the encoder width).
            out_channels: Classes or regression outputs.
            hidden: Channels of the decoder block.
        """
        super().__init__()
        self.decoder = nn.Sequential(
            nn.Conv2d(in_channels, hidden, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.GELU(),
        )
        self.classifier = nn.Conv2d(hidden, out_channels, kernel_size=1)

    def forward(
        self, features: Tensor, size: tuple[int, int], pixels: Tensor | None = None
    ) -> Tensor:
        """Decode a feature map to a dense prediction.

        Args:
            features: Feature map (B, D, h, w).
            size: Output height and width.
            pixels: Per-pixel features (B, hidden, H, W) added after upsampling.

        Returns:
            Predictions ``(B, out_channels, *size)``.
        """
        decoded = F.interpolate(
            self.decoder(features), size=size, mode='bilinear', align_corners=False
        )
        if pixels is not None:
            decoded = F.gelu(decoded + pixels)
        logits: Tensor = self.classifier(decoded)
        return logits


def activate(out: Tensor, activation: OutputActivation) -> Tensor:
    """Apply an output activation over the channel axis (dim 1).

    Args:
        out: Raw outputs (B, K, ...).
        activation: ``'softmax'`` (non-negative, sum to one: abundances),
            ``'relu'`` or ``'softplus'`` (non-negative), or None.

    Returns:
        The activated outputs.

    Raises:
        ValueError: For an unknown activation.
    """
    match activation:
        case None:
            return out
        case 'softmax':
            return out.softmax(dim=1)
        case 'relu':
            return F.relu(out)
        case 'softplus':
            return F.softplus(out)
    raise ValueError(
        f"output_activation must be 'softmax', 'relu', 'softplus' or None, "
        f'got {activation!r}'
    )


class SpectralDenseModel(nn.Module):
    """Spectral ViT backbone + :class:`FeatureMapHead` for per-pixel outputs.

    The only route to dense predictions: the encoder's feature map, decoded and
    upsampled, fused with a per-pixel projection of the input spectrum
    (``pixel_skip``) so that outputs are not constant within a patch.

    Attributes:
        backbone: The spectral ViT (no classification head).
        head: The dense head.
        pixels: The per-pixel projection (None without ``pixel_skip``).
    """

    def __init__(
        self,
        backbone: SpectralViT,
        out_channels: int,
        hidden: int = 64,
        *,
        pixel_skip: bool = True,
        activation: OutputActivation = None,
    ) -> None:
        """Initialize the model.

        Args:
            backbone: A spectral ViT exposing ``forward_feature_map`` and
                ``embed_dim``.
            out_channels: Classes or regression outputs per pixel.
            hidden: Channels of the head's decoder block.
            pixel_skip: Fuse a per-pixel projection of the input spectrum.
            activation: Output activation (see :func:`activate`).
        """
        super().__init__()
        activate(torch.zeros(1, 1), activation)
        self.backbone = backbone
        self.head = FeatureMapHead(backbone.embed_dim, out_channels, hidden)
        self.pixels = SpectralPixelProjection(hidden) if pixel_skip else None
        self.activation = activation

    @property
    def decoder(self) -> nn.Module:
        """The head's decoder block (TorchGeo's ``freeze_decoder`` target)."""
        return self.head.decoder

    def forward(self, x: Tensor, wavelengths: Tensor | None = None) -> Tensor:
        """Predict every pixel.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) or (B, C) in nm, or None for the
                backbone's fixed ones.

        Returns:
            Outputs (B, out_channels, H, W).
        """
        features: Tensor = self.backbone.forward_feature_map(x, wavelengths)
        pixels = None
        if self.pixels is not None:
            pixels = self.pixels(x, self.backbone.resolve_wavelengths(x, wavelengths))
        out: Tensor = self.head(features, (x.shape[-2], x.shape[-1]), pixels)
        return activate(out, self.activation)


class HeadNorm(nn.BatchNorm1d):
    """BatchNorm without affine parameters that tolerates a batch of one.

    It standardizes every feature before a linear head, as the MAE linear
    probe does. Features of inputs that are not z-scored per band can be
    strongly anisotropic (most of their variance along one direction, e.g.
    brightness); without it the head's gradient steps are badly conditioned
    and a few hundred steps leave it far from the optimum a standardized
    logistic regression reaches.

    A training batch of a single sample (the last batch of a few-label epoch)
    is normalized with the running statistics instead of failing.
    """

    def __init__(self, num_features: int) -> None:
        """Initialize the norm.

        Args:
            num_features: Width of the features.
        """
        super().__init__(num_features, affine=False)

    def forward(self, input: Tensor) -> Tensor:
        """Normalize features.

        Args:
            input: Features (B, F).

        Returns:
            Normalized features.
        """
        if self.training and input.shape[0] == 1:
            return F.batch_norm(
                input, self.running_mean, self.running_var, training=False, eps=self.eps
            )
        return super().forward(input)


class SpectralClassifier(nn.Module):
    """Spectral ViT backbone + pooled linear head (classification, regression).

    ``pool='center'`` takes the feature-map position of the patch holding the
    centre pixel ``(H // 2, W // 2)``: with ``p = 1`` or an odd window that is the
    labelled pixel's own token, which carries its spectrum instead of diluting
    it in a window mean. ``'mean'`` averages the whole map; ``'auto'`` uses
    ``'center'`` when the patch grid is odd in both directions (the centre pixel
    sits in the centre patch) and ``'mean'`` otherwise. ``blocks > 1``
    concatenates the (final-normed) outputs of the last ``blocks`` transformer
    blocks, a richer feature for linear probing.

    Attributes:
        backbone: The spectral ViT (no classification head).
        head: Optional BatchNorm (affine=False) then the linear layer.
    """

    def __init__(
        self,
        backbone: SpectralViT,
        out_features: int,
        *,
        pool: PoolMode = 'auto',
        blocks: int = 1,
        norm: bool = False,
    ) -> None:
        """Initialize the model.

        Args:
            backbone: A spectral ViT without head (``num_classes=0``).
            out_features: Classes or regression outputs.
            pool: ``'auto'``, ``'center'`` or ``'mean'`` (see the class docstring).
            blocks: Number of last blocks whose outputs are concatenated.
            norm: BatchNorm without affine parameters before the linear layer
                (the MAE linear-probe recipe for frozen features).

        Raises:
            ValueError: For an unknown pool or a block count outside [1, depth].
        """
        super().__init__()
        if pool not in ('auto', 'center', 'mean'):
            raise ValueError(f"pool must be 'auto', 'center' or 'mean', got {pool!r}")
        depth = len(backbone.blocks)
        if not 1 <= blocks <= depth:
            raise ValueError(
                f'probe_blocks must be between 1 and the encoder depth {depth}, '
                f'got {blocks}'
            )
        self.backbone = backbone
        self.pool = pool
        self.blocks = blocks
        width = blocks * backbone.embed_dim
        self.head = nn.Sequential(
            HeadNorm(width) if norm else nn.Identity(), nn.Linear(width, out_features)
        )

    def _block_tokens(self, x: Tensor, wavelengths: Tensor | None) -> list[Tensor]:
        """Token features of the last ``blocks`` blocks, each final-normed.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres or None.

        Returns:
            ``blocks`` tensors (B, T, D), the last one the encoder's output.
        """
        captured: list[Tensor] = []
        hooks = [
            block.register_forward_hook(lambda _m, _i, out: captured.append(out))
            for block in list(self.backbone.blocks)[-self.blocks : -1]
        ]
        try:
            tokens = self.backbone.forward_tokens(x, wavelengths)
        finally:
            for hook in hooks:
                hook.remove()
        return [self.backbone.norm(t) for t in captured] + [tokens]

    def _reduce(self, tokens: Tensor, height: int, width: int) -> Tensor:
        """Pool token features to one vector per sample.

        Args:
            tokens: Token features (B, T, D).
            height: Input height.
            width: Input width.

        Returns:
            Features (B, D).
        """
        p = self.backbone.patch_size
        grid_h, grid_w = height // p, width // p
        fmap = self.backbone.tokens_to_feature_map(tokens, grid_h, grid_w)
        center = self.pool == 'center' or (
            self.pool == 'auto' and grid_h % 2 == 1 and grid_w % 2 == 1
        )
        if center:
            return fmap[:, :, (height // 2) // p, (width // 2) // p]
        return fmap.mean(dim=(2, 3))

    def features(self, x: Tensor, wavelengths: Tensor | None = None) -> Tensor:
        """The pooled feature vector the head sees.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) or (B, C) in nm, or None.

        Returns:
            Features (B, blocks * D).
        """
        height, width = x.shape[-2:]
        return torch.cat(
            [
                self._reduce(t, height, width)
                for t in self._block_tokens(x, wavelengths)
            ],
            dim=1,
        )

    def forward(self, x: Tensor, wavelengths: Tensor | None = None) -> Tensor:
        """Predict one output vector per cube.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) or (B, C) in nm, or None.

        Returns:
            Outputs (B, out_features).
        """
        out: Tensor = self.head(self.features(x, wavelengths))
        return out


__all__ = [
    'FeatureMapHead',
    'HeadNorm',
    'OutputActivation',
    'PoolMode',
    'SpectralClassifier',
    'SpectralDenseModel',
    'SpectralPixelProjection',
    'activate',
]
