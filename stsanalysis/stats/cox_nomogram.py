"""Nomogram of a Cox model, as ``rms::nomogram`` of a ``cph`` fit with survival axes.

The points are scaled as the logistic :class:`~stsanalysis.stats.nomogram.Nomogram` (the
widest contribution gets ``max_points``); below the total points come the linear predictor,
one survival-probability axis per requested time, as ``nomogram(fit, fun = list(function(lp)
surv(12, lp), ...))`` with ``surv <- Survival(fit)``, and optionally a median-survival axis
(``fun = function(lp) med(lp = lp)``, ``med <- function(lp) Quantile(fit)(0.5, lp)``).

The linear predictor of the nomogram is rms's: x beta minus ``fit$center``, the sum of the
fitting data's column means times the coefficients (coxph's ``predict(type = "lp")`` leaves a
0/1 covariate uncentred; the survival probabilities are the same either way).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import numeric_vector, probabilities
from ._horizon import horizons
from .cox import CoxResult
from .nomogram import PointsNomogram, pretty
from .survival import SurvivalWarning

__all__ = ["CoxNomogram"]

# rms datadist(n.unique = 10): a numeric variable with at most 10 distinct values is drawn at them
_DATADIST_N_UNIQUE = 10
# rms places function ticks by interpolating on a grid of 1000 linear predictors
_RMS_GRID = 1000


def _approx_ties_mean(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """R ``approx(x, y, at, ties = mean)``: y averaged over tied x, linear in between, NaN outside."""
    unique_x, group = np.unique(x, return_inverse=True)
    mean_y = np.bincount(group, weights=y) / np.bincount(group)
    inside = (at >= unique_x[0]) & (at <= unique_x[-1])
    if unique_x.size == 1:
        return np.where(inside, mean_y[0], np.nan)
    return np.where(inside, np.interp(at, unique_x, mean_y), np.nan)


class CoxNomogram(PointsNomogram):
    """Points nomogram of a :class:`~stsanalysis.stats.cox.CoxResult` with survival at ``times``.

    As ``nomogram(cph(..., x = TRUE, y = TRUE, surv = TRUE), fun = list(function(lp) surv(t,
    lp), ...), fun.at = survival_ticks)``. ``data`` gives each covariate's range (normally the
    fitting data) and the fitted linear predictors that span the lp axis. A covariate with two
    values is drawn as two levels (a factor); one with at most 10 distinct values at those
    values (rms ``datadist``); any other over ``pretty(range, n_intervals)``;
    ``axis_values={"age": [40, 60, 80]}`` overrides an axis. ``times`` must lie within the
    fitting data's follow-up. Survival ticks are placed exactly (rms interpolates them on a
    1000-point grid, within about 1e-4 points); those off the lp axis are dropped, as rms.
    ``median=True`` adds the median-survival axis, its ticks ``median_ticks`` (default
    ``pretty`` of the medians at the lp axis' ends) placed by rms's grid interpolation.

    ``labels`` maps each score column (``survival_12``, ``median_survival``) to its axis label:
    ``time_labels`` (one per time), else "12-month survival" with ``time_unit="month"``, else
    "Survival at 12". Attributes as :class:`~stsanalysis.stats.nomogram.Nomogram` (``scale``,
    ``intercept``, ``max_total_points``), ``times`` and ``center`` (rms ``fit$center``).

    Examples
    --------
    >>> import pandas as pd
    >>> from stsanalysis.stats.cox import cox_regression
    >>> data = pd.DataFrame({"months": [5, 8, 12, 20, 6, 15, 30, 40, 9, 26], "death": [1, 1, 1, 1, 1, 0, 1, 0, 1, 0],
    ...                      "high_grade": [1, 0, 1, 0, 1, 1, 0, 0, 1, 0], "size_cm": [9, 4, 12, 7, 10, 5, 3, 6, 8, 2]})
    >>> fit = cox_regression(data, "months", "death", ["high_grade", "size_cm"])
    >>> nomogram = CoxNomogram(fit, data, [12, 24], time_unit="month")
    >>> scored = nomogram.score(pd.DataFrame({"high_grade": [1], "size_cm": [8.0]}))
    >>> scored[["total_points", "survival_12", "survival_24"]].round(3)
       total_points  survival_12  survival_24
    0       150.215         0.33        0.096
    >>> nomogram.survival_axis(12).head(3).round(2)
       probability  total_points
    0          0.2        178.79
    1          0.3        156.52
    2          0.4        135.58
    """

    def __init__(
        self,
        model: CoxResult,
        data: pd.DataFrame,
        times: Sequence[float] | float,
        *,
        time_labels: Sequence[str] | None = None,
        time_unit: str | None = None,
        median: bool = False,
        median_ticks: Sequence[float] | None = None,
        max_points: float = 100,
        survival_ticks: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        axis_values: Mapping[str, Sequence] | None = None,
        n_intervals: int = 10,
    ):
        if not isinstance(model, CoxResult):
            raise InputError(f"'model' must be a CoxResult from cox_regression(); got {type(model).__name__}.")
        axis_values = self._set_model(model, data, model.covariates, max_points, n_intervals, axis_values)
        self.times = horizons(times, model.time, model.event, what="the training set")
        self.labels = self._outcome_labels(time_labels, time_unit, median)
        self.center = float(model.column_means.to_numpy() @ model.coef)
        axes, slopes = self._axes(data, axis_values)
        fitted_lp = model.linear_predictor_of(data, centred=False) - self.center
        self._scale_axes(axes, -self.center, slopes, fitted_lp)
        # survival at the centre (all covariates at their means): S(t | lp) = s(t) ** exp(lp)
        self._centre_hazard = model.cumulative_hazard_at(model.baseline_hazard["time"]) * np.exp(self.center)
        ticks = probabilities(survival_ticks, "survival_ticks")
        axes = [self._survival_axis(t, ticks) for t in self.times]
        if median:
            axes.append(self._median_axis(median_ticks))
        self._outcomes = pd.concat(axes, ignore_index=True)

    def _outcome_labels(self, time_labels, time_unit, median) -> dict[str, str]:
        """Score column -> display label of each outcome axis, in drawing order."""
        if time_labels is None:
            time_labels = [f"{t:g}-{time_unit} survival" if time_unit else f"Survival at {t:g}" for t in self.times]
        time_labels = [str(label) for label in time_labels]
        if len(time_labels) != self.times.size:
            raise InputError(f"'time_labels' must give one label per time ({self.times.size}); got {len(time_labels)}.")
        labels = {f"survival_{t:g}": label for t, label in zip(self.times, time_labels)}
        if median:
            labels["median_survival"] = f"Median survival ({time_unit}s)" if time_unit else "Median survival"
        return labels

    def _axes(self, data: pd.DataFrame, axis_values: dict):
        """Axis tables (predictor, value, xbeta) and the slopes of the continuously scored covariates."""
        slopes, axes = {}, []
        for predictor, beta in zip(self.predictors, self.model.coef):
            observed = numeric_vector(data[predictor], predictor)
            distinct = np.unique(observed)
            if predictor in axis_values:
                values = numeric_vector(axis_values[predictor], f"axis_values['{predictor}']")
            elif distinct.size <= _DATADIST_N_UNIQUE:
                values = distinct
            else:
                values = pretty(observed.min(), observed.max(), self.n_intervals)
            if distinct.size > 2:
                slopes[predictor] = beta
            axes.append(pd.DataFrame({"predictor": predictor, "value": values, "xbeta": beta * values}))
        return axes, slopes

    def _survival_at(self, time: float, linear_predictor: np.ndarray) -> np.ndarray:
        """S(time | lp) = exp(-H(time at the centre) exp(lp)), rms ``Survival(fit)(time, lp)``."""
        hazard = self.model.cumulative_hazard_at(time) * np.exp(self.center)
        return np.exp(-hazard * np.exp(linear_predictor))

    def _survival_axis(self, time: float, ticks: np.ndarray) -> pd.DataFrame:
        # exact inverse of S(t | lp) = s ** exp(lp): lp = log(log(p) / log(s))
        log_centre_survival = -self.model.cumulative_hazard_at(time) * np.exp(self.center)
        tick_lp = np.log(np.log(ticks) / log_centre_survival)
        shown = self._on_linear_predictor_axis(tick_lp)
        return self._outcome_frame(f"survival_{time:g}", time, ticks[shown], tick_lp[shown])

    def _median_at(self, linear_predictor: np.ndarray) -> np.ndarray:
        """rms ``Quantile(fit)(0.5, lp)``: the first event time with S <= 0.5 (NaN if none)."""
        survival = np.exp(-np.outer(np.exp(np.atleast_1d(linear_predictor)), self._centre_hazard))
        reached = survival <= 0.5
        first = np.argmax(reached, axis=1)
        return np.where(reached.any(axis=1), self.model.baseline_hazard["time"].to_numpy()[first], np.nan)

    def _median_axis(self, median_ticks) -> pd.DataFrame:
        """Median ticks placed as rms places a function's ticks: interpolated on a 1000-point grid."""
        lp_values = self._linear_predictor_axis["linear_predictor"].to_numpy()
        grid = np.linspace(lp_values.min(), lp_values.max(), _RMS_GRID)
        medians = self._median_at(grid)
        reached = np.isfinite(medians)
        if not reached.any():
            warnings.warn(
                "Median survival is not reached for any linear predictor on the nomogram (survival stays above 0.5 up to "
                f"the last event time, {self.model.baseline_hazard['time'].iloc[-1]:g}); the median axis is left empty.",
                SurvivalWarning,
                stacklevel=3,
            )
            return self._outcome_frame("median_survival", np.nan, np.array([]), np.array([]))
        if median_ticks is None:
            ends = medians[[0, -1]][np.isfinite(medians[[0, -1]])]
            ticks = pretty(ends.min(), ends.max(), self.n_intervals)
        else:
            ticks = numeric_vector(median_ticks, "median_ticks")
        tick_lp = _approx_ties_mean(medians[reached], grid[reached], ticks)
        shown = np.isfinite(tick_lp)
        return self._outcome_frame("median_survival", np.nan, ticks[shown], tick_lp[shown])

    def _outcome_frame(self, outcome: str, time: float, values: np.ndarray, tick_lp: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "outcome": outcome,
                "label": self.labels[outcome],
                "time": time,
                "value": values,
                "linear_predictor": tick_lp,
                "total_points": self.total_points_of(tick_lp),
            }
        )

    def outcome_axes(self) -> pd.DataFrame:
        """Ticks of the survival (and median) axes: ``outcome`` (the score column, e.g.
        ``survival_12``), ``label``, ``time`` (NaN for the median), ``value`` (probability or
        median time), ``linear_predictor`` and ``total_points`` at which the tick lies."""
        return self._outcomes.copy()

    def survival_axis(self, time: float) -> pd.DataFrame:
        """Ticks of the survival axis at ``time``: ``probability, total_points``."""
        axis = self._outcomes[self._outcomes["outcome"] == f"survival_{time:g}"]
        if axis.empty and f"survival_{time:g}" not in self.labels:
            raise InputError(f"No survival axis at time {time:g}; the nomogram's times are {self.times.tolist()}.")
        return axis[["value", "total_points"]].rename(columns={"value": "probability"}).reset_index(drop=True)

    def score(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Points per covariate, ``total_points``, ``linear_predictor`` (rms-centred) and
        ``survival_<t>`` per time (and ``median_survival``) of each row.

        ``survival_<t>`` equals ``model.predict_survival(rows, times)``. A two-valued covariate
        must take one of its two values.
        """
        result = self._score_points(rows)
        lp = result["linear_predictor"].to_numpy()
        for time in self.times:
            result[f"survival_{time:g}"] = self._survival_at(time, lp)
        if "median_survival" in self.labels:
            result["median_survival"] = self._median_at(lp)
        return result
