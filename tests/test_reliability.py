"""ICC against psych::ICC (tests/reference/stats_reliability.R) and Shrout & Fleiss (1979)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.reliability import (
    ICC_FORMS,
    DroppedTargetsWarning,
    UndefinedIccWarning,
    icc,
    icc_features,
)

COLUMNS = ["icc", "f", "df1", "df2", "p", "ci_low", "ci_high"]


def read_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / f"{name}.csv", index_col=0)


def assert_matches_psych(result: pd.DataFrame, expected: dict) -> None:
    for form in ICC_FORMS:
        for column in COLUMNS:
            assert result.loc[form, column] == pytest.approx(expected[form][column], rel=1e-9, abs=1e-14), (
                form,
                column,
            )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ("stats_icc_shrout_fleiss", "shrout_fleiss"),
        ("stats_icc_40x2", "two_readers"),
        ("stats_icc_10x3", "three_raters"),
    ],
)
def test_icc_matches_psych(data, key):
    # R: psych::ICC(as.matrix(x), lmer = FALSE)$results  -> stats_reliability.R
    result = icc(read_csv(data))
    assert_matches_psych(result, load_reference("stats_reliability")[key])
    assert list(result.index) == list(ICC_FORMS)
    assert result.index.name == "form"
    assert result.loc["ICC2", "description"].startswith("ICC(A,1) two-way random, absolute agreement")


def test_icc_alpha_changes_the_interval_as_psych():
    # R: psych::ICC(as.matrix(sf), lmer = FALSE, alpha = 0.10)$results
    result = icc(read_csv("stats_icc_shrout_fleiss"), alpha=0.10)
    assert_matches_psych(result, load_reference("stats_reliability")["shrout_fleiss_alpha_10"])


def test_icc_reproduces_shrout_fleiss_published_values():
    # Shrout & Fleiss (1979), Table 4: 0.17, 0.29, 0.71, 0.44, 0.62, 0.91 (two decimals).
    published = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}
    result = icc(read_csv("stats_icc_shrout_fleiss").to_numpy())
    for form, value in published.items():
        assert round(result.loc[form, "icc"], 2) == value


def test_icc_drops_targets_with_missing_ratings_and_names_them():
    # R: psych::ICC(two_readers[-c(3, 17), ], lmer = FALSE) (complete cases)
    data = read_csv("stats_icc_40x2")
    data.iloc[2, 0] = np.nan
    data.iloc[16, 1] = np.nan
    with pytest.warns(DroppedTargetsWarning, match=r"2 target\(s\).*'P03', 'P17'"):
        result = icc(data)
    assert_matches_psych(result, load_reference("stats_reliability")["two_readers_complete_38"])


def test_icc_needs_three_complete_targets():
    data = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [1.1, np.nan, 3.0, 4.2]})
    with pytest.warns(DroppedTargetsWarning), pytest.raises(InputError, match="at least 3 targets"):
        icc(data)


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        (pd.DataFrame({"r1": [1, 2, 3], "r2": ["1", "x", "3"]}), r"column 'r2' has the non-numeric value 'x'"),
        (pd.DataFrame({"r1": [1.0, 2.0, 3.0]}), "at least 2 rater columns"),
        (np.arange(5.0), "2-D table"),
        (pd.DataFrame({"r1": [2.0, 2.0, 2.0], "r2": [2.0, 2.0, 2.0]}), "all 6 ratings are identical"),
    ],
)
def test_icc_refuses_bad_input(ratings, message):
    with pytest.raises(InputError, match=message):
        icc(ratings)


def two_reader_features(n_patients=40, n_features=30, seed=1):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(n_patients, n_features)) * rng.uniform(0.5, 5, n_features)
    patients = [f"P{i:03d}" for i in range(n_patients)]
    features = [f"original_feature_{j}" for j in range(n_features)]
    reader_a = pd.DataFrame(truth + rng.normal(0, 0.3, truth.shape), index=patients, columns=features)
    reader_b = pd.DataFrame(truth + rng.normal(0.1, 0.5, truth.shape), index=patients, columns=features)
    return reader_a, reader_b


@pytest.mark.parametrize("form", list(ICC_FORMS))
def test_icc_features_equals_scalar_icc_per_feature(form):
    reader_a, reader_b = two_reader_features()
    # reader_b in another row and column order: aligned by labels, not by position
    result = icc_features(reader_a, reader_b.iloc[::-1, ::-1], form=form, with_ci=True)
    for feature in reader_a.columns:
        scalar = icc(pd.concat([reader_a[feature], reader_b[feature]], axis=1)).loc[form]
        for column in ["icc", "ci_low", "ci_high", "f", "p"]:
            assert result.loc[feature, column] == pytest.approx(scalar[column], rel=1e-12)
    series = icc_features(reader_a, reader_b, form=form)
    assert series.name == form
    np.testing.assert_allclose(series.to_numpy(), result["icc"].to_numpy(), rtol=1e-14)


def test_icc_features_matches_psych_on_the_40x2_matrix():
    # R: psych::ICC(two_readers, lmer = FALSE): ICC2 row
    data = read_csv("stats_icc_40x2")
    expected = load_reference("stats_reliability")["two_readers"]["ICC2"]
    result = icc_features(data[["reader1"]], data[["reader2"]].set_axis(["reader1"], axis=1), with_ci=True)
    for column in ["icc", "ci_low", "ci_high", "f", "p"]:
        assert result.loc["reader1", column] == pytest.approx(expected[column], rel=1e-9)


def test_icc_features_gives_one_row_per_feature_of_a_full_preset():
    # timing of the same call: benchmarks/bench_icc.py
    reader_a, reader_b = two_reader_features(n_patients=40, n_features=1130)
    result = icc_features(reader_a, reader_b, with_ci=True)
    assert result.shape == (1130, 5)


def test_icc_features_constant_feature_is_nan_with_one_warning():
    reader_a, reader_b = two_reader_features(n_features=5)
    reader_a["original_shape_constant"] = 3.0
    reader_b["original_shape_constant"] = 3.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = icc_features(reader_a, reader_b)
    assert [type(w.message) for w in caught] == [UndefinedIccWarning]
    assert "1 of 6 feature(s) (1 constant, 0 with missing values)" in str(caught[0].message)
    assert np.isnan(result["original_shape_constant"])
    assert result.drop("original_shape_constant").notna().all()


def test_icc_features_names_mismatched_patients_and_features():
    reader_a, reader_b = two_reader_features(n_features=4)
    reader_b = reader_b.rename(index={"P005": "P999"}, columns={"original_feature_2": "renamed"})
    with pytest.raises(InputError, match=r"only in reader_a \['P005'\], only in reader_b \['P999'\]") as error:
        icc_features(reader_a, reader_b)
    assert "only in reader_a ['original_feature_2'], only in reader_b ['renamed']" in str(error.value)


def test_icc_features_refuses_unknown_form():
    reader_a, reader_b = two_reader_features(n_features=2)
    with pytest.raises(InputError, match="'form' must be one of"):
        icc_features(reader_a, reader_b, form="ICC(2,1)")


def test_icc_takes_conf_level_and_psychs_alpha():
    # R: psych::ICC(as.matrix(sf), lmer = FALSE, alpha = 0.10)$results: conf_level = 0.90 is the same
    ratings = read_csv("stats_icc_shrout_fleiss")
    by_alpha = icc(ratings, alpha=0.10)
    pd.testing.assert_frame_equal(icc(ratings, conf_level=0.90), by_alpha)
    pd.testing.assert_frame_equal(icc(ratings, alpha=0.10, conf_level=0.90), by_alpha)
    pd.testing.assert_frame_equal(icc(ratings), icc(ratings, alpha=0.05))
    with pytest.raises(InputError, match="'alpha' = 0.1 and 'conf_level' = 0.8"):
        icc(ratings, alpha=0.10, conf_level=0.80)
    with pytest.raises(InputError, match="'conf_level' must be between 0 and 1"):
        icc(ratings, conf_level=95)
