"""How figures and tables appear in a notebook and in the offline HTML report.

:func:`setup` (the first call of every report notebook) registers the ``sts`` plotly
renderer and makes it the default. It emits two representations of each figure:

* ``application/vnd.plotly.v1+json``, which JupyterLab renders interactively;
* ``text/html``, a ``<div>`` plus a call of ``Plotly.newPlot``, written without plotly.js
  and without MathJax (``include_plotlyjs=False, include_mathjax=False``). nbconvert keeps
  this one, and the report template inlines plotly.js once in the page head, so the
  single-file report opens offline.

(papermill's default renderer drops figures from the HTML, and plotly's notebook renderers
load MathJax or plotly.js from a CDN.)
"""

from __future__ import annotations

import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

RENDERER_NAME = "sts"

#: Figure options shared by every report figure: the modebar offers PNG download at
#: twice the screen resolution; the plotly logo is hidden.
FIGURE_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


#: Runs after each figure is drawn in the HTML report: adds "PNG" and "SVG" buttons that
#: save the figure with plotly.js's own exporter (offline; no server, no kaleido).
EXPORT_BUTTONS_SCRIPT = """
(function () {
  var figure = document.getElementById('{plot_id}');
  if (!figure || figure.parentNode.querySelector('.sts-figure-export')) { return; }
  var bar = document.createElement('div');
  bar.className = 'sts-figure-export';
  ['png', 'svg'].forEach(function (format) {
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Save ' + format.toUpperCase();
    button.onclick = function () { Plotly.downloadImage(figure, {format: format, scale: format === 'png' ? 2 : 1, filename: 'figure'}); };
    bar.appendChild(button);
  });
  figure.parentNode.appendChild(bar);
})();
"""


class OfflineHtmlRenderer(MimetypeRenderer):
    """Plotly renderer emitting the plotly mimetype and an HTML div without scripts from a CDN."""

    def to_mimebundle(self, fig_dict):
        return {
            "application/vnd.plotly.v1+json": {
                "data": fig_dict.get("data", []),
                "layout": fig_dict.get("layout", {}),
                "config": FIGURE_CONFIG,
            },
            "text/html": pio.to_html(
                fig_dict,
                config=FIGURE_CONFIG,
                include_plotlyjs=False,
                include_mathjax=False,
                post_script=EXPORT_BUTTONS_SCRIPT,
                full_html=False,
                # A percentage height collapses to nothing inside a notebook output area.
                default_height=f"{fig_dict.get('layout', {}).get('height', 480)}px",
                validate=False,
            ),
        }


def setup() -> None:
    """Register the offline renderer as plotly's default (call once, first cell of a notebook)."""
    pio.renderers[RENDERER_NAME] = OfflineHtmlRenderer()
    pio.renderers.default = RENDERER_NAME
