import argparse
import re
from pathlib import Path

import pytest
import torch

from torchgeo_spectral.inference import CheckpointError
from torchgeo_spectral.inference.cli import _read_wavelengths, build_parser, main
from torchgeo_spectral.main import main as console_main
from torchgeo_spectral.models.weights import read_checkpoint


def test_wavelength_file_formats(tmp_path: Path) -> None:
    lines = tmp_path / 'wl.txt'
    lines.write_text('450\n550.5\n650\n')
    csv = tmp_path / 'wl.csv'
    csv.write_text('wavelength,fwhm\n450,10\n550.5,10\n650,12\n')
    assert _read_wavelengths(str(lines)) == [450.0, 550.5, 650.0]
    assert _read_wavelengths(str(csv)) == [450.0, 550.5, 650.0]
    assert _read_wavelengths(None) is None
    assert len(_read_wavelengths('enmap') or []) == 224  # a sensor's table
    assert len(_read_wavelengths('salinas') or []) == 204  # a classic scene's


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


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the CLI in-process; return its exit code and stderr."""
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def assert_one_line(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert 'Traceback' not in err
    assert lines[0].startswith('torchgeo-spectral ')


def write_bad_checkpoints(folder: Path) -> dict[str, Path]:
    """Checkpoint files a new user might pass by mistake."""
    good = folder / 'good.pt'
    torch.save({'state_dict': {'w': torch.zeros(64)}, 'hyper_parameters': {}}, good)
    data = good.read_bytes()
    files = {
        'text': folder / 'notes.ckpt',
        'empty': folder / 'empty.ckpt',
        'truncated': folder / 'truncated.ckpt',
        'pickled': folder / 'pickled.ckpt',
        'directory': folder / 'dir.ckpt',
    }
    files['text'].write_text('model:\n  class_path: SpectralSegmentationTask\n')
    files['empty'].write_bytes(b'')
    files['truncated'].write_bytes(data[: len(data) // 2])
    torch.save({'state_dict': {}, 'model': argparse.Namespace(a=1)}, files['pickled'])
    files['directory'].mkdir()
    return files


@pytest.mark.parametrize(
    ('kind', 'message'),
    [
        ('text', r'notes.ckpt: it is text, not a file written by torch.save'),
        ('empty', r'empty.ckpt is empty \(0 bytes\)'),
        ('truncated', r'truncated.ckpt: it is truncated or damaged'),
        ('pickled', r'pickled.ckpt stores Python objects .*weights_only=True'),
        ('directory', r'dir.ckpt is a directory'),
    ],
)
def test_bad_checkpoints_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    ckpt = write_bad_checkpoints(tmp_path)[kind]
    for command in (
        ['predict-map', '--output', str(tmp_path / 'm.tif')],
        ['embed', '--tiles', str(tmp_path / 't.parquet')],
    ):
        code, err = run_cli(
            [*command, '--checkpoint', str(ckpt), '--input', 'in.tif'], capsys
        )
        assert code == 1
        assert_one_line(err)
        assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('.')) == []


def test_read_checkpoint_names_the_problem(tmp_path: Path) -> None:
    files = write_bad_checkpoints(tmp_path)
    for kind in ('text', 'empty', 'truncated', 'pickled', 'directory'):
        with pytest.raises(CheckpointError, match=files[kind].name):
            read_checkpoint(files[kind])
    with pytest.raises(FileNotFoundError, match='does not exist'):
        read_checkpoint(tmp_path / 'none.ckpt')


@pytest.mark.parametrize(
    ('option', 'value', 'message'),
    [
        ('--batch-size', '0', r'--batch-size: expected an integer >= 1, found 0'),
        ('--batch-size', 'two', r"--batch-size: expected an integer, found 'two'"),
        ('--tile-size', '-8', r'--tile-size: expected an integer >= 1, found -8'),
        ('--overlap', '-1', r'--overlap: expected an integer >= 0, found -1'),
        ('--frobnicate', 'x', r'unrecognized arguments: --frobnicate'),
    ],
)
def test_bad_options_give_one_line_and_write_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    out = tmp_path / 'm.tif'
    code, err = run_cli(
        [
            'predict-map',
            '--checkpoint',
            'c.ckpt',
            '--input',
            'i.tif',
            '--output',
            str(out),
            option,
            value,
        ],
        capsys,
    )
    assert code == 2
    assert_one_line(err)
    assert re.search(message, err), err
    assert list(tmp_path.iterdir()) == []  # no progress file either


def test_bad_settings_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    base = ['predict-map', '--checkpoint', 'c.ckpt', '--input', 'i.tif']
    base += ['--output', str(tmp_path / 'm.tif')]
    cases = [
        (['--device', 'cuda'], r"device 'cuda' asked for, but no CUDA GPU"),
        (['--device', 'gpu0'], r"device 'gpu0' is not a torch device"),
        (['--tile-size', '16', '--overlap', '16'], r'overlap must be in \[0, tile'),
        (['--wavelengths', str(tmp_path / 'wl.txt')], r'wl.txt: no such file'),
    ]
    for extra, message in cases:
        code, err = run_cli([*base, *extra], capsys)
        assert code == 1
        assert_one_line(err)
        assert re.search(message, err), err
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    ckpt = write_bad_checkpoints(tmp_path)['text']
    with pytest.raises(CheckpointError):
        main(
            [
                'predict-map',
                '--checkpoint',
                str(ckpt),
                '--input',
                'i.tif',
                '--output',
                str(tmp_path / 'm.tif'),
                '--debug',
            ]
        )


def test_unexpected_errors_are_one_line_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError('division by zero')

    monkeypatch.setattr('torchgeo_spectral.inference.predict.predict_raster', boom)
    code, err = run_cli(
        ['predict-map', '--checkpoint', 'c', '--input', 'i', '--output', 'o.tif'],
        capsys,
    )
    assert code == 1
    assert_one_line(err)
    assert 'unexpected ZeroDivisionError: division by zero' in err
    assert '--debug' in err


def test_console_script_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        console_main(['predict-map', '--checkpoint', 'c', '--input', 'i'])
    assert exc.value.code == 2
    assert_one_line(capsys.readouterr().err)
