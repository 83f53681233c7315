"""Figures of spectral samples and MAE reconstructions (matplotlib).

* :func:`rgb_band_indices`: the one rule that picks a composite's bands.
* :func:`plot_spectral_sample`: false-color image, mask and spectra of a sample,
  used by every dataset's ``plot()`` through :class:`SpectralPlotMixin`.
* :func:`reconstruction_figure`: masked input, reconstruction and pixel spectra
  of the spectral MAE, logged during pretraining.
"""

from .reconstruction import false_color, reconstruction_figure, save_figure
from .sample import SpectralPlotMixin, plot_spectral_sample, rgb_band_indices

__all__ = [
    'SpectralPlotMixin',
    'false_color',
    'plot_spectral_sample',
    'reconstruction_figure',
    'rgb_band_indices',
    'save_figure',
]
