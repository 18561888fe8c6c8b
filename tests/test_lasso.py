"""LASSO logistic and the rad-score against glmnet / cv.glmnet -> tests/reference/lasso.R."""

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference
from sklearn.base import clone
from sklearn.model_selection import PredefinedSplit, StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline

from stsanalysis import InputError
from stsanalysis.radiomics.pipeline import make_radiomics_pipeline
from stsanalysis.radiomics.signature import LassoRadScore as ReExported
from stsanalysis.stats.lasso import LassoPathWarning, default_lambdas, lasso_logistic
from stsanalysis.stats.radscore import LassoRadScore
from stsanalysis.teaching.leakage import noise_features

NEAR_SEPARABLE_DATA = {
    "separable": "lasso_separable_data.csv",
    "noise": "lasso_noise_data.csv",
    "wide_noise": "lasso_wide_noise_data.csv",
}
# LassoRadScore(cv = 5) on lasso_noise_data.csv with these folds stopped with "Newton's method did not converge"
CRASHING_SEED = 1731038949


@pytest.fixture(scope="module")
def data():
    frame = pd.read_csv(REFERENCE_DIR / "lasso_data.csv")
    return frame.drop(columns=["y", "fold"]), frame["y"], frame["fold"]


@pytest.fixture(scope="module")
def reference():
    return load_reference("lasso")


@pytest.fixture(scope="module")
def cv_fit(data):
    X, y, fold = data
    return LassoRadScore(cv=PredefinedSplit(fold.to_numpy())).fit(X, y)


def test_default_lambda_path_matches_glmnet(data, reference):
    # R: glmnet(x, y, family = "binomial")$lambda (n >= p: lambda.min.ratio = 1e-4)
    X, y, _ = data
    assert default_lambdas(X, y) == pytest.approx(reference["lambda"], rel=1e-9)
    wide = pd.read_csv(REFERENCE_DIR / "lasso_wide_data.csv")
    # n < p: lambda.min.ratio = 0.01
    assert default_lambdas(wide.drop(columns="y"), wide["y"]) == pytest.approx(reference["wide_lambda"], rel=1e-9)


def test_coefficient_path_matches_glmnet(data, reference, cv_fit):
    # R: glmnet(x, y, family = "binomial", thresh = 1e-14)$lambda: the default path ends early, after 65 lambdas
    X, _, _ = data
    assert cv_fit.lambdas_ == pytest.approx(reference["default_lambda"], rel=1e-12)
    n_lambdas = len(reference["default_lambda"])
    # $beta and $a0, original scale, of the whole path (glmnet.control(fdev = 0, devmax = 1))
    beta = np.array(reference["beta"]).T[:n_lambdas]
    # compared on the standardised scale (coefficient x population SD), where glmnet converges
    scale = X.std(ddof=0).to_numpy()
    assert np.abs((cv_fit.path_[X.columns].to_numpy() - beta) * scale).max() < 1e-6
    assert cv_fit.path_["intercept"].to_numpy() == pytest.approx(reference["a0"][:n_lambdas], abs=1e-6)
    assert (np.count_nonzero(cv_fit.path_[X.columns], axis=1) == reference["df"][:n_lambdas]).all()


@pytest.mark.parametrize("index", [10, 40, 99])
def test_lasso_logistic_at_one_lambda(data, reference, index):
    # R: coef(glmnet(...))[, index]; exact solution at that lambda, not interpolated
    X, y, _ = data
    fit = lasso_logistic(X, y, reference["lambda"][index])
    scale = X.std(ddof=0).to_numpy()
    assert np.abs((fit.coefficients.to_numpy() - np.array(reference["beta"])[:, index]) * scale).max() < 1e-6
    assert fit.intercept == pytest.approx(reference["a0"][index], abs=1e-6)
    assert fit.n_nonzero == reference["df"][index]


def test_lasso_logistic_when_p_exceeds_n(reference):
    wide = pd.read_csv(REFERENCE_DIR / "lasso_wide_data.csv")
    fit = lasso_logistic(wide.drop(columns="y"), wide["y"], reference["wide_lambda"][19])
    assert fit.coefficients.to_numpy() == pytest.approx(np.array(reference["wide_beta"])[:, 19], abs=1e-6)
    assert fit.intercept == pytest.approx(reference["wide_a0"][19], abs=1e-6)


def assert_optimal(X: pd.DataFrame, y: np.ndarray, lam: float, intercept: float, coefficients: np.ndarray):
    """The subgradient (KKT) conditions of the glmnet objective hold to rounding error."""
    standardised = (X - X.mean()) / X.std(ddof=0)
    beta = coefficients * X.std(ddof=0).to_numpy()
    probability = 1 / (1 + np.exp(-(intercept + X.to_numpy() @ coefficients)))
    gradient = standardised.to_numpy().T @ (probability - y) / len(y)
    active = beta != 0
    assert np.abs(gradient[active] + lam * np.sign(beta[active])).max(initial=0) < 1e-12
    assert (np.abs(gradient[~active]) <= lam + 1e-12).all()
    assert abs(np.mean(probability - y)) < 1e-12  # unpenalised intercept


def test_solver_meets_the_optimality_conditions_along_a_wide_path():
    # p > n, down to lambda_max / 100 (glmnet itself stops at about 1e-9 here, hence ~1e-5
    # coefficient differences)
    wide = pd.read_csv(REFERENCE_DIR / "lasso_wide_data.csv")
    X, y = wide.drop(columns="y"), wide["y"].to_numpy()
    for lam in default_lambdas(X, y)[::9]:
        fit = lasso_logistic(X, y, lam)
        assert_optimal(X, y, lam, fit.intercept, fit.coefficients.to_numpy())


def deviance_explained(X: pd.DataFrame, y: np.ndarray, path: pd.DataFrame) -> np.ndarray:
    """glmnet's dev.ratio along ``path_``: 1 - deviance / null deviance, probabilities clipped to
    [1e-9, 1 - 1e-9] (glmnet.control()$pmin)."""
    linear = path["intercept"].to_numpy()[:, None] + path[X.columns].to_numpy() @ X.to_numpy().T
    probability = np.clip(1 / (1 + np.exp(-linear)), 1e-9, 1 - 1e-9)
    deviance = -(y * np.log(probability) + (1 - y) * np.log(1 - probability)).mean(axis=1)
    null_deviance = -(y.mean() * np.log(y.mean()) + (1 - y.mean()) * np.log(1 - y.mean()))
    return 1 - deviance / null_deviance


@pytest.mark.parametrize("name", NEAR_SEPARABLE_DATA)
def test_path_stops_early_as_glmnet_where_features_nearly_separate_the_outcome(reference, name):
    data = pd.read_csv(REFERENCE_DIR / NEAR_SEPARABLE_DATA[name])
    X, y = data.drop(columns=["y", "fold"]), data["y"].to_numpy()
    expected = reference["near_separable"][name]
    fit = LassoRadScore(cv=PredefinedSplit(data["fold"].to_numpy())).fit(X, y)
    # R: length(glmnet(x, y, family = "binomial")$lambda): 89 (separable: deviance explained
    # > 0.999), 76 (noise: gain < 1e-5), 100 (wide_noise: p > n, no stop)
    assert len(fit.lambdas_) == expected["n_lambda_default"] == len(expected["lambda"])
    assert fit.lambdas_ == pytest.approx(expected["lambda"], rel=1e-12)
    # glmnet's rule (glmnet.control()$fdev, $devmax, $mnlam) holds at the last lambda of a
    # shortened path and nowhere before it
    ratio = deviance_explained(X, y, fit.path_)
    stop = (np.diff(ratio, prepend=0) < 1e-5) | (ratio > 0.999)
    assert stop[4:].tolist() == [False] * (len(ratio) - 5) + [len(ratio) < 100]
    # R: glmnet(..., thresh = 1e-14): $a0 and $beta. Coefficients reach 16 (separable), where glmnet meets
    # the optimality conditions only to about 1e-8 (ours hold to rounding, below), so they agree
    # to 1e-5 relative to the largest coefficient at each lambda
    expected_path = np.column_stack([expected["a0"], np.array(expected["beta"]).T])
    difference = np.abs(fit.path_[["intercept", *X.columns]].to_numpy() - expected_path)
    assert (difference.max(axis=1) <= 1e-5 * np.maximum(1, np.abs(expected_path).max(axis=1))).all()
    for lam, row in fit.path_.iloc[::10].iterrows():
        assert_optimal(X, y, lam, row["intercept"], row[X.columns].to_numpy())
    # R: cv.glmnet(x, y, family = "binomial", foldid = fold, thresh = 1e-14)$cvm, $cvsd; some folds'
    # paths stop before the full one (fold_n_lambda), and cv.glmnet then predicts with their last fit
    assert fit.cv_results_["mean_deviance"].to_numpy() == pytest.approx(expected["cvm"], rel=1e-5)
    assert fit.cv_results_["se"].to_numpy() == pytest.approx(expected["cvsd"], rel=1e-5)


def test_noise_on_which_the_solver_stopped_fits_without_warning(reference):
    # filterwarnings = error: a LassoPathWarning would fail this test
    data = pd.read_csv(REFERENCE_DIR / "lasso_noise_data.csv")
    X, y = data.drop(columns=["y", "fold"]), data["y"]
    fit = LassoRadScore(cv=5, random_state=CRASHING_SEED).fit(X, y)
    assert len(fit.lambdas_) == reference["near_separable"]["noise"]["n_lambda_default"]
    # the whole reproducer: mRMR on 1000 noise features, then the rad-score, in 5 outer folds
    X, y = noise_features(100, 1000, seed=CRASHING_SEED)
    pipeline = make_radiomics_pipeline(k=10, combat=False, relevance="f_statistic", cv=5, random_state=CRASHING_SEED)
    probability = cross_val_predict(pipeline, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=CRASHING_SEED), method="predict_proba")
    assert np.isfinite(probability).all()


def test_path_stops_with_a_warning_where_the_solver_cannot_converge():
    # an outcome the features separate perfectly: at lambda = 1e-12 the optimum lies beyond the
    # reach of double precision
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((40, 3)), columns=["a", "b", "c"])
    y = (X["a"] + 0.5 * X["b"] > 0).astype(int)
    with pytest.warns(LassoPathWarning, match=r"lambda = 1e-12\. The path stops at the 2 larger lambdas"):
        fit = LassoRadScore(cv=3, lambdas=[1e-2, 1e-4, 1e-12], random_state=0).fit(X, y)
    assert fit.lambdas_.tolist() == [1e-2, 1e-4]
    assert fit.cv_results_["lambda"].tolist() == [1e-2, 1e-4] and fit.path_.index.tolist() == [1e-2, 1e-4]
    # along glmnet's default path the fit stops first, where 99.9% of the deviance is explained
    default = LassoRadScore(cv=3, random_state=0).fit(X, y)
    ratio = deviance_explained(X, y.to_numpy(), default.path_)
    assert ratio[-1] > 0.999 >= ratio[-2]
    with pytest.raises(InputError, match=r"did not converge at lambda = 1e-12.*choose a larger lambda"):
        lasso_logistic(X, y, 1e-12)


def test_cross_validation_matches_cv_glmnet_with_same_folds(reference, cv_fit):
    # R: cv.glmnet(x, y, family = "binomial", type.measure = "deviance", foldid = fold)
    results = cv_fit.cv_results_
    assert results["mean_deviance"].to_numpy() == pytest.approx(reference["cvm"], rel=1e-6)
    assert results["se"].to_numpy() == pytest.approx(reference["cvsd"], rel=1e-5)
    assert results["n_nonzero"].tolist() == reference["nzero"]
    assert cv_fit.lambda_min_ == pytest.approx(reference["lambda_min"], rel=1e-12)
    assert cv_fit.lambda_1se_ == pytest.approx(reference["lambda_1se"], rel=1e-12)
    assert cv_fit.lambda_ == cv_fit.lambda_min_
    chosen = cv_fit.path_.loc[cv_fit.lambda_]
    assert cv_fit.intercept_ == chosen["intercept"]
    assert cv_fit.coef_.to_numpy() == pytest.approx(chosen.drop("intercept").to_numpy(), rel=1e-15)


def test_rad_score_is_the_linear_predictor_and_formula(data, cv_fit):
    X, _, _ = data
    score = cv_fit.intercept_ + X.to_numpy() @ cv_fit.coef_.to_numpy()
    assert cv_fit.transform(X)[:, 0] == pytest.approx(score, rel=1e-12)
    assert cv_fit.predict_proba(X)[:, 1] == pytest.approx(1 / (1 + np.exp(-score)), rel=1e-12)
    formula = cv_fit.formula(digits=3)
    assert formula.startswith(f"Rad-score = {cv_fit.intercept_:.3g} ")
    negative = cv_fit.coef_[cv_fit.coef_ < 0].index[0]
    assert f"- {abs(cv_fit.coef_[negative]):.3g} × {negative}" in formula
    assert formula.count("×") == int((cv_fit.coef_ != 0).sum())


def test_one_se_rule_and_stratified_repeated_cv_are_sane(data):
    X, y, _ = data
    lambdas = default_lambdas(X, y, n_lambdas=20)
    one_se = LassoRadScore(lambda_rule="1se", cv=4, n_repeats=2, lambdas=lambdas, random_state=0).fit(X, y)
    again = LassoRadScore(lambda_rule="1se", cv=4, n_repeats=2, lambdas=lambdas, random_state=0).fit(X, y)
    pd.testing.assert_frame_equal(one_se.cv_results_, again.cv_results_)
    results = one_se.cv_results_
    best = results["mean_deviance"].idxmin()
    assert one_se.lambda_ == one_se.lambda_1se_ >= one_se.lambda_min_ == results.loc[best, "lambda"]
    within = results["mean_deviance"] <= results.loc[best, "mean_deviance"] + results.loc[best, "se"]
    assert one_se.lambda_1se_ == results.loc[within, "lambda"].max()
    assert (one_se.coef_ != 0).sum() <= (clone(one_se).set_params(lambda_rule="min").fit(X, y).coef_ != 0).sum()
    # the largest lambda has the null model, whose held-out deviance is about 2 log 2 here (prevalence near 1/2)
    assert results.loc[0, "n_nonzero"] == 0
    assert results.loc[0, "mean_deviance"] == pytest.approx(2 * np.log(2), rel=0.05)


def test_is_a_scikit_learn_estimator(data):
    X, y, _ = data
    estimator = LassoRadScore(cv=3, lambdas=default_lambdas(X, y, n_lambdas=10), random_state=1)
    assert clone(estimator).get_params()["cv"] == 3
    scores = cross_val_score(estimator, X, y, cv=3, scoring="roc_auc")
    assert scores.shape == (3,) and (scores > 0.6).all()
    pipeline = make_pipeline(estimator).fit(X, y)
    assert pipeline.transform(X).shape == (len(X), 1)
    assert ReExported is LassoRadScore


def test_bad_input_is_refused(data):
    X, y, _ = data
    with pytest.raises(InputError, match=r"'glcm_Idm'.*constant"):
        lasso_logistic(X.assign(glcm_Idm=1.0), y, 0.01)
    with pytest.raises(InputError, match=r"'shape_Sphericity'.*missing"):
        lasso_logistic(X.assign(shape_Sphericity=X["shape_Sphericity"].where(X.index != 2)), y, 0.01)
    with pytest.raises(InputError, match=r"\['centre'\].*not numeric"):
        lasso_logistic(X.assign(centre="A"), y, 0.01)
    with pytest.raises(InputError, match=r"'lam' must be a positive number"):
        lasso_logistic(X, y, -1.0)
    with pytest.raises(InputError, match=r"'lambda_rule' must be 'min' or '1se'"):
        LassoRadScore(lambda_rule="best").fit(X, y)
    with pytest.raises(InputError, match=r"feature columns of .X. differ"):
        LassoRadScore(cv=3, lambdas=[0.1, 0.05], random_state=0).fit(X, y).transform(X[X.columns[::-1]])


def test_cross_validated_deviance_is_kept_in_the_cache_and_read_back_exactly(tmp_path, monkeypatch):
    """A second fit on the same data, folds and lambdas reads cvm/cvsd from cache_dir: same numbers, no refit."""
    from stsanalysis.stats.radscore import _CrossValidatedLasso

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(60, 5)), columns=[f"f{i}" for i in range(5)])
    y = (X["f0"] - X["f1"] + rng.normal(0, 0.7, 60) > 0).astype(int)
    first = LassoRadScore(cv=5, random_state=2, cache_dir=tmp_path).fit(X, y)
    assert len(list((tmp_path / "lasso_cv").glob("*.csv"))) == 1

    def refit(*args, **kwargs):
        raise AssertionError("the cross-validation ran again")

    monkeypatch.setattr(_CrossValidatedLasso, "_cross_validated_deviance", refit)
    second = LassoRadScore(cv=5, random_state=2, cache_dir=tmp_path).fit(X, y)
    pd.testing.assert_frame_equal(first.cv_results_, second.cv_results_, check_exact=True)
    assert second.lambda_ == first.lambda_
    with pytest.raises(AssertionError, match="ran again"):  # other folds: another key
        LassoRadScore(cv=5, random_state=3, cache_dir=tmp_path).fit(X, y)
