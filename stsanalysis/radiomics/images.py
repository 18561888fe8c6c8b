"""Reading images for extraction and display: one reader, its integrity and geometry checks.

:func:`read_image` opens a NIfTI, NRRD or any file SimpleITK reads, or a directory holding
one DICOM series; a truncated NIfTI is refused rather than read with zeros in place of the
missing voxels. :func:`check_geometry` refuses a mask that is not on its image's voxel grid.
Both raise :class:`CaseError`, naming the file to blame.
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


def read_image(path) -> sitk.Image:
    """Read a NIfTI/NRRD/... file with SimpleITK, or a DICOM series from a directory."""
    path = Path(path)
    if not path.exists():
        raise CaseError("file not found", str(path))
    try:
        if path.is_dir():
            with _locale_kept():
                reader = sitk.ImageSeriesReader()
                series = reader.GetGDCMSeriesIDs(str(path))
                if len(series) != 1:
                    raise CaseError(f"directory must hold exactly one DICOM series; found {len(series)}", str(path))
                reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(path), series[0]))
                return reader.Execute()
        if path.name.lower().endswith((".nii", ".nii.gz")):
            _check_nifti_complete(path)
        return sitk.ReadImage(str(path))
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown error"
        raise CaseError(f"SimpleITK cannot read it ({first_line})", str(path)) from error


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
    tolerance = settings.get("geometryTolerance") or 1e-5
    spacing = np.asarray(image.GetSpacing())
    checks = (
        ("size", image.GetSize(), mask.GetSize(), 0),
        ("spacing", image.GetSpacing(), mask.GetSpacing(), tolerance * spacing),
        ("origin", image.GetOrigin(), mask.GetOrigin(), tolerance * spacing.max()),
        ("direction", image.GetDirection(), mask.GetDirection(), tolerance),
    )
    for name, of_image, of_mask, allowed in checks:
        if not np.allclose(of_image, of_mask, rtol=0, atol=allowed):
            raise CaseError(
                f"mask {name} {_format_vector(of_mask)} differs from the image {name} "
                f"{_format_vector(of_image)}; resample the mask onto the image grid "
                "(or set correctMask: true)",
                mask_path,
            )
