"""Steps 7-10 of the survival-model study: every model's predictions judged in each set.

Discrimination (Harrell's and Uno's C, time-dependent AUC over time and at each prediction
time, nomogram vs clinical model), calibration at each prediction time (grouped and smooth
in each set, bootstrap optimism-corrected on training), decision curves at each prediction
time, and the prediction error (Brier score, integrated Brier score). The tables, sentences
and figures of the report are views of these results; the statistics are those of
:mod:`stsanalysis.stats` (each checked against its R function).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..memo import cached_table
from ..stats.brier import brier_score, integrated_brier_score
from ..stats.calibration_survival import SurvivalCalibrationSummary, survival_calibration_summary
from ..stats.concordance import compare_concordance, uno_concordance
from ..stats.cox_validation import cox_calibrate, cox_validate
from ..stats.decision_curve import survival_decision_curve
from ..stats.time_dependent import TimeDependentAuc, compare_time_dependent_auc, time_dependent_auc
from .radiomics_features import Signature
from .radiomics_nomogram import Cohort
from .split import set_masks
from .survival import concordance_table as harrell_table
from .survival_model import (
    ClinicalCoxModel,
    CoxModel,
    NomogramCoxFit,
    informative_signatures,
    nomogram_signature_name,
    signature_cox_model,
    time_event,
)

#: Risk groups of the grouped calibration at each prediction time (rms::calibrate's m = n / groups).
CALIBRATION_GROUPS = 5
#: Points of the time grid of the AUC(t) curves.
AUC_GRID_POINTS = 40
#: How the Brier table names brier_score's "model" and "null model".
BRIER_MODELS = {"model": "Nomogram", "null model": "Null model (Kaplan-Meier)"}
#: Threshold probabilities of the decision curves (risk of an event by t): 1 % to 95 %.
DECISION_THRESHOLDS = tuple(t / 100 for t in range(1, 96))


def _outcome(cohort: Cohort) -> tuple[pd.Series, pd.Series]:
    outcome = time_event(cohort)
    return outcome.iloc[:, 0], outcome.iloc[:, 1]


# --------------------------------------------------------------------------------------
# The models' predictions, as steps 7-9 judge them
# --------------------------------------------------------------------------------------
CLINICAL_MODEL = "Clinical model"
NOMOGRAM = "Nomogram"
#: The stage comparator of the C-index and AUC tables (the endpoint's ``stage`` column, AJCC groups).
AJCC_STAGE = "AJCC stage"


def model_risks(
    cohort: Cohort, clinical_model: ClinicalCoxModel | None, signatures: Mapping[str, Signature], nomogram: NomogramCoxFit
) -> dict[str, pd.Series]:
    """Every model's risk score (higher = higher hazard): the clinical model's and the
    nomogram's linear predictors, each informative signature's rad-score and, when the
    endpoint names a ``stage`` column, the AJCC stage group as an ordinal (IA = 1 ... IV = 6)."""
    from .survival import ajcc_ordinal

    risks = {}
    if clinical_model is not None and clinical_model.model is not None:
        risks[CLINICAL_MODEL] = clinical_model.model.linear_predictor()
    risks.update({name: signature.rad_score for name, signature in informative_signatures(signatures).items()})
    risks[NOMOGRAM] = nomogram.linear_predictor()
    if cohort.survival.stage:
        risks[AJCC_STAGE] = ajcc_ordinal(cohort.clinical[cohort.survival.stage])
    return risks


def model_survival(
    cohort: Cohort, clinical_model: ClinicalCoxModel | None, signatures: Mapping[str, Signature], nomogram: NomogramCoxFit
) -> dict[str, pd.DataFrame]:
    """Predicted S(t) at the prediction times of the clinical model, of the nomogram's signature
    (a Cox model of its rad-score on training) and of the nomogram: the models of the decision curves."""
    times = list(cohort.survival.prediction_times)
    predicted = {}
    if clinical_model is not None and clinical_model.model is not None:
        predicted[CLINICAL_MODEL] = clinical_model.model.survival(times)
    name = nomogram_signature_name(signatures)
    if name is not None:
        predicted[name] = signature_cox_model(cohort, signatures[name]).survival(times)
    predicted[NOMOGRAM] = nomogram.cox.survival(times)
    return predicted


# --------------------------------------------------------------------------------------
# Step 7: discrimination
# --------------------------------------------------------------------------------------
def concordance_table(cohort: Cohort, risks: Mapping[str, pd.Series], tau: float) -> pd.DataFrame:
    """Harrell's C (``survival::concordance(..., reverse = TRUE)``) and Uno's C truncated at
    ``tau`` (``timewt = "n/G2", ymax = tau``), with 95 % CIs, of every risk score per set."""
    time, event = _outcome(cohort)
    table = harrell_table(time, event, risks, cohort.sets).rename(
        columns={"risk_score": "model", "c_index": "harrell_c", "ci_low": "harrell_ci_low", "ci_high": "harrell_ci_high"}
    )
    uno = [uno_concordance(time[mask], event[mask], risks[row.model][mask], tau=tau) for row, mask in _rows_and_masks(table, cohort)]
    table["uno_c"] = [result.c for result in uno]
    table["uno_ci_low"] = [result.ci_low for result in uno]
    table["uno_ci_high"] = [result.ci_high for result in uno]
    table["events"] = [int(event[mask].sum()) for _, mask in _rows_and_masks(table, cohort)]
    table.attrs["tau"] = tau
    return table[["set", "model", "harrell_c", "harrell_ci_low", "harrell_ci_high", "uno_c", "uno_ci_low", "uno_ci_high", "n", "events"]]


def _rows_and_masks(table: pd.DataFrame, cohort: Cohort):
    masks = set_masks(cohort.sets)
    return [(row, masks[row.set]) for row in table.itertuples()]


def auc_time_grid(time: np.ndarray, event: np.ndarray, n_points: int = AUC_GRID_POINTS, min_beyond: int = 10) -> np.ndarray:
    """Times of an AUC(t) curve: from the 5th event to the last time with ``min_beyond``
    patients still followed beyond it (AUC(t) needs cases before t and controls after it).

    >>> auc_time_grid(np.arange(1.0, 31.0), np.ones(30), n_points=3)
    array([ 5. , 12.5, 20. ])
    """
    event_times = np.sort(time[event == 1])
    start = event_times[min(4, event_times.size - 1)]
    ordered = np.sort(time)
    end = ordered[-min(min_beyond, ordered.size - 1) - 1]
    return np.linspace(start, end, n_points) if end > start else np.array([start])


def time_dependent_aucs(cohort: Cohort, risks: Mapping[str, pd.Series]) -> dict[str, dict[str, TimeDependentAuc]]:
    """AUC(t) of every risk score (``riskRegression::Score(..., metrics = "auc")``, IPCW with a
    Kaplan-Meier censoring model, influence-function CIs) per set, on the set's time grid
    (:func:`auc_time_grid`) together with the prediction times."""
    time, event = _outcome(cohort)
    times = np.asarray(cohort.survival.prediction_times)
    results = {}
    for set_name, mask in set_masks(cohort.sets).items():
        grid = np.union1d(auc_time_grid(time[mask].to_numpy(), event[mask].to_numpy()), times)
        results[set_name] = {name: time_dependent_auc(time[mask], event[mask], risk[mask], grid) for name, risk in risks.items()}
    return results


def auc_table(aucs: Mapping[str, Mapping[str, TimeDependentAuc]], times: Sequence[float]) -> pd.DataFrame:
    """AUC(t) with its 95 % CI, cases and controls, per set, model and prediction time."""
    rows = []
    for set_name, results in aucs.items():
        for model, result in results.items():
            at = result.table[result.table["time"].isin(list(times))]
            rows += [{"set": set_name, "model": model, **row} for row in at.to_dict("records")]
    return pd.DataFrame(rows)[["set", "model", "time", "auc", "ci_low", "ci_high", "n_cases", "n_controls"]]


def contrast_table(cohort: Cohort, risk_a: pd.Series, risk_b: pd.Series) -> pd.DataFrame:
    """Model a minus model b on the same patients, per set: Harrell's C (joint jackknife
    variance, as ``survival::concordance(fit_a, fit_b)``) and AUC(t) at each prediction time
    (``Score(..., contrasts = TRUE)``'s influence functions)."""
    time, event = _outcome(cohort)
    rows = []
    for set_name, mask in set_masks(cohort.sets).items():
        c = compare_concordance(time[mask], event[mask], risk_a[mask], risk_b[mask])
        rows.append(
            {
                "set": set_name,
                "measure": "Harrell's C",
                "model_a": c.c_a,
                "model_b": c.c_b,
                "difference": c.difference,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "p": c.p,
            }
        )
        auc = compare_time_dependent_auc(time[mask], event[mask], risk_a[mask], risk_b[mask], list(cohort.survival.prediction_times))
        for row in auc.table.itertuples():
            rows.append(
                {
                    "set": set_name,
                    "measure": f"AUC at {row.time:g} {cohort.survival.unit}",
                    "model_a": row.auc_a,
                    "model_b": row.auc_b,
                    "difference": row.difference,
                    "ci_low": row.ci_low,
                    "ci_high": row.ci_high,
                    "p": row.p,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# Step 8: calibration
# --------------------------------------------------------------------------------------
def calibration_by_set(cohort: Cohort, predicted_survival: pd.DataFrame) -> dict[str, SurvivalCalibrationSummary]:
    """Grouped (``rms::groupkm``) and smooth (Austin et al. 2020) calibration of the predicted
    S(t) at every prediction time (the columns of ``predicted_survival``), per set."""
    time, event = _outcome(cohort)
    return {
        set_name: survival_calibration_summary(time[mask], event[mask], predicted_survival[mask], groups=CALIBRATION_GROUPS)
        for set_name, mask in set_masks(cohort.sets).items()
    }


def calibration_metrics(calibrations: Mapping[str, SurvivalCalibrationSummary]) -> pd.DataFrame:
    """ICI, E50, E90 and Emax of |predicted - observed S(t)| per set and prediction time."""
    return pd.concat([summary.metrics.assign(set=name) for name, summary in calibrations.items()], ignore_index=True)[
        ["set", "time", "ici", "e50", "e90", "emax", "n", "n_event"]
    ]


def _training_frame(cox: CoxModel, cohort: Cohort) -> pd.DataFrame:
    survival = cohort.survival
    return cox.data.loc[cohort.training.to_numpy(), [*cox.covariates, survival.time, survival.event]]


def optimism_corrected_calibration(cox: CoxModel, cohort: Cohort, *, n_boot: int, seed: int, cache_dir=None) -> pd.DataFrame:
    """``rms::calibrate(cph, u = t, cmethod = "KM", m = n / groups, B = n_boot)`` of the model on
    the training set at every prediction time, stacked (first column ``time``); each time's
    table is kept in ``cache_dir`` (:func:`~stsanalysis.memo.cached_table`)."""
    data, survival = _training_frame(cox, cohort), cohort.survival
    covariates = list(cox.covariates)
    tables = [
        cached_table(
            cache_dir,
            "cox_calibrate",
            [data, covariates, t, n_boot, seed, CALIBRATION_GROUPS],
            lambda t=t: cox_calibrate(data, survival.time, survival.event, covariates, t, n_boot, seed, CALIBRATION_GROUPS).table,
        ).assign(time=t)
        for t in survival.prediction_times
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[["time", *(column for column in table.columns if column != "time")]]


def optimism_corrected_validation(cox: CoxModel, cohort: Cohort, *, n_boot: int, seed: int, cache_dir=None) -> pd.DataFrame:
    """``rms::validate(cph, B = n_boot)`` on the training set (Dxy, R2, slope, D, U, Q, g:
    apparent, optimism, corrected) with Harrell's C = Dxy / 2 + 0.5 added; kept in ``cache_dir``."""
    data, survival = _training_frame(cox, cohort), cohort.survival
    covariates = list(cox.covariates)
    table = cached_table(
        cache_dir,
        "cox_validate",
        [data, covariates, n_boot, seed],
        lambda: cox_validate(data, survival.time, survival.event, covariates, n_boot, seed).table,
    )
    dxy = table[table["index"] == "Dxy"].iloc[0]
    c_row = {"index": "C (Harrell)", **{column: dxy[column] / 2 + 0.5 for column in ("index_orig", "training", "test", "corrected")}}
    c_row["optimism"], c_row["n_boot"] = dxy["optimism"] / 2, dxy["n_boot"]
    return pd.concat([pd.DataFrame([c_row]), table], ignore_index=True)


# --------------------------------------------------------------------------------------
# Step 9: decision curves; step 10: risk groups and prediction error
# --------------------------------------------------------------------------------------
def decision_curves(cohort: Cohort, survival_by_model: Mapping[str, pd.DataFrame], set_name: str, *, n_boot: int, seed: int) -> dict:
    """Net benefit of treating by each model's risk of an event by t, 1 - S(t), at every
    prediction time in ``set_name`` (Vickers et al. 2008), with percentile bootstrap CIs."""
    time, event = _outcome(cohort)
    mask = set_masks(cohort.sets)[set_name]
    names = (cohort.survival.time, cohort.survival.event)
    return {
        t: survival_decision_curve(
            time[mask],
            event[mask],
            {name: 1 - predicted.loc[mask, t] for name, predicted in survival_by_model.items()},
            t,
            list(DECISION_THRESHOLDS),
            n_boot=n_boot,
            seed=seed,
            names=names,
        )
        for t in cohort.survival.prediction_times
    }


def risk_group_table(km_by_set: Mapping[str, tuple]) -> pd.DataFrame:
    """Per set and risk group: patients, events, median survival (95 % CI); the log-rank test per set."""
    rows = []
    for set_name, (km, logrank) in km_by_set.items():
        for row in km.median.itertuples():
            rows.append(
                {
                    "set": set_name,
                    "group": row.group,
                    "n": int(row.n),
                    "events": int(row.n_event),
                    "median": row.median,
                    "ci_low": row.ci_low,
                    "ci_high": row.ci_high,
                    "logrank_chisq": logrank.statistic,
                    "logrank_p": logrank.p,
                }
            )
    return pd.DataFrame(rows)


def brier_table(cohort: Cohort, predicted_survival: pd.DataFrame) -> pd.DataFrame:
    """IPCW Brier score (95 % CI) and index of prediction accuracy of the nomogram's predicted S(t)
    at every prediction time, with the null model's (Kaplan-Meier for everybody), per set
    (``riskRegression::Score(..., metrics = "brier", summary = "ipa")``)."""
    time, event = _outcome(cohort)
    times = list(cohort.survival.prediction_times)
    return pd.concat(
        [
            brier_score(time[mask], event[mask], predicted_survival.loc[mask, times], times)
            .table.assign(set=set_name)
            .replace({"model": BRIER_MODELS})
            for set_name, mask in set_masks(cohort.sets).items()
        ],
        ignore_index=True,
    )[["set", "model", "time", "brier", "ci_low", "ci_high", "ipa"]]


def integrated_brier_table(cohort: Cohort, cox: CoxModel) -> pd.DataFrame:
    """Integrated Brier score from 0 to the last prediction time (``pec::ibs`` on the set's
    event times), of the model and of the null model, per set."""
    time, event = _outcome(cohort)
    tau = float(cohort.survival.prediction_times[-1])
    first_training_event = float(cox.model.baseline_hazard["time"].iloc[0])
    rows = []
    for set_name, mask in set_masks(cohort.sets).items():
        event_times = np.unique(time[mask & (event == 1).to_numpy()])
        grid = np.append(event_times[(event_times >= first_training_event) & (event_times < tau)], tau)
        predicted = cox.model.predict_survival(cox.data[mask], grid)
        result = integrated_brier_score(time[mask], event[mask], predicted, grid, tau=tau)
        rows.append({"set": set_name, "tau": tau, "ibs": result.ibs, "null_ibs": result.null_ibs, "grid_points": int(grid.size)})
    return pd.DataFrame(rows)
