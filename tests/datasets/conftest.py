"""Make tests/data/synthetic.py importable as ``synthetic``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
