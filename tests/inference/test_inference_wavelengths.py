"""Wavelengths entering inference: ``--wavelengths`` files and ``wavelengths=``."""

from pathlib import Path

import pytest
import rasterio
from inference_helpers import PointwiseModel, RasterFactory
from torch import Tensor

from torchgeo_spectral.inference import ModelInfo, predict_raster
from torchgeo_spectral.inference.cli import _read_wavelengths, main
from torchgeo_spectral.wavelengths import WavelengthError

KW = {'tile_size': 16, 'overlap': 4, 'progress': False}


class Recording(PointwiseModel):
    """A pointwise model that records the wavelengths it is given."""

    seen: list[list[float]]

    def forward(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        self.seen = [*getattr(self, 'seen', []), wavelengths.tolist()]
        return super().forward(x, wavelengths)


def test_wavelength_file_in_micrometres_is_converted(tmp_path: Path) -> None:
    path = tmp_path / 'wl.txt'
    path.write_text('0.45\n0.6\n0.75\n0.9\n')
    assert _read_wavelengths(str(path)) == pytest.approx([450.0, 600.0, 750.0, 900.0])


def test_predict_map_with_micrometres_writes_a_map_in_nm(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    # Issue 13: --wavelengths in micrometres silently wrote a map.
    src = make_raster(height=16, width=16, bands=4, with_wavelengths=False)
    model = Recording(4, 2)
    info = ModelInfo(wavelengths=(450.0, 600.0, 750.0, 900.0), sensor='toy')
    out = tmp_path / 'map.tif'
    predict_raster(model, src, out, info=info, wavelengths=[0.45, 0.6, 0.75, 0.9], **KW)
    assert model.seen
    assert model.seen[0] == pytest.approx([450.0, 600.0, 750.0, 900.0])
    with rasterio.open(out) as dst:
        assert dst.shape == (16, 16)


def test_predict_map_refuses_band_indices(
    make_raster: RasterFactory, tmp_path: Path
) -> None:
    src = make_raster(height=16, width=16, bands=4, with_wavelengths=False)
    with pytest.raises(WavelengthError, match='band indices'):
        predict_raster(
            PointwiseModel(4, 2),
            src,
            tmp_path / 'm.tif',
            wavelengths=[1, 2, 3, 4],
            **KW,
        )
    assert not (tmp_path / 'm.tif').exists()


def test_cli_wavelength_errors_name_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / 'indices.txt'
    path.write_text('\n'.join(str(i) for i in range(1, 13)))
    argv = ['predict-map', '--checkpoint', 'c.ckpt', '--input', 'in.tif']
    argv += ['--output', str(tmp_path / 'o.tif'), '--wavelengths', str(path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert 'indices.txt' in err
    assert 'band indices (1..12)' in err
    assert not (tmp_path / 'o.tif').exists()
