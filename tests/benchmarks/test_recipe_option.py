"""Tests of the recipe-option benchmark (benchmarks/recipe_option.py)."""

from pathlib import Path
from types import ModuleType

import pytest
from bench_helpers import import_benchmark


@pytest.fixture(scope='module')
def bench() -> ModuleType:
    return import_benchmark('benchmarks.recipe_option')


def test_paired_table_has_one_row_per_setting(bench: ModuleType) -> None:
    rows = [
        {
            'scene': 'demo',
            'normalization': 'band',
            'encoder': e,
            'seed': s,
            'off': 50.0 + s,
            'on': 50.0 + s + gain,
        }
        for e, gain in (('shipped', -2.0), ('random', 4.0))
        for s in range(3)
    ]
    lines = bench.paired_table(rows).splitlines()
    assert len(lines) == 4
    assert lines[2] == '| demo | band | random | 51.0 | 55.0 | +4.0 [+4.0, +4.0] |'
    assert lines[3] == '| demo | band | shipped | 51.0 | 49.0 | -2.0 [-2.0, -2.0] |'


@pytest.mark.parametrize('option', ['head_norm', 'head_init'])
def test_fit_pair_fine_tunes_with_the_option_off_and_on(
    bench: ModuleType, tmp_path: Path, option: str
) -> None:
    files = bench.write_demo(tmp_path)
    job = bench.Job(option, 'demo', files, 'scene', 'random', seed=0, steps=1)
    row = bench.fit_pair(job)
    assert row['scene'] == 'demo'
    assert 0.0 <= row['off'] <= 100.0
    assert 0.0 <= row['on'] <= 100.0


def test_write_scenes_skips_a_scene_without_data(
    bench: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(bench, 'DATA', tmp_path / 'missing')
    written = bench.write_scenes(['enmap', 'demo'], tmp_path)
    assert list(written) == ['demo']
    assert 'enmap: no data under' in capsys.readouterr().out


def test_demo_scene_seen_by_another_sensor(bench: ModuleType, tmp_path: Path) -> None:
    import rasterio

    written = bench.write_scenes(['demo', 'demo_rosis'], tmp_path)
    with (
        rasterio.open(written['demo']['image']) as enmap,
        rasterio.open(written['demo_rosis']['image']) as rosis,
        rasterio.open(written['demo']['labels']) as labels,
        rasterio.open(written['demo_rosis']['labels']) as rosis_labels,
    ):
        assert (enmap.count, rosis.count) == (224, 103)  # EnMAP, ROSIS bands
        assert (labels.read() == rosis_labels.read()).all()  # the same scene
    assert written['demo_rosis']['class_names'] == written['demo']['class_names']
