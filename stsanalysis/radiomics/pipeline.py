"""The leakage-free radiomics signature: z-score -> ComBat -> mRMR -> LASSO rad-score.

:func:`make_radiomics_pipeline` returns a scikit-learn Pipeline (LASSO logistic regression of
a binary outcome); :func:`make_survival_pipeline` the same steps ending in LASSO-Cox
regression of a survival outcome. ``fit`` on the training
centre estimates everything (scaling, batch effects, selected features, LASSO lambda and
coefficients) from the training patients only; ``predict_proba``/``decision_function`` on
the external centre only applies those estimates, patient by patient. The whole Pipeline
can be cross-validated inside the training set (``cross_val_score``), every fold refitting
every step.

ComBat needs the batch (scanner) of every patient, which a Pipeline does not pass: give it
as ``batch_labels``, a Series indexed by patient id, and keep the patient ids as the index
of the feature table (see :mod:`stsanalysis.radiomics.harmonization`). The batches of the
validation patients must occur in the training data (e.g. scanner models shared by the
centres); a centre with a scanner never seen in training cannot be harmonised without
using its own images, which is a separate, unsupervised step outside this Pipeline (fit
``ComBat(ref_batch=<training batch>)`` on the features, never the outcomes, of both
centres) and must be reported as such.

The three design-B signatures (T1, FS-T2, combined) are this Pipeline fitted on
``signature_features(features, ["T1"])``, ``[...["T2FS"]]`` and ``[..., ["T1", "T2FS"]]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import InputError
from .harmonization import ComBat
from .selection import MRMRSelector
from .signature import LassoRadScore


def make_radiomics_pipeline(
    k: int = 30,
    combat: bool = True,
    batch_labels: pd.Series | None = None,
    lambda_rule: str = "1se",
    cv=10,
    n_repeats: int = 1,
    relevance: str | None = None,
    random_state: int = 0,
    cache_dir=None,
    endpoint: str = "binary",
) -> Pipeline:
    """z-scoring -> ComBat -> mRMR (``k`` features) -> LASSO rad-score, as one Pipeline.

    Parameters
    ----------
    k
        Features kept by :class:`~stsanalysis.radiomics.selection.MRMRSelector`.
    combat, batch_labels
        Harmonise the batch effect with :class:`~stsanalysis.radiomics.harmonization.ComBat`
        (parametric, no covariates: the outcome of new patients is unknown); needs
        ``batch_labels``, a Series of batch per patient id (the index of X).
    lambda_rule, cv, n_repeats
        LASSO lambda by ``cv``-fold cross-validation of the deviance (as ``cv.glmnet``),
        "1se" (default: the sparser model within one SE) or "min".
    relevance
        mRMR relevance estimator: "mutual_info" (default for a binary endpoint) or
        "f_statistic"; "cox_score" (default for a survival endpoint), the univariable Cox
        score statistic.
    random_state
        Seed of the mRMR mutual-information estimator and of the LASSO folds.
    cache_dir
        Folder where mRMR keeps its relevance estimates and the LASSO its cross-validated deviance
        between runs (None: none).
    endpoint
        "binary": the last step is :class:`~stsanalysis.stats.radscore.LassoRadScore` (LASSO
        logistic regression, ``fit(X, y)`` with y 0/1). "survival": it is
        :class:`~stsanalysis.stats.cox_lasso.LassoCoxRadScore` (as ``cv.glmnet(family = "cox")``),
        ``fit(X, y)`` with y two columns, the survival time then the event (1 = event,
        0 = censored); its ``decision_function`` is the uncentred LASSO-Cox linear predictor
        (higher = higher hazard).
    """
    if endpoint not in ("binary", "survival"):
        raise InputError(f"'endpoint' must be 'binary' or 'survival'; got {endpoint!r}.")
    if endpoint == "binary":
        estimator = LassoRadScore
    else:
        from ..stats.cox_lasso import LassoCoxRadScore as estimator
    relevance = relevance or ("mutual_info" if endpoint == "binary" else "cox_score")
    lasso = estimator(lambda_rule=lambda_rule, cv=cv, n_repeats=n_repeats, random_state=random_state, cache_dir=cache_dir)
    return Pipeline(_selection_steps(k, combat, batch_labels, relevance, random_state, cache_dir) + [("lasso", lasso)])


def make_survival_pipeline(**options) -> Pipeline:
    """:func:`make_radiomics_pipeline` with ``endpoint="survival"``: z-scoring -> ComBat -> mRMR
    (Cox score relevance) -> LASSO-Cox rad-score; the same ``options``."""
    return make_radiomics_pipeline(endpoint="survival", **options)


def _selection_steps(k: int, combat: bool, batch_labels, relevance: str, random_state: int, cache_dir) -> list[tuple]:
    """The steps every signature shares before its LASSO: z-score, ComBat (optional), mRMR."""
    if combat and batch_labels is None:
        raise InputError(
            "combat=True needs 'batch_labels': a Series giving the batch (scanner/centre) of every "
            "patient, indexed like the rows of the feature table; or set combat=False."
        )
    steps = [("zscore", StandardScaler().set_output(transform="pandas"))]
    if combat:
        steps.append(("combat", ComBat(batch_labels=batch_labels)))
    steps.append(("mrmr", MRMRSelector(k=k, relevance=relevance, random_state=random_state, cache_dir=cache_dir)))
    return steps


def signature_features(features: pd.DataFrame, sequences: Sequence[str]) -> pd.DataFrame:
    """Wide feature table of the given sequences, one row per patient.

    ``features`` is the output of :func:`~stsanalysis.radiomics.extraction.extract_features`
    (index levels patient_id, sequence, and reader if present). Columns become
    ``<sequence>_<pyradiomics name>`` (e.g. ``T1_original_glcm_Contrast``), in the order of
    ``sequences``; the remaining index levels (patient_id, reader) stay. A patient missing
    one of the sequences gets NaN in its columns.
    """
    if isinstance(sequences, str):
        sequences = [sequences]
    if "sequence" not in (features.index.names or []):
        raise InputError(
            "'features' needs a 'sequence' index level (extract_features with a 'sequence' column "
            f"in the cases table); got index levels {list(features.index.names)}."
        )
    available = list(features.index.unique("sequence"))
    unknown = [sequence for sequence in sequences if sequence not in available]
    if unknown or not sequences:
        raise InputError(f"Sequence(s) {unknown or sequences} not in the features; available: {available}.")
    plain = pd.DataFrame(features)  # without attrs: pandas cannot reshape tables held in attrs
    plain.attrs = {}
    chosen = plain[plain.index.get_level_values("sequence").isin(sequences)]
    wide = chosen.unstack("sequence")
    wide = wide.reindex(columns=pd.MultiIndex.from_product([features.columns, sequences]))
    wide = wide.swaplevel(axis=1)[sequences]  # sequence-major column order
    wide.columns = [f"{sequence}_{feature}" for sequence, feature in wide.columns]
    wide.attrs = {"provenance": features.attrs.get("provenance"), "sequences": list(sequences)}
    return wide
