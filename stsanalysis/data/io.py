"""Reading a cohort table (CSV, Excel, SPSS .sav, Parquet) into a validated DataFrame."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..validation import require_columns

_READERS = {
    ".csv": lambda path: pd.read_csv(path),
    ".tsv": lambda path: pd.read_csv(path, sep="\t"),
    ".xlsx": lambda path: pd.read_excel(path, engine="openpyxl"),
    ".sav": lambda path: pd.read_spss(path, convert_categoricals=True),
    ".parquet": lambda path: pd.read_parquet(path),
}


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
) -> pd.DataFrame:
    """Read a cohort table and check it: the file exists, the columns are there, ids are unique.

    The format follows the extension: ``.csv``, ``.tsv``, ``.xlsx`` (openpyxl), ``.sav``
    (SPSS, value labels become categories, via pyreadstat) or ``.parquet`` (needs pyarrow).
    Empty strings in CSV are read as missing values. ``columns`` renames the user's
    columns to the design's names first (:func:`rename_columns`, which refuses a key not in
    ``design_columns`` when that is given); ``id_column`` and
    ``required_columns`` are design names. Raises :class:`InputError` naming the file, the
    missing columns or the duplicated patient ids.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Cohort file '{path}' does not exist (working directory: {Path.cwd()}).")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"Cohort file '{path}' has an unsupported extension '{path.suffix}'; use one of {', '.join(sorted(_READERS))}.")
    try:
        data = reader(path)
    except ImportError as error:
        raise InputError(f"Reading '{path}' needs an optional package: {error}.") from error
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InputError(f"Cohort file '{path}' could not be read: {error}") from error
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
