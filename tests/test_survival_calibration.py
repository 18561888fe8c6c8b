"""Calibration of predicted survival at t and bootstrap validation of a Cox model, against rms.

R: tests/reference/survival_calibration.R -> survival_calibration.json, the data (with R's
predicted S(t) of the Cox model, 17 digits) and the bootstrap draws R used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis.errors import InputError
from stsanalysis.stats.calibration_survival import survival_calibration, survival_calibration_summary
from stsanalysis.stats.cox_validation import cox_calibrate, cox_validate
from stsanalysis.stats.survival import SurvivalWarning

COVARIATES = ["age", "size_cm", "high_grade", "ki67"]


@pytest.fixture(scope="module")
def reference():
    return load_reference("survival_calibration")


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REFERENCE_DIR / "survival_calibration_data.csv")


def _draws(name: str) -> np.ndarray:
    # R's sample() draws, 1-based: one replicate per line
    return np.loadtxt(REFERENCE_DIR / f"survival_calibration_{name}_draws.csv", delimiter=",", dtype=int) - 1


def _r_values(values) -> np.ndarray:
    """jsonlite writes NA as the string "NA"."""
    return np.array([np.nan if value == "NA" else value for value in values], dtype=float)


def _calibration(data, t, groups=5):
    return survival_calibration(data["months"], data["death"], data[f"pred_{t}"], t, groups=groups)


@pytest.mark.parametrize("position", [0, 1])
def test_grouped_calibration_matches_groupkm_with_calibrate_cuts(data, reference, position):
    # R: groupkm(S, Surv(months, death), u = t, cuts = unique(quantile(c(0, 1, S), seq(0, 1, length = 6))))
    expected = reference["grouped"][position]
    table = _calibration(data, expected["t"]).grouped
    np.testing.assert_allclose(np.r_[table["cut_low"], table["cut_high"].iloc[-1]], expected["cuts"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(table["n"], expected["n"])
    np.testing.assert_array_equal(table["n_event"], expected["events"])
    for column, key in [
        ("mean_predicted", "x"),
        ("observed", "KM"),
        ("std_error", "std_err"),
        ("ci_low", "ci_low"),
        ("ci_high", "ci_high"),
    ]:
        np.testing.assert_allclose(table[column], expected[key], rtol=0, atol=1e-9, err_msg=column)


def test_a_group_without_follow_up_to_t_has_no_estimate_and_warns(data, reference):
    # R: groupkm gives NA for the first group at 36 months (its last follow-up is before 36)
    expected = reference["grouped"][2]
    with pytest.warns(SurvivalWarning, match="Risk group 1 .* no Kaplan-Meier estimate at time 36"):
        table = _calibration(data, 36).grouped
    np.testing.assert_allclose(table["observed"], _r_values(expected["KM"]), rtol=0, atol=1e-9)
    np.testing.assert_allclose(table["ci_high"], _r_values(expected["ci_high"]), rtol=0, atol=1e-9)


def test_three_groups(data, reference):
    expected = reference["grouped3_t12"]
    table = _calibration(data, 12, groups=3).grouped
    np.testing.assert_array_equal(table["n"], expected["n"])
    for column, key in [("mean_predicted", "x"), ("observed", "KM"), ("std_error", "std_err")]:
        np.testing.assert_allclose(table[column], expected[key], rtol=0, atol=1e-9)


@pytest.mark.parametrize("position", [0, 1])
def test_smooth_curve_and_ici_match_austin_harrell_van_klaveren(data, reference, position):
    # R: cph(Surv(months, death) ~ rcs(log(-log(S)), 3)); survest(cal, times = t); ICI, E50, E90, Emax
    expected = reference["smooth"][position]
    result = _calibration(data, expected["t"])
    np.testing.assert_allclose(result.knots, expected["knots"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.smooth_observed, expected["observed"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.curve["predicted"], expected["grid"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.curve["observed"], expected["grid_observed"], rtol=0, atol=1e-6)
    for name in ("ici", "e50", "e90", "emax"):
        assert getattr(result, name) == pytest.approx(expected[name], abs=1e-6), name


def test_summary_stacks_the_times_for_a_figure(data, reference):
    predictions = data[["pred_12", "pred_24", "pred_36"]].set_axis([12.0, 24.0, 36.0], axis=1)
    with pytest.warns(SurvivalWarning, match="time 36"):
        summary = survival_calibration_summary(data["months"], data["death"], predictions)
    assert summary.times == (12.0, 24.0, 36.0)
    np.testing.assert_allclose(summary.metrics["ici"], [smooth["ici"] for smooth in reference["smooth"]], rtol=0, atol=1e-6)
    assert list(summary.grouped.columns[:2]) == ["time", "group"]
    assert summary.grouped.groupby("time").size().tolist() == [5, 5, 5]
    assert summary.curve.groupby("time").size().tolist() == [100, 100, 100]
    assert summary.curve[["predicted", "observed"]].stack().between(0, 1).all()
    at_24 = summary.at(24)
    np.testing.assert_allclose(at_24.grouped["observed"], reference["grouped"][1]["KM"], rtol=0, atol=1e-9)
    # a mapping and a subset of the times work too
    only_12 = survival_calibration_summary(data["months"], data["death"], {12: data["pred_12"], 24: data["pred_24"]}, times=[12])
    assert only_12.times == (12.0,)
    with pytest.raises(InputError, match="No calibration at time 48"):
        summary.at(48)


def test_cox_validate_replays_r_draws(data, reference):
    # R: own loop over the same draws with tightly converged fits (rms::validate's formulas)
    result = cox_validate(data, "months", "death", COVARIATES, indices=_draws("validate"))
    loop, rms = reference["validate_loop"], reference["validate_rms"]
    table = result.table
    assert table["index"].tolist() == loop["index"]
    for column in ("index_orig", "training", "test", "optimism", "corrected"):
        np.testing.assert_allclose(table[column], loop[column], rtol=0, atol=1e-6, err_msg=column)
    # rms::validate itself on the same draws: apparent exact, the rest within rms's eps = 1e-4 refits
    np.testing.assert_allclose(table["index_orig"], rms["index_orig"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(table["corrected"], rms["corrected"], rtol=0, atol=1e-4)
    np.testing.assert_array_equal(table["n_boot"], rms["n"])
    assert result.dxy_corrected == pytest.approx(loop["corrected"][0], abs=1e-6)
    assert result.c_index_corrected == pytest.approx(loop["corrected"][0] / 2 + 0.5, abs=1e-6)
    assert result.n_boot == result.n_boot_successful == reference["B"]


def test_cox_calibrate_replays_r_draws(data, reference):
    # R: calibrate(fit, cmethod = "KM", u = 24, m = 24, B = 25) and the own loop on its draws
    result = cox_calibrate(data, "months", "death", COVARIATES, t=24, groups=5, indices=_draws("calibrate"))
    loop, rms = reference["calibrate_loop"], reference["calibrate_rms"]
    table = result.table
    for column, key in [("index_orig", "index_orig"), ("training", "training"), ("test", "test"), ("optimism", "optimism")]:
        np.testing.assert_allclose(table[column], loop[key], rtol=0, atol=1e-6, err_msg=column)
    np.testing.assert_allclose(table["observed_corrected"], loop["KM_corrected"], rtol=0, atol=1e-6)
    # the apparent part against rms::calibrate directly
    for column, key in [("mean_predicted", "mean_predicted"), ("observed", "KM"), ("std_error", "std_err"), ("index_orig", "index_orig")]:
        np.testing.assert_allclose(table[column], rms[key], rtol=0, atol=1e-6, err_msg=column)
    np.testing.assert_allclose(table["observed_corrected"], rms["KM_corrected"], rtol=0, atol=1e-4)
    np.testing.assert_array_equal(table["n_boot"], rms["n"])
    np.testing.assert_allclose(result.predicted, data["pred_24"], rtol=0, atol=1e-6)


def test_bootstrap_is_reproducible_with_a_seed(data):
    first = cox_validate(data, "months", "death", ["age", "high_grade"], n_boot=5, seed=3)
    second = cox_validate(data, "months", "death", ["age", "high_grade"], n_boot=5, seed=3)
    pd.testing.assert_frame_equal(first.table, second.table)
    assert first.seed == 3


def test_samples_whose_refit_fails_are_left_out_with_a_warning():
    rng = np.random.default_rng(2)
    n = 40
    data = pd.DataFrame({"x": rng.normal(size=n), "rare": np.r_[1, 1, np.zeros(n - 2)]})
    data["months"] = rng.exponential(20, n) + 0.5
    data["death"] = (rng.uniform(size=n) < 0.8).astype(int)
    with pytest.warns(SurvivalWarning, match="could not be refitted"):
        result = cox_validate(data, "months", "death", ["x", "rare"], n_boot=30, seed=1)
    assert 0 < result.n_boot_successful < 30
    assert (result.table["n_boot"] == result.n_boot_successful).all()


def test_bad_input_is_refused(data):
    time, event = data["months"], data["death"]
    with pytest.raises(InputError, match="beyond the last follow-up"):
        survival_calibration(time, event, data["pred_24"], t=100)
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        survival_calibration(time, event, np.r_[1.0, data["pred_24"].iloc[1:]], t=24)
    with pytest.raises(InputError, match="one prediction time"):
        survival_calibration(time, event, data["pred_24"], t=[12, 24])
    with pytest.raises(InputError, match="'groups'"):
        survival_calibration(time, event, data["pred_24"], t=24, groups=1)
    with pytest.raises(InputError, match="distinct values"):
        survival_calibration(time, event, np.where(data["high_grade"] == 1, 0.3, 0.6), t=24)
    with pytest.raises(InputError, match="no predictions at time 48"):
        survival_calibration_summary(time, event, {24: data["pred_24"]}, times=[48])
    with pytest.raises(InputError, match="'indices' must be an"):
        cox_validate(data, "months", "death", COVARIATES, indices=np.zeros((3, 5), dtype=int))
    with pytest.raises(InputError, match="0-based row numbers"):
        cox_validate(data, "months", "death", COVARIATES, indices=np.full((3, len(data)), len(data)))
    with pytest.raises(InputError, match="'n_boot'"):
        cox_calibrate(data, "months", "death", COVARIATES, t=24, n_boot=0)
    with pytest.raises(InputError, match="Prediction time 80"):
        cox_calibrate(data, "months", "death", COVARIATES, t=80, n_boot=2)
