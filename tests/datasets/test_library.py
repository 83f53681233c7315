import importlib.util
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import torchgeo_spectral.datasets.library as library_module
from torchgeo_spectral.datasets import (
    SpectralLibrary,
    SyntheticLibraryScenes,
    collate_spectral,
    load_spectral_library,
)
from torchgeo_spectral.sensors import get_sensor, resample_spectra
from torchgeo_spectral.wavelengths import check_wavelengths


@pytest.fixture(scope='module')
def library() -> SpectralLibrary:
    return load_spectral_library()


def scenes(library: SpectralLibrary, **kwargs: object) -> SyntheticLibraryScenes:
    options: dict[str, object] = {'length': 50, 'size': 12, 'seed': 7}
    options.update(kwargs)
    return SyntheticLibraryScenes(library, **options)  # type: ignore[arg-type]


def test_library_loads_offline(library: SpectralLibrary) -> None:
    assert library.spectra.shape == (7261, 180)
    assert library.spectra.dtype == np.float32
    assert 0.0 <= library.spectra.min()
    assert library.spectra.max() <= 1.0
    # Median reflectance of soils, vegetation and materials: a plausible 0.1-0.5.
    assert 0.1 < float(np.median(library.spectra)) < 0.5
    check_wavelengths(library.wavelengths, 180)
    assert library.wavelengths[0] == 400.0
    assert library.wavelengths[-1] == 2450.0
    # Water-vapour regions are absent from earthlib.
    assert not np.any((library.wavelengths > 1360) & (library.wavelengths < 1450))
    assert np.all(library.fwhm == 10.0)
    assert library.classes == ('bare', 'built', 'burned', 'npv', 'vegetation')
    counts = dict(zip(library.classes, np.bincount(library.labels), strict=True))
    assert counts == {
        'bare': 4248,
        'built': 888,
        'burned': 21,
        'npv': 104,
        'vegetation': 2000,
    }
    assert len(library.names) == len(library) == 7261
    assert not library.spectra.flags.writeable
    # Green vegetation: red edge (NIR far above red).
    vegetation = library.spectra[library.level2 == 'vegetation'].mean(axis=0)
    red = vegetation[library.wavelengths == 670.0][0]
    nir = vegetation[library.wavelengths == 850.0][0]
    assert nir > 2 * red


def test_library_levels_and_select() -> None:
    level1 = load_spectral_library(level=1)
    assert level1.classes == ('impervious', 'pervious')
    level3 = load_spectral_library(level=3)
    assert {'soil', 'canopy', 'road', 'char'} <= set(level3.classes)
    measured = level1.select(level1.origin == 'measured')
    assert len(measured) == 5261
    assert 'vegetation' not in set(measured.level2)
    assert measured.classes == level1.classes
    with pytest.raises(ValueError, match='level must be 1, 2 or 3, found 4'):
        load_spectral_library(level=4)


def test_library_checks_lengths(library: SpectralLibrary) -> None:
    with pytest.raises(ValueError, match='library labels: expected 7261 entries'):
        SpectralLibrary(
            spectra=library.spectra,
            wavelengths=library.wavelengths,
            fwhm=library.fwhm,
            names=library.names,
            classes=library.classes,
            labels=library.labels[:10],
            level1=library.level1,
            level2=library.level2,
            level3=library.level3,
            origin=library.origin,
            source=library.source,
        )


def test_missing_earthlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(ModuleNotFoundError, match='pip install earthlib'):
        load_spectral_library()


def write_library(folder: Path, values: np.ndarray, names: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    lines, samples = values.shape
    values.astype('<f4').tofile(folder / 'spectra.sli')
    header = (
        f'ENVI\nsamples = {samples}\nlines = {lines}\nbands = 1\nheader offset = 0\n'
        'file type = ENVI Spectral Library\ndata type = 4\nbyte order = 0\n'
        f'spectra names = {{ {" , ".join(names)} }}\n'
        'wavelength units = Micrometers\n'
        f'wavelength = {{ {" , ".join(str(0.4 + 0.01 * i) for i in range(samples))} }}\n'
    )
    (folder / 'spectra.sli.hdr').write_text(header)


def test_envi_reader_units_and_errors(tmp_path: Path) -> None:
    write_library(tmp_path, np.full((2, 4), 0.5), ['a', 'b'])
    spectra, centres, names = library_module._read_envi_library(
        tmp_path / 'spectra.sli'
    )
    assert spectra.shape == (2, 4)
    np.testing.assert_allclose(centres, [400, 410, 420, 430])
    assert names == ['a', 'b']
    np.full(7, 0.5, dtype='<f4').tofile(tmp_path / 'spectra.sli')
    with pytest.raises(ValueError, match=r'spectra.sli: expected 2 spectra x 4 bands'):
        library_module._read_envi_library(tmp_path / 'spectra.sli')


def test_metadata_must_match_spectra(tmp_path: Path) -> None:
    names = [f's{i}' for i in range(8)]
    write_library(tmp_path, np.full((8, 4), 0.5), names)
    rows = ['NAME,LEVEL_1,LEVEL_2,LEVEL_3,LEVEL_4,SOURCE']
    rows += [f'{n},pervious,bare,soil,measured,x' for n in reversed(names)]
    (tmp_path / 'spectra.csv').write_text('\n'.join(rows) + '\n')
    with pytest.raises(ValueError, match='8 different names'):
        library_module._load_earthlib(tmp_path)


def test_samples_deterministic(library: SpectralLibrary) -> None:
    ds = scenes(library)
    later = ds[5]
    first = ds[3]
    again = scenes(library)[3]
    assert set(first) == {'image', 'wavelength', 'mask'}
    for key in first:
        assert torch.equal(first[key], again[key])
    assert not torch.equal(first['image'][:1], later['image'][:1])
    other = scenes(library, seed=8)[3]
    assert other['image'].shape != first['image'].shape or not torch.equal(
        other['image'], first['image']
    )


def test_sample_shapes_and_wavelengths(library: SpectralLibrary) -> None:
    ds = scenes(library)
    low, high = ds.wavelength_range
    assert (low, high) == (395.0, 2455.0)
    for index in range(4):
        sample = ds[index]
        image, wavelength, mask = sample['image'], sample['wavelength'], sample['mask']
        assert image.dtype == torch.float32
        assert image.ndim == 3
        assert image.shape[1:] == (12, 12)
        assert torch.isfinite(image).all()
        assert wavelength.dtype == torch.float32
        check_wavelengths(wavelength, image.shape[0])
        assert low <= float(wavelength.min())
        assert float(wavelength.max()) <= high
        assert mask.shape == (12, 12)
        assert mask.dtype == torch.int64
        assert 0 <= int(mask.min())
        assert int(mask.max()) < len(ds.classes)


def test_random_band_sets(library: SpectralLibrary) -> None:
    ds = scenes(library, sensors=(), length=300)
    counts = []
    for index in range(300):
        sensor, centres, fwhm = ds.band_set(index)
        assert sensor == 'random'
        check_wavelengths(centres)
        assert 400.0 <= centres[0]
        assert centres[-1] <= 2450.0
        assert np.all((fwhm >= 2.0) & (fwhm <= 170.0))
        counts.append(centres.size)
    assert 3 <= min(counts)
    assert max(counts) <= 400
    assert max(counts) - min(counts) > 300
    few = scenes(library, sensors=(), num_bands_range=(3, 3))[0]
    assert few['image'].shape[0] == 3


def test_most_bands(library: SpectralLibrary) -> None:
    ds = scenes(library, sensors=(), num_bands_range=(400, 400), size=4)
    sample = ds[0]
    assert sample['image'].shape == (400, 4, 4)
    check_wavelengths(sample['wavelength'], 400)


def test_mask_is_dominant_class(library: SpectralLibrary) -> None:
    ds = scenes(library, size=16)
    for index in range(3):
        scene = ds.generate(index)
        assert scene.abundances.shape == (scene.endmembers.size, 16, 16)
        np.testing.assert_allclose(scene.abundances.sum(axis=0), 1.0, rtol=1e-9)
        assert scene.abundances.min() >= 0.0
        assert np.unique(scene.endmember_labels).size >= 2
        per_class = np.zeros((len(ds.classes), 16, 16))
        for label, abundance in zip(
            scene.endmember_labels, scene.abundances, strict=True
        ):
            per_class[label] += abundance
        np.testing.assert_array_equal(scene.mask, per_class.argmax(axis=0))
        assert set(np.unique(scene.mask)) <= set(scene.endmember_labels.tolist())
        np.testing.assert_array_equal(ds[index]['mask'].numpy(), scene.mask)


def test_image_is_lit_mixture_plus_noise(library: SpectralLibrary) -> None:
    ds = scenes(library, size=16)
    scene = ds.generate(2)
    spectra = resample_spectra(
        library.spectra[scene.endmembers].astype(np.float64),
        library.wavelengths,
        library.fwhm,
        scene.wavelengths,
        scene.fwhm,
        dim=-1,
    )
    mixture = np.einsum('kc,khw->chw', spectra, scene.abundances)
    relative = (scene.wavelengths - 1425.0) / 1025.0
    expected = mixture * scene.shading * (1 + scene.tilt * relative[:, None, None])
    residual = scene.image - expected
    # Noise: unbiased, below 1/30 of the signal plus a 0.005 floor.
    assert abs(float(residual.mean())) < 1e-3
    assert float(residual.std()) < float(expected.std()) / 3 + 0.005
    assert float(np.abs(residual).max()) > 0


def test_sensor_band_count(library: SpectralLibrary) -> None:
    ds = scenes(library, sensors=['sentinel2'], sensor_probability=1.0)
    sample = ds[0]
    sentinel2 = get_sensor('sentinel2')
    assert sample['image'].shape[0] == sentinel2.num_bands == 13
    np.testing.assert_allclose(
        sample['wavelength'].numpy(), sentinel2.wavelengths, rtol=1e-6
    )
    assert ds.generate(0).sensor == 'sentinel2'
    # Thermal and out-of-range bands cannot come from a 400-2450 nm library.
    centres, _ = ds.sensor_bands('landsat8')
    assert centres.size == 9
    assert ds.sensor_bands('enmap')[0].size == get_sensor('enmap').num_bands


def test_group_shares_band_set(library: SpectralLibrary) -> None:
    ds = scenes(library, group_size=2, size=8)
    batch = collate_spectral([ds[2], ds[3]])
    assert batch['image'].shape[0] == 2
    assert batch['wavelength'].shape[0] == 2
    assert not torch.equal(batch['image'][0], batch['image'][1])


def test_arguments_checked(library: SpectralLibrary) -> None:
    with pytest.raises(ValueError, match=r'num_bands_range must be .* found \(2, 10\)'):
        scenes(library, num_bands_range=(2, 10))
    with pytest.raises(ValueError, match=r'materials_range'):
        scenes(library, materials_range=(1, 3))
    with pytest.raises(ValueError, match='size must be an integer >= 1'):
        scenes(library, size=0)
    with pytest.raises(ValueError, match='sensor_probability'):
        scenes(library, sensor_probability=1.5)
    with pytest.raises(ValueError, match='at least 2 classes'):
        scenes(library.select(library.level2 == 'bare'))
    with pytest.raises(IndexError, match='index 50 out of range for 50 scenes'):
        scenes(library)[50]


def test_transforms_and_plot(library: SpectralLibrary) -> None:
    def double(sample: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {**sample, 'image': sample['image'] * 2}

    plain = scenes(library, size=8)[1]
    doubled = scenes(library, size=8, transforms=double)[1]
    assert torch.equal(doubled['image'], plain['image'] * 2)
    figure = scenes(library, size=8).plot(plain, suptitle='scene')
    assert figure.axes
    plt.close(figure)
