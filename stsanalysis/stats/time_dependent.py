"""Time-dependent accuracy of a marker for survival data: cumulative/dynamic AUC(t) with inverse
probability of censoring weights (IPCW), as ``riskRegression::Score(..., metrics = "auc")``.

At a time t, *cases* are the patients with the event by t (T_i <= t, event) and *controls* those
still event-free after t (T_i > t); patients censored before t are neither and are represented
by the weights. Cases weigh 1 / G(T_i-) and controls 1 / G(t), where G is the Kaplan-Meier
estimate of the censoring distribution (``prodlim(..., reverse = TRUE)``: G(t) includes the
censorings at t, G(T_i-) only those before T_i). A higher marker means a higher risk; a tie
between a case and a control counts 1/2.

:func:`time_dependent_auc` gives AUC(t) with the standard error of its influence function
(riskRegression's iid decomposition, the censoring KM's own variability included) and,
optionally, percentile bootstrap CIs (patients resampled, the censoring KM refitted in every
replicate, all replicates computed at once). :func:`compare_time_dependent_auc` contrasts two
markers on the same patients (Score's ``contrasts``). The IPCW Brier score is in
:mod:`~stsanalysis.stats.brier`, Uno's C in :mod:`~stsanalysis.stats.concordance`.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ..validation import numeric_vector, same_length
from ._conf_level import check_conf_level
from ._horizon import horizons, prediction_data
from ._result import Result
from .roc import _thresholds
from .survival import SurvivalWarning, _z_value

__all__ = ["TimeDependentAuc", "TimeDependentAucComparison", "compare_time_dependent_auc", "time_dependent_auc"]

#: Replicates x patients handled at once by the bootstrap (bounds its memory to ~100 MB).
_CELLS_PER_CHUNK = 2_000_000


# --------------------------------------------------------------------------------------------
# the censoring distribution


def _censoring_survival(n_risk: np.ndarray, n_event: np.ndarray, n_censor: np.ndarray) -> np.ndarray:
    """G(u) = prod (1 - c(u) / (Y(u) - d(u))) along the last axis: an event tied with a
    censoring happens first, so it leaves the censoring risk set (``prodlim(..., reverse =
    TRUE)``, and survival's G in ``concordance``)."""
    censor_risk = n_risk - n_event
    factor = 1.0 - np.divide(n_censor, censor_risk, out=np.zeros_like(n_censor), where=censor_risk > 0)
    return np.cumprod(factor, axis=-1)


@dataclasses.dataclass(frozen=True, eq=False)
class CensoringKM:
    """Kaplan-Meier estimate G of the censoring distribution on the distinct observed times.

    ``index`` maps every patient to its time in ``times``; ``n_risk`` counts the patients with
    time >= u, ``n_event`` and ``n_censor`` the events and censorings at u, ``survival`` is G(u)
    (censorings at u included).
    """

    times: np.ndarray
    index: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    survival: np.ndarray

    @classmethod
    def fit(cls, time: np.ndarray, event: np.ndarray) -> CensoringKM:
        times, index = np.unique(time, return_inverse=True)
        n_event = np.bincount(index, weights=event, minlength=times.size)
        n_censor = np.bincount(index, weights=1.0 - event, minlength=times.size)
        n_risk = (n_event + n_censor)[::-1].cumsum()[::-1]
        return cls(times, index, n_risk, n_event, n_censor, _censoring_survival(n_risk, n_event, n_censor))

    def last_index(self, t: float) -> int:
        """Position of the last distinct time <= t (-1 before the first)."""
        return int(np.searchsorted(self.times, t, side="right")) - 1

    def at(self, t: float) -> float:
        """G(t)."""
        last = self.last_index(t)
        return 1.0 if last < 0 else float(self.survival[last])

    def event_free_at(self, t: float) -> float:
        """The Kaplan-Meier estimate of event-free survival S(t) (events at t included)."""
        last = self.last_index(t)
        return 1.0 if last < 0 else float(np.prod(1.0 - self.n_event[: last + 1] / self.n_risk[: last + 1]))

    def before_own_time(self) -> np.ndarray:
        """G(T_i-) of every patient (``prodlim::predictSurvIndividual(fit, lag = 1)``)."""
        return np.concatenate(([1.0], self.survival[:-1]))[self.index]

    def influence(self, event: np.ndarray, t: float, case_coefficients: np.ndarray, control_total: float) -> np.ndarray:
        """The censoring part of an IPCW estimate's influence function, for every patient k.

        Returns sum_i c_i L_k(T_i-) + control_total * L_k(t), where c_i are ``case_coefficients``
        (0 for non-cases) and L_k(s) = n (1 - event_k) 1{T_k <= s} / Y(T_k) - sum_{u <= min(T_k, s)}
        n dN_C(u) / Y(u)^2 is patient k's influence on the cumulative censoring hazard up to s:
        riskRegression's ``getInfluenceFunctionKM`` and the KM censoring terms of
        ``getInfluenceCurve.AUC`` / ``getInfluenceCurve.Brier``, computed with cumulative sums.
        """
        n = event.size
        compensator = np.cumsum(n * self.n_censor / self.n_risk**2)
        own = n * (1 - event) / self.n_risk[self.index] - compensator[self.index]
        by_time = np.bincount(self.index, weights=case_coefficients, minlength=self.times.size)
        strictly_after = by_time.sum() - np.cumsum(by_time)
        up_to = np.cumsum(by_time * np.concatenate(([0.0], compensator[:-1])))
        case_term = own * strictly_after[self.index] - up_to[self.index]
        last = self.last_index(t)
        at_t = np.where(self.index <= last, own, -compensator[last])
        return case_term + control_total * at_t


def replicate_censoring_before(time: np.ndarray, event: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G(u-) at every distinct time for each bootstrap replicate, the KM refitted on each.

    ``counts`` (replicates x patients) holds how often each patient was drawn: the replicate's
    KM is the KM weighted by these counts. Returns (G(u-) as replicates x distinct times,
    each patient's position among the distinct times).
    """
    index = np.unique(time, return_inverse=True)[1]
    order = np.argsort(index, kind="stable")
    starts = np.concatenate(([0], np.flatnonzero(np.diff(index[order])) + 1))
    events_at_time = np.add.reduceat((counts * event)[:, order], starts, axis=1)
    censored_at_time = np.add.reduceat((counts * (1.0 - event))[:, order], starts, axis=1)
    n_risk = (events_at_time + censored_at_time)[:, ::-1].cumsum(axis=1)[:, ::-1]
    survival = _censoring_survival(n_risk, events_at_time, censored_at_time)
    return np.hstack([np.ones((counts.shape[0], 1)), survival[:, :-1]]), index


# --------------------------------------------------------------------------------------------
# AUC(t)


def _auc_inputs(time, event, times, **markers) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    time, event = prediction_data(time, event)
    arrays = {name: numeric_vector(values, name) for name, values in markers.items()}
    same_length(time=time, **arrays)
    requested = horizons(times, time, event)
    _require_controls(requested, time)
    return time, event, requested, arrays


def _require_controls(times: np.ndarray, time: np.ndarray) -> None:
    last = float(time.max())
    for t in times:
        if not (time > t).any():
            raise InputError(
                f"No patient is followed beyond prediction time {t:g} (the longest follow-up is {last:g}), so AUC({t:g}) "
                f"has no controls; choose a time before {last:g}."
            )


def _auc_with_influence(time, event, marker, km: CensoringKM, t: float) -> tuple[float, np.ndarray, int, int]:
    """AUC(t), its influence function per patient (riskRegression's IF.AUC) and the case/control counts."""
    n = time.size
    cases, controls = (time <= t) & (event == 1), time > t
    g_t = km.at(t)
    case_weight = 1.0 / km.before_own_time()[cases]
    n_controls = int(controls.sum())
    sorted_controls = np.sort(marker[controls])
    below = np.searchsorted(sorted_controls, marker[cases], side="left")
    controls_beaten = below + 0.5 * (np.searchsorted(sorted_controls, marker[cases], side="right") - below)
    auc = float(np.sum(case_weight * controls_beaten) / (case_weight.sum() * n_controls))
    # weighted number of cases whose marker exceeds each control's (ties 1/2)
    order = np.argsort(marker[cases], kind="stable")
    sorted_cases = marker[cases][order]
    cumulative = np.concatenate(([0.0], np.cumsum(case_weight[order])))
    low = np.searchsorted(sorted_cases, marker[controls], side="left")
    high = np.searchsorted(sorted_cases, marker[controls], side="right")
    cases_above = (cumulative[-1] - cumulative[high]) + 0.5 * (cumulative[high] - cumulative[low])
    # riskRegression getIC0AUC: AUC = nu / mu with mu = (sum of case weights)(sum of control weights) / n^2
    case_total, control_total = case_weight.sum(), n_controls / g_t
    scale = n * (case_total * control_total / n**2)
    case_part = case_weight * (controls_beaten / g_t - auc * control_total)
    influence = np.zeros(n)
    influence[cases] = case_part / scale
    influence[controls] = (cases_above - auc * case_total) / g_t / scale
    coefficients = np.zeros(n)
    coefficients[cases] = case_part / (n * scale)
    # the control weights 1/G(t) cancel in the ratio: only the case weights carry censoring influence
    influence += km.influence(event, t, coefficients, 0.0)
    return auc, influence, int(cases.sum()), n_controls


def _influence_se(influence: np.ndarray) -> float:
    """riskRegression's SE of an estimate from its influence function: sd(IF) / sqrt(n)."""
    return float(np.std(influence, ddof=1) / np.sqrt(influence.size))


def replicate_aucs(time, event, marker, times, counts: np.ndarray) -> np.ndarray:
    """AUC(t) of bootstrap replicates given as patient multiplicities ``counts`` (replicates x n).

    Each replicate refits the censoring KM; all replicates go through at once per time (marker
    histograms of the controls, cumulated). Replicates without cases or controls give NaN.
    """
    g_before, index = replicate_censoring_before(time, event, counts)
    codes = np.unique(marker, return_inverse=True)[1]
    n_codes = codes.max() + 1
    rows = np.arange(counts.shape[0])[:, None] * n_codes
    result = np.empty((counts.shape[0], len(times)))
    for column, t in enumerate(times):
        cases, controls = (time <= t) & (event == 1), time > t
        control_counts = counts[:, controls]
        histogram = np.bincount((rows + codes[controls]).ravel(), weights=control_counts.ravel(), minlength=rows.size * n_codes)
        histogram = histogram.reshape(counts.shape[0], n_codes)
        controls_beaten = np.cumsum(histogram, axis=1) - 0.5 * histogram
        case_counts = counts[:, cases]
        case_g = g_before[:, index[cases]]
        case_weight = np.divide(case_counts, case_g, out=np.zeros_like(case_counts), where=case_counts > 0)
        numerator = np.sum(case_weight * controls_beaten[:, codes[cases]], axis=1)
        denominator = case_weight.sum(axis=1) * control_counts.sum(axis=1)
        result[:, column] = np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan), where=denominator > 0)
    return result


def _bootstrap_aucs(time, event, marker, times, n_boot: int, seed) -> np.ndarray:
    """AUC(t) of ``n_boot`` resamplings of the patients (replicates x times), undefined ones dropped."""
    rng = np.random.default_rng(seed)
    n = time.size
    chunk = max(1, _CELLS_PER_CHUNK // n)
    parts = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        draws = rng.integers(0, n, (size, n))
        counts = np.bincount((np.arange(size)[:, None] * n + draws).ravel(), minlength=size * n).reshape(size, n)
        parts.append(replicate_aucs(time, event, marker, times, counts.astype(float)))
    aucs = np.vstack(parts)
    undefined = np.isnan(aucs).any(axis=1)
    if undefined.any():
        warnings.warn(
            f"{int(undefined.sum())} of {n_boot} bootstrap replicate(s) had no cases or no controls at some prediction "
            f"time and were left out of the percentile CIs; choose times with more events and more patients at risk.",
            SurvivalWarning,
            stacklevel=3,
        )
    return aucs[~undefined]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class TimeDependentAuc(Result):
    """Cumulative/dynamic AUC(t) at each requested time.

    ``table``: time, auc, se (influence function), ci_low, ci_high (Wald, clipped to [0, 1], as
    Score), n_cases (events up to t), n_controls (followed beyond t) and, when ``n_boot`` > 0,
    boot_ci_low, boot_ci_high (percentile). ``boot_aucs`` holds the replicates (replicates x
    times; None without bootstrap). ``time``, ``event`` and ``marker`` are the validated data,
    kept for :meth:`roc_curve`.
    """

    table: pd.DataFrame = dataclasses.field(metadata={"table": True})
    conf_level: float
    n_boot: int
    seed: int | None
    boot_aucs: np.ndarray | None
    time: np.ndarray
    event: np.ndarray
    marker: np.ndarray

    def roc_curve(self, t: float) -> pd.DataFrame:
        """The IPCW ROC curve at time ``t``: threshold, sensitivity (IPCW), specificity.

        Thresholds are pROC's (-inf, midpoints between distinct markers, +inf), ascending;
        positive means marker > threshold. Sensitivity weighs the cases by 1 / G(T_i-) (as
        Score's TPR); the controls share one weight, so specificity is their plain fraction.
        """
        t = float(horizons(t, self.time, self.event)[0])
        _require_controls(np.array([t]), self.time)
        km = CensoringKM.fit(self.time, self.event)
        cases, controls = (self.time <= t) & (self.event == 1), self.time > t
        case_weight = 1.0 / km.before_own_time()[cases]
        thresholds = _thresholds(self.marker, "<")
        order = np.argsort(self.marker[cases], kind="stable")
        cumulative = np.concatenate(([0.0], np.cumsum(case_weight[order])))
        below = cumulative[np.searchsorted(self.marker[cases][order], thresholds, side="left")]
        sensitivity = (cumulative[-1] - below) / cumulative[-1]
        specificity = np.searchsorted(np.sort(self.marker[controls]), thresholds, side="left") / controls.sum()
        return pd.DataFrame({"threshold": thresholds, "sensitivity": sensitivity, "specificity": specificity})


def time_dependent_auc(
    time, event, marker, times, *, conf_level: float = 0.95, n_boot: int = 0, seed: int | None = None
) -> TimeDependentAuc:
    """Cumulative/dynamic AUC(t) with IPCW, as ``riskRegression::Score(list(marker), formula =
    Hist(time, event) ~ 1, data, times = times, metrics = "auc", cens.model = "km", se.fit = TRUE)``.

    Cases at t have the event by t (weight 1 / G(T_i-)), controls are followed beyond t
    (weight 1 / G(t)); G is the Kaplan-Meier estimate of censoring. Higher ``marker`` = higher
    risk; a case-control tie in the marker counts 1/2. ``se`` is sd(IF) / sqrt(n) of Score's
    influence function (the censoring KM's own variability included) and the CI is Score's:
    AUC +- z se, clipped to [0, 1]. With ``n_boot`` > 0, percentile CIs (R's ``quantile`` type
    7) from ``n_boot`` resamplings of the patients, the censoring KM refitted in each
    (``seed`` for reproducibility); the same replicates serve every time.

    Times must lie within the follow-up, with an event before and a patient followed beyond
    each (:func:`~stsanalysis.stats._horizon.horizons`).

    Examples
    --------
    >>> time = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    >>> event = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
    >>> marker = [0.9, 0.8, 0.3, 0.7, 0.4, 0.2, 0.6, 0.1, 0.5, 0.2]
    >>> result = time_dependent_auc(time, event, marker, [5, 8])
    >>> result.table[["time", "auc", "se", "n_cases", "n_controls"]].round(3)
       time    auc     se  n_cases  n_controls
    0   5.0  1.000  0.000        3           6
    1   8.0  0.933  0.085        5           3
    """
    check_conf_level(conf_level)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InputError(f"'n_boot' must be a non-negative integer (0: no bootstrap); got {n_boot!r}.")
    z = _z_value(conf_level)
    time, event, requested, arrays = _auc_inputs(time, event, times, marker=marker)
    marker = arrays["marker"]
    km = CensoringKM.fit(time, event)
    rows = []
    for t in requested:
        auc, influence, n_cases, n_controls = _auc_with_influence(time, event, marker, km, t)
        se = _influence_se(influence)
        rows.append((t, auc, se, max(auc - z * se, 0.0), min(auc + z * se, 1.0), n_cases, n_controls))
    table = pd.DataFrame(rows, columns=["time", "auc", "se", "ci_low", "ci_high", "n_cases", "n_controls"])
    boot_aucs = None
    if n_boot:
        boot_aucs = _bootstrap_aucs(time, event, marker, requested, n_boot, seed)
        alpha = 1 - conf_level
        limits = np.quantile(boot_aucs, [alpha / 2, 1 - alpha / 2], axis=0) if boot_aucs.size else np.full((2, requested.size), np.nan)
        table["boot_ci_low"], table["boot_ci_high"] = limits
    return TimeDependentAuc(
        table=table, conf_level=conf_level, n_boot=int(n_boot), seed=seed, boot_aucs=boot_aucs, time=time, event=event, marker=marker
    )


@dataclasses.dataclass(frozen=True, repr=False)
class TimeDependentAucComparison(Result):
    """AUC_a(t) - AUC_b(t) on the same patients, one row per time in ``table``: time, auc_a,
    auc_b, difference, se, ci_low, ci_high (Wald, not clipped), z, p (two-sided normal)."""

    table: pd.DataFrame = dataclasses.field(metadata={"table": True})
    conf_level: float


def compare_time_dependent_auc(time, event, marker_a, marker_b, times, *, conf_level: float = 0.95) -> TimeDependentAucComparison:
    """Paired comparison of the IPCW AUC(t) of two markers, as Score's ``contrasts``.

    ``Score(list(a = marker_a, b = marker_b), Hist(time, event) ~ 1, data, times, metrics =
    "auc", cens.model = "km")$AUC$contrasts``: the SE of the difference is sd(IF_a - IF_b) /
    sqrt(n) of the two influence functions, the CI difference +- z se and p = 2 Phi(-|z|).
    Score reports b - a (``delta.AUC`` of model b against reference a); here ``difference``
    is a - b, as :func:`~stsanalysis.stats.concordance.compare_concordance` (same p, CI mirrored).

    Examples
    --------
    >>> time = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    >>> event = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
    >>> a = [0.9, 0.8, 0.3, 0.7, 0.4, 0.2, 0.6, 0.1, 0.5, 0.2]
    >>> b = [0.5, 0.8, 0.3, 0.2, 0.4, 0.6, 0.6, 0.1, 0.5, 0.9]
    >>> compare_time_dependent_auc(time, event, a, b, [8]).table[["auc_a", "auc_b", "difference", "se", "p"]].round(3)
       auc_a  auc_b  difference     se      p
    0  0.933  0.504       0.429  0.264  0.103
    """
    check_conf_level(conf_level)
    z_critical = _z_value(conf_level)
    time, event, requested, arrays = _auc_inputs(time, event, times, marker_a=marker_a, marker_b=marker_b)
    km = CensoringKM.fit(time, event)
    rows = []
    for t in requested:
        auc_a, influence_a, _, _ = _auc_with_influence(time, event, arrays["marker_a"], km, t)
        auc_b, influence_b, _, _ = _auc_with_influence(time, event, arrays["marker_b"], km, t)
        difference = auc_a - auc_b
        se = _influence_se(influence_a - influence_b)
        z = difference / se if se > 0 else np.nan
        p = float(2 * sps.norm.sf(abs(z))) if se > 0 else np.nan
        rows.append((t, auc_a, auc_b, difference, se, difference - z_critical * se, difference + z_critical * se, z, p))
    columns = ["time", "auc_a", "auc_b", "difference", "se", "ci_low", "ci_high", "z", "p"]
    return TimeDependentAucComparison(table=pd.DataFrame(rows, columns=columns), conf_level=conf_level)
