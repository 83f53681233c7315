"""``benchmarks/gpu_check.sh --dry-run``: the GPU check's code path on the CPU."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_dry_run() -> None:
    """The script runs end to end on tiny sizes and prints its one table.

    A subprocess is essential here: the check is a shell script. It takes about
    25 s of CPU (torch import included), so it runs in the default suite.
    """
    env = {**os.environ, 'PYTHON': sys.executable, 'OMP_NUM_THREADS': '1'}
    result = subprocess.run(
        ['bash', str(ROOT / 'benchmarks' / 'gpu_check.sh'), '--dry-run'],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert any('(dry run)' in line for line in lines)
    assert '| check | width | what | tokens | throughput | peak MB | vs timm |' in lines
    rows = [line for line in lines if line.startswith('| ') and 'check' not in line]
    kinds = {row.split('|')[1].strip() for row in rows}
    assert kinds == {'model_speed', 'pretrain', 'inference'}
    speed = [row for row in rows if row.startswith('| model_speed')]
    assert len(speed) == 4  # MAE and encoder steps, joint and pooled, C = 13
    for row in speed:
        assert float(row.split('|')[-2]) > 0  # a measured ratio vs timm
