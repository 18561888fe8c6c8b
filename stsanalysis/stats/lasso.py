"""LASSO logistic regression as glmnet, and the rad-score estimator built on it.

The solver minimises glmnet's binomial objective

    -(1/n) sum_i [y_i eta_i - log(1 + exp(eta_i))] + lambda sum_j |beta_j|

on features standardised to mean 0 and population SD 1 (divisor n), with an unpenalised
intercept. glmnet (Friedman, Hastie & Tibshirani, J Stat Softw 2010) uses coordinate
descent; in Python that is slow to converge tightly with correlated features, so this
module solves the same problem with an active-set Newton method to the same optimum
(checked against glmnet with thresh = 1e-14), warm-started along the lambda path.
Coefficients are returned on the original feature scale, as ``coef(glmnet_fit)``.
scikit-learn's ``LogisticRegression(penalty="l1", C=1/(n*lambda))`` has the same optimum, but
liblinear penalises the intercept and saga converges too slowly for a tight match.

Along glmnet's default lambda path the fit stops early as glmnet's does, so that fewer than
``n_lambdas`` lambdas may be returned (see ``_path``). Where the solver cannot converge at a
lambda (the features nearly separate the outcome) the path stops there with a
``LassoPathWarning``, as glmnet returns "solutions for larger lambdas" when it cannot converge.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy import special

from ..errors import InputError
from ..validation import binary_outcome
from ._result import Result

_TOLERANCE = 1e-12
_MAX_ITERATIONS = 10_000
# Newton decrement below which the objective (of order 0.001 to 1) cannot tell a step's
# decrease from rounding, so that Newton steps are taken in full; and below which one
# full step more reaches the optimum, however ill-conditioned the Hessian
_ROUNDING_DECREMENT = 1e-10
_FINAL_DECREMENT = 1e-20
# cv.glmnet clips held-out probabilities to [1e-5, 1 - 1e-5] before computing the deviance
_CV_PROBABILITY_CLIP = 1e-5
# glmnet's early stop of its default path: glmnet.control() factory defaults fdev, devmax,
# mnlam, and pmin (the probability clip of its deviance), in glmnet 4.1 src/internal.cpp
_STOP_MIN_DEVIANCE_GAIN = 1e-5
_STOP_MAX_DEVIANCE_RATIO = 0.999
_STOP_MIN_LAMBDAS = 5
_DEVIANCE_PROBABILITY_CLIP = 1e-9


class LassoPathWarning(UserWarning):
    """The LASSO solver did not converge at a lambda; the path stops at the larger lambdas."""


class _NotConverged(Exception):
    def __init__(self, lam: float):
        super().__init__(f"The LASSO solver did not converge at lambda = {lam:g}.")
        self.lam = lam


def _feature_matrix(X, what: str = "X") -> tuple[np.ndarray, list[str]]:
    if isinstance(X, pd.DataFrame):
        names = [str(column) for column in X.columns]
        non_numeric = [name for name, dtype in zip(names, X.dtypes) if not pd.api.types.is_numeric_dtype(dtype)]
        if non_numeric:
            raise InputError(f"Feature column(s) {non_numeric[:5]} of '{what}' are not numeric.")
        values = X.to_numpy(dtype=float)
    else:
        values = np.asarray(X, dtype=float)
        if values.ndim != 2:
            raise InputError(f"'{what}' must be two-dimensional (patients x features); got shape {values.shape}.")
        names = [f"x{j}" for j in range(values.shape[1])]
    if not np.isfinite(values).all():
        bad = [names[j] for j in np.flatnonzero(~np.isfinite(values).all(axis=0))]
        raise InputError(f"Feature column(s) {bad[:5]} of '{what}' contain missing or infinite values.")
    return values, names


@dataclasses.dataclass(frozen=True)
class _Standardised:
    """Features centred and scaled by the population SD, as glmnet(standardize = TRUE)."""

    values: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, names: list[str]) -> _Standardised:
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        constant = [name for name, sd in zip(names, scale) if sd == 0]
        if constant:
            raise InputError(f"Feature(s) {constant[:5]} are constant in the training data; remove them.")
        return cls((X - mean) / scale, mean, scale)

    def original_scale(self, intercept: float, beta: np.ndarray) -> tuple[float, np.ndarray]:
        coefficients = beta / self.scale
        return intercept - float(coefficients @ self.mean), coefficients


def _lambda_max(Xs: np.ndarray, y: np.ndarray) -> float:
    """Smallest lambda at which every coefficient is 0: max_j |x_j' (y - ybar)| / n."""
    return float(np.max(np.abs(Xs.T @ (y - y.mean()))) / y.size)


def _default_path(Xs: np.ndarray, y: np.ndarray, n_lambdas: int) -> np.ndarray:
    n, p = Xs.shape
    ratio = 1e-2 if n < p else 1e-4
    return _lambda_max(Xs, y) * ratio ** (np.arange(n_lambdas) / (n_lambdas - 1))


def default_lambdas(X, y, n_lambdas: int = 100) -> np.ndarray:
    """glmnet's default path: lambda_max down to lambda_max x ratio, log-spaced; ratio 1e-4
    when n >= p, 0.01 when n < p (glmnet's ``lambda.min.ratio``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.2], [2.0, 0.1], [3.0, 0.4], [4.0, 0.3], [5.0, 0.6], [6.0, 0.5]])
    >>> lambdas = default_lambdas(X, [0, 0, 1, 0, 1, 1], n_lambdas=5)
    >>> round(float(lambdas[0]), 4), float(lambdas[-1] / lambdas[0])
    (0.4392, 0.0001)
    """
    values, names = _feature_matrix(X)
    return _default_path(_Standardised.of(values, names).values, binary_outcome(y, "y"), n_lambdas)


def _interpolate(path_lambdas, intercepts, betas, target) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients at ``target`` lambdas, linear in lambda between path points and constant
    beyond its ends (glmnet ``predict(fit, s = ...)``)."""
    increasing = path_lambdas[::-1]
    intercept = np.interp(target, increasing, intercepts[::-1])
    beta = np.column_stack([np.interp(target, increasing, column[::-1]) for column in betas.T])
    return intercept, beta


def _objective(design: np.ndarray, y: np.ndarray, theta: np.ndarray, penalty: np.ndarray) -> float:
    """glmnet's objective restricted to a fixed sign pattern: mean log-loss + lambda x signs . beta."""
    eta = design @ theta
    # log(1 + exp(-eta)) for y = 1 without the cancellation of log(1 + exp(eta)) - eta
    return float(np.mean(np.logaddexp(0, np.where(y == 1, -eta, eta))) + penalty @ theta)


def _newton_on_support(Xs, y, lam, intercept, beta, support) -> tuple[float, np.ndarray, bool]:
    """Minimise the objective over the intercept and ``beta[support]`` with their signs held.

    With the signs fixed the objective is smooth, so damped Newton steps converge
    quadratically. A step is shortened where a coefficient would cross zero; that
    coefficient leaves the support (returned flag True) and the caller re-checks optimality.
    Where the features nearly separate the outcome the Hessian is ill-conditioned: the steps
    stay large while the objective no longer changes measurably, so the phases of the method
    are told apart by the Newton decrement (the decrease the step predicts), not the step size.
    """
    n = y.size
    design = np.column_stack([np.ones(n), Xs[:, support]])
    theta = np.concatenate([[intercept], beta[support]])
    penalty = np.concatenate([[0.0], lam * np.sign(beta[support])])  # the intercept is not penalised
    left = False
    for _ in range(_MAX_ITERATIONS):
        probability = special.expit(design @ theta)
        gradient = design.T @ (probability - y) / n + penalty
        weight = np.maximum(probability * (1 - probability), 1e-9)  # glmnet's guard against w = 0
        hessian = (design.T * weight) @ design / n
        try:
            step = -np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        if np.max(np.abs(step)) < _TOLERANCE:
            theta += step
            break
        decrement = -float(gradient @ step)  # gradient' H^-1 gradient
        shrinking = np.flatnonzero(theta[1:] * step[1:] < 0) + 1
        crossings = -theta[shrinking] / step[shrinking]
        length = min(1.0, crossings.min()) if crossings.size else 1.0
        if decrement < _FINAL_DECREMENT and length == 1.0:
            theta += step  # from here one full step reaches the optimum to rounding
            break
        # Armijo backtracking while far from the optimum; near it rounding makes the test meaningless
        if decrement > _ROUNDING_DECREMENT:
            current = _objective(design, y, theta, penalty)
            while (_objective(design, y, theta + length * step, penalty) > current - 1e-4 * length * decrement) and length > 1e-12:
                length /= 2
        theta += length * step
        left = bool(crossings.size) and length == crossings.min()
        if left:
            theta[shrinking[np.argmin(crossings)]] = 0.0
            break
    else:
        raise _NotConverged(lam)
    solution = np.zeros_like(beta)
    solution[support] = theta[1:]
    return float(theta[0]), solution, left


def _solve(Xs: np.ndarray, y: np.ndarray, lam: float, intercept: float, beta: np.ndarray) -> tuple[float, np.ndarray]:
    """Minimise the glmnet objective at ``lam`` from a warm start (standardised scale).

    Active-set method: solve exactly on the current support with its signs (Newton), then
    check the optimality (KKT) conditions of the excluded features, |x_j'(p - y)| / n <= lambda;
    the worst violator enters with a majorised coordinate step (curvature bound 1/4), which
    lowers the objective, and the support is solved again.
    """
    n = y.size
    beta = beta.copy()
    for _ in range(_MAX_ITERATIONS):
        support = np.flatnonzero(beta)
        intercept, beta, left = _newton_on_support(Xs, y, lam, intercept, beta, support)
        if left:
            continue
        gradient = Xs.T @ (special.expit(intercept + Xs @ beta) - y) / n
        violation = np.abs(gradient) - lam
        violation[beta != 0] = -np.inf
        entering = int(np.argmax(violation))
        if violation[entering] <= _TOLERANCE:
            return intercept, beta
        # standardised columns have mean square 1 and the log-loss curvature is at most 1/4
        beta[entering] = -np.sign(gradient[entering]) * violation[entering] / 0.25
    raise _NotConverged(lam)


def _deviance_ratio(Xs: np.ndarray, y: np.ndarray, intercept: float, beta: np.ndarray) -> float:
    """Fraction of the null deviance explained, glmnet's ``dev.ratio`` (probabilities clipped
    to [pmin, 1 - pmin] as glmnet does)."""
    probability = np.clip(special.expit(intercept + Xs @ beta), _DEVIANCE_PROBABILITY_CLIP, 1 - _DEVIANCE_PROBABILITY_CLIP)
    deviance = -np.mean(y * np.log(probability) + (1 - y) * np.log1p(-probability))
    prevalence = y.mean()
    null_deviance = -(prevalence * np.log(prevalence) + (1 - prevalence) * np.log1p(-prevalence))
    return 1 - deviance / null_deviance


def _path(Xs: np.ndarray, y: np.ndarray, lambdas: np.ndarray, stop_early: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lambdas fitted, intercepts and coefficients (standardised scale) along ``lambdas``,
    with warm starts.

    With ``stop_early`` the path ends as glmnet's default path does (glmnet 4.1,
    src/glmnetpp/include/glmnetpp_bits/elnet_path/base.hpp ``process_point_fit`` with
    binomial_base.hpp): from the 5th lambda (``mnlam``) on, after the fit at a lambda, stop
    when the fraction of deviance explained gained on the previous lambda is below ``fdev``
    = 1e-5 or the fraction exceeds ``devmax`` = 0.999; that lambda's fit is kept. (glmnet also
    stops when the IRLS weights sum below ~1e-9, which needs a fraction explained above
    0.999 first.) glmnet applies no such rule to lambdas given by the user: nor does this
    without ``stop_early``.

    A lambda at which the solver does not converge ends the path with a
    ``LassoPathWarning``, as glmnet returns the solutions for the larger lambdas.
    """
    intercept = float(special.logit(y.mean()))
    beta = np.zeros(Xs.shape[1])
    intercepts, betas = [], []
    previous_ratio = 0.0
    for lam in lambdas:
        try:
            intercept, beta = _solve(Xs, y, lam, intercept, beta)
        except _NotConverged as failure:
            if not betas:
                raise InputError(
                    f"{failure} The features nearly separate the outcome at this lambda, the largest asked for: choose a larger lambda."
                ) from None
            warnings.warn(
                f"{failure} The path stops at the {len(betas)} larger lambdas (down to "
                f"{lambdas[len(betas) - 1]:g}): the features nearly separate the outcome.",
                LassoPathWarning,
                stacklevel=3,
            )
            break
        intercepts.append(intercept)
        betas.append(beta)
        if stop_early:
            ratio = _deviance_ratio(Xs, y, intercept, beta)
            if len(betas) >= min(_STOP_MIN_LAMBDAS, lambdas.size) and (
                ratio - previous_ratio < _STOP_MIN_DEVIANCE_GAIN or ratio > _STOP_MAX_DEVIANCE_RATIO
            ):
                break
            previous_ratio = ratio
    return lambdas[: len(betas)], np.array(intercepts), np.array(betas)


@dataclasses.dataclass(frozen=True, repr=False)
class LassoLogisticResult(Result):
    """A LASSO logistic fit at one lambda; ``coefficients`` on the original feature scale."""

    intercept: float
    coefficients: pd.Series
    lam: float
    n_nonzero: int


def lasso_logistic(X, y, lam: float) -> LassoLogisticResult:
    """LASSO logistic regression at ``lam``, as ``coef(glmnet(X, y, family = "binomial",
    alpha = 1, standardize = TRUE), s = lam)`` (exact solution, not interpolated).

    Equivalent to scikit-learn's ``C = 1 / (n * lam)`` on standardised features with an
    unpenalised intercept.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.2], [2.0, 0.1], [3.0, 0.4], [4.0, 0.3], [5.0, 0.6], [6.0, 0.5]])
    >>> fit = lasso_logistic(X, [0, 0, 1, 0, 1, 1], lam=0.05)
    >>> fit.n_nonzero, round(float(fit.intercept), 2), fit.coefficients.round(2).tolist()
    (1, -6.45, [0.0, 18.42])
    """
    values, names = _feature_matrix(X)
    y = binary_outcome(y, "y").astype(float)
    if values.shape[0] != y.size:
        raise InputError(f"'X' has {values.shape[0]} rows but 'y' has {y.size} values.")
    if not np.isfinite(lam) or lam <= 0:
        # lambda = 0 is the unpenalised fit, which logistic_regression() does with its warnings
        raise InputError(f"'lam' must be a positive number; got {lam!r}.")
    standardised = _Standardised.of(values, names)
    _, intercepts, betas = _path(standardised.values, y, np.array([lam]), stop_early=False)
    intercept, coefficients = standardised.original_scale(intercepts[0], betas[0])
    return LassoLogisticResult(
        intercept=intercept,
        coefficients=pd.Series(coefficients, index=names),
        lam=float(lam),
        n_nonzero=int(np.count_nonzero(coefficients)),
    )
