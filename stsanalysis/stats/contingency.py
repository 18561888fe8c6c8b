"""Contingency tables: Pearson's chi-square and Fisher's exact test, as R reports them.

- :func:`chi_square` - ``chisq.test`` (Yates' correction only when asked)
- :func:`fisher_exact` - ``fisher.test``, exact for r x c tables (enumeration with the
  bounds of Mehta & Patel's network algorithm), conditional MLE odds ratio for 2 x 2
- :func:`contingency_test` - the "any expected count < 5 -> Fisher" rule
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.special import gammaln

from ..errors import InputError
from ._result import Result

__all__ = ["ChiSquareResult", "FisherResult", "ContingencyTest", "chi_square", "fisher_exact", "contingency_test"]

# R's fisher.test counts tables as "as extreme" when their probability is within this
# relative tolerance of the observed one (relErr in fisher.test), so ties are not lost to
# rounding.
_FISHER_RELATIVE_TOLERANCE = 1 + 1e-7
# Enumeration of r x c tables is exact but grows quickly; beyond this many partial tables
# we refuse rather than run for minutes.
_FISHER_MAX_TABLES = 5_000_000


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


def _log_factorial(cells: np.ndarray) -> np.ndarray:
    return gammaln(np.asarray(cells, dtype=float) + 1.0)


def _greedy_max(amounts: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """max of sum(log t!) over real t with sum(t) = amount, 0 <= t <= caps (per row of caps).

    log t! is convex, so the maximum puts as much as possible into the largest caps.
    """
    caps = -np.sort(-caps, axis=-1)
    before = np.cumsum(caps, axis=-1) - caps
    fill = np.clip(amounts[..., None] - before, 0, caps)
    return _log_factorial(fill).sum(axis=-1)


def _even_min(amounts: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """A lower bound of min sum(log t!) with sum(t) = amount, 0 <= t <= caps (per row of caps).

    The continuous minimum of the convex objective spreads the amount evenly up to the
    caps ("water filling"); integer tables cannot do better.
    """
    caps = np.sort(caps, axis=-1).astype(float)
    size = caps.shape[-1]
    before = np.cumsum(caps, axis=-1) - caps
    levels = (amounts[..., None] - before) / (size - np.arange(size))
    reached = caps >= levels - 1e-9
    first = np.where(reached.any(axis=-1), reached.argmax(axis=-1), size - 1)
    level = np.take_along_axis(levels, first[..., None], axis=-1)
    return _log_factorial(np.minimum(caps, level)).sum(axis=-1)


def _completion_bounds(remaining_rows: np.ndarray, columns_left: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on sum(log t!) over the tables that complete each partial table.

    Relaxing either the row or the column margins gives valid bounds; the tighter of
    the two is kept.
    """
    n_partial = remaining_rows.shape[0]
    by_column_caps = np.broadcast_to(remaining_rows[:, None, :], (n_partial, columns_left.size, remaining_rows.shape[1]))
    by_row_caps = np.broadcast_to(columns_left, (*remaining_rows.shape, columns_left.size))
    column_amounts = np.broadcast_to(columns_left, (n_partial, columns_left.size))
    upper = np.minimum(
        _greedy_max(column_amounts, by_column_caps).sum(axis=1),
        _greedy_max(remaining_rows, by_row_caps).sum(axis=1),
    )
    lower = np.maximum(
        _even_min(column_amounts, by_column_caps).sum(axis=1),
        _even_min(remaining_rows, by_row_caps).sum(axis=1),
    )
    return lower, upper


def _merge_equivalent(remaining_rows, score, multiplicity):
    """Merge partial tables whose completions are the same up to a permutation of rows.

    Their remaining row sums are equal as multisets and their scores equal (to 1e-9, far
    below the 1e-7 tolerance of the comparison with the observed table).
    """
    rows = np.sort(remaining_rows, axis=1)
    key = np.column_stack([rows, np.round(score * 1e9)])
    unique, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return rows[first], score[first], np.bincount(inverse.ravel(), weights=multiplicity, minlength=len(unique))


def _fisher_p(counts: np.ndarray) -> float:
    """Exact two-sided p of Fisher's test for an r x c table, as ``fisher.test``.

    The p value sums the null (multiple hypergeometric) probabilities of all tables with
    the observed margins whose probability does not exceed the observed one. Tables are
    built column by column with NumPy (a table's probability is a constant times
    exp(-sum log t_ij!)). After each column, partial tables whose completions are all as
    extreme as the observed table contribute their total completion probability in closed
    form, and those with no extreme completion are dropped, decided by bounds on the
    completions; partial tables with the same remaining row sums (as a multiset) and the
    same score are merged with a multiplicity. These are the ideas of Mehta & Patel's
    network algorithm, which R uses; only the undecided partial tables are expanded.
    """
    if counts.shape[0] > counts.shape[1]:
        counts = counts.T  # fewer cells per column to enumerate
    row_sums = counts.sum(axis=1)
    col_sums = np.sort(counts.sum(axis=0))[::-1]
    n_rows, n_cols = counts.shape
    log_constant = _log_factorial(row_sums).sum() + _log_factorial(col_sums).sum() - _log_factorial(counts.sum())
    # A table is as extreme as the observed one when its sum(log t!) is at least this.
    threshold = _log_factorial(counts).sum() - np.log(_FISHER_RELATIVE_TOLERANCE)

    p = 0.0
    remaining_rows = row_sums[None, :].astype(np.int64)  # one row per partial table
    score = np.zeros(1)  # sum(log t!) of the cells filled so far
    multiplicity = np.ones(1)  # how many partial tables each row stands for
    for column in range(n_cols - 1):
        remaining_rows, score, multiplicity = _merge_equivalent(remaining_rows, score, multiplicity)
        columns_left = col_sums[column:]
        lower, upper = _completion_bounds(remaining_rows, columns_left)
        all_extreme = score + lower >= threshold
        # Sum over all completions of exp(-sum log t!) = n_left! / (prod R_i! prod C_k!).
        log_mass = (
            _log_factorial(columns_left.sum())
            - _log_factorial(remaining_rows[all_extreme]).sum(axis=1)
            - _log_factorial(columns_left).sum()
        )
        p += (multiplicity[all_extreme] * np.exp(log_constant - score[all_extreme] + log_mass)).sum()
        undecided = ~all_extreme & (score + upper >= threshold)
        remaining_rows, score, multiplicity = remaining_rows[undecided], score[undecided], multiplicity[undecided]

        remaining_column = np.full(len(score), col_sums[column], dtype=np.int64)
        for row in range(n_rows - 1):
            capacity_below = remaining_rows[:, row + 1 :].sum(axis=1)
            low = np.maximum(0, remaining_column - capacity_below)
            high = np.minimum(remaining_rows[:, row], remaining_column)
            choices = high - low + 1
            if choices.sum() > _FISHER_MAX_TABLES:
                raise InputError(
                    f"Fisher's exact test: the {n_rows} x {n_cols} table with n = {counts.sum()} has too many "
                    "possible tables to enumerate; use chi_square instead."
                )
            parent = np.repeat(np.arange(len(score)), choices)
            offset = np.arange(parent.size) - np.repeat(np.cumsum(choices) - choices, choices)
            cell = low[parent] + offset
            remaining_rows = remaining_rows[parent].copy()
            remaining_rows[:, row] -= cell
            remaining_column = remaining_column[parent] - cell
            score = score[parent] + _log_factorial(cell)
            multiplicity = multiplicity[parent]
        remaining_rows[:, -1] -= remaining_column
        score = score + _log_factorial(remaining_column)
    score = score + _log_factorial(remaining_rows).sum(axis=1)  # the last column is determined
    extreme = score >= threshold
    p += (multiplicity[extreme] * np.exp(log_constant - score[extreme])).sum()
    return float(min(1.0, p))


def fisher_exact(table, *, conf_level: float = 0.95) -> FisherResult:
    """Fisher's exact test as ``fisher.test(table)``, two-sided.

    For a 2 x 2 table also the conditional maximum-likelihood odds ratio and its exact
    conditional confidence interval (R's estimate, via
    ``scipy.stats.contingency.odds_ratio(kind="conditional")``); for larger tables the p
    value only (R's network algorithm gives the same exact p; here by enumeration).

    Examples
    --------
    >>> result = fisher_exact([[3, 1], [1, 3]])  # Fisher's tea-tasting experiment
    >>> round(result.p, 4), round(result.odds_ratio, 3)
    (0.4857, 6.408)
    """
    counts = _count_table(table)
    array = counts.to_numpy()
    p = _fisher_p(array)
    if array.shape != (2, 2):
        return FisherResult(p, np.nan, np.nan, np.nan, f"Fisher's exact test ({array.shape[0]} x {array.shape[1]})")
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
