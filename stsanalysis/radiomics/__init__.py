"""Radiomics pipeline: extraction, reliability filter, ComBat, mRMR, LASSO rad-score.

Names are imported on first use (PEP 562), so that extraction worker processes, which
import :mod:`stsanalysis.radiomics.extraction`, do not pay for scikit-learn.
"""

from importlib import import_module

_EXPORTS = {
    "BinWidthWarning": "extraction",
    "extract_features": "extraction",
    "load_params": "extraction",
    "ComBat": "harmonization",
    "CorrelationFilter": "selection",
    "MRMRSelector": "selection",
    "ReliabilityFilter": "selection",
    "make_radiomics_pipeline": "pipeline",
    "signature_features": "pipeline",
    "LassoRadScore": "signature",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'stsanalysis.radiomics' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
