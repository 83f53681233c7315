from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from torchgeo.datasets import RasterDataset
from torchgeo.samplers import RandomPatchSampler

from torchgeo_spectral.samplers import (
    ClassBalancedGeoSampler,
    block_rois,
    read_label_raster,
    spatial_block_split,
    split_geometries,
)

RES = 10.0
TRANSFORM = Affine(RES, 0, 500000, 0, -RES, 4000000)


class LabelRaster(RasterDataset):
    filename_glob = 'labels*.tif'
    is_image = False


@pytest.fixture
def label_file(tmp_path: Path, scene: np.ndarray) -> Path:
    path = tmp_path / 'labels.tif'
    profile = {
        'driver': 'GTiff',
        'width': scene.shape[1],
        'height': scene.shape[0],
        'count': 1,
        'dtype': 'uint8',
        'crs': 'EPSG:32633',
        'transform': TRANSFORM,
    }
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(scene.astype(np.uint8), 1)
    return path


def test_balanced_patches_are_centred_on_labelled_pixels(
    label_file: Path, scene: np.ndarray
) -> None:
    dataset = LabelRaster(paths=label_file.parent)
    sampler = ClassBalancedGeoSampler(
        dataset, labels=label_file, size=5, length=200, seed=0
    )
    assert len(sampler) == 200
    counts: Counter[int] = Counter()
    for x, y in sampler:
        mask = dataset[x, y]['mask']
        assert mask.shape == (5, 5)
        counts[int(mask[2, 2])] += 1
    assert set(counts) == {1, 2, 3, 4}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_sampler_respects_split_pixels_and_roi(
    label_file: Path, scene: np.ndarray
) -> None:
    dataset = LabelRaster(paths=label_file.parent)
    labels, transform = read_label_raster(label_file)
    assert np.array_equal(labels, scene)
    split = spatial_block_split(labels, 5, 20, budget=8, seed=0)
    sampler = ClassBalancedGeoSampler(
        dataset, labels=labels, transform=transform, size=5, pixels=split.train
    )
    train = set(split.flat_indices('train').tolist())
    inverse = ~transform
    for x, y in sampler:
        col, row = inverse @ ((x.start + x.stop) / 2, (y.start + y.stop) / 2)
        assert int(row) * scene.shape[1] + int(col) in train
    roi = shapely.box(500000, 4000000 - 300, 500000 + 400, 4000000)
    sampler = ClassBalancedGeoSampler(
        dataset, labels=labels, transform=transform, size=3, roi=roi
    )
    for x, y in sampler:
        centre = shapely.Point((x.start + x.stop) / 2, (y.start + y.stop) / 2)
        assert roi.contains(centre)


def test_split_geometries_keep_the_guard(scene: np.ndarray) -> None:
    split = spatial_block_split(scene, 5, 20, val_fraction=0.2, seed=0)
    rois = split_geometries(split, TRANSFORM)
    # Footprints are p - 1 pixels apart, so pixel centres are >= p apart.
    assert shapely.distance(rois['train'], rois['test']) >= 4 * RES - 1e-6
    assert shapely.distance(rois['val'], rois['test']) >= 4 * RES - 1e-6
    assert rois['train'].area == pytest.approx((split.region == 1).sum() * RES**2)


@pytest.mark.parametrize('pattern', ['random', 'checkerboard'])
def test_block_rois_have_a_patch_size_gap(pattern: str) -> None:
    bounds = (0.0, 0.0, 970.0, 610.0)
    rois = block_rois(bounds, RES, 8, 16, pattern=pattern, val_fraction=0.2, seed=1)
    assert set(rois) == {'train', 'val', 'test'}
    for a, b in [('train', 'test'), ('train', 'val'), ('val', 'test')]:
        assert shapely.distance(rois[a], rois[b]) >= 8 * RES - 1e-6
    for geometry in rois.values():
        assert shapely.box(*bounds).contains(geometry)


def test_block_rois_work_with_torchgeo_samplers(label_file: Path) -> None:
    dataset = LabelRaster(paths=label_file.parent)
    x, y, _ = dataset.bounds
    rois = block_rois((x.start, y.start, x.stop, y.stop), dataset.res, 4, 20, seed=0)
    sampler = RandomPatchSampler(dataset, size=4, roi=rois['train'], length=10)
    for xs, ys in sampler:
        patch = shapely.box(xs.start, ys.start, xs.stop, ys.stop)
        assert not patch.intersects(rois['test'])


def test_bad_geo_input(label_file: Path, scene: np.ndarray) -> None:
    dataset = LabelRaster(paths=label_file.parent)
    with pytest.raises(ValueError, match='transform is required'):
        ClassBalancedGeoSampler(dataset, labels=scene, size=3)
    with pytest.raises(ValueError, match='north-up'):
        ClassBalancedGeoSampler(
            dataset, labels=scene, size=3, transform=Affine(RES, 0, 0, 0, RES, 0)
        )
    with pytest.raises(ValueError, match='empty'):
        block_rois((0.0, 0.0, 100.0, 100.0), 1.0, 60, 10, seed=0)


@pytest.mark.data
def test_enmap_label_raster_sampling(shared_data: Path) -> None:
    path = shared_data / 'enmap_potsdam' / 'enmap_landcover_unstyled.tif'
    if not path.exists():
        pytest.skip(f'{path} not found')

    class EnMAPLabels(RasterDataset):
        filename_glob = 'enmap_landcover_unstyled.tif'
        is_image = False

    dataset = EnMAPLabels(paths=path.parent)
    labels, transform = read_label_raster(path)
    split = spatial_block_split(labels, 9, 40, budget=15, seed=0)
    rois = split_geometries(split, transform)
    assert shapely.distance(rois['train'], rois['test']) >= 8 * 30 - 1e-6
    sampler = ClassBalancedGeoSampler(
        dataset, labels=path, size=9, pixels=split.train, length=60, seed=0
    )
    centres = Counter(int(dataset[x, y]['mask'][4, 4]) for x, y in sampler)
    assert centres == dict.fromkeys(range(1, 7), 10)
