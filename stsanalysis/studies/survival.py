"""Design B step 10: progression-free survival by predicted group, grade and stage.

A model's predicted probability of high grade is turned into a group with the Youden
cut-off fixed on the training set (applied unchanged to the validation set); the C-index
of each risk score is compared with AJCC staging, as in the published design.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..errors import InputError
from ..report.formatting import format_estimate, format_p_phrase
from ..stats.concordance import compare_concordance, concordance_index
from ..stats.cox import CoxResult, cox_regression
from ..stats.logistic import logistic_regression
from ..stats.roc import roc
from ..stats.survival import KMResult, LogrankResult, kaplan_meier, logrank_test
from .split import PREDICTED_GROUPS, predicted_groups, set_masks

#: FNCLCC grades as the report names them.
GRADE_LABELS = {1: "Grade I", 2: "Grade II", 3: "Grade III"}
#: AJCC 8th edition stage groups (trunk and extremity) in order, coded 1-6 for the C-index.
AJCC_ORDER = ("IA", "IB", "II", "IIIA", "IIIB", "IV")


def ajcc_ordinal(stage: pd.Series) -> pd.Series:
    """AJCC stage group as an ordered number (IA = 1 ... IV = 6); unknown labels are refused."""
    codes = stage.map({label: rank for rank, label in enumerate(AJCC_ORDER, start=1)})
    unknown = sorted(stage[codes.isna()].astype(str).unique())
    if unknown:
        raise InputError(f"AJCC stage column has unknown stage group(s) {unknown}; expected {list(AJCC_ORDER)}.")
    return codes.astype(float)


def clinical_model_groups(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    training: pd.Series,
) -> tuple[pd.Series, pd.Series, float]:
    """Fit the clinical logistic model on training, predict everyone, group by the training Youden cut-off.

    Returns (probability, group (:data:`~stsanalysis.studies.split.PREDICTED_GROUPS`), cut-off).
    """
    model = logistic_regression(data.loc[training], outcome, list(predictors))
    probability = pd.Series(model.predict(data), index=data.index, name="probability")
    cutoff = roc(data.loc[training, outcome], probability[training], direction="<").youden()
    return probability, predicted_groups(probability, cutoff.threshold), cutoff.threshold


def concordance_table(time: pd.Series, event: pd.Series, risks: Mapping[str, pd.Series], sets: pd.Series) -> pd.DataFrame:
    """Harrell's C (95 % CI) of each risk score in each set (higher risk = shorter PFS)."""
    rows = []
    for set_name in sorted(sets.unique()):
        mask = (sets == set_name).to_numpy()
        for name, risk in risks.items():
            result = concordance_index(time[mask], event[mask], risk[mask])
            rows.append(
                {
                    "set": set_name,
                    "risk_score": name,
                    "c_index": result.c,
                    "se": result.se,
                    "ci_low": result.ci_low,
                    "ci_high": result.ci_high,
                    "n": int(mask.sum()),
                }
            )
    return pd.DataFrame(rows)


def concordance_comparison(
    time: pd.Series, event: pd.Series, risk_a: pd.Series, risk_b: pd.Series, sets: pd.Series, names: tuple[str, str]
) -> pd.DataFrame:
    """C of ``risk_a`` minus C of ``risk_b`` per set, with the U-statistic (jackknife) CI and p."""
    rows = []
    for set_name in sorted(sets.unique()):
        mask = (sets == set_name).to_numpy()
        result = compare_concordance(time[mask], event[mask], risk_a[mask], risk_b[mask])
        rows.append(
            {
                "set": set_name,
                "comparison": f"{names[0]} vs {names[1]}",
                "difference": result.difference,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "p": result.p,
            }
        )
    return pd.DataFrame(rows)


def combined_risk(data: pd.DataFrame, time: str, event: str, covariates: Sequence[str], training: pd.Series) -> pd.Series:
    """Linear predictor of a Cox model on ``covariates`` fitted on training, for every patient."""
    fit = cox_regression(data.loc[training], time, event, list(covariates))
    coefficients = fit.coefficients.set_index("term")["coef"]
    return pd.Series(
        data[list(covariates)].to_numpy(dtype=float) @ coefficients[list(covariates)].to_numpy(),
        index=data.index,
        name="combined",
    )


def concordance_sentence(table: pd.DataFrame, set_name: str = "validation") -> str:
    subset = table[table["set"] == set_name]
    parts = [f"{row.risk_score} {format_estimate(row.c_index, row.ci_low, row.ci_high)}" for row in subset.itertuples()]
    return f"C-index for PFS in the {set_name} set: " + "; ".join(parts) + "."


def logrank_sentence(result, what: str) -> str:
    return f"PFS differed by {what}: log-rank χ² = {result.statistic:.2f}, df = {result.df}, {format_p_phrase(result.p)}."


def grade_groups(grade: pd.Series) -> pd.Series:
    """FNCLCC grade as a group label ("Grade I" ...); any other value is kept as its text."""
    return grade.map(GRADE_LABELS).fillna(grade.astype(str))


def follow_up_summary(time: pd.Series, event: pd.Series, sets: pd.Series) -> pd.DataFrame:
    """Patients, events and the median follow-up per set (reverse Kaplan-Meier: censoring as the event)."""
    follow_up = kaplan_meier(time, 1 - event, group=sets).median
    summary = follow_up[["group", "n"]].rename(columns={"group": "set"})
    summary["events"] = [int(event[sets == name].sum()) for name in summary["set"]]
    summary["median_follow_up_months"] = follow_up["median"].to_numpy()
    return summary


def survival_by_group_and_set(
    time: pd.Series, event: pd.Series, group: pd.Series, sets: pd.Series, conf_type: str = "log"
) -> dict[str, tuple[KMResult, LogrankResult]]:
    """Kaplan-Meier curves of ``group`` and their log-rank test, in each set."""
    return {
        set_name: (
            kaplan_meier(time[mask], event[mask], group=group[mask], conf_type=conf_type),
            logrank_test(time[mask], event[mask], group[mask]),
        )
        for set_name, mask in set_masks(sets).items()
    }


def predicted_group_and_stage_cox(data: pd.DataFrame, time: str, event: str, predicted_group: pd.Series, ajcc: pd.Series) -> CoxResult:
    """Cox model of PFS on the predicted high-risk class (0/1) and the ordinal AJCC stage."""
    cox_data = data.assign(predicted_high=(predicted_group == PREDICTED_GROUPS[1]).astype(int), ajcc_ordinal=ajcc)
    return cox_regression(cox_data, time, event, ["predicted_high", "ajcc_ordinal"])


#: How the methods text names the pointwise-CI scale of survfit's ``conf.type``.
_CONF_TYPE_NAMES = {"log": "log", "log-log": "log-log", "plain": "linear"}


def methods_paragraph(
    *,
    follow_up: pd.DataFrame,
    conf_type: str,
    clinical_predictors: Sequence[str],
    cutoff: float,
    cox: CoxResult,
) -> str:
    """The methods text of the survival report, written from this run (R calls named as in the report).

    ``follow_up`` is :func:`follow_up_summary`; ``cox`` the fitted
    :func:`predicted_group_and_stage_cox` model.
    """
    from ..report.facts import software_facts
    from ..report.methods import software_sentence
    from ..report.phrases import count, join_words
    from ..report.provenance import software_versions

    total, events = int(follow_up["n"].sum()), int(follow_up["events"].sum())
    per_set = "; ".join(
        f"{row.set} set, n = {count(int(row.n))}, {count(int(row.events))} events, median follow-up {row.median_follow_up_months:.1f} months"
        for row in follow_up.itertuples()
    )
    sentences = [
        f"Progression-free survival was analysed in {count(total)} patients with {count(events)} events ({per_set}); "
        "median follow-up was estimated by the reverse Kaplan-Meier method.",
        "Survival curves were estimated by the Kaplan-Meier method with Greenwood standard errors and pointwise 95% "
        f"confidence intervals on the {_CONF_TYPE_NAMES.get(conf_type, conf_type)} scale (R survival::survfit), and compared "
        "with the log-rank test (survival::survdiff); pairwise p-values were adjusted by the Benjamini-Hochberg method.",
        f"A clinical logistic model ({join_words(list(clinical_predictors))}) was fitted on the training set; patients with a "
        f"predicted probability of at least {cutoff:.3f} (the Youden cut-off of the training set, applied unchanged to the "
        "validation set) formed the predicted high-grade group.",
        "Discrimination was measured by Harrell's C-index with its infinitesimal-jackknife 95% CI (survival::concordance), and "
        "C-indices on the same patients were compared with their joint jackknife variance.",
        f"A Cox proportional-hazards model (Efron ties; n = {count(cox.n)}, {count(cox.n_event)} events) related the predicted "
        "group and the ordinal AJCC stage group to progression-free survival; proportional hazards were checked with scaled "
        "Schoenfeld residuals (survival::cox.zph).",
    ]
    software = software_sentence(software_facts(software_versions()), None)
    return " ".join(sentences + ([software] if software else []))
