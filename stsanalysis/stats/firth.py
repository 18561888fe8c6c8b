"""Firth's bias-reduced logistic regression: maximum of the Jeffreys-penalised likelihood.

Firth (1993) maximises ``l*(beta) = l(beta) + 1/2 log det I(beta)``, with ``I = X' W X`` and
``W = diag(p (1 - p))``. Its gradient is Firth's modified score
``X' (y - p + h (1/2 - p))``, ``h`` the diagonal of the hat matrix
``W^1/2 X I^-1 X' W^1/2``. For logistic regression this is R's
``glm(..., family = binomial, method = brglm2::brglmFit, type = "AS_mean")`` (mean
bias-reducing adjusted score) and ``logistf::logistf()``. Its estimates are finite even when
the outcome is completely or quasi-completely separated, where maximum likelihood has none.

Profile limits and penalised likelihood-ratio tests follow logistf (Heinze & Schemper 2002):
some coefficients are fixed and the others re-maximised under the penalty of the full model.
:func:`stsanalysis.stats.logistic.logistic_regression` (``method="firth"``) is the public entry;
this module works on the outcome vector and the design matrix (intercept in column 0) only.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

MAX_ITERATIONS = 1000
# logistf's maxstep: far from the maximum the information is nearly singular and the raw step huge
_MAX_STEP = 5.0
_MAX_HALVINGS = 40
# relative to the size of the coefficients: on separated data they reach the hundreds and the
# iteration stalls at rounding level (steps ~1e-9 there)
_TOLERANCE = 1e-10


class FirthConvergenceWarning(UserWarning):
    """A constrained penalised fit (profile limit or penalised LR test) did not converge."""


@dataclasses.dataclass(frozen=True)
class GlmFit:
    """What logistic.py reads from a fit: estimates, standard errors, covariance, fitted
    probabilities, deviances, log-likelihood and convergence."""

    params: np.ndarray
    bse: np.ndarray
    cov_params: np.ndarray
    fittedvalues: np.ndarray
    deviance: float
    null_deviance: float
    llf: float
    converged: bool


@dataclasses.dataclass(frozen=True)
class FirthFit(GlmFit):
    """A Firth fit, read by logistic.py as a maximum-likelihood :class:`GlmFit`.

    ``llf`` and ``deviance`` are the ordinary (unpenalised) log-likelihood and deviance at the
    Firth estimates, ``null_deviance`` that of the Firth intercept-only model, as brglm2
    reports them; ``penalised_llf`` is ``l*`` at its maximum (logistf's ``loglik["full"]``).
    """

    penalised_llf: float


def _information(X: np.ndarray, linear_predictor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # p (1 - p) as expit(eta) expit(-eta): 1 - p rounds to 0 once eta > 37
    weights = special.expit(linear_predictor) * special.expit(-linear_predictor)
    return weights, X.T @ (weights[:, None] * X)


def _log_likelihood(y: np.ndarray, linear_predictor: np.ndarray) -> float:
    return float(np.sum(y * linear_predictor - np.logaddexp(0, linear_predictor)))


def penalised_log_likelihood(y: np.ndarray, X: np.ndarray, beta: np.ndarray) -> float:
    """``l(beta) + 1/2 log det(X' W X)``: the Jeffreys-penalised log-likelihood (Firth 1993)."""
    linear_predictor = X @ beta
    _, information = _information(X, linear_predictor)
    sign, log_determinant = np.linalg.slogdet(information)
    if sign <= 0:  # the information underflowed to singular: the penalty is -infinite
        return -np.inf
    return _log_likelihood(y, linear_predictor) + 0.5 * log_determinant


def _modified_score(y: np.ndarray, X: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Firth's modified score (the gradient of l*) and the Fisher information at ``beta``."""
    linear_predictor = X @ beta
    probability = special.expit(linear_predictor)
    weights, information = _information(X, linear_predictor)
    hat = weights * np.einsum("ij,ij->i", X @ np.linalg.inv(information), X)
    return X.T @ (y - probability + hat * (0.5 - probability)), information


def _maximise(y: np.ndarray, X: np.ndarray, start: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Maximise l* over the coefficients flagged in ``free``; the others stay at ``start``.

    Modified-score (Fisher scoring) steps, capped at 5 and halved until l* does not decrease,
    as logistf's Newton-Raphson; returns (beta, l*, converged).
    """
    beta = np.array(start, dtype=float)
    penalised = penalised_log_likelihood(y, X, beta)
    if not np.isfinite(penalised):  # the information at the start underflowed: no step to take
        return beta, penalised, False
    for _ in range(MAX_ITERATIONS):
        score, information = _modified_score(y, X, beta)
        step = np.linalg.solve(information[np.ix_(free, free)], score[free])
        largest = np.max(np.abs(step))
        if largest > _MAX_STEP:
            step *= _MAX_STEP / largest
        for halving in range(_MAX_HALVINGS):
            candidate = beta.copy()
            candidate[free] += step / 2**halving
            candidate_penalised = penalised_log_likelihood(y, X, candidate)
            if candidate_penalised >= penalised - 1e-12 * (1 + abs(penalised)):
                break
        else:
            return beta, penalised, False
        beta, penalised = candidate, candidate_penalised
        if largest < _TOLERANCE * (1 + np.max(np.abs(beta))) or np.max(np.abs(score[free])) < _TOLERANCE:
            return beta, penalised, True
    return beta, penalised, False


def firth_fit(y: np.ndarray, X: np.ndarray) -> FirthFit:
    """Firth's estimates (R: ``glm(..., method = brglm2::brglmFit, type = "AS_mean")``).

    Standard errors come from the inverse Fisher information at the estimates, as
    ``summary()`` of a brglm2 fit. ``X`` must hold the intercept in its first column.

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> y = (x >= 5).astype(float)  # completely separated: maximum likelihood has no estimate
    >>> fit = firth_fit(y, np.column_stack([np.ones(10), x]))
    >>> fit.params.round(3), fit.converged  # R brglm2: -4.3679226 0.9706495
    (array([-4.368,  0.971]), True)
    """
    n_rows, n_columns = X.shape
    n_events = float(y.sum())
    # the intercept-only Firth estimate has a closed form: p = (events + 1/2) / (n + 1)
    null_probability = (n_events + 0.5) / (n_rows + 1)
    start = np.zeros(n_columns)
    start[0] = special.logit(null_probability)
    beta, penalised, converged = _maximise(y, X, start, np.ones(n_columns, dtype=bool))
    linear_predictor = X @ beta
    _, information = _information(X, linear_predictor)
    covariance = np.linalg.inv(information)
    log_likelihood = _log_likelihood(y, linear_predictor)
    # brglm2 refits the null model with the same bias reduction for its null deviance
    null_log_likelihood = n_events * np.log(null_probability) + (n_rows - n_events) * np.log1p(-null_probability)
    return FirthFit(
        params=beta,
        bse=np.sqrt(np.diag(covariance)),
        cov_params=covariance,
        fittedvalues=special.expit(linear_predictor),
        deviance=-2 * log_likelihood,
        null_deviance=float(-2 * null_log_likelihood),
        llf=log_likelihood,
        penalised_llf=penalised,
        converged=converged,
    )


def _constrained_maximum(
    y, X, fit: FirthFit, fixed: Sequence[int], values, starts: Sequence[np.ndarray], what: str
) -> tuple[np.ndarray, float]:
    """Highest maximum of l* from ``starts`` with the coefficients ``fixed`` held at ``values``."""
    fixed = list(fixed)
    free = np.ones(X.shape[1], dtype=bool)
    free[fixed] = False
    fits = []
    for start in starts:
        start = np.array(start, dtype=float)
        start[fixed] = values
        fits.append(_maximise(y, X, start, free))
    converged = [candidate for candidate in fits if candidate[2]]
    if not converged:
        warnings.warn(
            f"The penalised fit for {what} did not converge (at most {MAX_ITERATIONS} iterations); the result is unreliable.",
            FirthConvergenceWarning,
            stacklevel=4,
        )
    beta, penalised, _ = max(converged or fits, key=lambda candidate: candidate[1])
    return beta, penalised


def penalised_lr_statistic(y: np.ndarray, X: np.ndarray, fit: FirthFit, fixed: Sequence[int], what: str) -> float:
    """``2 (l*max - max l* with the coefficients ``fixed`` at 0)``: logistf's penalised LR test.

    With every coefficient but the intercept fixed this is logistf's model test
    (``loglik["full"] - loglik["null"]``); with one, the p-value logistf prints per term.
    """
    _, constrained = _constrained_maximum(y, X, fit, fixed, 0.0, [fit.params], what)
    return max(2 * (fit.penalised_llf - constrained), 0.0)


def penalised_profile_interval(y: np.ndarray, X: np.ndarray, j: int, fit: FirthFit, conf_level: float, term: str) -> tuple[float, float]:
    """Profile penalised-likelihood CI of coefficient ``j`` (logistf, Heinze & Schemper 2002).

    The limits are where ``2 (l*max - max l* with beta_j fixed)`` equals the chi-square(1)
    quantile at ``conf_level``, the other coefficients re-maximised under the full model's
    penalty. They are finite on separated data, where the ordinary profile never closes.
    """
    cutoff = sps.chi2.ppf(conf_level, 1)
    estimate, std_error = fit.params[j], fit.bse[j]
    maximisers = {estimate: fit.params}  # beta_j -> the constrained maximum found there

    def excess(value: float) -> float:
        # l* need not be concave: far out on separated data the constrained fit can have several
        # local maxima. Start from the estimate (as logistf and the R reference) and from the
        # constrained maximum at the nearest value tried so far, and keep the higher.
        nearest = min(maximisers, key=lambda tried: abs(tried - value))
        starts = [fit.params] if nearest == estimate else [fit.params, maximisers[nearest]]
        beta, constrained = _constrained_maximum(y, X, fit, [j], value, starts, f"the profile limit of '{term}'")
        maximisers[value] = beta
        return 2 * (fit.penalised_llf - constrained) - cutoff

    bounds = []
    for direction in (-1, 1):
        step = std_error
        while excess(estimate + direction * step) < 0:
            step *= 2
            if step > 1e3 * max(std_error, 1.0):
                bounds.append(direction * np.inf)  # the penalised profile never reaches the cut-off
                break
        else:
            bounds.append(optimize.brentq(excess, estimate, estimate + direction * step, xtol=1e-12, rtol=1e-12))
    return bounds[0], bounds[1]
