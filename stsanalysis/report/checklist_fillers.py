"""The named fillers of checklist items: how a run's facts become an item's value.

A checklist data file (``checklists/*.csv``) names one filler per item; :data:`FILLERS`
maps that name to a function ``(facts, provenance) -> str | None``. ``facts`` is the run's
:class:`~stsanalysis.report.facts.RunFacts`; ``provenance`` is the extraction provenance
(``extract_features(...).attrs["provenance"]``), or None when the run has none, in which
case the fillers that describe the extraction return None. None leaves the item "to be
completed by the authors". A filler is shared by every checklist that asks the same
question (CLEAR item 20 and IBSI item 48b both read :func:`readers`), so the checklists
always agree.

A new checklist reuses these names and adds a filler here only for a question no
checklist has asked yet. The fillers of TRIPOD+AI, METRICS and the RQS live in their own
modules (``checklist_fillers_tripod``, ``_metrics``, ``_rqs``) and are registered here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from ..stats.reliability import icc_form_name
from .checklist_fillers_metrics import METRICS_FILLERS
from .checklist_fillers_rqs import RQS_FILLERS
from .checklist_fillers_tripod import TRIPOD_FILLERS
from .facts import RunFacts
from .phrases import (
    count,
    counted,
    describe_aggregation,
    describe_discretisation,
    describe_distances,
    describe_extraction_software,
    describe_feature_classes,
    describe_ibsi_compliance,
    describe_image_types,
    describe_lambda_tuning,
    describe_normalisation,
    describe_resampling,
    extraction_params,
    extraction_setting,
    interpolator_name,
    join_words,
    number,
    voxel_size,
)

__all__ = ["FILLERS", "Filler", "NOT_APPLICABLE"]

Filler = Callable[[RunFacts, Mapping | None], str | None]

# the status text of an item that does not apply; fillers also start values with it
NOT_APPLICABLE = "not applicable"


def _fact(name: str) -> Filler:
    """A filler reporting one field of the facts as it stands (a list as "a, b and c")."""

    def fill(facts: RunFacts, provenance: Mapping | None) -> str | None:
        value = getattr(facts, name)
        if isinstance(value, (list, tuple)):
            return join_words(value) if value else None
        return value

    return fill


def _extraction(describe: Callable[[Mapping], str | None]) -> Filler:
    """A filler describing the extraction settings; None when the run has no provenance."""
    return lambda facts, provenance: describe(provenance) if provenance is not None else None


# ----------------------------------------------------------------------------- image processing (IBSI)


def modality(facts: RunFacts, provenance: Mapping | None) -> str | None:
    return facts.modality or (extraction_params(provenance).get("modality") if provenance is not None else None)


def _interpolator(provenance: Mapping) -> str:
    if not voxel_size(provenance):
        return NOT_APPLICABLE + " (no resampling)"
    return interpolator_name(extraction_setting(provenance, "interpolator"))


def _interpolation_grid(provenance: Mapping) -> str:
    if not voxel_size(provenance):
        return NOT_APPLICABLE + " (no resampling)"
    # pyradiomics imageoperations.resampleImage
    return (
        "aligned to the corner of the original grid, cropped to the ROI bounding box padded by "
        f"{number(extraction_setting(provenance, 'padDistance'))} voxels"
    )


def _intensity_rounding(provenance: Mapping) -> str:
    if not voxel_size(provenance):
        return NOT_APPLICABLE
    return "no explicit rounding: interpolated intensities are stored in the input image's pixel type"


def _resegmentation(provenance: Mapping) -> str:
    settings = extraction_params(provenance).get("setting") or {}
    if settings.get("resegmentRange") is None:
        return "none"
    mode = settings.get("resegmentMode", "absolute")
    return f"intensity range {settings['resegmentRange']} ({mode})"


def _fixed_bin_count(provenance: Mapping) -> bool:
    return (extraction_params(provenance).get("setting") or {}).get("binCount") is not None


def _first_bin(provenance: Mapping) -> str:
    if _fixed_bin_count(provenance):
        return NOT_APPLICABLE + " (fixed bin count: the ROI minimum starts the first bin)"
    # pyradiomics getBinEdges: edges are multiples of the bin width from 0
    return "the largest multiple of the bin width not above the ROI minimum"


def _distance_weighting(provenance: Mapping) -> str:
    norm = extraction_setting(provenance, "weightingNorm")
    return "no weighting" if norm in (None, "no_weighting") else f"{norm}-norm"


# ----------------------------------------------------------------------------- study (CLEAR)


def readers(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.n_readers is None:
        return None
    text = counted(facts.n_readers, "reader")
    if facts.resegmentation_subset:
        text += f"; {facts.resegmentation_subset} patients segmented again for reproducibility"
    return text


def robustness(facts: RunFacts, provenance: Mapping | None = None) -> str | None:
    if facts.reliability_assessed is False:
        return "not assessed: no repeat segmentations"
    if facts.icc_form is None or facts.icc_threshold is None:
        return None
    kinds = join_words([f"{kind}-reader" for kind in facts.icc_assessments or ()])
    return f"{kinds} {icc_form_name(facts.icc_form)} > {number(facts.icc_threshold)}".strip()


def _per_set(mapping: Mapping[str, int] | None) -> str | None:
    if not mapping:
        return None
    return "; ".join(f"{name}: {count(n)}" for name, n in mapping.items())


def data_split(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if not facts.n_patients:
        return None
    text = _per_set(facts.n_patients)
    if facts.external_set:
        text += f" (centre-wise split; external test: {facts.external_set})"
    elif facts.validation:
        text += f" ({facts.validation}: {facts.split_rule})" if facts.split_rule else f" ({facts.validation})"
    return text


def imaging(facts: RunFacts, provenance: Mapping | None) -> str | None:
    parts = []
    if facts.sequences:
        parts.append(f"sequences: {join_words(facts.sequences)}")
    if facts.scanners:
        parts.append(f"scanners: {join_words(facts.scanners)}")
    if facts.extraction_provenance and voxel_size(facts.extraction_provenance):
        parts.append(f"resampled voxels: {voxel_size(facts.extraction_provenance)}")
    return "; ".join(parts) or None


def segmentation(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.segmentation_method is None:
        return None
    text = facts.segmentation_method
    if facts.segmentation_software:
        text += f" ({facts.segmentation_software})"
    return text


def preprocessing(facts: RunFacts, provenance: Mapping | None) -> str | None:
    provenance = facts.extraction_provenance
    if provenance is None:
        return None
    normalisation = describe_normalisation(provenance) or "no intensity normalisation"
    return f"{normalisation}; {describe_resampling(provenance)}; {describe_extraction_software(provenance)}"


def n_features(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.n_features_per_sequence is None:
        return None
    text = f"{count(facts.n_features_per_sequence)} per sequence"
    if facts.sequences:
        text += f" ({join_words(facts.sequences)})"
    return text


def reliability(facts: RunFacts, provenance: Mapping | None) -> str | None:
    text = robustness(facts)
    if text is None:
        return None
    if facts.resegmentation_subset:
        text += f"; {facts.resegmentation_subset} patients segmented twice"
    return text


def external_testing(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.external_set:
        return f"external testing on {facts.external_set}"
    if facts.validation:
        return f"no external testing: {facts.validation}" + (f" ({facts.split_rule})" if facts.split_rule else "")
    return None


def combat(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.combat_batch is None:
        return None
    kind = "parametric" if facts.combat_parametric else "non-parametric"
    mean_only = ", mean only" if facts.combat_mean_only else ""
    text = f"ComBat ({kind} empirical Bayes{mean_only}) of the {facts.combat_batch} effect"
    if facts.combat_fitted_on:
        text += f", fitted on {facts.combat_fitted_on}"
    return text


def dimension_reduction(facts: RunFacts, provenance: Mapping | None) -> str | None:
    steps = []
    if robustness(facts):
        steps.append(f"reliability filter ({robustness(facts)})")
    if facts.mrmr_k:
        steps.append(f"mRMR (k = {facts.mrmr_k})")
    if facts.lasso_lambda_rule:
        steps.append("LASSO")
    return " → ".join(steps) or None


def algorithms(facts: RunFacts, provenance: Mapping | None) -> str | None:
    parts = []
    if facts.lasso_lambda_rule:
        parts.append("LASSO logistic regression (glmnet objective) for the rad-score")
    if facts.univariable_p_enter is not None:
        parts.append("logistic regression for the clinical model")
    if facts.nomogram:
        parts.append("logistic nomogram")
    if not parts:
        return None
    text = "; ".join(parts)
    if facts.software and "stsanalysis" in facts.software:
        text += f" (stsanalysis {facts.software['stsanalysis']})"
    return text


def uncertainty(facts: RunFacts, provenance: Mapping | None) -> str | None:
    parts = []
    if facts.auc_ci_method:
        parts.append(f"95% CI of the AUC ({facts.auc_ci_method})")
    if facts.hosmer_lemeshow_groups:
        parts.append(f"Hosmer-Lemeshow test ({facts.hosmer_lemeshow_groups} groups)")
    if facts.calibration_slope_intercept:
        parts.append("calibration slope and intercept")
    if facts.decision_curve and facts.decision_curve_n_boot:
        parts.append(f"bootstrap CI of the net benefit ({count(facts.decision_curve_n_boot)} resamples)")
    return "; ".join(parts) or None


def comparison_with_clinical(facts: RunFacts, provenance: Mapping | None = None) -> str | None:
    if facts.univariable_p_enter is None and not facts.nomogram:
        return None
    parts = ["clinical model vs radiomic signatures"]
    if facts.nomogram:
        parts.append("combined nomogram")
    if facts.decision_curve:
        parts.append("decision curve analysis")
    return "; ".join(parts)


def settings_shared(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.extraction_provenance is None:
        return None
    params = extraction_params(facts.extraction_provenance)
    return "pyradiomics parameters: " + json.dumps(
        {section: params.get(section) for section in ("imageType", "featureClass", "setting")}, default=str
    )


def class_balance(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if not facts.n_positive or not facts.n_patients:
        return None
    return "; ".join(
        f"{name}: {count(facts.n_positive[name])}/{count(facts.n_patients[name])} positive"
        for name in facts.n_patients
        if name in facts.n_positive
    )


def _if(condition: Callable[[RunFacts], object], text: Callable[[RunFacts], str]) -> Filler:
    """A filler writing ``text(facts)`` when ``condition(facts)`` holds, else None."""
    return lambda facts, provenance: text(facts) if condition(facts) else None


# filler name (the ``filler`` column of checklists/*.csv) -> filler
FILLERS: dict[str, Filler] = {
    # a fact as it stands
    **{
        name: _fact(name)
        for name in (
            "study_nature",
            "centres",
            "scanners",
            "sequences",
            "clinical_predictors",
            "outcome",
            "segmentation_method",
            "performance_metrics",
            "model_comparison",
            "code_availability",
            "data_availability",
        )
    },
    # the extraction settings, from the provenance
    "modality": modality,
    "normalisation": _extraction(lambda p: describe_normalisation(p) or "none"),
    "interpolator": _extraction(_interpolator),
    "interpolation_grid": _extraction(_interpolation_grid),
    "voxel_dimensions": _extraction(lambda p: voxel_size(p) or "original voxel spacing (no resampling)"),
    "intensity_rounding": _extraction(_intensity_rounding),
    "mask_interpolation": _extraction(lambda p: p.get("mask_interpolation") or "nearest neighbour"),
    "partial_volume": _extraction(lambda p: "none (nearest-neighbour mask interpolation leaves no partially masked voxels)"),
    "resegmentation": _extraction(_resegmentation),
    "discretisation_method": _extraction(lambda p: "fixed bin number (FBN)" if _fixed_bin_count(p) else "fixed bin size (FBS)"),
    "discretisation": _extraction(describe_discretisation),
    "discretisation_bins": _extraction(lambda p: describe_discretisation(p).removeprefix("a ")),
    "first_bin": _extraction(_first_bin),
    "resampling": _extraction(describe_resampling),
    "image_filters": _extraction(describe_image_types),
    "feature_classes": _extraction(describe_feature_classes),
    "ibsi_compliance": _extraction(describe_ibsi_compliance),
    "extraction_software": _extraction(describe_extraction_software),
    "extraction_method": _extraction(lambda p: f"{describe_extraction_software(p)}; {describe_ibsi_compliance(p)}"),
    "default_settings": _extraction(lambda p: "all pyradiomics settings not listed in the parameters kept their defaults"),
    "texture_aggregation": _extraction(describe_aggregation),
    "distance_weighting": _extraction(_distance_weighting),
    "glcm_symmetry": _extraction(lambda p: "symmetric" if extraction_setting(p, "symmetricalGLCM") else "asymmetric"),
    "distances": _extraction(describe_distances),
    "szm_linkage": _extraction(lambda p: "Chebyshev distance 1 (26-connected in 3D)"),
    "gldm_coarseness": _extraction(lambda p: f"α = {number(extraction_setting(p, 'gldm_a'))}"),
    "settings_shared": settings_shared,
    # cohort, segmentation, reliability
    "data_split": data_split,
    "class_balance": class_balance,
    "imaging": imaging,
    "segmentation": segmentation,
    "readers": readers,
    "preprocessing": preprocessing,
    "n_features": n_features,
    "robustness": robustness,
    "reliability": reliability,
    "feature_reproducibility": _if(
        lambda f: f.n_features_reliable is not None and f.n_features_tested is not None,
        lambda f: f"{count(f.n_features_reliable)} of {count(f.n_features_tested)} features reproducible",
    ),
    # harmonisation, selection, model
    "combat": combat,
    "dimension_reduction": dimension_reduction,
    "multicollinearity": _if(lambda f: f.mrmr_k, lambda f: "mRMR penalises redundancy between selected features"),
    "algorithms": algorithms,
    "lambda_tuning": lambda facts, provenance: describe_lambda_tuning(facts),
    "model_selection": _if(lambda f: f.lasso_lambda_rule, lambda f: f"{describe_lambda_tuning(f)}, on the training set only"),
    "interpretability": _if(lambda f: f.nomogram, lambda f: "nomogram and rad-score formula"),
    # evaluation
    "external_testing": external_testing,
    "uncertainty": uncertainty,
    "performance_tables": _if(lambda f: f.performance_metrics, lambda f: "performance tables per set"),
    "comparison_with_clinical": comparison_with_clinical,
    "comparison_tables": _if(comparison_with_clinical, lambda f: "comparison tables per set"),
    "clinical_comparison": _if(
        lambda f: f.univariable_p_enter is not None,
        lambda f: "clinical model and nomogram compared with the radiomic signatures",
    ),
    # the questions only TRIPOD+AI, METRICS (yes/no) and the RQS (points) ask: their own modules
    **TRIPOD_FILLERS,
    **METRICS_FILLERS,
    **RQS_FILLERS,
}
