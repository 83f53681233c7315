"""Smoke and unit tests of the accuracy benchmark (benchmarks/accuracy)."""

import importlib
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _import(name: str) -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)


@pytest.fixture(scope='module')
def bench() -> ModuleType:
    return _import('benchmarks.accuracy')


def test_scores_perfect_and_chance() -> None:
    metrics = _import('benchmarks.accuracy.metrics')
    y = np.array([1, 1, 2, 2, 3, 3])
    perfect = metrics.scores(y, y)
    assert perfect == {'oa': 1.0, 'aa': 1.0, 'kappa': 1.0, 'f1': 1.0}
    constant = metrics.scores(y, np.ones_like(y))
    assert constant['oa'] == pytest.approx(1 / 3)
    assert constant['aa'] == pytest.approx(1 / 3)
    assert constant['kappa'] == pytest.approx(0.0)


def test_mask_ratios_combine_to_total() -> None:
    neural = _import('benchmarks.accuracy.neural')
    spatial, spectral = neural.mask_ratios(0.75)
    assert spatial == pytest.approx(0.5)
    assert 1 - (1 - spatial) * (1 - spectral) == pytest.approx(0.75)


def test_windows_are_centred_on_pixels() -> None:
    neural = _import('benchmarks.accuracy.neural')
    image = np.arange(2 * 6 * 7, dtype=np.float32).reshape(2, 6, 7)
    source = neural.WindowSource(
        image, np.array([500.0, 600.0]), 4, torch.device('cpu')
    )
    rows, cols = np.array([0, 3, 5]), np.array([0, 4, 6])
    windows = source.windows(rows, cols)
    assert windows.shape == (3, 2, 4, 4)
    centre = windows[:, :, 2, 2].numpy()
    np.testing.assert_array_equal(centre, image[:, rows, cols].T)


def test_split_keeps_windows_apart(bench: ModuleType) -> None:
    data = _import('benchmarks.accuracy.data')
    splits = _import('benchmarks.accuracy.splits')
    scene = data.synthetic_scene(size=48, bands=12)
    cfg = bench.BenchConfig.smoke(window=4, block_size=12)
    full = splits.make_split(scene, cfg, seed=0, budget=1.0)
    few = splits.make_split(scene, cfg, seed=0, budget=0.1)
    assert full.min_distance >= cfg.window
    assert len(few.train[0]) < len(full.train[0])
    np.testing.assert_array_equal(few.test[0], full.test[0])


def test_imagenet_row_is_skipped_without_weights(bench: ModuleType) -> None:
    runner = _import('benchmarks.accuracy.runner')
    state = runner.setup(bench.BenchConfig.smoke(threads=0))
    assert 'cannot be downloaded' in state.unavailable['imagenet_finetune']


def test_smoke_run_writes_report(bench: ModuleType, tmp_path: Path) -> None:
    from timm.models.vision_transformer import VisionTransformer

    config = _import('benchmarks.accuracy.config')
    smoke = bench.BenchConfig.smoke()
    data = config.default_data_dir()
    if not (data / 'enmap_potsdam').is_dir():
        data = tmp_path / 'no-data'  # synthetic scene
    # A stand-in for ImageNet weights with the smoke ViT's width and depth.
    fake = VisionTransformer(
        img_size=32,
        patch_size=16,
        embed_dim=smoke.embed_dim,
        depth=smoke.depth,
        num_heads=smoke.num_heads,
    )
    weights = tmp_path / 'vit.pth'
    torch.save(fake.state_dict(), weights)
    argv = ['--smoke', '--data', str(data), '--out', str(tmp_path / 'out')]
    threads = torch.get_num_threads()
    start = time.perf_counter()
    status = bench.main([*argv, '--imagenet-weights', str(weights)])
    elapsed = time.perf_counter() - start
    assert status == 0
    out = tmp_path / 'out'
    text = (out / 'accuracy.md').read_text()
    assert 'SMOKE RUN' in text
    assert 'Random forest' in text
    assert f'ImageNet-transfer row initialised from {weights}' in text
    assert 'Goal check' in text
    assert 'min train-test distance' in text
    assert (out / 'accuracy_budgets.png').stat().st_size > 0
    assert (out / 'accuracy_bands.png').stat().st_size > 0
    assert (out / 'accuracy.csv').exists()
    assert torch.get_num_threads() == threads  # restored after the run
    print(f'smoke run: {elapsed:.1f} s')
