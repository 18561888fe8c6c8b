"""Two-group comparisons, as R and SPSS report them.

- :func:`shapiro` - ``stats::shapiro.test``
- :func:`t_test` - ``stats::t.test`` (Welch by default, Student with ``equal_var=True``)
- :func:`mann_whitney` - the Wilcoxon rank-sum / Mann-Whitney U test with both the SPSS
  numbers (Z without continuity correction) and R's ``wilcox.test`` p values
- :func:`compare_groups` - t-test when both groups pass Shapiro-Wilk, else Mann-Whitney

Contingency tables (chi-square, Fisher's exact test) are in :mod:`~stsanalysis.stats.contingency`.

Vector functions refuse missing values (pass clean vectors); :func:`compare_groups`
drops rows whose value is missing and reports the n actually used.

Constant data: a test of values without variance is undefined but does not raise. As R's
``wilcox.test``, :func:`mann_whitney` returns W (= U of x) with p = NaN, and Z = 0 as SPSS
prints it; :func:`t_test` returns t = p = NaN where R's ``t.test`` stops ("data are
essentially constant"). Both warn with
:class:`~stsanalysis.errors.ConstantVariableWarning` naming the variable, so that one
constant column does not abort a whole table (the table builders of
:mod:`~stsanalysis.stats.tables` turn the warning into a footnote).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import ConstantVariableWarning, InputError
from ..validation import name_of, numeric_vector, same_length, two_levels
from ._result import Result

__all__ = [
    "ConstantVariableWarning",
    "TestResult",
    "TTestResult",
    "MannWhitneyResult",
    "GroupComparison",
    "summary_statistics",
    "shapiro",
    "t_test",
    "mann_whitney",
    "compare_groups",
]

# Quantile definitions: R's default (type 7) and SPSS's (HAVERAGE, which is R's type 6).
QUANTILE_METHODS = {"r": "linear", "spss": "weibull"}


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


def summary_statistics(values, *, quantile_method: str = "r") -> pd.Series:
    """n, mean, sd (n - 1), median, p25, p75, min and max of the non-missing values.

    ``quantile_method="r"`` gives R's default quantiles (type 7); ``"spss"`` gives SPSS's
    percentile definition (HAVERAGE, R's type 6), which differs in small samples.

    Examples
    --------
    >>> summary_statistics([2.0, 4.0, 4.0, 5.0, 7.0, 9.0]).round(3)
    n         6.000
    mean      5.167
    sd        2.483
    median    4.500
    p25       4.000
    p75       6.500
    min       2.000
    max       9.000
    dtype: float64
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

    Examples
    --------
    >>> result = shapiro([2.1, 3.4, 1.9, 5.6, 4.4, 3.8, 2.9, 4.1])
    >>> round(result.statistic, 4), round(result.p, 4)
    (0.9695, 0.8942)
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

    ``names`` label x and y in error messages. When neither group varies (R's test:
    standard error below 10 machine epsilons of the larger mean), R's ``t.test`` stops
    with "data are essentially constant"; here t, the CI and p are NaN (df too for Welch)
    and a :class:`~stsanalysis.errors.ConstantVariableWarning` says so, so that a table
    of many variables is still computed.

    Examples
    --------
    >>> result = t_test([5.1, 4.9, 6.2, 5.8, 6.0], [4.1, 4.5, 3.9, 5.0, 4.4])
    >>> round(result.t, 3), round(result.df, 2), round(result.p, 4)
    (3.85, 7.36, 0.0057)
    """
    name_x, name_y = name_of(x, names[0]), name_of(y, names[1])
    first = numeric_vector(x, name_x, min_size=2)
    second = numeric_vector(y, name_y, min_size=2)
    mean_x, mean_y = first.mean(), second.mean()
    method = "Two Sample t-test" if equal_var else "Welch Two Sample t-test"
    standard_error = np.sqrt(first.var(ddof=1) / first.size + second.var(ddof=1) / second.size)
    if standard_error < 10 * np.finfo(float).eps * max(abs(mean_x), abs(mean_y)):  # as R: "data are essentially constant"
        values = f"'{name_x}' all {first[0]:g}, '{name_y}' all {second[0]:g}"
        reason = f"no variance within either group ({values})"
        warnings.warn(
            ConstantVariableWarning(
                f"The t-test is undefined: '{name_x}' and '{name_y}' are both constant ({values}); "
                "returning t = NaN and p = NaN (R's t.test stops: data are essentially constant).",
                variable=_pair_name(name_x, name_y),
                reason=reason,
            ),
            stacklevel=2,
        )
        return TTestResult(
            t=np.nan,
            df=float(first.size + second.size - 2) if equal_var else np.nan,
            p=np.nan,
            mean_difference=float(mean_x - mean_y),
            ci_low=np.nan,
            ci_high=np.nan,
            mean_x=float(mean_x),
            mean_y=float(mean_y),
            method=method,
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
        method=method,
    )


def _pair_name(name_x: str, name_y: str) -> str:
    """The variable a pair of samples belongs to, for a warning: "adc" or "x / y"."""
    return name_x if name_x == name_y else f"{name_x} / {name_y}"


def mann_whitney(x, y, *, names=("x", "y")) -> MannWhitneyResult:
    """Mann-Whitney U (Wilcoxon rank-sum) test, SPSS's asymptotic Z and R's p values.

    SPSS reports Z = -abs(U - n_x n_y / 2) / sigma with the tie-corrected sigma and no
    continuity correction, and p = 2 * Phi(Z); that is the default ``p``. R's
    ``wilcox.test`` gives ``p_exact`` (no ties) or, with ties, ``p_continuity`` (normal
    approximation with continuity correction). ``u`` is R's W, the U of x.

    When all values are identical the test is undefined: as R's ``wilcox.test``, ``u`` is
    still W (= n_x n_y / 2) and every p is NaN; ``z`` is 0, as SPSS prints it, and
    ``effect_size_r`` NaN. A :class:`~stsanalysis.errors.ConstantVariableWarning` says so.

    Examples
    --------
    >>> result = mann_whitney([5.1, 4.9, 6.2, 5.8, 6.0], [4.1, 4.5, 3.9, 5.0, 4.4])
    >>> result.u, round(result.z, 3), round(result.p_exact, 4)
    (24.0, -2.402, 0.0159)
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
    if sigma == 0:  # all values tied: R gives W with p = NaN (z = 0 / 0), SPSS prints Z = 0
        reason = f"all {n} values are identical ({combined[0]:g})"
        warnings.warn(
            ConstantVariableWarning(
                f"The Mann-Whitney test is undefined: {reason} in '{name_x}' and '{name_y}'; "
                f"returning U = {u:g} (R's W), Z = 0 and p = NaN.",
                variable=_pair_name(name_x, name_y),
                reason=reason,
            ),
            stacklevel=2,
        )
        z, p, p_exact, p_continuity, effect_size_r = 0.0, np.nan, np.nan, np.nan, np.nan
    else:
        deviation = u - n_x * n_y / 2
        z = -abs(deviation) / sigma
        p = 2 * sps.norm.cdf(z)
        # R's continuity correction moves the deviation 0.5 towards zero.
        p_continuity = min(1.0, 2 * sps.norm.sf((abs(deviation) - 0.5) / sigma))
        has_ties = bool((tie_counts > 1).any())
        p_exact = np.nan if has_ties else sps.mannwhitneyu(first, second, method="exact").pvalue
        effect_size_r = abs(z) / np.sqrt(n)
    return MannWhitneyResult(
        u=float(u),
        z=float(z),
        p=float(p),
        p_exact=float(p_exact),
        p_continuity=float(p_continuity),
        effect_size_r=float(effect_size_r),
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


def _chosen_test(samples, names, both_normal: bool, equal_var: bool) -> tuple[str, str, Result]:
    """The test compare_groups chose, its statistic's name and its result."""
    if both_normal:
        return ("Student t-test" if equal_var else "Welch t-test"), "t", t_test(*samples, equal_var=equal_var, names=names)
    with warnings.catch_warnings():
        # a constant variable: compare_groups warns once, naming the variable, not the groups
        warnings.simplefilter("ignore", ConstantVariableWarning)
        return "Mann-Whitney U", "Z", mann_whitney(*samples, names=names)


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

    A constant variable (all values identical) cannot pass Shapiro-Wilk, so it gets the
    Mann-Whitney test, which is undefined: Z = 0 and p = NaN (see :func:`mann_whitney`),
    with one :class:`~stsanalysis.errors.ConstantVariableWarning` naming the variable.

    Examples
    --------
    >>> values = [5.1, 4.9, 6.2, 5.8, 6.0, 4.1, 4.5, 3.9, 5.0, 4.4]
    >>> result = compare_groups(values, ["high"] * 5 + ["low"] * 5)
    >>> result.test, result.statistic_name, round(result.p, 4)
    ('Welch t-test', 't', 0.0057)
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

    test, statistic_name, detail = _chosen_test(samples, names, both_normal, equal_var)
    reason = f"both groups normal ({reasons})" if both_normal else f"normality rejected or untestable ({reasons})"
    if np.ptp(data["value"].to_numpy()) == 0:
        constant = f"all {len(data)} values are identical ({data['value'].iat[0]:g})"
        reason = f"constant variable, {constant}: the test is undefined (Z = 0, p = NaN)"
        warnings.warn(
            ConstantVariableWarning(
                f"'{name}' is constant: {constant}; the {test} test is undefined, returning Z = 0 and p = NaN.",
                variable=name,
                reason=constant,
            ),
            stacklevel=2,
        )
    return GroupComparison(
        variable=name,
        group_levels=tuple(levels),
        test=test,
        reason=reason,
        statistic_name=statistic_name,
        statistic=float(detail.t if statistic_name == "t" else detail.z),
        p=float(detail.p),
        summaries=summaries,
        detail=detail,
    )
