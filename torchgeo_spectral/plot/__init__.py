"""Figures of spectral samples and MAE reconstructions (matplotlib).

* :func:`plot_spectral_sample`: false-colour image, mask and spectra of a sample,
  used by every dataset's ``plot()``.
* :func:`reconstruction_figure`: masked input, reconstruction and pixel spectra
  of the spectral MAE, logged during pretraining.
"""

from .reconstruction import (
    false_colour,
    reconstruction_figure,
    rgb_band_indices,
    save_figure,
)
from .sample import false_colour_bands, plot_spectral_sample

__all__ = [
    'false_colour',
    'false_colour_bands',
    'plot_spectral_sample',
    'reconstruction_figure',
    'rgb_band_indices',
    'save_figure',
]
