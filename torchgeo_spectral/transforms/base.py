"""Base class of the spectral transforms: dict and ``(image, wavelength)`` I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

import torch
from torch import Tensor, nn

#: A sample as transforms see it: tensors plus non-tensor entries such as
#: ``bounds`` or ``crs``, passed through unchanged.
MixedSample = dict[str, Any]


def check_pair(image: Tensor, wavelength: Tensor) -> None:
    """Check that an image and its band centres agree.

    Args:
        image: ``(C, H, W)`` or ``(B, C, H, W)``.
        wavelength: ``(C,)`` or ``(B, C)`` band centres in nm.

    Raises:
        ValueError: If the ranks or band counts disagree.
    """
    if image.ndim not in (3, 4):
        msg = f'image must be (C, H, W) or (B, C, H, W), got shape {tuple(image.shape)}'
        raise ValueError(msg)
    if wavelength.ndim not in (1, 2) or (wavelength.ndim == 2 and image.ndim == 3):
        msg = (
            f'wavelength of shape {tuple(wavelength.shape)} does not fit an image of '
            f'shape {tuple(image.shape)}; expected (C,) or (B, C)'
        )
        raise ValueError(msg)
    if wavelength.ndim == 2 and wavelength.shape[0] != image.shape[0]:
        msg = (
            f'wavelength has {wavelength.shape[0]} rows for a batch of '
            f'{image.shape[0]} images'
        )
        raise ValueError(msg)
    if wavelength.shape[-1] != image.shape[-3]:
        msg = (
            f'image has {image.shape[-3]} bands but wavelength has '
            f'{wavelength.shape[-1]} values'
        )
        raise ValueError(msg)


class SpectralTransform(nn.Module):
    """Base of transforms that may change the bands of an image.

    Subclasses implement :meth:`apply_batch` on a batched image ``(B, C, H, W)`` and
    its wavelengths ``(C,)`` (shared by the batch) or ``(B, C)``. The base class
    accepts a sample or batch dictionary (``image`` and ``wavelength`` keys; other
    keys pass through untouched, so masks and labels survive) or an
    ``(image, wavelength)`` pair, adds and removes the batch dimension of single
    samples, and owns the random generator and the probability ``p``.

    Transforms that change the band set draw their randomness once per call, so
    every image of a batch keeps the same bands; intensity transforms draw per
    sample. Apply them to batches (e.g. in a data module's
    ``on_after_batch_transfer``) so one batch never mixes band sets. They chain
    with :class:`torch.nn.Sequential` and with kornia's
    ``AugmentationSequential(..., data_keys=None)``, which passes ``wavelength``
    through unchanged.
    """

    def __init__(
        self,
        p: float = 1.0,
        seed: int | None = None,
        image_key: str = 'image',
        wavelength_key: str = 'wavelength',
    ) -> None:
        """Initialise the transform.

        Args:
            p: Probability of applying the transform (per batch for band-set
                changes, per sample otherwise).
            seed: Seed of the transform's own generator; None uses torch's global
                random state.
            image_key: Key of the image in sample dictionaries.
            wavelength_key: Key of the band centres in sample dictionaries.

        Raises:
            ValueError: If ``p`` is outside ``[0, 1]``.
        """
        super().__init__()
        if not 0 <= p <= 1:
            msg = f'p must lie in [0, 1], got {p}'
            raise ValueError(msg)
        self.p = float(p)
        self.image_key = image_key
        self.wavelength_key = wavelength_key
        self.generator: torch.Generator | None = (
            None if seed is None else torch.Generator().manual_seed(seed)
        )

    @overload
    def forward(self, sample: Mapping[str, Any]) -> MixedSample: ...

    @overload
    def forward(self, sample: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]: ...

    def forward(
        self, sample: Mapping[str, Any] | Tensor, wavelength: Tensor | None = None
    ) -> MixedSample | tuple[Tensor, Tensor]:
        """Transform a sample/batch dictionary or an ``(image, wavelength)`` pair.

        Args:
            sample: A dictionary with image and wavelength keys, or an image.
            wavelength: Band centres when ``sample`` is an image.

        Returns:
            A new dictionary (other keys shared) or the ``(image, wavelength)``
            pair, with ``wavelength`` matching the image's bands.

        Raises:
            ValueError: If the wavelength is missing or disagrees with the image.
        """
        if isinstance(sample, Mapping):
            out = dict(sample)
            if self.wavelength_key not in out:
                msg = f'sample has no {self.wavelength_key!r} key'
                raise ValueError(msg)
            image, wl = self.transform(out[self.image_key], out[self.wavelength_key])
            out[self.image_key], out[self.wavelength_key] = image, wl
            return out
        if wavelength is None:
            msg = 'wavelength is required when transforming an image tensor'
            raise ValueError(msg)
        return self.transform(sample, wavelength)

    def transform(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Transform an image and its wavelengths (single or batched).

        Args:
            image: ``(C, H, W)`` or ``(B, C, H, W)``.
            wavelength: ``(C,)`` or ``(B, C)`` band centres in nm.

        Returns:
            The transformed ``(image, wavelength)``, in the input's layout.
        """
        wavelength = torch.as_tensor(wavelength, device=image.device)
        check_pair(image, wavelength)
        single = image.ndim == 3
        batch = image.unsqueeze(0) if single else image
        out, wl = self.apply_batch(batch, wavelength)
        if single:
            out = out.squeeze(0)
            wl = wl.squeeze(0) if wl.ndim == 2 else wl
        check_pair(out, wl)
        return out, wl

    def apply_batch(self, image: Tensor, wavelength: Tensor) -> tuple[Tensor, Tensor]:
        """Transform a batch; implemented by subclasses.

        This docstring documents the contract once: overrides are marked
        ``@override`` and say only what they do.

        Args:
            image: ``(B, C, H, W)``.
            wavelength: ``(C,)`` or ``(B, C)``.

        Returns:
            The transformed ``(image, wavelength)``.
        """
        raise NotImplementedError

    # Random helpers: draws come from the transform's generator, on the CPU.

    def rand(self, *shape: int) -> Tensor:
        """Uniform ``[0, 1)`` draws.

        Args:
            *shape: Output shape.

        Returns:
            A float32 CPU tensor.
        """
        return torch.rand(shape, generator=self.generator)

    def uniform(self, low: float, high: float, *shape: int) -> Tensor:
        """Uniform ``[low, high)`` draws.

        Args:
            low: Lower bound.
            high: Upper bound.
            *shape: Output shape.

        Returns:
            A float32 CPU tensor.
        """
        return low + (high - low) * self.rand(*shape)

    def randint(self, low: int, high: int) -> int:
        """One integer from ``[low, high]`` (inclusive).

        Args:
            low: Lowest value.
            high: Highest value.

        Returns:
            The draw.
        """
        return int(torch.randint(low, high + 1, (1,), generator=self.generator))

    def coin(self) -> bool:
        """One Bernoulli(``p``) draw for batch-level decisions.

        Returns:
            True when the transform should apply.
        """
        return self.p >= 1 or bool(self.rand(1) < self.p)

    def coins(self, batch: int) -> Tensor:
        """Per-sample Bernoulli(``p``) draws.

        Args:
            batch: Number of samples.

        Returns:
            A boolean CPU tensor of shape ``(batch,)``.
        """
        return self.rand(batch) < self.p

    def device_generator(self, device: torch.device) -> torch.Generator | None:
        """A generator on ``device`` seeded from the transform's generator.

        Args:
            device: Device on which to draw large random tensors.

        Returns:
            None when the transform has no seed (global random state is used).
        """
        if self.generator is None:
            return None
        seed = int(torch.randint(2**62, (1,), generator=self.generator))
        return torch.Generator(device=device).manual_seed(seed)

    def extra_repr(self) -> str:
        """Representation of the probability.

        Returns:
            ``p=...``.
        """
        return f'p={self.p}'
