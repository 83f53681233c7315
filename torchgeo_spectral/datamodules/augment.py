"""GPU-side normalisation and augmentation of spectral batches (kornia)."""

from __future__ import annotations

import kornia.augmentation as K
import torch
from kornia.augmentation.base import _AugmentationBase
from torch import Tensor, nn

__all__ = ['SpectralAugmentation']

Sample = dict[str, Tensor]


class SpectralAugmentation(nn.Module):
    """Per-band normalisation, optional flips, and nodata cleanup on a batch.

    Wraps :class:`kornia.augmentation.AugmentationSequential` (``data_keys=None``,
    as TorchGeo 0.10's data modules do): ``image`` is normalised with the
    per-band ``mean``/``std``; with ``train=True`` random horizontal/vertical
    flips move ``image``, ``mask`` and the ``valid`` mask together. Other keys
    (``wavelength``, ``label``, ``bounds``, ``transform``) pass through. After
    normalisation, non-finite values (nodata as NaN) become 0, the band mean.
    """

    def __init__(self, mean: Tensor, std: Tensor, *, train: bool = False) -> None:
        """Build the pipeline.

        Args:
            mean: ``(C,)`` band means.
            std: ``(C,)`` band standard deviations.
            train: Add random flips.
        """
        super().__init__()
        self.num_bands = int(mean.numel())
        ops: list[_AugmentationBase] = [K.Normalize(mean=mean, std=std)]
        if train:
            ops += [K.RandomHorizontalFlip(p=0.5), K.RandomVerticalFlip(p=0.5)]
        self.pipeline = K.AugmentationSequential(*ops, data_keys=None, keepdim=True)

    def forward(self, batch: Sample) -> Sample:
        """Normalise and augment a batch.

        Args:
            batch: A collated batch with ``image`` ``(B, C, H, W)``.

        Returns:
            The batch.

        Raises:
            ValueError: If the band count differs from the statistics.
        """
        batch = dict(batch)
        channels = self.num_bands
        if batch['image'].shape[-3] != channels:
            msg = (
                f'batch has {batch["image"].shape[-3]} bands but the normalisation '
                f'statistics have {channels}'
            )
            raise ValueError(msg)
        valid = batch.pop('valid', None)
        if valid is not None:
            batch['mask_valid'] = valid.to(torch.float32)
        out: Sample = self.pipeline(batch)
        if valid is not None:
            out['valid'] = out.pop('mask_valid') > 0.5
        out['image'] = torch.nan_to_num(out['image'], nan=0.0, posinf=0.0, neginf=0.0)
        return out
