"""Prediction from a Cox model against survival 3.5 -> tests/reference/cox_prediction.R.

Data: survival::lung in months (cox_prediction_data.csv: many tied times, a 0/1 covariate
that coxph leaves uncentred) and the hand-made set with tied event times (survival_hand.csv);
cox_separated_data.csv has every death in one level of 'implant' (monotone likelihood).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.cox import cox_regression
from stsanalysis.stats.survival import SurvivalWarning

REFERENCE = load_reference("cox_prediction")
LUNG = pd.read_csv(REFERENCE_DIR / "cox_prediction_data.csv")
HAND = pd.read_csv(REFERENCE_DIR / "survival_hand.csv")
SEPARATED = pd.read_csv(REFERENCE_DIR / "cox_separated_data.csv")
MODELS = {
    "lung": (LUNG, "months", "death", ["age", "female", "ecog"]),
    "hand": (HAND, "time", "event", ["x", "risk"]),
}
CASES = [(key, ties) for key in MODELS for ties in ("efron", "breslow")]


def fit(key, ties):
    data, time, event, covariates = MODELS[key]
    return cox_regression(data, time, event, covariates, ties=ties)


def newdata(key):
    return pd.DataFrame(REFERENCE[f"newdata_{key}"])


@pytest.mark.parametrize(("key", "ties"), CASES)
def test_coefficients_and_means_match_coxph(key, ties):
    # R: coef(fit); fit$means (0 for a covariate coded 0/1: coxph(nocenter = c(-1, 0, 1)))
    expected = REFERENCE[f"{key}_{ties}"]
    result = fit(key, ties)
    assert result.coef == pytest.approx(expected["coef"], rel=1e-6)
    assert result.means.to_numpy() == pytest.approx(expected["means"], rel=1e-12, abs=1e-12)
    assert result.covariates == tuple(MODELS[key][3])
    data, *_, covariates = MODELS[key]
    assert result.column_means.to_numpy() == pytest.approx(data[covariates].mean().to_numpy(), rel=1e-12)


@pytest.mark.parametrize(("key", "ties"), CASES)
def test_baseline_hazard_matches_basehaz(key, ties):
    # R: basehaz(fit, centered = FALSE) (Efron-corrected increments with ties = "efron")
    expected = REFERENCE[f"{key}_{ties}"]
    result = fit(key, ties)
    r_times = np.asarray(expected["basehaz_time"], dtype=float)
    event_times = r_times[np.asarray(expected["basehaz_n_event"]) > 0]
    assert result.baseline_hazard["time"].to_numpy() == pytest.approx(event_times, rel=1e-12)
    assert list(result.baseline_hazard.columns) == ["time", "cumulative_hazard"]
    # R lists every distinct time; between event times the step function is flat
    assert result.cumulative_hazard_at(r_times) == pytest.approx(expected["basehaz_hazard"], rel=1e-6)


def test_efron_and_breslow_hazards_differ_only_at_tied_deaths():
    efron, breslow = fit("hand", "efron").baseline_hazard, fit("hand", "breslow").baseline_hazard
    assert not np.allclose(efron["cumulative_hazard"], breslow["cumulative_hazard"])
    assert efron["time"].tolist() == breslow["time"].tolist()


@pytest.mark.parametrize(("key", "ties"), CASES)
def test_linear_predictor_matches_predict_lp(key, ties):
    # R: predict(fit, newdata, type = "lp") and the plain x %*% coef(fit)
    expected = REFERENCE[f"{key}_{ties}"]
    result = fit(key, ties)
    assert result.linear_predictor_of(newdata(key)) == pytest.approx(expected["lp_centred"], rel=1e-6, abs=1e-9)
    assert result.linear_predictor_of(newdata(key), centred=False) == pytest.approx(expected["lp_uncentred"], rel=1e-6)


def test_linear_predictor_field_stays_centred_on_column_means():
    # the fitted linear_predictor keeps its meaning (column means), unlike coxph's centring of
    # a 0/1 covariate: the two differ by a constant
    result = fit("lung", "efron")
    plain = result.linear_predictor_of(LUNG, centred=False)
    assert result.linear_predictor == pytest.approx(plain - plain.mean(), rel=1e-12, abs=1e-12)
    shift = result.linear_predictor_of(LUNG) - result.linear_predictor
    assert shift == pytest.approx(np.full(len(LUNG), result.column_means["female"] * result.coef[1]), rel=1e-9)


@pytest.mark.parametrize(("key", "ties"), CASES)
def test_predict_survival_matches_summary_survfit(key, ties):
    # R: summary(survfit(fit, newdata = newdata), times = times)$surv (transposed)
    expected = REFERENCE[f"{key}_{ties}"]
    rows = newdata(key).set_axis([f"patient_{i}" for i in range(len(newdata(key)))])
    survival = fit(key, ties).predict_survival(rows, expected["times"])
    assert survival.index.tolist() == rows.index.tolist()
    assert survival.columns.tolist() == pytest.approx(expected["times"])
    assert survival.to_numpy() == pytest.approx(np.asarray(expected["surv"]), rel=1e-6)


def test_prediction_times_are_checked_against_the_training_follow_up():
    result = fit("hand", "efron")
    rows = newdata("hand")
    with pytest.raises(
        InputError, match=r"Prediction time 13 lies beyond the last follow-up of the training set \(12\); the last usable time is 12"
    ):
        result.predict_survival(rows, [6, 13])
    with pytest.raises(InputError, match="Prediction time 0 must be positive"):
        result.predict_survival(rows, [0])
    with pytest.raises(InputError, match=r"No events occur up to prediction time 0.5 in the training set \(the first event is at 1\)"):
        result.predict_survival(rows, [0.5])
    # the last follow-up itself is usable; beyond the last event the curve is flat
    last = result.predict_survival(rows, [9, 12])
    assert last[12.0].to_numpy() == pytest.approx(last[9.0].to_numpy(), rel=1e-12)


def test_new_data_must_have_the_covariates():
    result = fit("lung", "efron")
    with pytest.raises(InputError, match=r"\['ecog'\] not found"):
        result.predict_survival(LUNG[["age", "female"]], [12])
    with pytest.raises(InputError, match="'age' has 1 missing"):
        result.linear_predictor_of(LUNG.head(3).assign(age=[60, None, 70]))


def test_monotone_likelihood_warns_naming_the_diverging_covariate():
    # R: coxph(Surv(months, death) ~ age + implant) warns "Loglik converged before variable 2;
    # coefficient may be infinite" and stops at the same iterate
    (r_warning,) = np.atleast_1d(REFERENCE["separated_warning"])
    diverging = int(re.search(r"variable\s+(\d+)", r_warning).group(1)) - 1
    assert ["age", "implant"][diverging] == "implant"
    with pytest.warns(SurvivalWarning, match=r"coefficient\(s\) of \['implant'\] diverge in the training set") as record:
        result = cox_regression(SEPARATED, "months", "death", ["age", "implant"], what="the training set")
    (message,) = [str(warning.message) for warning in record]
    assert "'age'" not in message
    assert "merge the level" in message and "penalised Cox model" in message
    assert result.coef == pytest.approx(REFERENCE["separated_coef"], rel=1e-6)
    assert result.coefficients.loc[1, "ci_high"] == np.inf


def test_constant_covariate_is_named_with_its_set():
    with pytest.raises(InputError, match=r"Covariate\(s\) 'grade' \(all 2\) are constant in the training set"):
        cox_regression(LUNG.assign(grade=2), "months", "death", ["age", "grade"], what="the training set")
    with pytest.raises(InputError, match="collinear"):
        cox_regression(LUNG.assign(age2=LUNG["age"] * 2), "months", "death", ["age", "age2"])
