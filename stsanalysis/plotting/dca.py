"""Decision-curve figure: net benefit against threshold probability.

Numbers come from :func:`stsanalysis.stats.decision_curve` (binary outcome) or
:func:`stsanalysis.stats.survival_decision_curve` (event by time t; same table); this module
only draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..errors import InputError
from ..stats.decision_curve import TREAT_ALL, TREAT_NONE
from ..validation import require_columns
from .style import colour, translucent

__all__ = ["decision_curve_figure"]

_REFERENCE_STYLE = {
    TREAT_ALL: {"color": "grey", "width": 1.5},
    TREAT_NONE: {"color": "black", "width": 1.5, "dash": "dot"},
}


def decision_curve_figure(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Net benefit of every model, with treat-all and treat-none, over the thresholds.

    Bootstrap bands are drawn when ``table`` has ``ci_low``/``ci_high``. The y axis runs
    from a little below 0 to a little above the prevalence (the net benefit of treat-all
    at threshold 0, the largest any strategy can reach), so that treat-all's steep fall
    at high thresholds does not squash the curves that matter. A survival decision curve's
    table (``attrs["time"]`` set) draws the same way, its prevalence being the event
    probability by t, and the y axis says at which time the net benefit is.
    """
    require_columns(table, ["model", "threshold", "net_benefit"], "the decision-curve table")
    if table.empty:
        raise InputError("The decision-curve table is empty.")
    prevalence = table.attrs.get("prevalence", float(table["net_benefit"].max()))
    has_band = {"ci_low", "ci_high"} <= set(table.columns)
    figure = go.Figure()
    models = [model for model in table["model"].unique() if model not in _REFERENCE_STYLE]
    for index, model in enumerate([*models, TREAT_ALL, TREAT_NONE]):
        rows = table[table["model"] == model]
        if rows.empty:
            continue
        line = _REFERENCE_STYLE.get(model, {"color": colour(index), "width": 2})
        if has_band and model != TREAT_NONE:
            band_colour = translucent(colour(index), 0.15) if model in models else "rgba(128, 128, 128, 0.12)"
            figure.add_trace(
                go.Scatter(
                    x=np.r_[rows["threshold"], rows["threshold"][::-1]],
                    y=np.r_[rows["ci_high"], rows["ci_low"][::-1]],
                    fill="toself",
                    fillcolor=band_colour,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=model,
                    name=f"{model} 95 % bootstrap CI",
                    meta={"model": model, "role": "band"},
                )
            )
        figure.add_trace(
            go.Scatter(
                x=rows["threshold"],
                y=rows["net_benefit"],
                mode="lines",
                line=line,
                name=model,
                legendgroup=model,
                meta={"model": model, "role": "curve"},
                hovertemplate="threshold %{x:.2f}<br>net benefit %{y:.3f}<extra>" + model + "</extra>",
            )
        )
    margin = 0.1 * prevalence
    figure.update_layout(
        title=title,
        template="simple_white",
        width=720,
        height=480,
        legend={"x": 0.98, "y": 0.98, "xanchor": "right", "yanchor": "top"},
    )
    figure.update_xaxes(title="Threshold probability", range=[0, float(table["threshold"].max())])
    horizon = table.attrs.get("time")
    y_title = "Net benefit" if horizon is None else f"Net benefit at t = {horizon:g}"
    figure.update_yaxes(title=y_title, range=[-margin, prevalence + margin])
    return figure
