"""LASSO logistic regression as glmnet, and the penalised-path solver shared with LASSO-Cox.

The solver minimises glmnet's objective, a mean loss of the linear predictor plus
``lambda sum_j |beta_j|``; here the binomial loss

    -(1/n) sum_i [y_i eta_i - log(1 + exp(eta_i))] + lambda sum_j |beta_j|

on features standardised to mean 0 and population SD 1 (divisor n), with an unpenalised
intercept. glmnet (Friedman, Hastie & Tibshirani, J Stat Softw 2010) uses coordinate
descent; in Python that is slow to converge tightly with correlated features, so this
module solves the same problem with an active-set Newton method to the same optimum
(checked against glmnet with thresh = 1e-14), warm-started along the lambda path.
Coefficients are returned on the original feature scale, as ``coef(glmnet_fit)``.
scikit-learn's ``LogisticRegression(penalty="l1", C=1/(n*lambda))`` has the same optimum, but
liblinear penalises the intercept and saga converges too slowly for a tight match.

The solver (``_lasso_path``) takes the loss as an object (``_BinomialLoss`` here; the Cox
partial likelihood in :mod:`~stsanalysis.stats.cox_lasso`) giving its value, derivatives,
a bound on its curvature along a feature and glmnet's early-stop rule of the default path.

Along glmnet's default lambda path the fit stops early as glmnet's does, so that fewer than
``n_lambdas`` lambdas may be returned (see ``_lasso_path``). Where the solver cannot converge at a
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


class _Diverged(ArithmeticError):
    """A loss cannot compute its derivatives in floating point at these coefficients."""


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
    """Features centred and scaled by the population SD, as glmnet(standardize = TRUE).

    glmnet drops a constant feature silently (coefficient 0); here it is an error naming it.
    """

    values: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, names: list[str], what: str = "the training data") -> _Standardised:
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        constant = [name for name, sd in zip(names, scale) if sd == 0]
        if constant:
            raise InputError(f"Feature(s) {constant[:5]} are constant in {what}; remove them.")
        return cls((X - mean) / scale, mean, scale)

    def original_scale(self, intercept: float, beta: np.ndarray) -> tuple[float, np.ndarray]:
        coefficients = beta / self.scale
        return intercept - float(coefficients @ self.mean), coefficients

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Other data (a held-out fold) on this standardised scale."""
        return (X - self.mean) / self.scale


class _BinomialLoss:
    """glmnet's binomial loss: the mean negative log-likelihood, with an unpenalised intercept.

    The interface of a loss for ``_lasso_path``: ``n_unpenalised`` leading coefficients
    (here the intercept) and their ``start``; ``value``, ``derivatives`` (gradient and Hessian
    over the columns of a design) and ``feature_gradient`` of the linear predictor ``eta``;
    ``curvature_bound`` along a standardised feature; ``lambda_max`` and ``log_spaced`` (the
    default path); ``deviance_ratio`` and ``path_ends`` (glmnet's early stop of its default
    path); ``divergence`` (why the solver may not converge).
    """

    n_unpenalised = 1
    divergence = "the features nearly separate the outcome"

    def __init__(self, y: np.ndarray):
        self.y = y

    def start(self) -> np.ndarray:
        return np.array([special.logit(self.y.mean())])

    def value(self, eta: np.ndarray) -> float:
        # log(1 + exp(-eta)) for y = 1 without the cancellation of log(1 + exp(eta)) - eta
        return np.mean(np.logaddexp(0, np.where(self.y == 1, -eta, eta)))

    def derivatives(self, design: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probability = special.expit(eta)
        gradient = design.T @ (probability - self.y) / self.y.size
        weight = np.maximum(probability * (1 - probability), 1e-9)  # glmnet's guard against w = 0
        return gradient, (design.T * weight) @ design / self.y.size

    def feature_gradient(self, Xs: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return Xs.T @ (special.expit(eta) - self.y) / self.y.size

    def curvature_bound(self, column: np.ndarray) -> float:
        # standardised columns have mean square 1 and the log-loss curvature is at most 1/4
        return 0.25

    def lambda_max(self, Xs: np.ndarray) -> float:
        """Smallest lambda at which every coefficient is 0: max_j |x_j' (y - ybar)| / n."""
        return float(np.max(np.abs(Xs.T @ (self.y - self.y.mean()))) / self.y.size)

    @staticmethod
    def log_spaced(lambda_max: float, ratio: float, n_lambdas: int) -> np.ndarray:
        """glmnet's default path: ``n_lambdas`` lambdas log-spaced from lambda_max to lambda_max x ratio."""
        return lambda_max * ratio ** (np.arange(n_lambdas) / (n_lambdas - 1))

    def deviance_ratio(self, eta: np.ndarray) -> float:
        """Fraction of the null deviance explained, glmnet's ``dev.ratio`` (probabilities clipped
        to [pmin, 1 - pmin] as glmnet does)."""
        y = self.y
        probability = np.clip(special.expit(eta), _DEVIANCE_PROBABILITY_CLIP, 1 - _DEVIANCE_PROBABILITY_CLIP)
        deviance = -np.mean(y * np.log(probability) + (1 - y) * np.log1p(-probability))
        prevalence = y.mean()
        null_deviance = -(prevalence * np.log(prevalence) + (1 - prevalence) * np.log1p(-prevalence))
        return 1 - deviance / null_deviance

    @staticmethod
    def path_ends(ratios: list[float], n_lambdas: int) -> bool:
        """glmnet 4.1 (src/glmnetpp/include/glmnetpp_bits/elnet_path/base.hpp ``process_point_fit``
        with binomial_base.hpp): from the 5th lambda (``mnlam``) on, stop when the fraction of
        deviance explained gained on the previous lambda is below ``fdev`` = 1e-5 or the
        fraction exceeds ``devmax`` = 0.999. (glmnet also stops when the IRLS weights sum below
        ~1e-9, which needs a fraction explained above 0.999 first.)"""
        previous = ratios[-2] if len(ratios) > 1 else 0.0
        return len(ratios) >= min(_STOP_MIN_LAMBDAS, n_lambdas) and (
            ratios[-1] - previous < _STOP_MIN_DEVIANCE_GAIN or ratios[-1] > _STOP_MAX_DEVIANCE_RATIO
        )


def _default_path(loss, Xs: np.ndarray, n_lambdas: int) -> np.ndarray:
    n, p = Xs.shape
    ratio = 1e-2 if n < p else 1e-4
    return loss.log_spaced(loss.lambda_max(Xs), ratio, n_lambdas)


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
    return _default_path(_BinomialLoss(binary_outcome(y, "y")), _Standardised.of(values, names).values, n_lambdas)


def _interpolate(path_lambdas, unpenalised, betas, target) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (unpenalised ones, features) at ``target`` lambdas, linear in lambda
    between path points and constant beyond its ends (glmnet ``predict(fit, s = ...)``)."""
    increasing = path_lambdas[::-1]
    columns = np.column_stack([unpenalised, betas])
    interpolated = np.column_stack([np.interp(target, increasing, column[::-1]) for column in columns.T])
    k = unpenalised.shape[1]
    return interpolated[:, :k], interpolated[:, k:]


def _objective(loss, design: np.ndarray, theta: np.ndarray, penalty: np.ndarray) -> float:
    """glmnet's objective restricted to a fixed sign pattern: mean loss + lambda x signs . beta."""
    return float(loss.value(design @ theta) + penalty @ theta)


def _newton_on_support(loss, Xs, lam, unpenalised, beta, support) -> tuple[np.ndarray, np.ndarray, bool]:
    """Minimise the objective over the unpenalised coefficients and ``beta[support]`` with
    their signs held.

    With the signs fixed the objective is smooth, so damped Newton steps converge
    quadratically. A step is shortened where a coefficient would cross zero; that
    coefficient leaves the support (returned flag True) and the caller re-checks optimality.
    Where the features nearly separate the outcome the Hessian is ill-conditioned: the steps
    stay large while the objective no longer changes measurably, so the phases of the method
    are told apart by the Newton decrement (the decrease the step predicts), not the step size.
    """
    n, k = Xs.shape[0], loss.n_unpenalised
    if k + support.size == 0:
        return unpenalised, beta, False
    design = np.column_stack([np.ones((n, k)), Xs[:, support]])
    theta = np.concatenate([unpenalised, beta[support]])
    penalty = np.concatenate([np.zeros(k), lam * np.sign(beta[support])])
    left = False
    for _ in range(_MAX_ITERATIONS):
        gradient, hessian = loss.derivatives(design, design @ theta)
        gradient = gradient + penalty
        try:
            step = -np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        if np.max(np.abs(step)) < _TOLERANCE:
            theta += step
            break
        decrement = -float(gradient @ step)  # gradient' H^-1 gradient
        shrinking = np.flatnonzero(theta[k:] * step[k:] < 0) + k
        crossings = -theta[shrinking] / step[shrinking]
        length = min(1.0, crossings.min()) if crossings.size else 1.0
        if decrement < _FINAL_DECREMENT and length == 1.0:
            theta += step  # from here one full step reaches the optimum to rounding
            break
        # Armijo backtracking while far from the optimum; near it rounding makes the test meaningless
        if decrement > _ROUNDING_DECREMENT:
            current = _objective(loss, design, theta, penalty)
            while (_objective(loss, design, theta + length * step, penalty) > current - 1e-4 * length * decrement) and length > 1e-12:
                length /= 2
        theta += length * step
        left = bool(crossings.size) and length == crossings.min()
        if left:
            theta[shrinking[np.argmin(crossings)]] = 0.0
            break
    else:
        raise _NotConverged(lam)
    solution = np.zeros_like(beta)
    solution[support] = theta[k:]
    return theta[:k], solution, left


def _solve(loss, Xs: np.ndarray, lam: float, unpenalised: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimise the glmnet objective at ``lam`` from a warm start (standardised scale).

    Active-set method: solve exactly on the current support with its signs (Newton), then
    check the optimality (KKT) conditions of the excluded features, |dloss/dbeta_j| <= lambda;
    the worst violator enters with a coordinate step majorised by a bound on the loss's
    curvature along it, which lowers the objective, and the support is solved again.
    """
    beta = beta.copy()
    try:
        for _ in range(_MAX_ITERATIONS):
            support = np.flatnonzero(beta)
            unpenalised, beta, left = _newton_on_support(loss, Xs, lam, unpenalised, beta, support)
            if left:
                continue
            gradient = loss.feature_gradient(Xs, Xs @ beta + unpenalised.sum())
            violation = np.abs(gradient) - lam
            violation[beta != 0] = -np.inf
            entering = int(np.argmax(violation))
            if violation[entering] <= _TOLERANCE:
                return unpenalised, beta
            beta[entering] = -np.sign(gradient[entering]) * violation[entering] / loss.curvature_bound(Xs[:, entering])
    except _Diverged:
        pass  # the coefficients ran off to where the loss's derivatives underflow
    raise _NotConverged(lam)


def _lasso_path(loss, Xs: np.ndarray, lambdas: np.ndarray, stop_early: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lambdas fitted, unpenalised coefficients (lambdas x ``loss.n_unpenalised``) and
    coefficients (standardised scale) along ``lambdas``, with warm starts.

    With ``stop_early`` the path ends as glmnet's default path does (``loss.path_ends``,
    checked after the fit at each lambda on the fraction of deviance explained; that lambda's
    fit is kept). glmnet applies no such rule to lambdas given by the user: nor does this
    without ``stop_early``.

    A lambda at which the solver does not converge ends the path with a
    ``LassoPathWarning``, as glmnet returns the solutions for the larger lambdas.
    """
    unpenalised = loss.start()
    beta = np.zeros(Xs.shape[1])
    fitted_unpenalised, betas, ratios = [], [], []
    for lam in lambdas:
        try:
            unpenalised, beta = _solve(loss, Xs, lam, unpenalised, beta)
        except _NotConverged as failure:
            if not betas:
                raise InputError(
                    f"{failure} {loss.divergence.capitalize()} at this lambda, the largest asked for: choose a larger lambda."
                ) from None
            warnings.warn(
                f"{failure} The path stops at the {len(betas)} larger lambdas (down to {lambdas[len(betas) - 1]:g}): {loss.divergence}.",
                LassoPathWarning,
                stacklevel=3,
            )
            break
        fitted_unpenalised.append(unpenalised)
        betas.append(beta)
        if stop_early:
            ratios.append(loss.deviance_ratio(Xs @ beta + unpenalised.sum()))
            if loss.path_ends(ratios, lambdas.size):
                break
    return lambdas[: len(betas)], np.array(fitted_unpenalised).reshape(len(betas), loss.n_unpenalised), np.array(betas)


@dataclasses.dataclass(frozen=True, repr=False)
class LassoLogisticResult(Result):
    """A LASSO logistic fit at one lambda; ``coefficients`` on the original feature scale."""

    intercept: float
    coefficients: pd.Series
    lam: float
    n_nonzero: int


def _positive_lambda(lam) -> None:
    if not np.isfinite(lam) or lam <= 0:
        # lambda = 0 is the unpenalised fit, which the regression functions do with their warnings
        raise InputError(f"'lam' must be a positive number; got {lam!r}.")


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
    _positive_lambda(lam)
    standardised = _Standardised.of(values, names)
    _, intercepts, betas = _lasso_path(_BinomialLoss(y), standardised.values, np.array([lam]), stop_early=False)
    intercept, coefficients = standardised.original_scale(float(intercepts[0, 0]), betas[0])
    return LassoLogisticResult(
        intercept=intercept,
        coefficients=pd.Series(coefficients, index=names),
        lam=float(lam),
        n_nonzero=int(np.count_nonzero(coefficients)),
    )
