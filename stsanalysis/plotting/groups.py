"""Distributions of parameters by group: box plots with every patient shown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..validation import require_columns
from .style import colour


def parameter_by_group_figure(
    data: pd.DataFrame,
    parameters: Sequence[str],
    group: str,
    *,
    labels: Mapping[str, str] | None = None,
    group_labels: Mapping[object, str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """One panel per parameter: a box per group with the individual values beside it."""
    require_columns(data, [group, *parameters], "the data to plot")
    labels = dict(labels or {})
    levels = sorted(data[group].dropna().unique().tolist())
    group_labels = {level: (group_labels or {}).get(level, str(level)) for level in levels}
    figure = make_subplots(rows=1, cols=len(parameters), subplot_titles=[labels.get(p, p) for p in parameters])
    for column, parameter in enumerate(parameters, start=1):
        for index, level in enumerate(levels):
            values = data.loc[data[group] == level, parameter]
            figure.add_trace(
                go.Box(
                    y=values,
                    name=group_labels[level],
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=-1.6,
                    marker_color=colour(index),
                    legendgroup=group_labels[level],
                    showlegend=column == 1,
                    hovertext=data.loc[data[group] == level, "patient_id"] if "patient_id" in data else None,
                ),
                row=1,
                col=column,
            )
    figure.update_layout(title=title, height=420, template="plotly_white", boxmode="group", margin=dict(t=70, b=40))
    return figure
