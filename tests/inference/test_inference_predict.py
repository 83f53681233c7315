from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from inference_helpers import PointwiseModel, RasterFactory, read, write_raster
from torch import Tensor, nn

from torchgeo_spectral.inference import ModelInfo, make_grid, predict_raster


def reference(model: nn.Module, path: Path) -> Tensor:
    """The model run once on the whole raster (nodata zeroed)."""
    with rasterio.open(path) as src:
        data = src.read().astype('float32')
        if src.nodata is not None:
            data[data == src.nodata] = 0
    with torch.no_grad():
        out: Tensor = model.conv(torch.from_numpy(data)[None])[0]
    return out


def test_outputs_georeferenced_like_input(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=70, width=90)
    model = PointwiseModel(6, 4)
    result = predict_raster(
        model,
        src,
        tmp_path / 'map.tif',
        probabilities=tmp_path / 'probs.tif',
        tile_size=32,
        overlap=8,
        batch_size=4,
        progress=False,
    )
    assert result.num_classes == 4
    assert result.tiles == result.tiles_run == len(make_grid(70, 90, 32, 8))
    classes, cprof = read(tmp_path / 'map.tif')
    probs, pprof = read(tmp_path / 'probs.tif')
    with rasterio.open(src) as s, rasterio.open(tmp_path / 'map.tif') as m:
        assert m.crs == s.crs
        assert m.transform == s.transform
        assert (m.height, m.width) == (s.height, s.width)
        assert m.colormap(1)[0][3] == 255
        assert m.profile['tiled']
        assert m.profile['compress'] == 'deflate'
        assert m.block_shapes[0] == (256, 256)
    assert cprof['dtype'] == 'uint8'
    assert cprof['nodata'] == 255
    assert pprof['dtype'] == 'float32'
    assert pprof['count'] == 4
    assert pprof['nodata'] == -9999.0  # the input's nodata
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=1e-5)
    # a pointwise model: blending reproduces it exactly, seams included
    ref = reference(model, src)
    np.testing.assert_array_equal(classes[0], ref.argmax(0).numpy())
    np.testing.assert_allclose(probs, ref.softmax(0).numpy(), atol=1e-5)
    assert not list(tmp_path.glob('.*'))  # no partial or progress file left


class ConvModel(nn.Module):
    """A 3x3 convolution: tile edges (zero padding) differ from the full raster."""

    def __init__(self, bands: int, classes: int) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(bands, classes, 3, padding=1)

    def forward(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        out: Tensor = self.conv(x)
        return out


def test_tile_prediction_equals_model_away_from_seams(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    height, width, tile, overlap = 80, 75, 32, 12
    src = make_raster(height=height, width=width, nodata=None)
    model = ConvModel(6, 3)
    predict_raster(
        model,
        src,
        tmp_path / 'map.tif',
        probabilities=tmp_path / 'p.tif',
        tile_size=tile,
        overlap=overlap,
        progress=False,
    )
    probs, _ = read(tmp_path / 'p.tif')
    ref = reference(model, src).softmax(0).numpy()
    # pixels next to an inner tile edge (a seam) see zero padding in that tile
    seam = np.zeros((height, width), bool)
    for t in make_grid(height, width, tile, overlap):
        for r in (t.row_off, t.row_end - 1):
            if 0 <= r < height:
                seam[r, max(t.col_off, 0) : max(t.col_end, 0)] = True
        for c in (t.col_off, t.col_end - 1):
            if 0 <= c < width:
                seam[max(t.row_off, 0) : max(t.row_end, 0), c] = True
    assert 0.05 < seam.mean() < 0.5
    np.testing.assert_allclose(probs[:, ~seam], ref[:, ~seam], atol=1e-5)
    # at seams the blend stays close to the model (the Hann weight is tiny there)
    assert np.abs(probs - ref).max() < 0.2


def test_patch_resolution_output_is_upsampled(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=40, width=40)

    def coarse(x: Tensor, wavelengths: Tensor) -> Tensor:
        return nn.functional.avg_pool2d(x[:, :3], 4)

    info = ModelInfo(patch_size=4)
    predict_raster(
        coarse,
        src,
        tmp_path / 'm.tif',
        info=info,
        tile_size=16,
        overlap=8,
        progress=False,
    )
    classes, _prof = read(tmp_path / 'm.tif')
    assert classes.shape == (1, 40, 40)
    assert classes.max() < 3


def test_nodata_pixels_masked(make_raster: RasterFactory, tmp_path: Path) -> None:
    src = make_raster(height=40, width=40)
    with rasterio.open(src, 'r+') as dst:
        data = dst.read()
        data[:, :5, :7] = -9999.0
        dst.write(data)
    predict_raster(
        PointwiseModel(6, 3),
        src,
        tmp_path / 'm.tif',
        probabilities=tmp_path / 'p.tif',
        tile_size=16,
        overlap=4,
        progress=False,
    )
    classes, _ = read(tmp_path / 'm.tif')
    probs, _ = read(tmp_path / 'p.tif')
    assert (classes[0, :5, :7] == 255).all()
    assert (classes[0, 5:] < 3).all()
    assert (probs[:, :5, :7] == -9999.0).all()


def test_many_classes_use_uint16(make_raster: RasterFactory, tmp_path: Path) -> None:
    src = make_raster(height=20, width=20, bands=3)
    predict_raster(
        PointwiseModel(3, 300),
        src,
        tmp_path / 'm.tif',
        tile_size=16,
        overlap=4,
        progress=False,
    )
    classes, prof = read(tmp_path / 'm.tif')
    assert prof['dtype'] == 'uint16'
    assert prof['nodata'] == 65535
    assert classes.max() < 300


def test_raster_without_crs(make_raster: RasterFactory, tmp_path: Path) -> None:
    src = make_raster(height=24, width=24, crs=None)
    with pytest.warns(UserWarning, match='no CRS'):
        predict_raster(
            PointwiseModel(6, 2),
            src,
            tmp_path / 'm.tif',
            tile_size=16,
            overlap=4,
            progress=False,
        )
    with rasterio.open(tmp_path / 'm.tif') as m:
        assert m.crs is None
        assert m.shape == (24, 24)


def test_bands_fed_in_wavelength_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(size=(4, 20, 20)).astype('float32')
    wl = [900.0, 450.0, 600.0, 750.0]  # stored unsorted, as EnMAP's VNIR/SWIR
    src = write_raster(tmp_path / 'unsorted.tif', data, wavelengths=wl)
    seen: list[Tensor] = []
    model = PointwiseModel(4, 3)

    def predictor(x: Tensor, wavelengths: Tensor) -> Tensor:
        seen.append(wavelengths)
        return model(x, wavelengths)

    predict_raster(
        predictor,
        src,
        tmp_path / 'p.tif',
        probabilities=tmp_path / 'pp.tif',
        tile_size=16,
        overlap=4,
        progress=False,
    )
    assert seen[0].tolist() == [450.0, 600.0, 750.0, 900.0]
    probs, _ = read(tmp_path / 'pp.tif')
    with torch.no_grad():
        ref = model.conv(torch.from_numpy(data[[1, 2, 3, 0]])[None])[0].softmax(0)
    np.testing.assert_allclose(probs, ref.numpy(), atol=1e-5)
    dup = write_raster(tmp_path / 'dup.tif', data, wavelengths=[450, 450, 600, 750])
    with pytest.raises(ValueError, match=r'share the wavelength 450\.00'):
        predict_raster(predictor, dup, tmp_path / 'd.tif', progress=False)
