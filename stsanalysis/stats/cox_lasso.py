"""LASSO-Cox regression as glmnet (``family = "cox"``), and the rad-score estimator built on it.

The fit minimises glmnet's Cox objective

    -(1/n) l(beta) + lambda sum_j |beta_j|,

l the Breslow log partial likelihood (glmnet 4.1's only way with ties for right-censored data),
on features standardised to mean 0 and population SD 1 (divisor n); there is no intercept.
Coefficients are returned on the original feature scale, as ``coef(glmnet_fit)``. A patient
censored at an event time is at risk at that time (glmnet adds 100 machine epsilons to the
censored times).

The solver is the active-set Newton method of :mod:`~stsanalysis.stats.lasso` (the same
optimum as glmnet's coordinate descent, checked with thresh = 1e-14), warm-started along
the lambda path; ``_CoxLoss`` gives it the partial likelihood. Risk-set sums are reverse
cumulative sums over the patients sorted once by time, so a gradient and Hessian cost
O(n p) and O(n p^2) numpy operations.

glmnet's default path ends early by its own rules for the Cox family (coxnet in glmnet 4.1
src/coxnet5dpclean.f), which differ from the binomial ones: see ``_CoxLoss.path_ends``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..errors import InputError
from ._horizon import prediction_data
from ._result import Result
from .lasso import (
    _STOP_MAX_DEVIANCE_RATIO,
    _STOP_MIN_DEVIANCE_GAIN,
    _STOP_MIN_LAMBDAS,
    _default_path,
    _Diverged,
    _feature_matrix,
    _lasso_path,
    _positive_lambda,
    _Standardised,
)
from .radscore import _CrossValidatedLasso

# below this a risk-set sum of exp(eta - max eta) holds subnormal terms that are not negligible
_SMALLEST_RISK_SUM = np.finfo(float).tiny * 2.0**53


def _reverse_cumsum(values: np.ndarray) -> np.ndarray:
    """Sums from each row to the last (rows sorted by time: the risk-set sums)."""
    return np.cumsum(values[::-1], axis=0)[::-1]


class _CoxLoss:
    """-(1/n) Breslow log partial likelihood of the linear predictor; no unpenalised coefficient.

    The loss interface of :func:`~stsanalysis.stats.lasso._lasso_path` (see ``_BinomialLoss``).
    Linear predictors are taken and gradients returned in the caller's row order; inside,
    the patients are sorted by time once.
    """

    n_unpenalised = 0
    divergence = "the features nearly order the event times perfectly"

    def __init__(self, time: np.ndarray, event: np.ndarray, what: str = "the data"):
        if not event.any():
            raise InputError(f"There are no events in {what} ({time.size} patients, all censored); a Cox model needs events.")
        self.n = time.size
        self.order = np.argsort(time, kind="stable")
        sorted_time = time[self.order]
        self.event = event[self.order].astype(float)
        event_times, tied = np.unique(sorted_time[self.event == 1], return_counts=True)
        # risk set of each event time: the patients from the first one with time >= it
        self.risk_start = np.searchsorted(sorted_time, event_times, side="left")
        # number of event times at or before each patient's time (their cumulative hazard)
        self.n_event_times = np.searchsorted(event_times, sorted_time, side="right")
        self.tied = tied.astype(float)
        self.n_events = float(self.tied.sum())
        self.saturated = -float(self.tied @ np.log(self.tied))
        self.null = float(self.log_likelihood(np.zeros(self.n)))
        if self.saturated - self.null <= 1e-12 * self.n_events:
            raise InputError(
                f"The partial likelihood of {what} does not depend on the features: at every event time all patients "
                "still at risk have the event (e.g. the only events are at the last follow-up time); there is nothing to fit."
            )

    def start(self) -> np.ndarray:
        return np.zeros(0)

    def log_likelihood(self, eta: np.ndarray) -> np.ndarray:
        """Breslow log partial likelihood of ``eta`` (n, or n x lambdas): survival's
        ``coxph(ties = "breslow")`` loglik, glmnet's ``loglike``. The log risk-set sums are
        accumulated in log space, so that no linear predictor overflows or underflows."""
        eta = eta[self.order]
        log_risk_sums = np.logaddexp.accumulate(eta[::-1], axis=0)[::-1][self.risk_start]
        return self.event @ eta - self.tied @ log_risk_sums

    def value(self, eta: np.ndarray) -> float:
        return -self.log_likelihood(eta) / self.n

    def _expected(self, sorted_eta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Relative risks, their risk-set sums and each patient's expected number of events
        (relative risk x Breslow cumulative hazard), in time order."""
        risk = np.exp(sorted_eta - sorted_eta.max())
        risk_sums = _reverse_cumsum(risk)[self.risk_start]
        if risk_sums.min() < _SMALLEST_RISK_SUM:
            # a risk set whose relative risks underflow: glmnet stops with "convergence not reached"
            raise _Diverged
        cumulative_hazard = np.concatenate([[0.0], np.cumsum(self.tied / risk_sums)])
        return risk, risk_sums, risk * cumulative_hazard[self.n_event_times]

    def derivatives(self, design: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = design[self.order]
        risk, risk_sums, expected = self._expected(eta[self.order])
        gradient = z.T @ (expected - self.event) / self.n
        # the Hessian: sum over event times of d_k x the covariance of z in the risk set
        risk_set_means = _reverse_cumsum(risk[:, None] * z)[self.risk_start] / risk_sums[:, None]
        hessian = ((z.T * expected) @ z - (risk_set_means.T * self.tied) @ risk_set_means) / self.n
        return gradient, hessian

    def feature_gradient(self, Xs: np.ndarray, eta: np.ndarray) -> np.ndarray:
        residual = np.empty(self.n)
        residual[self.order] = self._expected(eta[self.order])[2] - self.event
        return Xs.T @ residual / self.n

    def curvature_bound(self, column: np.ndarray) -> float:
        # (1/n) sum_k d_k var_k(x), each risk-set variance at most range^2 / 4 (Popoviciu)
        return self.n_events / self.n * float(np.ptp(column)) ** 2 / 4

    def lambda_max(self, Xs: np.ndarray) -> float:
        """Smallest lambda at which every coefficient is 0: max_j |score_j(0)| / n."""
        return float(np.max(np.abs(self.feature_gradient(Xs, np.zeros(self.n)))))

    @staticmethod
    def log_spaced(lambda_max: float, ratio: float, n_lambdas: int) -> np.ndarray:
        """coxnet's default path: lambda_max times powers of ratio ** (1 / (n_lambdas - 1)), an
        exponent coxnet divides in single precision (the Fortran literal ``1.0`` is REAL), which
        moves the 100th lambda by ~1e-8 relative to double-precision spacing."""
        step = ratio ** float(np.float32(1.0) / np.float32(n_lambdas - 1))
        return np.cumprod(np.concatenate([[lambda_max], np.full(n_lambdas - 1, step)]))

    def deviance_ratio(self, eta: np.ndarray) -> float:
        """glmnet's ``dev.ratio``: (l(beta) - l(0)) / (l(saturated) - l(0))."""
        return (float(self.log_likelihood(eta)) - self.null) / (self.saturated - self.null)

    @staticmethod
    def path_ends(ratios: list[float], n_lambdas: int) -> bool:
        """glmnet 4.1 coxnet (src/coxnet5dpclean.f, ``coxnet1``), from the ``mnlam`` = 5th
        lambda on: stop when the fraction of deviance explained grew by less than a relative
        100 x ``fdev`` = 1e-3 over the last ``mnlam`` - 1 lambdas, or exceeds ``devmax`` x
        0.99 / 0.999 = 0.99. (glmnet also stops when more than ``dfmax`` features are in the
        model, never by default.)"""
        window = min(_STOP_MIN_LAMBDAS, n_lambdas)
        if len(ratios) < window or ratios[-1] == 0:
            return False  # glmnet's 0 / 0 compares false
        gain = (ratios[-1] - ratios[-window]) / ratios[-1]
        return gain < _STOP_MIN_DEVIANCE_GAIN * 100.0 or ratios[-1] > _STOP_MAX_DEVIANCE_RATIO * 0.99 / 0.999


def _cox_data(X, time, event, names=None, what: str = "the data") -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    values, feature_names = _feature_matrix(X)
    time, event = prediction_data(time, event, names=names, what=what)
    if values.shape[0] != time.size:
        raise InputError(f"'X' has {values.shape[0]} rows but the survival times have {time.size} values.")
    return values, feature_names, time, event


def default_cox_lambdas(X, time, event, n_lambdas: int = 100) -> np.ndarray:
    """glmnet's default Cox path: lambda_max (the largest |score| of a standardised feature
    at beta = 0, over n) down to lambda_max x ratio, log-spaced; ratio 1e-4 when n >= p, 0.01
    when n < p (``lambda.min.ratio``), as ``glmnet(X, Surv(time, event), family = "cox")$lambda``
    before its path ends early.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.2], [2.0, 0.1], [3.0, 0.4], [4.0, 0.3], [5.0, 0.6], [6.0, 0.5]])
    >>> lambdas = default_cox_lambdas(X, [5, 8, 2, 9, 4, 3], [1, 0, 1, 1, 1, 0], n_lambdas=5)
    >>> round(float(lambdas[0]), 4), round(float(lambdas[-1] / lambdas[0]), 8)
    (0.3416, 0.0001)
    """
    values, names, time, event = _cox_data(X, time, event)
    return _default_path(_CoxLoss(time, event), _Standardised.of(values, names).values, n_lambdas)


@dataclasses.dataclass(frozen=True, repr=False)
class LassoCoxResult(Result):
    """A LASSO-Cox fit at one lambda: ``coefficients`` on the original feature scale,
    ``log_likelihood`` the Breslow log partial likelihood at them, ``deviance`` and
    ``null_deviance`` the partial-likelihood deviances 2 (l_saturated - l) of the fit and of
    beta = 0 (``coxnet.deviance``), ``deviance_ratio`` glmnet's ``dev.ratio`` (fraction of the
    null deviance explained)."""

    coefficients: pd.Series
    lam: float
    n_nonzero: int
    log_likelihood: float
    deviance: float
    null_deviance: float
    deviance_ratio: float


def lasso_cox(X, time, event, lam: float) -> LassoCoxResult:
    """LASSO-Cox regression at ``lam``, as ``coef(glmnet(X, Surv(time, event), family = "cox",
    alpha = 1, standardize = TRUE, lambda = lam))`` (exact solution, not interpolated).

    ``time`` must be positive and present, ``event`` 1 = event, 0 = censored; a feature
    constant in ``X`` is an error naming it (glmnet would give it coefficient 0 silently).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> X = rng.normal(size=(40, 3))
    >>> time = np.round(rng.exponential(np.exp(-X[:, 0])) * 12, 1) + 0.1
    >>> fit = lasso_cox(X, time, np.ones(40), lam=0.1)
    >>> fit.n_nonzero, fit.coefficients.round(3).tolist()
    (1, [0.947, 0.0, 0.0])
    """
    values, names, time, event = _cox_data(X, time, event)
    _positive_lambda(lam)
    standardised = _Standardised.of(values, names)
    loss = _CoxLoss(time, event)
    _, _, betas = _lasso_path(loss, standardised.values, np.array([lam]), stop_early=False)
    coefficients = betas[0] / standardised.scale
    eta = standardised.values @ betas[0]
    return LassoCoxResult(
        coefficients=pd.Series(coefficients, index=names),
        lam=float(lam),
        n_nonzero=int(np.count_nonzero(coefficients)),
        log_likelihood=float(loss.log_likelihood(eta)),
        deviance=2 * (loss.saturated - float(loss.log_likelihood(eta))),
        null_deviance=2 * (loss.saturated - loss.null),
        deviance_ratio=loss.deviance_ratio(eta),
    )


def _survival_outcome(y) -> tuple[object, object, tuple[str, str]]:
    """Time and event columns of ``y``: a two-column DataFrame (names from its columns) or array."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 2:
            raise InputError(f"'y' must have two columns, survival time then event; got {y.shape[1]} columns {list(y.columns)[:5]}.")
        return y.iloc[:, 0], y.iloc[:, 1], (str(y.columns[0]), str(y.columns[1]))
    array = np.asarray(y, dtype=float)
    if array.ndim != 2 or array.shape[1] != 2:
        raise InputError(f"'y' must have two columns, survival time then event (1 = event, 0 = censored); got shape {array.shape}.")
    return array[:, 0], array[:, 1], ("time", "event")


class LassoCoxRadScore(_CrossValidatedLasso):
    """Rad-score by LASSO-Cox regression with lambda chosen by cross-validation.

    Follows ``cv.glmnet(X, Surv(time, event), family = "cox", type.measure = "deviance")``
    with its default ``grouped = TRUE``: the lambda path is computed on all training data
    and ends early by glmnet's Cox rules (``_CoxLoss.path_ends``; lambdas given in
    ``lambdas`` are all fitted). Every fold is fitted along its own default path (or the
    lambdas given) and read off at the full-data lambdas by linear interpolation, and at its
    smallest-lambda fit where its path stopped earlier. A fold's deviance is the partial-
    likelihood deviance of all data minus that of the training part, both at the fold's
    coefficients (glmnet's ``buildPredmat.coxnetlist``, Verweij & van Houwelingen 1993), per
    event of the held-out part; ``mean_deviance`` (cvm) is the mean over folds weighted by
    their events and ``se`` (cvsd) = sqrt(weighted variance / (folds - 1)). A held-out part
    without events has weight 0, as in cv.glmnet. ``lambda_rule="min"`` takes the lambda
    with the smallest mean deviance, ``"1se"`` the largest lambda within one SE of it.

    ``fit(X, y)``: ``y`` holds two columns, the survival time then the event (1 = event,
    0 = censored), as a DataFrame (its column names appear in error messages) or an
    (n, 2) array, so that the estimator fits in a scikit-learn Pipeline. Times must be
    positive and present; a feature constant in the training data, or in the training part
    of a fold, is an error naming it (glmnet would silently give it coefficient 0).

    ``cv`` is the number of folds stratified on the event indicator (shuffled with
    ``random_state``), or any scikit-learn splitter, e.g. ``PredefinedSplit(fold_ids)`` to
    reproduce a cv.glmnet run with ``foldid``. With an integer ``cv`` and ``n_repeats`` > 1
    the folds are redrawn per repeat and the mean deviance and the SE are averaged over
    repeats.

    After ``fit``: ``coef_`` (Series by feature, original scale), ``lambda_``,
    ``lambda_min_``, ``lambda_1se_``, ``lambdas_``, ``cv_results_`` (lambda, mean_deviance,
    se, n_nonzero), ``path_`` (coefficients per lambda, original scale; index lambda).
    ``transform``/``decision_function`` give the rad-score, the linear predictor
    sum_j beta_j x_j, uncentred as ``predict(fit, newx, type = "link")`` (higher = higher
    hazard; ``survival::coxph``'s predict would subtract its mean in the training data,
    which changes no ranking, C-index or hazard ratio per unit); ``formula()`` writes it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(80, 4)), columns=["glcm_contrast", "firstorder_mean", "shape_volume", "noise"])
    >>> hazard = np.exp(X["glcm_contrast"] - 0.7 * X["shape_volume"])
    >>> time, censored = rng.exponential(24 / hazard), rng.uniform(6, 60, 80)
    >>> y = pd.DataFrame({"months": np.minimum(time, censored).round(1) + 0.1, "death": (time <= censored).astype(int)})
    >>> model = LassoCoxRadScore(cv=5, lambda_rule="1se", random_state=1).fit(X, y)
    >>> print(model.formula(digits=2))
    Rad-score = 0.6 × glcm_contrast - 0.3 × shape_volume
    >>> model.transform(X.head(2)).round(2).ravel().tolist()
    [-0.11, -0.71]
    """

    def fit(self, X, y):
        self._check_lambda_rule()
        time, event, columns = _survival_outcome(y)
        values, names, time, event = _cox_data(X, time, event, names=columns, what="the training data")
        standardised = _Standardised.of(values, names)
        loss = _CoxLoss(time, event, "the training data")
        lambdas, _, betas = _lasso_path(
            loss, standardised.values, self._lambda_grid(loss, standardised.values), stop_early=self.lambdas is None
        )

        def held_out(train, test, fold, fold_loss, _, fold_betas):
            eta = fold.transform(values) @ fold_betas.T
            full = 2 * (loss.saturated - loss.log_likelihood(eta))
            training_part = 2 * (fold_loss.saturated - fold_loss.log_likelihood(eta[train]))
            n_events = int(event[test].sum())
            return ((full - training_part) / n_events if n_events else np.zeros(lambdas.size)), n_events

        folds = self._folds(values, event, "event class (events, censored)")
        mean_deviance, se = self._cross_validate(
            values, names, folds, lambda train, what: _CoxLoss(time[train], event[train], what), lambdas, held_out, (time, event)
        )
        self._store(names, lambdas, betas, betas / standardised.scale, mean_deviance, se)
        return self

    def decision_function(self, X) -> np.ndarray:
        """The rad-score: sum of coefficient x feature (uncentred linear predictor)."""
        return self._feature_values(X) @ self.coef_.to_numpy()

    def formula(self, digits: int = 4) -> str:
        """``Rad-score = b1 × feature_1 - b2 × feature_2 ...`` with ``digits`` significant
        digits; no intercept (a Cox model has none)."""
        return self._formula(digits)
