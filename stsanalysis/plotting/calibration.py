"""Calibration plot: observed against predicted risk, as ``rms::val.prob`` draws it.

Numbers come from :mod:`stsanalysis.stats.calibration`; this module only draws them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InputError
from ..report.formatting import format_number, format_p
from ..stats.calibration import CalibrationSummary
from .style import colour, diagonal, translucent

__all__ = ["calibration_figure"]


def calibration_figure(summary: CalibrationSummary, *, name: str = "Model", title: str | None = None) -> go.Figure:
    """Calibration plot of one set of predictions, drawn from
    :func:`stsanalysis.stats.calibration_summary` (nothing is computed here).

    Top panel: the ideal diagonal, the lowess calibration curve (R ``lowess(p, y, iter = 0)``)
    with its percentile-bootstrap 95 % band (when the summary has ``n_boot`` > 0), and the
    observed proportion per Hosmer-Lemeshow risk group with its Clopper-Pearson CI. Bottom
    panel: the distribution of the predictions, events above and non-events below the line.
    The annotation gives the calibration intercept and slope, the Brier score and the
    Hosmer-Lemeshow p.
    """
    if not isinstance(summary, CalibrationSummary):
        raise InputError(
            f"'summary' must be the CalibrationSummary of stats.calibration_summary(y, p, seed=...); got {type(summary).__name__}."
        )
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.8, 0.2], vertical_spacing=0.04)
    for trace in _calibration_traces(summary, name):
        figure.add_trace(trace, row=1, col=1)
    for trace in _prediction_histograms(summary):
        figure.add_trace(trace, row=2, col=1)
    metrics = summary.metrics
    text = (
        f"Intercept {format_number(metrics.intercept, 2)}, slope {format_number(metrics.slope, 2)}<br>"
        f"Brier {format_number(metrics.brier, 3)}, Hosmer-Lemeshow p {format_p(summary.hosmer_lemeshow.p)}"
    )
    figure.add_annotation(
        x=0.02,
        y=0.98,
        xref="x domain",
        yref="y domain",
        text=text,
        showarrow=False,
        align="left",
        xanchor="left",
        yanchor="top",
        row=1,
        col=1,
    )
    figure.update_layout(
        title=title,
        template="simple_white",
        width=620,
        height=720,
        bargap=0,
        barmode="overlay",
        legend={"x": 0.98, "y": 0.25, "xanchor": "right", "yanchor": "bottom"},
    )
    figure.update_yaxes(title="Observed proportion", range=[-0.02, 1.02], row=1, col=1)
    figure.update_yaxes(title="Count", row=2, col=1)
    figure.update_xaxes(range=[-0.02, 1.02])
    figure.update_xaxes(title="Predicted probability", row=2, col=1)
    return figure


def _calibration_traces(summary: CalibrationSummary, name: str) -> list[go.Scatter]:
    """The top panel: ideal line, bootstrap band (when computed), lowess curve, grouped observed proportions."""
    loess, grouped, line_colour = summary.curve, summary.grouped, colour(0)
    traces = [diagonal("Ideal", "ideal")]
    if summary.n_boot > 0:
        band = loess.dropna(subset=["ci_low", "ci_high"])
        traces.append(
            go.Scatter(
                x=np.r_[band["predicted"], band["predicted"][::-1]],
                y=np.clip(np.r_[band["ci_high"], band["ci_low"][::-1]], 0, 1),
                fill="toself",
                fillcolor=translucent(line_colour, 0.2),
                line={"width": 0},
                hoverinfo="skip",
                name="95 % bootstrap CI",
                meta={"role": "band"},
            )
        )
    traces.append(
        go.Scatter(
            x=loess["predicted"],
            y=loess["observed"],
            mode="lines",
            line={"color": line_colour, "width": 2},
            name=f"{name} (lowess)",
            meta={"role": "loess"},
            hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<extra></extra>",
        )
    )
    error_y = {
        "type": "data",
        "symmetric": False,
        "array": grouped["ci_high"] - grouped["observed"],
        "arrayminus": grouped["observed"] - grouped["ci_low"],
        "thickness": 1,
    }
    traces.append(
        go.Scatter(
            x=grouped["predicted"],
            y=grouped["observed"],
            mode="markers",
            marker={"color": line_colour, "symbol": "triangle-up", "size": 9},
            error_y=error_y,
            name=f"Grouped ({len(grouped)} risk groups)",
            meta={"role": "grouped"},
            customdata=grouped["n"],
            hovertemplate="mean predicted %{x:.3f}<br>observed %{y:.3f}<br>n = %{customdata}<extra></extra>",
        )
    )
    return traces


def _prediction_histograms(summary: CalibrationSummary) -> list:
    """The bottom panel: predictions of events upwards, of non-events downwards, on 0.02-wide bins."""
    outcome, predicted = summary.outcome, summary.predicted
    events = go.Histogram(
        x=predicted[outcome == 1],
        xbins={"start": 0.0, "end": 1.0, "size": 0.02},
        marker_color=colour(0),
        name="Events",
        showlegend=False,
        meta={"role": "histogram_events"},
    )
    # non-events drawn downwards: negative counts on the same bins
    counts, edges = np.histogram(predicted[outcome == 0], bins=np.arange(0, 1.0001, 0.02))
    non_events = go.Bar(
        x=(edges[:-1] + edges[1:]) / 2,
        y=-counts,
        width=0.02,
        marker_color="grey",
        name="Non-events",
        showlegend=False,
        meta={"role": "histogram_nonevents"},
    )
    return [events, non_events]
