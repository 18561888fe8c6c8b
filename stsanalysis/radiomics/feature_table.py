"""Features extracted elsewhere: a feature table (``features_path``) instead of images.

A study may start from features extracted before, with pyradiomics' batch mode
(``pyradiomics cases.csv -o features.csv -f csv``) or any tool that names its features as
pyradiomics does. :func:`read_feature_table` turns such a CSV or XLSX file into the table
that :func:`~stsanalysis.radiomics.extraction.extract_features` returns (one row per
patient, sequence and reader; pyradiomics' feature names), so that every later step
(:func:`~stsanalysis.radiomics.pipeline.signature_features`, the reliability filter, the
signatures) runs unchanged, and into the extraction provenance per sequence that the
report reads. :func:`check_feature_coverage` checks that the table holds every patient of
the cohort.

Two layouts are read:

* pyradiomics' batch output: the columns of the batch input (an id column such as ``ID``,
  ``Image``, ``Mask``, optionally ``Label`` and any column of the user's, e.g.
  ``sequence``), then the ``diagnostics_*`` columns, then one column per feature;
* any table with patient id, sequence, reader and feature columns (e.g. the CSV written
  by ``stsanalysis extract``).

Feature columns are recognised by their names, ``imageType_featureClass_feature``
(:func:`~stsanalysis.radiomics.params.split_feature_name`). The ``diagnostics_*`` columns
feed the provenance only; every other column (paths, labels, clinical variables) is left
out and listed in the provenance (``ignored_columns``).

The provenance reports what pyradiomics wrote into its diagnostics columns
(``diagnostics_Versions_*``, ``diagnostics_Configuration_Settings``,
``diagnostics_Configuration_EnabledImageTypes``, Python literals read with
:func:`ast.literal_eval`) and marks what the file does not say as "not recorded"
(``not_recorded`` lists the parameter sections and software absent from the file;
:func:`stsanalysis.report.checklist.fill_checklist` then reports those items as "not
recorded" instead of pyradiomics' defaults).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..data.io import rename_columns
from ..errors import InputError
from ..files import sha256_file
from .extraction import CASE_ID_COLUMNS
from .params import IBSI_DEVIATIONS, IBSI_NOT_DEFINED, split_feature_name

__all__ = ["FEATURE_TABLE_SOURCE", "NOT_RECORDED", "read_feature_table", "check_feature_coverage"]

#: ``provenance["source"]`` of features read from a table (extract_features has no "source").
FEATURE_TABLE_SOURCE = "feature table"
#: The value of a provenance entry that the feature table does not record.
NOT_RECORDED = "not recorded"

_READERS = {
    # round_trip: the decimal text pyradiomics writes (Python's repr) parses to the same double
    ".csv": lambda path, **options: pd.read_csv(path, float_precision="round_trip", **options),
    ".xlsx": lambda path, **options: pd.read_excel(path, engine="openpyxl", **options),
}
_DIAGNOSTICS = "diagnostics_"
_SETTINGS_COLUMN = "diagnostics_Configuration_Settings"
_IMAGE_TYPES_COLUMN = "diagnostics_Configuration_EnabledImageTypes"
# provenance["software"] name (as extraction_provenance names it) -> pyradiomics' column
_VERSION_COLUMNS = {
    "pyradiomics": "diagnostics_Versions_PyRadiomics",
    "SimpleITK": "diagnostics_Versions_SimpleITK",
    "numpy": "diagnostics_Versions_Numpy",
    "PyWavelets": "diagnostics_Versions_PyWavelet",
    "python": "diagnostics_Versions_Python",
}
# pyradiomics records the Label (and Label_channel) column of each batch row in its settings
_ROW_SETTINGS = ("label", "label_channel")
_MASK_INTERPOLATION = "sitkNearestNeighbor (pyradiomics resamples masks with nearest neighbour)"


# ----------------------------------------------------------------------------- public entry


def read_feature_table(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    sequences: Iterable[str],
    readers: Iterable[str] | Mapping[str, str],
) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Read features extracted elsewhere (CSV or XLSX) as :func:`extract_features` returns them.

    Parameters
    ----------
    path
        A ``.csv`` or ``.xlsx`` file (openpyxl): pyradiomics' batch output or any table with
        patient id, sequence, reader and feature columns named as pyradiomics names them.
    columns
        Our names (``patient_id``, ``sequence``, ``reader``) -> the table's column names,
        e.g. ``{"patient_id": "ID"}`` for pyradiomics' example batch file
        (:func:`~stsanalysis.data.io.rename_columns`).
    sequences, readers
        The study's sequence labels and reader labels (a mapping of reader roles to labels,
        as the study config's ``readers``, gives its labels). A table without a sequence
        (reader) column is read as the one configured sequence (reader); with more than one
        configured, the column is required.

    Returns
    -------
    (features, provenance)
        ``features``: one row per case indexed by ``patient_id`` (text), ``sequence``,
        ``reader``; the numeric feature columns with pyradiomics' names, in the table's
        order; no ``attrs`` (pandas cannot display or concatenate a frame whose attrs hold
        tables). Rows without any feature value (pyradiomics' batch mode writes such a row
        for a case it failed on) are left out.
        ``provenance``: sequence -> the dict the report reads: the keys of
        :func:`~stsanalysis.radiomics.params.extraction_provenance` (``params``,
        ``software``, ``mask_interpolation``, ``ibsi_deviations``, ``ibsi_not_defined``,
        ``ibsi_notes``, ``n_cases``, ``n_failed``) and ``source`` ("feature table"),
        ``path``, ``sha256``, ``not_recorded``, ``ignored_columns`` and ``failed_cases``
        (the rows left out, as records ``patient_id``, ``sequence``, ``reader``, ``file``,
        ``error``: ``pd.DataFrame(provenance[sequence]["failed_cases"])`` is laid out as
        ``extract_features(...).attrs["errors"]``).

    Raises
    ------
    InputError
        Naming the file and the column, patient or value: no such file or extension, an id
        column missing, missing ids, a sequence or reader label not configured, a case
        repeated, no feature column, a non-numeric feature value, a diagnostics column that
        cannot be read or that differs within a sequence.
    """
    path = Path(path)
    sequences = _labels(sequences, "sequences")
    readers = _labels(readers.values() if isinstance(readers, Mapping) else readers, "readers")
    what = f"feature table '{path.name}'"
    data = _read_file(path, dict(columns or {}), what)
    feature_columns = _feature_columns(data, what)
    for name, configured in (("patient_id", []), ("sequence", sequences), ("reader", readers)):
        data = _filled(data, name, configured, what)
    _check_case_ids(data, {"sequence": sequences, "reader": readers}, what)
    values = _numeric_features(data, feature_columns, what)
    failed = values.isna().all(axis=1)
    ignored = [column for column in _other_columns(data) if column not in CASE_ID_COLUMNS]

    features = values[~failed].set_axis(pd.MultiIndex.from_frame(data.loc[~failed, list(CASE_ID_COLUMNS)]))
    file_facts = {"path": str(path), "sha256": sha256_file(path), "ignored_columns": ignored}
    provenance = {
        sequence: _sequence_provenance(data[data["sequence"] == sequence], values, failed, file_facts, what)
        for sequence in sequences
        if (data["sequence"] == sequence).any()
    }
    return features, provenance


def check_feature_coverage(features: pd.DataFrame, patients: Iterable, sequences: Iterable[str], reader: str) -> None:
    """Raise :class:`InputError` unless ``features`` hold every patient for ``reader`` in every sequence.

    ``features`` is indexed by ``patient_id``, ``sequence``, ``reader`` (the output of
    :func:`read_feature_table` or ``extract_features``); ``patients`` are the cohort's ids
    (compared as text), ``reader`` the primary reader's label. The message names the
    sequences the table lacks entirely, or, per sequence, up to 10 missing patients and
    their number. Patients in the table but not in the cohort are allowed.
    """
    names = list(features.index.names or [])
    if not set(CASE_ID_COLUMNS) <= set(names):
        raise InputError(f"'features' must be indexed by {list(CASE_ID_COLUMNS)}; got index levels {names}.")
    sequences = _labels(sequences, "sequences")
    reader = str(reader)
    index = features.index
    present = sorted(index.unique("sequence"))
    absent = [sequence for sequence in sequences if sequence not in present]
    if absent:
        raise InputError(f"The feature table has no row of the configured sequence(s) {absent}; it holds {present}.")
    if reader not in set(index.unique("reader")):
        raise InputError(
            f"The feature table has no row of the primary reader '{reader}'; it holds readers {sorted(index.unique('reader'))}."
        )
    wanted = list(dict.fromkeys(str(patient) for patient in patients))
    lacking = {}
    for sequence in sequences:
        mask = (index.get_level_values("sequence") == sequence) & (index.get_level_values("reader") == reader)
        have = set(index[mask].get_level_values("patient_id"))
        missing = [patient for patient in wanted if patient not in have]
        if missing:
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            lacking[sequence] = f"sequence '{sequence}': {len(missing)} patient(s) {missing[:10]}{more}"
    if lacking:
        raise InputError(
            f"The feature table lacks patients of the cohort for reader '{reader}': {'; '.join(lacking.values())}. "
            "Add their features to the table (rows without any feature value are left out: see the provenance's "
            "failed_cases) or remove the patients from the cohort."
        )


# ----------------------------------------------------------------------------- reading, ids


def _labels(labels, name: str) -> list[str]:
    labels = [labels] if isinstance(labels, str) else list(labels)
    if not labels:
        raise InputError(f"'{name}' must name at least one label; got none.")
    return [str(label) for label in labels]


def _read_file(path: Path, columns: dict, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"Feature table '{path}' does not exist (working directory: {Path.cwd()}).")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"Feature table '{path}' has an unsupported extension '{path.suffix}'; use .csv or .xlsx.")
    try:
        header = reader(path, nrows=0).columns
        # ids stay text ("007" is not 7); versions and settings too ("1.10" is not 1.1)
        as_text = {columns.get(name, name) for name in CASE_ID_COLUMNS} | {
            column for column in header if str(column).startswith(("diagnostics_Versions_", "diagnostics_Configuration_"))
        }
        data = reader(path, dtype={column: str for column in header if column in as_text})
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InputError(f"Feature table '{path}' could not be read: {error}") from error
    if columns:
        data = rename_columns(data, columns, expected=CASE_ID_COLUMNS, what=what)
    return data


def _other_columns(data: pd.DataFrame) -> list[str]:
    """The columns that are neither features nor diagnostics: where an id column would be."""
    return [str(c) for c in data.columns if not str(c).startswith(_DIAGNOSTICS) and not _is_feature_name(c)]


def _filled(data: pd.DataFrame, name: str, configured: list[str], what: str) -> pd.DataFrame:
    """``data`` with its ``name`` column, filled with the one configured label when absent."""
    if name in data.columns:
        return data
    if name != "patient_id" and len(configured) == 1:
        return data.assign(**{name: configured[0]})
    reason = "" if name == "patient_id" else f" and {len(configured)} {name}s are configured ({configured})"
    raise InputError(
        f"Column '{name}' not found in {what}{reason}. Columns other than features and diagnostics: "
        f"{_other_columns(data)}. Name the column holding it with columns={{'{name}': '<column>'}}."
    )


def _check_case_ids(data: pd.DataFrame, configured: Mapping[str, list[str]], what: str) -> None:
    ids = data[list(CASE_ID_COLUMNS)]
    empty = ids.isna().any(axis=1).to_numpy()
    if empty.any():
        rows = [int(position) + 2 for position in empty.nonzero()[0][:10]]  # the header is row 1
        raise InputError(f"{what}: row(s) {rows} have no {' / '.join(CASE_ID_COLUMNS)} value ({int(empty.sum())} row(s) in all).")
    for name, labels in configured.items():
        unknown = sorted(set(ids[name]) - set(labels))
        if unknown:
            raise InputError(
                f"{what} has {name}(s) {unknown} that the study does not configure: the table has "
                f"{sorted(set(ids[name]))}, the study configures {labels}. Rename them in the table or the study config."
            )
    repeated = ids.duplicated(keep=False).to_numpy()
    if repeated.any():
        cases = list(dict.fromkeys(ids[repeated].itertuples(index=False, name=None)))
        raise InputError(f"{what} must have one row per patient_id + sequence + reader; {len(cases)} case(s) repeat, e.g. {cases[:10]}.")


# ----------------------------------------------------------------------------- features


def _is_feature_name(column) -> bool:
    if not isinstance(column, str) or column.startswith(_DIAGNOSTICS) or column in CASE_ID_COLUMNS:
        return False
    try:
        split_feature_name(column)
    except InputError:
        return False
    return True


def _feature_columns(data: pd.DataFrame, what: str) -> list[str]:
    named = [column for column in data.columns if _is_feature_name(column)]
    wide = [column for column in named if split_feature_name(column)["sequence"]]
    if wide:
        raise InputError(
            f"{what} has columns named <sequence>_<feature> (e.g. {wide[:3]}), one row per patient for all "
            "sequences; give one row per patient, sequence and reader with pyradiomics' feature names "
            "(e.g. original_glcm_Contrast) and a sequence column."
        )
    if not named:
        raise InputError(
            f"{what} has no feature column named as pyradiomics names features (imageType_featureClass_feature, "
            f"e.g. original_shape_Sphericity); its columns: {[str(c) for c in data.columns[:20]]}."
        )
    return named


def _numeric_features(data: pd.DataFrame, feature_columns: list[str], what: str) -> pd.DataFrame:
    values = {}
    for column in feature_columns:
        series = data[column]
        numeric = series if pd.api.types.is_numeric_dtype(series) else pd.to_numeric(series, errors="coerce")
        bad = (numeric.isna() & series.notna()).to_numpy()
        if bad.any():
            first = int(bad.nonzero()[0][0])
            case = data.iloc[first]
            more = f" ({int(bad.sum()) - 1} more row(s) too)" if bad.sum() > 1 else ""
            raise InputError(
                f"Feature column '{column}' of {what} must be numeric; patient '{case['patient_id']}' (sequence "
                f"'{case['sequence']}', reader '{case['reader']}', row {first + 2}) has {series.iloc[first]!r}{more}."
            )
        values[column] = numeric.astype(float)
    return pd.DataFrame(values, index=data.index)


def _failed_cases(rows: pd.DataFrame, path: str) -> list[dict]:
    """Rows without any feature value, as records of ``extract_features(...).attrs["errors"]``."""
    files = rows["Image"].fillna(path) if "Image" in rows.columns else pd.Series(path, index=rows.index)
    return [
        {
            **{name: case[name] for name in CASE_ID_COLUMNS},
            "file": str(file),
            "error": f"Patient {case['patient_id']}, file {file}: no feature value in the feature table "
            "(pyradiomics' batch mode writes such a row when the extraction of a case fails)",
        }
        for (_, case), file in zip(rows.iterrows(), files)
    ]


# ----------------------------------------------------------------------------- provenance


def _sequence_provenance(rows: pd.DataFrame, values: pd.DataFrame, failed: pd.Series, file_facts: dict, what: str) -> dict:
    """The extraction provenance of one sequence, with the keys of ``extraction_provenance``."""
    sequence = rows["sequence"].iloc[0]
    failed = failed.loc[rows.index]
    kept = values.loc[rows.index[~failed.to_numpy()]]
    present = [column for column in kept.columns if kept[column].notna().any()]
    by_class = {}
    for column in present:
        parts = split_feature_name(column)
        by_class.setdefault(parts["feature_class"], []).append(parts["feature"])
    class_features = {f"{name}_{feature}" for name, features in by_class.items() for feature in features}

    # the table's columns record the features; pyradiomics' diagnostics the rest, when present
    params = {"featureClass": {name: sorted(set(features)) for name, features in by_class.items()}}
    not_recorded = []
    settings = _recorded(rows, _SETTINGS_COLUMN, sequence, what, _settings)
    image_types = _recorded(rows, _IMAGE_TYPES_COLUMN, sequence, what, _literal)
    for section, value in (("imageType", image_types), ("setting", settings)):
        if value is None:
            not_recorded.append(section)
        else:
            params[section] = value
    software = {name: _recorded(rows, column, sequence, what, _text) or NOT_RECORDED for name, column in _VERSION_COLUMNS.items()}
    if software["pyradiomics"] == NOT_RECORDED:
        not_recorded.append("software")
    name = Path(file_facts["path"]).name
    return {
        "source": FEATURE_TABLE_SOURCE,
        **file_facts,
        "params": params,
        "software": software,
        "mask_interpolation": NOT_RECORDED if settings is None else _MASK_INTERPOLATION,
        "ibsi_deviations": {key: reason for key, reason in IBSI_DEVIATIONS.items() if key in class_features},
        "ibsi_not_defined": sorted(key for key in IBSI_NOT_DEFINED if key in class_features),
        "ibsi_notes": (
            f"Features were read from {name}, not computed by stsanalysis; the IBSI notes assume pyradiomics' "
            "feature definitions, as the feature names indicate: IBSI 1 definitions except those listed in "
            "ibsi_deviations; filtered images (wavelet, LoG) are not covered by IBSI 1."
        ),
        "not_recorded": not_recorded,
        "n_cases": len(rows),
        "n_failed": int(failed.sum()),
        "failed_cases": _failed_cases(rows[failed.to_numpy()], file_facts["path"]),
    }


def _text(text, column: str, patient: str, what: str) -> str:
    return str(text).strip()


def _literal(text, column: str, patient: str, what: str):
    """A Python literal as pyradiomics writes its configuration (``str`` of a dict); never ``eval``."""
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
        raise InputError(
            f"Column '{column}' of {what}, patient '{patient}': {str(text)[:80]!r} is not the Python dict pyradiomics writes ({error})."
        ) from error
    if not isinstance(value, dict):
        raise InputError(
            f"Column '{column}' of {what}, patient '{patient}': expected a dict as pyradiomics writes it; got {type(value).__name__}."
        )
    return value


def _settings(text, column: str, patient: str, what: str) -> dict:
    settings = _literal(text, column, patient, what)
    return {key: value for key, value in settings.items() if key not in _ROW_SETTINGS}


def _recorded(rows: pd.DataFrame, column: str, sequence: str, what: str, parse):
    """The one value ``column`` records for a sequence (None when absent or empty)."""
    if column not in rows.columns:
        return None
    texts = rows[[column, "patient_id"]].dropna(subset=[column]).drop_duplicates(subset=[column])
    distinct = {}
    for text, patient in texts.itertuples(index=False, name=None):
        value = parse(text, column, patient, what)
        distinct.setdefault(repr(value), (value, patient))
    if len(distinct) > 1:
        shown = "; ".join(f"patient '{patient}': {value!r}" for value, patient in list(distinct.values())[:2])
        raise InputError(
            f"Column '{column}' of {what} differs between rows of sequence '{sequence}' ({shown}). The features of "
            "one sequence must come from one extraction configuration: re-extract, or keep one configuration."
        )
    return next(iter(distinct.values()))[0] if distinct else None
