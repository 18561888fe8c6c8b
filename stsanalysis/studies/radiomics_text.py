"""The design-B report's words that depend on the study: its endpoint, split, readers and batch.

The notebook's fixed text is generic; every heading or paragraph that names the endpoint
("high grade", "lung metastasis"), the kind of validation, the readers or the survival
endpoint is written here from the study's config, so no report of another endpoint says
"high grade".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..report.phrases import join_words
from .design import capitalised
from .radiomics_nomogram import Cohort, validation_sentence


def introduction(cohort: Cohort, sequences: Sequence[str]) -> str:
    """The report's title and first paragraph."""
    outcome, split = cohort.outcome, cohort.split
    if len(sequences) > 1:
        signatures = f"Radiomics signatures ({join_words([*sequences, 'combined'])})"
    else:
        signatures = f"A radiomics signature ({sequences[0]})"
    return (
        f"# Radiomics nomogram predicting {outcome.label} (design B)\n\n"
        f"{signatures}, a clinical model and a nomogram combining them predict {outcome.label}. "
        f"Validation: {split.validation_name}, {split.describe()}; no step of the analysis sees the validation set "
        "while fitting. Every number is computed from the cohort named in the parameters when the report is built."
    )


def cohort_text(cohort: Cohort) -> str:
    """The paragraph above the table of patients per set."""
    outcome = cohort.outcome
    batch = f" and {cohort.batch_column}s" if cohort.batch_column else ""
    missing = f" {cohort.missing.sentence()}" if cohort.missing else ""
    return (
        f"{capitalised(outcome.label)}: {outcome.definition}. {validation_sentence(cohort)} "
        f"The table lists patients, patients with {outcome.label}{batch} per set.{missing}"
    )


def reliability_text(readers: Mapping[str, str], icc_threshold: float) -> str:
    """Steps 1-2: what the reliability filter compares, or that there is none."""
    extraction = (
        "Features are extracted with pyradiomics for every patient, sequence and segmentation (results cached on "
        "disk), or read from the feature table of `features_path`."
    )
    kinds = [
        text
        for role, text in (("reader2", "inter-reader (reader 1 vs reader 2)"), ("repeat", "intra-reader (reader 1 vs reader 1 again)"))
        if role in readers
    ]
    if not kinds:
        return f"{extraction} The study has one segmentation per patient: segmentation reliability is not assessed and no feature is filtered by ICC."
    return f"{extraction} Step 1 keeps the features whose {' and '.join(kinds)} ICC exceed {icc_threshold:g} on the re-segmented subset."


def reliability_caption(tables: Mapping[str, object], icc_form: str, icc_threshold: float) -> str:
    """The caption of the reliability table: which ICCs, the threshold and the re-segmented subset."""
    kinds = [kind for kind, role in (("inter", "reader2"), ("intra", "repeat")) if role in tables]
    readers = "inter- and intra-reader" if len(kinds) == 2 else f"{kinds[0]}-reader"
    subset = len(tables.get("reader2", tables.get("repeat")))
    return f"Features with {readers} {icc_form} > {icc_threshold:g} (n = {subset} re-segmented patients)"


def harmonisation_heading(cohort: Cohort) -> str:
    """The heading and paragraph of step 3."""
    if not cohort.batch_column:
        return "## Step 3: harmonisation\n\nNo batch column is configured (`batch_column`): features are not harmonised."
    batch = cohort.batch_column
    return (
        f"## Step 3: harmonisation of the {batch} effect\n\n"
        f"The scatter shows the first two principal components of the reliable features, coloured by {batch}. ComBat "
        "(parametric empirical Bayes, as `sva::ComBat`) is fitted on the training patients and applied unchanged to the "
        f"validation patients; clusters by {batch} that disappear after ComBat are the batch effect it removes."
    )


def screening_note(clinical_model) -> str:
    """The footnote of the step-5 table: the model's factors and which test gives a factor's p."""
    factors = ", ".join(clinical_model.factors) if clinical_model.factors else "none"
    m = len(clinical_model.datasets)
    test = (
        f"pooled Wald test of the whole factor (D1, as mice::D1) over {m} imputed data sets; ORs and CIs pooled with Rubin's rules"
        if m > 1
        else "likelihood-ratio test of the whole factor"
    )
    return f"Clinical model factors: {factors}. p on a factor's reference row: {test}."


def nomogram_text(outcome_label: str, factors: Sequence[str]) -> str:
    """The paragraph of step 6."""
    clinical = " and the clinical factors" if factors else " alone (no clinical factor entered it)"
    return (
        f"A logistic model of the rad-score{clinical}, fitted on the training set and drawn as a nomogram: each "
        f"predictor's value gives points (top scale), the total points give the predicted probability of {outcome_label} "
        "(bottom scales), as `rms::nomogram`. Opened in JupyterLab, the calculator below the table takes a patient's "
        "values and shows the points and the risk."
    )


def survival_heading(cohort: Cohort) -> str:
    """The heading and paragraph of step 10 (the survival endpoint of the config)."""
    survival = cohort.survival
    stage = (
        f", of {survival.stage} and of the nomogram and {survival.stage} combined (a Cox model fitted on training)"
        if survival.stage
        else ""
    )
    return (
        f"## Step 10: {survival.label}\n\n"
        f"Kaplan-Meier curves of {survival.label} by the group the nomogram predicts (cut-off fixed on the training "
        f"set), log-rank test and numbers at risk; Harrell's C-index of every model's predicted probability{stage}."
    )


def patient_characteristics_text(cohort: Cohort) -> str:
    """The paragraph of step 11."""
    return (
        f"{capitalised(cohort.outcome.contrast)} in each set: mean ± SD or median "
        "(P25, P75) by normality with the t-test or Mann-Whitney U test; counts (%) with the chi-square or Fisher's "
        "exact test (expected count < 5)."
    )
