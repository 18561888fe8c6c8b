"""Radiomics pipeline: extraction, reliability filter, ComBat, mRMR, LASSO rad-score.

One topic per module: :mod:`.images` (reading images), :mod:`.params` (presets, their
validation, feature names, IBSI notes), :mod:`.cache`, :mod:`.backends` (serial, processes,
Dask), :mod:`.extraction` (:func:`extract_features`) and :mod:`.feature_table` (features
extracted elsewhere); then :mod:`.selection`,
:mod:`.harmonization`, :mod:`.signature` and :mod:`.pipeline`.

Names are imported on first use (PEP 562), so that extraction worker processes, which
import :mod:`stsanalysis.radiomics.extraction`, do not pay for scikit-learn.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "CaseError": "images",
    "read_image": "images",
    "BinWidthWarning": "params",
    "FEATURE_CLASS_LABELS": "params",
    "IBSI_DEVIATIONS": "params",
    "IBSI_FEATURE_TAGS": "params",
    "IBSI_NOT_DEFINED": "params",
    "available_presets": "params",
    "extraction_provenance": "params",
    "load_params": "params",
    "split_feature_name": "params",
    "cache_key": "cache",
    "extract_features": "extraction",
    "MaskError": "masks",
    "MaskInfo": "masks",
    "read_mask": "masks",
    "worker_pool": "backends",
    "cluster_from_config": "backends",
    "check_feature_coverage": "feature_table",
    "read_feature_table": "feature_table",
    "ComBat": "harmonization",
    "CorrelationFilter": "selection",
    "MRMRSelector": "selection",
    "ReliabilityFilter": "selection",
    "make_radiomics_pipeline": "pipeline",
    "make_survival_pipeline": "pipeline",
    "signature_features": "pipeline",
    "LassoRadScore": "signature",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
