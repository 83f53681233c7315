"""Copy generated benchmark reports into the README between their markers.

Usage: ``python benchmarks/sync_readme.py`` after a benchmark run, so that the
README shows the tables the scripts printed rather than hand-typed copies.
``tests/test_readme.py`` fails while the README and the reports disagree.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / 'README.md'
#: Reports included in the README, relative to the project root.
REPORTS = ('benchmarks/results/accuracy.md', 'benchmarks/results/accuracy_ablation.md')


def marker_pattern(report: str) -> re.Pattern[str]:
    """Regex matching the README section of one report, markers included."""
    name = re.escape(report)
    return re.compile(
        rf'(<!-- BEGIN {name} -->\n)(.*?)(<!-- END {name} -->)', flags=re.DOTALL
    )


def synced(readme: str) -> str:
    """The README text with every report section replaced by the report."""
    for report in REPORTS:
        pattern = marker_pattern(report)
        if not pattern.search(readme):
            raise ValueError(f'README.md has no markers for {report}')
        body = (ROOT / report).read_text()
        readme = pattern.sub(
            lambda m, text=body: m.group(1) + text + m.group(3), readme
        )
    return readme


def main() -> None:
    """Rewrite README.md in place."""
    README.write_text(synced(README.read_text()))


if __name__ == '__main__':
    main()
