"""Contingency tables: Pearson's chi-square and Fisher's exact test, as R reports them.

- :func:`chi_square` - ``chisq.test`` (Yates' correction only when asked)
- :func:`fisher_exact` - ``fisher.test``, exact for r x c tables (a network algorithm in the
  manner of Mehta & Patel, in ``_fisher_network``), conditional MLE odds ratio for 2 x 2
- :func:`contingency_test` - the "any expected count < 5 -> Fisher" rule
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ._fisher_network import FEXACT_LOG_TOLERANCE, fisher_network_p
from ._result import Result

__all__ = ["ChiSquareResult", "FisherResult", "ContingencyTest", "chi_square", "fisher_exact", "contingency_test"]

# R's fisher.test counts the 2 x 2 tables whose probability is at most the observed one
# times this (relErr), so that ties are not lost to rounding; larger tables go to FEXACT,
# whose tolerance (FEXACT_LOG_TOLERANCE) is on the log probability.
_FISHER_RELATIVE_TOLERANCE_2X2 = 1 + 1e-7


@dataclasses.dataclass(frozen=True, repr=False)
class ChiSquareResult(Result):
    """Pearson chi-square test of independence as ``chisq.test``."""

    statistic: float
    df: int
    p: float
    expected: pd.DataFrame
    correction: bool
    method: str


@dataclasses.dataclass(frozen=True, repr=False)
class FisherResult(Result):
    """Fisher's exact test as ``fisher.test``; odds ratio and CI only for 2 x 2 tables.

    The odds ratio is the conditional maximum-likelihood estimate and the interval the
    exact conditional one, as R reports (not the sample odds ratio ad/bc).
    """

    p: float
    odds_ratio: float
    ci_low: float
    ci_high: float
    method: str


@dataclasses.dataclass(frozen=True, repr=False)
class ContingencyTest(Result):
    """The test chosen for a contingency table by the expected-count rule, and why."""

    test: str
    reason: str
    statistic: float
    df: float
    p: float
    min_expected: float
    detail: Result


def _count_table(table, name: str = "table") -> pd.DataFrame:
    """A contingency table as a DataFrame of non-negative integer counts, or InputError."""
    frame = table.copy() if isinstance(table, pd.DataFrame) else pd.DataFrame(np.asarray(table))
    if frame.ndim != 2 or frame.shape[0] < 2 or frame.shape[1] < 2:
        raise InputError(f"'{name}' must be a contingency table with at least 2 rows and 2 columns; got shape {frame.shape}.")
    counts = frame.apply(pd.to_numeric, errors="coerce")
    if counts.isna().to_numpy().any():
        raise InputError(f"'{name}' must hold counts; found non-numeric or missing cells:\n{frame}")
    array = counts.to_numpy(dtype=float)
    if (array < 0).any() or (array != np.round(array)).any():
        raise InputError(f"'{name}' must hold non-negative whole counts; got:\n{frame}")
    empty_rows = list(frame.index[array.sum(axis=1) == 0])
    empty_columns = list(frame.columns[array.sum(axis=0) == 0])
    if empty_rows or empty_columns:
        raise InputError(f"'{name}' has empty rows {empty_rows} / columns {empty_columns} (all counts 0); drop the unused levels first.")
    return pd.DataFrame(array.astype(np.int64), index=frame.index, columns=frame.columns)


def _expected_counts(counts: pd.DataFrame) -> pd.DataFrame:
    array = counts.to_numpy(dtype=float)
    expected = np.outer(array.sum(axis=1), array.sum(axis=0)) / array.sum()
    return pd.DataFrame(expected, index=counts.index, columns=counts.columns)


def chi_square(table, correction: bool = False) -> ChiSquareResult:
    """Pearson chi-square test of independence as ``chisq.test(table, correct = correction)``.

    Yates' continuity correction is applied to 2 x 2 tables only when asked (R applies it
    by default; SPSS reports both; scipy by default too - here it is always explicit).

    Examples
    --------
    >>> result = chi_square([[12, 5], [7, 14]])
    >>> round(result.statistic, 3), result.df, round(result.p, 4)
    (5.216, 1, 0.0224)
    """
    counts = _count_table(table)
    statistic, p, df, _ = sps.chi2_contingency(counts.to_numpy(), correction=correction)
    corrected = correction and counts.shape == (2, 2)
    return ChiSquareResult(
        statistic=float(statistic),
        df=int(df),
        p=float(p),
        expected=_expected_counts(counts),
        correction=corrected,
        method="Pearson's Chi-squared test" + (" with Yates' continuity correction" if corrected else ""),
    )


def fisher_exact(table, *, conf_level: float = 0.95) -> FisherResult:
    """Fisher's exact test as ``stats::fisher.test(table)``, two-sided.

    The p value is the null probability of the tables with the observed margins that are
    at most as probable as the observed one (with R's tolerance for ties: relative 1e-7
    for 2 x 2 tables, 3.45e-7 on the log scale, FEXACT's, for larger ones). For r x c
    tables R uses FEXACT, Mehta & Patel's network algorithm; here it is our own network
    algorithm (``_fisher_network``: pruning by bounds on the completions of partial tables,
    meeting lists of completions built from the last column), with the same p to ~1e-10.
    A table that would take minutes raises InputError (R stops with a workspace error at
    its default ``workspace``). ``simulate.p.value`` is not offered.

    For a 2 x 2 table also the conditional maximum-likelihood odds ratio and its exact
    conditional confidence interval (R's estimate, via
    ``scipy.stats.contingency.odds_ratio(kind="conditional")``); for larger tables the p
    value only.

    Examples
    --------
    >>> result = fisher_exact([[3, 1], [1, 3]])  # Fisher's tea-tasting experiment
    >>> round(result.p, 4), round(result.odds_ratio, 3)
    (0.4857, 6.408)
    >>> round(fisher_exact([[43, 29, 18, 6], [14, 6, 4, 2], [43, 12, 8, 4]]).p, 4)
    0.3436
    """
    counts = _count_table(table)
    array = counts.to_numpy()
    if array.shape != (2, 2):
        p = fisher_network_p(array, FEXACT_LOG_TOLERANCE)
        return FisherResult(p, np.nan, np.nan, np.nan, f"Fisher's exact test ({array.shape[0]} x {array.shape[1]})")
    p = fisher_network_p(array, float(np.log(_FISHER_RELATIVE_TOLERANCE_2X2)))
    odds = sps.contingency.odds_ratio(array, kind="conditional")
    interval = odds.confidence_interval(conf_level)
    return FisherResult(
        p=p,
        odds_ratio=float(odds.statistic),
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        method="Fisher's exact test (conditional MLE odds ratio)",
    )


def contingency_test(table, *, min_expected: float = 5.0) -> ContingencyTest:
    """Chi-square or Fisher's exact test by the expected-count rule.

    Fisher's exact test when any expected count is below ``min_expected`` (5, the usual
    rule), else Pearson's chi-square without continuity correction. The result says
    which test was used and why.

    Examples
    --------
    >>> result = contingency_test([[3, 1], [1, 3]])
    >>> result.test, result.reason
    ("Fisher's exact test", 'smallest expected count 2 < 5')
    """
    counts = _count_table(table)
    smallest = float(_expected_counts(counts).to_numpy().min())
    if smallest < min_expected:
        detail = fisher_exact(counts)
        return ContingencyTest(
            test="Fisher's exact test",
            reason=f"smallest expected count {smallest:.3g} < {min_expected:g}",
            statistic=np.nan,
            df=np.nan,
            p=detail.p,
            min_expected=smallest,
            detail=detail,
        )
    detail = chi_square(counts)
    return ContingencyTest(
        test="Chi-square test",
        reason=f"all expected counts >= {min_expected:g} (smallest {smallest:.3g})",
        statistic=detail.statistic,
        df=float(detail.df),
        p=detail.p,
        min_expected=smallest,
        detail=detail,
    )
