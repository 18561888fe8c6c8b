"""Design B steps 7-9: each model's predictions judged per set, computed once.

``evaluate_models`` computes the ROC curves (with their bootstrap bands), the cut-offs
fixed on training, the calibration of one model and the decision curves; the tables,
sentences and figures of the report are views of that result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..errors import InputError
from ..report.formatting import format_estimate, format_p_phrase
from ..stats.calibration import CalibrationSummary, calibration_summary
from ..stats.decision_curve import decision_curve
from ..stats.delong import compare_rocs
from ..stats.roc import RocResult, roc
from .split import TRAINING, VALIDATION, set_masks

#: Threshold probabilities of the decision curves: 1 % to 95 %.
DECISION_THRESHOLDS = tuple(t / 100 for t in range(1, 96))


@dataclass(frozen=True)
class ModelEvaluation:
    """Every per-set judgement of the models of design B.

    ``rocs``: ``{set: {model: RocResult}}`` (with bootstrap bands when ``n_boot`` > 0);
    ``cutoffs``: each model's Youden cut-off on the training set, applied unchanged to the
    validation set; ``calibration``: ``{set: CalibrationSummary}`` of ``calibrated_model``;
    ``decision_curves``: ``{set: DataFrame}`` of the models in ``decision_models``.
    """

    rocs: Mapping[str, Mapping[str, RocResult]]
    cutoffs: Mapping[str, float]
    calibrated_model: str
    calibration: Mapping[str, CalibrationSummary]
    decision_curves: Mapping[str, pd.DataFrame]


def evaluate_models(
    y: pd.Series,
    predictions: Mapping[str, pd.Series],
    sets: pd.Series,
    *,
    calibrated_model: str,
    decision_models: Sequence[str],
    n_boot: int,
    seed: int,
    groups: int = 10,
) -> ModelEvaluation:
    """Compute steps 7-9 once: ROC per model and set, cut-offs, calibration, decision curves."""
    masks = set_masks(sets)
    if TRAINING not in masks:
        raise InputError("The evaluation needs a training set; no patient is in it.")
    rocs = {set_name: {name: _roc(y[mask], p[mask], n_boot, seed) for name, p in predictions.items()} for set_name, mask in masks.items()}
    return ModelEvaluation(
        rocs=rocs,
        cutoffs={name: result.youden().threshold for name, result in rocs[TRAINING].items()},
        calibrated_model=calibrated_model,
        calibration={
            set_name: calibration_summary(y[mask], predictions[calibrated_model][mask], groups=groups, n_boot=n_boot, seed=seed)
            for set_name, mask in masks.items()
        },
        decision_curves={
            set_name: decision_curve(
                y[mask],
                {name: predictions[name][mask] for name in decision_models if name in predictions},
                thresholds=list(DECISION_THRESHOLDS),
                n_boot=n_boot,
                seed=seed,
            )
            for set_name, mask in masks.items()
        },
    )


def _roc(y, p, n_boot: int, seed: int) -> RocResult:
    result = roc(y, p, direction="<")
    return result.with_band(n_boot, seed=seed) if n_boot > 0 else result


def discrimination_table(evaluation: ModelEvaluation) -> pd.DataFrame:
    """Step 7: AUC (95 % CI, DeLong) and accuracy, sensitivity, specificity, PPV, NPV at the
    training-set Youden cut-off, per model and set."""
    rows = []
    for set_name, results in evaluation.rocs.items():
        for name, result in results.items():
            cutoff = evaluation.cutoffs[name]
            at = result.at(cutoff)
            rows.append(
                {
                    "model": name,
                    "set": set_name,
                    "auc": result.auc,
                    "ci_low": result.ci_low,
                    "ci_high": result.ci_high,
                    "cut_off": cutoff,
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


def best_model_sentence(table: pd.DataFrame, set_name: str = VALIDATION) -> str:
    subset = table[table["set"] == set_name]
    if subset.empty:
        raise InputError(f"No {set_name} set in the discrimination table.")
    best = subset.loc[subset["auc"].idxmax()]
    return (
        f"In the {set_name} set the {best['model']} discriminated best: AUC "
        f"{format_estimate(best['auc'], best['ci_low'], best['ci_high'])}, sensitivity {100 * best['sensitivity']:.1f} %, "
        f"specificity {100 * best['specificity']:.1f} % at the cut-off fixed on training."
    )


def delong_by_set(evaluation: ModelEvaluation) -> pd.DataFrame:
    """Paired DeLong tests for every pair of models, per set."""
    return pd.concat([compare_rocs(results).assign(set=set_name) for set_name, results in evaluation.rocs.items()], ignore_index=True)[
        ["set", "model_a", "model_b", "auc_a", "auc_b", "difference", "ci_low", "ci_high", "statistic", "p"]
    ]


def calibration_table(evaluation: ModelEvaluation) -> pd.DataFrame:
    """Step 8: Hosmer-Lemeshow test and calibration intercept/slope/Brier per set."""
    rows = []
    for set_name, summary in evaluation.calibration.items():
        hl, metrics = summary.hosmer_lemeshow, summary.metrics
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


def calibration_sentence(table: pd.DataFrame, model: str) -> str:
    parts = [f"{row.set}: {format_p_phrase(row.hl_p)}" for row in table.itertuples()]
    verdict = "no evidence of miscalibration" if (table["hl_p"] >= 0.05).all() else "evidence of miscalibration in at least one set"
    return f"Hosmer-Lemeshow test of the {model} ({'; '.join(parts)}): {verdict} at the 5 % level."
