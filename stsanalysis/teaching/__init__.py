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
"""

from .calibration import (
    OVERCONFIDENT,
    OVERESTIMATING,
    WELL_CALIBRATED,
    miscalibrated_predictions,
    models_of,
    net_benefit_at,
    performance_table,
)
from .cohort import resegmented_demo_cases
from .discretisation import (
    discretisation_summary,
    extract_settings,
    grey_level_summary,
    grey_levels,
    preprocessing_settings,
    relative_change,
    setting_iccs,
    variance_explained,
)
from .harmonisation import (
    TEST,
    TRAINING,
    ScannerEffectData,
    before_after,
    harmonisation_summary,
    harmonise,
    principal_components,
    scanner_effect,
    set_counts,
)
from .leakage import (
    APPROACHES,
    cross_validated_predictions,
    experiment_summary,
    leakage_experiment,
    leakage_predictions,
    noise_features,
    signature_pipeline,
)
from .phantoms import (
    PHANTOM_PARAMS,
    PHANTOM_PATTERNS,
    Phantom,
    class_summary,
    compare_features,
    phantom_features,
    select_features,
    texture_phantoms,
    write_phantom_cases,
)
from .reliability import extract_readings, feature_iccs, feature_ratings, icc_forms_summary, icc_summary
from .segmentation import (
    add_perturbed_readers,
    margin_radius,
    mask_volumes,
    perturb_mask,
    perturbed_cases,
    volume_summary,
)
