"""The fillers of the METRICS items (Kocak et al., Insights Imaging 2024;15:8): is each item met?

A METRICS item is scored yes or no, and a conditional item may not apply (e.g. item 9, the
evaluation of a fully automated segmentation, in a study segmented by hand). Each filler
here answers from a design-B run's :class:`~stsanalysis.report.facts.RunFacts` with
:func:`verdict` ("yes: <evidence>", "no: <reason>" or "not applicable: <reason>"), or None
when the run cannot judge, which leaves the item to the authors;
:func:`~stsanalysis.report.checklist.metrics_checklist` splits the answer into the ``met``
and ``value`` columns. ``checklists/metrics.csv`` names these fillers (``metrics_*``) and
:mod:`~stsanalysis.report.checklist_fillers` registers :data:`METRICS_FILLERS` into its
``FILLERS``.

The item weights live in ``checklists/metrics.csv``; their source is given in
``checklists/README.md`` (the paper's Table 1 and the METRICS web tool,
github.com/metricsscore/metrics, ``METRICS.html``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..stats.reliability import icc_form_name
from .checklist_fillers_tripod import training_events, validation_kind
from .facts import RunFacts
from .phrases import (
    count,
    describe_discretisation,
    describe_extraction_software,
    describe_feature_classes,
    describe_ibsi_compliance,
    describe_image_types,
    describe_normalisation,
    describe_resampling,
    extraction_params,
    join_words,
    number,
    voxel_size,
)

__all__ = ["METRICS_FILLERS", "MET", "NOT_MET", "DOES_NOT_APPLY", "verdict", "split_verdict"]

#: The answers of a METRICS item.
MET, NOT_MET, DOES_NOT_APPLY = "yes", "no", "not applicable"
_ANSWERS = (MET, NOT_MET, DOES_NOT_APPLY)

# Peduzzi et al. 1996: events per parameter the report's sample-size check asks for
_EVENTS_PER_PARAMETER = 10


def verdict(answer: str, reason: str) -> str:
    """An item's answer with its evidence: ``verdict("yes", "2 centres")`` -> "yes: 2 centres"."""
    return f"{answer}: {reason}"


def split_verdict(value: str) -> tuple[str, str]:
    """``(answer, reason)`` of a :func:`verdict`; a ValueError names the value when it is not one."""
    answer, _, reason = value.partition(": ")
    if answer not in _ANSWERS:
        raise ValueError(f"A METRICS filler must answer {' | '.join(_ANSWERS)} followed by ': <reason>'; got {value!r}.")
    return answer, reason


def _recorded(provenance: Mapping | None, *parts: str) -> Mapping | None:
    """The provenance, or None when it is absent or its feature table did not record one of ``parts``."""
    if provenance is None or set(parts) & set(provenance.get("not_recorded") or ()):
        return None
    return provenance


def multicentre(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if not facts.centres:
        return None
    answer = MET if len(facts.centres) > 1 else NOT_MET
    return verdict(answer, f"{len(facts.centres)} centre{'s' if len(facts.centres) > 1 else ''} ({join_words(facts.centres)})")


def segmentation(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.segmentation_method is None:
        return None
    software = f" ({facts.segmentation_software})" if facts.segmentation_software else ""
    readers = f"; {facts.n_readers} reader{'s' if facts.n_readers != 1 else ''}" if facts.n_readers else ""
    return verdict(MET, f"{facts.segmentation_method}{software}{readers}")


def automated_segmentation(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 9 applies to fully automated segmentation only; its evaluation is the authors' to report."""
    method = (facts.segmentation_method or "").lower()
    if "manual" in method or "semi" in method:
        return verdict(DOES_NOT_APPLY, f"segmentation {facts.segmentation_method}, not fully automated")
    return None


def preprocessing(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 11: intensity normalisation for MRI, resampling to isotropic voxels for 3D, discretisation stated."""
    provenance = _recorded(provenance, "setting")
    if provenance is None:
        return None
    modality = facts.modality or extraction_params(provenance).get("modality")
    normalisation = describe_normalisation(provenance)
    if modality == "MRI" and normalisation is None:
        return verdict(NOT_MET, "MRI intensities not normalised before extraction")
    size = voxel_size(provenance)
    if size is None or "original" in size:
        # whether the original voxels suit 3D texture features is the authors' to judge
        return None
    return verdict(
        MET, f"{normalisation or 'no intensity normalisation'}; {describe_resampling(provenance)}; {describe_discretisation(provenance)}"
    )


def extraction_software(facts: RunFacts, provenance: Mapping | None) -> str | None:
    provenance = _recorded(provenance, "software")
    if provenance is None:
        return None
    return verdict(MET, f"{describe_extraction_software(provenance)}; {describe_ibsi_compliance(provenance)}")


def extraction_parameters(facts: RunFacts, provenance: Mapping | None) -> str | None:
    provenance = _recorded(provenance, "setting", "imageType")
    if provenance is None:
        return None
    return verdict(
        MET,
        f"{describe_feature_classes(provenance)} features of {describe_image_types(provenance)}, "
        f"{describe_discretisation(provenance)}; the parameter file is shared and unlisted settings kept pyradiomics' defaults",
    )


def robust_features(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.reliability_assessed is False:
        return verdict(NOT_MET, "no repeat segmentations, so no reliability filter")
    if facts.icc_form is None or facts.icc_threshold is None:
        return None
    kinds = join_words([f"{kind}-reader" for kind in facts.icc_assessments or ()])
    kept = f"; {count(facts.n_features_reliable)} of {count(facts.n_features_tested)} kept" if facts.n_features_tested else ""
    return verdict(MET, f"{kinds} {icc_form_name(facts.icc_form)} > {number(facts.icc_threshold)}{kept}".strip())


def redundant_features(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if not facts.mrmr_k:
        return None
    lasso = " then LASSO" if facts.lasso_lambda_rule else ""
    return verdict(MET, f"mRMR (k = {facts.mrmr_k}) penalises redundancy between features{lasso}")


def dimensionality(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 16: met when every final model has 10 or more training events per parameter; else the authors' to argue."""
    events = training_events(facts)
    if events is None or not facts.n_selected_features:
        return None
    sizes = list(facts.n_selected_features.values())
    if facts.nomogram and facts.clinical_predictors:
        sizes.append(1 + len(facts.clinical_predictors))
    largest = max(max(sizes), 1)
    if events / largest < _EVENTS_PER_PARAMETER:
        return None
    return verdict(
        MET, f"{count(events)} training events for at most {largest} parameters per model ({events / largest:.1f} per parameter)"
    )


def end_to_end(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 17 applies to end-to-end deep learning only; stsanalysis models hand-crafted features."""
    if provenance is None and facts.n_features_per_sequence is None:
        return None
    return verdict(DOES_NOT_APPLY, "hand-crafted radiomic features, no end-to-end deep learning")


def partitioning(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 18: the split precedes every fitted step (design B fits everything on the training set)."""
    kind = validation_kind(facts)
    if kind is None or (kind == "internal validation" and not facts.seeds):
        return None
    rule = f" ({facts.split_rule})" if facts.split_rule else ""
    seeded = "; seeded" if facts.seeds else ""
    return verdict(
        MET, f"{kind} split{rule} before any fitting; scaling, ComBat, selection and models fitted on the training set only{seeded}"
    )


def performance_metrics(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if not facts.performance_metrics:
        return None
    return verdict(MET, join_words(facts.performance_metrics))


def uncertainty(facts: RunFacts, provenance: Mapping | None) -> str | None:
    parts = [f"95% CI of the AUC ({facts.auc_ci_method})"] if facts.auc_ci_method else []
    if facts.decision_curve and facts.decision_curve_n_boot:
        parts.append(f"bootstrap 95% CI of the net benefit ({count(facts.decision_curve_n_boot)} resamples)")
    return verdict(MET, "; ".join(parts)) if parts else None


def calibration(facts: RunFacts, provenance: Mapping | None) -> str | None:
    parts = [f"Hosmer-Lemeshow test ({facts.hosmer_lemeshow_groups} groups)"] if facts.hosmer_lemeshow_groups else []
    if facts.calibration_slope_intercept:
        parts.append("calibration slope and intercept")
    return verdict(MET, "calibration curves, " + join_words(parts)) if parts else None


def uniparametric(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 23: one sequence, or single-sequence signatures compared with the multi-sequence one."""
    if not facts.sequences:
        return None
    if len(facts.sequences) == 1:
        return verdict(MET, f"a single sequence ({facts.sequences[0]})")
    if facts.n_selected_features and len(facts.n_selected_features) > 1 and facts.model_comparison:
        names = join_words(list(facts.n_selected_features))
        return verdict(MET, f"signatures {names} compared ({facts.model_comparison})")
    return verdict(NOT_MET, f"{len(facts.sequences)} sequences combined without a single-sequence comparison")


def _clinical_comparison(facts: RunFacts) -> str | None:
    if facts.univariable_p_enter is None or not facts.model_comparison:
        return None
    return f"clinical model compared with the radiomic signatures and the nomogram ({facts.model_comparison})"


def non_radiomic(facts: RunFacts, provenance: Mapping | None) -> str | None:
    comparison = _clinical_comparison(facts)
    if comparison is None:
        return None
    return verdict(MET, comparison + ("; decision curve analysis" if facts.decision_curve else ""))


def classical_models(facts: RunFacts, provenance: Mapping | None) -> str | None:
    comparison = _clinical_comparison(facts)
    if comparison is None or not facts.lasso_lambda_rule:
        return None
    return verdict(MET, f"every model is a (penalised) logistic regression; {comparison}")


def internal_testing(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 26: a held-out set from the training data's source (a random or temporal split)."""
    kind = validation_kind(facts)
    if kind in ("internal validation", "temporal validation"):
        return verdict(MET, f"{kind} on held-out patients of the same source")
    if kind == "external validation":
        return verdict(NOT_MET, "no held-out set from the training centre (the validation set comes from another centre)")
    return None


def external_testing(facts: RunFacts, provenance: Mapping | None) -> str | None:
    kind = validation_kind(facts)
    if kind == "external validation":
        return verdict(MET, f"external validation on {facts.external_set}" if facts.external_set else kind)
    if kind in ("internal validation", "temporal validation"):
        return verdict(NOT_MET, f"{kind} only, no data from another institution")
    return None


def _available(name: str):
    """Items 28 and 29: met when the facts say where the data or code are."""

    def fill(facts: RunFacts, provenance: Mapping | None) -> str | None:
        where = getattr(facts, name)
        return verdict(MET, where) if where else None

    return fill


# filler name (the ``filler`` column of checklists/metrics.csv) -> filler
METRICS_FILLERS = {
    "metrics_multicentre": multicentre,
    "metrics_segmentation": segmentation,
    "metrics_automated_segmentation": automated_segmentation,
    "metrics_preprocessing": preprocessing,
    "metrics_extraction_software": extraction_software,
    "metrics_extraction_parameters": extraction_parameters,
    "metrics_robust_features": robust_features,
    "metrics_redundant_features": redundant_features,
    "metrics_dimensionality": dimensionality,
    "metrics_end_to_end": end_to_end,
    "metrics_partitioning": partitioning,
    "metrics_performance_metrics": performance_metrics,
    "metrics_uncertainty": uncertainty,
    "metrics_calibration": calibration,
    "metrics_uniparametric": uniparametric,
    "metrics_non_radiomic": non_radiomic,
    "metrics_classical_models": classical_models,
    "metrics_internal_testing": internal_testing,
    "metrics_external_testing": external_testing,
    "metrics_data": _available("data_availability"),
    "metrics_code": _available("code_availability"),
}
