"""Plotting shared by every spectral dataset (TorchGeo style ``plot``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import torch
from matplotlib.colors import Colormap, ListedColormap
from matplotlib.figure import Figure
from torch import Tensor

__all__ = ['SpectralPlotMixin', 'plot_spectral_sample', 'rgb_band_indices', 'stretch']

#: Targets (nm) of the red, green and blue channels of the composite.
RGB_TARGETS = (650.0, 550.0, 470.0)


def rgb_band_indices(wavelengths: npt.ArrayLike | Tensor) -> tuple[int, int, int]:
    """Choose the three bands of a color composite by wavelength: the one RGB rule.

    The bands nearest to 650/550/470 nm when the visible range is covered
    (within 30 nm of each target, three distinct bands); otherwise three bands
    spread over the range (at 85 %, 50 % and 15 % of the band list, i.e.
    long -> red), so SWIR-only or NIR-only sensors still show structure.
    Used by every dataset's ``plot()`` and by the MAE reconstruction figures.

    Args:
        wavelengths: Centres in nm, increasing, shape ``(C,)``.

    Returns:
        Indices of the (red, green, blue) bands (repeated when ``C`` < 3).
    """
    if isinstance(wavelengths, Tensor):
        wavelengths = wavelengths.detach().cpu().double().numpy()
    w = np.asarray(wavelengths, dtype=np.float64).reshape(-1)
    if w.size < 3:
        idx = [min(i, w.size - 1) for i in (2, 1, 0)]
        return idx[0], idx[1], idx[2]
    nearest = [int(np.argmin(np.abs(w - t))) for t in RGB_TARGETS]
    if (
        all(abs(w[i] - t) <= 30.0 for i, t in zip(nearest, RGB_TARGETS))
        and len(set(nearest)) == 3
    ):
        return nearest[0], nearest[1], nearest[2]
    last = w.size - 1
    return round(0.85 * last), round(0.5 * last), round(0.15 * last)


def stretch(
    image: npt.NDArray[np.floating], low: float = 2.0, high: float = 98.0
) -> npt.NDArray[np.float64]:
    """Percentile stretch per channel to [0, 1], ignoring NaN.

    Args:
        image: ``(H, W, 3)`` array.
        low: Lower percentile.
        high: Upper percentile.

    Returns:
        The stretched image, NaN shown as 0.
    """
    out = np.zeros(image.shape, dtype=np.float64)
    for c in range(image.shape[-1]):
        band = image[..., c].astype(np.float64)
        finite = band[np.isfinite(band)]
        if finite.size == 0:
            continue
        lo, hi = np.percentile(finite, [low, high])
        scale = hi - lo if hi > lo else 1.0
        out[..., c] = np.clip((band - lo) / scale, 0.0, 1.0)
    return np.nan_to_num(out, nan=0.0)


def _as_numpy(tensor: Tensor) -> npt.NDArray[np.float64]:
    """Detach a tensor to a float64 NumPy array.

    Args:
        tensor: Any tensor.

    Returns:
        The array.
    """
    return np.asarray(tensor.detach().cpu().to(torch.float64).numpy())


def plot_spectral_sample(
    sample: Mapping[str, Tensor],
    *,
    show_titles: bool = True,
    suptitle: str | None = None,
    class_names: Sequence[str] | None = None,
    cmap: str | Colormap | None = None,
) -> Figure:
    """Plot a spectral sample: false color, mean spectrum and mask/label.

    Args:
        sample: A sample with ``image`` ``(C, H, W)`` and ``wavelength`` ``(C,)``,
            and optionally ``mask`` ``(H, W)``, ``prediction``, ``label``.
        show_titles: Whether to title the panels.
        suptitle: Optional title of the figure.
        class_names: Names of the classes, to title a ``label``.
        cmap: Colour map of the mask panels.

    Returns:
        The figure.

    Raises:
        ValueError: If ``image`` or ``wavelength`` is missing or they disagree.
    """
    if 'image' not in sample or 'wavelength' not in sample:
        raise ValueError("plot: the sample needs 'image' and 'wavelength'")
    image = _as_numpy(sample['image'])
    wavelength = _as_numpy(sample['wavelength']).reshape(-1)
    if image.ndim != 3 or image.shape[0] != wavelength.size:
        msg = (
            f'plot: image of shape {image.shape} does not match '
            f'{wavelength.size} wavelengths'
        )
        raise ValueError(msg)
    r, g, b = rgb_band_indices(wavelength)
    rgb = stretch(np.stack([image[r], image[g], image[b]], axis=-1))
    masks = [k for k in ('mask', 'prediction') if k in sample and sample[k].ndim >= 2]
    ncols = 2 + len(masks)
    fig, axs = plt.subplots(1, ncols, figsize=(4 * ncols, 4))
    axs[0].imshow(rgb)
    axs[0].axis('off')
    spectrum = np.nanmean(image.reshape(image.shape[0], -1), axis=1)
    axs[1].plot(wavelength, spectrum)
    axs[1].set_xlabel('wavelength (nm)')
    if show_titles:
        title = f'{wavelength[r]:.0f}/{wavelength[g]:.0f}/{wavelength[b]:.0f} nm'
        if 'label' in sample:
            label = int(sample['label'])
            name = (
                class_names[label]
                if class_names and label < len(class_names)
                else label
            )
            title = f'label: {name}\n{title}'
        axs[0].set_title(title)
        axs[1].set_title('mean spectrum')
    color_map: str | Colormap = cmap if cmap is not None else 'tab20'
    if isinstance(color_map, ListedColormap):
        vmax = color_map.N - 1
    else:
        vmax = None
    for ax, key in zip(axs[2:], masks):
        ax.imshow(
            _as_numpy(sample[key]).squeeze(),
            cmap=color_map,
            vmin=0,
            vmax=vmax,
            interpolation='none',
        )
        ax.axis('off')
        if show_titles:
            ax.set_title(key)
    if suptitle is not None:
        fig.suptitle(suptitle)
    return fig


class SpectralPlotMixin:
    """TorchGeo's ``plot`` for every spectral dataset, through :func:`plot_spectral_sample`.

    One ``plot`` for all datasets, so that every dataset draws the same figure. A
    sample without ``wavelength`` takes the dataset's ``wavelengths`` attribute
    (when the dataset has one band set); datasets name their classes and the
    color map of their masks by overriding :meth:`plot_class_names` and
    :meth:`plot_cmap`.
    """

    def plot_class_names(self) -> Sequence[str] | None:
        """Names of the classes, to title a sample's ``label``.

        Returns:
            The names, or None (labels shown as numbers).
        """
        return None

    def plot_cmap(self) -> str | Colormap | None:
        """Color map of the mask panels.

        Returns:
            The color map, or None (``tab20``).
        """
        return None

    def plot(
        self,
        sample: Mapping[str, Tensor],
        show_titles: bool = True,
        suptitle: str | None = None,
    ) -> Figure:
        """Plot a sample: false color by wavelength, mean spectrum, mask.

        Args:
            sample: A sample from ``__getitem__`` (``wavelength`` optional when
                the dataset has ``wavelengths``).
            show_titles: Title the panels.
            suptitle: Figure title.

        Returns:
            The figure.
        """
        sample = dict(sample)
        wavelengths: Tensor | None = getattr(self, 'wavelengths', None)
        if wavelengths is not None:
            sample.setdefault('wavelength', wavelengths)
        return plot_spectral_sample(
            sample,
            show_titles=show_titles,
            suptitle=suptitle,
            class_names=self.plot_class_names(),
            cmap=self.plot_cmap(),
        )
