"""The synthetic data and helpers of the teaching notebooks: numbers known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from stsanalysis import InputError, stats
from stsanalysis.plotting.texture import feature_comparison_figure, feature_icc_figure, pca_figure, phantom_figure
from stsanalysis.teaching import (
    APPROACHES,
    OVERCONFIDENT,
    OVERESTIMATING,
    PHANTOM_PATTERNS,
    TEST,
    TRAINING,
    WELL_CALIBRATED,
    before_after,
    class_summary,
    compare_features,
    cross_validated_predictions,
    discretisation_summary,
    experiment_summary,
    extract_readings,
    feature_iccs,
    feature_ratings,
    grey_levels,
    harmonisation_summary,
    harmonise,
    icc_forms_summary,
    icc_summary,
    leakage_experiment,
    leakage_predictions,
    margin_radius,
    mask_volumes,
    miscalibrated_predictions,
    models_of,
    net_benefit_at,
    noise_features,
    performance_table,
    perturb_mask,
    perturbed_cases,
    phantom_features,
    preprocessing_settings,
    principal_components,
    relative_change,
    resegmented_demo_cases,
    scanner_effect,
    select_features,
    set_counts,
    texture_phantoms,
    variance_explained,
    volume_summary,
)

# ----------------------------------------------------------------------------- phantoms


@pytest.fixture(scope="module")
def phantoms():
    return texture_phantoms(size=16, block=4, mean=100.0, sd=20.0, seed=3)


@pytest.fixture(scope="module")
def comparison(phantoms):
    return compare_features(phantom_features(phantoms))


def neighbour_disagreement(array: np.ndarray) -> float:
    """Fraction of in-plane neighbour pairs with different values, averaged over the four
    directions (0, 45, 90, 135 degrees): the GLCM contrast of a two-level image."""
    pairs = [
        (array[:, :-1], array[:, 1:]),
        (array[:-1, :], array[1:, :]),
        (array[:-1, :-1], array[1:, 1:]),
        (array[:-1, 1:], array[1:, :-1]),
    ]
    return float(np.mean([np.mean(first != second) for first, second in pairs]))


def test_phantoms_share_mean_sd_and_histogram(phantoms):
    assert list(phantoms) == list(PHANTOM_PATTERNS)
    reference = np.sort(phantoms["blocks"].array.ravel())
    for phantom in phantoms.values():
        values = phantom.array
        assert values.shape == (16, 16)
        assert values.mean() == pytest.approx(100.0, abs=1e-12)
        assert values.std() == pytest.approx(20.0, abs=1e-12)  # population SD, as pyradiomics
        np.testing.assert_array_equal(np.sort(values.ravel()), reference)  # the same multiset
        assert sitk.GetArrayFromImage(phantom.mask).sum() == 256  # the mask covers everything


def test_phantom_patterns_are_what_they_say(phantoms):
    high = {name: phantom.array > 100 for name, phantom in phantoms.items()}
    assert neighbour_disagreement(high["checkerboard"]) == 0.5  # differ along rows and columns only
    assert neighbour_disagreement(high["stripes"]) == 0.75  # all but the vertical pairs differ
    np.testing.assert_array_equal(high["blocks"][:4, :4], True if high["blocks"][0, 0] else False)
    assert high["blocks"][0, 0] != high["blocks"][0, 4]
    assert not np.array_equal(high["random"], high["checkerboard"])


def test_random_phantom_is_reproducible_from_the_seed():
    first, again, other = (texture_phantoms(size=8, block=2, seed=seed)["random"].array for seed in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_first_order_features_are_identical_and_texture_features_differ(comparison):
    summary = class_summary(comparison).set_index("feature_class")
    assert summary.loc["firstorder", "n_features"] == 18
    assert summary.loc["firstorder", "n_identical"] == 18
    assert summary.loc["glcm", "n_identical"] == 0 and summary.loc["glcm", "n_features"] == 24
    assert summary.loc["glrlm", "n_identical"] == 0 and summary.loc["glrlm", "n_features"] == 16
    first_order = select_features(comparison, feature_class="firstorder")
    values = first_order[list(PHANTOM_PATTERNS)].to_numpy()
    np.testing.assert_allclose(values, np.repeat(values[:, :1], 4, axis=1), rtol=1e-12, atol=1e-12)
    mean = select_features(comparison, ["firstorder_Mean", "firstorder_Variance"])
    np.testing.assert_allclose(mean[list(PHANTOM_PATTERNS)].to_numpy(), [[100.0] * 4, [400.0] * 4], rtol=1e-12)


def test_glcm_contrast_is_the_fraction_of_differing_neighbours(phantoms, comparison):
    # two grey levels one bin apart: contrast = sum (i - j)^2 p(i, j) = P(neighbours differ)
    contrast = select_features(comparison, ["glcm_Contrast"]).iloc[0]
    for name, phantom in phantoms.items():
        assert contrast[name] == pytest.approx(neighbour_disagreement(phantom.array > 100), rel=1e-12)
    assert contrast["checkerboard"] == pytest.approx(0.5, rel=1e-12)
    assert contrast["stripes"] == pytest.approx(0.75, rel=1e-12)
    # blocks of 4 on 16 voxels: 3 of 15 horizontal (and vertical) pairs per line cross a
    # boundary: 0.2; diagonal pairs differ when exactly one coordinate crosses: 2 * 3 * 12 / 15^2 = 0.32
    assert contrast["blocks"] == pytest.approx((0.2 + 0.2 + 0.32 + 0.32) / 4, rel=1e-12)


def test_glrlm_run_percentage_of_stripes():
    # 1-voxel stripes: every voxel is its own run horizontally and diagonally, every column one
    # run vertically: runs / voxels = (1 + 1 + 1 + 1/size) / 4
    phantoms = texture_phantoms(size=16, block=4, seed=0)
    comparison = compare_features(phantom_features({"stripes": phantoms["stripes"]}))
    run_percentage = select_features(comparison, ["glrlm_RunPercentage"]).iloc[0]["stripes"]
    assert run_percentage == pytest.approx((3 + 1 / 16) / 4, rel=1e-12)


def test_compare_features_flags_only_equal_values():
    features = pd.DataFrame({"original_firstorder_Mean": [1.0, 1.0 + 1e-13], "original_glcm_Contrast": [0.5, 0.75]}, index=["a", "b"])
    table = compare_features(features)
    assert table["identical"].tolist() == [True, False]
    assert table[["feature_class", "feature"]].values.tolist() == [["firstorder", "Mean"], ["glcm", "Contrast"]]
    assert table["b"].tolist() == [1.0 + 1e-13, 0.75]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"size": 20, "block": 8}, "multiple of 2 x block"),
        ({"block": 0}, "'block'"),
        ({"sd": 0.0}, "'sd'"),
    ],
)
def test_texture_phantoms_refuses_bad_arguments(arguments, message):
    with pytest.raises(InputError, match=message):
        texture_phantoms(**arguments)


def test_select_features_needs_exactly_one_selection(comparison):
    with pytest.raises(InputError, match="either"):
        select_features(comparison)
    with pytest.raises(InputError, match="glcm_Nonexistent"):
        select_features(comparison, ["glcm_Nonexistent"])
    with pytest.raises(InputError, match="No feature of class 'shape'"):
        select_features(comparison, feature_class="shape")


# ----------------------------------------------------------------------------- segmentation


def cube_mask(spacing, side=6, size=12) -> sitk.Image:
    array = np.zeros((size, size, size), dtype=np.uint8)
    start = (size - side) // 2
    array[start : start + side, start : start + side, start : start + side] = 1
    mask = sitk.GetImageFromArray(array)
    mask.SetSpacing(spacing)
    return mask


def voxel_count(mask: sitk.Image) -> int:
    return int(sitk.GetArrayViewFromImage(mask).sum())


def test_margin_radius_rounds_mm_to_voxels_per_axis():
    assert margin_radius((0.8, 0.8, 4.0), 1.0) == (1, 1, 0)
    assert margin_radius((0.8, 0.8, 4.0), -2.0) == (2, 2, 0)  # 2.5 rounds to even
    assert margin_radius((1.0, 1.0, 1.0), 2.0) == (2, 2, 2)


def test_perturb_mask_changes_the_volume_by_the_expected_amount():
    # 0.8 x 0.8 x 4 mm voxels, 1 mm: one voxel within each slice, none across slices
    mask = cube_mask((0.8, 0.8, 4.0))
    assert voxel_count(mask) == 6**3
    assert voxel_count(perturb_mask(mask, 1.0)) == 8 * 8 * 6  # the 3 x 3 in-plane square
    assert voxel_count(perturb_mask(mask, -1.0)) == 4 * 4 * 6
    # isotropic 1 mm: SimpleITK's radius-1 ball is the 3x3x3 cube without its 8 corners
    isotropic = cube_mask((1.0, 1.0, 1.0))
    assert voxel_count(perturb_mask(isotropic, 1.0)) == 8**3 - 8
    assert voxel_count(perturb_mask(isotropic, -1.0)) == 4**3
    perturbed = perturb_mask(mask, 1.0)
    assert perturbed.GetSpacing() == mask.GetSpacing() and perturbed.GetSize() == mask.GetSize()


def test_perturb_mask_refuses_margins_below_half_a_voxel_and_total_erosion():
    with pytest.raises(InputError, match="less than half a voxel"):
        perturb_mask(cube_mask((0.8, 0.8, 4.0)), 0.3)
    with pytest.raises(InputError, match="removes the whole mask"):
        perturb_mask(cube_mask((1.0, 1.0, 1.0), side=2), -1.0)


@pytest.fixture
def cube_cases(tmp_path):
    rows = []
    for index, side in enumerate((4, 6, 8)):
        path = tmp_path / f"mask_{index}.nii.gz"
        sitk.WriteImage(cube_mask((0.8, 0.8, 4.0), side=side, size=12), str(path))
        rows.append({"patient_id": f"P{index}", "reader": "reader1", "image": str(path), "mask": str(path)})
    return pd.DataFrame(rows)


def test_perturbed_cases_write_masks_with_the_applied_margin(cube_cases, tmp_path):
    dilated = perturbed_cases(cube_cases, tmp_path / "out", 1.0)
    assert dilated["reader"].unique().tolist() == ["dilated 1 mm"]
    assert dilated["margin_mm"].tolist() == [1.0, 1.0, 1.0]
    voxel_ml = float(np.prod(np.float32([0.8, 0.8, 4.0]), dtype=float)) / 1000  # NIfTI stores spacing as float32
    expected = [(side + 2) ** 2 * side * voxel_ml for side in (4, 6, 8)]
    np.testing.assert_allclose(mask_volumes(dilated).to_numpy(), expected, rtol=1e-12)

    random = perturbed_cases(cube_cases, tmp_path / "out", 1.0, random_sign=True, seed=5)
    again = perturbed_cases(cube_cases, tmp_path / "again", 1.0, random_sign=True, seed=5)
    assert random["margin_mm"].tolist() == again["margin_mm"].tolist()
    assert set(np.abs(random["margin_mm"])) == {1.0}
    for row in random.itertuples():
        side = (4, 6, 8)[int(row.patient_id[1])]
        grown = side + 2 if row.margin_mm > 0 else side - 2
        assert voxel_count(sitk.ReadImage(row.mask)) == grown**2 * side


def test_volume_summary_gives_the_mean_change(cube_cases, tmp_path):
    cases = pd.concat([cube_cases, perturbed_cases(cube_cases, tmp_path, -1.0)], ignore_index=True)
    summary = volume_summary(cases).set_index("reading")
    changes = [100 * ((side - 2) ** 2 / side**2 - 1) for side in (4, 6, 8)]
    assert summary.loc["eroded 1 mm", "mean_change_percent"] == pytest.approx(np.mean(changes), rel=1e-12)
    assert summary.loc["reader1", "mean_change_percent"] == 0.0
    voxel_ml = float(np.prod(np.float32([0.8, 0.8, 4.0]), dtype=float)) / 1000  # NIfTI stores spacing as float32
    assert summary.loc["reader1", "mean_volume_ml"] == pytest.approx(np.mean([s**3 for s in (4, 6, 8)]) * voxel_ml, rel=1e-12)


# ----------------------------------------------------------------------------- reliability


def test_icc_summary_counts_features_strictly_above_the_threshold():
    iccs = pd.DataFrame(
        {"reader2": [0.9, 0.75, 0.5, np.nan], "dilated": [0.8, 0.76, 0.7, 0.2]},
        index=["original_glcm_Contrast", "original_glcm_Idm", "original_shape_Sphericity", "original_glcm_MCC"],
    )
    summary = icc_summary(iccs, threshold=0.75)
    assert summary["reading"].tolist() == ["reader2"] * 3 + ["dilated"] * 3
    pooled = summary[summary["feature_class"] == "all"].set_index("reading")
    assert pooled.loc["reader2", "n_reliable"] == 1  # 0.75 is not above 0.75; NaN is not reliable
    assert pooled.loc["reader2", "percent_reliable"] == 25.0
    assert pooled.loc["dilated", "n_reliable"] == 2
    assert pooled.loc["dilated", "median_icc"] == pytest.approx(0.73)
    glcm = summary[(summary["reading"] == "reader2") & (summary["feature_class"] == "glcm")].iloc[0]
    assert glcm["n_features"] == 3 and glcm["median_icc"] == pytest.approx(0.825)


def test_feature_iccs_are_icc_features_per_reading():
    rng = np.random.default_rng(0)
    index = [f"P{i}" for i in range(12)]
    reference = pd.DataFrame(rng.normal(size=(12, 3)), index=index, columns=["original_glcm_A", "original_glcm_B", "original_glcm_C"])
    readings = {"noisy": reference + rng.normal(0, 0.5, (12, 3)), "shifted": reference + 1.0}
    table = feature_iccs(reference, readings, form="ICC3")
    for name, reading in readings.items():
        pd.testing.assert_series_equal(table[name], stats.icc_features(reference, reading, form="ICC3"), check_names=False)
    np.testing.assert_allclose(table["shifted"], 1.0)  # consistency ignores a constant offset
    ratings = feature_ratings({"reference": reference, **readings}, "original_glcm_A", ["reference", "shifted"])
    assert stats.icc(ratings).loc["ICC3", "icc"] == pytest.approx(1.0)
    assert stats.icc(ratings).loc["ICC2", "icc"] < 1.0


# ----------------------------------------------------------------------------- discretisation


def test_grey_levels_follow_pyradiomics_binning(tmp_path):
    # pyradiomics' getBinEdges example: values 54..166, bin width 25 -> edges 50, 75, ..., 175: 5 bins
    values = np.linspace(54, 166, 27).reshape(3, 3, 3)
    image, mask = tmp_path / "image.nii.gz", tmp_path / "mask.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(values), str(image))
    sitk.WriteImage(sitk.GetImageFromArray(np.ones((3, 3, 3), np.uint8)), str(mask))
    cases = pd.DataFrame({"patient_id": ["P1"], "scanner": ["A"], "image": [str(image)], "mask": [str(mask)]})
    levels = grey_levels(cases, bin_width=25, bin_count=8).iloc[0]
    assert levels["grey_levels_bin_width"] == 5  # floor(166/25) - floor(54/25) + 1
    assert levels["grey_levels_bin_count"] == 8
    assert (levels["roi_min"], levels["roi_max"]) == (54.0, 166.0)
    doubled = grey_levels(cases.assign(image=str(image)), bin_width=12.5, bin_count=8).iloc[0]
    assert doubled["grey_levels_bin_width"] == 10  # twice the gain = half the bin width: twice the levels


def test_variance_explained_is_eta_squared():
    features = pd.DataFrame({"a": [1.0, 3.0, 5.0, 7.0], "constant": 2.0})
    explained = variance_explained(features, ["x", "x", "y", "y"])
    # group means 2 and 6 around 4: SS between = 16, SS total = 20
    assert explained["a"] == pytest.approx(0.8, rel=1e-12)
    assert np.isnan(explained["constant"])


def test_relative_change_per_class():
    before = pd.DataFrame({"original_glcm_A": [10.0, 20.0, 40.0], "original_glrlm_B": [1.0, 2.0, 4.0]})
    after = pd.DataFrame({"original_glcm_A": [11.0, 18.0, 40.0], "original_glrlm_B": [1.5, 3.0, 6.0]})
    table = relative_change(before, after).set_index("feature_class")
    assert table.loc["glcm", "median_change_percent"] == pytest.approx(10.0)  # median of 10, 10, 0
    assert table.loc["glrlm", "median_change_percent"] == pytest.approx(50.0)
    assert table.loc["all", "n_features"] == 2 and table.loc["all", "n_changed_over_10_percent"] == 1


def test_preprocessing_settings_cross_discretisation_and_grid():
    settings = preprocessing_settings(bin_width=25, bin_count=32, spacing_mm=1.0)
    assert list(settings) == [
        "bin width 25, native",
        "bin count 32, native",
        "bin width 25, 1 mm isotropic",
        "bin count 32, 1 mm isotropic",
    ]
    assert settings["bin count 32, 1 mm isotropic"]["setting"] == {
        "binCount": 32,
        "resampledPixelSpacing": [1.0, 1.0, 1.0],
        "interpolator": "sitkBSpline",
        "label": 1,
    }
    assert settings["bin width 25, native"]["setting"] == {"binWidth": 25, "label": 1}


# ----------------------------------------------------------------------------- leakage


def test_noise_features_are_balanced_and_reproducible():
    X, y = noise_features(n=40, p=15, seed=4)
    assert X.shape == (40, 15) and y.sum() == 20
    assert list(X.columns[:2]) == ["noise_01", "noise_02"] and X.index[0] == "P001"
    X_again, y_again = noise_features(n=40, p=15, seed=4)
    pd.testing.assert_frame_equal(X, X_again)
    pd.testing.assert_series_equal(y, y_again)


def test_selection_outside_cross_validation_inflates_the_auc_on_noise():
    X, y = noise_features(n=100, p=1000, seed=20240601)
    leaky = cross_validated_predictions(X, y, select_first=True, k=10, seed=20240601)
    correct = cross_validated_predictions(X, y, select_first=False, k=10, seed=20240601)
    leaky_auc = stats.roc(y, leaky, direction="<").auc
    correct_auc = stats.roc(y, correct, direction="<").auc
    assert leaky_auc > 0.8  # the optimistic illusion
    assert 0.35 < correct_auc < 0.65  # the truth: no information
    assert leaky_auc == pytest.approx(0.8732, abs=1e-4)  # deterministic given the seed


def test_experiment_summary_aggregates_per_approach():
    experiment = pd.DataFrame({"repeat": [1, 1, 2, 2], "approach": ["leaky", "correct"] * 2, "auc": [0.8, 0.5, 0.9, 0.4]})
    summary = experiment_summary(experiment).set_index("approach")
    assert summary.loc["leaky", "mean_auc"] == pytest.approx(0.85)
    assert summary.loc["correct", "min_auc"] == 0.4 and summary.loc["correct", "n_repeats"] == 2


# ----------------------------------------------------------------------------- calibration


def test_miscalibrated_models_share_the_auc_and_have_the_designed_miscalibration():
    data = miscalibrated_predictions(n=20000, prevalence=0.3, overconfidence=2.0, overestimation=1.0, seed=1)
    assert data["outcome"].mean() == pytest.approx(0.3, abs=0.01)
    aucs = {model: stats.roc(data["outcome"], data[model], direction="<").auc for model in models_of(data)}
    assert aucs[OVERCONFIDENT] == aucs[WELL_CALIBRATED] == aucs[OVERESTIMATING]  # the same ranking
    well = stats.calibration_metrics(data["outcome"], data[WELL_CALIBRATED])
    overconfident = stats.calibration_metrics(data["outcome"], data[OVERCONFIDENT])
    overestimating = stats.calibration_metrics(data["outcome"], data[OVERESTIMATING])
    assert well.slope == pytest.approx(1.0, abs=0.05) and well.calibration_in_the_large == pytest.approx(0.0, abs=0.05)
    assert overconfident.slope == pytest.approx(0.5, abs=0.03)  # 1 / overconfidence
    assert overestimating.calibration_in_the_large == pytest.approx(-1.0, abs=0.05)


def test_performance_table_and_net_benefit_match_the_statistics():
    data = miscalibrated_predictions(n=300, seed=2)
    table = performance_table(data, "outcome", [WELL_CALIBRATED, OVERCONFIDENT]).set_index("model")
    metrics = stats.calibration_metrics(data["outcome"], data[OVERCONFIDENT])
    hl = stats.hosmer_lemeshow(data["outcome"], data[OVERCONFIDENT], groups=10)
    assert table.loc[OVERCONFIDENT, "calibration_slope"] == metrics.slope
    assert table.loc[OVERCONFIDENT, "hl_p"] == hl.p
    assert table.loc[OVERCONFIDENT, "auc"] == table.loc[WELL_CALIBRATED, "auc"]

    curves = stats.decision_curve(data["outcome"], models_of(data))
    at = net_benefit_at(curves, [0.2, 0.5]).set_index("model")
    expected = curves[(curves["model"] == WELL_CALIBRATED) & np.isclose(curves["threshold"], 0.2)]["net_benefit"].item()
    assert at.loc[WELL_CALIBRATED, "threshold_0.20"] == expected
    assert at.loc["treat none", "threshold_0.50"] == 0.0
    with pytest.raises(InputError, match="Threshold 0.123"):
        net_benefit_at(curves, [0.123])


# ----------------------------------------------------------------------------- harmonisation


@pytest.fixture(scope="module")
def scanner_data():
    return scanner_effect(n_patients=150, n_features=20, n_scanners=3, n_informative=4, test_fraction=0.2, seed=7)


def test_scanner_effect_design(scanner_data):
    patients = scanner_data.patients
    assert scanner_data.features.shape == (150, 20)
    assert scanner_data.informative == ["feature_01", "feature_02", "feature_03", "feature_04"]
    counts = set_counts(patients).set_index("scanner")
    assert counts[TRAINING].tolist() == [40, 40, 40] and counts[TEST].tolist() == [10, 10, 10]
    assert patients["outcome"].sum() == 75


def test_combat_fitted_on_training_removes_the_scanner_effect_in_both_sets(scanner_data):
    combat, harmonised = harmonise(scanner_data)
    training = scanner_data.patients["set"] == TRAINING
    refit = type(combat)().fit_transform(scanner_data.features[training], scanner_data.patients.loc[training, "scanner"])
    pd.testing.assert_frame_equal(harmonised[training], refit)  # training data: ComBat's own output
    summary = harmonisation_summary(scanner_data.features, harmonised, scanner_data.patients, scanner_data.informative)
    share = summary.set_index(["set", "stage"])["median_scanner_share"]
    assert share[(TRAINING, "before ComBat")] > 0.3 and share[(TEST, "before ComBat")] > 0.3
    assert share[(TRAINING, "after ComBat")] < 0.01
    assert share[(TEST, "after ComBat")] < 0.1


def test_principal_components_are_fitted_on_the_given_rows(scanner_data):
    training = (scanner_data.patients["set"] == TRAINING).to_numpy()
    scores = principal_components(scanner_data.features, fit_rows=training)
    np.testing.assert_allclose(scores[training].mean(), 0.0, atol=1e-12)
    assert abs(scores[~training]["pc1"].mean()) > 1e-6  # test rows are only projected
    ratios = scores.attrs["explained_variance_ratio"]
    assert len(ratios) == 2 and ratios[0] >= ratios[1] > 0


# ----------------------------------------------------------------------------- demo cohort and extraction


@pytest.fixture(scope="module")
def demo_cases(tmp_path_factory):
    return resegmented_demo_cases(tmp_path_factory.mktemp("demo") / "radiomics", n_patients=3, seed=1)


def test_resegmented_demo_cases_draws_patients_read_twice(demo_cases, tmp_path):
    assert demo_cases["reader"].tolist() == ["reader1", "reader2"] * 3
    assert demo_cases["patient_id"].nunique() == 3
    assert set(demo_cases.columns) == {"patient_id", "reader", "scanner", "high_grade", "image", "mask"}
    assert all(path.endswith("_FS-T2.nii.gz") for path in demo_cases["image"])
    (tmp_path / "notes.txt").write_text("not a demo")
    with pytest.raises(InputError, match="no cases.csv"):
        resegmented_demo_cases(tmp_path, n_patients=3)  # never writes a cohort into a used folder


def test_extract_readings_and_icc_summaries_agree_with_the_statistics(demo_cases):
    params = {
        "imageType": {"Original": {}},
        "featureClass": {"firstorder": ["Mean", "Maximum"]},
        "setting": {"binCount": 16},
    }
    readings = extract_readings(demo_cases, params)
    assert list(readings) == ["reader1", "reader2"]
    reference = readings.pop("reader1")
    assert list(reference.columns) == ["original_firstorder_Mean", "original_firstorder_Maximum"]
    iccs = feature_iccs(reference, readings, form="ICC2")
    forms = icc_forms_summary(reference, readings, forms=("ICC2", "ICC3"), threshold=0.0)
    for form in ("ICC2", "ICC3"):
        expected = stats.icc_features(reference, readings["reader2"], form=form).median()
        assert forms.set_index("form").loc[form, "median_icc"] == pytest.approx(expected, rel=1e-12)
    assert forms["description"].iloc[0].startswith("ICC(A,1)")
    assert iccs["reader2"].tolist() == stats.icc_features(reference, readings["reader2"]).tolist()


def test_discretisation_summary_pools_and_splits_by_class():
    index = pd.Index(["P1", "P2", "P3", "P4"], name="patient_id")
    reader1 = pd.DataFrame({"original_glcm_A": [1.0, 3.0, 5.0, 7.0], "original_glrlm_B": [1.0, 2.0, 1.0, 2.0]}, index=index)
    extractions = {"setting": {"reader1": reader1, "reader2": reader1 + 0.1}}
    iccs = pd.DataFrame({"setting": [0.9, 0.5]}, index=reader1.columns)
    scanner = pd.Series(["x", "x", "y", "y"], index=index)
    summary = discretisation_summary(extractions, scanner, iccs, threshold=0.75).set_index("feature_class")
    assert summary.loc["glcm", "median_variance_explained"] == pytest.approx(0.8)
    assert summary.loc["glrlm", "median_variance_explained"] == pytest.approx(0.0)
    assert summary.loc["all", "median_icc"] == pytest.approx(0.7) and summary.loc["all", "percent_reliable"] == 50.0
    pooled = discretisation_summary(extractions, scanner, iccs, by_class=False)
    assert pooled["feature_class"].tolist() == ["all"]


def test_harmonisation_before_after_and_leakage_predictions(scanner_data):
    _, harmonised = harmonise(scanner_data)
    table = before_after(scanner_data.features, harmonised, scanner_data.patients, "feature_01")
    assert table["before"].tolist() == scanner_data.features["feature_01"].tolist()
    assert table["after"].tolist() == harmonised["feature_01"].tolist()
    with pytest.raises(InputError, match="feature_99"):
        before_after(scanner_data.features, harmonised, scanner_data.patients, "feature_99")
    X, y = noise_features(n=40, p=30, seed=2)
    predictions = leakage_predictions(X, y, k=3, folds=4, seed=2)
    assert list(predictions.columns) == ["outcome", *APPROACHES]
    assert predictions["outcome"].tolist() == y.tolist()
    experiment = leakage_experiment(n=40, p=30, k=3, n_repeats=2, folds=4, seed=2)
    assert experiment["approach"].tolist() == list(APPROACHES) * 2


def test_leakage_experiment_is_kept_in_the_cache_and_read_back_exactly(tmp_path, monkeypatch):
    from stsanalysis.teaching import leakage

    uncached = leakage.leakage_experiment(n=40, p=30, k=3, n_repeats=2, folds=4, seed=2)
    first = leakage.leakage_experiment(n=40, p=30, k=3, n_repeats=2, folds=4, seed=2, cache_dir=tmp_path)
    monkeypatch.setattr(leakage, "cross_validated_predictions", lambda *args, **kwargs: pytest.fail("the experiment ran again"))
    again = leakage.leakage_experiment(n=40, p=30, k=3, n_repeats=2, folds=4, seed=2, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first, uncached, check_exact=True)
    pd.testing.assert_frame_equal(again, uncached, check_exact=True)


# ----------------------------------------------------------------------------- figures


def test_texture_figures_have_one_trace_per_item(phantoms, comparison):
    figure = phantom_figure(phantoms)
    assert [trace.type for trace in figure.data] == ["heatmap"] * 4
    assert {(trace.zmin, trace.zmax) for trace in figure.data} == {(80.0, 120.0)}  # one shared grey scale
    bars = feature_comparison_figure(comparison, ["glcm_Contrast", "firstorder_Mean"])
    assert len(bars.data) == 8 and [trace.y[0] for trace in bars.data[:4]] == pytest.approx(
        select_features(comparison, ["glcm_Contrast"])[list(PHANTOM_PATTERNS)].iloc[0].tolist()
    )
    with pytest.raises(InputError, match="glcm_Nonexistent"):
        feature_comparison_figure(comparison, ["glcm_Nonexistent"])


def test_icc_and_pca_figures(scanner_data):
    iccs = pd.DataFrame(
        {"reader2": [0.9, 0.5, 0.7], "dilated": [0.8, 0.6, np.nan]},
        index=["original_glcm_A", "original_glcm_B", "original_shape_C"],
    )
    figure = feature_icc_figure(iccs, threshold=0.75)
    assert len(figure.data) == 4  # 2 readings x 2 classes
    assert list(figure.data[0].y) == [0.7] and figure.data[0].name == "Shape (3D)"  # classes in pyradiomics order
    assert list(figure.data[3].y) == [0.8, 0.6]  # the undefined ICC is left out
    scores = principal_components(scanner_data.features)
    pca = pca_figure({"before": scores}, groups=scanner_data.patients["scanner"], symbols=scanner_data.patients["set"])
    assert len(pca.data) == 6  # 3 scanners x 2 sets
    assert sum(len(trace.x) for trace in pca.data) == 150


# ----------------------------------------------------------------------------- beyond the C-index


@pytest.fixture(scope="module")
def survival_cohort():
    from stsanalysis.teaching.survival_models import time_varying_cohort

    return time_varying_cohort(n=400, seed=20240601)


@pytest.fixture(scope="module")
def survival_models(survival_cohort):
    from stsanalysis.teaching.survival_models import fit_risk_models

    return fit_risk_models(survival_cohort, hazard_factor=0.5)


def test_piecewise_exponential_event_times_invert_the_cumulative_hazard():
    from stsanalysis.teaching.survival_models import _event_times

    # hazard 0.1 e^{x1} before year 2, 0.1 e^{x2} after; H(T) must equal the exponential draw
    draws = {"early_marker": np.array([0.0, np.log(2.0)]), "late_marker": np.array([np.log(3.0), 0.0]), "exponential": np.array([0.1, 0.5])}
    times = _event_times(draws, baseline_hazard=0.1, switch_time=2.0, early_effect=1.0, late_effect=1.0)
    assert times[0] == pytest.approx(1.0)  # 0.1 x 1 x T = 0.1, before the switch
    assert times[1] == pytest.approx(2.0 + (0.5 - 0.2 * 2.0) / 0.1)  # 0.4 used up by year 2, then rate 0.1


def test_the_markers_share_harrells_c_but_not_the_auc_over_time(survival_cohort, survival_models):
    from stsanalysis.teaching.survival_models import EARLY_MODEL, LATE_MODEL, OPTIMISTIC_MODEL, concordance_table, time_dependent_aucs

    data = survival_cohort.data
    assert list(data.columns) == ["time", "event", "early_marker", "late_marker"] and len(data) == 400
    assert data["time"].min() > 0 and (data["time"] <= 10).all()
    c_early = stats.concordance_index(data["time"], data["event"], data["early_marker"]).c
    c_late = stats.concordance_index(data["time"], data["event"], data["late_marker"]).c
    assert abs(c_early - c_late) < 0.001  # the late effect was tuned for this
    assert 0.5 < survival_cohort.late_effect < 5

    table = concordance_table(survival_models, tau=5.0).set_index("model")
    assert table.loc[EARLY_MODEL, "harrell_c"] == pytest.approx(c_early, abs=1e-12)  # Cox lp ranks as the marker
    assert table.loc[LATE_MODEL, "harrell_c"] == pytest.approx(c_late, abs=1e-12)
    assert table.loc[OPTIMISTIC_MODEL].tolist() == table.loc[EARLY_MODEL].tolist()  # same ranking, same C
    uno = stats.uno_concordance(data["time"], data["event"], data["late_marker"], tau=5.0)
    assert table.loc[LATE_MODEL, "uno_c"] == pytest.approx(uno.c, abs=1e-12)

    aucs = {name: result.table.set_index("time")["auc"] for name, result in time_dependent_aucs(survival_models, [1.0, 2.0, 5.0]).items()}
    assert aucs[EARLY_MODEL][2.0] - aucs[LATE_MODEL][2.0] > 0.2  # early events: only the early marker sees them
    assert aucs[LATE_MODEL][5.0] - aucs[EARLY_MODEL][5.0] > 0.1
    assert aucs[LATE_MODEL][1.0] == pytest.approx(0.5, abs=0.1)
    assert aucs[OPTIMISTIC_MODEL].tolist() == aucs[EARLY_MODEL].tolist()


def test_the_optimistic_model_is_miscalibrated_with_the_same_ranking(survival_models):
    from stsanalysis.teaching.survival_models import EARLY_MODEL, LATE_MODEL, OPTIMISTIC_MODEL, accuracy_at, survival_calibrations

    survival = survival_models.predict_survival([2.0, 5.0])
    np.testing.assert_allclose(survival[OPTIMISTIC_MODEL].to_numpy(), survival[EARLY_MODEL].to_numpy() ** 0.5, rtol=1e-12)
    risks = survival_models.event_risks(2.0)
    np.testing.assert_allclose(risks[LATE_MODEL].to_numpy(), 1 - survival[LATE_MODEL][2.0].to_numpy(), rtol=1e-12)

    calibrations = survival_calibrations(survival_models, [2.0, 5.0])
    table = accuracy_at(survival_models, [2.0, 5.0], calibrations).set_index(["time", "model"])
    assert table.index.tolist() == [(t, name) for t in (2.0, 5.0) for name in (EARLY_MODEL, LATE_MODEL, OPTIMISTIC_MODEL)]
    for t in (2.0, 5.0):
        early, optimistic = table.loc[(t, EARLY_MODEL)], table.loc[(t, OPTIMISTIC_MODEL)]
        assert optimistic["ici"] > early["ici"] + 0.05
        assert optimistic["mean_predicted"] - optimistic["observed"] > 0.08  # survival too high
        assert abs(early["mean_predicted"] - early["observed"]) < 0.03
        assert optimistic["brier"] > early["brier"] and optimistic["auc"] == early["auc"]
    assert table.loc[(2.0, LATE_MODEL), "ipa"] < 0 < table.loc[(2.0, EARLY_MODEL), "ipa"]  # worse than no model at 2 years
    assert table.loc[(5.0, LATE_MODEL), "brier"] < table.loc[(5.0, EARLY_MODEL), "brier"]


def test_accuracy_at_reports_the_package_statistics(survival_cohort, survival_models):
    from stsanalysis.teaching.survival_models import LATE_MODEL, accuracy_at, survival_calibrations

    data = survival_cohort.data
    calibrations = survival_calibrations(survival_models, [3.0])
    row = accuracy_at(survival_models, [3.0], calibrations).set_index("model").loc[LATE_MODEL]
    predicted = survival_models.predict_survival([3.0])[LATE_MODEL]
    score = survival_models.risk_scores()[LATE_MODEL]
    assert row["auc"] == stats.time_dependent_auc(data["time"], data["event"], score, [3.0]).table["auc"].item()
    brier = stats.brier_score(data["time"], data["event"], predicted, [3.0]).table.set_index("model")
    assert row["brier"] == brier.loc["model", "brier"] and row["ipa"] == brier.loc["model", "ipa"]
    assert row["ici"] == stats.survival_calibration(data["time"], data["event"], predicted[3.0], 3.0).ici
    assert row["observed"] == stats.kaplan_meier(data["time"], data["event"]).survival_at([3.0])["survival"].item()
    assert row["mean_predicted"] == pytest.approx(predicted[3.0].mean())
    with pytest.raises(InputError, match="no calibration of model"):
        accuracy_at(survival_models, [3.0], {})


def test_marker_halves_and_the_simulation_refuse_bad_input(survival_cohort):
    from stsanalysis.teaching.survival_models import fit_risk_models, marker_halves, time_varying_cohort

    halves = marker_halves(survival_cohort.data, "early_marker")
    assert halves.value_counts().to_dict() == {"high early marker": 200, "low early marker": 200}
    with pytest.raises(InputError, match="no column 'grade'"):
        marker_halves(survival_cohort.data, "grade")
    with pytest.raises(InputError, match="at least 50"):
        time_varying_cohort(n=10)
    with pytest.raises(InputError, match="follow_up"):
        time_varying_cohort(follow_up=(1.0, 10.0))
    with pytest.raises(InputError, match="must be positive"):
        time_varying_cohort(early_effect=0.0)
    with pytest.raises(InputError, match="hazard_factor"):
        fit_risk_models(survival_cohort, hazard_factor=0.0)
    with pytest.raises(InputError, match="TimeVaryingCohort"):
        fit_risk_models(survival_cohort.data)
