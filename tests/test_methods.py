"""The generated methods paragraphs: the run's numbers and settings, nothing invented."""

from __future__ import annotations

import dataclasses
import re

import pytest

from stsanalysis.radiomics.extraction import extraction_provenance, load_params
from stsanalysis.report.checklist import RunFacts
from stsanalysis.report.methods import (
    BiomarkerFacts,
    biomarker_methods_paragraph,
    display_methods,
    methods_paragraph,
)

# two original-image features stand in for the extracted table: extraction_provenance
# only reads which feature classes were computed
_FEATURES = ["original_firstorder_Kurtosis", "original_shape_MajorAxisLength"]


@pytest.fixture
def design_b_facts() -> RunFacts:
    """A realistic design-B run: the demo cohort's numbers and the mri_t1 preset."""
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
        extraction_provenance=extraction_provenance(load_params("mri_t1"), _FEATURES),
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
        software={"Python": "3.11.9", "stsanalysis": "0.4.0", "numpy": "1.26.4", "scipy": "1.13.1", "pyradiomics": "3.1.4"},
        seeds={"analysis": 20240521},
        code_availability="https://example.org/sts-study",
    )


def test_design_b_paragraph_states_the_run_settings(design_b_facts):
    text = methods_paragraph(design_b_facts)
    provenance = design_b_facts.extraction_provenance
    expected_phrases = [
        "This retrospective study included 180 patients (training set, n = 109; external validation set, n = 71).",
        "T1-weighted and fat-suppressed T2-weighted MRI was analysed on 2 scanners (Siemens Aera 1.5 T and GE",
        "repeated by a second reader and by the first reader again after one month",
        "z-score normalised (scale 100; first-order features computed after a shift of 300)",
        "resampled to 1 × 1 × 1 mm³ voxels with B-spline interpolation (masks: nearest neighbour)",
        "a fixed bin count of 32",
        "wavelet decompositions (coif1, 8 sub-bands)",
        "(σ = 1, 2, 3 mm)",
        "(n = 1,130 per sequence)",
        f"pyradiomics {provenance['software']['pyradiomics'].removeprefix('v')} (SimpleITK {provenance['software']['SimpleITK']})",
        "Feature definitions were IBSI 1-compliant except firstorder_Kurtosis (pyradiomics reports kurtosis",
        "features of filtered images (Wavelet, LoG) are not covered by IBSI 1.",
        "Features with inter- and intra-reader ICC(A,1) > 0.75 were retained (n = 812 of 1,130).",
        "ComBat harmonisation (parametric empirical Bayes, as sva::ComBat) of the centre effect was fitted on "
        "the training set only",
        "mRMR) selection (relevance by mutual information) kept 30 features",
        "λ by 10-fold cross-validation repeated 5 times, 1-SE rule",
        "T1, 6; FS-T2, 5; combined, 9",
        "with p < 0.05 in univariable logistic regression",
        "tested unchanged on the external validation set (centre 2)",
        "AUC with DeLong 95% CI; accuracy, sensitivity, specificity, PPV and NPV",
        "compared with paired DeLong tests",
        "the Hosmer-Lemeshow test (10 groups) and the calibration slope and intercept",
        "decision curve analysis with bootstrap 95% CIs (1,000 resamples)",
        "For progression-free survival, Kaplan-Meier curves were compared with the log-rank test",
        "Harrell's C-index",
        "Analyses used stsanalysis 0.4.0 (Python 3.11.9; numpy 1.26.4, scipy 1.13.1, pyradiomics 3.1.4), "
        "random seed 20240521.",
    ]
    for phrase in expected_phrases:
        assert phrase in text, phrase
    # paragraphs separated by blank lines, none empty
    assert all(paragraph.strip() for paragraph in text.split("\n\n"))


def test_bin_width_preset_is_described_as_bin_width(design_b_facts):
    facts = dataclasses.replace(design_b_facts, extraction_provenance=extraction_provenance(load_params("ct"), _FEATURES))
    text = methods_paragraph(facts)
    assert "a fixed bin width of 25" in text
    assert "bin count" not in text
    assert "normalised" not in text  # the CT preset does not normalise


@pytest.mark.parametrize(
    ("removed", "absent"),
    [
        ({"extraction_provenance": None, "n_features_per_sequence": None}, ["resampled", "were extracted with", "bin count"]),
        ({"icc_form": None}, ["ICC", "retained"]),
        ({"combat_batch": None}, ["ComBat"]),
        ({"seeds": None}, ["seed"]),
        ({"software": None}, ["Analyses used"]),
        ({"survival_endpoint": None}, ["Kaplan-Meier", "C-index"]),
        ({"decision_curve_n_boot": None}, ["bootstrap"]),
        ({"cv_repeats": None}, ["repeated 5 times"]),
        ({"resegmentation_interval": None}, ["first reader again"]),
        ({"n_features_reliable": None, "n_features_tested": None}, ["(n = 812"]),
    ],
)
def test_absent_facts_drop_their_sentences(design_b_facts, removed, absent):
    text = methods_paragraph(dataclasses.replace(design_b_facts, **removed))
    for word in absent:
        assert word not in text
    assert not re.search(r"\b(None|nan|NaN)\b", text)


def test_empty_facts_give_empty_text():
    assert methods_paragraph(RunFacts()) == ""


def test_biomarker_paragraph_design_a():
    facts = BiomarkerFacts(
        n_patients=32,
        parameters=("ADCmin", "ADCmean", "Cho/Cr"),
        n_readers=2,
        analysed_value="the mean of the two readers",
        icc_form="ICC2",
        icc_threshold=0.75,
        grade_definition="FNCLCC grade II-III vs I",
        ki67_cutoff=30,
        alpha=0.05,
        software={"stsanalysis": "0.4.0", "Python": "3.11.9", "scipy": "1.13.1"},
    )
    text = biomarker_methods_paragraph(facts)
    for phrase in [
        "Two radiologists measured ADCmin, ADCmean and Cho/Cr independently in 32 patients.",
        "ICC(A,1) (two-way random effects, absolute agreement, single rater) and its 95% CI; ICC > 0.75",
        "The mean of the two readers was analysed.",
        "Shapiro-Wilk test",
        "low vs high grade (FNCLCC grade II-III vs I) and Ki-67 LI < 30% vs ≥ 30%",
        "reported as Z with the tie correction and without continuity correction, as SPSS reports it",
        "Spearman's rank correlation",
        "AUC with DeLong 95% CI",
        "Youden index",
        "Two-sided p < 0.05 was considered significant.",
        "Analyses used stsanalysis 0.4.0 (Python 3.11.9; scipy 1.13.1).",
    ]:
        assert phrase in text, phrase


def test_biomarker_paragraph_without_optional_facts():
    text = biomarker_methods_paragraph(BiomarkerFacts())
    assert "ICC" not in text and "Ki-67 LI <" not in text and "significant" not in text
    assert "Analyses used" not in text
    assert not re.search(r"\b(None|nan)\b", text)


def test_display_methods_escapes_user_text_and_has_copy_button(design_b_facts):
    facts = dataclasses.replace(design_b_facts, centres=("<script>alert(1)</script>", "Centre 2"))
    html = display_methods(methods_paragraph(facts))._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.startswith('<div class="sts-methods">')
    assert "navigator.clipboard.writeText" in html and ">Copy</button>" in html
    assert html.count("<p>") == methods_paragraph(facts).count("\n\n") + 1
    assert "src=" not in html and "<link" not in html  # nothing fetched from the network
