import pytest
import torch

from torchgeo_spectral.tasks import (
    MixedBandSetsError,
    SpectralClassificationTask,
    WavelengthError,
    batch_wavelengths,
)
from torchgeo_spectral.tasks.wavelengths import fallback_wavelengths


def test_batch_wavelengths_passed_on_as_given() -> None:
    wl = torch.linspace(400, 900, 5)
    stacked = {'image': torch.zeros(3, 5, 4, 4), 'wavelength': wl.expand(3, 5)}
    assert torch.equal(batch_wavelengths(stacked), wl.expand(3, 5))
    single = {'image': torch.zeros(2, 5, 4, 4), 'wavelength': wl.double()}
    out = batch_wavelengths(single)
    assert out.dtype == torch.float32
    assert torch.equal(out, wl)


def test_missing_wavelengths() -> None:
    batch = {'image': torch.zeros(1, 3, 4, 4)}
    with pytest.raises(WavelengthError, match="no 'wavelength'"):
        batch_wavelengths(batch)
    default = torch.tensor([470.0, 550.0, 650.0])
    assert torch.equal(batch_wavelengths(batch, default), default)


def test_fallback_from_sensor_or_list() -> None:
    wl = fallback_wavelengths(sensor='enmap')
    assert wl is not None
    assert wl.numel() == 224
    assert fallback_wavelengths() is None
    listed = fallback_wavelengths([450.0, 550.0])
    assert listed is not None
    assert listed.tolist() == [450.0, 550.0]
    with pytest.raises(WavelengthError, match='not both'):
        fallback_wavelengths([500.0], sensor='enmap')


def test_fallback_validated_when_the_task_is_built() -> None:
    with pytest.raises(ValueError, match='task wavelengths'):
        SpectralClassificationTask(num_classes=2, wavelengths=[650.0, 550.0])


def test_error_classes_are_value_errors() -> None:
    assert issubclass(MixedBandSetsError, WavelengthError)
    assert issubclass(WavelengthError, ValueError)


def test_fallback_in_micrometers_is_converted_to_nanometers() -> None:
    values = fallback_wavelengths([0.45, 0.55, 0.65], None)
    assert values is not None
    torch.testing.assert_close(values, torch.tensor([450.0, 550.0, 650.0]))


def test_fallback_band_indices_are_refused() -> None:
    with pytest.raises(ValueError, match='band indices'):
        fallback_wavelengths([1.0, 2.0, 3.0, 4.0], None)
