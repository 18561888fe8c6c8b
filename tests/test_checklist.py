"""CLEAR and IBSI reporting checklists filled from a run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from stsanalysis.errors import InputError
from stsanalysis.radiomics import extract_features
from stsanalysis.report.checklist import (
    CHECKLIST_COLUMNS,
    CHECKLIST_DIR,
    FIXED_STATUSES,
    NOT_APPLICABLE,
    REPORTED,
    TO_COMPLETE,
    available_checklists,
    clear_checklist,
    fill_checklist,
    ibsi_reporting_table,
    load_checklist,
)
from stsanalysis.report.checklist_fillers import FILLERS
from stsanalysis.report.facts import RunFacts, software_facts

# a reduced mri_t1 configuration: the preset's pre-processing (z-score, 1 mm B-spline
# resampling, 32 bins) on first-order and GLCM features of the original image only, fast
# enough for a unit test
_REDUCED_MRI_T1 = {
    "preset": "mri_t1",
    "imageType": {"Original": {}},
    "featureClass": {"firstorder": [], "glcm": []},
}


@pytest.fixture(scope="module")
def provenance(tmp_path_factory) -> dict:
    """The provenance extract_features attaches to a real (tiny, synthetic) extraction."""
    directory = tmp_path_factory.mktemp("case")
    rng = np.random.default_rng(7)
    array = rng.normal(100, 20, size=(8, 20, 20)).astype(np.float32)
    mask = np.zeros(array.shape, dtype=np.uint8)
    mask[2:6, 5:15, 5:15] = 1
    image, label = sitk.GetImageFromArray(array), sitk.GetImageFromArray(mask)
    for volume in (image, label):
        volume.SetSpacing((0.8, 0.8, 2.0))
    sitk.WriteImage(image, str(directory / "image.nii.gz"))
    sitk.WriteImage(label, str(directory / "mask.nii.gz"))
    cases = pd.DataFrame([{"patient_id": "P01", "image": str(directory / "image.nii.gz"), "mask": str(directory / "mask.nii.gz")}])
    features = extract_features(cases, params=_REDUCED_MRI_T1, n_jobs=1, progress=False)
    return features.attrs["provenance"]


@pytest.fixture
def facts(design_b_facts, provenance) -> RunFacts:
    """The shared design-B facts (conftest.py) with the provenance of a real extraction."""
    return dataclasses.replace(design_b_facts, extraction_provenance=provenance)


def test_clear_csv_holds_the_58_published_items():
    items = pd.read_csv(CHECKLIST_DIR / "clear.csv")
    assert list(items.columns) == ["item", "section", "text", "filler"]
    assert items["item"].tolist() == list(range(1, 59))
    assert items["text"].str.len().min() > 0
    # spot checks against the published checklist (Kocak et al. 2023, Table 1)
    by_item = items.set_index("item")
    assert by_item.loc[23, "text"] == "Discretization method and its parameters"
    assert by_item.loc[25, "section"] == "Methods: Feature extraction"
    assert by_item.loc[31, "text"] == "Details of segmentation reliability analysis"
    assert by_item.loc[58, "section"] == "Open Science: Model availability"


def test_clear_checklist_fills_what_the_run_knows(facts, provenance):
    table = clear_checklist(facts)
    assert list(table.columns) == ["item", "section", "short_name", "status", "value"]
    assert len(table) == 58 and table["item"].is_unique
    assert set(table["status"]) <= {REPORTED, TO_COMPLETE, NOT_APPLICABLE}
    value = table.set_index("item")["value"]
    version = provenance["software"]["pyradiomics"].removeprefix("v")
    assert value[25].startswith(f"pyradiomics {version} (SimpleITK {provenance['software']['SimpleITK']})")
    assert "IBSI 1-compliant except firstorder_Kurtosis" in value[25]
    assert value[22] == "resampled to 1 × 1 × 1 mm³ voxels with B-spline interpolation (masks: nearest neighbour)"
    assert value[23] == "a fixed bin count of 32"
    assert value[27] == "1,130 per sequence (T1-weighted and fat-suppressed T2-weighted)"
    assert value[31] == "inter-reader and intra-reader ICC(A,1) > 0.75; 40 patients segmented twice"
    assert value[32] == "ComBat (parametric empirical Bayes) of the centre effect, fitted on the training set"
    assert value[35] == "λ by 10-fold cross-validation repeated 5 times, 1-SE rule"
    assert value[46] == "812 of 1,130 features reproducible"
    assert '"binCount": 32' in value[55] and '"resampledPixelSpacing": [1, 1, 1]' in value[55]
    # every reported item has a value, every other item none
    reported = table["status"] == REPORTED
    assert (table.loc[reported, "value"].str.len() > 0).all()
    assert (table.loc[~reported, "value"] == "").all()
    # title, ethics and discussion are the authors' to write
    status = table.set_index("item")["status"]
    assert status[[1, 8, 49, 52]].eq(TO_COMPLETE).all()
    assert not table["value"].str.contains(r"\bNone\b|\bnan\b").any()


def test_clear_checklist_without_facts_leaves_everything_to_the_authors():
    table = clear_checklist(RunFacts())
    assert (table["status"] == TO_COMPLETE).all()


def test_ibsi_table_reads_real_extraction_provenance(provenance):
    table = ibsi_reporting_table(provenance)
    assert list(table.columns) == ["topic", "item", "value"]
    value = table.set_index("item")["value"]
    assert value["Voxel dimensions (51)"] == "1 × 1 × 1 mm"
    assert value["Interpolation method (50a)"] == "B-spline"
    assert "nearest" in value["Mask interpolation method (53)"].lower()
    assert value["Discretisation method (56a)"] == "fixed bin number (FBN)"
    assert value["Number of bins or bin width (56b)"] == "fixed bin count of 32"
    assert value["Intensity normalisation (46)"].startswith("z-score normalised (scale 100")
    assert value["Image filters (57)"] == "the original image"
    assert value["Biomarker set (58)"] == "first-order and GLCM"
    assert value["GLCM symmetry (64)"] == "symmetric"
    assert value["GLCM distance (65)"] == "Chebyshev distance 1"
    assert value["NGLDM coarseness (71)"] == "α = 0"
    assert value["Distance weighting (63)"] == "no weighting"
    version = provenance["software"]["pyradiomics"].removeprefix("v")
    assert value["Software and version (61)"] == f"pyradiomics {version} (SimpleITK {provenance['software']['SimpleITK']})"
    # the run's non-compliant features are listed with their reasons (StandardDeviation is not
    # computed by default in pyradiomics 3; shape was not requested)
    deviations = table[table["topic"] == "IBSI deviation"].set_index("item")["value"]
    assert deviations.index.tolist() == ["firstorder_Kurtosis", "firstorder_TotalEnergy", "glcm_MCC"]
    assert "excess kurtosis" in deviations["firstorder_Kurtosis"]
    # what only the authors know stays to them without facts
    assert value["Scanner type and vendor (7)"] == TO_COMPLETE
    assert value["Robustness (60)"] == TO_COMPLETE


def test_ibsi_table_adds_the_facts(provenance, facts):
    value = ibsi_reporting_table(provenance, facts).set_index("item")["value"]
    assert value["Scanner type and vendor (7)"] == "Siemens Aera 1.5 T and GE Discovery MR750 3 T"
    assert value["Robustness (60)"] == "inter-reader and intra-reader ICC(A,1) > 0.75"
    assert value["Number of readers, expertise, consensus (48b)"] == "2 readers; 40 patients segmented again for reproducibility"


def test_ibsi_table_reports_pyradiomics_defaults_and_bin_width():
    provenance = {
        "params": {
            "imageType": {"Original": {}, "LoG": {"sigma": [2.0, 4.0]}},
            "featureClass": {"glcm": []},
            "setting": {"binWidth": 0.5, "weightingNorm": "no_weighting"},
        },
        "software": {"pyradiomics": "3.1.4"},
    }
    value = ibsi_reporting_table(provenance).set_index("item")["value"]
    assert value["Voxel dimensions (51)"] == "original voxel spacing (no resampling)"
    assert value["Interpolation method (50a)"].startswith(NOT_APPLICABLE)
    assert value["Number of bins or bin width (56b)"] == "fixed bin width of 0.5"
    assert value["Discretisation method (56a)"] == "fixed bin size (FBS)"
    assert value["Intensity normalisation (46)"] == "none"
    assert value["Image filters (57)"] == "the original image and Laplacian-of-Gaussian filtered images (σ = 2, 4 mm)"
    assert "merged" in value["Texture matrix aggregation (62)"]


@pytest.mark.parametrize("name", available_checklists())
def test_every_checklist_file_loads_and_names_existing_fillers(name):
    items = load_checklist(name)
    assert list(items.columns) == CHECKLIST_COLUMNS
    assert items["item"].is_unique and (items["text"].str.len() > 0).all()
    assert set(items["filler"]) <= set(FILLERS) | set(FIXED_STATUSES)


def test_the_shipped_checklists_are_found_and_use_every_filler():
    assert {"clear", "ibsi_reporting"} <= set(available_checklists())
    used = set().union(*(load_checklist(name)["filler"] for name in available_checklists()))
    assert set(FILLERS) <= used, f"fillers no checklist names: {sorted(set(FILLERS) - used)}"


def _write_checklist(path, rows, columns="item,section,text,filler"):
    path.write_text("\n".join([columns, *rows]) + "\n")
    return path


def test_unknown_filler_is_an_error_naming_file_item_and_filler(tmp_path):
    path = _write_checklist(tmp_path / "tripod_ai.csv", ["1,Title,Identify the study,authors", "5a,Methods,Data source,dataset_origin"])
    with pytest.raises(InputError, match=r"tripod_ai\.csv, item 5a: unknown filler 'dataset_origin'"):
        load_checklist(path)


def test_checklist_file_with_wrong_columns_or_repeated_items_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"bad\.csv must have the columns \['item', 'section', 'text', 'filler'\]"):
        load_checklist(_write_checklist(tmp_path / "bad.csv", ["1,Title,Title,authors"], columns="item,topic,text,fact"))
    with pytest.raises(InputError, match=r"twice\.csv lists item\(s\) \[2\] more than once"):
        load_checklist(_write_checklist(tmp_path / "twice.csv", ["1,A,a,authors", "2,A,b,outcome", "2,A,c,outcome"]))
    with pytest.raises(InputError, match=r"Unknown checklist 'probast'"):
        load_checklist("probast")


def test_a_new_checklist_is_a_data_file(tmp_path, design_b_facts):
    path = _write_checklist(
        tmp_path / "new.csv",
        [
            "1,Title,Identify the study,authors",
            "2,Methods,Reference standard,outcome",
            "3,Methods,Phantom study,not_applicable",
            "4,Methods,Sample size,class_balance",
        ],
    )
    table = fill_checklist(path, RunFacts(outcome="FNCLCC grade III vs I-II"), not_applicable={4: "no sample size"})
    assert list(table.columns) == ["item", "section", "text", "status", "value"]
    assert table["status"].tolist() == [TO_COMPLETE, REPORTED, NOT_APPLICABLE, NOT_APPLICABLE]
    assert table["value"].tolist() == ["", "FNCLCC grade III vs I-II", "", "no sample size"]
    # the extraction fillers need the provenance; without it their items stay with the authors
    extraction = _write_checklist(tmp_path / "extraction.csv", ["1,Methods,Discretisation,discretisation"])
    assert fill_checklist(extraction, design_b_facts)["status"].tolist() == [TO_COMPLETE]
    filled = fill_checklist(extraction, design_b_facts, design_b_facts.extraction_provenance)
    assert filled["value"].tolist() == ["a fixed bin count of 32"]


def test_items_declared_not_applicable_carry_their_reason(facts):
    declared = dataclasses.replace(facts, not_applicable={30: "classes balanced; no resampling of the training set"})
    row = clear_checklist(declared).set_index("item").loc[30]
    assert row["status"] == NOT_APPLICABLE
    assert row["value"] == "classes balanced; no resampling of the training set"


def test_unknown_clear_item_is_an_input_error():
    with pytest.raises(InputError, match=r"'not_applicable' names CLEAR items \[59\]"):
        clear_checklist(RunFacts(not_applicable={59: "no such item"}))


def test_in_plane_resampling_keeps_the_slice_spacing():
    provenance = {"params": {"setting": {"resampledPixelSpacing": [0.5, 0.5, 0]}}}
    value = ibsi_reporting_table(provenance).set_index("item")["value"]
    assert value["Voxel dimensions (51)"] == "0.5 × 0.5 mm × original"
    assert value["Interpolation grid position (50b)"] == (
        "aligned to the corner of the original grid, cropped to the ROI bounding box padded by 5 voxels"
    )


def test_software_facts_names_packages_as_cited():
    versions = pd.DataFrame({"software": ["Python", "pyradiomics-bhklab", "lifelines"], "version": ["3.11.7", "3.1.4", "not installed"]})
    assert software_facts(versions) == {"Python": "3.11.7", "pyradiomics": "3.1.4"}


def test_wavelet_sub_bands_follow_the_decomposition_level():
    # pyradiomics _swt3: 7 detail images per level + the final approximation
    provenance = {"params": {"imageType": {"Wavelet": {"level": 2}}, "setting": {"wavelet": "haar"}}}
    value = ibsi_reporting_table(provenance).set_index("item")["value"]
    assert value["Image filters (57)"] == "wavelet decompositions (haar, 15 sub-bands)"
