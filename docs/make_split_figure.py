"""Draw ``docs/_static/split_example.png``: a spatial block split of a scene.

Uses the EnMAP Potsdam land-cover map from the shared data folder
(``$TORCHGEO_SPECTRAL_DATA`` or ``../shared/data``) when present, otherwise a
synthetic scene. Run from the repository root::

    .venv/bin/python docs/make_split_figure.py
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from scipy import ndimage

from torchgeo_spectral.samplers import read_label_raster, spatial_block_split

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'docs' / '_static' / 'split_example.png'
PATCH_SIZE, BLOCK_SIZE, BUDGET, SEED = 9, 40, 20, 0
ENMAP_CLASSES = {
    1: 'roof',
    2: 'pavement',
    3: 'low veg.',
    4: 'tree',
    5: 'soil',
    6: 'water',
}


def load_scene() -> tuple[np.ndarray, str, dict[int, str]]:
    """Label map, its title, and class names."""
    env = os.environ.get('TORCHGEO_SPECTRAL_DATA')
    data = Path(env) if env else ROOT.parent / 'shared' / 'data'
    path = data / 'enmap_potsdam' / 'enmap_landcover_unstyled.tif'
    if path.exists():
        labels, _ = read_label_raster(path)
        return labels, 'EnMAP Potsdam land cover (330 x 200 px, 30 m)', ENMAP_CLASSES
    rng = np.random.default_rng(0)
    noise = ndimage.gaussian_filter(rng.normal(size=(4, 200, 330)), (0, 8, 8))
    labels = noise.argmax(0) + 1
    labels[rng.random(labels.shape) < 0.9] = 0
    return labels, 'synthetic scene', {c: f'class {c}' for c in range(1, 5)}


def main() -> None:
    """Make the split and draw the figure."""
    labels, title, names = load_scene()
    split = spatial_block_split(
        labels,
        PATCH_SIZE,
        BLOCK_SIZE,
        test_fraction=0.3,
        val_fraction=0.15,
        budget=BUDGET,
        seed=SEED,
    )
    pool = (split.region == 1) & (labels > 0)

    fig, (ax_map, ax_bar) = plt.subplots(
        1, 2, figsize=(12, 4.6), gridspec_kw={'width_ratios': [1.75, 1]}
    )
    regions = ListedColormap(['#9e9e9e', '#cfe3f5', '#fbeec1', '#f7d0c6'])
    ax_map.imshow(split.region, cmap=regions, vmin=-0.5, vmax=3.5, interpolation='none')
    for mask, colour, size in [
        (pool, '#7fa7cf', 1.5),
        (split.mask('val'), '#c9a227', 1.5),
        (split.mask('test'), '#c8553d', 1.5),
    ]:
        rows, cols = np.nonzero(mask)
        ax_map.scatter(cols, rows, s=size, c=colour, marker='s', linewidths=0)
    rows, cols = split.train
    ax_map.scatter(cols, rows, s=14, c='#08306b', marker='o', linewidths=0)
    height, width = labels.shape
    for edge in range(BLOCK_SIZE, width, BLOCK_SIZE):
        ax_map.axvline(edge - 0.5, color='white', lw=0.4)
    for edge in range(BLOCK_SIZE, height, BLOCK_SIZE):
        ax_map.axhline(edge - 0.5, color='white', lw=0.4)
    ax_map.set_title(
        f'{title}\nblocks {BLOCK_SIZE} px, patch {PATCH_SIZE} px, '
        f'guard {split.params["guard_width"]} px, seed {SEED}',
        fontsize=9,
    )
    ax_map.set_xticks([])
    ax_map.set_yticks([])
    ax_map.legend(
        handles=[
            Patch(color='#cfe3f5', label='train region'),
            Patch(color='#fbeec1', label='val region'),
            Patch(color='#f7d0c6', label='test region'),
            Patch(color='#9e9e9e', label='guard band'),
            plt.Line2D(
                [], [], ls='', marker='o', color='#08306b', label='budget (train)'
            ),
        ],
        loc='upper center',
        bbox_to_anchor=(0.5, -0.01),
        ncol=5,
        fontsize=8,
        frameon=False,
    )

    classes = sorted(names)
    counts = {
        'train pool': [int((labels[pool] == c).sum()) for c in classes],
        f'budget ({BUDGET}/class)': [
            split.class_counts(labels, 'train').get(c, 0) for c in classes
        ],
        'val': [split.class_counts(labels, 'val').get(c, 0) for c in classes],
        'test': [split.class_counts(labels, 'test').get(c, 0) for c in classes],
    }
    colours = ['#7fa7cf', '#08306b', '#c9a227', '#c8553d']
    x = np.arange(len(classes))
    step = 0.2
    for i, ((label, values), colour) in enumerate(
        zip(counts.items(), colours, strict=True)
    ):
        bars = ax_bar.bar(x + (i - 1.5) * step, values, step, label=label, color=colour)
        if i == 1:
            ax_bar.bar_label(bars, fontsize=7, padding=1)
    ax_bar.set_yscale('log')
    ax_bar.set_xticks(x, [f'{c}\n{names[c]}' for c in classes], fontsize=8)
    ax_bar.set_ylabel('labelled pixels')
    ax_bar.set_title('label budget and split sizes per class', fontsize=9)
    ax_bar.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f'wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
