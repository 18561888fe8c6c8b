"""Cohort explorer: mask agreement, filtering, feature tables, the 2 x 2 table, widget wiring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from conftest import write_dicom_series

from stsanalysis import InputError, stats
from stsanalysis.viewer import (
    CohortExplorer,
    agreement_summary,
    cohort_feature_table,
    filter_cohort,
    filter_options,
    hausdorff_95,
    load_explorer_data,
    mask_agreement,
    patient_images,
    reader_agreement_table,
    reliability_icc,
    resegmented_patients,
    two_by_two,
)
from stsanalysis.viewer.figures import distribution_figure, roc_threshold_figure, scatter_figure

SPACING = (0.8, 0.8, 4.0)
VOXEL_ML = 0.8 * 0.8 * 4.0 / 1000


def sitk_image(array_zyx, spacing=SPACING):
    image = sitk.GetImageFromArray(np.asarray(array_zyx))
    image.SetSpacing(spacing)
    return image


def box_mask(rows: slice, columns: slice, slices: slice = slice(1, 2), shape=(3, 6, 6)) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    mask[slices, rows, columns] = 1
    return mask


# --------------------------------------------------------------------------- agreement


def test_dice_and_jaccard_match_a_hand_count():
    # Two 3 x 3 squares, the second shifted by one column: 6 shared voxels of 9 + 9.
    first = box_mask(slice(1, 4), slice(1, 4))
    second = box_mask(slice(1, 4), slice(2, 5))
    result = mask_agreement(sitk_image(first), sitk_image(second))
    assert result.dice == pytest.approx(2 * 6 / 18, rel=1e-12)
    assert result.jaccard == pytest.approx(6 / 12, rel=1e-12)
    assert result.volume_a_ml == pytest.approx(9 * VOXEL_ML, rel=1e-6)  # spacing is stored as float32-exact
    assert result.volume_difference_percent == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(result.hausdorff_95_mm)  # not requested


def test_dice_of_nested_masks_and_volume_difference():
    first = box_mask(slice(1, 4), slice(1, 4))  # 9 voxels
    second = box_mask(slice(1, 3), slice(1, 3))  # 4 voxels inside the first
    result = mask_agreement(sitk_image(first), sitk_image(second))
    assert result.dice == pytest.approx(8 / 13, rel=1e-12)
    assert result.jaccard == pytest.approx(4 / 9, rel=1e-12)
    assert result.volume_difference_percent == pytest.approx(100 * (4 - 9) / 9, rel=1e-9)


def test_hausdorff_95_of_masks_one_slice_apart_is_the_slice_spacing():
    # Every surface voxel of one single-slice square is 4 mm (one slice) from the other's.
    first = box_mask(slice(1, 4), slice(1, 4), slice(0, 1))
    second = box_mask(slice(1, 4), slice(1, 4), slice(1, 2))
    assert mask_agreement(sitk_image(first), sitk_image(second), hausdorff=True).hausdorff_95_mm == pytest.approx(4.0)
    assert hausdorff_95(first > 0, first > 0, SPACING[::-1]) == 0.0
    # Single voxels two columns apart: 2 x 0.8 mm
    point_a, point_b = np.zeros((1, 1, 4), bool), np.zeros((1, 1, 4), bool)
    point_a[0, 0, 0], point_b[0, 0, 2] = True, True
    assert hausdorff_95(point_a, point_b, SPACING[::-1]) == pytest.approx(1.6)


def test_empty_masks_and_mismatched_grids():
    empty = sitk_image(np.zeros((3, 6, 6), dtype=np.uint8))
    result = mask_agreement(empty, empty, hausdorff=True)
    assert np.isnan(result.dice) and np.isnan(result.jaccard) and np.isnan(result.hausdorff_95_mm)
    with pytest.raises(InputError, match="share one voxel grid"):
        mask_agreement(empty, sitk_image(np.zeros((3, 6, 5), dtype=np.uint8)))
    with pytest.raises(InputError, match="share one voxel grid"):
        mask_agreement(empty, sitk_image(np.zeros((3, 6, 6), dtype=np.uint8), spacing=(1, 1, 1)))


# --------------------------------------------------------------------------- tables


@pytest.fixture
def clinical():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "centre": [1, 1, 1, 2, 2, 2],
            "grade": [1, 3, 2, 3, 1, 3],
            "scanner": ["A", "A", "B", "C", "C", "C"],
            "high_grade": [0, 1, 0, 1, 0, 1],
            "size_cm": [4.0, 9.5, 6.0, 5.5, 7.0, 12.0],
            "age": [50, 61, 45, 70, 66, 58],
        }
    )


def test_filter_cohort_combines_columns_and_ignores_empty_selections(clinical):
    assert filter_cohort(clinical, {"centre": ["1"], "grade": None})["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert filter_cohort(clinical, {"centre": [2], "grade": ["3"]})["patient_id"].tolist() == ["P4", "P6"]
    assert filter_cohort(clinical, {"scanner": ["A", "B"], "grade": []})["patient_id"].tolist() == ["P1", "P2", "P3"]
    with pytest.raises(InputError, match="hospital"):
        filter_cohort(clinical, {"hospital": ["1"]})


def test_filter_options_are_sorted_text(clinical):
    assert filter_options(clinical, "grade") == ["1", "2", "3"]
    assert filter_options(clinical, "scanner") == ["A", "B", "C"]


def test_two_by_two_at_a_threshold_matches_a_hand_count():
    # Higher score = positive (pROC direction "<"); at 2.5 the test is positive for 5, 4, 3:
    # tp = 2 (5, 4), fp = 1 (3), fn = 1 (2), tn = 3 (1, 1, 0).
    y = [1, 1, 1, 0, 0, 0, 0]
    score = [5, 4, 2, 3, 1, 1, 0]
    cutoff = stats.roc(y, score).at(2.5)
    table = two_by_two(cutoff, positive="high grade", negative="low grade")
    expected = pd.DataFrame(
        [[2, 1, 3], [1, 3, 4], [3, 4, 7]],
        index=pd.Index(["Test +", "Test -", "Total"], name="test_result"),
        columns=["high grade", "low grade", "Total"],
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert (cutoff.sensitivity, cutoff.specificity) == (pytest.approx(2 / 3), pytest.approx(3 / 4))


@pytest.fixture
def features():
    """Two sequences x (6 patients by reader 1 + 5 of them by reader 2), two features."""
    rng = np.random.default_rng(7)
    rows = []
    for sequence in ("T1", "FS-T2"):
        true = rng.normal(10, 3, size=(6, 2))
        for reader, patients in (("reader1", range(6)), ("reader2", range(5))):
            for index in patients:
                noise = rng.normal(0, 0.5, 2)
                rows.append(
                    {
                        "patient_id": f"P{index + 1}",
                        "sequence": sequence,
                        "reader": reader,
                        "f_mean": true[index, 0] + noise[0],
                        "f_range": true[index, 1] + noise[1],
                    }
                )
    return pd.DataFrame(rows).set_index(["patient_id", "sequence", "reader"])


def test_cohort_feature_table_adds_reader1_features_per_sequence(clinical, features):
    table = cohort_feature_table(clinical, features)
    assert table.index.tolist() == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert {"T1 f_mean", "FS-T2 f_range", "size_cm", "scanner"} <= set(table.columns)
    assert table.loc["P3", "FS-T2 f_range"] == features.loc[("P3", "FS-T2", "reader1"), "f_range"]


def test_reliability_icc_is_icc2_of_the_shared_patients(features):
    table = reliability_icc(features)
    assert table[["sequence", "feature"]].values.tolist() == [
        ["T1", "f_mean"],
        ["T1", "f_range"],
        ["FS-T2", "f_mean"],
        ["FS-T2", "f_range"],
    ]
    ratings = np.column_stack(
        [
            features.xs(("T1", reader), level=("sequence", "reader")).loc[[f"P{i}" for i in range(1, 6)], "f_mean"]
            for reader in ("reader1", "reader2")
        ]
    )
    # stats.icc follows psych::ICC(x, lmer = FALSE) (tests/test_reliability.py)
    assert table.loc[0, "icc"] == pytest.approx(stats.icc(ratings).loc["ICC2", "icc"], rel=1e-9)


# --------------------------------------------------------------------------- images on disk


@pytest.fixture
def cohort_folder(tmp_path, clinical):
    """Six patients, T1 and FS-T2 volumes (3 x 6 x 6), reader-1 masks; P2 and P4 also reader 2."""
    rng = np.random.default_rng(3)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    rows = []
    for patient in clinical["patient_id"]:
        readers = {"reader1": box_mask(slice(1, 4), slice(1, 4))}
        if patient in ("P2", "P4"):
            readers["reader2"] = box_mask(slice(1, 4), slice(2, 5))
        for reader, mask in readers.items():
            sitk.WriteImage(sitk_image(mask), str(tmp_path / "masks" / f"{patient}_{reader}.nii.gz"))
        for sequence in ("T1", "FS-T2"):
            image = (rng.normal(500, 50, (3, 6, 6)) + 300.0 * readers["reader1"]).astype(np.int16)
            sitk.WriteImage(sitk_image(image), str(tmp_path / "images" / f"{patient}_{sequence}.nii.gz"))
            for reader in readers:
                rows.append(
                    (
                        patient,
                        sequence,
                        reader,
                        f"images/{patient}_{sequence}.nii.gz",
                        f"masks/{patient}_{reader}.nii.gz",
                    )
                )
    pd.DataFrame(rows, columns=["patient_id", "sequence", "reader", "image", "mask"]).to_csv(tmp_path / "cases.csv", index=False)
    clinical.to_csv(tmp_path / "clinical.csv", index=False)
    return tmp_path


def test_load_explorer_data_and_patient_images(cohort_folder):
    data = load_explorer_data(cohort_folder)
    assert len(data.clinical) == 6 and len(data.cases) == 16 and data.features is None
    images = patient_images(data.cases, data.base_dir, "P2")
    assert list(images) == ["T1", "FS-T2"]
    assert images["T1"]["image"] == cohort_folder / "images" / "P2_T1.nii.gz"
    assert images["FS-T2"]["masks"] == {
        "reader1": cohort_folder / "masks" / "P2_reader1.nii.gz",
        "reader2": cohort_folder / "masks" / "P2_reader2.nii.gz",
    }
    assert resegmented_patients(data.cases) == ["P2", "P4"]
    with pytest.raises(InputError, match="'P9' has no images"):
        patient_images(data.cases, data.base_dir, "P9")
    with pytest.raises(InputError, match="does not exist"):
        load_explorer_data(cohort_folder / "nowhere")


def test_reader_agreement_table_compares_each_patient_once(cohort_folder):
    data = load_explorer_data(cohort_folder)
    table = reader_agreement_table(data.cases, data.base_dir)
    assert table["patient_id"].tolist() == ["P2", "P4"]
    np.testing.assert_allclose(table["dice"], [2 / 3, 2 / 3], rtol=1e-12)
    summary = agreement_summary(table)
    assert summary.loc["mean", "jaccard"] == pytest.approx(0.5)
    assert summary.loc["sd", "dice"] == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(InputError, match="reader3"):
        reader_agreement_table(data.cases, data.base_dir, reader_b="reader3")


def test_explorer_opens_a_dicom_series_folder_as_extraction_does(cohort_folder):
    # the explorer reads images with radiomics.images.read_image, the reader of extract_features
    nifti = sitk.ReadImage(str(cohort_folder / "images" / "P2_T1.nii.gz"))
    write_dicom_series(nifti, cohort_folder / "images" / "P2_T1_dicom")
    cases = pd.read_csv(cohort_folder / "cases.csv")
    cases.loc[(cases["patient_id"] == "P2") & (cases["sequence"] == "T1"), "image"] = "images/P2_T1_dicom"
    cases.to_csv(cohort_folder / "cases.csv", index=False)

    data = load_explorer_data(cohort_folder)
    explorer = CohortExplorer(data.clinical, data.cases, data.base_dir, backend="plotly", patient_id="P2")
    expected = sitk.GetArrayFromImage(nifti)
    figure = explorer.viewers["T1"]
    np.testing.assert_array_equal(figure.data[0].z, expected[1])  # opens on the mask's largest slice
    explorer.slice.value = 0
    np.testing.assert_array_equal(figure.data[0].z, expected[0])
    reader_1_view = explorer.reader_views.children[0]
    np.testing.assert_array_equal(reader_1_view.data[0].z, expected[1])


# --------------------------------------------------------------------------- figures and widgets


def test_cohort_figures(clinical):
    table = cohort_feature_table(clinical)
    boxes = distribution_figure(table, "size_cm", "centre")
    assert [trace.name for trace in boxes.data] == ["centre 1 (n = 3)", "centre 2 (n = 3)"]
    assert list(boxes.data[1].y) == [5.5, 7.0, 12.0]
    scatter = scatter_figure(table, "age", "size_cm", color="high_grade")
    assert [len(trace.x) for trace in scatter.data] == [3, 3]
    result = stats.roc(table["high_grade"], table["size_cm"])
    cutoff = result.at(6.5)
    marker = roc_threshold_figure(result, cutoff).data[-1]
    assert marker.meta == {"role": "threshold"}
    assert (marker.x[0], marker.y[0]) == pytest.approx((1 - cutoff.specificity, cutoff.sensitivity))
    with pytest.raises(InputError, match="different columns"):
        distribution_figure(table, "grade", "grade")


def test_explorer_widgets_follow_filters_slices_and_threshold(cohort_folder):
    data = load_explorer_data(cohort_folder)
    explorer = CohortExplorer(data.clinical, data.cases, data.base_dir, backend="plotly")
    assert explorer.patient_list.value == "P2"  # first patient read twice
    assert [panel.children[0].value for panel in explorer.image_views.children] == ["<b>T1</b>", "<b>FS-T2</b>"]
    assert "0.667" in explorer.reader_summary.value  # Dice 2/3
    assert explorer.reader_views.layout.display == ""

    explorer.filters["centre"].value = "2"
    assert explorer.patient_list.options == ("P4", "P5", "P6")
    assert "3 of 6 patients" in explorer.cohort_html.value

    explorer.patient_list.value = "P5"
    figure = explorer.viewers["T1"]
    explorer.slice.value = 0
    volume = sitk.GetArrayFromImage(sitk.ReadImage(str(cohort_folder / "images" / "P5_T1.nii.gz")))
    np.testing.assert_array_equal(figure.data[0].z, volume[0])
    explorer.opacity.value = 0.8
    assert figure.data[1].opacity == 0.8

    explorer.filters["centre"].value = "All"
    explorer.roc_score.value = "size_cm"
    explorer.roc_threshold.value = 6.5
    # size >= 6.5 in P2 (9.5, high), P5 (7.0, low), P6 (12.0, high): tp 2, fp 1, fn 1 (P4), tn 2
    assert "size_cm &gt; 6.5" in explorer.roc_metrics.value  # 6.5 is no patient's value: strict rule
    assert '<td class="num">2</td><td class="num">1</td><td class="num">3</td>' in explorer.roc_metrics.value
    marker = explorer.roc_view.data[-1]
    assert (marker.x[0], marker.y[0]) == pytest.approx((1 / 3, 2 / 3))

    explorer.filters["grade"].value = "1"  # P1 and P5, both low grade: no ROC possible
    assert "No ROC for this selection" in explorer.roc_metrics.value and explorer.roc_view.data == ()


def test_explorer_niivue_backend_binds_window_and_opacity(cohort_folder):
    data = load_explorer_data(cohort_folder)
    explorer = CohortExplorer(data.clinical, data.cases, data.base_dir, backend="niivue", patient_id="P1")
    viewer = explorer.viewers["T1"]
    image, mask = viewer.volumes
    assert image.colormap == "gray" and mask.colormap == "red" and mask.opacity == 0.4
    explorer.windows["T1"].value = (400.0, 800.0)
    assert (image.cal_min, image.cal_max) == (400.0, 800.0)
    explorer.opacity.value = 0.6
    assert mask.opacity == 0.6
    assert "reader 1 only" in explorer.reader_summary.value
    assert explorer.reader_views.layout.display == "none"
    explorer.plane.value = "coronal"
    assert viewer.opts.slice_type.name == "CORONAL"
    assert explorer.viewers["T1"] is viewer  # reused, not rebuilt: each NiiVue widget ships 5 MB of JS


def test_explorer_refuses_bad_arguments(cohort_folder):
    data = load_explorer_data(cohort_folder)
    with pytest.raises(InputError, match="'backend'"):
        CohortExplorer(data.clinical, data.cases, data.base_dir, backend="vtk")
    with pytest.raises(InputError, match="outcome_column"):
        CohortExplorer(data.clinical, data.cases, data.base_dir, backend="plotly", outcome="outcome_column")
    with pytest.raises(InputError, match="'P9'"):
        CohortExplorer(data.clinical, data.cases, data.base_dir, backend="plotly", patient_id="P9")


def test_jupyter_lab_command_opens_the_notebook_relative_to_the_root(tmp_path):
    from stsanalysis.viewer.launch import EXPLORER_NOTEBOOK, jupyter_lab_command

    command = jupyter_lab_command(port=8899, open_browser=False)
    assert command[1:4] == ["-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={EXPLORER_NOTEBOOK.parents[1]}" in command
    assert "notebooks/explore_cohort.ipynb" in command
    assert "--ServerApp.port=8899" in command and "--no-browser" in command
    with pytest.raises(InputError, match="inside the JupyterLab root"):
        jupyter_lab_command(EXPLORER_NOTEBOOK, root_dir=tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        jupyter_lab_command(tmp_path / "missing.ipynb", root_dir=tmp_path)


def test_explorer_with_features_offers_them_and_shows_their_icc(cohort_folder, features):
    data = load_explorer_data(cohort_folder)
    explorer = CohortExplorer(data.clinical, data.cases, data.base_dir, features, backend="plotly")
    assert "T1 f_mean" in explorer.roc_score.options and "FS-T2 f_range" in explorer.scatter_y.options
    expected = reliability_icc(features)
    median_t1 = expected.loc[expected["sequence"] == "T1", "icc"].median()
    assert "The 20 least reliable features" in explorer.reader_summary.value
    assert f"{median_t1:.3f}" in explorer.reader_summary.value
