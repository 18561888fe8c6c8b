"""Radiomic feature extraction with pyradiomics: process-parallel, cached, resumable.

:func:`extract_features` turns a cases table (one row per image + mask) into a feature
table (one row per case, pyradiomics feature names ``imageType_featureClass_feature``).

* Parameters: a preset, a pyradiomics YAML file or a dict (:mod:`.params`).
* Images: NIfTI, NRRD, ... or a DICOM series folder, read and checked by :mod:`.images`.
* Cases run in parallel processes, each with one ITK thread, or on a Dask cluster
  (:mod:`.backends`).
* With ``cache_dir`` every finished case is written at once (atomically) to a small JSON
  file keyed by the content of its image and mask, the parameters, the label and the
  pyradiomics version (:mod:`.cache`): a re-run recomputes nothing and an interrupted run
  resumes.
* A case that fails (unreadable file, mask not matching the image, empty ROI, ...) is
  listed in ``attrs["errors"]`` with the patient, the file and the reason; the others go on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from numbers import Number
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ..errors import InputError
from ..validation import require_columns
from .backends import execute, resolve_workers
from .cache import entry_path, read_entry, write_entry
from .images import CaseError, check_geometry, read_image
from .params import (
    PYKWALIFY_WARNING,
    captured_radiomics_log,
    extraction_provenance,
    load_params,
    pyradiomics_params,
    validate_params,
)

CASE_ID_COLUMNS = ("patient_id", "sequence", "reader")


# ----------------------------------------------------------------------------- one case


@dataclass(frozen=True)
class _CaseTask:
    case_id: tuple
    image: str
    mask: str
    label: int
    params: dict
    cache_file: str | None


@dataclass
class _CaseOutcome:
    case_id: tuple
    features: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    error: str | None = None
    file: str | None = None


def _run_pyradiomics(image: sitk.Image, mask: sitk.Image, label: int, params: dict) -> dict:
    """The single call into pyradiomics (tests count calls of this function)."""
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    extractor = RadiomicsFeatureExtractor(pyradiomics_params(params))
    return extractor.execute(image, mask, label=label)


def _as_number_or_text(value):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Number):
        return float(value)
    return str(value)


def _extract_case(task: _CaseTask) -> _CaseOutcome:
    """Read, check and extract one case; write it to the cache when it succeeds."""
    outcome = _CaseOutcome(task.case_id)
    try:
        image = read_image(task.image)
        mask = read_image(task.mask)
        check_geometry(image, mask, task.image, task.mask, task.params["setting"])
        with captured_radiomics_log() as log, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", message=PYKWALIFY_WARNING, category=DeprecationWarning)
            try:
                values = _run_pyradiomics(image, mask, task.label, task.params)
            except (ValueError, AssertionError) as error:  # pyradiomics' ROI and mask checks
                raise CaseError(str(error), task.mask) from error
            except RuntimeError as error:  # ITK failures inside filters or resampling
                raise CaseError(f"pyradiomics/ITK failed: {error}", task.image) from error
    except CaseError as error:
        outcome.error, outcome.file = str(error), error.file
        return outcome
    for name, value in values.items():
        if name.startswith("diagnostics_"):
            outcome.diagnostics[name] = _as_number_or_text(value)
        else:
            outcome.features[name] = float(value)
    # feature failures (NaN values) and numerical warnings stay visible per case, once each
    messages = log + [f"{w.category.__name__}: {w.message}" for w in caught]
    outcome.diagnostics["diagnostics_messages"] = "\n".join(dict.fromkeys(messages))
    if task.cache_file:
        write_entry(Path(task.cache_file), outcome.features, outcome.diagnostics)
    return outcome


# ----------------------------------------------------------------------------- public entry


def extract_features(cases: pd.DataFrame, params="mri_t1", n_jobs=-1, cache_dir=None, progress=True):
    """Extract pyradiomics features for every case (image + mask) of ``cases``.

    Parameters
    ----------
    cases
        One row per case: ``patient_id``, ``image``, ``mask`` (paths: NIfTI, NRRD or any
        file SimpleITK reads, or a directory holding one DICOM series), optionally
        ``sequence`` and ``reader`` (part of the case identity) and ``label`` (the mask
        value of the ROI; default the ``label`` setting, 1).
    params
        Preset name, YAML path or dict; see :func:`~.params.load_params`. A
        :class:`~.params.BinWidthWarning` is issued when MRI is discretised with
        pyradiomics' CT default bin width of 25.
    n_jobs
        Number of worker processes (-1: all cores; 1: in this process), ``"dask"`` (the
        running dask.distributed client) or a scheduler address ``"tcp://..."``.
    cache_dir
        Directory for the per-case cache (created if needed). None: no cache.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    DataFrame
        One row per successful case, indexed by ``patient_id`` (+ ``sequence``, ``reader``
        when present), columns named as pyradiomics names them. ``attrs["diagnostics"]``
        holds pyradiomics' diagnostics (one row per case), ``attrs["errors"]`` the failed
        cases (case id columns, ``file``, ``error``) and ``attrs["provenance"]`` the
        settings, software versions and IBSI compliance notes. pandas cannot ``concat``
        frames whose attrs hold tables: extract all sequences in one call, or clear
        ``attrs`` first.

    Raises
    ------
    InputError
        Bad ``cases`` or ``params``, or every case failed (the message lists why).
    """
    from tqdm.auto import tqdm

    id_columns = _validate_cases(cases)
    resolved = load_params(params)
    validate_params(resolved)
    workers = resolve_workers(n_jobs)
    cache_path = Path(cache_dir) if cache_dir is not None else None
    if cache_path is not None:
        cache_path.mkdir(parents=True, exist_ok=True)

    outcomes, tasks = _plan_cases(cases, id_columns, resolved, cache_path)
    n_cached = sum(outcome.error is None for outcome in outcomes.values())
    with tqdm(total=len(tasks), disable=not progress, desc="pyradiomics", unit="case") as bar:
        for outcome in execute(_extract_case, tasks, workers):
            outcomes[outcome.case_id] = outcome
            bar.update(1)

    ordered = [outcomes[tuple(getattr(row, c) for c in id_columns)] for row in cases.itertuples(index=False)]
    return _assemble(ordered, id_columns, resolved, n_cached)


def _validate_cases(cases) -> list[str]:
    require_columns(cases, ("patient_id", "image", "mask"), what="cases")
    if cases.empty:
        raise InputError("'cases' has no rows; expected one row per image + mask.")
    id_columns = [column for column in CASE_ID_COLUMNS if column in cases.columns]
    duplicated = cases.duplicated(subset=id_columns, keep=False)
    if duplicated.any():
        shown = cases.loc[duplicated, id_columns].head(6).to_dict("records")
        raise InputError(
            f"'cases' must have one row per {' + '.join(id_columns)}; {int(duplicated.sum())} rows "
            f"repeat a case, e.g. {shown}. Add a 'sequence' or 'reader' column to tell them apart."
        )
    missing = cases[["patient_id", "image", "mask"]].isna().any(axis=1)
    if missing.any():
        raise InputError(f"'cases' rows {list(cases.index[missing][:5])} lack a patient_id, image or mask path.")
    return id_columns


def _plan_cases(cases, id_columns, resolved: dict, cache_path: Path | None) -> tuple[dict, list]:
    """Outcomes known without pyradiomics (a missing file, a cached case) and the tasks left to run."""
    default_label = int(resolved["setting"].get("label", 1))
    outcomes: dict[tuple, _CaseOutcome] = {}
    tasks = []
    for row in cases.itertuples(index=False):
        case_id = tuple(getattr(row, column) for column in id_columns)
        label = _case_label(row, default_label)
        image, mask = str(row.image), str(row.mask)
        missing = [path for path in (image, mask) if not Path(path).exists()]
        if missing:
            outcomes[case_id] = _CaseOutcome(case_id, error="file not found", file=missing[0])
            continue
        cache_file = None
        if cache_path is not None:
            cache_file = entry_path(cache_path, image, mask, resolved, label)
            cached = read_entry(cache_file)
            if cached is not None:
                outcomes[case_id] = _CaseOutcome(case_id, cached["features"], cached["diagnostics"])
                continue
        tasks.append(_CaseTask(case_id, image, mask, label, resolved, cache_file and str(cache_file)))
    return outcomes, tasks


def _case_label(row, default_label: int) -> int:
    label = getattr(row, "label", None)
    if label is None or pd.isna(label):
        return default_label
    return int(label)


def _assemble(outcomes, id_columns, resolved, n_cached) -> pd.DataFrame:
    succeeded = [outcome for outcome in outcomes if outcome.error is None]
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    errors = pd.DataFrame(
        [
            {
                **dict(zip(id_columns, outcome.case_id)),
                "file": outcome.file,
                "error": f"Patient {outcome.case_id[0]}, file {outcome.file}: {outcome.error}",
            }
            for outcome in failed
        ],
        columns=[*id_columns, "file", "error"],
    )
    if not succeeded:
        listed = "\n".join(errors["error"].head(10))
        raise InputError(f"Feature extraction failed for all {len(failed)} case(s):\n{listed}")

    index = pd.MultiIndex.from_tuples([o.case_id for o in succeeded], names=id_columns)
    if len(id_columns) == 1:
        index = index.get_level_values(0)
    features = pd.DataFrame([o.features for o in succeeded], index=index, dtype=float)
    diagnostics = pd.DataFrame([o.diagnostics for o in succeeded], index=index)
    features.attrs = {
        "diagnostics": diagnostics,
        "errors": errors,
        "provenance": extraction_provenance(resolved, features.columns)
        | {"n_cases": len(outcomes), "n_failed": len(failed), "n_from_cache": n_cached},
    }
    return features
