"""Design B: the two-centre radiomics nomogram study (STUDIES.md, steps 1-11).

Every model is fitted on the training set only; the validation set only receives the
fitted estimates (scaling, ComBat, selected features, LASSO coefficients, the clinical and
nomogram coefficients, and the probability cut-off chosen on training).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..report.formatting import format_estimate
from ..stats.calibration import bootstrap_validation
from ..stats.logistic import LogisticResult, logistic_regression
from ..stats.nomogram import Nomogram
from ..stats.screening import univariable_multivariable
from ..stats.tables import table_one
from ..validation import require_columns
from .split import SET_DESCRIPTIONS, SET_ORDER, TRAINING, set_masks, split_sets

#: Clinical-table columns design B uses (besides the clinical factors a study screens);
#: a config's ``columns`` maps a user's names onto these.
CLINICAL_COLUMNS = ("patient_id", "centre", "scanner", "grade", "pfs_months", "pfs_event", "ajcc_stage")
#: The outcome column design B derives from the FNCLCC grade, and its classes as tables name them.
OUTCOME = "high_grade"
OUTCOME_LABELS = {0: "Low grade", 1: "High grade"}


@dataclass(frozen=True)
class Cohort:
    """The clinical table of design B (indexed by patient id, with the outcome) and each patient's set."""

    clinical: pd.DataFrame
    sets: pd.Series

    @property
    def y(self) -> pd.Series:
        return self.clinical[OUTCOME]

    @property
    def training(self) -> pd.Series:
        return self.sets == TRAINING


def prepare_cohort(clinical: pd.DataFrame, *, high_grade_from: int, training_centre) -> Cohort:
    """Index the clinical table by patient, add the outcome (grade >= ``high_grade_from``) and split by centre."""
    clinical = clinical.set_index("patient_id", drop=False)
    clinical[OUTCOME] = (clinical["grade"] >= high_grade_from).astype(int)
    return Cohort(clinical=clinical, sets=split_sets(clinical, "centre", training_centre))


def set_overview(cohort: Cohort) -> pd.DataFrame:
    """Patients, positives and scanners per set."""
    grouped = cohort.clinical.assign(set=cohort.sets).groupby("set")
    return grouped.agg(patients=("patient_id", "size"), high_grade=(OUTCOME, "sum"), scanners=("scanner", "nunique")).reset_index()


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
    events = int(min(training.sum(), (1 - training).sum()))
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


def table_one_by_set(
    data: pd.DataFrame, sets: pd.Series, outcome: str, variables: Sequence[str], categorical: Sequence[str] = ()
) -> dict[str, pd.DataFrame]:
    """Step 11: patient characteristics, low vs high grade, in each set."""
    require_columns(data, [outcome, *variables], "the clinical table")
    labelled = data.assign(**{outcome: data[outcome].map(OUTCOME_LABELS)})
    return {
        set_name: table_one(labelled.loc[mask], outcome, list(variables), categorical=list(categorical) or None)
        for set_name, mask in set_masks(sets).items()
    }


# --------------------------------------------------------------------------------------
# Steps 5 and 6: clinical model and nomogram
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClinicalModel:
    """Step 5: the univariable/multivariable screen on training and the model of the retained factors."""

    screen: pd.DataFrame
    factors: tuple[str, ...]
    model: LogisticResult

    def probability(self, clinical: pd.DataFrame) -> pd.Series:
        return pd.Series(self.model.predict(clinical), index=clinical.index)


def fit_clinical_model(cohort: Cohort, candidates: Sequence[str], p_enter: float) -> ClinicalModel:
    """Screen ``candidates`` on the training set; the retained factors (else those selected) form the model."""
    training = cohort.clinical[cohort.training]
    screen = univariable_multivariable(training, OUTCOME, list(candidates), p_enter=p_enter)
    factors = tuple(screen.attrs["retained"]) or tuple(screen.attrs["selected"])
    return ClinicalModel(screen=screen, factors=factors, model=logistic_regression(training, OUTCOME, list(factors)))


@dataclass(frozen=True)
class NomogramFit:
    """Step 6: the logistic model of the rad-score and the clinical factors, and its nomogram."""

    data: pd.DataFrame
    predictors: tuple[str, ...]
    model: LogisticResult
    nomogram: Nomogram

    def probability(self) -> pd.Series:
        return pd.Series(self.model.predict(self.data), index=self.data.index)


def fit_nomogram(cohort: Cohort, rad_score: pd.Series, clinical_factors: Sequence[str]) -> NomogramFit:
    """The nomogram model (rad-score + clinical factors) fitted on the training set."""
    data = cohort.clinical.assign(rad_score=rad_score)
    predictors = ("rad_score", *clinical_factors)
    model = logistic_regression(data[cohort.training], OUTCOME, list(predictors))
    return NomogramFit(data=data, predictors=predictors, model=model, nomogram=Nomogram(model, data[cohort.training]))


def nomogram_optimism(cohort: Cohort, fit: NomogramFit, *, n_boot: int, seed: int) -> pd.DataFrame:
    """Optimism-corrected AUC, slope and Brier of the nomogram model (``rms::validate``), training set."""
    predictors = list(fit.predictors)
    return bootstrap_validation(
        lambda data: logistic_regression(data, OUTCOME, predictors),
        fit.data.loc[cohort.training, [OUTCOME, *predictors]],
        OUTCOME,
        n_boot=n_boot,
        seed=seed,
    )


# --------------------------------------------------------------------------------------
# Methods paragraph and checklists: the facts of this run
# --------------------------------------------------------------------------------------
def run_facts(
    *,
    clinical: pd.DataFrame,
    sets: pd.Series,
    outcome: str,
    sequences: Sequence[str],
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
    clinical_factors: Sequence[str],
    p_enter: float,
    n_boot: int,
    seed: int,
    outcome_definition: str,
):
    """The :class:`~stsanalysis.report.checklist.RunFacts` of a design-B run, from its objects."""
    from ..report.facts import RunFacts, software_facts
    from ..report.provenance import software_versions

    counts = sets.value_counts()
    positives = clinical.groupby(sets.to_numpy())[outcome].sum()
    return RunFacts(
        n_patients={SET_DESCRIPTIONS[name]: int(counts[name]) for name in SET_ORDER if name in counts},
        n_positive={SET_DESCRIPTIONS[name]: int(positives[name]) for name in SET_ORDER if name in positives},
        centres=[str(centre) for centre in sorted(clinical["centre"].unique())],
        scanners=sorted(clinical["scanner"].astype(str).unique()),
        sequences=list(sequences),
        modality="MRI",
        outcome=outcome_definition,
        clinical_predictors=list(clinical_factors),
        n_readers=len({label for role, label in readers.items() if role != "repeat"}),
        resegmentation_subset=len(tables["reader2"]) if "reader2" in tables else None,
        extraction_provenance=provenance,
        n_features_per_sequence=int(tables["reader1"].shape[1] / max(len(sequences), 1)),
        icc_form=icc_form,
        icc_assessments=("inter", "intra") if "repeat" in tables else ("inter",),
        icc_threshold=icc_threshold,
        n_features_reliable=len(reliability.selected_features_),
        n_features_tested=len(reliability.icc_),
        combat_batch="scanner",
        combat_fitted_on="the training set",
        mrmr_k=mrmr_k,
        mrmr_relevance="mutual_info",
        lasso_lambda_rule=lambda_rule,
        cv_folds=cv_folds,
        cv_repeats=cv_repeats,
        n_selected_features={name: int((pipeline.named_steps["lasso"].coef_ != 0).sum()) for name, pipeline in pipelines.items()},
        univariable_p_enter=p_enter,
        nomogram=True,
        external_set="the patients of the other centre",
        performance_metrics=["AUC", "accuracy", "sensitivity", "specificity", "PPV", "NPV"],
        auc_ci_method="DeLong",
        model_comparison="paired DeLong tests",
        hosmer_lemeshow_groups=10,
        calibration_slope_intercept=True,
        decision_curve=True,
        decision_curve_n_boot=n_boot,
        survival_endpoint="progression-free survival",
        software=software_facts(software_versions()),
        seeds={"all random processes": seed},
    )


def screening_display(screen: pd.DataFrame) -> pd.DataFrame:
    """Step 5 as a manuscript prints it: OR (95 % CI) and p, univariable and multivariable.

    A factor's reference level reads "1 (reference)"; the variable-level p (likelihood-ratio
    test of the whole factor) stands on the reference row, the Wald p on the other levels.
    """

    def odds_ratio(prefix: str, row) -> str:
        if row.is_reference:
            return "1 (reference)" if row.selected or prefix == "univariable" else "—"
        return format_estimate(getattr(row, f"{prefix}_odds_ratio"), getattr(row, f"{prefix}_ci_low"), getattr(row, f"{prefix}_ci_high"), 2)

    def p_value(prefix: str, row) -> float:
        return getattr(row, f"{prefix}_p_variable") if row.is_reference or row.level is None else getattr(row, f"{prefix}_p")

    rows = [
        {
            "factor": row.term,
            "univariable_or": odds_ratio("univariable", row),
            "univariable_p": p_value("univariable", row),
            "multivariable_or": odds_ratio("multivariable", row) if row.selected else "—",
            "multivariable_p": p_value("multivariable", row) if row.selected else float("nan"),
            "in_clinical_model": bool(row.retained),
        }
        for row in screen.itertuples()
    ]
    return pd.DataFrame(rows)
