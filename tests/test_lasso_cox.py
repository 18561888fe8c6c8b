"""LASSO-Cox and the Cox rad-score against glmnet / cv.glmnet (family = "cox") -> tests/reference/lasso_cox.R."""

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference
from sklearn.base import clone
from sklearn.model_selection import PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from stsanalysis import InputError
from stsanalysis.stats.cox_lasso import LassoCoxRadScore, _CoxLoss, default_cox_lambdas, lasso_cox
from stsanalysis.stats.lasso import _default_path, _lasso_path, _Standardised


def _read(name):
    frame = pd.read_csv(REFERENCE_DIR / name)
    return frame.drop(columns=["time", "event", "fold"]), frame[["time", "event"]], frame["fold"].to_numpy()


@pytest.fixture(scope="module")
def data():
    return _read("lasso_cox_data.csv")


@pytest.fixture(scope="module")
def wide():
    return _read("lasso_cox_wide_data.csv")


@pytest.fixture(scope="module")
def reference():
    return load_reference("lasso_cox")


@pytest.fixture(scope="module")
def cv_fit(data):
    X, y, fold = data
    return LassoCoxRadScore(cv=PredefinedSplit(fold)).fit(X, y)


def _sd(X):
    return X.std(ddof=0).to_numpy()


def test_default_lambda_path_matches_glmnet(data, wide, reference):
    # R: glmnet(x, Surv(time, event), family = "cox")$lambda; n >= p: lambda.min.ratio = 1e-4
    X, y, _ = data
    lambdas = default_cox_lambdas(X, y["time"], y["event"])
    assert len(lambdas) == 100
    assert lambdas[: len(reference["default_lambda"])] == pytest.approx(reference["default_lambda"], rel=1e-12)
    # n < p: 0.01; this path does not end early
    X_wide, y_wide, _ = wide
    assert default_cox_lambdas(X_wide, y_wide["time"], y_wide["event"]) == pytest.approx(reference["wide_default_lambda"], rel=1e-12)


def test_default_path_ends_early_as_glmnet(data, reference, cv_fit):
    # R: the default path ends after 53 lambdas (coxnet: relative dev.ratio gain < 1e-3 over 4 lambdas)
    assert cv_fit.lambdas_ == pytest.approx(reference["default_lambda"], rel=1e-12)
    # and so does each fold's own path (fold_n_lambda: 52 to 55 lambdas)
    X, y, fold = data
    values = X.to_numpy()
    lengths = []
    for k in range(1, 11):
        train = fold != k
        standardised = _Standardised.of(values[train], list(X.columns))
        loss = _CoxLoss(y["time"].to_numpy()[train], y["event"].to_numpy()[train])
        lengths.append(len(_lasso_path(loss, standardised.values, _default_path(loss, standardised.values, 100), stop_early=True)[0]))
    assert lengths == reference["fold_n_lambda"]


def test_coefficient_path_matches_glmnet(data, reference, cv_fit):
    # R: glmnet(..., thresh = 1e-20)$beta along the default path; coefficients on the original
    # scale, compared also on the standardised scale (coefficient x population SD)
    X, _, _ = data
    beta = np.array(reference["default_beta"]).T
    np.testing.assert_allclose(cv_fit.path_.to_numpy(), beta, rtol=0, atol=1e-6)
    np.testing.assert_allclose(cv_fit.path_.to_numpy() * _sd(X), beta * _sd(X), rtol=0, atol=1e-8)
    assert list(cv_fit.path_.columns) == list(X.columns)
    assert cv_fit.path_.index.name == "lambda"


def test_whole_path_with_given_lambdas_matches_glmnet(data, reference):
    # R: glmnet(..., lambda = full_lambda): all 100 lambdas, no early end
    X, y, fold = data
    fit = LassoCoxRadScore(cv=PredefinedSplit(fold), lambdas=reference["full_lambda"]).fit(X, y)
    assert len(fit.lambdas_) == 100
    np.testing.assert_allclose(fit.path_.to_numpy(), np.array(reference["full_beta"]).T, rtol=0, atol=1e-6)
    assert fit.cv_results_["n_nonzero"].iloc[-1] == 20


def test_single_lambda_fits_match_glmnet(data, reference):
    # R: coef(glmnet(x, y, family = "cox", lambda = lam, thresh = 1e-20))
    X, y, _ = data
    for k, lam in enumerate(reference["single_lambda"]):
        fit = lasso_cox(X, y["time"], y["event"], lam)
        np.testing.assert_allclose(fit.coefficients.to_numpy(), np.array(reference["single_beta"])[:, k], rtol=0, atol=1e-6)
        assert fit.n_nonzero == np.count_nonzero(np.array(reference["single_beta"])[:, k])
        assert fit.lam == lam


def test_deviances_match_glmnet(data, reference):
    # R: glmnet(...)$dev.ratio; coxnet.deviance(y = y) (null) and at cv.glmnet's lambda.min
    X, y, _ = data
    for lam, ratio in list(zip(reference["full_lambda"], reference["full_dev_ratio"]))[::11]:
        assert lasso_cox(X, y["time"], y["event"], lam).deviance_ratio == pytest.approx(ratio, abs=1e-9)
    fit = lasso_cox(X, y["time"], y["event"], reference["cv_default"]["lambda_min"])
    assert fit.null_deviance == pytest.approx(reference["null_deviance"], rel=1e-12)
    assert fit.deviance == pytest.approx(reference["deviance_at_min"], rel=1e-9)
    assert fit.deviance_ratio == pytest.approx(1 - fit.deviance / fit.null_deviance, rel=1e-12)
    assert fit.log_likelihood < 0


def _assert_cv_matches(fit, expected, rtol=1e-9):
    results = fit.cv_results_
    assert list(results.columns) == ["lambda", "mean_deviance", "se", "n_nonzero"]
    assert results["lambda"].to_numpy() == pytest.approx(expected["lambda"], rel=1e-12)
    assert results["mean_deviance"].to_numpy() == pytest.approx(expected["cvm"], rel=rtol)
    assert results["se"].to_numpy() == pytest.approx(expected["cvsd"], rel=100 * rtol)
    assert fit.lambda_min_ == pytest.approx(expected["lambda_min"], rel=1e-12)
    assert fit.lambda_1se_ == pytest.approx(expected["lambda_1se"], rel=1e-12)


def test_cv_default_path_matches_cv_glmnet(data, reference, cv_fit):
    # R: cv.glmnet(x, Surv(time, event), family = "cox", foldid = fold, thresh = 1e-20)
    expected = reference["cv_default"]
    _assert_cv_matches(cv_fit, expected)
    assert cv_fit.cv_results_["n_nonzero"].tolist() == expected["nzero"]
    # coef(cv, s = "lambda.min"), and "lambda.1se" with lambda_rule = "1se"
    assert cv_fit.lambda_ == cv_fit.lambda_min_
    np.testing.assert_allclose(cv_fit.coef_.to_numpy(), expected["coef_min"], rtol=0, atol=1e-6)
    X, y, fold = data
    one_se = LassoCoxRadScore(cv=PredefinedSplit(fold), lambda_rule="1se").fit(X, y)
    assert one_se.lambda_ == one_se.lambda_1se_
    np.testing.assert_allclose(one_se.coef_.to_numpy(), expected["coef_1se"], rtol=0, atol=1e-6)
    assert one_se.cv_results_.equals(cv_fit.cv_results_)


def test_cv_given_lambdas_matches_cv_glmnet(data, reference):
    # R: cv.glmnet(..., foldid = fold, lambda = given_lambda): every fold fitted at those lambdas
    X, y, fold = data
    expected = reference["cv_given"]
    fit = LassoCoxRadScore(cv=PredefinedSplit(fold), lambdas=expected["lambda"][::-1]).fit(X, y)
    _assert_cv_matches(fit, expected)
    assert fit.cv_results_["n_nonzero"].tolist() == expected["nzero"]
    np.testing.assert_allclose(fit.coef_.to_numpy(), expected["coef_min"], rtol=0, atol=1e-6)


def test_fold_without_events_has_weight_zero(data, reference):
    # R: cv.glmnet(..., foldid = censored_fold): its fold 6 holds 10 censored patients only
    X, y, _ = data
    expected = reference["cv_censored_fold"]
    fit = LassoCoxRadScore(cv=PredefinedSplit(np.array(reference["censored_fold"])), lambdas=expected["lambda"]).fit(X, y)
    _assert_cv_matches(fit, expected)


def test_wide_data_match_glmnet(wide, reference):
    # R: p > n; glmnet(..., lambda = wide_lambda, thresh = 1e-18) and cv.glmnet(..., foldid = fold)
    X, y, fold = wide
    expected = reference["wide_cv"]
    fit = LassoCoxRadScore(cv=PredefinedSplit(fold), lambdas=reference["wide_lambda"]).fit(X, y)
    beta = np.array(reference["wide_beta"]).T
    np.testing.assert_allclose(fit.path_.to_numpy() * _sd(X), beta * _sd(X), rtol=0, atol=1e-6)
    # at the largest lambda glmnet leaves one coefficient at -1e-16, which it counts
    assert fit.cv_results_["n_nonzero"].tolist() == np.count_nonzero(np.abs(beta) > 1e-12, axis=1).tolist()
    # the deviance of an ill-conditioned p > n fit: glmnet converges to ~1e-7 there
    _assert_cv_matches(fit, expected, rtol=1e-6)


def test_rad_score_is_the_uncentred_linear_predictor(data, cv_fit):
    # R: predict(cv, newx = x, s = "lambda.min", type = "link") is x %*% beta, uncentred
    X, _, _ = data
    np.testing.assert_allclose(cv_fit.decision_function(X), X.to_numpy() @ cv_fit.coef_.to_numpy(), rtol=1e-12)
    assert cv_fit.transform(X.head(3)).shape == (3, 1)
    assert cv_fit.get_feature_names_out().tolist() == ["rad_score"]
    formula = cv_fit.formula(digits=3)
    assert formula.startswith("Rad-score = ") and "intercept" not in formula
    first = next(name for name, value in cv_fit.coef_.items() if value != 0)
    assert formula.split(" × ")[0] == f"Rad-score = {cv_fit.coef_[first]:.3g}"
    assert formula.count("×") == int((cv_fit.coef_ != 0).sum())


def test_formula_signs_and_empty_model(data):
    X, y, _ = data
    fit = LassoCoxRadScore(cv=3, lambdas=[10.0, 5.0], random_state=0).fit(X[["firstorder_Mean", "glcm_Idm"]], y)
    assert fit.formula() == "Rad-score = 0"
    negative = LassoCoxRadScore(cv=3, lambdas=[0.01], random_state=0).fit(-X[["firstorder_Mean"]], y)
    assert negative.formula(digits=2).startswith("Rad-score = -0.")


def test_stratified_folds_reproducible_and_repeats(data):
    X, y, _ = data
    first = LassoCoxRadScore(cv=5, random_state=3, n_lambdas=20).fit(X, y)
    again = LassoCoxRadScore(cv=5, random_state=3, n_lambdas=20).fit(X, y)
    pd.testing.assert_frame_equal(first.cv_results_, again.cv_results_)
    repeated = LassoCoxRadScore(cv=5, random_state=3, n_lambdas=20, n_repeats=2).fit(X, y)
    assert not np.allclose(repeated.cv_results_["mean_deviance"], first.cv_results_["mean_deviance"])
    np.testing.assert_array_equal(repeated.lambdas_, first.lambdas_)


def test_in_a_pipeline_with_time_and_event_columns(data):
    X, y, fold = data
    pipeline = make_pipeline(FunctionTransformer(lambda frame: frame.iloc[:, :6]), LassoCoxRadScore(cv=PredefinedSplit(fold)))
    fitted = clone(pipeline).fit(X, y)
    direct = LassoCoxRadScore(cv=PredefinedSplit(fold)).fit(X.iloc[:, :6], y.to_numpy())
    np.testing.assert_allclose(fitted.transform(X).ravel(), direct.decision_function(X.iloc[:, :6]), rtol=1e-12)


def test_bad_input_is_named(data):
    X, y, fold = data
    constant = X.assign(glcm_Idm=1.0)
    with pytest.raises(InputError, match=r"'glcm_Idm'.*constant in the training data"):
        LassoCoxRadScore(cv=PredefinedSplit(fold)).fit(constant, y)
    # glmnet would drop a feature constant in a fold's training part silently
    only_in_fold_1 = X.assign(texture_5=np.where(fold == 1, X["texture_5"], 0.0))
    with pytest.raises(InputError, match=r"'texture_5'.*constant in the training part of fold 1"):
        LassoCoxRadScore(cv=PredefinedSplit(fold)).fit(only_in_fold_1, y)
    with pytest.raises(InputError, match=r"'months' must be a positive survival time.*rows \[4\]"):
        LassoCoxRadScore().fit(X, y.rename(columns={"time": "months"}).assign(months=lambda f: f["months"].where(f.index != 4, 0.0)))
    with pytest.raises(InputError, match=r"'time' has 1 missing value"):
        lasso_cox(X, y["time"].where(y.index != 7), y["event"], 0.1)
    with pytest.raises(InputError, match=r"no events in the training data"):
        LassoCoxRadScore().fit(X, y.assign(event=0))
    with pytest.raises(InputError, match=r"no events in the training part of fold 1 \(38 patients, all censored\)"):
        LassoCoxRadScore(cv=PredefinedSplit(np.where(y["event"] == 1, 1, 2))).fit(X, y)
    with pytest.raises(InputError, match=r"does not depend on the features: at every event time"):
        lasso_cox(X.iloc[:5], [1.0, 2.0, 3.0, 4.0, 5.0], [0, 0, 0, 0, 1], 0.1)
    with pytest.raises(InputError, match=r"two columns, survival time then event"):
        LassoCoxRadScore().fit(X, y["time"])
    with pytest.raises(InputError, match=r"'X' has 120 rows but the survival times have 119"):
        lasso_cox(X, y["time"].iloc[1:], y["event"].iloc[1:], 0.1)
    with pytest.raises(InputError, match=r"'lam' must be a positive number"):
        lasso_cox(X, y["time"], y["event"], 0.0)
    with pytest.raises(InputError, match=r"'lambda_rule' must be 'min' or '1se'"):
        LassoCoxRadScore(lambda_rule="max").fit(X, y)
    with pytest.raises(InputError, match=r"'lambdas' must be positive"):
        LassoCoxRadScore(lambdas=[0.1, -1.0]).fit(X, y)
    with pytest.raises(InputError, match=r"at least 50 patients in each event class.*smaller class has 38"):
        LassoCoxRadScore(cv=50).fit(X, y)
    fitted = LassoCoxRadScore(cv=3, lambdas=[0.1], random_state=0).fit(X, y)
    with pytest.raises(InputError, match=r"feature columns of .X. differ"):
        fitted.decision_function(X.rename(columns={"glcm_Idm": "glcm_Idmn"}))
