"""DDP on CPU: two processes train in step and end with identical weights."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_ddp_two_ranks_agree(tmp_path: Path) -> None:
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(HERE)}
    proc = subprocess.run(
        [sys.executable, str(HERE / 'ddp_worker.py'), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [(tmp_path / f'rank{r}.txt').read_text().split() for r in (0, 1)]
    assert ranks[0][0] == ranks[1][0] == '2'  # both took two optimiser steps
    assert ranks[0][1] == ranks[1][1]  # and hold the same weights
