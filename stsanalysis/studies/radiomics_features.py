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


def read_cases(cases_path, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The cases table (one row per patient, sequence and reader) with absolute file paths.

    Relative ``image``/``mask`` paths are resolved from the folder of the cases file.
    """
    from ..data.io import rename_columns

    path = Path(cases_path)
    if not path.is_file():
        raise InputError(f"Cases file '{path}' does not exist.")
    cases = pd.read_csv(path, dtype=str)
    if columns:
        cases = rename_columns(cases, columns, expected=CASE_COLUMNS, what=f"cases file '{path}'")
    require_columns(cases, CASE_COLUMNS, f"cases file '{path}'")
    for column in ("image", "mask"):
        cases[column] = [str(value) if Path(value).is_absolute() else str((path.parent / value).resolve()) for value in cases[column]]
    return cases


def extract_cohort_features(
    cases: pd.DataFrame,
    params_by_sequence: Mapping[str, object],
    *,
    n_jobs=-1,
    cache_dir=None,
    progress: bool = False,
) -> tuple[pd.DataFrame, dict[str, dict], pd.DataFrame]:
    """Features of every case, each sequence with its own parameters.

    Returns (features indexed by patient_id, sequence, reader; provenance per sequence;
    failed cases). Unknown sequences in ``cases`` are an error naming them.
    """
    from ..radiomics.extraction import extract_features

    unknown = sorted(set(cases["sequence"]) - set(params_by_sequence))
    if unknown:
        raise InputError(
            f"Sequence(s) {unknown} in the cases table have no extraction parameters; 'sequences' maps {sorted(params_by_sequence)}."
        )
    tables, provenance, errors = [], {}, []
    for sequence, params in params_by_sequence.items():
        subset = cases[cases["sequence"] == sequence]
        if subset.empty:
            raise InputError(f"No case has sequence '{sequence}'; the cases table has {sorted(cases['sequence'].unique())}.")
        features = extract_features(subset, params, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress)
        provenance[sequence] = features.attrs["provenance"]
        errors.append(features.attrs["errors"])
        features.attrs = {}
        tables.append(features)
    return pd.concat(tables), provenance, pd.concat(errors, ignore_index=True)


def reader_tables(features: pd.DataFrame, sequences: Sequence[str], readers: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """Wide (patient x ``<sequence>_<feature>``) tables per reader role.

    ``readers`` maps the roles ``reader1``, ``reader2`` and optionally ``repeat`` to the
    reader labels of the cases table. Only patients with every role are kept in the
    second and third tables (the re-segmentation subset).
    """
    from ..radiomics.pipeline import signature_features

    wide = signature_features(features, list(sequences))
    tables = {role: wide.xs(label, level="reader") for role, label in readers.items() if label in wide.index.unique("reader")}
    if "reader1" not in tables:
        raise InputError(f"No case has the reader label '{readers.get('reader1')}' given for reader 1.")
    return tables


def fit_reliability_filter(tables: Mapping[str, pd.DataFrame], threshold: float, form: str):
    """The ICC filter fitted on the re-segmentation subset (inter- and intra-reader)."""
    from ..radiomics.selection import ReliabilityFilter

    if "reader2" not in tables:
        raise InputError("The reliability filter needs a second reader's segmentations (role 'reader2').")
    subset = tables["reader2"].index
    repeat = tables.get("repeat")
    return ReliabilityFilter(threshold=threshold, form=form).fit(
        tables["reader1"].loc[subset], tables["reader2"], repeat.loc[subset] if repeat is not None else None
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
):
    """The leakage-free pipeline (z-score -> ComBat -> mRMR -> LASSO) fitted on training only."""
    from ..radiomics.pipeline import make_radiomics_pipeline

    pipeline = make_radiomics_pipeline(
        k=min(k, features.shape[1]),
        batch_labels=batch,
        lambda_rule=lambda_rule,
        cv=cv,
        n_repeats=n_repeats,
        random_state=seed,
    )
    return pipeline.fit(features[training.to_numpy()], y[training.to_numpy()])


def signature_summary(pipeline) -> pd.DataFrame:
    """Non-zero rad-score coefficients (harmonised z-scored features) in mRMR order."""
    lasso = pipeline.named_steps["lasso"]
    coefficients = lasso.coef_[lasso.coef_ != 0]
    return pd.DataFrame({"feature": coefficients.index, "coefficient": coefficients.to_numpy()})


#: The signatures of design B: name -> the sequences whose features enter it.
SIGNATURES = {"T1 signature": ("T1",), "FS-T2 signature": ("FS-T2",)}
COMBINED_SIGNATURE = "Combined signature"


@dataclass(frozen=True)
class Signature:
    """A fitted rad-score: its pipeline, feature columns, and score and probability of every patient."""

    pipeline: object
    columns: tuple[str, ...]
    rad_score: pd.Series
    probability: pd.Series

    def formula(self) -> str:
        return self.pipeline.named_steps["lasso"].formula()


def fit_signatures(
    features: pd.DataFrame, y: pd.Series, batch: pd.Series, training: pd.Series, sequences: Sequence[str], **fit_options
) -> dict[str, Signature]:
    """One signature per sequence of :data:`SIGNATURES` present, and the combined one of every sequence.

    ``features`` are the reliable reader-1 features (columns ``<sequence>_<feature>``);
    ``fit_options`` go to :func:`fit_signature` (k, lambda_rule, cv, n_repeats, seed).
    """
    wanted = {**SIGNATURES, COMBINED_SIGNATURE: tuple(sequences)}
    signatures = {}
    for name, signature_sequences in wanted.items():
        if not set(signature_sequences) <= set(sequences):
            continue
        columns = tuple(column for column in features.columns if column.split("_", 1)[0] in signature_sequences)
        selected = features[list(columns)]
        pipeline = fit_signature(selected, y, batch, training, **fit_options)
        signatures[name] = Signature(
            pipeline=pipeline,
            columns=columns,
            rad_score=pd.Series(pipeline.decision_function(selected), index=features.index),
            probability=pd.Series(pipeline.predict_proba(selected)[:, 1], index=features.index),
        )
    return signatures
