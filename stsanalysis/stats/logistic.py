"""Logistic regression: one model, and the univariable screen -> multivariable model table.

The default fit reproduces R's ``glm(y ~ ..., family = binomial)`` (maximum likelihood by
IRLS, treatment coding of factors with the first level as reference, Wald z tests);
``method="firth"`` fits Firth's penalised likelihood instead (:mod:`.firth`, R brglm2). Where a
warning matters for a small study (separation, few events per parameter) it is raised as a
:class:`UserWarning` subclass with the numbers that triggered it.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special
from scipy import stats as sps
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM

from ..errors import InputError
from ..validation import binary_outcome, numeric_vector, require_columns
from ._conf_level import resolve_conf_level
from ._result import Result
from .firth import MAX_ITERATIONS as FIRTH_MAX_ITERATIONS
from .firth import FirthFit, GlmFit, firth_fit, penalised_lr_statistic, penalised_profile_interval

INTERCEPT = "(Intercept)"
# R's glm.fit flags fitted probabilities within 10 * .Machine$double.eps of 0 or 1.
_FITTED_EPS = 10 * np.finfo(float).eps
_MIN_EVENTS_PER_PARAMETER = 10
#: ``method`` of :func:`logistic_regression` -> how a report names the estimator
METHODS = {"ml": "maximum likelihood", "firth": "Firth (brglm2 AS_mean)"}


class SeparationWarning(UserWarning):
    """The outcome is (quasi-)perfectly separated: some estimates are infinite in truth."""


class EventsPerParameterWarning(UserWarning):
    """Fewer than 10 events (of the rarer outcome class) per estimated parameter."""


class LogisticConvergenceWarning(UserWarning):
    """The IRLS (or Firth's modified-score) iterations did not converge."""


def _is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(series)


@dataclasses.dataclass(frozen=True)
class _Encoding:
    """Treatment coding of the predictors, kept so that new data are encoded identically."""

    predictors: tuple[str, ...]
    levels: dict  # categorical column -> tuple of levels, reference first

    @classmethod
    def from_data(cls, data: pd.DataFrame, predictors: Sequence[str], reference_levels: Mapping | None):
        reference_levels = dict(reference_levels or {})
        unknown = set(reference_levels) - set(predictors)
        if unknown:
            raise InputError(f"reference_levels names column(s) {sorted(unknown)} that are not predictors.")
        levels = {}
        for column in predictors:
            series = data[column]
            if not _is_categorical(series):
                values = numeric_vector(series, column)
                if np.ptp(values) == 0:
                    raise InputError(
                        f"The predictor '{column}' is constant ({values[0]:g} in all {values.size} rows); "
                        "it carries no information, remove it."
                    )
                continue
            if isinstance(series.dtype, pd.CategoricalDtype):
                # R's factor() keeps the category order; empty categories are dropped (R would give NA).
                observed = [level for level in series.cat.categories if (series == level).any()]
            else:
                observed = sorted(series.unique().tolist())
            if len(observed) < 2:
                raise InputError(
                    f"The categorical predictor '{column}' must have at least two levels; got 1 ({observed[0]!r}) in {len(series)} rows."
                )
            if column in reference_levels:
                reference = reference_levels[column]
                if reference not in observed:
                    raise InputError(f"Reference level {reference!r} for '{column}' does not occur in the data; levels are {observed}.")
                observed = [reference] + [level for level in observed if level != reference]
            levels[column] = tuple(observed)
        return cls(tuple(predictors), levels)

    def term_rows(self) -> list[tuple[str, str, object]]:
        """(term, variable, level) for every column of the design matrix."""
        rows = [(INTERCEPT, INTERCEPT, None)]
        for column in self.predictors:
            if column in self.levels:
                rows += [(f"{column}[{level}]", column, level) for level in self.levels[column][1:]]
            else:
                rows.append((column, column, None))
        return rows

    def matrix(self, data: pd.DataFrame, what: str = "data") -> np.ndarray:
        require_columns(data, self.predictors, what)
        columns = [np.ones(len(data))]
        for column in self.predictors:
            series = data[column]
            if series.isna().any():
                raise InputError(
                    f"The predictor '{column}' has {int(series.isna().sum())} missing value(s) at "
                    f"{list(series.index[series.isna()][:5])}; drop those rows or impute them first."
                )
            if column not in self.levels:
                columns.append(numeric_vector(series, column))
                continue
            known = self.levels[column]
            unknown = sorted(set(series.tolist()) - set(known), key=str)
            if unknown:
                raise InputError(
                    f"The predictor '{column}' has level(s) {unknown} that the model was not fitted on; known levels are {list(known)}."
                )
            columns += [(series == level).to_numpy(dtype=float) for level in known[1:]]
        return np.column_stack(columns)


@dataclasses.dataclass(frozen=True, repr=False)
class LogisticResult(Result):
    """A fitted logistic regression (R: ``glm(..., family = binomial)``).

    ``coefficients`` has one row per model term (``term``, ``variable``, ``level``,
    ``estimate``, ``std_error``, ``z``, ``p``, ``odds_ratio``, ``ci_low``, ``ci_high``);
    the CI is on the odds-ratio scale. ``lr_*`` is the likelihood-ratio test against the
    intercept-only model. ``bic`` is R's ``BIC(glm)``: -2 log L + log(n) x parameters.

    ``method`` is ``"ml"`` or ``"firth"`` (``method_label`` names it for a report). For a Firth
    fit, ``coefficients`` has a further column ``p_penalised_lr``; ``log_likelihood``,
    ``deviance``, ``aic`` and ``bic`` are the ordinary likelihood at the Firth estimates and
    ``null_deviance`` that of the Firth intercept-only model (as brglm2), while ``lr_*`` is
    logistf's penalised likelihood-ratio test (all coefficients but the intercept fixed at 0
    under the full model's penalty). ``ci_method`` is ``"wald"`` or ``"profile"`` (for Firth,
    the profile of the penalised likelihood).
    """

    coefficients: pd.DataFrame
    covariance: pd.DataFrame
    aic: float
    bic: float
    log_likelihood: float
    deviance: float
    null_deviance: float
    df_residual: int
    lr_statistic: float
    lr_df: int
    lr_p: float
    n: int
    n_events: int
    converged: bool
    ci_method: str
    outcome: str
    encoding: _Encoding
    method: str = "ml"

    @property
    def predictors(self) -> tuple[str, ...]:
        return self.encoding.predictors

    @property
    def method_label(self) -> str:
        """The estimator, for a report: "maximum likelihood" or "Firth (brglm2 AS_mean)"."""
        return METHODS[self.method]

    def linear_predictor(self, data: pd.DataFrame) -> np.ndarray:
        """Log-odds for the rows of ``data`` (the fitting data's factor coding is applied)."""
        return self.encoding.matrix(data, "the data to predict") @ self.coefficients["estimate"].to_numpy()

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Predicted probabilities (R: ``predict(fit, newdata, type = "response")``)."""
        return special.expit(self.linear_predictor(data))


def _fit_glm(y: np.ndarray, X: np.ndarray, offset: np.ndarray | None = None) -> GlmFit:
    with warnings.catch_warnings(), np.errstate(over="ignore", divide="ignore"):
        # statsmodels' own separation/convergence/overflow warnings are replaced by ours, which
        # name the terms; its results are lazy, so everything is read inside this block.
        warnings.simplefilter("ignore")
        fit = GLM(y, X, family=Binomial(), offset=offset).fit(tol=1e-14, maxiter=100)
        # Above a deviance of ~128 one rounding step exceeds the absolute tolerance, and the
        # iterations can swing between two neighbouring floats: that is convergence too.
        deviances = fit.fit_history["deviance"]
        settled = len(deviances) > 1 and abs(deviances[-1] - deviances[-2]) <= 1e-13 * max(1.0, abs(deviances[-1]))
        return GlmFit(
            params=np.asarray(fit.params),
            bse=np.asarray(fit.bse),
            cov_params=np.asarray(fit.cov_params()),
            fittedvalues=np.asarray(fit.fittedvalues),
            deviance=float(fit.deviance),
            null_deviance=float(fit.null_deviance),
            llf=float(fit.llf),
            converged=bool(fit.converged) or settled,
        )


def _binomial_deviance(y: np.ndarray, linear_predictor: np.ndarray) -> float:
    # -2 log L for 0/1 data, written with logaddexp to stay finite for extreme predictors
    return float(2 * np.sum(np.logaddexp(0, linear_predictor) - y * linear_predictor))


def _profile_interval(y, X, j, estimate, std_error, deviance, conf_level) -> tuple[float, float]:
    """Profile-likelihood CI of coefficient j: where the signed root deviance reaches -/+ z."""
    target = sps.norm.ppf((1 + conf_level) / 2)
    others = np.delete(X, j, axis=1)

    def signed_root(value: float) -> float:
        offset = X[:, j] * value
        if others.shape[1]:
            profile_deviance = float(_fit_glm(y, others, offset).deviance)
        else:
            profile_deviance = _binomial_deviance(y, offset)
        return np.sign(value - estimate) * np.sqrt(max(profile_deviance - deviance, 0.0))

    bounds = []
    for direction in (-1, 1):
        step = std_error
        while abs(signed_root(estimate + direction * step)) < target:
            step *= 2
            if step > 1e3 * max(std_error, 1.0):
                bounds.append(direction * np.inf)  # the profile never reaches the cut-off (separation)
                break
        else:
            bounds.append(
                optimize.brentq(
                    lambda value: signed_root(value) - direction * target,
                    estimate,
                    estimate + direction * step,
                    xtol=1e-12,
                    rtol=1e-12,
                )
            )
    return bounds[0], bounds[1]


def _collinear_terms(X: np.ndarray, terms: list[str]) -> list[str]:
    _, singular_values, vt = np.linalg.svd(X / np.linalg.norm(X, axis=0), full_matrices=False)
    null_space = vt[singular_values < singular_values[0] * 1e-10]
    return [term for term, weight in zip(terms, np.abs(null_space).max(axis=0)) if weight > 1e-6]


def _refuse_collinear(X: np.ndarray, terms: list[str]) -> None:
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError(
            f"Collinear predictors: the terms {_collinear_terms(X, terms)} are linear combinations of "
            "one another (or a factor level coincides with another column); remove one of them."
        )


def _check_fit(fit, y: np.ndarray, table: pd.DataFrame, method: str) -> None:
    fitted = fit.fittedvalues
    # Firth's estimates are finite under separation: the warning is the maximum-likelihood fit's
    extreme = int(((fitted < _FITTED_EPS) | (fitted > 1 - _FITTED_EPS)).sum()) if method == "ml" else 0
    if extreme:
        worst = table.iloc[1:].sort_values("std_error", ascending=False).iloc[0]
        warnings.warn(
            f"Separation or quasi-separation: {extreme} of {y.size} fitted probabilities are numerically "
            f"0 or 1, so some coefficients are infinite in truth; the largest standard error is "
            f"{worst['std_error']:.3g} for '{worst['term']}'. Odds ratios and p-values are unreliable: "
            "merge sparse categories, drop the separating predictor or fit Firth's penalised regression, "
            'logistic_regression(..., method="firth") (study config: logistic_method: firth).',
            SeparationWarning,
            stacklevel=3,
        )
    elif not fit.converged:
        iterations = "100 IRLS" if method == "ml" else f"{FIRTH_MAX_ITERATIONS} Firth modified-score"
        warnings.warn(
            f"The logistic regression did not converge in {iterations} iterations; estimates are unreliable.",
            LogisticConvergenceWarning,
            stacklevel=3,
        )
    n_parameters = len(table) - 1
    n_minority = int(min(y.sum(), y.size - y.sum()))
    if n_minority < _MIN_EVENTS_PER_PARAMETER * n_parameters:
        warnings.warn(
            f"Only {n_minority} events (rarer outcome class) for {n_parameters} parameter(s): "
            f"{n_minority / n_parameters:.1f} events per parameter, fewer than {_MIN_EVENTS_PER_PARAMETER}. "
            "Estimates may be biased and overfitted; consider fewer predictors.",
            EventsPerParameterWarning,
            stacklevel=3,
        )


def logistic_regression(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    reference_levels: Mapping | None = None,
    ci: str = "wald",
    level: float | None = None,
    *,
    conf_level: float = 0.95,
    method: str = "ml",
) -> LogisticResult:
    """Fit a binary logistic regression by maximum likelihood or Firth's penalised likelihood.

    Follows R ``glm(outcome ~ predictors, family = binomial)``. Non-numeric, boolean and
    pandas ``Categorical`` columns are factors with treatment coding; the reference level is
    the first category (Categorical) or the first sorted level, as R's ``factor()``, unless
    ``reference_levels={"column": level}`` says otherwise. Terms are named
    ``column[level]``. Numeric columns enter linearly: convert a numeric code (grade 1/2/3)
    to ``pd.Categorical`` to treat it as a factor.

    ``ci="wald"`` gives estimate +- z x SE (R ``confint.default``); ``ci="profile"`` gives
    profile-likelihood limits (R ``confint(glm)``, which interpolates a spline through a
    profile grid, so it agrees with the exact limits computed here to about 1e-4), both at
    ``conf_level`` (``level``, its older name, still works).

    ``method="firth"`` maximises Firth's (1993) Jeffreys-penalised likelihood, as R
    ``glm(outcome ~ predictors, family = binomial, method = brglm2::brglmFit, type = "AS_mean")``
    (identical to ``logistf::logistf``'s estimates): finite estimates under (quasi-)complete
    separation and less small-sample bias. SEs come from the inverse Fisher information at the
    estimates and ``p`` is the Wald p, both as brglm2's ``summary()``; ``ci="wald"`` is brglm2's
    ``confint()``. brglm2 has no profile intervals: ``ci="profile"`` gives logistf's profile
    penalised-likelihood limits (Heinze & Schemper 2002), where 2 x (penalised log-likelihood
    maximum - its maximum with the coefficient fixed, the others re-fitted under the full
    model's penalty) is the chi-square(1) quantile; the column ``p_penalised_lr`` is logistf's
    penalised likelihood-ratio p of each coefficient. logistf's iteration for the limits stops
    at ``logistpl.control(xconv = 1e-5, lconv = 1e-5)``; here they are solved to ~1e-10. The
    penalised likelihood need not be concave: far in the tails of strongly separated data the
    constrained fit can have several local maxima. Each is searched from the estimate (as
    logistf) and from the constrained maximum at the nearest value already tried, keeping the
    higher; a limit there is that of the highest maximum found, not one proven global.

    Warns (:class:`SeparationWarning`, maximum likelihood only) when fitted probabilities are
    numerically 0 or 1 and (:class:`EventsPerParameterWarning`) when there are fewer than 10
    events per parameter.
    Raises :class:`InputError` for missing values, a constant predictor, a factor with one
    level, or collinear predictors (named).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> data = pd.DataFrame({"size_cm": rng.normal(6, 2, 60), "margin": rng.choice(["R0", "R1"], 60)})
    >>> data["high_grade"] = (rng.random(60) < 1 / (1 + np.exp(3 - data["size_cm"] / 2))).astype(int)
    >>> fit = logistic_regression(data, "high_grade", ["size_cm", "margin"])
    >>> fit.coefficients[["term", "estimate", "odds_ratio", "p"]].round(3)
              term  estimate  odds_ratio      p
    0  (Intercept)    -4.683       0.009  0.001
    1      size_cm     0.877       2.403  0.000
    2   margin[R1]    -0.614       0.541  0.325
    """
    predictors = list(predictors)
    if not predictors:
        raise InputError("'predictors' must name at least one column.")
    if ci not in ("wald", "profile"):
        raise InputError(f"'ci' must be 'wald' or 'profile'; got {ci!r}.")
    if method not in METHODS:
        raise InputError(f"'method' must be 'ml' or 'firth'; got {method!r}.")
    conf_level = resolve_conf_level(conf_level, level, "level")
    require_columns(data, [outcome, *predictors])
    y = binary_outcome(data[outcome], outcome).astype(float)
    encoding = _Encoding.from_data(data, predictors, reference_levels)
    X = encoding.matrix(data)
    terms = [term for term, _, _ in encoding.term_rows()]
    _refuse_collinear(X, terms)
    fit = _fit_glm(y, X) if method == "ml" else firth_fit(y, X)
    table = _coefficient_table(fit, y, X, encoding.term_rows(), ci, conf_level)
    _check_fit(fit, y, table, method)

    return _logistic_result(fit, table, y, X, ci, outcome, encoding, method)


def _logistic_result(
    fit: GlmFit,
    table: pd.DataFrame,
    y: np.ndarray,
    X: np.ndarray,
    ci: str,
    outcome: str,
    encoding: _Encoding,
    method: str,
) -> LogisticResult:
    """The fit's likelihood statistics (AIC, BIC, LR test against the null model) around ``table``."""
    terms = table["term"].tolist()
    n, k = y.size, len(terms)
    log_likelihood = float(fit.llf)
    null_deviance = float(fit.null_deviance)
    if method == "ml":
        lr_statistic = null_deviance - float(fit.deviance)
    else:
        lr_statistic = penalised_lr_statistic(y, X, fit, range(1, k), "the model likelihood-ratio test")
    return LogisticResult(
        coefficients=table,
        covariance=pd.DataFrame(fit.cov_params, index=terms, columns=terms),
        aic=-2 * log_likelihood + 2 * k,
        bic=-2 * log_likelihood + np.log(n) * k,
        log_likelihood=log_likelihood,
        deviance=float(fit.deviance),
        null_deviance=null_deviance,
        df_residual=n - k,
        lr_statistic=lr_statistic,
        lr_df=k - 1,
        lr_p=float(sps.chi2.sf(lr_statistic, k - 1)),
        n=n,
        n_events=int(y.sum()),
        converged=bool(fit.converged),
        ci_method=ci,
        outcome=outcome,
        encoding=encoding,
        method=method,
    )


def _coefficient_table(fit: GlmFit, y, X, term_rows, ci: str, conf_level: float) -> pd.DataFrame:
    """One row per term: estimate, SE, Wald z and p, odds ratio with its Wald or profile CI.

    A Firth fit gets its penalised profile limits and a column ``p_penalised_lr`` (logistf).
    """
    estimate = np.asarray(fit.params)
    std_error = np.asarray(fit.bse)
    z_value = estimate / std_error
    terms = [term for term, _, _ in term_rows]
    is_firth = isinstance(fit, FirthFit)
    if ci == "wald":
        half_width = sps.norm.ppf((1 + conf_level) / 2) * std_error
        limits = np.column_stack([estimate - half_width, estimate + half_width])
    elif is_firth:
        limits = np.array([penalised_profile_interval(y, X, j, fit, conf_level, term) for j, term in enumerate(terms)])
    else:
        limits = np.array([_profile_interval(y, X, j, estimate[j], std_error[j], fit.deviance, conf_level) for j in range(X.shape[1])])
    with np.errstate(over="ignore"):  # under separation an odds ratio or its limit is truly infinite
        table = pd.DataFrame(
            {
                "term": terms,
                "variable": [variable for _, variable, _ in term_rows],
                "level": [level for _, _, level in term_rows],
                "estimate": estimate,
                "std_error": std_error,
                "z": z_value,
                "p": 2 * sps.norm.sf(np.abs(z_value)),
                "odds_ratio": np.exp(estimate),
                "ci_low": np.exp(limits[:, 0]),
                "ci_high": np.exp(limits[:, 1]),
            }
        )
    if is_firth:
        statistics = [penalised_lr_statistic(y, X, fit, [j], f"the penalised LR test of '{term}'") for j, term in enumerate(terms)]
        table["p_penalised_lr"] = sps.chi2.sf(statistics, 1)
    return table
