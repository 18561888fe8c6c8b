"""The radiomics Pipeline: fitted on the training centre only, applied without refitting."""

from __future__ import annotations

import copy
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from stsanalysis import InputError
from stsanalysis.radiomics.harmonization import ComBat
from stsanalysis.radiomics.pipeline import make_radiomics_pipeline, signature_features
from stsanalysis.radiomics.selection import MRMRSelector
from stsanalysis.radiomics.signature import LassoRadScore

N_FEATURES, INFORMATIVE = 30, ["feature_00", "feature_01", "feature_02"]


def _cohort(n: int, centre: str, seed: int):
    """Patients of one centre, scanned on scanners S1/S2 (shared by the centres) with
    additive and multiplicative scanner effects on every feature."""
    rng = np.random.default_rng(seed)
    ids = [f"{centre}-{i:03d}" for i in range(n)]
    y = pd.Series(rng.integers(0, 2, n), index=ids, name="high_grade")
    scanner = pd.Series(rng.choice(["S1", "S2"], n), index=ids, name="scanner")
    signal = rng.normal(size=(n, N_FEATURES))
    signal[:, :3] += 1.2 * y.to_numpy()[:, None]
    on_s2 = (scanner == "S2").to_numpy()[:, None]
    features = np.where(on_s2, 1.6 * signal + 2.0, signal) * 10 + 50
    columns = [f"feature_{j:02d}" for j in range(N_FEATURES)]
    return pd.DataFrame(features, index=ids, columns=columns), y, scanner


X_TRAIN, Y_TRAIN, SCANNER_TRAIN = _cohort(120, "C1", seed=1)
X_VALID, Y_VALID, SCANNER_VALID = _cohort(60, "C2", seed=2)
SCANNER = pd.concat([SCANNER_TRAIN, SCANNER_VALID])


def _pipeline(**keywords):
    return make_radiomics_pipeline(k=6, batch_labels=SCANNER, cv=3, random_state=0, **{"lambda_rule": "min", **keywords})


@pytest.fixture(scope="module")
def fitted():
    return _pipeline().fit(X_TRAIN, Y_TRAIN)


def test_steps_and_what_they_learn(fitted):
    assert [name for name, _ in fitted.steps] == ["zscore", "combat", "mrmr", "lasso"]
    assert isinstance(fitted["combat"], ComBat) and isinstance(fitted["lasso"], LassoRadScore)
    assert fitted["mrmr"].k == 6 and len(fitted["mrmr"].selected_features_) == 6
    assert set(INFORMATIVE) <= set(fitted["mrmr"].selected_features_)
    nonzero = fitted["lasso"].coef_[fitted["lasso"].coef_ != 0].index
    assert set(nonzero) & set(INFORMATIVE)
    # every step saw the 120 training patients only
    assert fitted["zscore"].n_samples_seen_ == 120
    assert list(fitted["combat"].batches_) == ["S1", "S2"]
    assert make_radiomics_pipeline(batch_labels=SCANNER)["lasso"].lambda_rule == "1se"


def test_the_chain_equals_its_steps_fitted_by_hand(fitted):
    scaled = StandardScaler().set_output(transform="pandas").fit_transform(X_TRAIN)
    harmonised = ComBat().fit_transform(scaled, SCANNER_TRAIN)
    selector = MRMRSelector(k=6, random_state=0).fit(harmonised, Y_TRAIN)
    assert selector.selected_features_ == fitted["mrmr"].selected_features_
    lasso = LassoRadScore(lambda_rule="min", cv=3, random_state=0).fit(selector.transform(harmonised), Y_TRAIN)
    pd.testing.assert_series_equal(lasso.coef_, fitted["lasso"].coef_)


def test_validation_is_transformed_without_any_fit(fitted):
    before = copy.deepcopy(fitted)
    classes = {type(step) for _, step in fitted.steps}
    patches = [mock.patch.object(cls, "fit", side_effect=AssertionError(f"{cls.__name__}.fit called")) for cls in classes]
    for patch in patches:
        patch.start()
    try:
        probabilities = fitted.predict_proba(X_VALID)[:, 1]
        rad_score = fitted.decision_function(X_VALID)
    finally:
        for patch in patches:
            patch.stop()
    assert probabilities.shape == (60,) and np.isfinite(rad_score).all()
    # the fitted estimates are unchanged by applying the model
    pd.testing.assert_series_equal(fitted["combat"].var_pooled_, before["combat"].var_pooled_)
    pd.testing.assert_frame_equal(fitted["combat"].gamma_star_, before["combat"].gamma_star_)
    assert fitted["mrmr"].selected_features_ == before["mrmr"].selected_features_
    pd.testing.assert_series_equal(fitted["lasso"].coef_, before["lasso"].coef_)


def test_each_validation_patient_is_scored_on_its_own(fitted):
    # no statistic of the validation set enters a prediction: scoring a subset, or the
    # patients in another order, gives each patient the same rad-score
    full = pd.Series(fitted.decision_function(X_VALID), index=X_VALID.index)
    subset = X_VALID.sample(frac=0.3, random_state=3)
    np.testing.assert_allclose(fitted.decision_function(subset), full[subset.index], rtol=1e-12)


def test_repeated_cross_validation_of_the_whole_pipeline():
    folds = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    auc = cross_val_score(_pipeline().set_params(lasso__n_lambdas=30), X_TRAIN, Y_TRAIN, cv=folds, scoring="roc_auc")
    assert auc.shape == (6,)
    assert auc.mean() > 0.75  # three informative features of effect 1.2 SD


def test_without_combat():
    pipeline = make_radiomics_pipeline(k=4, combat=False, cv=3, lambda_rule="min")
    assert [name for name, _ in pipeline.steps] == ["zscore", "mrmr", "lasso"]
    assert pipeline.fit(X_TRAIN, Y_TRAIN).predict_proba(X_VALID).shape == (60, 2)


def test_combat_needs_batch_labels():
    with pytest.raises(InputError, match="combat=True needs 'batch_labels'"):
        make_radiomics_pipeline()


def test_signature_features_widens_by_sequence():
    index = pd.MultiIndex.from_product([["P1", "P2"], ["T1", "T2FS"]], names=["patient_id", "sequence"])
    long = pd.DataFrame(
        {"original_firstorder_Mean": [1.0, 2.0, 3.0, 4.0], "original_glcm_Contrast": [5.0, 6.0, 7.0, 8.0]},
        index=index,
    )
    long.attrs = {"errors": pd.DataFrame(), "provenance": {"params": {}}}
    wide = signature_features(long, ["T2FS", "T1"])
    assert list(wide.columns) == [
        "T2FS_original_firstorder_Mean",
        "T2FS_original_glcm_Contrast",
        "T1_original_firstorder_Mean",
        "T1_original_glcm_Contrast",
    ]
    assert wide.loc["P2"].tolist() == [4.0, 8.0, 3.0, 7.0]
    assert signature_features(long, "T1").columns.tolist() == [
        "T1_original_firstorder_Mean",
        "T1_original_glcm_Contrast",
    ]
    with pytest.raises(InputError, match=r"Sequence\(s\) \['DWI'\] not in the features"):
        signature_features(long, ["DWI"])
    with pytest.raises(InputError, match="needs a 'sequence' index level"):
        signature_features(long.droplevel("sequence"), ["T1"])
