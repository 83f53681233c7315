import json
from pathlib import Path

import numpy as np
import pytest
from inference_helpers import FailingModel, PointwiseModel, RasterFactory, read

from torchgeo_spectral.inference import predict_raster
from torchgeo_spectral.inference.writer import partial_path

SETTINGS = {'tile_size': 32, 'overlap': 8, 'batch_size': 2, 'progress': False}


def progress_file(path: Path) -> Path:
    return path.with_name(f'.{path.name}.progress.json')


def test_interrupted_run_leaves_no_final_file_and_resumes_identically(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=600, width=40, bands=4)
    full = tmp_path / 'full.tif'
    full_p = tmp_path / 'full_p.tif'
    predict_raster(PointwiseModel(4, 3), src, full, probabilities=full_p, **SETTINGS)

    out, probs = tmp_path / 'map.tif', tmp_path / 'probs.tif'
    with pytest.raises(KeyboardInterrupt):
        predict_raster(
            FailingModel(4, 3, fail_at=20), src, out, probabilities=probs, **SETTINGS
        )
    assert not out.exists()
    assert not probs.exists()
    assert partial_path(out).exists()
    assert partial_path(probs).exists()
    state = json.loads(progress_file(out).read_text())
    assert 256 <= state['rows_done'] < 600  # at least one block row is final

    model = PointwiseModel(4, 3)
    result = predict_raster(
        model, src, out, probabilities=probs, resume=True, **SETTINGS
    )
    assert 0 < result.tiles_run < result.tiles  # finished tiles were skipped
    assert out.exists()
    assert probs.exists()
    assert not partial_path(out).exists()
    assert not progress_file(out).exists()
    for a, b in ((full, out), (full_p, probs)):
        expected, eprof = read(a)
        got, gprof = read(b)
        np.testing.assert_array_equal(got, expected)
        assert eprof == gprof


def test_interrupt_before_first_block_then_resume(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=60, width=40, bands=4)
    out = tmp_path / 'map.tif'
    with pytest.raises(KeyboardInterrupt):
        predict_raster(FailingModel(4, 3, fail_at=2), src, out, **SETTINGS)
    assert not out.exists()
    predict_raster(PointwiseModel(4, 3), src, out, resume=True, **SETTINGS)
    predict_raster(PointwiseModel(4, 3), src, tmp_path / 'ref.tif', **SETTINGS)
    np.testing.assert_array_equal(read(out)[0], read(tmp_path / 'ref.tif')[0])


def test_resume_with_other_settings_is_refused(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=300, width=40, bands=4)
    out = tmp_path / 'map.tif'
    with pytest.raises(KeyboardInterrupt):
        predict_raster(FailingModel(4, 3, fail_at=12), src, out, **SETTINGS)
    other = {**SETTINGS, 'overlap': 4}
    with pytest.raises(ValueError, match='other settings'):
        predict_raster(PointwiseModel(4, 3), src, out, resume=True, **other)


def test_resume_without_partial_is_refused(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=20, width=20, bands=4)
    with pytest.raises(FileNotFoundError, match='nothing to resume'):
        predict_raster(
            PointwiseModel(4, 3), src, tmp_path / 'm.tif', resume=True, **SETTINGS
        )
