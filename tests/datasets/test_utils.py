import numpy as np
import pytest
import torch

from torchgeo_spectral.datasets import (
    collate_spectral,
    concat_spectral_samples,
    select_bands,
    sort_bands,
)
from torchgeo_spectral.plot import rgb_band_indices


def sample(waves: list[float]) -> dict[str, torch.Tensor]:
    return {
        'image': torch.zeros(len(waves), 4, 4),
        'wavelength': torch.tensor(waves),
        'label': torch.tensor(1),
    }


def test_collate_stacks_wavelength() -> None:
    batch = collate_spectral([sample([1.0, 2.0]), sample([1.0, 2.0])])
    assert batch['image'].shape == (2, 2, 4, 4)
    assert batch['wavelength'].shape == (2, 2)
    assert batch['label'].tolist() == [1, 1]


def test_collate_refuses_mixed_band_sets() -> None:
    with pytest.raises(
        ValueError, match=r'must not mix band sets.*sample 1 has 3 bands'
    ):
        collate_spectral([sample([1.0, 2.0]), sample([1.0, 2.0, 3.0])])
    with pytest.raises(ValueError, match='must not mix band sets'):
        collate_spectral([sample([1.0, 2.0]), sample([1.0, 5.0])])
    with pytest.raises(ValueError, match='no samples'):
        collate_spectral([])
    bad = sample([1.0, 2.0])
    del bad['label']
    with pytest.raises(ValueError, match="sample 1 has no 'label'"):
        collate_spectral([sample([1.0, 2.0]), bad])


def test_concat_keeps_single_metadata() -> None:
    a = {
        'image': torch.zeros(2, 3, 3),
        'wavelength': torch.ones(2),
        'bounds': torch.zeros(9),
    }
    b = {'mask': torch.zeros(3, 3), 'bounds': torch.zeros(9)}
    out = concat_spectral_samples([a, b])
    assert out['bounds'].shape == (9,)
    assert out['mask'].shape == (3, 3)


def test_sort_and_select() -> None:
    w, order = sort_bands([3.0, 1.0, 2.0])
    assert w.tolist() == [1.0, 2.0, 3.0]
    assert order.tolist() == [1, 2, 0]
    sel = select_bands([3.0, 1.0, 2.0], file_good=np.array([True, False, True]))
    assert sel.good.tolist() == [False, True, True]
    sel = select_bands([3.0, 1.0, 2.0], bad_bands=[-1], drop_bad_bands=True)
    assert sel.indexes.tolist() == [1, 0]
    with pytest.raises(ValueError, match='every band'):
        select_bands([1.0], bad_bands=[0], drop_bad_bands=True)
    with pytest.raises(ValueError, match='1-D'):
        sort_bands([[1.0]])
    with pytest.raises(ValueError, match='2 entries for 3 bands'):
        select_bands([1.0, 2.0, 3.0], file_good=np.array([True, True]))


def test_rgb_band_indices() -> None:
    assert rgb_band_indices(np.arange(400.0, 1000.0, 10.0)) == (25, 15, 7)
    assert rgb_band_indices(np.arange(1000.0, 2500.0, 10.0)) == (127, 74, 22)
    assert rgb_band_indices([500.0, 600.0]) == (1, 1, 0)


def test_requested_wavelengths_one_rule_for_both_arguments() -> None:
    from torchgeo_spectral.datasets.utils import requested_wavelengths
    from torchgeo_spectral.sensors import get_sensor

    assert requested_wavelengths(None, None) is None
    np.testing.assert_allclose(
        requested_wavelengths([0.45, 0.55, 0.65], None), [450.0, 550.0, 650.0]
    )
    enmap = requested_wavelengths(None, 'enmap')
    assert enmap is not None
    assert enmap.size == get_sensor('enmap').num_bands
    with pytest.raises(ValueError, match='not both'):
        requested_wavelengths([450.0], 'enmap')
