"""Two-group tests and contingency tables against R (tests/reference/stats_univariate.R)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference
from scipy import stats as sps
from scipy.special import gammaln

from stsanalysis import InputError
from stsanalysis.stats.contingency import chi_square, contingency_test, fisher_exact
from stsanalysis.stats.univariate import (
    compare_groups,
    mann_whitney,
    shapiro,
    summary_statistics,
    t_test,
)

REFERENCE = load_reference("stats_univariate")
TABLES = [
    "small_2x2",
    "tea_2x2",
    "zero_2x2",
    "medium_2x2",
    "grade_2x4",
    "large_2x4",
    "table_3x3",
    "table_3x4",
    "subtype_2x6",
    "sparse_3x7",
]


def two_groups(name: str):
    data = pd.read_csv(REFERENCE_DIR / f"stats_univariate_{name}.csv")
    return data, data.loc[data.group == "high", "value"].to_numpy(), data.loc[data.group == "low", "value"].to_numpy()


def read_table(name: str) -> np.ndarray:
    return pd.read_csv(REFERENCE_DIR / f"stats_table_{name}.csv").to_numpy()


@pytest.mark.parametrize("data", ["no_ties", "ties"])
def test_shapiro_matches_r(data):
    # R: shapiro.test(x)  (both are Royston's approximation: agreement to 1e-6)
    _, high, low = two_groups(data)
    for sample, key in [(high, "shapiro_x"), (low, "shapiro_y")]:
        result = shapiro(sample)
        assert result.statistic == pytest.approx(REFERENCE[data][key][0], rel=1e-6)
        assert result.p == pytest.approx(REFERENCE[data][key][1], rel=1e-6)
        assert result.n == sample.size


@pytest.mark.parametrize("data", ["no_ties", "ties"])
@pytest.mark.parametrize(("equal_var", "key"), [(False, "welch"), (True, "student")])
def test_t_test_matches_r(data, equal_var, key):
    # R: t.test(x, y) (Welch) and t.test(x, y, var.equal = TRUE)
    _, high, low = two_groups(data)
    expected = REFERENCE[data][key]
    result = t_test(high, low, equal_var=equal_var)
    assert result.t == pytest.approx(expected["t"], rel=1e-9)
    assert result.df == pytest.approx(expected["df"], rel=1e-9)
    assert result.p == pytest.approx(expected["p"], rel=1e-9)
    assert [result.ci_low, result.ci_high] == pytest.approx(expected["ci"], rel=1e-9)
    assert result.mean_difference == pytest.approx(REFERENCE[data]["welch"]["mean_difference"], rel=1e-12)
    assert result.method == ("Two Sample t-test" if equal_var else "Welch Two Sample t-test")


@pytest.mark.parametrize("data", ["no_ties", "ties"])
def test_mann_whitney_matches_r_and_spss_formula(data):
    # R: wilcox.test(x, y, exact = TRUE) / (exact = FALSE, correct = TRUE); SPSS Z written
    # out in R (tie-corrected variance, no continuity correction)
    _, high, low = two_groups(data)
    expected = REFERENCE[data]
    result = mann_whitney(high, low)
    assert result.u == expected["wilcox"]["w"] == expected["spss"]["u"]
    assert result.z == pytest.approx(expected["spss"]["z"], rel=1e-9)
    assert result.p == pytest.approx(expected["spss"]["p"], rel=1e-9)
    assert result.p_continuity == pytest.approx(expected["wilcox"]["p_continuity"], rel=1e-9)
    assert result.effect_size_r == pytest.approx(expected["spss"]["effect_size_r"], rel=1e-9)
    assert (result.rank_sum_x, result.rank_sum_y) == (expected["spss"]["rank_sum_x"], expected["spss"]["rank_sum_y"])
    assert (result.n_x, result.n_y) == (high.size, low.size)
    if expected["wilcox"]["p_exact"] is None:  # ties: R cannot compute the exact p
        assert np.isnan(result.p_exact)
    else:
        assert result.p_exact == pytest.approx(expected["wilcox"]["p_exact"], rel=1e-9)


def test_mann_whitney_z_is_negative_whichever_group_is_larger():
    _, high, low = two_groups("no_ties")
    forward, backward = mann_whitney(high, low), mann_whitney(low, high)
    assert forward.z == backward.z < 0
    assert forward.u + backward.u == high.size * low.size


@pytest.mark.parametrize(("data", "test", "statistic_name"), [("no_ties", "Welch t-test", "t"), ("ties", "Mann-Whitney U", "Z")])
def test_compare_groups_chooses_by_shapiro_wilk(data, test, statistic_name):
    frame, high, low = two_groups(data)
    expected = REFERENCE[data]
    result = compare_groups(frame["value"], frame["group"])
    assert result.test == test
    assert result.statistic_name == statistic_name
    assert result.group_levels == ("high", "low")
    if statistic_name == "t":
        # R: t.test(x, y)$statistic, both shapiro.test p > 0.05
        assert result.statistic == pytest.approx(expected["welch"]["t"], rel=1e-9)
        assert result.p == pytest.approx(expected["welch"]["p"], rel=1e-9)
        assert "both groups normal" in result.reason
    else:
        # group "high" has shapiro.test p = 0.033
        assert result.statistic == pytest.approx(expected["spss"]["z"], rel=1e-9)
        assert result.p == pytest.approx(expected["spss"]["p"], rel=1e-9)
        assert "group = high: Shapiro-Wilk p = 0.03314 (not normal)" in result.reason
    summaries = result.summaries
    assert summaries.loc["high", "n"] == high.size and summaries.loc["low", "n"] == low.size
    assert summaries.loc["high", "shapiro_p"] == pytest.approx(expected["shapiro_x"][1], rel=1e-6)
    for level, sample in [("high", high), ("low", low)]:
        # R: quantile(x, c(.25, .5, .75), type = 7); sd(x)
        assert summaries.loc[level, ["p25", "median", "p75"]].tolist() == pytest.approx(expected["quantile_type7"][level], rel=1e-12)
        assert summaries.loc[level, "sd"] == pytest.approx(expected["sd"][level], rel=1e-12)
        assert summaries.loc[level, "mean"] == pytest.approx(sample.mean(), rel=1e-12)


def test_compare_groups_student_and_spss_quantiles_by_keyword():
    frame, _, _ = two_groups("no_ties")
    result = compare_groups(frame["value"], frame["group"], equal_var=True, quantile_method="spss")
    assert result.test == "Student t-test"
    assert result.statistic == pytest.approx(REFERENCE["no_ties"]["student"]["t"], rel=1e-9)
    # R: quantile(x, c(.25, .5, .75), type = 6), SPSS's percentile definition
    assert result.summaries.loc["high", ["p25", "median", "p75"]].tolist() == pytest.approx(
        REFERENCE["no_ties"]["quantile_type6"]["high"], rel=1e-12
    )


def test_compare_groups_drops_missing_values_and_handles_a_constant_group():
    values = pd.Series([1.0, 2.0, np.nan, 4.0, 5.0, 7.0, 7.0, 7.0, 7.0], name="adc_mean")
    groups = pd.Series(["a"] * 5 + ["b"] * 4, name="grade")
    result = compare_groups(values, groups)
    assert result.summaries["n"].tolist() == [4, 4]
    assert result.test == "Mann-Whitney U"
    assert "grade = b: all values identical" in result.reason


@pytest.mark.parametrize("name", TABLES)
def test_chi_square_matches_chisq_test(name):
    # R: chisq.test(m, correct = FALSE)
    expected = REFERENCE["contingency"][name]
    result = chi_square(read_table(name))
    assert result.statistic == pytest.approx(expected["chisq"], rel=1e-9)
    assert result.df == expected["chisq_df"]
    assert result.p == pytest.approx(expected["chisq_p"], rel=1e-9)
    np.testing.assert_allclose(result.expected.to_numpy(), np.array(expected["expected"]), rtol=1e-12)
    assert result.correction is False


@pytest.mark.parametrize("name", [name for name in TABLES if name.endswith("2x2")])
def test_chi_square_yates_only_when_asked(name):
    # R: chisq.test(m, correct = TRUE)
    expected = REFERENCE["contingency"][name]
    result = chi_square(read_table(name), correction=True)
    assert result.statistic == pytest.approx(expected["yates"], rel=1e-9)
    assert result.p == pytest.approx(expected["yates_p"], rel=1e-9)
    assert result.correction is True


@pytest.mark.parametrize("name", TABLES)
def test_fisher_exact_matches_fisher_test(name):
    # R: fisher.test(m): p (exact, 1e-9), conditional MLE odds ratio and CI (uniroot, 1e-3)
    expected = REFERENCE["contingency"][name]
    result = fisher_exact(read_table(name))
    assert result.p == pytest.approx(expected["fisher_p"], rel=1e-9)
    if name.endswith("2x2"):
        assert result.odds_ratio == pytest.approx(expected["odds_ratio"], rel=1e-3, abs=1e-9)
        # R finds each bound with uniroot (tol 1.2e-4) on the odds ratio when it is below 1
        # and on its reciprocal above 1, so compare on that scale with that tolerance; the
        # exactness of our bounds is checked in the next test.
        for ours, r_value in zip([result.ci_low, result.ci_high], expected["or_ci"]):
            assert uniroot_scale(ours) == pytest.approx(uniroot_scale(r_value), abs=1.3e-4)
    else:
        assert np.isnan(result.odds_ratio)


def uniroot_scale(odds_ratio: float) -> float:
    return odds_ratio if odds_ratio <= 1 else 1 / odds_ratio


@pytest.mark.parametrize("name", ["small_2x2", "tea_2x2", "medium_2x2"])
def test_fisher_odds_ratio_ci_solves_the_exact_conditional_equations(name):
    # The bounds of fisher.test's interval solve P(X >= a | OR = low) = P(X <= a | OR = high)
    # = alpha / 2 under the noncentral hypergeometric distribution of the cell a.
    table = read_table(name)
    result = fisher_exact(table)
    a, total, row_1, column_1 = table[0, 0], table.sum(), table[0].sum(), table[:, 0].sum()
    distribution = sps.nchypergeom_fisher
    assert distribution.sf(a - 1, total, row_1, column_1, result.ci_low) == pytest.approx(0.025, rel=1e-9)
    assert distribution.cdf(a, total, row_1, column_1, result.ci_high) == pytest.approx(0.025, rel=1e-9)
    assert distribution.mean(total, row_1, column_1, result.odds_ratio) == pytest.approx(a, rel=1e-9)


def test_fisher_exact_keeps_dataframe_labels_in_expected():
    table = pd.DataFrame([[3, 1], [1, 3]], index=["biopsy low", "biopsy high"], columns=["low", "high"])
    assert list(chi_square(table).expected.index) == ["biopsy low", "biopsy high"]


@pytest.mark.parametrize(("name", "test"), [("small_2x2", "Fisher's exact test"), ("large_2x4", "Chi-square test")])
def test_contingency_test_uses_the_expected_count_rule(name, test):
    expected = REFERENCE["contingency"][name]
    result = contingency_test(read_table(name))
    assert result.test == test
    assert result.min_expected == pytest.approx(np.min(expected["expected"]), rel=1e-12)
    assert result.p == pytest.approx(expected["fisher_p" if test.startswith("Fisher") else "chisq_p"], rel=1e-9)
    assert ("< 5" in result.reason) == test.startswith("Fisher")


def test_summary_statistics_refuses_unknown_quantile_method():
    with pytest.raises(InputError, match="'quantile_method' must be one of"):
        summary_statistics([1, 2, 3], quantile_method="type 6")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: shapiro(pd.Series([1.2, 1.2, 1.2, 1.2], name="adc_min")), r"'adc_min': all 4 values are identical"),
        (lambda: shapiro([1.0, 2.0]), "at least 3"),
        (lambda: shapiro([1.0, np.nan, 2.0, 3.0]), "missing value"),
        (lambda: t_test([1.0, 2.0, 3.0], [2.0]), "'y' needs at least 2"),
        (lambda: t_test(["1.0", "high", "3"], [2.0, 3.0]), r"'x' must be numeric.*'high'"),
        (lambda: mann_whitney([1.0], [2.0, 3.0]), "'x' needs at least 2"),
        (
            lambda: compare_groups(pd.Series([1.0, 2, 3, 4, 5, 6]), pd.Series(["I", "II", "III"] * 2, name="grade")),
            r"'grade' must have exactly 2 levels; got 3",
        ),
        (
            lambda: compare_groups(pd.Series([1.0, 2, 3, 4], name="adc"), pd.Series(["a", "b", "b", "b"], name="grade")),
            r"'adc' needs at least 2 values per group; adc \(grade = a\) has 1",
        ),
        (
            lambda: compare_groups(pd.Series([1.0, 2, 3], name="adc"), pd.Series(["a", "b"], name="grade")),
            r"same length; got \{'adc': 3, 'grade': 2\}",
        ),
        (lambda: chi_square([[3, 0], [4, 0]]), r"empty rows \[\] / columns \[1\]"),
        (lambda: chi_square([[3, 1.5], [4, 2]]), "non-negative whole counts"),
        (lambda: fisher_exact([[3, -1], [4, 2]]), "non-negative whole counts"),
        (lambda: fisher_exact([[3, 1, 2]]), "at least 2 rows and 2 columns"),
    ],
)
def test_bad_input_is_refused_with_a_named_message(call, message):
    with pytest.raises(InputError, match=message):
        call()


def brute_force_fisher_p(table: np.ndarray) -> float:
    """Fisher's p by listing every table with the margins of ``table`` (small tables only)."""
    rows, columns = table.sum(axis=1), table.sum(axis=0)

    def tables(row_sums, remaining_columns):
        if len(remaining_columns) == 1:
            yield [list(row_sums)]
            return
        for first_column in itertools.product(*(range(r + 1) for r in row_sums)):
            if sum(first_column) == remaining_columns[0]:
                rest = [r - c for r, c in zip(row_sums, first_column)]
                for tail in tables(rest, remaining_columns[1:]):
                    yield [list(first_column), *tail]

    def probability(columns_major):
        cells = np.array(columns_major).T
        log_p = gammaln(rows + 1).sum() + gammaln(columns + 1).sum() - gammaln(table.sum() + 1) - gammaln(cells + 1).sum()
        return np.exp(log_p)

    observed = probability(table.T.tolist())
    return sum(p for p in map(probability, tables(list(rows), list(columns))) if p <= observed * (1 + 1e-7))


@pytest.mark.parametrize("seed", range(12))
def test_fisher_exact_rxc_equals_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    shape = [(2, 3), (3, 3), (2, 5), (3, 4)][seed % 4]
    table = rng.integers(0, 5, size=shape)
    table[table.sum(axis=1) == 0, 0] += 1
    table[0, table.sum(axis=0) == 0] += 1
    assert fisher_exact(table).p == pytest.approx(brute_force_fisher_p(table), rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_fisher_exact_2x2_equals_scipy(seed):
    table = np.random.default_rng(seed).integers(0, 15, size=(2, 2)) + 1
    assert fisher_exact(table).p == pytest.approx(sps.fisher_exact(table).pvalue, rel=1e-9)
