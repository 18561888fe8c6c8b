"""Brier score of predicted survival probabilities with inverse probability of censoring weights.

:func:`brier_score` gives the IPCW Brier score at each time t with the standard error of its
influence function, next to the Brier score of the null model (the Kaplan-Meier estimate given
to every patient) and the index of prediction accuracy, as ``riskRegression::Score(...,
metrics = "brier", summary = "ipa")``. :func:`integrated_brier_score` integrates the Brier
curve over [0, tau] with ``pec::ibs`` / ``pec::crps``'s rule.

At time t a patient with the event by t contributes S_i(t)^2 / G(T_i-), one followed beyond t
(1 - S_i(t))^2 / G(t), one censored before t nothing (but the weights stand in for them); G is
the Kaplan-Meier estimate of censoring (see :mod:`~stsanalysis.stats.time_dependent`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import numeric_frame
from ._conf_level import check_conf_level
from ._horizon import horizons, prediction_data
from ._result import Result
from .survival import _z_value
from .time_dependent import CensoringKM, _influence_se

__all__ = ["BrierScore", "IntegratedBrierScore", "brier_score", "integrated_brier_score"]

NULL_MODEL = "null model"


def _prediction_inputs(time, event, predicted_survival, times) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated (time, event, requested times, predicted survival as n x times)."""
    time, event = prediction_data(time, event)
    requested = horizons(times, time, event)
    if isinstance(predicted_survival, pd.DataFrame):
        survival = numeric_frame(predicted_survival, "predicted_survival").to_numpy()
    else:
        survival = np.asarray(predicted_survival, dtype=float)
        if survival.ndim == 1 and requested.size == 1:
            survival = survival[:, None]
    expected = (time.size, requested.size)
    if survival.shape != expected:
        raise InputError(
            f"'predicted_survival' must hold one row per patient and one column per prediction time, "
            f"{expected[0]} x {expected[1]}; got shape {survival.shape}."
        )
    if np.isnan(survival).any():
        rows, columns = np.nonzero(np.isnan(survival))
        raise InputError(
            f"'predicted_survival' has {rows.size} missing value(s) (first: row {rows[0]}, time {requested[columns[0]]:g}); "
            "predict every patient at every time."
        )
    outside = (survival < 0) | (survival > 1)
    if outside.any():
        rows, columns = np.nonzero(outside)
        raise InputError(
            f"'predicted_survival' must be survival probabilities between 0 and 1; {rows.size} value(s) are outside "
            f"(e.g. {survival[rows[0], columns[0]]:g} at row {rows[0]}, time {requested[columns[0]]:g})."
        )
    return time, event, requested, survival


def _brier_with_influence(time, event, survival_at_t: np.ndarray, km: CensoringKM, t: float) -> tuple[float, np.ndarray]:
    """Brier(t) and its influence function per patient (riskRegression's IF.Brier, KM censoring)."""
    n = time.size
    cases, controls = (time <= t) & (event == 1), time > t
    residual = np.zeros(n)
    residual[cases] = survival_at_t[cases] ** 2 / km.before_own_time()[cases]
    residual[controls] = (1.0 - survival_at_t[controls]) ** 2 / km.at(t)
    brier = float(residual.mean())
    censoring = km.influence(event, t, np.where(cases, residual / n, 0.0), residual[controls].sum() / n)
    return brier, residual - brier + censoring


@dataclasses.dataclass(frozen=True, repr=False)
class BrierScore(Result):
    """IPCW Brier score at each time, for the model and the null model.

    ``table``: one row per model and time with columns model ("model" or "null model", the
    Kaplan-Meier estimate given to everybody), time, brier, se (influence function), ci_low,
    ci_high (Wald, clipped to [0, 1], as Score) and ipa = 1 - brier / null brier (0 for the
    null model).
    """

    table: pd.DataFrame = dataclasses.field(metadata={"table": True})
    conf_level: float


def brier_score(time, event, predicted_survival, times, *, conf_level: float = 0.95) -> BrierScore:
    """IPCW Brier score of predicted survival at ``times``, as ``riskRegression::Score(list(1 -
    predicted_survival), formula = Hist(time, event) ~ 1, data, times = times, metrics =
    "brier", summary = "ipa", cens.model = "km", se.fit = TRUE)``.

    ``predicted_survival`` holds each patient's predicted S(t): one row per patient, one column
    per time of ``times`` (a 2-D array or a DataFrame, columns in the order of ``times``).
    Brier(t) = mean of S_i(t)^2 / G(T_i-) over patients with the event by t and of
    (1 - S_i(t))^2 / G(t) over patients followed beyond t. ``se`` is sd(IF) / sqrt(n) of
    Score's influence function (the censoring KM's variability included); the CI is Brier +- z
    se clipped to [0, 1]. The null model predicts the Kaplan-Meier S(t) for everybody (Score's
    "Null model", its SE computed the same way); ``ipa`` is Score's index of prediction
    accuracy, 1 - Brier / null Brier.

    Examples
    --------
    >>> time = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    >>> event = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
    >>> survival = [[0.3], [0.4], [0.8], [0.5], [0.6], [0.9], [0.6], [0.9], [0.7], [0.9]]
    >>> brier_score(time, event, survival, [6]).table[["model", "time", "brier", "se", "ipa"]].round(3)
            model  time  brier     se    ipa
    0       model   6.0  0.127  0.041  0.483
    1  null model   6.0  0.245  0.025  0.000
    """
    check_conf_level(conf_level)
    z = _z_value(conf_level)
    time, event, requested, survival = _prediction_inputs(time, event, predicted_survival, times)
    km = CensoringKM.fit(time, event)
    rows = []
    for column, t in enumerate(requested):
        null_survival = np.full(time.size, km.event_free_at(t))
        estimates = {
            "model": _brier_with_influence(time, event, survival[:, column], km, t),
            NULL_MODEL: _brier_with_influence(time, event, null_survival, km, t),
        }
        null_brier = estimates[NULL_MODEL][0]
        for model, (brier, influence) in estimates.items():
            se = _influence_se(influence)
            rows.append((model, t, brier, se, max(brier - z * se, 0.0), min(brier + z * se, 1.0), 1.0 - brier / null_brier))
    table = pd.DataFrame(rows, columns=["model", "time", "brier", "se", "ci_low", "ci_high", "ipa"])
    table = table.sort_values("model", key=lambda model: model == NULL_MODEL, kind="stable").reset_index(drop=True)
    return BrierScore(table=table, conf_level=conf_level)


@dataclasses.dataclass(frozen=True, repr=False)
class IntegratedBrierScore(Result):
    """Integrated Brier score over [0, tau] of the model (``ibs``) and of the null model
    (``null_ibs``, Kaplan-Meier for everybody); ``curve`` holds the Brier curve integrated
    (time 0 included): time, brier, null_brier."""

    ibs: float
    null_ibs: float
    tau: float
    curve: pd.DataFrame = dataclasses.field(metadata={"table": True})


def _step_integral(grid: np.ndarray, values: np.ndarray, tau: float) -> float:
    """pec's ``Dint``: (1 / tau) * sum over grid points x_k < tau of values_k (min(x_k+1, tau) - x_k),
    the curve held constant from each grid point to the next (a right-continuous step function)."""
    used = grid < tau
    widths = np.diff(np.append(grid[used], tau))
    return float(np.sum(values[used] * widths) / (tau - grid[0]))


def integrated_brier_score(time, event, predicted_survival, times, *, tau: float | None = None) -> IntegratedBrierScore:
    """Integrated Brier score over [0, tau], as ``pec::ibs`` / ``pec::crps`` (and Score's
    ``summary = "ibs"``).

    ``times`` is the grid (increasing) at which ``predicted_survival`` (one row per patient, one
    column per grid time) is given; ``tau`` (default: the last grid time) must lie in (0, last
    grid time]. Integration rule of pec's ``Dint``: the IPCW Brier curve of :func:`brier_score`
    is a step function that starts at 0 at time 0 (everybody alive with predicted survival 1, as
    pec's curve with ``start = 0``), takes the value Brier(t_k) on [t_k, t_k+1) and is
    integrated up to tau, then divided by tau. The grid therefore decides the result: use the
    distinct event times (pec's ``exact = TRUE``) or a fine regular grid. The null model's IBS
    (pec's "Reference", the Kaplan-Meier estimate for everybody) comes with it.

    Examples
    --------
    >>> time = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    >>> event = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
    >>> survival = [[0.8, 0.3], [0.8, 0.4], [0.9, 0.8], [0.8, 0.5], [0.9, 0.6], [0.95, 0.9],
    ...             [0.9, 0.6], [0.95, 0.9], [0.9, 0.7], [0.95, 0.9]]
    >>> result = integrated_brier_score(time, event, survival, [3, 6], tau=6)
    >>> round(result.ibs, 4), round(result.null_ibs, 4)
    (0.0684, 0.08)
    """
    time, event, requested, survival = _prediction_inputs(time, event, predicted_survival, times)
    if requested.size > 1 and not (np.diff(requested) > 0).all():
        raise InputError(f"The grid 'times' must be strictly increasing; got {requested.tolist()}.")
    last = float(requested[-1])
    tau = last if tau is None else float(tau)
    if not 0 < tau <= last:
        raise InputError(f"'tau' must lie in (0, {last:g}], the last time of the grid 'times'; got {tau:g}. Extend the grid or lower tau.")
    table = brier_score(time, event, survival, requested).table
    curve = pd.DataFrame(
        {
            "time": np.concatenate(([0.0], requested)),
            "brier": np.concatenate(([0.0], table.loc[table["model"] == "model", "brier"].to_numpy())),
            "null_brier": np.concatenate(([0.0], table.loc[table["model"] == NULL_MODEL, "brier"].to_numpy())),
        }
    )
    grid = curve["time"].to_numpy()
    return IntegratedBrierScore(
        ibs=_step_integral(grid, curve["brier"].to_numpy(), tau),
        null_ibs=_step_integral(grid, curve["null_brier"].to_numpy(), tau),
        tau=tau,
        curve=curve,
    )
