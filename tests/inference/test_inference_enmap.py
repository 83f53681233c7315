"""Integration test on the real EnMAP excerpt (224 bands, EPSG:32633)."""

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from inference_helpers import save_checkpoint, tiny_task_kwargs
from rasterio.merge import merge

from torchgeo_spectral.inference import export_embeddings, predict_raster
from torchgeo_spectral.wavelengths import read_wavelengths

tasks = pytest.importorskip('torchgeo_spectral.tasks')


def mosaic(images: list[Path], path: Path) -> Path:
    """Mosaic the 32x32 EnMAP tiles (gaps stay nodata), keeping band tags."""
    data, transform = merge(images)
    with rasterio.open(images[0]) as src:
        profile = {**src.profile, 'height': data.shape[1], 'width': data.shape[2]}
        profile['transform'] = transform
        tags = [src.tags(i) for i in range(1, src.count + 1)]
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
        for i, t in enumerate(tags, start=1):
            dst.update_tags(i, **t)
    return path


@pytest.mark.data
def test_enmap_mosaic_class_map(shared_data: Path, tmp_path: Path) -> None:
    images = sorted((shared_data / 'enmap_potsdam' / 'images').glob('*.tif'))
    assert len(images) == 18
    scene = mosaic(images, tmp_path / 'enmap_mosaic.tif')
    wl = read_wavelengths(scene).centres
    assert len(wl) == 224
    with rasterio.open(scene) as src:
        nodata = (src.read() == src.nodata).all(axis=0)
    torch.manual_seed(0)
    task = tasks.SpectralSegmentationTask(
        num_classes=7, head_channels=8, sensor='enmap', **tiny_task_kwargs()
    )
    ckpt = save_checkpoint(task, tmp_path / 'enmap_seg.ckpt')
    out, probs = tmp_path / 'enmap_map.tif', tmp_path / 'enmap_probs.tif'
    result = predict_raster(
        ckpt, scene, out, probabilities=probs, tile_size=32, overlap=8, progress=False
    )
    assert result.num_classes == 7
    with rasterio.open(scene) as s, rasterio.open(out) as m, rasterio.open(probs) as p:
        assert m.crs == s.crs
        assert m.crs.to_epsg() == 32633
        assert m.transform == s.transform
        assert m.shape == s.shape
        classes = m.read(1)
        assert p.count == 7
        prob = p.read()
    assert (classes[nodata] == 255).all()
    assert (classes[~nodata] < 7).all()
    np.testing.assert_allclose(prob[:, ~nodata].sum(axis=0), 1.0, atol=1e-4)

    emb = export_embeddings(
        ckpt,
        images[0],
        tiles_output=tmp_path / 'enmap_tiles.parquet',
        tile_size=32,
        overlap=0,
        progress=False,
    )
    assert emb.num_tiles == 1
    assert emb.embed_dim == 32


@pytest.mark.data
def test_aviris_ng_envi_without_crs(shared_data: Path, tmp_path: Path) -> None:
    """An ENVI cube (425 bands, wavelengths in the header) with no CRS."""
    header = shared_data / 'aviris_ng' / 'ang20170323t202244_rdn_7000-7010.hdr'
    model = tasks.SpectralSegmentationTask(
        num_classes=3, head_channels=8, **tiny_task_kwargs()
    ).eval()
    with pytest.warns(UserWarning, match='no CRS'):
        predict_raster(
            lambda x, wl: model(x, wl),
            header,
            tmp_path / 'aviris_map.tif',
            tile_size=8,
            overlap=4,
            progress=False,
        )
    with rasterio.open(tmp_path / 'aviris_map.tif') as m:
        assert m.crs is None
        assert m.shape == (10, 10)
        assert m.read(1).max() < 3
