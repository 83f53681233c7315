import hashlib
import shutil
from pathlib import Path

import h5py
import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.io
import torch
from torchgeo.datasets import DatasetNotFoundError

import torchgeo_spectral.datasets.scene as scene_module
from torchgeo_spectral.datasets import (
    Botswana,
    FileScene,
    Houston2013,
    HyperspectralScene,
    IndianPines,
    KennedySpaceCenter,
    PaviaCentre,
    PaviaUniversity,
    Salinas,
)
from torchgeo_spectral.datasets.mat import load_mat_array
from torchgeo_spectral.sensors import list_scenes
from torchgeo_spectral.wavelengths import read_wavelengths

DATA = Path(__file__).resolve().parents[1] / 'data' / 'hyperspectral_scenes'
SCENES: list[tuple[type[HyperspectralScene], int]] = [
    (IndianPines, 200),
    (PaviaUniversity, 103),
    (PaviaCentre, 102),
    (Salinas, 204),
    (KennedySpaceCenter, 176),
    (Botswana, 145),
    (Houston2013, 144),
]


#: The name each scene's band table answers to (``wavelengths='salinas'``).
TABLE_NAMES = {
    IndianPines: 'indian_pines',
    PaviaUniversity: 'pavia_university',
    PaviaCentre: 'pavia_centre',
    Salinas: 'salinas',
    KennedySpaceCenter: 'kennedy_space_center',
    Botswana: 'botswana',
    Houston2013: 'houston2013',
}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(('cls', 'bands'), SCENES)
def test_patch_mode(cls: type[HyperspectralScene], bands: int) -> None:
    ds = cls(DATA / cls.__name__, patch_size=5)
    assert cls.num_bands() == bands
    gt = ds.gt
    assert len(ds) == int((gt > 0).sum())
    sample = ds[0]
    assert sample['image'].shape == (bands, 5, 5)
    assert sample['wavelength'].shape == (bands,)
    assert torch.all(sample['wavelength'][1:] > sample['wavelength'][:-1])
    labels = torch.stack([ds[i]['label'] for i in range(len(ds))])
    assert labels.min() == 0
    assert labels.max() == len(cls.class_names) - 1
    assert np.array_equal(ds.labels, labels.numpy())


@pytest.mark.parametrize(('cls', 'bands'), SCENES)
def test_scene_band_tables_by_name(cls: type[HyperspectralScene], bands: int) -> None:
    # a user's own copy of the cube, read as any scene, takes its table by name
    image, labels = (
        DATA / cls.__name__ / f.filename for f in (cls.image_file, cls.gt_file)
    )
    scene = FileScene(image, labels, wavelengths=TABLE_NAMES[cls], patch_size=3)
    expected = np.sort(cls.wavelength_table())
    assert scene.wavelengths.shape == (bands,)
    assert np.allclose(scene.wavelengths, expected)
    assert read_wavelengths(TABLE_NAMES[cls]).fwhm is None
    assert set(TABLE_NAMES.values()) <= set(list_scenes())


def test_scene_band_tables_by_file_name() -> None:
    ksc = read_wavelengths('KSC').centres
    assert np.array_equal(ksc, read_wavelengths('kennedy_space_center').centres)
    assert read_wavelengths('Pavia University').centres.size == 103
    assert read_wavelengths('Houston').centres.size == 144


@pytest.mark.parametrize(
    ('name', 'bands', 'first', 'last'),
    [
        ('WHU_Hi_LongKou', 270, 400.0, 1000.0),
        ('WHU-Hi-HanChuan', 274, 400.0, 1000.0),
        ('whu_hi_honghu', 270, 400.0, 1000.0),
        ('Chikusei', 128, 363.0, 1018.0),
        ('Houston2018', 48, 380.0, 1050.0),
        ('Trento', 63, 402.89, 989.09),
        ('xiongan', 256, 400.0, 1000.0),
        ('indian_pines_220', 220, 400.0, 2500.0),
        ('salinas_224', 224, 390.0, 2500.0),
    ],
)
def test_tables_of_scenes_without_a_dataset_class(
    name: str, bands: int, first: float, last: float
) -> None:
    # published as a band count over a range; the uncorrected AVIRIS cubes
    # (channel order, where AVIRIS's spectrometers overlap)
    centres = read_wavelengths(name).centres
    assert centres.size == np.unique(centres).size == bands
    assert abs(centres.min() - first) < 1
    assert abs(centres.max() - last) < 1


def test_uncorrected_indian_pines_table_matches_its_spc_file(shared_data: Path) -> None:
    # the original 220-band AVIRIS table of the scene, beside the project
    spc = np.loadtxt(shared_data / 'wavelengths' / '92AV3C.spc', skiprows=2)
    derived = read_wavelengths('indian_pines_220').centres
    assert np.abs(derived - spc[:, 0]).max() < 1.2


def test_a_scene_cube_without_wavelengths_names_its_table() -> None:
    image = DATA / 'Salinas' / 'Salinas_corrected.mat'
    labels = DATA / 'Salinas' / 'Salinas_gt.mat'
    with pytest.raises(
        ValueError,
        match=r"no band wavelengths.*cube of 204 bands pass wavelengths='salinas'",
    ):
        FileScene(image, labels)
    # the sensor a user would first think of has the uncorrected band count
    hint = (
        r"band table 'hyperion' gives 242 band centres, .*pass wavelengths='botswana'"
    )
    with pytest.raises(ValueError, match=hint):
        FileScene(
            DATA / 'Botswana' / 'Botswana.mat', wavelengths='hyperion', mode='tile'
        )


def test_patch_content_and_padding() -> None:
    ds = IndianPines(DATA / 'IndianPines', patch_size=3)
    row, col = (int(v) for v in ds.pixels[0])  # first labelled pixel is row 1
    sample = ds[0]
    centre = sample['image'][:, 1, 1]
    assert torch.equal(centre, torch.from_numpy(ds.image[:, row, col]))
    if col == 0:
        assert torch.all(sample['image'][:, :, 0] == 0)


def test_tile_mode() -> None:
    ds = PaviaCentre(DATA / 'PaviaCentre', mode='tile', tile_size=8)
    assert len(ds) == 4
    sample = ds[3]
    assert sample['image'].shape == (102, 8, 8)
    assert sample['mask'].shape == (8, 8)
    assert sample['mask'].max() <= 9
    assert torch.all(sample['mask'][4:, :] == 0)  # padded rows


def test_tiles_without_data_are_left_out(tmp_path: Path) -> None:
    # pretraining tiles outside a swath (or all in a raster's nodata) would
    # teach the model to reconstruct zeros
    data = np.ones((12, 10, 3), dtype=np.float32)
    data[:8, :4] = np.nan  # no data in the tiles at (0, 0) and (4, 0) of 4 px
    data[1, 1, 2] = 0.5  # one finite band is data: (0, 0) kept after all
    np.save(tmp_path / 'c.npy', data)
    bands = [500.0, 600.0, 700.0]

    def origins(**kwargs: int) -> list[tuple[int, int]]:
        scene = FileScene(tmp_path / 'c.npy', wavelengths=bands, mode='tile', **kwargs)
        assert len(scene) == len(scene.tiles)
        return [(int(r), int(c)) for r, c in scene.tiles]

    every = [(r, c) for r in (0, 4, 8) for c in (0, 4, 8)]
    assert origins(tile_size=4) == [t for t in every if t != (4, 0)]
    # overlapping tiles: rows 3-6 have no data in columns 0-3, rows 6-9 some
    strided = origins(tile_size=4, tile_stride=3)
    assert (3, 0) not in strided
    assert (6, 0) in strided
    assert len(origins(tile_size=1)) == 12 * 10 - 8 * 4 + 1
    data[:] = np.nan
    np.save(tmp_path / 'empty.npy', data)
    with pytest.raises(ValueError, match=r'empty.npy: no pixel has a finite value'):
        FileScene(tmp_path / 'empty.npy', wavelengths=bands, mode='tile')


def test_hdf5_v73_transposed() -> None:
    path = DATA / 'PaviaUniversity' / 'PaviaU.mat'
    assert h5py.is_hdf5(path)
    cube = load_mat_array(path, 'paviaU')
    assert cube.shape == (12, 10, 103)
    assert cube[3, 4, 5] == 10 * 5 + 3 + 4
    classic = load_mat_array(DATA / 'PaviaCentre' / 'Pavia.mat')
    assert classic.shape == (12, 10, 102)
    assert classic[3, 4, 5] == 10 * 5 + 3 + 4
    # converted while read (v7.3) or after (classic): the same values either way
    for source, key in ((path, 'paviaU'), (DATA / 'PaviaCentre' / 'Pavia.mat', None)):
        single = load_mat_array(source, key, dtype=np.float32)
        assert single.dtype == np.float32
        assert single[3, 4, 5] == 10 * 5 + 3 + 4


def test_mat_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r'none\.mat'):
        load_mat_array(tmp_path / 'none.mat')
    (tmp_path / 'junk.mat').write_bytes(b'not matlab at all' * 20)
    with pytest.raises(ValueError, match=r'junk\.mat: not a readable MATLAB'):
        load_mat_array(tmp_path / 'junk.mat')
    (tmp_path / 'zeros.mat').write_bytes(bytes(256))  # scipy's MatReadError
    with pytest.raises(ValueError, match=r'zeros\.mat: not a readable MATLAB'):
        load_mat_array(tmp_path / 'zeros.mat')
    # an HDF5 .mat written without MATLAB's header (by h5py, say) is read too
    with h5py.File(tmp_path / 'plain.mat', 'w') as f:
        f['cube'] = np.arange(24.0).reshape(2, 3, 4)  # MATLAB (4, 3, 2), reversed
    assert load_mat_array(tmp_path / 'plain.mat').shape == (4, 3, 2)
    scipy.io.savemat(tmp_path / 'two.mat', {'a': np.ones(2), 'b': np.ones(2)})
    with pytest.raises(ValueError, match='several variables'):
        load_mat_array(tmp_path / 'two.mat')
    with pytest.raises(ValueError, match="no variable 'c'"):
        load_mat_array(tmp_path / 'two.mat', 'c')


def test_mat_struct_fields(tmp_path: Path) -> None:
    # Chikusei's ground truth is a struct GT whose label map is its field gt.
    gt = np.arange(42, dtype=np.uint8).reshape(6, 7) % 5
    names = np.array(['road', 'rice'], dtype=object)
    scipy.io.savemat(tmp_path / 'gt.mat', {'GT': {'gt': gt, 'names': names}})
    for key in (None, 'GT', 'GT.gt'):
        np.testing.assert_array_equal(load_mat_array(tmp_path / 'gt.mat', key), gt)
    # The same struct in a v7.3 file is an HDF5 group (MATLAB's axes reversed).
    with h5py.File(tmp_path / 'gt73.mat', 'w') as f:
        f.create_group('GT')['gt'] = gt.T
        f['GT']['scale'] = np.ones(1)  # a vector is not a map
    np.testing.assert_array_equal(load_mat_array(tmp_path / 'gt73.mat'), gt)
    np.testing.assert_array_equal(load_mat_array(tmp_path / 'gt73.mat', 'GT.gt'), gt)
    with pytest.raises(ValueError, match=r"struct 'GT' has no field 'x' \(found"):
        load_mat_array(tmp_path / 'gt.mat', 'GT.x')
    with pytest.raises(ValueError, match=r"'GT.gt' is an array, not a struct"):
        load_mat_array(tmp_path / 'gt.mat', 'GT.gt.y')
    # Two maps in one struct: the field must be named, and the message says how.
    scipy.io.savemat(tmp_path / 'two.mat', {'GT': {'train': gt, 'test': gt}})
    with pytest.raises(ValueError, match=r"name the field to read, e.g. 'GT.train'"):
        load_mat_array(tmp_path / 'two.mat')
    np.testing.assert_array_equal(load_mat_array(tmp_path / 'two.mat', 'GT.test'), gt)


def test_not_found_and_bad_args(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match='download=False'):
        IndianPines(tmp_path)
    with pytest.raises(ValueError, match='odd'):
        IndianPines(DATA / 'IndianPines', patch_size=4)
    with pytest.raises(ValueError, match='mode'):
        IndianPines(DATA / 'IndianPines', mode='pixels')  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match='no public download URL'):
        Houston2013(tmp_path, download=True)
    with pytest.raises(IndexError):
        IndianPines(DATA / 'IndianPines')[10_000]


def fake_download(
    url: str, root: str | Path, filename: str | None = None, md5: str | None = None
) -> None:
    """Stand-in for torchgeo's download_url: copy a local file, check md5."""
    target = Path(root) / (filename or Path(url).name)
    Path(root).mkdir(parents=True, exist_ok=True)
    shutil.copy(url, target)
    if md5 is not None and hashlib.md5(target.read_bytes()).hexdigest() != md5:
        raise RuntimeError(f"Downloaded file '{target}' is corrupted.")


def test_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scene_module, 'download_url', fake_download)
    src = DATA / 'Salinas'
    for attr in ('image_file', 'gt_file'):
        spec = getattr(Salinas, attr)
        local = src / spec.filename
        monkeypatch.setattr(Salinas, attr, spec.with_url(str(local), md5(local)))
    ds = Salinas(tmp_path / 'salinas', download=True, checksum=True)
    assert len(ds) > 0
    assert sorted(p.name for p in (tmp_path / 'salinas').iterdir()) == [
        'Salinas_corrected.mat',
        'Salinas_gt.mat',
    ]
    # already there: no second download, checksum verified
    Salinas(tmp_path / 'salinas', checksum=True)
    (tmp_path / 'salinas' / 'Salinas_gt.mat').write_bytes(b'corrupt')
    with pytest.raises(RuntimeError, match=r'Salinas_gt\.mat: MD5'):
        Salinas(tmp_path / 'salinas', checksum=True)
    spec = Salinas.gt_file
    monkeypatch.setattr(Salinas, 'gt_file', spec.with_url(spec.url or '', '0' * 32))
    (tmp_path / 'salinas' / 'Salinas_gt.mat').unlink()
    with pytest.raises(RuntimeError, match='corrupted'):
        Salinas(tmp_path / 'salinas', download=True)


def test_inconsistent_files(tmp_path: Path) -> None:
    root = tmp_path / 'ip'
    shutil.copytree(DATA / 'IndianPines', root)
    gt = np.full((12, 10), 17, dtype=np.uint8)
    scipy.io.savemat(root / 'Indian_pines_gt.mat', {'indian_pines_gt': gt})
    with pytest.raises(
        ValueError, match=r'Indian_pines_gt\.mat: labels \[17\] outside'
    ):
        IndianPines(root)
    scipy.io.savemat(root / 'Indian_pines_gt.mat', {'indian_pines_gt': gt[:5]})
    with pytest.raises(ValueError, match=r'Indian_pines_gt\.mat: label map of shape'):
        IndianPines(root)
    scipy.io.savemat(
        root / 'Indian_pines_corrected.mat',
        {'indian_pines_corrected': np.zeros((12, 10, 199), np.int16)},
    )
    with pytest.raises(ValueError, match=r'corrected\.mat: 199 bands.*200'):
        IndianPines(root)


@pytest.mark.parametrize('mode', ['patch', 'tile'])
def test_plot(mode: str) -> None:
    ds = Botswana(DATA / 'Botswana', mode=mode, tile_size=8)  # type: ignore[arg-type]
    fig = ds.plot(ds[0], suptitle='Botswana')
    plt.close(fig)
    assert ds.cmap.N == 15
