"""Radiomic feature extraction with pyradiomics: process-parallel, cached, resumable.

:func:`extract_features` turns a cases table (one row per image + mask) into a feature
table (one row per case, pyradiomics feature names ``imageType_featureClass_feature``).

* Parameters: a preset, a pyradiomics YAML file or a dict (:mod:`.params`).
* Images: NIfTI, NRRD, ... or a DICOM series folder, read and checked by :mod:`.images`.
* Cases run in parallel processes, each with one ITK thread, or on a Dask cluster: a
  running one, a ``LocalCluster`` or dask-jobqueue's ``SLURMCluster`` built from a study
  config's ``cluster:`` key (:mod:`.backends`). Inside :func:`~.backends.worker_pool` the
  workers start once for several calls. Worker processes import this module without
  pandas (imported where a table is built), so that they start fast.
* With ``cache_dir`` every finished case is written at once (atomically) to a small JSON
  file keyed by the content of its image and mask, the parameters, the label and the
  pyradiomics version (:mod:`.cache`): a re-run recomputes nothing and an interrupted run
  resumes.
* A case that fails (unreadable file, mask not matching the image, empty ROI, ...) is
  listed in ``attrs["errors"]`` with the patient, the file and the reason; the others go on.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import warnings
from dataclasses import dataclass, field
from numbers import Number
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import SimpleITK as sitk

from ..errors import InputError
from .backends import execute, resolve_target, worker_pool
from .cache import entry_path, read_entry, write_entry
from .images import CaseError, check_geometry, read_image
from .masks import is_structure_set, read_mask, split_mask_path
from .params import (
    PYKWALIFY_WARNING,
    captured_radiomics_log,
    extraction_provenance,
    load_params,
    pyradiomics_params,
    validate_params,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["extract_features", "worker_pool"]

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
    roi: object = None  # the structure of an RTSTRUCT/SEG/Slicer mask (the case's, else the study's default)


@dataclass
class _CaseOutcome:
    case_id: tuple
    features: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    error: str | None = None
    file: str | None = None


def _run_pyradiomics(image: sitk.Image, mask: sitk.Image, label: int, params: dict) -> dict:
    """The single call into pyradiomics (tests count calls of this function)."""
    return _extractor(params).execute(image, mask, label=label)


#: pyradiomics extractors of this thread by parameters, each with the warnings logged while it was built.
_EXTRACTORS = threading.local()


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _extractor(params: dict):
    """The extractor of ``params``, built once per worker (building validates the parameters: ~25 ms a case).

    What pyradiomics logs while building it (e.g. its advice against a fixed bin count) is
    logged again at every reuse, so every case's diagnostics hold the same messages as when
    each case built its own extractor. ``execute`` keeps no state between cases (it copies
    the settings), which is how pyradiomics' own batch mode reuses one extractor.
    """
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    built = getattr(_EXTRACTORS, "by_params", None)
    if built is None:
        built = _EXTRACTORS.by_params = {}
    key = json.dumps(params, sort_keys=True, default=str)
    if key in built:
        extractor, records = built[key]
        for record in records:
            logging.getLogger(record.name).handle(record)
        return extractor
    recorder = _Recorder()
    logger = logging.getLogger("radiomics")
    logger.addHandler(recorder)
    try:
        extractor = RadiomicsFeatureExtractor(pyradiomics_params(params))
    finally:
        logger.removeHandler(recorder)
    built[key] = extractor, recorder.records
    return extractor


def _as_number_or_text(value):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Number):
        return float(value)
    return str(value)


def _read_case_mask(task: _CaseTask, image):
    """The case's mask, the label pyradiomics reads, and what was used (None for a plain label image).

    A NIfTI/NRRD mask without a named structure is read as before (its ``label`` value); a
    DICOM RTSTRUCT or SEG, a Slicer segmentation or a named structure goes through
    :func:`~.masks.read_mask`, which returns the structure as a 0/1 mask on the image grid.
    """
    if task.roi is None and not is_structure_set(task.mask):
        return read_image(task.mask), task.label, None
    mask, info = read_mask(task.mask, image, task.roi, label=task.label, correct_mask=bool(task.params["setting"].get("correctMask")))
    return mask, 1, info


def _extract_case(task: _CaseTask) -> _CaseOutcome:
    """Read, check and extract one case; write it to the cache when it succeeds."""
    outcome = _CaseOutcome(task.case_id)
    try:
        image = read_image(task.image)
        mask, label, mask_info = _read_case_mask(task, image)
        check_geometry(image, mask, task.image, task.mask, task.params["setting"])
        with captured_radiomics_log() as log, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", message=PYKWALIFY_WARNING, category=DeprecationWarning)
            try:
                values = _run_pyradiomics(image, mask, label, task.params)
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
    if mask_info is not None:  # which structure of a structure set was used
        outcome.diagnostics.update(mask_info.to_diagnostics())
    if task.cache_file:
        write_entry(Path(task.cache_file), outcome.features, outcome.diagnostics)
    return outcome


# ----------------------------------------------------------------------------- public entry


def extract_features(cases: pd.DataFrame, params="mri_t1", n_jobs=-1, cache_dir=None, progress=True, cluster=None, roi=None):
    """Extract pyradiomics features for every case (image + mask) of ``cases``.

    Parameters
    ----------
    cases
        One row per case: ``patient_id``, ``image``, ``mask`` (paths: NIfTI, NRRD or any
        file SimpleITK reads, or a directory holding one DICOM series), optionally
        ``sequence`` and ``reader`` (part of the case identity) and ``label`` (the mask
        value of the ROI; default the ``label`` setting, 1) and ``roi`` (the structure of a
        DICOM RTSTRUCT/SEG or Slicer segmentation: name, number or regular expression; also
        written ``mask#name``).
    params
        Preset name, YAML path or dict; see :func:`~.params.load_params`. A
        :class:`~.params.BinWidthWarning` is issued when MRI is discretised with
        pyradiomics' CT default bin width of 25.
    n_jobs
        Number of worker processes (-1: all cores; 1: in this process), ``"dask"`` (the
        running dask.distributed client) or a scheduler address ``"tcp://..."``.
    cache_dir
        Directory for the per-case cache (created if needed). None: no cache. On a cluster
        it must be a folder every worker reaches (a shared file system): finished cases are
        written there by the workers, so a killed job resumes without recomputing them.
    progress
        Show a tqdm progress bar.
    cluster
        A study config's ``cluster:`` spec, ``{kind: slurm, queue, cores, memory, walltime,
        jobs}``, ``{kind: local, workers}`` or ``{address: "tcp://..."}``
        (:func:`~.backends.cluster_from_config`). When given, the cases run there and
        ``n_jobs`` is not used; None or ``{}``: no cluster.
    roi
        The study's default structure for cases without their own ``roi``.

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
    target = resolve_target(n_jobs, cluster)
    cache_path = Path(cache_dir) if cache_dir is not None else None
    if cache_path is not None:
        cache_path.mkdir(parents=True, exist_ok=True)

    outcomes, tasks = _plan_cases(cases, id_columns, resolved, cache_path, roi)
    tasks.sort(key=_expected_cost, reverse=True)  # results are put back in the cases' order below
    n_cached = sum(outcome.error is None for outcome in outcomes.values())
    with tqdm(total=len(tasks), disable=not progress, desc="pyradiomics", unit="case") as bar:
        for outcome in execute(_extract_case, tasks, target):
            outcomes[outcome.case_id] = _shared_text(outcome)
            bar.update(1)

    ordered = [outcomes[tuple(getattr(row, c) for c in id_columns)] for row in cases.itertuples(index=False)]
    return _assemble(ordered, id_columns, resolved, n_cached)


def _validate_cases(cases) -> list[str]:
    from ..validation import require_columns

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


def _expected_cost(task: _CaseTask) -> tuple[int, int]:
    """Bytes of the mask and image files, a proxy of a case's extraction time (a larger region
    takes longer). Running the largest cases first (longest-processing-time-first scheduling)
    keeps a worker from computing the one long case alone at the end of a run: on 10 cases
    of 1.0-2.1 s, 2 processes went from 1.6x to 1.9x serial (benchmarks/bench_extraction.py)."""
    return tuple(Path(path).stat().st_size for path in (task.mask, task.image))


def _plan_cases(cases, id_columns, resolved: dict, cache_path: Path | None, default_roi=None) -> tuple[dict, list]:
    """Outcomes known without pyradiomics (a missing file, a cached case) and the tasks left to run."""
    default_label = int(resolved["setting"].get("label", 1))
    outcomes: dict[tuple, _CaseOutcome] = {}
    tasks = []
    for row in cases.itertuples(index=False):
        case_id = tuple(getattr(row, column) for column in id_columns)
        label = _case_label(row, default_label)
        image, (mask, roi) = str(row.image), split_mask_path(str(row.mask))
        roi = _case_roi(row, roi, default_roi)
        missing = [path for path in (image, mask) if not Path(path).exists()]
        if missing:
            outcomes[case_id] = _CaseOutcome(case_id, error="file not found", file=missing[0])
            continue
        cache_file = None
        if cache_path is not None:
            cache_file = entry_path(cache_path, image, mask, resolved, label if roi is None else f"{label};roi={roi}")
            cached = read_entry(cache_file)
            if cached is not None:
                outcomes[case_id] = _shared_text(_CaseOutcome(case_id, cached["features"], cached["diagnostics"]))
                continue
        tasks.append(_CaseTask(case_id, image, mask, label, resolved, cache_file and str(cache_file), roi))
    return outcomes, tasks


def _shared_text(outcome: _CaseOutcome) -> _CaseOutcome:
    """One copy, in this process, of the names and texts every case repeats (feature names, versions, settings).

    A case from a worker or the cache arrives with its own copy of each (most of its ~10 KB);
    the table of a large cohort is built from the cases held until the end.
    """
    outcome.features = {sys.intern(name): value for name, value in outcome.features.items()}
    outcome.diagnostics = {
        sys.intern(name): sys.intern(value) if isinstance(value, str) else value for name, value in outcome.diagnostics.items()
    }
    return outcome


def _case_roi(row, from_path, default_roi):
    """The case's structure: its ``roi`` column, else the ``mask#name`` suffix, else the study default."""
    value = getattr(row, "roi", None)
    for candidate in (value, from_path, default_roi):
        if candidate is not None and not (isinstance(candidate, float) and np.isnan(candidate)) and str(candidate) != "":
            return candidate
    return None


def _case_label(row, default_label: int) -> int:
    import pandas as pd

    label = getattr(row, "label", None)
    if label is None or pd.isna(label):
        return default_label
    return int(label)


def _assemble(outcomes, id_columns, resolved, n_cached) -> pd.DataFrame:
    import pandas as pd

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
