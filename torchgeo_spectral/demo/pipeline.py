"""The demo: the shipped checkpoint against random init and a random forest.

Steps (CPU, deterministic for given seeds), all through the product's own API:

1. generate a realistic scene of real library spectra resampled to a real
   sensor (:mod:`.scene`) and write it as GeoTIFFs with wavelength metadata;
2. split its labels into spatially disjoint blocks and keep a few training
   labels per class (:class:`~torchgeo_spectral.datamodules.SceneDataModule`);
3. train a random forest on the pixel spectra of those labels;
4. fine-tune :class:`~torchgeo_spectral.tasks.SpectralClassificationTask` with
   its recipe defaults from the pretrained weights, and the same model from
   random init with the same labels and steps;
5. report overall accuracy and macro F1 on the test blocks in one table, write
   the fine-tuned model's class map (GeoTIFF, through
   :class:`~torchgeo_spectral.datamodules.SceneMapWriter`) and a figure.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from lightning.pytorch import Trainer, seed_everything
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score

from torchgeo_spectral.datamodules import SceneDataModule, SceneMapWriter
from torchgeo_spectral.datamodules.scene import Normalization
from torchgeo_spectral.models.weights import (
    TASK_ARCHITECTURE_KEYS,
    SpectralWeightsEnum,
    read_weights_file,
    resolve_weights,
)
from torchgeo_spectral.tasks import SpectralClassificationTask
from torchgeo_spectral.tasks.finetune import HeadInit

from .figure import demo_figure
from .scene import DEMO_SEED, generate_scene, write_scene

__all__ = [
    'FOUNDATION_WEIGHTS',
    'DemoConfig',
    'encoder_arguments',
    'run_demo',
    'scene_datamodule',
]

#: Name of the checkpoint that ships with the package (``SpectralViT_Weights``).
FOUNDATION_WEIGHTS = 'SPECTRAL_MAE_FOUNDATION'


@dataclass(frozen=True)
class DemoConfig:
    """Settings of the demo (defaults: about 2-3 minutes on 2 CPU cores).

    Attributes:
        output: Output folder.
        weights: Pretrained weights: the name of a shipped checkpoint, or the
            path of a SpectralMAETask checkpoint or of exported encoder weights.
        size: Scene height and width in pixels.
        sensor: Sensor whose bands the scene is resampled to.
        scene_seed: Seed of the scene.
        seed: Seed of the spatial split, the label draw and the training runs.
        labels_per_class: Training labels per class.
        window_size: Odd window centred on each labelled pixel (1: the pixel's
            own spectrum, i.e. its own token).
        block_size: Block side of the spatial split, in pixels.
        test_fraction: Fraction of the labelled pixels in test blocks.
        steps: Fine-tuning steps (the same for both networks).
        batch_size: Training batch size.
        eval_batch_size: Batch size of testing and mapping.
        trees: Trees of the random forest.
        normalization: ``SceneDataModule`` normalization of both networks'
            input: ``'scene'`` (one scale, as the shipped checkpoint was
            pretrained) or ``'band'`` (per-band z-score).
        head_norm: Standardize the features before both networks' linear
            head (the task's ``head_norm``, recommended for inputs that are
            not z-scored per band, such as ``normalization='scene'``).
        head_init: How both networks' linear head starts (the task's
            ``head_init``): ``'probe'`` (the linear probe of the frozen
            features, then fine-tuning; recommended, like ``head_norm``, for
            inputs not z-scored per band) or ``'random'``.
    """

    output: str = 'demo_output'
    weights: str = FOUNDATION_WEIGHTS
    size: int = 96
    sensor: str = 'enmap'
    scene_seed: int = DEMO_SEED
    seed: int = 0
    labels_per_class: int = 10
    window_size: int = 1
    block_size: int = 16
    test_fraction: float = 0.3
    steps: int = 300
    batch_size: int = 32
    eval_batch_size: int = 512
    trees: int = 200
    normalization: Normalization = 'scene'
    head_norm: bool = True
    head_init: HeadInit = 'probe'


def encoder_arguments(weights: str) -> dict[str, Any]:
    """Encoder arguments of the task that fit the pretrained weights.

    A weights file states its architecture in its config; a shipped checkpoint
    names its model in its metadata (``spectral_vit_nano`` for
    :data:`FOUNDATION_WEIGHTS`).

    Args:
        weights: The ``weights`` setting.

    Returns:
        Keyword arguments for :class:`SpectralClassificationTask`.

    Raises:
        ValueError: If a file does not state its architecture, or the name is
            neither a file nor a shipped checkpoint.
    """
    try:
        resolved = resolve_weights(weights)
    except ValueError as error:
        msg = (
            f'{error}; pass --weights PATH (a SpectralMAETask checkpoint or '
            'exported encoder weights)'
        )
        raise ValueError(msg) from error
    if isinstance(resolved, SpectralWeightsEnum):
        return {'model': resolved.meta['model']}
    config = read_weights_file(weights)['config']
    missing = [key for key in TASK_ARCHITECTURE_KEYS if key not in config]
    if missing:
        msg = (
            f'{weights}: expected the encoder config to state {missing} '
            f'(found keys {sorted(config)}); export the weights with '
            'SpectralMAETask.export_encoder'
        )
        raise ValueError(msg)
    return {
        'model': 'spectral_vit_tiny',
        **{k: config[k] for k in TASK_ARCHITECTURE_KEYS},
    }


def _trainer(steps: int = -1, callbacks: list[Any] | None = None) -> Trainer:
    """A quiet CPU trainer: no logger, checkpoints, progress bar or summary.

    Args:
        steps: Optimizer steps (fitting only).
        callbacks: Callbacks (the map writer).

    Returns:
        The trainer.
    """
    return Trainer(
        accelerator='cpu',
        devices=1,
        max_steps=steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        callbacks=callbacks,
    )


def _metrics(
    truth: npt.NDArray[np.int64], predicted: npt.NDArray[np.int64]
) -> dict[str, float]:
    """Overall accuracy and macro F1.

    Args:
        truth: True classes.
        predicted: Predicted classes.

    Returns:
        ``{'overall_accuracy', 'macro_f1'}``.
    """
    return {
        'overall_accuracy': float((truth == predicted).mean()),
        'macro_f1': float(f1_score(truth, predicted, average='macro')),
    }


def scene_datamodule(
    cfg: DemoConfig,
    *,
    image: str,
    labels: str,
    class_names: list[str],
    patch_size: int,
    wavelengths: str | None = None,
) -> SceneDataModule:
    """The demo's few-label data module (split, budget, scaling) for a scene.

    Args:
        cfg: Demo settings (window, split, labels per class, seed, scaling).
        image: Cube file.
        labels: Label map file (0 = unlabelled).
        class_names: Names of classes ``1..K``.
        patch_size: The encoder's patch size.
        wavelengths: Wavelength file or sensor name when the cube has none.

    Returns:
        The data module (not set up).
    """
    return SceneDataModule(
        image=image,
        labels=labels,
        class_names=class_names,
        wavelengths=wavelengths,
        window_size=cfg.window_size,
        patch_size=patch_size,
        block_size=cfg.block_size,
        test_fraction=cfg.test_fraction,
        budget=cfg.labels_per_class,
        seed=cfg.seed,
        batch_size=cfg.batch_size,
        normalization=cfg.normalization,
    )


#: Training spectra (N, C), their classes, test spectra and their classes.
PixelSplit = tuple[
    npt.NDArray[Any], npt.NDArray[np.int64], npt.NDArray[Any], npt.NDArray[np.int64]
]


def split_pixels(datamodule: SceneDataModule) -> PixelSplit:
    """The pixel spectra and classes of a set-up data module's split.

    Per-pixel classifiers (the demo's random forest, the benchmarks' other
    classical baselines) read these, so they see the very pixels the networks
    are trained and tested on.

    Args:
        datamodule: The set-up data module (its scene and split).

    Returns:
        ``(x_train, y_train, x_test, y_test)``: spectra ``(N, C)`` and classes.
    """
    split, scene = datamodule.split, datamodule.scene
    assert split is not None
    assert scene is not None
    pixels = scene.image.reshape(scene.image.shape[0], -1).T
    labels = scene.gt.reshape(-1).astype(np.int64)
    train, test = split.flat_indices('train'), split.flat_indices('test')
    return pixels[train], labels[train], pixels[test], labels[test]


def random_forest(cfg: DemoConfig, datamodule: SceneDataModule) -> dict[str, float]:
    """A random forest on the pixel spectra of the same training labels.

    Trees do not care how the data module scaled the bands (one factor per band
    or per scene), so this is the forest of the raw spectra.

    Args:
        cfg: Demo settings.
        datamodule: The set-up data module (its scene and split).

    Returns:
        Test metrics.
    """
    x_train, y_train, x_test, y_test = split_pixels(datamodule)
    forest = RandomForestClassifier(cfg.trees, random_state=cfg.seed, n_jobs=-1)
    forest.fit(x_train, y_train)
    return _metrics(y_test, forest.predict(x_test).astype(np.int64))


def finetune(
    cfg: DemoConfig,
    datamodule: SceneDataModule,
    encoder: dict[str, Any],
    weights: str | None,
) -> tuple[SpectralClassificationTask, dict[str, float]]:
    """Fine-tune the classification task and test it on the test blocks.

    Args:
        cfg: Demo settings.
        datamodule: The data module (few-label training pixels, test blocks).
        encoder: Encoder arguments (:func:`encoder_arguments`).
        weights: Pretrained weights, or None for random init.

    Returns:
        The trained task and its test metrics.
    """
    seed_everything(cfg.seed, verbose=False)
    task = SpectralClassificationTask(
        **encoder,
        weights=weights,
        num_classes=len(datamodule.kwargs['class_names']),
        head_norm=cfg.head_norm,
        head_init=cfg.head_init,
    )
    datamodule.batch_size = cfg.batch_size
    _trainer(cfg.steps).fit(task, datamodule=datamodule)
    datamodule.batch_size = datamodule.predict_batch_size = cfg.eval_batch_size
    results = _trainer().test(task, datamodule=datamodule, verbose=False)[0]
    return task, {
        'overall_accuracy': float(results['test_OverallAccuracy']),
        'macro_f1': float(results['test_AverageF1Score']),
    }


def write_map(
    task: SpectralClassificationTask, datamodule: SceneDataModule, path: Path
) -> npt.NDArray[np.int64]:
    """Map every pixel of the scene with the product's prediction path.

    Args:
        task: The fine-tuned task.
        datamodule: The data module (its prediction set is every pixel).
        path: Class-map GeoTIFF to write (1..K, georeferenced like the cube).

    Returns:
        The map read back, as classes ``0..K-1``.
    """
    writer = SceneMapWriter(str(path), overwrite=True)
    _trainer(callbacks=[writer]).predict(
        task, datamodule=datamodule, return_predictions=False
    )
    with rasterio.open(path) as src:
        classes: npt.NDArray[np.int64] = src.read(1).astype(np.int64) - 1
    return classes


def _timed(label: str, step: Callable[[], Any]) -> Any:
    """Run one step of the demo and print its duration.

    Args:
        label: What the step does.
        step: The step.

    Returns:
        What the step returned.
    """
    start = time.perf_counter()
    result = step()
    print(f'[demo] {label}: {time.perf_counter() - start:.0f} s', flush=True)
    return result


def write_metrics(rows: list[dict[str, Any]], path: Path) -> None:
    """Write the comparison table as CSV.

    Args:
        rows: One dict per model.
        path: Output file.
    """
    with path.open('w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def run_demo(cfg: DemoConfig) -> list[dict[str, Any]]:
    """Run the whole demo and print one table.

    Args:
        cfg: Demo settings.

    Returns:
        The rows of ``metrics.csv``.
    """
    start = time.perf_counter()
    folder = Path(cfg.output).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    encoder = encoder_arguments(cfg.weights)
    demo = generate_scene(cfg.size, cfg.sensor, cfg.scene_seed)
    image_path, label_path = write_scene(demo, folder)
    wl = demo.scene.wavelengths
    print(
        f'[demo] scene: {cfg.size}x{cfg.size} px at 30 m, {wl.size} {cfg.sensor} '
        f'bands ({wl[0]:.0f}-{wl[-1]:.0f} nm), {len(demo.classes)} classes of '
        f'earthlib spectra (shared with the pretraining corpus; scene seed '
        f'{cfg.scene_seed}, not a corpus seed)'
    )
    datamodule = scene_datamodule(
        cfg,
        image=str(image_path),
        labels=str(label_path),
        class_names=list(demo.classes),
        patch_size=int(encoder.get('patch_size', 1)),
    )
    datamodule.setup('fit')
    split = datamodule.split
    assert split is not None
    train, test = split.mask('train'), split.mask('test')
    print(
        f'[demo] labels: {int(train.sum())} for training ({cfg.labels_per_class} per '
        f'class), {int(test.sum())} test pixels in spatially disjoint '
        f'{cfg.block_size}-px blocks'
    )
    forest = _timed('random forest', lambda: random_forest(cfg, datamodule))
    pretrained, tuned = _timed(
        f'fine-tuning from {Path(cfg.weights).name} ({cfg.steps} steps)',
        lambda: finetune(cfg, datamodule, encoder, cfg.weights),
    )
    _, scratch = _timed(
        f'same model from random init ({cfg.steps} steps)',
        lambda: finetune(cfg, datamodule, encoder, None),
    )
    predicted = _timed(
        'class map of the fine-tuned model',
        lambda: write_map(pretrained, datamodule, folder / 'class_map.tif'),
    )
    demo_figure(
        demo.scene.image,
        wl,
        demo.labels,
        predicted,
        test,
        train,
        demo.classes,
        folder / 'demo.png',
        title=f'{Path(cfg.weights).name}, {cfg.labels_per_class} labels per class',
    )
    rows = [
        {'model': f'pretrained ({Path(cfg.weights).name})', **tuned},
        {'model': 'random init', **scratch},
        {'model': f'random forest ({cfg.trees} trees)', **forest},
    ]
    write_metrics(rows, folder / 'metrics.csv')
    (folder / 'demo_config.yaml').write_text(
        ''.join(f'{key}: {value}\n' for key, value in asdict(cfg).items())
    )
    elapsed = time.perf_counter() - start
    print(f'\n{"model":<40}{"OA":>8}{"macro F1":>10}')
    for row in rows:
        print(
            f'{row["model"]:<40}{row["overall_accuracy"]:>8.3f}{row["macro_f1"]:>10.3f}'
        )
    print(
        f'\n[demo] {elapsed:.0f} s; outputs in {folder}: scene.tif, labels.tif, '
        'class_map.tif, demo.png, metrics.csv'
    )
    return rows
