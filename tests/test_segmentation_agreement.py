"""Segmentation agreement of two readers: analytic spheres and cubes, the conventions, the demo, the figure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from scipy import ndimage

from stsanalysis import InputError
from stsanalysis.plotting.segmentation import segmentation_agreement_figure
from stsanalysis.radiomics.segmentation import (
    AGREEMENT_MEASURES,
    SegmentationAgreement,
    agreement_by_patient,
    agreement_summary,
    agreement_summary_display,
    reader_segmentation_agreement,
    segmentation_agreement,
    surface_distances,
)
from stsanalysis.viewer import mask_agreement, reader_agreement_table

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "radiomics"


def image(array_zyx, spacing=(1.0, 1.0, 1.0)) -> sitk.Image:
    result = sitk.GetImageFromArray(np.asarray(array_zyx, dtype=np.uint8))
    result.SetSpacing([float(value) for value in spacing])
    return result


def sphere(shape_zyx, centre_xyz, radius_mm, spacing) -> np.ndarray:
    """Voxels whose centre lies within ``radius_mm`` of the centre of voxel ``centre_xyz`` (whole
    voxel offsets, so that a sphere moved by whole voxels holds the same voxels, moved)."""
    z, y, x = np.indices(shape_zyx)
    squared = sum(((index - centre) * step) ** 2 for index, step, centre in zip((x, y, z), spacing, centre_xyz))
    return (squared <= radius_mm**2 + 1e-9).astype(np.uint8)  # a centre at exactly the radius is inside


def lens_volume(radius: float, distance: float) -> float:
    """Volume shared by two spheres of one radius whose centres are ``distance`` apart."""
    return np.pi * (4 * radius + distance) * (2 * radius - distance) ** 2 / 12


# --------------------------------------------------------------------------- analytic cases


@pytest.mark.parametrize(
    ("spacing", "axis", "shift_voxels"),
    [((0.8, 0.8, 0.8), 0, 5), ((1.0, 1.0, 1.0), 1, 10), ((0.8, 0.8, 2.0), 2, 2)],
    ids=["x-shift-0.8mm", "y-shift-1mm", "z-shift-anisotropic"],
)
def test_spheres_offset_by_a_known_distance(spacing, axis, shift_voxels):
    radius = 16.0  # mm
    shift = shift_voxels * spacing[axis]  # mm, a whole number of voxels: B is A moved on the grid
    shape = tuple(int(np.ceil((2 * radius + shift) / step)) + 6 for step in spacing[::-1])
    centre = [int(np.ceil(radius / step)) + 3 for step in spacing]
    moved = list(centre)
    moved[axis] += shift_voxels
    first, second = sphere(shape, centre, radius, spacing), sphere(shape, moved, radius, spacing)
    result = segmentation_agreement(image(first, spacing), image(second, spacing))

    sphere_volume = 4 / 3 * np.pi * radius**3
    shared = lens_volume(radius, shift)
    assert result.dice == pytest.approx(shared / sphere_volume, rel=0.01)
    assert result.jaccard == pytest.approx(shared / (2 * sphere_volume - shared), rel=0.01)
    assert result.volume_a_ml == pytest.approx(sphere_volume / 1000, rel=0.01)
    assert result.volume_difference_ml == 0.0 and result.relative_volume_difference == 0.0  # the same voxels, moved
    # Hausdorff: the back pole of A is `shift` from B, and no surface point is farther
    assert result.hausdorff_mm == pytest.approx(shift, abs=1e-5)
    assert 0 < result.mean_surface_distance_mm < result.hd95_mm <= result.hausdorff_mm


def test_sphere_pair_values_are_pinned():
    # r = 20 voxels of 0.8 mm (16 mm), shifted 5 voxels (4 mm) in x: analytic Dice 0.8135, voxelised 0.8137
    spacing, radius = (0.8, 0.8, 0.8), 16.0
    first = sphere((56, 56, 64), (24, 24, 24), radius, spacing)
    second = sphere((56, 56, 64), (29, 24, 24), radius, spacing)
    result = segmentation_agreement(image(first, spacing), image(second, spacing))
    assert lens_volume(radius, 4.0) / (4 / 3 * np.pi * radius**3) == pytest.approx(0.81348, abs=1e-5)
    assert result.dice == pytest.approx(0.81375, abs=1e-5)
    assert result.hausdorff_mm == pytest.approx(4.0, abs=1e-5)
    assert result.hd95_mm == pytest.approx(3.66606, abs=1e-4)
    assert result.mean_surface_distance_mm == pytest.approx(1.90111, abs=1e-4)


def test_identical_masks_agree_perfectly():
    mask = sphere((20, 24, 24), (12, 12, 10), 8.0, (1.0, 1.0, 2.0))
    result = segmentation_agreement(image(mask, (1, 1, 2)), image(mask, (1, 1, 2)))
    assert result.dice == 1.0 and result.jaccard == 1.0
    assert result.volume_difference_ml == 0.0 and result.relative_volume_difference == 0.0
    assert result.hausdorff_mm == 0.0 and result.hd95_mm == 0.0 and result.mean_surface_distance_mm == 0.0


def test_disjoint_cubes_have_dice_zero_and_the_counted_distances():
    # Two 4-voxel cubes, x 2..5 and x 10..13 (1 mm voxels). A's surface layers x = 2, 3, 4, 5
    # hold 16, 12, 12, 16 voxels, each 10 - x mm from B's face at x = 10 (and symmetrically).
    first, second = np.zeros((8, 8, 16), np.uint8), np.zeros((8, 8, 16), np.uint8)
    first[2:6, 2:6, 2:6] = 1
    second[2:6, 2:6, 10:14] = 1
    result = segmentation_agreement(image(first), image(second))
    assert result.dice == 0.0 and result.jaccard == 0.0
    assert result.hausdorff_mm == pytest.approx(8.0)
    assert result.hd95_mm == pytest.approx(8.0)  # 95th percentile of 56 distances: rank 53.25 of 16 x 8
    assert result.mean_surface_distance_mm == pytest.approx((16 * 8 + 12 * 7 + 12 * 6 + 16 * 5) / 56)


def test_outside_the_image_is_background():
    # A fills the image; B lacks its last x column. A's face on the image edge is a surface
    # (as MONAI and MedPy see it), one x step (0.8 mm) from B's.
    first = np.ones((4, 6, 6), np.uint8)
    second = first.copy()
    second[:, :, 5] = 0
    spacing = (0.8, 0.8, 4.0)
    result = segmentation_agreement(image(first, spacing), image(second, spacing))
    assert result.hausdorff_mm == pytest.approx(0.8, rel=1e-6)
    assert result.dice == pytest.approx(2 * 120 / (144 + 120))


# --------------------------------------------------------------------------- conventions


def monai_hausdorff(first: np.ndarray, second: np.ndarray, spacing_zyx, percentile: float | None) -> float:
    """MONAI's compute_hausdorff_distance(percentile=..., directed=False) on one pair of masks:
    edges = mask XOR binary_erosion(mask), distance_transform_edt with the spacing, the larger
    of the two directed percentiles (np.percentile, linear)."""

    def directed(source, target):
        edges_source = source ^ ndimage.binary_erosion(source)
        edges_target = target ^ ndimage.binary_erosion(target)
        distances = ndimage.distance_transform_edt(~edges_target, sampling=spacing_zyx)[edges_source]
        return distances.max() if percentile is None else np.percentile(distances, percentile)

    return max(directed(first, second), directed(second, first))


@pytest.fixture
def irregular_pair():
    """An ellipsoid and a shifted, rougher sphere on anisotropic voxels."""
    rng = np.random.default_rng(7)
    spacing = (0.8, 0.8, 2.5)
    z, y, x = np.indices((24, 48, 48))
    ellipsoid = ((x * 0.8 - 19) / 11) ** 2 + ((y * 0.8 - 19) / 8) ** 2 + ((z * 2.5 - 30) / 16) ** 2 <= 1
    blob = ((x * 0.8 - 21) ** 2 + (y * 0.8 - 18) ** 2 + (z * 2.5 - 28) ** 2) <= (10 + rng.normal(0, 0.6, x.shape)) ** 2
    return ellipsoid, blob, spacing


def test_hd95_and_hausdorff_follow_monai_and_itk(irregular_pair):
    first, second, spacing = irregular_pair
    result = segmentation_agreement(image(first, spacing), image(second, spacing))
    # MONAI: compute_hausdorff_distance(y_pred, y, percentile=95) (and percentile=None), reimplemented above
    assert result.hd95_mm == pytest.approx(monai_hausdorff(first, second, spacing[::-1], 95), rel=1e-6)
    assert result.hausdorff_mm == pytest.approx(monai_hausdorff(first, second, spacing[::-1], None), rel=1e-6)
    # ITK: HausdorffDistanceImageFilter on the two surfaces (padded so that the image edge is background)
    contours = [sitk.LabelContour(sitk.ConstantPad(image(mask, spacing), [1] * 3, [1] * 3, 0), False) for mask in (first, second)]
    itk = sitk.HausdorffDistanceImageFilter()
    itk.Execute(*contours)
    assert result.hausdorff_mm == pytest.approx(itk.GetHausdorffDistance(), rel=1e-6)
    # MedPy's hd95 pools the two directions, and is never larger
    distances = surface_distances(image(first, spacing), image(second, spacing))
    pooled = np.percentile(np.concatenate([distances.a_to_b, distances.b_to_a]), 95)
    assert pooled <= result.hd95_mm
    assert result.mean_surface_distance_mm == pytest.approx(distances.mean)


def test_overlap_and_volumes_follow_the_voxel_counts(irregular_pair):
    first, second, spacing = irregular_pair
    result = segmentation_agreement(image(first, spacing), image(second, spacing))
    shared, n_a, n_b = int((first & second).sum()), int(first.sum()), int(second.sum())
    voxel_ml = np.prod(spacing) / 1000
    assert result.dice == pytest.approx(2 * shared / (n_a + n_b), rel=1e-12)
    assert result.jaccard == pytest.approx(shared / (n_a + n_b - shared), rel=1e-12)
    assert result.volume_a_ml == pytest.approx(n_a * voxel_ml, rel=1e-6)
    assert result.volume_difference_ml == pytest.approx((n_b - n_a) * voxel_ml, rel=1e-6)
    assert result.relative_volume_difference == pytest.approx(100 * (n_b - n_a) / n_a, rel=1e-9)


def test_label_selects_the_tumour_value():
    mask = np.zeros((6, 10, 10), np.uint8)
    mask[2:4, 2:6, 2:6] = 1
    other = mask * 2  # the same voxels, labelled 2
    assert segmentation_agreement(image(other), image(other), label=2).dice == 1.0
    with pytest.raises(InputError, match=r"no voxel of label 1; its values are \[0, 2\]"):
        segmentation_agreement(image(mask), image(other))


# --------------------------------------------------------------------------- errors


def write_mask(path: Path, array, spacing=(0.8, 0.8, 4.0)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image(array, spacing), str(path))
    return path


def test_masks_on_different_grids_are_an_error_naming_patient_and_files(tmp_path):
    mask = np.zeros((3, 6, 6), np.uint8)
    mask[1, 2:4, 2:4] = 1
    first = write_mask(tmp_path / "P7_reader1.nii.gz", mask)
    second = write_mask(tmp_path / "P7_reader2.nii.gz", mask, spacing=(1.0, 1.0, 4.0))
    with pytest.raises(
        InputError, match=r"Patient P7: the masks .*P7_reader1.nii.gz' and .*P7_reader2.nii.gz' must share one voxel grid.*spacing"
    ):
        segmentation_agreement(first, second, patient_id="P7")
    shifted = image(mask, (0.8, 0.8, 4.0))
    shifted.SetOrigin((0.0, 0.0, 8.0))
    with pytest.raises(InputError, match="origin"):
        segmentation_agreement(image(mask, (0.8, 0.8, 4.0)), shifted)


def test_empty_mask_is_an_error_naming_patient_and_file(tmp_path):
    mask = np.zeros((3, 6, 6), np.uint8)
    mask[1, 2:4, 2:4] = 1
    first = write_mask(tmp_path / "masks" / "P3_reader1.nii.gz", mask)
    empty = write_mask(tmp_path / "masks" / "P3_reader2.nii.gz", np.zeros_like(mask))
    cases = pd.DataFrame(
        {
            "patient_id": ["P3", "P3"],
            "sequence": ["T1", "T1"],
            "reader": ["reader1", "reader2"],
            "mask": ["masks/P3_reader1.nii.gz", "masks/P3_reader2.nii.gz"],
        }
    )
    with pytest.raises(InputError, match=r"Patient P3: mask '.*P3_reader2.nii.gz' has no voxel of label 1"):
        agreement_by_patient(cases, "reader1", "reader2", base_dir=tmp_path)
    with pytest.raises(InputError, match="cannot be read: file not found"):
        segmentation_agreement(first, tmp_path / "missing.nii.gz", patient_id="P3")
    lenient = segmentation_agreement(first, empty, allow_empty=True)  # the explorer's choice
    assert lenient.dice == 0.0 and lenient.volume_b_ml == 0.0 and np.isnan(lenient.hd95_mm)


# --------------------------------------------------------------------------- tables


@pytest.fixture
def two_sequence_cases(tmp_path):
    """P1: one mask per reader shared by T1 and FS-T2; P2: a mask per sequence; P3: reader 1 only."""
    rows = []
    for patient, per_sequence in (("P1", False), ("P2", True), ("P3", False)):
        for sequence in ("T1", "FS-T2"):
            for reader, offset in (("reader1", 0), ("reader2", 1)):
                if patient == "P3" and reader == "reader2":
                    continue
                mask = np.zeros((3, 8, 8), np.uint8)
                mask[1, 2:6, 2 + offset : 6 + offset] = 1
                name = f"masks/{patient}_{reader}{'_' + sequence if per_sequence else ''}.nii.gz"
                write_mask(tmp_path / name, mask)
                rows.append({"patient_id": patient, "sequence": sequence, "reader": reader, "image": "unused", "mask": name})
    return pd.DataFrame(rows), tmp_path


def test_agreement_by_patient_compares_each_pair_of_masks_once(two_sequence_cases):
    cases, base = two_sequence_cases
    table = agreement_by_patient(cases, "reader1", "reader2", base_dir=base)
    assert table[["patient_id", "sequences"]].values.tolist() == [["P1", "T1, FS-T2"], ["P2", "T1"], ["P2", "FS-T2"]]
    assert list(table.columns[2:]) == list(AGREEMENT_MEASURES) == [field.name for field in dataclasses.fields(SegmentationAgreement)]
    np.testing.assert_allclose(table["dice"], 2 * 12 / 32)  # 4 x 4 squares one column apart
    only_t1 = agreement_by_patient(cases, "reader1", "reader2", sequence="T1", base_dir=base)
    assert only_t1[["patient_id", "sequences"]].values.tolist() == [["P1", "T1"], ["P2", "T1"]]
    with pytest.raises(InputError, match="no masks of reader 'reader3'"):
        agreement_by_patient(cases, "reader1", "reader3", base_dir=base)
    with pytest.raises(InputError, match="no sequence 'DWI'"):
        agreement_by_patient(cases, "reader1", "reader2", sequence="DWI", base_dir=base)


def test_reader_segmentation_agreement_reads_the_study_readers(two_sequence_cases):
    cases, base = two_sequence_cases
    cases = cases.assign(mask=[str(base / path) for path in cases["mask"]])  # as read_cases resolves them
    assert reader_segmentation_agreement(cases, {"reader1": "reader1"}) is None
    assert reader_segmentation_agreement(cases, {}) is None
    table = reader_segmentation_agreement(cases, {"reader1": "reader1", "reader2": "reader2"}, patients=["P2", "P3"])
    assert table["patient_id"].tolist() == ["P2", "P2"]
    with pytest.raises(InputError, match=r"None of the 2 patients given \(e.g. \['0', '1'\]\) is in the cases table"):
        reader_segmentation_agreement(cases, {"reader1": "reader1", "reader2": "reader2"}, patients=pd.RangeIndex(2))
    with pytest.raises(InputError, match="reader1: <label>"):
        reader_segmentation_agreement(cases, {"reader2": "reader2"})
    with pytest.raises(InputError, match="no masks of reader 'reader2'"):
        reader_segmentation_agreement(cases, {"reader1": "reader1", "reader2": "reader2"}, patients=["P3"])
    crossed = cases[(cases["patient_id"] == "P1") & ((cases["reader"] == "reader1") == (cases["sequence"] == "T1"))]
    assert sorted(zip(crossed["reader"], crossed["sequence"])) == [("reader1", "T1"), ("reader2", "FS-T2")]
    with pytest.raises(InputError, match="No patient has masks of both 'reader1' .* on the same sequence"):
        reader_segmentation_agreement(crossed, {"reader1": "reader1", "reader2": "reader2"})


def test_agreement_summary_matches_r():
    # R: x <- c(0.80, 0.85, 0.90, 0.95); quantile(x, c(.25, .5, .75)); mean(x); sd(x)
    table = pd.DataFrame(
        {"patient_id": list("abcd"), "sequences": "T1", "dice": [0.80, 0.85, 0.90, 0.95], "hd95_mm": [1.0, 2.0, np.nan, 4.0]}
    )
    summary = agreement_summary(table)
    assert list(summary.columns) == ["dice", "hd95_mm"]
    assert summary.index.tolist() == ["n", "median", "p25", "p75", "mean", "sd", "min", "max"]
    np.testing.assert_allclose(summary["dice"], [4, 0.875, 0.8375, 0.9125, 0.875, 0.06454972243679027, 0.80, 0.95], rtol=1e-12)
    assert summary.loc["n", "hd95_mm"] == 3 and summary.loc["median", "hd95_mm"] == 2.0
    shown = agreement_summary_display(summary).set_index("measure")
    assert shown.loc["Dice", "mean_sd"] == "0.875 ± 0.065"
    assert shown.loc["Dice", "range"] == "0.800–0.950"
    assert shown.loc["HD95 (mm)", "median_iqr"] == "2.00 (1.50, 3.00)"
    with pytest.raises(InputError, match="measures of agreement_by_patient"):
        agreement_summary(pd.DataFrame({"patient_id": ["a"]}))


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_cases(tmp_path_factory):
    """Three re-segmented patients of the demo (written afresh when data/demo is absent)."""
    folder = DEMO
    if not (folder / "cases.csv").is_file():
        from stsanalysis.data.demo import make_radiomics_demo

        folder = make_radiomics_demo(tmp_path_factory.mktemp("demo")).directory
    cases = pd.read_csv(folder / "cases.csv")
    patients = sorted(cases.loc[cases["reader"] == "reader2", "patient_id"].unique())[:3]
    return cases[cases["patient_id"].isin(patients)], folder


def test_demo_readers_agree_plausibly_and_as_the_explorer_shows(demo_cases):
    cases, folder = demo_cases
    table = agreement_by_patient(cases, "reader1", "reader2", base_dir=folder)
    assert len(table) == 3 and set(table["sequences"]) == {"T1, FS-T2"}  # one mask per patient and reader
    assert table["dice"].between(0.75, 0.98).all()
    assert table["hd95_mm"].between(0.5, 8.0).all()
    assert (table["hd95_mm"] <= table["hausdorff_mm"]).all()
    pd.testing.assert_frame_equal(reader_agreement_table(cases, folder), table)  # the explorer's table
    for row in table.itertuples():
        masks = cases[(cases["patient_id"] == row.patient_id)].drop_duplicates("reader").set_index("reader")["mask"]
        shown = mask_agreement(folder / masks["reader1"], folder / masks["reader2"], hausdorff=True)  # the Readers tab
        assert shown.to_dict() == pytest.approx({name: getattr(row, name) for name in AGREEMENT_MEASURES}, rel=1e-12)


def test_figure_draws_dice_hd95_and_volumes(demo_cases):
    cases, folder = demo_cases
    table = agreement_by_patient(cases, "reader1", "reader2", base_dir=folder)
    figure = segmentation_agreement_figure(table, title="Reader 1 vs reader 2")
    roles = [trace.meta["role"] for trace in figure.data]
    assert roles == ["dice", "hd95_mm", "identity", "volumes"]
    np.testing.assert_allclose(figure.data[0].y, table["dice"])
    np.testing.assert_allclose(figure.data[3].x, table["volume_a_ml"])
    identity = figure.data[2]
    assert identity.x[0] == identity.y[0] == 0 and identity.x[1] == identity.y[1] >= table[["volume_a_ml", "volume_b_ml"]].max().max()
    titles = [annotation.text for annotation in figure.layout.annotations]  # plotly's subplot titles
    assert titles == [f"Dice: median {table['dice'].median():.3f}", f"HD95 (mm): median {table['hd95_mm'].median():.1f}", "Tumour volume"]
    assert "Patient" in figure.data[0].hovertext[0]
    with pytest.raises(InputError, match="no patient"):
        segmentation_agreement_figure(table.iloc[:0])
