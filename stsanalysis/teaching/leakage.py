"""Information leakage: feature selection outside versus inside cross-validation, on pure noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import InputError
from ..memo import cached_table
from ..radiomics.selection import MRMRSelector
from ..stats.roc import roc
from ..validation import binary_outcome

#: The two ways of cross-validating a signature that the lesson compares.
APPROACHES = {
    "selection before cross-validation (leaky)": True,
    "selection inside cross-validation (correct)": False,
}


def noise_features(n: int = 100, p: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """``n`` patients with ``p`` features and an outcome, all independent standard-normal noise.

    Returns ``(X, y)``: X with columns ``noise_0001`` ... and y (0/1, exactly ``n // 2``
    positives in random order), both indexed ``P001`` ... No feature carries any
    information about y: every honest estimate of a model's AUC should be near 0.5.
    """
    if not (isinstance(n, (int, np.integer)) and n >= 10):
        raise InputError(f"'n' must be an integer of at least 10; got {n!r}.")
    if not (isinstance(p, (int, np.integer)) and p >= 1):
        raise InputError(f"'p' must be a positive integer; got {p!r}.")
    rng = np.random.default_rng(seed)
    index = pd.Index([f"P{i + 1:03d}" for i in range(n)], name="patient_id")
    width = len(str(p))
    X = pd.DataFrame(rng.standard_normal((n, p)), index=index, columns=[f"noise_{j + 1:0{width}d}" for j in range(p)])
    y = pd.Series(rng.permutation(np.repeat([0, 1], [n - n // 2, n // 2])), index=index, name="outcome")
    return X, y


def signature_pipeline(k: int = 10, seed: int = 0) -> Pipeline:
    """z-score, :class:`~stsanalysis.radiomics.selection.MRMRSelector` (``k`` features,
    F-statistic relevance), then logistic regression (scikit-learn's default ridge penalty,
    C = 1): a small radiomics signature whose every step is fitted on the data it is given."""
    return Pipeline(
        [
            ("zscore", StandardScaler().set_output(transform="pandas")),
            ("mrmr", MRMRSelector(k=k, relevance="f_statistic", random_state=seed)),
            ("logistic", LogisticRegression()),
        ]
    )


def cross_validated_predictions(X: pd.DataFrame, y, *, select_first: bool, k: int = 10, folds: int = 5, seed: int = 0) -> pd.Series:
    """Out-of-fold predicted probabilities of :func:`signature_pipeline`.

    * ``select_first=False`` (correct): the whole Pipeline is refitted in each of the
      ``folds`` training folds, so the held-out patients never influence the selection.
    * ``select_first=True`` (the leak): mRMR picks ``k`` features on *all* patients
      first; the cross-validation then refits only z-score and logistic regression on
      those features. The held-out patients have already voted for the features that
      predict them.

    Folds are stratified and shuffled with ``seed``.
    """
    outcome = binary_outcome(y, "y", min_per_class=folds)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pipeline = signature_pipeline(k=k, seed=seed)
    if select_first:
        X = X[pipeline.named_steps["mrmr"].fit(X, outcome).selected_features_]
        pipeline.steps = [step for step in pipeline.steps if step[0] != "mrmr"]
    probabilities = cross_val_predict(pipeline, X, outcome, cv=splitter, method="predict_proba")[:, 1]
    return pd.Series(probabilities, index=X.index, name="probability")


def leakage_experiment(
    n: int = 100, p: int = 1000, k: int = 10, n_repeats: int = 10, folds: int = 5, seed: int = 0, cache_dir=None
) -> pd.DataFrame:
    """Cross-validated AUC of both approaches on ``n_repeats`` independent noise data sets.

    Data set ``r`` is :func:`noise_features` with seed ``(seed, r)``-derived; both
    approaches see the same data and folds. Returns one row per data set and approach:
    ``repeat``, ``approach``, ``auc`` (of the pooled out-of-fold predictions, higher
    probability = positive, as ``pROC::roc(direction = "<")``).

    The experiment is deterministic: with ``cache_dir`` its table is kept there
    (:func:`stsanalysis.memo.cached_table`, keyed on every argument) and a rebuild reads it back.
    """
    if not (isinstance(n_repeats, (int, np.integer)) and n_repeats >= 1):
        raise InputError(f"'n_repeats' must be a positive integer; got {n_repeats!r}.")

    def compute() -> pd.DataFrame:
        rows = []
        for repeat, repeat_seed in enumerate(np.random.SeedSequence(seed).generate_state(n_repeats), start=1):
            X, y = noise_features(n, p, seed=int(repeat_seed))
            for approach, select_first in APPROACHES.items():
                predictions = cross_validated_predictions(X, y, select_first=select_first, k=k, folds=folds, seed=int(repeat_seed))
                rows.append({"repeat": repeat, "approach": approach, "auc": roc(y, predictions, direction="<").auc})
        return pd.DataFrame(rows)

    return cached_table(cache_dir, "leakage_experiment", [n, p, k, n_repeats, folds, seed], compute)


def experiment_summary(experiment: pd.DataFrame) -> pd.DataFrame:
    """Per approach: ``n_repeats``, ``mean_auc``, ``min_auc``, ``max_auc`` of :func:`leakage_experiment`."""
    return (
        experiment.groupby("approach", sort=False)["auc"].agg(n_repeats="size", mean_auc="mean", min_auc="min", max_auc="max").reset_index()
    )


def leakage_predictions(X: pd.DataFrame, y, k: int = 10, folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """The outcome and the out-of-fold probabilities of both :data:`APPROACHES`, one row per patient.

    Columns ``outcome`` and one per approach (its name), ready for
    :func:`stsanalysis.stats.roc_table`.
    """
    table = pd.DataFrame({"outcome": binary_outcome(y, "y")}, index=X.index)
    for approach, select_first in APPROACHES.items():
        table[approach] = cross_validated_predictions(X, y, select_first=select_first, k=k, folds=folds, seed=seed)
    return table
