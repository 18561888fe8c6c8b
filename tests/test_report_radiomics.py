"""The design-B report end to end on the demo cohort, with a reduced feature set.

All 180 demo patients and both sequences go through every step; only the extraction is cut
to first-order and GLCM features of the original image (and the bootstrap counts are
small) so that the test runs in about a minute. The cohort is a renamed copy of the demo
(other column names in both tables), so the run also shows that a user's cohort goes
through a config alone.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from stsanalysis import stats
from stsanalysis.data.demo import make_radiomics_demo
from stsanalysis.report.build import table_of_contents
from stsanalysis.report.formatting import format_estimate, format_number
from stsanalysis.studies import survival as survival_study

pytestmark = pytest.mark.slow

SECTIONS = [
    "Cohort",
    "Sample size",
    "Steps 1-2: extraction and reliability of radiomic features",
    "Step 3: harmonisation of the scanner effect",
    "Step 4: radiomics signatures (mRMR + LASSO)",
    "Step 5: clinical model",
    "Step 6: nomogram",
    "Step 7: discrimination",
    "Step 8: calibration",
    "Step 9: decision curves",
    "Step 10: progression-free survival",
    "Step 11: patient characteristics",
    "Methods, IBSI and checklists",
    "Provenance",
]
#: design name -> the renamed copy's column
CLINICAL_NAMES = {
    "patient_id": "Study ID",
    "centre": "Site",
    "scanner": "MR system",
    "grade": "FNCLCC grade",
    "pfs_months": "PFS (months)",
    "pfs_event": "Progression",
}
CASE_NAMES = {
    "patient_id": "Study ID",
    "sequence": "Series",
    "reader": "Observer",
    "image": "Image file",
    "mask": "Mask file",
}
SMALL_PRESET = {"preset": "mri_t1", "imageType": {"Original": {}}, "featureClass": {"firstorder": [], "glcm": []}}


@pytest.fixture(scope="module")
def design_b(tmp_path_factory):
    folder = tmp_path_factory.mktemp("design_b")
    demo = make_radiomics_demo(folder / "demo")
    pd.read_csv(demo.clinical).rename(columns=CLINICAL_NAMES).to_csv(folder / "demo" / "our_clinical.csv", index=False)
    pd.read_csv(demo.cases).rename(columns=CASE_NAMES).to_csv(folder / "demo" / "our_cases.csv", index=False)
    config = {
        "notebook": "radiomics_nomogram_study",
        "name": "design_b",
        "parameters": {
            "clinical_path": str(folder / "demo" / "our_clinical.csv"),
            "cases_path": str(folder / "demo" / "our_cases.csv"),
            "columns": CLINICAL_NAMES,
            "case_columns": CASE_NAMES,
            "sequences": {"T1": SMALL_PRESET, "FS-T2": SMALL_PRESET},
            "readers": {"reader1": "reader1", "reader2": "reader2", "repeat": "reader1_repeat"},
            "survival": {"time": "pfs_months", "event": "pfs_event", "label": "progression-free survival", "stage": "ajcc_stage"},
            "mrmr_k": 10,
            "n_boot": 50,
            "n_boot_validation": 20,
            "cache_dir": str(folder / "cache"),
            "n_jobs": 2,
        },
    }
    (folder / "study.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stsanalysis",
            "report",
            "--config",
            str(folder / "study.yaml"),
            "--output",
            str(folder / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return folder / "out" / "design_b.html", pd.read_csv(demo.clinical)


def test_every_step_is_a_section(design_b):
    html = design_b[0].read_text()
    assert [entry.text for entry in table_of_contents(html) if entry.level == 2] == SECTIONS
    # PCA, segmentation agreement, LASSO CV + path per signature, Bland-Altman, forest, nomogram, 2 ROC, 2 calibration, 2 DCA, 2 KM
    assert html.count("Plotly.newPlot") == 19
    assert "Rad-score = " in html and "CLEAR checklist" in html and "Copy</button>" in html
    assert "The interactive nomogram calculator" in html  # its form runs in JupyterLab
    # warnings of the analysis stay visible in the report (progress bars do not)
    assert "EventsPerParameterWarning: Only 44 events" in html


# the demo's clinical screen has about 6 events per parameter: the warning is expected here
@pytest.mark.filterwarnings("ignore::stsanalysis.stats.logistic.EventsPerParameterWarning")
def test_numbers_that_need_no_radiomics_equal_direct_calls(design_b):
    html, clinical = design_b[0].read_text(), design_b[1]
    clinical["high_grade"] = (clinical["grade"] >= 3).astype(int)
    training = clinical[clinical["centre"] == 1]
    screen = stats.univariable_multivariable(
        training,
        "high_grade",
        ["age", "sex", "t_stage", "margin", "depth", "size_cm", "necrosis", "peritumoral_oedema"],
    )
    factors = list(screen.attrs["retained"])
    assert f"Clinical model factors: {', '.join(factors)}." in html
    model = stats.logistic_regression(training, "high_grade", factors)
    validation = clinical[clinical["centre"] == 2]
    result = stats.roc(validation["high_grade"], model.predict(validation), direction="<")
    assert re.search(
        rf"Clinical model</td><td>validation</td><td>{re.escape(format_estimate(result.auc, result.ci_low, result.ci_high))}</td>",
        html,
    )

    ajcc = survival_study.ajcc_ordinal(validation["ajcc_stage"])
    c_index = stats.concordance_index(validation["pfs_months"], validation["pfs_event"], ajcc)
    assert re.search(rf"validation</td><td>AJCC stage</td><td[^>]*>{format_number(c_index.c, 3)}</td>", html)


def test_design_b_report_opens_offline_with_every_figure(design_b, offline_page, artifact_dir):
    page, remote, errors = offline_page
    page.goto(design_b[0].as_uri())
    page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length >= 17", timeout=30000)
    page.screenshot(path=str(artifact_dir / "radiomics_nomogram_study.png"), full_page=True)
    assert remote == [] and errors == []


def test_extract_command_writes_the_feature_table_from_a_config(design_b):
    folder = design_b[0].parents[1]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stsanalysis",
            "extract",
            "--config",
            str(folder / "study.yaml"),
            "--quiet",
            "--output",
            str(folder / "features.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    features = pd.read_csv(folder / "features.csv", index_col=["patient_id", "sequence", "reader"])
    assert len(features) == 2 * (180 + 2 * 40)  # both sequences: reader 1 for all, reader 2 and repeat for 40
    assert "original_glcm_Contrast" in features.columns and not features.isna().any().any()


def test_reviewers_sections_equal_direct_calls(design_b):
    from stsanalysis.studies import reviewers

    html, clinical = design_b[0].read_text(), design_b[1]
    training = clinical[clinical["centre"] == 1]
    y = pd.Series((training["grade"] >= 3).astype(int).to_numpy())
    # 10 clinical degrees of freedom (t_stage has 4 levels) + 10 mRMR features
    riley = reviewers.sample_size(y, pd.Series(["training"] * len(y)), 20)
    assert riley.sentence(len(y), int(y.sum())) in html
    assert "Reclassification, nomogram vs clinical model" in html and "Continuous NRI" in html
    assert "Bootstrap distribution of the nomogram" in html
    assert "TRIPOD+AI: " in html and "METRICS score over" in html and "RQS points established by this run" in html
