"""Tests of the checkpoint comparison benchmark (benchmarks/checkpoint_eval.py)."""

import re
import warnings
from pathlib import Path
from types import ModuleType

import pytest
from bench_helpers import import_benchmark


@pytest.fixture(scope='module')
def bench() -> ModuleType:
    return import_benchmark('benchmarks.checkpoint_eval')


def test_paired_table_compares_each_weights_with_random_init(bench: ModuleType) -> None:
    rows = [
        {'scene': 'demo', 'weights': w, 'seed': s, 'oa': 60.0 + s + gain}
        for w, gain in (('random', 0.0), ('/x/new.safetensors', 3.0))
        for s in range(3)
    ]
    lines = bench.paired_table(rows).splitlines()
    assert lines[2:] == [
        '| demo | random | 3 | 61.0 | - |',
        '| demo | new.safetensors | 3 | 64.0 | +3.0 [+3.0, +3.0] |',
    ]


def test_paired_table_adds_the_forest_column_when_the_forest_ran(
    bench: ModuleType,
) -> None:
    rows = [
        {'scene': 'demo', 'weights': w, 'seed': s, 'oa': 60.0 + s + gain}
        for w, gain in (('random', 0.0), ('random forest', -5.0), ('new', 3.0))
        for s in range(3)
    ]
    lines = bench.paired_table(rows).splitlines()
    assert lines[0].endswith(
        '| minus random init (95 % CI) | minus random forest (95 % CI) |'
    )
    assert lines[2:] == [
        '| demo | random | 3 | 61.0 | - | +5.0 [+5.0, +5.0] |',
        '| demo | random forest | 3 | 56.0 | -5.0 [-5.0, -5.0] | - |',
        '| demo | new | 3 | 64.0 | +3.0 [+3.0, +3.0] | +8.0 [+8.0, +8.0] |',
    ]


def test_run_fit_runs_the_demos_forest(bench: ModuleType, tmp_path: Path) -> None:
    files = bench.write_scenes(['demo'], tmp_path)['demo']
    name = 'SPECTRAL_MAE_FOUNDATION'
    row = bench.run_fit(bench.Fit('demo', files, bench.FOREST, name, seed=0))
    assert round(row['oa'], 1) == 64.3  # make demo's forest row (README)
    five = bench.Fit('demo', files, bench.FOREST, name, seed=0, labels_per_class=5)
    # the 5-labels-per-class row of benchmarks/results/checkpoint_eval.md
    assert round(bench.run_fit(five)['oa'], 1) == 53.2


def test_run_fit_runs_the_pca_svm_on_the_demos_pixels(
    bench: ModuleType, tmp_path: Path
) -> None:
    files = bench.write_scenes(['demo'], tmp_path)['demo']
    row = bench.run_fit(
        bench.Fit('demo', files, bench.SVM, 'SPECTRAL_MAE_FOUNDATION', seed=0)
    )
    # the seed-0 SVM fit of benchmarks/results/checkpoint_eval.md
    assert round(row['oa'], 1) == 71.2


def test_paired_table_adds_the_svm_column_after_the_forest(bench: ModuleType) -> None:
    rows = [
        {'scene': 'demo', 'weights': w, 'seed': s, 'oa': 60.0 + s + gain}
        for w, gain in (('random', 0.0), ('PCA + SVM', 2.0), ('random forest', -5.0))
        for s in range(2)
    ]
    header, _, *lines = bench.paired_table(rows).splitlines()
    assert header.endswith(
        '| minus random forest (95 % CI) | minus PCA + SVM (95 % CI) |'
    )
    assert lines[1] == (
        '| demo | PCA + SVM | 2 | 62.5 | +2.0 [+2.0, +2.0] | +7.0 [+7.0, +7.0] | - |'
    )


def test_paired_table_names_weights_by_path_when_file_names_repeat(
    bench: ModuleType,
) -> None:
    rows = [
        {'scene': 'demo', 'weights': w, 'seed': 0, 'oa': 60.0}
        for w in ('random', 'a/last.ckpt', 'b/last.ckpt')
    ]
    lines = bench.paired_table(rows).splitlines()
    assert [line.split(' | ')[1] for line in lines[2:]] == [
        'random',
        'a/last.ckpt',
        'b/last.ckpt',
    ]


def test_paired_table_needs_random_init_of_every_seed(bench: ModuleType) -> None:
    rows = [
        {'scene': 'demo', 'weights': 'random', 'seed': 0, 'oa': 60.0},
        {'scene': 'demo', 'weights': 'new', 'seed': 1, 'oa': 60.0},
    ]
    with pytest.raises(ValueError, match=r'demo: no random init fit for seeds \[1\]'):
        bench.paired_table(rows)


def test_run_fit_fine_tunes_the_shipped_checkpoint(
    bench: ModuleType, tmp_path: Path
) -> None:
    files = bench.write_scenes(['demo'], tmp_path)['demo']
    name = 'SPECTRAL_MAE_FOUNDATION'
    row = bench.run_fit(bench.Fit('demo', files, name, name, seed=0, steps=1))
    assert row['weights'] == name
    assert 0.0 <= row['oa'] <= 100.0


def test_run_fit_runs_a_config_through_the_command_line(
    bench: ModuleType, tmp_path: Path
) -> None:
    files = bench.write_scenes(['demo'], tmp_path)['demo']
    config = Path(__file__).parents[2] / 'conf' / 'few_label_scene_foundation.yaml'
    fit = bench.Fit(
        'demo',
        files,
        'random',
        'SPECTRAL_MAE_FOUNDATION',
        seed=0,
        config=str(config),
        overrides=('--trainer.max_steps=2',),
    )
    with warnings.catch_warnings():
        # the CLI gets its arguments as a list, not also from pytest's sys.argv
        warnings.filterwarnings('error', message="LightningCLI's args parameter")
        row = bench.run_fit(fit)
    assert row['weights'] == 'random'
    assert 0.0 <= row['oa'] <= 100.0


@pytest.mark.parametrize(
    ('option', 'message'),
    [
        (['--labels-per-class', '10'], r'--override=--data.init_args.budget=N'),
        (['--svm'], r"--svm fits on the demo settings' pixels; drop --config"),
    ],
)
def test_demo_setting_options_are_refused_with_a_config(
    bench: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: list[str],
    message: str,
) -> None:
    argv = ['checkpoint_eval', 'SPECTRAL_MAE_FOUNDATION', '--config', 'x.yaml']
    monkeypatch.setattr('sys.argv', [*argv, *option])
    with pytest.raises(SystemExit) as exc:
        bench.main()
    assert exc.value.code == 2
    assert re.search(message, capsys.readouterr().err)
