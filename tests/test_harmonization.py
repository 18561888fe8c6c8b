"""ComBat against sva::ComBat (tests/reference/combat.R) and its fit/transform contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from stsanalysis import InputError
from stsanalysis.radiomics.harmonization import ComBat, ComBatWarning

DATA = pd.read_csv(REFERENCE_DIR / "combat_data.csv").set_index("sample")
FEATURES = DATA.filter(like="feature_")
OUTCOME = DATA[["outcome"]]


@pytest.fixture(scope="module")
def expected():
    return load_reference("combat")


CASES = {
    # name in combat.json: (ComBat keywords, protect the outcome)
    "parametric": ({}, False),  # ComBat(dat, batch)
    "parametric_covariate": ({}, True),  # ComBat(dat, batch, mod = model.matrix(~outcome))
    "nonparametric": ({"parametric": False}, False),  # ComBat(dat, batch, par.prior = FALSE)
    "nonparametric_covariate": ({"parametric": False}, True),  # ... mod = mod, par.prior = FALSE
    "mean_only": ({"mean_only": True}, False),  # ComBat(dat, batch, mean.only = TRUE)
    "mean_only_nonparametric": ({"mean_only": True, "parametric": False}, False),
    "ref_batch_B": ({"ref_batch": "B"}, False),  # ComBat(dat, batch, ref.batch = "B")
    "ref_batch_B_covariate": ({"ref_batch": "B"}, True),  # ... mod = mod, ref.batch = "B"
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_sva_combat(name, expected):
    keywords, protect_outcome = CASES[name]
    covariates = OUTCOME if protect_outcome else None
    adjusted = ComBat(**keywords).fit_transform(FEATURES, DATA.batch, covariates)
    # R: sva::ComBat(t(x), batch, ...) -> tests/reference/combat.R
    np.testing.assert_allclose(adjusted.to_numpy(), np.array(expected[name]), rtol=1e-6, atol=1e-9)
    assert adjusted.index.equals(FEATURES.index) and adjusted.columns.equals(FEATURES.columns)


def test_harmonisation_removes_the_batch_means():
    adjusted = ComBat().fit_transform(FEATURES, DATA.batch)
    raw_spread = FEATURES.groupby(DATA.batch).mean().std().mean()
    adjusted_spread = adjusted.groupby(DATA.batch).mean().std().mean()
    assert adjusted_spread < raw_spread / 3


def test_reference_batch_is_unchanged():
    adjusted = ComBat(ref_batch="B").fit_transform(FEATURES, DATA.batch)
    in_b = DATA.batch == "B"
    pd.testing.assert_frame_equal(adjusted[in_b], FEATURES[in_b].astype(float))


def test_transform_applies_training_estimates_without_refitting():
    training = DATA.batch != "C"  # fit on batches A and B, then apply to new samples of A and B
    train, new = FEATURES[training].iloc[::2], FEATURES[training].iloc[1::2]
    combat = ComBat().fit(train, DATA.batch[train.index])
    estimates = {name: getattr(combat, name).copy() for name in ("gamma_star_", "delta_star_", "var_pooled_")}
    applied = combat.transform(new, DATA.batch[new.index])
    for name, before in estimates.items():
        pd.testing.assert_frame_equal(pd.DataFrame(getattr(combat, name)), pd.DataFrame(before))
    # the same training estimates, written out: (x - mean - gamma* s) / sqrt(delta*) ... per sample
    sample, batch = new.index[0], DATA.batch[new.index[0]]
    scale = np.sqrt(combat.var_pooled_)
    by_hand = (new.loc[sample] - combat.grand_mean_) / scale
    by_hand = (by_hand - combat.gamma_star_.loc[batch]) / np.sqrt(combat.delta_star_.loc[batch]) * scale
    by_hand += combat.grand_mean_
    np.testing.assert_allclose(applied.loc[sample], by_hand, rtol=1e-12)
    # applying to the training data reproduces fit_transform
    np.testing.assert_allclose(
        combat.transform(train, DATA.batch[train.index]),
        ComBat().fit_transform(train, DATA.batch[train.index]),
        rtol=1e-12,
    )


def test_unseen_batch_in_transform_is_refused():
    combat = ComBat().fit(FEATURES[DATA.batch != "C"], DATA.batch[DATA.batch != "C"])
    with pytest.raises(InputError, match=r"Batch\(es\) \['C'\] were not in the training data"):
        combat.transform(FEATURES, DATA.batch)


def test_batch_labels_travel_by_index_through_a_pipeline():
    centre = DATA.batch
    pipeline = make_pipeline(StandardScaler().set_output(transform="pandas"), ComBat(batch_labels=centre))
    shuffled = FEATURES.sample(frac=1, random_state=0)
    through_pipeline = pipeline.fit_transform(shuffled, DATA.outcome[shuffled.index])  # y is ignored
    scaled = StandardScaler().set_output(transform="pandas").fit_transform(shuffled)
    direct = ComBat().fit_transform(scaled, centre[shuffled.index])
    pd.testing.assert_frame_equal(through_pipeline, direct)
    assert clone(pipeline).steps[1][1].batch_labels is not None


def test_constant_feature_within_a_batch_is_adjusted_for_location_only_there():
    # sva passes such a feature through unchanged; here it keeps the location adjustment in A
    # (tests/test_degenerate_data.py checks the other features against sva)
    features = FEATURES.copy()
    features.loc[DATA.batch == "A", "feature_01"] = 7.0
    with pytest.warns(ComBatWarning, match=r"'feature_01' in batch\(es\) 'A' \(n = 25\)"):
        combat = ComBat().fit(features, DATA.batch)
    adjusted = combat.transform(features, DATA.batch)
    assert combat.unadjusted_features_ == [] and combat.location_only_ == [("feature_01", "A")]
    assert combat.delta_star_.loc["A", "feature_01"] == 1.0
    assert adjusted.loc[DATA.batch == "A", "feature_01"].nunique() == 1  # still constant, moved
    # the other features are harmonised exactly as without that feature (sva drops the row)
    rest = ComBat().fit_transform(features.drop(columns="feature_01"), DATA.batch)
    pd.testing.assert_frame_equal(adjusted.drop(columns="feature_01"), rest)


def test_feature_constant_within_every_batch_is_passed_through():
    features = FEATURES.assign(feature_01=DATA.batch.map({"A": 1.0, "B": 2.0, "C": 3.0}))
    with pytest.warns(ComBatWarning, match="constant within every batch and cannot be standardised: 'feature_01'"):
        adjusted = ComBat().fit_transform(features, DATA.batch)
    pd.testing.assert_series_equal(adjusted["feature_01"], features["feature_01"])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ComBat().fit(FEATURES), "needs the batch of every sample"),
        (lambda: ComBat().fit(FEATURES, DATA.batch[:10]), "one label per row"),
        (lambda: ComBat().fit(FEATURES, ["A"] * 60), "at least 2 batches"),
        (lambda: ComBat(ref_batch="D").fit(FEATURES, DATA.batch), "ref_batch 'D' is not one of"),
        (lambda: ComBat().fit(FEATURES.assign(feature_01=np.nan), DATA.batch), "feature_01"),
        (lambda: ComBat().fit(FEATURES, DATA.batch, DATA[["batch"]]), "covariates must be numeric"),
        (
            lambda: ComBat().fit(FEATURES, DATA.batch, pd.get_dummies(DATA.batch, dtype=float)),
            "confounded",
        ),
        (
            lambda: ComBat().fit(FEATURES, DATA.batch, OUTCOME).transform(FEATURES, DATA.batch),
            "pass them to transform too",
        ),
        (
            lambda: ComBat().fit(FEATURES, DATA.batch).transform(FEATURES.iloc[:, :5], DATA.batch),
            "feature columns",
        ),
        (
            lambda: ComBat(batch_labels=DATA.batch.iloc[:30]).fit(FEATURES),
            "batch_labels has no batch for sample",
        ),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()
