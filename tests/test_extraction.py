"""Feature extraction: parameters, output layout, cache, resume, parallel backends, bad input.

Tiny synthetic volumes (20 x 20 x 8) and a reduced feature set keep the file fast; the full
MRI preset is extracted once to check its feature count.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from conftest import write_dicom_series
from radiomics.featureextractor import RadiomicsFeatureExtractor

from stsanalysis import InputError
from stsanalysis.radiomics import extraction
from stsanalysis.radiomics.extraction import extract_features
from stsanalysis.radiomics.images import read_image
from stsanalysis.radiomics.params import (
    BinWidthWarning,
    available_presets,
    load_params,
    split_feature_name,
    validate_params,
)

SMALL_PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {
        "shape": ["VoxelVolume", "Compactness1"],
        "firstorder": ["Mean", "Variance", "Kurtosis"],
        "glcm": ["Contrast"],
    },
    "setting": {"binCount": 16, "label": 1},
}
SMALL_COLUMNS = [
    "original_shape_VoxelVolume",
    "original_shape_Compactness1",
    "original_firstorder_Mean",
    "original_firstorder_Variance",
    "original_firstorder_Kurtosis",
    "original_glcm_Contrast",
]


def _volume(seed: int, size=(8, 20, 20), spacing=(1.0, 1.0, 1.0)):
    """A noisy image (array order z, y, x) and a 6 x 8 x 8 box mask of label 1."""
    rng = np.random.default_rng(seed)
    array = (100 + 20 * rng.standard_normal(size)).astype(np.int16)
    mask = np.zeros(size, dtype=np.uint8)
    mask[1:7, 6:14, 6:14] = 1
    image, label = sitk.GetImageFromArray(array), sitk.GetImageFromArray(mask)
    for item in (image, label):
        item.SetSpacing(spacing)
    return image, label


def _write_case(directory: Path, patient: str, image: sitk.Image, mask: sitk.Image) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    image_path, mask_path = directory / f"{patient}_image.nii.gz", directory / f"{patient}_mask.nii.gz"
    sitk.WriteImage(image, str(image_path))
    sitk.WriteImage(mask, str(mask_path))
    return {"patient_id": patient, "image": str(image_path), "mask": str(mask_path)}


@pytest.fixture
def cases(tmp_path) -> pd.DataFrame:
    return pd.DataFrame([_write_case(tmp_path / "data", f"P{i:02d}", *_volume(i)) for i in range(4)])


@pytest.fixture
def count_extractions(monkeypatch):
    """Count calls into pyradiomics (serial runs only: workers do not see the patch)."""
    calls = []
    real = extraction._run_pyradiomics

    def counting(image, mask, label, params):
        calls.append(label)
        return real(image, mask, label, params)

    monkeypatch.setattr(extraction, "_run_pyradiomics", counting)
    return calls


# --------------------------------------------------------------------------- values, layout


# pykwalify, pyradiomics' schema validator, loads its extension with the deprecated load_module
@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")
def test_values_equal_pyradiomics_called_directly(cases):
    features = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    direct = RadiomicsFeatureExtractor(SMALL_PARAMS).execute(cases.image[2], cases["mask"][2])
    for column in SMALL_COLUMNS:
        assert features.loc["P02", column] == pytest.approx(float(direct[column]), rel=1e-12)
    # the explicit lists are honoured exactly, Compactness1 (computed only on request) included
    assert list(features.columns) == SMALL_COLUMNS
    # 6 x 8 x 8 voxels of 1 mm^3
    assert features["original_shape_VoxelVolume"].tolist() == [384.0] * 4
    array = sitk.GetArrayFromImage(sitk.ReadImage(cases.image[0]))[1:7, 6:14, 6:14]
    assert features.loc["P00", "original_firstorder_Mean"] == pytest.approx(array.mean(), rel=1e-12)


def test_case_identity_and_attrs(cases):
    cases = cases.assign(sequence=["T1", "T1", "T2FS", "T2FS"], reader=["r1", "r2", "r1", "r2"])
    features = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    assert features.index.names == ["patient_id", "sequence", "reader"]
    assert features.index[2] == ("P02", "T2FS", "r1")
    diagnostics = features.attrs["diagnostics"]
    assert diagnostics.index.equals(features.index)
    assert not any(column.startswith("diagnostics_") for column in features.columns)
    assert diagnostics["diagnostics_Mask-original_VoxelNum"].tolist() == [384.0] * 4
    assert features.attrs["errors"].empty
    provenance = features.attrs["provenance"]
    assert provenance["params"]["setting"]["binCount"] == 16
    assert provenance["software"]["SimpleITK"] == sitk.Version.VersionString()
    assert set(provenance["software"]) == {"pyradiomics", "SimpleITK", "numpy", "python"}
    # Kurtosis is extracted, so its IBSI deviation is reported; the PCA axes are not
    assert list(provenance["ibsi_deviations"]) == ["firstorder_Kurtosis"]
    assert (provenance["n_cases"], provenance["n_failed"], provenance["n_from_cache"]) == (4, 0, 0)


def test_full_mri_preset_gives_1130_features_per_sequence(tmp_path):
    image, mask = _volume(7, spacing=(0.8, 0.8, 4.0))
    case = pd.DataFrame([_write_case(tmp_path, "P01", image, mask)])
    features = extract_features(case, "mri_t1", n_jobs=1, progress=False)
    assert features.shape == (1, 1130)
    kinds = pd.Series([split_feature_name(c)["image_type"] for c in features.columns]).value_counts()
    assert kinds["original"] == 14 + 93
    assert kinds.filter(like="wavelet").tolist() == [93] * 8
    assert kinds.filter(like="log-sigma").size == 3
    assert features.notna().all(axis=None)


# --------------------------------------------------------------------------- parameters


def test_presets_hold_the_design_b_settings():
    t1 = load_params("mri_t1")
    assert t1["setting"]["resampledPixelSpacing"] == [1, 1, 1]
    assert t1["setting"]["interpolator"] == "sitkBSpline"
    assert t1["setting"]["normalize"] is True
    assert t1["setting"]["binCount"] == 32
    assert set(t1["imageType"]) == {"Original", "Wavelet", "LoG"}
    assert set(t1["featureClass"]) == {"shape", "firstorder", "glcm", "gldm", "glszm", "glrlm", "ngtdm"}
    assert load_params("mri_t2fs") == t1
    assert load_params("ct")["setting"]["binWidth"] == 25
    assert load_params("ibsi_phantom")["setting"]["binWidth"] == 1
    assert set(available_presets()) >= {"ct", "mri_t1", "mri_t2fs", "ibsi_phantom"}


def test_user_dict_merges_with_preset_and_wins():
    merged = load_params({"preset": "mri_t1", "setting": {"binWidth": 5}, "featureClass": {"shape": ["Compactness1"]}})
    assert merged["setting"]["binWidth"] == 5
    assert "binCount" not in merged["setting"]  # the user's discretisation replaces the preset's
    assert merged["setting"]["resampledPixelSpacing"] == [1, 1, 1]  # untouched settings stay
    assert merged["featureClass"] == {"shape": ["Compactness1"]}  # selections are replaced whole
    assert set(merged["imageType"]) == {"Original", "Wavelet", "LoG"}


def test_yaml_file_params(tmp_path, cases):
    path = tmp_path / "params.yaml"
    path.write_text("imageType: {Original: {}}\nfeatureClass: {firstorder: [Mean]}\nsetting: {binCount: 8}\n")
    features = extract_features(cases.head(1), str(path), n_jobs=1, progress=False)
    assert list(features.columns) == ["original_firstorder_Mean"]


@pytest.mark.parametrize(
    "params",
    [
        {"preset": "mri_t1", "setting": {"binWidth": 25}},
        {"modality": "mri", "imageType": {"Original": {}}, "featureClass": {"firstorder": ["Mean"]}},
    ],
)
def test_ct_bin_width_on_mri_warns(params, cases):
    with pytest.warns(BinWidthWarning, match="binWidth 25"):
        validate_params(load_params(params))


@pytest.mark.parametrize(
    "params, message",
    [
        ("mri_t3", "Unknown parameter preset 'mri_t3'"),
        ({"featureClass": {"glcm": ["Contrastt"]}}, "has no feature 'Contrastt'"),
        ({"featureClass": {"glcm": ["Dissimilarity"]}}, "computes no value for 'Dissimilarity'"),
        ({"featureClass": {"texture": None}}, "Unknown featureClass 'texture'"),
        ({"imageType": {"Wavelett": {}}}, "Unknown imageType"),
        ({"setting": {"binCount": "many"}}, "Invalid pyradiomics parameters"),
        ({"settings": {}}, "Unknown key"),
    ],
)
def test_bad_params_are_refused(params, message, cases):
    with pytest.raises(InputError, match=message):
        extract_features(cases, params, n_jobs=1, progress=False)


# --------------------------------------------------------------------------- cache and resume


def test_second_run_is_served_from_cache(cases, tmp_path, count_extractions):
    first = extract_features(cases, SMALL_PARAMS, n_jobs=1, cache_dir=tmp_path / "cache", progress=False)
    assert len(count_extractions) == 4
    assert len(list((tmp_path / "cache").glob("*.json"))) == 4
    second = extract_features(cases, SMALL_PARAMS, n_jobs=1, cache_dir=tmp_path / "cache", progress=False)
    assert len(count_extractions) == 4  # nothing recomputed
    pd.testing.assert_frame_equal(first, second)
    assert second.attrs["provenance"]["n_from_cache"] == 4


def test_cache_key_follows_content_and_params(cases, tmp_path, count_extractions):
    cache = tmp_path / "cache"
    extract_features(cases, SMALL_PARAMS, n_jobs=1, cache_dir=cache, progress=False)
    _, mask = _volume(0)
    mask[10, 10, 2] = 0  # one voxel less for P01: only that case is recomputed
    sitk.WriteImage(mask, cases["mask"][1])
    rerun = extract_features(cases, SMALL_PARAMS, n_jobs=1, cache_dir=cache, progress=False)
    assert len(count_extractions) == 5
    assert rerun.loc["P01", "original_shape_VoxelVolume"] == 383.0
    changed = {**SMALL_PARAMS, "setting": {"binCount": 8, "label": 1}}
    extract_features(cases, changed, n_jobs=1, cache_dir=cache, progress=False)
    assert len(count_extractions) == 9


def test_interrupted_run_resumes_without_losing_finished_cases(cases, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    real = extraction._run_pyradiomics
    calls = []

    def interrupted_after_two(image, mask, label, params):
        calls.append(label)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user stops the run during the third case
        return real(image, mask, label, params)

    monkeypatch.setattr(extraction, "_run_pyradiomics", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        extract_features(cases, SMALL_PARAMS, n_jobs=1, cache_dir=cache, progress=False)
    assert len(list(cache.glob("*.json"))) == 2
    assert not list(cache.glob("*.tmp"))  # no half-written file

    calls.clear()
    monkeypatch.setattr(extraction, "_run_pyradiomics", lambda *args: (calls.append(1), real(*args))[1])
    resumed = extract_features(cases, SMALL_PARAMS, n_jobs=1, cache_dir=cache, progress=False)
    assert len(calls) == 2  # only the two unfinished cases
    assert resumed.index.tolist() == ["P00", "P01", "P02", "P03"]
    assert resumed.attrs["provenance"]["n_from_cache"] == 2


# --------------------------------------------------------------------------- parallel backends


def test_process_pool_gives_the_serial_result(cases, tmp_path):
    serial = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    parallel = extract_features(cases, SMALL_PARAMS, n_jobs=2, cache_dir=tmp_path / "c", progress=False)
    pd.testing.assert_frame_equal(serial, parallel)
    assert len(list((tmp_path / "c").glob("*.json"))) == 4  # workers write the cache


def test_dask_backend(cases):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    serial = extract_features(cases.head(2), SMALL_PARAMS, n_jobs=1, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            on_dask = extract_features(cases.head(2), SMALL_PARAMS, n_jobs="dask", progress=False)
        by_address = extract_features(cases.head(2), SMALL_PARAMS, n_jobs=cluster.scheduler_address, progress=False)
    pd.testing.assert_frame_equal(serial, on_dask)
    pd.testing.assert_frame_equal(serial, by_address)


def test_dask_without_a_client_is_refused(cases):
    pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with pytest.raises(InputError, match="needs a running dask.distributed Client"):
        extract_features(cases.head(2), SMALL_PARAMS, n_jobs="dask", progress=False)


def test_invalid_n_jobs(cases):
    with pytest.raises(InputError, match="n_jobs"):
        extract_features(cases, SMALL_PARAMS, n_jobs=0, progress=False)


# --------------------------------------------------------------------------- input formats


def test_dicom_series_directory_equals_nifti(tmp_path):
    image, mask = _volume(3)
    nifti = _write_case(tmp_path, "P01", image, mask)
    write_dicom_series(image, tmp_path / "dicom")
    cases = pd.DataFrame([nifti, {**nifti, "patient_id": "P01-dicom", "image": str(tmp_path / "dicom")}])
    features = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    assert features.attrs["errors"].empty
    np.testing.assert_allclose(features.loc["P01-dicom"], features.loc["P01"], rtol=1e-12)


def test_label_column_selects_the_roi(tmp_path):
    image, mask = _volume(5)
    array = sitk.GetArrayFromImage(mask)
    array[1:3, 1:4, 1:4] = 2  # a second, 18-voxel ROI
    labelled = sitk.GetImageFromArray(array)
    labelled.CopyInformation(mask)
    case = _write_case(tmp_path, "P01", image, labelled)
    cases = pd.DataFrame([{**case, "reader": "r1", "label": 1}, {**case, "reader": "r2", "label": 2}])
    features = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    assert features["original_shape_VoxelVolume"].tolist() == [384.0, 18.0]


# --------------------------------------------------------------------------- bad input


def _shifted(mask: sitk.Image, **geometry) -> sitk.Image:
    moved = sitk.Image(mask)
    for name, value in geometry.items():
        getattr(moved, f"Set{name}")(value)
    return moved


def _mask_with(voxels) -> sitk.Image:
    _, mask = _volume(0)
    array = np.zeros_like(sitk.GetArrayFromImage(mask))
    for z, y, x in voxels:
        array[z, y, x] = 1
    return sitk.GetImageFromArray(array)


BAD_MASKS = {
    "size": (lambda m: sitk.ConstantPad(m, (0, 0, 0), (0, 0, 1)), "mask size"),
    "spacing": (lambda m: _shifted(m, Spacing=(1.0, 1.0, 2.0)), "mask spacing"),
    "origin": (lambda m: _shifted(m, Origin=(0.0, 0.0, 5.0)), "mask origin"),
    "direction": (lambda m: _shifted(m, Direction=(0, 1, 0, 1, 0, 0, 0, 0, 1)), "mask direction"),
    "empty": (lambda m: _mask_with([]), "No labels found in this mask"),
    "one voxel": (lambda m: _mask_with([(3, 10, 10)]), "only contains 1 segmented voxel"),
    "label missing": (lambda m: m * 2, r"Label \(1\) not present in mask"),
}


@pytest.mark.parametrize("problem", list(BAD_MASKS))
def test_bad_mask_fails_only_its_case(problem, cases):
    make_bad, message = BAD_MASKS[problem]
    sitk.WriteImage(make_bad(sitk.ReadImage(cases["mask"][1])), cases["mask"][1])
    features = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    assert features.index.tolist() == ["P00", "P02", "P03"]
    errors = features.attrs["errors"]
    assert errors[["patient_id", "file"]].values.tolist() == [["P01", cases["mask"][1]]]
    assert errors.error[0].startswith(f"Patient P01, file {cases['mask'][1]}: ")
    assert pd.Series(errors.error).str.contains(message).all()


def test_corrupt_missing_and_2d_images_fail_only_their_case(cases, tmp_path):
    Path(cases.image[0]).write_bytes(b"not an image at all")
    os.remove(cases.image[1])
    flat = _write_case(tmp_path / "flat", "P02", sitk.Image(20, 20, sitk.sitkInt16), sitk.Image(20, 20, sitk.sitkUInt8))
    cases.loc[2, ["image", "mask"]] = flat["image"], flat["mask"]
    features = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    assert features.index.tolist() == ["P03"]
    errors = features.attrs["errors"].set_index("patient_id")
    assert errors.loc["P00", "file"] == cases.image[0]
    assert "SimpleITK cannot read it" in errors.loc["P00", "error"]
    assert errors.loc["P01", "error"].endswith(f"{cases.image[1]}: file not found")
    assert "image is 2-D" in errors.loc["P02", "error"]


def test_all_cases_failing_raises(cases):
    for path in cases["mask"]:
        os.remove(path)
    with pytest.raises(InputError, match=r"failed for all 4 case\(s\):\nPatient P00, file .*P00_mask"):
        extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.drop(columns="mask"), r"Column\(s\) \['mask'\] not found in cases"),
        (lambda c: c.assign(patient_id="P00"), "one row per patient_id"),
        (lambda c: c.iloc[0:0], "no rows"),
    ],
)
def test_bad_cases_table(change, message, cases):
    with pytest.raises(InputError, match=message):
        extract_features(change(cases), SMALL_PARAMS, n_jobs=1, progress=False)


def test_split_feature_name():
    assert split_feature_name("T1_wavelet-LLH_glcm_Contrast") == {
        "sequence": "T1",
        "image_type": "wavelet-LLH",
        "feature_class": "glcm",
        "feature": "Contrast",
    }
    assert split_feature_name("original_shape_VoxelVolume")["sequence"] is None
    with pytest.raises(InputError, match="not named imageType_featureClass_feature"):
        split_feature_name("age")


def test_reading_a_dicom_series_keeps_the_text_encoding(tmp_path):
    import locale

    image, _ = _volume(3)
    write_dicom_series(image, tmp_path / "dicom")
    before = locale.getpreferredencoding(False)
    read_image(tmp_path / "dicom")
    assert locale.getpreferredencoding(False) == before


# pykwalify, pyradiomics' schema validator, loads its extension with the deprecated load_module
@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")
def test_demo_images_with_the_mri_preset_equal_pyradiomics_called_directly(tmp_path):
    from stsanalysis.data.demo import make_radiomics_demo

    demo = make_radiomics_demo(tmp_path / "demo")
    cases = pd.read_csv(demo.cases)
    cases = cases[(cases["reader"] == "reader1") & (cases["sequence"] == "FS-T2")].head(2).copy()
    for column in ("image", "mask"):
        cases[column] = [str(demo.directory / path) for path in cases[column]]
    # the mri_t2fs preset (resampling to 1 mm B-spline, z-score, 32 bins) on the original image
    params = {
        "preset": "mri_t2fs",
        "imageType": {"Original": {}},
        "featureClass": {"firstorder": [], "glcm": [], "glszm": []},
    }
    features = extract_features(cases.drop(columns="reader"), params, n_jobs=1, progress=False)
    resolved = load_params(params)
    direct = RadiomicsFeatureExtractor({section: resolved[section] for section in ("imageType", "featureClass", "setting")})
    for row in cases.itertuples():
        expected = direct.execute(row.image, row.mask)
        for column in features.columns:
            assert features.loc[(row.patient_id, "FS-T2"), column] == pytest.approx(float(expected[column]), rel=1e-12), column
    assert len(features.columns) == 18 + 24 + 16
