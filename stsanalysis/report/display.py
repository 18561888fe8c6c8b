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


#: Print size of "Save PNG" and of the report's "all figures" SVGs: a double-column figure.
PRINT_WIDTH_CM = 17
PRINT_DPI = 300

#: Runs after each figure is drawn in the HTML report: adds "Save PNG" and "Save SVG" buttons
#: that save the figure at print size with plotly.js's own exporter (offline; no server, no
#: kaleido), and defines ``window.stsPrintImageOptions``, the size rule the report's
#: "Download all figures" button uses too. In the report, the PNG goes through
#: ``stsExports.savePng`` (templates/sts_report/static/exports.js), which writes the dpi
#: into the file (a pHYs chunk; plotly.js's canvas export cannot); elsewhere plotly.js saves it.
EXPORT_BUTTONS_SCRIPT = """
(function () {
  var figure = document.getElementById('{plot_id}');
  if (!figure || figure.parentNode.querySelector('.sts-figure-export')) { return; }
  // Print size. A CSS pixel is 1/96 inch, so a figure PRINT_WIDTH_CM cm wide is laid out
  // PRINT_WIDTH_CM / 2.54 * 96 CSS px wide (17 cm: 642.5 px) at its on-screen height, with
  // fonts and lines at their on-screen size (a 12 px label prints at 9 pt), and rendered at
  // scale PRINT_DPI / 96 (300 dpi: 3.125): the PNG is PRINT_WIDTH_CM / 2.54 * PRINT_DPI px
  // wide (17 cm at 300 dpi: 2008 px) and height * scale px high, PRINT_DPI dpi when printed
  // PRINT_WIDTH_CM cm wide.
  // plotly.js sizes the canvas width * scale, truncated; a width in 1/64 CSS px, exact in
  // binary, keeps the product at the pixel count (642.5625 * 3.125 = 2008.008).
  window.stsPrintImageOptions = window.stsPrintImageOptions || function (graph, format) {
    var scale = PRINT_DPI / 96;
    var pixels = Math.round(PRINT_WIDTH_CM / 2.54 * PRINT_DPI);
    return {format: format, width: Math.ceil(pixels / scale * 64) / 64, height: graph._fullLayout.height,
            scale: format === 'png' ? scale : 1, filename: 'figure'};
  };
  var bar = document.createElement('div');
  bar.className = 'sts-figure-export';
  ['png', 'svg'].forEach(function (format) {
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Save ' + format.toUpperCase();
    button.title = format === 'png' ? 'PRINT_WIDTH_CM cm wide at PRINT_DPI dpi' : 'vector, PRINT_WIDTH_CM cm wide';
    button.onclick = function () {
      var options = window.stsPrintImageOptions(figure, format);
      if (format === 'png' && window.stsExports) { window.stsExports.savePng(figure, options, PRINT_DPI); }
      else { Plotly.downloadImage(figure, options); }
    };
    bar.appendChild(button);
  });
  figure.parentNode.appendChild(bar);
})();
""".replace("PRINT_WIDTH_CM", str(PRINT_WIDTH_CM)).replace("PRINT_DPI", str(PRINT_DPI))


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


def markdown(text: str):
    """``text`` as notebook Markdown with "&", "<" and ">" escaped: a configured label never becomes HTML.

    Every heading or paragraph a report writes from its study config (an endpoint's label,
    a column name) goes through here.
    """
    import html

    from IPython.display import Markdown

    return Markdown(html.escape(text, quote=False))
