"""Compare the CSV downloads of two builds of the same reports, byte for byte.

A refactoring must not change a number: build the demo reports before and after it and run

    .venv/bin/python tests/compare_report_tables.py BEFORE_DIR AFTER_DIR

Every ``Download CSV`` link of every ``*.html`` report in BEFORE_DIR is compared with the
link of the same name in the report of the same name in AFTER_DIR (the CSV holds the full
precision, not the rounded display). Exit code 0 when every table is identical, 1 otherwise
(each difference is listed with its first differing line).
"""

from __future__ import annotations

import re
import sys
import urllib.parse
from pathlib import Path

_DOWNLOAD = re.compile(r'<a download="([^"]+\.csv)" href="data:text/csv;charset=utf-8,([^"]*)">')


def report_tables(html: str) -> dict[str, str]:
    """The CSV downloads of a report, by file name (a repeated name gets a ``#n`` suffix)."""
    tables: dict[str, str] = {}
    for name, payload in _DOWNLOAD.findall(html):
        key, n = name, 1
        while key in tables:
            n += 1
            key = f"{name}#{n}"
        tables[key] = urllib.parse.unquote(payload)
    return tables


def report_table(html: str, prefix: str):
    """The first CSV download whose file name starts with ``prefix``, as a DataFrame."""
    import io

    import pandas as pd

    for name, text in report_tables(html).items():
        if name.startswith(prefix):
            return pd.read_csv(io.StringIO(text))
    raise AssertionError(f"no table {prefix}*.csv in the report")


def report_text(html: str) -> str:
    """The visible text of a report: scripts and styles dropped, tags removed, entities decoded, spaces collapsed."""
    import html as html_module

    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", body)))


def first_difference(before: str, after: str) -> str:
    for number, (old, new) in enumerate(zip(before.splitlines(), after.splitlines()), start=1):
        if old != new:
            return f"line {number}: {old!r} -> {new!r}"
    return f"{len(before.splitlines())} vs {len(after.splitlines())} lines"


def compare(before_dir: Path, after_dir: Path) -> list[str]:
    problems, n_tables = [], 0
    reports = sorted(before_dir.glob("*.html"))
    if not reports:
        return [f"no *.html report in {before_dir}"]
    for before_path in reports:
        after_path = after_dir / before_path.name
        if not after_path.is_file():
            problems.append(f"{before_path.name}: missing in {after_dir}")
            continue
        before = report_tables(before_path.read_text(encoding="utf-8"))
        after = report_tables(after_path.read_text(encoding="utf-8"))
        for name in sorted(before.keys() | after.keys()):
            n_tables += 1
            if name not in after or name not in before:
                problems.append(f"{before_path.name}: {name} only in {'before' if name in before else 'after'}")
            elif before[name] != after[name]:
                problems.append(f"{before_path.name}: {name} differs, {first_difference(before[name], after[name])}")
    print(f"{len(reports)} reports, {n_tables} tables compared; {len(problems)} differ.")
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    differences = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    for line in differences:
        print(line)
    sys.exit(1 if differences else 0)
