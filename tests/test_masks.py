"""Masks of every kind on the image grid: label maps, crops, DICOM RTSTRUCT and SEG, 3D Slicer segmentations.

Expected masks are computed independently of the reader: voxel centres inside the
RTSTRUCT's polygons by matplotlib's point-in-polygon test (128-gons inscribed in circles;
the analytic circles agree to a few boundary voxels), the arrays a SEG or .seg.nrrd was
written from, or the voxels of the real test files of pydicom and slicerio read with
SimpleITK.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from stsanalysis.data.demo_dicom import write_cropped_slicer_segmentation, write_dicom_series, write_rtstruct, write_seg
from stsanalysis.errors import InputError
from stsanalysis.radiomics.images import SERIES_UID, CaseError, align_to_grid, check_geometry, read_image
from stsanalysis.radiomics.masks import MaskError, MaskInfo, read_mask, referenced_series_uid, split_mask_path

pydicom = pytest.importorskip("pydicom")
slicerio = pytest.importorskip("slicerio")
pytest.importorskip("highdicom")
from pydicom.data import get_testdata_file  # noqa: E402

SLICER_DATA = Path(slicerio.__file__).parent / "data"
PYDICOM_DATA = Path(get_testdata_file("CT_small.dcm")).parent


def _array(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image)


def _volume(size=(40, 36, 12), spacing=(0.8, 0.8, 2.5), origin=(-16.0, -14.0, -15.0), direction=None) -> sitk.Image:
    rng = np.random.default_rng(0)
    image = sitk.GetImageFromArray((100 + 20 * rng.standard_normal(size[::-1])).astype(np.int16))
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    if direction is not None:
        image.SetDirection(direction)
    return image


def _labels(image: sitk.Image) -> np.ndarray:
    """A label map on ``image``: 1 a box, 2 another box."""
    labels = np.zeros(image.GetSize()[::-1], dtype=np.uint8)
    labels[3:8, 10:20, 8:22] = 1
    labels[4:6, 24:30, 25:32] = 2
    return labels


def _as_image(array: np.ndarray, like: sitk.Image) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(like)
    return image


# ----------------------------------------------------------------------------- label maps and paths


def test_a_nifti_mask_is_returned_on_the_image_grid(tmp_path):
    image = _volume()
    labels = (_labels(image) == 1).astype(np.uint8)
    sitk.WriteImage(_as_image(labels, image), str(tmp_path / "mask.nii.gz"))
    mask, info = read_mask(tmp_path / "mask.nii.gz", image)
    np.testing.assert_array_equal(_array(mask), labels)
    assert mask.GetPixelID() == sitk.sitkUInt8 and mask.GetOrigin() == image.GetOrigin()
    assert (info.kind, info.structure, info.number, info.n_voxels, info.cropped) == ("nifti", "label 1", 1, int(labels.sum()), False)
    assert info.to_dict()["structure"] == "label 1" and len(info.to_frame()) == 1
    assert info.to_diagnostics()["diagnostics_Mask-source_structure"] == "label 1"
    assert repr(info) == f"MaskInfo(nifti 'label 1' (number 1), {labels.sum()} voxels)"


def test_a_label_map_gives_the_label_asked_for(tmp_path):
    image = _volume()
    labels = _labels(image)
    sitk.WriteImage(_as_image(labels, image), str(tmp_path / "labels.nrrd"))
    for roi in (2, "2", 2.0):
        mask, info = read_mask(tmp_path / "labels.nrrd", image, roi)
        np.testing.assert_array_equal(_array(mask), labels == 2)
        assert (info.kind, info.structure, info.number) == ("label map", "label 2", 2)
    # no roi: label 1, as pyradiomics' default label; a study's default name means nothing to a label map
    assert read_mask(tmp_path / "labels.nrrd", image, float("nan"), default_roi="GTV.*")[1].number == 1
    assert read_mask(tmp_path / "labels.nrrd", image, label=2)[1].number == 2
    assert read_mask(tmp_path / "labels.nrrd#2", image)[1].number == 2


@pytest.mark.parametrize(
    "values, roi, message",
    [
        (
            {1: 1, 2: 2},
            "GTV",
            "a label map has numbered labels, not names: give the label number for 'GTV'; labels present: 1 (700 voxels), 2",
        ),
        ({1: 1, 2: 2}, 5, "Label (5) not present in mask; labels present: 1 (700 voxels), 2 (84 voxels)"),
        ({1: 2, 2: 3}, None, "Label (1) not present in mask; labels present: 2 (700 voxels), 3 (84 voxels); give one as roi"),
        ({1: 0, 2: 0}, None, "No labels found in this mask: every voxel is 0"),
    ],
)
def test_label_map_errors_list_the_labels_present(tmp_path, values, roi, message):
    image = _volume()
    labels = _labels(image)
    relabelled = np.select([labels == 1, labels == 2], [values[1], values[2]], 0).astype(np.uint8)
    sitk.WriteImage(_as_image(relabelled, image), str(tmp_path / "labels.nii.gz"))
    with pytest.raises(MaskError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        read_mask(tmp_path / "labels.nii.gz", image, roi, what="patient P01")
    assert isinstance(raised.value, InputError) and isinstance(raised.value, CaseError)
    assert raised.value.file == str(tmp_path / "labels.nii.gz")
    assert str(raised.value).startswith(f"patient P01, file {tmp_path / 'labels.nii.gz'}: ")


def test_a_probability_map_is_refused(tmp_path):
    image = _volume()
    sitk.WriteImage(_as_image(_labels(image) * np.float32(0.5), image), str(tmp_path / "p.nii.gz"))
    with pytest.raises(MaskError, match=r"non-integer values \(\[0.5\]...\): threshold it"):
        read_mask(tmp_path / "p.nii.gz", image)


def test_file_hash_name_syntax_and_its_conflict_with_the_roi_column(tmp_path):
    assert split_mask_path("a/rt.dcm#GTV_Mass") == ("a/rt.dcm", "GTV_Mass")
    assert split_mask_path("a/rt.dcm") == ("a/rt.dcm", None)
    existing = tmp_path / "odd#name.nii.gz"
    existing.write_bytes(b"")
    assert split_mask_path(existing) == (str(existing), None)
    with pytest.raises(MaskError, match="the path names structure 'GTV_Mass' and the roi 'GTV_Edema'; give one of them"):
        read_mask("rt.dcm#GTV_Mass", _volume(), "GTV_Edema")
    with pytest.raises(MaskError, match="file not found"):
        read_mask(tmp_path / "absent.nii.gz", _volume())


# ----------------------------------------------------------------------------- crops and geometry


def test_a_cropped_mask_is_placed_exactly(tmp_path):
    image = _volume()
    labels = (_labels(image) == 1).astype(np.uint8)
    full = _as_image(labels, image)
    crop = sitk.RegionOfInterest(full, (18, 14, 7), (6, 8, 2))  # size, index: keeps its physical position
    sitk.WriteImage(crop, str(tmp_path / "crop.nrrd"))
    mask, info = read_mask(tmp_path / "crop.nrrd", image)
    np.testing.assert_array_equal(_array(mask), labels)
    assert info.cropped and info.kind == "nrrd"
    # flipped axes are the same voxels: placed when asked to reorient (a SEG's frames), refused otherwise (as a NIfTI's)
    flipped = sitk.Flip(crop, (True, False, True))
    assert align_to_grid(flipped, image) is None
    placed = align_to_grid(flipped, image, reorient=True)
    assert placed is not None and placed[1]
    np.testing.assert_array_equal(_array(placed[0]), labels)
    # an origin off the grid by less than the tolerance (1e-3 voxel) is still the grid
    crop.SetOrigin(np.add(crop.GetOrigin(), (1e-4, 0, 0)).tolist())
    np.testing.assert_array_equal(_array(align_to_grid(crop, image)[0]), labels)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda crop: crop.SetOrigin(np.add(crop.GetOrigin(), (0.4, 0, 0)).tolist()),
            r"origin .* by \(5.2, 6.4, 5\) mm = \(6.5, 8, 2\) voxels",
        ),
        (
            lambda crop: crop.SetSpacing((0.8, 0.8, 2.0)),
            r"spacing \(0.8, 0.8, 2\) differs from the image spacing \(0.8, 0.8, 2.5\) by \(0, 0, -0.5\) mm",
        ),
        (lambda crop: crop.SetDirection((0, -1, 0, 1, 0, 0, 0, 0, 1)), r"direction .* by axes turned by \(90, 90, 0\) degrees"),
    ],
)
def test_a_mask_off_the_image_grid_says_by_how_much(tmp_path, change, message):
    image = _volume()
    crop = sitk.RegionOfInterest(_as_image((_labels(image) == 1).astype(np.uint8), image), (18, 14, 7), (6, 8, 2))
    change(crop)
    sitk.WriteImage(crop, str(tmp_path / "crop.nii.gz"))
    with pytest.raises(MaskError, match="the mask is not on the image grid and is not a crop of it: .*" + message):
        read_mask(tmp_path / "crop.nii.gz", image)


def test_a_mask_larger_than_the_image_or_misaligned_is_refused_unless_correct_mask(tmp_path):
    image = _volume()
    padded = sitk.ConstantPad(_as_image((_labels(image) == 1).astype(np.uint8), image), (0, 0, 0), (0, 0, 1))
    sitk.WriteImage(padded, str(tmp_path / "padded.nii.gz"))
    with pytest.raises(MaskError, match=r"mask size \(40, 36, 13\) differs from the image size \(40, 36, 12\) by \(0, 0, 1\) voxels"):
        read_mask(tmp_path / "padded.nii.gz", image)
    padded.SetOrigin((-16.2, -14.0, -15.0))
    sitk.WriteImage(padded, str(tmp_path / "shifted.nii.gz"))
    mask, info = read_mask(tmp_path / "shifted.nii.gz", image, correct_mask=True)
    assert info.note == "resampled onto the image grid by nearest neighbour (correctMask)" and not info.cropped
    assert mask.GetSize() == image.GetSize() and info.n_voxels > 0


def test_check_geometry_lists_every_difference():
    image = _volume()
    mask = _as_image(np.zeros(image.GetSize()[::-1], np.uint8), image)
    mask.SetOrigin((-16.0, -14.0, -10.0))
    mask.SetSpacing((0.8, 0.8, 3.0))
    with pytest.raises(CaseError) as raised:
        check_geometry(image, mask, "image.nii", "mask.nii", {})
    assert str(raised.value) == (
        "mask spacing (0.8, 0.8, 3) differs from the image spacing (0.8, 0.8, 2.5) by (0, 0, 0.5) mm; "
        "mask origin (-16, -14, -10) differs from the image origin (-16, -14, -15) by (0, 0, 5) mm = (0, 0, 2) voxels; "
        "resample the mask onto the image grid (or set correctMask: true)"
    )


# ----------------------------------------------------------------------------- DICOM series


def _series(folder: Path, image=None, seed="s") -> list:
    return write_dicom_series(image if image is not None else _volume(), folder, "P01", seed)


def test_a_series_keeps_its_identity_and_is_chosen_by_uid(tmp_path):
    first = _series(tmp_path / "study", seed="a")
    second = _series(tmp_path / "other", _volume(size=(20, 20, 4)), seed="b")
    for dataset in second:
        shutil.copy(tmp_path / "other" / f"IM{dataset.InstanceNumber:04d}.dcm", tmp_path / "study" / f"B{dataset.InstanceNumber:04d}.dcm")
    with pytest.raises(CaseError, match=r"directory must hold exactly one DICOM series; found 2: .* \(MR, 12 files\), .* \(MR, 4 files\)"):
        read_image(tmp_path / "study")
    image = read_image(tmp_path / "study", series_uid=second[0].SeriesInstanceUID)
    assert image.GetSize() == (20, 20, 4) and image.GetMetaData(SERIES_UID) == second[0].SeriesInstanceUID
    with pytest.raises(CaseError, match="the folder holds no DICOM series 1.2.3; it holds"):
        read_image(tmp_path / "study", series_uid="1.2.3")
    # an RTSTRUCT and a SEG beside the images are not series to read
    write_rtstruct(tmp_path / "other" / "rt.dcm", second, {"box": np.ones((4, 20, 20), np.uint8)}, "b")
    write_seg(tmp_path / "other" / "seg.dcm", second, {"box": np.ones((4, 20, 20), np.uint8)}, "b")
    assert read_image(tmp_path / "other").GetMetaData("0008|0018").split("\\") == [item.SOPInstanceUID for item in second]
    assert referenced_series_uid(tmp_path / "other" / "rt.dcm#box") == second[0].SeriesInstanceUID
    assert first[0].SeriesInstanceUID != second[0].SeriesInstanceUID


def test_a_series_with_a_missing_slice_is_refused(tmp_path):
    _series(tmp_path / "series")
    (tmp_path / "series" / "IM0005.dcm").unlink()
    with pytest.raises(CaseError, match=r"uneven slice spacing: slices at -7.5 and -2.5 mm are 5 mm apart where the others are 2.5 mm"):
        read_image(tmp_path / "series")


@pytest.mark.parametrize(
    "folder, message",
    [
        ("98892003/MR2", r"exactly one DICOM series; found 3: .* \(MR, 3 files\)"),
        ("98892001/CT2N", r"the series mixes slice orientations: slice 1 is \(1, 0, 0, 0, 0, -1\), slice 2 is \(0, -1, 0, 0, 0, -1\)"),
        ("77654033/CT2", r"uneven slice spacing: .* 202.5 mm apart where the others are 1.25 mm"),
    ],
)
def test_real_folders_of_mixed_or_missing_slices_are_refused(folder, message):
    # pydicom's DICOMDIR test files: real (downsampled) series
    with pytest.raises(CaseError, match=message):
        read_image(PYDICOM_DATA / "dicomdirtests" / folder)


# ----------------------------------------------------------------------------- RTSTRUCT


def _circle(centre, radius, n=128) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([centre[0] + radius * np.cos(angle), centre[1] + radius * np.sin(angle)])


def _disc(shape_yx, centre, radius) -> np.ndarray:
    """Voxel centres inside the 128-gon of :func:`_circle` (matplotlib's point-in-polygon test)."""
    from matplotlib.path import Path as Polygon

    rows, columns = np.indices(shape_yx)
    inside = Polygon(_circle(centre, radius)).contains_points(np.column_stack([columns.ravel(), rows.ravel()]))
    return inside.reshape(shape_yx)


def _analytic_disc(shape_yx, centre, radius) -> np.ndarray:
    rows, columns = np.indices(shape_yx)
    return (columns - centre[0]) ** 2 + (rows - centre[1]) ** 2 < radius**2


HARD_CASES = {
    # name: [(slices, [(centre x, y in voxels, radius in voxels), ...])]; contours on one slice combine even-odd
    # (centres and radii off the lattice, so that no voxel centre lies on a circle)
    "annulus": (range(2, 9), [((20.3, 18.2), 12.4), ((20.3, 18.2), 5.3)]),
    "two islands": (range(2, 9), [((10.3, 18.2), 6.3), ((30.3, 18.2), 6.3)]),
    "island in a hole": (range(2, 9), [((20.3, 18.2), 16.4), ((20.3, 18.2), 10.3), ((20.3, 18.2), 4.3)]),
    "gap": ([2, 3, 4, 7, 8], [((20.3, 18.2), 9.3)]),
}


def _hard_case_files(folder: Path, image: sitk.Image):
    slices = _series(folder / "series", image)
    structures = {name: [(z, _circle(*circle)) for z in planes for circle in circles] for name, (planes, circles) in HARD_CASES.items()}
    write_rtstruct(folder / "rt.dcm", slices, structures, "s")
    expected = {}
    for name, (planes, circles) in HARD_CASES.items():
        mask = np.zeros(image.GetSize()[::-1], bool)
        for z in planes:
            for centre, radius in circles:
                mask[z] ^= _disc(mask.shape[1:], centre, radius)
        expected[name] = mask
    for name, (planes, circles) in HARD_CASES.items():
        # the circles themselves: the 128-gons are inside them by at most 0.004 voxels
        analytic = np.zeros(image.GetSize()[::-1], bool)
        for z in planes:
            for centre, radius in circles:
                analytic[z] ^= _analytic_disc(analytic.shape[1:], centre, radius)
        assert 2 * np.count_nonzero(analytic & expected[name]) / (analytic.sum() + expected[name].sum()) > 0.995
    return read_image(folder / "series"), expected


OBLIQUE = tuple(np.linalg.qr(np.array([[0.9, -0.3, 0.2], [0.35, 0.9, -0.1], [-0.15, 0.2, 0.95]]))[0].ravel())


@pytest.mark.parametrize("direction", [None, OBLIQUE], ids=["axial", "oblique"])
def test_rtstruct_holes_islands_and_missing_slices(tmp_path, direction):
    image, expected = _hard_case_files(tmp_path, _volume(direction=direction))
    for name, truth in expected.items():
        mask, info = read_mask(tmp_path / "rt.dcm", image, name)
        found = _array(mask).astype(bool)
        dice = 2 * np.count_nonzero(found & truth) / (found.sum() + truth.sum())
        assert dice == 1.0, (name, dice)
        assert (info.kind, info.structure, info.n_voxels) == ("rtstruct", name, found.sum())
    annulus = _array(read_mask(tmp_path / "rt.dcm", image, "annulus")[0])
    assert annulus[5, 18, 20] == 0 and annulus[5, 18, 28] == 1  # the hole and the ring
    island = _array(read_mask(tmp_path / "rt.dcm", image, "island in a hole")[0])
    assert (island[5, 18, 20], island[5, 18, 27], island[5, 18, 33]) == (1, 0, 1)
    gap = read_mask(tmp_path / "rt.dcm", image, "GAP")[1]  # names match case-insensitively
    assert gap.note == "slices [5, 6] between contoured slices have no contour (left empty)"
    assert not _array(read_mask(tmp_path / "rt.dcm", image, "gap")[0])[5:7].any()


def test_rtstruct_structure_by_name_number_or_regular_expression(tmp_path):
    image, _ = _hard_case_files(tmp_path, _volume())
    assert read_mask(tmp_path / "rt.dcm", image, 2)[1].structure == "two islands"
    assert read_mask(tmp_path / "rt.dcm", image, "ANN.*")[1].structure == "annulus"
    assert read_mask(tmp_path / "rt.dcm", image, None, default_roi="two .*")[1].structure == "two islands"
    assert read_mask(str(tmp_path / "rt.dcm") + "#gap", image)[1].structure == "gap"
    names = "1: 'annulus', 2: 'two islands', 3: 'island in a hole', 4: 'gap'"
    with pytest.raises(MaskError, match=f"no structure 'GTV'; it holds {names}"):
        read_mask(tmp_path / "rt.dcm", image, "GTV")
    with pytest.raises(MaskError, match=f"it holds 4 structures \\({names}\\); name one in the 'roi' column or as file#name"):
        read_mask(tmp_path / "rt.dcm", image)
    with pytest.raises(MaskError, match="'.*i.*' matches 2 structures \\(2: 'two islands', 3: 'island in a hole'\\); make it match one"):
        read_mask(tmp_path / "rt.dcm", image, ".*i.*")


def _edit(path: Path, change) -> Path:
    dataset = pydicom.dcmread(path)
    change(dataset)
    edited = path.with_name("edited.dcm")
    dataset.save_as(edited)
    return edited


def test_rtstruct_drawn_on_another_series_or_frame_of_reference_is_refused(tmp_path):
    image, _ = _hard_case_files(tmp_path, _volume())
    other = _edit(
        tmp_path / "rt.dcm",
        lambda d: setattr(
            d.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0],
            "SeriesInstanceUID",
            "1.2.3.4",
        ),
    )
    with pytest.raises(
        MaskError, match=f"it references series 1.2.3.4; the image is series {image.GetMetaData(SERIES_UID)}: give the referenced series"
    ):
        read_mask(other, image, "gap")
    frame = _edit(tmp_path / "rt.dcm", lambda d: setattr(d.StructureSetROISequence[3], "ReferencedFrameOfReferenceUID", "1.2.3.5"))
    with pytest.raises(
        MaskError,
        match="structure 'gap' is drawn in frame of reference 1.2.3.5; the image series .* is in frame of reference .*: the file belongs to another scan",
    ):
        read_mask(frame, image, "gap")


def test_rtstruct_empty_contours_points_and_missing_slices_are_refused(tmp_path):
    image, _ = _hard_case_files(tmp_path, _volume())

    def empty_contour(dataset):
        dataset.ROIContourSequence[3].ContourSequence[1].ContourData = ["1.0", "2.0", "3.0", "4.0", "5.0", "6.0"]

    with pytest.raises(MaskError, match="contour 2 of structure 'gap' is empty \\(2 points; a closed contour needs 3 or more\\)"):
        read_mask(_edit(tmp_path / "rt.dcm", empty_contour), image, "gap")
    with pytest.raises(MaskError, match="structure 'gap' has no contour \\(empty contour sequence\\)"):
        read_mask(_edit(tmp_path / "rt.dcm", lambda d: setattr(d.ROIContourSequence[3], "ContourSequence", [])), image, "gap")
    (tmp_path / "series" / "IM0012.dcm").unlink()  # the last slice: the series stays evenly spaced
    shorter = read_image(tmp_path / "series")
    read_mask(tmp_path / "rt.dcm", shorter, "gap")  # no contour on the missing slice
    contour_on_it = _edit(
        tmp_path / "rt.dcm",
        lambda d: (
            d.ROIContourSequence[3]
            .ContourSequence[4]
            .ContourImageSequence[0]
            .__setattr__("ReferencedSOPInstanceUID", image.GetMetaData("0008|0018").split("\\")[-1])
        ),
    )
    with pytest.raises(
        MaskError, match="contour 5 of structure 'gap' lies on slice .*, which the image series lacks \\(a missing slice\\?\\)"
    ):
        read_mask(contour_on_it, shorter, "gap")


def test_rtstruct_on_a_grid_its_contours_do_not_lie_on(tmp_path):
    image, expected = _hard_case_files(tmp_path, _volume())
    nifti = sitk.Image(image.GetSize(), sitk.sitkInt16)
    nifti.CopyInformation(image)  # the same grid without DICOM identity: contours fill, references unchecked
    mask, info = read_mask(tmp_path / "rt.dcm", nifti, "annulus")
    np.testing.assert_array_equal(_array(mask).astype(bool), expected["annulus"])
    assert info.note == "references not checked: the image is not a DICOM series"
    nifti.SetOrigin(np.add(image.GetOrigin(), (0, 0, 1.25)).tolist())
    with pytest.raises(MaskError, match="contour 1 of structure 'annulus' lies between two image slices \\(slice index 1.50 to 1.50\\)"):
        read_mask(tmp_path / "rt.dcm", nifti, "annulus")
    nifti.SetOrigin(np.add(image.GetOrigin(), (0, 0, 25.0)).tolist())
    with pytest.raises(
        MaskError, match="contour 1 of structure 'annulus' lies outside the image \\(slice index -8; the image has 12 slices\\)"
    ):
        read_mask(tmp_path / "rt.dcm", nifti, "annulus")


def test_pydicoms_real_rtstruct():
    path = get_testdata_file("rtstruct.dcm")  # no DICOM preamble; ROIs 'patient' (3 contours) and two POINT isocentres
    image = sitk.Image((60, 46, 3), sitk.sitkInt16)
    image.SetSpacing((7.0, 7.0, 10.0))
    image.SetOrigin((-206.5, -160.5, -200.0))
    with pytest.raises(MaskError, match="no structure 'GTV'; it holds 1: 'patient', 2: 'Isocenter 1', 3: 'Isocenter 2'"):
        read_mask(path, image, "GTV")
    with pytest.raises(MaskError, match="structure 'Isocenter 1' holds no closed planar contour to fill \\(it holds POINT\\)"):
        read_mask(path, image, "Isocenter 1")
    mask, info = read_mask(path, image, "patient")
    dataset = pydicom.dcmread(path, force=True)
    for z, contour in enumerate(dataset.ROIContourSequence[0].ContourSequence):
        points = np.reshape(np.asarray(contour.ContourData, float), (-1, 3))
        lows, highs = (np.asarray(image.TransformPhysicalPointToContinuousIndex(corner)) for corner in (points.min(0), points.max(0)))
        # the contours are axis-aligned rectangles here: every voxel centre between their corners
        box = np.zeros(image.GetSize()[1::-1], bool)
        box[int(np.ceil(lows[1])) : int(np.floor(highs[1])) + 1, int(np.ceil(lows[0])) : int(np.floor(highs[0])) + 1] = True
        np.testing.assert_array_equal(_array(mask)[z].astype(bool), box)
    assert info.structure == "patient" and info.number == 1


# ----------------------------------------------------------------------------- SEG


def test_seg_by_number_label_or_expression_and_errors(tmp_path):
    image = _volume()
    labels = _labels(image)
    slices = _series(tmp_path / "series", image)
    write_seg(tmp_path / "seg.dcm", slices, {"GTV_Mass": labels == 1, "GTV_Edema": labels == 2}, "s")
    series = read_image(tmp_path / "series")
    for roi, number in ((1, 1), ("GTV_Edema", 2), ("gtv_m.*", 1)):
        mask, info = read_mask(tmp_path / "seg.dcm", series, roi)
        np.testing.assert_array_equal(_array(mask), labels == number)
        assert (info.kind, info.number) == ("seg", number) and info.cropped  # empty frames are not stored
    with pytest.raises(MaskError, match="no segment 'GTV_Necrosis'; it holds 1: 'GTV_Mass', 2: 'GTV_Edema'"):
        read_mask(tmp_path / "seg.dcm", series, "GTV_Necrosis")
    with pytest.raises(MaskError, match="no segment '3'; it holds"):
        read_mask(tmp_path / "seg.dcm", series, 3)
    _series(tmp_path / "other", image, seed="other")
    with pytest.raises(MaskError, match="segment 'GTV_Mass' is drawn in frame of reference .*: the file belongs to another scan"):
        read_mask(tmp_path / "seg.dcm", read_image(tmp_path / "other"), 1)
    other_series = _edit(tmp_path / "seg.dcm", lambda d: setattr(d.ReferencedSeriesSequence[0], "SeriesInstanceUID", "1.2.3.4"))
    with pytest.raises(MaskError, match="it references series 1.2.3.4; the image is series .*: give the referenced series as the image"):
        read_mask(other_series, series, 1)


# highdicom checks the person name of the source image: the real oblique file's is one word
@pytest.mark.filterwarnings("ignore:The string .* is unlikely to represent the intended person name:UserWarning")
def test_seg_on_real_sagittal_and_oblique_slices(tmp_path):
    # pydicom's real files: a sagittal CT slice (16 x 16) and an oblique CT slice (512 x 512, JPEG 2000)
    for name, source in (("sagittal", "dicomdirtests/98892001/CT2N/6293"), ("oblique", "J2K_pixelrep_mismatch.dcm")):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(PYDICOM_DATA / source, folder / "image.dcm")
        dataset = pydicom.dcmread(folder / "image.dcm")
        image = read_image(folder)
        disc = _disc((dataset.Rows, dataset.Columns), (dataset.Columns / 2 - 0.3, dataset.Rows / 2 + 0.2), dataset.Rows / 4)[None]
        write_seg(tmp_path / f"{name}_seg.dcm", [dataset], {"disc": disc}, name)
        write_rtstruct(
            tmp_path / f"{name}_rt.dcm",
            [dataset],
            {"disc": [(0, _circle((dataset.Columns / 2 - 0.3, dataset.Rows / 2 + 0.2), dataset.Rows / 4))]},
            name,
        )
        for mask_file in (f"{name}_seg.dcm", f"{name}_rt.dcm"):
            mask, info = read_mask(tmp_path / mask_file, image)
            np.testing.assert_array_equal(_array(mask).astype(bool), disc, err_msg=mask_file)
            assert info.note == ""


# ----------------------------------------------------------------------------- 3D Slicer


def test_slicer_segments_by_name_or_label_on_slicerios_real_files():
    # slicerio's test data: a chest CT and its segmentation (7 named segments, one layer)
    image = read_image(SLICER_DATA / "CTChest4.nrrd")
    labels = _array(sitk.ReadImage(str(SLICER_DATA / "Segmentation.seg.nrrd")))
    for roi, label in (("right lung", 5), (1, 1), ("THORACIC.*", 3)):
        mask, info = read_mask(SLICER_DATA / "Segmentation.seg.nrrd", image, roi)
        np.testing.assert_array_equal(_array(mask), labels == label)
        assert (info.kind, info.number, info.cropped) == ("slicer", label, False)
    assert read_mask(SLICER_DATA / "Segmentation.seg.nrrd", image, "ribs")[1].structure == "ribs"
    with pytest.raises(MaskError, match="'.*lung' matches 2 segments \\(5: 'right lung', 6: 'left lung'\\); make it match one"):
        read_mask(SLICER_DATA / "Segmentation.seg.nrrd", image, ".*lung")
    with pytest.raises(MaskError, match="no segment 'tumour'; it holds 1: 'ribs', 2: 'cervical vertebral column'"):
        read_mask(SLICER_DATA / "Segmentation.seg.nrrd", image, "tumour")


def test_overlapping_slicer_segments_are_no_single_label_map():
    # two layers: 'overlapping sphere' is label 1 of layer 1, as 'ribs' is label 1 of layer 0
    image = read_image(SLICER_DATA / "CTChest4.nrrd")
    layers = _array(sitk.ReadImage(str(SLICER_DATA / "SegmentationOverlapping.seg.nrrd")))  # (z, y, x, layer)
    mask, info = read_mask(SLICER_DATA / "SegmentationOverlapping.seg.nrrd", image, "overlapping sphere")
    np.testing.assert_array_equal(_array(mask), layers[..., 1] == 1)
    assert info.note == "layer 1 of 2"
    with pytest.raises(
        MaskError,
        match="label 1 is 'ribs' and 'overlapping sphere': the segments overlap \\(stored in 2 layers\\), so the file is no single label map; name the segment",
    ):
        read_mask(SLICER_DATA / "SegmentationOverlapping.seg.nrrd", image, 1)


def test_a_cropped_slicer_segmentation_is_placed_on_its_image(tmp_path):
    image = _volume()
    labels = _labels(image)
    write_cropped_slicer_segmentation(tmp_path / "s.seg.nrrd", image, {"GTV_Mass": labels == 1, "GTV_Edema": labels == 2})
    assert sitk.ReadImage(str(tmp_path / "s.seg.nrrd")).GetSize() == (24, 20, 5)
    for name, label in (("GTV_Mass", 1), ("GTV_Edema", 2)):
        mask, info = read_mask(tmp_path / "s.seg.nrrd", image, name)
        np.testing.assert_array_equal(_array(mask), labels == label)
        assert info.cropped and info.structure == name
    overlapping = {"a": labels == 1, "b": (labels == 1) | (labels == 2)}
    write_cropped_slicer_segmentation(tmp_path / "o.seg.nrrd", image, overlapping)
    with pytest.raises(MaskError, match="label 1 is 'a' and 'b': the segments overlap"):
        read_mask(tmp_path / "o.seg.nrrd", image, 1)
    assert read_mask(tmp_path / "o.seg.nrrd", image, "b")[1].n_voxels == int(overlapping["b"].sum())


def test_mask_info_is_a_frozen_result_and_mask_error_crosses_processes():
    import pickle

    error = pickle.loads(pickle.dumps(MaskError("no segment 'GTV'", "seg.dcm", "patient P01")))
    assert (str(error), error.file, error.reason) == ("patient P01, file seg.dcm: no segment 'GTV'", "seg.dcm", "no segment 'GTV'")
    info = MaskInfo("seg", "seg.dcm", "GTV_Mass", 1, 10, True)
    with pytest.raises(AttributeError):
        info.kind = "nifti"
    assert info.to_diagnostics() == {
        "diagnostics_Mask-source_kind": "seg",
        "diagnostics_Mask-source_file": "seg.dcm",
        "diagnostics_Mask-source_structure": "GTV_Mass",
        "diagnostics_Mask-source_number": 1,
        "diagnostics_Mask-source_n_voxels": 10,
        "diagnostics_Mask-source_cropped": True,
        "diagnostics_Mask-source_note": "",
    }
