"""The look shared by every figure: one colour palette and translucent fills for CI bands."""

from __future__ import annotations

import plotly.colors
import plotly.graph_objects as go

#: Colours of successive models, groups or parameters (plotly's D3 palette).
PALETTE = plotly.colors.qualitative.D3


def colour(index: int) -> str:
    """The ``index``-th colour of :data:`PALETTE`, cycling."""
    return PALETTE[index % len(PALETTE)]


def translucent(colour_hex: str, alpha: float) -> str:
    """``"#1f77b4"`` -> ``"rgba(31, 119, 180, alpha)"``, for shaded confidence bands."""
    red, green, blue = plotly.colors.hex_to_rgb(colour_hex)
    return f"rgba({red}, {green}, {blue}, {alpha})"


#: The grey dashed line of every reference (ideal calibration, chance, identity).
REFERENCE_LINE = {"color": "grey", "dash": "dash", "width": 1}


def diagonal(name: str, role: str, high: float = 1.0, **options) -> go.Scatter:
    """The grey dashed line y = x from 0 to ``high`` (``meta.role`` = ``role``; no hover)."""
    return go.Scatter(
        x=[0, high], y=[0, high], mode="lines", line=REFERENCE_LINE, name=name, hoverinfo="skip", meta={"role": role}, **options
    )
