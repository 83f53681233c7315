from collections.abc import Callable
from pathlib import Path

import kornia.augmentation as K
import numpy as np
import pytest
import torch
from torch import Tensor, nn

from torchgeo_spectral.sensors import get_sensor, resample_spectra
from torchgeo_spectral.transforms import (
    RandomBandDropout,
    RandomBandSubset,
    RandomBandWindow,
    RandomGaussianNoise,
    RandomIlluminationScale,
    RandomSpectralShift,
    SimulateSensor,
    SpectralTransform,
    WavelengthNormalize,
)

ENMAP = get_sensor('enmap')
WL = torch.tensor(ENMAP.wavelengths, dtype=torch.float32)

FACTORIES: dict[str, Callable[[], SpectralTransform]] = {
    'simulate_s2': lambda: SimulateSensor('sentinel2'),
    'simulate_l8': lambda: SimulateSensor('landsat8', drop_out_of_range=True),
    'illumination': lambda: RandomIlluminationScale(tilt=(-0.5, 0.5), p=1, seed=0),
    'noise': lambda: RandomGaussianNoise(p=1, seed=0),
    'shift': lambda: RandomSpectralShift(0.5, p=1, seed=0),
    'shift_interp': lambda: RandomSpectralShift(
        0.5, mode='interpolate', same_on_batch=False, p=1, seed=0
    ),
    'dropout_remove': lambda: RandomBandDropout(0.5, p=1, seed=0),
    'dropout_zero': lambda: RandomBandDropout(0.5, mode='zero', p=1, seed=0),
    'subset': lambda: RandomBandSubset((3, 40), seed=0),
    'window': lambda: RandomBandWindow((3, 40), seed=0),
    'normalize': lambda: WavelengthNormalize(
        ENMAP.wavelengths, np.full(224, 0.5), np.full(224, 2.0)
    ),
}


def assert_close(actual: Tensor, expected: Tensor) -> None:
    # torch.testing.assert_close costs ~10 s on its first call (lazy imports).
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    assert torch.allclose(actual, expected, rtol=1e-5, atol=1e-5)


def check_consistent(image: Tensor, wavelength: Tensor, batched: bool) -> None:
    assert image.ndim == (4 if batched else 3)
    assert wavelength.shape[-1] == image.shape[-3]
    assert wavelength.dtype == torch.float32
    assert bool((wavelength.diff(dim=-1) > 0).all())
    assert torch.isfinite(image).all()
    if wavelength.ndim == 2:
        assert wavelength.shape[0] == image.shape[0]


@pytest.fixture
def batch() -> dict[str, Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        'image': torch.rand(3, 224, 6, 6, generator=generator) + 0.1,
        'wavelength': WL.clone(),
        'mask': torch.zeros(3, 6, 6, dtype=torch.long),
    }


@pytest.mark.parametrize('name', FACTORIES)
def test_batch_dict_stays_consistent(name: str, batch: dict[str, Tensor]) -> None:
    out = FACTORIES[name]()(batch)
    check_consistent(out['image'], out['wavelength'], batched=True)
    assert out['mask'] is batch['mask']
    assert batch['wavelength'].shape == (224,)  # input untouched


@pytest.mark.parametrize('name', FACTORIES)
def test_single_sample_and_pair(name: str, batch: dict[str, Tensor]) -> None:
    transform = FACTORIES[name]()
    sample = {'image': batch['image'][0], 'wavelength': WL, 'label': 3}
    out = transform(sample)
    check_consistent(out['image'], out['wavelength'], batched=False)
    assert out['label'] == 3
    image, wavelength = transform(batch['image'], WL)
    check_consistent(image, wavelength, batched=True)


@pytest.mark.parametrize('name', FACTORIES)
def test_per_sample_wavelengths(name: str, batch: dict[str, Tensor]) -> None:
    batch['wavelength'] = WL.expand(3, -1).clone()
    out = FACTORIES[name]()(batch)
    check_consistent(out['image'], out['wavelength'], batched=True)
    assert out['wavelength'].ndim == 2


@pytest.mark.parametrize('name', FACTORIES)
def test_reproducible_under_a_seed(name: str, batch: dict[str, Tensor]) -> None:
    a, b = FACTORIES[name]()(batch), FACTORIES[name]()(batch)
    assert torch.equal(a['image'], b['image'])
    assert torch.equal(a['wavelength'], b['wavelength'])


def test_simulate_sensor_equals_resample_spectra(batch: dict[str, Tensor]) -> None:
    s2 = get_sensor('sentinel2')
    out = SimulateSensor('sentinel2')(batch)
    expected = resample_spectra(
        batch['image'], ENMAP.wavelengths, None, s2.wavelengths, s2.fwhm
    )
    assert_close(out['image'], expected)
    assert_close(out['wavelength'], torch.tensor(s2.wavelengths, dtype=torch.float32))
    # Per-sample wavelengths that differ are resampled sample by sample.
    wl = torch.stack([WL, WL + 1.0, WL - 1.0])
    out = SimulateSensor(s2)({'image': batch['image'], 'wavelength': wl})
    for i in range(3):
        expected = resample_spectra(
            batch['image'][i], wl[i].double().numpy(), None, s2.wavelengths, s2.fwhm
        )
        assert_close(out['image'][i], expected)


def test_simulate_sensor_out_of_range(batch: dict[str, Tensor]) -> None:
    with pytest.raises(ValueError, match='outside the source range'):
        SimulateSensor('landsat8')(batch)
    out = SimulateSensor('landsat8', drop_out_of_range=True)(batch)
    l8 = get_sensor('landsat8')
    assert out['image'].shape[1] < l8.num_bands
    assert float(out['wavelength'].max()) < 2500
    rgb = {'image': batch['image'][:, :3], 'wavelength': WL[:3]}
    with pytest.raises(ValueError, match='no band of sentinel2'):
        SimulateSensor('sentinel2', drop_out_of_range=True)(rgb)


def test_illumination_without_tilt_is_a_scalar_gain(batch: dict[str, Tensor]) -> None:
    out = RandomIlluminationScale((0.5, 2.0), p=1, seed=1)(batch)
    ratio = out['image'] / batch['image']
    per_sample = ratio.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample))
    assert bool(((per_sample >= 0.5) & (per_sample <= 2.0)).all())


def test_illumination_tilt_is_linear_in_wavelength(batch: dict[str, Tensor]) -> None:
    out = RandomIlluminationScale(1.0, tilt=0.4, p=1)(batch)
    gain = (out['image'] / batch['image'])[0, :, 0, 0]
    assert float(gain[0]) == pytest.approx(0.8, abs=1e-5)
    assert float(gain[-1]) == pytest.approx(1.2, abs=1e-5)
    assert bool((gain.diff() > 0).all())


def test_noise_matches_the_snr(batch: dict[str, Tensor]) -> None:
    image = torch.ones(2, 4, 200, 200)
    out = RandomGaussianNoise(snr_db=20.0, p=1, seed=0)(image, WL[:4])[0]
    assert float((out - image).std()) == pytest.approx(0.1, rel=0.02)


def test_probability_zero_is_identity(batch: dict[str, Tensor]) -> None:
    for transform in [
        RandomIlluminationScale(p=0),
        RandomGaussianNoise(p=0),
        RandomSpectralShift(p=0),
        RandomBandDropout(p=0),
        RandomBandSubset(5, p=0),
        RandomBandWindow(5, p=0),
        SimulateSensor('sentinel2', p=0),
    ]:
        out = transform(batch)
        assert torch.equal(out['image'], batch['image'])
        assert torch.equal(out['wavelength'], batch['wavelength'])


def test_shift_stays_within_the_fwhm_fraction(batch: dict[str, Tensor]) -> None:
    fwhm = torch.tensor(ENMAP.fwhm)
    transform = RandomSpectralShift(0.3, fwhm=ENMAP.fwhm, p=1, seed=0)
    for _ in range(10):
        out = transform(batch)
        delta = (out['wavelength'].double() - WL.double()).abs()
        assert bool((delta <= 0.3 * fwhm + 1e-3).all())
        assert torch.equal(out['image'], batch['image'])  # relabel mode


def test_shift_interpolates_the_image() -> None:
    wl = torch.tensor([400.0, 410.0, 420.0, 430.0])
    image = wl[:, None, None].expand(4, 2, 2).clone()  # value = wavelength
    image, shifted = RandomSpectralShift(0.5, p=1, mode='interpolate', seed=3)(
        image, wl
    )
    assert not torch.equal(shifted, wl)
    inside = (shifted >= 400) & (shifted <= 430)
    assert_close(image[inside, 0, 0], shifted[inside])


def test_shift_with_uneven_fwhm_keeps_order() -> None:
    wl = torch.tensor([400.0, 401.0, 402.0])
    transform = RandomSpectralShift(0.5, fwhm=[1.0, 40.0, 1.0], p=1, seed=0)
    for _ in range(20):
        _, out = transform(torch.ones(3, 2, 2), wl)
        assert bool((out.diff() > 0).all())


def test_band_sets_are_shared_by_the_batch(batch: dict[str, Tensor]) -> None:
    subset = RandomBandSubset(10, seed=0)(batch)
    index = torch.searchsorted(WL, subset['wavelength'])
    assert torch.equal(subset['image'], batch['image'][:, index])
    window = RandomBandWindow(10, seed=0)(batch)
    start = int(torch.searchsorted(WL, window['wavelength'][0]))
    assert torch.equal(window['wavelength'], WL[start : start + 10])
    assert torch.equal(window['image'], batch['image'][:, start : start + 10])


def test_band_set_varies_between_batches(batch: dict[str, Tensor]) -> None:
    transform = RandomBandSubset((5, 50), seed=0)
    sets = {tuple(transform(batch)['wavelength'].tolist()) for _ in range(5)}
    assert len(sets) > 1


def test_dropout_modes(batch: dict[str, Tensor]) -> None:
    removed = RandomBandDropout(0.5, min_keep=4, p=1, seed=2)(batch)
    assert 4 <= removed['image'].shape[1] < 224
    index = torch.searchsorted(WL, removed['wavelength'])
    assert torch.equal(removed['image'], batch['image'][:, index])
    zeroed = RandomBandDropout(0.5, mode='zero', p=1, seed=2)(batch)
    dropped = (zeroed['image'] == 0).flatten(2).all(-1)
    assert bool(dropped.any())
    kept = ~dropped
    assert torch.equal(zeroed['image'][kept], batch['image'][kept])
    everything = RandomBandDropout(1.0, min_keep=2, p=1, seed=0)(batch)
    assert everything['image'].shape[1] == 2


def test_normalize_by_wavelength(batch: dict[str, Tensor]) -> None:
    mean = np.linspace(0, 1, 224)
    std = np.linspace(1, 2, 224)
    norm = WavelengthNormalize(ENMAP.wavelengths, mean, std)
    out = norm(batch)
    expected = (
        batch['image'] - torch.tensor(mean, dtype=torch.float32)[:, None, None]
    ) / torch.tensor(std, dtype=torch.float32)[:, None, None]
    assert_close(out['image'], expected)
    # A band subset finds its own statistics.
    sub = RandomBandSubset(7, seed=0)(batch)
    index = torch.searchsorted(WL, sub['wavelength'])
    assert_close(norm(sub)['image'], expected[:, index])
    with pytest.raises(ValueError, match='outside the normalization table'):
        norm(torch.ones(1, 2, 2), torch.tensor([5000.0]))


def test_composes_with_kornia(batch: dict[str, Tensor]) -> None:
    pipeline = nn.Sequential(
        RandomBandWindow(16, seed=0),
        K.AugmentationSequential(
            K.RandomHorizontalFlip(p=1.0), data_keys=None, keepdim=True
        ),
        RandomGaussianNoise(p=1, seed=0),
    )
    batch['mask'] = torch.arange(36).reshape(1, 6, 6).expand(3, -1, -1).clone()
    out = pipeline(batch)
    check_consistent(out['image'], out['wavelength'], batched=True)
    assert out['image'].shape[1] == 16
    assert torch.equal(out['mask'], batch['mask'].flip(-1))


@pytest.mark.parametrize(
    ('call', 'match'),
    [
        (lambda: RandomBandSubset(5)(torch.ones(3, 2, 2), torch.ones(4)), 'bands'),
        (lambda: RandomBandSubset(5)(torch.ones(3, 2)), 'wavelength is required'),
        (lambda: RandomBandSubset(5)({'image': torch.ones(3, 2, 2)}), 'no '),
        (lambda: RandomBandSubset(5)(torch.ones(2, 3, 2, 2), torch.ones(3, 3)), 'rows'),
        (lambda: RandomBandSubset(5)(torch.ones(2, 2), torch.ones(2)), 'shape'),
        (lambda: RandomBandSubset(0), 'num_bands'),
        (lambda: RandomBandWindow((5, 2)), 'width'),
        (lambda: RandomBandDropout(2.0), 'drop_prob'),
        (lambda: RandomBandDropout(mode='nan'), 'mode'),  # type: ignore[arg-type]
        (lambda: RandomIlluminationScale(tilt=3.0), 'tilt'),
        (lambda: RandomIlluminationScale(scale=-1.0), 'scale'),
        (lambda: RandomSpectralShift(-1.0), 'max_fraction'),
        (lambda: RandomGaussianNoise(p=2.0), 'p must'),
        (
            lambda: RandomSpectralShift(p=1, fwhm=[1.0, 2.0])(
                torch.ones(3, 2, 2), torch.tensor([1.0, 2.0, 3.0])
            ),
            'fwhm',
        ),
        (lambda: WavelengthNormalize([2.0, 1.0], [0, 0], [1, 1]), 'increasing'),
        (lambda: WavelengthNormalize([1.0, 2.0], [0, 0], [1, 0]), 'positive'),
    ],
)
def test_bad_input(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.data
def test_simulate_sentinel2_on_an_enmap_tile(shared_data: Path) -> None:
    rasterio = pytest.importorskip('rasterio')
    tiles = sorted((shared_data / 'enmap_potsdam' / 'images').glob('*.tif'))
    if not tiles:
        pytest.skip('no EnMAP tiles found')
    with rasterio.open(tiles[0]) as src:
        cube = torch.from_numpy(src.read().astype(np.float32))
    s2 = get_sensor('sentinel2')
    batch = {'image': cube[None], 'wavelength': WL}
    out = nn.Sequential(
        SimulateSensor('sentinel2'), RandomIlluminationScale(p=1, seed=0)
    )(batch)
    check_consistent(out['image'], out['wavelength'], batched=True)
    assert out['image'].shape == (1, s2.num_bands, *cube.shape[1:])
    simulated = SimulateSensor('sentinel2')(cube, WL)[0]
    expected = resample_spectra(cube, ENMAP.wavelengths, None, s2.wavelengths, s2.fwhm)
    assert_close(simulated, expected)


def test_inside_a_torchgeo_datamodule(batch: dict[str, Tensor]) -> None:
    from types import SimpleNamespace

    from torchgeo.datamodules import NonGeoDataModule
    from torchgeo.datasets import NonGeoDataset

    datamodule = NonGeoDataModule(NonGeoDataset, batch_size=3)
    datamodule.train_aug = nn.Sequential(
        RandomBandSubset(12, seed=0), RandomIlluminationScale(p=1, seed=0)
    )
    datamodule.trainer = SimpleNamespace(training=True)  # type: ignore[assignment]
    out = datamodule.on_after_batch_transfer(dict(batch), 0)
    check_consistent(out['image'], out['wavelength'], batched=True)
    assert out['image'].shape[1] == 12
