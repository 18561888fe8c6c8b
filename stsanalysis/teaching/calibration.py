"""Models with the same discrimination and different calibration, for the "beyond AUC" lesson."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import InputError
from ..stats.calibration import calibration_metrics, hosmer_lemeshow
from ..stats.roc import roc
from ..validation import require_columns

WELL_CALIBRATED = "well calibrated"
OVERCONFIDENT = "overconfident"
OVERESTIMATING = "overestimating"


def miscalibrated_predictions(
    n: int = 400,
    prevalence: float = 0.3,
    spread: float = 1.5,
    overconfidence: float = 2.0,
    overestimation: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """An outcome and three models' predicted risks that rank the patients identically.

    Each patient's true log-odds is normal with SD ``spread`` (larger = better
    discrimination) and a mean chosen so that the expected prevalence is ``prevalence``;
    the outcome is drawn from the true risk. The models are:

    * ``well calibrated``: the true risk;
    * ``overconfident``: the true log-odds multiplied by ``overconfidence`` — risks too
      extreme, as an overfitted model gives (expected calibration slope 1 / overconfidence);
    * ``overestimating``: the true log-odds plus ``overestimation`` — every risk too high
      (expected calibration-in-the-large -``overestimation``).

    Both distortions are strictly increasing functions of the true risk, so the three
    models have exactly the same ROC curve and AUC. Columns: ``outcome`` and one per model.
    """
    if not (isinstance(n, (int, np.integer)) and n >= 20):
        raise InputError(f"'n' must be an integer of at least 20; got {n!r}.")
    if not 0 < prevalence < 1:
        raise InputError(f"'prevalence' must be between 0 and 1; got {prevalence!r}.")
    if not (spread > 0 and overconfidence > 0):
        raise InputError(f"'spread' and 'overconfidence' must be positive; got {spread!r}, {overconfidence!r}.")
    rng = np.random.default_rng(seed)
    standard_normal = rng.standard_normal(n)
    # the mean log-odds giving the requested expected prevalence, E[expit(mu + spread * Z)]
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()

    def excess(mean: float) -> float:
        return float(weights @ special.expit(mean + spread * nodes)) - prevalence

    mean = optimize.brentq(excess, -50, 50)
    log_odds = mean + spread * standard_normal
    outcome = (rng.random(n) < special.expit(log_odds)).astype(int)
    if outcome.min() == outcome.max():
        raise InputError(f"The simulated outcome has a single class (n = {n}, prevalence {prevalence}); increase n.")
    return pd.DataFrame(
        {
            "outcome": outcome,
            WELL_CALIBRATED: special.expit(log_odds),
            OVERCONFIDENT: special.expit(overconfidence * log_odds),
            OVERESTIMATING: special.expit(log_odds + overestimation),
        },
        index=pd.Index([f"P{i + 1:03d}" for i in range(n)], name="patient_id"),
    )


def performance_table(data: pd.DataFrame, outcome: str, models: Sequence[str], groups: int = 10) -> pd.DataFrame:
    """Discrimination and calibration of each model's predicted risks, one row per model.

    Columns ``model``, ``auc`` (:func:`stsanalysis.stats.roc`, higher risk = positive),
    ``calibration_in_the_large``, ``calibration_slope``, ``brier``, ``eavg`` (mean absolute
    calibration error; :func:`stsanalysis.stats.calibration_metrics`, as ``rms::val.prob``),
    ``hl_statistic`` and ``hl_p`` (:func:`stsanalysis.stats.hosmer_lemeshow` with ``groups``).
    """
    require_columns(data, [outcome, *models], "data")
    rows = []
    for model in models:
        metrics = calibration_metrics(data[outcome], data[model])
        hl = hosmer_lemeshow(data[outcome], data[model], groups=groups)
        rows.append(
            {
                "model": model,
                "auc": roc(data[outcome], data[model], direction="<").auc,
                "calibration_in_the_large": metrics.calibration_in_the_large,
                "calibration_slope": metrics.slope,
                "brier": metrics.brier,
                "eavg": metrics.eavg,
                "hl_statistic": hl.statistic,
                "hl_p": hl.p,
            }
        )
    return pd.DataFrame(rows)


def net_benefit_at(curves: pd.DataFrame, thresholds: Sequence[float]) -> pd.DataFrame:
    """Net benefit of every strategy at a few thresholds: one row per strategy, one column per threshold.

    ``curves`` is the table of :func:`stsanalysis.stats.decision_curve`; each threshold must
    be one of its thresholds (compared to 1e-9). Columns are named ``"threshold_0.10"``.
    """
    require_columns(curves, ["model", "threshold", "net_benefit"], "curves")
    available = np.unique(curves["threshold"].to_numpy())
    columns = {}
    for threshold in thresholds:
        match = available[np.isclose(available, threshold, rtol=0, atol=1e-9)]
        if match.size == 0:
            raise InputError(f"Threshold {threshold} is not in the decision curve (e.g. {available[:3].tolist()} ...).")
        rows = curves[curves["threshold"] == match[0]].set_index("model")["net_benefit"]
        columns[f"threshold_{threshold:.2f}"] = rows
    table = pd.DataFrame(columns)
    table.index.name = "model"
    return table.loc[list(dict.fromkeys(curves["model"]))].reset_index()


def models_of(data: pd.DataFrame, outcome: str = "outcome") -> dict[str, pd.Series]:
    """{model name: predicted risks} of every column of ``data`` but ``outcome``."""
    return {column: data[column] for column in data.columns if column != outcome}
