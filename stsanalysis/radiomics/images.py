"""Reading images for extraction and display: one reader, its integrity and geometry checks.

:func:`read_image` opens a NIfTI, NRRD or any file SimpleITK reads, or a directory holding
a DICOM series (one of several chosen by its SeriesInstanceUID); a truncated NIfTI is
refused rather than read with zeros in place of the missing voxels, and so is a series
with a missing slice, uneven spacing or slices of different orientations.
:func:`check_geometry` refuses a mask that is not on its image's voxel grid, saying by
how much size, spacing, origin and direction differ; :func:`align_to_grid` places a mask
that is physically aligned with the image (a crop of its grid) onto that grid without
resampling. All raise :class:`CaseError`, naming the file to blame.
"""

from __future__ import annotations

import gzip
import locale
import struct
import zlib
from contextlib import contextmanager
from math import prod
from pathlib import Path

import numpy as np
import SimpleITK as sitk

#: DICOM objects a series folder may hold beside its images (structure sets, segmentations, ...).
NON_IMAGE_MODALITIES = {"RTSTRUCT", "SEG", "RTPLAN", "RTDOSE", "RTRECORD", "SR", "PR", "KO", "REG"}
#: Image metadata keys under which :func:`read_image` keeps a DICOM series' identity.
SERIES_UID, FRAME_OF_REFERENCE_UID, SOP_INSTANCE_UIDS = "0020|000e", "0020|0052", "0008|0018"


class CaseError(Exception):
    """An image or mask cannot be read or used; ``file`` is the one to blame."""

    def __init__(self, message: str, file: str):
        super().__init__(message)
        self.file = file


@contextmanager
def _locale_kept():
    """GDCM (SimpleITK's DICOM reader) resets the C locale to "C", which turns Python's
    default text encoding into ASCII for the rest of the process: restore it."""
    saved = locale.setlocale(locale.LC_ALL)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def read_image(path, *, series_uid: str | None = None) -> sitk.Image:
    """Read a NIfTI/NRRD/... file with SimpleITK, or a DICOM series from a directory.

    A directory must hold one DICOM image series (structure sets and segmentations beside
    it are ignored), or ``series_uid`` names the one to read. The image of a series keeps
    its SeriesInstanceUID, FrameOfReferenceUID and the SOPInstanceUIDs of its slices (in
    slice order, joined by ``\\``) as metadata (:data:`SERIES_UID`, ...), so that a
    structure set can be checked against the series it was drawn on.
    """
    path = Path(path)
    if not path.exists():
        raise CaseError("file not found", str(path))
    try:
        if path.is_dir():
            with _locale_kept():
                return _read_dicom_series(path, series_uid)
        if path.name.lower().endswith((".nii", ".nii.gz")):
            _check_nifti_complete(path)
        return sitk.ReadImage(str(path))
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown error"
        raise CaseError(f"SimpleITK cannot read it ({first_line})", str(path)) from error


def _series_modality(files) -> str:
    reader = sitk.ImageFileReader()
    reader.SetFileName(files[0])
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return "?"
    return reader.GetMetaData("0008|0060").strip() if reader.HasMetaDataKey("0008|0060") else "?"


def _read_dicom_series(path: Path, series_uid: str | None) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    found = {uid: reader.GetGDCMSeriesFileNames(str(path), uid) for uid in reader.GetGDCMSeriesIDs(str(path))}
    described = ", ".join(f"{uid} ({_series_modality(files)}, {len(files)} files)" for uid, files in found.items())
    if series_uid is not None:
        if series_uid not in found:
            raise CaseError(f"the folder holds no DICOM series {series_uid}; it holds {described or 'no DICOM series'}", str(path))
        files = found[series_uid]
    else:
        images = [uid for uid, files in found.items() if _series_modality(files) not in NON_IMAGE_MODALITIES]
        if len(images) != 1:
            raise CaseError(
                f"directory must hold exactly one DICOM series; found {len(images)}"
                + (f": {described} (mixed series: give each its own folder)" if images else ""),
                str(path),
            )
        files = found[images[0]]
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOn()
    image = reader.Execute()
    _check_slices(reader, len(files), str(path))
    for key in (SERIES_UID, FRAME_OF_REFERENCE_UID):
        if reader.HasMetaDataKey(0, key):
            image.SetMetaData(key, reader.GetMetaData(0, key).strip(" \0"))  # a UID of odd length is padded with NUL
    if all(reader.HasMetaDataKey(index, SOP_INSTANCE_UIDS) for index in range(len(files))):
        image.SetMetaData(SOP_INSTANCE_UIDS, "\\".join(reader.GetMetaData(i, SOP_INSTANCE_UIDS).strip(" \0") for i in range(len(files))))
    return image


def _slice_vectors(reader, n_slices: int, key: str):
    if not all(reader.HasMetaDataKey(index, key) for index in range(n_slices)):
        return None
    return np.array([[float(value) for value in reader.GetMetaData(index, key).split("\\")] for index in range(n_slices)])


def _check_slices(reader, n_slices: int, path: str) -> None:
    """One orientation, no two slices at one position, even spacing (a gap is a missing slice)."""
    orientations = _slice_vectors(reader, n_slices, "0020|0037")
    positions = _slice_vectors(reader, n_slices, "0020|0032")
    if orientations is None or positions is None or n_slices < 2:
        return
    if not np.allclose(orientations, orientations[0], atol=1e-4):
        different = int(np.flatnonzero(~np.isclose(orientations, orientations[0], atol=1e-4).all(axis=1))[0])
        raise CaseError(
            f"the series mixes slice orientations: slice 1 is {_format_vector(orientations[0])}, "
            f"slice {different + 1} is {_format_vector(orientations[different])}",
            path,
        )
    normal = np.cross(orientations[0][:3], orientations[0][3:])
    heights = np.sort(positions @ normal)
    gaps = np.diff(heights)
    spacing = float(np.median(gaps))
    uneven = np.flatnonzero(np.abs(gaps - spacing) > 0.05 * spacing + 0.01)  # tolerant of positions rounded to 0.01 mm
    if spacing <= 1e-3 or uneven.size:
        at = int(uneven[0]) if uneven.size else int(np.argmin(gaps))
        raise CaseError(
            f"uneven slice spacing: slices at {heights[at]:.6g} and {heights[at + 1]:.6g} mm are {gaps[at]:.6g} mm apart "
            f"where the others are {spacing:.6g} mm ({n_slices} slices from {heights[0]:.6g} to {heights[-1]:.6g} mm): "
            "a slice is missing, or the folder mixes acquisitions",
            path,
        )


def _nifti_data_size(header: bytes) -> int | None:
    """Bytes a NIfTI-1/-2 file must hold (voxel offset + voxel data) by its header; None if not NIfTI."""
    for order in "<>":
        (header_size,) = struct.unpack(f"{order}i", header[:4]) if len(header) >= 4 else (0,)
        if header_size == 348 and len(header) >= 348:
            dims = struct.unpack(f"{order}8h", header[40:56])
            (bitpix,) = struct.unpack(f"{order}h", header[72:74])
            (offset,) = struct.unpack(f"{order}f", header[108:112])
        elif header_size == 540 and len(header) >= 540:
            dims = struct.unpack(f"{order}8q", header[16:80])
            (bitpix,) = struct.unpack(f"{order}h", header[14:16])
            (offset,) = struct.unpack(f"{order}q", header[168:176])
        else:
            continue
        return int(offset) + prod(dims[1 : dims[0] + 1]) * bitpix // 8
    return None


def _check_nifti_complete(path: Path) -> None:
    """ITK reads a truncated NIfTI without complaint and fills the missing voxels with 0."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(540)
            size = len(header) + sum(len(chunk) for chunk in iter(lambda: handle.read(1 << 20), b""))
    except gzip.BadGzipFile:
        return  # not gzip at all: SimpleITK reports what it is
    except (EOFError, zlib.error) as error:
        raise CaseError(f"the file is corrupt or truncated ({error})", str(path)) from error
    expected = _nifti_data_size(header)
    if expected is not None and size < expected:
        raise CaseError(f"the file is truncated: {size} bytes where its NIfTI header announces {expected}", str(path))


def _format_vector(values) -> str:
    return "(" + ", ".join(f"{value:.6g}" for value in values) + ")"


def _axis_angles(image: sitk.Image, mask: sitk.Image) -> np.ndarray:
    """Angle in degrees between each image axis and the same mask axis."""
    cosines = np.sum(np.reshape(image.GetDirection(), (3, 3)) * np.reshape(mask.GetDirection(), (3, 3)), axis=0)
    return np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))


def geometry_differences(image: sitk.Image, mask: sitk.Image, tolerance: float = 1e-5) -> list[str]:
    """What differs between the voxel grids of two 3-D images, and by how much (empty: the same grid).

    ``tolerance`` is relative to the image spacing (spacing, origin) or absolute (direction
    cosines), as pyradiomics' ``geometryTolerance``.
    """
    spacing = np.asarray(image.GetSpacing())
    differences = []
    checks = (
        ("size", image.GetSize(), mask.GetSize(), 0, " voxels"),
        ("spacing", image.GetSpacing(), mask.GetSpacing(), tolerance * spacing, " mm"),
        ("origin", image.GetOrigin(), mask.GetOrigin(), tolerance * spacing.max(), " mm"),
        ("direction", image.GetDirection(), mask.GetDirection(), tolerance, ""),
    )
    for name, of_image, of_mask, allowed, unit in checks:
        if np.allclose(of_image, of_mask, rtol=0, atol=allowed):
            continue
        by = np.subtract(of_mask, of_image)
        by = np.where(np.abs(by) <= allowed, 0.0, by)  # a float32 rounding is no difference
        if name == "direction":
            amount = f"axes turned by {_format_vector(_axis_angles(image, mask))} degrees"
        elif name == "origin":
            in_voxels = np.linalg.solve(np.reshape(image.GetDirection(), (3, 3)) * spacing, by)
            amount = f"{_format_vector(by)} mm = {_format_vector(in_voxels)} voxels"
        else:
            amount = f"{_format_vector(by)}{unit}"
        differences.append(f"mask {name} {_format_vector(of_mask)} differs from the image {name} {_format_vector(of_image)} by {amount}")
    return differences


def check_geometry(image: sitk.Image, mask: sitk.Image, image_path: str, mask_path: str, settings: dict) -> None:
    """Both 3-D, and the mask on the image's grid (unless ``correctMask`` lets pyradiomics resample it)."""
    if image.GetDimension() != 3:
        raise CaseError(
            f"image is {image.GetDimension()}-D (size {image.GetSize()}); a 3-D volume is expected",
            image_path,
        )
    if mask.GetDimension() != 3:
        raise CaseError(
            f"mask is {mask.GetDimension()}-D (size {mask.GetSize()}); a 3-D volume is expected",
            mask_path,
        )
    if settings.get("correctMask"):
        return  # pyradiomics resamples the mask onto the image grid
    differences = geometry_differences(image, mask, settings.get("geometryTolerance") or 1e-5)
    if differences:
        raise CaseError("; ".join(differences) + "; resample the mask onto the image grid (or set correctMask: true)", mask_path)


def _index_to_physical(image: sitk.Image) -> np.ndarray:
    """3x3 matrix from a voxel index (x, y, z) step to millimetres: direction times spacing."""
    return np.reshape(image.GetDirection(), (3, 3)) * np.asarray(image.GetSpacing())


def align_to_grid(
    mask: sitk.Image, image: sitk.Image, tolerance: float = 1e-3, *, reorient: bool = False
) -> tuple[sitk.Image, bool] | None:
    """``mask`` copied voxel for voxel onto the image's grid, and whether it had to be moved (a crop).

    Possible without resampling when every mask voxel centre is an image voxel centre:
    the same spacing and direction, the origin on the image grid, each within
    ``tolerance`` of a voxel, and the whole mask grid inside the image (a mask cropped to
    the tumour's bounding box, as 3D Slicer saves it). With ``reorient``, axes flipped or
    swapped against the image's are fine too (a DICOM SEG orders its frames its own way).
    None otherwise. The voxels are copied, never interpolated: the placed mask is exact.
    """
    to_image = np.linalg.inv(_index_to_physical(image))
    steps = to_image @ _index_to_physical(mask)
    offset = to_image @ np.subtract(mask.GetOrigin(), image.GetOrigin())
    rounded, start = np.round(steps), np.round(offset)
    is_permutation = (np.abs(rounded).sum(axis=0) == 1).all() and (np.abs(rounded).sum(axis=1) == 1).all()
    if not (is_permutation and np.allclose(steps, rounded, atol=tolerance) and np.allclose(offset, start, atol=tolerance)):
        return None
    order = np.abs(rounded).argmax(axis=1)  # image axis a takes mask axis order[a]
    signs = rounded[np.arange(3), order]
    if not reorient and (list(order) != [0, 1, 2] or (signs < 0).any()):
        return None
    voxels = sitk.GetArrayFromImage(mask).transpose(2, 1, 0).transpose(order)  # (x, y, z) of the image
    low = []
    for axis in range(3):
        if signs[axis] < 0:
            voxels = np.flip(voxels, axis)
        low.append(int(start[axis]) - (voxels.shape[axis] - 1 if signs[axis] < 0 else 0))
    size = image.GetSize()
    if any(first < 0 or first + n > total for first, n, total in zip(low, voxels.shape, size)):
        return None
    placed = np.zeros(size, dtype=voxels.dtype)
    placed[tuple(slice(first, first + n) for first, n in zip(low, voxels.shape))] = voxels
    result = sitk.GetImageFromArray(np.ascontiguousarray(placed.transpose(2, 1, 0)))
    result.CopyInformation(image)
    moved = voxels.shape != tuple(size) or any(low) or bool((signs < 0).any()) or list(order) != [0, 1, 2]
    return result, moved
