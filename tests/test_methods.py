"""The generated methods paragraphs: the run's numbers and settings, nothing invented."""

from __future__ import annotations

import dataclasses
import re

import pytest

from stsanalysis.radiomics.params import extraction_provenance, load_params
from stsanalysis.report.facts import RunFacts
from stsanalysis.report.methods import (
    BiomarkerFacts,
    biomarker_methods_paragraph,
    display_methods,
    methods_paragraph,
)

# two original-image features stand in for the extracted table (as in the design_b_facts
# fixture of conftest.py): extraction_provenance only reads which feature classes were computed
_FEATURES = ["original_firstorder_Kurtosis", "original_shape_MajorAxisLength"]


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
        "ComBat harmonisation (parametric empirical Bayes, as sva::ComBat) of the centre effect was fitted on the training set only",
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
        "Analyses used stsanalysis 0.4.0 (Python 3.11.9; numpy 1.26.4, scipy 1.13.1, pyradiomics 3.1.4), random seed 20240521.",
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
        (
            {"extraction_provenance": None, "n_features_per_sequence": None},
            ["resampled", "were extracted with", "bin count"],
        ),
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
        group_definitions=("low vs high grade (FNCLCC grade II-III vs I)", "Ki-67 LI < 30% vs ≥ 30%"),
        correlation_targets=("the grade", "the Ki-67 LI"),
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
        "Correlations with the grade and the Ki-67 LI were assessed with Spearman's rank correlation.",
        "AUC with DeLong 95% CI",
        "Youden index",
        "Two-sided p < 0.05 was considered significant.",
        "Analyses used stsanalysis 0.4.0 (Python 3.11.9; scipy 1.13.1).",
    ]:
        assert phrase in text, phrase


@pytest.mark.parametrize(
    ("form", "described"),
    [
        ("ICC1", "ICC(1) (one-way random effects, single rater)"),
        ("ICC2", "ICC(A,1) (two-way random effects, absolute agreement, single rater)"),
        ("ICC3", "ICC(C,1) (two-way mixed effects, consistency, single rater)"),
        ("ICC1k", "ICC(k) (one-way random effects, mean of k raters)"),
        ("ICC2k", "ICC(A,k) (two-way random effects, absolute agreement, mean of k raters)"),
        ("ICC3k", "ICC(C,k) (two-way mixed effects, consistency, mean of k raters)"),
        ("ICCx", "assessed with ICCx and its 95% CI"),  # unknown forms are named as given, undescribed
    ],
)
def test_biomarker_paragraph_names_the_icc_form_as_mcgraw_wong(form, described):
    # names and models from stats.reliability.ICC_FORM_PARTS (McGraw & Wong 1996)
    assert described in biomarker_methods_paragraph(BiomarkerFacts(icc_form=form))


def test_biomarker_paragraph_without_optional_facts():
    text = biomarker_methods_paragraph(BiomarkerFacts())
    assert "ICC" not in text and "Ki-67 LI <" not in text and "significant" not in text
    assert "Groups were compared" in text and "Correlations" not in text  # no contrasts, no targets given
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
