"""Small helpers of the explorer's widgets: scrolling boxes, figure swaps, slider bounds."""

from __future__ import annotations

import plotly.graph_objects as go


def scrollable(content: str, height_px: int = 420) -> str:
    """``content`` in a box that scrolls past ``height_px`` pixels."""
    return f'<div style="max-height:{height_px}px; overflow:auto">{content}</div>'


def replace_figure(view: go.FigureWidget, figure: go.Figure) -> None:
    """Show ``figure`` in an existing FigureWidget (a new widget would resend plotly.js)."""
    view.data = []
    with view.batch_update():
        view.add_traces(list(figure.data))
        view.layout = figure.layout


def set_bounds(slider, low: float, high: float) -> None:
    """Set a slider's range, moving first the bound that keeps min <= max (sliders refuse otherwise)."""
    if low > slider.max:
        slider.max, slider.min = high, low
    else:
        slider.min, slider.max = low, high
