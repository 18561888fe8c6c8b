"""Design-B reports of cohorts that are not the demo, described by their config alone.

Three cohorts written from the demo's images with other names and another endpoint:
(1) one centre split at random, one sequence, one reader, a text endpoint in a column with
spaces and accents ("Métastase pulmonaire"), 10 % missing values in two clinical variables
(multiple imputation); (2) the same from a pyradiomics batch-output feature table instead of
images; (3) a temporal split with a list-valued endpoint and a survival endpoint. Each report
must say the configured label and never "high grade".
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from compare_report_tables import report_table, report_text

from stsanalysis.data.demo import make_radiomics_demo
from stsanalysis.radiomics.extraction import extract_features
from stsanalysis.report.build import table_of_contents

pytestmark = pytest.mark.slow

SMALL_PRESET = {"preset": "mri_t1", "imageType": {"Original": {}}, "featureClass": {"firstorder": [], "glcm": []}}
AGE, SIZE, ENDPOINT = "Âge (ans)", "Taille tumorale (cm)", "Métastase pulmonaire"
FAST = {"mrmr_k": 8, "n_boot": 40, "n_boot_validation": 10, "n_jobs": 2, "seed": 7}


def _build(folder, name: str, parameters: dict) -> str:
    config = {"notebook": "radiomics_nomogram_study", "name": name, "parameters": {**FAST, **parameters}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "stsanalysis", "report", "--config", str(path), "--output", str(folder / "out")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return (folder / "out" / f"{name}.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """The demo's images as three other studies: tables, cases and a pyradiomics batch output."""
    folder = tmp_path_factory.mktemp("own_study")
    demo = make_radiomics_demo(folder / "demo")
    clinical = pd.read_csv(demo.clinical)
    rng = np.random.default_rng(3)
    clinical[ENDPOINT] = np.where((clinical["grade"] == 3) ^ (rng.random(len(clinical)) < 0.15), "oui", "non")
    clinical["Date IRM"] = pd.Timestamp("2014-01-01") + pd.to_timedelta(rng.integers(0, 9 * 365, len(clinical)), unit="D")
    clinical["Réponse"] = np.where(clinical["grade"] == 3, rng.choice(["complète", "partielle"], len(clinical)), "aucune")
    for column in ("age", "size_cm"):
        clinical.loc[rng.choice(len(clinical), len(clinical) // 10, replace=False), column] = np.nan
    clinical = clinical.drop(columns=["high_grade", "grade", "centre"]).rename(
        columns={"patient_id": "N° patient", "age": AGE, "size_cm": SIZE}
    )
    clinical.to_csv(folder / "clinique.csv", index=False)

    cases = pd.read_csv(demo.cases)
    one = cases[(cases["sequence"] == "T1") & (cases["reader"] == "reader1")].drop(columns="reader")
    one.assign(
        image=[str(folder / "demo" / path) for path in one["image"]], mask=[str(folder / "demo" / path) for path in one["mask"]]
    ).to_csv(folder / "cases_t1.csv", index=False)
    # pyradiomics' batch output: the input columns (ID, Image, Mask), diagnostics, then the features
    features = extract_features(
        pd.read_csv(folder / "cases_t1.csv").assign(reader="reader1"),
        SMALL_PRESET,
        n_jobs=2,
        cache_dir=folder / "cache",
        progress=False,
    )
    table = pd.DataFrame(features).reset_index()
    batch = pd.DataFrame({"ID": table["patient_id"], "Image": "image.nii.gz", "Mask": "mask.nii.gz"})
    batch["diagnostics_Versions_PyRadiomics"] = "v3.1.0"
    batch["diagnostics_Mask-original_VoxelNum"] = 1000
    feature_columns = [column for column in table.columns if column not in ("patient_id", "sequence", "reader")]
    pd.concat([batch, table[feature_columns]], axis=1).to_csv(folder / "pyradiomics_batch.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def random_split(cohorts):
    common = {
        "clinical_path": str(cohorts / "clinique.csv"),
        "columns": {"patient_id": "N° patient"},
        "sequences": {"T1": SMALL_PRESET},
        "outcome": {"column": ENDPOINT, "positive": "oui", "label": "lung metastasis"},
        "split": {"random": 0.3, "stratify": True},
        "clinical_candidates": [AGE, SIZE, "sex", "margin"],
        "table_one_variables": [AGE, SIZE, "sex", "margin", "depth"],
        "batch_column": "",
        "missing": "impute",
        "n_imputations": 5,
        "cache_dir": str(cohorts / "cache"),
    }
    images = _build(cohorts, "random_split", {**common, "cases_path": str(cohorts / "cases_t1.csv")})
    table = _build(
        cohorts,
        "feature_table",
        {**common, "features_path": str(cohorts / "pyradiomics_batch.csv"), "feature_columns": {"patient_id": "ID"}},
    )
    return images, table


def test_random_split_report_says_the_endpoint_and_the_validation(random_split, cohorts):
    html = random_split[0]
    text = report_text(html)
    assert "high grade" not in text.lower() and "high-grade" not in text.lower()
    assert "Radiomics nomogram predicting lung metastasis" in text
    assert (
        "internal validation, a random 30% of patients held out" in text
        and "Table 1: training set, no lung metastasis vs lung metastasis" in text
    )
    assert "Combined signature" not in text and "T1 signature" in text
    assert "segmentation reliability is not assessed" in text
    assert "Step 10" not in text  # no survival endpoint configured
    # the random split: 30 % held out, stratified by the endpoint
    clinical = pd.read_csv(cohorts / "clinique.csv")
    overview = report_table(html, "patients_per_set")
    assert overview["patients"].tolist() == [126, 54] and overview["patients"].sum() == len(clinical)
    positives = int((clinical[ENDPOINT] == "oui").sum())
    assert overview["lung_metastasis"].sum() == positives
    assert abs(overview["lung_metastasis"][1] / 54 - positives / 180) < 0.02
    # the missing-data table counts what the fixture removed: 18 values in each of two columns
    missing = report_table(html, "missing_values_per_variable").set_index("variable")
    assert missing.loc[AGE, "total_missing"] == 18 and missing.loc[SIZE, "total_missing"] == 18
    assert missing.loc["sex", "total_missing"] == 0
    assert "imputed 5 times by chained equations" in text and "Rubin" in text


def test_feature_table_gives_the_same_signature_as_the_images(random_split):
    images, table = random_split
    assert "read from the feature table" in report_text(table)
    by_images = report_table(images, "discrimination_per_model_and_set")
    by_table = report_table(table, "discrimination_per_model_and_set")
    pd.testing.assert_frame_equal(by_images, by_table)


@pytest.fixture(scope="module")
def temporal_split(cohorts):
    return _build(
        cohorts,
        "temporal_split",
        {
            "clinical_path": str(cohorts / "clinique.csv"),
            "cases_path": str(cohorts / "demo" / "cases.csv"),
            "columns": {"patient_id": "N° patient"},
            "sequences": {"T1": SMALL_PRESET, "FS-T2": SMALL_PRESET},
            "readers": {"reader1": "reader1", "reader2": "reader2", "repeat": "reader1_repeat"},
            "outcome": {"column": "Réponse", "positive": ["complète", "partielle"], "label": "response to neoadjuvant therapy"},
            "split": {"by": "date", "column": "Date IRM", "before": "2019-01-01"},
            "survival": {"time": "pfs_months", "event": "pfs_event", "label": "overall survival", "unit": "months", "times": [0, 24, 48]},
            "clinical_candidates": ["sex", "margin", "depth"],
            "table_one_variables": ["sex", "margin", "depth", AGE],
            "cache_dir": str(cohorts / "cache"),
        },
    )


def test_temporal_split_report(temporal_split, cohorts):
    text = report_text(temporal_split)
    assert "high grade" not in text.lower()
    assert "temporal validation" in text and "before 2019-01-01" in text
    headings = [entry.text for entry in table_of_contents(temporal_split) if entry.level == 2]
    assert "Step 10: overall survival" in headings and "Step 3: harmonisation of the scanner effect" in headings
    clinical = pd.read_csv(cohorts / "clinique.csv").dropna(subset=[AGE])  # age is shown, not modelled: nobody excluded
    overview = report_table(temporal_split, "patients_per_set")
    dates = pd.to_datetime(pd.read_csv(cohorts / "clinique.csv")["Date IRM"])
    assert overview["patients"].tolist() == [int((dates < "2019-01-01").sum()), int((dates >= "2019-01-01").sum())]
    assert len(clinical) < 180  # sanity of the fixture
    assert "Combined signature" in text and "inter- and intra-reader" in text
