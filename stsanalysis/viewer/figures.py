"""Cohort figures of the explorer: a value by group, two values against each other, ROC with a threshold."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..errors import InputError
from ..plotting.roc import roc_figure
from ..plotting.style import colour
from ..stats.diagnostic import Cutoff
from ..stats.roc import RocResult
from ..validation import require_columns


def distribution_figure(table: pd.DataFrame, value: str, group: str, title: str | None = None) -> go.Figure:
    """One box per level of ``group`` (median, IQR, whiskers to 1.5 IQR) with every patient as a point.

    Hover shows the patient id (the table's index). Missing values are left out.
    """
    require_columns(table, [value, group], what="the table to plot")
    if value == group:
        raise InputError(f"'value' and 'group' must be different columns; got {value!r} twice.")
    data = table[[value, group]].dropna()
    figure = go.Figure()
    for index, level in enumerate(sorted(data[group].unique().tolist())):
        rows = data[data[group] == level]
        figure.add_trace(
            go.Box(
                y=rows[value],
                name=f"{group} {level} (n = {len(rows)})",
                text=rows.index.astype(str),
                boxpoints="all",
                jitter=0.4,
                pointpos=-1.6,
                marker={"color": colour(index), "size": 5},
                hovertemplate="%{text}: %{y}<extra></extra>",
                meta={"group": str(level)},
            )
        )
    figure.update_layout(title=title or f"{value} by {group}", yaxis_title=value, height=440, template="simple_white", showlegend=False)
    return figure


def scatter_figure(table: pd.DataFrame, x: str, y: str, color: str | None = None, title: str | None = None) -> go.Figure:
    """``y`` against ``x``, one colour per level of ``color``; hover shows the patient id."""
    columns = [x, y] + ([color] if color else [])
    require_columns(table, columns, what="the table to plot")
    data = table[list(dict.fromkeys(columns))].dropna()
    groups = data.groupby(color, sort=True) if color else [("all", data)]
    figure = go.Figure()
    for index, (level, rows) in enumerate(groups):
        figure.add_trace(
            go.Scatter(
                x=rows[x],
                y=rows[y],
                mode="markers",
                name=f"{color} {level}" if color else "patients",
                text=rows.index.astype(str),
                marker={"color": colour(index), "size": 7, "opacity": 0.8},
                hovertemplate="%{text}<br>" + f"{x} %{{x}}<br>{y} %{{y}}<extra></extra>",
            )
        )
    figure.update_layout(title=title or f"{y} vs {x}", xaxis_title=x, yaxis_title=y, height=440, template="simple_white")
    return figure


def roc_threshold_figure(result: RocResult, cutoff: Cutoff, name: str = "ROC") -> go.Figure:
    """The ROC curve (:func:`stsanalysis.plotting.roc_figure`) with the point of ``cutoff`` marked.

    The marker is the last trace (``meta`` role "threshold"), so a widget moves it by
    changing that trace's x and y.
    """
    figure = roc_figure({name: result}, mark_youden=False)
    figure.add_trace(threshold_marker(cutoff))
    figure.update_layout(width=480, height=480)
    return figure


def threshold_marker(cutoff: Cutoff) -> go.Scatter:
    """A marker at (1 - specificity, sensitivity) of ``cutoff``."""
    return go.Scatter(
        x=[1 - cutoff.specificity],
        y=[cutoff.sensitivity],
        mode="markers",
        marker={"color": "black", "size": 12, "symbol": "x"},
        name=f"threshold {cutoff.rule}",
        meta={"role": "threshold"},
    )
