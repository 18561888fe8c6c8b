"""Plotly figures, one module per figure family; computation lives in ``stsanalysis.stats``."""

from .survival import km_figure
from .roc import roc_figure
from .calibration import calibration_figure
from .dca import decision_curve_figure
from .forest import forest_figure
from .nomogram import nomogram_figure
