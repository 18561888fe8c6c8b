"""Design A: the quantitative-MRI biomarker study (ADCmin, ADCmean, Cho/Cr; two readers).

The two contrasts (reference standards) come from the study config: ``outcome`` and
``second_outcome`` (:class:`~stsanalysis.studies.design.Outcome`), or the shorthands
``high_grade_from`` (surgical FNCLCC grade) and ``ki67_threshold`` (Ki-67 LI), which keep
the published wording. Every heading, table label, sentence and legend is read from the
:class:`Contrast`, never hard-wired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from ..errors import InputError
from ..report.formatting import format_estimate, format_interval, format_mean_sd, format_median_iqr, format_number, format_p_phrase
from ..report.phrases import join_words
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
from .biomarker_contrasts import (
    DEFAULT_HIGH_GRADE_FROM,
    DEFAULT_KI67_THRESHOLD,
    GRADE_NAMES,
    Contrast,
    Target,
    grade_contrast,
    ki67_contrast,
)
from .design import Outcome

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
#: Columns used when present: Table 1 (subtype, surgical grade), Table 1b (biopsy vs surgical
#: grade) and the shorthand contrasts; the outcomes' own columns are required instead.
OPTIONAL_COLUMNS = ("subtype", "biopsy_grade", "surgical_grade", "ki67")
#: The design's column names, which a study config's ``columns`` may map a user's names onto.
COLUMNS = ("patient_id", *OPTIONAL_COLUMNS) + tuple(f"{name}_{reader}" for name in PARAMETER_NAMES for reader in ("r1", "r2"))


def contrasts_from_config(
    outcome: Mapping | None = None,
    second_outcome: Mapping | None = None,
    *,
    high_grade_from: int = DEFAULT_HIGH_GRADE_FROM,
    ki67_threshold: float = DEFAULT_KI67_THRESHOLD,
) -> tuple[Contrast, Contrast]:
    """The two contrasts of a config: ``outcome`` (else ``high_grade_from``) and ``second_outcome`` (else ``ki67_threshold``).

    Each outcome is ``{column, positive, label[, negative_label, description]}``
    (:meth:`Outcome.from_spec`) and wins over its shorthand. A notebook cannot tell a default
    from a value set to it, so only a shorthand changed from its default beside its outcome is
    refused as a contradiction.
    """
    specs = (
        ("outcome", outcome, "high_grade_from", high_grade_from, DEFAULT_HIGH_GRADE_FROM, grade_contrast),
        ("second_outcome", second_outcome, "ki67_threshold", ki67_threshold, DEFAULT_KI67_THRESHOLD, ki67_contrast),
    )
    taken = {*COLUMNS, *PARAMETER_NAMES, "high_grade", "ki67_high"}
    contrasts = []
    for key, spec, shorthand, value, default, from_shorthand in specs:
        if not spec:
            contrasts.append(from_shorthand(value))
            continue
        if value != default:
            raise InputError(f"'{key}' and '{shorthand}: {value}' both define the same contrast; give one (remove '{shorthand}').")
        given = Outcome.from_spec(spec, key)
        taken.add(given.column)
        # the 0/1 column is named after the label, unless a column of the analysis table has that name
        group_column = given.count_column if given.count_column not in taken else f"{given.count_column}_group"
        group_column = group_column if group_column not in taken else f"{group_column}_{len(contrasts) + 1}"
        taken.add(group_column)
        contrasts.append(Contrast.from_outcome(given, group_column))
    return tuple(contrasts)


def required_columns(contrasts: Sequence[Contrast], parameters: Sequence[str] = DEFAULT_PARAMETERS) -> list[str]:
    """The columns a design-A cohort must have: patient id, the outcomes' columns and both readers' values."""
    outcomes = [contrast.outcome.column for contrast in contrasts]
    readers = [f"{name}_{suffix}" for name in parameters for suffix in ("r1", "r2")]
    return list(dict.fromkeys(["patient_id", *outcomes, *readers]))


def prepare_biomarker_data(
    cohort: pd.DataFrame,
    *,
    reader: str = "mean",
    contrasts: Sequence[Contrast] | None = None,
    high_grade_from: int = DEFAULT_HIGH_GRADE_FROM,
    ki67_threshold: float = DEFAULT_KI67_THRESHOLD,
    parameters: Sequence[str] = DEFAULT_PARAMETERS,
) -> pd.DataFrame:
    """The analysis table of design A: one value per parameter and patient, and the 0/1 contrasts.

    ``reader="mean"`` analyses the mean of the two readers (as published), ``"reader1"``
    the first reader's value. Each contrast (:func:`contrasts_from_config`; by default the
    shorthands: ``high_grade`` = surgical FNCLCC grade >= ``high_grade_from``, ``ki67_high`` =
    Ki-67 LI >= ``ki67_threshold`` %) adds its 0/1 column ``contrast.key``. Reader columns are
    kept for the ICC, the outcomes' columns and the optional design columns present for
    Tables 1 and 4.
    """
    if reader not in READER_MODES:
        raise InputError(f"'reader' must be one of {READER_MODES}; got {reader!r}.")
    contrasts = tuple(contrasts) if contrasts else (grade_contrast(high_grade_from), ki67_contrast(ki67_threshold))
    if len(cohort) < MIN_PATIENTS:
        raise InputError(f"The design-A cohort has {len(cohort)} patients; the analysis needs at least {MIN_PATIENTS}.")
    required = required_columns(contrasts, parameters)
    require_columns(cohort, required, "the design-A cohort")
    if "surgical_grade" in cohort:
        grade = numeric_vector(cohort["surgical_grade"], "surgical_grade")
        if not np.isin(grade, (1, 2, 3)).all():
            raise InputError(f"'surgical_grade' must be an FNCLCC grade 1, 2 or 3; got {sorted(set(grade.tolist()))}.")
    kept = ["patient_id", *(column for column in OPTIONAL_COLUMNS if column in cohort), *required]
    data = cohort[list(dict.fromkeys(kept))].copy()
    for name in parameters:
        first = numeric_vector(cohort[f"{name}_r1"], f"{name}_r1")
        second = numeric_vector(cohort[f"{name}_r2"], f"{name}_r2")
        data[name] = (first + second) / 2.0 if reader == "mean" else first
    for contrast in contrasts:
        data[contrast.key] = contrast.outcome.classify(cohort, "the design-A cohort")
    return data


def cohort_summary(data: pd.DataFrame, contrasts: Sequence[Contrast] | None = None) -> pd.DataFrame:
    """Counts and percentages of subtype and surgical grade (when present) and of each contrast's groups."""
    n = len(data)
    rows = [
        ("Histological subtype", "subtype", None),
        ("FNCLCC grade (surgery)", "surgical_grade", {1: "Grade I", 2: "Grade II", 3: "Grade III"}),
    ]
    rows = [row for row in rows if row[1] in data]
    rows += [(contrast.characteristic, contrast.key, contrast.group_names) for contrast in contrasts or _default_contrasts()]
    pieces = []
    for characteristic, column, labels in rows:
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


def _default_contrasts() -> tuple[Contrast, Contrast]:
    return grade_contrast(), ki67_contrast()


# --------------------------------------------------------------------------------------
# Tables 1-6 of design A: computed once (analyse_biomarkers), then read as tables, sentences
# and figures
# --------------------------------------------------------------------------------------
def _label(parameter: str) -> str:
    return PARAMETER_NAMES.get(parameter, parameter)


@dataclass(frozen=True)
class BiomarkerAnalysis:
    """Every statistic of design A, computed once from the analysis table.

    ``agreement``: biopsy vs surgical grade (None without both columns); ``descriptives`` and
    ``reliability``: Table 2; ``comparisons``: Table 3 per contrast key; ``correlations``:
    Table 4, with the ``targets`` (the contrasts' numeric columns); ``rocs``: one
    :class:`RocResult` per contrast and parameter (with its bootstrap band when ``n_boot`` > 0),
    from which Tables 5 and 6, their sentences and the ROC figures are read.
    """

    data: pd.DataFrame
    parameters: tuple[str, ...]
    icc_form: str
    alpha: float
    contrasts: tuple[Contrast, ...]
    agreement: AgreementResult | None
    descriptives: pd.DataFrame
    reliability: pd.DataFrame
    comparisons: Mapping[str, pd.DataFrame]
    targets: tuple[Target, ...]
    correlations: pd.DataFrame
    rocs: Mapping[str, Mapping[str, RocResult]]

    def contrast(self, outcome: str | Contrast) -> Contrast:
        """The contrast of a key ("high_grade") or the contrast itself."""
        keys = {contrast.key: contrast for contrast in self.contrasts}
        key = outcome.key if isinstance(outcome, Contrast) else outcome
        if key not in keys:
            raise InputError(f"No contrast {key!r} in this analysis; its contrasts are {list(keys)}.")
        return keys[key]

    def roc_table(self, outcome: str | Contrast) -> pd.DataFrame:
        """AUC, CI, p and Youden cut-off of each parameter for one contrast (:func:`stats.roc_summary`)."""
        return roc_summary(self.rocs[self.contrast(outcome).key])


def analyse_biomarkers(
    data: pd.DataFrame,
    *,
    contrasts: Sequence[Contrast] | None = None,
    icc_form: str = "ICC2",
    alpha: float = 0.05,
    se_method: str = "delong",
    n_boot: int = 0,
    seed: int | None = None,
    parameters: Sequence[str] = DEFAULT_PARAMETERS,
) -> BiomarkerAnalysis:
    """Compute Tables 1b-6 of design A once (the report's tables, sentences and figures read the result).

    ``contrasts`` are those ``data`` was prepared with (default: the shorthands). ``se_method``
    is the p of AUC vs 0.5 (:func:`stats.roc`); ``n_boot`` > 0 adds the pointwise bootstrap
    band of each ROC curve (``n_boot`` stratified replicates with ``seed``). Table 1b needs
    ``biopsy_grade`` and ``surgical_grade``; a contrast whose column holds text has no Table 4 column.
    """
    if n_boot > 0 and seed is None:
        raise InputError("A bootstrap band needs a 'seed' (so that the report can be rebuilt); got seed=None.")
    parameters, contrasts = tuple(parameters), tuple(contrasts or _default_contrasts())
    require_columns(data, [contrast.key for contrast in contrasts], "the analysis table (prepared with these contrasts)")
    targets = _targets(data, contrasts)
    graded = {"surgical_grade", "biopsy_grade"} <= set(data.columns)
    return BiomarkerAnalysis(
        data=data,
        parameters=parameters,
        icc_form=icc_form,
        alpha=alpha,
        contrasts=contrasts,
        agreement=agreement_table(data["surgical_grade"], data["biopsy_grade"], labels=[1, 2, 3]) if graded else None,
        descriptives=describe_parameters(data, list(parameters)),
        reliability=reliability_table(data, {name: (f"{name}_r1", f"{name}_r2") for name in parameters}, form=icc_form),
        comparisons={c.key: group_comparison_table(data, list(parameters), c.key) for c in contrasts},
        targets=targets,
        correlations=correlation_table(data, list(parameters), [target.column for target in targets])
        if targets
        else pd.DataFrame(columns=["parameter", "target", "rho", "p", "n"]),
        rocs={c.key: _rocs(data, c.key, parameters, se_method, n_boot, seed) for c in contrasts},
    )


def _targets(data: pd.DataFrame, contrasts: Sequence[Contrast]) -> tuple[Target, ...]:
    """The contrasts' columns that hold numbers, each once: Table 4 correlates the parameters with them."""
    targets: dict[str, Target] = {}
    for contrast in contrasts:
        values = data[contrast.target.column]
        if is_numeric_dtype(values) and not is_bool_dtype(values):
            targets.setdefault(contrast.target.column, contrast.target)
    return tuple(targets.values())


def _rocs(data: pd.DataFrame, outcome: str, parameters, se_method: str, n_boot: int, seed) -> dict[str, RocResult]:
    results = {name: roc(data[outcome], data[name], se_method=se_method) for name in parameters}
    return {name: result.with_band(n_boot, seed=seed) if n_boot > 0 else result for name, result in results.items()}


def cohort_section(analysis: BiomarkerAnalysis) -> str:
    """Markdown of Table 1's section: its heading and what the tables show, from the columns present."""
    data, contrasts = analysis.data, analysis.contrasts
    topics = ["subtypes"] * ("subtype" in data) + ["grade"] * ("surgical_grade" in data)
    topics += [contrast.short_name for contrast in contrasts if contrast.short_name not in topics]
    shown = ["the histological subtypes"] * ("subtype" in data) + ["the surgical FNCLCC grade"] * ("surgical_grade" in data)
    shown += [contrast.groups_noun for contrast in contrasts if contrast.groups_noun]
    agreement = (
        "; then the agreement of the biopsy grade with the surgical grade (the reference), as a cross-table with the "
        "accuracy (exact Clopper-Pearson 95 % CI) and Cohen's unweighted κ."
        if analysis.agreement
        else ". Without both a biopsy and a surgical grade column, their agreement (Table 1b) is not shown."
    )
    return f"## Table 1: {join_words(topics)}\n\nCounts and percentages of {join_words(shown)}{agreement}"


def grade_agreement_sentence(analysis: BiomarkerAnalysis) -> str:
    agreement = analysis.agreement
    return (
        f"Biopsy grade agreed with surgical grade in {agreement.n_agree}/{agreement.n} patients "
        f"(accuracy {format_estimate(100 * agreement.accuracy, 100 * agreement.accuracy_ci_low, 100 * agreement.accuracy_ci_high, 1)} %; "
        f"Cohen's κ = {format_estimate(agreement.kappa, agreement.kappa_ci_low, agreement.kappa_ci_high, 2)})."
    )


def _with_notes(display: pd.DataFrame, *sources: pd.DataFrame) -> pd.DataFrame:
    """``display`` carrying the footnotes of the tables it was built from (a constant parameter's "—")."""
    display.attrs["notes"] = [note for source in sources for note in source.attrs.get("notes") or []]
    return display


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
    return _with_notes(pd.DataFrame(rows), analysis.descriptives, analysis.reliability)


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


def group_comparison_display(analysis: BiomarkerAnalysis, outcome: str | Contrast) -> pd.DataFrame:
    """Table 3: each group (named by the contrast's labels) summarised as its test requires, the test, Z or t, and p."""
    contrast = analysis.contrast(outcome)
    group_names = contrast.group_names
    rows = []
    for row in analysis.comparisons[contrast.key].itertuples():
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
    return _with_notes(pd.DataFrame(rows), analysis.comparisons[contrast.key])


def group_comparison_sentence(analysis: BiomarkerAnalysis, outcome: str | Contrast) -> str:
    contrast = analysis.contrast(outcome)
    table, alpha = analysis.comparisons[contrast.key], analysis.alpha
    significant = [_label(name) for name, p in zip(table["parameter"], table["p"]) if p < alpha]
    other = [_label(name) for name, p in zip(table["parameter"], table["p"]) if p >= alpha]
    sentence = (
        f"{', '.join(significant) if significant else 'No parameter'} differed significantly between {contrast.groups_phrase} (p < {alpha})"
    )
    return sentence + (f"; {', '.join(other)} did not." if other else ".")


def correlation_display(analysis: BiomarkerAnalysis) -> pd.DataFrame:
    """Table 4: Spearman r and p (columns ``r_<key>``, ``p_<key>``) of each parameter against each target."""
    table = pd.DataFrame({"parameter": [_label(name) for name in analysis.parameters]})
    if not analysis.targets:
        return table
    wide = analysis.correlations.pivot(index="parameter", columns="target", values=["rho", "p"]).reindex(list(analysis.parameters))
    for target in analysis.targets:
        table[f"r_{target.key}"] = wide[("rho", target.column)].to_numpy()
        table[f"p_{target.key}"] = wide[("p", target.column)].to_numpy()
    return _with_notes(table, analysis.correlations)


def correlation_headers(analysis: BiomarkerAnalysis) -> dict[str, str]:
    """Table 4's headers: "r (grade)", "p (grade)", ..."""
    return {f"{kind}_{target.key}": f"{kind} ({target.header})" for target in analysis.targets for kind in ("r", "p")}


def correlation_caption(analysis: BiomarkerAnalysis) -> str:
    return f"Table 4. Spearman correlation with {join_words([target.name for target in analysis.targets]) or 'no numeric outcome column'}"


def _uncorrelated(analysis: BiomarkerAnalysis) -> str:
    """A note naming each contrast whose column holds text (and so has no correlation)."""
    columns = {target.column for target in analysis.targets}
    skipped = [contrast for contrast in analysis.contrasts if contrast.target.column not in columns]
    return "".join(f" '{c.target.column}' ({c.label}) holds text: it is not correlated." for c in skipped)


def correlation_section(analysis: BiomarkerAnalysis) -> str:
    """Markdown of Table 4's section: its heading and what is correlated with what."""
    targets = analysis.targets
    if not targets:
        return f"## Table 4: correlation\n\nNo contrast has a numeric column to correlate the parameters with.{_uncorrelated(analysis)}"
    return (
        f"## Table 4: correlation with {join_words([target.header for target in targets])}\n\n"
        f"Spearman's rank correlation r of each parameter with {' and with '.join(target.described for target in targets)}, "
        'with p from the t approximation (`cor.test(..., method = "spearman", exact = FALSE)` in R), so that ties are handled.'
        + _uncorrelated(analysis)
    )


def correlation_sentence(analysis: BiomarkerAnalysis) -> str:
    table = analysis.correlations
    if table.empty:
        return _uncorrelated(analysis).strip()
    strongest = table.loc[table["rho"].abs().idxmax()]
    target = {target.column: target.phrase for target in analysis.targets}[strongest["target"]]
    direction = "negative" if strongest["rho"] < 0 else "positive"
    return (
        f"The strongest correlation was the {direction} one of {_label(strongest['parameter'])} with {target} "
        f"(Spearman r = {format_number(strongest['rho'], 3)}, {format_p_phrase(strongest['p'])})."
    ) + _uncorrelated(analysis)


def roc_display(analysis: BiomarkerAnalysis, outcome: str | Contrast) -> pd.DataFrame:
    """Tables 5 and 6: AUC (95 % CI), p, Youden cut-off with its direction, Se, Sp, J."""
    table = analysis.roc_table(outcome)
    display = pd.DataFrame(
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
    return _with_notes(display, table)


def roc_sentence(analysis: BiomarkerAnalysis, outcome: str | Contrast) -> str:
    table = analysis.roc_table(outcome)
    best = table.loc[table["auc"].idxmax()]
    return (
        f"{_label(best['parameter'])} discriminated {analysis.contrast(outcome).label} best: AUC {format_estimate(best['auc'], best['ci_low'], best['ci_high'])}; "
        f"at the cut-off {best['rule']} sensitivity was {100 * best['sensitivity']:.1f} % and specificity {100 * best['specificity']:.1f} %."
    )


def roc_curves(analysis: BiomarkerAnalysis, outcome: str | Contrast) -> dict[str, RocResult]:
    """The ROC results of one contrast keyed by the parameters' labels (the combined ROC figure)."""
    return {_label(name): result for name, result in analysis.rocs[analysis.contrast(outcome).key].items()}


def methods_paragraph(analysis: BiomarkerAnalysis, *, reader: str, seed: int) -> str:
    """The design-A methods paragraph of this run (:func:`~stsanalysis.report.methods.biomarker_methods_paragraph`)."""
    from ..report.facts import software_facts
    from ..report.methods import BiomarkerFacts, biomarker_methods_paragraph
    from ..report.provenance import software_versions

    return biomarker_methods_paragraph(
        BiomarkerFacts(
            n_patients=len(analysis.data),
            parameters=[PARAMETER_NAMES[name] for name in analysis.parameters],
            n_readers=2,
            analysed_value="the mean of the two readers" if reader == "mean" else "the first reader's measurement",
            icc_form=analysis.icc_form,
            icc_threshold=GOOD_AGREEMENT,
            group_definitions=[contrast.methods_groups for contrast in analysis.contrasts],
            correlation_targets=[target.methods for target in analysis.targets],
            alpha=analysis.alpha,
            software=software_facts(software_versions()),
            seeds={"bootstrap": seed},
        )
    )
