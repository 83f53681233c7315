from pathlib import Path

import pytest

from torchgeo_spectral.inference.cli import _read_wavelengths, build_parser, main


def test_wavelength_file_formats(tmp_path: Path) -> None:
    lines = tmp_path / 'wl.txt'
    lines.write_text('450\n550.5\n650\n')
    csv = tmp_path / 'wl.csv'
    csv.write_text('wavelength,fwhm\n450,10\n550.5,10\n650,12\n')
    assert _read_wavelengths(str(lines)) == [450.0, 550.5, 650.0]
    assert _read_wavelengths(str(csv)) == [450.0, 550.5, 650.0]
    assert _read_wavelengths(None) is None


def test_parser_defaults() -> None:
    args = build_parser().parse_args(
        ['predict-map', '--checkpoint', 'c', '--input', 'i', '--output', 'o']
    )
    assert (args.tile_size, args.overlap, args.batch_size) == (64, 16, 8)
    assert args.device == 'cpu'
    assert not args.resume
    assert not args.overwrite


def test_embed_needs_an_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(['embed', '--checkpoint', 'c', '--input', 'i']) == 1
    assert '--output and/or --tiles' in capsys.readouterr().err


def test_missing_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            'predict-map',
            '--checkpoint',
            str(tmp_path / 'none.ckpt'),
            '--input',
            'i.tif',
            '--output',
            str(tmp_path / 'o.tif'),
        ]
    )
    assert code == 1
    assert 'does not exist' in capsys.readouterr().err
