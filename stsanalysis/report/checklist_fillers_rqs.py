"""The fillers of the Radiomics Quality Score (Lambin et al., Nat Rev Clin Oncol 2017;14:749): points with a reason.

Each RQS item earns points in a range (``points_min`` to ``points_max`` of
``checklists/rqs.csv``: multiple segmentations 0 to +1, feature reduction -3 or +3,
validation -5 to +5, ...; the total runs from -8 to 36). A filler here awards the points a
design-B run establishes from its :class:`~stsanalysis.report.facts.RunFacts` as
:func:`points_value` ("+3: mRMR (k = 30) then LASSO"), or returns None when the points are
the authors' to claim (image protocol, phantom, biological correlates, cost-effectiveness,
open science). :func:`~stsanalysis.report.checklist.rqs_checklist` splits the value into
the ``points`` and ``value`` columns; :mod:`~stsanalysis.report.checklist_fillers`
registers :data:`RQS_FILLERS` into its ``FILLERS``.

The criteria are the RQS's (Lambin et al. 2017): validation earns +2 for a
dataset from the same institute (a random or temporal split), +3 for a dataset from another
institute, +4 for two datasets from two other institutes and +5 for three or more.
"""

from __future__ import annotations

from collections.abc import Mapping

from .checklist_fillers_tripod import THRESHOLD_METRICS, validation_kind
from .facts import RunFacts
from .phrases import count, join_words

__all__ = ["RQS_FILLERS", "points_value", "split_points"]


def points_value(points: int, reason: str) -> str:
    """The points of an item with their reason: ``points_value(3, "LASSO")`` -> "+3: LASSO"."""
    return f"{points:+d}: {reason}" if points else f"0: {reason}"


def split_points(value: str) -> tuple[int, str]:
    """``(points, reason)`` of a :func:`points_value`; a ValueError names the value when it is not one."""
    points, _, reason = value.partition(": ")
    try:
        return int(points), reason
    except ValueError:
        raise ValueError(f"An RQS filler must give '<points>: <reason>' (e.g. '+3: LASSO'); got {value!r}.") from None


def multiple_segmentations(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.reliability_assessed is False:
        return points_value(0, "one segmentation per patient (no repeat segmentations)")
    if not (facts.reliability_assessed or facts.icc_form):
        return None
    kinds = join_words([f"{kind}-reader" for kind in facts.icc_assessments or ()]) or "repeat"
    subset = f" of {facts.resegmentation_subset} patients" if facts.resegmentation_subset else ""
    return points_value(1, f"{kinds} segmentations{subset}, features filtered by ICC")


def feature_reduction(facts: RunFacts, provenance: Mapping | None) -> str | None:
    steps = ([f"mRMR (k = {facts.mrmr_k})"] if facts.mrmr_k else []) + (["LASSO"] if facts.lasso_lambda_rule else [])
    return points_value(3, " then ".join(steps)) if steps else None


def non_radiomic(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if not facts.nomogram:
        return None
    factors = f" ({join_words(facts.clinical_predictors)})" if facts.clinical_predictors else ""
    return points_value(1, f"nomogram of the rad-score with clinical factors{factors}")


def cut_off(facts: RunFacts, provenance: Mapping | None) -> str | None:
    thresholds = [metric for metric in facts.performance_metrics or () if metric in THRESHOLD_METRICS]
    if not thresholds:
        return None
    reason = f"predicted risk groups at a probability cut-off ({join_words(thresholds)})"
    if facts.survival_endpoint:
        reason += f"; Kaplan-Meier curves of the groups for {facts.survival_endpoint}"
    return points_value(1, reason)


def discrimination(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 9: +1 for the AUC with its CI, +1 more for resampling (cross-validation, bootstrap).

    The resampling is the cross-validation that tunes λ and the bootstrap of the ROC bands,
    which design B draws from the same resamples as the decision-curve CIs
    (``decision_curve_n_boot``).
    """
    if not facts.auc_ci_method:
        return None
    resampling = []
    if facts.cv_folds:
        resampling.append(f"{facts.cv_folds}-fold cross-validation")
    if facts.decision_curve_n_boot:
        resampling.append(f"bootstrap ({count(facts.decision_curve_n_boot)} resamples)")
    reason = f"AUC with {facts.auc_ci_method} 95% CI"
    if not resampling:
        return points_value(1, reason)
    return points_value(2, f"{reason}; resampling: {join_words(resampling)}")


def calibration(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 10: +1 for a calibration statistic with its test, +1 more for a resampled calibration curve.

    Design B draws the bootstrap band of the calibration curve from the same resamples as
    the decision-curve CIs (``n_boot``), which RunFacts records as ``decision_curve_n_boot``.
    """
    statistics = [f"Hosmer-Lemeshow test ({facts.hosmer_lemeshow_groups} groups)"] if facts.hosmer_lemeshow_groups else []
    if facts.calibration_slope_intercept:
        statistics.append("calibration slope and intercept")
    if not statistics:
        return None
    reason = join_words(statistics)
    if not facts.decision_curve_n_boot:
        return points_value(1, reason)
    return points_value(2, f"{reason}; bootstrap band of the calibration curve ({count(facts.decision_curve_n_boot)} resamples)")


def prospective(facts: RunFacts, provenance: Mapping | None) -> str | None:
    """Item 11: a retrospective study earns none of the 7 points; a prospective one's registration is the authors'."""
    if facts.study_nature and "retrospective" in facts.study_nature.lower():
        return points_value(0, f"{facts.study_nature} study")
    return None


def validation(facts: RunFacts, provenance: Mapping | None) -> str | None:
    kind = validation_kind(facts)
    if kind in ("internal validation", "temporal validation"):
        rule = f" ({facts.split_rule})" if facts.split_rule else ""
        return points_value(2, f"{kind} on a dataset from the same institute{rule}")
    if kind != "external validation":
        # a split by a column: whether its validation set is external is the authors' to state
        return None
    # the centre-wise split trains on one centre and validates on every other
    other_institutes = max(len(facts.centres) - 1, 1) if facts.centres else 1
    points = {1: 3, 2: 4}.get(other_institutes, 5)
    datasets = f"{other_institutes} datasets from distinct institutes" if other_institutes > 1 else "a dataset from another institute"
    return points_value(points, f"external validation on {datasets}" + (f": {facts.external_set}" if facts.external_set else ""))


def gold_standard(facts: RunFacts, provenance: Mapping | None) -> str | None:
    if facts.univariable_p_enter is None or not facts.model_comparison:
        return None
    return points_value(2, f"radiomic signatures and nomogram compared with the clinical model ({facts.model_comparison})")


def clinical_utility(facts: RunFacts, provenance: Mapping | None) -> str | None:
    return points_value(2, "decision curve analysis (net benefit against treating all and none)") if facts.decision_curve else None


# filler name (the ``filler`` column of checklists/rqs.csv) -> filler
RQS_FILLERS = {
    "rqs_multiple_segmentations": multiple_segmentations,
    "rqs_feature_reduction": feature_reduction,
    "rqs_non_radiomic": non_radiomic,
    "rqs_cut_off": cut_off,
    "rqs_discrimination": discrimination,
    "rqs_calibration": calibration,
    "rqs_prospective": prospective,
    "rqs_validation": validation,
    "rqs_gold_standard": gold_standard,
    "rqs_clinical_utility": clinical_utility,
}
