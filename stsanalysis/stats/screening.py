"""Design B step 5: univariable screen, then a multivariable logistic model of the factors that pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ..validation import binary_outcome, require_columns
from .logistic import LogisticResult, _fit_glm, logistic_regression


def _variable_lr_p(data: pd.DataFrame, model: LogisticResult, variable: str) -> float:
    """Likelihood-ratio p of dropping every term of ``variable`` (R: ``drop1(fit, test = "LRT")``)."""
    X = model.encoding.matrix(data)
    keep = (model.coefficients["variable"] != variable).to_numpy()
    reduced_deviance = float(_fit_glm(binary_outcome(data[model.outcome]).astype(float), X[:, keep]).deviance)
    return float(sps.chi2.sf(reduced_deviance - model.deviance, int((~keep).sum())))


def _term_table(data: pd.DataFrame, model: LogisticResult, prefix: str) -> pd.DataFrame:
    """Odds ratios per term with a row for each factor's reference level (OR 1, no CI)."""
    rows = []
    for variable in model.predictors:
        p_variable = _variable_lr_p(data, model, variable)
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
    statistics = ["odds_ratio", "ci_low", "ci_high", "p", "p_variable"]
    return table.rename(columns={column: f"{prefix}_{column}" for column in statistics})


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
) -> pd.DataFrame:
    """Univariable screen, then one multivariable model of the variables that pass (design B, step 5).

    Every candidate is fitted alone (:func:`logistic_regression`); a variable enters the
    multivariable model when its likelihood-ratio test against the null model has
    p < ``p_enter``. The LR test is used for every variable so that a factor with several
    levels is judged once (one p per variable, as R ``anova(fit, test = "LRT")``), not by
    its best level; for a numeric variable it is close to the Wald p shown per term. In the
    multivariable model a variable is ``retained`` when its drop-one LR test
    (R ``drop1(fit, test = "LRT")``) has p < ``p_keep``.

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
    for name, value in (("p_enter", p_enter), ("p_keep", p_keep)):
        if not 0 < value <= 1:
            raise InputError(f"'{name}' must be in (0, 1]; got {value!r}.")
    require_columns(data, [outcome, *candidates])
    univariable = pd.concat(
        [
            _term_table(
                data,
                logistic_regression(data, outcome, [candidate], _references_for(reference_levels, [candidate]), ci=ci),
                "univariable",
            )
            for candidate in candidates
        ],
        ignore_index=True,
    )
    univariable["selected"] = univariable["univariable_p_variable"] < p_enter
    selected = [candidate for candidate in candidates if univariable.loc[univariable["variable"] == candidate, "selected"].iloc[0]]
    if selected:
        model = logistic_regression(data, outcome, selected, _references_for(reference_levels, selected), ci=ci)
        multivariable = _term_table(data, model, "multivariable")
        table = univariable.merge(multivariable, on=["variable", "term", "level", "is_reference"], how="left")
    else:
        table = univariable.assign(
            **{f"multivariable_{column}": np.nan for column in ("odds_ratio", "ci_low", "ci_high", "p", "p_variable")}
        )
    table["retained"] = table["multivariable_p_variable"] < p_keep
    table.attrs["selected"] = selected
    table.attrs["retained"] = [variable for variable in selected if table.loc[table["variable"] == variable, "retained"].iloc[0]]
    table.attrs["selection_test"] = "likelihood ratio (per variable)"
    return table
