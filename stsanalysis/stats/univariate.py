"""Two-group comparisons and contingency tables, as R and SPSS report them.

- :func:`shapiro` - ``stats::shapiro.test``
- :func:`t_test` - ``stats::t.test`` (Welch by default, Student with ``equal_var=True``)
- :func:`mann_whitney` - the Wilcoxon rank-sum / Mann-Whitney U test with both the SPSS
  numbers (Z without continuity correction) and R's ``wilcox.test`` p values
- :func:`compare_groups` - t-test when both groups pass Shapiro-Wilk, else Mann-Whitney
- :func:`chi_square`, :func:`fisher_exact`, :func:`contingency_test` - ``chisq.test`` and
  ``fisher.test``, and the "any expected count < 5 -> Fisher" rule

Vector functions refuse missing values (pass clean vectors); :func:`compare_groups`
drops rows whose value is missing and reports the n actually used.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.special import gammaln

from ..errors import InputError
from ..validation import name_of, numeric_vector, same_length, two_levels
from ._result import Result

__all__ = [
    "TestResult",
    "TTestResult",
    "MannWhitneyResult",
    "GroupComparison",
    "ChiSquareResult",
    "FisherResult",
    "ContingencyTest",
    "summary_statistics",
    "shapiro",
    "t_test",
    "mann_whitney",
    "compare_groups",
    "chi_square",
    "fisher_exact",
    "contingency_test",
]

# Quantile definitions: R's default (type 7) and SPSS's (HAVERAGE, which is R's type 6).
QUANTILE_METHODS = {"r": "linear", "spss": "weibull"}

# R's fisher.test counts tables as "as extreme" when their probability is within this
# relative tolerance of the observed one (relErr in fisher.test), so ties are not lost to
# rounding.
_FISHER_RELATIVE_TOLERANCE = 1 + 1e-7
# Enumeration of r x c tables is exact but grows quickly; beyond this many partial tables
# we refuse rather than run for minutes.
_FISHER_MAX_TABLES = 5_000_000


@dataclasses.dataclass(frozen=True, repr=False)
class TestResult(Result):
    """A test statistic and its p value."""

    __test__ = False  # not a pytest test class, despite the name

    statistic: float
    p: float
    n: int
    method: str


@dataclasses.dataclass(frozen=True, repr=False)
class TTestResult(Result):
    """Two-sample t-test as ``t.test(x, y)``; ``mean_difference`` = mean(x) - mean(y)."""

    t: float
    df: float
    p: float
    mean_difference: float
    ci_low: float
    ci_high: float
    mean_x: float
    mean_y: float
    method: str


@dataclasses.dataclass(frozen=True, repr=False)
class MannWhitneyResult(Result):
    """Mann-Whitney U / Wilcoxon rank-sum test with SPSS and R conventions side by side.

    ``u`` is the U of x (= R's W), ``z`` SPSS's Z (negative, tie-corrected variance, no
    continuity correction) and ``p`` its two-sided normal p value (SPSS "Asymp. Sig.");
    ``p_exact`` is R's ``wilcox.test(exact = TRUE)`` (NaN with ties), ``p_continuity`` R's
    ``wilcox.test(exact = FALSE, correct = TRUE)``; ``effect_size_r`` = abs(z) / sqrt(N).
    """

    u: float
    z: float
    p: float
    p_exact: float
    p_continuity: float
    effect_size_r: float
    rank_sum_x: float
    rank_sum_y: float
    n_x: int
    n_y: int
    convention: str


@dataclasses.dataclass(frozen=True, repr=False)
class GroupComparison(Result):
    """The test chosen for one variable between two groups, why, and its result.

    ``summaries`` has one row per group (n, mean, sd, median, p25, p75, min, max,
    shapiro_p); ``detail`` holds the full :class:`TTestResult` or
    :class:`MannWhitneyResult`.
    """

    variable: str
    group_levels: tuple
    test: str
    reason: str
    statistic_name: str
    statistic: float
    p: float
    summaries: pd.DataFrame
    detail: Result


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


def summary_statistics(values, *, quantile_method: str = "r") -> pd.Series:
    """n, mean, sd (n - 1), median, p25, p75, min and max of the non-missing values.

    ``quantile_method="r"`` gives R's default quantiles (type 7); ``"spss"`` gives SPSS's
    percentile definition (HAVERAGE, R's type 6), which differs in small samples.
    """
    if quantile_method not in QUANTILE_METHODS:
        raise InputError(f"'quantile_method' must be one of {list(QUANTILE_METHODS)}; got {quantile_method!r}.")
    array = numeric_vector(values, name_of(values, "values"), allow_nan=True, min_size=0)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return pd.Series({key: np.nan for key in ["mean", "sd", "median", "p25", "p75", "min", "max"]} | {"n": 0})
    p25, median, p75 = np.quantile(array, [0.25, 0.5, 0.75], method=QUANTILE_METHODS[quantile_method])
    return pd.Series(
        {
            "n": array.size,
            "mean": array.mean(),
            "sd": array.std(ddof=1) if array.size > 1 else np.nan,
            "median": median,
            "p25": p25,
            "p75": p75,
            "min": array.min(),
            "max": array.max(),
        }
    )


def shapiro(x, *, name: str | None = None) -> TestResult:
    """Shapiro-Wilk normality test as ``stats::shapiro.test`` (Royston's algorithm).

    Needs 3 to 5000 values that are not all identical (R's limits).
    """
    name = name or name_of(x, "x")
    array = numeric_vector(x, name, min_size=3)
    if array.size > 5000:
        raise InputError(f"Shapiro-Wilk needs at most 5000 values (as R); '{name}' has {array.size}.")
    if np.ptp(array) < 1e-10:  # R's shapiro.test stops: "all 'x' values are identical"
        raise InputError(f"Shapiro-Wilk is undefined for '{name}': all {array.size} values are identical ({array[0]!r}).")
    result = sps.shapiro(array)
    return TestResult(float(result.statistic), float(result.pvalue), int(array.size), "Shapiro-Wilk normality test")


def t_test(x, y, equal_var: bool = False, *, conf_level: float = 0.95, names=("x", "y")) -> TTestResult:
    """Two-sample t-test as ``t.test(x, y)`` (Welch) or ``t.test(x, y, var.equal = TRUE)``.

    ``names`` label x and y in error messages.
    """
    first = numeric_vector(x, name_of(x, names[0]), min_size=2)
    second = numeric_vector(y, name_of(y, names[1]), min_size=2)
    mean_x, mean_y = first.mean(), second.mean()
    standard_error = np.sqrt(first.var(ddof=1) / first.size + second.var(ddof=1) / second.size)
    if standard_error < 10 * np.finfo(float).eps * max(abs(mean_x), abs(mean_y)):  # as R: "data are essentially constant"
        raise InputError(
            f"The t-test is undefined: '{name_of(x, names[0])}' and '{name_of(y, names[1])}' are both constant "
            f"(no variance within either group)."
        )
    result = sps.ttest_ind(first, second, equal_var=equal_var)
    interval = result.confidence_interval(conf_level)
    return TTestResult(
        t=float(result.statistic),
        df=float(result.df),
        p=float(result.pvalue),
        mean_difference=float(mean_x - mean_y),
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        mean_x=float(mean_x),
        mean_y=float(mean_y),
        method="Two Sample t-test" if equal_var else "Welch Two Sample t-test",
    )


def mann_whitney(x, y, *, names=("x", "y")) -> MannWhitneyResult:
    """Mann-Whitney U (Wilcoxon rank-sum) test, SPSS's asymptotic Z and R's p values.

    SPSS reports Z = -abs(U - n_x n_y / 2) / sigma with the tie-corrected sigma and no
    continuity correction, and p = 2 * Phi(Z); that is the default ``p``. R's
    ``wilcox.test`` gives ``p_exact`` (no ties) or, with ties, ``p_continuity`` (normal
    approximation with continuity correction). ``u`` is R's W, the U of x.
    """
    name_x, name_y = name_of(x, names[0]), name_of(y, names[1])
    first = numeric_vector(x, name_x, min_size=2)
    second = numeric_vector(y, name_y, min_size=2)
    n_x, n_y = first.size, second.size
    n = n_x + n_y
    combined = np.concatenate([first, second])
    ranks = sps.rankdata(combined)
    rank_sum_x = ranks[:n_x].sum()
    u = rank_sum_x - n_x * (n_x + 1) / 2
    _, tie_counts = np.unique(combined, return_counts=True)
    tie_term = (tie_counts**3 - tie_counts).sum() / (n * (n - 1))
    sigma = np.sqrt(n_x * n_y / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        raise InputError(f"The Mann-Whitney test is undefined: all {n} values of '{name_x}' and '{name_y}' are identical.")
    deviation = u - n_x * n_y / 2
    z = -abs(deviation) / sigma
    # R's continuity correction moves the deviation 0.5 towards zero.
    z_continuity = (abs(deviation) - 0.5) / sigma
    has_ties = bool((tie_counts > 1).any())
    p_exact = np.nan if has_ties else float(sps.mannwhitneyu(first, second, method="exact").pvalue)
    return MannWhitneyResult(
        u=float(u),
        z=float(z),
        p=float(2 * sps.norm.cdf(z)),
        p_exact=p_exact,
        p_continuity=float(min(1.0, 2 * sps.norm.sf(z_continuity))),
        effect_size_r=float(abs(z) / np.sqrt(n)),
        rank_sum_x=float(rank_sum_x),
        rank_sum_y=float(ranks[n_x:].sum()),
        n_x=int(n_x),
        n_y=int(n_y),
        convention=(
            "u = U of x (R's W); z and p as SPSS (tie-corrected, no continuity correction); "
            "p_exact = wilcox.test(exact = TRUE); p_continuity = wilcox.test(exact = FALSE, correct = TRUE)"
        ),
    )


def _normality(sample: np.ndarray, label: str, alpha: float) -> tuple[float, str]:
    """Shapiro-Wilk p of one group, or NaN with the reason it cannot be tested."""
    if sample.size < 3:
        return np.nan, f"{label}: n = {sample.size}, too few for Shapiro-Wilk"
    if np.ptp(sample) < 1e-10:
        return np.nan, f"{label}: all values identical"
    p = shapiro(sample).p
    return p, f"{label}: Shapiro-Wilk p = {p:.4g} ({'normal' if p > alpha else 'not normal'})"


def compare_groups(
    values,
    groups,
    *,
    alpha: float = 0.05,
    equal_var: bool = False,
    quantile_method: str = "r",
    name: str | None = None,
) -> GroupComparison:
    """Compare one variable between two groups with the test chosen by normality.

    When Shapiro-Wilk does not reject normality (p > ``alpha``) in both groups, the
    t-test is used (Welch by default; Student's with ``equal_var=True``, as SPSS's
    "equal variances assumed" row), else the Mann-Whitney U test with SPSS's Z. The
    groups are the two sorted levels of ``groups``; statistics are first level minus
    second. Rows with a missing value are dropped (n is reported per group).
    """
    name = name or name_of(values, "values")
    group_name = name_of(groups, "groups")
    same_length(**{name: values, group_name: groups})
    data = pd.DataFrame(
        {
            "value": numeric_vector(values, name, allow_nan=True),
            "group": pd.Series(groups).to_numpy(),
        }
    )
    data = data.loc[data["value"].notna()]
    _, levels = two_levels(data["group"], group_name)
    samples = [data.loc[data["group"] == level, "value"].to_numpy() for level in levels]

    summaries = pd.DataFrame(
        {level: summary_statistics(sample, quantile_method=quantile_method) for level, sample in zip(levels, samples)}
    ).T
    summaries.index.name = group_name
    normality = [_normality(sample, f"{group_name} = {level}", alpha) for level, sample in zip(levels, samples)]
    summaries["shapiro_p"] = [p for p, _ in normality]
    both_normal = all(p > alpha for p, _ in normality)  # NaN compares False
    reasons = "; ".join(text for _, text in normality)
    names = tuple(f"{name} ({group_name} = {level})" for level in levels)
    for sample, label in zip(samples, names):
        if sample.size < 2:
            raise InputError(f"Comparing '{name}' needs at least 2 values per group; {label} has {sample.size}.")

    if both_normal:
        detail = t_test(*samples, equal_var=equal_var, names=names)
        test = "Student t-test" if equal_var else "Welch t-test"
        statistic_name, statistic = "t", detail.t
        reason = f"both groups normal ({reasons})"
    else:
        detail = mann_whitney(*samples, names=names)
        test = "Mann-Whitney U"
        statistic_name, statistic = "Z", detail.z
        reason = f"normality rejected or untestable ({reasons})"
    return GroupComparison(
        variable=name,
        group_levels=tuple(levels),
        test=test,
        reason=reason,
        statistic_name=statistic_name,
        statistic=float(statistic),
        p=float(detail.p),
        summaries=summaries,
        detail=detail,
    )


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
        raise InputError(
            f"'{name}' has empty rows {empty_rows} / columns {empty_columns} (all counts 0); "
            "drop the unused levels first."
        )
    return pd.DataFrame(array.astype(np.int64), index=frame.index, columns=frame.columns)


def _expected_counts(counts: pd.DataFrame) -> pd.DataFrame:
    array = counts.to_numpy(dtype=float)
    expected = np.outer(array.sum(axis=1), array.sum(axis=0)) / array.sum()
    return pd.DataFrame(expected, index=counts.index, columns=counts.columns)


def chi_square(table, correction: bool = False) -> ChiSquareResult:
    """Pearson chi-square test of independence as ``chisq.test(table, correct = correction)``.

    Yates' continuity correction is applied to 2 x 2 tables only when asked (R applies it
    by default; SPSS reports both; scipy by default too - here it is always explicit).
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
