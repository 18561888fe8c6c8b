"""Multiple imputation and Rubin's-rules pooling against R's mice -> tests/reference/mice_pool.R.

The pooling is compared on mice's own completed datasets (``mice_completed.csv``), so that
the numbers test ``pool``/``D1``, not the (different, random) imputation models.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.imputation import multiple_imputation
from stsanalysis.stats.logistic import logistic_regression
from stsanalysis.stats.pooling import (
    DegenerateWaldTestWarning,
    PooledLogisticResult,
    pool_rubin,
    pooled_logistic,
    pooled_wald_test,
)
from stsanalysis.stats.screening import pooled_univariable_multivariable

PREDICTORS = ["age", "size_cm", "margin", "sex"]
# R names treatment-coded terms "marginR1"; ours are "margin[R1]"
R_TERMS = {
    "(Intercept)": "(Intercept)",
    "age": "age",
    "size_cm": "size_cm",
    "marginR1": "margin[R1]",
    "marginR2": "margin[R2]",
    "sexmale": "sex[male]",
}


@pytest.fixture(scope="module")
def reference():
    return load_reference("mice_pool")


@pytest.fixture(scope="module")
def mice_datasets():
    """mice's m = 5 completed datasets: complete(imp, "long") split by .imp."""
    completed = pd.read_csv(REFERENCE_DIR / "mice_completed.csv")
    return [group.drop(columns=[".imp", ".id"]).reset_index(drop=True) for _, group in completed.groupby(".imp")]


@pytest.fixture(scope="module")
def incomplete():
    """The data mice imputed: 150 rows, 15 missing in size_cm and in margin."""
    return pd.read_csv(REFERENCE_DIR / "mice_data.csv")


def _by_r_term(table, expected):
    return table.set_index("term").loc[[R_TERMS[term] for term in expected["term"]]]


def test_pooled_logistic_matches_mice_pool(mice_datasets, reference):
    # R: summary(pool(with(imp, glm(y ~ age + size_cm + margin + sex, binomial))), conf.int = TRUE)
    expected = reference["full"]
    fit = pooled_logistic(mice_datasets, "y", PREDICTORS)
    table = _by_r_term(fit.coefficients, expected)
    for column, r_column in (("estimate", "estimate"), ("std_error", "std_error"), ("z", "statistic"), ("df", "df"), ("p", "p")):
        assert table[column].to_numpy() == pytest.approx(expected[r_column], rel=1e-6), column
    assert table["fmi"].to_numpy() == pytest.approx(expected["fmi"], rel=1e-6)
    assert np.log(table["ci_low"]).to_numpy() == pytest.approx(expected["ci_low"], rel=1e-6)
    assert np.log(table["ci_high"]).to_numpy() == pytest.approx(expected["ci_high"], rel=1e-6)
    assert table["odds_ratio"].to_numpy() == pytest.approx(np.exp(expected["estimate"]), rel=1e-6)
    assert isinstance(fit, PooledLogisticResult) and fit.ci_method == "rubin" and fit.m == 5
    assert (fit.n, fit.n_events, fit.df_residual) == (150, 79, 144)


def test_pool_rubin_matches_mice_pool_columns(mice_datasets, reference):
    # R: pool(fit)$pooled -- ubar, b, t, dfcom, df, riv, lambda, fmi
    expected = reference["full"]
    fits = [logistic_regression(data, "y", PREDICTORS) for data in mice_datasets]
    estimates = pd.DataFrame([fit.coefficients.set_index("term")["estimate"] for fit in fits])
    variances = pd.DataFrame([fit.coefficients.set_index("term")["std_error"] ** 2 for fit in fits])
    table = pool_rubin(estimates, variances, df_complete=fits[0].df_residual)
    table = table.set_index("term").loc[[R_TERMS[term] for term in expected["term"]]]
    for column in ("estimate", "ubar", "b", "t", "dfcom", "df", "riv", "lambda", "fmi", "std_error", "statistic", "p", "ci_low", "ci_high"):
        assert table[column].to_numpy() == pytest.approx(expected[column], rel=1e-6), column
    assert (table["m"] == expected["m"]).all()


def test_pooled_covariance_is_within_plus_between(mice_datasets, reference):
    fit = pooled_logistic(mice_datasets, "y", PREDICTORS)
    expected = reference["full"]
    terms = [R_TERMS[term] for term in expected["term"]]
    # R: pool(fit)$pooled$t is the diagonal of W-bar + (1 + 1/m) B
    assert np.diag(fit.covariance.loc[terms, terms]) == pytest.approx(expected["t"], rel=1e-6)
    per_imputation = [logistic_regression(data, "y", PREDICTORS) for data in mice_datasets]
    assert fit.aic == pytest.approx(np.mean([one.aic for one in per_imputation]), rel=1e-12)
    assert fit.deviance == pytest.approx(np.mean([one.deviance for one in per_imputation]), rel=1e-12)
    # predict() uses the pooled coefficients: the mean of the imputations' linear predictors
    linear = np.mean([one.linear_predictor(mice_datasets[0]) for one in per_imputation], axis=0)
    assert fit.predict(mice_datasets[0]) == pytest.approx(1 / (1 + np.exp(-linear)), rel=1e-10)


def test_d1_of_margin_matches_mice(mice_datasets, reference):
    # R: D1(fit_full, fit_without_margin)
    expected = reference["d1_margin"]
    fits = [logistic_regression(data, "y", PREDICTORS) for data in mice_datasets]
    test = pooled_wald_test(fits, ["margin[R1]", "margin[R2]"])
    assert (test.statistic, test.df2, test.p) == pytest.approx((expected["statistic"], expected["df2"], expected["p"]), rel=1e-6)
    assert test.df1 == expected["df1"] == 2
    statistic, df1, df2, p = pooled_logistic(mice_datasets, "y", PREDICTORS).wald_test("margin")
    assert (statistic, df1, df2, p) == pytest.approx((expected["statistic"], 2, expected["df2"], expected["p"]), rel=1e-6)


def test_pooled_univariable_models_match_mice(mice_datasets, reference):
    # R: summary(pool(with(imp, glm(y ~ v, binomial))), conf.int = TRUE); D1(fit_v, fit_null)
    for variable, expected in reference["univariable"].items():
        fit = pooled_logistic(mice_datasets, "y", [variable])
        table = _by_r_term(fit.coefficients, expected)
        for column, r_column in (("estimate", "estimate"), ("std_error", "std_error"), ("df", "df"), ("p", "p"), ("fmi", "fmi")):
            assert table[column].to_numpy() == pytest.approx(expected[r_column], rel=1e-6), (variable, column)
        assert np.log(table["ci_high"]).to_numpy() == pytest.approx(expected["ci_high"], rel=1e-6)
    margin = reference["univariable"]["margin"]["d1"]
    test = pooled_logistic(mice_datasets, "y", ["margin"]).wald_test("margin")
    assert (test.statistic, test.df2, test.p) == pytest.approx((margin["statistic"], margin["df2"], margin["p"]), rel=1e-6)


def test_d1_of_one_term_over_five_imputations_warns_as_mitml_degenerates(mice_datasets, reference):
    # R: D1(with(imp, glm(y ~ size_cm)), null): k (m - 1) = 4, mitml's df2 = 4; age is complete (B = 0): df2 NaN
    size = reference["univariable"]["size_cm"]["d1"]
    with pytest.warns(DegenerateWaldTestWarning, match=r"k \(m - 1\) = 4"):
        test = pooled_logistic(mice_datasets, "y", ["size_cm"]).wald_test("size_cm")
    assert (test.statistic, test.df2, test.p) == pytest.approx((size["statistic"], 4, size["p"]), rel=1e-6)
    # D1's F of one term is the square of the pooled t statistic
    t_value = reference["univariable"]["size_cm"]["statistic"][1]
    assert test.statistic == pytest.approx(t_value**2, rel=1e-6)
    with pytest.warns(DegenerateWaldTestWarning):
        age = pooled_logistic(mice_datasets, "y", ["age"]).wald_test("age")
    assert age.statistic == pytest.approx(reference["univariable"]["age"]["d1"]["statistic"], rel=1e-6)
    assert np.isnan(age.df2) and np.isnan(age.p)


def test_pooled_screen_matches_mice(mice_datasets, reference):
    # R: the screen of mice_pool.R -- pooled t-test p for one term, D1 for margin; drop-one D1 in the model
    table = pooled_univariable_multivariable(mice_datasets, "y", PREDICTORS)
    expected = reference["screen"]
    assert table.attrs["selected"] == expected["selected"] == ["size_cm", "margin"]
    assert table.attrs["retained"] == ["size_cm", "margin"]
    assert "D1" in table.attrs["selection_test"]
    by_variable = table[~table["is_reference"]].groupby("variable").first()
    univariable = reference["univariable"]
    # the variable p of margin is its D1 p; of a one-term variable the pooled t-test p
    assert by_variable.loc["margin", "univariable_p_variable"] == pytest.approx(univariable["margin"]["d1"]["p"], rel=1e-6)
    for variable in ("age", "size_cm", "sex"):
        assert by_variable.loc[variable, "univariable_p_variable"] == pytest.approx(univariable[variable]["p"][1], rel=1e-6)
    assert by_variable.loc["margin", "multivariable_p_variable"] == pytest.approx(expected["drop_one"]["margin"]["p"], rel=1e-6)
    multivariable = expected["multivariable"]
    rows = table.set_index("term").loc[[R_TERMS[term] for term in multivariable["term"][1:]]]
    assert rows["multivariable_p_variable"].iloc[0] == pytest.approx(multivariable["p"][1], rel=1e-6)  # size_cm
    assert rows["multivariable_odds_ratio"].to_numpy() == pytest.approx(np.exp(multivariable["estimate"][1:]), rel=1e-6)
    assert rows["multivariable_ci_low"].to_numpy() == pytest.approx(np.exp(multivariable["ci_low"][1:]), rel=1e-6)
    assert rows["multivariable_p"].to_numpy() == pytest.approx(multivariable["p"][1:], rel=1e-6)
    margin_rows = table.set_index("term").loc[["margin[R1]", "margin[R2]"]]
    assert margin_rows["univariable_odds_ratio"].to_numpy() == pytest.approx(np.exp(univariable["margin"]["estimate"][1:]), rel=1e-6)
    assert table.loc[table["term"] == "margin[R0]", "univariable_odds_ratio"].item() == 1.0
    assert table.loc[table["variable"] == "sex", "multivariable_odds_ratio"].isna().all()


def test_pooled_screen_has_the_layout_of_the_single_dataset_screen(mice_datasets):
    from stsanalysis.stats.screening import univariable_multivariable

    pooled = pooled_univariable_multivariable(mice_datasets, "y", PREDICTORS, reference_levels={"margin": "R1"})
    single = univariable_multivariable(mice_datasets[0], "y", PREDICTORS, reference_levels={"margin": "R1"})
    assert list(pooled.columns) == list(single.columns)
    assert pooled[["variable", "term", "is_reference"]].equals(single[["variable", "term", "is_reference"]])
    assert set(pooled.attrs) == set(single.attrs)
    assert pooled.loc[pooled["is_reference"] & (pooled["variable"] == "margin"), "term"].item() == "margin[R1]"


# --- multiple_imputation -------------------------------------------------------------------

IMPUTED = ["y", "age", "size_cm", "margin", "sex"]


@pytest.fixture(scope="module")
def training_mask(incomplete):
    return np.arange(len(incomplete)) < 100


@pytest.fixture(scope="module")
def completed(incomplete, training_mask):
    return multiple_imputation(incomplete, IMPUTED, fit_rows=training_mask, m=4, seed=11)


def test_imputation_completes_and_keeps_observed_values(incomplete, completed):
    assert len(completed) == 4
    for frame in completed:
        assert int(frame.isna().sum().sum()) == 0
        assert list(frame.columns) == list(incomplete.columns)
        assert (frame.dtypes == incomplete.dtypes).all()
        observed = incomplete.notna()
        assert frame[observed].equals(incomplete[observed])
        assert set(frame["margin"]) <= {"R0", "R1", "R2"}
    # the 15 imputed sizes differ between imputations (posterior draws), and are plausible
    missing = incomplete["size_cm"].isna()
    draws = np.array([frame.loc[missing, "size_cm"].to_numpy() for frame in completed])
    assert (np.ptp(draws, axis=0) > 0).all()
    assert draws.mean() == pytest.approx(incomplete["size_cm"].mean(), abs=2.5)


def test_imputation_is_reproducible_with_the_seed(incomplete, training_mask, completed):
    again = multiple_imputation(incomplete, IMPUTED, fit_rows=training_mask, m=4, seed=11)
    for first, second in zip(completed, again):
        pd.testing.assert_frame_equal(first, second)
    other = multiple_imputation(incomplete, IMPUTED, fit_rows=training_mask, m=2, seed=12)
    # imputation i uses seed + i: seed 12 repeats imputation 1 of seed 11
    pd.testing.assert_frame_equal(other[0], completed[1])
    assert not other[1].equals(completed[1])


def test_validation_rows_do_not_change_the_training_imputations(incomplete, training_mask, completed):
    changed = incomplete.copy()
    validation = ~training_mask
    changed.loc[validation, "age"] = changed.loc[validation, "age"] + 30
    changed.loc[validation, "margin"] = "R2"
    changed.loc[np.flatnonzero(validation)[:10], "size_cm"] = np.nan
    again = multiple_imputation(changed, IMPUTED, fit_rows=training_mask, m=4, seed=11)
    for first, second in zip(completed, again):
        pd.testing.assert_frame_equal(first[training_mask], second[training_mask])
    # the validation rows are imputed by the training model: their size depends on their own age
    assert not all(first[validation].equals(second[validation]) for first, second in zip(completed, again))


def test_imputation_recovers_a_strong_relation():
    # z = 2 x exactly up to noise 0.1: imputed z must follow x, not the mean; the factor follows x too
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, 400)
    data = pd.DataFrame({"x": x, "z": 2 * x + rng.normal(0, 0.1, 400), "group": np.where(x > 0, "high", "low")})
    missing_z = rng.random(400) < 0.3
    missing_group = rng.random(400) < 0.2
    data.loc[missing_z, "z"] = np.nan
    data.loc[missing_group, "group"] = None
    completed = multiple_imputation(data, ["x", "z", "group"], fit_rows=np.ones(400, bool), m=3, seed=1)
    for frame in completed:
        residual = frame.loc[missing_z, "z"] - 2 * x[missing_z]
        assert abs(residual.mean()) < 0.05 and residual.std() < 0.2
    # a factor's level comes from a noisy linear-probability draw (not mice's logreg): clearly
    # better than a coin (0.5), far from the deterministic truth
    truth = np.where(x[missing_group] > 0, "high", "low")
    agreement = np.mean([(frame.loc[missing_group, "group"] == truth).mean() for frame in completed])
    assert agreement == pytest.approx(0.727, abs=1e-3)


def test_imputed_values_stay_in_the_observed_training_range():
    rng = np.random.default_rng(11)
    size = rng.gamma(1.2, 2.0, 200)  # skewed, near 0: an unbounded normal draw would go negative
    data = pd.DataFrame({"size_cm": size, "age": rng.normal(60, 12, 200)})
    data.loc[rng.random(200) < 0.4, "size_cm"] = np.nan
    training = np.arange(200) < 150
    low, high = data.loc[training, "size_cm"].min(), data.loc[training, "size_cm"].max()
    for frame in multiple_imputation(data, ["size_cm", "age"], fit_rows=training, m=5, seed=3):
        assert frame["size_cm"].between(low, high).all()


def test_integer_codes_stay_integers_and_categorical_dtypes_survive():
    rng = np.random.default_rng(2)
    data = pd.DataFrame(
        {
            "size_cm": rng.normal(8, 2, 120),
            "necrosis": rng.integers(0, 2, 120).astype(float),
            "grade": pd.Categorical(rng.choice(["G1", "G2", "G3"], 120), categories=["G3", "G1", "G2"]),
        }
    )
    data.loc[:19, "necrosis"] = np.nan
    data.loc[20:29, "grade"] = np.nan
    completed = multiple_imputation(data, ["size_cm", "necrosis", "grade"], fit_rows=np.arange(120) >= 10, m=3, seed=3)
    for frame in completed:
        assert set(frame["necrosis"].unique()) <= {0.0, 1.0}
        assert frame["grade"].dtype == data["grade"].dtype
        assert frame["grade"].notna().all()


def test_a_sklearn_convergence_warning_is_renamed(monkeypatch, incomplete, training_mask):
    # with posterior sampling sklearn has no early-stopping warning; should a version report one, it is named
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from stsanalysis.stats import imputation

    class WarningImputer(imputation.IterativeImputer):
        def fit_transform(self, X, y=None):
            warnings.warn("[IterativeImputer] Early stopping criterion not reached.", ConvergenceWarning)
            return super().fit_transform(X)

    monkeypatch.setattr(imputation, "IterativeImputer", WarningImputer)
    with pytest.warns(imputation.ImputationConvergenceWarning, match=r"did not converge .*Early stopping.*'max_iter'"):
        completed = multiple_imputation(incomplete, IMPUTED, fit_rows=training_mask, m=2, max_iter=2)
    assert int(completed[1].isna().sum().sum()) == 0


def test_bad_input_is_named(incomplete, training_mask, mice_datasets):
    with pytest.raises(InputError, match=r"\['tumour_size'\].*not in 'data'"):
        multiple_imputation(incomplete, ["age", "tumour_size"], fit_rows=training_mask)
    all_missing_in_training = incomplete.assign(ki67=np.where(training_mask, np.nan, 10.0))
    with pytest.raises(InputError, match=r"'ki67' is missing in all 100 training rows"):
        multiple_imputation(all_missing_in_training, ["age", "ki67"], fit_rows=training_mask)
    with pytest.raises(InputError, match=r"'m' must be an integer >= 2; got 1"):
        multiple_imputation(incomplete, IMPUTED, fit_rows=training_mask, m=1)
    with pytest.raises(InputError, match=r"'fit_rows' must be a boolean mask .* \(150\)"):
        multiple_imputation(incomplete, IMPUTED, fit_rows=training_mask[:50])
    with pytest.raises(InputError, match=r"at least 2 columns"):
        multiple_imputation(incomplete, ["size_cm"], fit_rows=training_mask)
    with pytest.raises(InputError, match=r"at least m = 2 imputations"):
        pool_rubin([[1.0, 2.0]], [[0.1, 0.1]], df_complete=10)
    with pytest.raises(InputError, match=r"at least 2 completed DataFrames"):
        pooled_logistic(mice_datasets[:1], "y", PREDICTORS)
    with pytest.raises(InputError, match=r"'grade', which is neither a term nor a variable"):
        pooled_logistic(mice_datasets, "y", PREDICTORS).wald_test("grade")
    with pytest.raises(InputError, match=r"completed dataset 2"):
        pooled_univariable_multivariable([mice_datasets[0], mice_datasets[1].drop(columns="sex")], "y", PREDICTORS)
