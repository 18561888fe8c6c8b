"""Nomogram figure: one horizontal scale per predictor, as ``rms::nomogram`` plots it.

The points come from :class:`stsanalysis.stats.nomogram.Nomogram` (logistic) or
:class:`stsanalysis.stats.cox_nomogram.CoxNomogram`; this module only draws them. Rows from
top to bottom: Points (0 to ``max_points``), one scale per predictor, Total points, Linear
predictor, then Risk (logistic) or one survival scale per time and the median survival
(Cox). The scales below the predictors share one horizontal scale, stretched so that the
total-points axis spans the same width as the points axis.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..stats.cox_nomogram import CoxNomogram
from ..stats.nomogram import Nomogram

__all__ = ["nomogram_figure"]


def _label(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def _scale_trace(name: str, row: int, x, labels) -> go.Scatter:
    return go.Scatter(
        x=list(x),
        y=[-row] * len(labels),
        mode="lines+markers+text",
        text=list(labels),
        textposition="top center",
        marker={"symbol": "line-ns-open", "size": 10, "color": "black"},
        line={"color": "black", "width": 1},
        showlegend=False,
        name=name,
        meta={"axis": name},
        hovertemplate="%{text}: %{x:.1f}<extra>" + name + "</extra>",
    )


def _outcome_rows(nomogram: Nomogram | CoxNomogram, risk_label: str) -> list[tuple]:
    """(name, total points, tick values) of the scales below the linear predictor."""
    if isinstance(nomogram, CoxNomogram):
        axes = nomogram.outcome_axes()
        rows = []
        for outcome, label in nomogram.labels.items():
            axis = axes[axes["outcome"] == outcome]
            rows.append((label, axis["total_points"].to_numpy(), axis["value"].tolist()))
        return rows
    risk = nomogram.risk_axis()
    return [(risk_label, risk["total_points"].to_numpy(), risk["probability"])]


def nomogram_figure(nomogram: Nomogram | CoxNomogram, *, risk_label: str = "Risk", title: str | None = None) -> go.Figure:
    """Draw a :class:`Nomogram` or :class:`CoxNomogram`: read each predictor's points on the
    top scale, add them, and read the risk (or the survival at each time, labelled as
    ``CoxNomogram.labels``, e.g. "12-month survival") below the total points. ``risk_label``
    names the risk scale of a logistic nomogram."""
    max_points = nomogram.max_points
    table = nomogram.points_table()
    total_ticks = nomogram.total_points_axis()
    # the total-points scale is compressed onto the width of the points scale
    stretch = max_points / total_ticks[-1]
    rows = [("Points", nomogram.points_axis(), None)]
    rows += [
        (predictor, group["points"].to_numpy(), group["value"].tolist()) for predictor, group in table.groupby("predictor", sort=False)
    ]
    lp_axis = nomogram.linear_predictor_axis()
    rows += [
        ("Total points", total_ticks * stretch, total_ticks),
        ("Linear predictor", lp_axis["total_points"].to_numpy() * stretch, lp_axis["linear_predictor"]),
    ]
    rows += [(name, points * stretch, values) for name, points, values in _outcome_rows(nomogram, risk_label)]
    figure = go.Figure()
    for index, (name, x, values) in enumerate(rows):
        labels = [_label(value) for value in (x if values is None else values)]
        figure.add_trace(_scale_trace(name, index, x, labels))
    figure.update_layout(title=title, template="simple_white", width=900, height=90 + 55 * len(rows), margin={"l": 140})
    figure.update_yaxes(
        tickvals=[-index for index in range(len(rows))],
        ticktext=[name for name, _, _ in rows],
        showline=False,
        ticks="",
        range=[-len(rows) + 0.5, 0.6],
    )
    figure.update_xaxes(visible=False, range=[-0.05 * max_points, 1.05 * max_points])
    return figure
