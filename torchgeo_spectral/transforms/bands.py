"""Band-set augmentations: subsets, windows and dropout of bands.

Band-set changes draw one band set per call, so all images of a batch share it;
apply them to batches, not to single samples that are later collated.
"""

from __future__ import annotations

from typing import Literal, override

import torch
from torch import Tensor

from .base import SpectralTransform


def _count_range(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    low, high = (value, value) if isinstance(value, int) else value
    if not 1 <= low <= high:
        msg = f'{name} must be a positive int or (low, high) with low <= high'
        raise ValueError(f'{msg}, got {value!r}')
    return int(low), int(high)


def select_bands(
    image: Tensor, wavelength: Tensor, index: Tensor
) -> tuple[Tensor, Tensor]:
    """Keep the bands ``index`` (sorted) of a batch and of its wavelengths.

    Args:
        image: ``(B, C, H, W)``.
        wavelength: ``(C,)`` or ``(B, C)``.
        index: Sorted band indices to keep.

    Returns:
        ``(B, K, H, W)`` and ``(K,)`` or ``(B, K)``.
    """
    index = index.to(image.device)
    return image.index_select(1, index), wavelength.index_select(-1, index)


class _RandomBandCount(SpectralTransform):
    """Keep ``k ~ U{count}`` bands, a random subset or window, for the whole batch.

    What band subsets and band windows share: the draw of ``k``, the
    probability ``p``, and images with at most ``k`` bands passing unchanged.
    """

    def __init__(
        self,
        count: int | tuple[int, int],
        name: str,
        contiguous: bool,
        p: float,
        seed: int | None,
    ) -> None:
        """Initialise the transform.

        Args:
            count: Number of bands to keep, or an inclusive range.
            name: Name of ``count`` in error messages.
            contiguous: Keep a window of neighbouring bands rather than a
                random subset.
            p: Probability of applying (one draw per batch).
            seed: Seed of the transform's generator.
        """
        super().__init__(p=p, seed=seed)
        self.count = _count_range(count, name)
        self.contiguous = contiguous

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Keep the chosen bands (image and wavelengths)."""
        bands = image.shape[1]
        keep = min(self.randint(*self.count), bands)
        if not self.coin() or keep >= bands:
            return image, wavelength
        if self.contiguous:
            start = self.randint(0, bands - keep)
            index = torch.arange(start, start + keep)
        else:
            index = torch.randperm(bands, generator=self.generator)[:keep].sort().values
        return select_bands(image, wavelength, index)


class RandomBandSubset(_RandomBandCount):
    """Keep a random subset of bands (in wavelength order) for the whole batch.

    ``k ~ U{num_bands}`` bands are kept; an image with at most ``k`` bands passes
    unchanged.
    """

    def __init__(
        self, num_bands: int | tuple[int, int], p: float = 1.0, seed: int | None = None
    ) -> None:
        """Initialise RandomBandSubset.

        Args:
            num_bands: Number of bands to keep, or an inclusive range.
            p: Probability of applying (one draw per batch).
            seed: Seed of the transform's generator.
        """
        super().__init__(num_bands, 'num_bands', False, p, seed)


class RandomBandWindow(_RandomBandCount):
    """Keep a random window of contiguous bands for the whole batch.

    ``k ~ U{width}`` neighbouring bands starting at a random band are kept; an
    image with at most ``k`` bands passes unchanged.
    """

    def __init__(
        self, width: int | tuple[int, int], p: float = 1.0, seed: int | None = None
    ) -> None:
        """Initialise RandomBandWindow.

        Args:
            width: Number of contiguous bands to keep, or an inclusive range.
            p: Probability of applying (one draw per batch).
            seed: Seed of the transform's generator.
        """
        super().__init__(width, 'width', True, p, seed)


class RandomBandDropout(SpectralTransform):
    """Drop random bands, removing them or zeroing them.

    Each band is dropped with probability ``drop_prob``, keeping at least
    ``min_keep`` bands.

    * ``mode='remove'``: dropped bands are removed from the image and from
      ``wavelength``; one band set is drawn for the whole batch.
    * ``mode='zero'``: dropped bands are set to 0 and ``wavelength`` is kept
      (the model still sees where the band was); drawn per sample.
    """

    def __init__(
        self,
        drop_prob: float = 0.1,
        mode: Literal['remove', 'zero'] = 'remove',
        min_keep: int = 1,
        p: float = 0.5,
        seed: int | None = None,
    ) -> None:
        """Initialise RandomBandDropout.

        Args:
            drop_prob: Probability of dropping each band.
            mode: ``'remove'`` or ``'zero'``.
            min_keep: Bands always kept.
            p: Probability of applying (per batch for ``'remove'``, per sample
                for ``'zero'``).
            seed: Seed of the transform's generator.

        Raises:
            ValueError: If an argument is out of range.
        """
        super().__init__(p=p, seed=seed)
        if not 0 <= drop_prob <= 1:
            msg = f'drop_prob must lie in [0, 1], got {drop_prob}'
            raise ValueError(msg)
        if mode not in ('remove', 'zero'):
            msg = f"mode must be 'remove' or 'zero', got {mode!r}"
            raise ValueError(msg)
        if min_keep < 1:
            msg = f'min_keep must be >= 1, got {min_keep}'
            raise ValueError(msg)
        self.drop_prob = float(drop_prob)
        self.mode = mode
        self.min_keep = int(min_keep)

    def _keep_mask(self, rows: int, bands: int) -> Tensor:
        """Draw keep masks with at least ``min_keep`` bands per row.

        Args:
            rows: Number of masks.
            bands: Number of bands.

        Returns:
            A boolean ``(rows, bands)`` mask.
        """
        scores = self.rand(rows, bands)
        keep = scores >= self.drop_prob
        # Rescue the highest-scoring bands when too few survive.
        floor = min(self.min_keep, bands)
        top = scores.topk(floor, dim=1).indices
        keep.scatter_(1, top, True)
        return keep

    @override
    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Drop bands, or zero them in ``mode="zero"``."""
        batch, bands = image.shape[:2]
        if self.mode == 'remove':
            keep = self._keep_mask(1, bands)[0]
            if not self.coin():
                return image, wavelength
            return select_bands(image, wavelength, keep.nonzero().flatten())
        keep = self._keep_mask(batch, bands) | ~self.coins(batch)[:, None]
        return image * keep.to(image)[:, :, None, None], wavelength
