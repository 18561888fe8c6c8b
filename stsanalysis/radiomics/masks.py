"""Masks of every kind, as one binary mask on the image's grid: :func:`read_mask`.

A mask file is a label map (NIfTI, NRRD, any file SimpleITK reads or a DICOM series
folder), a DICOM RTSTRUCT or SEG, or a 3D Slicer segmentation (``.seg.nrrd``). ``roi``
chooses the structure: a name, a number (label value, segment or ROI number) or a regular
expression matched case-insensitively against the whole name, from a ``roi`` column or
as ``mask.dcm#GTV_Mass``; a file of one structure needs none, a label map gives ``label``.

* RTSTRUCT (pydicom): a voxel is inside when its centre is, and the contours of a slice
  combine by the even-odd rule (an inner contour is a hole, one inside a hole an island),
  as the DICOM standard describes nested contours and plastimatch and planning systems
  fill them. Slices without a contour between contoured ones stay empty (no
  interpolation; :attr:`MaskInfo.note` names them). The image must be the series drawn
  on (frame of reference, series and slice UIDs: checked when it is a DICOM series).
  rt-utils (rounds vertices to voxels: volumes +7 to +15 %; fails without slice references;
  needs OpenCV) and med-imagetools (fills holes; 6x slower) were measured and not used.
* SEG (highdicom): a segment by number or label. Slicer (slicerio): a segment by name or
  label value (ambiguous when segments overlap in several layers).

A mask on another grid but aligned with the image (a crop, as Slicer and SEG store it) is
copied onto the image grid voxel for voxel (:func:`~.images.align_to_grid`); anything else
is refused with the differences (or resampled when ``correct_mask``, as pyradiomics').
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..errors import InputError
from .images import FRAME_OF_REFERENCE_UID, SERIES_UID, SOP_INSTANCE_UIDS, CaseError, align_to_grid, geometry_differences, read_image

__all__ = ["MaskError", "MaskInfo", "read_mask", "referenced_series_uid", "split_mask_path"]

_SOP_CLASSES = {
    "rtstruct": re.compile(rb"1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.3(?![\d.])"),
    "seg": re.compile(rb"1\.2\.840\.10008\.5\.1\.4\.1\.1\.66\.[47](?![\d.])"),
}


class MaskError(CaseError, InputError):
    """A mask that cannot give the structure asked for; ``file`` is the mask, ``reason`` what is there instead.

    Both a :class:`~.images.CaseError` (extraction lists the case as failed and goes on)
    and an :class:`~stsanalysis.errors.InputError`. With ``what`` (e.g. "patient B001") the
    message names it and the file; without, it is the reason alone, as extraction prefixes
    patient and file itself.
    """

    def __init__(self, reason: str, file: str, what: str | None = None):
        super().__init__(f"{what}, file {file}: {reason}" if what else reason, file)
        self.reason, self.what = reason, what

    def __reduce__(self):  # picklable, so that it can cross from a worker process
        return type(self), (self.reason, self.file, self.what)


@dataclass(frozen=True)
class MaskInfo:
    """Which structure of which file became the mask, for the report's per-patient list.

    ``kind`` is "nifti", "nrrd", "label map" (a file holding several labels, or another
    format), "rtstruct", "seg" or "slicer"; ``structure`` the ROI or segment name ("label
    2" for a label map) and ``number`` its ROI number, segment number or label value;
    ``n_voxels`` the voxels of the mask on the image grid; ``cropped`` whether it was
    placed from a cropped (or flipped) grid; ``note`` anything else worth knowing.
    """

    kind: str
    file: str
    structure: str
    number: int | None
    n_voxels: int
    cropped: bool = False
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def to_diagnostics(self) -> dict:
        """The fields as pyradiomics-style diagnostics (``diagnostics_Mask-source_*``), for the feature table."""
        return {f"diagnostics_Mask-source_{key}": "" if value is None else value for key, value in self.to_dict().items()}

    def __repr__(self) -> str:
        cropped = ", cropped" if self.cropped else ""
        return f"MaskInfo({self.kind} {self.structure!r} (number {self.number}), {self.n_voxels} voxels{cropped})"


@dataclass(frozen=True)
class _Request:
    file: Path
    image: sitk.Image
    roi: object
    default_roi: object
    what: str | None
    label: int = 1

    def fail(self, reason: str):
        raise MaskError(reason, str(self.file), self.what)


def split_mask_path(mask) -> tuple[str, str | None]:
    """``"rt.dcm#GTV_Mass"`` -> ``("rt.dcm", "GTV_Mass")``; a path without ``#`` (or that exists as written) -> ``(path, None)``."""
    text = str(mask)
    if "#" in text and not Path(text).exists():
        path, _, roi = text.rpartition("#")
        return path, roi.strip() or None
    return text, None


def _given(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and str(value).strip() != ""


def _as_number(value) -> int | None:
    """2, 2.0, "2" -> 2; anything else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+(\.0*)?", text):
        return int(float(text))
    return None


def read_mask(path, image: sitk.Image, roi=None, *, label: int = 1, default_roi=None, what: str | None = None, correct_mask: bool = False):
    """The structure ``roi`` of the mask file ``path`` as a 0/1 mask on ``image``'s grid, and what was used.

    Parameters
    ----------
    path
        A label map, RTSTRUCT, SEG or ``.seg.nrrd`` file (or a DICOM series folder);
        ``file#name`` names the structure in the path.
    image
        The image (from :func:`~.images.read_image`): its grid is the mask's, and, when it
        is a DICOM series, an RTSTRUCT or SEG must reference it.
    roi
        Name, number or regular expression of the structure (see the module docstring);
        None, NaN or "" for the default.
    label
        The label of a label map when ``roi`` is not given (pyradiomics' ``label`` setting).
    default_roi
        The study's default name or regular expression, used when ``roi`` is not given
        (by label maps only when it is a number: their labels have no names).
    what
        Who the mask belongs to, e.g. "patient B001", named in error messages.
    correct_mask
        Resample a mask that is not aligned with the image by nearest neighbour (as
        pyradiomics' ``correctMask``) instead of refusing it.

    Returns
    -------
    (sitk.Image, MaskInfo)
        A UInt8 mask of 0 and 1 with the image's size, spacing, origin and direction.

    Raises
    ------
    MaskError
        The structure is not in the file (the message lists those present), the file was
        drawn on another series or frame of reference, a contour or the mask is empty, or
        the mask is not on the image's grid (the message says by how much it differs).
    """
    path, roi_in_path = split_mask_path(path)
    request = _Request(Path(path), image, roi if _given(roi) else None, default_roi if _given(default_roi) else None, what, int(label))
    if roi_in_path is not None:
        if request.roi is not None and str(request.roi).strip() != roi_in_path:
            request.fail(f"the path names structure '{roi_in_path}' and the roi '{request.roi}'; give one of them")
        request = _Request(request.file, image, roi_in_path, request.default_roi, what, request.label)
    if not request.file.exists():
        request.fail("file not found")
    if image.GetDimension() != 3:
        request.fail(f"its image is {image.GetDimension()}-D (size {image.GetSize()}); a 3-D volume is expected")
    kind = _kind_of(request.file)
    reader = {"rtstruct": _read_rtstruct, "seg": _read_seg, "slicer": _read_slicer}.get(kind, _read_label_map)
    mask, structure, number, kind, note = reader(request, kind)
    mask, cropped, placement_note = _on_image_grid(request, mask, correct_mask, reorient=kind in ("seg", "slicer"))
    n_voxels = int(np.count_nonzero(sitk.GetArrayViewFromImage(mask)))
    if n_voxels == 0:
        request.fail(f"the mask of {structure} is empty: no voxel on the image grid")
    note = "; ".join(text for text in (note, placement_note) if text)
    return mask, MaskInfo(kind, str(request.file), structure, number, n_voxels, cropped, note)


def is_structure_set(mask) -> bool:
    """True for a DICOM RTSTRUCT or SEG file or a Slicer segmentation: masks whose structure must be chosen."""
    file = Path(mask)
    return file.is_file() and _kind_of(file) in ("rtstruct", "seg", "slicer")


def _kind_of(file: Path) -> str:
    name = file.name.lower()
    if file.is_dir():
        return "label map"
    if name.endswith(".seg.nrrd") or (name.endswith(".nrrd") and b"Segment0_" in _head(file, 1 << 16)):
        return "slicer"
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if name.endswith((".nrrd", ".nhdr")):
        return "nrrd"
    return next((kind for kind, uid in _SOP_CLASSES.items() if uid.search(_head(file, 1 << 14))), "label map")


def _head(file: Path, size: int) -> bytes:
    with file.open("rb") as handle:
        return handle.read(size)


def _on_image_grid(request: _Request, mask: sitk.Image, correct_mask: bool, reorient: bool) -> tuple[sitk.Image, bool, str]:
    image = request.image
    if mask.GetDimension() != 3:
        request.fail(f"the mask is {mask.GetDimension()}-D (size {mask.GetSize()}); a 3-D volume is expected")
    if not geometry_differences(image, mask):
        mask = sitk.Image(mask)
        mask.CopyInformation(image)
        return mask, False, ""
    aligned = align_to_grid(mask, image, reorient=reorient)
    if aligned is not None:
        return aligned[0], aligned[1], ""
    if correct_mask:
        resampled = sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
        return resampled, False, "resampled onto the image grid by nearest neighbour (correctMask)"
    request.fail(
        "the mask is not on the image grid and is not a crop of it: "
        + "; ".join(geometry_differences(image, mask))
        + "; resample the mask onto the image grid (or set correctMask: true)"
    )


def _choose(request: _Request, entries: list[tuple[int, str]], noun: str) -> tuple[int, str]:
    """The (number, name) of ``entries`` that ``roi`` (else ``default_roi``) names."""
    listed = ", ".join(f"{number}: '{name}'" for number, name in entries)
    wanted = request.roi if request.roi is not None else request.default_roi
    if wanted is None:
        if len(entries) == 1:
            return entries[0]
        request.fail(f"it holds {len(entries)} {noun}s ({listed}); name one in the 'roi' column or as file#name")
    text = str(wanted).strip()
    matches = [entry for entry in entries if entry[1] == text] or [entry for entry in entries if entry[1].casefold() == text.casefold()]
    if not matches and _as_number(wanted) is not None:
        matches = [entry for entry in entries if entry[0] == _as_number(wanted)]
    if not matches:
        try:
            pattern = re.compile(text, re.IGNORECASE)
        except re.error:
            pattern = None
        matches = [entry for entry in entries if pattern is not None and pattern.fullmatch(entry[1])]
    if len(matches) == 1:
        return matches[0]
    found = ", ".join(f"{number}: '{name}'" for number, name in matches)
    request.fail(
        f"'{text}' matches {len(matches)} {noun}s ({found}); make it match one" if matches else f"no {noun} '{text}'; it holds {listed}"
    )


# ----------------------------------------------------------------------------- label maps


def _read_label_map(request: _Request, kind: str):
    try:
        mask = read_image(request.file)
    except CaseError as error:
        raise MaskError(str(error), error.file, request.what) from error
    if mask.GetNumberOfComponentsPerPixel() != 1:
        request.fail(f"the mask has {mask.GetNumberOfComponentsPerPixel()} values per voxel (layers); a label map has one")
    values, counts = np.unique(sitk.GetArrayViewFromImage(mask), return_counts=True)
    if not np.all(values == np.round(values)):
        request.fail(f"the mask holds non-integer values ({values[values != np.round(values)][:3].tolist()}...): threshold it to labels")
    labels = {int(value): int(count) for value, count in zip(values, counts) if value != 0}
    if not labels:
        request.fail("No labels found in this mask: every voxel is 0")  # pyradiomics' words, which users search for
    listed = ", ".join(f"{label} ({count} voxels)" for label, count in labels.items())
    wanted = request.roi if request.roi is not None else (request.default_roi if _as_number(request.default_roi) is not None else None)
    label = request.label if wanted is None else _as_number(wanted)
    if label is None:
        request.fail(f"a label map has numbered labels, not names: give the label number for '{wanted}'; labels present: {listed}")
    if label not in labels:
        request.fail(f"Label ({label}) not present in mask; labels present: {listed}" + ("" if wanted is not None else "; give one as roi"))
    binary = sitk.Cast(sitk.Equal(mask, float(label)), sitk.sitkUInt8)
    return binary, f"label {label}", label, kind if len(labels) == 1 and kind != "label map" else "label map", ""


# ----------------------------------------------------------------------------- DICOM RTSTRUCT


def _dicom(request: _Request):
    try:
        import pydicom
    except ImportError:  # pragma: no cover - the dicom extra is installed by make
        request.fail("reading DICOM RTSTRUCT and SEG files needs the 'dicom' extra: pip install 'stsanalysis[dicom]'")
    try:
        return pydicom.dcmread(request.file, force=True)
    except Exception as error:  # pydicom raises many kinds on a broken file
        request.fail(f"pydicom cannot read it ({type(error).__name__}: {error})")


def referenced_series_uid(path) -> str | None:
    """The SeriesInstanceUID an RTSTRUCT (or SEG) references, to read that series from a folder of several."""
    import pydicom

    dataset = pydicom.dcmread(split_mask_path(path)[0], force=True, stop_before_pixels=True)
    uids = [series.SeriesInstanceUID for series in _referenced_series(dataset)]
    return uids[0] if uids else None


def _referenced_series(dataset) -> list:
    if "ReferencedSeriesSequence" in dataset:  # SEG
        return list(dataset.ReferencedSeriesSequence)
    return [
        series
        for frame in dataset.get("ReferencedFrameOfReferenceSequence", [])
        for study in frame.get("RTReferencedStudySequence", [])
        for series in study.get("RTReferencedSeriesSequence", [])
    ]


def _check_references(request: _Request, frame_uid: str | None, series_uids: set[str], structure: str) -> str:
    """Refuse a structure drawn on another scan; "" or a note when the image does not say which scan it is."""
    image = request.image
    if not image.HasMetaDataKey(SERIES_UID):
        return "references not checked: the image is not a DICOM series"
    image_series = image.GetMetaData(SERIES_UID)
    image_frame = image.GetMetaData(FRAME_OF_REFERENCE_UID) if image.HasMetaDataKey(FRAME_OF_REFERENCE_UID) else None
    if frame_uid and image_frame and frame_uid != image_frame:
        request.fail(
            f"{structure} is drawn in frame of reference {frame_uid}; the image series {image_series} is in frame of "
            f"reference {image_frame}: the file belongs to another scan"
        )
    if series_uids and image_series not in series_uids:
        request.fail(
            f"it references series {', '.join(sorted(series_uids))}; the image is series {image_series}: "
            "give the referenced series as the image"
        )
    return ""


def _read_rtstruct(request: _Request, kind: str):
    dataset = _dicom(request)
    rois = {int(item.ROINumber): item for item in dataset.get("StructureSetROISequence", [])}
    if not rois:
        request.fail("the RTSTRUCT holds no structure (its StructureSetROISequence is empty)")
    number, name = _choose(request, [(number, str(item.get("ROIName", ""))) for number, item in rois.items()], "structure")
    structure = f"structure '{name}'"
    series_uids = {series.SeriesInstanceUID for series in _referenced_series(dataset) if "SeriesInstanceUID" in series}
    note = _check_references(request, rois[number].get("ReferencedFrameOfReferenceUID"), series_uids, structure)
    contours = _closed_contours(request, dataset, number, structure)
    mask, empty_slices = _fill_contours(request, contours, structure)
    if empty_slices:
        note = "; ".join(filter(None, [note, f"slices {empty_slices} between contoured slices have no contour (left empty)"]))
    return mask, name, number, kind, note


def _closed_contours(request: _Request, dataset, number: int, structure: str) -> list[np.ndarray]:
    """The CLOSED_PLANAR contours of ROI ``number`` as (n, 3) arrays of millimetres; refuse empty ones."""
    items = [item for item in dataset.get("ROIContourSequence", []) if int(item.get("ReferencedROINumber", -1)) == number]
    contours = [contour for item in items for contour in item.get("ContourSequence", [])]
    if not contours:
        request.fail(f"{structure} has no contour (empty contour sequence)")
    sop_uids = set(request.image.GetMetaData(SOP_INSTANCE_UIDS).split("\\")) if request.image.HasMetaDataKey(SOP_INSTANCE_UIDS) else None
    closed, kinds = [], set()
    for index, contour in enumerate(contours, start=1):
        kinds.add(str(contour.get("ContourGeometricType", "?")))
        if contour.get("ContourGeometricType") != "CLOSED_PLANAR":
            continue
        points = _contour_points(contour)
        if points.size < 9 or points.size % 3:
            request.fail(f"contour {index} of {structure} is empty ({points.size // 3} points; a closed contour needs 3 or more)")
        references = [item.get("ReferencedSOPInstanceUID") for item in contour.get("ContourImageSequence", [])]
        missing = [uid for uid in references if sop_uids is not None and uid not in sop_uids]
        if missing:
            request.fail(f"contour {index} of {structure} lies on slice {missing[0]}, which the image series lacks (a missing slice?)")
        closed.append(points.reshape(-1, 3))
    if not closed:
        request.fail(f"{structure} holds no closed planar contour to fill (it holds {', '.join(sorted(kinds))})")
    return closed


def _contour_points(contour) -> np.ndarray:
    """ContourData as floats; parsed from the raw text when pydicom has not converted it (35x faster than its DS values)."""
    element = contour.get_item(0x30060050)
    value = None if element is None else element.value
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).strip(b" \0")
        return np.array(text.split(b"\\"), dtype=float) if text else np.empty(0)
    return np.asarray(value if value is not None else [], dtype=float).ravel()


def _fill_contours(request: _Request, contours: list[np.ndarray], structure: str) -> tuple[sitk.Image, list[int]]:
    """Voxels whose centre is inside an odd number of a slice's contours (the even-odd rule)."""
    image = request.image
    size = np.asarray(image.GetSize())
    to_index = np.linalg.inv(np.reshape(image.GetDirection(), (3, 3)) * np.asarray(image.GetSpacing()))
    by_slice: dict[int, list[np.ndarray]] = {}
    for index, points in enumerate(contours, start=1):
        voxel = (points - np.asarray(image.GetOrigin())) @ to_index.T
        plane = float(np.round(voxel[:, 2].mean()))
        if np.abs(voxel[:, 2] - plane).max() > 0.1:
            where = "is not parallel to the image slices" if np.ptp(voxel[:, 2]) > 0.1 else "lies between two image slices"
            request.fail(f"contour {index} of {structure} {where} (slice index {voxel[:, 2].min():.2f} to {voxel[:, 2].max():.2f})")
        if not 0 <= plane < size[2]:
            request.fail(f"contour {index} of {structure} lies outside the image (slice index {plane:.0f}; the image has {size[2]} slices)")
        by_slice.setdefault(int(plane), []).append(voxel[:, :2])
    filled = np.zeros(size[::-1], dtype=bool)
    for plane, polygons in by_slice.items():
        filled[plane] = _even_odd_fill(polygons, int(size[1]), int(size[0]))
    mask = sitk.GetImageFromArray(filled.astype(np.uint8))
    mask.CopyInformation(image)
    return mask, sorted(set(range(min(by_slice), max(by_slice) + 1)) - set(by_slice))


def _even_odd_fill(polygons: list[np.ndarray], n_rows: int, n_columns: int) -> np.ndarray:
    """Scanline fill of (x, y) polygons in voxel units: a voxel centre is inside when an odd number of edges cross its row to its left.

    Each edge counts on the rows ``y_low <= row < y_high`` (half-open, so a vertex on a row
    is counted once); all contours of the slice share the count, which makes nested
    contours holes and islands.
    """
    toggles = np.zeros((n_rows, n_columns + 1), dtype=np.int32)
    for polygon in polygons:
        start, end = polygon, np.roll(polygon, -1, axis=0)
        first = np.maximum(np.ceil(np.minimum(start[:, 1], end[:, 1])), 0).astype(int)
        last = np.minimum(np.ceil(np.maximum(start[:, 1], end[:, 1])) - 1, n_rows - 1).astype(int)
        counts = np.maximum(last - first + 1, 0)
        edge = np.repeat(np.arange(len(start)), counts)
        rows = np.repeat(first, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        x0, y0, x1, y1 = start[edge, 0], start[edge, 1], end[edge, 0], end[edge, 1]
        crossing = x0 + (rows - y0) * (x1 - x0) / (y1 - y0)
        np.add.at(toggles, (rows, np.clip(np.floor(crossing).astype(int) + 1, 0, n_columns)), 1)
    return (np.cumsum(toggles, axis=1)[:, :n_columns] % 2).astype(bool)


# ----------------------------------------------------------------------------- DICOM SEG and Slicer


def _mask_image(voxels_zyx: np.ndarray, index_to_lps: np.ndarray, origin) -> sitk.Image:
    """A SimpleITK image of ``voxels_zyx`` whose voxel (x, y, z) lies at ``origin + index_to_lps @ (x, y, z)``."""
    spacing = np.linalg.norm(index_to_lps, axis=0)
    mask = sitk.GetImageFromArray(np.ascontiguousarray(voxels_zyx, dtype=np.uint8))
    mask.SetSpacing(spacing.tolist())
    mask.SetDirection((index_to_lps / spacing).ravel().tolist())
    mask.SetOrigin(np.asarray(origin, dtype=float).tolist())
    return mask


def _read_seg(request: _Request, kind: str):
    dataset = _dicom(request)
    import highdicom

    try:
        segmentation = highdicom.seg.Segmentation.from_dataset(dataset, copy=False)
    except (AttributeError, ValueError, TypeError) as error:
        request.fail(f"highdicom cannot read it as a DICOM SEG ({error})")
    entries = [(int(item.SegmentNumber), str(item.get("SegmentLabel", ""))) for item in segmentation.SegmentSequence]
    number, name = _choose(request, entries, "segment")
    series_uids = {series.SeriesInstanceUID for series in _referenced_series(dataset)}
    note = _check_references(request, dataset.get("FrameOfReferenceUID"), series_uids, f"segment '{name}'")
    try:
        volume = segmentation.get_volume(segment_numbers=[number], combine_segments=True, relabel=True)
    except (ValueError, RuntimeError) as error:
        request.fail(f"segment {number} '{name}' gives no regular volume ({error})")
    affine = volume.affine  # maps (slice, row, column) to LPS millimetres
    voxels = np.asarray(volume.array) > 0
    return _mask_image(voxels, affine[:3, [2, 1, 0]], affine[:3, 3]), name, number, kind, note


def _read_slicer(request: _Request, kind: str):
    import slicerio

    try:
        segmentation = slicerio.read_segmentation(str(request.file))
    except Exception as error:  # pynrrd and slicerio raise many kinds on a broken file
        request.fail(f"slicerio cannot read it as a 3D Slicer segmentation ({type(error).__name__}: {error})")
    segments = segmentation["segments"]
    if not segments:
        request.fail("the segmentation holds no segment")
    voxels = segmentation["voxels"]
    layers = {int(segment.get("layer", 0)) for segment in segments}
    wanted = request.roi if request.roi is not None else request.default_roi
    number = _as_number(wanted) if wanted is not None else None
    named = [segment for segment in segments if number is not None and int(segment["labelValue"]) == number]
    if len(layers) > 1 and len(named) > 1 and not any(segment["name"] == str(wanted).strip() for segment in segments):
        request.fail(
            f"label {number} is {' and '.join(repr(segment['name']) for segment in named)}: the segments overlap (stored in "
            f"{len(layers)} layers), so the file is no single label map; name the segment"
        )
    entries = [(int(segment["labelValue"]), str(segment["name"])) for segment in segments]
    label, name = _choose(request, entries, "segment")
    segment = next(segment for segment in segments if (int(segment["labelValue"]), str(segment["name"])) == (label, name))
    layer = voxels[int(segment.get("layer", 0))] if voxels.ndim == 4 else voxels
    ijk_to_lps = np.asarray(segmentation["ijkToLPS"], dtype=float)
    note = f"layer {segment.get('layer', 0)} of {len(layers)}" if len(layers) > 1 else ""
    return _mask_image((layer == label).transpose(2, 1, 0), ijk_to_lps[:3, :3], ijk_to_lps[:3, 3]), name, label, kind, note
