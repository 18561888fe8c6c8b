"""Correlation tests against R's cor.test (tests/reference/stats_correlation.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.correlation import pearson, spearman

REFERENCE = load_reference("stats_correlation")
DATA = pd.read_csv(REFERENCE_DIR / "stats_correlation.csv")
SMALL = pd.read_csv(REFERENCE_DIR / "stats_correlation_n10.csv")
PAIRS = {
    "adc_grade": (DATA["adc_mean"], DATA["grade"]),
    "adc_ki67": (DATA["adc_mean"], DATA["ki67"]),
    "small": (SMALL["x"], SMALL["y"]),
}


@pytest.mark.parametrize("key", list(PAIRS))
def test_spearman_matches_cor_test_exact_false(key):
    # R: cor.test(x, y, method = "spearman", exact = FALSE)  (ties -> mid-ranks, t approximation)
    x, y = PAIRS[key]
    result = spearman(x, y)
    assert result.rho == pytest.approx(REFERENCE[key]["spearman"]["rho"], rel=1e-9)
    assert result.p == pytest.approx(REFERENCE[key]["spearman"]["p"], rel=1e-9)
    assert result.n == len(x)
    assert np.isnan(result.ci_low)


@pytest.mark.parametrize("key", list(PAIRS))
def test_pearson_matches_cor_test(key):
    # R: cor.test(x, y) and cor.test(x, y, conf.level = 0.90)  (Fisher z interval)
    x, y = PAIRS[key]
    expected = REFERENCE[key]["pearson"]
    result = pearson(x, y)
    assert result.rho == pytest.approx(expected["r"], rel=1e-9)
    assert result.p == pytest.approx(expected["p"], rel=1e-9)
    assert [result.ci_low, result.ci_high] == pytest.approx(expected["ci"], rel=1e-9)
    narrow = pearson(x, y, conf_level=0.90)
    assert [narrow.ci_low, narrow.ci_high] == pytest.approx(REFERENCE[key]["pearson_90"], rel=1e-9)


def test_perfect_correlation_has_p_zero_and_a_degenerate_interval():
    result = pearson([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 6.0, 8.0, 10.0])
    assert (result.rho, result.p, result.ci_low, result.ci_high) == pytest.approx((1.0, 0.0, 1.0, 1.0))
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]).rho == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0], "same length"),
        ([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 3.0, 4.0], "'x' has 1 missing value"),
        (pd.Series([1.0, 1.0, 1.0, 1.0], name="ki67"), [1.0, 2.0, 3.0, 4.0], "'ki67' is constant"),
        (["1", "2", "three", "4"], [1.0, 2.0, 3.0, 4.0], "'x' must be numeric"),
        ([1.0, 2.0], [1.0, 2.0], "at least 3"),
    ],
)
def test_bad_input_is_refused(x, y, message):
    for function in (spearman, pearson):
        with pytest.raises(InputError, match=message):
            function(x, y)
