import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from torchgeo_spectral.samplers import (
    SpatialSplit,
    SplitSettings,
    given_test_split,
    indices_for_pixels,
    scene_fingerprint,
    spatial_block_split,
)
from torchgeo_spectral.samplers.blocks import guard_width


def patch_footprint(mask: np.ndarray, patch_size: int) -> np.ndarray:
    """Count, by brute force, how many patches centred on `mask` cover each pixel."""
    height, width = mask.shape
    half = patch_size // 2
    cover = np.zeros((height + 2 * patch_size, width + 2 * patch_size), dtype=int)
    for row, col in zip(*np.nonzero(mask), strict=True):
        top, left = row - half + patch_size, col - half + patch_size
        cover[top : top + patch_size, left : left + patch_size] += 1
    return cover


def assert_disjoint(split: SpatialSplit, labels: np.ndarray, patch_size: int) -> None:
    names = ['train', 'val', 'test']
    masks = {name: split.mask(name) for name in names}
    # Dilation check: no pixel of another split within Chebyshev distance p - 1.
    near = np.ones((2 * patch_size - 1,) * 2, dtype=bool)
    for a in names:
        reach = ndimage.binary_dilation(masks[a], near)
        for b in names:
            if a != b:
                assert not (reach & masks[b]).any(), (a, b)
    # Brute-force check: patch footprints of different splits never overlap.
    feet = {name: patch_footprint(masks[name], patch_size) > 0 for name in names}
    assert not (feet['train'] & feet['test']).any()
    assert not (feet['val'] & feet['test']).any()
    assert not (feet['train'] & feet['val']).any()
    # Every split pixel is labelled and lies in its own region.
    for code, name in enumerate(names, start=1):
        assert (labels[split.indices(name)] > 0).all()
        assert (split.region[split.indices(name)] == code).all()


@pytest.mark.parametrize('patch_size', [1, 3, 4, 5, 8])
@pytest.mark.parametrize('pattern', ['random', 'checkerboard'])
def test_no_test_patch_overlaps_a_training_patch(
    scene: np.ndarray, patch_size: int, pattern: str
) -> None:
    split = spatial_block_split(
        scene, patch_size, 20, pattern=pattern, val_fraction=0.25, seed=3
    )
    assert_disjoint(split, scene, patch_size)
    for name in ('train', 'val', 'test'):
        assert len(split.indices(name)[0]) > 0


def test_guard_width_is_documented_value() -> None:
    assert guard_width(5) == 4
    assert guard_width(9) == 8
    assert guard_width(4) == 4
    assert guard_width(1) == 0


def test_guard_band_separates_regions(scene: np.ndarray) -> None:
    split = spatial_block_split(scene, 7, 20, seed=0)
    assert split.guard_mask.any()
    # Regions (labelled or not) of different roles are >= patch_size apart.
    near = np.ones((13, 13), dtype=bool)
    train = ndimage.binary_dilation(split.region == 1, near)
    assert not (train & (split.region == 3)).any()


def test_test_fraction_is_roughly_respected(scene: np.ndarray) -> None:
    split = spatial_block_split(scene, 3, 10, test_fraction=0.3, seed=0)
    n_train, n_test = len(split.train[0]), len(split.test[0])
    assert 0.2 < n_test / (n_train + n_test) < 0.4


def test_integer_budget_is_exact_per_class(scene: np.ndarray) -> None:
    split = spatial_block_split(scene, 5, 20, budget=10, seed=1)
    assert split.class_counts(scene, 'train') == {1: 10, 2: 10, 3: 10, 4: 10}


def test_mapping_budget(scene: np.ndarray) -> None:
    split = spatial_block_split(scene, 5, 20, budget={2: 7, 4: 3}, seed=1)
    assert split.class_counts(scene, 'train') == {2: 7, 4: 3}


def test_fraction_budget_is_stratified(scene: np.ndarray) -> None:
    full = spatial_block_split(scene, 5, 20, seed=2)
    part = spatial_block_split(scene, 5, 20, budget=0.1, seed=2)
    total = full.class_counts(scene, 'train')
    kept = part.class_counts(scene, 'train')
    assert set(kept) == set(total)
    for cls, count in total.items():
        assert kept[cls] == max(1, round(0.1 * count))
    # The budget is drawn inside the training region of the same split.
    assert np.array_equal(part.region, full.region)
    assert set(part.flat_indices('train')) <= set(full.flat_indices('train'))


def test_budget_larger_than_a_class_names_it(scene: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r'class 3 asks for 100000 .* only \d+ are'):
        spatial_block_split(scene, 5, 20, budget={3: 100000}, seed=0)
    with pytest.raises(ValueError, match='larger than the training region: class 1'):
        spatial_block_split(scene, 5, 20, budget=99999, seed=0)
    with pytest.raises(ValueError, match=r'classes \[9\] that the label map'):
        spatial_block_split(scene, 5, 20, budget={9: 1}, seed=0)


def test_count_budget_is_capped_for_rare_classes(scene: np.ndarray) -> None:
    labels = scene.copy()
    labels[labels == 4] = 0
    labels[30:32, 10:12] = 4  # a rare class of four pixels
    full = spatial_block_split(labels, 3, 20, seed=0)
    have = full.class_counts(labels, 'train').get(4, 0)
    assert have < 10
    with pytest.warns(UserWarning, match=f'capped .*class 4: {have} of 10'):
        split = spatial_block_split(labels, 3, 20, budget=10, seed=0)
    counts = split.class_counts(labels, 'train')
    assert counts.get(4, 0) == have
    assert counts[1] == counts[2] == counts[3] == 10


def test_guard_leaving_no_test_pixels_is_an_error(scene: np.ndarray) -> None:
    with pytest.raises(ValueError, match='leaves no labelled test pixels'):
        spatial_block_split(scene, 15, 6, seed=0)


@pytest.mark.parametrize(
    ('kwargs', 'error', 'match'),
    [
        ({'pattern': 'stripes'}, ValueError, 'pattern'),
        ({'test_fraction': 1.5}, ValueError, 'test_fraction'),
        ({'val_fraction': 1.0}, ValueError, 'val_fraction'),
        ({'budget': 1.5}, ValueError, 'fractional budget'),
        ({'budget': 'all'}, TypeError, 'budget'),
    ],
)
def test_bad_arguments(
    scene: np.ndarray, kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        spatial_block_split(scene, 3, 10, **kwargs)  # type: ignore[arg-type]


def test_bad_label_maps() -> None:
    with pytest.raises(ValueError, match='2-D'):
        spatial_block_split(np.ones(5), 3, 2)
    with pytest.raises(ValueError, match='whole numbers'):
        spatial_block_split(np.full((4, 4), 0.5), 3, 2)
    with pytest.raises(ValueError, match='no labelled pixel'):
        spatial_block_split(np.zeros((4, 4)), 3, 2)
    with pytest.raises(ValueError, match='>= 0'):
        spatial_block_split(-np.ones((4, 4)), 3, 2)


def test_reproducible_under_a_seed(scene: np.ndarray) -> None:
    def run(seed: int) -> SpatialSplit:
        return spatial_block_split(
            scene, 5, 12, budget=0.2, val_fraction=0.2, seed=seed
        )

    a, b, c = run(7), run(7), run(8)
    for name in ('train', 'val', 'test'):
        assert np.array_equal(a.flat_indices(name), b.flat_indices(name))
    assert np.array_equal(a.region, b.region)
    assert not np.array_equal(a.region, c.region)


def test_split_settings_draw_the_split_and_name_the_label_file(
    scene: np.ndarray,
) -> None:
    settings = SplitSettings(patch_size=3, block_size=8, budget=2, seed=4)
    split = settings.draw(scene, 'labels.tif')
    same = spatial_block_split(scene, 3, 8, budget=2, seed=4)
    assert np.array_equal(split.region, same.region)
    assert np.array_equal(split.flat_indices('train'), same.flat_indices('train'))
    with pytest.raises(ValueError, match=r'^labels\.tif: labels hold no labelled'):
        settings.draw(np.zeros_like(scene), 'labels.tif')


def test_given_test_pixels_are_kept_as_given(scene: np.ndarray, tmp_path: Path) -> None:
    # a benchmark's own test map: the labelled pixels of the right third
    test_mask = np.zeros(scene.shape, dtype=bool)
    test_mask[:, 55:] = True
    split = SplitSettings(
        patch_size=3, block_size=10, val_fraction=0.25, budget=4, seed=2
    ).draw(scene, 'train.tif', test_mask=test_mask)
    assert np.array_equal(split.mask('test'), test_mask & (scene > 0))
    assert (split.region[test_mask & (scene > 0)] == 3).all()
    for name in ('train', 'val'):
        assert not (split.mask(name) & test_mask).any()
    assert split.class_counts(scene, 'train') == {1: 4, 2: 4, 3: 4, 4: 4}
    # validation blocks keep their guard band from the training pixels
    near = ndimage.binary_dilation(split.mask('val'), np.ones((5, 5), dtype=bool))
    assert len(split.val[0]) > 0
    assert not (near & split.mask('train')).any()
    assert split.params['test'] == 'given'
    path = tmp_path / 'split.npz'
    split.save(path)
    loaded = SpatialSplit.load(path, labels=scene, test_mask=test_mask)
    assert np.array_equal(loaded.flat_indices('test'), split.flat_indices('test'))
    # the fingerprint covers the labels, not which of them are test pixels
    with pytest.raises(ValueError, match='holds the test pixels of a test label map'):
        SpatialSplit.load(path, labels=scene)
    with pytest.raises(ValueError, match='made for another test label map'):
        SpatialSplit.load(path, labels=scene, test_mask=np.roll(test_mask, 1, axis=1))
    spatial_block_split(scene, 3, 10).save(path)
    with pytest.raises(ValueError, match='drew its own test blocks'):
        SpatialSplit.load(path, labels=scene, test_mask=test_mask)
    # without validation blocks every other labelled pixel is a training pool
    plain = given_test_split(scene, test_mask, 1, 10)
    assert np.array_equal(plain.mask('train'), ~test_mask & (scene > 0))
    assert len(plain.val[0]) == 0


def test_given_test_pixels_near_training_pixels_are_counted(scene: np.ndarray) -> None:
    test_mask = np.zeros(scene.shape, dtype=bool)
    test_mask[:, 40:] = True
    labelled = scene > 0
    # the labelled test pixels of columns 40-43 have training pixels within 4 px
    near = int((labelled[:, 40:44]).sum())
    expected = (
        f'^{near} of {int((labelled & test_mask).sum())} given test pixels lie '
        'within 4 px of a training pixel, so their 5 x 5 windows overlap'
    )
    with pytest.warns(UserWarning, match=expected):
        given_test_split(scene, test_mask, 5, 10)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        given_test_split(scene, test_mask, 1, 10)


def test_given_test_split_errors(scene: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r'test mask of shape \(2, 2\)'):
        given_test_split(scene, np.ones((2, 2), dtype=bool), 1, 10)
    with pytest.raises(ValueError, match='no labelled test pixel'):
        given_test_split(scene, np.zeros(scene.shape, dtype=bool), 1, 10)
    # training labels in one block leave none to train on beside validation
    one_block = np.ones(scene.shape, dtype=bool)
    one_block[:10, :10] = False
    with pytest.raises(ValueError, match=r'^validation blocks drawn among the train'):
        given_test_split(scene, one_block, 1, 10, val_fraction=0.2)
    with pytest.raises(ValueError, match=r'^labels\.tif: .*no labelled training'):
        SplitSettings(patch_size=1, block_size=10).draw(
            scene, 'labels.tif', test_mask=np.ones(scene.shape, dtype=bool)
        )


def test_save_load_round_trip(scene: np.ndarray, tmp_path: Path) -> None:
    split = spatial_block_split(
        scene, 5, 20, budget={1: 4, 2: 6}, val_fraction=0.2, seed=0
    )
    path = tmp_path / 'split.npz'
    split.save(path)
    loaded = SpatialSplit.load(path, labels=scene)
    assert loaded.shape == split.shape
    assert loaded.fingerprint == split.fingerprint == scene_fingerprint(scene)
    assert loaded.params == split.params
    assert loaded.params['budget'] == {'1': 4, '2': 6}
    assert np.array_equal(loaded.region, split.region)
    assert np.array_equal(loaded.blocks, split.blocks)
    for name in ('train', 'val', 'test'):
        for got, want in zip(loaded.indices(name), split.indices(name), strict=True):
            assert np.array_equal(got, want)
    assert path.stat().st_size < 20_000


def test_load_for_another_scene_is_an_error(
    scene: np.ndarray, other_scene: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / 'split.npz'
    spatial_block_split(scene, 5, 20, seed=0).save(path)
    message = (
        f'split file {path} was made for a scene of shape (60, 80) / fingerprint '
        f'{scene_fingerprint(scene)}'
    )
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        SpatialSplit.load(path, labels=other_scene)
    assert 'name another split file (--data.init_args.split)' in str(error.value)
    with pytest.raises(ValueError, match='shape'):
        SpatialSplit.load(path, labels=scene[:, :-1])


def test_float_labels_share_the_fingerprint(scene: np.ndarray) -> None:
    assert scene_fingerprint(scene.astype(np.float32)) == scene_fingerprint(scene)


def test_indices_for_pixels(scene: np.ndarray) -> None:
    split = spatial_block_split(scene, 3, 20, budget=5, val_fraction=0.2, seed=0)
    rows, cols = np.nonzero(scene)  # a patch-mode dataset: one item per pixel
    index = indices_for_pixels(split, rows, cols)
    assert len(index['train']) == 20
    for name in ('train', 'val', 'test'):
        got = rows[index[name]] * scene.shape[1] + cols[index[name]]
        assert np.array_equal(np.sort(got), split.flat_indices(name))


def test_unknown_split_name(scene: np.ndarray) -> None:
    split = spatial_block_split(scene, 3, 20, seed=0)
    with pytest.raises(ValueError, match='split name'):
        split.mask('holdout')


@pytest.mark.data
def test_enmap_label_map_split_is_disjoint(shared_data: Path) -> None:
    rasterio = pytest.importorskip('rasterio')
    path = shared_data / 'enmap_potsdam' / 'enmap_landcover_unstyled.tif'
    if not path.exists():
        pytest.skip(f'{path} not found')
    with rasterio.open(path) as src:
        labels = src.read(1)
    for patch_size, pattern in [(9, 'random'), (5, 'checkerboard')]:
        split = spatial_block_split(
            labels,
            patch_size,
            40,
            pattern=pattern,
            budget=0.2,
            val_fraction=0.15,
            seed=0,
        )
        assert_disjoint(split, labels.astype(np.int64), patch_size)
        assert set(split.class_counts(labels, 'train')) == {1, 2, 3, 4, 5, 6}


def test_disjointness_check_is_not_vacuous(scene: np.ndarray) -> None:
    # A split guarded for 3-pixel patches leaks for 9-pixel patches.
    split = spatial_block_split(scene, 3, 20, seed=3)
    with pytest.raises(AssertionError):
        assert_disjoint(split, scene, 9)


def test_split_command(
    scene: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchgeo_spectral.samplers.cli import main

    np.save(tmp_path / 'labels.npy', scene)
    out = tmp_path / 'split.npz'
    args = ['--labels', str(tmp_path / 'labels.npy'), '--output', str(out)]
    assert not main(
        [
            *args,
            '--block-size',
            '20',
            '--guard',
            '4',
            '--budget',
            '5',
            '--val-fraction',
            '0.2',
        ]
    )
    report = capsys.readouterr().out
    assert 'guard 4 px' in report
    assert re.search(r'^\s+1\s+5\s+\d+\s+\d+$', report, re.MULTILINE)
    split = SpatialSplit.load(out, labels=scene)
    assert split.params['patch_size'] == 5
    assert split.params['budget'] == 5
    png = out.with_suffix('.png')
    assert png.read_bytes()[:4] == b'\x89PNG'
    # an existing output is kept unless --overwrite
    assert main(args) == 1
    assert 'exists; pass --overwrite' in capsys.readouterr().err


def test_split_command_reads_labels_onto_the_cube(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from own_scene import label_map, write_own_scene, write_raster

    from torchgeo_spectral.datasets import FileScene
    from torchgeo_spectral.samplers.cli import main

    # a benchmark's training and test maps: the data module's split, on the
    # command line (the guide's step 1)
    files = write_own_scene(tmp_path / 'scene')
    labels = label_map()
    train, test = labels.copy(), labels.copy()
    train[25:] = 0
    test[:25] = 0
    write_raster(tmp_path / 'train.tif', train[None])
    write_raster(tmp_path / 'test.tif', test[None])
    out = tmp_path / 'split.npz'
    common = ['--labels', str(tmp_path / 'train.tif'), '--output', str(out)]
    scene = ['--image', str(files['image']), '--wavelengths', str(files['wavelengths'])]
    assert not main([*common, *scene, '--test-labels', str(tmp_path / 'test.tif')])
    assert re.search(r'^\s+1\s+\d+\s+0\s+\d+$', capsys.readouterr().out, re.MULTILINE)
    read = FileScene(
        files['image'],
        tmp_path / 'train.tif',
        files['wavelengths'],
        test_labels=tmp_path / 'test.tif',
        mode='tile',
    )
    split = SpatialSplit.load(out, labels=read.gt, test_mask=read.test_mask)
    assert np.array_equal(split.mask('test'), test > 0)
    # without the cube, a test map cannot be placed
    assert (
        main([*common, '--test-labels', str(tmp_path / 'test.tif'), '--overwrite']) == 1
    )
    assert '--test-labels needs --image' in capsys.readouterr().err


@pytest.mark.parametrize(
    ('options', 'message'),
    [
        (['--budget', '100000'], 'larger than the training region'),
        (['--budget', 'ten'], "budget 'ten': expected"),
        (['--num-classes', '3'], r'labels \[4\] outside the declared classes 0..3'),
        (['--block-size', '6', '--window-size', '15'], 'leaves no labelled'),
    ],
)
def test_split_command_errors_write_nothing(
    scene: np.ndarray,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    message: str,
) -> None:
    from torchgeo_spectral.samplers.cli import main as split_main

    np.save(tmp_path / 'labels.npy', scene)
    out = tmp_path / 'out' / 'split.npz'
    code = split_main(
        ['--labels', str(tmp_path / 'labels.npy'), '--output', str(out), *options]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert re.search(message, err), err
    assert err.count('\n') == 1
    assert not (tmp_path / 'out').exists()


def test_as_budget() -> None:
    from torchgeo_spectral.samplers.splits import as_budget

    assert as_budget('10') == 10
    assert as_budget('0.05') == 0.05
    assert as_budget('1:10,2:5') == {1: 10, 2: 5}
    assert as_budget(None) is None
    assert as_budget({'1': 10, 2: '5'}) == {1: 10, 2: 5}  # a YAML/JSON mapping
    assert as_budget(0.05) == 0.05
