"""NRI and IDI against Hmisc 4.8 improveProb, PredictABEL's categorical NRI (by hand) and the
worked example of Pencina et al. (2008).

Reference values: tests/reference/reclassification.R (-> reclassification.json,
reclassification_data.csv; the bootstrap replayed from reclassification_boot_indices.csv,
written by tests/reference/bootstrap_indices.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.reclassification import bootstrap_indices, reclassification

REF = load_reference("reclassification")
DATA = pd.read_csv(REFERENCE_DIR / "reclassification_data.csv")
CLOSED = dict(rel=1e-9, abs=1e-12)
COMPONENTS = ("overall", "events", "non_events")
# name in reclassification.json -> (cutoffs, conf_level)
CASES = {"cutoffs_10_30": ([0.1, 0.3], 0.95), "cutoffs_10_30_conf90": ([0.1, 0.3], 0.90), "cutoffs_20": ([0.2], 0.95)}


def fit(name: str, **kwargs):
    cutoffs, conf_level = CASES[name]
    return reclassification(DATA["y"], DATA["p_old"], DATA["p_new"], cutoffs=cutoffs, conf_level=conf_level, **kwargs)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("index", ["nri_continuous", "idi"])
def test_continuous_nri_and_idi_match_hmisc(name, index):
    # R: ip <- improveProb(x1 = p_old, x2 = p_new, y); print(ip, conf.int = conf) -> reclassification.R
    result = fit(name)
    for component in COMPONENTS:
        expected, row = REF[name][index][component], result.row(index, component)
        for column in ("estimate", "se", "z", "p", "ci_low", "ci_high"):
            assert row[column] == pytest.approx(expected[column], **CLOSED), (index, component, column)


@pytest.mark.parametrize("name", list(CASES))
def test_categorical_nri_matches_predictabel_formulas(name):
    # R: improveProb on cut(p, c(0, cutoffs, 1), right = FALSE) codes (PredictABEL::reclassification)
    result = fit(name)
    expected = REF[name]["nri_categorical"]
    for component in COMPONENTS:
        row = result.row("nri_categorical", component)
        for column in ("estimate", "se", "z", "p", "ci_low", "ci_high", "z_null"):
            assert row[column] == pytest.approx(expected[component][column], **CLOSED), (component, column)
    counts = expected["counts"]
    events, non_events = result.row("nri_categorical", "events"), result.row("nri_categorical", "non_events")
    assert (events["n_up"], events["n_down"]) == (counts["up_events"], counts["down_events"])
    assert (non_events["n_up"], non_events["n_down"]) == (counts["up_non_events"], counts["down_non_events"])
    # R: table(outcome = y, old = c1, new = c2)
    table = result.reclassification_table
    k = len(CASES[name][0]) + 1
    for outcome in ("event", "non_event"):
        observed = table.loc[table["outcome"] == outcome, "n"].to_numpy().reshape(k, k)
        assert observed.tolist() == REF[name]["reclassification_table"][outcome]
    assert result.nri_categorical == pytest.approx(expected["overall"]["estimate"], **CLOSED)
    assert result.nri_categorical_p == pytest.approx(expected["overall"]["p"], **CLOSED)


def test_continuous_counts_match_hmisc():
    # R: improveProb's pup.ev * na etc.
    result, counts = fit("cutoffs_10_30"), REF["cutoffs_10_30"]["nri_continuous"]["counts"]
    events, non_events = result.row("nri_continuous", "events"), result.row("nri_continuous", "non_events")
    assert (events["n_up"], events["n_down"], non_events["n_up"], non_events["n_down"]) == (
        counts["up_events"],
        counts["down_events"],
        counts["up_non_events"],
        counts["down_non_events"],
    )


def test_pencina_2008_worked_example():
    # Pencina et al. Stat Med 2008;27:157: HDL added to the Framingham model, categories
    # <6 %, 6-20 %, >20 %; events 29 up, 7 down of 183, non-events 173 up, 174 down of 3081;
    # the paper prints NRI 0.121 and z = 3.616 (its variance under H0, our z_null)
    events = [(0.03, 0.1)] * 29 + [(0.1, 0.03)] * 7 + [(0.03, 0.03)] * 147
    non_events = [(0.03, 0.1)] * 173 + [(0.1, 0.03)] * 174 + [(0.03, 0.03)] * (3081 - 347)
    y = [1] * 183 + [0] * 3081
    p_old, p_new = zip(*(events + non_events))
    result = reclassification(y, p_old, p_new, cutoffs=[0.06, 0.2])
    expected = REF["pencina"]
    overall = result.row("nri_categorical")
    assert overall["estimate"] == pytest.approx(expected["nri"], **CLOSED)
    assert overall["se"] == pytest.approx(expected["se"], **CLOSED)
    assert overall["z_null"] == pytest.approx(expected["z_null"], **CLOSED)
    assert result.row("nri_categorical", "events")["estimate"] == pytest.approx(expected["nri_events"], **CLOSED)
    assert round(overall["estimate"], 3) == expected["paper_nri"]
    assert round(overall["z_null"], 3) == expected["paper_z"]


def test_bootstrap_replays_the_r_computation_on_the_same_draws():
    # tests/reference/bootstrap_indices.py wrote our draws (seed 12, 100 replicates); R recomputed
    # every replicate with improveProb and took quantile(type = 7) -> exact agreement
    draws = np.loadtxt(REFERENCE_DIR / "reclassification_boot_indices.csv", delimiter=",", dtype=int)
    assert np.array_equal(bootstrap_indices(DATA["y"].to_numpy(), 100, 12) + 1, draws)
    result = fit("cutoffs_10_30", n_boot=100, seed=12)
    for index in ("nri_categorical", "nri_continuous", "idi"):
        for component in COMPONENTS:
            row, (low, high) = result.row(index, component), REF["bootstrap"][f"{index}.{component}"]
            assert row["boot_ci_low"] == pytest.approx(low, **CLOSED), (index, component)
            assert row["boot_ci_high"] == pytest.approx(high, **CLOSED), (index, component)


def test_bootstrap_is_stratified_and_seeded():
    y = DATA["y"].to_numpy()
    draws = bootstrap_indices(y, 20, 3)
    assert (y[draws].sum(axis=1) == y.sum()).all()  # every replicate keeps the number of events
    first, again, other = (
        fit("cutoffs_20", n_boot=200, seed=3),
        fit("cutoffs_20", n_boot=200, seed=3),
        fit("cutoffs_20", n_boot=200, seed=4),
    )
    pd.testing.assert_frame_equal(first.table, again.table)
    assert not first.table["boot_ci_low"].equals(other.table["boot_ci_low"])
    # the percentile interval of a large bootstrap is close to the Wald interval
    large = fit("cutoffs_20", n_boot=2000, seed=5).row("idi")
    assert large["boot_ci_low"] == pytest.approx(large["ci_low"], abs=0.3 * large["se"])
    assert large["boot_ci_high"] == pytest.approx(large["ci_high"], abs=0.3 * large["se"])
    assert np.isnan(fit("cutoffs_20").table["boot_ci_low"]).all()


def test_risk_on_a_cutoff_belongs_to_the_upper_category():
    # R cut(..., right = FALSE): [0, 0.1), [0.1, 0.3), [0.3, 1]
    result = reclassification([1, 1, 0, 0], [0.0999, 0.3, 0.1, 0.2999], [0.1, 0.2999, 0.0999, 0.3], cutoffs=[0.1, 0.3])
    events, non_events = result.row("nri_categorical", "events"), result.row("nri_categorical", "non_events")
    assert (events["n_up"], events["n_down"]) == (1, 1)
    assert (non_events["n_up"], non_events["n_down"]) == (1, 1)


def test_without_cutoffs_there_is_no_categorical_nri():
    result = reclassification(DATA["y"], DATA["p_old"], DATA["p_new"])
    assert np.isnan(result.nri_categorical) and result.reclassification_table is None and result.cutoffs is None
    assert result.table["estimate"].notna().sum() == 6
    frame = result.to_frame()
    assert len(frame) == 1 and frame.loc[0, "nri_continuous"] == pytest.approx(REF["cutoffs_20"]["nri_continuous"]["overall"]["estimate"])
    assert "table=<DataFrame (9, 14)>" in repr(result)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (([0, 1, 0], [0.1, 0.2], [0.1, 0.2, 0.3]), "same length"),
        (([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), "binary coded 0/1"),
        (([0, 1, 0, 1], [0.1, 1.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), "'p_old' must be probabilities"),
        (([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, np.nan, 0.4]), "'p_new' has 1 missing"),
        ((pd.Series([0, 1, 0, 1], name="grade"), [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, -0.4]), "'p_new' must be probabilities"),
        ((pd.Series([0, 0, 0, 1], name="grade"), [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), "'grade' column needs at least 2"),
    ],
)
def test_bad_input_is_refused_with_the_argument_named(arguments, message):
    with pytest.raises(InputError, match=message):
        reclassification(*arguments)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"cutoffs": [0.3, 0.1]}, "'cutoffs' must be increasing"),
        ({"cutoffs": [0.0, 0.5]}, "'cutoffs' must be increasing"),
        ({"conf_level": 95}, "'conf_level' must be between 0 and 1"),
        ({"n_boot": -1}, "'n_boot' must be a non-negative integer"),
    ],
)
def test_bad_options_are_refused(keywords, message):
    with pytest.raises(InputError, match=message):
        reclassification([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [0.2, 0.3, 0.1, 0.5], **keywords)
