"""Forest plot of odds ratios with confidence intervals on a log scale.

Numbers come from :func:`stsanalysis.stats.logistic_regression` (its ``coefficients``) or
:func:`stsanalysis.stats.univariable_multivariable`; this module only draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..errors import InputError
from ..report.formatting import format_estimate, format_p
from ..stats.logistic import INTERCEPT, LogisticResult
from .style import REFERENCE_LINE, colour

__all__ = ["forest_figure", "hazard_ratio_figure"]

_ESTIMATE_COLUMNS = ("odds_ratio", "ci_low", "ci_high", "p")


def _series(source) -> dict[str, pd.DataFrame]:
    """Named tables with columns term, odds_ratio, ci_low, ci_high, p (intercept and reference rows dropped)."""
    if isinstance(source, LogisticResult):
        return {"Odds ratio": source.coefficients[source.coefficients["term"] != INTERCEPT]}
    if not isinstance(source, pd.DataFrame):
        raise InputError(f"'source' must be a LogisticResult or a DataFrame; got {type(source).__name__}.")
    table = source[~source["is_reference"]] if "is_reference" in source else source
    if "univariable_odds_ratio" in table:  # the univariable_multivariable() table
        return {
            label: table[["term", *(f"{prefix}_{c}" for c in _ESTIMATE_COLUMNS)]]
            .rename(columns=lambda column: column.removeprefix(f"{prefix}_"))
            .dropna(subset=["odds_ratio"])
            for label, prefix in (("Univariable", "univariable"), ("Multivariable", "multivariable"))
        }
    missing = [column for column in ("term", *_ESTIMATE_COLUMNS[:3]) if column not in table]
    if missing:
        raise InputError(f"The table to plot lacks column(s) {missing}.")
    return {"Odds ratio": table[table["term"] != INTERCEPT]}


def forest_figure(source, *, title: str | None = None) -> go.Figure:
    """Odds ratios (points) with their CIs (whiskers) per term, log x axis, line at OR = 1.

    ``source`` is a :class:`LogisticResult`, its ``coefficients`` table, or the table of
    :func:`univariable_multivariable` (univariable and multivariable estimates drawn side
    by side). Terms whose estimate or limits are not finite (separation) are left out and
    listed in ``layout.meta["omitted"]``.
    """
    series = _series(source)
    terms = list(dict.fromkeys(term for table in series.values() for term in table["term"]))
    position = {term: -index for index, term in enumerate(terms)}
    offsets = np.linspace(0.15, -0.15, len(series)) if len(series) > 1 else [0.0]
    figure = go.Figure()
    omitted = []
    for index, ((label, table), offset) in enumerate(zip(series.items(), offsets)):
        finite = np.isfinite(table[["odds_ratio", "ci_low", "ci_high"]].to_numpy(dtype=float)).all(axis=1)
        omitted += [f"{label}: {term}" for term in table.loc[~finite, "term"]]
        table = table[finite]
        figure.add_trace(
            go.Scatter(
                x=table["odds_ratio"],
                y=[position[term] + offset for term in table["term"]],
                mode="markers",
                marker={"color": colour(index), "size": 9, "symbol": "square"},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": table["ci_high"] - table["odds_ratio"],
                    "arrayminus": table["odds_ratio"] - table["ci_low"],
                    "thickness": 1.5,
                },
                name=label,
                meta={"role": "estimates", "series": label},
                customdata=np.column_stack(
                    [
                        table["term"],
                        [format_estimate(*row, digits=2) for row in table[["odds_ratio", "ci_low", "ci_high"]].to_numpy()],
                        [format_p(p) for p in table.get("p", pd.Series(np.nan, table.index))],
                    ]
                ),
                hovertemplate="%{customdata[0]}<br>OR %{customdata[1]}<br>p %{customdata[2]}<extra>" + label + "</extra>",
            )
        )
    figure.add_vline(x=1, line=REFERENCE_LINE)
    figure.update_layout(
        title=title,
        template="simple_white",
        width=720,
        height=140 + 40 * len(terms),
        showlegend=len(series) > 1,
        meta={"omitted": omitted},
    )
    figure.update_xaxes(type="log", title="Odds ratio (95 % CI, log scale)")
    figure.update_yaxes(tickvals=list(position.values()), ticktext=terms, range=[-len(terms) + 0.5, 0.5])
    return figure


def hazard_ratio_figure(screen: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Hazard ratios (95 % CI, log scale) of a Cox screen, univariable and multivariable side
    by side: :func:`forest_figure` of the table of
    :func:`stsanalysis.studies.survival_model.cox_screen` (columns ``univariable_hazard_ratio``,
    ``multivariable_hazard_ratio``, ...), its axis and hover texts naming hazard ratios."""
    required = ["term", "is_reference", "univariable_hazard_ratio", "multivariable_hazard_ratio"]
    missing = [column for column in required if column not in screen.columns]
    if missing:
        raise InputError(f"The Cox screen table lacks column(s) {missing}.")
    as_odds = screen.rename(columns=lambda column: column.replace("hazard_ratio", "odds_ratio"))
    figure = forest_figure(as_odds, title=title)
    figure.for_each_trace(lambda trace: trace.update(hovertemplate=trace.hovertemplate.replace("<br>OR ", "<br>HR ")))
    figure.update_xaxes(title="Hazard ratio (95 % CI, log scale)")
    return figure
