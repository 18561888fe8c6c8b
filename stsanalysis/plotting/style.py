"""The look shared by every figure: one colour palette and translucent fills for CI bands."""

from __future__ import annotations

import plotly.colors

#: Colours of successive models, groups or parameters (plotly's D3 palette).
PALETTE = plotly.colors.qualitative.D3


def colour(index: int) -> str:
    """The ``index``-th colour of :data:`PALETTE`, cycling."""
    return PALETTE[index % len(PALETTE)]


def translucent(colour_hex: str, alpha: float) -> str:
    """``"#1f77b4"`` -> ``"rgba(31, 119, 180, alpha)"``, for shaded confidence bands."""
    red, green, blue = plotly.colors.hex_to_rgb(colour_hex)
    return f"rgba({red}, {green}, {blue}, {alpha})"
