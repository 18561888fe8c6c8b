"""Pure functions behind the cohort explorer: filtering, image look-up, feature tables, 2 x 2.

Nothing here draws or holds widget state, so every function is tested with numbers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..stats.diagnostic import Cutoff
from ..validation import require_columns

CASE_COLUMNS = ("patient_id", "sequence", "reader", "image", "mask")
FEATURE_ID_COLUMNS = ("patient_id", "sequence", "reader")
REFERENCE_READER = "reader1"


def filter_cohort(clinical: pd.DataFrame, filters: Mapping[str, Sequence | None]) -> pd.DataFrame:
    """Rows of ``clinical`` whose value in each filtered column is one of the selected values.

    ``filters`` maps a column to the values kept; ``None`` or an empty selection keeps
    every row (no filter on that column). Values are compared as text, so that a widget
    offering "1" selects centre 1.
    """
    require_columns(clinical, list(filters), what="clinical table")
    keep = np.ones(len(clinical), dtype=bool)
    for column, selected in filters.items():
        if selected:
            keep &= clinical[column].astype(str).isin([str(value) for value in selected]).to_numpy()
    return clinical[keep]


def filter_options(clinical: pd.DataFrame, column: str) -> list[str]:
    """The distinct non-missing values of ``column`` as sorted text (numbers in numeric order)."""
    require_columns(clinical, [column], what="clinical table")
    values = clinical[column].dropna().unique()
    try:
        values = sorted(values)
    except TypeError:  # mixed types: sort as text
        values = sorted(values, key=str)
    return [str(value) for value in values]


def patient_images(cases: pd.DataFrame, base_dir: str | os.PathLike, patient_id: str) -> dict[str, dict]:
    """Image and mask paths of one patient: ``{sequence: {"image": Path, "masks": {reader: Path}}}``.

    Paths in ``cases`` are relative to ``base_dir`` (absolute paths are kept). Raises
    :class:`InputError` when the patient has no rows.
    """
    require_columns(cases, CASE_COLUMNS, what="cases table")
    rows = cases[cases["patient_id"].astype(str) == str(patient_id)]
    if rows.empty:
        raise InputError(f"Patient '{patient_id}' has no images in the cases table.")
    base = Path(base_dir)
    images: dict[str, dict] = {}
    for row in rows.itertuples(index=False):
        entry = images.setdefault(row.sequence, {"image": base / row.image, "masks": {}})
        entry["masks"][row.reader] = base / row.mask
    return images


def resegmented_patients(cases: pd.DataFrame, reader: str = "reader2") -> list[str]:
    """Patients segmented by ``reader`` as well as reader 1 (the reliability subset), sorted."""
    require_columns(cases, CASE_COLUMNS, what="cases table")
    return sorted(cases.loc[cases["reader"] == reader, "patient_id"].astype(str).unique())


def reader_agreement_table(
    cases: pd.DataFrame,
    base_dir: str | os.PathLike,
    reader_a: str = REFERENCE_READER,
    reader_b: str = "reader2",
    hausdorff: bool = True,
) -> pd.DataFrame:
    """One row per patient segmented by both readers: Dice, Jaccard, volumes, HD95.

    A patient's masks are compared once even when several sequences share them.
    """
    from .agreement import mask_agreement

    require_columns(cases, CASE_COLUMNS, what="cases table")
    masks = cases.drop_duplicates(["patient_id", "reader"]).pivot(index="patient_id", columns="reader", values="mask")
    for reader in (reader_a, reader_b):
        if reader not in masks.columns:
            raise InputError(f"The cases table has no masks of reader '{reader}'; readers: {sorted(masks.columns)}.")
    pairs = masks[[reader_a, reader_b]].dropna()
    base = Path(base_dir)
    rows = [
        {"patient_id": patient, **mask_agreement(base / path_a, base / path_b, hausdorff=hausdorff).to_dict()}
        for patient, (path_a, path_b) in pairs.iterrows()
    ]
    return pd.DataFrame(rows)


def agreement_summary(agreement: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD, minimum, median and maximum of every column of :func:`reader_agreement_table`."""
    values = agreement.drop(columns="patient_id")
    summary = values.agg(["mean", "std", "min", "median", "max"])
    return summary.rename(index={"std": "sd"}).rename_axis("summary")


def _features_by_case(features: pd.DataFrame) -> pd.DataFrame:
    """Features with ``patient_id``, ``sequence`` and ``reader`` as columns (from the index if there)."""
    frame = features.reset_index() if set(FEATURE_ID_COLUMNS) & set(features.index.names) else features
    require_columns(frame, FEATURE_ID_COLUMNS, what="features table")
    return frame


def cohort_feature_table(clinical: pd.DataFrame, features: pd.DataFrame | None = None, reader: str = REFERENCE_READER) -> pd.DataFrame:
    """One row per patient (index: patient id as text): the clinical columns, then the
    features of ``reader`` per sequence.

    ``features`` is the output of :func:`stsanalysis.radiomics.extract_features` (index or
    columns ``patient_id``, ``sequence``, ``reader``); its columns are named
    ``"<sequence> <feature>"`` here, e.g. ``"T1 original_firstorder_Mean"``.
    """
    require_columns(clinical, ["patient_id"], what="clinical table")
    table = clinical.set_index(clinical["patient_id"].astype(str).rename("patient_id")).drop(columns="patient_id")
    if features is None:
        return table
    frame = _features_by_case(features)
    frame = frame[frame["reader"] == reader]
    values = frame.drop(columns=["reader"]).assign(patient_id=frame["patient_id"].astype(str))
    wide = values.pivot(index="patient_id", columns="sequence")
    wide.columns = [f"{sequence} {feature}" for feature, sequence in wide.columns]
    return table.join(wide, how="left")


def numeric_columns(table: pd.DataFrame) -> list[str]:
    """Columns holding numbers with at least two distinct values (what can be plotted or scored)."""
    return [column for column in table.select_dtypes("number").columns if table[column].nunique() > 1]


def reliability_icc(
    features: pd.DataFrame, reader_a: str = REFERENCE_READER, reader_b: str = "reader2", form: str = "ICC2"
) -> pd.DataFrame:
    """Per-feature ICC of two readers on the patients both segmented, per sequence.

    Tidy table ``sequence, feature, icc`` from :func:`stsanalysis.stats.icc_features`
    (``psych::ICC`` estimators, default ICC2 = two-way random, absolute agreement, single rater).
    """
    from ..stats.reliability import icc_features

    frame = _features_by_case(features)
    tables = []
    for sequence, rows in frame.groupby("sequence", sort=False):
        readings = rows.assign(patient_id=rows["patient_id"].astype(str)).set_index("patient_id")
        first, second = (readings[readings["reader"] == reader].drop(columns=["sequence", "reader"]) for reader in (reader_a, reader_b))
        shared = first.index.intersection(second.index)
        if shared.empty:
            continue
        icc = icc_features(first.loc[shared], second.loc[shared], form=form)
        tables.append(pd.DataFrame({"sequence": sequence, "feature": icc.index, "icc": icc.to_numpy()}))
    if not tables:
        raise InputError(f"No patient has features of both '{reader_a}' and '{reader_b}'.")
    return pd.concat(tables, ignore_index=True)


@dataclass(frozen=True)
class ExplorerData:
    """What the explorer reads: the clinical and cases tables, their folder, optional features."""

    clinical: pd.DataFrame
    cases: pd.DataFrame
    base_dir: Path
    features: pd.DataFrame | None = None


def load_explorer_data(directory: str | os.PathLike, features_path: str | os.PathLike | None = None) -> ExplorerData:
    """Read ``clinical.csv`` and ``cases.csv`` of a design-B folder (the demo's layout).

    ``features_path`` (optional) is a CSV feature table with columns ``patient_id``,
    ``sequence``, ``reader`` and one column per feature (``extract_features`` output saved
    with ``to_csv()``).

    A relative ``directory`` that does not exist under the working directory is looked up
    under the project root too, because JupyterLab starts kernels in the notebook's folder
    while papermill and the command line run from the project root.
    """
    from ..data.io import read_cohort
    from ..report.build import PROJECT_ROOT

    folder = Path(directory)
    if not folder.is_dir() and not folder.is_absolute() and (PROJECT_ROOT / folder).is_dir():
        folder = PROJECT_ROOT / folder
    if not folder.is_dir():
        raise InputError(
            f"Image folder '{directory}' does not exist (working directory {Path.cwd()}); "
            "write the demo with `stsanalysis demo` or give the folder holding clinical.csv and cases.csv."
        )
    cases_path = folder / "cases.csv"
    if not cases_path.is_file():
        raise InputError(f"'{cases_path}' does not exist; expected one row per patient, sequence and reader.")
    cases = pd.read_csv(cases_path)
    require_columns(cases, CASE_COLUMNS, what=f"cases table '{cases_path}'")
    features = None
    if features_path:
        if not Path(features_path).is_file():
            raise InputError(f"Feature table '{features_path}' does not exist.")
        features = _features_by_case(pd.read_csv(features_path))
    return ExplorerData(read_cohort(folder / "clinical.csv"), cases, folder.resolve(), features)


def two_by_two(cutoff: Cutoff, positive: str = "Positive", negative: str = "Negative") -> pd.DataFrame:
    """The 2 x 2 table of a :class:`~stsanalysis.stats.roc.Cutoff` with totals.

    Rows: test result (``"Test +"``, ``"Test -"``, ``"Total"``); columns: the reference
    standard (``positive``, ``negative``, ``"Total"``).
    """
    counts = np.array([[cutoff.tp, cutoff.fp], [cutoff.fn, cutoff.tn]])
    table = np.vstack([counts, counts.sum(axis=0)])
    table = np.column_stack([table, table.sum(axis=1)])
    index = pd.Index(["Test +", "Test -", "Total"], name="test_result")
    return pd.DataFrame(table, index=index, columns=[positive, negative, "Total"])
