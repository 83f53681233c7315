"""When does ``head_norm`` help? The product's few-label fine-tuning, on and off.

Fine-tunes :class:`~torchgeo_spectral.tasks.SpectralClassificationTask` (its
recipe defaults, ``spectral_vit_nano``, 300 steps, 10 labels per class, each
pixel from its own token) through
:class:`~torchgeo_spectral.datamodules.SceneDataModule` on

* ``demo``: the demo's synthetic EnMAP scene (:mod:`torchgeo_spectral.demo`);
* ``enmap``: the EnMAP excerpt of ``../shared/data`` (bad bands dropped, nodata
  as NaN), skipped when the folder is missing;

with both input normalizations (``'scene'``: one scale, as the shipped
checkpoint was pretrained; ``'band'``: per-band z-score, the default), from
random init and from the shipped checkpoint, once with ``head_norm=False`` and
once with ``head_norm=True`` on the same split, labels and seed. It prints the
overall accuracy of every fit and, per scene, normalization and encoder, the
mean paired difference (on minus off, OA points) with its 95 % bootstrap CI over
label seeds. Default settings take about 17 minutes on a 2-core CPU (two
worker processes)::

    python benchmarks/head_norm.py
    python benchmarks/head_norm.py --scenes demo --seeds 0 1 --workers 1
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import tempfile
import warnings
from itertools import product
from pathlib import Path
from typing import Any, cast

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.accuracy.metrics import bootstrap_ci

#: The shipped checkpoint and its architecture.
WEIGHTS = 'SPECTRAL_MAE_FOUNDATION'
MODEL = 'spectral_vit_nano'
DATA = Path(os.environ.get('TORCHGEO_SPECTRAL_DATA', '../shared/data'))


def write_enmap(folder: Path) -> tuple[Path, Path, Path, list[str]] | None:
    """Write the EnMAP excerpt as one cube, its label map and its wavelengths.

    Args:
        folder: Where to write.

    Returns:
        ``(cube, labels, wavelengths, class names)``, or None without the data.
    """
    from benchmarks.accuracy.data import load_enmap_potsdam

    root = DATA / 'enmap_potsdam'
    if not root.is_dir():
        return None
    import rasterio

    scene = load_enmap_potsdam(root)
    raw = np.where(scene.valid[None], scene.raw, np.nan).astype(np.float32)
    profile = {'driver': 'GTiff', 'height': raw.shape[1], 'width': raw.shape[2]}
    cube, labels = folder / 'enmap.tif', folder / 'enmap_labels.tif'
    with rasterio.open(cube, 'w', count=raw.shape[0], dtype='float32', **profile) as f:
        f.write(raw)
    with rasterio.open(labels, 'w', count=1, dtype='uint8', **profile) as f:
        f.write(scene.labels.astype(np.uint8)[None])
    wavelengths = folder / 'enmap_wavelengths.txt'
    np.savetxt(wavelengths, scene.wavelengths)
    return cube, labels, wavelengths, list(scene.class_names)


def write_demo(folder: Path) -> tuple[Path, Path, None, list[str]]:
    """Write the demo scene (its default size, sensor and seed).

    Args:
        folder: Where to write.

    Returns:
        ``(cube, labels, None, class names)``; the cube carries its wavelengths.
    """
    from torchgeo_spectral.demo.pipeline import DemoConfig
    from torchgeo_spectral.demo.scene import generate_scene, write_scene

    cfg = DemoConfig()
    demo = generate_scene(cfg.size, cfg.sensor, cfg.scene_seed)
    (folder / 'demo').mkdir()
    cube, labels = write_scene(demo, folder / 'demo')
    return cube, labels, None, list(demo.classes)


def fit_pair(job: tuple[str, dict[str, Any], str, str, int]) -> dict[str, Any]:
    """Fine-tune with ``head_norm`` off and on; same split, labels and seed.

    Args:
        job: ``(scene, files, normalization, encoder, seed)``; ``files`` holds
            ``image``, ``labels``, ``wavelengths`` and ``class_names``.

    Returns:
        The job's settings and the test OA of both fits.
    """
    scene, files, normalization, encoder, seed = job
    import torch
    from lightning.pytorch import seed_everything

    from torchgeo_spectral.datamodules import SceneDataModule
    from torchgeo_spectral.datamodules.scene import Normalization
    from torchgeo_spectral.demo.pipeline import _trainer
    from torchgeo_spectral.tasks import SpectralClassificationTask

    torch.set_num_threads(1)
    warnings.filterwarnings('ignore')
    for name in ('lightning.pytorch', 'lightning.fabric'):
        logging.getLogger(name).setLevel(logging.ERROR)
    datamodule = SceneDataModule(
        **files,
        window_size=1,
        patch_size=1,
        block_size=16,
        test_fraction=0.3,
        budget=10,
        seed=seed,
        batch_size=32,
        normalization=cast(Normalization, normalization),
    )
    row: dict[str, Any] = {
        'scene': scene,
        'normalization': normalization,
        'encoder': encoder,
        'seed': seed,
    }
    for head_norm in (False, True):
        seed_everything(seed, verbose=False)
        task = SpectralClassificationTask(
            model=MODEL,
            weights=WEIGHTS if encoder == 'shipped' else None,
            num_classes=len(files['class_names']),
            head_norm=head_norm,
        )
        datamodule.batch_size = 32
        _trainer(300).fit(task, datamodule=datamodule)
        datamodule.batch_size = 512
        result = _trainer().test(task, datamodule=datamodule, verbose=False)[0]
        row['on' if head_norm else 'off'] = 100 * float(result['test_OverallAccuracy'])
    print(
        f'{scene:6} {normalization:6} {encoder:8} seed {seed}: '
        f'off {row["off"]:.1f}, on {row["on"]:.1f}',
        flush=True,
    )
    return row


def main() -> None:
    """Run the fits and print the paired table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scenes', nargs='+', default=['demo', 'enmap'])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()
    writers = {'demo': write_demo, 'enmap': write_enmap}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for scene in args.scenes:
            written = writers[scene](Path(tmp))
            if written is None:
                print(f'{scene}: no data under {DATA}, skipped')
                continue
            image, labels, wavelengths, names = written
            files = {
                'image': str(image),
                'labels': str(labels),
                'wavelengths': None if wavelengths is None else str(wavelengths),
                'class_names': names,
            }
            jobs += [
                (scene, files, norm, encoder, seed)
                for norm, encoder, seed in product(
                    ('scene', 'band'), ('random', 'shipped'), args.seeds
                )
            ]
        context = multiprocessing.get_context('spawn')
        with context.Pool(args.workers) as pool:
            rows = pool.map(fit_pair, jobs, chunksize=1)
    print(
        '\n| Scene | Normalization | Encoder | OA off | OA on | on - off (95 % CI) |'
        '\n|---|---|---|---|---|---|'
    )
    keys = sorted({(r['scene'], r['normalization'], r['encoder']) for r in rows})
    for key in keys:
        group = [
            r for r in rows if (r['scene'], r['normalization'], r['encoder']) == key
        ]
        off = np.array([r['off'] for r in group])
        on = np.array([r['on'] for r in group])
        mean, low, high = bootstrap_ci(on - off)
        print(
            f'| {" | ".join(key)} | {off.mean():.1f} | {on.mean():.1f} | '
            f'{mean:+.1f} [{low:+.1f}, {high:+.1f}] |'
        )
    print(
        f'\n{len(args.seeds)} label seeds per row ({", ".join(map(str, args.seeds))})'
    )


if __name__ == '__main__':
    main()
