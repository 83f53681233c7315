"""Figures of MAE reconstructions: false-color images and pixel spectra."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray
from torch import Tensor

from .sample import rgb_band_indices


def _stretch(rgb: NDArray[np.float64], lo: float, hi: float) -> NDArray[np.float64]:
    """Linearly map [lo, hi] to [0, 1] and clip; NaN (masked) becomes mid grey.

    Args:
        rgb: Image of shape (H, W, 3).
        lo: Value shown as black.
        hi: Value shown as white.

    Returns:
        Display image in [0, 1].
    """
    out = (rgb - lo) / max(hi - lo, 1e-12)
    out = np.where(np.isnan(out), 0.5, out)
    return np.clip(out, 0.0, 1.0)


def false_color(
    cube: NDArray[np.floating], bands: Sequence[int], limits: tuple[float, float]
) -> NDArray[np.float64]:
    """False-color composite of three bands of a cube.

    Args:
        cube: Image of shape (C, H, W); NaN marks hidden values.
        bands: Indices of the red, green and blue bands.
        limits: Values shown as black and white.

    Returns:
        Display image of shape (H, W, 3) in [0, 1].
    """
    rgb = np.stack([cube[b] for b in bands], axis=-1).astype(np.float64)
    return _stretch(rgb, *limits)


def _pick_pixels(mask: NDArray[np.bool_], count: int) -> list[tuple[int, int]]:
    """Evenly spread pixels, preferring those with hidden bands.

    Args:
        mask: Hidden values, shape (C, H, W).
        count: Number of pixels to pick.

    Returns:
        (row, col) positions.
    """
    hidden = mask.any(axis=0)
    rows, cols = np.nonzero(hidden) if hidden.any() else np.nonzero(~hidden)
    if rows.size == 0:
        return []
    picks = np.linspace(0, rows.size - 1, num=min(count, rows.size)).round()
    return [(int(rows[i]), int(cols[i])) for i in picks.astype(int)]


def reconstruction_figure(
    image: Tensor,
    reconstruction: Tensor,
    mask: Tensor,
    wavelengths: Tensor,
    num_pixels: int = 3,
    title: str | None = None,
) -> Figure:
    """Plot input, masked input and reconstruction, and a few pixel spectra.

    The images are false-color composites of the bands that
    :func:`~torchgeo_spectral.plot.rgb_band_indices` chooses; hidden values are grey in the masked input. The reconstruction shows
    the model's output where values were hidden and the input elsewhere. The
    spectra compare input and reconstruction at a few pixels, with hidden bands
    marked.

    Args:
        image: Input of one sample, shape (C, H, W).
        reconstruction: Reconstructed values, shape (C, H, W).
        mask: True where a value was hidden from the encoder, shape (C, H, W).
        wavelengths: Band centres in nm, shape (C,).
        num_pixels: Number of pixel spectra to draw.
        title: Optional figure title.

    Returns:
        The figure; it is not registered with pyplot, so needs no closing.
    """
    x = image.detach().float().cpu().numpy()
    recon = reconstruction.detach().float().cpu().numpy()
    hidden = mask.detach().bool().cpu().numpy()
    wl = wavelengths.detach().float().cpu().numpy()
    bands = list(rgb_band_indices(wl))
    limits = (float(np.percentile(x[bands], 2)), float(np.percentile(x[bands], 98)))
    masked = np.where(hidden, np.nan, x)
    composite = np.where(hidden, recon, x)
    pixels = _pick_pixels(hidden, num_pixels)

    fig = Figure(figsize=(16, 4), layout='constrained')
    axes = fig.subplots(1, 4)
    panels = (('input', x), ('masked input', masked), ('reconstruction', composite))
    for ax, (name, cube) in zip(axes[:3], panels, strict=True):
        ax.imshow(false_color(cube, bands, limits))
        ax.set_title(
            f'{name} ({wl[bands[0]]:.0f}/{wl[bands[1]]:.0f}/{wl[bands[2]]:.0f} nm)'
        )
        ax.set_axis_off()
    for i, (row, col) in enumerate(pixels):
        color = f'C{i}'
        axes[0].plot(col, row, marker='o', color=color, markersize=5)
        axes[3].plot(wl, x[:, row, col], color=color, label=f'input ({row},{col})')
        axes[3].plot(wl, recon[:, row, col], color=color, linestyle='--')
        gone = hidden[:, row, col]
        axes[3].scatter(wl[gone], recon[gone, row, col], color=color, s=6)
    axes[3].set_xlabel('wavelength (nm)')
    axes[3].set_title('spectra: input (solid), reconstruction (dashed)')
    if pixels:
        axes[3].legend(fontsize='small', loc='best', framealpha=0.6)
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save a figure as PNG.

    Args:
        fig: The figure.
        path: Output file; parent folders are created.

    Returns:
        The path written.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    return out
