"""Calibration of predicted survival at several times: observed against predicted S(t).

The numbers come from :func:`stsanalysis.stats.calibration_survival.survival_calibration_summary`
(grouped Kaplan-Meier and smooth curves) and, optionally, the optimism-corrected observed
S(t) of :func:`stsanalysis.stats.cox_validation.cox_calibrate`; this module only draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..errors import InputError
from ..stats.calibration_survival import SurvivalCalibrationSummary
from .style import colour, diagonal

__all__ = ["survival_calibration_figure"]


def _time_traces(summary: SurvivalCalibrationSummary, t: float, index: int, label: str, corrected: pd.DataFrame | None) -> list:
    """One time's smooth curve, grouped Kaplan-Meier points with their CI and corrected points."""
    line_colour, name = colour(index), f"{t:g} {label}".strip()
    calibration = summary.at(t)
    curve, grouped = calibration.curve, calibration.grouped.dropna(subset=["observed"])
    traces = [
        go.Scatter(
            x=curve["predicted"],
            y=curve["observed"],
            mode="lines",
            line={"color": line_colour, "width": 2},
            name=f"{name}: smooth (ICI {calibration.ici:.3f})",
            legendgroup=name,
            meta={"time": t, "role": "smooth"},
            hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<extra>" + name + "</extra>",
        ),
        go.Scatter(
            x=grouped["mean_predicted"],
            y=grouped["observed"],
            mode="markers",
            marker={"color": line_colour, "size": 9, "symbol": "circle"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": grouped["ci_high"] - grouped["observed"],
                "arrayminus": grouped["observed"] - grouped["ci_low"],
                "thickness": 1,
            },
            name=f"{name}: Kaplan-Meier, risk groups",
            legendgroup=name,
            customdata=np.column_stack([grouped["n"], grouped["n_event"]]),
            meta={"time": t, "role": "grouped"},
            hovertemplate="mean predicted %{x:.3f}<br>observed %{y:.3f}<br>n = %{customdata[0]}<extra>" + name + "</extra>",
        ),
    ]
    rows = corrected[np.isclose(corrected["time"], t)].dropna(subset=["observed_corrected"]) if corrected is not None else ()
    if len(rows):
        traces.append(
            go.Scatter(
                x=rows["mean_predicted"],
                y=rows["observed_corrected"],
                mode="markers",
                marker={"color": line_colour, "size": 10, "symbol": "x-thin", "line": {"width": 2, "color": line_colour}},
                name=f"{name}: optimism-corrected",
                legendgroup=name,
                meta={"time": t, "role": "corrected"},
                hovertemplate="mean predicted %{x:.3f}<br>corrected observed %{y:.3f}<extra>" + name + "</extra>",
            )
        )
    return traces


def survival_calibration_figure(
    summary: SurvivalCalibrationSummary,
    *,
    corrected: pd.DataFrame | None = None,
    unit: str = "",
    title: str | None = None,
) -> go.Figure:
    """Observed against predicted survival at each time of ``summary``, in one square plot.

    Per time (one colour each): the smooth calibration curve (Austin et al. 2020; its ICI in
    the legend) and the Kaplan-Meier S(t) of each risk group at the group's mean prediction
    with its 95 % CI (``rms::groupkm``). ``corrected``, the stacked tables of
    ``cox_calibrate`` (columns time, mean_predicted, observed_corrected), adds rms's
    bootstrap optimism-corrected points (crosses). The dashed diagonal is perfect
    calibration. ``unit`` follows each time in the legend ("12 months").
    """
    if not isinstance(summary, SurvivalCalibrationSummary):
        raise InputError(
            f"'summary' must be the SurvivalCalibrationSummary of survival_calibration_summary(); got {type(summary).__name__}."
        )
    figure = go.Figure()
    figure.add_trace(diagonal("Ideal", "ideal"))
    for index, t in enumerate(summary.times):
        for trace in _time_traces(summary, t, index, unit, corrected):
            figure.add_trace(trace)
    figure.update_layout(
        title=title,
        template="simple_white",
        width=960,
        height=600,
        legend={"x": 1.02, "y": 1.0, "xanchor": "left", "yanchor": "top", "font": {"size": 11}},
    )
    figure.update_xaxes(title="Predicted survival probability", range=[-0.02, 1.02], constrain="domain")
    figure.update_yaxes(title="Observed survival probability", range=[-0.02, 1.02], scaleanchor="x", scaleratio=1, constrain="domain")
    return figure
