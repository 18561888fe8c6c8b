"""Time the exact r x c Fisher test on the birthwt table beside R's fisher.test.

    .venv/bin/python benchmarks/bench_fisher.py

The table is MASS::birthwt, mother's race (3) by physician visits in the first trimester
(``ftv``, 6 values), n = 189: the example where the former enumeration took ~12 s. Times:

* ``stats.fisher_exact(table)`` (our network algorithm, stats/_fisher_network.py), best and
  median of 20 calls, and the first call;
* R's ``fisher.test`` (FEXACT) as recorded in tests/reference/fisher_rxc.json
  (``system.time`` over 100 calls / 100, written by tests/reference/fisher_rxc.R) and, when
  ``Rscript`` is installed, measured again now (the machine is shared: compare the two
  timings taken at the same moment).

Also printed: the largest relative difference of our p from R's over every table of
fisher_rxc.json (the tests assert 1e-9).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from stsanalysis import stats

REPEATS = 20
REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "reference" / "fisher_rxc.json"
R_TIMING = """
suppressPackageStartupMessages(library(MASS))
m <- table(birthwt$race, birthwt$ftv)
invisible(fisher.test(m))
cat(system.time(for (i in 1:100) fisher.test(m))[["elapsed"]] / 100, "\\n")
"""


def timings(function, repeats: int) -> tuple[float, float, float]:
    """First call, best and median of ``repeats`` further calls (seconds)."""
    start = time.perf_counter()
    function()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return first, min(times), float(np.median(times))


def r_now() -> float | None:
    if shutil.which("Rscript") is None:
        return None
    output = subprocess.run(["Rscript", "-e", R_TIMING], capture_output=True, text=True, check=True).stdout
    return float(output.split()[-1])


def main() -> None:
    reference = json.loads(REFERENCE.read_text())
    recorded = reference["timing"]
    table = np.array(reference["tables"][recorded["table"]]["counts"])
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"MASS::birthwt race x ftv, {table.shape[0]} x {table.shape[1]}, n = {table.sum()}")
    first, best, median = timings(lambda: stats.fisher_exact(table), REPEATS)
    rows = [
        ("stats.fisher_exact, first call", first, ""),
        ("stats.fisher_exact", best, f"best of {REPEATS}"),
        ("stats.fisher_exact", median, f"median of {REPEATS}"),
        (
            f"R fisher.test, recorded ({reference['versions']['R'].split(' (')[0]})",
            recorded["seconds_per_call"],
            f"{recorded['date']}, load {recorded['load_average_1min']}, system.time / 100",
        ),
    ]
    live = r_now()
    if live is not None:
        rows.append(("R fisher.test, now", live, "system.time over 100 calls / 100"))
    print(f"{'method':<52} {'seconds':>9} {'R / this':>9}  note")
    r_seconds = live if live is not None else recorded["seconds_per_call"]
    for name, seconds, note in rows:
        print(f"{name:<52} {seconds:>9.4f} {r_seconds / seconds:>9.1f}  {note}")
    if live is None:
        print("Rscript not found: R's recorded time only")
    differences = {
        name: abs(stats.fisher_exact(np.array(entry["counts"])).p / entry["p"] - 1) for name, entry in reference["tables"].items()
    }
    worst = max(differences, key=differences.get)
    print(f"max relative |p - R's p| over the {len(differences)} tables of fisher_rxc.json: {differences[worst]:.1e} ({worst})")


if __name__ == "__main__":
    main()
