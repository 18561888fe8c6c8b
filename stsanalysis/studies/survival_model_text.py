"""The words of the survival-model report that depend on the study, and its methods paragraph.

Every heading or sentence that names the endpoint ("progression-free survival"), its unit,
the prediction times, the split or the models' results is written here from the run, so
no report of another endpoint says "PFS" or "months" where its config says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..report.formatting import format_estimate, format_interval, format_p_phrase
from ..report.phrases import count, join_words
from . import radiomics_nomogram
from .design import capitalised
from .radiomics_nomogram import Cohort, validation_sentence
from .split import VALIDATION


def _times(cohort: Cohort) -> str:
    return f"{join_words([f'{t:g}' for t in cohort.survival.prediction_times])} {cohort.survival.unit}"


def introduction(cohort: Cohort, sequences: Sequence[str]) -> str:
    """The report's title and first paragraph."""
    survival, split = cohort.survival, cohort.split
    signatures = f"LASSO-Cox signatures ({join_words([*sequences, 'combined'])})" if len(sequences) > 1 else "A LASSO-Cox signature"
    return (
        f"# Radiomics nomogram predicting {survival.label} (design B, survival endpoint)\n\n"
        f"{signatures}, a clinical Cox model and a Cox nomogram combining them predict {survival.label} at "
        f"{_times(cohort)}. Validation: {split.validation_name}, {split.describe()}; no step of the analysis sees the "
        "validation set while fitting. Every number is computed from the cohort named in the parameters when the report is built."
    )


def cohort_text(cohort: Cohort) -> str:
    """The paragraph above the table of patients, events and follow-up per set."""
    survival = cohort.survival
    missing = f" {cohort.missing.sentence()}" if cohort.missing else ""
    return (
        f"{capitalised(survival.label)}: time `{survival.time}` ({survival.unit}), event `{survival.event}` (1 = event, 0 = "
        f"censored). {validation_sentence(cohort)} Median follow-up by the reverse Kaplan-Meier method (censoring as the "
        f"event); at each prediction time, the events up to it and the patients still followed beyond it (the controls of "
        f"AUC(t)).{missing}"
    )


def signature_note(signatures: Mapping[str, object]) -> str | None:
    """Which signatures kept no feature (a rad-score of 0 for everybody), or None."""
    empty = [name for name, signature in signatures.items() if signature.rad_score.nunique() < 2]
    if not empty:
        return None
    return (
        f"{join_words(empty)} kept no feature at the chosen λ: its rad-score is 0 for every patient and carries no "
        "information. It is left out of the models and comparisons below; try `lambda_rule: min`, a larger `mrmr_k`, or "
        "accept that the features do not predict the endpoint."
    )


def _hazard_ratio(prefix: str, row) -> str:
    if getattr(row, f"{prefix}_diverged"):
        return "not estimable (monotone likelihood)"
    values = [getattr(row, f"{prefix}_{name}") for name in ("hazard_ratio", "ci_low", "ci_high")]
    if row.is_reference:
        return "1 (reference)"
    return format_estimate(*values, 2)


def screening_display(screen: pd.DataFrame) -> pd.DataFrame:
    """The Cox screen as a manuscript prints it: HR (95% CI) and p, univariable and multivariable
    (:func:`stsanalysis.studies.radiomics_nomogram.screening_display` with hazard ratios)."""
    return radiomics_nomogram.screening_display(screen, _hazard_ratio, "hr")


def screening_note(clinical_model) -> str:
    """The footnote of the step-5 table."""
    factors = join_words(clinical_model.factors) if clinical_model.factors else "none"
    return (
        f"Clinical model factors: {factors}. Text factors are coded as 0/1 dummies against their first level (the reference). "
        "p on a factor's reference row (and of a numeric factor): likelihood-ratio test of the whole factor; on a level's row: Wald test."
    )


def nomogram_text(cohort: Cohort, factors: Sequence[str], signature: str | None) -> str:
    """The paragraph of step 6."""
    predictors = join_words([*([f"the rad-score of the {signature}"] if signature else []), *factors]) or "no predictor"
    return (
        f"A Cox model (Efron ties, as `survival::coxph`) of {predictors}, fitted on the training set and drawn as a nomogram "
        f"(`rms::nomogram` of a `cph` fit): each predictor's value gives points (top scale); the total points give the "
        f"linear predictor and the predicted {cohort.survival.label} probability at {_times(cohort)} (bottom scales). "
        "Opened in JupyterLab, the calculator below the table takes a patient's values and shows the points and the survival "
        "at each time."
    )


def concordance_sentence(table: pd.DataFrame, set_name: str = VALIDATION) -> str:
    """Harrell's and Uno's C of every model in one set."""
    rows = table[table["set"] == set_name]
    parts = [
        f"{row.model} {format_estimate(row.harrell_c, row.harrell_ci_low, row.harrell_ci_high)} (Uno "
        f"{format_estimate(row.uno_c, row.uno_ci_low, row.uno_ci_high)})"
        for row in rows.itertuples()
    ]
    return f"Harrell's C in the {set_name} set: " + "; ".join(parts) + f". Uno's C truncated at {table.attrs.get('tau', np.nan):g}."


def contrast_sentence(table: pd.DataFrame, names: tuple[str, str], set_name: str = VALIDATION) -> str:
    """The nomogram vs the clinical model in one set, from :func:`~stsanalysis.studies.survival_evaluation.contrast_table`."""
    rows = table[table["set"] == set_name]
    parts = [
        f"{row.measure} {row.difference:+.3f} ({format_interval(row.ci_low, row.ci_high)}, {format_p_phrase(row.p)})"
        for row in rows.itertuples()
    ]
    return f"{names[0]} minus {names[1]} in the {set_name} set (95 % CI, p): " + "; ".join(parts) + "."


def calibration_sentence(metrics: pd.DataFrame, unit: str) -> str:
    """ICI of the nomogram at each time and set."""
    parts = [f"{row.set} {row.time:g} {unit}: {row.ici:.3f}" for row in metrics.itertuples()]
    return (
        "Integrated calibration index (mean |predicted − observed S(t)|, 0 = perfect): " + "; ".join(parts) + ". Smooth curves "
        "by a Cox model on a restricted cubic spline (3 knots) of log(−log S(t)) (Austin, Harrell & van Klaveren 2020)."
    )


def risk_group_text(cohort: Cohort, cutoff: float) -> str:
    """The paragraph of step 10."""
    survival = cohort.survival
    return (
        f"## Step 10: {survival.label} by nomogram risk group\n\n"
        f"Patients whose nomogram linear predictor is at or above {cutoff:.3f} ({survival.risk_groups.describe()}, fixed on "
        f"the training set and applied unchanged to the validation set; `survival.risk_groups`) form the high-risk group. "
        f"Kaplan-Meier curves of {survival.label} per group with pointwise 95 % CIs and numbers at risk, the log-rank test, "
        f"and the prediction error of the nomogram: the IPCW Brier score at {_times(cohort)} against the null model "
        "(the Kaplan-Meier estimate for everybody), the index of prediction accuracy (IPA = 1 − Brier / null Brier) and the "
        "integrated Brier score up to the last prediction time."
    )


def _cohort_sentence(cohort: Cohort, follow_up: pd.DataFrame) -> str:
    per_set = "; ".join(
        f"{row.set} set, n = {count(row.n)}, {count(row.events)} events, median follow-up {row.median_follow_up:.1f} {cohort.survival.unit}"
        for row in follow_up.itertuples()
    )
    missing = f" {cohort.missing.sentence()}" if cohort.missing else ""
    return (
        f"The endpoint was {cohort.survival.label} ({per_set}; median follow-up by the reverse Kaplan-Meier method). "
        f"Models were fitted on the training set and tested unchanged on the validation set "
        f"({cohort.split.validation_name}: {cohort.split.describe()}).{missing}"
    )


def _model_sentences(cohort: Cohort, run: Mapping) -> list[str]:
    selected = "; ".join(f"{name}, {n}" for name, n in run["n_selected_features"].items())
    rule = {"1se": "the largest λ within one standard error of the minimum", "min": "the λ of minimum deviance"}
    factors = join_words(run["clinical_factors"]) or "none"
    return [
        f"On the training set, minimum-redundancy maximum-relevance (mRMR) selection, with relevance by the univariable Cox "
        f"score statistic, kept {run['mrmr_k']} features per signature; LASSO-Cox regression (R glmnet::cv.glmnet, family = "
        f'"cox", {run["cv_folds"]}-fold cross-validation of the partial-likelihood deviance, repeated {run["cv_repeats"]} '
        f"time(s), {rule.get(run['lambda_rule'], run['lambda_rule'])}) defined each rad-score as the weighted sum of the "
        f"features with non-zero coefficients (features in the signatures: {selected}).",
        f"Clinical factors with p < {run['p_enter']:g} (likelihood-ratio test) in univariable Cox regression (survival::coxph, "
        f"Efron ties; text factors as dummies against their first level) entered a multivariable model; those with p < "
        f"{run['p_enter']:g} there formed the clinical model ({factors}).",
        f"A Cox nomogram (rms::cph, rms::nomogram) combined {join_words(run['nomogram_predictors'])} and predicted "
        f"{cohort.survival.label} at {_times(cohort)}.",
    ]


def _evaluation_sentences(cohort: Cohort, run: Mapping) -> list[str]:
    tau = cohort.survival.prediction_times[-1]
    return [
        "Discrimination was measured by Harrell's C (survival::concordance, infinitesimal-jackknife 95% CI) and Uno's C "
        f'truncated at {tau:g} {cohort.survival.unit} (timewt = "n/G2"), and by the cumulative/dynamic time-dependent AUC with '
        "inverse probability of censoring weights (riskRegression::Score, Kaplan-Meier censoring model, influence-function 95% "
        "CI) over time and at each prediction time; the nomogram and the clinical model were compared on the same patients "
        "with their joint jackknife (C) and influence-function (AUC) variances.",
        "Calibration at each prediction time was assessed by the Kaplan-Meier survival of "
        f"{run['calibration_groups']} risk groups (rms::groupkm, the groups of rms::calibrate) and smooth calibration curves "
        "(a Cox model on a restricted cubic spline of log(−log S(t)); Austin, Harrell & van Klaveren 2020) with the integrated "
        "calibration index (ICI, E50, E90, Emax); on the training set the grouped calibration and the model's indexes were "
        f"corrected for optimism with {count(run['n_boot_validation'])} bootstrap resamples (rms::calibrate, rms::validate; the "
        "rad-score held fixed).",
        f"Clinical utility at each prediction time was assessed by decision curve analysis for survival data (Vickers et al. "
        f"2008; net benefit from the Kaplan-Meier risk among the treated, as stdca) in the validation set, with percentile "
        f"bootstrap 95% CIs ({count(run['n_boot'])} resamples).",
        f"Patients were split into a low- and a high-risk group at {cohort.survival.risk_groups.describe()} of the nomogram (linear predictor "
        f"{run['cutoff']:.3f}, fixed on the training set); Kaplan-Meier curves (survival::survfit) were compared with the "
        "log-rank test (survival::survdiff). Prediction error was measured by the IPCW Brier score with the index of "
        "prediction accuracy (riskRegression::Score) and the integrated Brier score (pec::ibs).",
    ]


def methods_paragraph(cohort: Cohort, follow_up: pd.DataFrame, facts, run: Mapping) -> str:
    """The methods text of a survival-model run, paragraphs separated by blank lines.

    ``follow_up``: the cohort table (:func:`~stsanalysis.studies.survival_model.cohort_table`);
    ``facts``: the design-B :class:`~stsanalysis.report.facts.RunFacts` of the run (its
    extraction, reliability and harmonisation sentences are design B's); ``run``: mrmr_k,
    cv_folds, cv_repeats, lambda_rule, n_selected_features, p_enter, clinical_factors,
    nomogram_predictors, calibration_groups, n_boot, n_boot_validation, cutoff (:func:`run_summary`).
    """
    from ..report.methods import _extraction, _harmonisation, _paragraph, _reliability, _text, software_sentence

    return _text(
        [
            _cohort_sentence(cohort, follow_up),
            _extraction(facts),
            _paragraph([_reliability(facts), _harmonisation(facts)]),
            _paragraph(_model_sentences(cohort, run)),
            _paragraph(_evaluation_sentences(cohort, run)),
            software_sentence(facts.software, facts.seeds),
        ]
    )


def run_summary(
    *,
    signatures: Mapping,
    clinical_model,
    nomogram_fit,
    cutoff: float,
    mrmr_k: int,
    cv_folds: int,
    cv_repeats: int,
    lambda_rule: str,
    p_enter: float,
    n_boot: int,
    n_boot_validation: int,
) -> dict:
    """The settings and results of a run that :func:`methods_paragraph` writes (``run``)."""
    from .survival_evaluation import CALIBRATION_GROUPS

    rad_score = ["the rad-score"] if "rad_score" in nomogram_fit.cox.covariates else []
    return {
        "mrmr_k": mrmr_k,
        "cv_folds": cv_folds,
        "cv_repeats": cv_repeats,
        "lambda_rule": lambda_rule,
        "n_selected_features": {name: int((s.pipeline.named_steps["lasso"].coef_ != 0).sum()) for name, s in signatures.items()},
        "p_enter": p_enter,
        "clinical_factors": list(clinical_model.factors) if clinical_model else [],
        "nomogram_predictors": [*rad_score, *nomogram_fit.cox.factors],
        "calibration_groups": CALIBRATION_GROUPS,
        "n_boot": n_boot,
        "n_boot_validation": n_boot_validation,
        "cutoff": cutoff,
    }
