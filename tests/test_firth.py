"""Firth's penalised logistic regression against R brglm2 -> tests/reference/firth_brglm2.R.

R: glm(y ~ ..., family = binomial, method = brglm2::brglmFit, type = "AS_mean"); profile
penalised-likelihood limits and penalised LR tests (logistf's definitions) by the R script's
own loop on the penalised log-likelihood, as brglm2 has none.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import LOGISTIC_PREDICTORS, REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats import screening
from stsanalysis.stats.logistic import EventsPerParameterWarning, SeparationWarning, logistic_regression

# data set -> (CSV, predictors, R term -> our term)
DATASETS = {
    "cohort": (
        "logistic_data.csv",
        LOGISTIC_PREDICTORS,
        {"t_stageT2": "t_stage[T2]", "t_stageT3": "t_stage[T3]", "marginpositive": "margin[positive]"},
    ),
    "separated": ("firth_separated.csv", ["adc", "age"], {}),
    "quasi": ("firth_quasi.csv", ["size_cm", "margin"], {"marginnegative": "margin[negative]", "marginpositive": "margin[positive]"}),
}
# the quasi-separated set has 22 non-events for 3 parameters
EXPECTED_WARNINGS = {"quasi": EventsPerParameterWarning}


@pytest.fixture(scope="module")
def reference():
    return load_reference("firth_brglm2")


def _fit(name: str, **options):
    csv, predictors, _ = DATASETS[name]
    data = pd.read_csv(REFERENCE_DIR / csv)
    expected_warning = EXPECTED_WARNINGS.get(name)
    with pytest.warns(expected_warning) if expected_warning else warnings.catch_warnings():
        return logistic_regression(data, "high_grade", predictors, method="firth", **options)


def _by_r_term(table: pd.DataFrame, name: str, expected: dict) -> pd.DataFrame:
    renames = DATASETS[name][2]
    return table.set_index("term").loc[[renames.get(term, term) for term in expected["term"]]]


@pytest.mark.parametrize("name", DATASETS)
def test_firth_matches_brglm2(name, reference):
    # R: fit <- glm(high_grade ~ ..., binomial, method = brglm2::brglmFit, type = "AS_mean",
    #    control = brglmControl(epsilon = 1e-13)); summary(fit); confint(fit) (= confint.default)
    expected = reference[name]
    result = _fit(name)
    table = _by_r_term(result.coefficients, name, expected)
    for column in ("estimate", "std_error", "z", "p"):
        assert table[column].to_numpy() == pytest.approx(expected[column], rel=1e-6, abs=1e-12), column
    assert np.log(table["ci_low"]).to_numpy() == pytest.approx(expected["wald_low"], rel=1e-6)
    assert np.log(table["ci_high"]).to_numpy() == pytest.approx(expected["wald_high"], rel=1e-6)
    # R: deviance(fit), fit$null.deviance (brglm2's bias-reduced null model), AIC(fit), logLik(fit)
    for field in ("deviance", "null_deviance", "aic", "log_likelihood"):
        assert getattr(result, field) == pytest.approx(expected[field], rel=1e-6), field
    # R: fitted(fit)
    assert result.predict(pd.read_csv(REFERENCE_DIR / DATASETS[name][0])) == pytest.approx(expected["fitted"], rel=1e-6)
    assert result.method == "firth" and result.method_label == "Firth (brglm2 AS_mean)"


@pytest.mark.parametrize("name", DATASETS)
def test_penalised_profile_limits_and_lr_tests(name, reference):
    # R: firth_brglm2.R's loop: 2 (l*max - max l*(beta_j = b)) = qchisq(0.95, 1) (logistf's
    # profile penalised likelihood); penalised LR p per term and for the model (logistf)
    expected = reference[name]
    result = _fit(name, ci="profile")
    table = _by_r_term(result.coefficients, name, expected)
    assert np.log(table["ci_low"]).to_numpy() == pytest.approx(expected["profile_low"], abs=1e-5)
    assert np.log(table["ci_high"]).to_numpy() == pytest.approx(expected["profile_high"], abs=1e-5)
    assert table["p_penalised_lr"].to_numpy() == pytest.approx(expected["penalised_lr_p"], rel=1e-6, abs=1e-12)
    assert result.lr_statistic == pytest.approx(expected["model_lr_statistic"], rel=1e-6)
    assert result.lr_df == expected["model_lr_df"]
    assert result.lr_p == pytest.approx(expected["model_lr_p"], rel=1e-6, abs=1e-12)
    assert result.ci_method == "profile"


def test_separated_data_give_finite_estimates_without_separation_warning():
    # maximum likelihood runs away on these data (R glm: beta_adc = -361, firth_brglm2.json) and warns
    data = pd.read_csv(REFERENCE_DIR / "firth_separated.csv")
    with pytest.warns(SeparationWarning):
        ml = logistic_regression(data, "high_grade", ["adc", "age"])
    assert ml.coefficients.loc[1, "std_error"] > 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        firth = logistic_regression(data, "high_grade", ["adc", "age"], ci="profile", method="firth")
    numbers = firth.coefficients[["estimate", "std_error", "ci_low", "ci_high", "p"]].to_numpy()
    assert np.isfinite(numbers).all() and (numbers[:, 2:4] > 0).all()
    assert firth.converged


def test_penalised_profile_closes_under_complete_separation():
    # x separates y perfectly: the ordinary profile never reaches the cut-off, the penalised one does
    data = pd.DataFrame({"x": np.arange(40.0), "y": (np.arange(40) >= 20).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = logistic_regression(data, "y", ["x"], ci="profile", method="firth")
    table = result.coefficients
    assert np.isfinite(table[["estimate", "std_error", "p", "p_penalised_lr"]].to_numpy()).all()
    assert 0 < table.loc[1, "ci_low"] < table.loc[1, "odds_ratio"] < table.loc[1, "ci_high"] < np.inf


def test_maximum_likelihood_output_is_unchanged(logistic_cohort):
    # R: glm(high_grade ~ age + size_cm + t_stage + margin, binomial) -> tests/reference/logistic.R
    expected = load_reference("logistic")["full"]
    default = logistic_regression(logistic_cohort, "high_grade", LOGISTIC_PREDICTORS)
    explicit = logistic_regression(logistic_cohort, "high_grade", LOGISTIC_PREDICTORS, method="ml")
    pd.testing.assert_frame_equal(default.coefficients, explicit.coefficients, check_exact=True)
    assert list(default.coefficients.columns) == [
        "term", "variable", "level", "estimate", "std_error", "z", "p", "odds_ratio", "ci_low", "ci_high"
    ]  # fmt: skip
    assert default.coefficients["estimate"].to_numpy() == pytest.approx(expected["estimate"], rel=1e-6)
    assert default.lr_statistic == pytest.approx(expected["lr_statistic"], rel=1e-6)
    assert (default.method, default.method_label) == ("ml", "maximum likelihood")
    assert "method='ml'" in repr(default)


def test_separation_warning_names_the_firth_remedy():
    data = pd.DataFrame({"x": np.arange(40.0), "y": (np.arange(40) >= 20).astype(int)})
    with pytest.warns(SeparationWarning, match=r'method="firth"\) \(study config: logistic_method: firth\)'):
        logistic_regression(data, "y", ["x"])


def test_unknown_method_is_named(logistic_cohort):
    with pytest.raises(InputError, match=r"'method' must be 'ml' or 'firth'; got 'penalised'"):
        logistic_regression(logistic_cohort, "high_grade", ["age"], method="penalised")


def test_screening_passes_the_method_to_every_fit(monkeypatch):
    data = pd.read_csv(REFERENCE_DIR / "firth_quasi.csv")
    methods = []

    def recording_fit(*args, **kwargs):
        methods.append(kwargs.get("method"))
        return logistic_regression(*args, **kwargs)

    monkeypatch.setattr(screening, "logistic_regression", recording_fit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # maximum likelihood would warn of separation ('margin[positive]')
        table = screening.univariable_multivariable(data, "high_grade", ["size_cm", "margin"], method="firth")
    assert methods == ["firth", "firth", "firth"]  # two univariable fits, one multivariable
    assert table.attrs["selected"] == ["margin"]
    univariable = logistic_regression(data, "high_grade", ["margin"], method="firth").coefficients
    rows = table[(table["variable"] == "margin") & ~table["is_reference"]]
    assert rows["univariable_odds_ratio"].to_numpy() == pytest.approx(univariable["odds_ratio"].iloc[1:].to_numpy(), rel=1e-12)
    assert np.isfinite(rows["multivariable_ci_high"]).all()
