"""Shared test fixtures.

R reference values live in ``tests/reference/<name>.json``, written by the R script of the
same name (``tests/reference/<name>.R``); CI reads the JSON and never needs R.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).parent / "reference"


def load_reference(name: str):
    """Return the parsed JSON output of ``tests/reference/<name>.R``."""
    path = REFERENCE_DIR / f"{name}.json"
    with path.open() as handle:
        return json.load(handle)


@pytest.fixture
def reference():
    return load_reference


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by playwright (no browser download).

    Skipped when Chromium is not installed, unless STSANALYSIS_REQUIRE_BROWSER=1 (set by
    .ci/run), where a missing browser is a failure.
    """
    import os
    import shutil

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        message = "Chromium not installed (Debian package 'chromium'); real-browser tests need it."
        if os.environ.get("STSANALYSIS_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def watch_page(page, allowed_prefixes=("file:", "data:", "blob:")):
    """Refuse every request not starting with ``allowed_prefixes`` and record it; record console
    errors. Returns the two lists (attempted remote URLs, console errors), filled as the page runs."""
    remote, errors = [], []

    def handle(route):
        if route.request.url.startswith(tuple(allowed_prefixes)):
            route.continue_()
        else:
            remote.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return remote, errors


@pytest.fixture
def offline_page(browser):
    """A page that refuses every request that is not a local file, and records them.

    Yields (page, attempted_remote_urls, console_errors).
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    remote, errors = watch_page(page)
    yield page, remote, errors
    context.close()


@pytest.fixture(scope="session")
def artifact_dir():
    """Folder for screenshots and other artefacts a person should look at (git-ignored)."""
    folder = Path(__file__).resolve().parents[1] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def write_dicom_series(image, directory: Path) -> None:
    """Write a 3-D SimpleITK image as one DICOM series (a file per slice) in a new ``directory``."""
    import SimpleITK as sitk

    from stsanalysis.radiomics.images import _locale_kept

    directory.mkdir()
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series_uid = "1.2.826.0.1.3680043.2.1125.1"
    # GDCM resets the C locale (Python's default encoding becomes ASCII): keep it, as read_image does
    with _locale_kept():
        for z in range(image.GetDepth()):
            slice_ = image[:, :, z]
            position = image.TransformIndexToPhysicalPoint((0, 0, z))
            for tag, value in {
                "0008|0060": "MR",
                "0020|000d": "1.2.826.0.1.3680043.2.1125.2",
                "0020|000e": series_uid,
                "0020|0013": str(z + 1),
                "0020|0032": "\\".join(map(str, position)),
                "0020|0037": "1\\0\\0\\0\\1\\0",
                "0018|0050": str(image.GetSpacing()[2]),
                "0008|0018": f"{series_uid}.{z + 1}",
            }.items():
                slice_.SetMetaData(tag, value)
            writer.SetFileName(str(directory / f"slice{z:03d}.dcm"))
            writer.Execute(slice_)


@pytest.fixture
def design_b_facts():
    """A realistic design-B run (the demo cohort's numbers, the mri_t1 preset) for the methods
    paragraph and the checklists: ``RunFacts`` with every field a sentence or item reads."""
    from stsanalysis.radiomics.params import extraction_provenance, load_params
    from stsanalysis.report.facts import RunFacts

    # two original-image features stand in for the extracted table: extraction_provenance
    # only reads which feature classes were computed
    features = ["original_firstorder_Kurtosis", "original_shape_MajorAxisLength"]
    return RunFacts(
        n_patients={"training": 109, "external validation": 71},
        n_positive={"training": 52, "external validation": 33},
        centres=("Centre 1", "Centre 2"),
        scanners=("Siemens Aera 1.5 T", "GE Discovery MR750 3 T"),
        sequences=("T1-weighted", "fat-suppressed T2-weighted"),
        modality="MRI",
        study_nature="retrospective",
        outcome="FNCLCC grade III vs I-II on the surgical specimen",
        clinical_predictors=("T-stage", "margin", "peritumoral oedema"),
        segmentation_method="manually on every slice (3D)",
        segmentation_software="ITK-SNAP 4.0",
        n_readers=2,
        resegmentation_subset=40,
        resegmentation_interval="one month",
        extraction_provenance=extraction_provenance(load_params("mri_t1"), features),
        n_features_per_sequence=1130,
        icc_form="ICC2",
        icc_assessments=("inter", "intra"),
        icc_threshold=0.75,
        n_features_reliable=812,
        n_features_tested=1130,
        combat_batch="centre",
        combat_fitted_on="the training set",
        mrmr_k=30,
        mrmr_relevance="mutual_info",
        lasso_lambda_rule="1se",
        cv_folds=10,
        cv_repeats=5,
        n_selected_features={"T1": 6, "FS-T2": 5, "combined": 9},
        univariable_p_enter=0.05,
        nomogram=True,
        external_set="the external validation set (centre 2)",
        performance_metrics=("AUC", "accuracy", "sensitivity", "specificity", "PPV", "NPV"),
        auc_ci_method="DeLong",
        model_comparison="paired DeLong tests",
        hosmer_lemeshow_groups=10,
        calibration_slope_intercept=True,
        decision_curve=True,
        decision_curve_n_boot=1000,
        survival_endpoint="progression-free survival",
        software={
            "Python": "3.11.9",
            "stsanalysis": "0.4.0",
            "numpy": "1.26.4",
            "scipy": "1.13.1",
            "pyradiomics": "3.1.4",
        },
        seeds={"analysis": 20240521},
        code_availability="https://example.org/sts-study",
    )


# ---- the logistic-model test cohort, shared by the logistic, nomogram, calibration and
# model-figure tests (read-only: tests derive new frames with .assign, never modify it)

#: Predictors of the reference model of tests/reference/logistic.R (and nomogram.R).
LOGISTIC_PREDICTORS = ["age", "size_cm", "t_stage", "margin"]


@pytest.fixture(scope="session")
def logistic_cohort():
    """The 150-patient cohort of tests/reference/logistic.R (``logistic_data.csv``)."""
    import pandas as pd

    return pd.read_csv(REFERENCE_DIR / "logistic_data.csv")


@pytest.fixture(scope="session")
def logistic_model(logistic_cohort):
    """``logistic_regression(cohort, "high_grade", LOGISTIC_PREDICTORS)``: glm of logistic.R."""
    from stsanalysis.stats.logistic import logistic_regression

    return logistic_regression(logistic_cohort, "high_grade", LOGISTIC_PREDICTORS)


@pytest.fixture(scope="session")
def calibration_predictions():
    """Outcome ``y`` and predicted risks of tests/reference/calibration.R (``calibration_data.csv``)."""
    import pandas as pd

    return pd.read_csv(REFERENCE_DIR / "calibration_data.csv")
