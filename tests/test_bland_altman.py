"""Bland-Altman limits of agreement (exact Carkeet 2015 and approximate Bland & Altman 1999 CIs)
and the proportional-bias regression, against formulas written by hand in R, and the figure.

Reference values: tests/reference/bland_altman.R (-> bland_altman.json, bland_altman_data.csv).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference
from scipy.special import ndtr

from stsanalysis import InputError
from stsanalysis.plotting.agreement import bland_altman_figure
from stsanalysis.stats.agreement import bland_altman, tolerance_factor

REF = load_reference("bland_altman")
DATA = pd.read_csv(REFERENCE_DIR / "bland_altman_data.csv")
CLOSED = dict(rel=1e-9, abs=1e-12)
ITERATIVE = dict(rel=1e-6, abs=1e-9)
#: fields that come from the tolerance factors (numerical integration and root finding)
EXACT_CI_FIELDS = {
    "lower_limit_ci_low",
    "lower_limit_ci_high",
    "upper_limit_ci_low",
    "upper_limit_ci_high",
    "tolerance_factor_inner",
    "tolerance_factor_outer",
}
# name in bland_altman.json -> (data set, conf_level)
CASES = {"volumes": ("volumes", 0.95), "small": ("small", 0.95), "five": ("five", 0.95), "volumes_conf90": ("volumes", 0.90)}


def fit(name: str):
    source, conf_level = CASES[name]
    rows = DATA[DATA["dataset"] == source]
    return bland_altman(rows["a"], rows["b"], conf_level=conf_level)


@pytest.mark.parametrize("name", list(CASES))
def test_bias_limits_cis_and_regression_match_r(name):
    # R: d <- a - b; mean(d), sd(d), qnorm(0.975), qt(); Carkeet tolerance factors by integrate()/uniroot();
    # summary(lm(d ~ m)) -> tests/reference/bland_altman.R
    result = fit(name).to_dict()
    for field, expected in REF[name].items():
        tolerance = ITERATIVE if field in EXACT_CI_FIELDS else CLOSED
        assert result[field] == pytest.approx(expected, **tolerance), field


def test_tolerance_factors_match_r_and_cover_as_promised():
    # R: the same integral by integrate() and uniroot(), content 0.95
    for row in REF["tolerance_factors"]:
        assert tolerance_factor(row["n"], 0.95, row["confidence"]) == pytest.approx(row["k"], **ITERATIVE), row
    # simulation: mean +- k * sd of 10 normal observations covers >= 95 % of the population in 95 % of samples
    rng = np.random.default_rng(1)
    k = tolerance_factor(10, 0.95, 0.95)
    means, sds = rng.standard_normal(200_000) / np.sqrt(10), np.sqrt(rng.chisquare(9, 200_000) / 9)
    covered = ndtr(means + k * sds) - ndtr(means - k * sds) >= 0.95
    assert covered.mean() == pytest.approx(0.95, abs=0.002)


def test_exact_intervals_are_wider_outside_than_the_approximate_ones_in_small_samples():
    # Carkeet 2015: Bland & Altman's approximation is too permissive for small n
    result = fit("five")
    assert result.upper_limit_ci_high > result.upper_limit_ci_high_approx
    assert result.lower_limit_ci_low < result.lower_limit_ci_low_approx
    assert result.lower_limit_ci_low < result.lower_limit < result.lower_limit_ci_high < result.bias
    assert result.bias < result.upper_limit_ci_low < result.upper_limit < result.upper_limit_ci_high


def test_points_and_limits_table():
    rows = DATA[DATA["dataset"] == "small"]
    result = fit("small")
    assert result.points["difference"].to_numpy() == pytest.approx((rows["a"] - rows["b"]).to_numpy())
    assert result.points["mean"].to_numpy() == pytest.approx(((rows["a"] + rows["b"]) / 2).to_numpy())
    table = result.limits_table()
    assert table["quantity"].tolist() == ["bias", "lower_limit", "lower_limit", "upper_limit", "upper_limit"]
    assert table.loc[1, "ci_low"] == result.lower_limit_ci_low and table.loc[2, "method"] == "approximate"
    assert len(result.to_frame()) == 1 and "points=<DataFrame (8, 2)>" in repr(result)


def test_identical_means_leave_the_slope_undefined_as_lm():
    result = bland_altman([1.0, 1.2, 0.8, 1.1], [1.0, 0.8, 1.2, 0.9])
    assert np.isnan(result.slope) and np.isnan(result.slope_p)
    figure = bland_altman_figure(result)
    (line,) = [trace for trace in figure.data if trace.meta["role"] == "regression"]
    assert line.visible == "legendonly" and len(line.x) == 0


def test_figure_draws_the_result():
    result = fit("volumes")
    figure = bland_altman_figure(result, title="Tumour volume, reader A vs B", names=("reader A", "reader B"))
    by_role = {trace.meta["role"]: trace for trace in figure.data}
    assert np.asarray(by_role["points"].x) == pytest.approx(result.points["mean"].to_numpy())
    assert np.asarray(by_role["points"].y) == pytest.approx(result.points["difference"].to_numpy())
    for role in ("bias", "lower_limit", "upper_limit"):
        assert set(by_role[role].y) == {getattr(result, role)}
        low, high = min(by_role[f"{role}_band"].y), max(by_role[f"{role}_band"].y)
        expected_low = result.bias_ci_low if role == "bias" else getattr(result, f"{role}_ci_low")
        expected_high = result.bias_ci_high if role == "bias" else getattr(result, f"{role}_ci_high")
        assert (low, high) == pytest.approx((expected_low, expected_high))
    x = np.asarray(by_role["regression"].x)
    assert np.asarray(by_role["regression"].y) == pytest.approx(result.intercept + result.slope * x)
    assert "p < 0.001" in by_role["regression"].name
    assert figure.layout.title.text == "Tumour volume, reader A vs B"
    assert figure.layout.yaxis.title.text == "Difference (reader A − reader B)"
    with pytest.raises(InputError, match="BlandAltmanResult"):
        bland_altman_figure(result.to_frame())


@pytest.mark.parametrize(
    ("arguments", "keywords", "message"),
    [
        (([1.0, 2.0, 3.0], [1.0, 2.0]), {}, "same length"),
        (([1.0, 2.0], [1.1, 2.1]), {}, "at least 3 pairs"),
        (([1.0, np.nan, 3.0], [1.0, 2.0, 3.0]), {}, "'a' has 1 missing"),
        (([1.0, 2.0, 3.0], pd.Series(["1", "x", "3"], name="reader_b")), {}, "'reader_b' must be numeric"),
        (([1.0, 2.0, 3.0], [1.1, 2.0, 2.9]), {"conf_level": 0}, "'conf_level' must be between 0 and 1"),
    ],
)
def test_bad_input_is_refused_with_the_argument_named(arguments, keywords, message):
    with pytest.raises(InputError, match=message):
        bland_altman(*arguments, **keywords)
