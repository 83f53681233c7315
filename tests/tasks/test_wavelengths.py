import pytest
import torch

from torchgeo_spectral.tasks import (
    MixedBandSetsError,
    WavelengthError,
    batch_wavelengths,
)
from torchgeo_spectral.tasks.wavelengths import default_wavelengths


def test_stacked_wavelengths() -> None:
    wl = torch.linspace(400, 900, 5)
    batch = {'image': torch.zeros(3, 5, 4, 4), 'wavelength': wl.expand(3, 5)}
    assert torch.equal(batch_wavelengths(batch), wl)


def test_single_wavelength_vector() -> None:
    wl = torch.linspace(400, 900, 5)
    batch = {'image': torch.zeros(2, 5, 4, 4), 'wavelength': wl}
    assert torch.equal(batch_wavelengths(batch), wl)


def test_mixed_band_sets_rejected() -> None:
    wl = torch.stack([torch.linspace(400, 900, 5), torch.linspace(450, 950, 5)])
    batch = {'image': torch.zeros(2, 5, 4, 4), 'wavelength': wl}
    with pytest.raises(MixedBandSetsError, match='one band set'):
        batch_wavelengths(batch)


def test_count_mismatch_rejected() -> None:
    batch = {'image': torch.zeros(2, 6, 4, 4), 'wavelength': torch.ones(2, 5)}
    with pytest.raises(WavelengthError, match='5 wavelengths but its image has 6'):
        batch_wavelengths(batch)


def test_missing_wavelengths() -> None:
    batch = {'image': torch.zeros(1, 3, 4, 4)}
    with pytest.raises(WavelengthError, match="no 'wavelength'"):
        batch_wavelengths(batch)
    default = torch.tensor([470.0, 550.0, 650.0])
    assert torch.equal(batch_wavelengths(batch, default), default)


def test_default_from_sensor() -> None:
    wl = default_wavelengths(sensor='enmap')
    assert wl is not None
    assert wl.numel() == 224
    with pytest.raises(WavelengthError, match='not both'):
        default_wavelengths([500.0], sensor='enmap')
