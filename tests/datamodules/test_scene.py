"""SceneDataModule and FileScene: one scene of your own, few labels."""

import re
import tracemalloc
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
import rasterio
import scipy.io
import torch
from lightning.pytorch import Trainer
from own_scene import NUM_BANDS, WAVELENGTHS, cube, label_map, write_own_scene
from synthetic import listing, write_envi, write_geotiff, write_mask

from torchgeo_spectral.datamodules import HyperspectralSceneDataModule, SceneDataModule
from torchgeo_spectral.datamodules.scene import check_window, resolve_scene_class
from torchgeo_spectral.datasets import FileScene, IndianPines
from torchgeo_spectral.samplers import spatial_block_split
from torchgeo_spectral.wavelengths import read_wavelengths

ROOT = Path(__file__).resolve().parents[1]
INDIAN_PINES = ROOT / 'data' / 'hyperspectral_scenes' / 'IndianPines'


class MyPines(IndianPines):
    """A user's subclass of a scene (same files, renamed)."""


@pytest.fixture
def own(tmp_path: Path) -> dict[str, Path]:
    return write_own_scene(tmp_path / 'scene')


def finetune(own: dict[str, Path], **kwargs: object) -> SceneDataModule:
    args: dict[str, object] = {
        'image': str(own['image']),
        'labels': str(own['labels']),
        'wavelengths': str(own['wavelengths']),
        'window_size': 3,
        'block_size': 10,
        'val_fraction': 0.2,
        'batch_size': 8,
    }
    args.update(kwargs)
    return SceneDataModule(**args)  # type: ignore[arg-type]


def test_budget_per_class_is_capped_with_a_warning(own: dict[str, Path]) -> None:
    dm = finetune(own, budget=10)
    with pytest.warns(UserWarning, match=r'capped .*class 3: 3 of 10'):
        dm.setup('fit')
    assert dm.split is not None
    assert dm.scene is not None
    assert dm.split.class_counts(dm.scene.gt, 'train') == {1: 10, 2: 10, 3: 3}
    assert len(dm.train_dataset) == 23  # type: ignore[arg-type]
    labels = {int(dm.train_dataset[i]['label']) for i in range(23)}  # type: ignore[index]
    assert labels == {0, 1, 2}  # classes 1..3 shifted to 0..2
    # a fraction and a dict work too
    frac = finetune(own, budget=0.5)
    frac.setup('fit')
    assert frac.split is not None
    assert len(frac.split.train[0]) > 23
    per = finetune(own, budget={1: 2, 3: 1})
    per.setup('fit')
    assert per.split is not None
    assert per.split.class_counts(label_map(), 'train') == {1: 2, 3: 1}
    # the split command's text, as --data.init_args.budget 1:2,3:1 gives it
    text = finetune(own, budget='1:2,3:1')
    text.setup('fit')
    assert text.split is not None
    assert text.split.class_counts(label_map(), 'train') == {1: 2, 3: 1}
    with pytest.raises(ValueError, match=r"budget '1-2': expected a count per class"):
        finetune(own, budget='1-2')


def test_windows_are_centred_and_padded_after_normalization(
    own: dict[str, Path],
) -> None:
    dm = finetune(own, window_size=5)
    dm.setup('fit')
    scene, stats, split = dm.scene, dm.statistics, dm.split
    assert scene is not None
    assert stats is not None
    assert split is not None
    # statistics from the pixels of the training region only
    raw = cube(label_map())
    train = raw[:, split.region == 1].astype(np.float64)
    np.testing.assert_allclose(stats.mean.numpy(), train.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(stats.std.numpy(), train.std(axis=1), rtol=1e-4)
    normalized = (raw - stats.mean.numpy()[:, None, None]) / stats.std.numpy()[
        :, None, None
    ]
    # a border pixel: its window leaves the scene; the padding is 0 (the mean)
    rows, cols = scene.pixels[:, 0], scene.pixels[:, 1]
    index = int(np.flatnonzero((rows == 0) & (cols == 0))[0])
    sample = scene[index]
    assert torch.all(sample['image'][:, :2, :] == 0)
    assert torch.all(sample['image'][:, :, :2] == 0)
    np.testing.assert_allclose(
        sample['image'][:, 2:, 2:].numpy(), normalized[:, :3, :3], atol=1e-3
    )
    # the labelled pixel sits at the centre of its window
    index = int(np.flatnonzero((rows == 9) & (cols == 9))[0])
    np.testing.assert_allclose(
        scene[index]['image'][:, 2, 2].numpy(), normalized[:, 9, 9], atol=1e-3
    )
    batch = next(iter(dm.train_dataloader()))
    assert batch['wavelength'].shape == (batch['image'].shape[0], NUM_BANDS)
    np.testing.assert_allclose(batch['wavelength'][0].numpy(), WAVELENGTHS, atol=0.01)


def test_scene_normalization_keeps_spectral_shape_and_level(
    own: dict[str, Path],
) -> None:
    dm = finetune(own, normalization='scene')
    dm.setup('fit')
    scene, stats, split = dm.scene, dm.statistics, dm.split
    assert scene is not None
    assert stats is not None
    assert split is not None
    raw = cube(label_map())
    level = raw[:, split.region == 1].astype(np.float64).mean()
    # one scale for every band: band ratios and relative brightness survive
    np.testing.assert_allclose(stats.std.numpy(), level, rtol=1e-5)
    assert torch.all(stats.mean == 0)
    np.testing.assert_allclose(scene.image, raw / level, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('normalization', ['scene', 'band'])
def test_infinite_values_are_nodata_like_nan(
    tmp_path: Path, normalization: str
) -> None:
    labels = label_map(20)
    raw = cube(labels)
    broken = raw.copy()
    broken[:, 0, :3] = np.inf  # a corrupt row start, e.g. a failed conversion
    broken[:, 1, :3] = -np.inf
    nan = raw.copy()
    nan[:, :2, :3] = np.nan
    images = []
    for name, data in (('inf', broken), ('nan', nan)):
        np.save(tmp_path / f'{name}.npy', data)
        np.save(tmp_path / 'labels.npy', labels)
        dm = SceneDataModule(
            image=str(tmp_path / f'{name}.npy'),
            labels=str(tmp_path / 'labels.npy'),
            wavelengths=WAVELENGTHS.tolist(),
            window_size=1,
            block_size=10,
            normalization=normalization,  # type: ignore[arg-type]
        )
        dm.setup('fit')
        assert dm.scene is not None
        images.append(dm.scene.image)
    np.testing.assert_array_equal(images[0], images[1])
    assert np.all(np.isfinite(images[0]))
    assert np.abs(images[0]).max() > 0.5  # the valid pixels kept their scale


@pytest.mark.parametrize('normalization', ['band', 'scene'])
def test_setup_needs_about_twice_the_cube_in_memory(
    tmp_path: Path, normalization: str
) -> None:
    # a large scene (Chikusei's float cube is 3 GB) must not need several
    # copies of itself: the file's array and the scene's own, nothing more
    rng = np.random.default_rng(0)
    data = rng.random((300, 300, 48), dtype=np.float32) + 0.5
    labels = (rng.random((300, 300)) < 0.2) * rng.integers(1, 4, (300, 300))
    scipy.io.savemat(tmp_path / 'cube.mat', {'cube': data})
    scipy.io.savemat(tmp_path / 'labels.mat', {'labels': labels.astype(np.uint8)})
    dm = SceneDataModule(
        image=str(tmp_path / 'cube.mat'),
        labels=str(tmp_path / 'labels.mat'),
        wavelengths=np.linspace(400, 1000, 48).tolist(),
        window_size=1,
        block_size=30,
        normalization=normalization,  # type: ignore[arg-type]
    )
    tracemalloc.start()
    try:
        dm.setup('fit')
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * data.nbytes  # 4.5 times when the cube was copied twice more


def test_scene_normalization_errors(own: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be 'band' or 'scene'"):
        finetune(own, normalization='minmax')
    centred = tmp_path / 'centred.npy'  # e.g. data that is already z-scored
    raw = cube(label_map())
    np.save(centred, np.concatenate([raw[::2], -raw[::2]]))
    dm = finetune(own, image=str(centred), normalization='scene', num_classes=3)
    with pytest.raises(ValueError, match='mean valid value'):
        dm.setup('fit')


def test_pretrain_serves_every_pixel_without_labels(own: dict[str, Path]) -> None:
    dm = SceneDataModule(
        image=str(own['image']),
        wavelengths=str(own['wavelengths']),
        mode='pretrain',
        patch_size=3,
        tile_size=12,
        tile_stride=6,
    )
    dm.setup('fit')
    assert dm.scene is not None
    covered = np.zeros((40, 40), dtype=bool)
    for row, col in dm.scene.tiles:
        covered[row : row + 12, col : col + 12] = True
    assert covered.all()
    assert len(dm.train_dataset) == len(dm.scene.tiles) == 36  # type: ignore[arg-type]
    assert dm.train_dataset[0]['image'].shape == (NUM_BANDS, 12, 12)  # type: ignore[index]
    # statistics from every pixel, so the normalized cube has mean 0
    assert abs(float(dm.scene.image.mean())) < 1e-3


def test_no_validation_split_gives_no_validation_loader(own: dict[str, Path]) -> None:
    dm = finetune(own, val_fraction=0.0)
    dm.setup('fit')
    assert dm.val_dataloader() == []
    # few labels: the only (incomplete) batch is kept
    dm = finetune(own, budget=2, batch_size=32)
    dm.setup('fit')
    assert len(list(dm.train_dataloader())) == 1  # 6 labels, batches of 32


@pytest.mark.parametrize(
    ('window', 'patch', 'ok'),
    [(9, 3, True), (15, 3, True), (5, 1, True), (5, 5, True), (6, 3, False),
     (9, 9, True), (12, 4, False), (5, 3, False), (8, 1, False)],
)  # fmt: skip
def test_window_and_patch_size_fit(window: int, patch: int, ok: bool) -> None:
    if ok:
        check_window(window, patch)
    else:
        with pytest.raises(ValueError, match=f'window_size={window} does not fit'):
            check_window(window, patch)


def test_saved_split_is_reused_and_checked(
    own: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / 'split.npz'
    first = finetune(own, split=str(path), seed=1)
    first.setup('fit')
    assert path.is_file()
    again = finetune(own, split=str(path), seed=5, budget=4)
    with pytest.warns(UserWarning, match=r'budget=4 is not applied'):
        again.setup('fit')
    # testing and mapping do not train on the budget: no warning there
    with warnings.catch_warnings():
        warnings.filterwarnings('error', message='.*is not applied')
        finetune(own, split=str(path), budget=4).setup('test')
    assert first.split is not None
    assert again.split is not None
    assert np.array_equal(first.split.region, again.split.region)
    # a split whose guard band was carved for smaller windows is refused
    with pytest.raises(ValueError, match=r'windows of 3 px.*window_size=5'):
        finetune(own, split=str(path), window_size=5).setup('fit')


def test_other_formats(tmp_path: Path) -> None:
    labels = label_map(20)
    data = cube(labels)
    # .mat with variable names, wavelengths as a list
    scipy.io.savemat(tmp_path / 'c.mat', {'x': np.moveaxis(data, 0, -1), 'y': labels})
    mat = FileScene(
        tmp_path / 'c.mat',
        tmp_path / 'c.mat',
        WAVELENGTHS.tolist(),
        image_key='x',
        labels_key='y',
    )
    # .mat saved bands first: oriented by the count of wavelengths=
    scipy.io.savemat(tmp_path / 'chw.mat', {'x': data})
    chw = FileScene(
        tmp_path / 'chw.mat', tmp_path / 'c.mat', WAVELENGTHS.tolist(), labels_key='y'
    )
    # a label map in a struct's field (Chikusei's ground truth: GT.gt)
    scipy.io.savemat(tmp_path / 'gt.mat', {'GT': {'gt': labels, 'names': 'a'}})
    struct = FileScene(
        tmp_path / 'chw.mat', tmp_path / 'gt.mat', WAVELENGTHS.tolist(), labels_key='GT'
    )
    # .npy (H, W, C) with a wavelength file
    np.save(tmp_path / 'c.npy', np.moveaxis(data, 0, -1))
    np.save(tmp_path / 'l.npy', labels)
    (tmp_path / 'w.txt').write_text(' '.join(map(str, WAVELENGTHS)))
    npy = FileScene(tmp_path / 'c.npy', tmp_path / 'l.npy', tmp_path / 'w.txt')
    # georeferenced ENVI cube (wavelengths in its header) and label raster
    envi = write_envi(tmp_path / 'e', data, WAVELENGTHS.tolist())
    write_mask(tmp_path / 'l.tif', labels)
    env = FileScene(envi, tmp_path / 'l.tif')
    for scene in (mat, chw, struct, npy, env):
        np.testing.assert_allclose(scene.image, data, rtol=1e-6)
        np.testing.assert_array_equal(scene.gt, labels)
        assert scene.num_classes == 3
    assert env.wavelengths.shape == (NUM_BANDS,)


def write_envi_classification(path: Path, labels: np.ndarray, names: str) -> Path:
    """A label map as ENVI's classification tools save it (raw bytes and header)."""
    labels.astype(np.uint8).tofile(path)
    header = (
        'ENVI\n'
        f'samples = {labels.shape[1]}\nlines = {labels.shape[0]}\nbands = 1\n'
        'header offset = 0\nfile type = ENVI Classification\ndata type = 1\n'
        'interleave = bsq\nbyte order = 0\n'
        f'classes = {len(names.split(","))}\nclass names = {{{names}}}\n'
    )
    path.with_suffix('.hdr').write_text(header)
    return path


def test_class_names_from_an_envi_classification(tmp_path: Path) -> None:
    labels = label_map(20)
    envi = write_envi(tmp_path / 'e', cube(labels), WAVELENGTHS.tolist())
    named = write_envi_classification(
        tmp_path / 'named.img', labels, 'Unclassified, Corn notill, Grass, Bare soil'
    )
    scene = FileScene(envi, named)
    assert scene.class_names == ('Corn notill', 'Grass', 'Bare soil')
    np.testing.assert_array_equal(scene.gt, labels)
    # names given by the user win; a matching num_classes is fine
    assert FileScene(envi, named, class_names=['a', 'b', 'c']).class_names == (
        'a',
        'b',
        'c',
    )
    assert FileScene(envi, named, num_classes=3).num_classes == 3
    with pytest.raises(
        ValueError,
        match=r'num_classes is 4, but the ENVI header of .*named\.img names 3',
    ):
        FileScene(envi, named, num_classes=4)
    lone = write_envi_classification(tmp_path / 'lone.img', labels, 'Unclassified')
    with pytest.raises(ValueError, match=r'lone.img: the ENVI header names 1 class'):
        FileScene(envi, lone)
    # a header naming fewer classes than the map holds is refused as before
    short = write_envi_classification(
        tmp_path / 'short.img', labels, 'Unclassified, Corn'
    )
    with pytest.raises(
        ValueError, match=r'short.img: labels \[2, 3\] outside the classes 0..1'
    ):
        FileScene(envi, short)


def test_bad_bands_are_left_out(tmp_path: Path) -> None:
    labels = label_map(16)
    data = cube(labels)
    # an ENVI header that flags bands 3 and 4 (water absorption, say) in its bbl
    bbl = [0 if band in (3, 4) else 1 for band in range(NUM_BANDS)]
    envi = write_envi(tmp_path / 'e', data, WAVELENGTHS.tolist(), bbl=bbl)
    write_mask(tmp_path / 'l.tif', labels)
    kept = np.array(bbl, dtype=bool)
    scene = FileScene(envi, tmp_path / 'l.tif')
    np.testing.assert_allclose(scene.wavelengths.numpy(), WAVELENGTHS[kept], atol=0.01)
    np.testing.assert_allclose(scene.image, data[kept], rtol=1e-6)
    # bad_bands adds ranges in nm and indices in file order
    dm = SceneDataModule(
        image=str(envi),
        labels=str(tmp_path / 'l.tif'),
        bad_bands=[[2000, 2400], 0],
        window_size=1,
        block_size=4,
    )
    dm.setup('fit')
    assert dm.scene is not None
    kept &= WAVELENGTHS < 2000
    kept[0] = False
    np.testing.assert_allclose(
        dm.scene.wavelengths.numpy(), WAVELENGTHS[kept], atol=0.01
    )
    # a classic scene's class takes them too
    pines = IndianPines(INDIAN_PINES, bad_bands=[[1340, 1460]])
    assert not ((pines.wavelengths >= 1340) & (pines.wavelengths <= 1460)).any()
    assert len(pines.wavelengths) < len(IndianPines(INDIAN_PINES).wavelengths)
    with pytest.raises(ValueError, match='bad band index 99 out of range for 12'):
        FileScene(envi, tmp_path / 'l.tif', bad_bands=[99])


def test_wavelengths_from_a_sensor_name_and_a_csv_table(tmp_path: Path) -> None:
    (tmp_path / 'w.csv').write_text(
        'band_idx0,aviris_channel,center_nm,fwhm_nm\n'
        + ''.join(f'{i},{i + 2},{w},9.8\n' for i, w in enumerate(WAVELENGTHS))
    )
    np.testing.assert_allclose(
        read_wavelengths(tmp_path / 'w.csv').centres, WAVELENGTHS
    )
    data = cube(label_map(16))[:3]
    write_geotiff(tmp_path / 'rgb.tif', data)
    scene = FileScene(tmp_path / 'rgb.tif', wavelengths='rgb', mode='tile')
    assert scene.wavelengths.shape == (3,)


def test_scene_subclass_and_class_path() -> None:
    for scene in (MyPines, f'{__name__}.MyPines', 'IndianPines'):
        assert issubclass(resolve_scene_class(scene), IndianPines)
    dm = SceneDataModule(
        scene=MyPines, root=str(INDIAN_PINES), window_size=3, block_size=5
    )
    assert dm.dataset_class is MyPines
    legacy = HyperspectralSceneDataModule(scene=MyPines, root=str(INDIAN_PINES))
    legacy.setup('fit')
    assert isinstance(legacy.predict_dataset, MyPines)
    with pytest.raises(ValueError, match="unknown scene 'X'"):
        resolve_scene_class('X')
    with pytest.raises(ValueError, match='not a HyperspectralScene subclass'):
        resolve_scene_class('torchgeo_spectral.datasets.HyperspectralRaster')


# ---------------------------------------------------------------- bad input
def test_grids_that_differ(own: dict[str, Path], tmp_path: Path) -> None:
    small = tmp_path / 'small.tif'
    write_mask(small, label_map(30))
    with pytest.raises(
        ValueError, match=r'small\.tif has shape \(30, 30\).*\(40, 40\)'
    ):
        finetune(own, labels=str(small)).setup('fit')
    # georeferenced labels on another grid are resampled onto the cube's, as
    # TorchGeo aligns a label raster with its image
    labels = label_map(20)
    write_geotiff(tmp_path / 'geo.tif', cube(labels), WAVELENGTHS.tolist())
    write_mask(tmp_path / 'shifted.tif', labels, origin=(500300.0, 5800000.0))
    with pytest.warns(UserWarning, match=r'shifted\.tif is on another grid.*resampled'):
        shifted = FileScene(
            tmp_path / 'geo.tif', tmp_path / 'shifted.tif', num_classes=3
        )
    np.testing.assert_array_equal(shifted.gt[:, 10:], labels[:, :10])  # 300 m east
    assert not shifted.gt[:, :10].any()
    # labels at 15 m on the cube's 30 m pixels: the most common label of each
    fine = np.kron(labels, np.ones((2, 2), dtype=labels.dtype))
    write_mask(tmp_path / 'fine.tif', fine, res=15.0)
    with pytest.warns(UserWarning, match='resampled'):
        resampled = FileScene(tmp_path / 'geo.tif', tmp_path / 'fine.tif')
    np.testing.assert_array_equal(resampled.gt, labels)
    write_mask(tmp_path / 'far.tif', labels, origin=(900000.0, 5800000.0))
    with pytest.raises(ValueError, match=r'far\.tif does not overlap the cube'):
        FileScene(tmp_path / 'geo.tif', tmp_path / 'far.tif')


def test_a_cube_given_as_labels_is_refused(own: dict[str, Path]) -> None:
    with pytest.raises(
        ValueError, match=r'cube\.tif: a label map has one band, this raster has 12'
    ):
        finetune(own, labels=str(own['image'])).setup('fit')


def test_labels_outside_the_declared_classes(
    own: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(
        ValueError, match=r'labels\.tif: labels \[3\] outside the classes 0..2'
    ):
        finetune(own, num_classes=2).setup('fit')
    # -1 for unlabelled pixels, as some Python datasets store them
    labels = label_map().astype(np.int16)
    labels[labels == 0] = -1
    np.save(tmp_path / 'negative.npy', labels)
    with pytest.raises(ValueError, match='if -1 marks unlabelled pixels, make it 0'):
        finetune(own, labels=str(tmp_path / 'negative.npy')).setup('fit')


def test_nan_in_a_float_label_map_is_unlabelled(tmp_path: Path) -> None:
    labels = label_map(20)
    floats = np.where(labels == 0, np.nan, labels).astype(np.float32)
    np.save(tmp_path / 'nan.npy', floats)
    np.save(tmp_path / 'c.npy', cube(labels))
    scene = FileScene(tmp_path / 'c.npy', tmp_path / 'nan.npy', WAVELENGTHS.tolist())
    np.testing.assert_array_equal(scene.gt, labels)


def test_gaps_in_the_class_numbering_are_named(tmp_path: Path) -> None:
    labels = label_map(20)
    labels[labels == 2] = 5  # classes 1, 3, 5: K is 5, classes 2 and 4 are empty
    scipy.io.savemat(tmp_path / 'c.mat', {'x': np.moveaxis(cube(label_map(20)), 0, -1)})
    np.save(tmp_path / 'gaps.npy', labels)
    with pytest.warns(
        UserWarning, match=r'gaps\.npy has no pixel of classes 2, 4 of 1\.\.5'
    ):
        scene = FileScene(
            tmp_path / 'c.mat', tmp_path / 'gaps.npy', WAVELENGTHS.tolist()
        )
    assert scene.num_classes == 5
    # unlabelled pixels marked 255 instead of 0: the message stays short
    np.save(
        tmp_path / 'nodata.npy', np.where(labels == 0, 255, labels).astype(np.uint8)
    )
    with pytest.warns(
        UserWarning,
        match=r'classes 2, 4, 6, 7, 8, 9, 10, 11, 12, 13 and 241 more of 1\.\.255 .*'
        r'if 255 marks unlabelled pixels, make it 0',
    ):
        FileScene(tmp_path / 'c.mat', tmp_path / 'nodata.npy', WAVELENGTHS.tolist())
    with warnings.catch_warnings():  # declared classes may be absent from a map
        warnings.simplefilter('error')
        FileScene(
            tmp_path / 'c.mat',
            tmp_path / 'gaps.npy',
            WAVELENGTHS.tolist(),
            num_classes=5,
        )


@pytest.mark.parametrize('num_classes', [2, 6])
def test_a_model_with_another_class_count_is_refused_at_setup(
    own: dict[str, Path], num_classes: int
) -> None:
    dm = finetune(own)
    # what Lightning attaches before it calls setup: the trainer and its model
    dm.trainer = cast(
        Trainer,
        SimpleNamespace(
            lightning_module=SimpleNamespace(hparams={'num_classes': num_classes})
        ),
    )
    expected = (
        rf'num_classes={num_classes}, but the label map .*labels\.tif has 3 classes '
        r'\(labels 1\.\.3\); set --model\.init_args\.num_classes 3'
    )
    with pytest.raises(ValueError, match=expected):
        dm.setup('fit')
    dm.trainer = cast(
        Trainer,
        SimpleNamespace(lightning_module=SimpleNamespace(hparams={'num_classes': 3})),
    )
    dm.setup('fit')
    assert dm.train_dataset is not None


def test_split_made_for_another_scene(own: dict[str, Path], tmp_path: Path) -> None:
    other = label_map()
    other[20, 20] = 3
    path = tmp_path / 'other.npz'
    spatial_block_split(other, 3, 10, seed=0).save(path)
    with pytest.raises(ValueError, match=r'other\.npz was made for .* fingerprint'):
        finetune(own, split=str(path)).setup('fit')


def test_a_test_label_map_that_came_with_the_scene(
    own: dict[str, Path], tmp_path: Path
) -> None:
    # the scene's labels cut into a training map (rows < 25) and a test map,
    # as a benchmark's official split ships them (Houston 2013's, say)
    labels = label_map()
    train, test = labels.copy(), labels.copy()
    train[25:] = 0
    test[:25] = 0
    train_path = tmp_path / 'train.mat'
    test_path = tmp_path / 'test.mat'
    scipy.io.savemat(train_path, {'TRLabel': train})
    scipy.io.savemat(test_path, {'TSLabel': test})
    dm = finetune(
        own,
        labels=str(train_path),
        test_labels=str(test_path),
        window_size=1,
        val_fraction=0.0,
        budget=5,
    )
    with pytest.warns(UserWarning, match=r'capped .*class 3: 3 of 5'):
        dm.setup('fit')
    split, scene = dm.split, dm.scene
    assert split is not None
    assert scene is not None
    assert np.array_equal(split.mask('test'), test > 0)
    assert split.class_counts(labels, 'train') == {1: 5, 2: 5, 3: 3}
    assert np.array_equal(scene.gt, labels)
    # the test set is every pixel of the test map, with its labels
    served = [int(sample['label']) for sample in dm.test_dataset]  # type: ignore[attr-defined]
    assert sorted(served) == sorted((test[test > 0] - 1).tolist())
    # a split saved for the whole label map has the merged map's fingerprint,
    # but not its test pixels
    saved = tmp_path / 'split.npz'
    finetune(own, split=str(saved)).setup('fit')
    given = finetune(
        own, labels=str(train_path), test_labels=str(test_path), split=str(saved)
    )
    with pytest.raises(ValueError, match=r'split\.npz drew its own test blocks'):
        given.setup('fit')
    # a pixel in both maps is refused, naming both files
    with pytest.raises(
        ValueError,
        match=r'labelled both in .*labels\.tif and in the test labels .*test\.mat',
    ):
        finetune(own, test_labels=str(test_path)).setup('fit')
    with pytest.raises(ValueError, match='needs the scene as files'):
        SceneDataModule(scene='IndianPines', test_labels=str(test_path))


def test_budget_larger_than_the_training_region(
    own: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / 'split.npz'
    with pytest.raises(
        ValueError, match=r'labels\.tif: label budget larger than the training region'
    ):
        finetune(own, budget=5000, split=str(path)).setup('fit')
    assert not path.exists()  # nothing written


@pytest.mark.parametrize('source', ['list', 'file', 'sensor'])
def test_wavelengths_whose_count_differs(
    own: dict[str, Path], tmp_path: Path, source: str
) -> None:
    waves: object
    if source == 'list':
        waves, origin = [500.0, 600.0], 'wavelengths='
    elif source == 'file':
        waves = tmp_path / 'w.txt'
        waves.write_text('500\n600\n700\n')
        origin = f'wavelength file {waves}'
    else:
        waves, origin = 'enmap', "band table 'enmap'"
    n = {'list': 2, 'file': 3, 'sensor': 224}[source]
    expected = f'{origin} gives {n} band centres, but {own["image"]} has 12 bands'
    with pytest.raises(ValueError, match=re.escape(expected)):
        finetune(own, wavelengths=waves if source != 'file' else str(waves)).setup(
            'fit'
        )


def test_bad_options_write_nothing(own: dict[str, Path], tmp_path: Path) -> None:
    before = listing(own['image'].parent)
    with pytest.raises(ValueError, match=r'no such file .*, sensor or classic scene'):
        finetune(own, wavelengths='no_such_sensor').setup('fit')
    with pytest.raises(ValueError, match='either image='):
        SceneDataModule()
    with pytest.raises(ValueError, match='mode finetune needs labels='):
        SceneDataModule(image=str(own['image']))
    with pytest.raises(ValueError, match='multiple of patch_size=3'):
        SceneDataModule(image='x.tif', mode='pretrain', patch_size=3, tile_size=16)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(FileNotFoundError, match=r'missing\.tif does not exist'):
            finetune(own, labels=str(tmp_path / 'missing.tif')).setup('fit')
    assert listing(own['image'].parent) == before


def test_the_map_writer_keeps_no_list_of_predictions(
    own: dict[str, Path], tmp_path: Path
) -> None:
    from torchgeo_spectral.datamodules import SceneMapWriter
    from torchgeo_spectral.datasets import collate_spectral
    from torchgeo_spectral.tasks import SpectralClassificationTask

    # Lightning's list of every batch's outputs grew the process by MBs a
    # batch on a large scene; the map is the result
    dm = finetune(own, window_size=1, batch_size=8, predict_batch_size=96)
    task = SpectralClassificationTask(
        model='spectral_vit_tiny',
        patch_size=1,
        bands_per_token=4,
        embed_dim=32,
        depth=1,
        num_heads=2,
        num_classes=3,
    )

    def writing_to(name: str) -> Trainer:
        return Trainer(
            accelerator='cpu',
            callbacks=[SceneMapWriter(str(tmp_path / name))],
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )

    trainer = writing_to('map.tif')
    assert trainer.predict(task, dm) is None
    # batches of 96 pixels (the last one partial) land where their pixels are
    pixels = dm.predict_dataset
    assert pixels is not None
    batch = collate_spectral([pixels[i] for i in range(len(pixels))])  # type: ignore[arg-type]
    with torch.inference_mode():
        expected = task.predict_step(batch, 0).argmax(dim=1).numpy() + 1
    with rasterio.open(tmp_path / 'map.tif') as src:
        np.testing.assert_array_equal(src.read(1), expected.reshape(label_map().shape))
    with pytest.raises(FileExistsError, match='set overwrite: true'):
        trainer.predict(task, dm)
    # pixels of no data are not classified and stay 0 in the map; the others
    # keep their classes
    assert dm.scene is not None
    dm.scene.nodata[:2] = True
    writing_to('holes.tif').predict(task, dm)
    assert dm.predict_dataset is not None
    assert len(dm.predict_dataset) == expected.size - 2 * label_map().shape[1]
    with rasterio.open(tmp_path / 'holes.tif') as src:
        mapped = src.read(1)
    assert (mapped[:2] == 0).all()
    np.testing.assert_array_equal(mapped[2:], expected.reshape(mapped.shape)[2:])


def test_class_map_keeps_the_grid_of_a_georeferenced_cube(tmp_path: Path) -> None:
    from torchgeo_spectral.datamodules.scene import ScenePixels, write_class_map

    labels = label_map(12)
    write_geotiff(tmp_path / 'geo.tif', cube(labels), WAVELENGTHS.tolist())
    write_mask(tmp_path / 'labels.tif', labels)
    scene = FileScene(tmp_path / 'geo.tif', tmp_path / 'labels.tif', patch_size=3)
    pixels = ScenePixels(scene, 3)
    assert len(pixels) == 144
    assert pixels[13]['image'].shape == (NUM_BANDS, 3, 3)
    np.testing.assert_allclose(pixels[13]['image'][:, 1, 1], scene.image[:, 1, 1])
    write_class_map(tmp_path / 'map.tif', labels.astype(np.int64), scene)
    with (
        rasterio.open(tmp_path / 'map.tif') as out,
        rasterio.open(tmp_path / 'geo.tif') as src,
    ):
        assert out.crs == src.crs
        assert out.transform == src.transform
        np.testing.assert_array_equal(out.read(1), labels)
        # it names its values and colours its classes as the scene's figures do
        assert out.tags()['classes'] == ','.join(['no data', *scene.class_names])
        colormap = out.colormap(1)
        assert colormap[0] == (0, 0, 0, 0)
        first = np.round(np.array(scene.cmap.colors[1]) * 255).astype(int)
        assert colormap[1] == tuple(first.tolist())
    assert not list(tmp_path.glob('.*partial*'))
    # pixels without data in any band (outside a swath, say) are no data in the
    # map, whatever class the model gives them; one NaN band is still data
    data = cube(labels)
    data[:, :2, :3] = np.nan
    data[0, 5, 5] = np.nan
    np.save(tmp_path / 'holes.npy', data)
    holes = FileScene(tmp_path / 'holes.npy', None, WAVELENGTHS.tolist(), mode='tile')
    expected = np.zeros(labels.shape, dtype=bool)
    expected[:2, :3] = True
    np.testing.assert_array_equal(holes.nodata, expected)
    # prediction skips them: the first pixel classified is (0, 3)
    with_data = ScenePixels(holes, 1)
    assert len(with_data) == labels.size - 6
    np.testing.assert_array_equal(
        with_data[0]['image'][:, 0, 0], np.nan_to_num(holes.image[:, 0, 3])
    )
    write_class_map(tmp_path / 'holes.tif', np.ones(labels.shape, np.int64), holes)
    with rasterio.open(tmp_path / 'holes.tif') as out:
        np.testing.assert_array_equal(out.read(1), np.where(expected, 0, 1))
