"""Decision curves at time t for a survival outcome (Vickers et al. 2008) against a hand R
implementation with survival::survfit -> tests/reference/decision_curve_survival.R.

The bootstrap is replayed on the draws R made (decision_curve_survival_boot_indices.csv, 1-based).
"""

import time as clock
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.plotting.dca import decision_curve_figure
from stsanalysis.stats.decision_curve import decision_curve, survival_decision_curve
from stsanalysis.stats.survival import SurvivalWarning

COLUMNS = ["tp", "fp", "net_benefit", "net_interventions_avoided"]
STRATEGIES = [("full", "full"), ("small", "small"), ("treat all", "treat_all")]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REFERENCE_DIR / "decision_curve_survival_data.csv")


@pytest.fixture(scope="module")
def reference():
    return load_reference("decision_curve_survival")


@pytest.fixture(scope="module")
def draws():
    return np.loadtxt(REFERENCE_DIR / "decision_curve_survival_boot_indices.csv", delimiter=",", dtype=int) - 1


def risks(data):
    return {"full": data["risk_full"], "small": data["risk_small"]}


@pytest.mark.parametrize(("key", "t"), [("t24", 24), ("t12", 12)])
def test_net_benefit_matches_hand_r_with_survfit(data, reference, key, t):
    # R: NB = (1 - S) P - S P pt/(1 - pt), S = summary(survfit(Surv(time, event) ~ 1, subset risk >= pt), times = t, extend = TRUE)$surv
    table = survival_decision_curve(data["time"], data["event"], risks(data), t)
    assert table["model"].unique().tolist() == ["full", "small", "treat all", "treat none"]
    for name, ref_key in STRATEGIES:
        rows = table[table["model"] == name]
        assert rows["threshold"].to_numpy() == pytest.approx(reference["thresholds"], rel=1e-15)
        for column in COLUMNS:
            assert rows[column].to_numpy() == pytest.approx(reference[key][ref_key][column], rel=1e-9, abs=1e-9), (name, column)
    none = table[table["model"] == "treat none"]
    assert (none[["tp", "fp", "net_benefit"]] == 0).all().all()
    assert table.attrs["prevalence"] == pytest.approx(reference[f"event_probability_{t}"], rel=1e-12)
    assert table.attrs["time"] == t and table.attrs["n"] == len(data)
    assert "ci_low" not in table


def test_a_dataframe_of_risks_equals_the_dict(data):
    by_dict = survival_decision_curve(data["time"], data["event"], risks(data), 24, thresholds=[0.2, 0.5])
    by_frame = survival_decision_curve(data["time"], data["event"], data[["risk_full", "risk_small"]], 24, thresholds=[0.2, 0.5])
    assert by_frame["model"].unique().tolist() == ["risk_full", "risk_small", "treat all", "treat none"]
    assert by_frame["net_benefit"].to_numpy() == pytest.approx(by_dict["net_benefit"].to_numpy(), rel=1e-15)


@pytest.mark.parametrize("conf_level", [0.95, 0.9])
def test_bootstrap_ci_on_r_draws_matches_r(data, reference, draws, conf_level):
    # R: quantile(NB over replicates d[draws[b, ], ], type = 7) at (1:19)/20, t = 24
    boot = reference["bootstrap"]
    table = survival_decision_curve(
        data["time"], data["event"], risks(data), boot["t"], boot["thresholds"], indices=draws, conf_level=conf_level
    )
    expected = boot[f"level_{round(conf_level * 100)}"]
    for name, ref_key in STRATEGIES:
        rows = table[table["model"] == name]
        assert rows["ci_low"].to_numpy() == pytest.approx(expected[ref_key]["ci_low"], rel=1e-9, abs=1e-9), name
        assert rows["ci_high"].to_numpy() == pytest.approx(expected[ref_key]["ci_high"], rel=1e-9, abs=1e-9), name
    assert (table.loc[table["model"] == "treat none", ["ci_low", "ci_high"]] == 0).all().all()


def test_each_replicate_equals_the_estimate_on_the_resampled_patients(data, draws):
    # one replicate: both percentile limits are its net benefit, the point estimate on data[rows]
    thresholds = [0.1, 0.3, 0.5, 0.7, 0.9]
    for rows in draws[:5]:
        replayed = survival_decision_curve(data["time"], data["event"], risks(data), 12, thresholds, indices=rows[None, :])
        resampled = data.iloc[rows]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurvivalWarning)  # the bootstrap applies the same rule without warning
            direct = survival_decision_curve(resampled["time"], resampled["event"], risks(resampled), 12, thresholds)
        assert replayed["ci_low"].to_numpy() == pytest.approx(direct["net_benefit"].to_numpy(), rel=1e-12, abs=1e-14)
        assert replayed["ci_high"].to_numpy() == pytest.approx(direct["net_benefit"].to_numpy(), rel=1e-12, abs=1e-14)


def test_seeded_bootstrap_draws_numpy_rows(data):
    n_boot, seed = 40, 3
    seeded = survival_decision_curve(data["time"], data["event"], risks(data), 24, [0.2, 0.5, 0.8], n_boot=n_boot, seed=seed)
    rows = np.random.default_rng(seed).integers(0, len(data), (n_boot, len(data)))
    replayed = survival_decision_curve(data["time"], data["event"], risks(data), 24, [0.2, 0.5, 0.8], indices=rows)
    pd.testing.assert_frame_equal(seeded, replayed)
    model = seeded[seeded["model"] != "treat none"]
    assert (model["ci_low"] <= model["net_benefit"]).all() and (model["net_benefit"] <= model["ci_high"]).all()


def test_group_followed_up_less_than_t_uses_its_last_km_with_a_warning(reference):
    # risk >= 0.55: last follow-up 8 (censored) < t = 12; risk >= 0.82: times 2 (event) and 3 (censored)
    toy = reference["toy"]
    with pytest.warns(SurvivalWarning, match=r"ends before t = 12 .* model 'model' at threshold\(s\) 0\.55, 0\.82:"):
        table = survival_decision_curve(
            toy["data"]["time"], toy["data"]["event"], {"model": toy["data"]["risk"]}, toy["t"], toy["thresholds"]
        )
    rows = table[table["model"] == "model"]
    for column in COLUMNS:
        assert rows[column].to_numpy() == pytest.approx(toy[column], rel=1e-9, abs=1e-12), column
    # risk >= 0.82: S_KM = 1/2 at time 3 (one event of two at risk), P = 2/10
    at_082 = rows[rows["threshold"] == 0.82].iloc[0]
    assert at_082["net_benefit"] == pytest.approx(0.5 * 0.2 - 0.5 * 0.2 * 0.82 / 0.18, rel=1e-12)
    # nobody has risk >= 0.95: nobody treated, NB = 0
    assert rows[rows["threshold"] == 0.95][["tp", "fp", "net_benefit"]].to_numpy().tolist() == [[0.0, 0.0, 0.0]]


def test_binary_decision_curve_replays_indices_and_takes_a_dataframe():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 80)
    p = np.clip(0.3 + 0.3 * y + rng.normal(0, 0.2, 80), 0, 1)
    seeded = decision_curve(y, {"model": p}, thresholds=[0.2, 0.5], n_boot=30, seed=9)
    rows = np.random.default_rng(9).integers(0, 80, (30, 80))
    pd.testing.assert_frame_equal(seeded, decision_curve(y, pd.DataFrame({"model": p}), thresholds=[0.2, 0.5], indices=rows))


def test_figure_draws_the_survival_table(data):
    table = survival_decision_curve(data["time"], data["event"], risks(data), 24, n_boot=20, seed=1)
    figure = decision_curve_figure(table)
    curves = [trace for trace in figure.data if trace.meta["role"] == "curve"]
    assert [trace.name for trace in curves] == ["full", "small", "treat all", "treat none"]
    assert np.asarray(curves[0].y) == pytest.approx(table.loc[table["model"] == "full", "net_benefit"].to_numpy())
    assert figure.layout.yaxis.title.text == "Net benefit at t = 24"
    prevalence = table.attrs["prevalence"]
    assert tuple(figure.layout.yaxis.range) == pytest.approx((-0.1 * prevalence, 1.1 * prevalence))


def test_bootstrap_is_vectorised(data):
    # 500 replicates x 99 thresholds x 3 models (+ treat all): a loop of Kaplan-Meier fits takes minutes
    three = {**risks(data), "noise": np.random.default_rng(1).uniform(size=len(data))}
    start = clock.perf_counter()
    table = survival_decision_curve(data["time"], data["event"], three, 24, n_boot=500, seed=1)
    assert clock.perf_counter() - start < 5
    assert table["ci_low"].notna().all()


def _bad(data, case):
    """survival_decision_curve's arguments with one of them made bad."""
    n = len(data)
    time = data["time"].to_numpy().copy()
    arguments = {"time": time, "event": data["event"], "risk": {"good": data["risk_full"]}, "t": 24}
    if case == "zero_time":
        time[0] = 0.0
    bad = {
        "beyond_follow_up": {"t": 61},
        "before_first_event": {"t": 0.05},
        "zero_t": {"t": 0},
        "two_times": {"t": [12, 24]},
        "outside": {"risk": {"bad": np.r_[1.2, data["risk_full"][1:]]}},
        "reserved": {"risk": {"treat all": data["risk_full"]}},
        "short": {"risk": {"good": data["risk_full"][:-1]}},
        "empty": {"risk": {}},
        "thresholds": {"thresholds": [0.0, 0.5]},
        "wide_indices": {"indices": np.zeros((2, n + 1), dtype=int)},
        "indices_out": {"indices": np.full((2, n), n)},
        "indices_mismatch": {"indices": np.zeros((2, n), dtype=int), "n_boot": 7},
        "negative_n_boot": {"n_boot": -1},
    }
    return {**arguments, **bad.get(case, {})}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("beyond_follow_up", r"Prediction time 61 lies beyond the last follow-up .* \(60\)"),
        ("before_first_event", r"No events occur up to prediction time 0.05"),
        ("zero_t", r"Prediction time 0 must be positive"),
        ("two_times", r"'t' must be one prediction time; got \[12.0, 24.0\]"),
        ("zero_time", r"'time' must be a positive survival time in the data; 1 value\(s\) are 0 or missing \(rows \[0\]\)"),
        ("outside", r"'risk\['bad'\]' must be probabilities between 0 and 1"),
        ("reserved", r"reserved"),
        ("short", r"same length"),
        ("empty", r"'risk' must be a non-empty dict"),
        ("thresholds", r"'thresholds' must be probabilities strictly between 0 and 1"),
        ("wide_indices", r"'indices' must be an integer array of n_boot rows x 150 patients"),
        ("indices_out", r"'indices' must hold 0-based row positions from 0 to 149"),
        ("indices_mismatch", r"'n_boot' = 7 disagrees with the 2 replicates"),
        ("negative_n_boot", r"'n_boot' must be a non-negative integer"),
    ],
)
def test_bad_input_is_refused_with_the_thing_named(data, case, message):
    with pytest.raises(InputError, match=message):
        survival_decision_curve(**_bad(data, case))
