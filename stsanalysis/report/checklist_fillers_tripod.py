"""The fillers of the TRIPOD+AI items no other checklist asks (Collins et al., BMJ 2024;385:e078378).

``checklists/tripod_ai.csv`` names these fillers (``tripod_*``) beside the shared ones of
:mod:`~stsanalysis.report.checklist_fillers` (``data_split``, ``preprocessing``,
``class_balance``, ...), which registers :data:`TRIPOD_FILLERS` into its ``FILLERS``. Each is
a function ``(facts, provenance) -> str | None`` of a design-B run's
:class:`~stsanalysis.report.facts.RunFacts`; None leaves the item to the authors. What a run
cannot know (rationale, eligibility, dates, assessors, fairness) stays with the authors.

The helpers :func:`validation_kind`, :func:`training_set` and :func:`training_events` are
shared with the METRICS and RQS fillers.
"""

from __future__ import annotations

from collections.abc import Mapping

from .facts import RunFacts
from .phrases import count, counted, describe_extraction_software, describe_lambda_tuning, join_words, number

__all__ = ["TRIPOD_FILLERS", "THRESHOLD_METRICS", "validation_kind", "training_set", "training_events"]

#: Performance measures that need a probability cut-off (a predicted class).
THRESHOLD_METRICS = ("accuracy", "sensitivity", "specificity", "PPV", "NPV")

# how the evaluation set differs from the development set, per kind of validation
# (stsanalysis.studies.design.VALIDATION_NAMES)
_SOURCE_DIFFERENCE = {
    "external validation": "other centre(s) than the training set",
    "temporal validation": "a later period than the training set",
    "internal validation": "the same source as the training set (random split)",
}


def validation_kind(facts: RunFacts) -> str | None:
    """The kind of validation ("external validation", "temporal validation", ...), or None when unknown."""
    return facts.validation or ("external validation" if facts.external_set else None)


def training_set(facts: RunFacts) -> str | None:
    """The name of the training set in ``facts.n_patients``: "training", else the first set."""
    if not facts.n_patients:
        return None
    return "training" if "training" in facts.n_patients else next(iter(facts.n_patients))


def training_events(facts: RunFacts) -> int | None:
    """Events in the training set: the smaller outcome class, as the report's events-per-parameter check counts them.

    (:func:`stsanalysis.studies.radiomics_nomogram.events_per_parameter`, after Peduzzi et
    al. 1996.) None without the training set's counts.
    """
    name = training_set(facts)
    if name is None or not facts.n_positive or name not in facts.n_positive:
        return None
    positive = facts.n_positive[name]
    return min(positive, facts.n_patients[name] - positive)


def _per_set(facts: RunFacts, unit: str = "patients") -> str:
    return "; ".join(f"{name} set: {count(n)} {unit}" for name, n in facts.n_patients.items())


def data_sources(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 5a: the data and which part of it developed and evaluated the models."""
    if not facts.n_patients:
        return None
    origin = " ".join(part for part in (facts.study_nature, "data") if part)
    if facts.centres:
        origin += f" from {join_words(facts.centres)}"
    text = f"{origin}; {_per_set(facts)}"
    return text + (f" ({facts.split_rule})" if facts.split_rule else "")


def setting(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 6a: the number of centres (their location is the authors')."""
    if not facts.centres:
        return None
    return f"{counted(len(facts.centres), 'centre')}: {join_words(facts.centres)}"


def outcome(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 8a: the predicted outcome and, when the study has one, its time-to-event endpoint."""
    parts = [facts.outcome] if facts.outcome else []
    if facts.survival_endpoint:
        parts.append(f"time-to-event endpoint: {facts.survival_endpoint}")
    return "; ".join(parts) or None


def candidate_predictors(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 9a: the candidate predictors and their pre-selection before the model."""
    parts = []
    if facts.n_features_per_sequence:
        sequences = f" ({join_words(facts.sequences)})" if facts.sequences else ""
        parts.append(f"{count(facts.n_features_per_sequence)} radiomic features per sequence{sequences}")
    if facts.reliability_assessed is False:
        parts.append("no reliability pre-selection (no repeat segmentations)")
    elif facts.icc_form and facts.icc_threshold is not None:
        parts.append(f"pre-selected by reliability (ICC > {number(facts.icc_threshold)})")
    if facts.mrmr_k:
        parts.append(f"then mRMR ({facts.mrmr_k} features into LASSO)")
    if facts.univariable_p_enter is not None:
        parts.append(f"clinical factors screened by univariable logistic regression (p < {number(facts.univariable_p_enter)})")
    return ", ".join(parts) or None


def predictors(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 9b: how the predictors are defined (radiomic features, rad-score, clinical factors)."""
    parts = []
    if provenance is not None and "software" not in (provenance.get("not_recorded") or ()):
        parts.append(f"radiomic features as computed by {describe_extraction_software(provenance)}")
    if facts.lasso_lambda_rule:
        parts.append("rad-score: the LASSO linear predictor of the selected features")
    if facts.clinical_predictors:
        parts.append(f"clinical factors: {join_words(facts.clinical_predictors)}")
    return "; ".join(parts) or None


def sample_size(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 10: patients per set and the events per candidate parameter of the training set."""
    events = training_events(facts)
    if events is None:
        return None
    text = f"{_per_set(facts)}; {count(events)} events (the smaller outcome class) in the training set"
    if facts.mrmr_k:
        # the report's check (events_per_parameter) flags fewer than 10 (Peduzzi et al. 1996)
        text += (
            f": {events / facts.mrmr_k:.1f} events per candidate radiomic parameter ({facts.mrmr_k} mRMR features into LASSO; "
            "10 or more recommended)"
        )
    return text


def predictor_handling(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 12b: scaling, harmonisation and functional form of the predictors."""
    parts = []
    if facts.lasso_lambda_rule:
        # stsanalysis.radiomics.pipeline: z-score -> ComBat -> mRMR -> LASSO, fitted on training
        parts.append("radiomic features z-scored with the training set's means and SDs")
    if facts.combat_batch:
        fitted = f", fitted on {facts.combat_fitted_on}" if facts.combat_fitted_on else ""
        parts.append(f"ComBat harmonisation of the {facts.combat_batch} effect{fitted}")
    if facts.nomogram:
        parts.append("the rad-score enters the nomogram as a linear term")
    return "; ".join(parts) or None


def model_building(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 12c: model types and every model-building step, with the tuning of λ."""
    parts = []
    if facts.lasso_lambda_rule:
        selection = f"mRMR (k = {facts.mrmr_k}) then " if facts.mrmr_k else ""
        parts.append(f"radiomic signatures: {selection}LASSO logistic regression ({describe_lambda_tuning(facts)})")
    if facts.univariable_p_enter is not None:
        p = number(facts.univariable_p_enter)
        parts.append(f"clinical model: univariable then multivariable logistic regression (p < {p})")
    if facts.nomogram:
        parts.append("nomogram: logistic regression of the rad-score and the clinical factors")
    if not parts:
        return None
    return "; ".join(parts) + "; every model fitted on the training set only"


def heterogeneity(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 12d: the centre (or scanner) effect, harmonised and shown per set."""
    parts = []
    if facts.combat_batch:
        parts.append(f"{facts.combat_batch} effect on the features removed by ComBat")
    if validation_kind(facts) == "external validation":
        parts.append("performance reported separately for the training centre and the external centre(s); no pooled heterogeneity estimate")
    return "; ".join(parts) or None


def performance_measures(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 12e: measures and plots of discrimination, calibration, clinical utility and comparison."""
    parts = []
    if facts.performance_metrics:
        ci = f" ({facts.auc_ci_method} 95% CI of the AUC)" if facts.auc_ci_method else ""
        parts.append(f"discrimination: ROC curves, {join_words(facts.performance_metrics)}{ci}")
    calibration = ["calibration curves"]
    if facts.hosmer_lemeshow_groups:
        calibration.append(f"Hosmer-Lemeshow test ({facts.hosmer_lemeshow_groups} groups)")
    if facts.calibration_slope_intercept:
        calibration.append("calibration slope and intercept")
    if len(calibration) > 1:
        parts.append(f"calibration: {join_words(calibration)}")
    if facts.decision_curve:
        parts.append("clinical utility: decision curve analysis")
    if facts.model_comparison:
        parts.append(f"comparison: {facts.model_comparison}")
    if facts.survival_endpoint:
        parts.append(f"{facts.survival_endpoint}: Kaplan-Meier curves, log-rank test, Harrell's C-index")
    return "; ".join(parts) or None


def model_updating(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Items 12f and 24: design B updates no model; every model is applied unchanged."""
    if validation_kind(facts) is None:
        return None
    return "none: every model was applied unchanged (no recalibration) to the validation set"


def prediction_calculation(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 12g: how the validation set's predictions were computed."""
    if validation_kind(facts) is None or not (facts.lasso_lambda_rule or facts.nomogram):
        return None
    text = "from the training set's fitted formulas (z-scoring, ComBat and LASSO coefficients of the rad-score; nomogram coefficients)"
    if facts.software and "stsanalysis" in facts.software:
        text += f", computed by stsanalysis {facts.software['stsanalysis']}"
    return text


def class_imbalance(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 13: design B neither resamples nor weights the classes (their counts: item 21)."""
    if not (facts.lasso_lambda_rule or facts.nomogram or facts.univariable_p_enter is not None):
        return None
    return "no class-imbalance method: the models were fitted on the training set's observed classes (no resampling or class weights)"


def model_output(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 15: predicted probabilities and, for the threshold measures, predicted classes."""
    if not (facts.lasso_lambda_rule or facts.nomogram or facts.univariable_p_enter is not None):
        return None
    text = f"predicted probability of {facts.outcome}" if facts.outcome else "predicted probability of the outcome"
    thresholds = [metric for metric in facts.performance_metrics or () if metric in THRESHOLD_METRICS]
    if thresholds:
        text += f"; predicted classes at a probability cut-off for {join_words(thresholds)}"
    return text


def training_versus_evaluation(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 16: where the evaluation data come from, compared with the development data."""
    kind = validation_kind(facts)
    if kind is None:
        return None
    source = f"the validation set comes from {_SOURCE_DIFFERENCE[kind]}" if kind in _SOURCE_DIFFERENCE else kind
    if facts.external_set:
        source = f"external validation on {facts.external_set}"
    rule = f": {facts.split_rule}" if facts.split_rule else ""
    return f"{source}{rule}; the same outcome definition and predictors in both sets"


def model_specification(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 22: the full model as the report gives it."""
    parts = []
    if facts.lasso_lambda_rule:
        parts.append("the rad-score formula (intercept and LASSO coefficients of the selected features)")
    if facts.nomogram:
        parts.append("the nomogram with its logistic coefficients")
    if not parts:
        return None
    text = " and ".join(parts)
    return text + (f"; code: {facts.code_availability}" if facts.code_availability else "")


def performance_results(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 23a: the performance estimates per set with their confidence intervals."""
    if not facts.performance_metrics:
        return None
    text = f"{join_words(facts.performance_metrics)} per model and set"
    if facts.auc_ci_method:
        text += f", AUC with {facts.auc_ci_method} 95% CI"
    if facts.decision_curve and facts.decision_curve_n_boot:
        text += f"; net benefit with bootstrap 95% CI ({count(facts.decision_curve_n_boot)} resamples)"
    if facts.survival_endpoint:
        text += f"; Harrell's C-index (95% CI) for {facts.survival_endpoint}"
    return text


# filler name (the ``filler`` column of checklists/tripod_ai.csv) -> filler
TRIPOD_FILLERS = {
    "missing_data": lambda facts, provenance: facts.missing_data,
    "tripod_data_sources": data_sources,
    "tripod_setting": setting,
    "tripod_outcome": outcome,
    "tripod_candidate_predictors": candidate_predictors,
    "tripod_predictors": predictors,
    "tripod_sample_size": sample_size,
    "tripod_predictor_handling": predictor_handling,
    "tripod_model_building": model_building,
    "tripod_heterogeneity": heterogeneity,
    "tripod_performance_measures": performance_measures,
    "tripod_model_updating": model_updating,
    "tripod_prediction_calculation": prediction_calculation,
    "tripod_class_imbalance": class_imbalance,
    "tripod_model_output": model_output,
    "tripod_training_vs_evaluation": training_versus_evaluation,
    "tripod_model_specification": model_specification,
    "tripod_performance_results": performance_results,
}
