"""Agreement of two tumour segmentations of the same image (reader 1 vs reader 2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import InputError
from ..plotting.images import read_volume
from ..stats._result import Result

MM3_PER_ML = 1000.0

#: Table headers for :class:`MaskAgreement` fields (reader 1 = mask A, reader 2 = mask B).
AGREEMENT_HEADERS = {
    "patient_id": "Patient",
    "dice": "Dice",
    "jaccard": "Jaccard",
    "volume_a_ml": "Reader 1 volume (mL)",
    "volume_b_ml": "Reader 2 volume (mL)",
    "volume_difference_percent": "Volume difference (%)",
    "hausdorff_95_mm": "HD95 (mm)",
}


@dataclass(frozen=True)
class MaskAgreement(Result):
    """Overlap and volumes of two masks.

    ``dice`` = 2 |A and B| / (|A| + |B|), ``jaccard`` = |A and B| / |A or B| (both NaN when
    both masks are empty), volumes in mL (voxel count x voxel volume), and the 95th
    percentile symmetric surface distance ``hausdorff_95_mm`` (NaN unless requested or when
    a mask is empty).
    """

    dice: float
    jaccard: float
    volume_a_ml: float
    volume_b_ml: float
    volume_difference_percent: float
    hausdorff_95_mm: float


def _surface(mask: np.ndarray) -> np.ndarray:
    """Voxels of the mask with at least one face-neighbour outside it."""
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def hausdorff_95(mask_a: np.ndarray, mask_b: np.ndarray, spacing_zyx) -> float:
    """95th percentile of the surface distances from A to B and from B to A, pooled, in mm.

    Distances are from each surface voxel centre of one mask to the nearest surface voxel
    centre of the other (MedPy ``hd95`` convention; some tools take the larger of the two
    directed 95th percentiles instead).
    """
    surface_a, surface_b = _surface(mask_a), _surface(mask_b)
    if not surface_a.any() or not surface_b.any():
        return float("nan")
    distance_to_b = ndimage.distance_transform_edt(~surface_b, sampling=spacing_zyx)
    distance_to_a = ndimage.distance_transform_edt(~surface_a, sampling=spacing_zyx)
    distances = np.concatenate([distance_to_b[surface_a], distance_to_a[surface_b]])
    return float(np.percentile(distances, 95))


def mask_agreement(mask_a, mask_b, hausdorff: bool = False) -> MaskAgreement:
    """Dice, Jaccard and volumes of two masks on the same voxel grid (SimpleITK images or paths).

    Voxels > 0 are tumour. With ``hausdorff=True`` also :func:`hausdorff_95`.
    Raises :class:`InputError` when the grids (size or spacing) differ.
    """
    first, second = read_volume(mask_a, "mask_a"), read_volume(mask_b, "mask_b")
    if first.array.shape != second.array.shape or not np.allclose(first.spacing, second.spacing, rtol=1e-5):
        raise InputError(
            f"'mask_a' and 'mask_b' must share one voxel grid; got shape {first.array.shape} spacing "
            f"{first.spacing} vs shape {second.array.shape} spacing {second.spacing}."
        )
    a, b = first.array > 0, second.array > 0
    n_a, n_b = int(a.sum()), int(b.sum())
    intersection, union = int((a & b).sum()), int((a | b).sum())
    voxel_ml = float(np.prod(first.spacing)) / MM3_PER_ML
    volume_a, volume_b = n_a * voxel_ml, n_b * voxel_ml
    return MaskAgreement(
        dice=2 * intersection / (n_a + n_b) if n_a + n_b else float("nan"),
        jaccard=intersection / union if union else float("nan"),
        volume_a_ml=volume_a,
        volume_b_ml=volume_b,
        volume_difference_percent=100 * (volume_b - volume_a) / volume_a if n_a else float("nan"),
        hausdorff_95_mm=hausdorff_95(a, b, first.spacing[::-1]) if hausdorff else float("nan"),
    )
