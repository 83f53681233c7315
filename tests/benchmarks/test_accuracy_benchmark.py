"""Smoke and unit tests of the accuracy benchmark (benchmarks/accuracy)."""

import time
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from bench_helpers import import_benchmark

from torchgeo_spectral.models import SpectralViT, save_encoder_weights

_import = import_benchmark


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
    cfg = bench.BenchConfig.quick(window=3, block_size=12)
    full = splits.make_split(scene, cfg, seed=0, budget=1.0)
    few = splits.make_split(scene, cfg, seed=0, budget=0.1)
    assert full.min_distance >= cfg.window
    assert len(few.train[0]) < len(full.train[0])
    np.testing.assert_array_equal(few.test[0], full.test[0])


def test_per_class_budget_is_capped_at_what_a_class_has(bench: ModuleType) -> None:
    data = _import('benchmarks.accuracy.data')
    splits = _import('benchmarks.accuracy.splits')
    scene = data.synthetic_scene(size=48, bands=12)
    cfg = bench.BenchConfig.quick(window=3, block_size=12)
    full = splits.make_split(scene, cfg, seed=0, budget=1.0)
    available = np.bincount(scene.labels[full.train], minlength=7)[1:]
    few = splits.make_split(scene, cfg, seed=0, budget=10.0)
    kept = np.bincount(scene.labels[few.train], minlength=7)[1:]
    np.testing.assert_array_equal(kept, np.minimum(available, 10))
    huge = splits.make_split(scene, cfg, seed=0, budget=10**6)
    assert len(huge.train[0]) == len(full.train[0])


def test_centre_pool_needs_the_pixel_in_the_centre_token(bench: ModuleType) -> None:
    with pytest.raises(ValueError, match='odd number of patches'):
        bench.BenchConfig(window=4, patch_size=1)
    with pytest.raises(ValueError, match='odd number of patches'):
        bench.BenchConfig(window=4, patch_size=2)
    bench.BenchConfig(window=4, patch_size=2, pool='mean')
    bench.BenchConfig(window=9, patch_size=3)


def test_pixel_feature_is_its_own_token() -> None:
    neural = _import('benchmarks.accuracy.neural')
    fmap = torch.arange(2 * 3 * 9, dtype=torch.float32).reshape(2, 3, 3, 3)
    centre = neural.pool_feature_map(fmap, 'center')
    torch.testing.assert_close(centre, fmap[:, :, 1, 1])
    torch.testing.assert_close(neural.pool_feature_map(fmap, 'mean'), fmap.mean((2, 3)))
    with pytest.raises(ValueError, match='odd feature map'):
        neural.pool_feature_map(fmap[:, :, :2, :2], 'center')


def test_spectral_encoder_centre_feature_ignores_neighbours(bench: ModuleType) -> None:
    neural = _import('benchmarks.accuracy.neural')
    cfg = bench.BenchConfig.quick()
    encoder = neural.build_spectral_encoder(cfg, 0).eval()
    wavelengths = torch.linspace(450.0, 900.0, 8)
    x = torch.randn(1, 8, 3, 3)
    y = x.clone()
    y[:, :, 0, 0] += 5.0  # a neighbour changes, the centre pixel does not
    with torch.no_grad():
        a = encoder.features(x, wavelengths)
        b = encoder.features(y, wavelengths)
        z = x.clone()
        z[:, :, 1, 1] += 5.0
        c = encoder.features(z, wavelengths)
    assert a.shape == (1, cfg.embed_dim)
    # Attention mixes context in, but the pixel's own spectrum dominates its token.
    assert (a - c).norm() > (a - b).norm()


def test_window_mean_ignores_invalid_pixels() -> None:
    baselines = _import('benchmarks.accuracy.baselines')
    image = np.ones((2, 4, 4), dtype=np.float32)
    image[:, 0, 0] = 100.0
    valid = np.ones((4, 4), dtype=bool)
    valid[0, 0] = False
    smooth = baselines.window_mean(image, valid, 3)
    np.testing.assert_allclose(smooth, 1.0)


def _few_labels(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ten labels of two classes and a single label of a third, in 20 dims."""
    y = np.array([0] * 10 + [1] * 10 + [2])
    x = rng.normal(size=(len(y), 20)).astype(np.float32) + y[:, None]
    return x, y


def test_probe_picks_its_c_by_cross_validation_on_training_labels(
    bench: ModuleType,
) -> None:
    baselines = _import('benchmarks.accuracy.baselines')
    x, y = _few_labels(np.random.default_rng(0))
    cfg = bench.BenchConfig.quick()
    assert cfg.probe_c is None
    assert cfg.svm_c is None
    with warnings.catch_warnings():
        # a class with one label is expected at 1 % budgets: no warning escapes
        warnings.simplefilter('error')
        probe = baselines.fit_probe(x, y, cfg)
        # as many components as labels: each fold's PCA must fit on fewer
        svm = baselines.pca_svm(
            x, y, x, bench.BenchConfig.quick(pca_components=len(y)), seed=0
        )
    tried = probe.cv_results_['param_logisticregression__C']
    assert list(tried) == list(baselines.PROBE_C_GRID)
    assert probe.best_params_['logisticregression__C'] in baselines.PROBE_C_GRID
    assert set(np.unique(probe.predict(x))) <= {0, 1, 2}
    assert svm.shape == y.shape


def test_cross_validation_folds_keep_two_classes_in_every_training_fold() -> None:
    baselines = _import('benchmarks.accuracy.baselines')
    assert baselines.cv_folds(np.array([0] * 10 + [1] * 10 + [2])) == 3
    # two labels in each class: two folds, each training fold sees every class
    assert baselines.cv_folds(np.array([0, 0, 1, 1, 2, 2])) == 2
    # only one class has two labels: no folds, the fit keeps the default C
    assert baselines.cv_folds(np.array([0, 0, 0, 1, 2])) == 0
    assert baselines.cv_folds(np.array([0, 0, 0])) == 0


def test_probe_without_enough_labels_for_folds_uses_the_default_c(
    bench: ModuleType,
) -> None:
    baselines = _import('benchmarks.accuracy.baselines')
    x = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
    probe = baselines.fit_probe(x, np.array([0, 0, 0, 1, 2]), bench.BenchConfig.quick())
    assert probe.get_params()['logisticregression__C'] == 1.0


def test_probe_keeps_a_fixed_c(bench: ModuleType) -> None:
    baselines = _import('benchmarks.accuracy.baselines')
    x, y = _few_labels(np.random.default_rng(1))
    cfg = bench.BenchConfig.quick(probe_c=0.5)
    probe = baselines.fit_probe(x, y, cfg)
    assert probe.get_params()['logisticregression__C'] == 0.5
    assert not hasattr(probe, 'cv_results_')


def test_bootstrap_ci_brackets_the_mean() -> None:
    metrics = _import('benchmarks.accuracy.metrics')
    diffs = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    mean, low, high = metrics.bootstrap_ci(diffs)
    assert mean == pytest.approx(5.5)
    assert 3.0 < low < mean < high < 8.0
    assert metrics.bootstrap_ci(np.array([2.0])) == (2.0, 2.0, 2.0)


def test_paired_differences_match_by_seed() -> None:
    import pandas as pd

    report = _import('benchmarks.accuracy.report')
    rows = []
    for seed in range(5):
        for method, oa in (('spectral_mae_finetune', 0.6), ('random_finetune', 0.5)):
            rows.append(
                {
                    'scene': 's',
                    'band_set': 'native',
                    'method': method,
                    'budget': 0.01,
                    'seed': seed,
                    'oa': oa + 0.01 * seed,
                }
            )
    paired = report.paired_differences(pd.DataFrame(rows))
    assert list(paired.columns[:7]) == [
        'scene',
        'budget',
        'method',
        'baseline',
        'mean_diff',
        'ci_low',
        'ci_high',
    ]
    (row,) = paired.itertuples()
    assert row.budget == '1%'
    assert row.mean_diff == pytest.approx(10.0)
    assert row.ci_low == pytest.approx(10.0)
    assert row.ci_high == pytest.approx(10.0)


def test_imagenet_row_is_skipped_without_weights(bench: ModuleType) -> None:
    runner = _import('benchmarks.accuracy.runner')
    state = runner.setup(bench.BenchConfig.smoke(threads=0))
    assert 'cannot be downloaded' in state.unavailable['imagenet_finetune']


def test_smoke_run_writes_report(bench: ModuleType, tmp_path: Path) -> None:
    from timm.models.vision_transformer import VisionTransformer

    config = _import('benchmarks.accuracy.config')
    smoke = bench.BenchConfig.quick()
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
    # A stand-in for the foundation recipe's weights (another architecture).
    foundation = tmp_path / 'foundation.pt'
    save_encoder_weights(
        SpectralViT(
            embed_dim=16, depth=1, num_heads=2, patch_size=1, projection='wavelength'
        ),
        foundation,
    )
    argv = [
        '--quick',
        '--data',
        str(data),
        '--out',
        str(tmp_path / 'out'),
        '--foundation-weights',
        str(foundation),
    ]
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
    assert 'Paired differences' in text
    assert 'Spectral MAE on other sensors only, fine-tune' in text
    assert 'pixel + window-mean spectra' in text
    assert 'Foundation recipe (spectral_vit_nano), fine-tune' in text
    assert 'spectral_vit_nano, random init, linear probe' in text
    paired = (out / 'accuracy_paired.csv').read_text().splitlines()[0]
    assert paired.startswith('scene,budget,method,baseline,mean_diff,ci_low,ci_high')
    assert (out / 'accuracy_budgets.png').stat().st_size > 0
    assert (out / 'accuracy_bands.png').stat().st_size > 0
    assert (out / 'accuracy.csv').exists()
    assert torch.get_num_threads() == threads  # restored after the run
    print(f'smoke run: {elapsed:.1f} s')


def test_ablation_variants_map_to_product_options(bench: ModuleType) -> None:
    ablation = _import('benchmarks.accuracy.ablation')
    config = _import('benchmarks.accuracy.config')
    variants = ablation.variants()
    assert tuple(variants) == config.ALL_ABLATIONS
    for variant in variants.values():
        if not variant.unavailable:
            # Every available variant is a valid configuration of the benchmark.
            bench.BenchConfig.quick(**variant.overrides)
    assert variants['norm_pix_target'].overrides == {'norm_pix_loss': True}
    assert not variants['window_mean_features'].pretrains
    assert not variants['head_norm'].pretrains
    assert variants['probe_head_init'].overrides == {'head_init': 'probe'}


def test_variant_options_reach_the_mae_and_the_head(bench: ModuleType) -> None:
    from torchgeo_spectral.models.heads import HeadNorm

    neural = _import('benchmarks.accuracy.neural')
    ablation = _import('benchmarks.accuracy.ablation')
    quick = bench.BenchConfig.quick
    assert neural._build_spectral_mae(quick()).target == 'pixels'
    assert neural._build_spectral_mae(quick(norm_pix_loss=True)).target == 'normalized'
    shape = ablation.variants()['shape_stats_target'].overrides
    assert neural._build_spectral_mae(quick(**shape)).target == 'normalized+stats'
    assert neural._build_spectral_mae(quick()).visible_loss_weight == 0.0
    visible = ablation.variants()['visible_loss'].overrides
    assert neural._build_spectral_mae(quick(**visible)).visible_loss_weight == 1.0
    deep = ablation.variants()['deep_decoder'].overrides
    assert len(neural._build_spectral_mae(quick()).decoder_blocks) == 1
    assert len(neural._build_spectral_mae(quick(**deep)).decoder_blocks) == 4
    encoder = neural.SpectralEncoder(
        SpectralViT(
            patch_size=1, bands_per_token=4, embed_dim=16, depth=1, num_heads=2
        ),
        'center',
    )
    assert isinstance(neural.WindowClassifier(encoder, 3, norm=True).norm, HeadNorm)
    plain = neural.WindowClassifier(encoder, 3, norm=False)
    assert isinstance(plain.norm, torch.nn.Identity)
    assert plain.classify(torch.zeros(2, 16)).shape == (2, 3)


def test_probe_head_init_fits_the_training_pixels_before_fine_tuning(
    bench: ModuleType,
) -> None:
    neural = _import('benchmarks.accuracy.neural')
    rng = np.random.default_rng(0)
    image = rng.random((8, 6, 6)).astype(np.float32)
    source = neural.WindowSource(
        image, np.linspace(450.0, 900.0, 8), 1, torch.device('cpu')
    )
    train = (np.repeat(np.arange(3), 3), np.tile(np.arange(3), 3))
    targets = rng.integers(0, 3, 9)
    accuracy = {}
    for head_init in ('random', 'probe'):
        cfg = bench.BenchConfig.quick(
            head_init=head_init, probe_steps=0, finetune_steps=0
        )
        encoder = neural.build_spectral_encoder(cfg, 0)
        model = neural.finetune(encoder, source, train, targets, 3, cfg, seed=0)
        predicted = neural.predict(model, source, train, batch=16)
        accuracy[head_init] = float((predicted == targets).mean())
    # 9 random labels are linearly separable in 16 feature dimensions
    assert accuracy['probe'] == 1.0
    assert accuracy['random'] < 1.0


def test_compare_pairs_runs_seed_by_seed() -> None:
    import pandas as pd

    compare = _import('benchmarks.accuracy.compare')
    keys = {'scene': 'enmap_potsdam', 'band_set': 'native', 'budget': 10.0}
    base = pd.DataFrame(
        [{**keys, 'method': m, 'seed': s, 'oa': 0.5} for m in 'ab' for s in (0, 1)]
    )
    new = base.copy()
    new.loc[new['method'] == 'b', 'oa'] = [0.52, 0.54]
    lines = compare.paired_rows(base, new)
    assert len(lines) == 3  # header, rule and the one row that changed
    assert lines[2] == '| native | b | 10 | 50.0 | 53.0 | +3.0 [+2.0, +4.0] | 2 |'


def test_ablation_table_pairs_each_variant_with_the_recipe() -> None:
    import pandas as pd

    ablation = _import('benchmarks.accuracy.ablation')
    rows = [
        {
            'variant': variant,
            'init': 'pretrained',
            'method': method,
            'budget': 0.01,
            'seed': seed,
            'oa': oa + 0.01 * seed,
        }
        for variant, oa in (('recipe', 0.7), ('norm_pix_target', 0.6))
        for method in ('probe', 'finetune')
        for seed in range(3)
    ]
    table = ablation.ablation_table(pd.DataFrame(rows), ablation.variants())
    (norm_row,) = [line for line in table.splitlines() if 'norm_pix_target' in line]
    assert '61.0 (-10.0 [-10.0, -10.0])' in norm_row
    assert 'the product has no switch' in table


def test_pretraining_seed_is_set_from_the_command_line() -> None:
    # a "met" target should hold for another pretraining run, not only seed 0
    config = _import('benchmarks.accuracy.config')
    assert config.parse_args(['--pretrain-seed', '2']).pretrain_seed == 2
    assert config.parse_args([]).pretrain_seed == 0
    with pytest.raises(ValueError, match=r'seeds must be >= 0, got \[-1\]'):
        config.parse_args(['--pretrain-seed', '-1'])


def test_wall_time_target_is_checked_for_the_default_run_only(
    bench: ModuleType,
) -> None:
    report = _import('benchmarks.accuracy.report')
    assert report.is_default(bench.BenchConfig(command='x'))
    assert not report.is_default(bench.BenchConfig.quick())


def test_help_lines_compare_with_random_init_only() -> None:
    import pandas as pd

    report = _import('benchmarks.accuracy.report')
    paired = pd.DataFrame(
        [
            ('s', '1%', 'spectral_mae_finetune', 'random_finetune', 2.0, 1.0, 3.0),
            ('s', '1%', 'spectral_mae_finetune', 'random_forest', -4.0, -5.0, -3.0),
        ],
        columns=list(report.PAIRED_COLUMNS[:7]),
    )
    (line,) = report.help_lines(paired)
    assert '**helps** vs random init (+2.0 OA' in line
