"""Design B: the two-centre radiomics nomogram study (STUDIES.md, steps 1-11).

Every model is fitted on the training set only; the validation set only receives the
fitted estimates (scaling, ComBat, selected features, LASSO coefficients, the clinical and
nomogram coefficients, and the probability cut-off chosen on training).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..report.formatting import format_estimate, format_p_phrase
from ..stats.calibration import calibration_metrics, hosmer_lemeshow
from ..stats.roc import compare_rocs, roc
from ..stats.tables import table_one
from ..validation import require_columns

SET_ORDER = ("training", "validation")


def events_per_parameter(data: pd.DataFrame, outcome: str, candidates: Mapping[str, int], sets: pd.Series) -> pd.DataFrame:
    """The sample-size check before modelling: events per candidate parameter in training.

    ``candidates`` maps each model to its number of candidate parameters (e.g. clinical
    factors' degrees of freedom, radiomic features entering LASSO). The smaller class counts
    as "events" (Peduzzi et al. 1996); fewer than 10 per parameter is flagged.
    """
    training = data.loc[sets == "training", outcome]
    events = int(min(training.sum(), (1 - training).sum()))
    rows = [
        {"model": name, "candidate_parameters": int(count), "events": events, "events_per_parameter": events / count, "adequate": events / count >= 10}
        for name, count in candidates.items()
    ]
    return pd.DataFrame(rows)


def fixed_cutoffs(y: pd.Series, predictions: Mapping[str, pd.Series], sets: pd.Series) -> dict[str, float]:
    """Youden cut-off of each model's predicted probability, chosen on the training set."""
    training = (sets == "training").to_numpy()
    return {name: roc(y[training], p[training], direction="<").youden().threshold for name, p in predictions.items()}


def roc_by_set(y: pd.Series, predictions: Mapping[str, pd.Series], sets: pd.Series) -> dict[str, dict]:
    """``{set: {model: RocResult}}`` for the training and validation sets."""
    return {
        set_name: {name: roc(y[(sets == set_name).to_numpy()], p[(sets == set_name).to_numpy()], direction="<") for name, p in predictions.items()}
        for set_name in SET_ORDER
        if (sets == set_name).any()
    }


def discrimination_table(y: pd.Series, predictions: Mapping[str, pd.Series], sets: pd.Series) -> pd.DataFrame:
    """Step 7: AUC (95 % CI, DeLong) and accuracy, sensitivity, specificity, PPV, NPV at the
    training-set Youden cut-off, per model and set."""
    cutoffs = fixed_cutoffs(y, predictions, sets)
    rows = []
    for set_name, results in roc_by_set(y, predictions, sets).items():
        for name, result in results.items():
            at = result.at(cutoffs[name])
            rows.append(
                {
                    "model": name,
                    "set": set_name,
                    "auc": result.auc,
                    "ci_low": result.ci_low,
                    "ci_high": result.ci_high,
                    "cut_off": cutoffs[name],
                    "accuracy": at.accuracy,
                    "sensitivity": at.sensitivity,
                    "specificity": at.specificity,
                    "ppv": at.ppv,
                    "npv": at.npv,
                    "n": result.n_positive + result.n_negative,
                }
            )
    return pd.DataFrame(rows)


def discrimination_display(table: pd.DataFrame) -> pd.DataFrame:
    """The discrimination table as a manuscript prints it."""
    display = table[["model", "set"]].copy()
    display["auc"] = [format_estimate(a, lo, hi) for a, lo, hi in zip(table["auc"], table["ci_low"], table["ci_high"])]
    for column in ("accuracy", "sensitivity", "specificity", "ppv", "npv"):
        display[column] = (100 * table[column]).round(1)
    display["cut_off"] = table["cut_off"]
    return display


def delong_by_set(rocs_by_set: Mapping[str, Mapping]) -> pd.DataFrame:
    """Paired DeLong tests for every pair of models, per set."""
    return pd.concat(
        [compare_rocs(results).assign(set=set_name) for set_name, results in rocs_by_set.items()], ignore_index=True
    )[["set", "model_a", "model_b", "auc_a", "auc_b", "difference", "ci_low", "ci_high", "statistic", "p"]]


def calibration_by_set(y: pd.Series, probability: pd.Series, sets: pd.Series, groups: int = 10) -> pd.DataFrame:
    """Step 8: Hosmer-Lemeshow test and calibration intercept/slope/Brier per set."""
    rows = []
    for set_name in SET_ORDER:
        mask = (sets == set_name).to_numpy()
        if not mask.any():
            continue
        hl = hosmer_lemeshow(y[mask], probability[mask], groups=groups)
        metrics = calibration_metrics(y[mask], probability[mask])
        rows.append(
            {
                "set": set_name,
                "hl_statistic": hl.statistic,
                "hl_df": hl.df,
                "hl_p": hl.p,
                "calibration_intercept": metrics.intercept,
                "calibration_slope": metrics.slope,
                "brier": metrics.brier,
                "emax": metrics.emax,
            }
        )
    return pd.DataFrame(rows)


def table_one_by_set(data: pd.DataFrame, sets: pd.Series, outcome: str, variables: Sequence[str], categorical: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """Step 11: patient characteristics, low vs high grade, in each set."""
    require_columns(data, [outcome, *variables], "the clinical table")
    return {
        set_name: table_one(data.loc[(sets == set_name).to_numpy()], outcome, list(variables), categorical=list(categorical) or None)
        for set_name in SET_ORDER
        if (sets == set_name).any()
    }


def best_model_sentence(table: pd.DataFrame, set_name: str = "validation") -> str:
    subset = table[table["set"] == set_name]
    if subset.empty:
        raise InputError(f"No {set_name} set in the discrimination table.")
    best = subset.loc[subset["auc"].idxmax()]
    return (
        f"In the {set_name} set the {best['model']} discriminated best: AUC "
        f"{format_estimate(best['auc'], best['ci_low'], best['ci_high'])}, sensitivity {100 * best['sensitivity']:.1f} %, "
        f"specificity {100 * best['specificity']:.1f} % at the cut-off fixed on training."
    )


def calibration_sentence(table: pd.DataFrame, model: str) -> str:
    parts = [f"{row.set}: {format_p_phrase(row.hl_p)}" for row in table.itertuples()]
    verdict = "no evidence of miscalibration" if (table["hl_p"] >= 0.05).all() else "evidence of miscalibration in at least one set"
    return f"Hosmer-Lemeshow test of the {model} ({'; '.join(parts)}): {verdict} at the 5 % level."


def median_split(values: pd.Series, training: pd.Series) -> pd.Series:
    """Labels high/low at the training median (a cut-off that uses no outcome)."""
    threshold = float(np.median(values[training]))
    return pd.Series(np.where(values >= threshold, "high", "low"), index=values.index)
