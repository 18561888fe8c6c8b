"""Agreement of two readers' segmentations: Dice and HD95 per patient, volumes of reader 1 vs reader 2.

Numbers come from :func:`stsanalysis.radiomics.segmentation.agreement_by_patient`; this
module only draws them.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InputError
from ..radiomics.segmentation import AGREEMENT_HEADERS
from ..report.formatting import format_number
from ..validation import require_columns
from .style import colour, diagonal

__all__ = ["segmentation_agreement_figure"]

#: The per-patient panels: (column, decimals of the median in the title).
DISTRIBUTION_PANELS = (("dice", 3), ("hd95_mm", 1))


def _hover_text(table: pd.DataFrame) -> list[str] | None:
    return [f"Patient {patient}" for patient in table["patient_id"]] if "patient_id" in table else None


def _distribution_panel(figure: go.Figure, table: pd.DataFrame, column: str, index: int) -> None:
    """A box with every patient beside it (its median is written in the panel's title)."""
    figure.add_trace(
        go.Box(
            y=table[column].astype(float),
            name=AGREEMENT_HEADERS[column],
            boxpoints="all",
            jitter=0.4,
            pointpos=-1.6,
            marker={"color": colour(index), "size": 7, "opacity": 0.8},
            line={"color": colour(index)},
            hovertext=_hover_text(table),
            showlegend=False,
            meta={"role": column},
        ),
        row=1,
        col=index + 1,
    )


def _panel_title(table: pd.DataFrame, column: str, digits: int) -> str:
    # the median is the line plotly draws in the box; written out, it reads without hovering
    return f"{AGREEMENT_HEADERS[column]}: median {format_number(table[column].astype(float).median(), digits)}"


def _volume_panel(figure: go.Figure, table: pd.DataFrame, names: tuple[str, str], col: int) -> None:
    """Reader 2's volume against reader 1's, with the line of identical volumes."""
    volumes = table[["volume_a_ml", "volume_b_ml"]].astype(float)
    high = float(volumes.max().max()) * 1.05 if volumes.notna().any().any() else 1.0
    figure.add_trace(
        diagonal("Identical volumes", "identity", high),
        row=1,
        col=col,
    )
    figure.add_trace(
        go.Scatter(
            x=volumes["volume_a_ml"],
            y=volumes["volume_b_ml"],
            mode="markers",
            marker={"color": colour(2), "size": 7, "opacity": 0.8},
            name=f"Patients (n = {len(table)})",
            hovertext=_hover_text(table),
            hovertemplate=f"%{{hovertext}}<br>{names[0]} %{{x:.1f}} mL<br>{names[1]} %{{y:.1f}} mL<extra></extra>",
            meta={"role": "volumes"},
        ),
        row=1,
        col=col,
    )
    figure.update_xaxes(title=f"{names[0]} volume (mL)", range=[0, high], row=1, col=col)
    figure.update_yaxes(title=f"{names[1]} volume (mL)", range=[0, high], scaleanchor=f"x{col}", constrain="domain", row=1, col=col)


def segmentation_agreement_figure(
    table: pd.DataFrame,
    title: str | None = None,
    *,
    names: tuple[str, str] = ("Reader 1", "Reader 2"),
) -> go.Figure:
    """Three panels of a per-patient agreement table (:func:`~stsanalysis.radiomics.segmentation.agreement_by_patient`):
    Dice and HD95 as boxes with every patient shown and the median in the panel's title, and
    ``names[1]``'s tumour volume against ``names[0]``'s with the identity line. Hover names
    the patient. Trace ``meta`` holds the role ("dice", "hd95_mm", "volumes", "identity").
    """
    require_columns(table, ["dice", "hd95_mm", "volume_a_ml", "volume_b_ml"], what="segmentation agreement table")
    if table.empty:
        raise InputError("The segmentation agreement table has no patient; nothing to draw.")
    titles = [_panel_title(table, column, digits) for column, digits in DISTRIBUTION_PANELS] + ["Tumour volume"]
    figure = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.1)
    for index, (column, _) in enumerate(DISTRIBUTION_PANELS):
        _distribution_panel(figure, table, column, index)
    _volume_panel(figure, table, names, col=3)
    figure.update_yaxes(title="Dice", row=1, col=1)
    figure.update_yaxes(title="HD95 (mm)", rangemode="tozero", row=1, col=2)
    figure.update_layout(
        title=title,
        template="simple_white",
        width=1080,
        height=440,
        legend={"x": 1.0, "y": 0.02, "xanchor": "right", "yanchor": "bottom"},
        margin={"t": 80},
    )
    return figure
