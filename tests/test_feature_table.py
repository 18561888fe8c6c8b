"""Reading features extracted elsewhere (``features_path``): pyradiomics' batch output and plain tables.

The batch output is written by pyradiomics' own command line (``pyradiomics cases.csv -o
out.csv -f csv``, radiomics/scripts/__init__.py) on tiny synthetic volumes, so that the
columns (input columns, ``Image``, ``Mask``, ``diagnostics_*``, features) and the text of
every value are exactly what a user's file holds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from stsanalysis import InputError
from stsanalysis.radiomics.extraction import extract_features
from stsanalysis.radiomics.feature_table import (
    FEATURE_TABLE_SOURCE,
    NOT_RECORDED,
    check_feature_coverage,
    read_feature_table,
)
from stsanalysis.radiomics.pipeline import signature_features
from stsanalysis.report.checklist import NOT_RECORDED_FILLERS, clear_checklist, ibsi_reporting_table
from stsanalysis.report.checklist_fillers import FILLERS
from stsanalysis.report.facts import RunFacts

SEQUENCES = ["T1", "FS-T2"]
READERS = {"reader1": "R1", "reader2": "R2"}
PARAMS_YAML = """\
imageType:
  Original: {}
  LoG:
    sigma: [1.0]
featureClass:
  shape: [VoxelVolume, Sphericity]
  firstorder: [Mean, Kurtosis, TotalEnergy]
  glcm: [Contrast, Idmn]
setting:
  binWidth: 10
  resampledPixelSpacing: [1, 1, 1]
  interpolator: sitkLinear
"""
# 4 patients x 2 sequences by reader R1, 2 of them again by reader R2, and P05's FS-T2; "007"
# checks that ids stay text. P05's T1 mask has no voxel of its label: pyradiomics writes its
# row without features (last, so that pyradiomics keeps its column order).
CASES = [(patient, sequence, "R1") for patient in ("007", "P02", "P03", "P04") for sequence in SEQUENCES]
CASES += [(patient, sequence, "R2") for patient in ("007", "P02") for sequence in SEQUENCES]
CASES += [("P05", "FS-T2", "R1")]
FAILING = ("P05", "T1", "R1")


def _volume(seed: int, empty_mask: bool = False) -> tuple[sitk.Image, sitk.Image]:
    rng = np.random.default_rng(seed)
    array = (100 + 20 * rng.standard_normal((8, 20, 20))).astype(np.int16)
    mask = np.zeros(array.shape, dtype=np.uint8)
    if not empty_mask:
        mask[1:7, 5 + seed % 3 : 14, 6:14] = 1
    image, label = sitk.GetImageFromArray(array), sitk.GetImageFromArray(mask)
    for item in (image, label):
        item.SetSpacing((0.8, 0.8, 1.5))
    return image, label


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> dict:
    """pyradiomics' batch input (ID, sequence, reader, Image, Mask, Label, centre) and its output."""
    folder = tmp_path_factory.mktemp("batch")
    rows = []
    for seed, case in enumerate([*CASES, FAILING]):
        image, mask = _volume(seed, empty_mask=case == FAILING)
        stem = "_".join(case)
        sitk.WriteImage(image, str(folder / f"{stem}_image.nrrd"))
        sitk.WriteImage(mask, str(folder / f"{stem}_mask.nrrd"))
        patient, sequence, reader = case
        rows.append(
            {
                "ID": patient,
                "sequence": sequence,
                "reader": reader,
                "Image": f"{stem}_image.nrrd",
                "Mask": f"{stem}_mask.nrrd",
                "Label": 1,
                "centre": "A",
            }
        )
    pd.DataFrame(rows).to_csv(folder / "cases.csv", index=False)
    (folder / "params.yaml").write_text(PARAMS_YAML)
    # pyradiomics' console script (.venv/bin/pyradiomics) run with this interpreter
    command = "import sys; from radiomics.scripts import parse_args; sys.exit(parse_args())"
    arguments = ["cases.csv", "-o", "out.csv", "-f", "csv", "-p", "params.yaml", "--verbosity", "1"]
    subprocess.run([sys.executable, "-c", command, *arguments], cwd=folder, check=True, capture_output=True)
    return {"folder": folder, "cases": folder / "cases.csv", "output": folder / "out.csv", "params": folder / "params.yaml"}


def _read(path, **options):
    options = {"columns": {"patient_id": "ID"}, "sequences": SEQUENCES, "readers": READERS} | options
    return read_feature_table(path, **options)


def _raw(batch) -> pd.DataFrame:
    """The batch output as text, cell by cell."""
    return pd.read_csv(batch["output"], dtype=str, keep_default_na=False)


def _edited(batch, tmp_path, change, name="edited.csv") -> Path:
    """A copy of the batch output (as text) changed by ``change(table)``."""
    table = _raw(batch)
    change(table)
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- pyradiomics' batch output


def test_batch_output_layout_is_pyradiomics(batch):
    columns = list(_raw(batch).columns)
    assert columns[:7] == ["ID", "sequence", "reader", "Image", "Mask", "Label", "centre"]
    assert columns[7] == "diagnostics_Versions_PyRadiomics"
    assert "original_shape_Sphericity" in columns and "log-sigma-1-0-mm-3D_glcm_Contrast" in columns


def test_numbers_round_trip_exactly(batch):
    features, _ = _read(batch["output"])
    raw = _raw(batch)
    ok = raw["original_shape_VoxelVolume"] != ""
    assert features.index.names == ["patient_id", "sequence", "reader"]
    assert features.index.tolist() == list(zip(raw["ID"][ok], raw["sequence"][ok], raw["reader"][ok]))
    assert ("007", "T1", "R1") in features.index  # ids stay text
    feature_columns = [c for c in raw.columns if c.startswith(("original_", "log-sigma"))]
    assert list(features.columns) == feature_columns
    assert set(features.dtypes) == {np.dtype("float64")}
    # the text pyradiomics wrote parses to exactly the double in the table
    expected = raw.loc[ok, feature_columns].map(float).to_numpy()
    np.testing.assert_array_equal(features.to_numpy(), expected)


def test_same_table_as_extract_features(batch):
    """The layout and values of extract_features on the same cases and parameters."""
    cases = pd.read_csv(batch["cases"], dtype=str).rename(columns={"ID": "patient_id", "Image": "image", "Mask": "mask"})
    for column in ("image", "mask"):
        cases[column] = [str(batch["folder"] / name) for name in cases[column]]
    extracted = extract_features(cases.drop(columns=["Label", "centre"]), batch["params"], n_jobs=1, progress=False)
    assert len(extracted.attrs["errors"]) == 1  # the empty mask, as in the batch output
    extracted.attrs = {}
    features, _ = _read(batch["output"])
    pd.testing.assert_frame_equal(features, extracted, check_exact=True)


def test_signature_features_takes_the_table(batch):
    features, _ = _read(batch["output"])
    wide = signature_features(features, SEQUENCES)
    assert wide.index.names == ["patient_id", "reader"]
    assert wide.loc[("P02", "R2"), "FS-T2_original_glcm_Contrast"] == features.loc[("P02", "FS-T2", "R2"), "original_glcm_Contrast"]
    assert wide.shape == (7, 2 * features.shape[1])
    assert np.isnan(wide.loc[("P05", "R1"), "T1_original_firstorder_Mean"])  # P05's T1 extraction failed


def test_xlsx_equals_csv(batch, tmp_path):
    table = pd.read_csv(batch["output"], dtype={"ID": str}, float_precision="round_trip")
    xlsx = tmp_path / "features.xlsx"
    table.to_excel(xlsx, index=False, engine="openpyxl")
    from_csv, csv_provenance = _read(batch["output"])
    from_xlsx, xlsx_provenance = _read(xlsx)
    # openpyxl writes numbers with 16 significant digits ("%.16g", openpyxl.compat.strings),
    # one short of a round trip; the reader adds nothing to that
    pd.testing.assert_frame_equal(from_xlsx, from_csv.map(lambda value: float("%.16g" % value)), check_exact=True)
    for sequence in SEQUENCES:
        assert xlsx_provenance[sequence]["params"] == csv_provenance[sequence]["params"]
        assert xlsx_provenance[sequence]["software"] == csv_provenance[sequence]["software"]


def test_failed_case_is_left_out_and_reported(batch):
    features, provenance = _read(batch["output"])
    assert FAILING not in features.index
    assert ("P05", "FS-T2", "R1") in features.index
    assert (provenance["T1"]["n_cases"], provenance["T1"]["n_failed"]) == (7, 1)
    errors = pd.DataFrame(provenance["T1"]["failed_cases"])
    assert list(errors.columns) == ["patient_id", "sequence", "reader", "file", "error"]
    assert errors.iloc[0]["patient_id"] == "P05" and errors.iloc[0]["file"].endswith("P05_T1_R1_image.nrrd")
    assert provenance["FS-T2"]["failed_cases"] == []


# --------------------------------------------------------------------------- provenance and the report


def test_provenance_from_pyradiomics_diagnostics(batch):
    import radiomics

    _, provenance = _read(batch["output"])
    assert set(provenance) == set(SEQUENCES)
    entry = provenance["T1"]
    assert entry["source"] == FEATURE_TABLE_SOURCE
    assert entry["path"] == str(batch["output"])
    from stsanalysis.files import sha256_file

    assert entry["sha256"] == sha256_file(batch["output"])
    assert entry["software"]["pyradiomics"] == radiomics.__version__
    assert entry["software"]["SimpleITK"] == sitk.Version.VersionString()
    assert entry["not_recorded"] == []
    params = entry["params"]
    assert params["imageType"] == {"Original": {}, "LoG": {"sigma": [1.0]}}
    assert params["setting"]["binWidth"] == 10
    assert params["setting"]["resampledPixelSpacing"] == [1, 1, 1]
    assert "label" not in params["setting"]  # the batch row's Label, not a setting of the sequence
    assert params["featureClass"] == {
        "shape": ["Sphericity", "VoxelVolume"],
        "firstorder": ["Kurtosis", "Mean", "TotalEnergy"],
        "glcm": ["Contrast", "Idmn"],
    }
    assert list(entry["ibsi_deviations"]) == ["firstorder_Kurtosis"]
    assert entry["ibsi_not_defined"] == ["firstorder_TotalEnergy"]
    assert entry["ignored_columns"] == ["Image", "Mask", "Label", "centre"]


def test_ibsi_table_reports_the_recorded_settings(batch):
    _, provenance = _read(batch["output"])
    value = ibsi_reporting_table(provenance["T1"]).set_index("item")["value"]
    assert value["Number of bins or bin width (56b)"] == "fixed bin width of 10"
    assert value["Interpolation method (50a)"] == "linear"
    assert value["Voxel dimensions (51)"] == "1 × 1 × 1 mm"
    assert value["Software and version (61)"].startswith("pyradiomics ")
    assert "σ = 1 mm" in value["Image filters (57)"]
    assert not value.str.contains(NOT_RECORDED).any()


def test_table_without_diagnostics_reports_not_recorded(batch, tmp_path):
    """A plain table (here the CSV ``stsanalysis extract`` writes) says nothing of the settings."""
    features, _ = _read(batch["output"])
    path = tmp_path / "plain_features.csv"
    features.to_csv(path)
    again, provenance = read_feature_table(path, sequences=SEQUENCES, readers=READERS)
    pd.testing.assert_frame_equal(again, features, check_exact=True)
    entry = provenance["FS-T2"]
    assert entry["not_recorded"] == ["imageType", "setting", "software"]
    assert set(entry["software"].values()) == {NOT_RECORDED}
    assert entry["mask_interpolation"] == NOT_RECORDED
    assert set(entry["params"]) == {"featureClass"}
    value = ibsi_reporting_table(entry).set_index("item")["value"]
    unknown = "not recorded (features read from plain_features.csv)"
    for item in ("Number of bins or bin width (56b)", "Voxel dimensions (51)", "Image filters (57)", "Software and version (61)"):
        assert value[item] == unknown, item
    assert value["Biomarker set (58)"] == "shape (3D), first-order and GLCM"  # the columns record the features
    clear = clear_checklist(RunFacts(extraction_provenance=entry)).set_index("short_name")["value"]
    assert unknown in clear.tolist()


def test_not_recorded_fillers_exist():
    named = {filler for fillers in NOT_RECORDED_FILLERS.values() for filler in fillers}
    assert named <= set(FILLERS)


# --------------------------------------------------------------------------- column mapping, filling


def test_without_mapping_the_id_column_is_named(batch):
    with pytest.raises(InputError, match=r"'patient_id' not found.*'ID'.*'Image'"):
        read_feature_table(batch["output"], sequences=SEQUENCES, readers=READERS)


def test_mapping_errors_name_the_column(batch):
    with pytest.raises(InputError, match="'PatientID'"):
        _read(batch["output"], columns={"patient_id": "PatientID"})
    with pytest.raises(InputError, match=r"Unknown column name\(s\) \['patient'\]"):
        _read(batch["output"], columns={"patient": "ID"})


def test_mapping_renames_sequence_and_reader(batch, tmp_path):
    path = _edited(batch, tmp_path, lambda t: t.rename(columns={"sequence": "Series", "reader": "Rater"}, inplace=True))
    features, _ = _read(path, columns={"patient_id": "ID", "sequence": "Series", "reader": "Rater"})
    assert ("P02", "FS-T2", "R2") in features.index


def test_one_sequence_and_reader_fill_missing_columns(batch, tmp_path):
    def t1_reader1_only(table):
        keep = (table["sequence"] == "T1") & (table["reader"] == "R1")
        table.drop(index=table.index[~keep], columns=["sequence", "reader"], inplace=True)

    path = _edited(batch, tmp_path, t1_reader1_only)
    features, provenance = _read(path, sequences=["T1"], readers={"reader1": "R1"})
    assert set(features.index.unique("sequence")) == {"T1"}
    assert set(features.index.unique("reader")) == {"R1"}
    assert list(provenance) == ["T1"]
    with pytest.raises(InputError, match=r"Column 'sequence' not found.*2 sequences are configured \(\['T1', 'FS-T2'\]\)"):
        _read(path, readers=["R1"])
    with pytest.raises(InputError, match=r"Column 'reader' not found"):
        _read(path, sequences="T1")


# --------------------------------------------------------------------------- bad tables


def test_non_numeric_feature_names_column_and_patient(batch, tmp_path):
    def typo(table):
        table.loc[2, "original_glcm_Contrast"] = "12,5"

    path = _edited(batch, tmp_path, typo)
    with pytest.raises(InputError, match=r"'original_glcm_Contrast'.*patient 'P02' \(sequence 'T1', reader 'R1', row 4\) has '12,5'"):
        _read(path)


def test_repeated_case_is_named(batch, tmp_path):
    def repeat(table):
        table.loc[3, "sequence"] = "T1"  # P02's FS-T2 row becomes a second T1 row

    with pytest.raises(InputError, match=r"1 case\(s\) repeat, e.g. \[\('P02', 'T1', 'R1'\)\]"):
        _read(_edited(batch, tmp_path, repeat))


def test_unconfigured_sequence_and_reader_are_named(batch):
    with pytest.raises(InputError, match=r"sequence\(s\) \['FS-T2'\].*table has \['FS-T2', 'T1'\], the study configures \['T1'\]"):
        _read(batch["output"], sequences=["T1"])
    with pytest.raises(InputError, match=r"reader\(s\) \['R2'\]"):
        _read(batch["output"], readers={"reader1": "R1"})


def test_missing_id_value_names_the_row(batch, tmp_path):
    def blank(table):
        table.loc[4, "ID"] = ""

    with pytest.raises(InputError, match=r"row\(s\) \[6\] have no patient_id"):
        _read(_edited(batch, tmp_path, blank))


def test_no_feature_column_and_wide_tables_are_refused(batch, tmp_path):
    only_ids = _edited(batch, tmp_path, lambda t: t.drop(columns=t.columns[7:], inplace=True), "ids.csv")
    with pytest.raises(InputError, match="no feature column named as pyradiomics names features"):
        _read(only_ids)
    wide = pd.DataFrame({"patient_id": ["P1"], "T1_original_glcm_Contrast": [1.0], "FS-T2_original_glcm_Contrast": [2.0]})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(InputError, match=r"<sequence>_<feature>.*T1_original_glcm_Contrast"):
        read_feature_table(tmp_path / "wide.csv", sequences=SEQUENCES, readers=["R1"])


def test_missing_file_and_extension(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_feature_table(tmp_path / "none.csv", sequences=SEQUENCES, readers=["R1"])
    (tmp_path / "features.sav").write_bytes(b"")
    with pytest.raises(InputError, match=r"unsupported extension '\.sav'"):
        read_feature_table(tmp_path / "features.sav", sequences=SEQUENCES, readers=["R1"])


def test_settings_differing_within_a_sequence_are_refused(batch, tmp_path):
    def other_bin_width(table):
        table.loc[2, "diagnostics_Configuration_Settings"] = table.loc[2, "diagnostics_Configuration_Settings"].replace(
            "'binWidth': 10", "'binWidth': 5"
        )

    with pytest.raises(InputError, match=r"'diagnostics_Configuration_Settings'.*sequence 'T1'.*patient '007'.*patient 'P02'"):
        _read(_edited(batch, tmp_path, other_bin_width))


def test_diagnostics_are_parsed_as_literals_never_evaluated(batch, tmp_path):
    marker = tmp_path / "evaluated"

    def code(table):
        table["diagnostics_Configuration_EnabledImageTypes"] = f"__import__('pathlib').Path({str(marker)!r}).touch()"

    with pytest.raises(InputError, match=r"'diagnostics_Configuration_EnabledImageTypes'.*patient '007'.*not the Python dict"):
        _read(_edited(batch, tmp_path, code))
    assert not marker.exists()


# --------------------------------------------------------------------------- coverage of the cohort


def test_coverage_of_the_cohort(batch):
    features, _ = _read(batch["output"])
    check_feature_coverage(features, ["007", "P02", "P03", "P04"], SEQUENCES, "R1")
    # P05's T1 failed; 12 patients missing altogether: the first 10 are named, with the count
    cohort = ["007", "P02", "P05", *[f"X{i:02d}" for i in range(12)]]
    with pytest.raises(InputError, match=r"sequence 'T1': 13 patient\(s\) \['P05', 'X00', .*'X08'\] and 3 more") as error:
        check_feature_coverage(features, cohort, SEQUENCES, "R1")
    assert "sequence 'FS-T2': 12 patient(s)" in str(error.value)
    with pytest.raises(InputError, match=r"no row of the configured sequence\(s\) \['DWI'\]"):
        check_feature_coverage(features, ["007"], [*SEQUENCES, "DWI"], "R1")
    with pytest.raises(InputError, match=r"no row of the primary reader 'R3'.*\['R1', 'R2'\]"):
        check_feature_coverage(features, ["007"], SEQUENCES, "R3")
    # ids compare as text: a cohort read with numeric ids still matches
    check_feature_coverage(features.rename(index={"P03": "3"}).drop(index="P04", level="patient_id"), ["007", "P02", 3], SEQUENCES, "R1")
