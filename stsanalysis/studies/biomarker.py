"""Design A: the quantitative-MRI biomarker study (ADCmin, ADCmean, Cho/Cr; two readers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..report.formatting import (
    format_estimate,
    format_interval,
    format_mean_sd,
    format_median_iqr,
    format_number,
    format_p_phrase,
)
from ..stats.roc import RocResult, roc
from ..stats.tables import (
    AgreementResult,
    agreement_table,
    correlation_table,
    describe_parameters,
    group_comparison_table,
    reliability_table,
    roc_summary,
)
from ..validation import numeric_vector, require_columns

#: Parameters measured by each reader (columns ``<name>_r1`` and ``<name>_r2``): short
#: names for sentences and table rows, and labels with units for figure axes.
PARAMETER_NAMES = {"adc_min": "ADCmin", "adc_mean": "ADCmean", "cho_cr": "Cho/Cr"}
PARAMETER_LABELS = {"adc_min": "ADCmin (×10⁻³ mm²/s)", "adc_mean": "ADCmean (×10⁻³ mm²/s)", "cho_cr": "Cho/Cr"}
DEFAULT_PARAMETERS = tuple(PARAMETER_NAMES)
READER_MODES = ("mean", "reader1")
#: Fewer patients than this make every test and interval of design A meaningless.
MIN_PATIENTS = 10
#: ICC above which inter-reader agreement is read as good (Koo & Li 2016), as published.
GOOD_AGREEMENT = 0.75


@dataclass(frozen=True)
class Contrast:
    """A binary reference standard of design A: its column (0/1) and how the text names it."""

    outcome: str
    group_names: tuple[str, str]
    what: str
    groups_phrase: str


#: The two contrasts of design A, in the order of the report.
CONTRASTS = {
    "high_grade": Contrast("high_grade", ("Low grade", "High grade"), "high grade", "low- and high-grade tumours"),
    "ki67_high": Contrast("ki67_high", ("Low Ki-67", "High Ki-67"), "high Ki-67", "low- and high-Ki-67 tumours"),
}
#: The columns design A uses; a study config's ``columns`` maps a user's names onto these.
COLUMNS = ("patient_id", "subtype", "biopsy_grade", "surgical_grade", "ki67") + tuple(
    f"{name}_{reader}" for name in PARAMETER_NAMES for reader in ("r1", "r2")
)


def prepare_biomarker_data(
    cohort: pd.DataFrame,
    *,
    reader: str = "mean",
    high_grade_from: int = 2,
    ki67_threshold: float = 30.0,
    parameters: Sequence[str] = DEFAULT_PARAMETERS,
) -> pd.DataFrame:
    """The analysis table of design A: one value per parameter and patient, and the outcomes.

    ``reader="mean"`` analyses the mean of the two readers (as published), ``"reader1"``
    the first reader's value. ``high_grade`` is 1 when the surgical FNCLCC grade is at
    least ``high_grade_from`` (design A: grade II+III vs I); ``ki67_high`` is 1 when the
    Ki-67 LI is at least ``ki67_threshold`` %. Reader columns are kept for the ICC.
    """
    if reader not in READER_MODES:
        raise InputError(f"'reader' must be one of {READER_MODES}; got {reader!r}.")
    if high_grade_from not in (2, 3):
        raise InputError(f"'high_grade_from' must be 2 (grade II-III vs I) or 3 (grade III vs I-II); got {high_grade_from!r}.")
    reader_columns = [f"{name}_{suffix}" for name in parameters for suffix in ("r1", "r2")]
    if len(cohort) < MIN_PATIENTS:
        raise InputError(f"The design-A cohort has {len(cohort)} patients; the analysis needs at least {MIN_PATIENTS}.")
    require_columns(
        cohort,
        ["patient_id", "surgical_grade", "biopsy_grade", "ki67", "subtype", *reader_columns],
        "the design-A cohort",
    )
    grade = numeric_vector(cohort["surgical_grade"], "surgical_grade")
    if not np.isin(grade, (1, 2, 3)).all():
        raise InputError(f"'surgical_grade' must be an FNCLCC grade 1, 2 or 3; got {sorted(set(grade.tolist()))}.")
    data = cohort[["patient_id", "subtype", "biopsy_grade", "surgical_grade", "ki67", *reader_columns]].copy()
    for name in parameters:
        first = numeric_vector(cohort[f"{name}_r1"], f"{name}_r1")
        second = numeric_vector(cohort[f"{name}_r2"], f"{name}_r2")
        data[name] = (first + second) / 2.0 if reader == "mean" else first
    data["high_grade"] = (grade >= high_grade_from).astype(int)
    data["ki67_high"] = (numeric_vector(cohort["ki67"], "ki67") >= ki67_threshold).astype(int)
    return data


def cohort_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Counts and percentages of subtype, surgical grade, grade group and Ki-67 group."""
    n = len(data)
    pieces = []
    for characteristic, column, labels in (
        ("Histological subtype", "subtype", None),
        ("FNCLCC grade (surgery)", "surgical_grade", {1: "Grade I", 2: "Grade II", 3: "Grade III"}),
        ("Grade group", "high_grade", dict(enumerate(CONTRASTS["high_grade"].group_names))),
        ("Ki-67 LI group", "ki67_high", dict(enumerate(CONTRASTS["ki67_high"].group_names))),
    ):
        counts = data[column].value_counts().sort_index()
        pieces.append(
            pd.DataFrame(
                {
                    "characteristic": characteristic,
                    "level": [labels.get(level, level) if labels else level for level in counts.index],
                    "n": counts.to_numpy(),
                    "percent": 100.0 * counts.to_numpy() / n,
                }
            )
        )
    return pd.concat(pieces, ignore_index=True)


# --------------------------------------------------------------------------------------
# Tables 1-6 of design A: computed once (analyse_biomarkers), then read as tables, sentences
# and figures
# --------------------------------------------------------------------------------------
GRADE_NAMES = {1: "I", 2: "II", 3: "III"}


def _label(parameter: str) -> str:
    return PARAMETER_NAMES.get(parameter, parameter)


@dataclass(frozen=True)
class BiomarkerAnalysis:
    """Every statistic of design A, computed once from the analysis table.

    ``agreement``: biopsy vs surgical grade; ``descriptives`` and ``reliability``: Table 2;
    ``comparisons``: Table 3 per contrast; ``correlations``: Table 4; ``rocs``: one
    :class:`RocResult` per contrast and parameter (with its bootstrap band when ``n_boot`` > 0),
    from which Tables 5 and 6, their sentences and the ROC figures are read.
    """

    data: pd.DataFrame
    parameters: tuple[str, ...]
    icc_form: str
    alpha: float
    agreement: AgreementResult
    descriptives: pd.DataFrame
    reliability: pd.DataFrame
    comparisons: Mapping[str, pd.DataFrame]
    correlations: pd.DataFrame
    rocs: Mapping[str, Mapping[str, RocResult]]

    def roc_table(self, outcome: str) -> pd.DataFrame:
        """AUC, CI, p and Youden cut-off of each parameter for one contrast (:func:`stats.roc_summary`)."""
        return roc_summary(self.rocs[outcome])


def analyse_biomarkers(
    data: pd.DataFrame,
    *,
    icc_form: str = "ICC2",
    alpha: float = 0.05,
    se_method: str = "delong",
    n_boot: int = 0,
    seed: int | None = None,
    parameters: Sequence[str] = DEFAULT_PARAMETERS,
) -> BiomarkerAnalysis:
    """Compute Tables 1b-6 of design A once (the report's tables, sentences and figures read the result).

    ``se_method`` is the p of AUC vs 0.5 (:func:`stats.roc`); ``n_boot`` > 0 adds the pointwise
    bootstrap band of each ROC curve (``n_boot`` stratified replicates with ``seed``).
    """
    if n_boot > 0 and seed is None:
        raise InputError("A bootstrap band needs a 'seed' (so that the report can be rebuilt); got seed=None.")
    parameters = tuple(parameters)
    return BiomarkerAnalysis(
        data=data,
        parameters=parameters,
        icc_form=icc_form,
        alpha=alpha,
        agreement=agreement_table(data["surgical_grade"], data["biopsy_grade"], labels=[1, 2, 3]),
        descriptives=describe_parameters(data, list(parameters)),
        reliability=reliability_table(data, {name: (f"{name}_r1", f"{name}_r2") for name in parameters}, form=icc_form),
        comparisons={outcome: group_comparison_table(data, list(parameters), outcome) for outcome in CONTRASTS},
        correlations=correlation_table(data, list(parameters), ["surgical_grade", "ki67"]),
        rocs={outcome: _rocs(data, outcome, parameters, se_method, n_boot, seed) for outcome in CONTRASTS},
    )


def _rocs(data: pd.DataFrame, outcome: str, parameters, se_method: str, n_boot: int, seed) -> dict[str, RocResult]:
    results = {name: roc(data[outcome], data[name], se_method=se_method) for name in parameters}
    return {name: result.with_band(n_boot, seed=seed) if n_boot > 0 else result for name, result in results.items()}


def grade_agreement_sentence(analysis: BiomarkerAnalysis) -> str:
    agreement = analysis.agreement
    return (
        f"Biopsy grade agreed with surgical grade in {agreement.n_agree}/{agreement.n} patients "
        f"(accuracy {format_estimate(100 * agreement.accuracy, 100 * agreement.accuracy_ci_low, 100 * agreement.accuracy_ci_high, 1)} %; "
        f"Cohen's κ = {format_estimate(agreement.kappa, agreement.kappa_ci_low, agreement.kappa_ci_high, 2)})."
    )


def grade_agreement_display(analysis: BiomarkerAnalysis) -> pd.DataFrame:
    """Table 1b: biopsy grade (columns) against surgical grade (rows), grades as roman numerals."""
    table = analysis.agreement.table.rename(index=GRADE_NAMES, columns=GRADE_NAMES)
    return table.rename_axis("Surgical grade").reset_index()


def descriptive_reliability_table(analysis: BiomarkerAnalysis) -> pd.DataFrame:
    """Table 2: N, range, mean ± SD (Shapiro-Wilk p >= 0.05) or median (P25, P75), and ICC."""
    rows = []
    for described, agreement in zip(analysis.descriptives.itertuples(), analysis.reliability.itertuples()):
        rows.append(
            {
                "parameter": _label(described.parameter),
                "n": described.n,
                "range": format_interval(described.min, described.max, 2),
                "summary": format_mean_sd(described.mean, described.sd)
                if described.normal
                else format_median_iqr(described.median, described.p25, described.p75),
                "summary_kind": "mean ± SD" if described.normal else "median (P25, P75)",
                "shapiro_p": described.shapiro_p,
                "icc": format_estimate(agreement.icc, agreement.ci_low, agreement.ci_high),
                "icc_p": agreement.p,
            }
        )
    return pd.DataFrame(rows)


def reliability_sentence(analysis: BiomarkerAnalysis, good: float = GOOD_AGREEMENT) -> str:
    reliability = analysis.reliability
    low, high = reliability["icc"].min(), reliability["icc"].max()
    verdict = (
        "good or excellent agreement for every parameter"
        if low > good
        else f"agreement below the {good:g} threshold for at least one parameter"
    )
    return (
        f"Inter-reader {analysis.icc_form} ranged from {format_number(low, 3)} to {format_number(high, 3)}: "
        f"{verdict} (ICC > {good} = good agreement)."
    )


def group_comparison_display(analysis: BiomarkerAnalysis, outcome: str) -> pd.DataFrame:
    """Table 3: each group summarised as its test requires, the test, Z or t, and p."""
    group_names = CONTRASTS[outcome].group_names
    rows = []
    for row in analysis.comparisons[outcome].itertuples():
        parametric = row.statistic_name == "t"

        def summary(suffix: str) -> str:
            values = {key: getattr(row, f"{key}_{suffix}") for key in ("mean", "sd", "median", "p25", "p75")}
            return (
                format_mean_sd(values["mean"], values["sd"])
                if parametric
                else format_median_iqr(values["median"], values["p25"], values["p75"])
            )

        rows.append(
            {
                "parameter": _label(row.parameter),
                group_names[0]: f"{summary('1')} (n = {row.n_1})",
                group_names[1]: f"{summary('2')} (n = {row.n_2})",
                "test": row.test,
                "statistic": f"{row.statistic_name} = {format_number(row.statistic, 3)}",
                "p": row.p,
            }
        )
    return pd.DataFrame(rows)


def group_comparison_sentence(analysis: BiomarkerAnalysis, outcome: str) -> str:
    table, alpha = analysis.comparisons[outcome], analysis.alpha
    significant = [_label(name) for name, p in zip(table["parameter"], table["p"]) if p < alpha]
    other = [_label(name) for name, p in zip(table["parameter"], table["p"]) if p >= alpha]
    sentence = f"{', '.join(significant) if significant else 'No parameter'} differed significantly between {CONTRASTS[outcome].groups_phrase} (p < {alpha})"
    return sentence + (f"; {', '.join(other)} did not." if other else ".")


def correlation_display(analysis: BiomarkerAnalysis) -> pd.DataFrame:
    """Table 4: Spearman r and p of each parameter against surgical grade and Ki-67 LI."""
    wide = analysis.correlations.pivot(index="parameter", columns="target", values=["rho", "p"]).reindex(list(analysis.parameters))
    return pd.DataFrame(
        {
            "parameter": [_label(name) for name in wide.index],
            "r_grade": wide[("rho", "surgical_grade")].to_numpy(),
            "p_grade": wide[("p", "surgical_grade")].to_numpy(),
            "r_ki67": wide[("rho", "ki67")].to_numpy(),
            "p_ki67": wide[("p", "ki67")].to_numpy(),
        }
    )


def correlation_sentence(analysis: BiomarkerAnalysis) -> str:
    table = analysis.correlations
    strongest = table.loc[table["rho"].abs().idxmax()]
    target = "surgical grade" if strongest["target"] == "surgical_grade" else "the Ki-67 LI"
    direction = "negative" if strongest["rho"] < 0 else "positive"
    return (
        f"The strongest correlation was the {direction} one of {_label(strongest['parameter'])} with {target} "
        f"(Spearman r = {format_number(strongest['rho'], 3)}, {format_p_phrase(strongest['p'])})."
    )


def roc_display(analysis: BiomarkerAnalysis, outcome: str) -> pd.DataFrame:
    """Tables 5 and 6: AUC (95 % CI), p, Youden cut-off with its direction, Se, Sp, J."""
    table = analysis.roc_table(outcome)
    return pd.DataFrame(
        {
            "parameter": [_label(name) for name in table["parameter"]],
            "auc": [format_estimate(a, lo, hi) for a, lo, hi in zip(table["auc"], table["ci_low"], table["ci_high"])],
            "p": table["p"],
            "cut_off": table["rule"],
            "sensitivity": 100 * table["sensitivity"],
            "specificity": 100 * table["specificity"],
            "youden_index": table["youden_index"],
        }
    )


def roc_sentence(analysis: BiomarkerAnalysis, outcome: str) -> str:
    table = analysis.roc_table(outcome)
    best = table.loc[table["auc"].idxmax()]
    return (
        f"{_label(best['parameter'])} discriminated {CONTRASTS[outcome].what} best: AUC {format_estimate(best['auc'], best['ci_low'], best['ci_high'])}; "
        f"at the cut-off {best['rule']} sensitivity was {100 * best['sensitivity']:.1f} % and specificity {100 * best['specificity']:.1f} %."
    )


def roc_curves(analysis: BiomarkerAnalysis, outcome: str) -> dict[str, RocResult]:
    """The ROC results of one contrast keyed by the parameters' labels (the combined ROC figure)."""
    return {_label(name): result for name, result in analysis.rocs[outcome].items()}


def methods_paragraph(analysis: BiomarkerAnalysis, *, reader: str, high_grade_from: int, ki67_threshold: float, seed: int) -> str:
    """The design-A methods paragraph of this run (:func:`~stsanalysis.report.methods.biomarker_methods_paragraph`)."""
    from ..report.facts import software_facts
    from ..report.methods import BiomarkerFacts, biomarker_methods_paragraph
    from ..report.provenance import software_versions

    high = "grade III" if high_grade_from == 3 else f"grade {GRADE_NAMES[high_grade_from]}-III"
    low = "grade I" if high_grade_from == 2 else f"grade I-{GRADE_NAMES[high_grade_from - 1]}"
    return biomarker_methods_paragraph(
        BiomarkerFacts(
            n_patients=len(analysis.data),
            parameters=[PARAMETER_NAMES[name] for name in analysis.parameters],
            n_readers=2,
            analysed_value="the mean of the two readers" if reader == "mean" else "the first reader's measurement",
            icc_form=analysis.icc_form,
            icc_threshold=GOOD_AGREEMENT,
            grade_definition=f"{high} vs {low}",
            ki67_cutoff=ki67_threshold,
            alpha=analysis.alpha,
            software=software_facts(software_versions()),
            seeds={"bootstrap": seed},
        )
    )
