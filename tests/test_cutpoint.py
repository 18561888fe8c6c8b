"""Youden-optimal cut-off and its bootstrap against cutpointr 1.1.2.

Reference values: tests/reference/cutpoint.R (-> cutpoint.json, cutpoint_data.csv; the
bootstrap replayed through cutpointr from cutpoint_boot_indices.csv, written by
tests/reference/bootstrap_indices.py).

The cut-off and its in-sample metrics are compared exactly. Our bootstrap draws with numpy,
cutpointr's with R's RNG: on the same drawn rows every replicate is compared exactly; against
cutpointr's own bootstrap (2000 replicates, seed 7) only the distribution is compared,
loosely (the Monte Carlo error of two independent bootstraps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.cutpoint import bootstrap_indices, cutpoint_bootstrap

REF = load_reference("cutpoint")
DATA = pd.read_csv(REFERENCE_DIR / "cutpoint_data.csv")
CLOSED = dict(rel=1e-9, abs=1e-12)
# name in cutpoint.json -> (data set, direction passed)
POINTS = {name: (name, "auto") for name in ("n120", "adc", "tied_optima", "equal_medians", "small")}
POINTS["n120_fixed_lower"] = ("n120", "<=")


def dataset(name: str) -> pd.DataFrame:
    return DATA[DATA["dataset"] == name].reset_index(drop=True)


def as_float(value) -> float:
    """JSON numbers, and R's "Inf"/"-Inf" strings (jsonlite cannot write infinities)."""
    return float(str(value).replace("Inf", "inf")) if isinstance(value, str) else float(value)


@pytest.mark.filterwarnings("ignore:.*one class only:UserWarning")  # the tiny data sets
@pytest.mark.parametrize("name", list(POINTS))
def test_optimal_cutpoint_matches_cutpointr(name):
    # R: cutpointr(d, x, y, pos_class = 1, neg_class = 0, direction = ..., method = maximize_metric, metric = youden)
    source, direction = POINTS[name]
    data = dataset(source)
    result = cutpoint_bootstrap(data["y"], data["x"], n_boot=50, seed=1, direction=direction)
    expected = REF["point"][name]
    assert result.direction == expected["direction"]
    assert result.cutpoint == pytest.approx(as_float(expected["optimal_cutpoint"]), **CLOSED)
    assert result.n_optima == expected["n_optima"]
    for field, column in (("sensitivity", "sensitivity"), ("specificity", "specificity"), ("youden", "youden"), ("accuracy", "acc")):
        assert getattr(result, field) == pytest.approx(expected[column], **CLOSED), field


def test_tied_optima_are_broken_by_their_median_as_cutpointr():
    # x >= 2, 4, 6, 8 all reach Youden 0.25; cutpointr reports their median 5, at which J = 0
    result = cutpoint_bootstrap([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], n_boot=20, seed=1)
    assert (result.cutpoint, result.n_optima) == (7.0, 6)


def test_bootstrap_draws_are_the_committed_ones():
    draws = np.loadtxt(REFERENCE_DIR / "cutpoint_boot_indices.csv", delimiter=",", dtype=int)
    assert np.array_equal(bootstrap_indices(len(dataset("n120")), 100, 11) + 1, draws)


def test_bootstrap_replicates_equal_cutpointr_on_the_same_rows():
    # R: cutpointr(n120[rows, ], ...) per replicate; out-of-bag metrics at its cut-off as cutpointr's
    # boot_runs code computes them (roc() of the rows not drawn, get_opt_ind, sens/spec)
    data = dataset("n120")
    result = cutpoint_bootstrap(data["y"], data["x"], n_boot=100, seed=11)
    expected = pd.DataFrame(REF["replay"])
    assert result.n_boot_used == 100
    observed = result.replicates[expected.columns]
    assert np.abs(observed.to_numpy() - expected.to_numpy()).max() < 1e-12
    summary = result.summary.set_index("variable")
    for column, (low, median, high) in REF["replay_quantiles"].items():
        assert (summary.loc[column, "ci_low"], summary.loc[column, "median"], summary.loc[column, "ci_high"]) == pytest.approx(
            (low, median, high), **CLOSED
        )
    assert result.cutpoint_ci_low == summary.loc["optimal_cutpoint", "ci_low"]
    assert result.cutpoint_mean == pytest.approx(expected["optimal_cutpoint"].mean(), **CLOSED)
    assert result.cutpoint_sd == pytest.approx(expected["optimal_cutpoint"].std(ddof=1), **CLOSED)


def test_bootstrap_distribution_resembles_cutpointrs_own():
    # R: set.seed(7); cutpointr(..., boot_runs = 2000)$boot -> mean, sd, 2.5/50/97.5 % quantiles.
    # Independent bootstraps of 2000: means agree within a few Monte Carlo SEs (sd * sqrt(2 / 2000)
    # = 0.03 sd); quantiles of the cut-off are observed marker values (steps of 0.1 here)
    data = dataset("n120")
    summary = cutpoint_bootstrap(data["y"], data["x"], n_boot=2000, seed=2026).summary.set_index("variable")
    for column, expected in REF["cutpointr_boot"].items():
        observed = summary.loc[column]
        assert observed["mean"] == pytest.approx(expected["mean"], abs=0.15 * expected["sd"]), column
        assert observed["sd"] == pytest.approx(expected["sd"], rel=0.1), column
        low, median, high = expected["quantiles"]
        assert observed["median"] == pytest.approx(median, abs=0.5 * expected["sd"]), column
        assert observed["ci_low"] == pytest.approx(low, abs=0.5 * expected["sd"]), column
        assert observed["ci_high"] == pytest.approx(high, abs=0.5 * expected["sd"]), column


def test_bootstrap_is_seeded():
    data = dataset("adc")
    first = cutpoint_bootstrap(data["y"], data["x"], n_boot=300, seed=5)
    again = cutpoint_bootstrap(data["y"], data["x"], n_boot=300, seed=5)
    other = cutpoint_bootstrap(data["y"], data["x"], n_boot=300, seed=6)
    pd.testing.assert_frame_equal(first.replicates, again.replicates)
    assert not first.replicates.equals(other.replicates)
    # the in-bag cut-off is optimal in-bag: its in-bag Youden index is at least the out-of-bag one on average
    assert first.summary.set_index("variable").loc["youden_b", "mean"] > first.summary.set_index("variable").loc["youden_oob", "mean"]
    assert len(first.to_frame()) == 1 and "replicates=<DataFrame (300, 9)>" in repr(first)


def test_replicates_of_one_class_are_dropped_with_a_warning():
    with pytest.warns(UserWarning, match=r"\d+ of 400 bootstrap replicates drew patients of one class only"):
        result = cutpoint_bootstrap([0, 0, 1, 1], [1.0, 2.0, 3.0, 4.0], n_boot=400, seed=0)
    assert result.n_boot_used == len(result.replicates) < 400


@pytest.mark.parametrize(
    ("arguments", "keywords", "message"),
    [
        (([0, 1, 0], [1.0, 2.0]), {}, "same length"),
        (([0, 1, 2, 1], [1.0, 2.0, 3.0, 4.0]), {}, "binary coded 0/1"),
        (([0, 1, 0, 1], [1.0, np.nan, 3.0, 4.0]), {}, "'marker' has 1 missing"),
        (([0, 1, 0, 1], pd.Series([1.0, 2.0, np.inf, 4.0], name="adc")), {}, "'adc' contains infinite"),
        (([0, 1, 0, 1], [1.0, 2.0, 3.0, 4.0]), {"direction": ">"}, "'direction' must be 'auto', '>=' or '<='"),
        (([0, 1, 0, 1], [1.0, 2.0, 3.0, 4.0]), {"n_boot": 0}, "'n_boot' must be a positive integer"),
        (([0, 1, 0, 1], [1.0, 2.0, 3.0, 4.0]), {"conf_level": 1.5}, "'conf_level' must be between 0 and 1"),
    ],
)
def test_bad_input_is_refused_with_the_argument_named(arguments, keywords, message):
    with pytest.raises(InputError, match=message):
        cutpoint_bootstrap(*arguments, **keywords)
