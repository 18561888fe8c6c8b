"""Rubin's rules: pooling estimates over multiply imputed datasets, as R's ``mice``.

:func:`pool_rubin` -- per-term pooling of ``mice::pool()`` with ``summary(..., conf.int = TRUE)``
(Rubin 1987; Barnard & Rubin 1999 degrees of freedom).
:func:`pooled_logistic` -- one :func:`~stsanalysis.stats.logistic.logistic_regression` per
completed dataset, pooled into a :class:`PooledLogisticResult` (a ``LogisticResult``).
:func:`pooled_wald_test` -- the D1 multivariate Wald test of ``mice::D1`` (Li, Raghunathan &
Rubin 1991, with the small-sample degrees of freedom of Reiter 2007 that ``mitml`` uses).
The imputation itself is :func:`stsanalysis.stats.imputation.multiple_imputation`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ._conf_level import check_conf_level
from ._result import Result
from .logistic import LogisticResult, logistic_regression

__all__ = [
    "DegenerateWaldTestWarning",
    "PooledLogisticResult",
    "PooledWaldTest",
    "pool_rubin",
    "pooled_logistic",
    "pooled_wald_test",
]

# barnard.rubin() of mice bounds lambda below by 1e-4 before computing the degrees of freedom
_MIN_LAMBDA = 1e-4
# summary.mipo() bounds the degrees of freedom of the p-value below by 0.001
_MIN_DF_P = 0.001


class DegenerateWaldTestWarning(UserWarning):
    """The D1 test's denominator degrees of freedom are degenerate (k (m - 1) <= 4)."""


def _as_matrix(values, name: str) -> tuple[np.ndarray, list]:
    """An m x p float matrix and the term names (DataFrame columns, else 0..p-1)."""
    terms = list(values.columns) if isinstance(values, pd.DataFrame) else None
    matrix = np.asarray(values, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2:
        raise InputError(f"'{name}' must be an m x p table (one row per imputation); got shape {np.shape(values)}.")
    if not np.isfinite(matrix).all():
        raise InputError(f"'{name}' must be finite; got {int((~np.isfinite(matrix)).sum())} NaN or infinite value(s).")
    return matrix, terms if terms is not None else list(range(matrix.shape[1]))


def _barnard_rubin_df(m: int, b: np.ndarray, total: np.ndarray, df_complete: float) -> np.ndarray:
    """Degrees of freedom of Barnard & Rubin (1999), as ``mice:::barnard.rubin``."""
    fraction = np.maximum((1 + 1 / m) * b / total, _MIN_LAMBDA)
    df_old = (m - 1) / fraction**2
    if np.isinf(df_complete):
        return df_old
    df_observed = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - fraction)
    return df_old * df_observed / (df_old + df_observed)


def pool_rubin(estimates, variances, df_complete: float, conf_level: float = 0.95) -> pd.DataFrame:
    """Pool one estimate per term over m imputations by Rubin's rules (R: ``mice::pool``).

    ``estimates`` and ``variances`` (squared standard errors) are m x p: one row per
    imputation, one column per term (a DataFrame's columns name the terms). ``df_complete``
    is the complete-data degrees of freedom (``dfcom``; mice takes the model's residual df,
    n - parameters, and ``np.inf`` gives the large-sample df of Rubin 1987).

    Returns one row per term with mice's columns: ``term, m, estimate`` (mean), ``ubar``
    (mean within-imputation variance), ``b`` (between-imputation variance, n - 1
    denominator), ``t = ubar + (1 + 1/m) b``, ``dfcom``, ``df`` (Barnard-Rubin, lambda bounded
    below by 1e-4 as ``mice:::barnard.rubin``), ``riv = (1 + 1/m) b / ubar``,
    ``lambda = (1 + 1/m) b / t``, ``fmi = (riv + 2 / (df + 3)) / (riv + 1)``, then
    ``std_error = sqrt(t)``, ``statistic`` (estimate / SE), ``p`` (two-sided t with
    max(df, 0.001) df, as ``summary.mipo``) and ``ci_low``, ``ci_high`` (estimate +- t quantile
    x SE, as ``confint.mipo``).

    Examples
    --------
    >>> table = pool_rubin([[1.0], [1.2], [0.9]], [[0.04], [0.05], [0.045]], df_complete=100)
    >>> table[["estimate", "b", "t", "df", "fmi", "p"]].round(4)
       estimate       b       t      df     fmi       p
    0    1.0333  0.0233  0.0761  9.9216  0.5003  0.0039
    """
    conf_level = check_conf_level(conf_level)
    estimates, terms = _as_matrix(estimates, "estimates")
    variances, _ = _as_matrix(variances, "variances")
    if estimates.shape != variances.shape:
        raise InputError(f"'estimates' and 'variances' must have the same shape; got {estimates.shape} and {variances.shape}.")
    m = estimates.shape[0]
    if m < 2:
        raise InputError(f"Pooling needs at least m = 2 imputations (rows); got {m}.")
    if (variances < 0).any():
        raise InputError("'variances' are squared standard errors and must not be negative.")
    if not df_complete > 0:
        raise InputError(f"'df_complete' must be positive (np.inf for large samples); got {df_complete!r}.")
    ubar = variances.mean(axis=0)
    b = estimates.var(axis=0, ddof=1)
    total = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):  # a term without uncertainty gives riv inf/NaN, as in R
        df = _barnard_rubin_df(m, b, total, float(df_complete))
        riv = (1 + 1 / m) * b / ubar
        fmi = (riv + 2 / (df + 3)) / (riv + 1)
        table = pd.DataFrame(
            {
                "term": terms,
                "m": m,
                "estimate": estimates.mean(axis=0),
                "ubar": ubar,
                "b": b,
                "t": total,
                "dfcom": float(df_complete),
                "df": df,
                "riv": riv,
                "lambda": (1 + 1 / m) * b / total,
                "fmi": fmi,
                "std_error": np.sqrt(total),
            }
        )
        table["statistic"] = table["estimate"] / table["std_error"]
    table["p"] = 2 * sps.t.sf(np.abs(table["statistic"]), np.maximum(df, _MIN_DF_P))
    half_width = sps.t.ppf((1 + conf_level) / 2, df) * table["std_error"]
    table["ci_low"] = table["estimate"] - half_width
    table["ci_high"] = table["estimate"] + half_width
    return table


@dataclasses.dataclass(frozen=True, repr=False)
class PooledWaldTest(Result):
    """The D1 test of ``terms`` being zero (R: ``mice::D1``): F = ``statistic`` on ``df1``, ``df2``.

    ``riv`` is the average relative increase in variance due to nonresponse. Unpacks as
    ``statistic, df1, df2, p = pooled_wald_test(...)``.
    """

    statistic: float
    df1: int
    df2: float
    p: float
    riv: float
    m: int
    terms: tuple

    def __iter__(self):
        return iter((self.statistic, self.df1, self.df2, self.p))


def _d1_df2(k: int, m: int, riv: float, df_complete: float | None) -> float:
    """Denominator df of D1 as ``mitml:::.D1``: Reiter (2007) with dfcom, else Li et al. (1991)."""
    t = k * (m - 1)
    if t <= 4:
        warnings.warn(
            f"The D1 test of {k} term(s) over m = {m} imputations has k (m - 1) = {t} <= 4, where its "
            "denominator degrees of freedom are degenerate (mitml gives 4 or NaN); for a single term use "
            "the pooled t-test of pool_rubin, else impute more datasets.",
            DegenerateWaldTestWarning,
            stacklevel=4,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        t, riv = np.float64(t), np.float64(riv)  # numpy arithmetic: 1/0 = inf and inf * 0 = NaN, as in R
        if df_complete is None or np.isinf(df_complete):
            if t > 4:
                return float(4 + (t - 4) * (1 + (1 - 2 / t) / riv) ** 2)
            return float(t * (1 + 1 / k) * (1 + 1 / riv) ** 2 / 2)
        a = riv * t / (t - 2)
        v_star = (df_complete + 1) / (df_complete + 3) * df_complete
        c0 = 1 / (t - 4)
        c1 = v_star - 2 * (1 + a)
        c2 = v_star - 4 * (1 + a)
        z = (
            1 / c2
            + c0 * (a**2 * c1 / ((1 + a) ** 2 * c2))
            + c0 * (8 * a**2 * c1 / ((1 + a) * c2**2) + 4 * a**2 / ((1 + a) * c2))
            + c0 * (4 * a**2 / (c2 * c1) + 16 * a**2 * c1 / c2**3)
            + c0 * (8 * a**2 / c2**2)
        )
        return float(4 + 1 / z)


def _d1(estimates: np.ndarray, covariances: np.ndarray, index: list[int], df_complete: float | None, terms) -> PooledWaldTest:
    """D1 of the coefficients ``index`` from m x p estimates and m x p x p covariances."""
    q_hat = estimates[:, index]
    u_hat = covariances[:, index][:, :, index]
    m, k = q_hat.shape
    q_bar = q_hat.mean(axis=0)
    u_bar = u_hat.mean(axis=0)
    between = np.atleast_2d(np.cov(q_hat, rowvar=False, ddof=1))
    riv = float((1 + 1 / m) * np.trace(between @ np.linalg.inv(u_bar)) / k)
    statistic = float(q_bar @ np.linalg.solve((1 + riv) * u_bar, q_bar) / k)
    df2 = _d1_df2(k, m, riv, df_complete)
    return PooledWaldTest(statistic, k, df2, float(sps.f.sf(statistic, k, df2)), riv, m, tuple(terms))


def _term_indices(coefficients: pd.DataFrame, terms: Sequence[str]) -> tuple[list[int], list[str]]:
    """Positions of ``terms``; a variable name stands for all its terms (a factor's levels)."""
    if isinstance(terms, str):
        terms = [terms]
    names = coefficients["term"].tolist()
    expanded = []
    for name in terms:
        if name in names:
            expanded.append(name)
        elif name in coefficients["variable"].tolist():
            expanded += coefficients.loc[coefficients["variable"] == name, "term"].tolist()
        else:
            raise InputError(f"'terms' names {name!r}, which is neither a term nor a variable of the model; terms are {names}.")
    if not expanded or len(set(expanded)) != len(expanded):
        raise InputError(f"'terms' must name at least one term, each once; got {list(terms)}.")
    return [names.index(term) for term in expanded], expanded


@dataclasses.dataclass(frozen=True, repr=False)
class PooledLogisticResult(LogisticResult):
    """A logistic regression pooled over ``m`` imputed datasets by Rubin's rules.

    A :class:`LogisticResult` (``predict`` works unchanged) whose ``coefficients`` hold the
    pooled estimates with two more columns, ``df`` and ``fmi``; ``imputation_estimates``
    (m x p) and ``imputation_covariances`` (m x p x p) keep the fits' numbers for
    :meth:`wald_test`.
    """

    # keyword-only: LogisticResult ends with defaulted fields
    m: int = dataclasses.field(kw_only=True)
    imputation_estimates: np.ndarray = dataclasses.field(kw_only=True)
    imputation_covariances: np.ndarray = dataclasses.field(kw_only=True)

    def wald_test(self, terms: Sequence[str] | str) -> PooledWaldTest:
        """D1 test that ``terms`` (term or variable names) are all zero (R: ``mice::D1(fit, fit0)``)."""
        index, names = _term_indices(self.coefficients, terms)
        return _d1(self.imputation_estimates, self.imputation_covariances, index, self.df_residual, names)


def pooled_wald_test(fits: Sequence[LogisticResult], terms: Sequence[str] | str, df_complete: float | None = None) -> PooledWaldTest:
    """D1 multivariate Wald test that ``terms`` are zero, pooled over imputations (R: ``mice::D1``).

    ``fits`` holds one fitted model per imputed dataset (the same terms in each). ``terms``
    names model terms, or variables standing for all their terms: ``["margin"]`` tests
    every level of a factor at once, the comparison ``mice::D1(fit, fit_without_margin)``
    makes. As mice, the complete-data df is the models' residual df (``df_complete``
    overrides it; ``np.inf`` gives the df of Li, Raghunathan & Rubin 1991), and the
    denominator df follow ``mitml::testModels(method = "D1")``.

    Returns a :class:`PooledWaldTest`; ``statistic, df1, df2, p = pooled_wald_test(...)``.
    With k (m - 1) <= 4 (one term, m = 5) mitml's df are degenerate: a
    :class:`DegenerateWaldTestWarning` says so; the pooled t-test of :func:`pool_rubin` is
    the test of a single term.
    """
    fits = list(fits)
    if len(fits) < 2 or not all(isinstance(fit, LogisticResult) for fit in fits):
        raise InputError(f"'fits' must hold at least 2 fitted logistic models (one per imputation); got {len(fits)}.")
    _check_same_terms(fits)
    index, names = _term_indices(fits[0].coefficients, terms)
    estimates = np.array([fit.coefficients["estimate"].to_numpy() for fit in fits])
    covariances = np.array([fit.covariance.to_numpy() for fit in fits])
    return _d1(estimates, covariances, index, fits[0].df_residual if df_complete is None else df_complete, names)


def _check_same_terms(fits: Sequence[LogisticResult]) -> None:
    expected = fits[0].coefficients["term"].tolist()
    for number, fit in enumerate(fits[1:], start=2):
        terms = fit.coefficients["term"].tolist()
        if terms != expected:
            raise InputError(
                f"Imputation {number} gives the model terms {terms}, imputation 1 gives {expected}: every completed "
                "dataset must have the same factor levels (a level missing from one imputation cannot be pooled)."
            )


def check_datasets(datasets) -> list[pd.DataFrame]:
    """The completed datasets of multiple imputation as a list: at least 2 DataFrames with the same rows."""
    datasets = list(datasets)
    if len(datasets) < 2 or not all(isinstance(frame, pd.DataFrame) for frame in datasets):
        raise InputError(f"'datasets' must hold at least 2 completed DataFrames (one per imputation); got {len(datasets)} item(s).")
    sizes = sorted({len(frame) for frame in datasets})
    if len(sizes) > 1:
        raise InputError(f"The completed datasets must all have the same rows; got {sizes} rows.")
    return datasets


def pooled_logistic(
    datasets: Sequence[pd.DataFrame],
    outcome: str,
    predictors: Sequence[str],
    *,
    conf_level: float = 0.95,
    reference_levels: Mapping | None = None,
    method: str = "ml",
) -> PooledLogisticResult:
    """Logistic regression fitted on each completed dataset and pooled by Rubin's rules.

    R: ``pool(with(imp, glm(outcome ~ predictors, family = binomial)))`` and
    ``summary(..., conf.int = TRUE, exponentiate = TRUE)``. Each dataset is fitted by
    :func:`logistic_regression` (``method`` "ml" or "firth"); per term the estimate is the mean, the standard error
    sqrt(t) of :func:`pool_rubin` with ``dfcom`` = n - parameters (mice's residual df),
    ``z`` the pooled t statistic, ``p`` and the odds-ratio CI from the t distribution with
    the Barnard-Rubin ``df`` (two extra columns: ``df``, ``fmi``). ``covariance`` is the
    pooled matrix W-bar + (1 + 1/m) B; ``ci_method`` is ``"rubin"``; ``encoding``, ``n`` and
    ``n_events`` come from the first dataset (the outcome is normally not imputed).

    ``aic``, ``bic``, ``log_likelihood``, ``deviance``, ``null_deviance`` and
    ``lr_statistic`` are means over the imputations and ``lr_p`` is the chi-square p of the
    mean LR statistic: descriptive only, there is no pooled likelihood. Test terms with
    :meth:`PooledLogisticResult.wald_test` (D1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> base = pd.DataFrame({"size_cm": rng.normal(8, 3, 100)})
    >>> base["y"] = (rng.random(100) < 1 / (1 + np.exp(4 - base["size_cm"] / 2))).astype(int)
    >>> noisy = [base.assign(size_cm=base["size_cm"] + rng.normal(0, 0.5, 100)) for _ in range(3)]
    >>> fit = pooled_logistic(noisy, "y", ["size_cm"])
    >>> fit.coefficients[["term", "estimate", "std_error", "df", "fmi"]].round(3)
              term  estimate  std_error      df    fmi
    0  (Intercept)    -3.794      0.880  94.975  0.028
    1      size_cm     0.466      0.105  94.713  0.030
    """
    conf_level = check_conf_level(conf_level)
    datasets = check_datasets(datasets)
    fits = [logistic_regression(frame, outcome, predictors, reference_levels, conf_level=conf_level, method=method) for frame in datasets]
    _check_same_terms(fits)
    return _pool_fits(fits, conf_level)


def _pool_fits(fits: list[LogisticResult], conf_level: float) -> PooledLogisticResult:
    first, m = fits[0], len(fits)
    terms = first.coefficients["term"].tolist()
    estimates = np.array([fit.coefficients["estimate"].to_numpy() for fit in fits])
    covariances = np.array([fit.covariance.to_numpy() for fit in fits])
    pooled = pool_rubin(estimates, np.diagonal(covariances, axis1=1, axis2=2), first.df_residual, conf_level)
    coefficients = first.coefficients[["term", "variable", "level"]].assign(
        estimate=pooled["estimate"].to_numpy(),
        std_error=pooled["std_error"].to_numpy(),
        z=pooled["statistic"].to_numpy(),
        p=pooled["p"].to_numpy(),
        odds_ratio=np.exp(pooled["estimate"].to_numpy()),
        ci_low=np.exp(pooled["ci_low"].to_numpy()),
        ci_high=np.exp(pooled["ci_high"].to_numpy()),
        df=pooled["df"].to_numpy(),
        fmi=pooled["fmi"].to_numpy(),
    )
    between = np.atleast_2d(np.cov(estimates, rowvar=False, ddof=1))
    covariance = covariances.mean(axis=0) + (1 + 1 / m) * between

    def mean_of(field: str) -> float:
        return float(np.mean([getattr(fit, field) for fit in fits]))

    return PooledLogisticResult(
        coefficients=coefficients,
        covariance=pd.DataFrame(covariance, index=terms, columns=terms),
        aic=mean_of("aic"),
        bic=mean_of("bic"),
        log_likelihood=mean_of("log_likelihood"),
        deviance=mean_of("deviance"),
        null_deviance=mean_of("null_deviance"),
        df_residual=first.df_residual,
        lr_statistic=mean_of("lr_statistic"),
        lr_df=first.lr_df,
        lr_p=float(sps.chi2.sf(mean_of("lr_statistic"), first.lr_df)),
        n=first.n,
        n_events=first.n_events,
        converged=all(fit.converged for fit in fits),
        ci_method="rubin",
        outcome=first.outcome,
        encoding=first.encoding,
        m=m,
        imputation_estimates=estimates,
        imputation_covariances=covariances,
    )
