"""Bootstrap of the empirical ROC curve: the percentile CI of the AUC (pROC ``ci.auc(method =
"bootstrap")``) and the pointwise band of the sensitivity at fixed specificities (pROC ``ci.se``).

The functions here work on arrays (outcome 0/1 and scores oriented so that higher means
more positive); :class:`~stsanalysis.stats.roc.RocResult` calls them from its methods
``bootstrap_ci``, ``bootstrap_band`` and ``with_band``.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ..errors import InputError
from ._result import Result

__all__ = ["AucBootstrap", "BAND_SPECIFICITIES"]

#: The grid of a drawn ROC band: 101 specificities 0, 0.01, ..., 1 (smooth enough to draw;
#: pROC's own default for ``ci.se`` is the 11 points 0, 0.1, ..., 1).
BAND_SPECIFICITIES = np.linspace(0, 1, 101)


@dataclasses.dataclass(frozen=True, eq=False)
class AucBootstrap(Result):
    """Percentile bootstrap CI of the AUC (pROC ``ci.auc(method = "bootstrap")``)."""

    ci_low: float
    median: float
    ci_high: float
    conf_level: float
    n_boot: int
    stratified: bool
    seed: int | None
    aucs: np.ndarray


def replicate_counts(
    y: np.ndarray, oriented_score: np.ndarray, n_boot: int, stratified: bool, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of resampled cases and controls per distinct score: two (n_boot x U) arrays.

    Scores are coded by the rank of their distinct (oriented) value, so that every
    replicate's ROC curve follows from cumulative sums, with no loop over replicates.
    Non-stratified replicates without cases or without controls are dropped with a warning.
    """
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise InputError(f"'n_boot' must be a positive integer; got {n_boot!r}.")
    rng = np.random.default_rng(seed)
    unique, codes = np.unique(oriented_score, return_inverse=True)
    n_values = unique.size
    rows = np.arange(n_boot)[:, None] * n_values

    def histogram(resampled_codes: np.ndarray, weights=None) -> np.ndarray:
        flat = (rows + resampled_codes).ravel()
        weights = None if weights is None else weights.ravel()
        counts = np.bincount(flat, weights=weights, minlength=n_boot * n_values)
        return counts.reshape(n_boot, n_values)

    if stratified:
        # pROC stratified.ci.auc: resample cases and controls separately.
        case_codes = codes[y == 1]
        control_codes = codes[y == 0]
        cases = case_codes[rng.integers(0, case_codes.size, (n_boot, case_codes.size))]
        controls = control_codes[rng.integers(0, control_codes.size, (n_boot, control_codes.size))]
        return histogram(cases).astype(float), histogram(controls).astype(float)
    draws = rng.integers(0, y.size, (n_boot, y.size))
    is_case = y[draws].astype(float)
    case_counts = histogram(codes[draws], is_case)
    control_counts = histogram(codes[draws], 1.0 - is_case)
    valid = (case_counts.sum(axis=1) > 0) & (control_counts.sum(axis=1) > 0)
    if not valid.all():
        # pROC: "NA value(s) produced during bootstrap were ignored."
        warnings.warn(
            f"{int((~valid).sum())} bootstrap replicate(s) without cases or without controls were ignored (non-stratified resampling).",
            UserWarning,
            stacklevel=3,
        )
    return case_counts[valid], control_counts[valid]


def replicate_aucs(case_counts: np.ndarray, control_counts: np.ndarray) -> np.ndarray:
    """AUC of every replicate from its counts per distinct score (ties count 1/2)."""
    controls_below = np.cumsum(control_counts, axis=1) - control_counts
    pairs_won = np.sum(case_counts * (controls_below + 0.5 * control_counts), axis=1)
    return pairs_won / (case_counts.sum(axis=1) * control_counts.sum(axis=1))


def sensitivity_band(case_counts: np.ndarray, control_counts: np.ndarray, grid: np.ndarray, levels: list[float]) -> pd.DataFrame:
    """Quantiles ``levels`` (low, median, high) of the replicates' sensitivity at each
    specificity of ``grid``, as pROC ``ci.se`` reads each replicate's curve."""
    n_cases = case_counts.sum(axis=1, keepdims=True)
    n_controls = control_counts.sum(axis=1, keepdims=True)
    # Curve points for a threshold below everything, then just above each distinct score:
    # specificity non-decreasing, sensitivity non-increasing along each row.
    all_positive = np.ones_like(n_cases)
    specificity = np.hstack([0 * all_positive, np.cumsum(control_counts, axis=1) / n_controls])
    sensitivity = np.hstack([all_positive, (n_cases - np.cumsum(case_counts, axis=1)) / n_cases])
    rows = np.arange(specificity.shape[0])
    band = np.empty((rows.size, grid.size))
    for j, target in enumerate(grid):
        # first point with specificity >= target: the highest sensitivity there when the
        # specificity is exact, else the first point above, interpolated towards the
        # last point below (whose distance to the target is then the share of the gap)
        first = np.sum(specificity < target, axis=1)
        previous = np.maximum(first - 1, 0)
        exact = specificity[rows, first] == target
        gap = np.where(exact, 1.0, specificity[rows, previous] - specificity[rows, first])
        share = (target - specificity[rows, first]) / gap  # 0 when exact
        band[:, j] = sensitivity[rows, first] + share * (sensitivity[rows, previous] - sensitivity[rows, first])
    low, median, high = np.quantile(band, levels, axis=0)
    return pd.DataFrame(
        {
            "specificity": grid,
            "sensitivity_low": low,
            "sensitivity_median": median,
            "sensitivity_high": high,
        }
    )
