"""Plotly figures, one module per figure family; computation lives in ``stsanalysis.stats``."""

from .survival import km_figure
from .roc import roc_figure
