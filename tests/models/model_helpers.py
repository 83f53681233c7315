"""Helpers shared by the model tests (tiny configurations, wavelengths)."""

import torch

#: A 2-block, width-32 encoder with 4x4 patches and 8 bands per token.
TINY = {
    'embed_dim': 32,
    'depth': 2,
    'num_heads': 2,
    'patch_size': 4,
    'bands_per_token': 8,
}


def linear_wavelengths(
    num_bands: int, start: float = 400.0, stop: float = 2500.0
) -> torch.Tensor:
    """Strictly increasing band centres in nm."""
    if num_bands == 1:
        return torch.tensor([start])
    return torch.linspace(start, stop, num_bands)
