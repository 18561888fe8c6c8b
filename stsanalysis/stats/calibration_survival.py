"""Calibration of predicted survival probabilities at a time horizon t.

Does a model that predicts 60 % two-year survival see 60 % of those patients alive at two
years? Two answers, both drawn with the predicted S(t) on the x axis and the observed S(t)
on the y axis (0..1):

- grouped: patients cut into risk groups by their predicted S(t), the mean prediction of
  each group against its Kaplan-Meier S(t) with a log-scale Greenwood CI, as ``rms::groupkm``
  with the groups of ``rms::calibrate(cph, cmethod = "KM", u = t, m = n / groups)``;
- smooth: Austin, Harrell & van Klaveren (2020, Stat Med 39:2714) -- a Cox model of the
  outcome on a restricted cubic spline (3 knots) of log(-log(S_pred(t))),
  ``rms::cph(Surv(time, event) ~ rcs(cll, 3))``, whose predicted S(t) is the observed
  survival of a patient with that prediction; the integrated calibration index (ICI) and
  E50 / E90 / Emax summarise |S_pred(t) - S_observed(t)| over the patients.

:func:`survival_calibration` computes both at one t, :func:`survival_calibration_summary`
at several times (the numbers a calibration figure draws). The bootstrap optimism
correction of a Cox model (``rms::calibrate``, ``rms::validate``) is in
:mod:`~stsanalysis.stats.cox_validation`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import probabilities, same_length
from ._horizon import horizons, prediction_data
from ._result import Result
from .cox import cox_regression
from .survival import SurvivalWarning, _survival_ci, _z_value

__all__ = ["SurvivalCalibration", "SurvivalCalibrationSummary", "survival_calibration", "survival_calibration_summary"]

#: rms compares times with this tolerance (``tt <= u + 1e-6`` in groupkm and cph)
_TIME_TOLERANCE = 1e-6
#: points of the smooth curve between the 1st and 99th percentile of the predictions
_GRID_SIZE = 100


# --------------------------------------------------------------------------------------------
# grouped: Kaplan-Meier S(t) per risk group


def _risk_group_cuts(predicted: np.ndarray, groups: int) -> np.ndarray:
    """``unique(quantile(c(0, 1, S), seq(0, 1, length = groups + 1)))``: the cuts of rms::calibrate.

    rms adds 0 and 1 to the predictions before taking the (type 7) quantiles, so the outer
    cuts are 0 and 1 and the inner ones are close to, not exactly, the quantiles of S.
    """
    return np.unique(np.quantile(np.concatenate(([0.0, 1.0], predicted)), np.linspace(0, 1, groups + 1)))


def _risk_groups(predicted: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Group index (0-based) as ``Hmisc::cut2(x, cuts)``: [cut_i, cut_i+1), the last closed."""
    return np.clip(np.searchsorted(cuts, predicted, side="right") - 1, 0, cuts.size - 2)


def _grouped_km(time, event, predicted, cuts, t) -> dict[str, np.ndarray]:
    """Per risk group: n, events, mean prediction, Kaplan-Meier S(t) and Greenwood SE of log S(t).

    As ``rms::groupkm(S, Surv(time, event), u = t, cuts = cuts)``, vectorised over the groups:
    predictions below 1e-10 count as 0; S(t) includes events up to t + 1e-6; a group with
    fewer than 2 patients, or followed up to before t while S > 0, has no estimate (NaN).
    """
    predicted = np.where(np.abs(predicted) < 1e-10, 0.0, predicted)
    n_groups = cuts.size - 1
    group = _risk_groups(predicted, cuts)
    n = np.bincount(group, minlength=n_groups)
    n_event = np.bincount(group, weights=event, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(group, weights=predicted, minlength=n_groups) / n
    distinct, inverse = np.unique(time, return_inverse=True)
    deaths = np.zeros((n_groups, distinct.size))
    removed = np.zeros((n_groups, distinct.size))
    np.add.at(deaths, (group, inverse), event)
    np.add.at(removed, (group, inverse), 1)
    at_risk = removed[:, ::-1].cumsum(axis=1)[:, ::-1]
    up_to_t = distinct <= t + _TIME_TOLERANCE
    deaths, at_risk = deaths[:, up_to_t], at_risk[:, up_to_t]
    with np.errstate(invalid="ignore", divide="ignore"):
        survival = np.prod(np.where(deaths > 0, 1 - deaths / at_risk, 1.0), axis=1)
        greenwood = np.sum(np.where(deaths > 0, deaths / (at_risk * (at_risk - deaths)), 0.0), axis=1)
    last_time = np.full(n_groups, -np.inf)
    np.maximum.at(last_time, group, time)
    no_estimate = (n < 2) | ((t > last_time + _TIME_TOLERANCE) & (survival > 0))
    return {
        "n": n,
        "n_event": n_event.astype(int),
        "mean_predicted": mean_predicted,
        "observed": np.where(no_estimate, np.nan, survival),
        "std_error": np.where(no_estimate, np.nan, np.sqrt(greenwood)),
    }


def _grouped_table(time, event, predicted, t, groups, z) -> pd.DataFrame:
    cuts = _risk_group_cuts(predicted, groups)
    columns = _grouped_km(time, event, predicted, cuts, t)
    with np.errstate(invalid="ignore"):
        ci_low, ci_high = _survival_ci(columns["observed"], columns["std_error"], z, "log")
    table = pd.DataFrame({"group": np.arange(1, cuts.size), "cut_low": cuts[:-1], "cut_high": cuts[1:], **columns})
    table["ci_low"], table["ci_high"] = ci_low, ci_high
    return table


# --------------------------------------------------------------------------------------------
# smooth: Cox model on a restricted cubic spline of log(-log S_pred(t))


def _rcs_knots(x: np.ndarray, n_knots: int) -> np.ndarray:
    """Knots of ``rms::rcs(x, n_knots)`` (``Hmisc::rcspline.eval``, fractied = 0.05).

    Quantiles 0.1, 0.5, 0.9 for 3 knots (0.05..0.95 for 4-6), the outer knots replaced by
    the 5th smallest and largest value below 100 observations; an extreme value shared by
    >= 5 % of the observations (when no inner value is) makes its neighbour the outer knot.
    """
    distinct = np.unique(x)
    if distinct.size - 2 <= n_knots:
        knots = distinct[1:-1]
        if knots.size < 3:
            raise InputError(
                f"The predicted survival has only {distinct.size} distinct values; the smooth calibration curve "
                f"needs at least 5 (it fits a spline with {n_knots} knots). Use the grouped calibration instead."
            )
        warnings.warn(
            f"{n_knots} knots requested with {distinct.size} distinct predictions; the knots are the {knots.size} "
            "inner values (as Hmisc::rcspline.eval).",
            SurvivalWarning,
            stacklevel=4,
        )
        return knots
    outer = 0.1 if n_knots == 3 else (0.05 if n_knots <= 6 else 0.025)
    values, counts = np.unique(x, return_counts=True)
    share = counts / x.size
    first, last, kept, n_inner = [], [], x, n_knots
    if share[1:-1].max(initial=-np.inf) < 0.05:
        if share[0] >= 0.05:
            first = [values[1]]
            kept, n_inner = kept[kept > values[1]], n_inner - 1
        if share[-1] >= 0.05:
            last = [values[-2]]
            kept, n_inner = kept[kept < values[-2]], n_inner - 1
    if n_inner == 1:
        knots = np.array([np.median(kept)])
    else:
        knots = np.quantile(kept, np.linspace(outer, 1 - outer, n_inner))
        if np.unique(knots).size < min(n_inner, 3):
            raise InputError(
                "The predicted survival has too many tied values to place the spline knots of the smooth "
                "calibration curve; use the grouped calibration instead."
            )
        if kept.size < 100:
            ordered = np.sort(kept)
            if not first:
                knots[0] = ordered[4]
            if not last:
                knots[-1] = ordered[-5]
    return np.unique(np.concatenate((first, knots, last)))


def _rcs_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """x and its nonlinear terms, as ``rcs()`` (Hmisc's norm = 2: scaled by (k_last - k_1)^(2/3))."""
    scale = (knots[-1] - knots[0]) ** (2 / 3)

    def cube(knot):
        return np.maximum((x - knot) / scale, 0) ** 3

    last, before_last = knots[-1], knots[-2]
    terms = [
        cube(knot) + ((before_last - knot) * cube(last) - (last - knot) * cube(before_last)) / (last - before_last) for knot in knots[:-2]
    ]
    return np.column_stack([x, *terms])


def _smooth_calibration(time, event, predicted, t, n_knots) -> dict:
    """Observed S(t) from ``cph(Surv(time, event) ~ rcs(log(-log(S_pred)), n_knots))`` at each
    patient and on a grid of 100 predictions (1st to 99th percentile), with ICI, E50, E90, Emax."""
    cll = np.log(-np.log(predicted))
    knots = _rcs_knots(cll, n_knots)
    names = ["cll", *(f"cll_{index}" for index in range(1, knots.size - 1))]
    frame = pd.DataFrame(_rcs_basis(cll, knots), columns=names)
    try:
        fit = cox_regression(frame.assign(time=time, event=event), "time", "event", names)
    except InputError as error:  # e.g. predictions so extreme that the spline model overflows
        raise InputError(
            f"The smooth calibration curve at t = {t:g} could not be fitted on predicted S(t) from {predicted.min():.3g} "
            f"to {predicted.max():.3g} ({error}). Predictions this extreme usually come from an overfitted model; "
            "check the model, or judge calibration by the grouped Kaplan-Meier estimates."
        ) from None
    observed = fit.predict_survival(frame, [t]).to_numpy()[:, 0]
    grid = np.linspace(*np.quantile(predicted, [0.01, 0.99]), _GRID_SIZE)
    grid_frame = pd.DataFrame(_rcs_basis(np.log(-np.log(grid)), knots), columns=names)
    grid_observed = fit.predict_survival(grid_frame, [t]).to_numpy()[:, 0]
    error = np.abs(predicted - observed)
    return {
        "curve": pd.DataFrame({"predicted": grid, "observed": grid_observed}),
        "smooth_observed": observed,
        "knots": knots,
        "ici": float(error.mean()),
        "e50": float(np.median(error)),
        "e90": float(np.quantile(error, 0.9)),
        "emax": float(error.max()),
    }


# --------------------------------------------------------------------------------------------
# public API


@dataclasses.dataclass(frozen=True, repr=False)
class SurvivalCalibration(Result):
    """Calibration of predicted survival at one time ``t`` (:func:`survival_calibration`).

    ``grouped``: one row per risk group -- group, cut_low, cut_high (the group holds
    predictions in [cut_low, cut_high), the last one closed), n, n_event (events over the
    whole follow-up, as groupkm), mean_predicted, observed (Kaplan-Meier S(t)), std_error
    (Greenwood SE of log S(t), groupkm's ``std.err``), ci_low, ci_high (exp(log S +- z SE),
    capped at 1). ``curve``: predicted, observed on 100 points from the 1st to the 99th
    percentile of the predictions (the smooth curve). ``predicted`` and ``smooth_observed``:
    per patient S_pred(t) and the smooth observed S(t); ``ici``, ``e50``, ``e90``, ``emax``:
    mean, median, 90th percentile and maximum of their absolute difference. ``knots``: the
    spline knots on the log(-log S) scale.
    """

    t: float
    grouped: pd.DataFrame
    curve: pd.DataFrame
    ici: float
    e50: float
    e90: float
    emax: float
    predicted: np.ndarray
    smooth_observed: np.ndarray
    knots: np.ndarray
    groups: int
    n: int
    n_event: int
    conf_level: float


def _check_groups(groups) -> int:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 2:
        raise InputError(f"'groups' must be an integer of at least 2; got {groups!r}.")
    return int(groups)


def _one_time(t) -> float:
    if np.ndim(t) != 0:
        raise InputError(f"'t' must be one prediction time; got {t!r}. Use survival_calibration_summary for several times.")
    return t


def _check_knots(knots) -> int:
    if isinstance(knots, bool) or not isinstance(knots, (int, np.integer)) or not 3 <= knots <= 7:
        raise InputError(f"'knots' must be an integer from 3 to 7 (the knots of rms::rcs); got {knots!r}.")
    return int(knots)


def _warn_groups_without_estimate(grouped: pd.DataFrame, t: float) -> None:
    for row in grouped[grouped["observed"].isna()].itertuples():
        warnings.warn(
            f"Risk group {row.group} (predicted S({t:g}) in [{row.cut_low:.3g}, {row.cut_high:.3g}], {row.n} patients) "
            f"has no Kaplan-Meier estimate at time {t:g}: fewer than 2 patients, or none followed up to {t:g} while "
            "some are still alive. Its observed S(t) is NaN (as rms::groupkm); use fewer groups or an earlier time.",
            SurvivalWarning,
            stacklevel=4,
        )


def _calibration_at(time, event, predicted, t, groups, knots, conf_level) -> SurvivalCalibration:
    """Both calibrations at one horizon, on validated inputs."""
    smooth = _smooth_calibration(time, event, predicted, t, knots)
    grouped = _grouped_table(time, event, predicted, t, groups, _z_value(conf_level))
    _warn_groups_without_estimate(grouped, t)
    return SurvivalCalibration(
        t=float(t),
        grouped=grouped,
        predicted=predicted,
        groups=groups,
        n=int(time.size),
        n_event=int(event.sum()),
        conf_level=conf_level,
        **smooth,
    )


def survival_calibration(
    time, event, predicted_survival, t: float, groups: int = 5, *, knots: int = 3, conf_level: float = 0.95
) -> SurvivalCalibration:
    """Grouped and smooth calibration of predicted survival S(t), with ICI / E50 / E90.

    Grouped: the patients are cut into ``groups`` risk groups at
    ``unique(quantile(c(0, 1, S), seq(0, 1, length = groups + 1)))`` (type 7 quantiles of the
    predictions with 0 and 1 added), each group holding the predictions in [cut, next cut)
    -- the grouping of ``rms::calibrate(cph, cmethod = "KM", u = t, m = n / groups)`` (its
    ``Hmisc::cut2``); tied cuts merge groups. Each group's observed S(t) is its
    Kaplan-Meier estimate, as ``rms::groupkm(S, Surv(time, event), u = t, cuts = cuts)``,
    with the Greenwood SE of log S and a log-scale CI at ``conf_level``.

    Smooth (Austin, Harrell & van Klaveren 2020): the Cox model
    ``cph(Surv(time, event) ~ rcs(log(-log(S)), knots))`` (Efron ties) and its predicted
    S(t) (``survest(fit, times = t)``: Efron baseline hazard, exp(-H)) as the observed
    survival of each prediction; ICI = mean |S - S_observed| over the patients, E50 the
    median, E90 the 90th percentile (type 7), Emax the maximum.

    ``predicted_survival`` holds each patient's S(t) at this ``t``, strictly between 0 and 1
    (e.g. one column of ``CoxResult.predict_survival``). ``t`` must lie within the follow-up
    and after an event.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(4)
    >>> risk = rng.normal(size=150)
    >>> event_time, censor_time = rng.exponential(20 * np.exp(-risk)), rng.uniform(10, 60, 150)
    >>> time, event = np.minimum(event_time, censor_time), (event_time <= censor_time).astype(int)
    >>> predicted = np.exp(-12 / 20 * np.exp(risk))  # the true S(12)
    >>> result = survival_calibration(time, event, predicted, t=12, groups=4)
    >>> result.grouped[["n", "mean_predicted", "observed"]].round(3)
        n  mean_predicted  observed
    0  37           0.130     0.135
    1  38           0.432     0.395
    2  38           0.630     0.550
    3  37           0.831     0.865
    >>> round(result.ici, 3)
    0.016
    """
    time, event = prediction_data(time, event)
    predicted = probabilities(predicted_survival, "predicted_survival")
    same_length(time=time, event=event, predicted_survival=predicted)
    (t,) = horizons([_one_time(t)], time, event)
    return _calibration_at(time, event, predicted, t, _check_groups(groups), _check_knots(knots), conf_level)


@dataclasses.dataclass(frozen=True, repr=False)
class SurvivalCalibrationSummary(Result):
    """Calibration at several times (:func:`survival_calibration_summary`): what a figure draws.

    ``grouped``, ``curve``: the tables of each :class:`SurvivalCalibration` stacked, with a
    first column ``time``; ``metrics``: time, ici, e50, e90, emax, n, n_event;
    ``calibrations``: the per-time results (also ``at(t)``).
    """

    times: tuple[float, ...]
    grouped: pd.DataFrame
    curve: pd.DataFrame
    metrics: pd.DataFrame
    calibrations: tuple[SurvivalCalibration, ...]
    groups: int

    def at(self, t: float) -> SurvivalCalibration:
        """The calibration at time ``t`` (one of ``times``)."""
        for calibration in self.calibrations:
            if np.isclose(calibration.t, t):
                return calibration
        raise InputError(f"No calibration at time {t!r}; the times are {list(self.times)}.")


def _predictions_by_time(predicted_survival, times) -> dict[float, object]:
    """{time: predictions} from a DataFrame with one column per time, or a mapping."""
    if not isinstance(predicted_survival, (pd.DataFrame, Mapping)):
        raise InputError(
            "'predicted_survival' must be a DataFrame with one column per time (as CoxResult.predict_survival) "
            f"or a mapping {{time: predictions}}; got {type(predicted_survival).__name__}."
        )
    columns = predicted_survival.columns if isinstance(predicted_survival, pd.DataFrame) else predicted_survival.keys()
    try:
        by_time = {float(column): predicted_survival[column] for column in columns}
    except (TypeError, ValueError):
        raise InputError(f"The columns of 'predicted_survival' must be the prediction times; got {list(columns)}.") from None
    if times is None:
        return by_time
    requested = {}
    for t in np.atleast_1d(np.asarray(times, dtype=float)):
        matches = [key for key in by_time if np.isclose(key, t)]
        if not matches:
            raise InputError(f"'predicted_survival' has no predictions at time {t:g}; its times are {list(by_time)}.")
        requested[float(t)] = by_time[matches[0]]
    return requested


def survival_calibration_summary(
    time, event, predicted_survival, times=None, groups: int = 5, *, knots: int = 3, conf_level: float = 0.95
) -> SurvivalCalibrationSummary:
    """:func:`survival_calibration` at each of ``times``, stacked for one calibration figure.

    ``predicted_survival``: a DataFrame with one column per time (the output of
    ``CoxResult.predict_survival(data, times)``, rows = patients) or a mapping
    ``{time: predictions}``; ``times`` picks some of them (default: all).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(4)
    >>> risk = rng.normal(size=150)
    >>> event_time, censor_time = rng.exponential(20 * np.exp(-risk)), rng.uniform(10, 60, 150)
    >>> time, event = np.minimum(event_time, censor_time), (event_time <= censor_time).astype(int)
    >>> predicted = {t: np.exp(-t / 20 * np.exp(risk)) for t in (6, 12)}
    >>> summary = survival_calibration_summary(time, event, predicted, groups=4)
    >>> summary.metrics[["time", "ici", "e90"]].round(3)
       time    ici    e90
    0   6.0  0.008  0.013
    1  12.0  0.016  0.029
    """
    time, event = prediction_data(time, event)
    groups, knots = _check_groups(groups), _check_knots(knots)
    by_time = _predictions_by_time(predicted_survival, times)
    checked = horizons(list(by_time), time, event)
    calibrations = []
    for t, values in zip(checked, by_time.values()):
        predicted = probabilities(values, f"predicted_survival at time {t:g}")
        same_length(time=time, event=event, predicted_survival=predicted)
        calibrations.append(_calibration_at(time, event, predicted, t, groups, knots, conf_level))
    metrics = pd.DataFrame(
        [{"time": c.t, "ici": c.ici, "e50": c.e50, "e90": c.e90, "emax": c.emax, "n": c.n, "n_event": c.n_event} for c in calibrations]
    )
    return SurvivalCalibrationSummary(
        times=tuple(c.t for c in calibrations),
        grouped=pd.concat([c.grouped.assign(time=c.t) for c in calibrations], ignore_index=True).pipe(_time_first),
        curve=pd.concat([c.curve.assign(time=c.t) for c in calibrations], ignore_index=True).pipe(_time_first),
        metrics=metrics,
        calibrations=tuple(calibrations),
        groups=groups,
    )


def _time_first(table: pd.DataFrame) -> pd.DataFrame:
    return table[["time", *(column for column in table.columns if column != "time")]]
