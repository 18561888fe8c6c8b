"""Reading a cohort table (CSV, Excel, SPSS .sav, Parquet) into a validated DataFrame."""

from __future__ import annotations

import os
from collections.abc import Iterable
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


def read_cohort(
    path: str | os.PathLike,
    *,
    id_column: str = "patient_id",
    required_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a cohort table and check it: the file exists, the columns are there, ids are unique.

    The format follows the extension: ``.csv``, ``.tsv``, ``.xlsx`` (openpyxl), ``.sav``
    (SPSS, value labels become categories, via pyreadstat) or ``.parquet`` (needs pyarrow).
    Empty strings in CSV are read as missing values. Raises :class:`InputError` naming the
    file, the missing columns or the duplicated patient ids.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Cohort file '{path}' does not exist (working directory: {Path.cwd()}).")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            f"Cohort file '{path}' has an unsupported extension '{path.suffix}'; "
            f"use one of {', '.join(sorted(_READERS))}."
        )
    try:
        data = reader(path)
    except ImportError as error:
        raise InputError(f"Reading '{path}' needs an optional package: {error}.") from error
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InputError(f"Cohort file '{path}' could not be read: {error}") from error
    require_columns(data, [id_column, *required_columns], what=f"cohort file '{path}'")
    ids = data[id_column]
    if ids.isna().any():
        raise InputError(f"Cohort file '{path}': {int(ids.isna().sum())} row(s) have no '{id_column}'.")
    duplicated = ids[ids.duplicated()].astype(str).unique().tolist()
    if duplicated:
        raise InputError(
            f"Cohort file '{path}': duplicate {id_column} value(s) {duplicated[:10]}; each patient must appear once."
        )
    return data
