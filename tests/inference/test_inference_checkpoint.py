from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import torch
from inference_helpers import RasterFactory, read, save_checkpoint, tiny_task_kwargs

from torchgeo_spectral.inference import (
    CheckpointError,
    export_embeddings,
    load_embedder,
    load_predictor,
    predict_raster,
)
from torchgeo_spectral.main import main

tasks = pytest.importorskip('torchgeo_spectral.tasks')


@pytest.fixture
def seg_ckpt(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    task = tasks.SpectralSegmentationTask(
        num_classes=3, head_channels=8, labels=['a', 'b', 'c'], **tiny_task_kwargs()
    )
    return save_checkpoint(task, tmp_path / 'seg.ckpt')


@pytest.fixture
def mae_ckpt(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    task = tasks.SpectralMAETask(
        decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2, **tiny_task_kwargs()
    )
    return save_checkpoint(task, tmp_path / 'mae.ckpt')


def test_segmentation_checkpoint_predicts_a_map(
    seg_ckpt: Path, make_raster: RasterFactory, tmp_path: Path
) -> None:
    _, info = load_predictor(seg_ckpt)
    assert info.task == 'segmentation'
    assert info.patch_size == 4
    assert info.class_names == ('a', 'b', 'c')
    src = make_raster(height=30, width=26, bands=10)
    result = predict_raster(
        seg_ckpt, src, tmp_path / 'map.tif', tile_size=16, overlap=8, progress=False
    )
    classes, _ = read(tmp_path / 'map.tif')
    assert result.num_classes == 3
    assert classes.shape == (1, 30, 26)
    assert classes.max() < 3
    with rasterio.open(tmp_path / 'map.tif') as m:
        assert m.tags()['classes'] == 'a,b,c'


def test_pretraining_checkpoint_refused_for_maps(
    mae_ckpt: Path, make_raster: RasterFactory, tmp_path: Path
) -> None:
    with pytest.raises(CheckpointError, match=r'SpectralMAETask.*predict-map needs'):
        load_predictor(mae_ckpt)
    src = make_raster(height=16, width=16, bands=10)
    with pytest.raises(CheckpointError, match='embed'):
        predict_raster(mae_ckpt, src, tmp_path / 'm.tif', progress=False)
    assert not (tmp_path / 'm.tif').exists()


def test_pixel_classifier_refused_for_maps_with_the_command_that_maps_it(
    tmp_path: Path,
) -> None:
    task = tasks.SpectralClassificationTask(num_classes=2, **tiny_task_kwargs())
    path = save_checkpoint(task, tmp_path / 'pixels.ckpt')
    with pytest.raises(
        CheckpointError, match=r'predict-map needs .*torchgeo-spectral predict --config'
    ):
        load_predictor(path)


def test_task_class_is_read_not_guessed(tmp_path: Path) -> None:
    torch.manual_seed(0)
    task = tasks.SpectralSegmentationTask(
        num_classes=2, head_channels=8, **tiny_task_kwargs()
    )
    plain = save_checkpoint(task, tmp_path / 'plain.ckpt', cli=False)
    with pytest.raises(CheckpointError, match=r'does not record its task class'):
        load_predictor(plain)
    _, info = load_predictor(plain, task_class='SpectralSegmentationTask')
    assert info.task == 'segmentation'
    _, info = load_embedder(plain, task_class=tasks.SpectralSegmentationTask)
    assert info.extra['embed_dim'] == 32


def test_untrusted_class_path_and_non_task_files_refused(tmp_path: Path) -> None:
    path = tmp_path / 'evil.ckpt'
    torch.save(
        {
            'state_dict': {},
            'hyper_parameters': {'_class_path': 'evilpkg.tasks.Task'},
            'pytorch-lightning_version': '2.6.0',
        },
        path,
    )
    with pytest.raises(CheckpointError, match='not a torchgeo_spectral task'):
        load_embedder(path)
    torch.save({'weights': torch.zeros(2)}, tmp_path / 'plain.pt')
    with pytest.raises(CheckpointError, match='not a Lightning task checkpoint'):
        load_predictor(tmp_path / 'plain.pt')


def test_wrong_weights_named_in_error(seg_ckpt: Path, tmp_path: Path) -> None:
    ckpt = torch.load(seg_ckpt, weights_only=True)
    ckpt['hyper_parameters']['embed_dim'] = 64
    torch.save(ckpt, tmp_path / 'other.ckpt')
    with pytest.raises(
        CheckpointError, match=r'cannot rebuild SpectralSegmentationTask'
    ):
        load_predictor(tmp_path / 'other.ckpt')


def test_fixed_sensor_checkpoint_checks_bands(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    wl = [float(w) for w in np.linspace(450.0, 900.0, 8)]
    task = tasks.SpectralSegmentationTask(
        num_classes=2, head_channels=8, wavelengths=wl, **tiny_task_kwargs()
    )
    ckpt = save_checkpoint(task, tmp_path / 'fixed.ckpt')
    src = make_raster(height=16, width=16, bands=10)
    with pytest.raises(ValueError, match='has 10 bands but the model expects 8'):
        predict_raster(ckpt, src, tmp_path / 'm.tif', tile_size=16, overlap=8)


def test_embeddings_from_pretraining_checkpoint(
    mae_ckpt: Path, make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=30, width=22, bands=10)
    result = export_embeddings(
        mae_ckpt,
        src,
        tmp_path / 'emb.tif',
        tiles_output=tmp_path / 'tiles.parquet',
        tile_size=16,
        overlap=8,
        progress=False,
    )
    assert result.embed_dim == 32
    assert result.patch_size == 4
    with rasterio.open(src) as s, rasterio.open(tmp_path / 'emb.tif') as e:
        assert e.count == 32
        assert (e.height, e.width) == (8, 6)  # ceil(30 / 4), ceil(22 / 4)
        assert e.crs == s.crs
        assert e.transform == s.transform @ s.transform.scale(4)
        assert np.isfinite(e.read()).all()
    tiles = gpd.read_parquet(tmp_path / 'tiles.parquet')
    assert len(tiles) == result.num_tiles
    assert tiles.crs == 'EPSG:32633'
    assert {'tile_id', 'geometry', 'embedding'} <= set(tiles.columns)
    assert all(len(e) == 32 for e in tiles['embedding'])
    with rasterio.open(src) as s:
        left, bottom, right, top = s.bounds
    minx, miny, maxx, maxy = tiles.total_bounds
    assert (minx, miny, maxx, maxy) == (left, bottom, right, top)


def test_cli_predict_map_and_embed(
    seg_ckpt: Path,
    mae_ckpt: Path,
    make_raster: RasterFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = make_raster(height=20, width=20, bands=10)
    out = tmp_path / 'map.tif'
    args = ['--input', str(src), '--tile-size', '16', '--overlap', '8', '--no-progress']
    main(['predict-map', '--checkpoint', str(seg_ckpt), '--output', str(out), *args])
    assert out.exists()
    assert 'wrote' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(
            ['predict-map', '--checkpoint', str(seg_ckpt), '--output', str(out), *args]
        )
    assert exc.value.code == 1
    assert 'already exists' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['predict-map', '--checkpoint', str(mae_ckpt), '--output', 'x.tif', *args])
    assert 'SpectralSegmentationTask' in capsys.readouterr().err
    tiles = tmp_path / 't.parquet'
    main(['embed', '--checkpoint', str(mae_ckpt), '--tiles', str(tiles), *args])
    assert len(gpd.read_parquet(tiles)) == 4
