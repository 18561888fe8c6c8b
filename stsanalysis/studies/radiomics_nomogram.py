"""Design B: the two-centre radiomics nomogram study (STUDIES.md, steps 1-11).

Every model is fitted on the training set only; the validation set only receives the
fitted estimates (scaling, ComBat, selected features, LASSO coefficients, the clinical and
nomogram coefficients, and the probability cut-off chosen on training).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..report.formatting import format_estimate
from ..stats.calibration import bootstrap_validation
from ..stats.logistic import LogisticResult, logistic_regression
from ..stats.nomogram import Nomogram
from ..stats.screening import univariable_multivariable
from ..stats.tables import table_one
from ..validation import require_columns
from .design import Outcome, Split, Survival, capitalised, check_both_classes
from .missing_data import MissingData, handle_missing
from .split import SET_ORDER, TRAINING, VALIDATION, set_masks

#: Clinical-table columns the demo's design B uses; a config's ``columns`` maps a user's names onto these.
CLINICAL_COLUMNS = ("patient_id", "centre", "scanner", "grade", "pfs_months", "pfs_event", "ajcc_stage")
#: The column holding the 0/1 outcome in the cohort's clinical table(s).
OUTCOME = "outcome"


@dataclass(frozen=True)
class Cohort:
    """A design-B cohort: the clinical table (indexed by patient id, with the 0/1 outcome), each
    patient's set, and the study's outcome, split, survival endpoint and missing-data record."""

    clinical: pd.DataFrame
    sets: pd.Series
    outcome: Outcome
    split: Split
    survival: Survival | None = None
    missing: MissingData | None = None
    batch_column: str | None = None

    @property
    def y(self) -> pd.Series:
        return self.clinical[OUTCOME]

    @property
    def training(self) -> pd.Series:
        return self.sets == TRAINING

    @property
    def datasets(self) -> tuple[pd.DataFrame, ...]:
        """The completed clinical tables of multiple imputation, else the clinical table alone."""
        return self.missing.datasets if self.missing and self.missing.datasets else (self.clinical,)

    @property
    def batch(self) -> pd.Series | None:
        """The ComBat batch of each patient, or None when the study harmonises nothing."""
        return self.clinical[self.batch_column] if self.batch_column else None


def prepare_cohort(
    clinical: pd.DataFrame,
    *,
    outcome: Outcome,
    split: Split,
    seed: int,
    survival: Survival | None = None,
    model_variables: Sequence[str] = (),
    shown_variables: Sequence[str] = (),
    missing: str = "complete_case",
    n_imputations: int = 20,
    batch_column: str | None = "scanner",
) -> Cohort:
    """Index the clinical table by patient, add the 0/1 outcome, split it and handle missing values.

    ``model_variables`` (the clinical factors of the models) are handled as ``missing`` says
    (:func:`~stsanalysis.studies.missing_data.handle_missing`); ``shown_variables`` (Table 1)
    are only counted.
    """
    clinical = clinical.set_index("patient_id", drop=False)
    clinical.index = clinical.index.astype(str)
    clinical[OUTCOME] = outcome.classify(clinical)
    if batch_column:
        require_columns(clinical, [batch_column], "the clinical table (batch_column)")
    if survival:
        survival.check(clinical)
    sets = split.assign(clinical, clinical[OUTCOME], seed)
    shown = [name for name in shown_variables if name in clinical.columns]
    require_columns(clinical, list(model_variables), "the clinical table (clinical factors)")
    clinical, sets, record = handle_missing(
        clinical, sets, model_variables, shown, strategy=missing, n_imputations=n_imputations, seed=seed
    )
    check_both_classes(sets, clinical[OUTCOME], "Excluding the patients with missing values")
    return Cohort(clinical, sets, outcome, split, survival, record, batch_column or None)


def set_overview(cohort: Cohort) -> pd.DataFrame:
    """Patients, positives (and scanners, when harmonised) per set."""
    grouped = cohort.clinical.assign(set=cohort.sets).groupby("set")
    counts = {"patients": ("patient_id", "size"), cohort.outcome.count_column: (OUTCOME, "sum")}
    if cohort.batch_column:
        counts[f"{cohort.batch_column}s"] = (cohort.batch_column, "nunique")
    table = grouped.agg(**counts).reset_index()
    return table.set_index("set").reindex([name for name in SET_ORDER if name in table["set"].to_numpy()]).reset_index()


def validation_sentence(cohort: Cohort) -> str:
    """The kind of validation and its counts: "External validation: ... (training n = 109; validation n = 71)."."""
    counts = cohort.sets.value_counts()
    numbers = "; ".join(f"{name} set n = {int(counts.get(name, 0))}" for name in SET_ORDER)
    return f"{capitalised(cohort.split.validation_name)}: {cohort.split.describe()} ({numbers})."


def candidate_parameters(clinical: pd.DataFrame, candidates: Sequence[str]) -> int:
    """Degrees of freedom of the screened clinical factors (levels - 1 for a text factor)."""
    return sum(clinical[name].nunique() - 1 if clinical[name].dtype == object else 1 for name in candidates)


def events_per_parameter(data: pd.DataFrame, outcome: str, candidates: Mapping[str, int], sets: pd.Series) -> pd.DataFrame:
    """The sample-size check before modelling: events per candidate parameter in training.

    ``candidates`` maps each model to its number of candidate parameters (e.g. clinical
    factors' degrees of freedom, radiomic features entering LASSO). The smaller class counts
    as "events" (Peduzzi et al. 1996); fewer than 10 per parameter is flagged.
    """
    training = data.loc[sets == TRAINING, outcome]
    return events_per_parameter_table(int(min(training.sum(), (1 - training).sum())), candidates)


def events_per_parameter_table(events: int, candidates: Mapping[str, int]) -> pd.DataFrame:
    """One row per model: its candidate parameters, the training set's ``events``, their ratio and
    whether it reaches 10 (Peduzzi et al. 1996)."""
    rows = [
        {
            "model": name,
            "candidate_parameters": int(count),
            "events": events,
            "events_per_parameter": events / count,
            "adequate": events / count >= 10,
        }
        for name, count in candidates.items()
    ]
    return pd.DataFrame(rows)


def table_one_by_set(cohort: Cohort, variables: Sequence[str], categorical: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """Step 11: patient characteristics by outcome class (as the outcome labels them), in each set."""
    require_columns(cohort.clinical, list(variables), "the clinical table (table_one_variables)")
    labelled = cohort.clinical.assign(**{OUTCOME: cohort.y.map(cohort.outcome.class_labels)})
    return {
        set_name: table_one(labelled.loc[mask], OUTCOME, list(variables), categorical=list(categorical) or None)
        for set_name, mask in set_masks(cohort.sets).items()
    }


# --------------------------------------------------------------------------------------
# Steps 5 and 6: clinical model and nomogram
# --------------------------------------------------------------------------------------
def _fit_logistic(datasets: Sequence[pd.DataFrame], predictors: Sequence[str], method: str) -> LogisticResult:
    """One logistic model, or the model pooled over the completed data sets of multiple imputation."""
    if len(datasets) == 1:
        return logistic_regression(datasets[0], OUTCOME, list(predictors), method=method)
    from ..stats.pooling import pooled_logistic

    return pooled_logistic(list(datasets), OUTCOME, list(predictors), method=method)


def _mean_probability(model: LogisticResult, datasets: Sequence[pd.DataFrame]) -> pd.Series:
    """Predicted probabilities, averaged over the completed data sets when there are several."""
    return pd.Series(sum(model.predict(data) for data in datasets) / len(datasets), index=datasets[0].index)


@dataclass(frozen=True)
class ClinicalModel:
    """Step 5: the univariable/multivariable screen on training and the model of the retained factors."""

    screen: pd.DataFrame
    factors: tuple[str, ...]
    model: LogisticResult | None
    datasets: tuple[pd.DataFrame, ...]

    def probability(self) -> pd.Series | None:
        """Every patient's predicted probability (None when no factor passed the screen)."""
        return _mean_probability(self.model, self.datasets) if self.model is not None else None


def fit_clinical_model(cohort: Cohort, candidates: Sequence[str], p_enter: float, method: str = "ml") -> ClinicalModel | None:
    """Screen ``candidates`` on the training set; the retained factors (else those selected) form the model.

    None when there are no candidates. With multiple imputation every fit is pooled over the
    completed data sets (Rubin's rules). ``method="firth"`` fits every model by Firth's
    penalised likelihood (finite odds ratios under separation).
    """
    if not candidates:
        return None
    training = [data[cohort.training.to_numpy()] for data in cohort.datasets]
    if len(training) == 1:
        screen = univariable_multivariable(training[0], OUTCOME, list(candidates), p_enter=p_enter, method=method)
    else:
        from ..stats.screening import pooled_univariable_multivariable

        screen = pooled_univariable_multivariable(training, OUTCOME, list(candidates), p_enter=p_enter, method=method)
    factors = tuple(screen.attrs["retained"]) or tuple(screen.attrs["selected"])
    model = _fit_logistic(training, factors, method) if factors else None
    return ClinicalModel(screen=screen, factors=factors, model=model, datasets=cohort.datasets)


@dataclass(frozen=True)
class NomogramFit:
    """Step 6: the logistic model of the rad-score and the clinical factors, and its nomogram."""

    datasets: tuple[pd.DataFrame, ...]
    predictors: tuple[str, ...]
    model: LogisticResult
    nomogram: Nomogram

    @property
    def data(self) -> pd.DataFrame:
        return self.datasets[0]

    def probability(self) -> pd.Series:
        return _mean_probability(self.model, self.datasets)


def fit_nomogram(cohort: Cohort, rad_score: pd.Series, clinical_factors: Sequence[str], method: str = "ml") -> NomogramFit:
    """The nomogram model (rad-score + clinical factors) fitted on the training set (pooled with imputation)."""
    datasets = tuple(data.assign(rad_score=rad_score) for data in cohort.datasets)
    predictors = ("rad_score", *clinical_factors)
    training = cohort.training.to_numpy()
    model = _fit_logistic([data[training] for data in datasets], predictors, method)
    return NomogramFit(datasets=datasets, predictors=predictors, model=model, nomogram=Nomogram(model, datasets[0][training]))


def nomogram_optimism(cohort: Cohort, fit: NomogramFit, *, n_boot: int, seed: int, cache_dir=None) -> pd.DataFrame:
    """Optimism-corrected AUC, slope and Brier of the nomogram model (``rms::validate``), training set.

    With multiple imputation the bootstrap runs on each completed data set and the tables
    are averaged (the "MI, then bootstrap" order of Schomaker & Heumann 2018). Kept in
    ``cache_dir`` (:func:`stsanalysis.memo.cached_table`), keyed on the data, model and seed.
    """
    from ..memo import cached_table

    predictors, method = list(fit.predictors), fit.model.method
    training = [data.loc[cohort.training.to_numpy(), [OUTCOME, *predictors]] for data in fit.datasets]
    tables = [
        cached_table(
            cache_dir,
            "bootstrap_validation",
            [data, method, n_boot, seed],
            lambda data=data: bootstrap_validation(
                lambda sample: logistic_regression(sample, OUTCOME, predictors, method=method), data, OUTCOME, n_boot=n_boot, seed=seed
            ),
        )
        for data in training
    ]
    if len(tables) == 1:
        return tables[0]
    numeric = tables[0].select_dtypes("number").columns
    averaged = tables[0].copy()
    averaged[numeric] = sum(table[numeric] for table in tables) / len(tables)
    return averaged


# --------------------------------------------------------------------------------------
# Methods paragraph and checklists: the facts of this run
# --------------------------------------------------------------------------------------
def run_facts(
    *,
    cohort: Cohort,
    sequences: Sequence[str],
    modality: str,
    readers: Mapping[str, str],
    tables: Mapping[str, pd.DataFrame],
    provenance: Mapping,
    reliability,
    icc_form: str,
    icc_threshold: float,
    pipelines: Mapping,
    mrmr_k: int,
    lambda_rule: str,
    cv_folds: int,
    cv_repeats: int,
    clinical_model: ClinicalModel | None,
    p_enter: float,
    logistic_method: str = "ml",
    n_boot: int,
    seed: int,
):
    """The :class:`~stsanalysis.report.checklist.RunFacts` of a design-B run, from its objects.

    ``reliability`` is None when the study has no repeat segmentations: then no ICC fact is
    written, and the text says that reliability was not assessed.
    """
    from ..report.facts import RunFacts, software_facts
    from ..report.provenance import software_versions

    clinical, sets, split = cohort.clinical, cohort.sets, cohort.split
    names = {TRAINING: "training", VALIDATION: split.validation_name}
    counts = sets.value_counts()
    positives = clinical.groupby(sets.to_numpy())[OUTCOME].sum()
    centre_column = split.column if split.by == "centre" else "centre" if "centre" in clinical.columns else None
    return RunFacts(
        n_patients={names[name]: int(counts[name]) for name in SET_ORDER if name in counts},
        n_positive={names[name]: int(positives[name]) for name in SET_ORDER if name in positives},
        centres=[str(centre) for centre in sorted(clinical[centre_column].unique())] if centre_column else None,
        scanners=sorted(clinical[cohort.batch_column].astype(str).unique()) if cohort.batch_column else None,
        sequences=list(sequences),
        modality=modality,
        outcome=cohort.outcome.reference_standard,
        clinical_predictors=list(clinical_model.factors) if clinical_model else None,
        n_readers=len({label for role, label in readers.items() if role != "repeat"}) or 1,
        resegmentation_subset=len(tables["reader2"]) if "reader2" in tables else None,
        reliability_assessed=reliability is not None,
        extraction_provenance=provenance,
        n_features_per_sequence=int(tables["reader1"].shape[1] / max(len(sequences), 1)),
        icc_form=icc_form if reliability is not None else None,
        icc_assessments=tuple(kind for kind, role in (("inter", "reader2"), ("intra", "repeat")) if role in tables),
        icc_threshold=icc_threshold if reliability is not None else None,
        n_features_reliable=len(reliability.selected_features_) if reliability is not None else None,
        n_features_tested=len(reliability.icc_) if reliability is not None else None,
        combat_batch=cohort.batch_column,
        combat_fitted_on="the training set" if cohort.batch_column else None,
        mrmr_k=mrmr_k,
        mrmr_relevance="mutual_info",
        lasso_lambda_rule=lambda_rule,
        cv_folds=cv_folds,
        cv_repeats=cv_repeats,
        n_selected_features={name: int((pipeline.named_steps["lasso"].coef_ != 0).sum()) for name, pipeline in pipelines.items()},
        univariable_p_enter=p_enter if clinical_model is not None else None,
        logistic_method="Firth's penalised likelihood (as brglm2, AS_mean)" if logistic_method == "firth" else None,
        nomogram=True,
        validation=split.validation_name,
        split_rule=split.describe(),
        external_set="the patients of the other centre" if split.by == "centre" else None,
        missing_data=cohort.missing.sentence() if cohort.missing else None,
        performance_metrics=["AUC", "accuracy", "sensitivity", "specificity", "PPV", "NPV"],
        auc_ci_method="DeLong",
        model_comparison="paired DeLong tests",
        hosmer_lemeshow_groups=10,
        calibration_slope_intercept=True,
        decision_curve=True,
        decision_curve_n_boot=n_boot,
        survival_endpoint=cohort.survival.label if cohort.survival else None,
        software=software_facts(software_versions()),
        seeds={"all random processes": seed},
    )


def _odds_ratio_text(prefix: str, row) -> str:
    if row.is_reference:
        return "1 (reference)" if row.selected or prefix == "univariable" else "—"
    values = [getattr(row, f"{prefix}_{name}") for name in ("odds_ratio", "ci_low", "ci_high")]
    if not all(np.isfinite(values)):
        return "not estimable (separation)"
    return format_estimate(*values, 2)


def screening_display(screen: pd.DataFrame, ratio_text: Callable = _odds_ratio_text, ratio: str = "or") -> pd.DataFrame:
    """Step 5 as a manuscript prints it: OR (95 % CI) and p, univariable and multivariable.

    A factor's reference level reads "1 (reference)"; the variable-level p (likelihood-ratio
    test of the whole factor) stands on the reference row, the Wald p on the other levels. An
    infinite odds ratio or limit (separation under maximum likelihood) reads "not estimable
    (separation)": ``logistic_method: firth`` gives finite ones. ``ratio_text(prefix, row)``
    writes another model's ratio (a Cox screen's hazard ratio) in columns ``<prefix>_<ratio>``.
    """

    def p_value(prefix: str, row) -> float:
        return getattr(row, f"{prefix}_p_variable") if row.is_reference or row.level is None else getattr(row, f"{prefix}_p")

    rows = [
        {
            "factor": row.term,
            f"univariable_{ratio}": ratio_text("univariable", row),
            "univariable_p": p_value("univariable", row),
            f"multivariable_{ratio}": ratio_text("multivariable", row) if row.selected else "—",
            "multivariable_p": p_value("multivariable", row) if row.selected else float("nan"),
            "in_clinical_model": bool(row.retained),
        }
        for row in screen.itertuples()
    ]
    return pd.DataFrame(rows)
