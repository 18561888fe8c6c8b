"""Extraction parameters: pyradiomics' feature classes, presets and their validation."""

from __future__ import annotations

#: pyradiomics' feature classes and their names in manuscripts (IBSI reporting, methods text).
FEATURE_CLASS_LABELS = {
    "shape": "shape (3D)",
    "shape2D": "shape (2D)",
    "firstorder": "first-order",
    "glcm": "GLCM",
    "glrlm": "GLRLM",
    "glszm": "GLSZM",
    "gldm": "GLDM",
    "ngtdm": "NGTDM",
}
