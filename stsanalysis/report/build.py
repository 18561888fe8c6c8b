"""Notebook -> single-file HTML study report (the only importer of papermill and nbconvert).

:func:`build_report` executes a parameterised notebook with papermill, renders it with
nbconvert through ``templates/sts_report`` (code hidden, table of contents, provenance
footer, plotly.js inlined, math as MathML) and writes ``<output_dir>/<name>.html`` with,
beside it, ``<name>.xlsx`` and ``<name>.docx``: every table of the report as a workbook
sheet and as a journal-style Word table (:mod:`stsanalysis.report.exports`, which reads the
tables from the rendered page). The three are written atomically, together: a build that
fails leaves none of them new, and any previous report intact.
"""

from __future__ import annotations

import datetime as _dt
import html as html_module
import os
import platform
import re
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InputError
from ..files import atomic_path
from . import exports
from .provenance import parameters_hash

#: Root of the source tree (notebooks/ and templates/ live there, beside the package).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
TEMPLATE_DIR = Path(os.environ.get("STSANALYSIS_TEMPLATES", PROJECT_ROOT / "templates"))
TEMPLATE_NAME = "sts_report"

_HEADING = re.compile(r'<h([1-3]) id="([^"]+)">(.*?)<a class="anchor-link"', re.S)
_TAG = re.compile(r"<[^>]+>")
#: Where the template leaves the table of contents, filled once the body is rendered.
_TOC_MARKER = "<!-- sts: table of contents -->"
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_WARNING_LINE = re.compile(r"^\S.*?:\d+: (\w*Warning): (.*)$", re.M)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]+?)(?<!\\)\$")


class ReportError(RuntimeError):
    """A report could not be built (the notebook raised, or the output cannot be written)."""


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    text: str


def resolve_notebook(notebook: str | os.PathLike) -> Path:
    """Return the notebook's path: a name of the package's own notebooks or a path given by the user."""
    candidate = Path(notebook)
    if candidate.suffix != ".ipynb":
        candidate = candidate.with_suffix(".ipynb")
    for path in (candidate, NOTEBOOK_DIR / candidate):
        if path.is_file():
            return path.resolve()
    available = ", ".join(sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")))
    raise InputError(f"Notebook '{notebook}' not found; give a path or one of: {available}.")


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as error:
        raise InputError(f"Output folder '{directory}' is not writable ({error.strerror}); choose another with --output.") from error


def _math_to_mathml(markdown: str) -> str:
    """Replace $$...$$ and $...$ LaTeX with MathML, so no MathJax (a CDN script) is needed."""
    from latex2mathml.converter import convert

    markdown = _DISPLAY_MATH.sub(lambda m: convert(m.group(1).strip(), display="block"), markdown)
    return _INLINE_MATH.sub(lambda m: convert(m.group(1).strip()), markdown)


def _warnings_only(stderr_text: str) -> str:
    """The Python warnings of a stderr stream, as "SomeWarning: message" lines."""
    return "".join(f"{category}: {message}\n" for category, message in _WARNING_LINE.findall(stderr_text))


def _prepare(notebook):
    """Convert math to MathML; keep only the warnings of stderr streams (progress bars and
    library chatter go, a separation or events-per-parameter warning stays visible); drop the
    saved widget state (each anywidget carries megabytes of JavaScript that a static report
    cannot run: the notebook shows a note in its place)."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = _math_to_mathml(cell.source)
        elif cell.cell_type == "code":
            outputs = []
            for output in cell.outputs:
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["text"] = _warnings_only(output.get("text", ""))
                    if not output["text"]:
                        continue
                outputs.append(output)
            cell.outputs = outputs
    return notebook


def table_of_contents(body_html: str) -> list[TocEntry]:
    """Headings (levels 1-3) of the markdown cells, in order, with their nbconvert anchors."""
    return [TocEntry(int(level), anchor, _TAG.sub("", text).strip()) for level, anchor, text in _HEADING.findall(body_html)]


def _plotly_js() -> str:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def _render_html(executed, notebook_path: Path, parameters: Mapping[str, Any], title: str, name: str) -> str:
    import nbconvert
    import papermill
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIR)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    sts = {
        "title": title,
        "version": __version__,
        "built": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "notebook": notebook_path.name,
        "python": platform.python_version(),
        "papermill": papermill.__version__,
        "nbconvert": nbconvert.__version__,
        "parameters_hash": parameters_hash(parameters),
        "plotly_js": _plotly_js(),
        "report_css": (TEMPLATE_DIR / TEMPLATE_NAME / "static" / "report.css").read_text(encoding="utf-8"),
        "exports_js": (TEMPLATE_DIR / TEMPLATE_NAME / "static" / "exports.js").read_text(encoding="utf-8"),
        # the workbook and document beside the report, as relative links
        "exports": {
            "workbook": urllib.parse.quote(f"{name}.xlsx"),
            "document": urllib.parse.quote(f"{name}.docx"),
            "figures": f"{name}_figures.zip",
        },
        "toc_marker": _TOC_MARKER,
    }
    html, _ = exporter.from_notebook_node(executed, resources={"sts": sts})
    # the table of contents links to the anchors nbconvert gave the headings it rendered
    html = html.replace(_TOC_MARKER, _toc_items(table_of_contents(html)), 1)
    return exports.link_tables(html, f"{name}.xlsx", f"{name}.docx")


def _toc_items(entries: list[TocEntry]) -> str:
    return "".join(
        f'\n    <li class="sts-toc-level-{entry.level}"><a href="#{html_module.escape(entry.anchor)}">{html_module.escape(entry.text)}</a></li>'
        for entry in entries
    )


def _write_report_files(output_dir: Path, name: str, html: str, title: str) -> Path:
    """Write ``<name>.html``, ``<name>.xlsx`` and ``<name>.docx``: all three, or none of them new.

    Each goes to a temporary file beside its destination; only when all three are complete
    are they renamed over the destinations (the HTML, which links to the other two, last).
    """
    tables = exports.read_tables(html)
    subtitle = (
        f"The tables of the report {name}.html (stsanalysis {__version__}) as it shows them, rounded; "
        f"the workbook {name}.xlsx holds them at full precision."
    )
    try:
        with ExitStack() as stack:
            report, workbook, document = (
                stack.enter_context(atomic_path(output_dir / f"{name}{suffix}")) for suffix in (".html", ".xlsx", ".docx")
            )
            report.write_text(html, encoding="utf-8")
            exports.write_workbook(tables, workbook, title)
            exports.write_document(tables, document, title, subtitle)
    except (OSError, ValueError) as error:
        raise ReportError(f"The report's files could not be written ({error}); no report was written to {output_dir}.") from error
    return output_dir / f"{name}.html"


def build_report(
    notebook: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    output_dir: str | os.PathLike = "reports",
    name: str | None = None,
    title: str | None = None,
    kernel_name: str | None = None,
    timeout: int | None = None,
) -> Path:
    """Execute ``notebook`` with ``parameters`` and write ``<output_dir>/<name>.html`` (returned),
    ``<name>.xlsx`` and ``<name>.docx`` (the report's tables).

    ``notebook`` is one of the package's notebooks by name (``"biomarker_study"``) or a path.
    Relative paths inside ``parameters`` are resolved from the current working directory.
    Raises :class:`InputError` when the notebook rejects the data or parameters (its
    message), for a missing notebook or an unwritable output folder, and :class:`ReportError`
    naming the failing cell and its error when the notebook raises anything else. In both
    cases the executed notebook is kept in ``<output_dir>/.failed/`` for inspection. The three
    files are written atomically: a failed build leaves any previous report untouched.
    """
    import nbformat
    import papermill

    notebook_path = resolve_notebook(notebook)
    parameters = dict(parameters or {})
    name = name or notebook_path.stem
    output_dir = Path(output_dir)
    _check_writable(output_dir)

    with tempfile.TemporaryDirectory(prefix="stsanalysis-") as scratch:
        executed_path = Path(scratch) / f"{name}.ipynb"
        try:
            papermill.execute_notebook(
                str(notebook_path),
                str(executed_path),
                parameters=parameters,
                cwd=os.getcwd(),
                kernel_name=kernel_name,
                progress_bar=False,
                # written once at the end (or at the failing cell), not twice per cell: saving
                # a design-B notebook (2.5 MB of figures) after every cell cost ~3 s a build
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
                # the kernel's own log (TCP notice, interrupt traces) would bury the real error
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except papermill.PapermillExecutionError as error:
            failed = output_dir / ".failed" / f"{name}.ipynb"
            failed.parent.mkdir(parents=True, exist_ok=True)
            if executed_path.exists():
                shutil.move(executed_path, failed)  # the temporary folder may be on another file system
            if error.ename == "InputError":  # bad data or parameters: the user's to fix
                raise InputError(
                    f"{error.evalue}\nNo report was written (notebook '{notebook_path.name}', cell {error.exec_count})."
                ) from None
            raise ReportError(
                f"Notebook '{notebook_path.name}' failed in cell {error.exec_count}: {error.ename}: {error.evalue}\n"
                f"No report was written. The executed notebook is at {failed}."
            ) from None
        executed = _prepare(nbformat.read(executed_path, as_version=4))

    title = title or name.replace("_", " ").capitalize()
    html = _render_html(executed, notebook_path, parameters, title, name)
    return _write_report_files(output_dir, name, html, title)


def _build_one(notebook: Path, parameters: Mapping[str, Any], output_dir, name: str, title: str | None) -> Path | Exception:
    try:
        return build_report(notebook, parameters, output_dir=output_dir, name=name, title=title)
    except (InputError, ReportError) as error:
        return error


def build_reports(builds: Sequence[Mapping[str, Any]], jobs: int = 1) -> Iterator[tuple[str, Path | Exception]]:
    """Build several reports, ``jobs`` at a time; yield (name, written path or the error) as each ends.

    Each build is the keyword arguments of :func:`build_report` (``notebook``, ``parameters``,
    ``output_dir``, ``name``, ``title``). One failing report does not stop the others. With
    ``jobs`` > 1 on Linux the builds run in processes forked from this one after papermill,
    nbconvert and the export libraries are imported, so each report pays for its kernel and
    its notebook, not for starting another Python with those imports (about 1 s a report).
    """
    if jobs <= 1 or len(builds) <= 1:
        for build in builds:
            yield build["name"], _build_one(**build)
        return
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # imported once, before the fork (the export writers import these on first use)
    import docx  # noqa: F401
    import nbconvert  # noqa: F401
    import openpyxl  # noqa: F401
    import papermill  # noqa: F401

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(_build_one, **build): build["name"] for build in builds}
        for future in as_completed(futures):
            yield futures[future], future.result()
