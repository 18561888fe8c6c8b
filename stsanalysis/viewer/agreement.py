"""Agreement of two tumour segmentations of the same image (reader 1 vs reader 2), as the explorer shows it.

The numbers come from :mod:`stsanalysis.radiomics.segmentation`, the one implementation
that the reports use too; this module keeps the explorer's names for it (round 1):
:func:`mask_agreement` and :class:`MaskAgreement`, and :func:`hausdorff_95` of two arrays.
The explorer shows every patient, so an empty mask gives NaN here rather than an error.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from ..radiomics.segmentation import (
    AGREEMENT_HEADERS,
    HD_PERCENTILE,
    SegmentationAgreement,
    agreement_summary,
    segmentation_agreement,
    surface_distances,
)

__all__ = ["AGREEMENT_HEADERS", "MaskAgreement", "agreement_summary", "hausdorff_95", "mask_agreement"]

#: The explorer's name of :class:`~stsanalysis.radiomics.segmentation.SegmentationAgreement`.
MaskAgreement = SegmentationAgreement


def mask_agreement(mask_a, mask_b, hausdorff: bool = False) -> SegmentationAgreement:
    """:func:`~stsanalysis.radiomics.segmentation.segmentation_agreement` of label 1 (SimpleITK images or paths).

    With ``hausdorff=False`` the surface distances are skipped (NaN). An empty mask gives NaN
    for what it leaves undefined; masks on different voxel grids are an :class:`InputError`.
    """
    return segmentation_agreement(mask_a, mask_b, distances=hausdorff, allow_empty=True)


def hausdorff_95(mask_a: np.ndarray, mask_b: np.ndarray, spacing_zyx) -> float:
    """HD95 in mm of two boolean (z, y, x) arrays with voxel spacing (z, y, x); NaN when one is empty.

    The larger of the two directed 95th-percentile surface distances, as ``hd95_mm`` of
    :func:`~stsanalysis.radiomics.segmentation.segmentation_agreement` (its docstring
    defines it).
    """
    first, second = (np.asarray(mask, dtype=bool) for mask in (mask_a, mask_b))
    if not first.any() or not second.any():
        return float("nan")
    images = []
    for mask in (first, second):
        image = sitk.GetImageFromArray(mask.astype(np.uint8))
        image.SetSpacing([float(value) for value in spacing_zyx[::-1]])
        images.append(image)
    return surface_distances(*images).percentile(HD_PERCENTILE)
