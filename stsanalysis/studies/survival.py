"""Design B step 10: progression-free survival by predicted group, grade and stage.

A model's predicted probability of high grade is turned into a group with the Youden
cut-off fixed on the training set (applied unchanged to the validation set); the C-index
of each risk score is compared with AJCC staging, as in the published design.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..report.formatting import format_estimate, format_p_phrase
from ..stats.logistic import logistic_regression
from ..stats.roc import roc
from ..stats.survival import compare_concordance, concordance_index, cox_regression
from ..validation import require_columns

#: AJCC 8th edition stage groups (trunk and extremity) in order, coded 1-6 for the C-index.
AJCC_ORDER = ("IA", "IB", "II", "IIIA", "IIIB", "IV")


def ajcc_ordinal(stage: pd.Series) -> pd.Series:
    """AJCC stage group as an ordered number (IA = 1 ... IV = 6); unknown labels are refused."""
    codes = stage.map({label: rank for rank, label in enumerate(AJCC_ORDER, start=1)})
    unknown = sorted(stage[codes.isna()].astype(str).unique())
    if unknown:
        raise InputError(f"AJCC stage column has unknown stage group(s) {unknown}; expected {list(AJCC_ORDER)}.")
    return codes.astype(float)


def split_sets(data: pd.DataFrame, centre_column: str, training_centre) -> pd.Series:
    """'training' for the training centre's patients, 'validation' for every other centre."""
    require_columns(data, [centre_column], "the cohort")
    if not (data[centre_column] == training_centre).any():
        raise InputError(f"No patient has {centre_column} = {training_centre!r}; the training centre must be one of {sorted(data[centre_column].unique().tolist())}.")
    return pd.Series(np.where(data[centre_column] == training_centre, "training", "validation"), index=data.index, name="set")


def clinical_model_groups(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    training: pd.Series,
) -> tuple[pd.Series, pd.Series, float]:
    """Fit the clinical logistic model on training, predict everyone, group by the training Youden cut-off.

    Returns (probability, group "predicted high"/"predicted low", cut-off).
    """
    model = logistic_regression(data.loc[training], outcome, list(predictors))
    probability = pd.Series(model.predict(data), index=data.index, name="probability")
    cutoff = roc(data.loc[training, outcome], probability[training], direction="<").youden()
    group = pd.Series(np.where(probability >= cutoff.threshold, "predicted high grade", "predicted low grade"), index=data.index, name="group")
    return probability, group, cutoff.threshold


def concordance_table(time: pd.Series, event: pd.Series, risks: Mapping[str, pd.Series], sets: pd.Series) -> pd.DataFrame:
    """Harrell's C (95 % CI) of each risk score in each set (higher risk = shorter PFS)."""
    rows = []
    for set_name in sorted(sets.unique()):
        mask = (sets == set_name).to_numpy()
        for name, risk in risks.items():
            result = concordance_index(time[mask], event[mask], risk[mask])
            rows.append({"set": set_name, "risk_score": name, "c_index": result.c, "se": result.se, "ci_low": result.ci_low, "ci_high": result.ci_high, "n": int(mask.sum())})
    return pd.DataFrame(rows)


def concordance_comparison(time: pd.Series, event: pd.Series, risk_a: pd.Series, risk_b: pd.Series, sets: pd.Series, names: tuple[str, str]) -> pd.DataFrame:
    """C of ``risk_a`` minus C of ``risk_b`` per set, with the U-statistic (jackknife) CI and p."""
    rows = []
    for set_name in sorted(sets.unique()):
        mask = (sets == set_name).to_numpy()
        result = compare_concordance(time[mask], event[mask], risk_a[mask], risk_b[mask])
        rows.append({"set": set_name, "comparison": f"{names[0]} vs {names[1]}", "difference": result.difference, "ci_low": result.ci_low, "ci_high": result.ci_high, "p": result.p})
    return pd.DataFrame(rows)


def combined_risk(data: pd.DataFrame, time: str, event: str, covariates: Sequence[str], training: pd.Series) -> pd.Series:
    """Linear predictor of a Cox model on ``covariates`` fitted on training, for every patient."""
    fit = cox_regression(data.loc[training], time, event, list(covariates))
    coefficients = fit.coefficients.set_index("term")["coef"]
    return pd.Series(data[list(covariates)].to_numpy(dtype=float) @ coefficients[list(covariates)].to_numpy(), index=data.index, name="combined")


def concordance_sentence(table: pd.DataFrame, set_name: str = "validation") -> str:
    subset = table[table["set"] == set_name]
    parts = [f"{row.risk_score} {format_estimate(row.c_index, row.ci_low, row.ci_high)}" for row in subset.itertuples()]
    return f"C-index for PFS in the {set_name} set: " + "; ".join(parts) + "."


def logrank_sentence(result, what: str) -> str:
    return f"PFS differed by {what}: log-rank χ² = {result.statistic:.2f}, df = {result.df}, {format_p_phrase(result.p)}."
