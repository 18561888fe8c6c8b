"""ROC, DeLong, Youden, bootstrap and diagnostic accuracy against pROC 1.18 and epiR 2.0.57.

Reference values: tests/reference/roc.R (-> roc.json, roc_input.csv) and
tests/reference/diagnostic.R (-> diagnostic.json).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError, stats
from stsanalysis.stats.roc import PerfectSeparationWarning

REF = load_reference("roc")
INPUTS = pd.read_csv(REFERENCE_DIR / "roc_input.csv")
CLOSED = dict(rel=1e-9, abs=1e-12)

# name in roc.json -> (dataset in roc_input.csv, score column, direction passed to roc())
CASES = {
    "n10": ("n10", "score", "auto"),
    "likert": ("likert", "score", "auto"),
    "adc": ("adc", "score", "auto"),
    "n180": ("n180", "score", "auto"),
    "n180_b": ("n180", "score_b", "auto"),
    "validation": ("validation", "score", "auto"),
    "youden_ties": ("youden_ties", "score", "auto"),
    "adc_wrong_direction": ("adc", "score", "<"),
}


def dataset(name: str) -> pd.DataFrame:
    return INPUTS[INPUTS["dataset"] == name].reset_index(drop=True)


def fit(name: str, **kwargs) -> stats.RocResult:
    source, column, direction = CASES.get(name, (name, "score", "auto"))
    data = dataset(source)
    return stats.roc(data["y"], data[column], direction=direction, **kwargs)


def as_float(value) -> float:
    """JSON numbers, and R's "Inf"/"-Inf" strings (jsonlite cannot write infinities)."""
    return float(str(value).replace("Inf", "inf")) if isinstance(value, str) else float(value)


# --------------------------------------------------------------------------- roc()


@pytest.mark.parametrize("name", list(CASES))
def test_auc_variance_and_ci_match_proc(name):
    # R: r <- roc(y, score, direction = ...); r$auc; var(r); ci.auc(r, method = "delong")
    expected = REF[name]
    result = fit(name)
    assert result.direction == expected["direction"]
    assert result.auc == pytest.approx(expected["auc"], **CLOSED)
    assert result.auc_variance == pytest.approx(expected["variance"], **CLOSED)
    assert result.ci_low == pytest.approx(expected["ci"][0], **CLOSED)
    assert result.ci_high == pytest.approx(expected["ci"][1], **CLOSED)
    assert (result.n_positive, result.n_negative) == (expected["n_cases"], expected["n_controls"])


@pytest.mark.parametrize("name", list(CASES))
def test_curve_thresholds_and_coordinates_match_proc(name):
    # R: r$thresholds, r$sensitivities, r$specificities (pROC's order: specificity increasing)
    expected = REF[name]
    curve = fit(name).curve
    assert list(curve.columns) == ["threshold", "sensitivity", "specificity"]
    thresholds = [as_float(value) for value in expected["thresholds"]]
    np.testing.assert_allclose(curve["threshold"], thresholds, rtol=1e-9)
    np.testing.assert_allclose(curve["sensitivity"], expected["sensitivities"], rtol=1e-9)
    np.testing.assert_allclose(curve["specificity"], expected["specificities"], rtol=1e-9)


def test_p_is_the_two_sided_wald_test_of_auc_half_on_the_delong_variance():
    result = fit("likert")
    z = (REF["likert"]["auc"] - 0.5) / math.sqrt(REF["likert"]["variance"])
    # R: 2 * pnorm(-abs(z)) with z from r$auc and var(r)
    assert result.p == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)


@pytest.mark.parametrize("name", ["n10", "likert", "adc", "n180", "tied"])
def test_spss_standard_error_and_null_hypothesis_p(name):
    # R (roc.R, spss_se): Hanley-McNeil SE with nonparametric Q1/Q2 by brute force
    result = fit(name, se_method="spss")
    assert math.sqrt(result.auc_variance) == pytest.approx(REF[name]["spss_se"], **CLOSED)
    n1, n0 = result.n_positive, result.n_negative
    null_se = math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    z = abs(REF[name]["auc"] - 0.5) / null_se
    assert result.p == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)


def test_auto_direction_compares_medians_and_fixed_direction_is_never_flipped():
    # ADC is lower in high grade: pROC "auto" picks ">" (median(controls) > median(cases))
    assert fit("adc").direction == ">"
    wrong = fit("adc_wrong_direction")
    assert wrong.direction == "<"
    assert wrong.auc == pytest.approx(1 - REF["adc"]["auc"], **CLOSED)
    assert wrong.auc < 0.5
    assert wrong.p < 0.001  # far from 0.5, in the wrong direction: reported, not hidden


def test_n10_values():
    # R: roc(c(0,0,0,0,0,1,1,1,1,1), score) -> AUC 0.88, var 0.0128, CI 0.658-1 (clipped)
    result = fit("n10")
    assert result.auc == pytest.approx(0.88, **CLOSED)
    assert result.auc_variance == pytest.approx(0.0128, **CLOSED)
    assert result.ci_high == 1.0


def test_perfect_separation_warns_and_has_zero_variance():
    # R: var(r) warns "AUC == 1 is always 0"; ci.auc(r) is 1-1
    with pytest.warns(PerfectSeparationWarning, match="perfectly"):
        result = fit("perfect")
    assert result.auc == 1.0 == REF["perfect"]["auc"]
    assert result.auc_variance == 0.0
    assert (result.ci_low, result.ci_high) == (1.0, 1.0)
    assert result.p == 0.0
    cutoff = result.youden()
    assert cutoff.threshold == pytest.approx(as_float(REF["perfect"]["youden"][0]["threshold"]), **CLOSED)
    assert (cutoff.sensitivity, cutoff.specificity, cutoff.youden_index) == (1.0, 1.0, 1.0)


def test_all_scores_tied():
    # R: roc(y, rep(3, 8)): thresholds -Inf, Inf; AUC 0.5; var 0; CI 0.5-0.5
    result = fit("tied")
    assert result.auc == 0.5
    assert result.auc_variance == 0.0
    assert (result.ci_low, result.ci_high) == (0.5, 0.5)
    assert result.p == 1.0
    assert result.curve["threshold"].tolist() == [-np.inf, np.inf]
    optima = result.youden(all_optima=True)
    assert [cutoff.threshold for cutoff in optima] == [-np.inf, np.inf]


def test_conf_level_changes_the_delong_interval():
    result = fit("likert", conf_level=0.90)
    half_width = 1.6448536269514722 * math.sqrt(REF["likert"]["variance"])
    assert result.ci_low == pytest.approx(REF["likert"]["auc"] - half_width, rel=1e-9)


# --------------------------------------------------------------------------- Youden, at()

COORD_FIELDS = ["sensitivity", "specificity", "tp", "fp", "tn", "fn", "ppv", "npv", "accuracy"]


def assert_cutoff_matches(cutoff: stats.Cutoff, expected: dict) -> None:
    assert cutoff.threshold == pytest.approx(as_float(expected["threshold"]), rel=1e-9)
    for field in COORD_FIELDS:
        # jsonlite leaves out NaN (e.g. PPV with no test positives)
        assert getattr(cutoff, field) == pytest.approx(expected.get(field, np.nan), rel=1e-9, nan_ok=True), field


@pytest.mark.parametrize("name", list(CASES) + ["tied", "perfect"])
def test_youden_all_optima_match_proc_coords_best(name):
    # R: coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity", ...))
    expected = REF[name]["youden"]
    with pytest.warns(PerfectSeparationWarning) if name == "perfect" else contextlib.nullcontext():
        result = fit(name)
    optima = result.youden(all_optima=True)
    assert len(optima) == len(expected)
    for cutoff, row in zip(optima, expected):
        assert_cutoff_matches(cutoff, row)
        assert cutoff.youden_index == pytest.approx(row["sensitivity"] + row["specificity"] - 1, abs=1e-12)
    # the single answer is pROC's first row: the highest sensitivity among tied optima
    assert result.youden().to_dict() == pytest.approx(optima[0].to_dict(), nan_ok=True)


def test_tied_optima_are_all_reported():
    # R: coords(roc(c(0,1,0,1,0,1,0,1), 1:8), "best") -> 4 rows, thresholds 1.5, 3.5, 5.5, 7.5
    optima = fit("youden_ties").youden(all_optima=True)
    assert [cutoff.threshold for cutoff in optima] == [1.5, 3.5, 5.5, 7.5]


def test_youden_rule_for_low_values_predicting_positive():
    cutoff = fit("adc").youden()
    assert cutoff.direction == ">"
    assert cutoff.rule == "< 1.429"  # pROC: positive if ADC <= 1.429 (a midpoint: no ADC equals it)
    assert fit("n10").youden().rule == "> 0.37"


@pytest.mark.parametrize("name", ["adc_at", "n10_at"])
def test_at_fixed_threshold_matches_proc_coords(name):
    # R: coords(r, x = thresholds, input = "threshold", ret = c("sensitivity", ..., "accuracy"))
    result = fit(name.removesuffix("_at"))
    for threshold, expected in zip(REF[name]["threshold"], REF[name]["coords"]):
        assert_cutoff_matches(result.at(threshold), expected)


def test_at_observed_threshold_applies_equality_and_says_so():
    adc = fit("adc")
    observed = dataset("adc")["score"][2]  # 1.423, a patient's ADC
    cutoff = adc.at(observed)
    assert cutoff.threshold_in_data
    assert cutoff.rule == "<= 1.423"
    n10 = fit("n10")
    assert n10.at(0.57).rule == ">= 0.57"
    assert n10.at(0.57).tp == 4  # the case scoring 0.57 counts as positive (pROC: score >= threshold)
    assert n10.at(0.5700001).tp == 3


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_ci_close_to_proc():
    # R: set.seed(1); ci.auc(r, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE)
    result = fit("n180").bootstrap_ci(n_boot=2000, seed=1)
    low, median, high = REF["bootstrap"]["n180"]
    assert result.ci_low == pytest.approx(low, abs=0.02)
    assert result.median == pytest.approx(median, abs=0.02)
    assert result.ci_high == pytest.approx(high, abs=0.02)
    adc = fit("adc").bootstrap_ci(n_boot=2000, seed=2)
    assert adc.ci_low == pytest.approx(REF["bootstrap"]["adc"][0], abs=0.02)
    assert adc.ci_high == pytest.approx(REF["bootstrap"]["adc"][2], abs=0.02)


def test_bootstrap_auc_replicates_equal_a_per_replicate_recomputation():
    result = fit("likert")
    boot = result.bootstrap_ci(n_boot=50, seed=7)
    rng = np.random.default_rng(7)
    cases = result.score[result.y == 1]
    controls = result.score[result.y == 0]
    case_draws = rng.integers(0, cases.size, (50, cases.size))
    control_draws = rng.integers(0, controls.size, (50, controls.size))
    for i in range(50):
        y = np.r_[np.ones(cases.size), np.zeros(controls.size)]
        score = np.r_[cases[case_draws[i]], controls[control_draws[i]]]
        assert boot.aucs[i] == pytest.approx(stats.roc(y, score, direction="<").auc, rel=1e-12)
    # percentile CI = quantile(aucs, c(.025, .5, .975)), R's type 7
    assert boot.ci_low == pytest.approx(np.quantile(boot.aucs, 0.025), rel=1e-12)


def test_bootstrap_is_deterministic_and_stratification_keeps_group_sizes():
    result = fit("n10")
    first = result.bootstrap_ci(n_boot=200, seed=3)
    assert np.array_equal(first.aucs, result.bootstrap_ci(n_boot=200, seed=3).aucs)
    # non-stratified resampling of 10 patients sometimes draws no case: pROC ignores those
    with pytest.warns(UserWarning, match="without cases or without controls were ignored"):
        nonstratified = result.bootstrap_ci(n_boot=200, seed=3, stratified=False)
    assert 190 < nonstratified.aucs.size < 200


def test_bootstrap_band_close_to_proc_ci_se():
    # R: set.seed(3); ci.se(r, specificities = seq(0, 1, 0.1), boot.n = 2000)
    band = fit("n180").bootstrap_band(n_boot=2000, seed=3)
    np.testing.assert_allclose(band["specificity"], REF["bootstrap"]["band_specificities"])
    np.testing.assert_allclose(band["sensitivity_low"], REF["bootstrap"]["band_low"], atol=0.05)
    np.testing.assert_allclose(band["sensitivity_median"], REF["bootstrap"]["band_median"], atol=0.05)
    np.testing.assert_allclose(band["sensitivity_high"], REF["bootstrap"]["band_high"], atol=0.05)


def sensitivity_at_specificity(curve: pd.DataFrame, target: float) -> float:
    """pROC coords(r, target, input = "specificity", ret = "sensitivity") on one curve:
    the first (highest-sensitivity) row with exactly that specificity, else linear
    interpolation between the last row below and the first row above."""
    specificity = curve["specificity"].to_numpy()
    sensitivity = curve["sensitivity"].to_numpy()
    exact = np.flatnonzero(specificity == target)
    if exact.size:
        return sensitivity[exact[0]]
    after = int(np.argmax(specificity > target))
    proportion = (target - specificity[after]) / (specificity[after - 1] - specificity[after])
    return sensitivity[after] + proportion * (sensitivity[after - 1] - sensitivity[after])


def test_bootstrap_band_equals_per_replicate_proc_coords():
    result = fit("likert")  # heavy ties: vertical segments in every replicate's curve
    grid = np.r_[np.linspace(0, 1, 21), 0.3, 1 / 3]
    band = result.bootstrap_band(n_boot=40, seed=11, specificities=grid)
    rng = np.random.default_rng(11)
    cases = result.score[result.y == 1]
    controls = result.score[result.y == 0]
    case_draws = rng.integers(0, cases.size, (40, cases.size))
    control_draws = rng.integers(0, controls.size, (40, controls.size))
    y = np.r_[np.ones(cases.size), np.zeros(controls.size)]
    per_replicate = np.array(
        [
            [
                sensitivity_at_specificity(
                    stats.roc(y, np.r_[cases[case_draws[i]], controls[control_draws[i]]], direction="<").curve,
                    target,
                )
                for target in grid
            ]
            for i in range(40)
        ]
    )
    low, median, high = np.quantile(per_replicate, [0.025, 0.5, 0.975], axis=0)
    np.testing.assert_allclose(band["sensitivity_low"], low, rtol=1e-12)
    np.testing.assert_allclose(band["sensitivity_median"], median, rtol=1e-12)
    np.testing.assert_allclose(band["sensitivity_high"], high, rtol=1e-12)


def test_bootstrap_band_refuses_specificities_outside_0_1():
    with pytest.raises(InputError, match="specificities"):
        fit("n10").bootstrap_band(n_boot=10, specificities=[0.5, 1.2])


# --------------------------------------------------------------------------- DeLong tests


def test_paired_delong_matches_roc_test():
    # R: roc.test(roc_a, roc_b, method = "delong", paired = TRUE)
    expected = REF["paired"]
    result = stats.delong_test(fit("n180"), fit("n180_b"), paired=True)
    assert result.statistic == pytest.approx(expected["statistic"], **CLOSED)
    assert result.p == pytest.approx(expected["p"], **CLOSED)
    assert result.ci_low == pytest.approx(expected["ci"][0], **CLOSED)
    assert result.ci_high == pytest.approx(expected["ci"][1], **CLOSED)
    assert result.difference == pytest.approx(expected["estimate"][0] - expected["estimate"][1], **CLOSED)
    assert math.isnan(result.df)


def test_unpaired_delong_matches_roc_test():
    # R: roc.test(roc_a, roc_validation, method = "delong", paired = FALSE)
    expected = REF["unpaired"]
    result = stats.delong_test(fit("n180"), fit("validation"), paired=False)
    assert result.statistic == pytest.approx(expected["statistic"], **CLOSED)
    assert result.df == pytest.approx(expected["df"], **CLOSED)
    assert result.p == pytest.approx(expected["p"], **CLOSED)
    assert result.method == "DeLong's test for two ROC curves"


def test_paired_delong_refuses_different_patients():
    with pytest.raises(InputError, match="same patients.*180.*71"):
        stats.delong_test(fit("n180"), fit("validation"), paired=True)
    data = dataset("n180")
    shuffled = stats.roc(data["y"][::-1].to_numpy(), data["score_b"][::-1].to_numpy())
    with pytest.raises(InputError, match="same outcome"):
        stats.delong_test(fit("n180"), shuffled, paired=True)


def test_compare_rocs_one_row_per_pair():
    rocs = {"a": fit("n180"), "b": fit("n180_b"), "a_again": fit("n180")}
    table = stats.compare_rocs(rocs)
    assert list(table[["model_a", "model_b"]].itertuples(index=False, name=None)) == [
        ("a", "b"),
        ("a", "a_again"),
        ("b", "a_again"),
    ]
    assert table.loc[0, "p"] == pytest.approx(REF["paired"]["p"], **CLOSED)
    assert table.loc[1, "statistic"] == 0.0 and table.loc[1, "p"] == 1.0  # pROC: 0/0 -> Z = 0
    assert table.loc[2, "statistic"] == pytest.approx(-REF["paired"]["statistic"], **CLOSED)


# --------------------------------------------------------------------------- roc_table


def test_roc_table_rows_and_direction_mapping():
    data = pd.DataFrame(
        {
            "high_grade": dataset("adc")["y"],
            "adc": dataset("adc")["score"],
            "adc_copy": dataset("adc")["score"],
        }
    )
    table = stats.roc_table(data, "high_grade", ["adc", "adc_copy"], direction={"adc_copy": "<"})
    assert table["parameter"].tolist() == ["adc", "adc_copy"]
    first = table.iloc[0]
    assert first["auc"] == pytest.approx(REF["adc"]["auc"], **CLOSED)
    assert first["ci_low"] == pytest.approx(REF["adc"]["ci"][0], **CLOSED)
    assert first["rule"] == "< 1.429"
    assert first["sensitivity"] == 1.0
    assert first["specificity"] == pytest.approx(20 / 24, **CLOSED)
    assert first["youden_index"] == pytest.approx(20 / 24, **CLOSED)
    assert (first["direction"], first["n_positive"], first["n_negative"]) == (">", 8, 24)
    assert table.iloc[1]["auc"] == pytest.approx(REF["adc_wrong_direction"]["auc"], **CLOSED)


def test_roc_table_missing_column_is_named():
    with pytest.raises(InputError, match="ADCmean"):
        stats.roc_table(pd.DataFrame({"y": [0, 1]}), "y", ["ADCmean"])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("y", "score", "message"),
    [
        ([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], "exactly two values; got 1"),
        ([0, 1, 2, 1, 0], [0.1, 0.2, 0.3, 0.4, 0.5], "binary coded 0/1"),
        ([0, 1, 0, 1], [0.1, np.nan, 0.3, 0.4], "missing value"),
        ([0, 1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5], "at least 2 observations in each class"),
        ([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4], "at least 2 observations in each class"),
        ([0, 1, 0, 1], [0.1, 0.2, 0.3], "same length"),
        ([0, 1, 0, 1], ["a", 0.2, 0.3, 0.4], "must be numeric"),
    ],
)
def test_bad_input_raises_input_error(y, score, message):
    with pytest.raises(InputError, match=message):
        stats.roc(y, score)


def test_bad_input_names_the_series():
    with pytest.raises(InputError, match="'ADCmean' has 1 missing"):
        stats.roc(pd.Series([0, 1, 0, 1], name="high_grade"), pd.Series([1.0, None, 2.0, 3.0], name="ADCmean"))


def test_bad_direction_and_method_keywords():
    with pytest.raises(InputError, match="direction"):
        stats.roc([0, 1, 0, 1], [1, 2, 3, 4], direction="up")
    with pytest.raises(InputError, match="se_method"):
        stats.roc([0, 1, 0, 1], [1, 2, 3, 4], se_method="hanley")


# --------------------------------------------------------------------------- diagnostic_metrics

EPIR_NAMES = {
    "sensitivity": "se",
    "specificity": "sp",
    "ppv": "pv.pos",
    "npv": "pv.neg",
    "accuracy": "diag.ac",
    "lr_positive": "lr.pos",
    "lr_negative": "lr.neg",
    "diagnostic_odds_ratio": "diag.or",
}


def vectors_from_counts(tp: int, fp: int, fn: int, tn: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.r_[np.ones(tp), np.zeros(fp), np.ones(fn), np.zeros(tn)]
    predicted = np.r_[np.ones(tp + fp), np.zeros(fn + tn)]
    return y, predicted


@pytest.mark.parametrize("table", ["large", "small"])
def test_diagnostic_metrics_match_epi_tests(table):
    # R: epi.tests(as.table(matrix(c(tp, fp, fn, tn), 2, byrow = TRUE)), method = "exact")
    expected = load_reference("diagnostic")[table]
    detail = {row["statistic"]: row for row in expected["detail"]}
    result = stats.diagnostic_metrics(*vectors_from_counts(**expected["counts"])).set_index("metric")
    for metric, epir_name in EPIR_NAMES.items():
        row = detail[epir_name]
        assert result.loc[metric, "value"] == pytest.approx(row["est"], **CLOSED), metric
        assert result.loc[metric, "ci_low"] == pytest.approx(row["lower"], rel=1e-9), metric
        assert result.loc[metric, "ci_high"] == pytest.approx(row["upper"], rel=1e-9), metric
    for count, value in expected["counts"].items():
        assert result.loc[count, "value"] == value


def test_diagnostic_metrics_with_a_zero_cell():
    # no false negatives: sensitivity 1 with exact CI upper 1, LR- = 0, DOR infinite (as epiR)
    result = stats.diagnostic_metrics(*vectors_from_counts(8, 4, 0, 20)).set_index("metric")
    assert result.loc["sensitivity", "value"] == 1.0
    assert result.loc["sensitivity", "ci_high"] == 1.0
    assert result.loc["sensitivity", "ci_low"] == pytest.approx(0.025 ** (1 / 8), rel=1e-9)
    assert result.loc["lr_negative", "value"] == 0.0
    assert math.isinf(result.loc["diagnostic_odds_ratio", "value"])


def test_diagnostic_metrics_refuses_a_non_binary_test():
    with pytest.raises(InputError, match="'predicted' must be the test result coded 0/1"):
        stats.diagnostic_metrics([0, 1, 0, 1], [0.2, 0.8, 0.1, 0.9])


def test_delong_warns_about_different_directions():
    # R: roc.test(...) warns "DeLong's test should not be applied to ROC curves with a different direction."
    with pytest.warns(UserWarning, match="different directions"):
        stats.delong_test(fit("adc"), fit("adc_wrong_direction"))


def test_with_band_adds_the_figure_band_and_keeps_to_frame():
    result = fit("n180")
    banded = result.with_band(300, seed=5)
    assert result.band is None and banded.auc == result.auc
    expected = result.bootstrap_band(n_boot=300, seed=5, specificities=stats.BAND_SPECIFICITIES)
    pd.testing.assert_frame_equal(banded.band, expected)
    columns = [
        "auc",
        "auc_variance",
        "ci_low",
        "ci_high",
        "p",
        "direction",
        "n_positive",
        "n_negative",
        "conf_level",
        "se_method",
    ]
    assert list(result.to_frame().columns) == columns
    assert list(banded.to_frame().columns) == columns
    assert banded.to_dict()["band"] is banded.band
    with pytest.raises(TypeError, match="seed"):
        result.with_band(300)  # the seed is required: a drawn band must be reproducible
