import subprocess
import sys

import pytest

from torchgeo_spectral.main import main


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(['--help'])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for sub in ('fit', 'validate', 'test', 'predict'):
        assert sub in out


def test_console_script() -> None:
    proc = subprocess.run(
        [sys.executable, '-m', 'torchgeo_spectral.main', '--version'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
