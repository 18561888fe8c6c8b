"""Comparison of ROC curves: DeLong's test of two AUCs and the table of all pairs.

Follows pROC 1.18 ``roc.test(roc_a, roc_b, method = "delong", paired = ...)``; the structural
components (placements) and the DeLong variance are those of :mod:`stsanalysis.stats.roc`.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..errors import InputError
from ._result import Result
from .roc import RocResult, _delong_variance, _oriented, _placements, _quantile_levels, _ratio, _standardised

__all__ = ["DelongResult", "delong_test", "compare_rocs"]


@dataclasses.dataclass(frozen=True)
class DelongResult(Result):
    """DeLong comparison of two AUCs (pROC ``roc.test(method = "delong")``).

    Paired: ``statistic`` is Z, ``df`` NaN, ``ci_low``/``ci_high`` the CI of the difference
    ``auc_a - auc_b`` (as pROC 1.18). Unpaired: ``statistic`` is pROC's D with a t
    distribution on Welch-Satterthwaite-type ``df``; pROC gives no CI (NaN here).
    """

    statistic: float
    p: float
    df: float
    difference: float
    ci_low: float
    ci_high: float
    method: str
    auc_a: float
    auc_b: float


def _placements_of(result: RocResult) -> tuple[np.ndarray, np.ndarray]:
    oriented = _oriented(result.score, result.direction)
    return _placements(oriented[result.y == 1], oriented[result.y == 0])


def _check_same_patients(roc_a: RocResult, roc_b: RocResult) -> None:
    if roc_a.y.size != roc_b.y.size:
        raise InputError(
            "The paired DeLong test needs the same patients in both ROC curves; "
            f"roc_a has {roc_a.y.size} and roc_b {roc_b.y.size} patients. "
            "Use paired=False for independent samples."
        )
    mismatch = np.flatnonzero(roc_a.y != roc_b.y)
    if mismatch.size:
        raise InputError(
            "The paired DeLong test needs the same outcome for each patient in both ROC "
            f"curves; it differs for {mismatch.size} patient(s) (first at position "
            f"{int(mismatch[0])}). Check that both scores are in the same patient order."
        )


def delong_test(roc_a: RocResult, roc_b: RocResult, paired: bool = True, conf_level: float = 0.95) -> DelongResult:
    """Compare two AUCs with DeLong's method, as pROC 1.18 ``roc.test(roc_a, roc_b,
    method = "delong", paired = ...)``.

    Paired (same patients, same outcome, scores in the same patient order): Z from the
    covariance of the structural components, two-sided normal p and the CI of
    ``auc_a - auc_b``. Unpaired (independent samples): pROC's D = difference / sqrt(var_a +
    var_b) with a t distribution on df = (var_a + var_b)^2 / (var_a^2 / (N_a - 1) +
    var_b^2 / (N_b - 1)). Variances are DeLong's whatever ``se_method`` the ROCs used.

    Examples
    --------
    >>> from stsanalysis.stats import roc
    >>> y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    >>> roc_a = roc(y, [1, 3, 2, 5, 4, 6, 4.5, 8, 7, 9], direction="<")
    >>> roc_b = roc(y, [2, 6, 1, 3, 5, 4, 7, 2.5, 8, 5.5], direction="<")
    >>> result = delong_test(roc_a, roc_b)
    >>> round(result.difference, 2), round(result.p, 3)
    (0.2, 0.292)
    """
    levels = _quantile_levels(conf_level)
    if roc_a.direction != roc_b.direction:
        warnings.warn(
            f"DeLong's test should not be applied to ROC curves with different directions ('{roc_a.direction}' and '{roc_b.direction}').",
            UserWarning,
            stacklevel=2,
        )
    v10_a, v01_a = _placements_of(roc_a)
    v10_b, v01_b = _placements_of(roc_b)
    difference = roc_a.auc - roc_b.auc
    if paired:
        _check_same_patients(roc_a, roc_b)
        covariance_cases = np.cov(v10_a, v10_b, ddof=1)
        covariance_controls = np.cov(v01_a, v01_b, ddof=1)
        covariance = covariance_cases / v10_a.size + covariance_controls / v01_a.size
        sigma = float(np.sqrt(max(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1], 0.0)))
        statistic = _standardised(difference, sigma)
        half_width = scipy_stats.norm.ppf(levels[2]) * sigma
        return DelongResult(
            statistic=float(statistic),
            p=float(2 * scipy_stats.norm.sf(abs(statistic))),
            df=float("nan"),
            difference=float(difference),
            ci_low=float(difference - half_width),
            ci_high=float(difference + half_width),
            method="DeLong's test for two correlated ROC curves",
            auc_a=roc_a.auc,
            auc_b=roc_b.auc,
        )
    variance_a = _delong_variance(v10_a, v01_a)
    variance_b = _delong_variance(v10_b, v01_b)
    total = variance_a + variance_b
    statistic = _standardised(difference, float(np.sqrt(total)))
    df = _ratio(total**2, variance_a**2 / (roc_a.y.size - 1) + variance_b**2 / (roc_b.y.size - 1))
    return DelongResult(
        statistic=float(statistic),
        p=float(2 * scipy_stats.t.sf(abs(statistic), df)),
        df=float(df),
        difference=float(difference),
        ci_low=float("nan"),
        ci_high=float("nan"),
        method="DeLong's test for two ROC curves",
        auc_a=roc_a.auc,
        auc_b=roc_b.auc,
    )


def compare_rocs(rocs: Mapping[str, RocResult], paired: bool = True, conf_level: float = 0.95) -> pd.DataFrame:
    """DeLong test (:func:`delong_test`) for every pair of ROC curves, one row per pair.

    Columns: model_a, model_b, auc_a, auc_b, difference, statistic, df, p, ci_low, ci_high,
    method. p values are not adjusted for multiple comparisons.

    Examples
    --------
    >>> from stsanalysis.stats import roc
    >>> y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    >>> rocs = {"a": roc(y, [1, 3, 2, 5, 4, 6, 4.5, 8, 7, 9]), "b": roc(y, [2, 6, 1, 3, 5, 4, 7, 2.5, 8, 5.5])}
    >>> compare_rocs(rocs)[["model_a", "model_b", "difference", "p"]].round(3)
      model_a model_b  difference      p
    0       a       b         0.2  0.292
    """
    if len(rocs) < 2:
        raise InputError(f"'rocs' must hold at least two ROC curves; got {len(rocs)}.")
    rows = [
        {
            "model_a": name_a,
            "model_b": name_b,
            **delong_test(rocs[name_a], rocs[name_b], paired=paired, conf_level=conf_level).to_dict(),
        }
        for name_a, name_b in itertools.combinations(rocs, 2)
    ]
    columns = [
        "model_a",
        "model_b",
        "auc_a",
        "auc_b",
        "difference",
        "statistic",
        "df",
        "p",
        "ci_low",
        "ci_high",
        "method",
    ]
    return pd.DataFrame(rows, columns=columns)
