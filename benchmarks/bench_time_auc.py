"""Time the bootstrap CI of the time-dependent AUC against riskRegression and a Python loop.

    .venv/bin/python benchmarks/bench_time_auc.py [--n-boot 1000] [--r-boot 1000]

n = 180 patients simulated as tests/reference/time_dependent.R does (marker ~ N(0, 1),
exponential event times with rate 0.025 exp(0.7 marker), uniform censoring on 12-100 months,
times rounded up to half months: 30 % censored with this seed, many tied times), AUC(t) at 12, 24 and 36
months with a 1,000-replicate percentile bootstrap CI (patients resampled, the censoring KM
refitted in each replicate). Timed:

* ``time_dependent_auc(..., n_boot=1000)`` (all replicates at once; best of 5), and the
  same call without bootstrap (point estimates and influence-function SEs);
* a per-replicate Python loop of ``time_dependent_auc`` on the same draws (1 run; the largest
  difference of the replicate AUCs checks the vectorised kernel);
* riskRegression (benchmarks/time_auc_riskregression.R; skipped without Rscript): Score has no
  bootstrap CI of the apparent AUC of a fixed marker, so it is a plain R loop of 1,000 Score
  calls on resampled data (``se.fit = FALSE``), timed with R's ``system.time``.

Target: ours at least 10x faster than the R loop.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from timing import best_time

from stsanalysis.stats.time_dependent import time_dependent_auc

N_PATIENTS = 180
TIMES = [12, 24, 36]
REPEATS = 5
TARGET_RATIO = 10
R_SCRIPT = Path(__file__).with_name("time_auc_riskregression.R")


def simulate(seed: int = 20261203) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    marker = np.round(rng.normal(size=N_PATIENTS), 2)
    event_time = rng.exponential(1 / (0.025 * np.exp(0.7 * marker)))
    censoring_time = rng.uniform(12, 100, N_PATIENTS)
    return pd.DataFrame(
        {
            "time": np.ceil(np.minimum(event_time, censoring_time) * 2) / 2,
            "event": (event_time <= censoring_time).astype(int),
            "marker": marker,
        }
    )


def loop_bootstrap(data: pd.DataFrame, n_boot: int, seed: int) -> np.ndarray:
    """One time_dependent_auc call per replicate, on the draws the vectorised bootstrap makes
    (a single chunk: ``rng.integers(0, n, (n_boot, n))``)."""
    draws = np.random.default_rng(seed).integers(0, len(data), (n_boot, len(data)))
    aucs = np.empty((n_boot, len(TIMES)))
    for index, rows in enumerate(draws):
        sample = data.iloc[rows]
        aucs[index] = time_dependent_auc(sample["time"], sample["event"], sample["marker"], TIMES).table["auc"]
    return aucs


def riskregression_loop(data: pd.DataFrame, n_boot: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "time_auc.csv"
        data.to_csv(path, index=False, float_format="%.17g")
        command = ["Rscript", str(R_SCRIPT), str(path), str(n_boot), ",".join(map(str, TIMES))]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    values = {
        key: np.array(re.search(rf"^{key}=(\S+)$", output, re.M).group(1).split(","), dtype=float)
        for key in ("auc", "se", "boot_low", "boot_high")
    }
    values["score_seconds"] = float(re.search(r"score_seconds=([\d.]+)", output).group(1))
    values["loop_seconds"] = float(re.search(r"loop_seconds=([\d.]+)", output).group(1))
    values["version"] = re.search(r"riskRegression_version=(\S+)", output).group(1)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=1000, help="replicates of our bootstrap and of the Python loop")
    parser.add_argument("--r-boot", type=int, default=1000, help="replicates of the riskRegression loop")
    options = parser.parse_args()
    data = simulate()
    args = (data["time"], data["event"], data["marker"], TIMES)
    point, estimate = best_time(lambda: time_dependent_auc(*args), REPEATS)
    vectorised, result = best_time(lambda: time_dependent_auc(*args, n_boot=options.n_boot, seed=1), REPEATS)
    looped, loop_aucs = best_time(lambda: loop_bootstrap(data, options.n_boot, seed=1), 1)
    rows = [
        ("time_dependent_auc, no bootstrap", point, f"best of {REPEATS}"),
        (f"time_dependent_auc, n_boot={options.n_boot}", vectorised, f"best of {REPEATS}"),
        (f"Python loop, {options.n_boot} replicates", looped, "1 run"),
    ]
    r_values = riskregression_loop(data, options.r_boot)
    if r_values is not None:
        rows.append((f"riskRegression {r_values['version']} Score, se.fit", r_values["score_seconds"], "1 run, system.time"))
        rows.append((f"loop of {options.r_boot} Score calls (R)", r_values["loop_seconds"], "1 run, system.time"))

    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"n = {N_PATIENTS} ({data['event'].mean():.0%} events), AUC(t) at t = {TIMES}")
    print(f"{'method':<44} {'seconds':>9} {'x ours':>8}  note")
    for name, seconds, note in rows:
        print(f"{name:<44} {seconds:>9.4f} {seconds / vectorised:>8.1f}  {note}")
    print(f"max |vectorised - loop| replicate AUC: {np.max(np.abs(result.boot_aucs - loop_aucs)):.2e}")
    print(result.table.round(4).to_string(index=False))
    if r_values is None:
        print("Rscript not found: riskRegression loop skipped")
        return
    ratio = r_values["loop_seconds"] / vectorised * options.n_boot / options.r_boot
    print(
        f"max |ours - Score| AUC {np.max(np.abs(estimate.table['auc'] - r_values['auc'])):.2e}, SE {np.max(np.abs(estimate.table['se'] - r_values['se'])):.2e}"
    )
    print(f"riskRegression loop percentile CI: low {np.round(r_values['boot_low'], 4)}, high {np.round(r_values['boot_high'], 4)}")
    print(
        f"speed-up over the R loop (per replicate): {ratio:.0f}x (target >= {TARGET_RATIO}x: {'met' if ratio >= TARGET_RATIO else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
