"""Reliability filter, correlation filter and mRMR selector."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import f_oneway
from sklearn.feature_selection import mutual_info_classif

from stsanalysis import InputError, stats
from stsanalysis.radiomics.selection import CorrelationFilter, MRMRSelector, ReliabilityFilter

RNG = np.random.default_rng(11)
PATIENTS = [f"P{i:02d}" for i in range(40)]
# 3 reliable and 2 unreliable T1 features, 2 reliable and 1 unreliable T2FS features
RELIABLE = [
    "T1_original_firstorder_Mean",
    "T1_original_glcm_Contrast",
    "T1_wavelet-LLH_glcm_Idm",
    "T2FS_original_shape_Sphericity",
    "T2FS_original_glcm_Contrast",
]
UNRELIABLE = ["T1_original_glcm_Correlation", "T1_wavelet-HHH_glszm_ZoneEntropy", "T2FS_original_ngtdm_Busyness"]


def _readings():
    truth = pd.DataFrame(RNG.normal(size=(40, 8)) * 10, index=PATIENTS, columns=RELIABLE + UNRELIABLE)

    def reading():
        noise = pd.DataFrame(RNG.normal(size=truth.shape), index=PATIENTS, columns=truth.columns)
        noise[UNRELIABLE] *= 30  # segmentation changes these features more than the patients differ
        return truth + noise

    return reading(), reading(), reading()


READER1, READER2, REPEAT = _readings()


# --------------------------------------------------------------------------- reliability


def test_reliability_filter_uses_feature_iccs_and_keeps_the_reliable():
    fitted = ReliabilityFilter(threshold=0.75).fit(READER1, READER2, repeat=REPEAT)
    # the vectorised ICCs equal psych::ICC's ICC2 (validated in test_reliability.py) per feature
    for feature in ["T1_original_glcm_Contrast", "T2FS_original_ngtdm_Busyness"]:
        one = stats.icc(pd.concat([READER1[feature], READER2[feature]], axis=1))
        assert fitted.icc_.loc[feature, "inter_reader"] == pytest.approx(one.loc["ICC2", "icc"], rel=1e-12)
    assert fitted.selected_features_ == RELIABLE
    assert fitted.icc_.loc[RELIABLE].min(axis=None) > 0.9
    assert fitted.icc_.loc[UNRELIABLE].max(axis=None) < 0.75
    kept = fitted.transform(READER1.assign(age=1.0))
    assert list(kept.columns) == RELIABLE


def test_threshold_is_strict_and_both_iccs_must_pass():
    fitted = ReliabilityFilter().fit(READER1, READER2, repeat=REPEAT)
    feature = "T1_original_glcm_Contrast"
    at_threshold = ReliabilityFilter(threshold=fitted.icc_.loc[feature].min()).fit(READER1, READER2, REPEAT)
    assert feature not in at_threshold.selected_features_  # "ICC > threshold"
    spoiled = REPEAT.assign(**{feature: RNG.normal(size=40)})  # reader 1 cannot repeat it
    intra = ReliabilityFilter().fit(READER1, READER2, repeat=spoiled)
    assert feature not in intra.selected_features_
    assert feature in ReliabilityFilter().fit(READER1, READER2).selected_features_


def test_reliability_report_counts_per_sequence_and_class():
    report = ReliabilityFilter().fit(READER1, READER2, REPEAT).report()
    table = report.set_index(["sequence", "feature_class"])
    assert table.loc[("T1", "glcm"), ["n_features", "n_kept"]].tolist() == [3, 2]
    assert table.loc[("T1", "glszm"), ["n_features", "n_kept"]].tolist() == [1, 0]
    assert table.loc[("T2FS", "ngtdm"), "proportion_kept"] == 0.0
    assert table["n_features"].sum() == 8 and table["n_kept"].sum() == 5
    assert list(report.columns) == ["sequence", "feature_class", "n_features", "n_kept", "proportion_kept"]
    # T1: firstorder, glcm, glszm; T2FS: glcm, ngtdm, shape
    assert report[["sequence", "feature_class"]].values.tolist() == [
        ["T1", "firstorder"],
        ["T1", "glcm"],
        ["T1", "glszm"],
        ["T2FS", "glcm"],
        ["T2FS", "ngtdm"],
        ["T2FS", "shape"],
    ]


def test_reliability_filter_bad_input():
    with pytest.raises(InputError, match="threshold"):
        ReliabilityFilter(threshold=1.5).fit(READER1, READER2)
    with pytest.raises(InputError, match="form"):
        ReliabilityFilter(form="ICC9").fit(READER1, READER2)
    fitted = ReliabilityFilter().fit(READER1, READER2)
    with pytest.raises(InputError, match="lacks 1 reliable feature"):
        fitted.transform(READER1.drop(columns=RELIABLE[0]))


# --------------------------------------------------------------------------- correlation


def _correlated_data():
    rng = np.random.default_rng(13)  # a seed where the noisier copy "a" is also less related to y
    n = 80
    base = rng.normal(size=n)
    y = (base + rng.normal(size=n) > 0).astype(int)
    b = base + rng.normal(scale=0.1, size=n)
    # "a" comes first but is a noisier copy of "b": |rho(a, b)| > 0.9, "b" closer to y
    X = pd.DataFrame({"a": b + rng.normal(scale=0.3, size=n), "b": b, "c": rng.normal(size=n)})
    return X, y


def test_correlation_filter_keeps_the_more_relevant_of_a_pair():
    X, y = _correlated_data()
    rho = X.corr(method="spearman").abs()
    assert rho.loc["a", "b"] > 0.9 and rho.loc["a", "c"] < 0.9
    relevance = X.corrwith(pd.Series(y), method="spearman").abs()
    assert relevance["b"] > relevance["a"]
    fitted = CorrelationFilter(threshold=0.9).fit(X, y)
    assert fitted.dropped_ == {"a": "b"}
    assert fitted.selected_features_ == ["b", "c"]
    assert list(fitted.transform(X).columns) == fitted.selected_features_
    assert CorrelationFilter(threshold=0.9).fit(X).dropped_ == {"b": "a"}  # no y: the first stays
    assert CorrelationFilter(threshold=rho.loc["a", "b"] + 1e-9).fit(X).dropped_ == {}


def test_correlation_filter_pearson_and_bad_method():
    X, y = _correlated_data()
    X["d"] = np.exp(X["c"] * 3)  # monotone in c: Spearman 1, Pearson well below 0.9
    assert X[["c", "d"]].corr().iloc[0, 1] < 0.9
    assert "d" in CorrelationFilter(method="pearson").fit(X).selected_features_
    assert "d" not in CorrelationFilter(method="spearman").fit(X).selected_features_
    with pytest.raises(InputError, match="'method'"):
        CorrelationFilter(method="kendall").fit(X)


# --------------------------------------------------------------------------- mRMR


def _mrmr_data():
    rng = np.random.default_rng(13)
    n = 150
    # two independent signals behind the outcome: "strong" weighs more than "moderate"
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    y = (z1 + 0.6 * z2 + 0.3 * rng.normal(size=n) > 0).astype(int)
    strong = z1 + 0.1 * rng.normal(size=n)
    X = pd.DataFrame(
        {
            "strong": strong,
            "strong_copy": strong + 0.05 * rng.normal(size=n),  # relevant but redundant
            "moderate": z2 + 0.1 * rng.normal(size=n),
            **{f"noise_{i}": rng.normal(size=n) for i in range(5)},
        }
    )
    return X, y


def test_mrmr_prefers_a_new_signal_over_a_redundant_copy():
    X, y = _mrmr_data()
    selector = MRMRSelector(k=2).fit(X, y)
    relevance = mutual_info_classif(X.to_numpy(), y, n_neighbors=3, random_state=0)
    np.testing.assert_allclose(selector.scores_, relevance, rtol=1e-12)
    first = X.columns[np.argmax(relevance)]
    assert first in ("strong", "strong_copy")
    assert relevance[list(X.columns).index("strong_copy")] > relevance[list(X.columns).index("moderate")]
    assert selector.selected_features_ == [first, "moderate"]
    # MID criterion of the second pick: I(moderate; y) - (-0.5 ln(1 - r^2)), r = Pearson
    r = np.corrcoef(X["moderate"], X[first])[0, 1]
    expected = relevance[2] + 0.5 * np.log(1 - r**2)
    assert selector.selection_scores_["moderate"] == pytest.approx(expected, rel=1e-9)
    assert selector.get_support().tolist() == [c in selector.selected_features_ for c in X.columns]
    assert list(selector.transform(X).columns) == [c for c in X.columns if c in selector.selected_features_]


def test_mrmr_is_reproducible_and_orders_k_features():
    X, y = _mrmr_data()
    first, second = MRMRSelector(k=5).fit(X, y), MRMRSelector(k=5).fit(X, y)
    assert first.selected_features_ == second.selected_features_
    assert len(first.selected_features_) == 5 == first.get_support().sum()
    assert not {"strong", "strong_copy"} <= set(first.selected_features_[:2])


@pytest.mark.parametrize("keywords", [{"relevance": "f_statistic"}, {"redundancy": "mutual_info"}])
def test_mrmr_other_estimators_skip_the_redundant_copy(keywords):
    X, y = _mrmr_data()
    selector = MRMRSelector(k=2, **keywords).fit(X, y)
    assert selector.selected_features_[1] == "moderate"
    if keywords.get("relevance") == "f_statistic":
        # Gaussian mutual information of the ANOVA: -0.5 ln(1 - eta^2), eta^2 = F / (F + n - 2)
        f = f_oneway(X["moderate"][y == 0], X["moderate"][y == 1]).statistic
        eta2 = f / (f + len(y) - 2)
        assert selector.scores_[2] == pytest.approx(-0.5 * np.log(1 - eta2), rel=1e-10)


@pytest.mark.parametrize(
    "selector, data, message",
    [
        (MRMRSelector(k=20), None, r"'k' \(20\) exceeds"),
        (MRMRSelector(relevance="chi2"), None, "'relevance' must be one of"),
        (MRMRSelector(k=0), None, "'k' must be a positive integer"),
        (MRMRSelector(k=2), "nan", "missing values"),
        (MRMRSelector(k=2), "one class", "at least two classes"),
    ],
)
def test_mrmr_bad_input(selector, data, message):
    X, y = _mrmr_data()
    if data == "nan":
        X.iloc[3, 1] = np.nan
    if data == "one class":
        y = np.zeros_like(y)
    with pytest.raises(InputError, match=message):
        selector.fit(X, y)
