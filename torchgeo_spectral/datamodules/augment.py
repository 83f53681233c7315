"""Device-side normalization and flips of spectral batches (kornia)."""

from __future__ import annotations

import kornia.augmentation as K
import torch
from torch import Tensor, nn
from torchgeo.datasets.utils import Sample

from ..transforms.normalize import WavelengthNormalize

__all__ = ['SpectralAugmentation']


class SpectralAugmentation(nn.Module):
    """Per-band normalization, optional flips, and nodata cleanup on a batch.

    ``image`` is normalized with the per-band ``mean``/``std`` by
    :class:`~torchgeo_spectral.transforms.WavelengthNormalize` (the project's
    one normalizer, here by band position); non-finite values (nodata as NaN)
    become 0, the band mean. With ``train=True`` random horizontal/vertical
    flips (:class:`kornia.augmentation.AugmentationSequential` with
    ``data_keys=None``, as TorchGeo 0.10's data modules do) move ``image``,
    ``mask`` and the ``valid`` mask together. Other keys (``wavelength``,
    ``label``, ``bounds``, ``transform``) pass through.
    """

    def __init__(self, mean: Tensor, std: Tensor, *, train: bool = False) -> None:
        """Build the pipeline.

        Args:
            mean: ``(C,)`` band means.
            std: ``(C,)`` band standard deviations.
            train: Add random flips.
        """
        super().__init__()
        self.normalize = WavelengthNormalize(
            None, mean.detach().cpu(), std.detach().cpu(), nonfinite=0.0
        )
        self.num_bands = self.normalize.num_bands
        self.flips = (
            K.AugmentationSequential(
                K.RandomHorizontalFlip(p=0.5),
                K.RandomVerticalFlip(p=0.5),
                data_keys=None,
                keepdim=True,
            )
            if train
            else None
        )

    def forward(self, batch: Sample) -> Sample:
        """Normalize and augment a batch.

        Args:
            batch: A collated batch with ``image`` ``(B, C, H, W)`` and
                ``wavelength``.

        Returns:
            The batch.

        Raises:
            ValueError: If the band count differs from the statistics.
        """
        channels = batch['image'].shape[-3]
        if channels != self.num_bands:
            msg = (
                f'batch has {channels} bands but the normalization statistics '
                f'have {self.num_bands}'
            )
            raise ValueError(msg)
        out: Sample = self.normalize(batch)
        if self.flips is None:
            return out
        valid = out.pop('valid', None)
        if valid is not None:
            out['mask_valid'] = valid.to(torch.float32)
        out = self.flips(out)
        if valid is not None:
            out['valid'] = out.pop('mask_valid') > 0.5
        return out
