import os
import stat
from pathlib import Path

import pytest
from inference_helpers import PointwiseModel, RasterFactory

from torchgeo_spectral.inference import ModelInfo, predict_raster
from torchgeo_spectral.inference import writer as writer_module

KW = {'tile_size': 16, 'overlap': 4, 'progress': False}


def test_band_count_mismatch_names_expected_and_found(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=20, width=20, bands=5)
    info = ModelInfo(wavelengths=(450.0, 550.0, 650.0, 850.0), sensor='toy4')
    model = PointwiseModel(5, 2)
    with pytest.raises(ValueError, match=r'has 5 bands but the model expects 4 .*toy4'):
        predict_raster(model, src, tmp_path / 'm.tif', info=info, **KW)
    assert model.calls == 0


def test_wavelength_mismatch(make_raster: RasterFactory, tmp_path: Path) -> None:
    src = make_raster(height=20, width=20, bands=4)  # 450 .. 900 nm
    info = ModelInfo(wavelengths=(450.0, 600.0, 750.0, 1000.0), sensor='toy')
    with pytest.raises(
        ValueError, match=r'band 4 is at 900.00 nm where the model expects 1000.00'
    ):
        predict_raster(PointwiseModel(4, 2), src, tmp_path / 'm.tif', info=info, **KW)


def test_fixed_wavelengths_used_when_raster_has_none(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=20, width=20, bands=4, with_wavelengths=False)
    with pytest.raises(ValueError, match='carries no band wavelengths'):
        predict_raster(PointwiseModel(4, 2), src, tmp_path / 'a.tif', **KW)
    info = ModelInfo(wavelengths=(450.0, 600.0, 750.0, 900.0))
    predict_raster(PointwiseModel(4, 2), src, tmp_path / 'b.tif', info=info, **KW)
    predict_raster(
        PointwiseModel(4, 2),
        src,
        tmp_path / 'c.tif',
        wavelengths=[450, 600, 750, 900],
        **KW,
    )
    assert (tmp_path / 'b.tif').exists()
    assert (tmp_path / 'c.tif').exists()


def test_existing_output_needs_overwrite(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=20, width=20, bands=4)
    out = tmp_path / 'm.tif'
    out.write_bytes(b'keep me')
    model = PointwiseModel(4, 2)
    with pytest.raises(FileExistsError, match='overwrite'):
        predict_raster(model, src, out, **KW)
    assert out.read_bytes() == b'keep me'
    assert model.calls == 0
    predict_raster(model, src, out, overwrite=True, **KW)
    assert out.read_bytes()[:2] in (b'II', b'MM')


def test_unwritable_directory_fails_before_work(
    make_raster: RasterFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_raster(height=20, width=20, bands=4)
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root ignores permissions: simulate the refusal

        def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
            raise PermissionError(13, 'Permission denied')

        monkeypatch.setattr(writer_module.tempfile, 'mkstemp', refuse)
    model = PointwiseModel(4, 2)
    try:
        with pytest.raises(PermissionError, match='cannot write'):
            predict_raster(model, src, locked / 'm.tif', **KW)
    finally:
        locked.chmod(stat.S_IRWXU)
    assert model.calls == 0


def test_missing_input_and_bad_tiles(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match='does not exist'):
        predict_raster(PointwiseModel(4, 2), tmp_path / 'nope.tif', tmp_path / 'm.tif')
    src = make_raster(height=20, width=20, bands=4)
    with pytest.raises(ValueError, match='overlap'):
        predict_raster(
            PointwiseModel(4, 2), src, tmp_path / 'm.tif', tile_size=16, overlap=16
        )
    with pytest.raises(ValueError, match='patch size'):
        predict_raster(
            PointwiseModel(4, 2),
            src,
            tmp_path / 'm.tif',
            info=ModelInfo(patch_size=5),
            tile_size=16,
            overlap=4,
        )
