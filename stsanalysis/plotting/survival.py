"""Kaplan-Meier figure with CI bands, censoring marks and a numbers-at-risk table.

The numbers come from :func:`stsanalysis.stats.kaplan_meier` (and optionally
:func:`stsanalysis.stats.logrank_test`); this module only draws them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InputError
from ..report.formatting import format_p_phrase
from ..stats.survival import KMResult, LogrankResult
from .style import colour as palette_colour
from .style import translucent

__all__ = ["km_figure"]


def _nice_times(max_time: float, n_ticks: int = 6) -> np.ndarray:
    """0 and round multiples (1, 2, 2.5 or 5 x 10^k) up to ``max_time``: the at-risk times."""
    if max_time <= 0:
        return np.array([0.0])
    raw_step = max_time / (n_ticks - 1)
    magnitude = 10 ** np.floor(np.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    return np.arange(0, max_time + step * 1e-9, step)


def _logrank_label(test: LogrankResult) -> str:
    name = {0: "Log-rank", 1: "Peto-Peto"}.get(test.rho, f"G-rho (rho = {test.rho:g})")
    return f"{name} {format_p_phrase(test.p)}"


def km_figure(
    result: KMResult,
    at_risk_times=None,
    title: str | None = None,
    logrank: LogrankResult | None = None,
    time_label: str = "Time",
) -> go.Figure:
    """Kaplan-Meier curves with the numbers at risk underneath (plotly).

    Top row: one step curve per group, its pointwise CI as a shaded band (the
    ``result.conf_type`` interval) and "+" at censoring times, as R's ``plot(survfit)``.
    Bottom row, sharing the x axis: the numbers at risk at ``at_risk_times`` (default: round
    times from 0 to the last follow-up), one row per group, as survminer's risk table.
    ``logrank`` (a :func:`stsanalysis.stats.logrank_test` result) adds its p to the plot.
    """
    if not isinstance(result, KMResult):
        raise InputError(f"'result' must be the KMResult of stats.kaplan_meier; got {type(result).__name__}.")
    max_time = float(result.table["time"].max())
    times = _nice_times(max_time) if at_risk_times is None else np.asarray(at_risk_times, dtype=float)
    at_risk = result.at_risk(times)
    groups = result.groups

    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.78, 0.22],
        vertical_spacing=0.1,
        subplot_titles=("", "Number at risk"),
    )
    for index, group in enumerate(groups):
        colour = palette_colour(index)
        for trace in _group_curve_traces(result.table[result.table["group"] == group], str(group), colour):
            figure.add_trace(trace, row=1, col=1)
        figure.add_trace(_at_risk_trace(at_risk[at_risk["group"] == group], str(group), colour), row=2, col=1)
    if logrank is not None:
        figure.add_annotation(
            text=_logrank_label(logrank),
            x=0.02,
            y=0.05,
            xref="x domain",
            yref="y domain",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            row=1,
            col=1,
        )
    figure.update_xaxes(range=[-0.02 * max_time, max(max_time, times.max()) * 1.03], tickvals=times)
    figure.update_xaxes(title_text=time_label, row=2, col=1)
    figure.update_yaxes(title_text="Survival probability", range=[0, 1.03], row=1, col=1)
    # first group on top, as the legend lists it
    figure.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=[str(g) for g in groups][::-1],
        range=[-0.6, len(groups) - 0.4],
        showline=False,
        ticks="",
        row=2,
        col=1,
    )
    figure.update_annotations(selector={"text": "Number at risk"}, x=0, xanchor="left", font={"size": 13})
    figure.update_layout(title=title, template="simple_white", legend={"title": {"text": ""}})
    return figure


def _group_curve_traces(table, name: str, colour: str) -> list[go.Scatter]:
    """One group's CI band (upper, then lower filled to it), step curve and censoring marks."""
    # every curve starts at S(0) = 1 with a zero-width CI, as R draws it
    step_time = np.concatenate(([0.0], table["time"]))
    band = {"x": step_time, "mode": "lines", "legendgroup": name, "showlegend": False, "hoverinfo": "skip"}
    censored = table[table["n_censor"] > 0]
    return [
        go.Scatter(y=np.concatenate(([1.0], table["ci_high"])), line={"width": 0, "shape": "hv"}, name=f"{name} CI upper", **band),
        go.Scatter(
            y=np.concatenate(([1.0], table["ci_low"])),
            line={"width": 0, "shape": "hv"},
            fill="tonexty",
            fillcolor=translucent(colour, 0.18),
            name=f"{name} CI lower",
            **band,
        ),
        go.Scatter(
            x=step_time,
            y=np.concatenate(([1.0], table["survival"])),
            mode="lines",
            line={"color": colour, "shape": "hv", "width": 2},
            name=name,
            legendgroup=name,
            hovertemplate="t = %{x}<br>S(t) = %{y:.3f}<extra>" + name + "</extra>",
        ),
        go.Scatter(
            x=censored["time"],
            y=censored["survival"],
            mode="markers",
            marker={"symbol": "cross-thin", "size": 8, "line": {"width": 1.5, "color": colour}},
            name=f"{name} censored",
            legendgroup=name,
            showlegend=False,
            hovertemplate="censored at t = %{x}<extra>" + name + "</extra>",
        ),
    ]


def _at_risk_trace(numbers, name: str, colour: str) -> go.Scatter:
    """One group's row of the numbers-at-risk table."""
    return go.Scatter(
        x=numbers["time"],
        y=[name] * len(numbers),
        mode="text",
        text=numbers["n_risk"].astype(str),
        textfont={"color": colour},
        name=f"{name} at risk",
        showlegend=False,
        hoverinfo="skip",
    )
