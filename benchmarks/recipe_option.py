"""Does a fine-tuning option help? The product's few-label fine-tuning, off and on.

Fine-tunes :class:`~torchgeo_spectral.tasks.SpectralClassificationTask` exactly
as ``make demo`` does (its recipe defaults, ``spectral_vit_nano``, 300 steps, 10
labels per class, each pixel from its own token; the demo's
:func:`~torchgeo_spectral.demo.pipeline.finetune`) through
:class:`~torchgeo_spectral.datamodules.SceneDataModule` on

* ``demo``: the demo's synthetic EnMAP scene (:mod:`torchgeo_spectral.demo`);
* ``enmap``: the EnMAP excerpt of ``../shared/data`` (bad bands dropped, nodata
  as NaN), skipped when the folder is missing;

with both input normalizations (``'scene'``: one scale, as the shipped
checkpoint was pretrained; ``'band'``: per-band z-score, the default), from
random init and from the shipped checkpoint, once with the option off and once
on (:data:`OPTIONS`) on the same split, labels and seed:

* ``head_norm``: ``False`` vs ``True``;
* ``head_init``: ``'random'`` vs ``'probe'``, with ``head_norm`` as the training
  guide recommends (on for ``'scene'`` input, off for ``'band'``).

It prints the overall accuracy of every fit and, per scene, normalization and
encoder, the mean paired difference (on minus off, OA points) with its 95 %
bootstrap CI over label seeds. Default settings take about 17-22 minutes on a
2-core CPU (two worker processes); run from the repository root::

    python -m benchmarks.recipe_option head_norm
    python -m benchmarks.recipe_option head_init --scenes demo --seeds 0 1 --workers 1
    python -m benchmarks.recipe_option head_init --encoders shipped
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from itertools import groupby, product
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from benchmarks.accuracy.metrics import format_paired

#: The shipped checkpoint.
WEIGHTS = 'SPECTRAL_MAE_FOUNDATION'
DATA = Path(os.environ.get('TORCHGEO_SPECTRAL_DATA', '../shared/data'))
#: The options compared: their values off and on.
OPTIONS: dict[str, tuple[Any, Any]] = {
    'head_norm': (False, True),
    'head_init': ('random', 'probe'),
}
#: Columns that name one row of the paired table.
GROUP_KEYS = ('scene', 'normalization', 'encoder')


@dataclass(frozen=True)
class Job:
    """One pair of fits (the option off and on).

    Attributes:
        option: The option compared (a key of :data:`OPTIONS`).
        scene: Scene name.
        files: ``SceneDataModule`` arguments: ``image``, ``labels``,
            ``wavelengths`` and ``class_names``.
        normalization: ``'scene'`` or ``'band'``.
        encoder: ``'random'`` or ``'shipped'``.
        seed: Seed of the split, the label draw and both fits.
        steps: Fine-tuning steps.
    """

    option: str
    scene: str
    files: dict[str, Any]
    normalization: str
    encoder: str
    seed: int
    steps: int = 300


def write_enmap(folder: Path) -> dict[str, Any] | None:
    """Write the EnMAP excerpt as one cube, its label map and its wavelengths.

    Args:
        folder: Where to write.

    Returns:
        ``SceneDataModule`` file arguments, or None without the data.
    """
    from benchmarks.accuracy.data import load_enmap_potsdam

    root = DATA / 'enmap_potsdam'
    if not root.is_dir():
        return None
    scene = load_enmap_potsdam(root)
    raw = np.where(scene.valid[None], scene.raw, np.nan).astype(np.float32)
    profile = {'driver': 'GTiff', 'height': raw.shape[1], 'width': raw.shape[2]}
    cube, labels = folder / 'enmap.tif', folder / 'enmap_labels.tif'
    # the mosaic is written on its pixel grid, without a transform: say so once
    # here rather than let rasterio warn about it
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        with rasterio.open(
            cube, 'w', count=raw.shape[0], dtype='float32', **profile
        ) as f:
            f.write(raw)
        with rasterio.open(labels, 'w', count=1, dtype='uint8', **profile) as f:
            f.write(scene.labels.astype(np.uint8)[None])
    wavelengths = folder / 'enmap_wavelengths.txt'
    np.savetxt(wavelengths, scene.wavelengths)
    return {
        'image': str(cube),
        'labels': str(labels),
        'wavelengths': str(wavelengths),
        'class_names': list(scene.class_names),
    }


def write_demo(folder: Path, sensor: str | None = None) -> dict[str, Any]:
    """Write the demo scene (its default size and seed).

    Args:
        folder: Where to write.
        sensor: Sensor whose bands the scene is resampled to (None: the
            demo's, EnMAP).

    Returns:
        ``SceneDataModule`` file arguments (the cube carries its wavelengths).
    """
    from torchgeo_spectral.demo.pipeline import DemoConfig
    from torchgeo_spectral.demo.scene import generate_scene, write_scene

    cfg = DemoConfig()
    demo = generate_scene(cfg.size, sensor or cfg.sensor, cfg.scene_seed)
    name = 'demo' if sensor is None else f'demo_{sensor}'
    (folder / name).mkdir()
    cube, labels = write_scene(demo, folder / name)
    return {
        'image': str(cube),
        'labels': str(labels),
        'wavelengths': None,
        'class_names': list(demo.classes),
    }


def fit_pair(job: Job) -> dict[str, Any]:
    """Fine-tune with the option off and on; same split, labels and seed.

    Args:
        job: What to fit.

    Returns:
        The job's settings and the test OA (%) of both fits (``off``, ``on``).
    """
    import torch

    from torchgeo_spectral.demo.cli import quiet_lightning
    from torchgeo_spectral.demo.pipeline import DemoConfig, finetune, scene_datamodule

    torch.set_num_threads(1)
    quiet_lightning()
    cfg = DemoConfig(
        seed=job.seed,
        steps=job.steps,
        weights=WEIGHTS,
        normalization=job.normalization,
        # the training guide's advice, unless head_norm itself is compared
        head_norm=job.normalization == 'scene',
    )
    datamodule = scene_datamodule(cfg, **job.files, patch_size=1)
    weights = WEIGHTS if job.encoder == 'shipped' else None
    row: dict[str, Any] = {
        'scene': job.scene,
        'normalization': job.normalization,
        'encoder': job.encoder,
        'seed': job.seed,
    }
    for name, value in zip(('off', 'on'), OPTIONS[job.option], strict=True):
        _, metrics = finetune(
            replace(cfg, **{job.option: value}),
            datamodule,
            {'model': 'spectral_vit_nano'},
            weights,
        )
        row[name] = 100 * metrics['overall_accuracy']
    print(
        f'{job.scene:6} {job.normalization:6} {job.encoder:8} seed {job.seed}: '
        f'off {row["off"]:.1f}, on {row["on"]:.1f}',
        flush=True,
    )
    return row


def paired_table(rows: list[dict[str, Any]]) -> str:
    """The markdown table: mean OA off and on, and the paired difference.

    Args:
        rows: Results of :func:`fit_pair`.

    Returns:
        One line per scene, normalization and encoder.
    """
    lines = [
        '| Scene | Normalization | Encoder | OA off | OA on | on - off (95 % CI) |',
        '|---|---|---|---|---|---|',
    ]

    def key(row: dict[str, Any]) -> tuple[str, ...]:
        return tuple(row[k] for k in GROUP_KEYS)

    for names, group in groupby(sorted(rows, key=key), key=key):
        off, on = np.array([[r['off'], r['on']] for r in group]).T
        lines.append(
            f'| {" | ".join(names)} | {off.mean():.1f} | {on.mean():.1f} | '
            f'{format_paired(on - off)} |'
        )
    return '\n'.join(lines)


#: Sensors of the other demo scenes: the demo's materials, abundances and
#: seed, seen by sensors that are not in ``../shared/data`` (``demo_rosis``, ...).
DEMO_SENSORS = ('rosis', 'aviris_indian_pines', 'desis', 'hyperion')
#: The scenes run unless ``--scenes`` names others.
DEFAULT_SCENES = ('demo', 'enmap')
#: Scenes that :func:`write_scenes` can write.
SCENES = (*DEFAULT_SCENES, *(f'demo_{sensor}' for sensor in DEMO_SENSORS))


def add_scene_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both product-path benchmarks share: scenes, seeds, workers.

    Args:
        parser: The parser to extend.
    """
    parser.add_argument(
        '--scenes', nargs='+', choices=SCENES, default=list(DEFAULT_SCENES)
    )
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--workers', type=int, default=2)


def write_scenes(names: list[str], folder: Path) -> dict[str, dict[str, Any]]:
    """Write the named scenes (:data:`SCENES`); skip those without data.

    Args:
        names: Scene names.
        folder: Where to write.

    Returns:
        ``SceneDataModule`` file arguments by scene name.
    """
    writers = {'demo': write_demo, 'enmap': write_enmap}
    for sensor in DEMO_SENSORS:
        writers[f'demo_{sensor}'] = partial(write_demo, sensor=sensor)
    written = {}
    for name in names:
        files = writers[name](folder)
        if files is None:
            print(f'{name}: no data under {DATA}, skipped')
            continue
        written[name] = files
    return written


def run_parallel[T, R](fit: Callable[[T], R], jobs: list[T], workers: int) -> list[R]:
    """Run fits in worker processes, in order.

    Args:
        fit: A picklable function of one job.
        jobs: The jobs.
        workers: Worker processes.

    Returns:
        The results, in the order of ``jobs``.
    """
    # spawn: each worker starts its own single-threaded torch
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
        return pool.map(fit, jobs, chunksize=1)


def main() -> None:
    """Run the fits and print the paired table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('option', choices=sorted(OPTIONS))
    parser.add_argument(
        '--encoders',
        nargs='+',
        default=['random', 'shipped'],
        choices=['random', 'shipped'],
    )
    add_scene_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [
            Job(args.option, scene, files, norm, encoder, seed)
            for scene, files in write_scenes(args.scenes, Path(tmp)).items()
            for norm, encoder, seed in product(
                ('scene', 'band'), args.encoders, args.seeds
            )
        ]
        rows = run_parallel(fit_pair, jobs, args.workers)
    print(f'\n{paired_table(rows)}\n')
    off, on = OPTIONS[args.option]
    print(
        f'{args.option}: off = {off!r}, on = {on!r}; {len(args.seeds)} label seeds '
        f'per row ({", ".join(map(str, args.seeds))})'
    )


if __name__ == '__main__':
    main()
