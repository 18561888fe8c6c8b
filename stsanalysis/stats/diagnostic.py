"""Diagnostic accuracy of a binary test: its 2 x 2 table at one threshold.

:class:`Cutoff` is the classification of an ROC curve at one threshold (pROC ``coords``);
:func:`diagnostic_metrics` gives the accuracy of a test already coded 0/1, as epiR 2.0.57
``epi.tests``: proportions (sensitivity, specificity, predictive values, accuracy) with
exact Clopper-Pearson CIs; likelihood ratios and the diagnostic odds ratio with log-method CIs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..errors import InputError
from ..validation import binary_outcome, numeric_vector, same_length
from ._conf_level import check_conf_level
from ._result import Result

__all__ = ["Cutoff", "diagnostic_metrics"]


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0 (e.g. PPV with no positives)."""
    return numerator / denominator if denominator else float("nan")


@dataclasses.dataclass(frozen=True)
class Cutoff(Result):
    """Classification at one threshold.

    A patient is called positive when ``score >= threshold`` (direction ``"<"``) or
    ``score <= threshold`` (direction ``">"``), exactly as pROC. ``youden_index`` is
    sensitivity + specificity - 1 (pROC's ``coords(..., ret = "youden")`` reports
    sensitivity + specificity). ``threshold_in_data`` tells whether some patient has exactly
    the threshold as score; only then does the equality in the rule matter.
    """

    threshold: float
    direction: str
    sensitivity: float
    specificity: float
    youden_index: float
    ppv: float
    npv: float
    accuracy: float
    tp: int
    fp: int
    tn: int
    fn: int
    threshold_in_data: bool

    @property
    def rule(self) -> str:
        """The decision rule as text, e.g. ``"< 1.525"`` (low values predict positive).

        The strict operator is used when no patient has the threshold as score (pROC's
        midpoint thresholds), where ``<`` and ``<=`` classify every patient alike.
        """
        operator = "<" if self.direction == ">" else ">"
        if self.threshold_in_data:
            operator += "="
        return f"{operator} {self.threshold:.6g}"


def _clopper_pearson(successes: int, total: int, conf_level: float) -> tuple[float, float, float]:
    """Estimate and exact (Clopper-Pearson) CI, as epiR's ``zexact``; NaN when total is 0."""
    if total == 0:
        return (float("nan"),) * 3
    alpha = 1 - conf_level
    low = scipy_stats.beta.ppf(alpha / 2, successes, total - successes + 1) if successes > 0 else 0.0
    high = scipy_stats.beta.ppf(1 - alpha / 2, successes + 1, total - successes) if successes < total else 1.0
    return successes / total, float(low), float(high)


def _log_interval(estimate: float, log_se: float, z: float) -> tuple[float, float, float]:
    """Estimate with CI exp(log(estimate) +- z * log_se) (epiR's log method)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_estimate = np.log(estimate)
        return estimate, float(np.exp(log_estimate - z * log_se)), float(np.exp(log_estimate + z * log_se))


def diagnostic_metrics(y, predicted, conf_level: float = 0.95) -> pd.DataFrame:
    """Diagnostic accuracy of a binary test, as epiR 2.0.57 ``epi.tests(method = "exact")``.

    Rows (``metric``): sensitivity, specificity, ppv, npv, accuracy with exact
    Clopper-Pearson CIs; lr_positive, lr_negative (CIs by the log method of Simel et al.)
    and diagnostic_odds_ratio (log method, Woolf); then the 2 x 2 counts tp, fp, fn, tn
    (value only). Columns: metric, value, ci_low, ci_high. Zero cells give infinite or
    NaN ratios, as epiR (no continuity correction).

    Examples
    --------
    >>> y = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    >>> test = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
    >>> diagnostic_metrics(y, test).head(2).round(3)
            metric  value  ci_low  ci_high
    0  sensitivity  0.750   0.194    0.994
    1  specificity  0.833   0.359    0.996
    """
    y_name = str(getattr(y, "name", None) or "y")
    predicted_name = str(getattr(predicted, "name", None) or "predicted")
    same_length(y=y, predicted=predicted)
    outcome = binary_outcome(y, y_name)
    test = numeric_vector(predicted, predicted_name)
    if not set(np.unique(test).tolist()) <= {0.0, 1.0}:
        raise InputError(f"'{predicted_name}' must be the test result coded 0/1; got values {np.unique(test)[:6].tolist()}.")
    z = scipy_stats.norm.ppf(1 - (1 - check_conf_level(conf_level)) / 2)
    tp = int(np.sum((test == 1) & (outcome == 1)))
    fp = int(np.sum((test == 1) & (outcome == 0)))
    fn = int(np.sum((test == 0) & (outcome == 1)))
    tn = int(np.sum((test == 0) & (outcome == 0)))
    n_positive, n_negative = tp + fn, fp + tn
    sensitivity = np.float64(tp) / n_positive
    specificity = np.float64(tn) / n_negative
    with np.errstate(divide="ignore", invalid="ignore"):
        lr_positive = sensitivity / (1 - specificity)
        lr_negative = (1 - sensitivity) / specificity
        # epiR: SE of log(LR) (Simel, Samsa & Matchar 1991)
        lr_positive_se = np.sqrt((1 - sensitivity) / (n_positive * sensitivity) + specificity / (n_negative * (1 - specificity)))
        lr_negative_se = np.sqrt(sensitivity / (n_positive * (1 - sensitivity)) + (1 - specificity) / (n_negative * specificity))
        odds_ratio = np.float64(tp * tn) / (fp * fn)
        odds_ratio_se = np.sqrt(np.sum(1 / np.array([tp, fp, fn, tn], dtype=float)))
    estimates = {
        "sensitivity": _clopper_pearson(tp, n_positive, conf_level),
        "specificity": _clopper_pearson(tn, n_negative, conf_level),
        "ppv": _clopper_pearson(tp, tp + fp, conf_level),
        "npv": _clopper_pearson(tn, tn + fn, conf_level),
        "accuracy": _clopper_pearson(tp + tn, n_positive + n_negative, conf_level),
        "lr_positive": _log_interval(float(lr_positive), lr_positive_se, z),
        "lr_negative": _log_interval(float(lr_negative), lr_negative_se, z),
        "diagnostic_odds_ratio": _log_interval(float(odds_ratio), odds_ratio_se, z),
    }
    nan = float("nan")
    counts = {"tp": (tp, nan, nan), "fp": (fp, nan, nan), "fn": (fn, nan, nan), "tn": (tn, nan, nan)}
    rows = [(metric, *values) for metric, values in {**estimates, **counts}.items()]
    return pd.DataFrame(rows, columns=["metric", "value", "ci_low", "ci_high"])
