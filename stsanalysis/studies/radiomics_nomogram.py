"""Design B: the two-centre radiomics nomogram study (STUDIES.md, steps 1-11).

Every model is fitted on the training set only; the validation set only receives the
fitted estimates (scaling, ComBat, selected features, LASSO coefficients, the clinical and
nomogram coefficients, and the probability cut-off chosen on training).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..errors import InputError
from ..report.formatting import format_estimate, format_p_phrase
from ..stats.calibration import calibration_metrics, hosmer_lemeshow
from ..stats.roc import compare_rocs, roc
from ..stats.tables import table_one
from ..validation import require_columns

SET_ORDER = ("training", "validation")
#: Clinical-table columns design B uses (besides the clinical factors a study screens);
#: a config's ``columns`` maps a user's names onto these.
CLINICAL_COLUMNS = ("patient_id", "centre", "scanner", "grade", "pfs_months", "pfs_event", "ajcc_stage")


def events_per_parameter(data: pd.DataFrame, outcome: str, candidates: Mapping[str, int], sets: pd.Series) -> pd.DataFrame:
    """The sample-size check before modelling: events per candidate parameter in training.

    ``candidates`` maps each model to its number of candidate parameters (e.g. clinical
    factors' degrees of freedom, radiomic features entering LASSO). The smaller class counts
    as "events" (Peduzzi et al. 1996); fewer than 10 per parameter is flagged.
    """
    training = data.loc[sets == "training", outcome]
    events = int(min(training.sum(), (1 - training).sum()))
    rows = [
        {"model": name, "candidate_parameters": int(count), "events": events, "events_per_parameter": events / count, "adequate": events / count >= 10}
        for name, count in candidates.items()
    ]
    return pd.DataFrame(rows)


def fixed_cutoffs(y: pd.Series, predictions: Mapping[str, pd.Series], sets: pd.Series) -> dict[str, float]:
    """Youden cut-off of each model's predicted probability, chosen on the training set."""
    training = (sets == "training").to_numpy()
    return {name: roc(y[training], p[training], direction="<").youden().threshold for name, p in predictions.items()}


def roc_by_set(y: pd.Series, predictions: Mapping[str, pd.Series], sets: pd.Series) -> dict[str, dict]:
    """``{set: {model: RocResult}}`` for the training and validation sets."""
    return {
        set_name: {name: roc(y[(sets == set_name).to_numpy()], p[(sets == set_name).to_numpy()], direction="<") for name, p in predictions.items()}
        for set_name in SET_ORDER
        if (sets == set_name).any()
    }


def discrimination_table(y: pd.Series, predictions: Mapping[str, pd.Series], sets: pd.Series) -> pd.DataFrame:
    """Step 7: AUC (95 % CI, DeLong) and accuracy, sensitivity, specificity, PPV, NPV at the
    training-set Youden cut-off, per model and set."""
    cutoffs = fixed_cutoffs(y, predictions, sets)
    rows = []
    for set_name, results in roc_by_set(y, predictions, sets).items():
        for name, result in results.items():
            at = result.at(cutoffs[name])
            rows.append(
                {
                    "model": name,
                    "set": set_name,
                    "auc": result.auc,
                    "ci_low": result.ci_low,
                    "ci_high": result.ci_high,
                    "cut_off": cutoffs[name],
                    "accuracy": at.accuracy,
                    "sensitivity": at.sensitivity,
                    "specificity": at.specificity,
                    "ppv": at.ppv,
                    "npv": at.npv,
                    "n": result.n_positive + result.n_negative,
                }
            )
    return pd.DataFrame(rows)


def discrimination_display(table: pd.DataFrame) -> pd.DataFrame:
    """The discrimination table as a manuscript prints it."""
    display = table[["model", "set"]].copy()
    display["auc"] = [format_estimate(a, lo, hi) for a, lo, hi in zip(table["auc"], table["ci_low"], table["ci_high"])]
    for column in ("accuracy", "sensitivity", "specificity", "ppv", "npv"):
        display[column] = (100 * table[column]).round(1)
    display["cut_off"] = table["cut_off"]
    return display


def delong_by_set(rocs_by_set: Mapping[str, Mapping]) -> pd.DataFrame:
    """Paired DeLong tests for every pair of models, per set."""
    return pd.concat(
        [compare_rocs(results).assign(set=set_name) for set_name, results in rocs_by_set.items()], ignore_index=True
    )[["set", "model_a", "model_b", "auc_a", "auc_b", "difference", "ci_low", "ci_high", "statistic", "p"]]


def calibration_by_set(y: pd.Series, probability: pd.Series, sets: pd.Series, groups: int = 10) -> pd.DataFrame:
    """Step 8: Hosmer-Lemeshow test and calibration intercept/slope/Brier per set."""
    rows = []
    for set_name in SET_ORDER:
        mask = (sets == set_name).to_numpy()
        if not mask.any():
            continue
        hl = hosmer_lemeshow(y[mask], probability[mask], groups=groups)
        metrics = calibration_metrics(y[mask], probability[mask])
        rows.append(
            {
                "set": set_name,
                "hl_statistic": hl.statistic,
                "hl_df": hl.df,
                "hl_p": hl.p,
                "calibration_intercept": metrics.intercept,
                "calibration_slope": metrics.slope,
                "brier": metrics.brier,
                "emax": metrics.emax,
            }
        )
    return pd.DataFrame(rows)


def table_one_by_set(data: pd.DataFrame, sets: pd.Series, outcome: str, variables: Sequence[str], categorical: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """Step 11: patient characteristics, low vs high grade, in each set."""
    require_columns(data, [outcome, *variables], "the clinical table")
    labelled = data.assign(**{outcome: data[outcome].map({0: "Low grade", 1: "High grade"})})
    return {
        set_name: table_one(labelled.loc[(sets == set_name).to_numpy()], outcome, list(variables), categorical=list(categorical) or None)
        for set_name in SET_ORDER
        if (sets == set_name).any()
    }


def best_model_sentence(table: pd.DataFrame, set_name: str = "validation") -> str:
    subset = table[table["set"] == set_name]
    if subset.empty:
        raise InputError(f"No {set_name} set in the discrimination table.")
    best = subset.loc[subset["auc"].idxmax()]
    return (
        f"In the {set_name} set the {best['model']} discriminated best: AUC "
        f"{format_estimate(best['auc'], best['ci_low'], best['ci_high'])}, sensitivity {100 * best['sensitivity']:.1f} %, "
        f"specificity {100 * best['specificity']:.1f} % at the cut-off fixed on training."
    )


def calibration_sentence(table: pd.DataFrame, model: str) -> str:
    parts = [f"{row.set}: {format_p_phrase(row.hl_p)}" for row in table.itertuples()]
    verdict = "no evidence of miscalibration" if (table["hl_p"] >= 0.05).all() else "evidence of miscalibration in at least one set"
    return f"Hosmer-Lemeshow test of the {model} ({'; '.join(parts)}): {verdict} at the 5 % level."


# --------------------------------------------------------------------------------------
# Steps 1-4: extraction, reliability, harmonisation, signatures
# --------------------------------------------------------------------------------------
CASE_COLUMNS = ("patient_id", "sequence", "reader", "image", "mask")


def read_cases(cases_path, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The cases table (one row per patient, sequence and reader) with absolute file paths.

    Relative ``image``/``mask`` paths are resolved from the folder of the cases file.
    """
    from pathlib import Path

    from ..data.io import rename_columns

    path = Path(cases_path)
    if not path.is_file():
        raise InputError(f"Cases file '{path}' does not exist.")
    cases = pd.read_csv(path, dtype=str)
    if columns:
        cases = rename_columns(cases, columns, expected=CASE_COLUMNS, what=f"cases file '{path}'")
    require_columns(cases, CASE_COLUMNS, f"cases file '{path}'")
    for column in ("image", "mask"):
        cases[column] = [str(value) if Path(value).is_absolute() else str((path.parent / value).resolve()) for value in cases[column]]
    return cases


def extract_cohort_features(
    cases: pd.DataFrame,
    params_by_sequence: Mapping[str, object],
    *,
    n_jobs=-1,
    cache_dir=None,
    progress: bool = False,
) -> tuple[pd.DataFrame, dict[str, dict], pd.DataFrame]:
    """Features of every case, each sequence with its own parameters.

    Returns (features indexed by patient_id, sequence, reader; provenance per sequence;
    failed cases). Unknown sequences in ``cases`` are an error naming them.
    """
    from ..radiomics.extraction import extract_features

    unknown = sorted(set(cases["sequence"]) - set(params_by_sequence))
    if unknown:
        raise InputError(f"Sequence(s) {unknown} in the cases table have no extraction parameters; 'sequences' maps {sorted(params_by_sequence)}.")
    tables, provenance, errors = [], {}, []
    for sequence, params in params_by_sequence.items():
        subset = cases[cases["sequence"] == sequence]
        if subset.empty:
            raise InputError(f"No case has sequence '{sequence}'; the cases table has {sorted(cases['sequence'].unique())}.")
        features = extract_features(subset, params, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress)
        provenance[sequence] = features.attrs["provenance"]
        errors.append(features.attrs["errors"])
        features.attrs = {}
        tables.append(features)
    return pd.concat(tables), provenance, pd.concat(errors, ignore_index=True)


def reader_tables(features: pd.DataFrame, sequences: Sequence[str], readers: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """Wide (patient x ``<sequence>_<feature>``) tables per reader role.

    ``readers`` maps the roles ``reader1``, ``reader2`` and optionally ``repeat`` to the
    reader labels of the cases table. Only patients with every role are kept in the
    second and third tables (the re-segmentation subset).
    """
    from ..radiomics.pipeline import signature_features

    wide = signature_features(features, list(sequences))
    tables = {role: wide.xs(label, level="reader") for role, label in readers.items() if label in wide.index.unique("reader")}
    if "reader1" not in tables:
        raise InputError(f"No case has the reader label '{readers.get('reader1')}' given for reader 1.")
    return tables


def fit_reliability_filter(tables: Mapping[str, pd.DataFrame], threshold: float, form: str):
    """The ICC filter fitted on the re-segmentation subset (inter- and intra-reader)."""
    from ..radiomics.selection import ReliabilityFilter

    if "reader2" not in tables:
        raise InputError("The reliability filter needs a second reader's segmentations (role 'reader2').")
    subset = tables["reader2"].index
    repeat = tables.get("repeat")
    return ReliabilityFilter(threshold=threshold, form=form).fit(
        tables["reader1"].loc[subset], tables["reader2"], repeat.loc[subset] if repeat is not None else None
    )


def pca_scores(features: pd.DataFrame, n_components: int = 2) -> pd.DataFrame:
    """First principal components of z-scored features (columns pc1, pc2)."""
    from sklearn.decomposition import PCA

    standardised = (features - features.mean()) / features.std(ddof=0).replace(0, 1)
    pca = PCA(n_components=n_components).fit(standardised)
    scores = pd.DataFrame(pca.transform(standardised), index=features.index, columns=[f"pc{i + 1}" for i in range(n_components)])
    scores.attrs["explained_variance_ratio"] = pca.explained_variance_ratio_.tolist()
    return scores


def harmonisation_panels(features: pd.DataFrame, batch: pd.Series, training: pd.Series) -> dict[str, pd.DataFrame]:
    """PCA before and after ComBat (fitted on training patients, applied to all)."""
    from ..radiomics.harmonization import ComBat

    combat = ComBat().fit(features[training.to_numpy()], batch[training.to_numpy()])
    harmonised = combat.transform(features, batch)
    return {"Before ComBat": pca_scores(features), "After ComBat (fitted on training)": pca_scores(harmonised)}


def fit_signature(features: pd.DataFrame, y: pd.Series, batch: pd.Series, training: pd.Series, *, k: int, lambda_rule: str, cv: int, n_repeats: int, seed: int):
    """The leakage-free pipeline (z-score -> ComBat -> mRMR -> LASSO) fitted on training only."""
    from ..radiomics.pipeline import make_radiomics_pipeline

    pipeline = make_radiomics_pipeline(k=min(k, features.shape[1]), batch_labels=batch, lambda_rule=lambda_rule, cv=cv, n_repeats=n_repeats, random_state=seed)
    return pipeline.fit(features[training.to_numpy()], y[training.to_numpy()])


def signature_summary(pipeline) -> pd.DataFrame:
    """Non-zero rad-score coefficients (harmonised z-scored features) in mRMR order."""
    lasso = pipeline.named_steps["lasso"]
    coefficients = lasso.coef_[lasso.coef_ != 0]
    return pd.DataFrame({"feature": coefficients.index, "coefficient": coefficients.to_numpy()})


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
    from ..report.checklist import RunFacts, software_facts
    from ..report.provenance import software_versions

    counts = sets.value_counts()
    positives = clinical.groupby(sets.to_numpy())[outcome].sum()
    external = {"training": "training", "validation": "external validation"}
    return RunFacts(
        n_patients={external[name]: int(counts[name]) for name in SET_ORDER if name in counts},
        n_positive={external[name]: int(positives[name]) for name in SET_ORDER if name in positives},
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
