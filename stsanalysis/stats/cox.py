"""Cox proportional-hazards regression, as R's ``survival::coxph`` with ``cox.zph``.

:func:`cox_regression` -- ``coxph(Surv(time, event) ~ covariates, ties = "efron")`` with the
tests of ``summary(coxph)`` and the proportional-hazards test of ``cox.zph(fit)``. Event
coding is 1 = event, 0 = censored, as ``Surv(time, event)``.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.duration.hazard_regression import PHReg

from ..errors import InputError
from ..validation import numeric_vector, require_columns
from ._result import Result
from .concordance import ConcordanceResult, concordance_index
from .survival import SurvivalWarning, _km_one_group, _survival_data, _z_value

__all__ = ["CoxResult", "cox_regression"]

TIES = ("efron", "breslow")


def _event_time_terms(time, event, covariates, beta, ties):
    """Per distinct event time: sum of Schoenfeld residuals and the information contribution.

    Efron's approximation removes k/d of the tied deaths' risk at the k-th of d steps;
    Breslow keeps them all. Summed over event times these are the Cox score and information.
    """
    centred = covariates - covariates.mean(axis=0)
    risk = np.exp(centred @ beta)
    event_times = np.unique(time[event == 1])
    scores = np.zeros((event_times.size, covariates.shape[1]))
    informations = np.zeros((event_times.size, covariates.shape[1], covariates.shape[1]))
    for index, event_time in enumerate(event_times):
        in_risk_set = time >= event_time
        dying = in_risk_set & (time == event_time) & (event == 1)
        n_dying = int(dying.sum())
        fractions = np.arange(n_dying) / n_dying if ties == "efron" else np.zeros(n_dying)
        for fraction in fractions:
            weights = risk * (in_risk_set - fraction * dying)
            mean = weights @ centred / weights.sum()
            deviation = centred - mean
            informations[index] += (weights[:, None] * deviation).T @ deviation / weights.sum()
            scores[index] -= mean
        scores[index] += centred[dying].sum(axis=0)
    return event_times, scores, informations


def _zph_test(time, event, covariates, beta, ties, names) -> pd.DataFrame:
    """Proportional-hazards score test of ``cox.zph(fit, transform = "km")`` (survival 3.x).

    Score test, at the fitted coefficients, of adding g(t) * x_j to the model, g = 1 - S(t-)
    of the pooled Kaplan-Meier, centred over the events: one test per covariate and a GLOBAL
    test of all of them.
    """
    km = _km_one_group(time, event, 1.0, "plain")
    event_times, scores, informations = _event_time_terms(time, event, covariates, beta, ties)
    # left-continuous KM: S just before each time, 1 before the first
    before = np.concatenate(([1.0], km["survival"].to_numpy()))

    def one_minus_km(at):
        return 1 - before[np.searchsorted(km["time"].to_numpy(), at, side="left")]

    g_event = one_minus_km(event_times) - one_minus_km(time[event == 1]).mean()
    n_covariates = covariates.shape[1]
    information = np.block(
        [
            [np.einsum("tjk->jk", informations), np.einsum("t,tjk->jk", g_event, informations)],
            [np.einsum("t,tjk->jk", g_event, informations), np.einsum("t,tjk->jk", g_event**2, informations)],
        ]
    )
    score_time = np.concatenate((np.zeros(n_covariates), g_event @ scores))
    rows = []
    for j, name in enumerate(names):
        keep = np.r_[np.arange(n_covariates), n_covariates + j]
        u = score_time[keep]
        rows.append({"term": name, "chisq": float(u @ np.linalg.solve(information[np.ix_(keep, keep)], u)), "df": 1})
    rows.append({"term": "GLOBAL", "chisq": float(score_time @ np.linalg.solve(information, score_time)), "df": n_covariates})
    table = pd.DataFrame(rows)
    table["p"] = sps.chi2.sf(table["chisq"], table["df"])
    return table


@dataclasses.dataclass(frozen=True)
class CoxResult(Result):
    """Cox proportional-hazards fit with the tests of ``summary(coxph)`` and ``cox.zph``.

    ``coefficients``: term, coef, hazard_ratio, std_error, z, p, ci_low, ci_high (Wald,
    of the hazard ratio). Each test (likelihood ratio, Wald, score = log-rank) has its
    statistic, df and p. ``ph_test``: term, chisq, df, p (one row per covariate + GLOBAL).
    ``concordance``: Harrell's C of the linear predictor (:func:`concordance_index`).
    """

    coefficients: pd.DataFrame
    log_likelihood: float
    log_likelihood_null: float
    lr_statistic: float
    lr_df: int
    lr_p: float
    wald_statistic: float
    wald_df: int
    wald_p: float
    score_statistic: float
    score_df: int
    score_p: float
    n: int
    n_event: int
    ties: str
    ph_test: pd.DataFrame
    concordance: ConcordanceResult
    linear_predictor: np.ndarray


def cox_regression(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: list[str],
    ties: str = "efron",
    conf_level: float = 0.95,
) -> CoxResult:
    """Cox regression, as ``coxph(Surv(duration, event) ~ covariates, ties = "efron")``.

    Fitted by statsmodels' ``PHReg`` (Newton-Raphson on the partial likelihood), which has
    both Efron's (R's default) and Breslow's (``ties="breslow"``, SAS/SPSS/Stata default)
    handling of tied event times. Covariates must be numeric (code categories as 0/1
    dummies). The score test is evaluated at beta = 0 as ``summary(coxph)$sctest`` (with one
    binary covariate it is the log-rank test). ``ph_test`` is ``cox.zph(fit)``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"months": [5, 8, 12, 20, 6, 15, 30, 40], "death": [1, 1, 1, 1, 1, 0, 1, 0],
    ...                      "high_grade": [1, 0, 1, 0, 1, 1, 0, 0]})
    >>> fit = cox_regression(data, "months", "death", ["high_grade"])
    >>> fit.coefficients[["term", "hazard_ratio", "p"]].round(3)
             term  hazard_ratio      p
    0  high_grade         4.308  0.209
    """
    if ties not in TIES:
        raise InputError(f"'ties' must be one of {TIES}; got {ties!r}.")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    z = _z_value(conf_level)
    time, status, design = _cox_data(data, duration, event, covariates)
    model = PHReg(time, design, status=status, ties=ties)
    beta = _newton_raphson(model, design.shape[1])
    covariance = np.linalg.inv(-model.hessian(beta))
    std_error = np.sqrt(np.diag(covariance))
    z_values = beta / std_error
    coefficients = pd.DataFrame(
        {
            "term": covariates,
            "coef": beta,
            "hazard_ratio": np.exp(beta),
            "std_error": std_error,
            "z": z_values,
            "p": 2 * sps.norm.sf(np.abs(z_values)),
            "ci_low": np.exp(beta - z * std_error),
            "ci_high": np.exp(beta + z * std_error),
        }
    )
    linear_predictor = (design - design.mean(axis=0)) @ beta
    return CoxResult(
        coefficients=coefficients,
        **_model_tests(model, beta, covariance),
        n=int(time.size),
        n_event=int(status.sum()),
        ties=ties,
        ph_test=_zph_test(time, status, design, beta, ties, covariates),
        concordance=concordance_index(time, status, linear_predictor),
        linear_predictor=linear_predictor,
    )


def _cox_data(data: pd.DataFrame, duration: str, event: str, covariates: list[str]):
    """Validated times, 0/1 events and the covariate matrix (numeric, none constant)."""
    if not covariates:
        raise InputError("'covariates' must name at least one column.")
    require_columns(data, [duration, event, *covariates], "data")
    time, status, _ = _survival_data(data[duration], data[event], names=(duration, event))
    if not status.any():
        raise InputError(f"The event column '{event}' has no events; a Cox model cannot be fitted.")
    design = np.column_stack([numeric_vector(data[name], name) for name in covariates])
    constant = [name for name, column in zip(covariates, design.T) if np.ptp(column) == 0]
    if constant:
        raise InputError(f"Covariate(s) {constant} are constant; a Cox model cannot estimate their effect.")
    return time, status, design


def _newton_raphson(model: PHReg, n_covariates: int) -> np.ndarray:
    """Maximum partial-likelihood coefficients, warning when Newton-Raphson does not converge."""
    beta = np.zeros(n_covariates)
    # Newton-Raphson to R's convergence (coxph stops at a relative log-likelihood change
    # < 1e-9); statsmodels' default stopping rule is looser than the 1e-6 we promise.
    for _ in range(100):
        step = np.linalg.solve(-model.hessian(beta), model.score(beta))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    else:
        warnings.warn(
            "The Cox model did not converge in 100 Newton steps; a coefficient may be infinite "
            "(monotone likelihood, e.g. a covariate level without events).",
            SurvivalWarning,
            stacklevel=3,
        )
    return beta


def _model_tests(model: PHReg, beta: np.ndarray, covariance: np.ndarray) -> dict:
    """Log-likelihoods and the likelihood-ratio, Wald and score tests of ``summary(coxph)``."""
    n_covariates = beta.size
    log_likelihood, log_likelihood_null = float(model.loglike(beta)), float(model.loglike(np.zeros(n_covariates)))
    lr_statistic = 2 * (log_likelihood - log_likelihood_null)
    wald_statistic = float(beta @ np.linalg.solve(covariance, beta))
    score_at_zero = model.score(np.zeros(n_covariates))
    score_statistic = float(score_at_zero @ np.linalg.solve(-model.hessian(np.zeros(n_covariates)), score_at_zero))
    return {
        "log_likelihood": log_likelihood,
        "log_likelihood_null": log_likelihood_null,
        "lr_statistic": lr_statistic,
        "lr_df": n_covariates,
        "lr_p": float(sps.chi2.sf(lr_statistic, n_covariates)),
        "wald_statistic": wald_statistic,
        "wald_df": n_covariates,
        "wald_p": float(sps.chi2.sf(wald_statistic, n_covariates)),
        "score_statistic": score_statistic,
        "score_df": n_covariates,
        "score_p": float(sps.chi2.sf(score_statistic, n_covariates)),
    }
