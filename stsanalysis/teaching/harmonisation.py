"""A scanner (batch) effect on radiomic features, and what ComBat does to it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..errors import InputError
from ..radiomics.harmonization import ComBat
from ..validation import require_columns
from .discretisation import variance_explained

TRAINING = "training"
TEST = "test"


@dataclass(frozen=True)
class ScannerEffectData:
    """Simulated features with a scanner effect.

    ``features``: patients x features (index ``patient_id``); ``patients``: one row per
    patient with ``scanner``, ``outcome`` (0/1) and ``set`` ("training" or "test"), same index.
    ``informative``: the features whose mean depends on the outcome.
    """

    features: pd.DataFrame
    patients: pd.DataFrame
    informative: list[str]


def scanner_effect(
    n_patients: int = 180,
    n_features: int = 30,
    n_scanners: int = 3,
    n_informative: int = 5,
    outcome_effect: float = 1.0,
    scanner_shift: float = 1.5,
    scanner_scale: float = 0.5,
    test_fraction: float = 0.3,
    seed: int = 0,
) -> ScannerEffectData:
    """Radiomic-like features of patients imaged on ``n_scanners`` scanners.

    Each feature is a patient-level biological value (standard normal, shared partly
    across features through one latent factor, as radiomic features correlate), plus
    ``outcome_effect`` SDs for patients with the outcome in the first ``n_informative``
    features, then distorted by the patient's scanner: an additive shift drawn per scanner
    and feature with SD ``scanner_shift`` and a multiplicative factor exp(N(0,
    ``scanner_scale``)) — the location/scale batch effect ComBat models. Patients are
    assigned to scanners in turn and the outcome at random (half positive), so scanner and
    outcome are independent; ``test_fraction`` of each scanner's patients form the test set.
    """
    if not (isinstance(n_scanners, (int, np.integer)) and n_scanners >= 2):
        raise InputError(f"'n_scanners' must be an integer of at least 2; got {n_scanners!r}.")
    if not (isinstance(n_patients, (int, np.integer)) and n_patients >= 10 * n_scanners):
        raise InputError(f"'n_patients' must be at least 10 per scanner ({10 * n_scanners}); got {n_patients!r}.")
    if not (isinstance(n_features, (int, np.integer)) and 2 <= n_features):
        raise InputError(f"'n_features' must be an integer of at least 2; got {n_features!r}.")
    if not 0 <= n_informative <= n_features:
        raise InputError(f"'n_informative' must be between 0 and n_features ({n_features}); got {n_informative!r}.")
    if not 0 < test_fraction < 1:
        raise InputError(f"'test_fraction' must be between 0 and 1; got {test_fraction!r}.")
    rng = np.random.default_rng(seed)
    index = pd.Index([f"P{i + 1:03d}" for i in range(n_patients)], name="patient_id")
    scanner_names = np.array([f"Scanner {chr(ord('A') + s)}" for s in range(n_scanners)])
    scanner_index = np.arange(n_patients) % n_scanners
    outcome = rng.permutation(np.repeat([0, 1], [n_patients - n_patients // 2, n_patients // 2]))

    latent = rng.standard_normal((n_patients, 1))
    biology = 0.6 * latent + 0.8 * rng.standard_normal((n_patients, n_features))
    biology[:, :n_informative] += outcome_effect * outcome[:, None]
    shift = rng.normal(0.0, scanner_shift, (n_scanners, n_features))
    scale = np.exp(rng.normal(0.0, scanner_scale, (n_scanners, n_features)))
    measured = biology * scale[scanner_index] + shift[scanner_index]

    names = [f"feature_{j + 1:02d}" for j in range(n_features)]
    _, test_rows = train_test_split(np.arange(n_patients), test_size=test_fraction, stratify=scanner_index, random_state=seed)
    sets = np.full(n_patients, TRAINING, dtype=object)
    sets[test_rows] = TEST
    patients = pd.DataFrame({"scanner": scanner_names[scanner_index], "outcome": outcome, "set": sets}, index=index)
    return ScannerEffectData(pd.DataFrame(measured, index=index, columns=names), patients, names[:n_informative])


def harmonise(data: ScannerEffectData, **combat_options) -> tuple[ComBat, pd.DataFrame]:
    """Fit :class:`~stsanalysis.radiomics.harmonization.ComBat` on the training patients and
    apply it, unchanged, to all patients. Returns the fitted ComBat and the harmonised features."""
    training = data.patients["set"] == TRAINING
    combat = ComBat(**combat_options).fit(data.features[training], data.patients.loc[training, "scanner"])
    return combat, combat.transform(data.features, data.patients["scanner"])


def principal_components(features: pd.DataFrame, fit_rows=None, n_components: int = 2) -> pd.DataFrame:
    """Scores on the first principal components of the z-scored features.

    Scaling and PCA are fitted on ``fit_rows`` (a boolean mask; default all rows) and
    applied to every row. Columns ``pc1``, ``pc2``, ...; ``attrs["explained_variance_ratio"]``.
    """
    fit_rows = np.ones(len(features), dtype=bool) if fit_rows is None else np.asarray(fit_rows, dtype=bool)
    scaler = StandardScaler().fit(features[fit_rows])
    pca = PCA(n_components=n_components).fit(scaler.transform(features[fit_rows]))
    scores = pd.DataFrame(
        pca.transform(scaler.transform(features)),
        index=features.index,
        columns=[f"pc{i + 1}" for i in range(n_components)],
    )
    scores.attrs["explained_variance_ratio"] = pca.explained_variance_ratio_.tolist()
    return scores


def harmonisation_summary(before: pd.DataFrame, after: pd.DataFrame, patients: pd.DataFrame, informative) -> pd.DataFrame:
    """How much of the features' variance the scanner and the outcome explain, before and after.

    One row per set (training, test) and stage (before, after ComBat): ``median_scanner_share``
    (median over all features of the variance explained by the scanner, eta squared) and
    ``median_outcome_share`` (median over the ``informative`` features of the variance
    explained by the outcome: the biology that must survive harmonisation).
    """
    require_columns(patients, ["scanner", "outcome", "set"], "patients")
    rows = []
    for set_name in (TRAINING, TEST):
        selected = patients["set"] == set_name
        for stage, features in (("before ComBat", before), ("after ComBat", after)):
            chosen = features[selected]
            rows.append(
                {
                    "set": set_name,
                    "stage": stage,
                    "n_patients": int(selected.sum()),
                    "median_scanner_share": variance_explained(chosen, patients.loc[selected, "scanner"]).median(),
                    "median_outcome_share": variance_explained(chosen[list(informative)], patients.loc[selected, "outcome"]).median(),
                }
            )
    return pd.DataFrame(rows)


def before_after(before: pd.DataFrame, after: pd.DataFrame, patients: pd.DataFrame, feature: str) -> pd.DataFrame:
    """One feature before and after harmonisation with the patients' scanner, outcome and set."""
    if feature not in before.columns:
        raise InputError(f"Feature {feature!r} not found; features: {list(before.columns[:5])} ...")
    return patients.assign(before=before[feature], after=after[feature]).reset_index()


def set_counts(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients per scanner and set (and with the outcome), one row per scanner."""
    require_columns(patients, ["scanner", "set", "outcome"], "patients")
    table = pd.crosstab(patients["scanner"], patients["set"]).reindex(columns=[TRAINING, TEST], fill_value=0)
    table["with_outcome"] = patients.groupby("scanner")["outcome"].sum()
    return table.reset_index().rename_axis(columns=None)
