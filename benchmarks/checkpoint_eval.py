"""Which encoder weights fine-tune best? Each against random init, as ``make demo`` fits.

Fine-tunes :class:`~torchgeo_spectral.tasks.SpectralClassificationTask` with the
demo's settings (:class:`~torchgeo_spectral.demo.pipeline.DemoConfig` defaults:
scene-scaled input, ``head_norm``, ``head_init='probe'``, 300 steps, 10 labels
per class unless ``--labels-per-class`` says otherwise, each pixel from its own
token) through
:class:`~torchgeo_spectral.datamodules.SceneDataModule` on the demo scene and the
EnMAP excerpt of ``../shared/data`` (:func:`benchmarks.recipe_option.write_scenes`), from
random init and from each given weights (a shipped checkpoint's name, an exported
``.safetensors`` file or a ``SpectralMAETask`` checkpoint), all on the same
split, labels and seed. Random init uses the architecture of the first weights.

It prints the overall accuracy of every fit and, per scene and weights, the mean
OA and the paired difference to random init (OA points) with its 95 % bootstrap
CI over label seeds; with the demo settings also the demo's random forest on the
same training pixels (:func:`~torchgeo_spectral.demo.pipeline.random_forest`) and
the paired difference to it, and with ``--svm`` the accuracy benchmark's PCA + RBF
SVM (:func:`benchmarks.accuracy.baselines.pca_svm`, ``C`` cross-validated on the
training labels) on those pixels, the strongest classical baseline there. It is
the product-path check of a new pretraining recipe: export the checkpoint
(``torchgeo-spectral export-weights``), then::

    python -m benchmarks.checkpoint_eval SPECTRAL_MAE_FOUNDATION new.safetensors
    python -m benchmarks.checkpoint_eval new.safetensors --scenes demo --seeds 0 1 2 3

Three seeds on both scenes take about 3 minutes per weights on a 2-core CPU
(two worker processes), plus as much for random init.

With ``--config`` the fits are the ``torchgeo-spectral fit`` and ``test``
commands of a fine-tuning config instead (what a user runs, e.g.
``conf/few_label_scene_foundation.yaml``), each scene's files, seed and weights
set on the command line (``--model.init_args.weights null`` for random init);
``--override`` adds command-line arguments to both::

    python -m benchmarks.checkpoint_eval SPECTRAL_MAE_FOUNDATION \
        --config conf/few_label_scene_foundation.yaml --scenes enmap --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import tempfile
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.accuracy.metrics import format_paired
from benchmarks.recipe_option import add_scene_arguments, run_parallel, write_scenes

#: Name of the random-init rows.
RANDOM = 'random'
#: Name of the random-forest rows (demo settings only).
FOREST = 'random forest'
#: Name of the PCA + RBF SVM rows (demo settings with ``--svm`` only).
SVM = 'PCA + SVM'
#: How the table names each baseline.
BASELINE_NAMES = {RANDOM: 'random init', FOREST: 'random forest', SVM: SVM}


@dataclass(frozen=True)
class Fit:
    """One fine-tuning run.

    Attributes:
        scene: Scene name.
        files: ``SceneDataModule`` arguments (see :func:`write_demo`).
        weights: Weights to start from, or :data:`RANDOM`.
        architecture: Weights whose encoder settings the model takes.
        seed: Seed of the split, the label draw and the fit.
        steps: Fine-tuning steps (demo settings only).
        labels_per_class: Training labels per class (demo settings only).
        config: A fine-tuning config to run through the command line instead of
            the demo settings (absolute path), or None.
        overrides: Extra command-line arguments of the config's commands.
    """

    scene: str
    files: dict[str, Any]
    weights: str
    architecture: str
    seed: int
    steps: int = 300
    labels_per_class: int = 10
    config: str | None = None
    overrides: tuple[str, ...] = ()


def config_overall_accuracy(fit: Fit, folder: Path) -> float:
    """Fine-tune and test with ``torchgeo-spectral fit`` / ``test`` of a config.

    The config's relative output paths land in ``folder``.

    Args:
        fit: What to fit (``fit.config`` set).
        folder: Empty working folder of this fit.

    Returns:
        The test overall accuracy (fraction), from the test run's CSV log.

    Raises:
        FileNotFoundError: If the fit left no ``last.ckpt`` or the test no
            overall accuracy.
    """
    from torchgeo_spectral.main import main as cli

    assert fit.config is not None
    files = fit.files
    weights = 'null' if fit.weights == RANDOM else fit.weights
    common = [
        f'--config={fit.config}',
        f'--data.init_args.image={files["image"]}',
        f'--data.init_args.labels={files["labels"]}',
        f'--data.init_args.wavelengths={files["wavelengths"] or "null"}',
        f'--data.init_args.split={folder / "split.npz"}',
        f'--data.init_args.seed={fit.seed}',
        f'--seed_everything={fit.seed}',
        f'--model.init_args.num_classes={len(files["class_names"])}',
        f'--model.init_args.weights={weights}',
        f'--trainer.default_root_dir={folder}',
        '--trainer.enable_progress_bar=false',
        '--trainer.enable_model_summary=false',
        *fit.overrides,
    ]
    # the config's relative checkpoint and map paths land in the folder
    with contextlib.chdir(folder):
        cli(['fit', *common])
        checkpoints = sorted(folder.rglob('last.ckpt'))
        if not checkpoints:
            raise FileNotFoundError(f'{fit.config}: the fit wrote no last.ckpt')
        cli(
            [
                'test',
                *common,
                f'--ckpt_path={checkpoints[0]}',
                '--trainer.logger=lightning.pytorch.loggers.CSVLogger',
                f'--trainer.logger.init_args.save_dir={folder / "test_log"}',
            ]
        )
    for log in (folder / 'test_log').rglob('metrics.csv'):
        with log.open() as file:
            for row in csv.DictReader(file):
                if row.get('test_OverallAccuracy'):
                    return float(row['test_OverallAccuracy'])
    raise FileNotFoundError(f'{folder / "test_log"}: no test_OverallAccuracy logged')


def run_fit(fit: Fit) -> dict[str, Any]:
    """Fine-tune once and test.

    Args:
        fit: What to fit.

    Returns:
        ``scene``, ``weights``, ``seed`` and the test ``oa`` (%).
    """
    import torch

    from benchmarks.accuracy.baselines import pca_svm
    from benchmarks.accuracy.config import BenchConfig
    from torchgeo_spectral.demo.cli import quiet_lightning
    from torchgeo_spectral.demo.pipeline import (
        DemoConfig,
        encoder_arguments,
        finetune,
        random_forest,
        scene_datamodule,
        split_pixels,
    )

    torch.set_num_threads(1)
    quiet_lightning()
    if fit.config is not None:
        with tempfile.TemporaryDirectory() as folder:
            oa = 100 * config_overall_accuracy(fit, Path(folder))
    else:
        cfg = DemoConfig(
            seed=fit.seed,
            steps=fit.steps,
            labels_per_class=fit.labels_per_class,
            weights=fit.architecture,
        )
        datamodule = scene_datamodule(cfg, **fit.files, patch_size=1)
        if fit.weights == FOREST:
            datamodule.setup('fit')
            metrics = random_forest(cfg, datamodule)
        elif fit.weights == SVM:
            datamodule.setup('fit')
            x_train, y_train, x_test, y_test = split_pixels(datamodule)
            predicted = pca_svm(x_train, y_train, x_test, BenchConfig(), fit.seed)
            metrics = {'overall_accuracy': float((predicted == y_test).mean())}
        else:
            weights = None if fit.weights == RANDOM else fit.weights
            encoder = encoder_arguments(fit.architecture)
            _, metrics = finetune(cfg, datamodule, encoder, weights)
        oa = 100 * metrics['overall_accuracy']
    print(f'{fit.scene:6} {fit.weights} seed {fit.seed}: OA {oa:.1f}', flush=True)
    return {'scene': fit.scene, 'weights': fit.weights, 'seed': fit.seed, 'oa': oa}


def paired_table(rows: list[dict[str, Any]]) -> str:
    """Mean OA per scene and weights, and the paired differences to the baselines.

    Every row is paired with random init and, where the rows hold them, with the
    random forest and the PCA + SVM (same split, labels and seed).

    Args:
        rows: Results of :func:`run_fit`.

    Returns:
        The markdown table.

    Raises:
        ValueError: If a scene lacks a baseline's fit of a seed.
    """
    baselines = [
        b for b in (RANDOM, FOREST, SVM) if any(r['weights'] == b for r in rows)
    ]
    header = ' | '.join(f'minus {BASELINE_NAMES[b]} (95 % CI)' for b in baselines)
    lines = [
        f'| Scene | Weights | Seeds | OA | {header} |',
        '|---|---|---|---|' + '---|' * len(baselines),
    ]
    names = [Path(w).name for w in dict.fromkeys(r['weights'] for r in rows)]
    unique = len(set(names)) == len(names)  # else full paths (e.g. two last.ckpt)
    for scene in dict.fromkeys(r['scene'] for r in rows):
        oa = {(r['weights'], r['seed']): r['oa'] for r in rows if r['scene'] == scene}
        for weights in dict.fromkeys(w for w, _ in oa):
            seeds = sorted(s for w, s in oa if w == weights)
            mine = np.array([oa[weights, s] for s in seeds])
            diffs = []
            for baseline in baselines:
                if weights == baseline:
                    diffs.append('-')
                    continue
                missing = [s for s in seeds if (baseline, s) not in oa]
                if missing:
                    msg = f'{scene}: no {BASELINE_NAMES[baseline]} fit for seeds {missing}'
                    raise ValueError(msg)
                base = np.array([oa[baseline, s] for s in seeds])
                diffs.append(format_paired(mine - base))
            lines.append(
                f'| {scene} | {Path(weights).name if unique else weights} | '
                f'{len(seeds)} | {mine.mean():.1f} | {" | ".join(diffs)} |'
            )
    return '\n'.join(lines)


def main() -> None:
    """Run the fits and print the paired table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'weights', nargs='+', help='shipped checkpoint names or weights files'
    )
    parser.add_argument('--steps', type=int, default=300)
    parser.add_argument(
        '--labels-per-class',
        type=int,
        help=f'training labels per class (demo settings only; {Fit.labels_per_class})',
    )
    parser.add_argument(
        '--config', help='fine-tuning config to run instead of the demo settings'
    )
    parser.add_argument(
        '--override',
        action='append',
        default=[],
        help='extra command-line argument of the config (repeatable)',
    )
    parser.add_argument(
        '--svm',
        action='store_true',
        help='also fit the PCA + RBF SVM on the same pixels (demo settings only)',
    )
    add_scene_arguments(parser)
    args = parser.parse_args()
    config = None if args.config is None else str(Path(args.config).resolve())
    if config and args.labels_per_class is not None:
        parser.error(
            '--labels-per-class sets the demo settings; a config takes its budget '
            'as --override=--data.init_args.budget=N'
        )
    if config and args.svm:
        parser.error("--svm fits on the demo settings' pixels; drop --config")
    labels_per_class = (
        Fit.labels_per_class if args.labels_per_class is None else args.labels_per_class
    )
    # The forest is the demo's (its split and pixels); a config run has its own.
    baselines = [RANDOM] if config else [RANDOM, FOREST] + [SVM] * args.svm
    with tempfile.TemporaryDirectory() as tmp:
        fits = [
            Fit(
                scene,
                files,
                weights,
                architecture=args.weights[0],
                seed=seed,
                steps=args.steps,
                labels_per_class=labels_per_class,
                config=config,
                overrides=tuple(args.override),
            )
            for scene, files in write_scenes(args.scenes, Path(tmp)).items()
            for weights, seed in product([*baselines, *args.weights], args.seeds)
        ]
        rows = run_parallel(run_fit, fits, args.workers)
    print(f'\n{paired_table(rows)}\n')
    settings = (
        f'{args.steps} steps, {labels_per_class} labels per class, demo '
        'settings (DemoConfig defaults)'
        if config is None
        else f'{args.config} {" ".join(args.override)}'.strip()
    )
    print(
        f'{len(args.seeds)} label seeds ({", ".join(map(str, args.seeds))}), {settings}'
    )


if __name__ == '__main__':
    main()
