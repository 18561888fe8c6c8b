"""Plotly figures, one module per figure family; computation lives in ``stsanalysis.stats``."""

from .agreement import bland_altman_figure
from .calibration import calibration_figure
from .dca import decision_curve_figure
from .forest import forest_figure
from .images import slice_viewer_figure
from .nomogram import nomogram_figure
from .roc import roc_figure
from .segmentation import segmentation_agreement_figure
from .survival import km_figure
from .texture import feature_comparison_figure, feature_icc_figure, pca_figure, phantom_figure
