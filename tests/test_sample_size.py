"""Minimum sample size for prediction-model development (Riley et al., BMJ 2020) against the
formulas of R's pmsampsize 1.1.3 written by hand, pmsampsize's own expected values and the
papers' examples.

Reference values: tests/reference/sample_size.R (-> sample_size.json). pmsampsize's test cases
(tests/testthat/test_bin.R, test_surv.R) are copied there; the first binary case is the Chagas
disease example of Riley et al. (n = 662, EPP 4.8; criterion 1: 623), the first time-to-event
case the recurrent venous thromboembolism example (n = 4286, EPP 23.07).
"""

from __future__ import annotations

import math

import pytest
from conftest import load_reference

from stsanalysis import InputError
from stsanalysis.stats.sample_size import cox_snell_r2_from_c, riley_sample_size

REF = load_reference("sample_size")
CLOSED = dict(rel=1e-9, abs=1e-12)
ITERATIVE = dict(rel=1e-6, abs=1e-9)


def n_of(result, criterion: str) -> int:
    return int(result.criteria.set_index("criterion").loc[criterion, "n"])


@pytest.mark.parametrize("case", REF["binary"], ids=lambda case: "r2={r2}-P={parameters}-prev={prevalence}".format(**case["input"]))
def test_binary_criteria_match_pmsampsize(case):
    # R: pmsampsize(type = "b", csrsquared = r2, parameters = P, prevalence = p) -> results_table
    x, hand = case["input"], case["hand"]
    result = riley_sample_size("binary", parameters=x["parameters"], prevalence=x["prevalence"], r2_cox_snell=x["r2"])
    for criterion in ("shrinkage", "optimism", "overall_risk", "mape"):
        assert n_of(result, criterion) == hand["n"][criterion], criterion
        epp = result.criteria.set_index("criterion").loc[criterion, "epp"]
        assert epp == pytest.approx(hand["epp"][criterion], **CLOSED)
    assert result.max_r2_cox_snell == pytest.approx(hand["max_r2"], **CLOSED)
    assert result.r2_nagelkerke == pytest.approx(hand["r2_nagelkerke"], **CLOSED)
    assert result.n_required == max(hand["n"].values())
    if case["pmsampsize"]:
        # pmsampsize has no MAPE criterion: without it the final n is pmsampsize's
        without_mape = riley_sample_size("binary", parameters=x["parameters"], prevalence=x["prevalence"], r2_cox_snell=x["r2"], mape=None)
        expected_n, expected_epp = case["pmsampsize"]["n"], case["pmsampsize"]["epp"]
        observed = [n_of(without_mape, name) for name in ("shrinkage", "optimism", "overall_risk")] + [without_mape.n_required]
        assert observed == expected_n
        epps = without_mape.criteria.set_index("criterion")["epp"]
        assert [round(epps[name], 2) for name in ("shrinkage", "optimism", "overall_risk")] + [round(without_mape.epp, 2)] == expected_epp
        assert without_mape.shrinkage_expected == pytest.approx(max(0.9, hand["shrinkage_optimism"]), **CLOSED)


def test_chagas_example_of_the_paper():
    # Riley et al.: prevalence 0.174, 24 parameters, R2_CS 0.288 -> criterion 1 (shrinkage) n = 623,
    # criterion 2 (optimism) 662, overall risk 221: 662 patients, 115.2 events, EPP 4.8
    result = riley_sample_size("binary", parameters=24, prevalence=0.174, r2_cox_snell=0.288, mape=None)
    assert (n_of(result, "shrinkage"), n_of(result, "optimism"), n_of(result, "overall_risk")) == (623, 662, 221)
    assert (result.n_required, result.binding_criterion, round(result.epp, 1)) == (662, "optimism", 4.8)
    assert result.events_required == pytest.approx(662 * 0.174)
    # with the BMJ paper's fourth criterion (MAPE <= 0.05, van Smeden et al. 2019): 801
    assert riley_sample_size("binary", parameters=24, prevalence=0.174, r2_cox_snell=0.288).n_required == 801


@pytest.mark.parametrize(
    "case", REF["survival"], ids=lambda case: "r2={r2}-P={parameters}-rate={rate}-t={timepoint}-fu={meanfup}".format(**case["input"])
)
def test_survival_criteria_match_pmsampsize(case):
    # R: pmsampsize(type = "s", csrsquared = r2, parameters = P, rate = , timepoint = , meanfup = )
    x, hand = case["input"], case["hand"]
    result = riley_sample_size(
        "survival", parameters=x["parameters"], rate=x["rate"], timepoint=x["timepoint"], mean_follow_up=x["meanfup"], r2_cox_snell=x["r2"]
    )
    for criterion in ("shrinkage", "optimism", "overall_risk"):
        assert n_of(result, criterion) == hand["n"][criterion], criterion
    assert result.n_required == hand["n_final"]
    for field, column in (
        ("max_r2_cox_snell", "max_r2"),
        ("r2_nagelkerke", "r2_nagelkerke"),
        ("events_required", "events"),
        ("epp", "epp"),
    ):
        assert getattr(result, field) == pytest.approx(hand[column], **CLOSED), field
    for field in ("risk", "risk_ci_low", "risk_ci_high"):
        assert getattr(result, field) == pytest.approx(hand[field], **CLOSED), field
    if case["pmsampsize"]:
        expected = case["pmsampsize"]
        assert (n_of(result, "shrinkage"), n_of(result, "optimism"), result.n_required) == (
            expected["n_shrinkage"],
            expected["n_optimism"],
            expected["n_final"],
        )
        assert round(result.epp, 2) == expected["epp_final"]


def test_margin_of_error_criterion_is_the_smallest_n_that_meets_it():
    result = riley_sample_size("survival", parameters=10, rate=0.3, timepoint=5, mean_follow_up=0.5, r2_cox_snell=0.2)
    assert result.binding_criterion == "overall_risk"

    def upper_error(n: int) -> float:
        person_time = 0.5 * n
        return (1 - math.exp(-(0.3 + 1.96 * math.sqrt(0.3 / person_time)) * 5)) - (1 - math.exp(-0.3 * 5))

    n = result.n_required
    assert upper_error(n) <= 0.05 < upper_error(n - 1)


@pytest.mark.parametrize("case", REF["c_statistic"], ids=lambda case: f"C={case['cstatistic']}-prev={case['prevalence']}")
def test_cox_snell_r2_from_the_c_statistic(case):
    # R: 1 - exp(-2 * mutual information) by integrate() (exact), and pmsampsize's cstat2rsq
    # (glm on 1e6 simulated patients, seed 123456): equal up to its Monte Carlo error
    r2 = cox_snell_r2_from_c(case["cstatistic"], case["prevalence"])
    assert r2 == pytest.approx(case["exact"], **ITERATIVE)
    assert r2 == pytest.approx(case["simulated"], abs=2e-3)
    result = riley_sample_size("binary", parameters=10, prevalence=case["prevalence"], c_statistic=case["cstatistic"])
    assert result.r2_cox_snell == r2 and result.c_statistic == case["cstatistic"]
    assert n_of(result, "shrinkage") == math.ceil(10 / ((0.9 - 1) * math.log(1 - r2 / 0.9)))


def test_sentence_says_plainly_whether_the_cohort_suffices():
    result = riley_sample_size("binary", parameters=24, prevalence=0.174, r2_cox_snell=0.288, mape=None)
    assert result.sentence(700, 130).startswith(
        "A cohort of 700 patients with 130 events suffices for a model with 24 predictor parameters"
    )
    assert "is too small" in result.sentence(500)
    assert "has enough patients but too few events" in result.sentence(700, 100)
    assert "at least 662 patients with 116 events (4.8 events per parameter), set by small optimism in R²" in result.sentence(1, 0)
    survival = riley_sample_size("survival", parameters=25, rate=0.065, timepoint=2, mean_follow_up=2.07, r2_cox_snell=0.051)
    assert "at least 4286 patients with 577 events (23.1 events per parameter), set by small overfitting (shrinkage)" in survival.sentence(
        5000, 600
    )
    with pytest.raises(InputError, match="'events_available'"):
        result.sentence(100, 200)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"outcome": "continuous", "parameters": 5, "prevalence": 0.2, "r2_cox_snell": 0.1}, "'outcome' must be one of"),
        ({"parameters": 0, "prevalence": 0.2, "r2_cox_snell": 0.1}, "'parameters' must be a positive integer"),
        ({"parameters": 5, "prevalence": 1.2, "r2_cox_snell": 0.1}, "'prevalence' must be a number between 0 and 1"),
        ({"parameters": 5, "r2_cox_snell": 0.1}, "'prevalence' must be a number between 0 and 1"),
        ({"parameters": 5, "prevalence": 0.2}, "exactly one of 'r2_cox_snell' and 'c_statistic'"),
        ({"parameters": 5, "prevalence": 0.2, "r2_cox_snell": 0.1, "c_statistic": 0.7}, "exactly one of"),
        ({"parameters": 5, "prevalence": 0.2, "c_statistic": 0.4}, "'c_statistic' must be between 0.5 and 1"),
        ({"parameters": 5, "prevalence": 0.05, "r2_cox_snell": 0.5}, "must be below its maximum"),
        (
            {"outcome": "survival", "parameters": 5, "rate": 0.1, "timepoint": 2, "r2_cox_snell": 0.1},
            "'mean_follow_up' must be a positive number",
        ),
        (
            {"outcome": "survival", "parameters": 5, "rate": 0.1, "timepoint": 2, "mean_follow_up": 3, "c_statistic": 0.7},
            "binary outcomes only",
        ),
    ],
)
def test_bad_input_is_refused_with_the_argument_named(keywords, message):
    with pytest.raises(InputError, match=message):
        riley_sample_size(**keywords)
