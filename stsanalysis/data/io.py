"""Reading a cohort table (CSV, Excel, SPSS .sav, Parquet) into a validated DataFrame.

:func:`read_table` reads any table file by its extension; :func:`read_cohort` adds the
checks of a cohort (columns, unique patient ids). A file that cannot be read (a folder, an
empty file, a corrupt or truncated workbook, a damaged .sav, undecodable text) is an
:class:`~stsanalysis.errors.InputError` naming the file, what it should have been and how
to fix it; the parser's own exception (``BadZipFile``, ``ReadstatError``, ...) is chained
as its ``__cause__``.

Text encoding of CSV/TSV files (``encoding=None``): a file starting with a UTF-16
byte-order mark is read as UTF-16; otherwise as UTF-8 (a byte-order mark is skipped); a
file that is not valid UTF-8 is read as Windows-1252, the encoding of Excel's "CSV (comma
delimited)" on Western-European Windows (it covers Latin-1's letters, e.g. "ü", "é", plus
"€"). A file that is neither is refused, saying to save it as "CSV UTF-8" or to pass
``encoding``. An explicit ``encoding`` is used as given.
"""

from __future__ import annotations

import codecs
import os
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..validation import require_columns

#: suffix -> (what a readable file of that kind is, how to repair one that is not)
_FORMATS = {
    ".csv": ("a readable comma-separated table (.csv)", "Save it again from Excel as 'CSV UTF-8 (comma delimited)'."),
    ".tsv": ("a readable tab-separated table (.tsv)", "Save it again as tab-separated text in UTF-8."),
    ".xlsx": ("a readable Excel workbook (.xlsx)", "Re-export it from Excel or save it as CSV."),
    ".sav": ("a readable SPSS data file (.sav)", "Save it again from SPSS (File > Save As, SPSS Statistics .sav) or export it as CSV."),
    ".parquet": ("a readable Parquet file", "Write it again (pandas.DataFrame.to_parquet) or save it as CSV."),
}
_BINARY_READERS = {
    ".xlsx": lambda path: pd.read_excel(path, engine="openpyxl"),
    ".sav": lambda path: pd.read_spss(path, convert_categoricals=True),
    ".parquet": lambda path: pd.read_parquet(path),
}
#: Fallback for text that is not UTF-8 (see the module docstring).
FALLBACK_ENCODING = "cp1252"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls, and password-protected .xlsx
_ZIP_MAGIC = b"PK\x03\x04"


def _sniffed_problem(path: Path, suffix: str) -> str | None:
    """What the first bytes say the file really is, when that is not what its extension says."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(_OLE2_MAGIC):
        return "it is an Excel 97-2003 workbook (.xls) or a password-protected workbook; save it as .xlsx without a password"
    if suffix in (".csv", ".tsv") and head.startswith(_ZIP_MAGIC):
        return "it is a zip archive, probably an Excel workbook (.xlsx) renamed; give it the .xlsx extension"
    if suffix == ".xlsx" and not head.startswith(_ZIP_MAGIC):
        return "it is not a zip archive, as every .xlsx workbook is (corrupt, or another format renamed)"
    if suffix in (".csv", ".tsv") and b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "it holds NUL bytes: a binary file, not text"
    return None


def _read_text_table(path: Path, separator: str, encoding: str | None) -> pd.DataFrame:
    if encoding is None:
        with path.open("rb") as handle:
            utf16 = handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        if utf16:
            return pd.read_csv(path, sep=separator, encoding="utf-16")
        try:
            return pd.read_csv(path, sep=separator, encoding="utf-8-sig")
        except UnicodeDecodeError:
            encoding = FALLBACK_ENCODING
    try:
        return pd.read_csv(path, sep=separator, encoding=encoding)
    except UnicodeDecodeError as error:
        raw = path.read_bytes()
        try:
            raw.decode(encoding)
            position = error.start  # (pandas failed, so decoding the whole file should fail too)
        except UnicodeDecodeError as whole_file:
            position = whole_file.start  # pandas decodes in chunks: this is the position in the file
        line = raw[:position].count(b"\n") + 1
        kind = "neither UTF-8 nor Windows-1252 (cp1252) text" if encoding == FALLBACK_ENCODING else f"not text in the encoding {encoding!r}"
        raise _UndecodableText(
            f"it is {kind} (byte 0x{raw[position]:02x} on line {line}); pass encoding=... with the file's encoding"
        ) from error


class _UndecodableText(ValueError):
    """A text table whose bytes the chosen encoding cannot decode (message: where)."""


def read_table(path: str | os.PathLike, *, what: str = "Table file", encoding: str | None = None) -> pd.DataFrame:
    """Read a table file by its extension (``.csv``, ``.tsv``, ``.xlsx``, ``.sav``, ``.parquet``).

    ``what`` names the file in error messages ("Cohort file", "Cases table").
    ``encoding`` applies to CSV/TSV only (default: the rule of the module docstring).
    Raises :class:`InputError` naming the file when it is missing, a folder, empty, of
    another format, or cannot be parsed (the parser's exception is chained).
    """
    path = Path(path)
    if path.is_dir():
        tables = sorted(child.name for child in path.iterdir() if child.suffix.lower() in _FORMATS and child.is_file())[:5]
        hint = f" (it holds {', '.join(tables)})" if tables else ""
        raise InputError(f"{what} '{path}' is a folder, not a file; give the path of the table file inside it{hint}.")
    if not path.is_file():
        raise InputError(f"{what} '{path}' does not exist (working directory: {Path.cwd()}).")
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise InputError(f"{what} '{path}' has an unsupported extension '{path.suffix}'; use one of {', '.join(sorted(_FORMATS))}.")
    description, advice = _FORMATS[suffix]
    empty = f"{what} '{path}' is empty; expected a table with a header row of column names. {advice}"
    if path.stat().st_size == 0:
        raise InputError(empty)
    problem = _sniffed_problem(path, suffix)
    if problem:
        raise InputError(f"{what} '{path}' is not {description}: {problem}. {advice}")
    try:
        if suffix in (".csv", ".tsv"):
            return _read_text_table(path, "\t" if suffix == ".tsv" else ",", encoding)
        return _BINARY_READERS[suffix](path)
    except ImportError as error:
        raise InputError(f"Reading '{path}' needs an optional package: {error}.") from error
    except pd.errors.EmptyDataError as error:  # only blank lines
        raise InputError(empty) from error
    except Exception as error:  # each parser has its own errors: BadZipFile, KeyError, ReadstatError, ParserError, ...
        cause = error.__cause__ if isinstance(error, _UndecodableText) else error  # the parser's own error
        raise InputError(f"{what} '{path}' is not {description}: {_reason(error)}. {advice}") from cause


def _reason(error: Exception) -> str:
    if isinstance(error, zipfile.BadZipFile):
        return f"the zip archive inside is damaged or truncated ({error})"
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    return text.strip().rstrip(".") or type(error).__name__


def rename_columns(
    data: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    expected: Iterable[str] | None = None,
    what: str = "data",
) -> pd.DataFrame:
    """Rename a user's columns to the names a study design uses.

    ``columns`` maps the design's name to the user's column (``{"surgical_grade":
    "Grade_OP"}``), as the ``columns`` parameter of a study config does. With ``expected``
    (the design's names), a key that is not one of them is an error, so that a typo in a
    config is caught; a user's column that is not in ``data`` is an error naming both names.
    """
    if expected is not None:
        expected = list(expected)
        unknown = sorted(set(columns) - set(expected))
        if unknown:
            raise InputError(f"Unknown column name(s) {unknown} in the column mapping; the design uses {expected}.")
    missing = {design: user for design, user in columns.items() if user not in data.columns}
    if missing:
        listed = ", ".join(f"'{user}' (mapped to '{design}')" for design, user in missing.items())
        raise InputError(f"Column(s) {listed} not found in {what}. Available columns: {', '.join(map(str, data.columns[:20]))}.")
    return data.rename(columns={user: design for design, user in columns.items()})


def read_cohort(
    path: str | os.PathLike,
    *,
    id_column: str = "patient_id",
    required_columns: Iterable[str] = (),
    columns: Mapping[str, str] | None = None,
    design_columns: Iterable[str] | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a cohort table and check it: the file exists, the columns are there, ids are unique.

    The format follows the extension: ``.csv``, ``.tsv``, ``.xlsx`` (openpyxl), ``.sav``
    (SPSS, value labels become categories, via pyreadstat) or ``.parquet`` (needs pyarrow);
    see :func:`read_table`. ``encoding`` applies to CSV/TSV files; by default UTF-8, else
    Windows-1252 (the rule of the module docstring).
    Empty strings in CSV are read as missing values. ``columns`` renames the user's
    columns to the design's names first (:func:`rename_columns`, which refuses a key not in
    ``design_columns`` when that is given); ``id_column`` and
    ``required_columns`` are design names. Raises :class:`InputError` naming the file and
    the problem: unreadable (see :func:`read_table`), no rows, missing columns, duplicated
    patient ids.
    """
    path = Path(path)
    data = read_table(path, what="Cohort file", encoding=encoding)
    if data.empty:
        raise InputError(f"Cohort file '{path}' has no patients: {len(data.columns)} column(s) but no rows; expected one row per patient.")
    if columns:
        data = rename_columns(data, columns, expected=design_columns, what=f"cohort file '{path}'")
    require_columns(data, [id_column, *required_columns], what=f"cohort file '{path}'")
    ids = data[id_column]
    if ids.isna().any():
        raise InputError(f"Cohort file '{path}': {int(ids.isna().sum())} row(s) have no '{id_column}'.")
    duplicated = ids[ids.duplicated()].astype(str).unique().tolist()
    if duplicated:
        raise InputError(f"Cohort file '{path}': duplicate {id_column} value(s) {duplicated[:10]}; each patient must appear once.")
    return data
