"""Decision curve analysis (Vickers & Elkin, Med Decis Making 2006;26:565-574).

Net benefit at threshold probability pt: NB = TP/n - FP/n x pt / (1 - pt), where a
patient is called positive when the predicted risk is >= pt. "Treat all" calls everybody
positive, "treat none" nobody (NB = 0). Net interventions avoided per 100 patients =
(NB_model - NB_treat_all) x (1 - pt) / pt x 100 (Vickers et al., BMJ 2016;352:i6).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import binary_outcome, probabilities, same_length
from ._conf_level import resolve_conf_level

TREAT_ALL = "treat all"
TREAT_NONE = "treat none"


def _counts(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives at each threshold (positive = p >= threshold)."""
    positive = p[:, None] >= thresholds[None, :]
    true_positive = positive[y == 1].sum(axis=0)
    return true_positive, positive.sum(axis=0) - true_positive


def _net_benefit(true_positive, false_positive, n: int, thresholds: np.ndarray) -> np.ndarray:
    return true_positive / n - false_positive / n * thresholds / (1 - thresholds)


def decision_curve(
    y,
    predictions: Mapping[str, object],
    thresholds=None,
    n_boot: int = 0,
    seed: int | None = None,
    level: float | None = None,
    *,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Net benefit of each model, of treat-all and of treat-none over threshold probabilities.

    ``predictions`` maps a model name to predicted risks in [0, 1]. ``thresholds`` default
    to 0.01, 0.02, ..., 0.99 (k/100 exactly). Returns a long table with one row per model
    and threshold: ``model, threshold, tp, fp, net_benefit, net_interventions_avoided`` (per
    100 patients), plus ``ci_low, ci_high`` of the net benefit when ``n_boot`` > 0
    (percentile bootstrap, resampling patients; treat-none has no uncertainty) at
    ``conf_level`` (``level``, its older name, still works).

    Examples
    --------
    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 0, 1]
    >>> risk = [0.1, 0.2, 0.3, 0.25, 0.7, 0.8, 0.4, 0.6, 0.15, 0.9]
    >>> table = decision_curve(y, {"model": risk}, thresholds=[0.2, 0.5])
    >>> table[["model", "threshold", "tp", "fp", "net_benefit"]].round(3)
            model  threshold  tp  fp  net_benefit
    0       model        0.2   5   3        0.425
    1       model        0.5   4   0        0.400
    2   treat all        0.2   5   5        0.375
    3   treat all        0.5   5   5        0.000
    4  treat none        0.2   0   0        0.000
    5  treat none        0.5   0   0        0.000
    """
    y = binary_outcome(y, "y")
    if not isinstance(predictions, Mapping) or not predictions:
        raise InputError("'predictions' must be a non-empty dict mapping model names to predicted risks.")
    reserved = {TREAT_ALL, TREAT_NONE} & set(predictions)
    if reserved:
        raise InputError(f"Model name(s) {sorted(reserved)} are reserved for the reference strategies; rename them.")
    risks = {name: probabilities(values, f"predictions['{name}']", closed=True) for name, values in predictions.items()}
    same_length(y=y, **{name: values for name, values in risks.items()})
    thresholds = np.arange(1, 100) / 100 if thresholds is None else probabilities(thresholds, "thresholds")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InputError(f"'n_boot' must be a non-negative integer; got {n_boot!r}.")
    alpha = 1 - resolve_conf_level(conf_level, level, "level")

    n = y.size
    strategies = {**risks, TREAT_ALL: np.ones(n)}
    frames = []
    for name, p in strategies.items():
        true_positive, false_positive = _counts(y, p, thresholds)
        frames.append(
            pd.DataFrame(
                {
                    "model": name,
                    "threshold": thresholds,
                    "tp": true_positive,
                    "fp": false_positive,
                    "net_benefit": _net_benefit(true_positive, false_positive, n, thresholds),
                }
            )
        )
    net_benefit_all = frames[-1]["net_benefit"].to_numpy()
    frames.append(pd.DataFrame({"model": TREAT_NONE, "threshold": thresholds, "tp": 0, "fp": 0, "net_benefit": 0.0}))
    for frame in frames:
        frame["net_interventions_avoided"] = (frame["net_benefit"] - net_benefit_all) * (1 - thresholds) / thresholds * 100
    if n_boot > 0:
        limits = _bootstrap_limits(y, strategies, thresholds, n_boot, seed, alpha)
        for i, frame in enumerate(frames[:-1]):
            frame["ci_low"], frame["ci_high"] = limits[0, i], limits[1, i]
        frames[-1]["ci_low"] = frames[-1]["ci_high"] = 0.0
    table = pd.concat(frames, ignore_index=True)
    table.attrs["n"] = n
    table.attrs["prevalence"] = float(y.mean())
    return table


def _bootstrap_limits(y, strategies, thresholds, n_boot: int, seed, alpha: float) -> np.ndarray:
    """Percentile limits (2 x strategy x threshold) of the net benefit over ``n_boot`` resamples of the patients."""
    n = y.size
    rng = np.random.default_rng(seed)
    boot = np.empty((len(strategies), n_boot, thresholds.size))
    for b in range(n_boot):
        rows = rng.integers(0, n, n)
        for i, p in enumerate(strategies.values()):
            boot[i, b] = _net_benefit(*_counts(y[rows], p[rows], thresholds), n, thresholds)
    return np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=1)
