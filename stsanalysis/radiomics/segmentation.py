"""Agreement of two segmentations of one tumour (reader 1 vs reader 2): overlap, volumes, surface distances.

One implementation for the cohort explorer (:mod:`stsanalysis.viewer`) and the reports.
Masks are read by :func:`stsanalysis.radiomics.images.read_image`, the reader of feature
extraction, and compared in physical units (mm, mL). With A and B the voxels of ``label``
in mask A (reader 1) and mask B (reader 2), and v the volume of one voxel:

* ``dice`` = 2 |A ∩ B| / (|A| + |B|) and ``jaccard`` = |A ∩ B| / |A ∪ B|
  (ITK ``LabelOverlapMeasuresImageFilter``); disjoint masks give 0.
* ``volume_a_ml`` = |A| v / 1000 (likewise B); ``volume_difference_ml`` = B − A and
  ``relative_volume_difference`` = 100 (B − A) / A, in %: reader 2 relative to reader 1.
* Surfaces: ∂A holds the voxels of A with at least one of their six face neighbours outside
  A (ITK ``LabelContourImageFilter``); outside the image counts as outside, so a mask cut by
  the field of view has a surface there (as MONAI's and MedPy's). d(a, ∂B) is the Euclidean
  distance in mm from the centre of a to the nearest voxel centre of ∂B (ITK
  ``SignedMaurerDistanceMapImageFilter`` of ∂B with the image spacing). The directed surface
  distances are D(A→B) = {d(a, ∂B): a ∈ ∂A} and D(B→A) = {d(b, ∂A): b ∈ ∂B}.
* ``hausdorff_mm`` = max(max D(A→B), max D(B→A)), the Hausdorff distance of the two surfaces
  (the value of ITK's ``HausdorffDistanceImageFilter`` on the two contour images).
* ``hd95_mm`` = max(P95 D(A→B), P95 D(B→A)): the larger of the two directed 95th percentiles
  (linear interpolation, numpy's default and R's ``quantile`` type 7). This is Huttenlocher's
  partial Hausdorff distance as Taha & Hanbury (BMC Med Imaging 2015) define the quantile HD,
  and what MONAI's ``compute_hausdorff_distance(percentile=95)`` returns; MedPy's ``hd95`` takes
  the 95th percentile of the two sets pooled instead, which is never larger.
* ``mean_surface_distance_mm``: the mean of D(A→B) and D(B→A) pooled, the average symmetric
  surface distance of Heimann et al. (IEEE TMI 2009), MONAI's
  ``compute_average_surface_distance(symmetric=True)``.

Both masks must lie on one voxel grid (size, spacing, origin and direction, checked by
:func:`stsanalysis.radiomics.images.check_geometry`); a mask without ``label`` voxels is an
:class:`~stsanalysis.errors.InputError` naming the patient and the file, unless
``allow_empty`` (the explorer's choice), which gives NaN for what is undefined.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ..errors import InputError
from ..report.formatting import format_interval, format_mean_sd, format_median_iqr
from ..stats._result import Result
from ..validation import require_columns
from .images import CaseError, check_geometry, read_image

__all__ = [
    "AGREEMENT_HEADERS",
    "AGREEMENT_MEASURES",
    "SUMMARY_HEADERS",
    "SegmentationAgreement",
    "SurfaceDistances",
    "agreement_by_patient",
    "agreement_summary",
    "agreement_summary_display",
    "reader_segmentation_agreement",
    "segmentation_agreement",
    "surface_distances",
]

MM3_PER_ML = 1000.0
#: The percentile of the robust Hausdorff distance ``hd95_mm``.
HD_PERCENTILE = 95.0
#: Columns of the cases table that :func:`agreement_by_patient` reads.
CASE_COLUMNS = ("patient_id", "sequence", "reader", "mask")

#: Headers of the columns of :func:`agreement_by_patient`, in their order (reader 1 = mask A, reader 2 = mask B).
AGREEMENT_HEADERS = {
    "patient_id": "Patient",
    "sequences": "Sequences",
    "dice": "Dice",
    "jaccard": "Jaccard",
    "volume_a_ml": "Reader 1 volume (mL)",
    "volume_b_ml": "Reader 2 volume (mL)",
    "volume_difference_ml": "Volume difference (mL)",
    "relative_volume_difference": "Volume difference (%)",
    "hausdorff_mm": "Hausdorff (mm)",
    "hd95_mm": "HD95 (mm)",
    "mean_surface_distance_mm": "Mean surface distance (mm)",
}
#: The measures: the fields of :class:`SegmentationAgreement` (the columns after patient and sequences).
AGREEMENT_MEASURES = tuple(AGREEMENT_HEADERS)[2:]
#: Decimals of each measure in :func:`agreement_summary_display`.
MEASURE_DIGITS = {"dice": 3, "jaccard": 3, "relative_volume_difference": 1}
#: Headers of :func:`agreement_summary_display`.
SUMMARY_HEADERS = {"measure": "Measure", "n": "N", "median_iqr": "Median (P25, P75)", "mean_sd": "Mean ± SD", "range": "Min–max"}


@dataclass(frozen=True)
class SegmentationAgreement(Result):
    """Overlap, volumes and surface distances of two masks (definitions: the module docstring).

    Distances are NaN when not requested (``distances=False``) or when a mask is empty
    (``allow_empty=True``); Dice and Jaccard are NaN when both masks are empty.
    """

    dice: float
    jaccard: float
    volume_a_ml: float
    volume_b_ml: float
    volume_difference_ml: float
    relative_volume_difference: float
    hausdorff_mm: float
    hd95_mm: float
    mean_surface_distance_mm: float

    @property
    def volume_difference_percent(self) -> float:
        """``relative_volume_difference`` under the explorer's first name for it (round 1)."""
        return self.relative_volume_difference

    @property
    def hausdorff_95_mm(self) -> float:
        """``hd95_mm`` under the explorer's first name for it (round 1)."""
        return self.hd95_mm


@dataclass(frozen=True)
class SurfaceDistances:
    """The directed surface distances in mm: from each surface voxel of A to B's surface, and back."""

    a_to_b: np.ndarray
    b_to_a: np.ndarray

    @property
    def hausdorff(self) -> float:
        """The largest distance in either direction."""
        return float(max(self.a_to_b.max(), self.b_to_a.max()))

    def percentile(self, q: float = HD_PERCENTILE) -> float:
        """The larger of the two directed ``q``-th percentiles (Huttenlocher; MONAI ``percentile=q``)."""
        return float(max(np.percentile(self.a_to_b, q), np.percentile(self.b_to_a, q)))

    @property
    def mean(self) -> float:
        """The mean of both directions pooled (average symmetric surface distance)."""
        return float(np.concatenate([self.a_to_b, self.b_to_a]).mean())


def _surface_and_distance(binary: sitk.Image) -> tuple[np.ndarray, np.ndarray]:
    """Surface voxels (bool array) and every voxel's distance in mm to the nearest of them.

    One voxel of background is padded around the image so that a mask touching the image
    edge has its surface there, then cropped off again.
    """
    padded = sitk.ConstantPad(binary, [1, 1, 1], [1, 1, 1], 0)
    contour = sitk.LabelContour(padded, fullyConnected=False, backgroundValue=0)
    distance = sitk.SignedMaurerDistanceMap(contour, insideIsPositive=False, squaredDistance=False, useImageSpacing=True)
    inner = (slice(1, -1),) * 3
    surface = sitk.GetArrayViewFromImage(contour)[inner] > 0
    distance = np.abs(sitk.GetArrayFromImage(distance)[inner]).astype(float)
    # the map is 0 on the surface itself, up to float32 noise (about 1e-7 mm) that would
    # make identical masks 0.0000005 mm apart
    distance[surface] = 0.0
    return surface, distance


def surface_distances(binary_a: sitk.Image, binary_b: sitk.Image) -> SurfaceDistances:
    """Directed surface distances of two 3-D 0/1 masks on one grid (both non-empty)."""
    surface_a, distance_to_a = _surface_and_distance(binary_a)
    surface_b, distance_to_b = _surface_and_distance(binary_b)
    return SurfaceDistances(a_to_b=distance_to_b[surface_a], b_to_a=distance_to_a[surface_b])


def _who(patient_id) -> str:
    return f"Patient {patient_id}: " if patient_id is not None else ""


def _read_mask(mask, name: str, patient_id) -> tuple[sitk.Image, str]:
    """The mask as an image and what names it in messages (its path, else ``name``)."""
    if isinstance(mask, (str, os.PathLike)):
        try:
            return read_image(mask), str(mask)
        except CaseError as error:
            raise InputError(f"{_who(patient_id)}{name} '{error.file}' cannot be read: {error}.") from error
    if not isinstance(mask, sitk.Image):
        raise InputError(f"{_who(patient_id)}'{name}' must be a SimpleITK image or a file path; got {type(mask).__name__}.")
    return mask, name


def _binary(mask: sitk.Image, label: int, source: str, patient_id, allow_empty: bool) -> tuple[sitk.Image, int]:
    """0/1 image of the ``label`` voxels and their count; no such voxel is an error unless ``allow_empty``."""
    binary = sitk.Cast(mask == label, sitk.sitkUInt8)
    count = int(np.count_nonzero(sitk.GetArrayViewFromImage(binary)))
    if count == 0 and not allow_empty:
        values = np.unique(sitk.GetArrayViewFromImage(mask))
        raise InputError(
            f"{_who(patient_id)}mask '{source}' has no voxel of label {label}; its values are {values[:10].tolist()}"
            f"{' ...' if values.size > 10 else ''}. Segment the tumour or give its label."
        )
    return binary, count


def _check_same_grid(first: sitk.Image, second: sitk.Image, source_a: str, source_b: str, patient_id) -> None:
    try:
        check_geometry(first, second, source_a, source_b, {})
    except CaseError as error:
        raise InputError(
            f"{_who(patient_id)}the masks '{source_a}' and '{source_b}' must share one voxel grid (their image's); "
            f"'{error.file}' checked as a mask against the first as its image: {error}."
        ) from error


def segmentation_agreement(
    mask_a,
    mask_b,
    label: int = 1,
    *,
    distances: bool = True,
    allow_empty: bool = False,
    patient_id: str | None = None,
) -> SegmentationAgreement:
    """Dice, Jaccard, volumes and surface distances of two masks (SimpleITK images or paths).

    ``label`` is the mask value of the tumour (1, the default of feature extraction).
    ``distances=False`` skips the surface distances (NaN). ``patient_id`` names the patient
    in error messages. Raises :class:`InputError` when the masks are not on one voxel grid
    or (unless ``allow_empty``) a mask has no ``label`` voxel.

    >>> segmentation_agreement("masks/B008_reader1.nii.gz", "masks/B008_reader2.nii.gz").dice  # doctest: +SKIP
    0.88
    """
    first, source_a = _read_mask(mask_a, "mask_a", patient_id)
    second, source_b = _read_mask(mask_b, "mask_b", patient_id)
    _check_same_grid(first, second, source_a, source_b, patient_id)
    binary_a, n_a = _binary(first, label, source_a, patient_id, allow_empty)
    binary_b, n_b = _binary(second, label, source_b, patient_id, allow_empty)
    voxel_ml = float(np.prod(first.GetSpacing())) / MM3_PER_ML
    volume_a, volume_b = n_a * voxel_ml, n_b * voxel_ml
    nan = float("nan")
    dice = jaccard = 0.0 if n_a + n_b else nan
    if n_a and n_b:
        overlap = sitk.LabelOverlapMeasuresImageFilter()
        overlap.Execute(binary_a, binary_b)
        dice, jaccard = overlap.GetDiceCoefficient(), overlap.GetJaccardCoefficient()
    surfaces = surface_distances(binary_a, binary_b) if distances and n_a and n_b else None
    return SegmentationAgreement(
        dice=float(dice),
        jaccard=float(jaccard),
        volume_a_ml=volume_a,
        volume_b_ml=volume_b,
        volume_difference_ml=volume_b - volume_a,
        relative_volume_difference=100 * (volume_b - volume_a) / volume_a if n_a else nan,
        hausdorff_mm=surfaces.hausdorff if surfaces else nan,
        hd95_mm=surfaces.percentile(HD_PERCENTILE) if surfaces else nan,
        mean_surface_distance_mm=surfaces.mean if surfaces else nan,
    )


# --------------------------------------------------------------------------------------
# A cohort: one row per patient and pair of masks
# --------------------------------------------------------------------------------------


def _mask_pairs(cases: pd.DataFrame, reader_a: str, reader_b: str, sequence: str | None) -> pd.DataFrame:
    """``patient_id, sequences, mask_a, mask_b``: each distinct pair of masks once, patients sorted."""
    require_columns(cases, CASE_COLUMNS, what="cases table")
    readers = sorted(cases["reader"].dropna().astype(str).unique())
    for reader in (reader_a, reader_b):
        if reader not in readers:
            raise InputError(f"The cases table has no masks of reader '{reader}'; its readers are {readers}.")
    if sequence is not None:
        present = sorted(cases["sequence"].astype(str).unique())
        if str(sequence) not in present:
            raise InputError(f"The cases table has no sequence '{sequence}'; its sequences are {present}.")
        cases = cases[cases["sequence"].astype(str) == str(sequence)]
    keys = ["patient_id", "sequence"]
    rows = cases.assign(patient_id=cases["patient_id"].astype(str), sequence=cases["sequence"].astype(str))
    first, second = (
        rows.loc[rows["reader"].astype(str) == reader, [*keys, "mask"]].drop_duplicates(keys) for reader in (reader_a, reader_b)
    )
    pairs = first.merge(second, on=keys, suffixes=("_a", "_b"))
    grouped = pairs.groupby(["patient_id", "mask_a", "mask_b"], sort=False)["sequence"].agg(", ".join)
    return (
        grouped.rename("sequences").reset_index().sort_values("patient_id", kind="stable")[["patient_id", "sequences", "mask_a", "mask_b"]]
    )


def _resolve(path, base_dir) -> Path:
    path = Path(path)
    return path if base_dir is None or path.is_absolute() else Path(base_dir) / path


def agreement_by_patient(
    cases: pd.DataFrame,
    reader_a: str,
    reader_b: str,
    sequence: str | None = None,
    progress: bool = False,
    *,
    base_dir: str | os.PathLike | None = None,
    label: int = 1,
    distances: bool = True,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """:func:`segmentation_agreement` of every patient segmented by both readers.

    ``cases`` has one row per patient, sequence and reader (columns ``patient_id``,
    ``sequence``, ``reader``, ``mask``); relative mask paths are read from ``base_dir``
    (None: as given). The readers are compared on the same sequence; a pair of masks shared
    by several sequences (the demo draws one mask per patient and reader) is compared once,
    so the table has one row per patient and pair of masks: ``patient_id``, ``sequences``
    (those sharing the pair, e.g. "T1, FS-T2"), then the fields of
    :class:`SegmentationAgreement`. ``sequence`` restricts the comparison to one sequence;
    ``progress`` shows a progress bar.
    """
    from tqdm.auto import tqdm

    pairs = _mask_pairs(cases, reader_a, reader_b, sequence)
    rows = []
    for pair in tqdm(pairs.itertuples(index=False), total=len(pairs), disable=not progress, desc="segmentation agreement"):
        result = segmentation_agreement(
            _resolve(pair.mask_a, base_dir),
            _resolve(pair.mask_b, base_dir),
            label,
            distances=distances,
            allow_empty=allow_empty,
            patient_id=pair.patient_id,
        )
        rows.append({"patient_id": pair.patient_id, "sequences": pair.sequences, **result.to_dict()})
    return pd.DataFrame(rows, columns=list(AGREEMENT_HEADERS))


def reader_segmentation_agreement(
    cases: pd.DataFrame,
    readers: Mapping[str, str],
    *,
    sequence: str | None = None,
    patients: Sequence | None = None,
    progress: bool = False,
    cache_dir=None,
) -> pd.DataFrame | None:
    """Design B: the segmentations of reader 1 and reader 2 on the re-segmented patients.

    ``readers`` is the study config's mapping of roles to the labels of the cases table
    (``{"reader1": ..., "reader2": ...}``); without a ``reader2`` there is nothing to compare
    and the result is None. ``cases`` is the cases table with absolute mask paths
    (:func:`stsanalysis.studies.radiomics_features.read_cases`); ``patients`` (e.g. the
    clinical table's index) keeps only those patients. Returns :func:`agreement_by_patient`,
    kept in ``cache_dir`` (:func:`stsanalysis.memo.cached_table`) until a mask file changes.
    """
    if not readers or "reader2" not in readers:
        return None
    if "reader1" not in readers:
        raise InputError(f"'readers' must name the primary reader as 'reader1: <label>'; got the roles {sorted(readers)}.")
    if patients is not None:
        require_columns(cases, ["patient_id"], what="cases table")
        wanted = [str(patient) for patient in patients]
        cases = cases[cases["patient_id"].astype(str).isin(wanted)]
        if cases.empty:
            raise InputError(
                f"None of the {len(wanted)} patients given (e.g. {wanted[:3]}) is in the cases table; compare the patient ids of both tables."
            )
    from ..memo import cached_table, file_signature

    first, second = str(readers["reader1"]), str(readers["reader2"])
    compared = cases[cases["reader"].isin([first, second])] if "reader" in cases else cases
    table = cached_table(
        cache_dir,
        "segmentation_agreement",
        [compared, first, second, sequence, file_signature(compared["mask"].unique())],
        lambda: agreement_by_patient(compared, first, second, sequence, progress),
    )
    if table.empty:
        raise InputError(
            f"No patient has masks of both '{readers['reader1']}' (reader1) and '{readers['reader2']}' (reader2) "
            "on the same sequence in the cases table."
        )
    return table


def agreement_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per measure of :func:`agreement_by_patient`: n, median, P25, P75, mean, SD, min and max.

    As ``DataFrame.describe``: one row per statistic (index ``summary``), one column per
    measure. Quartiles interpolate linearly (R's ``quantile`` type 7); SD has n − 1.
    """
    measures = [column for column in AGREEMENT_MEASURES if column in getattr(table, "columns", ())]
    if not measures:
        raise InputError(f"'table' must hold the measures of agreement_by_patient {list(AGREEMENT_MEASURES)}; got none of them.")
    values = table[measures].astype(float)
    summary = pd.DataFrame(
        {
            "n": values.count(),
            "median": values.median(),
            "p25": values.quantile(0.25),
            "p75": values.quantile(0.75),
            "mean": values.mean(),
            "sd": values.std(),
            "min": values.min(),
            "max": values.max(),
        }
    )
    return summary.T.rename_axis("summary")


def agreement_summary_display(summary: pd.DataFrame, digits: Mapping[str, int] | None = None) -> pd.DataFrame:
    """:func:`agreement_summary` as a manuscript prints it: one row per measure with
    ``median_iqr`` "0.880 (0.850, 0.910)", ``mean_sd`` "0.875 ± 0.040" and ``range``
    "0.800–0.930" (headers: :data:`SUMMARY_HEADERS`). ``digits`` overrides the decimals per
    measure (default 3 for Dice and Jaccard, 1 for %, 2 for mL and mm).
    """
    decimals = {**MEASURE_DIGITS, **(digits or {})}
    rows = []
    for measure in summary.columns:
        column, places = summary[measure], decimals.get(measure, 2)
        rows.append(
            {
                "measure": AGREEMENT_HEADERS.get(measure, measure),
                "n": int(column["n"]),
                "median_iqr": format_median_iqr(column["median"], column["p25"], column["p75"], places),
                "mean_sd": format_mean_sd(column["mean"], column["sd"], places),
                "range": format_interval(column["min"], column["max"], places),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_HEADERS))
