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
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

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
    when n >= p, 0.01 when n < p (glmnet's ``lambda.min.ratio``)."""
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
            while (_objective(design, y, theta + length * step, penalty)
                   > current - 1e-4 * length * decrement) and length > 1e-12:
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
    probability = np.clip(special.expit(intercept + Xs @ beta),
                          _DEVIANCE_PROBABILITY_CLIP, 1 - _DEVIANCE_PROBABILITY_CLIP)
    deviance = -np.mean(y * np.log(probability) + (1 - y) * np.log1p(-probability))
    prevalence = y.mean()
    null_deviance = -(prevalence * np.log(prevalence) + (1 - prevalence) * np.log1p(-prevalence))
    return 1 - deviance / null_deviance


def _path(Xs: np.ndarray, y: np.ndarray, lambdas: np.ndarray,
          stop_early: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
                raise InputError(f"{failure} The features nearly separate the outcome at this lambda, the "
                                 "largest asked for: choose a larger lambda.") from None
            warnings.warn(f"{failure} The path stops at the {len(betas)} larger lambdas (down to "
                          f"{lambdas[len(betas) - 1]:g}): the features nearly separate the outcome.",
                          LassoPathWarning, stacklevel=3)
            break
        intercepts.append(intercept)
        betas.append(beta)
        if stop_early:
            ratio = _deviance_ratio(Xs, y, intercept, beta)
            if len(betas) >= min(_STOP_MIN_LAMBDAS, lambdas.size) and (
                    ratio - previous_ratio < _STOP_MIN_DEVIANCE_GAIN or ratio > _STOP_MAX_DEVIANCE_RATIO):
                break
            previous_ratio = ratio
    return lambdas[:len(betas)], np.array(intercepts), np.array(betas)


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
    return LassoLogisticResult(intercept=intercept, coefficients=pd.Series(coefficients, index=names),
                               lam=float(lam), n_nonzero=int(np.count_nonzero(coefficients)))


def _signed_term(value: float, name: str, digits: int) -> str:
    return f"{'-' if value < 0 else '+'} {abs(value):.{digits}g} × {name}"


class LassoRadScore(BaseEstimator, TransformerMixin, ClassifierMixin):
    """Rad-score by LASSO logistic regression with lambda chosen by cross-validation.

    Follows ``cv.glmnet(X, y, family = "binomial", type.measure = "deviance")``: the lambda
    path is computed on all training data and, as glmnet's default path, stops early once
    the fraction of deviance explained exceeds 0.999 or gains less than 1e-5 per lambda
    (so ``lambdas_`` may hold fewer than ``n_lambdas``; lambdas given in ``lambdas`` are all
    fitted, as in glmnet). Every fold is fitted along its own default path and read off at
    the full-data lambdas by linear interpolation (exactly at ``lambdas`` when they are
    given), and at its smallest-lambda fit where its path stopped earlier, as cv.glmnet
    does; the held-out binomial deviance (probabilities clipped to [1e-5, 1 - 1e-5]) is
    averaged per fold,
    ``cvm`` is the fold-size weighted mean and ``se`` = sqrt(weighted variance of the fold
    means / (folds - 1)). ``lambda_rule="min"`` takes the lambda with the smallest mean
    deviance, ``"1se"`` the largest lambda within one SE of it.

    ``cv`` is the number of stratified folds (shuffled with ``random_state``) or any
    scikit-learn splitter, e.g. ``PredefinedSplit(fold_ids)`` to reproduce a cv.glmnet run
    with ``foldid``. With an integer ``cv`` and ``n_repeats`` > 1 the folds are redrawn per
    repeat and the mean deviance and the SE are averaged over repeats (``n_repeats`` is
    ignored when ``cv`` is a splitter).

    After ``fit``: ``coef_`` (Series by feature, original scale), ``intercept_``,
    ``lambda_``, ``lambda_min_``, ``lambda_1se_``, ``lambdas_``, ``cv_results_``
    (lambda, mean_deviance, se, n_nonzero), ``path_`` (coefficients per lambda, original
    scale; index lambda). ``transform``/``decision_function`` give the rad-score (the linear
    predictor), ``predict_proba`` the probabilities; ``formula()`` writes the rad-score.

    Where the features nearly separate the outcome (e.g. 10 features for 60 patients) the
    solver may not converge at the smallest lambdas; the path, of the full data or of a
    fold, then stops there with a ``LassoPathWarning``, as glmnet returns the solutions for
    the larger lambdas with a warning.
    """

    def __init__(self, lambda_rule: str = "min", cv=10, n_repeats: int = 1, lambdas=None,
                 n_lambdas: int = 100, scoring: str = "deviance", random_state=None):
        self.lambda_rule = lambda_rule
        self.cv = cv
        self.n_repeats = n_repeats
        self.lambdas = lambdas
        self.n_lambdas = n_lambdas
        self.scoring = scoring
        self.random_state = random_state

    def _folds(self, X: np.ndarray, y: np.ndarray) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        """Train/test indices grouped by repeat."""
        if isinstance(self.cv, (int, np.integer)):
            if self.cv < 2:
                raise InputError(f"'cv' must be at least 2 folds; got {self.cv}.")
            smallest_class = int(min(y.sum(), y.size - y.sum()))
            if smallest_class < self.cv:
                raise InputError(f"'cv' = {self.cv} stratified folds need at least {self.cv} patients in "
                                 f"each outcome class; the smaller class has {smallest_class}.")
            splitter = (RepeatedStratifiedKFold(n_splits=self.cv, n_repeats=self.n_repeats,
                                                random_state=self.random_state)
                        if self.n_repeats > 1 else
                        StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state))
            folds = list(splitter.split(X, y))
            return [folds[i:i + self.cv] for i in range(0, len(folds), self.cv)]
        return [list(self.cv.split(X, y))]

    def fit(self, X, y):
        if self.lambda_rule not in ("min", "1se"):
            raise InputError(f"'lambda_rule' must be 'min' or '1se'; got {self.lambda_rule!r}.")
        if self.scoring != "deviance":
            raise InputError(f"'scoring' must be 'deviance' (cv.glmnet type.measure); got {self.scoring!r}.")
        values, names = _feature_matrix(X)
        y = binary_outcome(y, "y").astype(float)
        if values.shape[0] != y.size:
            raise InputError(f"'X' has {values.shape[0]} rows but 'y' has {y.size} values.")
        standardised = _Standardised.of(values, names)
        lambdas = (default_lambdas(values, y, self.n_lambdas) if self.lambdas is None
                   else np.sort(np.asarray(self.lambdas, dtype=float))[::-1])
        default_path = self.lambdas is None
        lambdas, intercepts, betas = _path(standardised.values, y, lambdas, stop_early=default_path)

        mean_deviance, se = [], []
        for repeat in self._folds(values, y):
            fold_deviance, fold_size = [], []
            for train, test in repeat:
                fold = _Standardised.of(values[train], names)
                # as cv.glmnet: each fold follows its own default path (or the lambdas given),
                # read off at the full-data lambdas by linear interpolation in lambda, and at
                # its last fit below the lambdas where it stopped (predict.glmnet, lambda.interp)
                fold_lambdas = _default_path(fold.values, y[train], self.n_lambdas) if default_path else lambdas
                fold_intercepts, fold_betas = _interpolate(
                    *_path(fold.values, y[train], fold_lambdas, stop_early=default_path), lambdas)
                eta = fold_intercepts[:, None] + fold_betas @ ((values[test] - fold.mean) / fold.scale).T
                probability = np.clip(special.expit(eta), _CV_PROBABILITY_CLIP, 1 - _CV_PROBABILITY_CLIP)
                deviance = -2 * (y[test] * np.log(probability) + (1 - y[test]) * np.log(1 - probability))
                fold_deviance.append(deviance.mean(axis=1))
                fold_size.append(test.size)
            fold_deviance, weights = np.array(fold_deviance), np.array(fold_size, dtype=float)
            cvm = weights @ fold_deviance / weights.sum()
            mean_deviance.append(cvm)
            se.append(np.sqrt((weights @ (fold_deviance - cvm) ** 2) / weights.sum() / (len(repeat) - 1)))
        mean_deviance, se = np.mean(mean_deviance, axis=0), np.mean(se, axis=0)

        best = int(np.argmin(mean_deviance))
        self.lambda_min_ = float(lambdas[best])
        self.lambda_1se_ = float(lambdas[mean_deviance <= mean_deviance[best] + se[best]].max())
        self.lambda_ = self.lambda_min_ if self.lambda_rule == "min" else self.lambda_1se_
        chosen = int(np.flatnonzero(lambdas == self.lambda_)[0])

        original = [standardised.original_scale(b0, beta) for b0, beta in zip(intercepts, betas)]
        self.lambdas_ = lambdas
        self.path_ = pd.DataFrame([coefficients for _, coefficients in original], columns=names,
                                  index=pd.Index(lambdas, name="lambda"))
        self.path_.insert(0, "intercept", [intercept for intercept, _ in original])
        self.cv_results_ = pd.DataFrame({"lambda": lambdas, "mean_deviance": mean_deviance, "se": se,
                                         "n_nonzero": np.count_nonzero(betas, axis=1)})
        self.intercept_, coefficients = original[chosen]
        self.coef_ = pd.Series(coefficients, index=names)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X) -> np.ndarray:
        """The rad-score: intercept + sum of coefficient x feature."""
        check_is_fitted(self, "coef_")
        values, names = _feature_matrix(X)
        if values.shape[1] != self.n_features_in_:
            raise InputError(f"'X' has {values.shape[1]} features; the rad-score was fitted on {self.n_features_in_}.")
        if isinstance(X, pd.DataFrame) and names != list(self.feature_names_in_):
            raise InputError("The feature columns of 'X' differ from those the rad-score was fitted on "
                             f"(first difference: {next(a for a, b in zip(names, self.feature_names_in_) if a != b)!r}).")
        return self.intercept_ + values @ self.coef_.to_numpy()

    def transform(self, X) -> np.ndarray:
        """The rad-score as one column (for use inside a Pipeline)."""
        return self.decision_function(X)[:, None]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(["rad_score"], dtype=object)

    def predict_proba(self, X) -> np.ndarray:
        probability = special.expit(self.decision_function(X))
        return np.column_stack([1 - probability, probability])

    def predict(self, X) -> np.ndarray:
        return (self.decision_function(X) >= 0).astype(int)

    def formula(self, digits: int = 4) -> str:
        """``Rad-score = b0 + b1 × feature_1 - b2 × feature_2 ...`` with ``digits`` significant
        digits (significant, not decimal, because features differ in scale by orders of magnitude)."""
        check_is_fitted(self, "coef_")
        terms = [_signed_term(value, name, digits) for name, value in self.coef_.items() if value != 0]
        return " ".join([f"Rad-score = {self.intercept_:.{digits}g}", *terms])
