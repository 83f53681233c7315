"""The demo's figure: the scene, its true and predicted maps, errors, spectra."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from torchgeo_spectral.plot import rgb_band_indices, save_figure
from torchgeo_spectral.plot.sample import stretch

__all__ = ['demo_figure']

#: Colors of the error map: other pixels, correct, wrong, training labels.
_ERROR_COLORS = ('#f2f2f2', '#9ecae1', '#d7301f')


def demo_figure(
    image: npt.NDArray[np.floating],
    wavelengths: npt.NDArray[np.floating],
    truth: npt.NDArray[np.integer],
    predicted: npt.NDArray[np.integer],
    test: npt.NDArray[np.bool_],
    train: npt.NDArray[np.bool_],
    classes: Sequence[str],
    path: str | Path,
    title: str = '',
) -> Path:
    """Draw the scene, true map, predicted map, test errors and class spectra.

    Args:
        image: Reflectance cube ``(C, H, W)``.
        wavelengths: Band centres in nm ``(C,)``.
        truth: True classes ``0..K-1``, ``(H, W)``.
        predicted: Predicted classes ``0..K-1``, ``(H, W)``.
        test: Pixels of the test blocks, ``(H, W)``: the error map shows them.
        train: Pixels whose labels trained the model, ``(H, W)``.
        classes: Class names.
        path: PNG file to write.
        title: Figure title.

    Returns:
        The path written.
    """
    num = len(classes)
    palette = ListedColormap([f'C{k % 10}' for k in range(num)])
    bands = list(rgb_band_indices(np.asarray(wavelengths)))
    fig = Figure(figsize=(17, 3.9), layout='constrained')
    axes = fig.subplots(1, 5, width_ratios=(1, 1, 1, 1, 1.5))
    axes[0].imshow(stretch(np.moveaxis(image[bands], 0, -1)))
    axes[0].set_title(
        'scene ({:.0f}/{:.0f}/{:.0f} nm)'.format(*np.asarray(wavelengths)[bands])
    )
    for ax, labels, name in (
        (axes[1], truth, 'true map (dominant class)'),
        (axes[2], predicted, 'predicted map'),
    ):
        ax.imshow(labels, cmap=palette, vmin=-0.5, vmax=num - 0.5)
        ax.set_title(name)
    errors = np.where(test, np.where(predicted == truth, 1, 2), 0)
    axes[3].imshow(errors, cmap=ListedColormap(_ERROR_COLORS), vmin=-0.5, vmax=2.5)
    rows, cols = np.nonzero(train)
    axes[3].scatter(cols, rows, s=6, c='black', marker='x', linewidths=0.8)
    accuracy = float((predicted == truth)[test].mean()) if test.any() else np.nan
    axes[3].set_title(f'test blocks: {accuracy:.1%} correct')
    axes[3].legend(
        handles=[
            Patch(color=_ERROR_COLORS[1], label='correct'),
            Patch(color=_ERROR_COLORS[2], label='wrong'),
            Patch(color='black', label='training labels (x)'),
        ],
        fontsize='small',
        loc='lower left',
        framealpha=0.8,
    )
    for ax in axes[:4]:
        ax.set_axis_off()
    flat = image.reshape(image.shape[0], -1)
    for k, name in enumerate(classes):
        chosen = truth.reshape(-1) == k
        if chosen.any():
            axes[4].plot(
                wavelengths,
                flat[:, chosen].mean(axis=1),
                color=f'C{k % 10}',
                label=name,
            )
    axes[4].set_xlabel('wavelength (nm)')
    axes[4].set_ylabel('reflectance')
    axes[4].set_title('mean spectrum per class')
    axes[4].legend(fontsize='small', ncols=2, framealpha=0.6, loc='best')
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
