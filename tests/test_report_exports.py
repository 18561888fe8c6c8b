"""Report tables leave as an Excel workbook and a Word document; figures at print size and as a ZIP of SVGs."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import urllib.parse
import zipfile
import zlib
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from stsanalysis.report import exports
from stsanalysis.report.build import ReportError, _write_report_files, build_report
from stsanalysis.report.formatting import to_html_table

SETUP = """\
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display as show
from stsanalysis.report import display
from stsanalysis.report.formatting import to_html_table
display.setup()"""

#: Table 1: every kind of cell (p below and above 0.001, a missing AUC, counts, a formatter
#: adding " %", booleans, footnotes from the argument and from frame.attrs); its caption holds
#: characters Excel refuses in a sheet name and is longer than 31 characters.
TABLE_1 = """\
frame = pd.DataFrame({
    "parameter": ["ADCmean", "ADCmin", "Cho/Cr"],
    "auc": [0.96875123456789, 0.5, np.nan],
    "p": [0.00041234, 0.0123456789, 0.5],
    "n": [32, 31, 30],
    "percent": [37.5, 12.25, 50.0],
    "normal": [True, False, True],
})
frame.attrs["notes"] = ["Cho/Cr: AUC not computed (one reader)."]
to_html_table(frame, caption="Table 1. ROC: ADC [mean] / ADCmin vs Cho*Cr?", notes="p: DeLong test.",
              formatters={"percent": lambda value: f"{value:.1f} %"})"""

#: Two tables with one caption (unique sheet names), one shown with display() mid-cell.
TABLE_2 = """\
small = pd.DataFrame({"statistic": ["mean", "sd"], "value": [1.23456789, 0.000123456]})
show(to_html_table(small, caption="Table 2. Descriptives", digits=2))
to_html_table(small, caption="Table 2. Descriptives", digits=4)"""

FIGURES = """\
show(go.Figure(go.Scatter(x=[0, 0.5, 1], y=[0, 0.8, 1]), layout={"title": {"text": "ROC curve, ADCmean"}, "height": 400}))
go.Figure(go.Bar(x=["G1", "G2", "G3"], y=[3, 5, 2]))"""

SHEETS = ["Table 1. ROC ADC mean ADCmin vs", "Table 2. Descriptives", "Table 2. Descriptives (2)"]
CAPTIONS = ["Table 1. ROC: ADC [mean] / ADCmin vs Cho*Cr?", "Table 2. Descriptives", "Table 2. Descriptives"]
P_BELOW_0_001 = '[<0.001]"< 0.001";0.000'


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [new_code_cell("rows: int = 3"), new_code_cell(SETUP), new_markdown_cell("## Tables and figures")]
    cells += [new_code_cell(source) for source in sources]
    cells[0].metadata["tags"] = ["parameters"]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernel}), path)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exports")
    notebook = write_notebook(folder / "tiny_study.ipynb", TABLE_1, TABLE_2, FIGURES)
    return build_report(notebook, {}, folder / "reports", timeout=300)


def csv_downloads(html: str) -> list[list[list[str]]]:
    links = re.findall(r'<a download="[^"]+\.csv" href="data:text/csv;charset=utf-8,([^"]*)">', html)
    return [list(csv.reader(io.StringIO(urllib.parse.unquote(payload)))) for payload in links]


# ---- the pieces, without a kernel


def test_table_carries_its_data_for_the_exports():
    frame = pd.DataFrame({"patient_id": ["<P1>", "P2"], "auc": [0.123456789, np.nan], "p": [0.0004, 0.2], "n": [3, 4]})
    html_text = to_html_table(frame, caption="Table 5. <ROC>", notes="DeLong & Hanley")
    (table,) = exports.read_tables(html_text)
    assert table.caption == "Table 5. <ROC>" and table.notes == ("DeLong & Hanley",)
    assert table.headers == ("Patient id", "AUC", "p", "N") and table.numeric == (False, True, True, True)
    assert table.values == (("<P1>", 0.123456789, 0.0004, 3), ("P2", None, 0.2, 4))
    assert table.display == (("<P1>", "0.123", "< 0.001", "3"), ("P2", "—", "0.200", "4"))
    assert "<P1>" not in html_text.split('<div class="sts-download">')[0]  # escaped in the JSON too
    assert exports.read_tables(to_html_table(frame, download=False)) == []


def test_sheet_names_follow_excels_rules():
    names = exports.sheet_names(["Table 1. A/B: [x]*?", "", "History", "t" * 40, "T" * 40, "'quoted'", "Table 1. A B x"])
    assert names == ["Table 1. A B x", "Table 2", "Table 3", "t" * 31, "T" * 27 + " (2)", "quoted", "Table 1. A B x (2)"]
    assert all(len(name) <= 31 and not re.search(r"[\\/*?:\[\]]", name) for name in names)


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        (0.96875, "0.969", "0.000"),
        (32, "32", "0"),
        (0.00041, "< 0.001", P_BELOW_0_001),
        (0.0123, "0.012", "0.000"),
        (37.5, "37.5 %", '0.0" %"'),
        (0.375, "37.5%", "0.0%"),
        (1234.5, "1,234.5", "#,##0.0"),
        (-0.12, "-0.12", "0.00"),
        (0.5, "yes", None),
        (0.5, "0.50 (0.40–0.60)", None),
        (0.5, "0.7", None),  # a formatter that does not show the value: the text is kept
    ],
)
def test_number_format_reproduces_the_report_text(value, text, expected):
    assert exports.number_format(value, text) == expected


# ---- a whole build


@pytest.mark.slow
def test_workbook_has_a_sheet_per_table_with_full_precision_numbers(report):
    from openpyxl import load_workbook

    workbook = load_workbook(report.with_suffix(".xlsx"))
    assert workbook.sheetnames == SHEETS
    downloads = csv_downloads(report.read_text())
    assert len(downloads) == 3
    for sheet, caption, table_csv in zip(workbook.worksheets, CAPTIONS, downloads):
        assert sheet["A1"].value == caption and sheet["A1"].font.b
        rows = list(sheet.iter_rows(min_row=3, max_row=2 + len(table_csv) - 1))
        for row, csv_row in zip(rows, table_csv[1:]):
            for cell, text in zip(row, csv_row):
                if isinstance(cell.value, (int, float)):
                    assert cell.value == float(text)  # the CSV's full precision, as a number
                else:
                    assert cell.value == {"": "—", "True": "yes", "False": "no"}.get(text, text)
    table_1 = workbook.worksheets[0]
    assert [cell.value for cell in table_1[2]] == ["Parameter", "AUC", "p", "N", "Percent", "Normal"]
    assert table_1["B3"].value == 0.96875123456789 and table_1["B3"].number_format == "0.000"
    assert table_1["C3"].value == 0.00041234 and table_1["C3"].number_format == P_BELOW_0_001
    assert table_1["C4"].number_format == "0.000" and table_1["D3"].number_format == "0"
    assert table_1["E4"].value == 12.25 and table_1["E4"].number_format == '0.0" %"'
    assert table_1["B5"].value == "—" and table_1["F3"].value == "yes"
    assert [table_1.cell(row=row, column=1).value for row in (7, 8)] == ["p: DeLong test.", "Cho/Cr: AUC not computed (one reader)."]
    assert workbook.worksheets[1]["B4"].number_format == "0.00" and workbook.worksheets[2]["B4"].number_format == "0.0000"
    assert workbook.worksheets[2]["B4"].value == 0.000123456


@pytest.mark.slow
def test_document_has_three_line_tables_with_captions_and_footnotes(report):
    from docx import Document
    from docx.oxml.ns import qn

    document = Document(str(report.with_suffix(".docx")))
    assert len(document.tables) == 3
    assert [p.text for p in document.paragraphs if p.style.name == "Table caption"] == CAPTIONS
    notes = [p.text for p in document.paragraphs if p.style.name == "Table footnote"]
    assert notes[1:] == ["p: DeLong test.", "Cho/Cr: AUC not computed (one reader)."]  # after the document's subtitle
    table_1 = document.tables[0]
    assert [cell.text for cell in table_1.rows[0].cells] == ["Parameter", "AUC", "p", "N", "Percent", "Normal"]
    assert [cell.text for cell in table_1.rows[1].cells] == ["ADCmean", "0.969", "< 0.001", "32", "37.5 %", "yes"]
    assert [cell.text for cell in table_1.rows[3].cells][:2] == ["Cho/Cr", "—"]
    assert [cell.text for cell in document.tables[2].rows[2].cells] == ["sd", "0.0001"]
    assert {paragraph.style.name for table in document.tables for cell in table._cells for paragraph in cell.paragraphs} == {"Table cell"}
    borders = table_1._tbl.tblPr.find(qn("w:tblBorders"))
    lines = {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}
    assert lines == {"top": "single", "bottom": "single", "left": "nil", "right": "nil", "insideH": "nil", "insideV": "nil"}
    header_rule = table_1.rows[0].cells[0]._tc.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom"))
    assert header_rule.get(qn("w:val")) == "single"


@pytest.mark.slow
def test_report_links_to_the_workbook_and_document_beside_it(report):
    html = report.read_text()
    header = re.search(r'<div class="sts-exports".*?</div>', html, re.S).group(0)
    assert "Download all tables:" in header and ">Excel workbook</a>" in header and ">Word tables</a>" in header
    assert "Download all figures (SVG, ZIP)" in header
    for href in re.findall(r'href="([^"]+)"', header):
        assert (report.parent / href).is_file(), href
    rows = re.findall(r'<div class="sts-table-downloads">.*?</span></div>', html, re.S)
    assert len(rows) == 3
    for row in rows:
        assert ">Download CSV</a>" in row and 'href="tiny_study.xlsx"' in row and 'href="tiny_study.docx"' in row
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", html)  # still single-file and offline


@pytest.mark.slow
def test_a_failed_build_leaves_no_new_file(tmp_path, report):
    output = tmp_path / "reports"
    output.mkdir()
    previous = {suffix: f"previous {suffix}" for suffix in (".html", ".xlsx", ".docx")}
    for suffix, text in previous.items():
        (output / f"tiny_study{suffix}").write_text(text)

    # the notebook raises
    broken = write_notebook(tmp_path / "tiny_study.ipynb", TABLE_1, "raise ValueError('no')")
    with pytest.raises(ReportError, match="ValueError: no"):
        build_report(broken, {}, output, timeout=300)

    # the notebook ran, the Word document cannot be written
    def failing_writer(*args):
        raise ValueError("disk says no")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exports, "write_document", failing_writer)
        with pytest.raises(ReportError, match="disk says no"):
            _write_report_files(output, "tiny_study", report.read_text(), "Tiny study")

    assert {path.name: path.read_text() for path in output.iterdir() if path.is_file()} == {
        f"tiny_study{suffix}": text for suffix, text in previous.items()
    }


@pytest.mark.slow
def test_all_figures_download_as_one_zip_of_svgs(report, offline_page):
    page, remote, errors = offline_page
    page.goto(report.as_uri())
    page.wait_for_selector(".sts-figure-export button", timeout=15000)
    assert page.locator(".plotly-graph-div").count() == 2
    with page.expect_download(timeout=30000) as download:
        page.locator("#sts-figures-zip").click()
    assert download.value.suggested_filename == "tiny_study_figures.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        assert archive.testzip() is None  # every stored CRC-32 matches
        assert archive.namelist() == ["figure-01-roc-curve-adcmean.svg", "figure-02.svg"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        svgs = [archive.read(name).decode() for name in archive.namelist()]
    for svg, height in zip(svgs, (400, 480)):
        assert svg.startswith("<svg")
        assert re.search(r'<svg[^>]* width="642.5625" height="(\d+)"', svg).group(1) == str(height)  # 17 cm wide
    assert "ROC curve, ADCmean" in svgs[0]
    assert remote == [] and errors == []


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body, (crc,) = (
            data[at + 4 : at + 8],
            data[at + 8 : at + 8 + length],
            struct.unpack(">I", data[at + 8 + length : at + 12 + length]),
        )
        assert zlib.crc32(kind + body) == crc, kind
        chunks.setdefault(kind, body)
        at += 12 + length
    return chunks


@pytest.mark.slow
def test_save_png_is_17_cm_wide_at_300_dpi(report, offline_page):
    from PIL import Image

    page, remote, errors = offline_page
    page.goto(report.as_uri())
    page.wait_for_selector(".sts-figure-export button", timeout=15000)
    with page.expect_download(timeout=30000) as download:
        page.locator(".sts-figure-export button", has_text="Save PNG").first.click()
    assert download.value.suggested_filename == "figure.png"
    data = Path(download.value.path()).read_bytes()
    chunks = png_chunks(data)
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    # 17 cm at 300 dpi = 17 / 2.54 * 300 = 2008 px; the 400 CSS px high figure at 300 / 96 px per CSS px
    assert (width, height) == (2008, 1250)
    assert struct.unpack(">IIB", chunks[b"pHYs"]) == (11811, 11811, 1)  # 300 dpi in pixels per metre
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (2008, 1250) and image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert remote == [] and errors == []


def test_table_data_is_valid_json_whatever_the_cells_hold():
    frame = pd.DataFrame({"text": ["</script><b>", "a\x01b"], "value": [np.inf, 1e-300]})
    html_text = to_html_table(frame, caption="</script>")
    payload = re.search(r'class="sts-table-data">(.*?)</script>', html_text, re.S).group(1)
    data = json.loads(payload)
    assert data["values"] == [["</script><b>", None], ["a\x01b", 1e-300]] and data["display"][0][1] == "inf"
