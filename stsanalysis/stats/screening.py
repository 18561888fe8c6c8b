"""Design B step 5: univariable screen, then a multivariable logistic model of the factors that pass.

:func:`univariable_multivariable` screens one dataset (likelihood-ratio tests);
:func:`pooled_univariable_multivariable` screens multiply imputed datasets, every model pooled
by Rubin's rules (D1 Wald tests). Both build the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ..validation import binary_outcome, require_columns
from .firth import firth_fit, penalised_lr_statistic
from .logistic import LogisticResult, _fit_glm, logistic_regression
from .pooling import PooledLogisticResult, check_datasets, pooled_logistic

_STATISTICS = ("odds_ratio", "ci_low", "ci_high", "p", "p_variable")


def _variable_lr_p(data: pd.DataFrame, model: LogisticResult, variable: str) -> float:
    """Likelihood-ratio p of dropping every term of ``variable`` (R: ``drop1(fit, test = "LRT")``).

    For a Firth fit, the penalised likelihood-ratio test of logistf (the other coefficients
    re-maximised under the full model's penalty), not the ordinary deviance.
    """
    X = model.encoding.matrix(data)
    drop = (model.coefficients["variable"] == variable).to_numpy()
    y = binary_outcome(data[model.outcome]).astype(float)
    if model.method == "firth":
        statistic = penalised_lr_statistic(y, X, firth_fit(y, X), np.flatnonzero(drop).tolist(), variable)
    else:
        statistic = float(_fit_glm(y, X[:, ~drop]).deviance) - model.deviance
    return float(sps.chi2.sf(statistic, int(drop.sum())))


def _pooled_variable_p(model: PooledLogisticResult, variable: str) -> float:
    """Pooled p of ``variable``: Rubin's t-test for one term, else D1 of all its terms (R: ``mice::D1``)."""
    terms = model.coefficients[model.coefficients["variable"] == variable]
    if len(terms) == 1:
        return float(terms["p"].iloc[0])
    return model.wald_test(variable).p


def _term_table(model: LogisticResult, prefix: str, variable_p: Callable[[str], float]) -> pd.DataFrame:
    """Odds ratios per term with a row for each factor's reference level (OR 1, no CI)."""
    rows = []
    for variable in model.predictors:
        p_variable = variable_p(variable)
        if variable in model.encoding.levels:
            reference = model.encoding.levels[variable][0]
            rows.append(
                {
                    "variable": variable,
                    "term": f"{variable}[{reference}]",
                    "level": reference,
                    "is_reference": True,
                    "odds_ratio": 1.0,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p": np.nan,
                    "p_variable": p_variable,
                }
            )
        terms = model.coefficients[model.coefficients["variable"] == variable]
        for term in terms.itertuples():
            rows.append(
                {
                    "variable": variable,
                    "term": term.term,
                    "level": term.level,
                    "is_reference": False,
                    "odds_ratio": term.odds_ratio,
                    "ci_low": term.ci_low,
                    "ci_high": term.ci_high,
                    "p": term.p,
                    "p_variable": p_variable,
                }
            )
    table = pd.DataFrame(rows)
    return table.rename(columns={column: f"{prefix}_{column}" for column in _STATISTICS})


def _references_for(reference_levels: Mapping | None, columns: Sequence[str]) -> dict:
    return {column: level for column, level in (reference_levels or {}).items() if column in columns}


def univariable_multivariable(
    data: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    p_enter: float = 0.05,
    p_keep: float = 0.05,
    reference_levels: Mapping | None = None,
    ci: str = "wald",
    method: str = "ml",
) -> pd.DataFrame:
    """Univariable screen, then one multivariable model of the variables that pass (design B, step 5).

    Every candidate is fitted alone (:func:`logistic_regression`); a variable enters the
    multivariable model when its likelihood-ratio test against the null model has
    p < ``p_enter``. The LR test is used for every variable so that a factor with several
    levels is judged once (one p per variable, as R ``anova(fit, test = "LRT")``), not by
    its best level; for a numeric variable it is close to the Wald p shown per term. In the
    multivariable model a variable is ``retained`` when its drop-one LR test
    (R ``drop1(fit, test = "LRT")``) has p < ``p_keep``. ``method`` ("ml" or "firth") is
    passed to every :func:`logistic_regression` fit.

    Returns one row per term, with a reference row (OR 1) for each factor:
    ``variable, term, level, is_reference``, then ``univariable_odds_ratio``,
    ``univariable_ci_low``, ``univariable_ci_high``, ``univariable_p`` (Wald, per term),
    ``univariable_p_variable`` (LR), ``selected``, the same ``multivariable_*`` columns (NaN
    for variables not selected) and ``retained``. ``attrs["selected"]`` and
    ``attrs["retained"]`` list the variables.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> data = pd.DataFrame({"size_cm": rng.normal(6, 2, 120), "age": rng.normal(60, 10, 120)})
    >>> data["high_grade"] = (data["size_cm"] + rng.normal(0, 2, 120) > 6).astype(int)
    >>> table = univariable_multivariable(data, "high_grade", ["size_cm", "age"])
    >>> table.attrs["selected"], table.attrs["retained"]
    (['size_cm'], ['size_cm'])
    """
    candidates = list(candidates)
    _check_thresholds(p_enter, p_keep)
    require_columns(data, [outcome, *candidates])

    def term_table(predictors: list[str], prefix: str) -> pd.DataFrame:
        model = logistic_regression(data, outcome, predictors, _references_for(reference_levels, predictors), ci=ci, method=method)
        return _term_table(model, prefix, lambda variable: _variable_lr_p(data, model, variable))

    return _screen(candidates, p_enter, p_keep, term_table, "likelihood ratio (per variable)")


def _check_thresholds(p_enter: float, p_keep: float) -> None:
    for name, value in (("p_enter", p_enter), ("p_keep", p_keep)):
        if not 0 < value <= 1:
            raise InputError(f"'{name}' must be in (0, 1]; got {value!r}.")


def _screen(
    candidates: list[str], p_enter: float, p_keep: float, term_table: Callable[[list[str], str], pd.DataFrame], selection_test: str
) -> pd.DataFrame:
    """The screen's table from ``term_table(predictors, prefix)``, which fits one model and tabulates it."""
    univariable = pd.concat([term_table([candidate], "univariable") for candidate in candidates], ignore_index=True)
    univariable["selected"] = univariable["univariable_p_variable"] < p_enter
    selected = [candidate for candidate in candidates if univariable.loc[univariable["variable"] == candidate, "selected"].iloc[0]]
    if selected:
        multivariable = term_table(selected, "multivariable")
        table = univariable.merge(multivariable, on=["variable", "term", "level", "is_reference"], how="left")
    else:
        table = univariable.assign(**{f"multivariable_{column}": np.nan for column in _STATISTICS})
    table["retained"] = table["multivariable_p_variable"] < p_keep
    table.attrs["selected"] = selected
    table.attrs["retained"] = [variable for variable in selected if table.loc[table["variable"] == variable, "retained"].iloc[0]]
    table.attrs["selection_test"] = selection_test
    return table


def pooled_univariable_multivariable(
    datasets: Sequence[pd.DataFrame],
    outcome: str,
    candidates: Sequence[str],
    p_enter: float = 0.05,
    p_keep: float = 0.05,
    reference_levels: Mapping | None = None,
    method: str = "ml",
) -> pd.DataFrame:
    """:func:`univariable_multivariable` on multiply imputed data: every model pooled by Rubin's rules.

    ``datasets`` are the completed datasets (:func:`~stsanalysis.stats.imputation.multiple_imputation`);
    ``method`` ("ml" or "firth") is passed to every fit.
    Each model is fitted on every dataset and pooled (:func:`~stsanalysis.stats.pooling.pooled_logistic`,
    R ``pool(with(imp, glm(...)))``): per term the pooled odds ratio, its CI and p from the t
    distribution with Barnard-Rubin df. There is no pooled likelihood, so the variable-level
    p is the D1 multivariate Wald test of all the variable's terms (R ``mice::D1(fit, fit0)``
    against the model without it); for a variable with one term (numeric or binary) it is the
    pooled t-test of that term (D1's F is then t squared, but mitml's small-sample df are
    degenerate for k (m - 1) <= 4). A variable enters when that univariable p < ``p_enter``
    and is ``retained`` when its drop-one D1 p in the multivariable model is < ``p_keep``.

    Returns the table and ``attrs`` of :func:`univariable_multivariable` (one row per term,
    reference rows, ``univariable_*``, ``selected``, ``multivariable_*``, ``retained``);
    ``attrs["selection_test"]`` names the pooled tests.
    """
    candidates = list(candidates)
    _check_thresholds(p_enter, p_keep)
    datasets = check_datasets(datasets)
    for number, frame in enumerate(datasets, start=1):
        require_columns(frame, [outcome, *candidates], f"completed dataset {number}")

    def term_table(predictors: list[str], prefix: str) -> pd.DataFrame:
        model = pooled_logistic(
            datasets, outcome, predictors, reference_levels=_references_for(reference_levels, predictors), method=method
        )
        return _term_table(model, prefix, lambda variable: _pooled_variable_p(model, variable))

    return _screen(candidates, p_enter, p_keep, term_table, "pooled over imputations: D1 Wald (per variable), t-test for one term")
