import numpy as np
import torch

from torchgeo_spectral.plot import rgb_band_indices
from torchgeo_spectral.plot.reconstruction import reconstruction_figure


def test_one_rgb_rule_for_samples_and_reconstructions() -> None:
    swir = torch.linspace(1000.0, 2500.0, 16)
    assert rgb_band_indices(swir) == (13, 8, 2)  # spread: SWIR-only sensor
    assert rgb_band_indices(np.arange(400.0, 1000.0, 10.0)) == (25, 15, 7)
    image = torch.rand(16, 4, 4)
    mask = torch.zeros(16, 4, 4, dtype=torch.bool)
    fig = reconstruction_figure(image, image, mask, swir)
    title = fig.axes[0].get_title()
    assert title == 'input (2300/1800/1200 nm)'
