"""Tests of the wavelength contract (torchgeo_spectral.wavelengths).

One test per silent unit case of issue 13, and the check that the same file gives
the same wavelengths through sensors, datasets and inference.
"""

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin

from torchgeo_spectral.datamodules.mixed import _band_key
from torchgeo_spectral.datasets import (
    HyperspectralRaster,
    ProximalHyperspectral,
    collate_spectral,
)
from torchgeo_spectral.datasets.io import CubeInfo
from torchgeo_spectral.inference.raster import open_raster_info, resolve_wavelengths
from torchgeo_spectral.models import SpectralViT
from torchgeo_spectral.models.validation import prepare_wavelengths
from torchgeo_spectral.sensors import get_sensor
from torchgeo_spectral.sensors import read_wavelengths as sensors_read_wavelengths
from torchgeo_spectral.wavelengths import (
    BAND_SET_TOLERANCE_NM,
    AddWavelengths,
    MissingWavelengthsError,
    MixedBandSetsError,
    WavelengthError,
    check_wavelengths,
    find_band_set,
    normalize_units,
    read_wavelengths,
    same_band_set,
    sort_bands,
    to_nanometers,
)

TINY_VIT = {
    'patch_size': 4,
    'bands_per_token': 2,
    'embed_dim': 32,
    'depth': 1,
    'num_heads': 2,
}


def write_tiff(
    path: Path,
    wavelengths: list[float] | None,
    units: str | None = None,
    *,
    seed: int = 0,
) -> Path:
    """Write a tiny georeferenced float32 GeoTIFF with per-band wavelength tags."""
    count = len(wavelengths) if wavelengths is not None else 3
    profile = {
        'driver': 'GTiff',
        'width': 8,
        'height': 8,
        'count': count,
        'dtype': 'float32',
        'crs': 'EPSG:32633',
        'transform': from_origin(500000, 5800000, 30, 30),
    }
    data = np.random.default_rng(seed).random((count, 8, 8), dtype=np.float32)
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
        for i, value in enumerate(wavelengths or [], start=1):
            tags = {'wavelength': repr(value)}
            if units is not None:
                tags['wavelength_units'] = units
            dst.update_tags(i, **tags)
    return path


# ------------------------------------------------------------------ units rule


@pytest.mark.parametrize(
    ('values', 'units', 'expected'),
    [
        ([450.0, 550.0, 650.0], None, [450.0, 550.0, 650.0]),
        ([450.0, 550.0, 650.0], 'Nanometers', [450.0, 550.0, 650.0]),
        ([0.45, 0.55, 0.65], None, [450.0, 550.0, 650.0]),
        ([0.45, 0.55, 0.65], 'Micrometers', [450.0, 550.0, 650.0]),
        ([0.45, 0.55, 0.65], 'µm', [450.0, 550.0, 650.0]),
        ([10.9, 12.0], 'um', [10900.0, 12000.0]),  # thermal infrared
        ([2.0, 4.0, 6.0], None, [2000.0, 4000.0, 6000.0]),  # integers, not indices
    ],
)
def test_to_nanometers_converts(
    values: list[float], units: str | None, expected: list[float]
) -> None:
    np.testing.assert_allclose(to_nanometers(values, units), expected)


def test_to_nanometers_keeps_order_and_accepts_tensors() -> None:
    out = to_nanometers(torch.tensor([0.7, 0.4, 0.5]))
    np.testing.assert_allclose(out, [700.0, 400.0, 500.0], rtol=1e-6)


@pytest.mark.parametrize('count', [12, 40])
def test_band_indices_are_an_error(count: int) -> None:
    # Issue 13: 1..12 were read as micrometres (1000-12000 nm), 1..40 as nm.
    for units in (None, 'Micrometers', 'nm'):
        with pytest.raises(
            WavelengthError, match=rf'look like band indices \(1..{count}\)'
        ):
            to_nanometers(list(range(1, count + 1)), units, source='cube.hdr')
    with pytest.raises(WavelengthError, match=r'band indices \(0..'):
        to_nanometers(list(range(count)))


def test_nanometres_tagged_micrometres_are_an_error() -> None:
    # Issue 13: 420-2400 tagged "Micrometers" became 420 000 nm.
    with pytest.raises(
        WavelengthError, match=r'^scene\.tif: mislabelled units.*tagged micrometers'
    ):
        to_nanometers([420.0, 1000.0, 2400.0], 'Micrometers', source='scene.tif')
    with pytest.raises(WavelengthError, match='tagged nanometers but read as micro'):
        to_nanometers([0.42, 1.0, 2.4], 'nm', source='scene.tif')


@pytest.mark.parametrize(
    ('values', 'units', 'match'),
    [
        ([45.0, 55.0, 65.0], None, r'cannot tell the units .*45-65'),
        ([0.5, 500.0], None, 'cannot tell the units'),
        ([4000.0, 5000.0], 'Wavenumber', "unsupported wavelength units 'Wavenumber'"),
        ([100.0, 150.0], 'nm', r'outside the physical range 200-15000 nm'),
        ([20.0, 30.0], 'um', r'outside the physical range .*20000'),
        ([np.nan, 500.0, 600.0], None, r'non-finite values at index \[0\]'),
        ([[450.0]], None, 'must be 1-D'),
        ([], None, 'is empty'),
    ],
)
def test_to_nanometers_rejects(
    values: list[float], units: str | None, match: str
) -> None:
    with pytest.raises(WavelengthError, match=match):
        to_nanometers(values, units, source='arg')


def test_normalize_units() -> None:
    assert normalize_units('Nanometers') == 'nm'
    assert normalize_units(' Microns ') == 'um'
    assert normalize_units('Unknown') is None
    assert normalize_units(None) is None
    with pytest.raises(ValueError, match="unsupported wavelength units 'GHz'"):
        normalize_units('GHz')


# ---------------------------------------------------------- checks and sorting


def test_check_and_sort() -> None:
    ordered, order = sort_bands([700.0, 400.0, 500.0], source='f.tif')
    assert ordered.tolist() == [400.0, 500.0, 700.0]
    assert order.tolist() == [1, 2, 0]
    with pytest.raises(
        WavelengthError, match=r'^f\.tif: duplicated .*bands 1 and 3 .* 500\.00 nm'
    ):
        sort_bands([500.0, 400.0, 500.0], source='f.tif')
    with pytest.raises(WavelengthError, match='expected 3 band centres, found 2'):
        check_wavelengths([400.0, 500.0], 3)


# ------------------------------------------------------------------- band sets


def test_one_tolerance() -> None:
    assert BAND_SET_TOLERANCE_NM == 0.5
    a = np.array([400.0, 500.0, 600.0])
    assert same_band_set(a, a + 0.04)
    assert same_band_set(torch.tensor(a), a + BAND_SET_TOLERANCE_NM)
    assert not same_band_set(a, a + 0.6)
    assert not same_band_set(a, a[:2])
    assert same_band_set(None, None)
    assert not same_band_set(a, None)
    assert find_band_set(a + 0.04, [(1.0,), tuple(a.tolist())]) == tuple(a.tolist())
    assert find_band_set(a + 3.0, [tuple(a.tolist())]) is None


def test_band_sets_0_04_nm_apart_are_one_everywhere(tmp_path: Path) -> None:
    # Issue 13: grouped by the mixed data module, then rejected by collate.
    base = [450.0, 550.0, 650.0, 750.0]
    near = [w + 0.04 for w in base]
    # collate
    samples = [
        {'image': torch.zeros(4, 2, 2), 'wavelength': torch.tensor(w)}
        for w in (base, near)
    ]
    batch = collate_spectral(samples)
    assert batch['wavelength'].shape == (2, 4)
    # mixed data module grouping
    first = _band_key(torch.tensor(base))
    assert _band_key(torch.tensor(near), [first]) == first
    # georeferenced dataset: both files form one band set
    folder = tmp_path / 'tifs'
    folder.mkdir()
    write_tiff(folder / 'a.tif', base, 'nm')
    write_tiff(folder / 'b.tif', near, 'nm', seed=1)
    assert len(HyperspectralRaster(folder).files) == 2
    # proximal dataset: one band set
    assert len(ProximalHyperspectral(folder).infos) == 2
    # inference: a model fixed to one matches a raster of the other
    info = open_raster_info(folder / 'b.tif')
    assert resolve_wavelengths(info, None, base, None) == tuple(near)
    # and a band set further apart is refused by collate
    samples[1]['wavelength'] = torch.tensor([w + 1.0 for w in base])
    with pytest.raises(MixedBandSetsError, match='must not mix band sets'):
        collate_spectral(samples)


# --------------------------------------------------------------------- reading


def test_same_file_same_wavelengths_everywhere(tmp_path: Path) -> None:
    # Issue 13: sensors read [45, 55, 65], inference (45000, 55000, 65000).
    path = write_tiff(tmp_path / 'unitless.tif', [0.45, 0.55, 0.65])
    expected = [450.0, 550.0, 650.0]
    np.testing.assert_allclose(sensors_read_wavelengths(path).centres, expected)
    np.testing.assert_allclose(read_wavelengths(path).centres, expected)
    info = CubeInfo.read(path)
    assert info.wavelengths is not None
    np.testing.assert_allclose(info.wavelengths, expected)
    dataset = HyperspectralRaster(tmp_path)
    np.testing.assert_allclose(dataset.wavelengths.numpy(), expected, rtol=1e-6)
    proximal = ProximalHyperspectral(path)
    np.testing.assert_allclose(proximal.wavelengths.numpy(), expected, rtol=1e-6)
    raster = open_raster_info(path)
    assert raster.wavelengths is not None
    np.testing.assert_allclose(raster.wavelengths, expected)


def test_ambiguous_file_fails_the_same_everywhere(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / 'ambiguous.tif', [45.0, 55.0, 65.0])
    readers = (
        lambda: read_wavelengths(path),
        lambda: CubeInfo.read(path),
        lambda: HyperspectralRaster(tmp_path),
        lambda: open_raster_info(path),
    )
    for reader in readers:
        with pytest.raises(WavelengthError, match=r'ambiguous\.tif: cannot tell'):
            reader()


def test_file_with_band_indices_names_the_file(tmp_path: Path) -> None:
    write_tiff(tmp_path / 'indices.tif', [float(i) for i in range(1, 13)])
    with pytest.raises(
        WavelengthError, match=r'indices\.tif: .*band indices \(1..12\)'
    ):
        HyperspectralRaster(tmp_path)


def test_file_tagged_micrometres_in_nanometres(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / 'tagged.tif', [420.0, 1000.0, 2400.0], 'Micrometers')
    with pytest.raises(WavelengthError, match=r'tagged\.tif: mislabelled units'):
        open_raster_info(path)
    # units= applies only where the file states none, and must not contradict it
    with pytest.raises(WavelengthError, match='states wavelength units'):
        read_wavelengths(path, units='nm')
    plain = write_tiff(tmp_path / 'plain.tif', [0.45, 0.55])
    np.testing.assert_allclose(read_wavelengths(plain, units='um').centres, [450, 550])


def test_file_without_wavelengths(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / 'none.tif', None)
    with pytest.raises(MissingWavelengthsError, match=r'none\.tif: no band wave'):
        read_wavelengths(path)
    assert CubeInfo.read(path).wavelengths is None
    assert open_raster_info(path).wavelengths is None


@pytest.mark.parametrize(
    ('text', 'centres', 'fwhm'),
    [
        ('450\n550.5\n650\n', [450.0, 550.5, 650.0], None),
        ('450, 550.5, 650\n', [450.0, 550.5, 650.0], None),
        (
            'wavelength,fwhm\n450,10\n550.5,10\n650,12\n',
            [450.0, 550.5, 650.0],
            [10, 10, 12],
        ),
        ('# centres in um\n0.45\n0.5505\n0.65\n', [450.0, 550.5, 650.0], None),
        ('centre;other\n450;1\n550.5;2\n650;3\n', [450.0, 550.5, 650.0], None),
    ],
)
def test_read_sidecar(
    tmp_path: Path, text: str, centres: list[float], fwhm: list[float] | None
) -> None:
    path = tmp_path / 'wl.csv'
    path.write_text(text)
    result = read_wavelengths(path)
    np.testing.assert_allclose(result.centres, centres)
    if fwhm is None:
        assert result.fwhm is None
    else:
        assert result.fwhm is not None
        np.testing.assert_allclose(result.fwhm, fwhm)


def test_read_sidecar_errors(tmp_path: Path) -> None:
    path = tmp_path / 'wl.txt'
    path.write_text('1\n2\n3\n')
    with pytest.raises(WavelengthError, match=r'wl\.txt: .*band indices'):
        read_wavelengths(path)
    path.write_text('450\n5x0\n')
    with pytest.raises(WavelengthError, match=r'wl\.txt: line 2 has a non-numeric'):
        read_wavelengths(path)
    path.write_text('header only\n')
    with pytest.raises(MissingWavelengthsError, match='no wavelengths found'):
        read_wavelengths(path)
    path.write_text('450\n550\n')
    with pytest.raises(WavelengthError, match='expected 3 band centres, found 2'):
        read_wavelengths(path, num_bands=3)


def test_read_values_and_sensors() -> None:
    np.testing.assert_allclose(read_wavelengths([0.45, 0.55]).centres, [450, 550])
    enmap = read_wavelengths('enmap')
    np.testing.assert_array_equal(enmap.centres, get_sensor('enmap').wavelengths)
    assert enmap.fwhm is not None
    assert read_wavelengths(get_sensor('rgb')).centres.size == 3
    with pytest.raises(WavelengthError, match='no_such_sensor: no such file'):
        read_wavelengths('no_such_sensor')
    with pytest.raises(TypeError, match='source is None'):
        read_wavelengths(None)  # type: ignore[arg-type]


def test_get_sensor_none_is_a_type_error() -> None:
    # Issue 14: get_sensor(None) raised AttributeError.
    with pytest.raises(TypeError, match='sensor name must be a string, got None'):
        get_sensor(None)  # type: ignore[arg-type]


# ------------------------------------------------------- where wavelengths enter


def test_dataset_wavelengths_argument_in_micrometres(tmp_path: Path) -> None:
    # Issue 13: wavelengths=[0.42 .. 2.4] were taken as nm. The unit-less rule
    # converts them (0.2-15 is micrometres); indices are refused.
    write_tiff(tmp_path / 'a.tif', None)
    dataset = HyperspectralRaster(tmp_path, wavelengths=[0.42, 1.2, 2.4])
    np.testing.assert_allclose(dataset.wavelengths.numpy(), [420, 1200, 2400])
    with pytest.raises(WavelengthError, match=r'wavelengths=: .*band indices'):
        HyperspectralRaster(tmp_path, wavelengths=[1.0, 2.0, 3.0])


def test_model_arguments_in_micrometres_are_caught_where_they_enter() -> None:
    # A model given micrometres as its fixed wavelengths (as the fine-tuning tasks
    # do with their ``wavelengths=``) refuses them at construction ...
    with pytest.raises(WavelengthError, match='tagged nanometers but read as micro'):
        SpectralViT(**TINY_VIT, wavelengths=[0.45, 0.55, 0.65])
    # ... and only checks shapes in forward: values are checked where they enter.
    values = torch.tensor([0.5, 0.4, float('nan')])
    out = prepare_wavelengths(values, 2, 3, torch.device('cpu'))
    assert out.shape == (2, 3)
    assert torch.equal(out[1, :2], values[:2])
    assert torch.isnan(out[1, 2])
    with pytest.raises(ValueError, match='expected C=3'):
        prepare_wavelengths(values[:2], 2, 3, torch.device('cpu'))


def test_finetune_task_converts_micrometres_by_the_rule() -> None:
    tasks = pytest.importorskip('torchgeo_spectral.tasks')
    task = tasks.SpectralClassificationTask(
        num_classes=2, wavelengths=[0.45, 0.55, 0.65], **TINY_VIT
    )
    fallback = task.default_wavelengths()
    assert fallback is not None
    assert fallback.tolist() == pytest.approx([450.0, 550.0, 650.0])


def test_finetune_task_refuses_band_indices() -> None:
    tasks = pytest.importorskip('torchgeo_spectral.tasks')
    with pytest.raises(WavelengthError, match='band indices'):
        tasks.SpectralClassificationTask(
            num_classes=2, wavelengths=[1.0, 2.0, 3.0], **TINY_VIT
        )


# ------------------------------------------------------------- AddWavelengths


def test_add_wavelengths_converts_and_sorts() -> None:
    class Dataset:
        def __init__(self) -> None:
            self.wavelengths = {'B1': 0.9, 'B2': 0.45, 'B3': 0.6, 'B4': 2.0}
            self.bands = ('B1', 'B2', 'B3')

    transform = AddWavelengths(Dataset())
    assert transform.wavelengths.tolist() == pytest.approx([450.0, 600.0, 900.0])
    image = torch.arange(3.0).reshape(3, 1, 1).expand(3, 2, 2)
    sample = transform({'image': image, 'wavelength': torch.tensor([0.9, 0.45, 0.6])})
    assert sample['image'][:, 0, 0].tolist() == [1.0, 2.0, 0.0]
    assert sample['wavelength'].tolist() == pytest.approx([450.0, 600.0, 900.0])
    batch = transform({'image': image.expand(2, 3, 2, 2)})
    assert batch['wavelength'].shape == (2, 3)
    with pytest.raises(WavelengthError, match='does not have the 3 channels'):
        transform({'image': torch.zeros(4, 2, 2)})
    assert 'reordered' in repr(transform)
    assert AddWavelengths([450.0, 550.0]).order is None


def test_nan_in_wavelengths_argument_names_the_argument_and_index(
    tmp_path: Path,
) -> None:
    # Issue 14: NaN at index 0 blamed the file and named index [11].
    write_tiff(tmp_path / 'a.tif', None)
    with pytest.raises(WavelengthError, match=r'^wavelengths= has non-finite .*\[0\]'):
        HyperspectralRaster(tmp_path, wavelengths=[float('nan'), 550.0, 650.0])


def test_two_dimensional_npy_with_a_wavelength_file(tmp_path: Path) -> None:
    # Issue 14: a 2-D .npy with a wavelength file said "no band wavelengths".
    np.save(tmp_path / 'band.npy', np.ones((4, 4), dtype=np.float32))
    (tmp_path / 'band.wavelengths.txt').write_text('0.55\n')
    info = CubeInfo.read(tmp_path / 'band.npy')
    assert info.count == 1
    assert info.wavelengths is not None
    assert info.wavelengths.tolist() == [550.0]
    (tmp_path / 'band.wavelengths.txt').write_text('450\n550\n')
    with pytest.raises(
        ValueError, match=r'band\.npy: a 2-D array .* lists 2 wavelengths'
    ):
        CubeInfo.read(tmp_path / 'band.npy')
