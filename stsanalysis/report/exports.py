"""The report's tables as an Excel workbook and a Word document, written beside the HTML.

How the tables get here: :func:`~stsanalysis.report.formatting.to_html_table` writes, after
each table, a ``<script type="application/json" class="sts-table-data">`` holding the
caption, header texts, footnotes, the displayed cell texts and the values at full precision
(:func:`~stsanalysis.report.formatting.table_data_script`). :func:`read_tables` collects
them from the rendered report, in document order. Reading the rendered page rather than the
notebook's outputs means the files hold exactly the tables the reader sees, in the order
they appear, even when a notebook wraps a table in other HTML; reading the JSON rather than
the HTML ``<table>`` means numbers keep full precision and their type.

- :func:`write_workbook`: one sheet per table (openpyxl); numbers are real numeric cells at
  full precision with a number format that shows them as the report does (``0.000``,
  ``[<0.001]"< 0.001";0.000`` for a p value, ``0.0" %"``), the caption as a title row, the
  footnotes below. A cell whose report text is not its number (an estimate with its CI, a
  yes/no, "—") holds that text. One difference remains, as no number format can remove it:
  at a decimal tie Excel rounds the half away from zero, the report rounds the binary value
  (ties to even), so 10/32 = 31.25 % shows as 31.3 % in Excel and 31.2 % in the report.
- :func:`write_document`: every table as a journal's three-line table (python-docx): caption
  above, rules above and below the header and below the last row, no vertical lines, the
  displayed (rounded) values, footnotes below; tables wider than seven columns on a
  landscape page.
"""

from __future__ import annotations

import html
import json
import os
import re
import urllib.parse
from dataclasses import dataclass

from .formatting import TABLE_DATA_CLASS

__all__ = ["ReportTable", "read_tables", "sheet_names", "link_tables", "number_format", "write_workbook", "write_document"]

# nbconvert re-serialises the page (BeautifulSoup): attributes may change order, script text stays as written
_DATA_SCRIPT = rf'<script\b[^>]*\bclass="{TABLE_DATA_CLASS}"[^>]*>(.*?)</script>'
_TABLE_DATA = re.compile(_DATA_SCRIPT, re.S)
_DOWNLOAD_AFTER_DATA = re.compile(rf'(?P<data>{_DATA_SCRIPT})\s*(?P<csv><div class="sts-download"><a\b[^>]*>Download CSV</a></div>)', re.S)
#: Characters Excel refuses in a sheet name; its limit on the name's length.
_SHEET_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")
SHEET_NAME_LIMIT = 31
#: Control characters that neither XLSX nor DOCX (XML 1.0) can hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NUMBER_TEXT = re.compile(r"(?P<prefix>[^\d-]*?)(?P<number>-?\d[\d,]*(?:\.(?P<decimals>\d+))?)(?P<suffix>\D*)")
#: Tables with more columns than this go on a landscape page (Word document, printed sheet).
PORTRAIT_MAX_COLUMNS = 7
#: Excel's default font, named on the styled cells (without a name LibreOffice falls back to a serif).
EXCEL_FONT = "Calibri"


@dataclass(frozen=True)
class ReportTable:
    """One table of a report: what it shows (``display``) and its values at full precision."""

    caption: str
    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    values: tuple[tuple, ...]
    display: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...]


def read_tables(report_html: str) -> list[ReportTable]:
    """The tables of a rendered report, in the order they appear."""
    tables = []
    for payload in _TABLE_DATA.findall(report_html):
        data = json.loads(payload)
        tables.append(
            ReportTable(
                caption=data["caption"],
                headers=tuple(data["headers"]),
                numeric=tuple(data["numeric"]),
                values=tuple(tuple(row) for row in data["values"]),
                display=tuple(tuple(row) for row in data["display"]),
                notes=tuple(data["notes"]),
            )
        )
    return tables


def _clean(text: str) -> str:
    return _CONTROL.sub("", str(text))


def _sheet_base(caption: str, number: int) -> str:
    name = " ".join(_SHEET_FORBIDDEN.sub(" ", _clean(caption)).split()).strip("'")
    if not name or name.lower() == "history":  # "History" is reserved by Excel
        name = f"Table {number}"
    if len(name) > SHEET_NAME_LIMIT:
        head = name[: SHEET_NAME_LIMIT + 1]
        cut = head.rsplit(" ", 1)[0] if " " in head else ""  # at a word boundary when one is near
        name = cut if len(cut) >= 20 else name[:SHEET_NAME_LIMIT]
    return name.rstrip(" '")


def sheet_names(captions: list[str]) -> list[str]:
    """A sheet name for each caption: Excel's rules (31 characters, none of ``\\ / * ? : [ ]``,
    unique ignoring case); "Table N" for a table without caption; " (2)", " (3)"... for repeats."""
    names: list[str] = []
    taken: set[str] = set()
    for number, caption in enumerate(captions, start=1):
        base = name = _sheet_base(caption, number)
        repeat = 2
        while name.lower() in taken:
            suffix = f" ({repeat})"
            name = base[: SHEET_NAME_LIMIT - len(suffix)].rstrip(" '") + suffix
            repeat += 1
        taken.add(name.lower())
        names.append(name)
    return names


def link_tables(report_html: str, workbook: str, document: str) -> str:
    """Put "Excel" and "Word" links, to the files beside the report, next to each table's "Download CSV".

    The CSV link keeps its own ``<div class="sts-download">`` (inline within the new row), so
    the CSV download works and is found as before.
    """
    names = iter(sheet_names([table.caption for table in read_tables(report_html)]))
    workbook_href = html.escape(urllib.parse.quote(workbook))
    document_href = html.escape(urllib.parse.quote(document))

    def add_links(match: re.Match) -> str:
        sheet = html.escape(f"{workbook}, sheet '{next(names)}'")
        return (
            f'{match.group("data")}\n<div class="sts-table-downloads">{match.group("csv")}<span class="sts-table-files">'
            f' · <a class="sts-xlsx" href="{workbook_href}" title="{sheet}">Excel</a>'
            f' · <a class="sts-docx" href="{document_href}" title="{html.escape(document)}">Word</a></span></div>'
        )

    return _DOWNLOAD_AFTER_DATA.sub(add_links, report_html)


def _literal(text: str) -> str:
    return f'"{text.replace(chr(34), "")}"' if text else ""


def number_format(value: float, text: str) -> str | None:
    """The Excel number format that shows ``value`` as the report's ``text``, or None when none does.

    >>> number_format(0.96875, "0.969"), number_format(0.0004, "< 0.001"), number_format(37.5, "37.5 %")
    ('0.000', '[<0.001]"< 0.001";0.000', '0.0" %"')
    """
    match = _NUMBER_TEXT.fullmatch(text.strip())
    if match is None:
        return None
    prefix, number, suffix = match["prefix"], match["number"], match["suffix"]
    shown = float(number.replace(",", ""))
    decimals = len(match["decimals"] or "")
    digits = ("#,##0" if "," in number else "0") + ("." + "0" * decimals if decimals else "")
    tolerance = 0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-12 * abs(value)
    if prefix.strip() == "<" and not suffix and value < shown:  # format_p below its threshold
        return f'[<{number}]"{prefix}{number}";{digits}'
    if suffix.strip() == "%" and not prefix and abs(100 * value - shown) <= tolerance:  # a proportion shown as percent
        return digits + _literal(suffix.rstrip("%")) + "%"
    if abs(value - shown) <= tolerance:
        return _literal(prefix) + digits + _literal(suffix)
    return None


def _excel_cell(value, text: str) -> tuple[object, str | None]:
    """(cell value, number format): the number when a format can show it as the report does, else the text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = number_format(float(value), text)
        if number is not None:
            return value, number
    return _clean(text), None


def _layout_sheet(sheet, table: ReportTable) -> None:
    """Column widths from the texts; printed fitted to the page width, landscape when wide, header repeated."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    for column, header in enumerate(table.headers, start=1):
        width = max([len(header)] + [len(row[column - 1]) for row in table.display])
        sheet.column_dimensions[get_column_letter(column)].width = min(60, max(8, width + 4))  # gutter between columns
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape" if len(table.headers) > PORTRAIT_MAX_COLUMNS else "portrait"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _write_sheet(sheet, table: ReportTable) -> None:
    from openpyxl.styles import Alignment, Border, Font, Side

    rule, thin = Side(style="medium"), Side(style="thin")
    # text columns indented: a right-aligned number column does not run into the text after it
    right, left = Alignment(horizontal="right"), Alignment(horizontal="left", indent=1)
    sheet.append([_clean(table.caption)])
    sheet.cell(row=1, column=1).font = Font(name=EXCEL_FONT, bold=True, size=12)
    sheet.append([_clean(header) for header in table.headers])
    for cell, is_numeric in zip(sheet[2], table.numeric):
        cell.font = Font(name=EXCEL_FONT, bold=True)
        cell.border = Border(top=rule, bottom=thin)
        cell.alignment = right if is_numeric else left
    for values, texts in zip(table.values, table.display):
        cells = [_excel_cell(value, text) for value, text in zip(values, texts)]
        sheet.append([value for value, _ in cells])
        for cell, (_, number), is_numeric in zip(sheet[sheet.max_row], cells, table.numeric):
            if number:
                cell.number_format = number
            cell.alignment = right if is_numeric else left
    for cell in sheet[sheet.max_row] if table.headers else ():
        cell.border = Border(top=cell.border.top, bottom=rule)
    if table.notes:
        sheet.append([])
    for note in table.notes:
        sheet.append([_clean(note)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(name=EXCEL_FONT, italic=True, size=9)
    _layout_sheet(sheet, table)


def write_workbook(tables: list[ReportTable], path: str | os.PathLike, title: str = "") -> None:
    """Write ``tables`` to ``path`` (.xlsx), one sheet per table in report order."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table, name in zip(tables, sheet_names([table.caption for table in tables])):
        _write_sheet(workbook.create_sheet(name), table)
    if not tables:
        workbook.create_sheet("No tables").append(["This report has no tables."])
    workbook.properties.title = _clean(title)
    workbook.properties.creator = "stsanalysis"
    workbook.save(path)


def _set_borders(properties, tag: str, edges: dict[str, int], before: tuple[str, ...]) -> None:
    """Give a ``w:tblPr``/``w:tcPr`` a ``w:tblBorders``/``w:tcBorders``: edge -> width in eighths of
    a point, 0 for none; ``before``: the elements it must precede (OOXML fixes their order)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement(tag)
    for edge, width in edges.items():
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single" if width else "nil")
        if width:
            line.set(qn("w:sz"), str(width))
            line.set(qn("w:space"), "0")
            line.set(qn("w:color"), "000000")
        borders.append(line)
    properties.insert_element_before(borders, *before)


def _three_line(grid) -> None:
    """Rules above the header (1.5 pt), below it (0.75 pt) and below the last row (1.5 pt); no others."""
    from docx.oxml import OxmlElement

    edges = {"top": 12, "left": 0, "bottom": 12, "right": 0, "insideH": 0, "insideV": 0}
    _set_borders(grid._tbl.tblPr, "w:tblBorders", edges, ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"))
    header = grid.rows[0]
    for cell in header.cells:
        before = ("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")
        _set_borders(cell._tc.get_or_add_tcPr(), "w:tcBorders", {"bottom": 6}, before)
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on every page


def _column_widths(table: ReportTable, available: int) -> list[int]:
    """Widths (EMU) from the longest cell text of each column (a header may wrap at its words):
    9 pt Arial is about 0.19 cm a character, plus the cell margins; narrowed in proportion
    when the table would be wider than the page."""
    from docx.shared import Cm

    widths = []
    for column, header in enumerate(table.headers):
        characters = max([len(word) for word in header.split()] + [len(row[column]) for row in table.display] + [3])
        widths.append(Cm(0.19 * min(characters, 45) + 0.4))
    scale = min(1.0, available / max(1, sum(widths)))
    return [int(width * scale) for width in widths]


def _fill_row(row, texts, numeric, widths, style) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    for cell, text, is_numeric, width in zip(row.cells, texts, numeric, widths):
        cell.width = width
        paragraph = cell.paragraphs[0]
        # the style id straight into the XML: ``paragraph.style = style`` looks the document's
        # default style up among all styles on every call (2 s for design B's 31 tables)
        paragraph._p.style = style.style_id
        paragraph.add_run(_clean(text))
        if is_numeric:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _orient(document, landscape: bool) -> None:
    """Start a new section when the page orientation a table needs differs from the current one."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    section = document.sections[-1]
    if (section.orientation == WD_ORIENT.LANDSCAPE) == landscape:
        return
    width, height = section.page_width, section.page_height
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = height, width


def _add_table(document, table: ReportTable, styles) -> None:
    from docx.shared import Pt

    _orient(document, len(table.headers) > PORTRAIT_MAX_COLUMNS)
    section = document.sections[-1]
    widths = _column_widths(table, section.page_width - section.left_margin - section.right_margin)
    caption = document.add_paragraph(style=styles["caption"])
    caption.add_run(_clean(table.caption)).bold = True
    grid = document.add_table(rows=1 + len(table.display), cols=max(1, len(table.headers)))
    grid.autofit = False
    for column, width in zip(grid.columns, widths):
        column.width = width
    _three_line(grid)
    rows = iter(grid.rows)
    _fill_row(next(rows), table.headers, table.numeric, widths, styles["cell"])
    for row, texts in zip(rows, table.display):
        _fill_row(row, texts, table.numeric, widths, styles["cell"])
    for note in table.notes:
        document.add_paragraph(_clean(note), style=styles["note"])
    document.add_paragraph().paragraph_format.space_after = Pt(6)


def _styles(document) -> dict:
    """Arial throughout: 10 pt text, 9 pt table cells, 8 pt footnotes."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Arial", Pt(10)
    styles = {}
    for key, name, size, before, after in (
        ("caption", "Table caption", 10, 12, 4),
        ("cell", "Table cell", 9, 1, 1),
        ("note", "Table footnote", 8, 2, 0),
    ):
        style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.font.size = Pt(size)
        style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(before), Pt(after)
        styles[key] = style
    styles["caption"].paragraph_format.keep_with_next = True
    return styles


def write_document(tables: list[ReportTable], path: str | os.PathLike, title: str = "", subtitle: str = "") -> None:
    """Write ``tables`` to ``path`` (.docx) as journal-style tables with the displayed values."""
    from docx import Document
    from docx.shared import Cm, Pt

    document = Document()
    styles = _styles(document)
    section = document.sections[0]
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2)
    heading = document.add_paragraph()
    heading.add_run(_clean(title or "Tables")).bold = True
    heading.runs[0].font.size = Pt(14)
    if subtitle:
        document.add_paragraph(_clean(subtitle), style=styles["note"])
    for table in tables:
        _add_table(document, table, styles)
    if not tables:
        document.add_paragraph("This report has no tables.")
    document.core_properties.title = _clean(title)
    document.core_properties.author = "stsanalysis"
    document.save(str(path))
