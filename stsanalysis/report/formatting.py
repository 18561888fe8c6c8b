"""Numbers as a manuscript prints them, and DataFrames as journal-style HTML tables.

The statistics return full-precision numbers; everything that rounds or writes
"p < 0.001" lives here.

Conventions (one choice, used everywhere):

- Missing or undefined values print as an em dash "—".
- Ranges and confidence intervals use an en dash, "0.969 (0.906–1.000)", as journals
  typeset them; when a bound is negative the dash would read as a minus, so " to " is
  used instead: "-0.12 (-0.30 to 0.05)".
- Negative numbers keep the ASCII hyphen-minus so copied values stay machine-readable.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..data.pseudonymise import pseudonymise_table
from .downloads import download_link

__all__ = [
    "MISSING",
    "DEFAULT_HEADERS",
    "HtmlTable",
    "format_number",
    "format_p",
    "format_p_phrase",
    "format_interval",
    "format_estimate",
    "format_mean_sd",
    "format_median_iqr",
    "format_count_percent",
    "readable_header",
    "to_html_table",
    "table_data_script",
    "csv_download_link",
]

MISSING = "—"
_RANGE_DASH = "–"

#: Headers for the column names the statistics tables use; others are derived by
#: :func:`readable_header`.
DEFAULT_HEADERS = {
    "n": "N",
    "p": "p",
    "icc": "ICC",
    "f": "F",
    "df": "df",
    "df1": "df1",
    "df2": "df2",
    "sd": "SD",
    "p25": "P25",
    "p75": "P75",
    "ci_low": "95% CI lower",
    "ci_high": "95% CI upper",
    "rho": "r",
    "auc": "AUC",
    "shapiro_p": "Shapiro-Wilk p",
    "statistic_name": "Statistic",
    "statistic": "Value",
}


def _is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def format_number(value, digits: int = 2) -> str:
    """``value`` rounded to ``digits`` decimals ("—" when missing)."""
    if _is_missing(value):
        return MISSING
    return f"{value:.{digits}f}"


def format_p(p, digits: int = 3) -> str:
    """A p value with ``digits`` decimals, "< 0.001" below 10^-digits, "—" when missing."""
    if _is_missing(p):
        return MISSING
    threshold = 10.0**-digits
    if p < threshold:
        return f"< {threshold:.{digits}f}"
    return f"{p:.{digits}f}"


def format_p_phrase(p, digits: int = 3) -> str:
    """A p value as running text writes it: "p < 0.001", "p = 0.012"."""
    text = format_p(p, digits)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def format_interval(low, high, digits: int = 3) -> str:
    """ "0.906–1.000" (en dash), or "-0.30 to 0.05" when a bound is negative."""
    if _is_missing(low) or _is_missing(high):
        return MISSING
    separator = " to " if min(low, high) < 0 else _RANGE_DASH
    return f"{format_number(low, digits)}{separator}{format_number(high, digits)}"


def format_estimate(value, ci_low, ci_high, digits: int = 3) -> str:
    """An estimate with its confidence interval: "0.969 (0.906–1.000)"."""
    if _is_missing(value):
        return MISSING
    if _is_missing(ci_low) or _is_missing(ci_high):
        return format_number(value, digits)
    return f"{format_number(value, digits)} ({format_interval(ci_low, ci_high, digits)})"


def format_mean_sd(mean, sd, digits: int = 2) -> str:
    """ "1.23 ± 0.45"."""
    if _is_missing(mean):
        return MISSING
    return f"{format_number(mean, digits)} ± {format_number(sd, digits)}"


def format_median_iqr(median, p25, p75, digits: int = 2) -> str:
    """Median with the 25th and 75th percentiles, as design A prints it: "1.20 (0.90, 1.50)"."""
    if _is_missing(median):
        return MISSING
    return f"{format_number(median, digits)} ({format_number(p25, digits)}, {format_number(p75, digits)})"


def format_count_percent(count, total, digits: int = 1) -> str:
    """ "12 (37.5%)"; the percentage of ``total`` ("—" when the total is 0)."""
    if _is_missing(count) or _is_missing(total) or total == 0:
        return MISSING
    return f"{int(count)} ({100 * count / total:.{digits}f}%)"


def readable_header(column: str) -> str:
    """``DEFAULT_HEADERS`` entry, else snake_case as words: "group_comparison" -> "Group comparison"."""
    column = str(column)
    if column in DEFAULT_HEADERS:
        return DEFAULT_HEADERS[column]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


class HtmlTable(str):
    """An HTML string that Jupyter renders as a table when it is a cell's last value."""

    def _repr_html_(self) -> str:
        return str(self)


NUMERIC_CLASS = ' class="num"'

#: Class of the ``<script type="application/json">`` that carries each table's data for the
#: report's Excel workbook and Word document (read back by :mod:`stsanalysis.report.exports`).
TABLE_DATA_CLASS = "sts-table-data"


def _is_p_column(column) -> bool:
    return str(column) == "p" or str(column).endswith("_p") or str(column).startswith("p_")


def _default_cell(value, digits: int) -> str:
    if _is_missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return format_number(value, digits)
    return str(value)


def _cell_formatter(column, formatters: Mapping[str, Callable[[object], str]], digits: int) -> Callable[[object], str]:
    if column in formatters:
        return formatters[column]
    if _is_p_column(column):
        return lambda value: format_p(value, digits)
    return lambda value: _default_cell(value, digits)


def to_html_table(
    frame: pd.DataFrame,
    caption: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    formatters: Mapping[str, Callable[[object], str]] | None = None,
    digits: int = 3,
    index: bool = False,
    notes: str | None = None,
    css_class: str = "sts-table",
    download: bool = True,
) -> HtmlTable:
    """Render ``frame`` as a journal-style HTML ``<table>``.

    Parameters
    ----------
    caption : table title, shown above the table.
    headers : column name -> header text; other columns get :func:`readable_header`.
    formatters : column name -> function returning the cell text. Columns without one:
        columns named ``p``, ``*_p`` or ``p_*`` use :func:`format_p`, floats are rounded to
        ``digits`` decimals, booleans print yes/no, missing values "—".
    index : include the index as the first column(s).
    notes : footnote below the table (e.g. which test produced p). The footnotes a table
        builder left in ``frame.attrs["notes"]`` (a list of sentences, e.g. why a p is
        "—") follow it, one per line.
    download : add a link that saves the table (full precision) as CSV, and a hidden
        machine-readable copy (:func:`table_data_script`) from which a report build writes
        the table into its Excel workbook and Word document.

    When ``STSANALYSIS_PSEUDONYM_SECRET`` is set, the ``patient_id`` column shows stable
    pseudonyms (:mod:`stsanalysis.data.pseudonymise`), in the table and in its CSV.

    Every caption, header and cell is HTML-escaped (patient ids and free text come from
    users' spreadsheets). Numeric columns get ``class="num"`` so a stylesheet can align
    them right.
    """
    footnotes = ([notes] if notes else []) + _table_notes(frame)
    if index:
        frame = frame.reset_index()
    frame = pseudonymise_table(frame)
    formatters = dict(formatters or {})
    header_texts = [str((headers or {}).get(column, readable_header(column))) for column in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) for dtype in frame.dtypes]
    column_formatters = [_cell_formatter(column, formatters, digits) for column in frame.columns]
    displayed = [
        [str(format_cell(value)) for format_cell, value in zip(column_formatters, values)]
        for values in frame.itertuples(index=False, name=None)
    ]
    escape = html.escape
    head = "".join(
        f'<th scope="col"{NUMERIC_CLASS if is_numeric else ""}>{escape(text)}</th>' for text, is_numeric in zip(header_texts, numeric)
    )
    opening_cells = [f"<td{NUMERIC_CLASS if is_numeric else ''}>" for is_numeric in numeric]
    rows = [
        "<tr>" + "".join(f"{opening}{escape(text)}</td>" for opening, text in zip(opening_cells, texts)) + "</tr>" for texts in displayed
    ]
    parts = [f'<table class="{escape(css_class)}">']
    if caption:
        parts.append(f"<caption>{escape(caption)}</caption>")
    parts.append(f"<thead><tr>{head}</tr></thead>")
    parts.append("<tbody>\n" + "\n".join(rows) + "\n</tbody>")
    if footnotes:
        width = max(1, frame.shape[1])
        lines = "".join(f'<tr><td colspan="{width}">{escape(note)}</td></tr>' for note in footnotes)
        parts.append(f"<tfoot>{lines}</tfoot>")
    parts.append("</table>")
    if download:
        parts.append(table_data_script(frame, caption, header_texts, numeric, displayed, footnotes))
        parts.append(csv_download_link(frame, caption or "table"))
    return HtmlTable("\n".join(parts))


def _table_notes(frame: pd.DataFrame) -> list[str]:
    """The footnotes a table builder attached (``attrs["notes"]``: a sentence or a list of them)."""
    notes = frame.attrs.get("notes") or []
    return [notes] if isinstance(notes, str) else [str(note) for note in notes]


def _json_value(value):
    """A cell as JSON: numbers at full precision, missing (and infinite) as null, others as text."""
    if _is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return str(value)


def table_data_script(
    frame: pd.DataFrame,
    caption: str | None,
    headers: list[str],
    numeric: list[bool],
    displayed: list[list[str]],
    notes: list[str],
) -> str:
    """The table as ``<script type="application/json" class="sts-table-data">``: invisible in the page.

    It holds what the report shows (caption, header texts, the displayed cell texts, the
    footnotes) and the cell values at full precision (JSON numbers, ``null`` when missing),
    so a report build can write the table as real numbers into Excel and as the displayed
    text into Word without parsing the HTML table. ``<``, ``>`` and ``&`` are written as
    JSON escapes, so no cell text can close the script element.
    """
    data = {
        "caption": caption or "",
        "headers": headers,
        "numeric": numeric,
        "values": [[_json_value(value) for value in values] for values in frame.itertuples(index=False, name=None)],
        "display": displayed,
        "notes": notes,
    }
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" class="{TABLE_DATA_CLASS}">{text}</script>'


def csv_download_link(frame: pd.DataFrame, name: str) -> str:
    """A link that saves ``frame`` (full precision, not the rounded display) as a CSV file.

    The CSV travels inside the page as a data URI, so the download works offline from the
    single-file report. A report build adds links to the report's Excel workbook and Word
    document after it (:func:`stsanalysis.report.exports.link_tables`).
    """
    slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()[:60] or "table"
    return f'<div class="sts-download">{download_link(frame.to_csv(index=False), f"{slug}.csv", "Download CSV", "text/csv")}</div>'
