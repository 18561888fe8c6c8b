"""ROC curve figures (plotly). Numbers come from :func:`stsanalysis.stats.roc`; this module
only draws them (the bootstrap band too: ``RocResult.with_band``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from ..errors import InputError
from ..report.formatting import format_interval, format_number
from ..stats.roc import RocResult
from .style import colour, diagonal, translucent


def _legend_label(name: str, result: RocResult) -> str:
    percent = round(result.conf_level * 100)
    return f"{name}: AUC {format_number(result.auc, 3)} ({percent} % CI {format_interval(result.ci_low, result.ci_high)})"


def _band_trace(name: str, result: RocResult, color: str) -> go.Scatter:
    band = result.band
    x = 1 - band["specificity"].to_numpy()
    return go.Scatter(
        x=np.r_[x, x[::-1]],
        y=np.r_[band["sensitivity_high"], band["sensitivity_low"][::-1]],
        fill="toself",
        fillcolor=translucent(color, 0.2),
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        legendgroup=name,
        name=f"{name} {round(result.conf_level * 100)} % bootstrap CI",
        meta={"model": name, "role": "band"},
    )


def roc_figure(
    results: Mapping[str, RocResult] | RocResult,
    mark_youden: bool = True,
    title: str | None = None,
) -> go.Figure:
    """ROC curves in one square plot: x = 1 - specificity, y = sensitivity.

    One line per result (legend: AUC with its DeLong CI); the pointwise bootstrap CI of
    the sensitivity as a shaded band when the result carries one (``result.band``, added
    by ``result.with_band(n_boot, seed=...)``: nothing is computed here); the Youden cut-off
    as a marker (hover shows the rule, sensitivity and specificity) and the diagonal of no
    discrimination. Trace ``meta`` holds the model name and the trace's role ("curve",
    "band", "youden", "reference") so that the figure can be inspected programmatically.
    """
    if isinstance(results, RocResult):
        results = {"ROC": results}
    if not results:
        raise InputError("'results' must hold at least one ROC curve; got none.")
    figure = go.Figure()
    for index, (name, result) in enumerate(results.items()):
        color = colour(index)
        if result.band is not None:
            figure.add_trace(_band_trace(name, result, color))
        figure.add_trace(
            go.Scatter(
                x=1 - result.curve["specificity"],
                y=result.curve["sensitivity"],
                mode="lines",
                line={"color": color, "width": 2, "shape": "linear"},
                name=_legend_label(name, result),
                legendgroup=name,
                customdata=result.curve["threshold"],
                hovertemplate="threshold %{customdata:.4g}<br>1 - specificity %{x:.3f}<br>sensitivity %{y:.3f}<extra>" + name + "</extra>",
                meta={"model": name, "role": "curve"},
            )
        )
        if mark_youden:
            cutoff = result.youden()
            figure.add_trace(
                go.Scatter(
                    x=[1 - cutoff.specificity],
                    y=[cutoff.sensitivity],
                    mode="markers",
                    marker={"color": color, "size": 10, "symbol": "circle-open", "line": {"width": 2}},
                    name=f"{name} Youden cut-off {cutoff.rule}",
                    legendgroup=name,
                    showlegend=False,
                    hovertemplate=f"{name}: cut-off {cutoff.rule}<br>sensitivity %{{y:.3f}}<br>1 - specificity %{{x:.3f}}<extra></extra>",
                    meta={"model": name, "role": "youden", "rule": cutoff.rule},
                )
            )
    figure.add_trace(diagonal("no discrimination", "reference", showlegend=False))
    figure.update_layout(
        title=title,
        width=620,
        height=620,
        template="simple_white",
        legend={"x": 0.98, "y": 0.02, "xanchor": "right", "yanchor": "bottom"},
    )
    figure.update_xaxes(title="1 - specificity", range=[-0.01, 1.01], constrain="domain")
    figure.update_yaxes(title="Sensitivity", range=[-0.01, 1.01], scaleanchor="x", scaleratio=1, constrain="domain")
    return figure
