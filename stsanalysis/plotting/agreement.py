"""Bland-Altman plot: difference against mean of two measurements of the same patients.

Numbers come from :func:`stsanalysis.stats.agreement.bland_altman`; this module only draws them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..errors import InputError
from ..report.formatting import format_number, format_p_phrase
from ..stats.agreement import BlandAltmanResult
from .style import colour, translucent

__all__ = ["bland_altman_figure"]


def bland_altman_figure(
    result: BlandAltmanResult,
    *,
    title: str | None = None,
    names: tuple[str, str] = ("A", "B"),
    digits: int = 2,
) -> go.Figure:
    """Bland-Altman plot of a :class:`~stsanalysis.stats.agreement.BlandAltmanResult`.

    One point per patient (mean of the two measurements, difference ``names[0] - names[1]``);
    the bias and the 95 % limits of agreement as horizontal lines, each with its exact CI
    (Carkeet) as a shaded band; the proportional-bias regression line, dotted, with its slope
    and p in the legend. ``digits`` rounds the numbers in the labels.
    """
    if not isinstance(result, BlandAltmanResult):
        raise InputError(f"'result' must be the BlandAltmanResult of stats.bland_altman(a, b); got {type(result).__name__}.")
    points = result.points
    low, high = float(points["mean"].min()), float(points["mean"].max())
    pad = 0.04 * (high - low) if high > low else 1.0
    x_range = [low - pad, high + pad]
    figure = go.Figure()
    lines = (
        ("lower_limit", result.lower_limit, result.lower_limit_ci_low, result.lower_limit_ci_high, "dash", "Lower limit"),
        ("bias", result.bias, result.bias_ci_low, result.bias_ci_high, "solid", "Bias"),
        ("upper_limit", result.upper_limit, result.upper_limit_ci_low, result.upper_limit_ci_high, "dash", "Upper limit"),
    )
    for index, (role, value, ci_low, ci_high, dash, label) in enumerate(lines):
        line_colour = colour(1) if role == "bias" else colour(3)
        figure.add_trace(
            go.Scatter(
                x=[x_range[0], x_range[1], x_range[1], x_range[0]],
                y=[ci_low, ci_low, ci_high, ci_high],
                fill="toself",
                fillcolor=translucent(line_colour, 0.15),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                name=f"{label} {round(100 * result.conf_level)} % CI",
                meta={"role": f"{role}_band"},
            )
        )
        figure.add_trace(
            go.Scatter(
                x=x_range,
                y=[value, value],
                mode="lines",
                line={"color": line_colour, "width": 2, "dash": dash},
                name=f"{label} {format_number(value, digits)} ({format_number(ci_low, digits)} to {format_number(ci_high, digits)})",
                meta={"role": role},
                hovertemplate=f"{label} %{{y:.{digits}f}}<extra></extra>",
                legendrank=3 - index,
            )
        )
    figure.add_trace(_regression_trace(result, x_range))
    figure.add_trace(
        go.Scatter(
            x=points["mean"],
            y=points["difference"],
            mode="markers",
            marker={"color": colour(0), "size": 7, "opacity": 0.8},
            name=f"Patients (n = {result.n})",
            meta={"role": "points"},
            hovertemplate="mean %{x:.3g}<br>difference %{y:.3g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        template="simple_white",
        width=720,
        height=520,
        legend={"x": 1.02, "y": 1, "xanchor": "left", "yanchor": "top"},
    )
    figure.update_xaxes(title=f"Mean of {names[0]} and {names[1]}", range=x_range)
    figure.update_yaxes(title=f"Difference ({names[0]} − {names[1]})", zeroline=True, zerolinecolor="lightgrey")
    return figure


def _regression_trace(result: BlandAltmanResult, x_range: list[float]) -> go.Scatter:
    """The proportional-bias line lm(difference ~ mean) over the drawn range (absent when undefined)."""
    x = np.asarray(x_range)
    defined = np.isfinite(result.slope)
    return go.Scatter(
        x=x if defined else [],
        y=result.intercept + result.slope * x if defined else [],
        mode="lines",
        line={"color": "grey", "width": 1.5, "dash": "dot"},
        name=f"Proportional bias: slope {format_number(result.slope, 3)}, {format_p_phrase(result.slope_p)}",
        meta={"role": "regression"},
        hoverinfo="skip",
        visible=True if defined else "legendonly",
    )
