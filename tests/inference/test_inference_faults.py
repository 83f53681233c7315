"""Nothing lost: outputs that are inputs, stale resumes and failing writes."""

import errno
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from inference_helpers import FailingModel, PointwiseModel, RasterFactory, read
from rasterio._err import CPLE_AppDefinedError

from torchgeo_spectral.inference import (
    OutputWriteError,
    export_embeddings,
    make_grid,
    predict_raster,
)
from torchgeo_spectral.inference.engine import batch_spans
from torchgeo_spectral.inference.writer import file_fingerprint, partial_path

SETTINGS: dict[str, Any] = {
    'tile_size': 32,
    'overlap': 8,
    'batch_size': 4,
    'progress': False,
}


def progress_file(path: Path) -> Path:
    return path.with_name(f'.{path.name}.progress.json')


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize('how', ['same', 'symlink', 'hardlink', 'relative'])
def test_output_that_is_the_input_is_refused(
    make_raster: RasterFactory, tmp_path: Path, how: str
) -> None:
    src = make_raster(height=20, width=20, bands=4)
    before = src.read_bytes()
    out = {
        'same': src,
        'symlink': tmp_path / 'link.tif',
        'hardlink': tmp_path / 'hard.tif',
        'relative': tmp_path / '.' / src.name,
    }[how]
    if how == 'symlink':
        out.symlink_to(src)
    elif how == 'hardlink':
        os.link(src, out)
    files = listing(tmp_path)
    model = PointwiseModel(4, 2)
    with pytest.raises(ValueError, match='refusing to write over an input'):
        predict_raster(model, src, out, overwrite=True, **SETTINGS)
    with pytest.raises(ValueError, match='refusing to write over an input'):
        predict_raster(
            model,
            src,
            tmp_path / 'm.tif',
            probabilities=out,
            overwrite=True,
            **SETTINGS,
        )
    with pytest.raises(ValueError, match='refusing to write over an input'):
        export_embeddings(model, src, out, overwrite=True, **SETTINGS)
    with pytest.raises(ValueError, match='refusing to write over an input'):
        export_embeddings(model, src, tiles_output=out, overwrite=True, **SETTINGS)
    assert model.calls == 0
    assert src.read_bytes() == before
    assert listing(tmp_path) == files  # nothing written, not even a progress file


def test_two_outputs_on_one_file_refused(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=20, width=20, bands=4)
    out = tmp_path / 'm.tif'
    with pytest.raises(ValueError, match='are the same file'):
        predict_raster(PointwiseModel(4, 2), src, out, probabilities=out, **SETTINGS)


def interrupted(src: Path, out: Path) -> None:
    """Run a prediction of a 300-row raster that stops at its last batch."""
    with rasterio.open(src) as ds:
        grid = make_grid(
            ds.height, ds.width, SETTINGS['tile_size'], SETTINGS['overlap']
        )
    last = len(batch_spans(len(grid), SETTINGS['batch_size']))
    with pytest.raises(KeyboardInterrupt):
        predict_raster(FailingModel(4, 3, fail_at=last), src, out, **SETTINGS)
    assert json.loads(progress_file(out).read_text())['rows_done'] == 256


def test_resume_refuses_a_changed_input(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=300, width=32, bands=4)
    out = tmp_path / 'map.tif'
    interrupted(src, out)
    # same shape, same size on disk, new pixels
    with rasterio.open(src, 'r+') as dst:
        data = dst.read()
        dst.write(data[:, ::-1].copy())
    with pytest.raises(ValueError, match=r'input raster .*scene.tif changed') as err:
        predict_raster(PointwiseModel(4, 3), src, out, resume=True, **SETTINGS)
    assert '\n' not in str(err.value)
    assert partial_path(out).exists()  # the refusal destroys nothing


def test_resume_refuses_changed_options_naming_them(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=300, width=32, bands=4)
    out = tmp_path / 'map.tif'
    interrupted(src, out)
    with pytest.raises(ValueError, match=r'batch_size was 4, now 2'):
        predict_raster(
            PointwiseModel(4, 3), src, out, resume=True, **{**SETTINGS, 'batch_size': 2}
        )
    with pytest.raises(ValueError, match=r'wavelengths was'):
        predict_raster(
            PointwiseModel(4, 3),
            src,
            out,
            resume=True,
            wavelengths=[500.0, 600.0, 700.0, 800.0],
            **SETTINGS,
        )


def test_fingerprint_sees_sampled_blocks_of_large_files(tmp_path: Path) -> None:
    path = tmp_path / 'big.bin'
    data = bytearray(6 << 20)
    path.write_bytes(bytes(data))
    first = file_fingerprint(path)
    data[-10] = 1  # the last block is always sampled
    path.write_bytes(bytes(data))
    os.utime(path, ns=(first['mtime_ns'], first['mtime_ns']))
    second = file_fingerprint(path)
    assert second['size'] == first['size']
    assert second['mtime_ns'] == first['mtime_ns']
    assert second['sha256'] != first['sha256']


def failing_write(
    monkeypatch: pytest.MonkeyPatch, fail_at: int, error: BaseException
) -> list[int]:
    """Make the ``fail_at``-th GeoTIFF block write fail like a full disk."""
    original = rasterio.io.DatasetWriter.write
    calls = [0]

    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == fail_at:
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetWriter, 'write', write)
    return calls


@pytest.mark.parametrize(
    'error',
    [
        OSError(errno.ENOSPC, 'No space left on device'),
        CPLE_AppDefinedError(3, 1, 'TIFFAppendToStrip:Write error at scanline 1'),
    ],
    ids=['ENOSPC', 'CPLE_AppDefinedError'],
)
def test_disk_full_cleans_up_and_resume_works(
    make_raster: RasterFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
) -> None:
    src = make_raster(height=300, width=32, bands=4)
    ref, ref_p = tmp_path / 'ref.tif', tmp_path / 'ref_p.tif'
    predict_raster(PointwiseModel(4, 3), src, ref, probabilities=ref_p, **SETTINGS)
    out, probs = tmp_path / 'map.tif', tmp_path / 'probs.tif'
    # block 1 writes the map then the probabilities; the map of block 2 fails
    with monkeypatch.context() as patch:
        failing_write(patch, 3, error)
        with pytest.raises(OutputWriteError, match=r'cannot write .*map.tif.partial'):
            predict_raster(
                PointwiseModel(4, 3), src, out, probabilities=probs, **SETTINGS
            )
    for path in (out, probs):
        assert not path.exists()
        assert not partial_path(path).exists()  # the space is given back
    state = json.loads(progress_file(out).read_text())
    assert state['rows_done'] == 0  # true to what is on disk
    predict_raster(
        PointwiseModel(4, 3), src, out, probabilities=probs, resume=True, **SETTINGS
    )
    for a, b in ((ref, out), (ref_p, probs)):
        np.testing.assert_array_equal(read(b)[0], read(a)[0])
    assert not progress_file(out).exists()


def test_embedding_write_failure_leaves_nothing(
    make_raster: RasterFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_raster(height=40, width=40, bands=4)
    files = listing(tmp_path)
    failing_write(monkeypatch, 1, OSError(errno.ENOSPC, 'No space left on device'))
    with pytest.raises(OutputWriteError, match='No space left on device'):
        export_embeddings(
            PointwiseModel(4, 5),
            src,
            tmp_path / 'emb.tif',
            tiles_output=tmp_path / 'tiles.parquet',
            **SETTINGS,
        )
    assert listing(tmp_path) == files
