"""Small helpers of the explorer's widgets: scrolling boxes, figure swaps, slider bounds, the NiiVue viewer."""

from __future__ import annotations

import plotly.graph_objects as go

from ..errors import InputError

#: The explorer's image viewers: NiiVue (WebGL, 3D) or the plotly slice viewer.
BACKENDS = ("niivue", "plotly")


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


def check_backend(backend: str) -> None:
    """Refuse an unknown image viewer, and NiiVue when ipyniivue is not installed."""
    if backend not in BACKENDS:
        raise InputError(f"'backend' must be one of {BACKENDS}; got {backend!r}.")
    if backend == "niivue":
        try:
            import ipyniivue  # noqa: F401
        except ImportError as error:
            raise InputError(
                "backend='niivue' needs the ipyniivue package (pip install 'stsanalysis[viewer]'); or use backend='plotly'."
            ) from error


def new_niivue():
    """A NiiVue viewer as radiologists read (patient's left on the screen's right), made once per sequence."""
    from ipyniivue import NiiVue

    viewer = NiiVue(
        height=360,
        # Patient's left on the screen's right, as radiologists read (and as the plotly viewer draws).
        is_radiological_convention=True,
        crosshair_color=(1.0, 0.85, 0.0, 0.6),  # yellow: the mask is red
        crosshair_width=0.3,
        crosshair_width_unit="mm",
        back_color=(0, 0, 0, 1),
    )
    viewer.layout.width = "420px"
    return viewer
