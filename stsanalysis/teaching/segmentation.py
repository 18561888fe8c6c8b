"""Segmentation variability made to order: masks grown or shrunk by a margin in millimetres."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ..errors import InputError
from ..files import atomic_path
from ..validation import require_columns


def margin_radius(spacing, mm: float) -> tuple[int, ...]:
    """Structuring-element radius in voxels per axis: ``round(|mm| / spacing)``.

    With the demo's 0.8 x 0.8 x 4 mm voxels, 1 mm is one voxel in-plane and none across
    slices (a reader's outline moves within the slice, not by a whole 4 mm slice).
    """
    return tuple(int(np.round(abs(mm) / step)) for step in spacing)


def perturb_mask(mask: sitk.Image, mm: float) -> sitk.Image:
    """``mask`` grown (``mm`` > 0, dilation) or shrunk (``mm`` < 0, erosion) by ``|mm|``.

    The structuring element is SimpleITK's ball with the per-axis radius of
    :func:`margin_radius` (radius 1 in a plane = the 3 x 3 square). Any non-zero voxel
    counts as foreground; the result is a 0/1 ``uint8`` mask on the same grid.
    """
    radius = margin_radius(mask.GetSpacing(), mm)
    if not any(radius):
        raise InputError(
            f"A margin of {mm} mm is less than half a voxel on every axis (spacing {mask.GetSpacing()} mm); choose a larger margin."
        )
    binary = sitk.Cast(mask != 0, sitk.sitkUInt8)
    operation = sitk.BinaryDilate if mm > 0 else sitk.BinaryErode
    perturbed = operation(binary, radius, sitk.sitkBall, 0, 1)
    if not sitk.GetArrayViewFromImage(perturbed).any():
        raise InputError(f"Eroding by {abs(mm)} mm removes the whole mask; choose a smaller margin.")
    return perturbed


def perturbed_cases(
    cases: pd.DataFrame,
    directory: str | os.PathLike,
    mm: float,
    *,
    random_sign: bool = False,
    seed: int | None = None,
    reader: str | None = None,
) -> pd.DataFrame:
    """Write a perturbed copy of every case's mask and return the cases pointing at them.

    Each mask of ``cases`` (columns ``patient_id``, ``image``, ``mask``) is dilated by
    ``mm`` (eroded when ``mm`` < 0) with :func:`perturb_mask`. With ``random_sign`` each
    patient's mask is instead dilated or eroded by ``|mm|`` with probability 1/2 (drawn
    with ``seed``): a reader who is sometimes generous and sometimes tight, without a
    systematic bias. The returned table has the new ``mask`` paths, the applied ``margin_mm``
    per case and ``reader`` set to ``reader`` (default: "dilated 1 mm", "eroded 1 mm" or
    "random ±1 mm").
    """
    require_columns(cases, ["patient_id", "image", "mask"], "cases")
    if mm == 0:
        raise InputError("'mm' must be non-zero (positive dilates, negative erodes); got 0.")
    if random_sign:
        margins = np.abs(mm) * np.random.default_rng(seed).choice([-1.0, 1.0], size=len(cases))
        label = f"random ±{abs(mm):g} mm"
    else:
        margins = np.full(len(cases), float(mm))
        label = f"{'dilated' if mm > 0 else 'eroded'} {abs(mm):g} mm"
    reader = reader or label
    directory = Path(directory).resolve()
    slug = "".join(character if character.isalnum() else "_" for character in reader)
    paths = []
    for row, margin in zip(cases.itertuples(index=False), margins):
        destination = directory / f"{row.patient_id}_{slug}.nii.gz"
        with atomic_path(destination) as temporary:
            # SimpleITK picks the writer from the extension, so the temporary file needs one
            named = temporary.with_name(temporary.name + ".nii.gz")
            sitk.WriteImage(perturb_mask(sitk.ReadImage(str(row.mask)), margin), str(named), useCompression=True)
            os.replace(named, temporary)
        paths.append(str(destination))
    return cases.assign(reader=reader, mask=paths, margin_mm=margins)


def add_perturbed_readers(
    cases: pd.DataFrame, directory: str | os.PathLike, mm: float, seed: int | None = None, reference: str = "reader1"
) -> pd.DataFrame:
    """``cases`` plus three perturbed copies of the ``reference`` reader's cases.

    The copies (see :func:`perturbed_cases`): every mask dilated by ``|mm|``, every mask
    eroded by ``|mm|``, and each mask dilated or eroded at random (``seed``). Their masks
    are written under ``directory``.
    """
    require_columns(cases, ["patient_id", "reader", "image", "mask"], "cases")
    base = cases[cases["reader"] == reference]
    if base.empty:
        raise InputError(f"No case of reader {reference!r}; readers: {sorted(cases['reader'].unique())}.")
    copies = [
        perturbed_cases(base, directory, abs(mm)),
        perturbed_cases(base, directory, -abs(mm)),
        perturbed_cases(base, directory, abs(mm), random_sign=True, seed=seed),
    ]
    return pd.concat([cases, *copies], ignore_index=True)


def mask_volumes(cases: pd.DataFrame) -> pd.Series:
    """Volume (mL) of every case's mask: non-zero voxels x voxel volume, indexed like ``cases``."""
    require_columns(cases, ["mask"], "cases")
    volumes = []
    for path in cases["mask"]:
        mask = sitk.ReadImage(str(path))
        voxel_ml = float(np.prod(mask.GetSpacing())) / 1000.0
        volumes.append(np.count_nonzero(sitk.GetArrayViewFromImage(mask)) * voxel_ml)
    return pd.Series(volumes, index=cases.index, name="volume_ml")


def volume_summary(cases: pd.DataFrame, reference: str = "reader1") -> pd.DataFrame:
    """Mask volumes per reading: ``reading``, ``n_patients``, ``mean_volume_ml``, ``sd_volume_ml``
    and ``mean_change_percent`` (the mean per-patient change against the ``reference`` reading)."""
    require_columns(cases, ["patient_id", "reader", "mask"], "cases")
    volumes = cases.assign(volume_ml=mask_volumes(cases)).pivot(index="patient_id", columns="reader", values="volume_ml")
    if reference not in volumes.columns:
        raise InputError(f"Reference reading {reference!r} not in cases; readings: {list(volumes.columns)}.")
    change = 100.0 * (volumes.div(volumes[reference], axis=0) - 1.0)
    readings = list(dict.fromkeys(cases["reader"]))
    return pd.DataFrame(
        {
            "reading": readings,
            "n_patients": [int(volumes[name].notna().sum()) for name in readings],
            "mean_volume_ml": [volumes[name].mean() for name in readings],
            "sd_volume_ml": [volumes[name].std() for name in readings],
            "mean_change_percent": [change[name].mean() for name in readings],
        }
    )
