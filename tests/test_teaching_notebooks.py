"""Every teaching notebook runs with small parameters and renders to an HTML report that holds
its sections and the numbers the package computes for the same parameters."""

from __future__ import annotations

import re

import pytest

from stsanalysis.report.build import NOTEBOOK_DIR, build_report
from stsanalysis.report.formatting import format_number

pytestmark = pytest.mark.slow

TEACHING = NOTEBOOK_DIR / "teaching"
SEED = 20240601


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from stsanalysis.data.demo import make_radiomics_demo

    return make_radiomics_demo(tmp_path_factory.mktemp("demo") / "radiomics").directory


def cell(value, digits: int) -> str:
    """A numeric cell as to_html_table writes it."""
    return f'<td class="num">{format_number(value, digits)}</td>'


def texture_numbers(parameters, demo_dir, tmp_path):
    from stsanalysis.teaching import compare_features, phantom_features, select_features, texture_phantoms

    comparison = compare_features(phantom_features(texture_phantoms(**parameters, seed=SEED)))
    contrast = select_features(comparison, ["glcm_Contrast"]).iloc[0]
    assert (contrast["checkerboard"], contrast["stripes"]) == (pytest.approx(0.5), pytest.approx(0.75))
    return [cell(contrast[name], 3) for name in ("blocks", "checkerboard", "stripes", "random")] + [
        '<td class="num">18</td><td class="num">18</td><td class="num">0</td>'  # first order: all identical
    ]


def discretisation_numbers(parameters, demo_dir, tmp_path):
    from stsanalysis.teaching import grey_level_summary, grey_levels, resegmented_demo_cases

    cases = resegmented_demo_cases(demo_dir, n_patients=parameters["n_patients"], seed=SEED)
    summary = grey_level_summary(grey_levels(cases[cases["reader"] == "reader1"]))
    return [cell(value, 0) for value in summary["bin_width_median"]] + [
        f"93 features x 4 settings x 2 readers x {parameters['n_patients']} patients."
    ]


def segmentation_numbers(parameters, demo_dir, tmp_path):
    from stsanalysis.teaching import add_perturbed_readers, resegmented_demo_cases, volume_summary

    cases = resegmented_demo_cases(demo_dir, n_patients=parameters["n_patients"], seed=SEED)
    summary = volume_summary(add_perturbed_readers(cases, tmp_path / "masks", 1.0, seed=SEED))
    assert summary["reading"].tolist() == ["reader1", "reader2", "dilated 1 mm", "eroded 1 mm", "random ±1 mm"]
    return [cell(value, 1) for value in summary["mean_change_percent"]] + [
        f"107 features for each of {parameters['n_patients']} patients and 5 readings."
    ]


def leakage_numbers(parameters, demo_dir, tmp_path):
    from stsanalysis import stats
    from stsanalysis.teaching import APPROACHES, leakage_predictions, noise_features

    X, y = noise_features(n=parameters["n_patients"], p=parameters["n_features"], seed=SEED)
    predictions = leakage_predictions(X, y, k=10, folds=5, seed=SEED)
    return [cell(stats.roc(y, predictions[approach], direction="<").auc, 3) for approach in APPROACHES]


def calibration_numbers(parameters, demo_dir, tmp_path):
    from stsanalysis.teaching import miscalibrated_predictions, models_of, performance_table

    data = miscalibrated_predictions(n=parameters["n_patients"], seed=SEED)
    table = performance_table(data, "outcome", list(models_of(data)))
    return [cell(table["auc"].iloc[0], 3)] + [cell(value, 3) for value in table["calibration_slope"]]


def harmonisation_numbers(parameters, demo_dir, tmp_path):
    from stsanalysis.teaching import harmonisation_summary, harmonise, scanner_effect

    data = scanner_effect(n_patients=parameters["n_patients"], seed=SEED)
    _, harmonised = harmonise(data)
    summary = harmonisation_summary(data.features, harmonised, data.patients, data.informative)
    return [cell(value, 3) for value in summary["median_scanner_share"]]


def c_index_numbers(parameters, demo_dir, tmp_path):
    from stsanalysis.teaching.survival_models import (
        accuracy_at,
        concordance_table,
        fit_risk_models,
        survival_calibrations,
        time_varying_cohort,
    )

    models = fit_risk_models(time_varying_cohort(parameters["n_patients"], seed=SEED))
    harrell = concordance_table(models, tau=5.0)["harrell_c"]
    assert harrell.max() - harrell.min() < 0.01  # the lesson's premise holds for these parameters
    accuracy = accuracy_at(models, [2.0, 5.0], survival_calibrations(models, [2.0, 5.0]))
    return (
        [cell(value, 3) for value in harrell]
        + [cell(value, 3) for value in accuracy["auc"]]
        + [cell(value, 3) for value in accuracy["ici"]]
    )


LESSONS = {
    "01_texture_features": (
        {"size": 16, "block": 4},
        [
            "The four phantoms",
            "Feature extraction with pyradiomics",
            "First-order features see only the histogram",
            "Texture features see where the grey values are",
            "Take-home message",
            "Provenance",
        ],
        texture_numbers,
    ),
    "02_discretisation_and_resampling": (
        {"n_patients": 5},
        [
            "The cohort",
            "Bin width or bin count?",
            "Four pre-processing settings",
            "Scanner dependence and reliability",
            "Resampling changes the values",
            "Take-home message",
            "Provenance",
        ],
        discretisation_numbers,
    ),
    "03_segmentation_variability_and_icc": (
        {"n_patients": 5},
        [
            "The cohort and the perturbed masks",
            "Features of every reading",
            "One ICC, six forms",
            "Reliability of every feature",
            "Agreement versus consistency, over all features",
            "Take-home message",
            "Provenance",
        ],
        segmentation_numbers,
    ),
    "04_leakage": (
        {"n_patients": 60, "n_features": 200, "n_repeats": 2},
        [
            "Pure noise",
            "Two ways to cross-validate the same signature",
            "Is it bad luck? Repeat the experiment",
            "Why it happens",
            "Take-home message",
            "Provenance",
        ],
        leakage_numbers,
    ),
    "05_beyond_auc": (
        {"n_patients": 200, "n_boot": 10},
        [
            "Three models, one ranking",
            "Calibration plots",
            "Calibration in numbers",
            "Decision curves: is the model worth using?",
            "Take-home message",
            "Provenance",
        ],
        calibration_numbers,
    ),
    "06_harmonisation": (
        {"n_patients": 90},
        [
            "The simulated cohort",
            "ComBat, fitted on the training set",
            "The feature space before and after",
            "One feature, scanner by scanner",
            "What was removed, what was kept",
            "Take-home message",
            "Provenance",
        ],
        harmonisation_numbers,
    ),
    "07_beyond_c_index": (
        {"n_patients": 200},
        [
            "A cohort with an early and a late marker",
            "Three models, one C-index",
            "Discrimination over time: AUC(t)",
            "Calibration at t",
            "Accuracy at t: the Brier score",
            "Decision curves at t",
            "Take-home message",
            "Provenance",
        ],
        c_index_numbers,
    ),
}


USES_DEMO = {"02_discretisation_and_resampling", "03_segmentation_variability_and_icc"}


def test_every_teaching_notebook_is_tested():
    assert sorted(path.stem for path in TEACHING.glob("*.ipynb")) == sorted(LESSONS)


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_teaching_notebook_renders_its_sections_and_numbers(lesson, demo_dir, tmp_path):
    parameters, headings, expected_numbers = LESSONS[lesson]
    if lesson in USES_DEMO:
        parameters = {**parameters, "demo_dir": str(demo_dir)}
    html = build_report(TEACHING / f"{lesson}.ipynb", parameters, tmp_path / "reports", timeout=300).read_text()

    found = [re.sub(r"<[^>]+>", "", text).strip() for text in re.findall(r'<h2 id="[^"]+">(.*?)<a class="anchor-link"', html)]
    assert found == headings
    assert html.count("<h1") >= 1 and "Lesson" in html
    for text in expected_numbers(parameters, demo_dir, tmp_path):
        assert text in html, text
    assert "Random seeds" in html and "Software versions" in html
    assert "Traceback" not in html  # no error output
    assert html.count("Plotly.newPlot") >= 1
