"""Orchestration: data, splits, methods, robustness study and the report."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from torch import nn

from . import baselines, neural
from .config import BenchConfig, parse_args
from .data import (
    Cube,
    Scene,
    load_enmap_potsdam,
    load_pretraining_cubes,
    synthetic_cubes,
    synthetic_scene,
)
from .metrics import scores
from .report import write_report
from .robustness import BandSet, make_band_set, resample_scene
from .scenes import load_classic_scene
from .splits import Split, make_split

Classifier = Callable[[Split], NDArray[np.int64]]

#: Methods needing each pretrained encoder.
SPECTRAL_MAE = ('spectral_mae_probe', 'spectral_mae_finetune')
CROSS_SENSOR = ('cross_sensor_probe', 'cross_sensor_finetune')
TORCHGEO_MAE = ('torchgeo_mae_probe', 'torchgeo_mae_finetune')
#: Encoder kinds (:meth:`Encoders.get`) of the linear-probe rows, in run order.
PROBED_ENCODERS = (
    'spectral_mae',
    'cross_sensor',
    'random',
    'torchgeo_mae',
    'foundation',
    'foundation_random',
)
#: Encoder kinds of the fine-tuning rows (ImageNet transfer is fine-tuned only).
FINETUNED_ENCODERS = (
    'spectral_mae',
    'cross_sensor',
    'random',
    'imagenet',
    'torchgeo_mae',
    'foundation',
    'foundation_random',
)
FOUNDATION = (
    'foundation_probe',
    'foundation_finetune',
    'foundation_random_probe',
    'foundation_random_finetune',
)
CLASSICAL_METHODS = ('pca_svm', 'random_forest', 'linear_spectra', 'spatial_svm')


@dataclass
class RunState:
    """Everything a run accumulates for the report.

    Attributes:
        cfg: The configuration.
        device: Torch device.
        records: One dict per (scene, band set, method, budget, seed).
        notes: Free-text notes printed in the report.
        unavailable: Method -> reason it did not run.
        phases: Phase -> wall seconds.
        pretrain: Pretraining summaries.
        scenes: Scene name -> description.
        splits: Scene name -> split summaries.
        band_sets: Band sets of the robustness study.
        started: ``time.time()`` at the start.
        load_start: Load average at the start.
    """

    cfg: BenchConfig
    device: torch.device
    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    pretrain: list[str] = field(default_factory=list)
    scenes: dict[str, str] = field(default_factory=dict)
    splits: dict[str, list[str]] = field(default_factory=dict)
    band_sets: list[BandSet] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    load_start: tuple[float, float, float] = field(default_factory=os.getloadavg)

    def log(self, message: str) -> None:
        """Print a progress line with the elapsed time.

        Args:
            message: The line.
        """
        print(f'[{time.time() - self.started:7.1f} s] {message}', flush=True)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase of the run.

        Args:
            name: Phase name.

        Yields:
            Nothing.
        """
        start = time.perf_counter()
        self.log(f'{name} ...')
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.phases[name] = self.phases.get(name, 0.0) + elapsed
            self.log(f'{name} done in {elapsed:.1f} s')

    def wanted(self, *methods: str) -> bool:
        """Whether any of ``methods`` is requested and available.

        Args:
            *methods: Method names.

        Returns:
            True if at least one should run.
        """
        return any(m in self.cfg.methods and m not in self.unavailable for m in methods)

    def add(
        self,
        scene: Scene,
        band_set: str,
        method: str,
        split: Split,
        y_pred: NDArray[np.int64],
        seconds: float,
    ) -> None:
        """Score predictions on the split's test pixels and keep the record.

        Args:
            scene: The scene.
            band_set: Band-set key (``'native'`` for the scene's own bands).
            method: Method name.
            split: The split.
            y_pred: Predicted classes (ids ``1..K``) of the test pixels.
            seconds: Wall time of fitting and predicting.
        """
        y_true = scene.labels[split.test]
        self.records.append(
            {
                'scene': scene.name,
                'band_set': band_set,
                'method': method,
                'budget': split.budget,
                'seed': split.seed,
                'n_train': len(split.train[0]),
                'n_test': len(split.test[0]),
                'seconds': seconds,
                **scores(y_true, y_pred),
            }
        )


def spectra(scene: Scene, pixels: tuple[NDArray[np.intp], NDArray[np.intp]]) -> Any:
    """Pixel spectra ``(N, C)`` of the normalised image.

    Args:
        scene: The scene.
        pixels: ``(rows, cols)``.

    Returns:
        The spectra.
    """
    return scene.image[:, pixels[0], pixels[1]].T


# ----------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------


def load_main(state: RunState) -> tuple[Scene, list[Cube]]:
    """The EnMAP scene and pretraining cubes, or synthetic ones without data.

    Args:
        state: The run state.

    Returns:
        The labelled scene and the pretraining cubes.
    """
    root = state.cfg.data / 'enmap_potsdam'
    if root.is_dir():
        scene = load_enmap_potsdam(root)
        cubes = load_pretraining_cubes(state.cfg.data, scene)
    else:
        state.notes.append(
            f'Shared data not found at {state.cfg.data}: SYNTHETIC scene, the '
            'numbers say nothing about real accuracy.'
        )
        scene = synthetic_scene()
        cubes = synthetic_cubes(scene)
    state.scenes[scene.name] = scene.description
    return scene, cubes


def make_splits(state: RunState, scene: Scene) -> dict[tuple[int, float], Split]:
    """All (seed, budget) splits of a scene.

    Args:
        state: The run state.
        scene: The scene.

    Returns:
        Splits keyed by ``(seed, budget)``.
    """
    cfg = state.cfg
    splits = {
        (seed, budget): make_split(scene, cfg, seed, budget)
        for seed in cfg.seeds
        for budget in cfg.budgets
    }
    lines = []
    for (seed, budget), s in splits.items():
        counts = np.bincount(scene.labels[s.train], minlength=scene.num_classes + 1)
        lines.append(
            f'seed {seed}, budget {budget:g}: {len(s.train[0])} train px '
            f'(per class {counts[1:].tolist()}), {len(s.test[0])} test px, guard '
            f'{s.guard_width} px, min train-test distance {s.min_distance} px'
        )
    state.splits[scene.name] = lines
    for line in lines:
        state.log(line)
    return splits


# ----------------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------------


def run_classical(
    state: RunState, scene: Scene, splits: dict[tuple[int, float], Split], band_set: str
) -> None:
    """PCA + SVM and random forest on the pixel spectra; PCA + SVM on pixel plus
    window-mean spectra (spatial-spectral).

    Args:
        state: The run state.
        scene: The scene (possibly resampled).
        splits: The splits.
        band_set: Band-set key of the records.
    """
    fits: dict[str, Callable[..., NDArray[np.int64]]] = {
        'pca_svm': baselines.pca_svm,
        'random_forest': baselines.random_forest,
        'linear_spectra': baselines.linear_spectra,
        'spatial_svm': baselines.spatial_svm,
    }
    smooth = None
    if 'spatial_svm' in state.cfg.methods:
        smooth = baselines.window_mean(scene.image, scene.valid, state.cfg.window)
    for method, fit in fits.items():
        if method not in state.cfg.methods:
            continue
        extra = smooth if method == 'spatial_svm' else None

        def features(
            pixels: tuple[NDArray[np.intp], NDArray[np.intp]],
            extra: NDArray[np.float32] | None = extra,
        ) -> Any:
            x = spectra(scene, pixels)
            if extra is None:
                return x
            return np.concatenate([x, extra[:, pixels[0], pixels[1]].T], axis=1)

        for split in splits.values():
            start = time.perf_counter()
            y_train = scene.labels[split.train]
            pred = fit(
                features(split.train),
                y_train,
                features(split.test),
                state.cfg,
                split.seed,
            )
            state.add(scene, band_set, method, split, pred, time.perf_counter() - start)


@dataclass
class Encoders:
    """Pretrained encoders and per-seed factories of a scene.

    Attributes:
        spectral_mae: Spectral encoder pretrained on the target scene's own
            unlabelled pixels (None when not run).
        cross_sensor: Spectral encoder pretrained only on other sensors' cubes.
        torchgeo_mae: Pretrained fixed-band encoder for the scene's bands.
    """

    spectral_mae: nn.Module | None = None
    cross_sensor: nn.Module | None = None
    torchgeo_mae: nn.Module | None = None
    foundation: nn.Module | None = None

    def get(self, kind: str, cfg: BenchConfig, seed: int) -> nn.Module:
        """The encoder a method starts from.

        Args:
            kind: ``'spectral_mae'``, ``'cross_sensor'``, ``'random'``,
                ``'imagenet'``, ``'torchgeo_mae'``, ``'foundation'`` (the
                ``foundation_weights``) or ``'foundation_random'`` (their
                architecture, randomly initialised).
            cfg: The configuration.
            seed: Seed (random and ImageNet initialisation only).

        Returns:
            The encoder (shared, callers must not modify it).

        Raises:
            ValueError: If the kind is unknown or was not pretrained.
        """
        if kind == 'random':
            return neural.build_spectral_encoder(cfg, 1000 + seed)
        if kind == 'imagenet':
            return neural.build_imagenet_encoder(cfg, 1000 + seed)
        if kind == 'foundation_random':
            return neural.build_foundation_encoder(cfg, 1000 + seed, pretrained=False)
        if kind == 'foundation':
            if self.foundation is None:
                self.foundation = neural.build_foundation_encoder(
                    cfg, 0, pretrained=True
                )
            return self.foundation
        module = getattr(self, kind, None)
        if module is None:
            msg = f'encoder {kind!r} is not available'
            raise ValueError(msg)
        return module


def needed_pixels(
    scene: Scene, splits: dict[tuple[int, float], Split]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Every pixel some split trains or tests on (row-major order).

    Args:
        scene: The scene.
        splits: The splits.

    Returns:
        ``(rows, cols)``.
    """
    mask = np.zeros(scene.labels.shape, dtype=bool)
    for split in splits.values():
        mask[split.train] = True
        mask[split.test] = True
    rows, cols = np.nonzero(mask)
    return rows.astype(np.intp), cols.astype(np.intp)


class FeatureTable:
    """Frozen features of a set of pixels, looked up by pixel.

    Args:
        shape: Scene height and width.
        pixels: ``(rows, cols)`` of the features.
        features: ``(N, D)`` features of ``pixels`` in order.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        pixels: tuple[NDArray[np.intp], NDArray[np.intp]],
        features: NDArray[np.float32],
    ) -> None:
        """Index the features by pixel."""
        self.index = np.full(shape, -1, dtype=np.intp)
        self.index[pixels] = np.arange(len(pixels[0]))
        self.features = features

    def __getitem__(
        self, pixels: tuple[NDArray[np.intp], NDArray[np.intp]]
    ) -> NDArray[np.float32]:
        """Features of some of the pixels."""
        index = self.index[pixels]
        if (index < 0).any():
            msg = 'features requested for pixels that were not extracted'
            raise KeyError(msg)
        return self.features[index]


def feature_table(
    state: RunState,
    encoder: nn.Module,
    scene: Scene,
    pixels: tuple[NDArray[np.intp], NDArray[np.intp]],
) -> FeatureTable:
    """Extract frozen features of some pixels of a scene.

    Args:
        state: The run state.
        encoder: The encoder.
        scene: The scene.
        pixels: ``(rows, cols)`` to extract.

    Returns:
        The feature table.
    """
    source = neural.WindowSource(
        scene.image, scene.wavelengths, state.cfg.window, state.device
    )
    feats = neural.extract_features(
        encoder, source, pixels[0], pixels[1], state.cfg.eval_batch
    )
    encoder.cpu()
    return FeatureTable(scene.labels.shape, pixels, feats)


def run_probe(
    state: RunState,
    scene: Scene,
    splits: dict[tuple[int, float], Split],
    method: str,
    table_for_seed: Callable[[int], FeatureTable],
    band_set: str = 'native',
) -> None:
    """Linear probes on frozen features for every split.

    Args:
        state: The run state.
        scene: The scene.
        splits: The splits.
        method: Method name of the records.
        table_for_seed: Feature table of a seed (cached by the caller).
        band_set: Band-set key of the records.
    """
    for (seed, _), split in splits.items():
        table = table_for_seed(seed)
        start = time.perf_counter()
        probe = baselines.fit_probe(
            table[split.train], scene.labels[split.train], state.cfg
        )
        pred = np.asarray(probe.predict(table[split.test]), dtype=np.int64)
        state.add(scene, band_set, method, split, pred, time.perf_counter() - start)


def cached(factory: Callable[[int], FeatureTable]) -> Callable[[int], FeatureTable]:
    """Memoise a per-seed feature-table factory.

    Args:
        factory: Function of the seed.

    Returns:
        The memoised function.
    """
    cache: dict[int, FeatureTable] = {}

    def get(seed: int) -> FeatureTable:
        if seed not in cache:
            cache[seed] = factory(seed)
        return cache[seed]

    return get


def run_finetune(
    state: RunState,
    scene: Scene,
    splits: dict[tuple[int, float], Split],
    method: str,
    encoder_for_seed: Callable[[int], nn.Module],
) -> None:
    """Fine-tune encoder + head for every split and score the test pixels.

    Args:
        state: The run state.
        scene: The scene.
        splits: The splits.
        method: Method name of the records.
        encoder_for_seed: The starting encoder of a seed.
    """
    cfg = state.cfg
    source = neural.WindowSource(
        scene.image, scene.wavelengths, cfg.window, state.device
    )
    for split in splits.values():
        start = time.perf_counter()
        targets = scene.labels[split.train] - 1
        model = neural.finetune(
            encoder_for_seed(split.seed),
            source,
            split.train,
            targets,
            scene.num_classes,
            cfg,
            split.seed,
        )
        pred = neural.predict(model, source, split.test, cfg.eval_batch) + 1
        state.add(scene, 'native', method, split, pred, time.perf_counter() - start)
        state.log(
            f'{method} budget {split.budget:g} seed {split.seed}: OA '
            f'{state.records[-1]["oa"]:.3f} in {time.perf_counter() - start:.1f} s'
        )


def check_imagenet(state: RunState) -> None:
    """Mark the ImageNet row unavailable when no local weights are given.

    Args:
        state: The run state.
    """
    path = state.cfg.imagenet_weights
    if 'imagenet_finetune' not in state.cfg.methods or (
        'imagenet_finetune' in state.unavailable
    ):
        return
    if path is None:
        state.unavailable['imagenet_finetune'] = (
            'skipped: no local ImageNet weights (pass --imagenet-weights PATH to a '
            'timm ViT state dict; they cannot be downloaded on this machine)'
        )
    elif not path.exists():
        state.unavailable['imagenet_finetune'] = f'skipped: {path} does not exist'
    else:
        try:
            neural.build_imagenet_encoder(state.cfg, 0)
        except (ValueError, RuntimeError) as error:
            state.unavailable['imagenet_finetune'] = (
                f'skipped: {path} does not fit the benchmark ViT ({error}); set '
                '--embed-dim/--depth/--num-heads to the checkpoint'
            )
        else:
            state.notes.append(f'ImageNet-transfer row initialised from {path}.')


def check_models(state: RunState) -> None:
    """Mark every neural method unavailable when the models package is missing.

    Args:
        state: The run state.
    """
    try:
        from torchgeo_spectral.models import SpectralMAE, SpectralViT  # noqa: F401
    except ImportError as error:
        for method in state.cfg.methods:
            if method not in (*CLASSICAL_METHODS, *TORCHGEO_MAE):
                state.unavailable[method] = f'not run: {error}'


def pretrain(
    state: RunState, scene: Scene, cubes: Sequence[Cube], reuse: Encoders | None
) -> Encoders:
    """Pretrain the MAEs with identical steps, batch, crops and schedule.

    Three pretrainings: the spectral MAE on the target scene's own unlabelled
    pixels, the spectral MAE on the other sensors' cubes only (cross-sensor: the
    target scene is never seen), and TorchGeo's ``MAE`` task on the scene.

    Args:
        state: The run state.
        scene: The labelled scene (its image only, never its labels).
        cubes: All pretraining cubes; those not named after the scene are the
            cross-sensor pool.
        reuse: Encoders of a previous scene; the cross-sensor encoder is reused
            as is (a foundation model is pretrained once).

    Returns:
        The encoders.
    """
    cfg = state.cfg
    encoders = Encoders()
    own = [Cube(scene.name, scene.image, scene.wavelengths, 'image only')]
    others = [c for c in cubes if c.name != scene.name]
    needs_own = state.wanted(*SPECTRAL_MAE) or (
        bool(cfg.band_sets) and 'spectral_mae_probe' not in state.unavailable
    )
    if needs_own:
        with state.phase(f'pretrain spectral MAE ({scene.name} pixels)'):
            encoders.spectral_mae, log = neural.pretrain_spectral_mae(
                own, cfg, state.device, 'spectral MAE, own scene'
            )
        state.pretrain.append(log.summary())
        state.log(log.summary())
    if reuse is not None and reuse.cross_sensor is not None:
        encoders.cross_sensor = reuse.cross_sensor
    elif state.wanted(*CROSS_SENSOR):
        usable = neural.usable_cubes(others, cfg.pretrain_size)
        skipped = sorted({c.name for c in others} - {c.name for c in usable})
        if skipped:
            state.notes.append(
                f'Pretraining cubes smaller than {cfg.pretrain_size} px skipped: '
                + ', '.join(skipped)
            )
        if not usable:
            for method in CROSS_SENSOR:
                state.unavailable[method] = 'not run: no other-sensor cubes'
        else:
            with state.phase('pretrain spectral MAE (other sensors only)'):
                encoders.cross_sensor, log = neural.pretrain_spectral_mae(
                    usable, cfg, state.device, 'spectral MAE, other sensors'
                )
            state.pretrain.append(log.summary())
            state.log(log.summary())
    if state.wanted(*TORCHGEO_MAE):
        with state.phase(f'pretrain TorchGeo MAETask ({scene.name})'):
            encoders.torchgeo_mae, log = neural.pretrain_torchgeo_mae(
                own[0], cfg, state.device
            )
        state.pretrain.append(f'{log.summary()} [{scene.name} only]')
        state.log(log.summary())
    return encoders


def run_scene(
    state: RunState, scene: Scene, cubes: Sequence[Cube], reuse: Encoders | None
) -> tuple[dict[tuple[int, float], Split], Encoders]:
    """Every method of the main table on one scene.

    Args:
        state: The run state.
        scene: The labelled scene.
        cubes: Pretraining cubes.
        reuse: Encoders of a previous scene (spectral MAE reused).

    Returns:
        The splits and the encoders.
    """
    cfg = state.cfg
    with state.phase(f'splits ({scene.name})'):
        splits = make_splits(state, scene)
    with state.phase(f'classical baselines ({scene.name})'):
        run_classical(state, scene, splits, 'native')
    encoders = pretrain(state, scene, cubes, reuse)
    pixels = needed_pixels(scene, splits)
    if state.wanted(*FOUNDATION) and cfg.foundation_weights is None:
        for method in FOUNDATION:
            state.unavailable[method] = 'not run: no --foundation-weights'
    # The foundation recipe was pretrained on cubes scaled to a mean of 1 (the
    # product's SceneDataModule(normalization='scene')), not z-scored bands.
    scaled = scene_scaled(scene) if state.wanted(*FOUNDATION) else scene

    def view(kind: str) -> Scene:
        return scaled if kind.startswith('foundation') else scene

    # Method names are the encoder kind plus '_probe' or '_finetune'.
    with state.phase(f'linear probes ({scene.name})'):
        for kind in PROBED_ENCODERS:
            method, probed = f'{kind}_probe', view(kind)
            if state.wanted(method):

                def factory(
                    seed: int, kind: str = kind, probed: Scene = probed
                ) -> FeatureTable:
                    encoder = encoders.get(kind, cfg, seed)
                    return feature_table(state, encoder, probed, pixels)

                run_probe(state, probed, splits, method, cached(factory))
    for kind in FINETUNED_ENCODERS:
        method = f'{kind}_finetune'
        if state.wanted(method):
            with state.phase(f'{method} ({scene.name})'):
                run_finetune(
                    state,
                    view(kind),
                    splits,
                    method,
                    lambda seed, kind=kind: encoders.get(kind, cfg, seed),
                )
    return splits, encoders


def scene_scaled(scene: Scene) -> Scene:
    """The scene divided by its mean valid value (no per-band z-score).

    The product's ``SceneDataModule(normalization='scene')`` statistics, applied
    to the physical values; invalid pixels become 0.

    Args:
        scene: The scene.

    Returns:
        A view with the scaled ``image`` (same name, labels and bands).
    """
    from torchgeo_spectral.datamodules.scene import pixel_statistics

    stats = pixel_statistics(
        scene.raw,
        scene.valid,
        torch.as_tensor(scene.wavelengths),
        normalization='scene',
    )
    image = np.where(scene.valid, scene.raw / float(stats.std[0]), 0.0)
    return replace(scene, image=image.astype(np.float32))


# ----------------------------------------------------------------------------------
# Robustness
# ----------------------------------------------------------------------------------


def run_robustness(
    state: RunState,
    scene: Scene,
    splits: dict[tuple[int, float], Split],
    encoders: Encoders,
) -> None:
    """Accuracy against band count and for sensors unseen in pretraining.

    For each band set: a linear probe on the pretrained spectral MAE (re-fitted
    on the resampled data), the same for a random encoder, a random forest on the
    resampled spectra, and "transfer": the probe fitted on native-band features
    applied unchanged to features of the resampled test pixels.

    Args:
        state: The run state.
        scene: The native scene.
        splits: Its splits.
        encoders: Its encoders.
    """
    cfg = state.cfg
    if encoders.spectral_mae is None:
        state.notes.append('Robustness study skipped: no pretrained spectral MAE.')
        return
    pixels = needed_pixels(scene, splits)
    native = feature_table(state, encoders.spectral_mae, scene, pixels)
    for name in cfg.band_sets:
        band_set = make_band_set(scene, name)
        state.band_sets.append(band_set)
        view = resample_scene(scene, band_set)
        if view is scene:
            copy_native(state, scene, band_set.name)
            continue
        key = band_set.name
        with state.phase(f'robustness {key} ({band_set.num_bands} bands)'):
            table = feature_table(state, encoders.spectral_mae, view, pixels)
            run_probe(
                state, view, splits, 'spectral_mae_probe', lambda _, t=table: t, key
            )

            def random_table(seed: int, view: Scene = view) -> FeatureTable:
                encoder = encoders.get('random', cfg, seed)
                return feature_table(state, encoder, view, pixels)

            run_probe(state, view, splits, 'random_probe', cached(random_table), key)
            run_classical(state, view, splits, key)
            run_transfer(state, view, splits, native, table, key)


def copy_native(state: RunState, scene: Scene, key: str) -> None:
    """Reuse the main-table records as the native-band row of the robustness study.

    Args:
        state: The run state.
        scene: The scene.
        key: Band-set key of the copies.
    """
    methods = ('spectral_mae_probe', 'random_probe', *CLASSICAL_METHODS)
    copies = [
        {**r, 'band_set': key}
        for r in state.records
        if r['scene'] == scene.name
        and r['band_set'] == 'native'
        and r['method'] in methods
    ]
    state.records.extend(copies)


def run_transfer(
    state: RunState,
    view: Scene,
    splits: dict[tuple[int, float], Split],
    native: FeatureTable,
    table: FeatureTable,
    key: str,
) -> None:
    """Probe fitted on native-band features, tested on another band set.

    Args:
        state: The run state.
        view: The resampled scene.
        splits: The splits.
        native: Native-band features.
        table: Features of the resampled scene.
        key: Band-set key.
    """
    for split in splits.values():
        start = time.perf_counter()
        probe = baselines.fit_probe(
            native[split.train], view.labels[split.train], state.cfg
        )
        pred = np.asarray(probe.predict(table[split.test]), dtype=np.int64)
        state.add(
            view, key, 'spectral_mae_transfer', split, pred, time.perf_counter() - start
        )


# ----------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------


def setup(cfg: BenchConfig) -> RunState:
    """Threads, device and the run state.

    Args:
        cfg: The configuration.

    Returns:
        A fresh run state.
    """
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    state = RunState(cfg, neural.resolve_device(cfg.device))
    np.random.seed(0)
    torch.manual_seed(0)
    check_models(state)
    check_imagenet(state)
    return state


def run(cfg: BenchConfig) -> RunState:
    """Run the whole benchmark and write the report.

    Torch and BLAS/OpenMP thread pools are limited to ``cfg.threads`` (when
    positive) for the run; the torch thread count is restored afterwards.

    Args:
        cfg: The configuration.

    Returns:
        The final run state.
    """
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    try:
        state = setup(cfg)
        with threadpool_limits(limits=cfg.threads or None):
            run_all(state)
    finally:
        torch.set_num_threads(threads)
    return state


def run_all(state: RunState) -> None:
    """Main scene, robustness study, extra scenes and the report.

    Args:
        state: A fresh run state.
    """
    cfg = state.cfg
    state.log(f'device {state.device}, torch threads {torch.get_num_threads()}')
    if cfg.ablations:
        from .ablation import run_ablation

        run_ablation(state)
        return
    with state.phase('load data'):
        scene, cubes = load_main(state)
    state.log(scene.description)
    splits, encoders = run_scene(state, scene, cubes, None)
    save_partial(state)
    if cfg.band_sets and 'spectral_mae_probe' not in state.unavailable:
        run_robustness(state, scene, splits, encoders)
    for name in cfg.scenes:
        extra = load_classic_scene(cfg.data, name)
        if extra is None:
            state.notes.append(f'Scene {name!r} skipped: its files are not present.')
            continue
        state.scenes[extra.name] = extra.description
        run_scene(state, extra, cubes, encoders)
        save_partial(state)
    write_report(state)


def save_partial(state: RunState) -> None:
    """Write the raw records so far (survives an interrupted run).

    Args:
        state: The run state.
    """
    state.cfg.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(state.records).to_csv(state.cfg.out / 'accuracy_raw.csv.tmp')


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    run(parse_args(sys.argv[1:] if argv is None else argv))
    return 0
