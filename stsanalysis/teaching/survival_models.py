"""Three survival models with the same C-index, for the "beyond the C-index" lesson (7).

Harrell's C pools every comparable pair of patients, whenever the earlier event happens.
Two markers that act at different times -- one on early events, the other on late ones --
can share one C and still have very different time-dependent AUCs; and a model whose
predicted survival is too high ranks the patients exactly as the correct model, so it has
the same C and the same AUC(t), yet it is miscalibrated at every time. The simulation here
builds both situations; every number comes from :mod:`stsanalysis.stats`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import InputError
from ..stats.brier import brier_score
from ..stats.calibration_survival import SurvivalCalibrationSummary, survival_calibration_summary
from ..stats.concordance import concordance_index, uno_concordance
from ..stats.cox import CoxResult, cox_regression
from ..stats.survival import kaplan_meier
from ..stats.time_dependent import TimeDependentAuc, time_dependent_auc

EARLY_MODEL = "early marker"
LATE_MODEL = "late marker"
OPTIMISTIC_MODEL = "early marker, optimistic"
SURVIVAL_MODELS = (EARLY_MODEL, LATE_MODEL, OPTIMISTIC_MODEL)

#: The late marker's log hazard ratio is searched in [0, this] for equal C-indices.
_LARGEST_LATE_EFFECT = 5.0


@dataclass(frozen=True, eq=False)
class TimeVaryingCohort:
    """A simulated cohort whose two markers act at different times (:func:`time_varying_cohort`).

    ``data``: one row per patient (index ``patient_id``) with ``time`` (years), ``event``
    (1 = event, 0 = censored), ``early_marker`` and ``late_marker`` (standard normal). The
    hazard is ``baseline_hazard`` x exp(``early_effect`` x early marker) before
    ``switch_time`` and ``baseline_hazard`` x exp(``late_effect`` x late marker) after it.
    """

    data: pd.DataFrame
    early_effect: float
    late_effect: float
    switch_time: float
    baseline_hazard: float


def _event_times(draws: Mapping[str, np.ndarray], baseline_hazard, switch_time, early_effect, late_effect) -> np.ndarray:
    """Piecewise-exponential event times by inversion: T = H^-1(E), E ~ Exp(1).

    The cumulative hazard is a t before the switch and a s + b (t - s) after it, with
    a = h0 exp(early_effect x1), b = h0 exp(late_effect x2) and s the switch time.
    """
    early_rate = baseline_hazard * np.exp(early_effect * draws["early_marker"])
    late_rate = baseline_hazard * np.exp(late_effect * draws["late_marker"])
    hazard_at_switch = early_rate * switch_time
    exponential = draws["exponential"]
    return np.where(exponential < hazard_at_switch, exponential / early_rate, switch_time + (exponential - hazard_at_switch) / late_rate)


def _observed(draws, event_time) -> tuple[np.ndarray, np.ndarray]:
    censored_at = draws["censoring"]
    return np.minimum(event_time, censored_at), (event_time <= censored_at).astype(int)


def _equal_concordance_effect(draws, baseline_hazard, switch_time, early_effect) -> float:
    """The late marker's log hazard ratio at which both markers have the same Harrell's C.

    The same random draws serve every candidate (common random numbers), so the C-index
    gap early - late is a function of the late effect alone: positive at 0 (the late marker
    is then noise), falling as the late effect grows; Brent's method finds where it crosses 0.
    """

    def concordance_gap(late_effect: float) -> float:
        time, event = _observed(draws, _event_times(draws, baseline_hazard, switch_time, early_effect, late_effect))
        return concordance_index(time, event, draws["early_marker"]).c - concordance_index(time, event, draws["late_marker"]).c

    if not concordance_gap(0.0) > 0 > concordance_gap(_LARGEST_LATE_EFFECT):
        raise InputError(
            "No late-marker effect between 0 and 5 gives both markers the same C-index in this cohort; "
            "increase 'n' or 'early_effect', or move 'switch_time' so that events occur on both sides of it."
        )
    return float(optimize.brentq(concordance_gap, 0.0, _LARGEST_LATE_EFFECT, xtol=1e-6))


def time_varying_cohort(
    n: int = 400,
    *,
    early_effect: float = 1.0,
    switch_time: float = 2.0,
    baseline_hazard: float = 0.1,
    follow_up: tuple[float, float] = (3.0, 10.0),
    seed: int = 0,
) -> TimeVaryingCohort:
    """Survival times driven by an early and a late marker with the same Harrell's C.

    Two independent standard-normal markers. Before ``switch_time`` (years) the hazard is
    ``baseline_hazard`` x exp(``early_effect`` x early marker), after it ``baseline_hazard``
    x exp(late effect x late marker): the early marker predicts early events only (as tumour
    grade predicts early metastases), the late marker late events only. Patients enter
    uniformly over an accrual period and are followed until the analysis, so their
    censoring time is uniform on ``follow_up``.

    The late effect is not a parameter: it is chosen (on the same random draws) so that the
    two markers have the same Harrell's C in this cohort, to within a jump of the C-index
    (one patient's comparable pairs); the value found is ``late_effect`` of the result.

    Examples
    --------
    >>> cohort = time_varying_cohort(n=200, seed=1)
    >>> list(cohort.data.columns), len(cohort.data)
    (['time', 'event', 'early_marker', 'late_marker'], 200)
    >>> from stsanalysis.stats.concordance import concordance_index
    >>> data = cohort.data
    >>> c_early = concordance_index(data["time"], data["event"], data["early_marker"]).c
    >>> c_late = concordance_index(data["time"], data["event"], data["late_marker"]).c
    >>> abs(c_early - c_late) < 0.005
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 50:
        raise InputError(f"'n' must be an integer of at least 50; got {n!r}.")
    if not (early_effect > 0 and switch_time > 0 and baseline_hazard > 0):
        raise InputError(
            f"'early_effect', 'switch_time' and 'baseline_hazard' must be positive; got {early_effect!r}, {switch_time!r}, "
            f"{baseline_hazard!r}."
        )
    first, last = follow_up
    if not switch_time < first < last:
        raise InputError(
            f"'follow_up' must be (shortest, longest) censoring time with switch_time ({switch_time:g}) < shortest < "
            f"longest, so that every patient is followed beyond the switch; got {follow_up!r}."
        )
    rng = np.random.default_rng(seed)
    draws = {
        "early_marker": rng.standard_normal(n),
        "late_marker": rng.standard_normal(n),
        "exponential": rng.exponential(size=n),
        "censoring": rng.uniform(first, last, n),
    }
    late_effect = _equal_concordance_effect(draws, baseline_hazard, switch_time, early_effect)
    time, event = _observed(draws, _event_times(draws, baseline_hazard, switch_time, early_effect, late_effect))
    data = pd.DataFrame(
        {"time": time, "event": event, "early_marker": draws["early_marker"], "late_marker": draws["late_marker"]},
        index=pd.Index([f"P{i + 1:03d}" for i in range(n)], name="patient_id"),
    )
    return TimeVaryingCohort(data, float(early_effect), late_effect, float(switch_time), float(baseline_hazard))


@dataclass(frozen=True, eq=False)
class RiskModels:
    """The lesson's three models (:func:`fit_risk_models`): each a Cox fit and a hazard factor.

    A model predicts S(t | x) = exp(-factor x H0(t) exp(x beta)) = S_cox(t | x) ^ factor;
    factor 1 is the Cox model itself, a factor below 1 predicts survival that is too high.
    ``data`` is the cohort the models are judged on.
    """

    fits: Mapping[str, CoxResult]
    hazard_factors: Mapping[str, float]
    data: pd.DataFrame

    @property
    def names(self) -> list[str]:
        return list(self.fits)

    @property
    def time(self) -> pd.Series:
        return self.data["time"]

    @property
    def event(self) -> pd.Series:
        return self.data["event"]

    def risk_scores(self) -> pd.DataFrame:
        """Each model's linear predictor x beta (higher = higher risk), one column per model."""
        return pd.DataFrame({name: fit.linear_predictor_of(self.data) for name, fit in self.fits.items()}, index=self.data.index)

    def predict_survival(self, times) -> dict[str, pd.DataFrame]:
        """{model: predicted S(t)}, one row per patient and one column per time (as ``CoxResult.predict_survival``)."""
        return {name: fit.predict_survival(self.data, times) ** self.hazard_factors[name] for name, fit in self.fits.items()}

    def event_risks(self, t: float) -> dict[str, pd.Series]:
        """{model: predicted risk of an event by ``t``, 1 - S(t)}: the input of a survival decision curve."""
        return {name: 1.0 - survival.iloc[:, 0] for name, survival in self.predict_survival([t]).items()}


def marker_halves(data: pd.DataFrame, marker: str) -> pd.Series:
    """The label "high <marker>" or "low <marker>" of each patient, split at the marker's median (for Kaplan-Meier curves)."""
    if marker not in data.columns:
        raise InputError(f"'data' has no column '{marker}'; its columns are {list(data.columns)}.")
    label = marker.replace("_", " ")
    high = data[marker] > data[marker].median()
    return pd.Series(np.where(high, f"high {label}", f"low {label}"), index=data.index, name=marker)


def fit_risk_models(cohort: TimeVaryingCohort, hazard_factor: float = 0.5) -> RiskModels:
    """Cox models of each marker, and an optimistic copy of the early-marker model.

    ``early marker`` and ``late marker`` are ``coxph(Surv(time, event) ~ marker)`` fits on
    the cohort (:func:`stsanalysis.stats.cox.cox_regression`), judged on the same patients
    for brevity (a real study judges them on new patients, lesson 4). ``early marker,
    optimistic`` keeps the early model's linear predictor and multiplies its cumulative hazard
    by ``hazard_factor`` (0.5: half the hazard, survival too high, as a model developed in a
    centre whose patients did better would predict). Raising S(t) to a power keeps the order
    of the patients, so its C-index and AUC(t) are exactly those of the early model.
    """
    if not isinstance(cohort, TimeVaryingCohort):
        raise InputError(f"'cohort' must be the TimeVaryingCohort of time_varying_cohort(); got {type(cohort).__name__}.")
    if not hazard_factor > 0:
        raise InputError(f"'hazard_factor' must be positive (1: no miscalibration); got {hazard_factor!r}.")
    early = cox_regression(cohort.data, "time", "event", ["early_marker"])
    late = cox_regression(cohort.data, "time", "event", ["late_marker"])
    fits = {EARLY_MODEL: early, LATE_MODEL: late, OPTIMISTIC_MODEL: early}
    factors = {EARLY_MODEL: 1.0, LATE_MODEL: 1.0, OPTIMISTIC_MODEL: float(hazard_factor)}
    return RiskModels(fits, factors, cohort.data)


def concordance_table(models: RiskModels, tau: float) -> pd.DataFrame:
    """Harrell's and Uno's C of every model, one row per model.

    Columns ``model``, ``harrell_c``, ``harrell_ci_low``, ``harrell_ci_high``
    (:func:`stsanalysis.stats.concordance_index`) and ``uno_c``, ``uno_ci_low``,
    ``uno_ci_high`` (:func:`stsanalysis.stats.uno_concordance`, truncated at ``tau``).
    """
    rows = []
    for name, score in models.risk_scores().items():
        harrell = concordance_index(models.time, models.event, score)
        uno = uno_concordance(models.time, models.event, score, tau=tau)
        rows.append(
            {
                "model": name,
                "harrell_c": harrell.c,
                "harrell_ci_low": harrell.ci_low,
                "harrell_ci_high": harrell.ci_high,
                "uno_c": uno.c,
                "uno_ci_low": uno.ci_low,
                "uno_ci_high": uno.ci_high,
            }
        )
    return pd.DataFrame(rows)


def time_dependent_aucs(models: RiskModels, times: Sequence[float]) -> dict[str, TimeDependentAuc]:
    """{model: AUC(t) at ``times``} (:func:`stsanalysis.stats.time_dependent_auc` of its linear predictor)."""
    return {name: time_dependent_auc(models.time, models.event, score, times) for name, score in models.risk_scores().items()}


def survival_calibrations(models: RiskModels, times: Sequence[float], groups: int = 5) -> dict[str, SurvivalCalibrationSummary]:
    """{model: calibration of its predicted S(t) at ``times``} (:func:`stsanalysis.stats.survival_calibration_summary`)."""
    return {
        name: survival_calibration_summary(models.time, models.event, survival, groups=groups)
        for name, survival in models.predict_survival(times).items()
    }


def accuracy_at(models: RiskModels, times: Sequence[float], calibrations: Mapping[str, SurvivalCalibrationSummary]) -> pd.DataFrame:
    """Discrimination, calibration and overall accuracy of every model at each of ``times``.

    One row per time and model: ``time``, ``model``, ``auc`` (AUC(t)), ``mean_predicted``
    (mean predicted S(t)), ``observed`` (Kaplan-Meier S(t) of the cohort), ``ici`` and ``e90``
    (from ``calibrations``, the output of :func:`survival_calibrations` at these times),
    ``brier`` and ``ipa`` (IPCW Brier score and index of prediction accuracy,
    :func:`stsanalysis.stats.brier_score`).
    """
    missing = [name for name in models.names if name not in calibrations]
    if missing:
        raise InputError(f"'calibrations' has no calibration of model(s) {missing}; pass survival_calibrations(models, times).")
    aucs = time_dependent_aucs(models, times)
    observed = kaplan_meier(models.time, models.event).survival_at(times).set_index("time")["survival"]
    rows = []
    for name, survival in models.predict_survival(times).items():
        brier = brier_score(models.time, models.event, survival, times).table
        brier = brier[brier["model"] == "model"].set_index("time")
        auc = aucs[name].table.set_index("time")["auc"]
        metrics = calibrations[name].metrics.set_index("time")
        for t, column in zip(brier.index, survival.columns):
            if not np.isclose(metrics.index, t).any():
                raise InputError(f"The calibration of '{name}' has no time {t:g}; its times are {list(metrics.index)}.")
            calibration = metrics.loc[metrics.index[np.isclose(metrics.index, t)][0]]
            rows.append(
                {
                    "time": t,
                    "model": name,
                    "auc": auc.loc[t],
                    "mean_predicted": float(survival[column].mean()),
                    "observed": float(observed.loc[t]),
                    "ici": calibration["ici"],
                    "e90": calibration["e90"],
                    "brier": brier.loc[t, "brier"],
                    "ipa": brier.loc[t, "ipa"],
                }
            )
    return pd.DataFrame(rows).sort_values(["time"], kind="stable").reset_index(drop=True)
