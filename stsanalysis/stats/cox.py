"""Cox proportional-hazards regression, as R's ``survival::coxph`` with ``cox.zph``.

:func:`cox_regression` -- ``coxph(Surv(time, event) ~ covariates, ties = "efron")`` with the
tests of ``summary(coxph)`` and the proportional-hazards test of ``cox.zph(fit)``. Event
coding is 1 = event, 0 = censored, as ``Surv(time, event)``.

The fit predicts: :meth:`CoxResult.linear_predictor_of` is ``predict(fit, newdata, type =
"lp")`` and :meth:`CoxResult.predict_survival` is ``summary(survfit(fit, newdata), times)$surv``,
from the baseline cumulative hazard ``basehaz(fit, centered = FALSE)`` (Efron-corrected hazard
increments with Efron's ties, Breslow's with Breslow's, as ``survfit.coxph``).
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
from ._horizon import horizons
from ._result import Result
from .concordance import ConcordanceResult, concordance_index
from .survival import SurvivalWarning, _km_one_group, _survival_data, _z_value

__all__ = ["CoxResult", "cox_regression"]

TIES = ("efron", "breslow")
# coxph.control(): eps (relative log-likelihood change) and toler.inf = sqrt(eps), which flag
# a coefficient as infinite ("Loglik converged before variable j")
_LOGLIK_EPS = 1e-9
_TOLER_INF = np.sqrt(_LOGLIK_EPS)


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
    ``linear_predictor``: the fitting data's x beta centred on the covariates' column means.

    For prediction: ``covariates`` (names, in order), ``means`` (``fit$means``: the column
    means, except 0 for a covariate whose values all lie in {-1, 0, 1}, which coxph leaves
    uncentred), ``column_means`` (plain column means, rms ``cph``'s ``fit$means``),
    ``baseline_hazard`` (time, cumulative_hazard at the distinct event times, at all
    covariates 0: ``basehaz(fit, centered = FALSE)``) and the fitting data's ``time`` and
    ``event``, which bound the prediction times.
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
    covariates: tuple[str, ...]
    means: pd.Series
    column_means: pd.Series
    baseline_hazard: pd.DataFrame
    time: np.ndarray
    event: np.ndarray

    @property
    def coef(self) -> np.ndarray:
        """The coefficients (log hazard ratios) in the order of ``covariates``."""
        return self.coefficients["coef"].to_numpy()

    def _design(self, data: pd.DataFrame) -> np.ndarray:
        require_columns(data, list(self.covariates), "data")
        return np.column_stack([numeric_vector(data[name], name) for name in self.covariates])

    def linear_predictor_of(self, data: pd.DataFrame, centred: bool = True) -> np.ndarray:
        """x beta of each row of ``data``, as ``predict(fit, newdata, type = "lp")``.

        ``centred=True`` subtracts ``means`` beta (coxph's centring: the fitting data's
        means, 0/1 covariates uncentred); ``centred=False`` gives the plain x beta.
        """
        offset = float(self.means.to_numpy() @ self.coef) if centred else 0.0
        return self._design(data) @ self.coef - offset

    def cumulative_hazard_at(self, times) -> np.ndarray:
        """The baseline cumulative hazard H0(t) (all covariates 0), a right-continuous step function."""
        steps = np.concatenate(([0.0], self.baseline_hazard["cumulative_hazard"].to_numpy()))
        return steps[np.searchsorted(self.baseline_hazard["time"].to_numpy(), np.asarray(times, dtype=float), side="right")]

    def predict_survival(self, data: pd.DataFrame, times) -> pd.DataFrame:
        """S(t | x) = exp(-H0(t) exp(x beta)) of each row (index) at each time (column).

        As ``summary(survfit(fit, newdata = data), times = times)$surv`` (transposed: one row
        per patient). A time beyond the fitting data's last follow-up, not positive or before
        its first event is refused (:func:`~stsanalysis.stats._horizon.horizons`).

        Examples
        --------
        >>> import pandas as pd
        >>> data = pd.DataFrame({"months": [5, 8, 12, 20, 6, 15, 30, 40], "death": [1, 1, 1, 1, 1, 0, 1, 0],
        ...                      "high_grade": [1, 0, 1, 0, 1, 1, 0, 0]})
        >>> fit = cox_regression(data, "months", "death", ["high_grade"])
        >>> fit.predict_survival(pd.DataFrame({"high_grade": [0, 1]}), [12, 24]).round(3)
        time   12.0   24.0
        0     0.762  0.546
        1     0.310  0.074
        """
        requested = horizons(times, self.time, self.event, what="the training set")
        centred_lp = self.linear_predictor_of(data)
        # centred as survfit.coxph, so that exp() stays in range for large covariate values
        centred_hazard = self.cumulative_hazard_at(requested) * np.exp(float(self.means.to_numpy() @ self.coef))
        survival = np.exp(-np.outer(np.exp(centred_lp), centred_hazard))
        return pd.DataFrame(survival, index=data.index, columns=pd.Index(requested, name="time"))


def cox_regression(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: list[str],
    ties: str = "efron",
    conf_level: float = 0.95,
    *,
    what: str = "the data",
) -> CoxResult:
    """Cox regression, as ``coxph(Surv(duration, event) ~ covariates, ties = "efron")``.

    Fitted by Newton-Raphson on statsmodels' ``PHReg`` partial likelihood, which has both
    Efron's (R's default) and Breslow's (``ties="breslow"``, SAS/SPSS/Stata default)
    handling of tied event times. Covariates must be numeric (code categories as 0/1
    dummies). The score test is evaluated at beta = 0 as ``summary(coxph)$sctest`` (with one
    binary covariate it is the log-rank test). ``ph_test`` is ``cox.zph(fit)``. ``what``
    names the data in messages (e.g. "the training set").

    A coefficient that grows without bound (monotone likelihood: e.g. every event in one
    level of a binary covariate) is reported with a :class:`SurvivalWarning` naming the
    covariate, where coxph warns "Loglik converged before variable j; coefficient may be
    infinite"; its estimate, standard error and p are then meaningless.

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
    time, status, design = _cox_data(data, duration, event, covariates, what)
    model = PHReg(time, design, status=status, ties=ties)
    beta = _newton_raphson(model, covariates, what)
    covariance = np.linalg.inv(-model.hessian(beta))
    std_error = np.sqrt(np.diag(covariance))
    z_values = beta / std_error
    with np.errstate(over="ignore"):  # a diverging coefficient's upper limit is inf, as in R
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
    column_means = design.mean(axis=0)
    # coxph(nocenter = c(-1, 0, 1)): a covariate coded within {-1, 0, 1} is not centred
    means = np.where(np.isin(design, (-1.0, 0.0, 1.0)).all(axis=0), 0.0, column_means)
    linear_predictor = (design - column_means) @ beta
    return CoxResult(
        coefficients=coefficients,
        **_model_tests(model, beta, covariance),
        n=int(time.size),
        n_event=int(status.sum()),
        ties=ties,
        ph_test=_zph_test(time, status, design, beta, ties, covariates),
        concordance=concordance_index(time, status, linear_predictor),
        linear_predictor=linear_predictor,
        covariates=tuple(covariates),
        means=pd.Series(means, index=covariates, name="mean"),
        column_means=pd.Series(column_means, index=covariates, name="mean"),
        baseline_hazard=_baseline_hazard(time, status, (design - means) @ beta, ties, float(means @ beta)),
        time=time,
        event=status,
    )


def _baseline_hazard(time, event, centred_lp, ties, offset) -> pd.DataFrame:
    """``basehaz(fit, centered = FALSE)`` at the distinct event times.

    The hazard increment at a time with d deaths, risk-set total R = sum exp(lp) and deaths'
    total D is d / R (Breslow) or sum_{k<d} 1 / (R - k/d D) (Efron), as ``survfit.coxph``
    with ``ctype`` 1 or 2; computed at ``means`` (centred lp) and rescaled by exp(-offset).
    """
    risk = np.exp(centred_lp)
    event_times, event_index = np.unique(time[event == 1], return_inverse=True)
    n_dying = np.bincount(event_index)
    dying_risk = np.bincount(event_index, weights=risk[event == 1])
    order = np.argsort(time)
    at_or_after = np.concatenate((np.cumsum(risk[order][::-1])[::-1], [0.0]))
    risk_set = at_or_after[np.searchsorted(time[order], event_times, side="left")]
    if ties == "breslow":
        increments = n_dying / risk_set
    else:
        # one term per death k = 0..d-1 of each event time
        which_time = np.repeat(np.arange(event_times.size), n_dying)
        k = np.arange(which_time.size) - np.repeat(np.cumsum(n_dying) - n_dying, n_dying)
        terms = 1 / (risk_set[which_time] - k / n_dying[which_time] * dying_risk[which_time])
        increments = np.bincount(which_time, weights=terms)
    return pd.DataFrame({"time": event_times, "cumulative_hazard": np.cumsum(increments) * np.exp(-offset)})


def _cox_data(data: pd.DataFrame, duration: str, event: str, covariates: list[str], what: str = "the data"):
    """Validated times, 0/1 events and the covariate matrix (numeric, none constant)."""
    if not covariates:
        raise InputError("'covariates' must name at least one column.")
    require_columns(data, [duration, event, *covariates], "data")
    time, status, _ = _survival_data(data[duration], data[event], names=(duration, event))
    if not status.any():
        raise InputError(f"The event column '{event}' has no events in {what}; a Cox model cannot be fitted.")
    design = np.column_stack([numeric_vector(data[name], name) for name in covariates])
    constant = {name: column[0] for name, column in zip(covariates, design.T) if np.ptp(column) == 0}
    if constant:
        described = ", ".join(f"'{name}' (all {value:g})" for name, value in constant.items())
        raise InputError(
            f"Covariate(s) {described} are constant in {what}; a Cox model cannot estimate their effect. Drop them from 'covariates'."
        )
    if np.linalg.matrix_rank(design - design.mean(axis=0)) < len(covariates):
        raise InputError(f"The covariates {covariates} are collinear in {what} (one is a combination of the others); drop one of them.")
    return time, status, design


def _newton_raphson(model: PHReg, names: list[str], what: str = "the data") -> np.ndarray:
    """Maximum partial-likelihood coefficients by Newton-Raphson, as ``coxph.fit``.

    Iterates to a step < 1e-12 (tighter than coxph's relative log-likelihood change < 1e-9,
    so that the estimates agree with R's to 1e-6). When the log-likelihood has converged by
    coxph's rule but the next step still moves a coefficient (|step| > eps and > sqrt(eps)
    |beta|, coxph's ``toler.inf`` test), that coefficient diverges: stop there, as coxph, and
    warn naming it.
    """
    beta = np.zeros(len(names))
    log_likelihood = float(model.loglike(beta))
    loglik_converged = False
    for _ in range(100):
        step = np.linalg.solve(-model.hessian(beta), model.score(beta))
        if loglik_converged:
            diverging = (np.abs(step) > _LOGLIK_EPS) & (np.abs(step) > _TOLER_INF * np.abs(beta))
            if diverging.any():
                _warn_monotone_likelihood([name for name, flag in zip(names, diverging) if flag], what)
                return beta
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            return beta
        new_log_likelihood = float(model.loglike(beta))
        loglik_converged = abs(new_log_likelihood - log_likelihood) <= _LOGLIK_EPS * abs(new_log_likelihood)
        log_likelihood = new_log_likelihood
    warnings.warn(
        f"The Cox model did not converge in 100 Newton steps in {what}; its coefficients are unreliable. "
        "Check the covariates for extreme values or near-collinearity.",
        SurvivalWarning,
        stacklevel=3,
    )
    return beta


def _warn_monotone_likelihood(diverging: list[str], what: str) -> None:
    warnings.warn(
        f"The Cox coefficient(s) of {diverging} diverge in {what} (monotone likelihood, coxph: 'Loglik "
        "converged before variable ...; coefficient may be infinite'): the partial likelihood keeps "
        "increasing as the coefficient grows, typically because every event (or none) falls in one level "
        "of a binary covariate. Their hazard ratios, standard errors and p-values are meaningless. Drop the "
        "covariate or merge the level with another so that each level has events, or fit a penalised Cox "
        "model (Firth's correction as R coxphf, or a ridge/lasso penalty).",
        SurvivalWarning,
        stacklevel=4,
    )


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
