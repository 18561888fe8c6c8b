"""Plotly figures, one module per figure family; computation lives in ``stsanalysis.stats``.

Names are imported on first use (PEP 562): drawing a ROC curve does not import SimpleITK
for the image viewer.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "bland_altman_figure": "agreement",
    "calibration_figure": "calibration",
    "decision_curve_figure": "dca",
    "forest_figure": "forest",
    "hazard_ratio_figure": "forest",
    "slice_viewer_figure": "images",
    "nomogram_figure": "nomogram",
    "roc_figure": "roc",
    "segmentation_agreement_figure": "segmentation",
    "km_figure": "survival",
    "survival_calibration_figure": "survival_calibration",
    "time_auc_figure": "time_auc",
    "feature_comparison_figure": "texture",
    "feature_icc_figure": "texture",
    "pca_figure": "texture",
    "phantom_figure": "texture",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
