import itertools

import numpy as np
import pytest
import rasterio
from inference_helpers import RasterFactory
from torchgeo.samplers import GriddedPatchSampler

from torchgeo_spectral.inference.engine import Blender, batch_spans
from torchgeo_spectral.inference.raster import TileReader
from torchgeo_spectral.inference.tiling import (
    _Footprint,
    blend_weights,
    clip_span,
    hann_1d,
    make_grid,
)


@pytest.mark.parametrize(
    ('height', 'width', 'tile', 'overlap'),
    [(70, 90, 32, 8), (32, 32, 64, 16), (300, 17, 16, 0), (64, 64, 64, 16)],
)
def test_grid_covers_raster(height: int, width: int, tile: int, overlap: int) -> None:
    grid = make_grid(height, width, tile, overlap)
    cover = np.zeros((height, width), dtype=int)
    for t in grid:
        r0, r1, _, _ = clip_span(t.row_off, t.row_end, height)
        c0, c1, _, _ = clip_span(t.col_off, t.col_end, width)
        cover[r0:r1, c0:c1] += 1
    assert cover.min() >= 1
    # row-major order, constant stride
    offsets = [(t.row_off, t.col_off) for t in grid]
    assert offsets == sorted(offsets)
    assert [t.index for t in grid] == list(range(len(grid)))
    rows = sorted({t.row_off for t in grid})
    assert all(b - a == tile - overlap for a, b in itertools.pairwise(rows))
    assert len(grid) == grid.n_rows * grid.n_cols


def test_grid_is_torchgeo_sampler_grid() -> None:
    grid = make_grid(70, 90, 32, 8)
    sampler = GriddedPatchSampler(_Footprint(70, 90), size=32, stride=24)
    assert len(grid) == len(list(sampler))


def test_grid_aligned_to_patches() -> None:
    grid = make_grid(37, 50, 16, 8, unit=4)
    assert all(t.row_off % 4 == 0 and t.col_off % 4 == 0 for t in grid)


@pytest.mark.parametrize(
    ('tile', 'overlap', 'unit'), [(32, 32, 1), (32, -1, 1), (30, 8, 4), (32, 6, 4)]
)
def test_grid_rejects_bad_settings(tile: int, overlap: int, unit: int) -> None:
    with pytest.raises(ValueError, match=r'overlap|multiple'):
        make_grid(100, 100, tile, overlap, unit=unit)


def test_hann_window() -> None:
    w = hann_1d(16)
    assert (w > 0).all()
    np.testing.assert_allclose(w, w[::-1])
    assert w.argmax() in (7, 8)
    flat = hann_1d(16, taper_start=False)
    assert (flat[:8] == flat.max()).all()
    np.testing.assert_allclose(flat[8:], w[8:])


def test_blend_weights_flat_on_raster_border() -> None:
    grid = make_grid(70, 90, 32, 8)
    corner = blend_weights(grid.tiles[0], grid)
    assert corner[0, 0] == corner.max()  # top-left tile: no taper at the border
    assert corner[-1, -1] < 0.01  # tapered towards its neighbours


def test_rows_final_after() -> None:
    grid = make_grid(100, 50, 32, 8)
    finals = [grid.rows_final_after(r) for r in range(grid.n_rows)]
    assert finals == sorted(finals)
    assert finals[-1] == 100
    for r in range(grid.n_rows - 1):
        assert all(t.row_off >= finals[r] for t in grid.row(r + 1))


def test_blender_pop_and_top() -> None:
    b = Blender(channels=2, height=10, width=4)
    ones = np.ones((2, 4, 4), np.float32)
    w = np.full((4, 4), 0.5, np.float32)
    valid = np.ones((4, 4), bool)
    b.add(-2, 0, ones, w, valid)  # rows -2..1: only 0, 1 inside
    b.add(1, 0, ones * 3, w, valid)
    row, acc, weight, ok = b.pop(2)
    assert row == 0
    assert acc.shape == (2, 2, 4)
    np.testing.assert_allclose(acc[0, 0] / weight[0], 1.0)
    np.testing.assert_allclose(acc[0, 1] / weight[1], 2.0)  # mean of 1 and 3
    assert ok.all()
    b.add(0, 0, ones * 100, w, valid)  # rows 0..1 already handed out: ignored
    row, acc, weight, _ = b.pop(5)
    assert row == 2
    np.testing.assert_allclose(acc[0, :2] / weight[:2], 103.0 / 2)  # 3 and 100


def test_batch_spans_split_the_first_batch_only() -> None:
    assert batch_spans(20, 8) == [(0, 2), (2, 8), (8, 16), (16, 20)]
    assert batch_spans(3, 8) == [(0, 2), (2, 3)]
    assert batch_spans(5, 1) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    for n, b in ((1, 1), (17, 4), (64, 8)):
        spans = batch_spans(n, b)
        assert [i for a, c in spans for i in range(a, c)] == list(range(n))
        assert all(a % b == 0 for a, _ in spans if a >= b)


def test_batched_reads_equal_the_raster(make_raster: RasterFactory) -> None:
    src = make_raster(height=50, width=70, bands=3)
    with rasterio.open(src, 'r+') as dst:
        data = dst.read()
        data[:, 3, 5] = -9999.0  # one nodata pixel
        dst.write(data)
    pad = 40
    full = np.zeros((3, 50 + 2 * pad, 70 + 2 * pad), np.float32)
    full[:, pad:-pad, pad:-pad] = data[[2, 0, 1]]
    inside = np.zeros(full.shape[1:], bool)
    inside[pad:-pad, pad:-pad] = True
    inside[pad + 3, pad + 5] = False
    full[:, pad + 3, pad + 5] = 0.0
    grid = make_grid(50, 70, 32, 8)
    reader = TileReader(src, -9999.0, [2, 0, 1])
    images, valid = reader.read_batch(list(grid.tiles))
    reader.close()
    for i, t in enumerate(grid.tiles):
        rows = slice(t.row_off + pad, t.row_end + pad)
        cols = slice(t.col_off + pad, t.col_end + pad)
        np.testing.assert_array_equal(images[i], full[:, rows, cols])
        np.testing.assert_array_equal(valid[i], inside[rows, cols])
