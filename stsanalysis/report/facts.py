"""What a design-B run knows, collected once for the methods paragraph and the checklists.

:class:`RunFacts` is built from the run's objects
(:func:`stsanalysis.studies.radiomics_nomogram.run_facts`); :mod:`stsanalysis.report.methods`
writes sentences from it and :mod:`stsanalysis.report.checklist` fills checklist items from it.
Every field is optional: an absent fact removes its sentence and leaves its checklist item
to the authors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["RunFacts", "software_facts"]


@dataclass(frozen=True)
class RunFacts:
    """What a design-B run knows, for the methods paragraph and the checklists.

    Every field is optional (None, or False for the yes/no facts): a sentence or checklist
    value is written only from the facts present. Mappings keep their insertion order,
    which is the order of the text.

    Cohort: ``n_patients`` and ``n_positive`` per set (``{"training": 109, "external
    validation": 71}``), ``centres``, ``scanners``, ``sequences`` (as the text names them,
    e.g. "T1-weighted"), ``modality`` ("MRI"), ``study_nature`` ("retrospective"),
    ``outcome`` (the reference standard as a phrase), ``clinical_predictors``.

    Segmentation: ``segmentation_method`` (a phrase, "manually on every slice"),
    ``segmentation_software``, ``n_readers``, ``resegmentation_subset`` (patients segmented
    again), ``resegmentation_interval`` ("one month": reader 1 repeated after it),
    ``reliability_assessed`` (False: no repeat segmentations, so no ICC filter).

    Extraction: ``extraction_provenance`` (``extract_features(...).attrs["provenance"]``),
    ``n_features_per_sequence``.

    Reliability: ``icc_form`` (psych name, "ICC2"), ``icc_assessments`` (("inter", "intra")),
    ``icc_threshold``, ``n_features_reliable`` of ``n_features_tested``.

    Harmonisation: ``combat_batch`` (the batch variable, e.g. "centre"),
    ``combat_parametric``, ``combat_mean_only``, ``combat_fitted_on`` ("the training set").

    Selection and model: ``mrmr_k``, ``mrmr_relevance`` ("mutual_info" | "f_statistic"),
    ``lasso_lambda_rule`` ("1se" | "min"), ``cv_folds``, ``cv_repeats``,
    ``n_selected_features`` per signature, ``univariable_p_enter`` (clinical model), ``logistic_method`` (how the
    logistic models were fitted, when not by maximum likelihood, e.g. "Firth's penalised likelihood"),
    ``nomogram``.

    Validation and evaluation: ``external_set`` (a phrase naming it, external validation
    only), ``validation`` (the kind: "external validation", "temporal validation",
    "internal validation"), ``split_rule`` (how the sets were formed),
    ``missing_data`` (a sentence on missing values and their handling), ``performance_metrics``,
    ``auc_ci_method`` ("DeLong"), ``model_comparison`` ("paired DeLong tests"),
    ``hosmer_lemeshow_groups``, ``calibration_slope_intercept``, ``decision_curve``,
    ``decision_curve_n_boot``, ``survival_endpoint``.

    Reproducibility: ``software`` (name -> version, e.g. :func:`software_facts` of
    :func:`~stsanalysis.report.provenance.software_versions`), ``seeds`` (process -> seed),
    ``code_availability``, ``data_availability``.

    ``not_applicable``: CLEAR items the authors declare not applicable, with the reason
    (``{30: "balanced classes, no resampling of the training set"}``).
    """

    n_patients: Mapping[str, int] | None = None
    n_positive: Mapping[str, int] | None = None
    centres: Sequence[str] | None = None
    scanners: Sequence[str] | None = None
    sequences: Sequence[str] | None = None
    modality: str | None = None
    study_nature: str | None = None
    outcome: str | None = None
    clinical_predictors: Sequence[str] | None = None
    segmentation_method: str | None = None
    segmentation_software: str | None = None
    n_readers: int | None = None
    resegmentation_subset: int | None = None
    reliability_assessed: bool | None = None
    resegmentation_interval: str | None = None
    extraction_provenance: Mapping | None = None
    n_features_per_sequence: int | None = None
    icc_form: str | None = None
    icc_assessments: Sequence[str] | None = None
    icc_threshold: float | None = None
    n_features_reliable: int | None = None
    n_features_tested: int | None = None
    combat_batch: str | None = None
    combat_parametric: bool = True
    combat_mean_only: bool = False
    combat_fitted_on: str | None = None
    mrmr_k: int | None = None
    mrmr_relevance: str | None = None
    lasso_lambda_rule: str | None = None
    cv_folds: int | None = None
    cv_repeats: int | None = None
    n_selected_features: Mapping[str, int] | None = None
    univariable_p_enter: float | None = None
    logistic_method: str | None = None
    nomogram: bool = False
    external_set: str | None = None
    validation: str | None = None
    split_rule: str | None = None
    missing_data: str | None = None
    performance_metrics: Sequence[str] | None = None
    auc_ci_method: str | None = None
    model_comparison: str | None = None
    hosmer_lemeshow_groups: int | None = None
    calibration_slope_intercept: bool = False
    decision_curve: bool = False
    decision_curve_n_boot: int | None = None
    survival_endpoint: str | None = None
    software: Mapping[str, str] | None = None
    seeds: Mapping[str, int] | None = None
    code_availability: str | None = None
    data_availability: str | None = None
    not_applicable: Mapping[int, str] | None = None


# distribution names -> the names manuscripts cite
_CITED_NAMES = {"pyradiomics-bhklab": "pyradiomics"}


def software_facts(versions: pd.DataFrame) -> dict[str, str]:
    """``software_versions()`` as the name -> version mapping :class:`RunFacts` takes.

    Packages not installed are left out; distributions are renamed as manuscripts cite
    them ("pyradiomics-bhklab" -> "pyradiomics").
    """
    return {
        _CITED_NAMES.get(name, name): version
        for name, version in zip(versions["software"], versions["version"])
        if version != "not installed"
    }
