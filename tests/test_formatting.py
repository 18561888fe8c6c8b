"""Manuscript formatting of numbers and HTML tables (stsanalysis.report.formatting)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from stsanalysis.report.formatting import (
    HtmlTable,
    format_count_percent,
    format_estimate,
    format_mean_sd,
    format_median_iqr,
    format_p,
    readable_header,
    to_html_table,
)


@pytest.mark.parametrize(
    ("p", "digits", "text"),
    [
        (0.0004, 3, "< 0.001"),
        (0.00099999, 3, "< 0.001"),
        (0.001, 3, "0.001"),
        (0.0123, 3, "0.012"),
        (0.05, 3, "0.050"),
        (0.9999, 3, "1.000"),
        (0.0004, 4, "0.0004"),
        (0.00004, 4, "< 0.0001"),
        (float("nan"), 3, "—"),
        (None, 3, "—"),
        (np.float64(0.2), 2, "0.20"),
    ],
)
def test_format_p(p, digits, text):
    assert format_p(p, digits=digits) == text


def test_format_estimate_uses_an_en_dash_and_to_with_negative_bounds():
    assert format_estimate(0.969, 0.906, 1.0) == "0.969 (0.906–1.000)"
    assert format_estimate(-0.123, -0.3, 0.05, digits=2) == "-0.12 (-0.30 to 0.05)"
    assert format_estimate(0.5, np.nan, np.nan) == "0.500"
    assert format_estimate(np.nan, 0.1, 0.2) == "—"


def test_summary_formats():
    assert format_mean_sd(1.2345, 0.456) == "1.23 ± 0.46"
    assert format_mean_sd(12.0, 3.0, digits=1) == "12.0 ± 3.0"
    assert format_median_iqr(1.2, 0.9, 1.5) == "1.20 (0.90, 1.50)"
    assert format_count_percent(30, 32) == "30 (93.8%)"
    assert format_count_percent(0, 0) == "—"


def test_readable_header():
    assert readable_header("ci_low") == "95% CI lower"
    assert readable_header("statistic_name") == "Statistic"
    assert readable_header("summary_kind") == "Summary kind"


def test_to_html_table_escapes_every_cell_caption_and_header():
    frame = pd.DataFrame({"patient_id": ["<script>alert('x')</script>", "A&B"], "note<b>": ['"quoted"', "ok"], "p": [0.0004, 0.2]})
    rendered = to_html_table(frame, caption="Table <1> & co", notes="<i>note</i>")
    assert "<script>" not in rendered
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rendered
    assert "A&amp;B" in rendered and "&quot;quoted&quot;" in rendered
    assert "<caption>Table &lt;1&gt; &amp; co</caption>" in rendered
    assert "Note&lt;b&gt;" in rendered
    assert "&lt;i&gt;note&lt;/i&gt;" in rendered
    # p column formatted as a p value (the "<" escaped)
    assert '<td class="num">&lt; 0.001</td>' in rendered and '<td class="num">0.200</td>' in rendered


def test_to_html_table_headers_formatters_and_missing_values():
    frame = pd.DataFrame({"parameter": ["ADCmean", "Cho/Cr"], "icc": [0.93812, np.nan], "n": [32, 31], "normal": [True, False]})
    rendered = to_html_table(
        frame,
        headers={"parameter": "Parameter"},
        formatters={"icc": lambda value: format_estimate(value, 0.9, 0.97)},
    )
    header_cells = re.findall(r"<th scope=[^>]*>(.*?)</th>", rendered)
    assert header_cells == ["Parameter", "ICC", "N", "Normal"]
    body = rendered.split("<tbody>")[1]
    assert '<td>ADCmean</td><td class="num">0.938 (0.900–0.970)</td><td class="num">32</td><td>yes</td>' in body
    assert '<td class="num">—</td>' in body
    assert isinstance(rendered, HtmlTable) and rendered._repr_html_() == str(rendered)


def test_to_html_table_with_index_and_many_rows():
    # its speed is measured in benchmarks/bench_report.py
    frame = pd.DataFrame({"value": np.arange(5000) / 7}, index=pd.Index([f"P{i}" for i in range(5000)], name="patient"))
    rendered = to_html_table(frame, index=True, digits=2)
    assert rendered.count("<tr>") == 5001
    assert '<td>P4999</td><td class="num">714.14</td>' in rendered


def test_tables_carry_a_full_precision_csv_download():
    import urllib.parse

    frame = pd.DataFrame({"patient_id": ["<P1>", "P2"], "auc": [0.123456789, 0.5]})
    html_text = to_html_table(frame, caption="Table 5. ROC, high grade")
    link = re.search(r'<a download="([^"]+)" href="data:text/csv;charset=utf-8,([^"]+)">', html_text)
    assert link.group(1) == "table_5_roc_high_grade.csv"
    assert urllib.parse.unquote(link.group(2)) == frame.to_csv(index=False)
    assert "<P1>" not in html_text.split('<div class="sts-download">')[0]
    assert "Download CSV" not in to_html_table(frame, download=False)
