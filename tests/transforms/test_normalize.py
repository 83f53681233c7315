import numpy as np
import pytest
import torch

from torchgeo_spectral.datamodules import SpectralAugmentation
from torchgeo_spectral.transforms import WavelengthNormalize


def test_normalize_by_band_position_fills_nodata() -> None:
    norm = WavelengthNormalize(None, [1.0, 2.0, 3.0], [1.0, 2.0, 4.0], nonfinite=0.0)
    image = torch.tensor([3.0, 6.0, 11.0])[None, :, None, None].repeat(2, 1, 2, 2)
    image[1, 2, 0, 0] = float('nan')
    out, _ = norm(image, torch.tensor([500.0, 600.0, 700.0]))
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([2.0, 2.0, 2.0]))
    assert out[1, 2, 0, 0] == 0.0
    with pytest.raises(ValueError, match='has 4 bands but the normalization'):
        norm(torch.ones(1, 4, 2, 2), torch.arange(4.0) + 500)


def test_data_module_augmentation_uses_the_one_normalizer() -> None:
    aug = SpectralAugmentation(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 2.0]))
    assert isinstance(aug.normalize, WavelengthNormalize)
    batch = {'image': torch.full((1, 2, 3, 3), 5.0), 'wavelength': torch.ones(1, 2)}
    out = aug(batch)
    assert torch.allclose(out['image'][0, :, 0, 0], torch.tensor([2.0, 1.5]))


@pytest.mark.filterwarnings('error')
def test_statistics_from_tensors_and_read_only_arrays_are_copied_quietly() -> None:
    mean = torch.tensor([1.0, 2.0])
    frozen = np.array([2.0, 4.0])
    frozen.flags.writeable = False
    norm = WavelengthNormalize(frozen, mean, frozen)
    mean += 10.0  # the normalizer keeps its own copy
    assert norm.mean.tolist() == [1.0, 2.0]
    assert norm.table is not None
    assert norm.table.dtype == torch.float64
