"""The demo cohorts: deterministic, complete, and with the structure STUDIES.md describes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from stsanalysis.data import demo


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory):
    first = demo.write_demo(tmp_path_factory.mktemp("demo_a"), progress=False)
    second = demo.write_demo(tmp_path_factory.mktemp("demo_b"), progress=False)
    return first, second


def test_same_seed_gives_byte_identical_files(demo_dirs):
    first, second = (json.loads(paths["manifest"].read_text()) for paths in demo_dirs)
    assert first["files"] == second["files"]
    # tables, images, masks, then B001-B003 as DICOM (9 slices, an RTSTRUCT and a SEG each), B001's
    # cropped Slicer segmentation and the DICOM cases table
    assert len(first["files"]) == 2 + 1 + 180 * 2 + 180 + 40 * 2 + 3 * (9 + 2) + 1 + 1


def test_other_seed_gives_other_data():
    assert not demo.make_biomarker_demo(1).equals(demo.make_biomarker_demo(2))


def test_rewrite_is_skipped_when_manifest_is_current(demo_dirs):
    paths = demo_dirs[0]
    before = paths["manifest"].stat().st_mtime_ns
    demo.write_demo(paths["manifest"].parent, progress=False)
    assert paths["manifest"].stat().st_mtime_ns == before


def test_biomarker_demo_matches_design_a():
    cohort = demo.make_biomarker_demo()
    assert len(cohort) == 32 and cohort["patient_id"].is_unique
    assert (cohort["biopsy_grade"] == cohort["surgical_grade"]).sum() == 30
    high = cohort["surgical_grade"] >= 2
    adc_mean = (cohort["adc_mean_r1"] + cohort["adc_mean_r2"]) / 2
    # ADC lower in high grade, Cho/Cr higher, inter-reader agreement high but imperfect.
    assert adc_mean[high].median() < adc_mean[~high].median()
    assert cohort.loc[high, "cho_cr_r1"].median() > cohort.loc[~high, "cho_cr_r1"].median()
    for name in ("adc_min", "adc_mean", "cho_cr"):
        r = np.corrcoef(cohort[f"{name}_r1"], cohort[f"{name}_r2"])[0, 1]
        assert 0.8 < r < 0.97


def test_radiomics_demo_matches_design_b(demo_dirs):
    directory = demo_dirs[0]["radiomics"]
    clinical = pd.read_csv(directory / "clinical.csv")
    cases = pd.read_csv(directory / "cases.csv")
    assert clinical.groupby("centre").size().to_dict() == {1: 109, 2: 71}
    assert clinical["scanner"].nunique() == 3
    assert set(clinical["high_grade"]) == {0, 1}
    assert (clinical["high_grade"] == (clinical["grade"] == 3)).all()
    resegmented = cases.loc[cases["reader"] == "reader2", "patient_id"].unique()
    assert len(resegmented) == 40
    assert set(cases["sequence"]) == {"T1", "FS-T2"}

    row = cases.iloc[0]
    image = sitk.ReadImage(str(directory / row["image"]))
    mask = sitk.ReadImage(str(directory / row["mask"]))
    assert image.GetSpacing() == pytest.approx(demo.IMAGE_SPACING)
    assert image.GetSize() == demo.IMAGE_SIZE and mask.GetSize() == demo.IMAGE_SIZE
    assert image.GetOrigin() == pytest.approx(mask.GetOrigin())
    assert 200 < sitk.GetArrayViewFromImage(mask).sum() < 8000


def test_second_reader_masks_overlap_but_differ(demo_dirs):
    directory = demo_dirs[0]["radiomics"]
    cases = pd.read_csv(directory / "cases.csv")
    patient = cases.loc[cases["reader"] == "reader2", "patient_id"].iloc[0]
    masks = {
        reader: sitk.GetArrayFromImage(sitk.ReadImage(str(directory / f"masks/{patient}_{reader}.nii.gz"))).astype(bool)
        for reader in ("reader1", "reader2", "reader1_repeat")
    }
    for other in ("reader2", "reader1_repeat"):
        dice = 2 * (masks["reader1"] & masks[other]).sum() / (masks["reader1"].sum() + masks[other].sum())
        assert 0.7 < dice < 0.99
