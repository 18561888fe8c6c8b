"""Synthetic data and small helpers for the teaching notebooks (``notebooks/teaching``).

Every lesson computes its numbers here or in the rest of the package, so that the
notebooks hold only prose and calls, and the tests reach every line of logic.

* Lesson 1, texture features: :mod:`.phantoms`
* Lesson 2, discretisation and resampling: :mod:`.discretisation`
* Lesson 3, segmentation variability and ICC: :mod:`.segmentation`, :mod:`.reliability`
* Lessons 2 and 3 share the demo cohort subset of :mod:`.cohort`
* Lesson 4, leakage: :mod:`.leakage`
* Lesson 5, beyond AUC: :mod:`.calibration`
* Lesson 6, harmonisation: :mod:`.harmonisation`
* Lesson 7, beyond the C-index: :mod:`.survival_models`

Names are imported on first use (PEP 562): a lesson imports only its own modules.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "OVERCONFIDENT": "calibration",
    "OVERESTIMATING": "calibration",
    "WELL_CALIBRATED": "calibration",
    "miscalibrated_predictions": "calibration",
    "models_of": "calibration",
    "net_benefit_at": "calibration",
    "performance_table": "calibration",
    "resegmented_demo_cases": "cohort",
    "discretisation_summary": "discretisation",
    "extract_settings": "discretisation",
    "grey_level_summary": "discretisation",
    "grey_levels": "discretisation",
    "preprocessing_settings": "discretisation",
    "relative_change": "discretisation",
    "setting_iccs": "discretisation",
    "variance_explained": "discretisation",
    "TEST": "harmonisation",
    "TRAINING": "harmonisation",
    "ScannerEffectData": "harmonisation",
    "before_after": "harmonisation",
    "harmonisation_summary": "harmonisation",
    "harmonise": "harmonisation",
    "principal_components": "harmonisation",
    "scanner_effect": "harmonisation",
    "set_counts": "harmonisation",
    "APPROACHES": "leakage",
    "cross_validated_predictions": "leakage",
    "experiment_summary": "leakage",
    "leakage_experiment": "leakage",
    "leakage_predictions": "leakage",
    "noise_features": "leakage",
    "signature_pipeline": "leakage",
    "PHANTOM_PARAMS": "phantoms",
    "PHANTOM_PATTERNS": "phantoms",
    "Phantom": "phantoms",
    "class_summary": "phantoms",
    "compare_features": "phantoms",
    "phantom_features": "phantoms",
    "select_features": "phantoms",
    "texture_phantoms": "phantoms",
    "write_phantom_cases": "phantoms",
    "extract_readings": "reliability",
    "feature_iccs": "reliability",
    "feature_ratings": "reliability",
    "icc_forms_summary": "reliability",
    "icc_summary": "reliability",
    "add_perturbed_readers": "segmentation",
    "margin_radius": "segmentation",
    "mask_volumes": "segmentation",
    "perturb_mask": "segmentation",
    "perturbed_cases": "segmentation",
    "volume_summary": "segmentation",
    "EARLY_MODEL": "survival_models",
    "LATE_MODEL": "survival_models",
    "OPTIMISTIC_MODEL": "survival_models",
    "SURVIVAL_MODELS": "survival_models",
    "TimeVaryingCohort": "survival_models",
    "RiskModels": "survival_models",
    "time_varying_cohort": "survival_models",
    "fit_risk_models": "survival_models",
    "marker_halves": "survival_models",
    "concordance_table": "survival_models",
    "time_dependent_aucs": "survival_models",
    "survival_calibrations": "survival_models",
    "accuracy_at": "survival_models",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
