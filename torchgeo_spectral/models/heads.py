"""Dense prediction on top of the spectral ViT's feature map."""

import torch.nn.functional as F
from torch import Tensor, nn

from .spectral_vit import SpectralViT


class FeatureMapHead(nn.Module):
    """A light decoder: 3x3 conv block, 1x1 classifier, bilinear upsampling.

    Attributes:
        decoder: The conv block (frozen by ``freeze_decoder``).
        classifier: The 1x1 convolution producing the outputs.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64) -> None:
        """Initialise the head.

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

    def forward(self, features: Tensor, size: tuple[int, int]) -> Tensor:
        """Decode a feature map to a dense prediction.

        Args:
            features: Feature map (B, D, h, w).
            size: Output height and width.

        Returns:
            Predictions ``(B, out_channels, *size)``.
        """
        logits: Tensor = self.classifier(self.decoder(features))
        return F.interpolate(logits, size=size, mode='bilinear', align_corners=False)


class SpectralDenseModel(nn.Module):
    """Spectral ViT backbone + :class:`FeatureMapHead` for per-pixel outputs.

    Attributes:
        backbone: The spectral ViT (no classification head).
        head: The dense head.
    """

    def __init__(
        self, backbone: SpectralViT, out_channels: int, hidden: int = 64
    ) -> None:
        """Initialise the model.

        Args:
            backbone: A spectral ViT exposing ``forward_feature_map`` and
                ``embed_dim``.
            out_channels: Classes or regression outputs per pixel.
            hidden: Channels of the head's decoder block.
        """
        super().__init__()
        self.backbone = backbone
        self.head = FeatureMapHead(backbone.embed_dim, out_channels, hidden)

    @property
    def decoder(self) -> nn.Module:
        """The head's decoder block (TorchGeo's ``freeze_decoder`` target)."""
        return self.head.decoder

    def forward(self, x: Tensor, wavelengths: Tensor | None = None) -> Tensor:
        """Predict every pixel.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) in nm.

        Returns:
            Outputs (B, out_channels, H, W).
        """
        features: Tensor = self.backbone.forward_feature_map(x, wavelengths)
        out: Tensor = self.head(features, (x.shape[-2], x.shape[-1]))
        return out
