from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch

from torchgeo_spectral.demo import (
    MATERIALS,
    PixelPatches,
    SceneChips,
    generate_scene,
    material_spectra,
    read_scene,
    write_scene,
)
from torchgeo_spectral.main import main


def test_spectra_are_physically_plausible() -> None:
    wl = np.array([470.0, 550.0, 670.0, 860.0, 1650.0, 2200.0])
    spectra = dict(zip(MATERIALS, material_spectra(wl), strict=True))
    veg = spectra['vegetation']
    assert veg[1] > veg[0]  # green peak
    assert veg[1] > veg[2]  # chlorophyll well in the red
    assert veg[3] > 4 * veg[2]  # red edge
    assert spectra['water'][3] < 0.02  # dark in the NIR
    assert spectra['soil'][4] > spectra['soil'][0]  # rising continuum
    assert ((0 <= material_spectra(np.linspace(400, 2500, 50))) <= 1).all()


def test_chips_and_pixel_patches_cut_the_same_scene() -> None:
    scene = generate_scene(np.linspace(450, 900, 8), size=16)
    image = torch.from_numpy(scene.image)
    labels = torch.from_numpy(scene.labels.astype(np.int64))
    chip = SceneChips(scene, [(0, 0), (4, 8)], 4)[1]
    assert torch.equal(chip['image'], image[:, 4:8, 8:12])
    assert torch.equal(chip['mask'], labels[4:8, 8:12])
    assert torch.equal(chip['wavelength'], torch.from_numpy(scene.wavelengths))
    patches = PixelPatches(scene, np.array([[0, 0], [5, 7]]), 3)
    assert len(patches) == 2
    patch = patches[1]
    assert patch['image'].shape == (8, 3, 3)
    assert torch.equal(patch['image'][:, 1, 1], image[:, 5, 7])  # centred
    assert int(patch['label']) == int(labels[5, 7])
    corner = patches[0]['image']  # reflect padding at the border
    assert torch.equal(corner[:, 0, 0], image[:, 1, 1])


def test_scene_geotiffs(tmp_path: Path) -> None:
    wl = np.linspace(420, 2400, 10)
    scene = generate_scene(wl, size=32, seed=1)
    again = generate_scene(wl, size=32, seed=1)
    assert np.array_equal(scene.image, again.image)  # deterministic
    assert set(np.unique(scene.labels)) <= set(range(len(MATERIALS)))
    write_scene(scene, tmp_path)
    with rasterio.open(tmp_path / 'scene.tif') as src:
        assert src.crs.to_epsg() == 32633
        assert src.count == 10
        assert float(src.tags(1)['wavelength']) == pytest.approx(420.0)
    back = read_scene(tmp_path)
    assert np.array_equal(back.labels, scene.labels)
    assert np.allclose(back.wavelengths, wl)


def test_demo_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / 'demo'
    main(['demo', '--output', str(out), '--quick'])
    printed = capsys.readouterr().out
    assert 'pretrained (spectral MAE)' in printed
    assert 'from scratch' in printed
    for name in ('scene.tif', 'labels.tif', 'metrics.csv', 'pretrain/encoder.pt'):
        assert (out / name).is_file(), name
    assert list((out / 'pretrain' / 'figures').glob('*.png'))
    assert list((out / 'pretrain' / 'checkpoints').glob('*.ckpt'))
    rows = (out / 'metrics.csv').read_text().splitlines()
    assert rows[0] == 'model,overall_accuracy,macro_f1'
    assert len(rows) == 3
