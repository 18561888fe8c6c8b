"""Survival analysis against R's survival 3.5 -> tests/reference/survival.R.

Data: survival::lung (complete cases, tests/reference/survival_lung.csv) and a small
hand-made set with tied event times, events tied with censorings, a survival curve flat at
exactly 0.5, a curve dropping to 0 and tied risk scores (survival_hand.csv).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.utils import concordance_index as lifelines_concordance_index

from stsanalysis import InputError, stats
from stsanalysis.stats.survival import SurvivalWarning

REFERENCE = load_reference("survival")
LUNG = pd.read_csv(REFERENCE_DIR / "survival_lung.csv")
HAND = pd.read_csv(REFERENCE_DIR / "survival_hand.csv")
KM_DATA = {
    "km_lung_sex": (LUNG, "sex"),
    "km_hand": (HAND, "group"),
    "km_hand_all": (HAND, None),
}


def r_values(values) -> np.ndarray:
    """R's JSON as a float array: NA (null) -> NaN, a length-1 vector arrives unboxed."""
    return np.array([np.nan if value is None else value for value in np.atleast_1d(values).tolist()], dtype=float)


def assert_matches_r(actual, expected, rel):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), r_values(expected), rtol=rel, atol=0, equal_nan=True)


def fit_km(key, conf_type="log", conf_level=0.95):
    data, group = KM_DATA[key]
    return stats.kaplan_meier(
        data["time"], data["event"], None if group is None else data[group], conf_type=conf_type, conf_level=conf_level
    )


# --- Kaplan-Meier ---------------------------------------------------------------------------


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
@pytest.mark.parametrize("key", list(KM_DATA))
def test_kaplan_meier_table_matches_survfit(key, conf_type):
    # R: summary(survfit(Surv(time, event) ~ group, conf.type = conf_type), censored = TRUE)
    expected = REFERENCE[f"{key}_{conf_type.replace('-', '_')}"]["table"]
    table = fit_km(key, conf_type).table
    assert table["group"].astype(str).tolist() == np.atleast_1d(expected["group"]).tolist()
    for column in ["time", "n_risk", "n_event", "n_censor", "survival", "std_error", "ci_low", "ci_high"]:
        assert_matches_r(table[column], expected[column], rel=1e-9)


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
@pytest.mark.parametrize("key", list(KM_DATA))
def test_kaplan_meier_median_and_ci_match_print_survfit(key, conf_type):
    # R: summary(fit)$table[, c("median", "0.95LCL", "0.95UCL")]  (print.survfit's minmin rule)
    expected = REFERENCE[f"{key}_{conf_type.replace('-', '_')}"]["median"]
    median = fit_km(key, conf_type).median
    for column in ["median", "ci_low", "ci_high"]:
        assert_matches_r(median[column], expected[column], rel=1e-9)


def test_median_on_a_flat_stretch_at_half_is_the_midpoint():
    # group B: S = 0.5 exactly from t = 3 (censoring at 4) until the event at 7 -> (3 + 7) / 2
    median = fit_km("km_hand").median.set_index("group")
    assert median.loc["B", "median"] == 5.0
    assert np.isnan(median.loc["B", "ci_high"])  # upper CI curve never reaches 0.5, as R's NA


def test_kaplan_meier_conf_level_90():
    # R: survfit(Surv(time, event) ~ sex, data = lung, conf.int = 0.90)
    expected = REFERENCE["km_lung_sex_log_90"]
    result = fit_km("km_lung_sex", conf_level=0.90)
    for column in ["ci_low", "ci_high"]:
        assert_matches_r(result.table[column], expected["table"][column], rel=1e-9)
        assert_matches_r(result.median[column], expected["median"][column], rel=1e-9)


def test_curve_dropping_to_zero_has_undefined_ci_as_r():
    # group C's last patient dies: S = 0, Greenwood SE infinite; R reports NA/NaN for SE and CI
    last = fit_km("km_hand").table.query("group == 'C'").iloc[-1]
    assert last["survival"] == 0
    assert np.isnan(last["std_error"]) and np.isnan(last["ci_low"]) and np.isnan(last["ci_high"])


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
@pytest.mark.parametrize("key", ["km_lung_sex", "km_hand"])
def test_survival_at_matches_summary_times(key, conf_type):
    # R: summary(fit, times = c(...))  (n.event = events since the previous requested time)
    expected = REFERENCE[f"{key}_{conf_type.replace('-', '_')}"]["at"]
    result = fit_km(key, conf_type).survival_at(sorted(set(expected["time"])))
    assert result["group"].astype(str).tolist() == expected["group"]
    for column in ["time", "n_risk", "n_event", "survival", "std_error", "ci_low", "ci_high"]:
        assert_matches_r(result[column], expected[column], rel=1e-9)


@pytest.mark.parametrize(
    ("key", "reference", "times"),
    [
        ("km_lung_sex", "risk_table_lung_sex", [0, 250, 500, 750, 1000]),
        ("km_hand", "risk_table_hand", [0, 3, 6, 9, 12]),
    ],
)
def test_at_risk_matches_survminer_risk_table(key, reference, times):
    # R: summary(fit, times, extend = TRUE): n.risk, cumsum(n.event), cumsum(n.censor)
    expected = REFERENCE[reference]
    result = fit_km(key).at_risk(times)
    assert result["group"].astype(str).tolist() == expected["group"]
    for column in ["time", "n_risk", "cum_n_event", "cum_n_censor"]:
        assert_matches_r(result[column], expected[column], rel=1e-9)


def test_log_log_interval_is_lifelines_default():
    # the trap: lifelines' KaplanMeierFitter CI is R's conf.type = "log-log", not survfit's "log"
    fitter = KaplanMeierFitter().fit(LUNG["time"], LUNG["event"])
    table = stats.kaplan_meier(LUNG["time"], LUNG["event"], conf_type="log-log").table
    np.testing.assert_allclose(fitter.survival_function_.loc[table["time"]].iloc[:, 0], table["survival"], rtol=1e-12)
    np.testing.assert_allclose(fitter.confidence_interval_.loc[table["time"]], table[["ci_low", "ci_high"]], rtol=1e-12)


def test_kaplan_meier_keeps_categorical_level_order():
    group = pd.Categorical(HAND["group"], categories=["C", "A", "B"])
    result = stats.kaplan_meier(HAND["time"], HAND["event"], group)
    assert result.median["group"].tolist() == ["C", "A", "B"]
    assert result.median["n"].tolist() == [5, 10, 6]


# --- log-rank ---------------------------------------------------------------------------------

LOGRANK_DATA = {
    "survdiff_lung_sex": (LUNG, "sex"),
    "survdiff_lung_ecog": (LUNG, "ecog_group"),
    "survdiff_hand": (HAND, "group"),
}


@pytest.mark.parametrize("rho", [0, 1])
@pytest.mark.parametrize("key", list(LOGRANK_DATA))
def test_logrank_matches_survdiff(key, rho):
    # R: survdiff(Surv(time, event) ~ group, rho = rho)  (rho = 1: Peto & Peto)
    expected = REFERENCE[f"{key}_rho{rho}"]
    data, group = LOGRANK_DATA[key]
    result = stats.logrank_test(data["time"], data["event"], data[group], rho=rho)
    assert result.statistic == pytest.approx(expected["statistic"], rel=1e-9)
    assert result.df == expected["df"]
    assert result.p == pytest.approx(expected["p"], rel=1e-9)
    table = result.table
    assert table["group"].astype(str).tolist() == expected["group"]
    for column in ["n", "observed", "expected", "variance"]:
        assert_matches_r(table[column], expected[column], rel=1e-9)
    observed, expected_count = r_values(expected["observed"]), r_values(expected["expected"])
    assert_matches_r(table["oe_squared_over_e"], (observed - expected_count) ** 2 / expected_count, rel=1e-9)
    assert_matches_r(table["oe_squared_over_v"], (observed - expected_count) ** 2 / r_values(expected["variance"]), rel=1e-9)


@pytest.mark.parametrize(("key", "rho", "method"), [("pairwise_lung_ecog_rho0_BH", 0, "BH"), ("pairwise_lung_ecog_rho1_holm", 1, "holm")])
def test_pairwise_logrank_matches_survdiff_on_pairs(key, rho, method):
    # R (survminer::pairwise_survdiff by hand): survdiff on each pair's subset, p.adjust(method)
    expected = REFERENCE[key]
    result = stats.pairwise_logrank(LUNG["time"], LUNG["event"], LUNG["ecog_group"], rho=rho, p_adjust=method)
    assert result["group_a"].tolist() == expected["group_a"]
    assert result["group_b"].tolist() == expected["group_b"]
    for column in ["statistic", "p", "p_adjusted"]:
        assert_matches_r(result[column], expected[column], rel=1e-9)


# --- Cox --------------------------------------------------------------------------------------

COX_DATA = {"cox_lung": (LUNG, ["age", "sex", "ph_ecog"]), "cox_hand": (HAND, ["x", "risk"])}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("key", list(COX_DATA))
def test_cox_regression_matches_coxph(key, ties):
    # R: summary(coxph(Surv(time, event) ~ ..., ties = ties))
    expected = REFERENCE[f"{key}_{ties}"]
    data, covariates = COX_DATA[key]
    result = stats.cox_regression(data, "time", "event", covariates, ties=ties)
    assert result.coefficients["term"].tolist() == expected["term"]
    for column in ["coef", "std_error", "z", "p", "ci_low", "ci_high"]:
        assert_matches_r(result.coefficients[column], expected[column], rel=1e-6)
    assert_matches_r(result.coefficients["hazard_ratio"], np.exp(r_values(expected["coef"])), rel=1e-6)
    # R: fit$loglik (null, fitted)
    assert_matches_r([result.log_likelihood_null, result.log_likelihood], [expected["loglik_null"], expected["loglik"]], rel=1e-9)
    # R: summary(fit)$logtest, fit$wald.test with summary's df and p, summary(fit)$sctest
    assert_matches_r([result.lr_statistic, result.lr_df, result.lr_p], expected["lr"], rel=1e-6)
    assert_matches_r([result.wald_statistic, result.wald_df, result.wald_p], expected["wald"], rel=1e-6)
    assert_matches_r([result.score_statistic, result.score_df, result.score_p], expected["score"], rel=1e-6)
    # R: fit$concordance[c("concordance", "std")]
    assert result.concordance.c == pytest.approx(expected["concordance"], rel=1e-6)
    assert result.concordance.se == pytest.approx(expected["concordance_se"], rel=1e-6)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("key", list(COX_DATA))
def test_ph_test_matches_cox_zph(key, ties):
    # R: cox.zph(fit)$table  (transform = "km", per covariate and GLOBAL)
    expected = REFERENCE[f"{key}_{ties}"]
    data, covariates = COX_DATA[key]
    ph_test = stats.cox_regression(data, "time", "event", covariates, ties=ties).ph_test
    assert ph_test["term"].tolist() == expected["zph_term"]
    for column in ["chisq", "df", "p"]:
        assert_matches_r(ph_test[column], expected[f"zph_{column}"], rel=1e-6)


def test_efron_fit_agrees_with_lifelines():
    # lifelines' CoxPHFitter also uses Efron's ties, but its default stopping rule leaves the
    # lung coefficients ~4e-6 (relative) from coxph's; at a tight precision all three agree.
    covariates = ["age", "sex", "ph_ecog"]
    lifelines_fit = CoxPHFitter().fit(LUNG[["time", "event", *covariates]], "time", "event", fit_options={"precision": 1e-12})
    ours = stats.cox_regression(LUNG, "time", "event", covariates)
    assert_matches_r(ours.coefficients["coef"], lifelines_fit.params_.to_numpy(), rel=1e-6)
    assert ours.log_likelihood == pytest.approx(lifelines_fit.log_likelihood_, rel=1e-9)


def test_score_test_with_one_binary_covariate_is_the_logrank_test():
    # Without tied times the Cox score test of a 0/1 covariate equals survdiff's chi-square
    # (with ties, survdiff's hypergeometric variance differs from both tie methods).
    untied = LUNG.assign(time=LUNG["time"] + np.arange(len(LUNG)) * 1e-4)
    logrank = stats.logrank_test(untied["time"], untied["event"], untied["sex"])
    for ties in ("efron", "breslow"):
        cox = stats.cox_regression(untied, "time", "event", ["sex"], ties=ties)
        assert cox.score_statistic == pytest.approx(logrank.statistic, rel=1e-9)
        assert cox.score_p == pytest.approx(logrank.p, rel=1e-9)


# --- concordance ------------------------------------------------------------------------------

CONCORDANCE_DATA = {
    "concordance_lung_age": (LUNG, "age"),
    "concordance_lung_ecog": (LUNG, "ph_ecog"),  # many tied risks
    "concordance_hand_risk": (HAND, "risk"),  # tied risks and tied times
    "concordance_hand_x": (HAND, "x"),
}


@pytest.mark.parametrize("key", list(CONCORDANCE_DATA))
def test_concordance_matches_survival_concordance(key):
    # R: concordance(Surv(time, event) ~ risk, reverse = TRUE): $concordance and $var
    expected = REFERENCE[key]
    data, risk = CONCORDANCE_DATA[key]
    result = stats.concordance_index(data["time"], data["event"], data[risk])
    assert result.c == pytest.approx(expected["c"], rel=1e-9)
    assert result.se == pytest.approx(np.sqrt(expected["var"]), rel=1e-9)
    assert result.ci_low == pytest.approx(result.c - 1.959963984540054 * result.se, rel=1e-12)
    assert result.ci_high == pytest.approx(result.c + 1.959963984540054 * result.se, rel=1e-12)


def test_concordance_equals_lifelines_given_minus_risk():
    # lifelines' concordance_index scores predicted survival times, so a risk score goes in as
    # -risk (the trap); on times without ties both count the same pairs
    rng = np.random.default_rng(7)
    time, event, risk = rng.permutation(200) + 1.0, rng.integers(0, 2, 200), rng.integers(0, 10, 200)
    ours = stats.concordance_index(time, event, risk)
    assert ours.c == pytest.approx(lifelines_concordance_index(time, -risk, event), rel=1e-12)


def test_compare_concordance_matches_joint_variance():
    # R: concordance(coxph(~ age), coxph(~ ph.ecog)); contrast (1, -1) with $var
    expected = REFERENCE["concordance_lung_age_vs_ecog"]
    result = stats.compare_concordance(LUNG["time"], LUNG["event"], LUNG["age"], LUNG["ph_ecog"])
    assert_matches_r([result.c_a, result.c_b], expected["c"], rel=1e-9)
    assert result.difference == pytest.approx(expected["difference"], rel=1e-9)
    assert result.se == pytest.approx(np.sqrt(expected["difference_var"]), rel=1e-9)
    assert result.p == pytest.approx(expected["p"], rel=1e-9)


def test_compare_concordance_bootstrap_is_reproducible_and_close():
    args = (LUNG["time"], LUNG["event"], LUNG["age"], LUNG["ph_ecog"])
    first = stats.compare_concordance(*args, method="bootstrap", n_boot=200, seed=11)
    second = stats.compare_concordance(*args, method="bootstrap", n_boot=200, seed=11)
    assert first == second
    expected = REFERENCE["concordance_lung_age_vs_ecog"]
    assert first.difference == pytest.approx(expected["difference"], rel=1e-9)
    # the bootstrap SE estimates the same quantity as the jackknife SE (0.032)
    assert first.se == pytest.approx(np.sqrt(expected["difference_var"]), rel=0.25)
    assert first.ci_low < first.difference < first.ci_high
    assert first.n_boot == 200


# --- bad input --------------------------------------------------------------------------------


BAD_TIME_OR_EVENT = [
    ([1, -2, 3], [1, 0, 1], "'time' must be non-negative"),
    ([1, np.nan, 3], [1, 0, 1], "'time' has 1 missing"),
    ([1, 2, 3], [1, 2, 1], "'event' must be coded 1 = event, 0 = censored"),
    ([1, 2, 3], [1, np.nan, 1], "'event' has 1 missing"),
]
CALLS = {
    "kaplan_meier": lambda time, event: stats.kaplan_meier(time, event),
    "logrank_test": lambda time, event: stats.logrank_test(time, event, ["a", "b", "a"]),
    "concordance_index": lambda time, event: stats.concordance_index(time, event, [1, 2, 3]),
    "cox_regression": lambda time, event: stats.cox_regression(
        pd.DataFrame({"time": time, "event": event, "x": [1.0, 2.0, 0.5]}), "time", "event", ["x"]
    ),
}


@pytest.mark.parametrize("function", list(CALLS))
@pytest.mark.parametrize(("time", "event", "message"), BAD_TIME_OR_EVENT)
def test_bad_time_or_event_is_refused(function, time, event, message):
    with pytest.raises(InputError, match=message):
        CALLS[function](time, event)


def test_cox_errors_name_the_columns():
    data = pd.DataFrame({"os_days": [10, -1, 30], "death": [1, 0, 1], "size_cm": [1.0, 2.0, None]})
    with pytest.raises(InputError, match="'os_days' must be non-negative"):
        stats.cox_regression(data, "os_days", "death", ["size_cm"])
    with pytest.raises(InputError, match="'size_cm' has 1 missing"):
        stats.cox_regression(data.assign(os_days=[10, 1, 30]), "os_days", "death", ["size_cm"])


def test_lengths_must_agree():
    with pytest.raises(InputError, match="same length"):
        stats.kaplan_meier([1, 2, 3], [1, 0])
    with pytest.raises(InputError, match="same length"):
        stats.logrank_test([1, 2, 3], [1, 0, 1], ["a", "b"])
    with pytest.raises(InputError, match="same length"):
        stats.concordance_index([1, 2, 3], [1, 0, 1], [1, 2])


def test_group_without_events_warns_and_keeps_survival_one():
    group = np.where(HAND["group"] == "B", "B", "other")
    event = np.where(group == "B", 0, HAND["event"])
    with pytest.warns(SurvivalWarning, match="Group 'B' has no events"):
        result = stats.kaplan_meier(HAND["time"], event, group)
    assert (result.table.query("group == 'B'")["survival"] == 1).all()
    with pytest.warns(SurvivalWarning, match="Group 'B' has no events"):
        logrank = stats.logrank_test(HAND["time"], event, group)
    assert logrank.table.set_index("group").loc["B", "observed"] == 0


def test_all_censored_warns_in_kaplan_meier_and_is_refused_by_tests():
    censored = np.zeros(len(HAND))
    with pytest.warns(SurvivalWarning, match="All 21 patients are censored"):
        result = stats.kaplan_meier(HAND["time"], censored, HAND["group"])
    assert (result.table["survival"] == 1).all()
    assert result.median["median"].isna().all()
    with pytest.raises(InputError, match="'event' has no events"):
        stats.logrank_test(HAND["time"], censored, HAND["group"])
    with pytest.raises(InputError, match="'event' has no events"):
        stats.concordance_index(HAND["time"], censored, HAND["x"])
    with pytest.raises(InputError, match="event column 'event' has no events"):
        stats.cox_regression(HAND.assign(event=0), "time", "event", ["x"])


def test_other_bad_arguments_name_themselves():
    with pytest.raises(InputError, match="'conf_type'"):
        stats.kaplan_meier(HAND["time"], HAND["event"], conf_type="logit")
    with pytest.raises(InputError, match="'group' has 1 missing"):
        stats.kaplan_meier(HAND["time"], HAND["event"], HAND["group"].where(HAND.index != 3))
    with pytest.raises(InputError, match="at least 2 levels"):
        stats.logrank_test(HAND["time"], HAND["event"], ["A"] * len(HAND))
    with pytest.raises(InputError, match="'p_adjust'"):
        stats.pairwise_logrank(HAND["time"], HAND["event"], HAND["group"], p_adjust="fdr_bh")
    with pytest.raises(InputError, match="'ties'"):
        stats.cox_regression(HAND, "time", "event", ["x"], ties="exact")
    with pytest.raises(InputError, match=r"\['missing'\] not found"):
        stats.cox_regression(HAND, "time", "event", ["missing"])
    with pytest.raises(InputError, match="constant"):
        stats.cox_regression(HAND.assign(k=1.0), "time", "event", ["k"])
    with pytest.raises(InputError, match="'method'"):
        stats.compare_concordance(HAND["time"], HAND["event"], HAND["x"], HAND["risk"], method="delong")
