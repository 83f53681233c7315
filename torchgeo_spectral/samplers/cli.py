"""``torchgeo-spectral split``: a spatially disjoint split of a label raster.

Makes a :func:`~torchgeo_spectral.samplers.spatial_block_split` from a label map
(GeoTIFF or any rasterio file, ``.mat``, ``.npy``), or from the labels of a cube
(``--image``: label polygons, a label raster on another grid, a test map given
with ``--test-labels``, read as the data module reads them), saves it as ``.npz`` with the
scene fingerprint (so that :class:`~torchgeo_spectral.datamodules.SceneDataModule`
refuses it for another scene), prints the labels per class and split, and draws
the split as a PNG. Nothing is written when an argument or the input is wrong.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from .blocks import GUARD, TEST, TRAIN, VAL
from .splits import SpatialSplit, SplitSettings, as_budget, as_label_map

__all__ = ['build_parser', 'main', 'split_figure']

# Colors of the guard band and the train, val and test regions.
_REGION_COLORS = ('#9e9e9e', '#cfe3f5', '#fbeec1', '#f7d0c6')


def split_figure(split: SpatialSplit, labels: NDArray[np.int64], title: str) -> Figure:
    """Draw a split: regions, guard band, kept training labels, class counts.

    Args:
        split: The split.
        labels: The label map it was made from.
        title: Figure title (e.g. the label file).

    Returns:
        The figure (two panels: map and per-class bar chart).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = Figure(figsize=(11, 4.5))
    ax_map, ax_bar = fig.subplots(1, 2, gridspec_kw={'width_ratios': [1.6, 1]})
    regions = ListedColormap(list(_REGION_COLORS))
    ax_map.imshow(split.region, cmap=regions, vmin=-0.5, vmax=3.5, interpolation='none')
    for name, color in (('val', '#c9a227'), ('test', '#c8553d')):
        rows, cols = split.indices(name)
        ax_map.scatter(cols, rows, s=2, c=color, marker='s', linewidths=0)
    rows, cols = split.train
    ax_map.scatter(cols, rows, s=12, c='#08306b', marker='o', linewidths=0)
    params = split.params
    ax_map.set_title(
        f'{title}\nblocks {params.get("block_size")} px, window '
        f'{params.get("patch_size")} px, guard {params.get("guard_width")} px, '
        f'seed {params.get("seed")}',
        fontsize=9,
    )
    ax_map.set_xticks([])
    ax_map.set_yticks([])
    handles = [
        Patch(color=_REGION_COLORS[TRAIN], label='train region'),
        Patch(color=_REGION_COLORS[VAL], label='val region'),
        Patch(color=_REGION_COLORS[TEST], label='test region'),
        Patch(color=_REGION_COLORS[GUARD], label='guard band'),
        Line2D([], [], ls='', marker='o', color='#08306b', label='training labels'),
    ]
    ax_map.legend(
        handles=handles,
        loc='upper center',
        bbox_to_anchor=(0.5, -0.01),
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    classes = [int(c) for c in np.unique(labels) if c > 0]
    x = np.arange(len(classes))
    step = 0.27
    for i, (name, color) in enumerate(
        (('train', '#08306b'), ('val', '#c9a227'), ('test', '#c8553d'))
    ):
        counts = split.class_counts(labels, name)
        values = [counts.get(c, 0) for c in classes]
        bars = ax_bar.bar(x + (i - 1) * step, values, step, label=name, color=color)
        ax_bar.bar_label(bars, fontsize=7, padding=1)
    ax_bar.set_xticks(x, [str(c) for c in classes], fontsize=8)
    ax_bar.set_xlabel('class')
    ax_bar.set_ylabel('labelled pixels')
    ax_bar.set_title('labels per class and split', fontsize=9)
    ax_bar.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``torchgeo-spectral split``.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog='torchgeo-spectral split',
        description='Spatially disjoint train/val/test split of a label raster, '
        'saved with the scene fingerprint and drawn as a PNG.',
    )
    parser.add_argument(
        '--labels', required=True, help='label map (GeoTIFF, .mat, .npy; 0 = none)'
    )
    parser.add_argument(
        '--labels-key', help='variable in a .mat file, or class column of polygons'
    )
    parser.add_argument(
        '--image',
        help='the cube the labels belong to: read the labels onto its grid as '
        'SceneDataModule does (needed for polygons, labels on another grid and '
        '--test-labels)',
    )
    parser.add_argument('--image-key', help='variable of the cube in a .mat file')
    parser.add_argument(
        '--wavelengths', help='band centres of the cube (file, sensor or scene name)'
    )
    parser.add_argument(
        '--test-labels',
        help='label map of the test pixels that came with the scene (needs '
        '--image); they are the test set as given',
    )
    parser.add_argument('--test-labels-key', help='variable in a .mat file')
    parser.add_argument('--output', required=True, help='split file (.npz)')
    parser.add_argument('--png', help='figure of the split (default: OUTPUT.png)')
    parser.add_argument(
        '--block-size', type=int, default=32, help='block side in pixels (32)'
    )
    parser.add_argument(
        '--window-size',
        type=int,
        default=9,
        help='side of the windows the model reads around a pixel (9); the guard '
        'band is window - 1 px wide',
    )
    parser.add_argument(
        '--guard',
        type=int,
        help='guard band width in pixels (sets --window-size to GUARD + 1)',
    )
    parser.add_argument('--test-fraction', type=float, default=0.3)
    parser.add_argument('--val-fraction', type=float, default=0.0)
    parser.add_argument(
        '--budget',
        help='training labels: 10 per class (capped at what a class has), '
        '0.05 of each class, or 1:10,2:5; all when omitted',
    )
    parser.add_argument(
        '--num-classes',
        type=int,
        help='declared classes 1..K (labels above K are errors)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true', help='replace outputs')
    return parser


def _check_classes(labels: NDArray[np.int64], num_classes: int, path: str) -> None:
    """Refuse labels outside the declared classes.

    Args:
        labels: The label map.
        num_classes: Declared classes 1..K.
        path: The label file, for the message.

    Raises:
        ValueError: Naming the file and the values.
    """
    bad = np.unique(labels[labels > num_classes])
    if bad.size:
        msg = (
            f'{path}: labels {bad.tolist()} outside the declared classes 0..'
            f'{num_classes} (0 = unlabelled)'
        )
        raise ValueError(msg)


def _read_labels(
    args: argparse.Namespace,
) -> tuple[NDArray[np.int64], NDArray[np.bool_] | None]:
    """The label map, and the test pixels given with it.

    Args:
        args: Parsed options.

    Returns:
        ``(labels, test_mask)``; ``test_mask`` is None without ``--test-labels``.

    Raises:
        ValueError: Naming the file, for unreadable or misplaced labels.
    """
    from ..datasets.file_scene import FileScene, read_label_map

    if args.image is None:
        if args.test_labels is not None:
            raise ValueError('--test-labels needs --image (the cube of the labels)')
        try:
            return as_label_map(read_label_map(args.labels, args.labels_key)), None
        except ValueError as error:
            raise ValueError(f'{args.labels}: {error}') from error
    # the data module's own reading: polygons, grids, test labels, one place
    scene = FileScene(
        args.image,
        args.labels,
        args.wavelengths,
        image_key=args.image_key,
        labels_key=args.labels_key,
        test_labels=args.test_labels,
        test_labels_key=args.test_labels_key,
        mode='tile',
    )
    return scene.gt, scene.test_mask


def run(args: argparse.Namespace) -> str:
    """Make, save and draw a split.

    Args:
        args: Parsed options.

    Returns:
        The report printed on success.

    Raises:
        ValueError: For a bad option or input (nothing is written).
        FileExistsError: If an output exists and ``--overwrite`` is not given.
    """
    output = Path(args.output)
    if output.suffix != '.npz':
        output = output.with_name(output.name + '.npz')
    png = Path(args.png) if args.png else output.with_suffix('.png')
    for path in (output, png):
        if path.exists() and not args.overwrite:
            raise FileExistsError(f'{path} exists; pass --overwrite to replace it')
    settings = SplitSettings(
        patch_size=args.window_size if args.guard is None else args.guard + 1,
        block_size=args.block_size,
        test_fraction=args.test_fraction,
        val_fraction=args.val_fraction,
        budget=as_budget(args.budget),
        seed=args.seed,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always', UserWarning)
        labels, test_mask = _read_labels(args)
        if args.num_classes is not None:
            _check_classes(labels, args.num_classes, args.labels)
        split = settings.draw(labels, args.labels, test_mask)
    figure = split_figure(split, labels, Path(args.labels).name)
    output.parent.mkdir(parents=True, exist_ok=True)
    split.save(output)
    figure.savefig(png, dpi=100)
    lines = [f'warning: {w.message}' for w in caught]
    lines.append(
        f'wrote {output} (fingerprint {split.fingerprint}, guard '
        f'{split.params["guard_width"]} px) and {png}'
    )
    lines.append(f'{"class":>6} {"train":>7} {"val":>7} {"test":>7}')
    counts = {n: split.class_counts(labels, n) for n in ('train', 'val', 'test')}
    for cls in (int(c) for c in np.unique(labels) if c > 0):
        row = [counts[n].get(cls, 0) for n in ('train', 'val', 'test')]
        lines.append(f'{cls:>6} {row[0]:>7} {row[1]:>7} {row[2]:>7}')
    return '\n'.join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``torchgeo-spectral split``.

    Args:
        argv: Arguments after ``split``; ``sys.argv[1:]`` when None.

    Returns:
        0 on success, 1 on a handled error (one line on stderr).
    """
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        print(run(args))
    except (OSError, ValueError) as error:
        print(f'torchgeo-spectral split: error: {error}', file=sys.stderr)
        return 1
    return 0
