"""The methods paragraph a report generates from its own run, ready to paste into a manuscript.

:func:`methods_paragraph` (design B, radiomics nomogram) and
:func:`biomarker_methods_paragraph` (design A, quantitative-MRI biomarkers) write
manuscript-style paragraphs in the past tense with the run's numbers, settings and
software versions. Every sentence is built only from facts that are present: an absent
fact removes its sentence (never a placeholder, "None" or "nan"). :func:`display_methods`
shows the text in a notebook as a copy-ready block.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..stats.reliability import icc_form_name
from .facts import RunFacts
from .phrases import (
    count,
    counted,
    describe_aggregation,
    describe_discretisation,
    describe_extraction_software,
    describe_feature_classes,
    describe_ibsi_compliance,
    describe_image_types,
    describe_lambda_tuning,
    describe_normalisation,
    describe_resampling,
    icc_description,
    join_words,
    number,
)

__all__ = ["BiomarkerFacts", "MethodsText", "methods_paragraph", "biomarker_methods_paragraph", "display_methods"]

# the libraries a methods paragraph names after stsanalysis, in this order, when present
_CITED_LIBRARIES = ("numpy", "scipy", "pandas", "statsmodels", "scikit-learn", "lifelines", "SimpleITK", "pyradiomics")


def _paragraph(sentences) -> str:
    return " ".join(sentence for sentence in sentences if sentence)


def _text(paragraphs) -> str:
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def software_sentence(software: Mapping[str, str] | None, seeds: Mapping[str, int] | None) -> str | None:
    """ "Analyses used stsanalysis 0.4 (Python 3.11.9; numpy 1.26.4, ...), random seed 42."."""
    parts = []
    if software:
        libraries = ", ".join(f"{name} {software[name]}" for name in _CITED_LIBRARIES if name in software)
        python = f"Python {software['Python']}" if "Python" in software else ""
        inside = "; ".join(part for part in (python, libraries) if part)
        tool = f"stsanalysis {software['stsanalysis']}" if "stsanalysis" in software else "stsanalysis"
        parts.append(f"Analyses used {tool}" + (f" ({inside})" if inside else ""))
    if seeds:
        if len(seeds) == 1:
            seed_text = f"random seed {next(iter(seeds.values()))}"
        else:
            seed_text = "random seeds " + ", ".join(f"{value} ({name})" for name, value in seeds.items())
        parts.append(seed_text if parts else f"Random processes used the {seed_text}")
    if not parts:
        return None
    return ", ".join(parts) + "."


# ----------------------------------------------------------------------------- design B


def _cohort(facts: RunFacts) -> str:
    sentences = []
    if facts.n_patients:
        total = sum(facts.n_patients.values())
        per_set = "; ".join(f"{name} set, n = {count(n)}" for name, n in facts.n_patients.items())
        nature = f"{facts.study_nature} " if facts.study_nature else ""
        sentences.append(f"This {nature}study included {count(total)} patients ({per_set}).")
    if facts.centres:
        sentences.append(f"Patients came from {counted(len(facts.centres), 'centre')} ({join_words(facts.centres)}).")
    if facts.sequences:
        modality = facts.modality or "MRI"
        scanners = ""
        if facts.scanners:
            scanners = f" on {counted(len(facts.scanners), 'scanner')} ({join_words(facts.scanners)})"
        sentences.append(f"{join_words(facts.sequences)} {modality} was analysed{scanners}.")
    if facts.outcome:
        sentences.append(f"The reference standard was {facts.outcome}.")
    if facts.missing_data:
        sentences.append(facts.missing_data)
    return _paragraph(sentences)


def _segmentation(facts: RunFacts) -> str:
    sentences = []
    if facts.segmentation_method:
        software = f" with {facts.segmentation_software}" if facts.segmentation_software else ""
        sentences.append(f"Tumours were segmented {facts.segmentation_method}{software}.")
    if facts.resegmentation_subset:
        repeat = ""
        if facts.resegmentation_interval:
            repeat = f" and by the first reader again after {facts.resegmentation_interval}"
        sentences.append(
            f"In {facts.resegmentation_subset} randomly selected patients the segmentation was repeated by a second reader{repeat}."
        )
    return _paragraph(sentences)


def _extraction(facts: RunFacts) -> str:
    provenance = facts.extraction_provenance
    if not provenance:
        return ""
    sentences = []
    not_recorded = set(provenance.get("not_recorded") or ())
    if not_recorded:
        # features read from a table made elsewhere: say what the file does not record, invent no setting
        name = Path(str(provenance.get("path", "the feature table"))).name
        sentences.append(
            f"Features were read from {name} (SHA-256 {str(provenance.get('sha256', ''))[:12]}), extracted outside this "
            f"analysis; its {join_words(sorted(not_recorded))} settings are not recorded in the file and are reported by the authors."
        )
    if "setting" not in not_recorded:
        normalisation = describe_normalisation(provenance)
        if normalisation:
            sentences.append(f"Image intensities were {normalisation}.")
        sentences.append(f"Images were {describe_resampling(provenance)}.")
        sentences.append(f"Grey levels were discretised with {describe_discretisation(provenance)}.")
    if "imageType" not in not_recorded:
        sentences.append(f"Features were computed on {describe_image_types(provenance)}.")
    n_features = f" (n = {count(facts.n_features_per_sequence)} per sequence)" if facts.n_features_per_sequence else ""
    sentences.append(
        f"Features of the {describe_feature_classes(provenance)} classes{n_features} were extracted with "
        f"{describe_extraction_software(provenance)}; texture matrices: {describe_aggregation(provenance)}."
    )
    sentences.append(f"Feature definitions were {describe_ibsi_compliance(provenance)}.")
    return _paragraph(sentences)


def _reliability(facts: RunFacts) -> str:
    if facts.reliability_assessed is False:
        return "Segmentation reliability was not assessed (no repeat segmentations), so no feature was filtered by ICC."
    if facts.icc_form is None or facts.icc_threshold is None:
        return ""
    assessments = list(facts.icc_assessments or ())
    if assessments:
        # "inter- and intra-reader": the prefixes share the word "reader"
        kinds = join_words([f"{kind}-" for kind in assessments[:-1]] + [f"{assessments[-1]}-reader"]) + " "
    else:
        kinds = ""
    kept = ""
    if facts.n_features_reliable is not None:
        kept = f" (n = {count(facts.n_features_reliable)}"
        kept += f" of {count(facts.n_features_tested)})" if facts.n_features_tested is not None else ")"
    return f"Features with {kinds}{icc_form_name(facts.icc_form)} > {number(facts.icc_threshold)} were retained{kept}."


def _harmonisation(facts: RunFacts) -> str:
    if facts.combat_batch is None:
        return ""
    kind = "parametric" if facts.combat_parametric else "non-parametric"
    mean_only = ", location only" if facts.combat_mean_only else ""
    method = f"ComBat harmonisation ({kind} empirical Bayes{mean_only}, as sva::ComBat)"
    text = f"{method} of the {facts.combat_batch} effect"
    if facts.combat_fitted_on:
        return f"{text} was fitted on {facts.combat_fitted_on} only and applied unchanged to the other data."
    return f"{text} was applied."


def _model(facts: RunFacts) -> str:
    sentences = []
    if facts.mrmr_k:
        relevance = {"mutual_info": "mutual information", "f_statistic": "the ANOVA F statistic"}.get(
            facts.mrmr_relevance or "", facts.mrmr_relevance
        )
        estimator = f" (relevance by {relevance})" if relevance else ""
        sentences.append(
            f"On the training set, minimum-redundancy maximum-relevance (mRMR) selection{estimator} kept {facts.mrmr_k} features."
        )
    if facts.lasso_lambda_rule:
        sentences.append(
            f"LASSO logistic regression ({describe_lambda_tuning(facts)}) then defined the rad-score as the "
            "intercept plus the weighted sum of the features with non-zero coefficients."
        )
    if facts.n_selected_features:
        listed = "; ".join(f"{name}, {n}" for name, n in facts.n_selected_features.items())
        sentences.append(f"Features in the final signatures: {listed}.")
    if facts.univariable_p_enter is not None:
        p = number(facts.univariable_p_enter)
        predictors = f" ({join_words(facts.clinical_predictors)})" if facts.clinical_predictors else ""
        sentences.append(
            f"Clinical and MRI semantic factors{predictors} with p < {p} in univariable logistic regression entered a "
            f"multivariable model; those with p < {p} there formed the clinical model."
        )
    if facts.nomogram:
        sentences.append("A nomogram combined the rad-score with the clinical factors in a logistic model.")
    if facts.logistic_method:
        sentences.append(f"Logistic models were fitted by {facts.logistic_method}.")
    if facts.external_set:
        sentences.append(f"All models were fitted on the training set and tested unchanged on {facts.external_set}.")
    elif facts.validation:
        rule = f": {facts.split_rule}" if facts.split_rule else ""
        sentences.append(
            f"All models were fitted on the training set and tested unchanged on the validation set ({facts.validation}{rule})."
        )
    return _paragraph(sentences)


def _statistics(facts: RunFacts) -> str:
    sentences = []
    if facts.performance_metrics or facts.auc_ci_method:
        ci = f" with {facts.auc_ci_method} 95% CI" if facts.auc_ci_method else ""
        others = [metric for metric in facts.performance_metrics or () if metric != "AUC"]
        also = f"; {join_words(others)}" if others else ""
        sentences.append(f"Discrimination was assessed by the AUC{ci}{also}.")
    if facts.model_comparison:
        sentences.append(f"Models were compared with {facts.model_comparison}.")
    calibration = []
    if facts.hosmer_lemeshow_groups:
        calibration.append(f"the Hosmer-Lemeshow test ({facts.hosmer_lemeshow_groups} groups)")
    if facts.calibration_slope_intercept:
        calibration.append("the calibration slope and intercept")
    if calibration:
        sentences.append(f"Calibration was assessed with calibration curves, {join_words(calibration)}.")
    if facts.decision_curve:
        boot = f" with bootstrap 95% CIs ({count(facts.decision_curve_n_boot)} resamples)" if facts.decision_curve_n_boot else ""
        sentences.append(f"Clinical utility was assessed by decision curve analysis{boot}.")
    if facts.survival_endpoint:
        sentences.append(
            f"For {facts.survival_endpoint}, Kaplan-Meier curves were compared with the log-rank test and "
            "discrimination was measured with Harrell's C-index (95% CI)."
        )
    return _paragraph(sentences)


def methods_paragraph(facts: RunFacts) -> str:
    """Methods text of a design-B (radiomics nomogram) run, paragraphs separated by blank lines.

    Only the facts present in ``facts`` are written; see :class:`RunFacts`.
    """
    return _text(
        [
            _cohort(facts),
            _segmentation(facts),
            _extraction(facts),
            _paragraph([_reliability(facts), _harmonisation(facts)]),
            _model(facts),
            _statistics(facts),
            software_sentence(facts.software, facts.seeds),
        ]
    )


# ----------------------------------------------------------------------------- design A


@dataclass(frozen=True)
class BiomarkerFacts:
    """What a design-A (quantitative-MRI biomarker) run knows; every field optional.

    ``n_patients``; ``parameters`` (the measured values, e.g. ("ADCmin", "ADCmean",
    "Cho/Cr")); ``n_readers``; ``analysed_value`` ("the mean of the two readers");
    ``icc_form`` (psych name, "ICC2") and ``icc_threshold`` (good agreement above it);
    ``group_definitions`` (each contrast's groups as the text names them, e.g. "low vs high
    grade (grade II-III vs grade I)"); ``correlation_targets`` (what the parameters were
    correlated with, e.g. "the grade"; the sentence is dropped when there is none);
    ``alpha``; ``software`` (name -> version) and ``seeds``.
    """

    n_patients: int | None = None
    parameters: Sequence[str] | None = None
    n_readers: int | None = None
    analysed_value: str | None = None
    icc_form: str | None = None
    icc_threshold: float | None = None
    group_definitions: Sequence[str] | None = None
    correlation_targets: Sequence[str] | None = None
    alpha: float | None = None
    software: Mapping[str, str] | None = None
    seeds: Mapping[str, int] | None = None


_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _sentence_number(n: int) -> str:
    """A number that opens a sentence is written in words (style guides), up to ten."""
    return _NUMBER_WORDS[n] if 0 <= n <= 10 else count(n)


def biomarker_methods_paragraph(facts: BiomarkerFacts) -> str:
    """Methods text of a design-A (quantitative-MRI biomarker) run; absent facts drop their sentences."""
    measured = join_words(facts.parameters) if facts.parameters else "the parameters"
    sentences = []
    if facts.n_readers and facts.n_patients:
        noun = "radiologists" if facts.n_readers != 1 else "radiologist"
        readers = f"{_sentence_number(facts.n_readers).capitalize()} {noun}"
        sentences.append(f"{readers} measured {measured} independently in {count(facts.n_patients)} patients.")
    if facts.icc_form:
        description = icc_description(facts.icc_form)
        kind = f" ({description})" if description else ""
        good = f"; ICC > {number(facts.icc_threshold)} was considered good agreement" if facts.icc_threshold else ""
        sentences.append(f"Inter-reader agreement was assessed with {icc_form_name(facts.icc_form)}{kind} and its 95% CI{good}.")
    if facts.analysed_value:
        sentences.append(f"{facts.analysed_value[:1].upper()}{facts.analysed_value[1:]} was analysed.")
    agreement = _paragraph(sentences)

    compared = f" ({join_words(facts.group_definitions)})" if facts.group_definitions else ""
    correlated = join_words(facts.correlation_targets) if facts.correlation_targets else ""
    tests = _paragraph(
        [
            "Normality was assessed with the Shapiro-Wilk test; values are reported as mean ± SD when normality was "
            "not rejected and as median (P25, P75) otherwise.",
            f"Groups{compared} were compared with Welch's t-test when both groups were normally "
            "distributed, otherwise with the Wilcoxon rank-sum (Mann-Whitney U) test, reported as Z with the tie "
            "correction and without continuity correction, as SPSS reports it.",
            f"Correlations with {correlated} were assessed with Spearman's rank correlation." if correlated else None,
            "Diagnostic performance was assessed by ROC analysis: AUC with DeLong 95% CI, p for AUC = 0.5 from the "
            "standard error under the null hypothesis (as SPSS), and the optimal cut-off maximising the Youden index "
            "(sensitivity + specificity - 1).",
            f"Two-sided p < {number(facts.alpha)} was considered significant." if facts.alpha is not None else None,
        ]
    )
    return _text([agreement, tests, software_sentence(facts.software, facts.seeds)])


# ----------------------------------------------------------------------------- display


class MethodsText(str):
    """Methods text that Jupyter shows as a copy-ready block (``<div class="sts-methods">``)."""

    def _repr_html_(self) -> str:
        paragraphs = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in self.split("\n\n"))
        # the button copies the rendered text of its block: no text is embedded in JavaScript
        copy = "navigator.clipboard.writeText(this.closest('.sts-methods').querySelector('.sts-methods-text').innerText)"
        return (
            '<div class="sts-methods">'
            f'<button type="button" class="sts-methods-copy" onclick="{html.escape(copy)}">Copy</button>'
            f'<div class="sts-methods-text">{paragraphs}</div>'
            "</div>"
        )


def display_methods(text: str) -> MethodsText:
    """The methods text as a notebook block with a "Copy" button (the cell's last value shows it)."""
    return MethodsText(text)
