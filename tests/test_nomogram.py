"""Nomogram scaling against rms::nomogram -> tests/reference/nomogram.R."""

import pandas as pd
import pytest
from conftest import LOGISTIC_PREDICTORS as PREDICTORS
from conftest import load_reference

from stsanalysis import InputError
from stsanalysis.stats.nomogram import Nomogram, pretty

RISK = (0.1, 0.3, 0.5, 0.7, 0.9)


@pytest.fixture(scope="module")
def cohort(logistic_cohort):
    return logistic_cohort


@pytest.fixture(scope="module")
def model(logistic_model):
    return logistic_model


@pytest.fixture(scope="module")
def reference():
    return load_reference("nomogram")


def test_pretty_matches_r():
    # R: pretty(c(low, high)) and pretty(c(low, high), n = 10)
    for case in load_reference("nomogram")["pretty"]:
        for n, key in [(5, "n5"), (10, "n10")]:
            values = pretty(case["low"], case["high"], n)
            assert values == pytest.approx(case[key], rel=1e-12, abs=1e-300), (case["low"], case["high"], n)


def assert_matches_rms(nomogram, expected):
    table = nomogram.points_table()
    for predictor, axis in expected["axes"].items():
        rows = table[table["predictor"] == predictor]
        assert rows["value"].tolist() == axis["value"]
        assert rows["xbeta"].to_numpy() == pytest.approx(axis["xbeta"], rel=1e-6, abs=1e-9)
        assert rows["points"].to_numpy() == pytest.approx(axis["points"], rel=1e-6, abs=1e-6), predictor
    assert nomogram.scale == pytest.approx(expected["scale"], rel=1e-6)
    assert nomogram.intercept == pytest.approx(expected["intercept"], rel=1e-6)
    assert nomogram.total_points_axis() == pytest.approx(expected["total_points"], rel=1e-12)
    lp_axis = nomogram.linear_predictor_axis()
    assert lp_axis["linear_predictor"].to_numpy() == pytest.approx(expected["lp_value"], rel=1e-12)
    assert lp_axis["total_points"].to_numpy() == pytest.approx(expected["lp_x"], rel=1e-6)
    risk = nomogram.risk_axis()
    assert risk["probability"].tolist() == expected["risk_value"]
    # rms places risk ticks by linear interpolation on a 1000-point grid; ours are exact logits
    assert risk["total_points"].to_numpy() == pytest.approx(expected["risk_x"], abs=1e-4)


def test_default_axes_match_rms_nomogram(model, cohort, reference):
    # R: dd <- datadist(d); nomogram(lrm(high_grade ~ age + size_cm + t_stage + margin), fun = plogis,
    #    fun.at = c(.1, .3, .5, .7, .9))
    assert_matches_rms(Nomogram(model, cohort, risk_ticks=RISK), reference["default"])


def test_custom_axis_and_max_points_match_rms(model, cohort, reference):
    # R: nomogram(fit, fun = plogis, fun.at = ..., age = c(30, 50, 70), maxscale = 10)
    nomogram = Nomogram(model, cohort, max_points=10, risk_ticks=RISK, axis_values={"age": [30, 50, 70]})
    assert_matches_rms(nomogram, reference["custom"])


def test_score_reproduces_the_model(model, cohort):
    nomogram = Nomogram(model, cohort)
    scored = nomogram.score(cohort)
    assert scored["probability"].to_numpy() == pytest.approx(model.predict(cohort), rel=1e-12)
    assert scored["linear_predictor"].to_numpy() == pytest.approx(model.linear_predictor(cohort), rel=1e-12)
    assert scored["total_points"].to_numpy() == pytest.approx(scored[PREDICTORS].sum(axis=1).to_numpy(), rel=1e-12)
    # a value on an axis tick scores the tick's points
    table = nomogram.points_table().set_index(["predictor", "value"])["points"]
    row = pd.DataFrame({"age": [40], "size_cm": [12], "t_stage": ["T3"], "margin": ["negative"]})
    scored_row = nomogram.score(row).iloc[0]
    for predictor, value in row.iloc[0].items():
        assert scored_row[predictor] == pytest.approx(table[(predictor, value)], rel=1e-12)
    # size_cm spans the widest range of beta x value: its axis carries the full 100 points
    assert nomogram.points_table().groupby("predictor")["points"].max().max() == pytest.approx(100)


def test_bad_input_is_named(model, cohort):
    nomogram = Nomogram(model, cohort)
    with pytest.raises(InputError, match=r"'t_stage' has level\(s\) \['T4'\]"):
        nomogram.score(cohort.head(2).assign(t_stage="T4"))
    with pytest.raises(InputError, match=r"axis_values names column\(s\) \['grade'\]"):
        Nomogram(model, cohort, axis_values={"grade": [1, 2]})
    with pytest.raises(InputError, match=r"'risk_ticks' must be probabilities"):
        Nomogram(model, cohort, risk_ticks=(0.5, 1.0))
    with pytest.raises(InputError, match=r"'model' must be a LogisticResult"):
        Nomogram("fit", cohort)
