"""Time the vectorised ICC of all features against per-feature loops (Python and psych::ICC).

    .venv/bin/python benchmarks/bench_icc.py

1,130 features (the full MRI preset of one sequence) x 40 patients x 2 readers, synthetic
(reader 2 = reader 1 + noise of a feature-specific size, so the ICCs span 0.1-1). Times:

* ``stats.icc_features(reader_a, reader_b, "ICC2")`` (one NumPy pass; with and without CIs),
* a loop of ``stats.icc`` over the features (the obvious implementation),
* a loop of ``psych::ICC(cbind(a[, j], b[, j]), lmer = FALSE)`` in R
  (benchmarks/icc_psych_loop.R; skipped when Rscript is not installed).

The ICC2 values of the three must agree (printed: largest absolute difference).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from timing import best_time

from stsanalysis import stats

N_FEATURES, N_PATIENTS = 1130, 40
REPEATS = 20
# Formerly a wall-clock assertion of tests/test_reliability.py: icc_features with CIs for
# the 1,130 features should stay under this.
BUDGET_SECONDS = 0.1
R_SCRIPT = Path(__file__).with_name("icc_psych_loop.R")


def readers(seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(N_PATIENTS, N_FEATURES)) * rng.uniform(1, 100, N_FEATURES)
    noise_sd = rng.uniform(0.05, 2.0, N_FEATURES) * truth.std(axis=0)
    index = pd.Index([f"P{i:02d}" for i in range(N_PATIENTS)], name="patient_id")
    columns = [f"original_feature_{j:04d}" for j in range(N_FEATURES)]
    first = pd.DataFrame(truth + rng.normal(size=truth.shape) * noise_sd * 0.5, index=index, columns=columns)
    second = pd.DataFrame(truth + rng.normal(size=truth.shape) * noise_sd * 0.5 + 0.1 * noise_sd, index=index, columns=columns)
    return first, second


def loop_icc(first: pd.DataFrame, second: pd.DataFrame) -> pd.Series:
    """The obvious implementation: stats.icc on each feature's two columns."""
    values = {
        name: stats.icc(np.column_stack([first[name].to_numpy(), second[name].to_numpy()])).loc["ICC2", "icc"] for name in first.columns
    }
    return pd.Series(values)


def psych_loop(first: pd.DataFrame, second: pd.DataFrame) -> tuple[float, np.ndarray, str] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / "reader_a.csv", Path(folder) / "reader_b.csv"]
        for frame, path in zip((first, second), paths):
            frame.to_csv(path, index=False, float_format="%.17g")
        output = subprocess.run(["Rscript", str(R_SCRIPT), *map(str, paths)], capture_output=True, text=True, check=True).stdout
    seconds = float(re.search(r"psych_seconds=([\d.]+)", output).group(1))
    version = re.search(r"psych_version=(\S+)", output).group(1)
    values = np.array(re.search(r"icc2=(\S+)", output).group(1).split(","), dtype=float)
    return seconds, values, version


def main() -> None:
    first, second = readers()
    vectorised, icc2 = best_time(lambda: stats.icc_features(first, second, "ICC2"), REPEATS)
    with_ci, _ = best_time(lambda: stats.icc_features(first, second, "ICC2", with_ci=True), REPEATS)
    looped, loop_values = best_time(lambda: loop_icc(first, second), 1)
    rows = [
        ("icc_features (vectorised)", vectorised, f"best of {REPEATS}"),
        ("icc_features, with_ci=True", with_ci, f"best of {REPEATS}"),
        ("loop of stats.icc", looped, "1 run"),
    ]
    psych = psych_loop(first, second)
    if psych is not None:
        seconds, psych_values, version = psych
        rows.append((f"loop of psych::ICC (R, psych {version})", seconds, "1 run, R's system.time"))

    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{N_FEATURES} features x {N_PATIENTS} patients x 2 readers, ICC2 (ICC(A,1))")
    print(f"{'method':<42} {'seconds':>10} {'x vectorised':>13}  note")
    for name, seconds, note in rows:
        print(f"{name:<42} {seconds:>10.4f} {seconds / vectorised:>13.0f}  {note}")
    print(f"icc_features with_ci budget {BUDGET_SECONDS} s: {'within' if with_ci < BUDGET_SECONDS else 'EXCEEDED'}")
    print(f"max |vectorised - loop| ICC2: {np.max(np.abs(icc2.to_numpy() - loop_values.to_numpy())):.2e}")
    if psych is not None:
        print(f"max |vectorised - psych| ICC2: {np.max(np.abs(icc2.to_numpy() - psych_values)):.2e}")
    else:
        print("Rscript not found: psych::ICC loop skipped")


if __name__ == "__main__":
    main()
