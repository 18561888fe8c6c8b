"""Pure functions behind the cohort explorer: reading a cohort or a study config, filtering,
image look-up, feature tables, 2 x 2.

Nothing here draws or holds widget state, so every function is tested with numbers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..stats.diagnostic import Cutoff
from ..validation import require_columns

if TYPE_CHECKING:
    from ..report.config import StudyConfig

CASE_COLUMNS = ("patient_id", "sequence", "reader", "image", "mask")
FEATURE_ID_COLUMNS = ("patient_id", "sequence", "reader")
REFERENCE_READER = "reader1"
SECOND_READER = "reader2"


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


def resegmented_patients(cases: pd.DataFrame, reader: str = SECOND_READER) -> list[str]:
    """Patients segmented by ``reader`` as well as reader 1 (the reliability subset), sorted."""
    require_columns(cases, CASE_COLUMNS, what="cases table")
    return sorted(cases.loc[cases["reader"] == reader, "patient_id"].astype(str).unique())


def reader_agreement_table(
    cases: pd.DataFrame,
    base_dir: str | os.PathLike,
    reader_a: str = REFERENCE_READER,
    reader_b: str = SECOND_READER,
    hausdorff: bool = True,
) -> pd.DataFrame:
    """One row per patient segmented by both readers: Dice, Jaccard, volumes and surface distances.

    :func:`stsanalysis.radiomics.segmentation.agreement_by_patient` with the mask paths read
    from ``base_dir``; a patient's masks are compared once even when several sequences share
    them. ``hausdorff=False`` skips the surface distances; an empty mask gives NaN.
    """
    from ..radiomics.segmentation import agreement_by_patient

    return agreement_by_patient(cases, reader_a, reader_b, base_dir=base_dir, distances=hausdorff, allow_empty=True)


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
    features: pd.DataFrame, reader_a: str = REFERENCE_READER, reader_b: str = SECOND_READER, form: str = "ICC2"
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
    """What the explorer reads: the clinical and cases tables, their folder, optional features,
    and how the study names its outcome, filters, sequences and readers.

    The defaults describe the demo's folder (:func:`load_explorer_data`): the 0/1 column
    ``high_grade`` shown as it is, filters centre, grade and scanner, every sequence of the
    cases table, readers ``reader1`` and ``reader2``. :func:`load_study_data` fills them
    from a study config.
    """

    clinical: pd.DataFrame
    cases: pd.DataFrame
    base_dir: Path
    features: pd.DataFrame | None = None
    #: The 0/1 outcome column of ``clinical``, and the names of its classes (None: shown as 0 and 1).
    outcome: str = "high_grade"
    class_labels: Mapping[int, str] | None = None
    filter_columns: tuple[str, ...] = ("centre", "grade", "scanner")
    #: The sequences shown, in order; None: every sequence of ``cases``.
    sequences: tuple[str, ...] | None = None
    #: Reader labels of ``cases``: the primary reader, and the second reader of the reliability subset (None: one reader).
    reader: str = REFERENCE_READER
    second_reader: str | None = SECOND_READER

    @property
    def reliability_subset(self) -> list[str]:
        """Patients segmented by both readers, sorted (empty for a study with one reader)."""
        return resegmented_patients(self.cases, self.second_reader) if self.second_reader else []

    def example_patient(self, patient_id: str | None = None) -> str:
        """``patient_id``, else the first patient read by both readers, else the first patient of the cases table."""
        subset = self.reliability_subset
        return patient_id or (subset[0] if subset else str(self.cases["patient_id"].iloc[0]))


def _read_features(features_path: str | os.PathLike | None) -> pd.DataFrame | None:
    if not features_path:
        return None
    if not Path(features_path).is_file():
        raise InputError(f"Feature table '{features_path}' does not exist.")
    return _features_by_case(pd.read_csv(features_path))


def load_explorer_data(
    directory: str | os.PathLike,
    features_path: str | os.PathLike | None = None,
    *,
    config_path: str | os.PathLike | None = None,
) -> ExplorerData:
    """Read ``clinical.csv`` and ``cases.csv`` of a design-B folder (the demo's layout), or
    the study of ``config_path`` (:func:`load_study_data`; ``directory`` is then not read).

    ``features_path`` (optional) is a CSV feature table with columns ``patient_id``,
    ``sequence``, ``reader`` and one column per feature (``extract_features`` output saved
    with ``to_csv()``).

    A relative ``directory`` that does not exist under the working directory is looked up
    under the project root too, because JupyterLab starts kernels in the notebook's folder
    while papermill and the command line run from the project root.
    """
    from ..data.io import read_cohort
    from ..report.build import PROJECT_ROOT

    if config_path:
        return load_study_data(config_path, features_path)
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
    return ExplorerData(read_cohort(folder / "clinical.csv"), cases, folder.resolve(), _read_features(features_path))


# --------------------------------------------------------------------------------------
# A design-B study config (the file `stsanalysis report --config` builds the report from)
# --------------------------------------------------------------------------------------
#: The notebook of the configs the explorer opens: design B has images, masks and a cases table.
RADIOMICS_NOTEBOOK = "radiomics_nomogram_study"
#: Clinical columns offered as filters when the table has them; None stands for the outcome's own column.
STUDY_FILTERS = ("centre", "scanner", None, "set")


def read_study_config(config_path: str | os.PathLike) -> StudyConfig:
    """A radiomics (design B) study config, read and checked as ``stsanalysis report`` reads it.

    :func:`stsanalysis.report.config.load_config` checks the parameters against the
    design-B notebook and resolves relative ``*_path`` values from the config's folder.
    A config of another notebook (design A, survival) is an :class:`InputError`; so is one
    without ``clinical_path`` and ``cases_path`` (the notebook's defaults are the demo's,
    relative to wherever it runs).
    """
    from ..report.config import load_config

    config = load_config(config_path)
    if config.notebook.stem != RADIOMICS_NOTEBOOK:
        raise InputError(
            f"Config file '{config_path}' is a study of the notebook '{config.notebook.stem}'; the explorer opens radiomics "
            f"(design B) studies, whose config names 'notebook: {RADIOMICS_NOTEBOOK}' (images, masks and a cases table)."
        )
    missing = [key for key in ("clinical_path", "cases_path") if not config.parameters.get(key)]
    if missing:
        raise InputError(f"Config file '{config_path}' has no {missing} parameter(s): the explorer reads the clinical and the cases table.")
    return config


def notebook_defaults(notebook: str | os.PathLike) -> dict[str, Any]:
    """The values of a notebook's parameters cell (those written as Python literals), as papermill reads them."""
    import ast

    import papermill

    defaults = {}
    for name, info in papermill.inspect_notebook(str(notebook)).items():
        try:
            defaults[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            continue
    return defaults


def _config_mapping(parameters: Mapping[str, Any], key: str) -> dict:
    value = parameters.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"Parameter '{key}' must be a mapping (NAME: VALUE); got {value!r}.")
    return dict(value)


def _study_cases(parameters: Mapping[str, Any]) -> tuple[pd.DataFrame, str, str | None]:
    """The cases table of a study config and its reader labels: (cases, reader 1, reader 2 or None).

    An empty ``readers`` is a study of one reader, whose cases table may lack the reader column.
    """
    from ..studies.radiomics_features import read_cases

    path = parameters["cases_path"]
    cases = read_cases(path, columns=_config_mapping(parameters, "case_columns") or None)
    if cases.empty:
        raise InputError(f"Cases file '{path}' has no rows; expected one row per patient, sequence and reader.")
    readers = {role: str(label) for role, label in _config_mapping(parameters, "readers").items()}
    present = sorted(cases["reader"].unique())
    if not readers:
        if len(present) > 1:
            raise InputError(
                f"'readers' is empty (a study of one reader) but the cases file '{path}' has the readers {present}; "
                "name them in 'readers' (reader1: ..., reader2: ...)."
            )
        return cases, present[0], None
    if "reader1" not in readers:
        raise InputError(f"'readers' must name the primary reader as 'reader1: <label>'; got the roles {sorted(readers)}.")
    for role in ("reader1", "reader2"):
        if role in readers and readers[role] not in present:
            raise InputError(f"No case has the reader label '{readers[role]}' given for {role} in 'readers'; the cases file has {present}.")
    return cases, readers["reader1"], readers.get("reader2")


def _study_sequences(cases: pd.DataFrame, parameters: Mapping[str, Any]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The cases of the config's ``sequences`` (in its order) and their labels; a sequence without cases is an error."""
    sequences = tuple(str(label) for label in _config_mapping(parameters, "sequences"))
    if not sequences:
        raise InputError("'sequences' is empty; give at least one 'label: preset' (e.g. T1: mri_t1).")
    present = sorted(cases["sequence"].unique())
    missing = [sequence for sequence in sequences if sequence not in present]
    if missing:
        raise InputError(f"Sequence(s) {missing} of 'sequences' have no case in the cases table; its sequences are {present}.")
    return cases[cases["sequence"].isin(sequences)], sequences


def _study_sets(clinical: pd.DataFrame, y: pd.Series, given: Mapping[str, Any], seed: int) -> pd.Series | None:
    """Each patient's set ('training' or 'validation') as the report splits them, or None.

    A config that gives ``split`` or ``training_centre`` (in ``given``, the config's own
    parameters) gets its split or its error. Without either, the default split (centre 1
    trains) is used when the clinical table allows it, so that a single-centre cohort still
    opens (without the set filter).
    """
    from ..studies.design import Split

    explicit = bool(given.get("split")) or given.get("training_centre") is not None
    split = Split.from_spec(_config_mapping(given, "split"), given.get("training_centre"))
    if not explicit and split.column not in clinical.columns:
        return None
    try:
        return split.assign(clinical, y, seed)
    except InputError:
        if explicit:
            raise
        return None


def _study_features(features_path, parameters: Mapping[str, Any], sequences: Sequence[str], readers: Sequence[str]) -> pd.DataFrame | None:
    """The feature table of ``features_path``, read as the design-B notebook reads its ``features_path``."""
    from ..radiomics.feature_table import read_feature_table

    if not features_path:
        return None
    features, _ = read_feature_table(
        features_path, columns=_config_mapping(parameters, "feature_columns") or None, sequences=sequences, readers=readers
    )
    return _features_by_case(features)


def load_study_data(config_path: str | os.PathLike, features_path: str | os.PathLike | None = None) -> ExplorerData:
    """What the explorer shows of a radiomics (design B) study, read from its config.

    The config's parameters (:func:`read_study_config`; the design-B notebook's defaults
    for those it leaves out): ``clinical_path`` with ``columns`` (read by
    :func:`stsanalysis.data.io.read_cohort`), ``cases_path`` with ``case_columns``
    (``read_cases``), ``sequences`` (their labels are the sequences shown), ``readers``
    (roles ``reader1``, ``reader2``; empty: one reader), the outcome (``outcome`` or the
    ``high_grade_from`` shorthand: :func:`stsanalysis.studies.design.outcome_from_config`),
    ``split`` / ``training_centre`` and ``features_path`` with ``feature_columns``
    (``features_path`` given here wins). The outcome becomes the 0/1 column named by
    ``Outcome.count_column``, shown with the outcome's class labels; the set becomes the
    column ``set``. Filters are the columns present among centre, scanner, the outcome's
    own column and set. Other parameters (models, bootstrap) are not read.
    """
    from ..data.io import read_cohort
    from ..studies.design import outcome_from_config

    config = read_study_config(config_path)
    given = config.parameters
    parameters = {**notebook_defaults(config.notebook), **given}
    clinical = read_cohort(parameters["clinical_path"], columns=_config_mapping(parameters, "columns"))
    outcome = outcome_from_config(_config_mapping(parameters, "outcome"), parameters.get("high_grade_from"))
    y = outcome.classify(clinical, f"clinical table '{parameters['clinical_path']}'")
    clinical = clinical.assign(**{outcome.count_column: y})
    sets = _study_sets(clinical, y, given, seed=int(parameters.get("seed", 0)))
    if sets is not None:
        clinical = clinical.assign(set=sets)
    cases, reader, second_reader = _study_cases(parameters)
    cases, sequences = _study_sequences(cases, parameters)
    reader_labels = list(_config_mapping(parameters, "readers").values()) or [reader]
    filters = [outcome.column if column is None else column for column in STUDY_FILTERS]
    return ExplorerData(
        clinical=clinical,
        cases=cases,
        base_dir=Path(parameters["cases_path"]).parent,
        features=_study_features(features_path or parameters.get("features_path"), parameters, sequences, reader_labels),
        outcome=outcome.count_column,
        class_labels=outcome.class_labels,
        filter_columns=tuple(column for column in dict.fromkeys(filters) if column in clinical.columns),
        sequences=sequences,
        reader=reader,
        second_reader=second_reader,
    )


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


def classification_metrics(auc: float, cutoff: Cutoff) -> pd.DataFrame:
    """AUC and the classification at a :class:`~stsanalysis.stats.roc.Cutoff` as a ``measure, value`` table."""
    return pd.DataFrame(
        {
            "measure": ["AUC", "sensitivity", "specificity", "PPV", "NPV", "accuracy"],
            "value": [auc, cutoff.sensitivity, cutoff.specificity, cutoff.ppv, cutoff.npv, cutoff.accuracy],
        }
    )


def outcome_labels(values: pd.Series, class_labels: Mapping[int, str], column: str = "outcome") -> pd.Series:
    """A 0/1 outcome as the names of its classes (``{0: "Low grade", 1: "High grade"}``); other values are an error."""
    codes = pd.to_numeric(values, errors="coerce")
    bad = values[~codes.isin([0, 1])]
    if len(bad):
        raise InputError(
            f"The outcome column '{column}' must hold 0 or 1 to be named by its classes; got {sorted(map(str, bad.unique()))[:5]}."
        )
    return codes.astype(int).map(dict(class_labels))
