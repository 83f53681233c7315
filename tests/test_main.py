import os
import sys
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from rasterio.env import get_gdal_config

from torchgeo_spectral.main import main


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(['--help'])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    subcommands = ('fit', 'validate', 'test', 'predict', 'demo', 'predict-map', 'embed')
    for sub in (*subcommands, 'split', 'export-weights'):
        assert sub in out


def test_console_script_is_installed() -> None:
    (script,) = entry_points(group='console_scripts', name='torchgeo-spectral')
    assert script.load() is main


def test_shell_arguments_reach_lightning_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # From the shell (args=None) LightningCLI reads sys.argv itself; giving it
    # the same arguments as args too made it warn on every command.
    config = Path(__file__).parents[1] / 'conf' / 'few_label_scene.yaml'
    argv = ['torchgeo-spectral', 'fit', '--config', str(config), '--print_config']
    monkeypatch.setattr(sys, 'argv', argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with pytest.raises(SystemExit):
            main()
    assert 'head_init: probe' in capsys.readouterr().out
    assert not [w for w in caught if 'args parameter' in str(w.message)]


def test_arguments_from_python_reach_lightning_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # From Python (a notebook, a benchmark) the arguments come as a list while
    # sys.argv holds the caller's own; LightningCLI warned about both.
    config = Path(__file__).parents[1] / 'conf' / 'few_label_scene.yaml'
    caller = ['notebook.py', '--its-own-option']
    monkeypatch.setattr(sys, 'argv', caller)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with pytest.raises(SystemExit):
            main(['fit', '--config', str(config), '--print_config'])
    assert 'head_init: probe' in capsys.readouterr().out
    assert not [w for w in caught if 'args parameter' in str(w.message)]
    assert sys.argv == caller


def test_commands_leave_the_environment_and_gdal_as_they_found_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # TorchGeo's CLI exports GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR, which hides
    # ENVI headers from plain rasterio; a second command used to leave it in
    # GDAL's configuration too (rasterio's Env restores what it found at entry).
    monkeypatch.delenv('GDAL_DISABLE_READDIR_ON_OPEN', raising=False)
    gdal_before = get_gdal_config('GDAL_DISABLE_READDIR_ON_OPEN')
    config = Path(__file__).parents[1] / 'conf' / 'few_label_scene.yaml'
    for _ in range(2):
        with pytest.raises(SystemExit):
            main(['fit', '--config', str(config), '--print_config'])
    assert 'GDAL_DISABLE_READDIR_ON_OPEN' not in os.environ
    assert get_gdal_config('GDAL_DISABLE_READDIR_ON_OPEN') == gdal_before
