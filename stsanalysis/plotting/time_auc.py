"""Time-dependent AUC curves: AUC(t) of each model over time with its confidence band.

The numbers come from :func:`stsanalysis.stats.time_dependent.time_dependent_auc` (one
result per model, computed on a grid of times); this module only draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..errors import InputError
from ..stats.time_dependent import TimeDependentAuc
from .style import REFERENCE_LINE, colour, translucent

__all__ = ["time_auc_figure"]


def _limits(result: TimeDependentAuc) -> tuple[np.ndarray, np.ndarray, str]:
    """The band of a result: percentile bootstrap when computed, else Score's Wald CI."""
    table = result.table
    percent = round(result.conf_level * 100)
    if "boot_ci_low" in table:
        return table["boot_ci_low"].to_numpy(), table["boot_ci_high"].to_numpy(), f"{percent} % bootstrap CI"
    return table["ci_low"].to_numpy(), table["ci_high"].to_numpy(), f"{percent} % CI"


def time_auc_figure(
    results: Mapping[str, TimeDependentAuc],
    *,
    prediction_times: Sequence[float] = (),
    title: str | None = None,
    time_label: str = "Time",
) -> go.Figure:
    """AUC(t) against t, one line per model with its CI as a shaded band.

    ``results`` maps a model name to its :class:`TimeDependentAuc` (the same times for
    every model makes the curves comparable); the band is the percentile bootstrap CI when
    the result has one, else the influence-function Wald CI of ``riskRegression::Score``.
    ``prediction_times`` are marked with dotted vertical lines; the dashed line at 0.5 is no
    discrimination. Trace ``meta`` holds the model and the trace's role ("curve", "band").
    """
    if not results:
        raise InputError("'results' must hold at least one AUC(t) result; got none.")
    figure = go.Figure()
    for index, (name, result) in enumerate(results.items()):
        if not isinstance(result, TimeDependentAuc):
            raise InputError(f"results['{name}'] must be a TimeDependentAuc of time_dependent_auc(); got {type(result).__name__}.")
        times = result.table["time"].to_numpy()
        low, high, band_name = _limits(result)
        line_colour = colour(index)
        figure.add_trace(
            go.Scatter(
                x=np.r_[times, times[::-1]],
                y=np.r_[high, low[::-1]],
                fill="toself",
                fillcolor=translucent(line_colour, 0.15),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=name,
                name=f"{name} {band_name}",
                meta={"model": name, "role": "band"},
            )
        )
        figure.add_trace(
            go.Scatter(
                x=times,
                y=result.table["auc"],
                mode="lines",
                line={"color": line_colour, "width": 2},
                name=name,
                legendgroup=name,
                customdata=np.column_stack([low, high, result.table["n_cases"], result.table["n_controls"]]),
                hovertemplate="t = %{x:.3g}<br>AUC %{y:.3f} (%{customdata[0]:.3f}-%{customdata[1]:.3f})"
                "<br>%{customdata[2]} cases, %{customdata[3]} controls<extra>" + name + "</extra>",
                meta={"model": name, "role": "curve"},
            )
        )
    for t in prediction_times:
        figure.add_vline(x=float(t), line={"color": "grey", "dash": "dot", "width": 1})
    figure.add_hline(y=0.5, line=REFERENCE_LINE)
    figure.update_layout(
        title=title, template="simple_white", width=860, height=480, legend={"x": 1.02, "y": 1.0, "xanchor": "left", "yanchor": "top"}
    )
    figure.update_xaxes(title=time_label)
    figure.update_yaxes(title="Time-dependent AUC (cumulative/dynamic)", range=[0, 1.02])
    return figure
