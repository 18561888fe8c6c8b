"""Time-dependent AUC, IPCW Brier and integrated Brier score, Uno's C against riskRegression
2022.11.28 (``Score``), pec 2022.5.4 (``pec``, ``ibs``, ``crps``) and survival 3.5 (``concordance``).

Reference values: tests/reference/time_dependent.R (-> time_dependent.json, with the simulated
data time_dependent_data.csv and time_dependent_ties.csv and the replayed bootstrap draws
time_dependent_boot_indices.csv).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.brier import brier_score, integrated_brier_score
from stsanalysis.stats.concordance import concordance_index, uno_concordance
from stsanalysis.stats.survival import SurvivalWarning
from stsanalysis.stats.time_dependent import compare_time_dependent_auc, replicate_aucs, time_dependent_auc

REF = load_reference("time_dependent")
DATA = {
    "main": pd.read_csv(REFERENCE_DIR / "time_dependent_data.csv"),
    "ties": pd.read_csv(REFERENCE_DIR / "time_dependent_ties.csv"),
}
TIMES = {"main": [12, 24, 36], "ties": [3, 6, 9]}
GRID = {"main": list(range(3, 49, 3)), "ties": [3, 6, 9]}
MARKERS = {"a": "marker", "b": "marker_b"}
CLOSED = dict(rel=1e-9, abs=1e-12)


def predicted(name: str, grid) -> pd.DataFrame:
    return DATA[name][[f"s_{t}" for t in grid]]


def assert_close(actual, expected) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=1e-9, atol=1e-12)


# --- AUC(t) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["main", "ties"])
@pytest.mark.parametrize("model", ["a", "b"])
def test_auc_matches_score(name, model):
    # R: Score(list(a = marker, b = marker_b), Hist(time, event) ~ 1, data, times, metrics = "auc",
    #    cens.model = "km", se.fit = TRUE)$AUC$score
    data, expected = DATA[name], REF[name]["auc"]["auc"][model]
    table = time_dependent_auc(data["time"], data["event"], data[MARKERS[model]], TIMES[name]).table
    assert_close(table["time"], expected["times"])
    for column, key in [("auc", "AUC"), ("se", "se"), ("ci_low", "lower"), ("ci_high", "upper")]:
        assert_close(table[column], expected[key])


def test_auc_case_and_control_counts():
    data = DATA["main"]
    table = time_dependent_auc(data["time"], data["event"], data["marker"], TIMES["main"]).table
    for t, n_cases, n_controls in zip(TIMES["main"], table["n_cases"], table["n_controls"]):
        assert n_cases == ((data["time"] <= t) & (data["event"] == 1)).sum()
        assert n_controls == (data["time"] > t).sum()


def test_auc_conf_level_90_matches_score():
    # R: the same Score call with conf.int = 0.90
    data, expected = DATA["main"], REF["main"]["auc_conf90"]["a"]
    table = time_dependent_auc(data["time"], data["event"], data["marker"], TIMES["main"], conf_level=0.90).table
    assert_close(table["ci_low"], expected["lower"])
    assert_close(table["ci_high"], expected["upper"])


@pytest.mark.parametrize("name", ["main", "ties"])
def test_compare_matches_score_contrasts(name):
    # R: Score(...)$AUC$contrasts reports b - a (delta.AUC); ours is a - b: same SE and p, CI mirrored
    data, expected = DATA[name], REF[name]["auc"]["contrast"]
    table = compare_time_dependent_auc(data["time"], data["event"], data["marker"], data["marker_b"], TIMES[name]).table
    assert_close(table["difference"], -np.asarray(expected["delta.AUC"]))
    assert_close(table["se"], expected["se"])
    assert_close(table["ci_low"], -np.asarray(expected["upper"]))
    assert_close(table["ci_high"], -np.asarray(expected["lower"]))
    assert_close(table["p"], expected["p"])
    assert_close(table["auc_a"], REF[name]["auc"]["auc"]["a"]["AUC"])
    assert_close(table["auc_b"], REF[name]["auc"]["auc"]["b"]["AUC"])


@pytest.mark.parametrize("name", ["main", "ties"])
def test_roc_curve_matches_score_roc(name):
    # R: Score(..., plots = "ROC")$ROC$plotframe: TPR and FPR at each distinct marker, descending.
    # Our thresholds are pROC's midpoints: row k (ascending) classifies marker >= k-th distinct value.
    data = DATA[name]
    result = time_dependent_auc(data["time"], data["event"], data["marker"], TIMES[name])
    for t in TIMES[name]:
        expected = REF[name]["auc"]["roc"][f"t{t}"]
        curve = result.roc_curve(t)
        assert curve["threshold"].iloc[0] == -np.inf and curve["threshold"].iloc[-1] == np.inf
        assert (curve.iloc[-1][["sensitivity", "specificity"]] == [0.0, 1.0]).all()
        points = curve.iloc[:-1].iloc[::-1]
        assert_close(points["sensitivity"], expected["TPR"])
        assert_close(1 - points["specificity"], expected["FPR"])


def test_roc_curve_area_is_the_auc():
    data = DATA["main"]
    result = time_dependent_auc(data["time"], data["event"], data["marker"], [24])
    curve = result.roc_curve(24).iloc[::-1]
    fpr, tpr = 1 - curve["specificity"].to_numpy(), curve["sensitivity"].to_numpy()
    area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)
    assert area == pytest.approx(result.table["auc"].iloc[0], **CLOSED)


# --- bootstrap ---------------------------------------------------------------------------------


def test_bootstrap_replicates_match_score_on_replayed_draws():
    # R: draws written by time_dependent.R; each replicate Score(list(marker[rows]), ..., data[rows, ],
    #    se.fit = FALSE)$AUC$score$AUC, the censoring KM refitted on the resampled data
    data = DATA["main"]
    draws = np.loadtxt(REFERENCE_DIR / "time_dependent_boot_indices.csv", delimiter=",", dtype=int) - 1
    counts = np.array([np.bincount(rows, minlength=len(data)) for rows in draws], dtype=float)
    aucs = replicate_aucs(
        data["time"].to_numpy(float), data["event"].to_numpy(), data["marker"].to_numpy(float), REF["main"]["bootstrap"]["times"], counts
    )
    assert_close(aucs, REF["main"]["bootstrap"]["auc"])


def test_bootstrap_ci_is_percentile_of_reproducible_replicates():
    data = DATA["main"]
    args = (data["time"], data["event"], data["marker"], TIMES["main"])
    first = time_dependent_auc(*args, n_boot=300, seed=5)
    second = time_dependent_auc(*args, n_boot=300, seed=5)
    assert first.boot_aucs.shape == (300, 3)
    np.testing.assert_array_equal(first.boot_aucs, second.boot_aucs)
    low, high = np.quantile(first.boot_aucs, [0.025, 0.975], axis=0)
    assert_close(first.table["boot_ci_low"], low)
    assert_close(first.table["boot_ci_high"], high)
    # the percentile interval agrees with Score's influence-function interval to sampling error
    assert np.abs(first.table["boot_ci_low"] - first.table["ci_low"]).max() < 0.03
    assert np.abs(first.table["boot_ci_high"] - first.table["ci_high"]).max() < 0.03
    assert np.abs(first.boot_aucs.std(axis=0, ddof=1) - first.table["se"]).max() < 0.01


def test_bootstrap_replicates_without_controls_are_dropped_with_a_warning():
    time = [1, 2, 3, 4, 5, 6, 7, 8]
    event = [1, 1, 0, 1, 1, 0, 1, 0]
    marker = [5, 4, 3, 6, 2, 1, 7, 0]
    with pytest.warns(SurvivalWarning, match="no cases or no controls"):
        result = time_dependent_auc(time, event, marker, [7], n_boot=200, seed=1)
    assert 0 < result.boot_aucs.shape[0] < 200
    assert np.isfinite(result.table[["boot_ci_low", "boot_ci_high"]].to_numpy()).all()


# --- Brier score -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["main", "ties"])
@pytest.mark.parametrize("model, key", [("model", "model"), ("null model", "null")])
def test_brier_matches_score(name, model, key):
    # R: Score(list(model = 1 - S), Hist(time, event) ~ 1, data, times = grid, metrics = "brier",
    #    summary = c("ibs", "ipa"), cens.model = "km", se.fit = TRUE)$Brier$score ("Null model" = KM)
    data, expected = DATA[name], REF[name]["brier"][key]
    table = brier_score(data["time"], data["event"], predicted(name, GRID[name]), GRID[name]).table
    rows = table[table["model"] == model]
    assert_close(rows["time"], expected["times"])
    for column, reference_key in [("brier", "Brier"), ("se", "se"), ("ci_low", "lower"), ("ci_high", "upper"), ("ipa", "IPA")]:
        assert_close(rows[column], expected[reference_key])


def test_brier_conf_level_90_matches_score():
    data, expected = DATA["main"], REF["main"]["brier_conf90"]["model"]
    table = brier_score(data["time"], data["event"], predicted("main", TIMES["main"]), TIMES["main"], conf_level=0.90).table
    rows = table[table["model"] == "model"]
    assert_close(rows["ci_low"], expected["lower"])
    assert_close(rows["ci_high"], expected["upper"])


def test_brier_accepts_an_array_or_a_data_frame():
    data = DATA["main"]
    frame = predicted("main", TIMES["main"])
    from_frame = brier_score(data["time"], data["event"], frame, TIMES["main"]).table
    from_array = brier_score(data["time"].to_numpy(), data["event"].to_numpy(), frame.to_numpy(), TIMES["main"]).table
    pd.testing.assert_frame_equal(from_frame, from_array)


@pytest.mark.parametrize("name", ["main", "ties"])
def test_integrated_brier_matches_pec(name):
    # R: pec(list(cbind(1, S)), Surv(time, event) ~ 1, times = grid, exact = FALSE, start = 0,
    #    cens.model = "marginal"); crps(p, times = taus) and ibs(p, times = taus[1])
    data, expected = DATA[name], REF[name]["pec"]
    for tau, ibs, reference_ibs in zip(expected["taus"], expected["ibs_model"], expected["ibs_reference"]):
        result = integrated_brier_score(data["time"], data["event"], predicted(name, GRID[name]), GRID[name], tau=tau)
        assert result.ibs == pytest.approx(ibs, **CLOSED)
        assert result.null_ibs == pytest.approx(reference_ibs, **CLOSED)
    result = integrated_brier_score(data["time"], data["event"], predicted(name, GRID[name]), GRID[name])
    assert result.tau == GRID[name][-1]
    assert result.ibs == pytest.approx(expected["ibs_single"], **CLOSED)
    assert_close(result.curve["time"], expected["times"])
    assert_close(result.curve["brier"], expected["brier_model"])
    assert_close(result.curve["null_brier"], expected["brier_reference"])


def test_integrated_brier_matches_score_summary_ibs():
    # R: Score(..., summary = "ibs")$Brier$score$IBS integrates the same step function up to each time
    data, grid = DATA["main"], GRID["main"]
    ibs = [integrated_brier_score(data["time"], data["event"], predicted("main", grid), grid, tau=t).ibs for t in grid]
    assert_close(ibs, REF["main"]["brier"]["model"]["IBS"])


# --- Uno's C -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["main", "ties"])
def test_uno_concordance_matches_survival(name):
    # R: concordance(Surv(time, event) ~ marker, reverse = TRUE, timewt = "n/G2", ymax = tau): $concordance, sqrt($var)
    data = DATA[name]
    for key, expected in REF[name]["uno"].items():
        marker, tau = key.rsplit("_", 1)
        result = uno_concordance(data["time"], data["event"], data[marker], tau=None if tau == "none" else float(tau))
        assert result.c == pytest.approx(expected["c"], **CLOSED), key
        assert result.se == pytest.approx(expected["se"], **CLOSED), key
        assert result.ci_low == pytest.approx(max(result.c - 1.959963984540054 * result.se, 0), **CLOSED)


def test_uno_equals_harrell_without_censoring_before_the_events():
    # G = 1 at every event time (censorings only after the last event): every pair weighs 1
    time, event, risk = [1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 0, 0], [3, 5, 1, 2, 0, 0.5]
    uno, harrell = uno_concordance(time, event, risk), concordance_index(time, event, risk)
    assert (uno.c, uno.se) == pytest.approx((harrell.c, harrell.se), **CLOSED)


# --- bad input ---------------------------------------------------------------------------------


def test_times_beyond_follow_up_or_without_controls_are_refused():
    data = DATA["main"]
    last = data["time"].max()
    with pytest.raises(InputError, match="beyond the last follow-up"):
        time_dependent_auc(data["time"], data["event"], data["marker"], [12, last + 1])
    with pytest.raises(InputError, match="no controls"):
        time_dependent_auc(data["time"], data["event"], data["marker"], [last])
    first_event = data.loc[data["event"] == 1, "time"].min()
    with pytest.raises(InputError, match="No events occur up to"):
        compare_time_dependent_auc(data["time"], data["event"], data["marker"], data["marker_b"], [first_event / 2])
    with pytest.raises(InputError, match="n_boot"):
        time_dependent_auc(data["time"], data["event"], data["marker"], [12], n_boot=-1)
    with pytest.raises(InputError, match="'marker' has 1 missing"):
        time_dependent_auc(data["time"], data["event"], data["marker"].mask(data.index == 3), [12])


def test_bad_predicted_survival_is_refused():
    data = DATA["main"]
    frame = predicted("main", TIMES["main"])
    with pytest.raises(InputError, match="150 x 3; got shape"):
        brier_score(data["time"], data["event"], frame.iloc[:, :2], TIMES["main"])
    with pytest.raises(InputError, match="between 0 and 1"):
        brier_score(data["time"], data["event"], frame * 2, TIMES["main"])
    with_missing = frame.copy()
    with_missing.iloc[4, 1] = np.nan
    with pytest.raises(InputError, match="1 missing value.*row 4, time 24"):
        brier_score(data["time"], data["event"], with_missing, TIMES["main"])


def test_bad_integration_range_is_refused():
    data, grid = DATA["main"], GRID["main"]
    with pytest.raises(InputError, match="'tau' must lie in"):
        integrated_brier_score(data["time"], data["event"], predicted("main", grid), grid, tau=60)
    with pytest.raises(InputError, match="strictly increasing"):
        integrated_brier_score(data["time"], data["event"], predicted("main", [24, 12]), [24, 12])
    with pytest.raises(InputError, match="beyond the last follow-up"):
        uno_concordance(data["time"], data["event"], data["marker"], tau=data["time"].max() + 1)


def test_concordance_comparison_of_equivalent_scores_is_nan_with_a_named_warning():
    """Two scores that order every pair alike (one a monotone transform of the other): difference 0, p NaN, no ZeroDivisionError."""
    from stsanalysis.errors import ConstantVariableWarning
    from stsanalysis.stats.concordance import compare_concordance

    time = np.array([2.0, 4, 5, 7, 9, 12, 15, 20])
    event = np.array([1, 1, 0, 1, 1, 0, 1, 0])
    risk = np.array([5.0, 3, 4, 2, 2.5, 1, 0.5, 0.1])
    with pytest.warns(ConstantVariableWarning, match="order every comparable pair alike"):
        result = compare_concordance(time, event, risk, np.exp(risk))
    assert result.difference == 0 and result.se == 0 and np.isnan(result.p) and np.isnan(result.statistic)
