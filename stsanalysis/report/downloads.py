"""Files a reader saves from the report: links that carry their content, so the single HTML file is enough.

:func:`download_link` writes the content into the link as a ``data:`` URI (as the tables'
"Download CSV" links do), so a download works offline and from an e-mailed report.
:func:`display_params_download` offers, per sequence, the exact pyradiomics parameter file of
the extraction, so that a reader can re-extract the features with pyradiomics alone.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Mapping

#: The pyradiomics command a parameter file's note shows (``{name}``: the file's name).
REEXTRACT_COMMAND = "pyradiomics cases.csv --param {name}"


def download_link(text: str, filename: str, label: str, media_type: str = "text/plain") -> str:
    """An ``<a download>`` element whose ``data:`` URI holds ``text`` (UTF-8): the file saved is ``filename``."""
    payload = urllib.parse.quote(text)
    return f'<a download="{html.escape(filename)}" href="data:{media_type};charset=utf-8,{payload}">{html.escape(label)}</a>'


def params_file_name(sequence: str) -> str:
    """The parameter file's name for a sequence: "T1" -> "T1.yaml" (characters a file name cannot hold become "_")."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(sequence)).strip("._")
    return f"{stem or 'params'}.yaml"


def params_downloads(params_by_sequence: Mapping[str, object]) -> dict[str, str | None]:
    """Sequence -> the pyradiomics YAML of its parameters (:func:`~stsanalysis.radiomics.params.pyradiomics_yaml`).

    A value is what :func:`~stsanalysis.radiomics.params.load_params` takes (a preset name, a
    YAML path, a dict) or an extraction's provenance record (``extract_features(...).attrs
    ["provenance"]``, or the provenance per sequence of ``load_cohort_features``), whose
    resolved parameters are used. None when the record comes from a feature table that does
    not record the image types or settings (pyradiomics' batch output without diagnostics).
    """
    from ..radiomics.params import load_params, pyradiomics_yaml

    downloads: dict[str, str | None] = {}
    for sequence, params in params_by_sequence.items():
        if isinstance(params, Mapping) and "params" in params:  # an extraction provenance record
            if {"imageType", "setting"} & set(params.get("not_recorded") or ()):
                downloads[sequence] = None
                continue
            params = params["params"]
        downloads[sequence] = pyradiomics_yaml(load_params(params))
    return downloads


def params_download_html(params_by_sequence: Mapping[str, object]) -> str:
    """Per sequence, "Download pyradiomics YAML (T1)" and the command that re-extracts with it."""
    lines = []
    for sequence, text in params_downloads(params_by_sequence).items():
        name = params_file_name(sequence)
        if text is None:
            lines.append(
                f'<div class="sts-download">pyradiomics YAML ({html.escape(str(sequence))}): not available, '
                "the feature table does not record the image types and settings.</div>"
            )
            continue
        link = download_link(text, name, f"Download pyradiomics YAML ({sequence})", "application/yaml")
        command = html.escape(REEXTRACT_COMMAND.format(name=name))
        lines.append(
            f'<div class="sts-download">{link} &middot; re-extract with: <code>{command}</code> '
            f"(cases.csv: the {html.escape(str(sequence))} cases, columns Image, Mask and optionally Label)</div>"
        )
    return "\n".join(lines)


def display_params_download(params_by_sequence: Mapping[str, object]) -> None:
    """Show the pyradiomics YAML download of every sequence in a notebook (:func:`params_download_html`)."""
    from IPython.display import HTML, display

    display(HTML(params_download_html(params_by_sequence)))
