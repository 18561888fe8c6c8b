"""Time the vectorised bootstrap CI of the AUC against a per-replicate Python loop.

    .venv/bin/python benchmarks/bench_roc_bootstrap.py

n = 180 patients (tests/reference/roc_input.csv, dataset "n180"), 2,000 stratified
replicates. The loop recomputes each replicate with stats.roc (rank-based AUC); for pROC's
own time see benchmarks/roc_bootstrap_proc.R (about 0.5 s on the development machine).
Also timed: the band of the ROC figure, ``RocResult.with_band`` (2,000 replicates, 101
specificities), computed before drawing since figures no longer compute.

Budgets (formerly wall-clock assertions of tests/test_roc.py): the vectorised
``bootstrap_ci`` should stay under 0.1 s, well below pROC's ~0.5 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from stsanalysis import stats

N_BOOT = 2000
REPEATS = 5
BUDGET_SECONDS = 0.1  # vectorised bootstrap_ci; pROC's ci.auc takes ~0.5 s
INPUT = Path(__file__).resolve().parents[1] / "tests" / "reference" / "roc_input.csv"


def loop_bootstrap(result: stats.RocResult, n_boot: int, seed: int) -> np.ndarray:
    """The obvious implementation: resample, rebuild the ROC, keep the AUC, n_boot times."""
    rng = np.random.default_rng(seed)
    cases = result.score[result.y == 1]
    controls = result.score[result.y == 0]
    y = np.r_[np.ones(cases.size), np.zeros(controls.size)]
    aucs = np.empty(n_boot)
    for i in range(n_boot):
        score = np.r_[rng.choice(cases, cases.size), rng.choice(controls, controls.size)]
        aucs[i] = stats.roc(y, score, direction=result.direction).auc
    return aucs


def best_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    data = pd.read_csv(INPUT).query("dataset == 'n180'")
    result = stats.roc(data["y"], data["score"])
    vectorised = best_time(lambda: result.bootstrap_ci(n_boot=N_BOOT, seed=1), REPEATS)
    band = best_time(lambda: result.with_band(N_BOOT, seed=1), REPEATS)
    looped = best_time(lambda: loop_bootstrap(result, N_BOOT, seed=1), 1)
    ci = result.bootstrap_ci(n_boot=N_BOOT, seed=1)
    print(f"n = {result.y.size}, {N_BOOT} stratified replicates")
    print(f"vectorised bootstrap_ci: {vectorised:.4f} s (best of {REPEATS})  CI {ci.ci_low:.4f}-{ci.ci_high:.4f}")
    print(f"  budget {BUDGET_SECONDS} s: {'within' if vectorised < BUDGET_SECONDS else 'EXCEEDED'}")
    print(f"with_band (101 specificities): {band:.4f} s (best of {REPEATS})")
    print(f"per-replicate loop:      {looped:.4f} s")
    print(f"speed-up: {looped / vectorised:.0f}x")


if __name__ == "__main__":
    main()
