"""The README's examples are true: its Python runs, its YAML matches a shipped config."""

import re
import sys
from pathlib import Path
from typing import Any

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text()


def code_block(language: str) -> str:
    (block,) = re.findall(rf'```{language}\n(.*?)```', README, flags=re.DOTALL)
    return str(block)


def is_subset(part: Any, whole: Any) -> bool:
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            key in whole and is_subset(value, whole[key]) for key, value in part.items()
        )
    return bool(part == whole)


def test_python_example_runs() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(code_block('python'), 'README.md', 'exec'), namespace)  # noqa: S102
    assert torch.isfinite(namespace['loss'])
    assert namespace['features'].shape == (2, 192, 4, 4)
    assert namespace['logits'].shape == (2, 6)


def test_yaml_example_is_a_shipped_config() -> None:
    example = yaml.safe_load(code_block('yaml'))
    shipped = yaml.safe_load(
        (ROOT / 'conf' / 'enmap_potsdam_segmentation.yaml').read_text()
    )
    assert is_subset(example, shipped)


def test_benchmark_reports_are_current() -> None:
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    from sync_readme import synced

    assert synced(README) == README, 'run python benchmarks/sync_readme.py'
