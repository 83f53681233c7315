"""Import the repository's benchmark scripts in tests (imported by them)."""

import importlib
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def import_benchmark(name: str) -> ModuleType:
    """Import a module of ``benchmarks/`` (e.g. ``'benchmarks.recipe_option'``).

    Args:
        name: Dotted module name from the repository root.

    Returns:
        The module.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)
