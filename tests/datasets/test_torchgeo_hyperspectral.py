"""TorchGeo's own micrometre datasets (EnMAP, HySpecNet11k) under the contract."""

from pathlib import Path
from typing import Any

import pytest
from lightning.pytorch import Trainer
from torch.utils.data import DataLoader
from torchgeo.datasets import EnMAP, HySpecNet11k
from torchgeo.samplers import GridGeoSampler
from torchgeo_enmap.data import write_enmap, write_hyspecnet

from torchgeo_spectral.datasets import collate_spectral
from torchgeo_spectral.sensors import get_sensor
from torchgeo_spectral.tasks import SpectralMAETask
from torchgeo_spectral.wavelengths import AddWavelengths, same_band_set

TINY_MAE: dict[str, Any] = {
    'model': 'spectral_vit_tiny',
    'patch_size': 4,
    'bands_per_token': 8,
    'embed_dim': 32,
    'depth': 1,
    'num_heads': 2,
    'decoder_embed_dim': 32,
    'decoder_depth': 1,
    'decoder_num_heads': 2,
}


def _fit_one_step(tmp_path: Path, loader: DataLoader[Any]) -> SpectralMAETask:
    task = SpectralMAETask(**TINY_MAE)
    trainer = Trainer(
        accelerator='cpu',
        fast_dev_run=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(task, loader)
    assert trainer.global_step == 1
    return task


def test_hyspecnet_micrometres_to_nm(tmp_path: Path) -> None:
    ds = HySpecNet11k(write_hyspecnet(tmp_path / 'data'))
    assert float(ds[0]['wavelength'].max()) < 3  # TorchGeo gives micrometres
    ds.transforms = AddWavelengths(ds)
    sample = ds[0]
    assert sample['image'].shape == (202, 8, 8)
    wavelength = sample['wavelength']
    assert wavelength.shape == (202,)
    assert bool((wavelength.diff() > 0).all())  # VNIR/SWIR overlap sorted
    assert 418 < float(wavelength[0]) < 420
    assert 2440 < float(wavelength[-1]) < 2450
    batch = collate_spectral([ds[0], ds[1]])
    assert batch['wavelength'].shape == (2, 202)


@pytest.mark.slow
def test_hyspecnet_trains_spectral_mae(tmp_path: Path) -> None:
    ds = HySpecNet11k(write_hyspecnet(tmp_path / 'data'))
    ds.transforms = AddWavelengths(ds)
    loader = DataLoader(ds, batch_size=2, collate_fn=collate_spectral)
    _fit_one_step(tmp_path, loader)


@pytest.mark.slow
def test_enmap_raster_micrometres_to_nm(tmp_path: Path) -> None:
    ds = EnMAP(write_enmap(tmp_path / 'data'))
    ds.transforms = AddWavelengths(ds)
    sampler = GridGeoSampler(ds, size=8, stride=8)
    loader = DataLoader(ds, sampler=sampler, batch_size=1, collate_fn=collate_spectral)
    batch = next(iter(loader))
    assert batch['image'].shape == (1, 202, 8, 8)
    assert batch['wavelength'].shape == (1, 202)
    # TorchGeo's EnMAP centres and this package's EnMAP table: one band set
    every_band = AddWavelengths(list(EnMAP.wavelengths.values()), units='um')
    assert same_band_set(every_band.wavelengths, get_sensor('enmap').wavelengths)
    _fit_one_step(tmp_path, loader)
