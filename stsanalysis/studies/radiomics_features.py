"""Design B steps 1-4: features of every case, their reliability, harmonisation and the signatures.

Every step fitted on data (ComBat, mRMR, LASSO) is fitted on the training set only and
applied unchanged to the validation set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..validation import require_columns

CASE_COLUMNS = ("patient_id", "sequence", "reader", "image", "mask")
#: The reader label of a cases table without a reader column.
SINGLE_READER = "reader1"


def read_cases(cases_path, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The cases table (one row per patient, sequence and reader) with absolute file paths.

    Relative ``image``/``mask`` paths are resolved from the folder of the cases file. A
    table without a ``reader`` column holds one reader's segmentations (:data:`SINGLE_READER`).
    """
    from ..data.io import rename_columns

    path = Path(cases_path)
    if not path.is_file():
        raise InputError(f"Cases file '{path}' does not exist.")
    cases = pd.read_csv(path, dtype=str)
    if columns:
        cases = rename_columns(cases, columns, expected=(*CASE_COLUMNS, "roi"), what=f"cases file '{path}'")
    if "reader" not in cases.columns:
        cases["reader"] = SINGLE_READER  # one segmentation per case: the primary reader's
    require_columns(cases, CASE_COLUMNS, f"cases file '{path}'")
    for column in ("image", "mask"):
        cases[column] = [str(value) if Path(value).is_absolute() else str((path.parent / value).resolve()) for value in cases[column]]
    return cases


#: How the methods text names each preset modality.
MODALITY_NAMES = {"mri": "MRI", "ct": "CT", "pet": "PET"}


def study_modality(params_by_sequence: Mapping[str, object]) -> str:
    """The imaging modality (or modalities) of the sequences, as the methods text names it: "MRI", "CT and PET"."""
    from ..radiomics.params import load_params
    from ..report.phrases import join_words

    found = [MODALITY_NAMES.get(str(load_params(params).get("modality", "")).lower()) for params in params_by_sequence.values()]
    named = list(dict.fromkeys(name for name in found if name))
    return join_words(named) if named else "imaging"


def load_cohort_features(
    *,
    cases_path,
    case_columns: Mapping[str, str] | None,
    features_path,
    feature_columns: Mapping[str, str] | None,
    sequences: Mapping[str, object],
    readers: Mapping[str, str],
    patients,
    n_jobs=-1,
    cache_dir=None,
    cluster=None,
    roi=None,
) -> tuple[pd.DataFrame, dict[str, dict], pd.DataFrame]:
    """Features of every case: read from ``features_path`` when given, else extracted from the cases' images.

    Returns (features, provenance per sequence, failed cases) as :func:`extract_cohort_features`.
    A feature table must hold every patient of ``patients`` (the cohort) in every sequence;
    ``cluster`` (a study config's ``cluster`` mapping) extracts on a Dask or SLURM cluster;
    ``roi`` is the default structure of RTSTRUCT/SEG/Slicer masks.
    """
    if features_path:
        from ..radiomics.feature_table import check_feature_coverage, read_feature_table

        labels = list(readers.values()) or [SINGLE_READER]
        features, provenance = read_feature_table(features_path, columns=feature_columns or None, sequences=list(sequences), readers=labels)
        check_feature_coverage(features, patients, list(sequences), readers.get("reader1", SINGLE_READER))
        failed = [pd.DataFrame(record["failed_cases"]) for record in provenance.values() if record.get("failed_cases")]
        errors = (
            pd.concat(failed, ignore_index=True) if failed else pd.DataFrame(columns=["patient_id", "sequence", "reader", "file", "error"])
        )
        return features, provenance, errors
    cases = read_cases(cases_path, columns=case_columns)
    return extract_cohort_features(cases, sequences, n_jobs=n_jobs, cache_dir=cache_dir, cluster=cluster or None, roi=roi or None)


_STRUCTURE_PREFIX = "diagnostics_Mask-source_"


def _mask_structures(diagnostics: pd.DataFrame) -> list[dict]:
    """Per case, the structure read from an RTSTRUCT, SEG or Slicer mask (none for plain label images)."""
    columns = [column for column in diagnostics.columns if column.startswith(_STRUCTURE_PREFIX)]
    if not columns:
        return []
    chosen = diagnostics[columns].dropna(how="all").rename(columns=lambda column: column.removeprefix(_STRUCTURE_PREFIX))
    return chosen.reset_index().to_dict("records")


def mask_structures(provenance: Mapping[str, Mapping]) -> pd.DataFrame:
    """The structure each case's mask was read from (kind, file, structure, number, voxels), all sequences."""
    rows = [record for sequence_provenance in provenance.values() for record in sequence_provenance.get("mask_structures") or ()]
    return pd.DataFrame(rows)


def extract_cohort_features(
    cases: pd.DataFrame,
    params_by_sequence: Mapping[str, object],
    *,
    n_jobs=-1,
    cache_dir=None,
    progress: bool = False,
    cluster=None,
    roi=None,
) -> tuple[pd.DataFrame, dict[str, dict], pd.DataFrame]:
    """Features of every case, each sequence with its own parameters.

    Returns (features indexed by patient_id, sequence, reader; provenance per sequence, with
    the structure of each RTSTRUCT/SEG/Slicer mask; failed cases). Unknown sequences in
    ``cases`` are an error naming them. The worker processes (or the ``cluster``, a study
    config's ``cluster:`` spec) start once for all sequences; ``roi`` is the default structure.
    """
    from ..radiomics.extraction import extract_features, worker_pool

    unknown = sorted(set(cases["sequence"]) - set(params_by_sequence))
    if unknown:
        raise InputError(
            f"Sequence(s) {unknown} in the cases table have no extraction parameters; 'sequences' maps {sorted(params_by_sequence)}."
        )
    tables, provenance, errors = [], {}, []
    with worker_pool(n_jobs=n_jobs, cluster=cluster):
        for sequence, params in params_by_sequence.items():
            subset = cases[cases["sequence"] == sequence]
            if subset.empty:
                raise InputError(f"No case has sequence '{sequence}'; the cases table has {sorted(cases['sequence'].unique())}.")
            features = extract_features(subset, params, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress, cluster=cluster, roi=roi)
            provenance[sequence] = {**features.attrs["provenance"], "mask_structures": _mask_structures(features.attrs["diagnostics"])}
            errors.append(features.attrs["errors"])
            features.attrs = {}
            tables.append(features)
    return pd.concat(tables), provenance, pd.concat(errors, ignore_index=True)


#: The reader roles of a cases table: the primary reader (whose features are modelled), a
#: second reader (inter-reader ICC) and the primary reader's repeat (intra-reader ICC).
READER_ROLES = ("reader1", "reader2", "repeat")


def reader_tables(features: pd.DataFrame, sequences: Sequence[str], readers: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """Wide (patient x ``<sequence>_<feature>``) tables per reader role.

    ``readers`` maps the roles of :data:`READER_ROLES` to the reader labels of the cases
    table; empty means one reader (every case is the primary reader's). Patients of the
    second and third tables form the re-segmentation subset.
    """
    from ..radiomics.pipeline import signature_features

    unknown = sorted(set(readers) - set(READER_ROLES))
    if unknown:
        raise InputError(f"'readers' has unknown role(s) {unknown}; the roles are {list(READER_ROLES)} (reader1 is the primary reader).")
    if readers and "reader1" not in readers:
        raise InputError(f"'readers' must name the primary reader as 'reader1'; got roles {sorted(readers)}.")
    wide = signature_features(features, list(sequences))
    if not readers:
        labels = wide.index.unique("reader").tolist() if "reader" in wide.index.names else []
        if len(labels) > 1:
            raise InputError(f"The features hold several readers {labels}; name the primary one in 'readers: {{reader1: ...}}'.")
        return {"reader1": wide.droplevel("reader") if labels else wide}
    present = wide.index.unique("reader")
    missing = [f"{role}: {label}" for role, label in readers.items() if label not in present]
    if missing:
        raise InputError(f"No case has the reader label(s) {missing}; the cases have readers {sorted(present)}.")
    return {role: wide.xs(label, level="reader") for role, label in readers.items()}


def fit_reliability_filter(tables: Mapping[str, pd.DataFrame], threshold: float, form: str):
    """The ICC filter fitted on the re-segmentation subset (inter- and/or intra-reader).

    None when the study has no repeat segmentation (one reader): then no feature is filtered.
    """
    from ..radiomics.selection import ReliabilityFilter

    second = tables.get("reader2")
    repeat = tables.get("repeat")
    if second is None and repeat is None:
        return None
    subset = (second if second is not None else repeat).index
    return ReliabilityFilter(threshold=threshold, form=form).fit(
        tables["reader1"].loc[subset],
        second.loc[subset] if second is not None else None,
        repeat.loc[subset] if repeat is not None else None,
    )


def pca_scores(features: pd.DataFrame, n_components: int = 2) -> pd.DataFrame:
    """First principal components of z-scored features (columns pc1, pc2)."""
    from sklearn.decomposition import PCA

    standardised = (features - features.mean()) / features.std(ddof=0).replace(0, 1)
    pca = PCA(n_components=n_components).fit(standardised)
    scores = pd.DataFrame(pca.transform(standardised), index=features.index, columns=[f"pc{i + 1}" for i in range(n_components)])
    scores.attrs["explained_variance_ratio"] = pca.explained_variance_ratio_.tolist()
    return scores


def harmonisation_panels(features: pd.DataFrame, batch: pd.Series, training: pd.Series) -> dict[str, pd.DataFrame]:
    """PCA before and after ComBat (fitted on training patients, applied to all)."""
    from ..radiomics.harmonization import ComBat

    combat = ComBat().fit(features[training.to_numpy()], batch[training.to_numpy()])
    harmonised = combat.transform(features, batch)
    return {"Before ComBat": pca_scores(features), "After ComBat (fitted on training)": pca_scores(harmonised)}


def fit_signature(
    features: pd.DataFrame,
    y: pd.Series,
    batch: pd.Series,
    training: pd.Series,
    *,
    k: int,
    lambda_rule: str,
    cv: int,
    n_repeats: int,
    seed: int,
    cache_dir=None,
    builder=None,
):
    """The leakage-free pipeline (z-score -> ComBat -> mRMR -> LASSO) fitted on training only.

    ``cache_dir`` keeps mRMR's relevance estimates between runs (the slow part of a fit).
    ``builder`` makes the pipeline: :func:`~stsanalysis.radiomics.pipeline.make_radiomics_pipeline`
    (default, LASSO logistic regression of a 0/1 ``y``) or
    :func:`~stsanalysis.radiomics.pipeline.make_survival_pipeline` (LASSO-Cox, ``y`` the
    survival time and event columns).
    """
    from ..radiomics.pipeline import make_radiomics_pipeline

    pipeline = (builder or make_radiomics_pipeline)(
        k=min(k, features.shape[1]),
        combat=batch is not None,
        batch_labels=batch,
        lambda_rule=lambda_rule,
        cv=cv,
        n_repeats=n_repeats,
        random_state=seed,
        cache_dir=cache_dir,
    )
    return pipeline.fit(features[training.to_numpy()], y[training.to_numpy()])


def signature_summary(pipeline) -> pd.DataFrame:
    """Non-zero rad-score coefficients (harmonised z-scored features) in mRMR order."""
    lasso = pipeline.named_steps["lasso"]
    coefficients = lasso.coef_[lasso.coef_ != 0]
    return pd.DataFrame({"feature": coefficients.index, "coefficient": coefficients.to_numpy()})


COMBINED_SIGNATURE = "Combined signature"


def signature_names(sequences: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Signature name -> its sequences: one per sequence, and the combined one with two or more.

    >>> signature_names(["T1", "FS-T2"])
    {'T1 signature': ('T1',), 'FS-T2 signature': ('FS-T2',), 'Combined signature': ('T1', 'FS-T2')}
    >>> signature_names(["CT"])
    {'CT signature': ('CT',)}
    """
    names = {f"{sequence} signature": (sequence,) for sequence in sequences}
    if len(sequences) > 1:
        names[COMBINED_SIGNATURE] = tuple(sequences)
    return names


def nomogram_signature(signatures: Mapping[str, object]) -> str:
    """The signature whose rad-score enters the nomogram: the combined one, else the only one."""
    return COMBINED_SIGNATURE if COMBINED_SIGNATURE in signatures else next(iter(signatures))


@dataclass(frozen=True)
class Signature:
    """A fitted rad-score: its pipeline, feature columns, and score and probability of every patient
    (``probability`` is None for a LASSO-Cox signature, whose score is a log relative hazard)."""

    pipeline: object
    columns: tuple[str, ...]
    rad_score: pd.Series
    probability: pd.Series | None

    def formula(self) -> str:
        return self.pipeline.named_steps["lasso"].formula()


def fit_signatures(
    features: pd.DataFrame, y: pd.Series, batch: pd.Series, training: pd.Series, sequences: Sequence[str], **fit_options
) -> dict[str, Signature]:
    """One signature per sequence, and the combined one of every sequence (:func:`signature_names`).

    ``features`` are the reliable reader-1 features (columns ``<sequence>_<feature>``);
    ``fit_options`` go to :func:`fit_signature` (k, lambda_rule, cv, n_repeats, seed, cache_dir,
    builder).
    """
    signatures = {}
    for name, signature_sequences in signature_names(sequences).items():
        columns = tuple(column for column in features.columns if column.split("_", 1)[0] in signature_sequences)
        selected = features[list(columns)]
        pipeline = fit_signature(selected, y, batch, training, **fit_options)
        signatures[name] = Signature(
            pipeline=pipeline,
            columns=columns,
            rad_score=pd.Series(pipeline.decision_function(selected), index=features.index),
            probability=pd.Series(pipeline.predict_proba(selected)[:, 1], index=features.index)
            if hasattr(pipeline, "predict_proba")
            else None,
        )
    return signatures
