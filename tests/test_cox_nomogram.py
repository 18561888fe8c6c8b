"""Cox nomogram against rms::nomogram of a cph fit -> tests/reference/cox_nomogram.R.

Data: tests/reference/cox_prediction_data.csv (lung in months: age continuous, female 0/1,
ecog 0-3). R: cph(..., x = TRUE, y = TRUE, surv = TRUE); nomogram(fit, fun = list(function(lp)
surv(t, lp), ...)) with surv <- Survival(fit), and fun = function(lp) Quantile(fit)(0.5, lp).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.plotting.nomogram import nomogram_figure
from stsanalysis.stats.cox import cox_regression
from stsanalysis.stats.cox_nomogram import CoxNomogram
from stsanalysis.stats.survival import SurvivalWarning
from stsanalysis.viewer.nomogram import NomogramCalculator

REFERENCE = load_reference("cox_nomogram")
DATA = pd.read_csv(REFERENCE_DIR / "cox_prediction_data.csv")
COVARIATES = ["age", "female", "ecog"]
NEWDATA = pd.DataFrame(REFERENCE["newdata"])
CASES = {
    # key: (ties, times, CoxNomogram keywords)
    "efron": ("efron", [6, 12, 24], {}),
    "breslow": ("breslow", [6, 12, 24], {}),
    "custom": ("efron", [12], {"axis_values": {"age": [40, 60, 80]}, "max_points": 10, "median_ticks": [6, 9, 12, 18]}),
}


@functools.cache
def fit(ties="efron"):
    return cox_regression(DATA, "months", "death", COVARIATES, ties=ties)


def build(key):
    ties, times, keywords = CASES[key]
    return CoxNomogram(fit(ties), DATA, times, median=True, **keywords)


@pytest.mark.parametrize("key", list(CASES))
def test_points_and_linear_predictor_axes_match_rms(key):
    # R: nomogram(cph(...), fun = ..., [age = c(40, 60, 80), maxscale = 10])
    expected = REFERENCE[key]["default"]
    nomogram = build(key)
    assert nomogram.center == pytest.approx(REFERENCE[key]["center"], rel=1e-6)  # R: fit$center
    table = nomogram.points_table()
    for predictor, axis in expected["axes"].items():
        rows = table[table["predictor"] == predictor]
        assert rows["value"].tolist() == axis["value"], predictor  # female 0/1 and ecog 0-3 at their values
        assert rows["xbeta"].to_numpy() == pytest.approx(axis["xbeta"], rel=1e-6, abs=1e-9)
        assert rows["points"].to_numpy() == pytest.approx(axis["points"], rel=1e-6, abs=1e-6), predictor
    assert nomogram.scale == pytest.approx(expected["scale"], rel=1e-6)
    assert nomogram.intercept == pytest.approx(expected["intercept"], rel=1e-6)
    assert nomogram.total_points_axis() == pytest.approx(expected["total_points"], rel=1e-12)
    lp_axis = nomogram.linear_predictor_axis()
    assert lp_axis["linear_predictor"].to_numpy() == pytest.approx(expected["lp_value"], rel=1e-12, abs=1e-12)
    assert lp_axis["total_points"].to_numpy() == pytest.approx(expected["lp_x"], rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("key", list(CASES))
def test_survival_axes_match_rms(key):
    # R: ticks placed at uniroot(surv(t, lp) = p) via fun.lp.at (exact), and rms's default
    # placement (interpolation on a 1000-point lp grid, within 1e-4 points of exact)
    nomogram = build(key)
    axes = nomogram.outcome_axes()
    for time in CASES[key][1]:
        ticks = axes[axes["outcome"] == f"survival_{time:g}"]
        exact = REFERENCE[key]["exact"]["outcome"][f"S{time:g}"]
        assert ticks["value"].tolist() == exact["value"] == REFERENCE[key]["default"]["outcome"][f"S{time:g}"]["value"]
        assert ticks["total_points"].to_numpy() == pytest.approx(exact["x"], abs=1e-6)
        assert ticks["total_points"].to_numpy() == pytest.approx(REFERENCE[key]["default"]["outcome"][f"S{time:g}"]["x"], abs=1e-4)
        assert nomogram.survival_axis(time)["total_points"].tolist() == ticks["total_points"].tolist()


@pytest.mark.parametrize("key", list(CASES))
def test_median_survival_axis_matches_rms(key):
    # R: nomogram(fit, fun = function(lp) Quantile(fit)(0.5, lp)[, fun.at = c(6, 9, 12, 18)])
    expected = REFERENCE[key]["median"]
    ticks = build(key).outcome_axes().query("outcome == 'median_survival'")
    assert ticks["value"].tolist() == expected["value"]
    assert ticks["total_points"].to_numpy() == pytest.approx(expected["x"], abs=1e-6)
    assert ticks["time"].isna().all() and (ticks["label"] == "Median survival").all()


@pytest.mark.parametrize("key", list(CASES))
def test_score_matches_rms_and_predict_survival(key):
    # R: predict(fit, newdata, type = "lp"); surv(t, lp); Quantile(fit)(0.5, lp)
    expected = REFERENCE[key]
    nomogram = build(key)
    scored = nomogram.score(NEWDATA)
    assert scored["linear_predictor"].to_numpy() == pytest.approx(expected["lp_new"], rel=1e-6)
    times = CASES[key][1]
    predicted = nomogram.model.predict_survival(NEWDATA, times)
    for time, surv in zip(times, expected["surv_new"]):
        assert scored[f"survival_{time:g}"].to_numpy() == pytest.approx(np.atleast_1d(surv), rel=1e-6)
        assert scored[f"survival_{time:g}"].to_numpy() == pytest.approx(predicted[float(time)].to_numpy(), rel=1e-12)
    assert scored["median_survival"].to_numpy() == pytest.approx(expected["median_new"], rel=1e-12)
    assert scored["total_points"].to_numpy() == pytest.approx(scored[COVARIATES].sum(axis=1).to_numpy(), rel=1e-12)
    assert scored["total_points"].to_numpy() == pytest.approx(nomogram.total_points_of(scored["linear_predictor"]), rel=1e-9)


def test_widest_axis_gets_max_points_and_binary_covariates_are_levels():
    nomogram = build("efron")
    assert nomogram.points_table().groupby("predictor")["points"].max().max() == pytest.approx(100)
    assert nomogram.continuous_predictors == ("age", "ecog")
    with pytest.raises(InputError, match=r"'female' has level\(s\) \[0.5\] that are not on the nomogram"):
        nomogram.score(NEWDATA.assign(female=0.5))
    # a value between ecog's ticks is scored on the continuous scale
    between = nomogram.score(NEWDATA.head(1).assign(ecog=1.5)).iloc[0]["ecog"]
    assert between == pytest.approx(50.0, rel=1e-12)  # ecog spans the 100 points from 0 to 3


def test_labels_follow_times_and_unit():
    nomogram = CoxNomogram(fit(), DATA, [12, 24], time_unit="month", median=True)
    assert nomogram.labels == {
        "survival_12": "12-month survival",
        "survival_24": "24-month survival",
        "median_survival": "Median survival (months)",
    }
    plain = CoxNomogram(fit(), DATA, 12, time_labels=["1-year OS"])
    assert plain.labels == {"survival_12": "1-year OS"}
    assert list(plain.score(NEWDATA).columns) == [*COVARIATES, "total_points", "linear_predictor", "survival_12"]
    assert CoxNomogram(fit(), DATA, 6).labels == {"survival_6": "Survival at 6"}


def test_bad_input_is_named():
    model = fit()
    last = DATA["months"].max()
    with pytest.raises(InputError, match=rf"Prediction time 40 lies beyond the last follow-up of the training set \({last:g}\)"):
        CoxNomogram(model, DATA, [12, 40])
    with pytest.raises(InputError, match=r"'model' must be a CoxResult"):
        CoxNomogram("fit", DATA, [12])
    with pytest.raises(InputError, match=r"axis_values names column\(s\) \['grade'\]"):
        CoxNomogram(model, DATA, [12], axis_values={"grade": [1, 2]})
    with pytest.raises(InputError, match=r"'time_labels' must give one label per time \(2\); got 1"):
        CoxNomogram(model, DATA, [12, 24], time_labels=["1 year"])
    with pytest.raises(InputError, match=r"'survival_ticks' must be probabilities"):
        CoxNomogram(model, DATA, [12], survival_ticks=(0.5, 1.0))
    with pytest.raises(InputError, match=r"\['ecog'\] not found"):
        CoxNomogram(model, DATA.drop(columns="ecog"), [12])
    with pytest.raises(InputError, match=r"No survival axis at time 7"):
        CoxNomogram(model, DATA, [12]).survival_axis(7)


def test_median_not_reached_warns_and_leaves_the_axis_empty():
    # deaths only in the first 3 months, while most patients are still at risk
    few_deaths = DATA.assign(death=np.where(DATA["months"] < 3, DATA["death"], 0))
    model = cox_regression(few_deaths, "months", "death", COVARIATES)
    with pytest.warns(SurvivalWarning, match="Median survival is not reached"):
        nomogram = CoxNomogram(model, few_deaths, [2], median=True)
    assert nomogram.outcome_axes().query("outcome == 'median_survival'").empty
    assert nomogram.score(few_deaths)["median_survival"].isna().all()  # NaN as rms: no patient reaches it


# --- drawing and the calculator --------------------------------------------------------------


def test_nomogram_figure_draws_one_survival_scale_per_time():
    nomogram = CoxNomogram(fit(), DATA, [6, 12], time_unit="month", median=True)
    figure = nomogram_figure(nomogram)
    names = [trace.name for trace in figure.data]
    assert names == [
        "Points",
        *COVARIATES,
        "Total points",
        "Linear predictor",
        "6-month survival",
        "12-month survival",
        "Median survival (months)",
    ]
    stretch = nomogram.max_points / nomogram.total_points_axis()[-1]
    traces = {trace.name: trace for trace in figure.data}
    axes = nomogram.outcome_axes()
    for outcome, label in nomogram.labels.items():
        ticks = axes[axes["outcome"] == outcome]
        assert np.asarray(traces[label].x) == pytest.approx(ticks["total_points"].to_numpy() * stretch, rel=1e-12)
        assert list(traces[label].text) == [f"{value:g}" for value in ticks["value"]]
    assert list(traces["female"].text) == ["0", "1"]
    assert list(traces["ecog"].text) == ["0", "1", "2", "3"]


def test_calculator_shows_survival_at_each_time_as_score():
    nomogram = CoxNomogram(fit(), DATA, [6, 12, 24], time_unit="month", median=True)
    calculator = NomogramCalculator(nomogram)
    assert type(calculator.inputs["age"]).__name__ == "FloatSlider"
    assert type(calculator.inputs["ecog"]).__name__ == "FloatSlider"
    assert type(calculator.inputs["female"]).__name__ == "Dropdown"
    assert calculator.inputs["female"].options == (("0", 0.0), ("1", 1.0))
    calculator.inputs["age"].value = 70.0
    calculator.inputs["ecog"].value = 2.0
    calculator.inputs["female"].value = 1.0
    patient = pd.DataFrame([{"age": 70.0, "female": 1.0, "ecog": 2.0}])
    expected = nomogram.score(patient).iloc[0]
    shown = calculator.result().iloc[0]
    for column in ["total_points", "linear_predictor", "survival_6", "survival_12", "survival_24", "median_survival"]:
        assert shown[column] == pytest.approx(expected[column], rel=1e-12)
    survival = nomogram.model.predict_survival(patient, [6, 12, 24]).iloc[0]
    assert [shown["survival_6"], shown["survival_12"], shown["survival_24"]] == pytest.approx(survival.to_numpy(), rel=1e-12)
    html = calculator.output.value
    for label, column in [
        ("6-month survival", "survival_6"),
        ("24-month survival", "survival_24"),
        ("Median survival (months)", "median_survival"),
    ]:
        assert label in html and f"{expected[column]:.2f}" in html
    assert f"{expected['total_points']:.2f}" in html
    assert calculator.outcome_labels() == nomogram.labels
