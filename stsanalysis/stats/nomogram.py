"""Nomogram of a logistic model, scaled as ``rms::nomogram``.

Each predictor's contribution to the linear predictor, beta x value, is measured from its
smallest value on the predictor's axis; the predictor whose contribution spans the widest
range gets ``max_points`` (100) points and all others are scaled by the same factor. A
patient's total points convert back to the linear predictor and the predicted risk.
Continuous axes run over ``pretty(range(data))`` with about 10 intervals, as rms with a
``datadist()`` of the same data (limits "Low"/"High", the full range).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special

from ..errors import InputError
from ..validation import numeric_vector, probabilities, require_columns
from .logistic import INTERCEPT, LogisticResult

_PRETTY_HIGH_BIAS = 1.5  # R pretty(): high.u.bias
_PRETTY_FIVE_BIAS = 0.5 + 1.5 * _PRETTY_HIGH_BIAS  # R pretty(): u5.bias
_PRETTY_EPS = 1e-10


def pretty(low: float, high: float, n: int = 5) -> np.ndarray:
    """About ``n`` + 1 equally spaced round values covering [low, high], as R ``pretty(c(low, high), n)``.

    The unit is 1, 2, 5 or 10 times a power of ten, chosen with R's biases towards larger
    units (high.u.bias 1.5, u5.bias 2.75); the result always covers both ends.
    """
    span = high - low
    cell = max(abs(low), abs(high))
    small_span = span < cell * 3 * n * np.finfo(float).eps * (1 + 1 / (1 + _PRETTY_HIGH_BIAS))
    if span == 0 and high == 0:
        cell, small_span = 1.0, True
    if small_span:
        cell = (9 + cell / 10 if cell > 10 else cell) * 0.75
        cell /= max(n // 3, 1)
    else:
        cell = span / n if n > 1 else span
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if 2 * base - cell < _PRETTY_HIGH_BIAS * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < _PRETTY_FIVE_BIAS * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < _PRETTY_HIGH_BIAS * (cell - unit):
                unit = 10 * base
    start = math.floor(low / unit + _PRETTY_EPS)
    stop = math.ceil(high / unit - _PRETTY_EPS)
    while start * unit > low + _PRETTY_EPS * unit:
        start -= 1
    while stop * unit < high - _PRETTY_EPS * unit:
        stop += 1
    intervals = int(0.5 + stop - start)
    minimum = n // 3
    if intervals < minimum:
        extra = minimum - intervals
        if start >= 0:
            stop += extra // 2
            start -= extra // 2 + extra % 2
        else:
            start -= extra // 2
            stop += extra // 2 + extra % 2
        intervals = minimum
    values = np.linspace(start * unit, stop * unit, intervals + 1)
    # R zaps values that are zero but for rounding
    values[np.abs(values) < 1e-14 * unit] = 0.0
    return values


class PointsNomogram:
    """The points scaling that every ``rms::nomogram`` shares (base of :class:`Nomogram` and
    :class:`~stsanalysis.stats.cox_nomogram.CoxNomogram`).

    Each predictor's axis is a table of values and their contribution x beta to the linear
    predictor; the widest axis spans ``max_points`` and every other axis is scaled by the same
    factor ``scale`` (rms ``sc``), from its smallest contribution. Total points convert back to
    the linear predictor through ``intercept`` (the linear predictor at 0 total points, rms
    ``Intercept``). Subclasses build the axes and call :meth:`_scale_axes`.
    """

    predictors: tuple[str, ...]

    def _set_model(self, model, data: pd.DataFrame, predictors, max_points: float, n_intervals: int, axis_values) -> dict:
        """Keep the model and the scale's settings after checking them; return ``axis_values`` as a dict."""
        if not max_points > 0:
            raise InputError(f"'max_points' must be positive; got {max_points!r}.")
        axis_values = dict(axis_values or {})
        unknown = set(axis_values) - set(predictors)
        if unknown:
            raise InputError(f"axis_values names column(s) {sorted(unknown)} that are not model predictors.")
        require_columns(data, list(predictors), "data")
        self.model = model
        self.predictors = tuple(predictors)
        self.max_points = max_points
        self.n_intervals = n_intervals
        return axis_values

    def _scale_axes(self, axes: list[pd.DataFrame], constant: float, slopes: dict, fitted_lp: np.ndarray) -> None:
        """Points of the ``axes`` (tables predictor, value, xbeta) and the total-points and
        linear-predictor axes; ``constant`` is the linear predictor at all contributions 0,
        ``slopes`` the coefficients of the predictors scored on a continuous scale and
        ``fitted_lp`` the fitted linear predictors whose ``pretty`` range makes the lp axis."""
        table = pd.concat(axes, ignore_index=True)
        lowest = table.groupby("predictor", sort=False)["xbeta"].min()
        widest = (table.groupby("predictor", sort=False)["xbeta"].max() - lowest).max()
        self.scale = self.max_points / widest
        self.intercept = float(constant + lowest.sum())
        self._slopes = slopes
        self._lowest = lowest
        table["points"] = (table["xbeta"] - table["predictor"].map(lowest)) * self.scale
        self._points = table
        self.max_total_points = float(table.groupby("predictor", sort=False)["points"].max().sum())
        # rms: the linear-predictor axis covers pretty(range(fitted linear predictors)); the
        # total-points axis reaches max_points or that axis' end, whichever is further
        lp_values = pretty(fitted_lp.min(), fitted_lp.max(), self.n_intervals)
        self._linear_predictor_axis = pd.DataFrame({"linear_predictor": lp_values, "total_points": self.total_points_of(lp_values)})
        self._total_points_end = (
            self.max_points if len(self.predictors) == 1 else max(self.max_points, self.scale * (lp_values.max() - self.intercept))
        )

    def total_points_of(self, linear_predictor) -> np.ndarray:
        """The total points at which a linear predictor lies on the nomogram."""
        return (np.asarray(linear_predictor, dtype=float) - self.intercept) * self.scale

    def _on_linear_predictor_axis(self, linear_predictor: np.ndarray) -> np.ndarray:
        """Which values lie on the drawn linear-predictor axis (rms drops ticks outside it)."""
        lp_values = self._linear_predictor_axis["linear_predictor"]
        return (linear_predictor >= lp_values.min()) & (linear_predictor <= lp_values.max())

    @property
    def continuous_predictors(self) -> tuple[str, ...]:
        """Predictors scored on a continuous scale (the others are factors with levels)."""
        return tuple(predictor for predictor in self.predictors if predictor in self._slopes)

    def points_table(self) -> pd.DataFrame:
        """Points of every axis value: ``predictor, value, xbeta`` (beta x value), ``points``."""
        return self._points.copy()

    def points_axis(self) -> np.ndarray:
        """Tick values of the points scale at the top of the nomogram: ``pretty(c(0, max_points), n)``."""
        return pretty(0.0, self.max_points, self.n_intervals)

    def total_points_axis(self) -> np.ndarray:
        """Tick values of the total-points axis, as rms: ``pretty(c(0, end), n)`` where the end
        is ``max_points`` or the points of the linear-predictor axis' upper end if further."""
        return pretty(0.0, self._total_points_end, self.n_intervals)

    def linear_predictor_axis(self) -> pd.DataFrame:
        """Linear-predictor ticks (``pretty`` of the fitted range) and their total points."""
        return self._linear_predictor_axis.copy()

    def _score_points(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Points per predictor, ``total_points`` and ``linear_predictor`` of each row.

        Continuous values are scored on the continuous scale (not rounded to axis ticks);
        a factor's value must be one of its levels.
        """
        require_columns(rows, list(self.predictors), "rows")
        result = pd.DataFrame(index=rows.index)
        for predictor in self.predictors:
            if predictor in self._slopes:
                contribution = self._slopes[predictor] * numeric_vector(rows[predictor], predictor)
            else:
                axis = self._points[self._points["predictor"] == predictor].set_index("value")["xbeta"]
                unknown = sorted(set(rows[predictor]) - set(axis.index), key=str)
                if unknown:
                    raise InputError(f"'{predictor}' has level(s) {unknown} that are not on the nomogram; levels are {list(axis.index)}.")
                contribution = rows[predictor].map(axis).to_numpy(dtype=float)
            result[predictor] = (contribution - self._lowest[predictor]) * self.scale
        result["total_points"] = result[list(self.predictors)].sum(axis=1)
        result["linear_predictor"] = self.intercept + result["total_points"] / self.scale
        return result


class Nomogram(PointsNomogram):
    """Points nomogram of a :class:`~stsanalysis.stats.logistic.LogisticResult` (``rms::nomogram``).

    ``data`` gives the range of each continuous predictor (normally the fitting data);
    ``axis_values={"age": [30, 50, 70]}`` overrides an axis, as ``nomogram(fit, age = ...)``.
    ``risk_ticks`` are the probabilities marked on the risk axis (those inside the
    linear-predictor axis are kept, as rms). Attributes: ``scale`` (points per unit of linear predictor, rms
    ``sc``), ``intercept`` (linear predictor at 0 total points, rms ``Intercept``),
    ``max_total_points``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from stsanalysis.stats import logistic_regression
    >>> rng = np.random.default_rng(7)
    >>> data = pd.DataFrame({"size_cm": rng.normal(6, 2, 60), "margin": rng.choice(["R0", "R1"], 60)})
    >>> data["high_grade"] = (rng.random(60) < 1 / (1 + np.exp(3 - data["size_cm"] / 2))).astype(int)
    >>> nomogram = Nomogram(logistic_regression(data, "high_grade", ["size_cm", "margin"]), data)
    >>> nomogram.points_table().query("predictor == 'margin'").round(2)
       predictor value  xbeta  points
    12    margin    R0   0.00    6.37
    13    margin    R1  -0.61    0.00
    >>> nomogram.score(pd.DataFrame({"size_cm": [8.0], "margin": ["R1"]})).round(3)
       size_cm  margin  total_points  linear_predictor  probability
    0   72.727     0.0        72.727             1.718        0.848
    """

    def __init__(
        self,
        model: LogisticResult,
        data: pd.DataFrame,
        max_points: float = 100,
        risk_ticks: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        axis_values: Mapping[str, Sequence] | None = None,
        n_intervals: int = 10,
    ):
        if not isinstance(model, LogisticResult):
            raise InputError(f"'model' must be a LogisticResult from logistic_regression(); got {type(model).__name__}.")
        axis_values = self._set_model(model, data, model.predictors, max_points, n_intervals, axis_values)
        coefficients = model.coefficients.set_index("term")["estimate"]
        slopes = {}
        axes = []
        for predictor in model.predictors:
            if predictor in model.encoding.levels:
                levels = list(axis_values.get(predictor, model.encoding.levels[predictor]))
                reference = model.encoding.levels[predictor][0]
                contribution = [0.0 if level == reference else coefficients[f"{predictor}[{level}]"] for level in levels]
            else:
                if predictor in axis_values:
                    values = numeric_vector(axis_values[predictor], f"axis_values['{predictor}']")
                else:
                    observed = numeric_vector(data[predictor], predictor)
                    values = pretty(observed.min(), observed.max(), n_intervals)
                levels = list(values)
                slopes[predictor] = coefficients[predictor]
                contribution = list(coefficients[predictor] * values)
            axes.append(pd.DataFrame({"predictor": predictor, "value": levels, "xbeta": contribution}))
        self._scale_axes(axes, coefficients[INTERCEPT], slopes, model.linear_predictor(data))
        # risk ticks are drawn where they fall inside the linear-predictor axis, as rms
        ticks = probabilities(risk_ticks, "risk_ticks")
        tick_lp = special.logit(ticks)
        shown = self._on_linear_predictor_axis(tick_lp)
        self._risk = pd.DataFrame({"probability": ticks[shown], "total_points": self.total_points_of(tick_lp[shown])})

    def risk_axis(self) -> pd.DataFrame:
        """Risk ticks and the total points at which they lie: ``probability, total_points``."""
        return self._risk.copy()

    def score(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Points per predictor, ``total_points``, ``linear_predictor`` and ``probability`` of each row.

        Continuous values are scored on the continuous scale (not rounded to axis ticks); the
        linear predictor equals the model's, so ``probability`` equals ``model.predict(rows)``.
        """
        result = self._score_points(rows)
        result["probability"] = special.expit(result["linear_predictor"])
        return result
