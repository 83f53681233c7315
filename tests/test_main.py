from importlib.metadata import entry_points

import pytest

from torchgeo_spectral.main import main


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(['--help'])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for sub in ('fit', 'validate', 'test', 'predict', 'demo', 'predict-map', 'embed'):
        assert sub in out


def test_console_script_is_installed() -> None:
    (script,) = entry_points(group='console_scripts', name='torchgeo-spectral')
    assert script.load() is main
