"""Logistic regression against R glm(family = binomial) -> tests/reference/logistic.R."""

import numpy as np
import pandas as pd
import pytest
from conftest import LOGISTIC_PREDICTORS as PREDICTORS
from conftest import load_reference

from stsanalysis import InputError
from stsanalysis.stats.logistic import (
    EventsPerParameterWarning,
    SeparationWarning,
    logistic_regression,
)
from stsanalysis.stats.screening import univariable_multivariable

# R names treatment-coded terms "t_stageT2"; ours are "t_stage[T2]"
R_TERMS = {
    "(Intercept)": "(Intercept)",
    "age": "age",
    "size_cm": "size_cm",
    "t_stageT1": "t_stage[T1]",
    "t_stageT2": "t_stage[T2]",
    "t_stageT3": "t_stage[T3]",
    "marginpositive": "margin[positive]",
}


@pytest.fixture(scope="module")
def cohort(logistic_cohort):
    return logistic_cohort


@pytest.fixture(scope="module")
def reference():
    return load_reference("logistic")


def _by_r_term(table, expected):
    return table.set_index("term").loc[[R_TERMS[term] for term in expected["term"]]]


def test_full_model_matches_glm(cohort, reference):
    # R: glm(high_grade ~ age + size_cm + t_stage + margin, binomial, control = glm.control(epsilon = 1e-14))
    expected = reference["full"]
    result = logistic_regression(cohort, "high_grade", PREDICTORS)
    table = _by_r_term(result.coefficients, expected)
    for column in ("estimate", "std_error", "z", "p"):
        assert table[column].to_numpy() == pytest.approx(expected[column], rel=1e-6), column
    # R: confint.default(fit) (Wald)
    assert np.log(table["ci_low"]).to_numpy() == pytest.approx(expected["wald_low"], rel=1e-6)
    assert np.log(table["ci_high"]).to_numpy() == pytest.approx(expected["wald_high"], rel=1e-6)
    assert table["odds_ratio"].to_numpy() == pytest.approx(np.exp(expected["estimate"]), rel=1e-6)
    # R: AIC(fit), BIC(fit), logLik(fit), deviance(fit), fit$null.deviance, fit$df.residual
    for field in ("aic", "bic", "log_likelihood", "deviance", "null_deviance", "lr_statistic", "lr_p"):
        assert getattr(result, field) == pytest.approx(expected[field], rel=1e-6), field
    assert (result.df_residual, result.lr_df, result.n, result.n_events) == (
        expected["df_residual"],
        expected["lr_df"],
        150,
        int(cohort["high_grade"].sum()),
    )
    # R: fitted(fit)
    assert result.predict(cohort) == pytest.approx(expected["fitted"], rel=1e-6)


def test_profile_ci_matches_confint_glm(cohort, reference):
    # R: confint(fit) -- profile likelihood, which R interpolates from a grid: agreement to 1e-4
    expected = reference["full"]
    table = _by_r_term(logistic_regression(cohort, "high_grade", PREDICTORS, ci="profile").coefficients, expected)
    assert np.log(table["ci_low"]).to_numpy() == pytest.approx(expected["profile_low"], abs=1e-4)
    assert np.log(table["ci_high"]).to_numpy() == pytest.approx(expected["profile_high"], abs=1e-4)


def test_predict_new_data_and_unknown_level(cohort, reference):
    # R: predict(fit, newdata = new, type = "response")
    result = logistic_regression(cohort, "high_grade", PREDICTORS)
    new = pd.DataFrame({"age": [40, 70], "size_cm": [5, 15], "t_stage": ["T3", "T1"], "margin": ["positive", "negative"]})
    assert result.predict(new) == pytest.approx(reference["predict_new"], rel=1e-6)
    with pytest.raises(InputError, match=r"'t_stage'.*'T4'"):
        result.predict(new.assign(t_stage=["T4", "T1"]))


def test_reference_level_is_configurable(cohort, reference):
    # R: relevel(factor(t_stage), ref = "T2"); glm(high_grade ~ age + t_stage)
    expected = reference["releveled"]
    result = logistic_regression(cohort, "high_grade", ["age", "t_stage"], reference_levels={"t_stage": "T2"})
    table = _by_r_term(result.coefficients, expected)
    assert table["estimate"].to_numpy() == pytest.approx(expected["estimate"], rel=1e-6)
    assert table["p"].to_numpy() == pytest.approx(expected["p"], rel=1e-6)
    categorical = cohort.assign(t_stage=pd.Categorical(cohort["t_stage"], categories=["T2", "T1", "T3"]))
    by_category_order = logistic_regression(categorical, "high_grade", ["age", "t_stage"])
    assert by_category_order.coefficients["estimate"].to_numpy() == pytest.approx(expected["estimate"], rel=1e-6)


def test_univariable_multivariable_matches_r(cohort, reference):
    # R: anova(glm(y ~ v), test = "LRT") per candidate; drop1(glm(y ~ selected), test = "LRT")
    table = univariable_multivariable(cohort, "high_grade", PREDICTORS)
    assert table.attrs["selected"] == reference["selected"] == ["size_cm", "t_stage"]
    assert table.attrs["retained"] == ["size_cm", "t_stage"]
    for variable, expected in reference["univariable"].items():
        rows = table[(table["variable"] == variable) & ~table["is_reference"]]
        assert rows["univariable_p_variable"].iloc[0] == pytest.approx(expected["lr_p"], rel=1e-6)
        assert rows["univariable_odds_ratio"].to_numpy() == pytest.approx(np.exp(expected["summary"]["estimate"][1:]), rel=1e-6)
        assert rows["univariable_p"].to_numpy() == pytest.approx(expected["summary"]["p"][1:], rel=1e-6)
    expected = reference["multivariable"]
    rows = table.set_index("term").loc[[R_TERMS[t] for t in expected["term"][1:]]]
    assert rows["multivariable_odds_ratio"].to_numpy() == pytest.approx(np.exp(expected["estimate"][1:]), rel=1e-6)
    assert rows["multivariable_ci_high"].to_numpy() == pytest.approx(np.exp(expected["wald_high"][1:]), rel=1e-6)
    for variable, p in reference["multivariable_lr_p"].items():
        assert table.loc[table["variable"] == variable, "multivariable_p_variable"].iloc[0] == pytest.approx(p, rel=1e-6)
    reference_row = table[table["term"] == "t_stage[T1]"].iloc[0]
    assert reference_row["is_reference"] and reference_row["univariable_odds_ratio"] == 1.0
    assert table.loc[table["variable"] == "age", "multivariable_odds_ratio"].isna().all()


def test_separation_warns_and_does_not_crash():
    data = pd.DataFrame({"x": np.arange(40.0), "y": (np.arange(40) >= 20).astype(int)})
    with pytest.warns(SeparationWarning, match=r"Separation.*'x'"):
        result = logistic_regression(data, "y", ["x"])
    assert result.coefficients.loc[1, "estimate"] > 1


def test_quasi_separation_names_the_level(cohort):
    # a level met only by events: R's glm warns "fitted probabilities numerically 0 or 1 occurred"
    events = cohort.index[cohort["high_grade"] == 1][:8]
    data = cohort.assign(t_stage=cohort["t_stage"].where(~cohort.index.isin(events), "T4"))
    with pytest.warns(SeparationWarning, match=r"8 of 150 fitted .* 't_stage\[T4\]'"):
        logistic_regression(data, "high_grade", ["size_cm", "t_stage"])


def test_few_events_per_parameter_warns_with_numbers(cohort):
    small = cohort.iloc[:40]
    n_minority = int(min(small["high_grade"].sum(), 40 - small["high_grade"].sum()))
    with pytest.warns(EventsPerParameterWarning, match=rf"Only {n_minority} events .* 5 parameter"):
        logistic_regression(small, "high_grade", PREDICTORS)


def test_bad_input_is_named(cohort):
    with pytest.raises(InputError, match=r"'margin' must have at least two levels"):
        logistic_regression(cohort.assign(margin="negative"), "high_grade", ["age", "margin"])
    with pytest.raises(InputError, match=r"'age' is constant"):
        logistic_regression(cohort.assign(age=50), "high_grade", ["age"])
    with pytest.raises(InputError, match=r"Collinear.*'age'.*'age_months'"):
        logistic_regression(cohort.assign(age_months=cohort["age"] * 12), "high_grade", ["age", "age_months"])
    with pytest.raises(InputError, match=r"'size_cm' has 1 missing"):
        logistic_regression(cohort.assign(size_cm=cohort["size_cm"].where(cohort.index != 3)), "high_grade", ["size_cm"])
    with pytest.raises(InputError, match=r"Reference level 'T9'"):
        logistic_regression(cohort, "high_grade", ["t_stage"], reference_levels={"t_stage": "T9"})
