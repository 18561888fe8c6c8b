"""Bootstrap internal validation of a Cox model: Harrell's optimism correction, as ``rms``.

:func:`cox_validate` -- ``rms::validate(cph(...), B = n_boot)``: Somers' Dxy, Nagelkerke's
R2, the calibration slope, discrimination D, unreliability U, quality Q = D - U and the
g-index, each apparent, averaged over the bootstrap models on their own samples (training)
and on the original patients (test), the optimism (training - test) and the corrected index.

:func:`cox_calibrate` -- ``rms::calibrate(cph(..., surv = TRUE, time.inc = t), u = t,
cmethod = "KM", m = n / groups, B = n_boot)``: the grouped calibration at t
(:func:`~stsanalysis.stats.calibration_survival.survival_calibration`'s risk groups) with
the optimism of KM - predicted in each group and the optimism-corrected observed S(t).

Each replicate refits the Cox model (:func:`~stsanalysis.stats.cox.cox_regression`, Efron
ties) on a bootstrap sample. The draws are NumPy's (``seed``) or given as ``indices``, an
(n_boot, n) array of 0-based rows, so that R's draws can be replayed: ``set.seed(s)`` then
``sample(n, replace = TRUE)`` per replicate are exactly the draws of ``validate`` and
``calibrate`` after that ``set.seed(s)``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import require_columns
from ._horizon import horizons, prediction_data
from ._result import Result
from .calibration_survival import (
    _check_groups,
    _grouped_km,
    _grouped_table,
    _one_time,
    _risk_group_cuts,
    _warn_groups_without_estimate,
)
from .concordance import _pair_influence
from .cox import CoxResult, cox_regression
from .survival import SurvivalWarning, _z_value

__all__ = ["CoxCalibration", "CoxValidation", "cox_calibrate", "cox_validate"]

VALIDATION_INDEXES = ("Dxy", "R2", "Slope", "D", "U", "Q", "g")
#: rms::calibrate's Cox refit fails, and its distance is NA, with fewer events than this
_MIN_EVENTS = 5


# --------------------------------------------------------------------------------------------
# bootstrap draws and refits


def _bootstrap_draws(n: int, n_boot, seed, indices) -> np.ndarray:
    """(n_boot, n) 0-based rows: ``indices`` checked, else NumPy's draws with ``seed``."""
    if indices is None:
        if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
            raise InputError(f"'n_boot' must be a positive integer; got {n_boot!r}.")
        return np.random.default_rng(seed).integers(0, n, size=(int(n_boot), n))
    draws = np.asarray(indices)
    if draws.ndim != 2 or draws.shape[1] != n or draws.shape[0] < 1:
        raise InputError(f"'indices' must be an (n_boot, n) array with n = {n} rows of the data; got shape {draws.shape}.")
    if not np.issubdtype(draws.dtype, np.integer) or draws.min() < 0 or draws.max() >= n:
        raise InputError(
            f"'indices' must hold 0-based row numbers from 0 to {n - 1} (R's sample() draws minus 1); "
            f"got values from {draws.min()} to {draws.max()}."
        )
    return draws


@dataclasses.dataclass
class _BootstrapLog:
    """Replicates skipped (refit impossible) and refits that warned, reported once at the end."""

    failed: int = 0
    warned: int = 0
    first_warning: str = ""

    def report(self, n_boot: int, what: str) -> None:
        if self.failed:
            warnings.warn(
                f"{self.failed} of {n_boot} bootstrap samples could not be refitted ({what}); they are left out "
                "(rms: 'Divergence or singularity in ... samples'). Increase n_boot if many are lost.",
                SurvivalWarning,
                stacklevel=3,
            )
        if self.warned:
            warnings.warn(
                f"{self.warned} of {n_boot} bootstrap refits warned and were kept, as rms keeps them (first: {self.first_warning})",
                SurvivalWarning,
                stacklevel=3,
            )


def _bootstrap_fits(frame, duration, event, covariates, draws, log: _BootstrapLog, min_events=1) -> Iterator:
    """Yield (rows, sample, fit) per replicate whose Cox refit succeeds with >= ``min_events`` events."""
    for rows in draws:
        sample = frame.iloc[rows].reset_index(drop=True)
        if sample[event].sum() < min_events:
            log.failed += 1
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = cox_regression(sample, duration, event, covariates, what="a bootstrap sample")
            except (InputError, np.linalg.LinAlgError):  # constant or collinear covariates in the sample
                log.failed += 1
                continue
        if caught:
            log.warned += 1
            log.first_warning = log.first_warning or str(caught[0].message)
        yield rows, sample, fit


def _model_frame(data: pd.DataFrame, duration: str, event: str, covariates) -> tuple[pd.DataFrame, list[str]]:
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"'data' must be a DataFrame; got {type(data).__name__}.")
    require_columns(data, [duration, event, *covariates], "data")
    return data[[duration, event, *covariates]].reset_index(drop=True), covariates


# --------------------------------------------------------------------------------------------
# validate


def _gini_mean_difference(values: np.ndarray) -> float:
    """Gini's mean difference, mean |x_i - x_j| over i != j, as ``Hmisc::GiniMd``."""
    n = values.size
    return float(2 * np.sort(values) @ (2 * np.arange(1, n + 1) - n - 1) / (n * (n - 1)))


def _dxy(time, event, linear_predictor) -> float:
    """Somers' Dxy (higher lp = shorter survival), as ``rms:::dxy.cens(lp, Surv, type = "hazard")``."""
    return float(2 * _pair_influence(time, event, linear_predictor)[0] - 1)


def _indexes(dxy, lr, ll0, n, slope, u, g) -> np.ndarray:
    """rms's discrim(): R2 = (1 - exp(-LR / n)) / (1 - exp(-ll0 / n)), D = (LR - 1) / ll0, Q = D - U."""
    r2 = (1 - np.exp(-lr / n)) / (1 - np.exp(-ll0 / n))
    d = (lr - 1) / ll0
    return np.array([dxy, r2, slope, d, u, d - u, g])


def _apparent_indexes(fit: CoxResult) -> np.ndarray:
    """Indexes of a fit on its own data (``evalfit = TRUE``): slope 1, U = -2 / ll0."""
    ll0 = -2 * fit.log_likelihood_null
    lr = 2 * (fit.log_likelihood - fit.log_likelihood_null)
    lp = fit.linear_predictor
    return _indexes(_dxy(fit.time, fit.event, lp), lr, ll0, fit.n, 1.0, -2 / ll0, _gini_mean_difference(lp))


def _efron_partial_likelihood(time, event, x, beta: float) -> tuple[float, float, float]:
    """Log partial likelihood, score and information of a one-covariate Cox model (Efron ties).

    Vectorised over the deaths: the k-th of the d deaths at a time removes k/d of the deaths'
    risk from the risk set, as coxph's Efron approximation.
    """
    risk = np.exp(beta * x)
    order = np.argsort(time, kind="stable")

    def at_or_after(weights):
        return np.concatenate((np.cumsum(weights[order][::-1])[::-1], [0.0]))

    event_times, which = np.unique(time[event == 1], return_inverse=True)
    first = np.searchsorted(time[order], event_times, side="left")
    dying = event == 1
    n_dying = np.bincount(which)
    sums = [at_or_after(risk * x**power)[first] for power in range(3)]
    dying_sums = [np.bincount(which, weights=(risk * x**power)[dying]) for power in range(3)]
    time_of_term = np.repeat(np.arange(event_times.size), n_dying)
    fraction = (np.arange(time_of_term.size) - np.repeat(np.cumsum(n_dying) - n_dying, n_dying)) / n_dying[time_of_term]
    s0, s1, s2 = (total[time_of_term] - fraction * died[time_of_term] for total, died in zip(sums, dying_sums))
    mean = s1 / s0
    log_likelihood = beta * x[dying].sum() - np.log(s0).sum()
    return float(log_likelihood), float(x[dying].sum() - mean.sum()), float((s2 / s0 - mean**2).sum())


def _recalibration_slope(time, event, x) -> float:
    """Maximum partial-likelihood coefficient of the outcome on x (Newton-Raphson from 0)."""
    slope = 0.0
    for _ in range(50):
        _, score, information = _efron_partial_likelihood(time, event, x, slope)
        step = score / information
        slope += step
        if abs(step) < 1e-12:
            return slope
    warnings.warn(
        "The recalibration slope of a bootstrap model did not converge in 50 Newton steps (its linear predictor "
        "separates the events); that replicate's slope is unreliable.",
        SurvivalWarning,
        stacklevel=4,
    )
    return slope


def _test_indexes(time, event, linear_predictor) -> np.ndarray:
    """Indexes of a bootstrap model's lp on the original patients: Cox refit of the outcome on lp.

    The slope is the refit's coefficient; U = -2 (loglik(1) - loglik(slope)) / ll0 compares
    the lp taken as is with the recalibrated one; g is GiniMd(slope * lp).
    """
    slope = _recalibration_slope(time, event, linear_predictor)
    log_likelihood, null, frozen = (_efron_partial_likelihood(time, event, linear_predictor, beta)[0] for beta in (slope, 0.0, 1.0))
    ll0, lr = -2 * null, 2 * (log_likelihood - null)
    u = -2 * (frozen - log_likelihood) / ll0
    return _indexes(_dxy(time, event, linear_predictor), lr, ll0, time.size, slope, u, _gini_mean_difference(slope * linear_predictor))


def _optimism_table(index_orig: np.ndarray, training: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    """Means over the replicates where both training and test are defined (rms's ``num``)."""
    defined = ~np.isnan(training + test)
    n_boot = defined.sum(axis=0)
    with np.errstate(invalid="ignore"):
        training_mean = np.where(defined, training, 0).sum(axis=0) / n_boot
        test_mean = np.where(defined, test, 0).sum(axis=0) / n_boot
    optimism = training_mean - test_mean
    return {
        "index_orig": index_orig,
        "training": training_mean,
        "test": test_mean,
        "optimism": optimism,
        "corrected": index_orig - optimism,
        "n_boot": n_boot,
    }


@dataclasses.dataclass(frozen=True, repr=False)
class CoxValidation(Result):
    """Bootstrap validation of a Cox model (:func:`cox_validate`).

    ``table``: one row per index (Dxy, R2, Slope, D, U, Q, g) with index_orig (apparent),
    training, test, optimism, corrected (index_orig - optimism) and n_boot (replicates
    used), the columns of ``rms::validate`` (``index.corrected`` = corrected, ``n`` = n_boot).
    The scalar fields repeat the main corrected values.
    """

    table: pd.DataFrame
    dxy_corrected: float
    c_index_corrected: float
    slope_corrected: float
    r2_corrected: float
    n_boot: int
    n_boot_successful: int
    seed: int | None


def cox_validate(
    data: pd.DataFrame, duration: str, event: str, covariates, n_boot: int = 200, seed: int | None = None, *, indices=None
) -> CoxValidation:
    """Harrell's bootstrap optimism correction of a Cox model, as ``rms::validate(cph, B = n_boot)``.

    The model ``Surv(duration, event) ~ covariates`` (Efron ties) is refitted on each
    bootstrap sample and its indexes computed on that sample (training) and, with its
    linear predictor lp, on the original patients (test), as rms's ``validate.cph``:

    - Dxy: Somers' rank correlation of lp with survival (higher lp = shorter survival),
      = 2 C - 1 for Harrell's C (``dxy.cens(lp, Surv, type = "hazard")``);
    - R2: Nagelkerke's, (1 - exp(-LR / n)) / (1 - exp(-ll0 / n)), LR the model chi-square
      and ll0 = -2 log partial likelihood at beta = 0;
    - Slope: coefficient of a Cox refit of the outcome on lp (1 in training);
    - D = (LR - 1) / ll0, U = -2 (loglik(lp) - loglik(slope lp)) / ll0 (-2 / ll0 in
      training), Q = D - U; g: Gini's mean difference of slope * lp.

    rms refits with a loose convergence (eps = 1e-4); here every fit converges fully, so the
    bootstrap means differ from rms's by ~1e-5 on the same draws. ``indices`` (n_boot x n,
    0-based) replays given draws instead of NumPy's (``n_boot``, ``seed``). Samples whose
    refit fails (a covariate constant in the sample) are left out with a warning.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> data = pd.DataFrame({"size_cm": rng.normal(6, 2, 80), "age": rng.normal(60, 10, 80)})
    >>> event_time = rng.exponential(40 * np.exp(-0.3 * (data["size_cm"] - 6)))
    >>> censor_time = rng.uniform(12, 60, 80)
    >>> data["months"], data["death"] = np.minimum(event_time, censor_time), (event_time <= censor_time).astype(int)
    >>> result = cox_validate(data, "months", "death", ["size_cm", "age"], n_boot=10, seed=1)
    >>> result.table.set_index("index").loc[["Dxy", "Slope"], ["index_orig", "optimism", "corrected"]].round(3)
           index_orig  optimism  corrected
    index
    Dxy          0.23     0.098      0.132
    Slope        1.00     0.262      0.738
    """
    frame, covariates = _model_frame(data, duration, event, covariates)
    fit = cox_regression(frame, duration, event, covariates)
    time, status = fit.time, fit.event
    draws = _bootstrap_draws(time.size, n_boot, seed, indices)
    log = _BootstrapLog()
    training, test = [], []
    for _, _, boot_fit in _bootstrap_fits(frame, duration, event, covariates, draws, log):
        training.append(_apparent_indexes(boot_fit))
        test.append(_test_indexes(time, status, boot_fit.linear_predictor_of(frame)))
    if not training:
        raise InputError("No bootstrap sample could be refitted; check the covariates (constant or collinear ones).")
    log.report(len(draws), "a covariate constant or collinear in the sample")
    columns = _optimism_table(_apparent_indexes(fit), np.array(training), np.array(test))
    table = pd.DataFrame({"index": list(VALIDATION_INDEXES), **columns})
    corrected = dict(zip(VALIDATION_INDEXES, columns["corrected"]))
    return CoxValidation(
        table=table,
        dxy_corrected=float(corrected["Dxy"]),
        c_index_corrected=float(corrected["Dxy"] / 2 + 0.5),
        slope_corrected=float(corrected["Slope"]),
        r2_corrected=float(corrected["R2"]),
        n_boot=len(draws),
        n_boot_successful=len(training),
        seed=seed,
    )


# --------------------------------------------------------------------------------------------
# calibrate


def _observed_minus_predicted(time, event, predicted, cuts, t) -> np.ndarray:
    """rms::calibrate's distance: KM S(t) - mean predicted S(t) per group (NaN below 5 events)."""
    if event.sum() < _MIN_EVENTS:
        return np.full(cuts.size - 1, np.nan)
    groups = _grouped_km(time, event, predicted, cuts, t)
    return groups["observed"] - groups["mean_predicted"]


@dataclasses.dataclass(frozen=True, repr=False)
class CoxCalibration(Result):
    """Bootstrap-corrected calibration of a Cox model at ``t`` (:func:`cox_calibrate`).

    ``table``: one row per risk group with the grouped calibration of the apparent
    predictions (group, cut_low, cut_high, n, n_event, mean_predicted, observed, std_error,
    ci_low, ci_high, as :func:`survival_calibration`) and, for the difference observed -
    predicted: index_orig (apparent), training, test, optimism, corrected (index_orig -
    optimism), observed_corrected (observed - optimism) and n_boot (replicates used).
    rms::calibrate names: mean.predicted, KM, std.err, index.orig, training, test,
    mean.optimism, mean.corrected, KM.corrected, n. ``predicted``: each patient's
    apparent S(t).
    """

    t: float
    table: pd.DataFrame
    predicted: np.ndarray
    groups: int
    n_boot: int
    n_boot_successful: int
    seed: int | None


def cox_calibrate(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates,
    t: float,
    n_boot: int = 200,
    seed: int | None = None,
    groups: int = 5,
    *,
    indices=None,
    conf_level: float = 0.95,
) -> CoxCalibration:
    """Bootstrap optimism-corrected calibration at t, as ``rms::calibrate(cph(..., x = TRUE,
    y = TRUE, surv = TRUE, time.inc = t), u = t, cmethod = "KM", m = n / groups, B = n_boot)``.

    The apparent predictions S(t | x) of the Cox model (Efron ties and baseline hazard) are
    cut into ``groups`` risk groups as :func:`survival_calibration` (rms's cuts); in each,
    index = Kaplan-Meier S(t) - mean predicted S(t). Each bootstrap model predicts S(t) for
    its own sample (training) and for the original patients (test), grouped with the
    original cuts; optimism = mean training index - mean test index and the corrected
    observed S(t) = KM - optimism. As rms, a sample with fewer than 5 events is left out,
    and a group without a Kaplan-Meier estimate at t in a replicate is left out of that
    group's means. ``indices`` (n_boot x n, 0-based) replays given draws.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> data = pd.DataFrame({"size_cm": rng.normal(6, 2, 80), "age": rng.normal(60, 10, 80)})
    >>> event_time = rng.exponential(40 * np.exp(-0.3 * (data["size_cm"] - 6)))
    >>> censor_time = rng.uniform(12, 60, 80)
    >>> data["months"], data["death"] = np.minimum(event_time, censor_time), (event_time <= censor_time).astype(int)
    >>> result = cox_calibrate(data, "months", "death", ["size_cm", "age"], t=24, n_boot=10, seed=1, groups=3)
    >>> result.table[["n", "mean_predicted", "observed", "observed_corrected"]].round(3)
        n  mean_predicted  observed  observed_corrected
    0  26           0.407     0.479               0.513
    1  27           0.567     0.417               0.420
    2  27           0.692     0.770               0.710
    """
    frame, covariates = _model_frame(data, duration, event, covariates)
    time, status = prediction_data(frame[duration], frame[event], names=(duration, event))
    (t,) = horizons([_one_time(t)], time, status)
    groups = _check_groups(groups)
    fit = cox_regression(frame, duration, event, covariates)
    predicted = fit.predict_survival(frame, [t]).to_numpy()[:, 0]
    apparent = _grouped_table(time, status, predicted, t, groups, _z_value(conf_level))
    _warn_groups_without_estimate(apparent, t)
    cuts = _risk_group_cuts(predicted, groups)
    draws = _bootstrap_draws(time.size, n_boot, seed, indices)
    log = _BootstrapLog()
    training, test = [], []
    for rows, sample, boot_fit in _bootstrap_fits(frame, duration, event, covariates, draws, log, _MIN_EVENTS):
        try:
            boot_predicted = boot_fit.predict_survival(pd.concat([sample, frame]), [t]).to_numpy()[:, 0]
        except InputError:  # t beyond the sample's follow-up
            log.failed += 1
            continue
        training.append(_observed_minus_predicted(time[rows], status[rows], boot_predicted[: rows.size], cuts, t))
        test.append(_observed_minus_predicted(time, status, boot_predicted[rows.size :], cuts, t))
    if not training:
        raise InputError(f"No bootstrap sample could be refitted with {_MIN_EVENTS} or more events and follow-up to {t:g}.")
    log.report(len(draws), f"fewer than {_MIN_EVENTS} events, follow-up ending before {t:g}, or a constant covariate")
    index_orig = (apparent["observed"] - apparent["mean_predicted"]).to_numpy()
    columns = _optimism_table(index_orig, np.array(training), np.array(test))
    table = apparent.assign(**{name: values for name, values in columns.items() if name != "n_boot"})
    table["observed_corrected"] = table["observed"] - table["optimism"]
    table["n_boot"] = columns["n_boot"]
    return CoxCalibration(
        t=float(t), table=table, predicted=predicted, groups=groups, n_boot=len(draws), n_boot_successful=len(training), seed=seed
    )
