"""Calibration against hoslem.test's formula, rms::val.prob and rms::validate -> tests/reference/calibration.R."""

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from stsanalysis import InputError
from stsanalysis.stats.calibration import (
    bootstrap_validation,
    calibration_curve,
    calibration_metrics,
    hosmer_lemeshow,
)
from stsanalysis.stats.logistic import logistic_regression
from stsanalysis.stats.radscore import LassoRadScore


@pytest.fixture(scope="module")
def predictions(calibration_predictions):
    return calibration_predictions


@pytest.fixture(scope="module")
def reference():
    return load_reference("calibration")


@pytest.mark.parametrize(("column", "groups", "key"), [("p", 10, "hl10"), ("p", 8, "hl8"), ("p_coarse", 10, "hl_coarse")])
def test_hosmer_lemeshow_matches_hoslem_formula(predictions, reference, column, groups, key):
    # R: cut(p, unique(quantile(p, seq(0, 1, 1/g))), include.lowest = TRUE); sum((O - E)^2 / E); df = g - 2
    expected = reference[key]
    result = hosmer_lemeshow(predictions["y"], predictions[column], groups=groups)
    assert result.statistic == pytest.approx(expected["statistic"], rel=1e-9)
    assert result.p == pytest.approx(expected["p"], rel=1e-9)
    assert result.df == expected["df"] == groups - 2
    assert result.table["n"].tolist() == expected["n"]
    assert result.table["observed_events"].tolist() == expected["observed"]
    assert result.table["expected_events"].to_numpy() == pytest.approx(expected["expected"], rel=1e-9)
    assert result.groups == len(expected["n"])  # tied quantiles merge groups in the coarse case


def test_calibration_metrics_match_val_prob(predictions, reference):
    # R: rms::val.prob(p, y, pl = FALSE)
    expected = reference["val_prob"]
    result = calibration_metrics(predictions["y"], predictions["p"])
    assert result.intercept == pytest.approx(expected["Intercept"], rel=1e-6)
    assert result.slope == pytest.approx(expected["Slope"], rel=1e-6)
    assert result.brier == pytest.approx(expected["Brier"], rel=1e-9)
    assert result.emax == pytest.approx(expected["Emax"], rel=1e-9)
    assert result.e90 == pytest.approx(expected["E90"], rel=1e-9)
    assert result.eavg == pytest.approx(expected["Eavg"], rel=1e-9)
    assert result.c_index == pytest.approx(expected["C (ROC)"], rel=1e-9)
    assert result.dxy == pytest.approx(expected["Dxy"], rel=1e-9)
    assert result.spiegelhalter_z == pytest.approx(expected["S:z"], rel=1e-9)
    assert result.spiegelhalter_p == pytest.approx(expected["S:p"], rel=1e-9)
    # R: coef(glm(y ~ 1 + offset(qlogis(p)), binomial))
    assert result.calibration_in_the_large == pytest.approx(reference["calibration_in_the_large"], rel=1e-6)
    prevalence = predictions["y"].mean()
    assert result.brier_scaled == pytest.approx(1 - expected["Brier"] / (prevalence * (1 - prevalence)), rel=1e-9)


def test_loess_curve_is_r_lowess(predictions, reference):
    # R: lowess(p, y, iter = 0), the smooth of val.prob
    curve = calibration_curve(predictions["y"], predictions["p"], method="loess")
    smooth = pd.DataFrame({"x": reference["lowess_x"], "y": reference["lowess_y"]}).groupby("x")["y"].mean()
    assert curve["predicted"].to_numpy() == pytest.approx(smooth.index.to_numpy(), rel=1e-12)
    assert curve["observed"].to_numpy() == pytest.approx(smooth.to_numpy(), rel=1e-9, abs=1e-12)
    assert curve["ci_low"].isna().all()


def test_loess_bootstrap_band_brackets_the_curve(predictions):
    curve = calibration_curve(predictions["y"], predictions["p"], n_boot=100, seed=3)
    inner = curve.iloc[10:-10]  # the extreme predictions may lie outside a bootstrap sample's range
    assert (inner["ci_low"] <= inner["observed"]).all() and (inner["observed"] <= inner["ci_high"]).all()
    assert (inner["ci_high"] - inner["ci_low"]).between(0.02, 0.6).all()
    again = calibration_curve(predictions["y"], predictions["p"], n_boot=100, seed=3)
    pd.testing.assert_frame_equal(curve, again)


def test_grouped_curve_uses_hl_groups_and_clopper_pearson(predictions, reference):
    curve = calibration_curve(predictions["y"], predictions["p"], method="grouped")
    expected = reference["hl10"]
    assert curve["observed"].to_numpy() == pytest.approx(np.divide(expected["observed"], expected["n"]), rel=1e-12)
    assert curve["predicted"].to_numpy() == pytest.approx(np.divide(expected["expected"], expected["n"]), rel=1e-9)
    # R: binom.test(1, 20)$conf.int (first group: 1 event of 20)
    assert (curve.loc[0, "ci_low"], curve.loc[0, "ci_high"]) == pytest.approx((0.00126508949794981, 0.24873276277202772), rel=1e-9)


def test_bootstrap_validation_matches_rms_validate(reference):
    # R: rms::validate(lrm(high_grade ~ age + size_cm + t_stage + margin, x = TRUE, y = TRUE), B = 200)
    expected = dict(zip(reference["validate"]["index"], reference["validate"]["corrected"]))
    apparent = dict(zip(reference["validate"]["index"], reference["validate"]["apparent"]))
    data = pd.read_csv(REFERENCE_DIR / "logistic_data.csv")
    table = bootstrap_validation(
        lambda d: logistic_regression(d, "high_grade", ["age", "size_cm", "t_stage", "margin"]),
        data,
        "high_grade",
        n_boot=200,
        seed=1,
    ).set_index("metric")
    # apparent values are deterministic: exact agreement with index.orig
    assert table.loc["dxy", "apparent"] == pytest.approx(apparent["Dxy"], rel=1e-9)
    assert table.loc["auc", "apparent"] == pytest.approx(apparent["Dxy"] / 2 + 0.5, rel=1e-9)
    assert table.loc["brier", "apparent"] == pytest.approx(apparent["B"], rel=1e-6)
    assert table.loc["calibration_slope", "apparent"] == pytest.approx(1, rel=1e-6)
    assert table.loc["calibration_intercept", "apparent"] == pytest.approx(0, abs=1e-6)
    # corrected values differ by the bootstrap samples (NumPy vs R RNG): Monte-Carlo tolerance
    assert table.loc["dxy", "corrected"] == pytest.approx(expected["Dxy"], abs=0.03)
    assert table.loc["calibration_slope", "corrected"] == pytest.approx(expected["Slope"], abs=0.05)
    assert table.loc["calibration_intercept", "corrected"] == pytest.approx(expected["Intercept"], abs=0.05)
    assert table.loc["brier", "corrected"] == pytest.approx(expected["B"], abs=0.01)
    assert table.attrs["n_boot_successful"] == 200


def test_bootstrap_validation_refits_a_scikit_learn_pipeline():
    # the LASSO selection is repeated in every bootstrap sample, so its optimism is counted
    data = pd.read_csv(REFERENCE_DIR / "lasso_data.csv").drop(columns="fold")
    features = [column for column in data.columns if column != "y"]

    def fit(train):
        select = ColumnTransformer([("features", "passthrough", features)])
        lasso = LassoRadScore(cv=3, lambdas=np.geomspace(0.2, 0.01, 8), random_state=0)
        return make_pipeline(select, lasso).fit(train, train["y"])

    table = bootstrap_validation(fit, data, "y", n_boot=10, seed=2).set_index("metric")
    apparent_auc = table.loc["auc", "apparent"]
    model = fit(data)
    assert apparent_auc == pytest.approx(roc_auc_score(data["y"], model.predict_proba(data)[:, 1]), rel=1e-12)
    assert table.loc["auc", "optimism"] > 0 and table.loc["auc", "corrected"] < apparent_auc


def test_bad_predictions_and_groups_are_refused(predictions):
    with pytest.raises(InputError, match=r"'p' must be probabilities strictly between 0 and 1"):
        calibration_metrics([0, 1, 1], [0.2, 1.0, 0.7])
    with pytest.raises(InputError, match=r"'p' must be probabilities"):
        hosmer_lemeshow([0, 1, 1], [-0.1, 0.5, 0.7])
    with pytest.raises(InputError, match=r"'groups' must be an integer of at least 3"):
        hosmer_lemeshow(predictions["y"], predictions["p"], groups=2)
    with pytest.raises(InputError, match=r"same length"):
        calibration_metrics([0, 1, 1], [0.2, 0.7])
    with pytest.raises(InputError, match=r"'method' must be 'loess' or 'grouped'"):
        calibration_curve(predictions["y"], predictions["p"], method="spline")


def test_calibration_curve_takes_conf_level_and_its_old_name(predictions):
    by_level = calibration_curve(predictions["y"], predictions["p"], method="grouped", level=0.90)
    pd.testing.assert_frame_equal(calibration_curve(predictions["y"], predictions["p"], method="grouped", conf_level=0.90), by_level)
    with pytest.raises(InputError, match="'level' = 0.9 and 'conf_level' = 0.8"):
        calibration_curve(predictions["y"], predictions["p"], level=0.90, conf_level=0.80)
