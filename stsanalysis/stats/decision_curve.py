"""Decision curve analysis for a binary outcome and for a survival outcome at time t.

Binary outcome (Vickers & Elkin, Med Decis Making 2006;26:565-574): net benefit at threshold
probability pt is NB = TP/n - FP/n x pt / (1 - pt), where a patient is called positive when
the predicted risk is >= pt. "Treat all" calls everybody positive, "treat none" nobody (NB = 0).
Net interventions avoided per 100 patients = (NB_model - NB_treat_all) x (1 - pt) / pt x 100
(Vickers et al., BMJ 2016;352:i6).

Survival outcome at time t (Vickers, Cronin, Elkin, Kattan & Bach, BMC Med Inform Decis Mak
2008;8:53): the outcome is an event by t, whose probability among the treated (risk >= pt) is
1 - S_KM(t | risk >= pt), the Kaplan-Meier estimate of that group. With P = P(risk >= pt),
NB = [1 - S_KM(t | risk >= pt)] P - S_KM(t | risk >= pt) P pt / (1 - pt); the expected
numbers of true and false positives n P [1 - S_KM] and n P S_KM make it the binary formula.

Both share one engine: each strategy is a function from patient weights (one row per
bootstrap replicate; all ones for the estimate) to TP and FP at every threshold, so that the
percentile bootstrap runs on whole blocks of replicates at once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import binary_outcome, probabilities, same_length
from ._conf_level import check_conf_level, resolve_conf_level
from ._horizon import horizons, prediction_data
from .survival import SurvivalWarning

__all__ = ["TREAT_ALL", "TREAT_NONE", "decision_curve", "survival_decision_curve"]

TREAT_ALL = "treat all"
TREAT_NONE = "treat none"
#: Bound on the cells of the arrays of one block of bootstrap replicates (memory, not numbers).
_CELLS_PER_BLOCK = 2_000_000

#: Patient weights (replicates x patients) -> (true positives, false positives), replicates x thresholds.
_Counts = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
_Bootstrap = tuple[int, Iterator[np.ndarray]]


def _net_benefit(true_positive, false_positive, n: int, thresholds: np.ndarray) -> np.ndarray:
    return true_positive / n - false_positive / n * thresholds / (1 - thresholds)


def _model_risks(risks, argument: str) -> dict[str, np.ndarray]:
    """Validated risks in [0, 1] of each model, from a dict name -> values or a DataFrame (one column per model)."""
    if isinstance(risks, pd.DataFrame):
        risks = {name: risks[name] for name in risks.columns}
    if not isinstance(risks, Mapping) or not risks:
        raise InputError(f"'{argument}' must be a non-empty dict (or DataFrame) mapping model names to predicted risks.")
    reserved = {TREAT_ALL, TREAT_NONE} & set(risks)
    if reserved:
        raise InputError(f"Model name(s) {sorted(reserved)} are reserved for the reference strategies; rename them.")
    return {name: probabilities(values, f"{argument}['{name}']", closed=True) for name, values in risks.items()}


def _threshold_grid(thresholds) -> np.ndarray:
    return np.arange(1, 100) / 100 if thresholds is None else probabilities(thresholds, "thresholds")


def _bootstrap(n: int, n_boot, seed, indices) -> _Bootstrap | None:
    """The number of replicates and a generator of blocks of their rows (None: no bootstrap).

    Rows are ``np.random.default_rng(seed).integers(0, n, (n_boot, n))`` drawn block by block
    (the same numbers as drawing them at once, or one replicate at a time), or ``indices``.
    """
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InputError(f"'n_boot' must be a non-negative integer; got {n_boot!r}.")
    rows_per_block = max(1, _CELLS_PER_BLOCK // n)
    if indices is not None:
        draws = np.asarray(indices)
        if draws.ndim != 2 or draws.shape[1] != n or not np.issubdtype(draws.dtype, np.integer):
            raise InputError(
                f"'indices' must be an integer array of n_boot rows x {n} patients; got shape {draws.shape}, dtype {draws.dtype}."
            )
        if draws.size and (draws.min() < 0 or draws.max() >= n):
            raise InputError(f"'indices' must hold 0-based row positions from 0 to {n - 1}; got {draws.min()} to {draws.max()}.")
        if n_boot not in (0, draws.shape[0]):
            raise InputError(f"'n_boot' = {n_boot} disagrees with the {draws.shape[0]} replicates of 'indices'; give one of them.")
        blocks = (draws[start : start + rows_per_block] for start in range(0, draws.shape[0], rows_per_block))
        return (draws.shape[0], blocks) if draws.shape[0] else None
    if n_boot == 0:
        return None
    rng = np.random.default_rng(seed)
    blocks = (rng.integers(0, n, (min(rows_per_block, n_boot - start), n)) for start in range(0, n_boot, rows_per_block))
    return n_boot, blocks


def _weights(rows: np.ndarray, n: int) -> np.ndarray:
    """How often each patient is drawn in each replicate (replicates x n) from the drawn rows."""
    offsets = np.arange(rows.shape[0])[:, None] * n
    return np.bincount((offsets + rows).ravel(), minlength=rows.size).reshape(rows.shape).astype(float)


def _bootstrap_limits(counts: Mapping[str, _Counts], n: int, thresholds: np.ndarray, bootstrap: _Bootstrap, alpha: float) -> np.ndarray:
    """Percentile limits (2 x strategy x threshold) of the net benefit over the bootstrap replicates."""
    n_replicates, blocks = bootstrap
    boot = np.empty((len(counts), n_replicates, thresholds.size))
    start = 0
    for rows in blocks:
        weights = _weights(rows, n)
        for i, strategy in enumerate(counts.values()):
            boot[i, start : start + rows.shape[0]] = _net_benefit(*strategy(weights), n, thresholds)
        start += rows.shape[0]
    return np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=1)


def _curve_table(
    counts: Mapping[str, _Counts], thresholds: np.ndarray, n: int, bootstrap: _Bootstrap | None, alpha: float, count_type: type
) -> pd.DataFrame:
    """The long table of every strategy in ``counts`` (treat all last) plus treat none, with CIs when bootstrapped."""
    everyone = np.ones((1, n))
    frames = []
    for name, strategy in counts.items():
        true_positive, false_positive = (values[0] for values in strategy(everyone))
        frames.append(
            pd.DataFrame(
                {
                    "model": name,
                    "threshold": thresholds,
                    "tp": true_positive.astype(count_type),
                    "fp": false_positive.astype(count_type),
                    "net_benefit": _net_benefit(true_positive, false_positive, n, thresholds),
                }
            )
        )
    net_benefit_all = frames[-1]["net_benefit"].to_numpy()
    frames.append(
        pd.DataFrame({"model": TREAT_NONE, "threshold": thresholds, "tp": count_type(0), "fp": count_type(0), "net_benefit": 0.0})
    )
    for frame in frames:
        frame["net_interventions_avoided"] = (frame["net_benefit"] - net_benefit_all) * (1 - thresholds) / thresholds * 100
    if bootstrap is not None:
        limits = _bootstrap_limits(counts, n, thresholds, bootstrap, alpha)
        for i, frame in enumerate(frames[:-1]):
            frame["ci_low"], frame["ci_high"] = limits[0, i], limits[1, i]
        frames[-1]["ci_low"] = frames[-1]["ci_high"] = 0.0
    table = pd.concat(frames, ignore_index=True)
    table.attrs["n"] = n
    return table


def _binary_counts(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> _Counts:
    """True and false positives at each threshold (positive = p >= threshold) for any patient weights."""
    positive = (p[:, None] >= thresholds[None, :]).astype(float)
    positive_events = positive * (y[:, None] == 1)

    def counts(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        true_positive = weights @ positive_events
        return true_positive, weights @ positive - true_positive

    return counts


def decision_curve(
    y,
    predictions: Mapping[str, object],
    thresholds=None,
    n_boot: int = 0,
    seed: int | None = None,
    level: float | None = None,
    *,
    conf_level: float = 0.95,
    indices=None,
) -> pd.DataFrame:
    """Net benefit of each model, of treat-all and of treat-none over threshold probabilities.

    ``predictions`` maps a model name to predicted risks in [0, 1] (a dict, or a DataFrame
    with one column per model). ``thresholds`` default to 0.01, 0.02, ..., 0.99 (k/100
    exactly). Returns a long table with one row per model and threshold: ``model, threshold,
    tp, fp, net_benefit, net_interventions_avoided`` (per 100 patients), plus ``ci_low,
    ci_high`` of the net benefit when ``n_boot`` > 0 (percentile bootstrap, resampling
    patients; treat-none has no uncertainty) at ``conf_level`` (``level``, its older name,
    still works). ``indices`` (n_boot x n, 0-based rows of each replicate) replays fixed
    draws instead of drawing with ``seed``, e.g. to check the bootstrap against R.

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
    risks = _model_risks(predictions, "predictions")
    same_length(y=y, **{f"predictions['{name}']": values for name, values in risks.items()})
    thresholds = _threshold_grid(thresholds)
    bootstrap = _bootstrap(y.size, n_boot, seed, indices)
    alpha = 1 - resolve_conf_level(conf_level, level, "level")

    strategies = {**risks, TREAT_ALL: np.ones(y.size)}
    counts = {name: _binary_counts(y, p, thresholds) for name, p in strategies.items()}
    table = _curve_table(counts, thresholds, y.size, bootstrap, alpha, int)
    table.attrs["prevalence"] = float(y.mean())
    return table


class _GroupKaplanMeier:
    """Kaplan-Meier estimates at t of the nested groups "risk >= threshold" of one model, for any patient weights.

    Each patient is binned by level (how many of the sorted thresholds its risk reaches: it
    belongs to the groups of the first ``level`` of them) and by the event times up to t at
    which it is at risk. A weighted histogram over (level, bin) per replicate, summed from the
    top level down and from the last bin back, gives every group's numbers at risk and events
    at every event time, so no Kaplan-Meier curve is fitted one group at a time. Levels and
    bins are stored reversed so that both sums are forward cumulative sums.
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, risk: np.ndarray, t: float, thresholds: np.ndarray):
        n_thresholds = thresholds.size
        order = np.argsort(thresholds, kind="stable")
        # the group of sorted threshold k sits at position n_thresholds - 1 - k of the sums
        self._restore = n_thresholds - 1 - np.argsort(order)
        self._n_levels = n_thresholds + 1
        self._level = n_thresholds - np.searchsorted(thresholds[order], risk, side="right")
        counted = (event == 1) & (time <= t)
        event_times = np.unique(time[counted])
        self._n_event_times = m = event_times.size
        # at risk at grid[j] (event times, then t) for j < searchsorted(...); bin m + 1 - that
        self._at_risk_bin = m + 1 - np.searchsorted(np.append(event_times, t), time, side="right")
        self._n_bins = m + 2
        self._events = np.flatnonzero(counted)
        self._event_bin = m - np.searchsorted(event_times, time[counted])

    def _sums(self, weights: np.ndarray, patients, bins: np.ndarray) -> np.ndarray:
        """Weights by replicate, level and bin, summed over the levels of each group: replicates x groups x bins."""
        size = weights.shape[0] * self._n_levels * self._n_bins
        cells = (np.arange(weights.shape[0])[:, None] * self._n_levels + self._level[patients]) * self._n_bins + bins
        histogram = np.bincount(cells.ravel(), weights=weights[:, patients].ravel(), minlength=size)
        return np.cumsum(histogram.reshape(weights.shape[0], self._n_levels, self._n_bins), axis=1)[:, :-1]

    def survival(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weighted group size, S_KM(t) and number at risk at t of each group (replicates x thresholds).

        A group's S_KM(t) multiplies 1 - d/r over the event times up to t at which it has
        patients at risk: when its follow-up ends before t this is its KM at its last time.
        """
        rows_per_block = max(1, _CELLS_PER_BLOCK // (self._n_levels * self._n_bins))
        m = self._n_event_times
        parts = []
        for start in range(0, weights.shape[0], rows_per_block):
            block = weights[start : start + rows_per_block]
            at_risk = np.cumsum(self._sums(block, slice(None), self._at_risk_bin), axis=2)
            events = self._sums(block, self._events, self._event_bin)[..., 1 : m + 1]
            at_event = at_risk[..., 1 : m + 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                factors = np.where(at_event > 0, 1 - events / at_event, 1.0)
            parts.append((at_risk[..., m + 1], factors.prod(axis=2), at_risk[..., 0]))
        return tuple(np.concatenate(values)[:, self._restore] for values in zip(*parts))

    def __call__(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        treated, survival, _ = self.survival(weights)
        return treated * (1 - survival), treated * survival


def _warn_short_follow_up(groups: Mapping[str, _GroupKaplanMeier], thresholds: np.ndarray, t: float, n: int) -> None:
    """One SurvivalWarning naming each model and the thresholds whose group's follow-up ends before t."""
    everyone = np.ones((1, n))
    affected = []
    for name, group in groups.items():
        treated, survival, at_risk_at_t = (values[0] for values in group.survival(everyone))
        short = (treated > 0) & (at_risk_at_t == 0) & (survival > 0)
        if short.any():
            shown = ", ".join(f"{value:g}" for value in np.sort(thresholds[short])[:5])
            more = f", ... ({short.sum()} thresholds)" if short.sum() > 5 else ""
            affected.append(f"'{name}' at threshold(s) {shown}{more}")
    if affected:
        warnings.warn(
            f"The follow-up of the patients with risk >= threshold ends before t = {t:g} (censored, none at risk at t) "
            f"for model {'; '.join(affected)}: their Kaplan-Meier estimate at their last follow-up time is used for "
            f"S(t), as stdca does (summary(survfit(...), times = t, extend = TRUE)). Read the net benefit there with "
            f"caution or choose an earlier t.",
            SurvivalWarning,
            stacklevel=3,
        )


def survival_decision_curve(
    time,
    event,
    risk,
    t: float,
    thresholds=None,
    *,
    n_boot: int = 0,
    seed: int | None = None,
    conf_level: float = 0.95,
    names: tuple[str, str] | None = None,
    indices=None,
) -> pd.DataFrame:
    """Net benefit at time ``t`` of each model, of treat-all and of treat-none for a survival outcome.

    Vickers, Cronin, Elkin, Kattan & Bach (2008): a patient is treated when the predicted risk
    of an event by ``t``, 1 - S(t), is >= pt, and with P = P(risk >= pt) and the Kaplan-Meier
    estimate among the treated, NB = [1 - S_KM(t | risk >= pt)] P - S_KM(t | risk >= pt) P pt /
    (1 - pt); treat all: NB = 1 - S_KM(t) - S_KM(t) pt / (1 - pt). No R package of Debian
    computes it; tests/reference/decision_curve_survival.R writes it with ``survival::survfit``
    and ``summary(..., times = t, extend = TRUE)``, as ``stdca`` (MSKCC) does, except that
    stdca treats risk > pt where this function, like :func:`decision_curve`, treats risk >= pt.

    ``risk`` maps a model name to predicted risks 1 - S(t) in [0, 1] (a dict, or a DataFrame
    with one column per model); ``names`` are the names of ``time`` and ``event`` in messages.
    The table has the columns of :func:`decision_curve`: ``model, threshold, tp, fp,
    net_benefit, net_interventions_avoided`` (+ ``ci_low, ci_high`` when ``n_boot`` > 0), where
    ``tp`` and ``fp`` are the expected numbers of true and false positives n P [1 - S_KM] and
    n P S_KM (not integers). ``attrs`` hold ``n``, ``time`` (t) and ``prevalence``, the event
    probability by t, 1 - S_KM(t). Conventions:

    - no patient has risk >= pt: nobody is treated, NB = 0 (tp = fp = 0); stdca stops there;
    - the group's follow-up ends before t with censoring: S_KM(t | group) is the group's KM at
      its last time (stdca's ``extend = TRUE``), with one :class:`SurvivalWarning` naming the
      models and thresholds (bootstrap replicates follow the same rule silently);
    - bootstrap: percentile CIs at ``conf_level`` (R ``quantile`` type 7) over ``n_boot``
      resamples of the patients (``seed``), or over the 0-based rows of ``indices`` (n_boot x n).

    Raises :class:`InputError` when times are not positive or missing, events are not 0/1,
    ``t`` lies beyond the last follow-up or before the first event (shared checks of every
    prediction at t), a model's risks are missing or outside [0, 1], or lengths differ.

    Examples
    --------
    >>> time = [2, 3, 5, 6, 8, 10, 12, 15, 20, 25]
    >>> event = [1, 0, 1, 1, 0, 1, 0, 1, 0, 0]
    >>> risk = [0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    >>> table = survival_decision_curve(time, event, {"model": risk}, t=12, thresholds=[0.15, 0.35])
    >>> table[["model", "threshold", "tp", "fp", "net_benefit"]].round(3)
            model  threshold     tp     fp  net_benefit
    0       model       0.15  4.714  4.286        0.396
    1       model       0.35  5.200  1.800        0.423
    2   treat all       0.15  4.600  5.400        0.365
    3   treat all       0.35  4.600  5.400        0.169
    4  treat none       0.15  0.000  0.000        0.000
    5  treat none       0.35  0.000  0.000        0.000
    >>> round(table.attrs["prevalence"], 3)
    0.46
    """
    time_array, event_array = prediction_data(time, event, names)
    horizon = horizons(t, time_array, event_array)
    if horizon.size != 1:
        raise InputError(f"'t' must be one prediction time; got {horizon.tolist()}. Compute one decision curve per time.")
    t = float(horizon[0])
    risks = _model_risks(risk, "risk")
    same_length(time=time_array, **{f"risk['{name}']": values for name, values in risks.items()})
    thresholds = _threshold_grid(thresholds)
    n = time_array.size
    bootstrap = _bootstrap(n, n_boot, seed, indices)
    alpha = 1 - check_conf_level(conf_level)

    groups = {
        name: _GroupKaplanMeier(time_array, event_array, values, t, thresholds) for name, values in {**risks, TREAT_ALL: np.ones(n)}.items()
    }
    _warn_short_follow_up(groups, thresholds, t, n)
    table = _curve_table(groups, thresholds, n, bootstrap, alpha, float)
    table.attrs["time"] = t
    table.attrs["prevalence"] = float(1 - groups[TREAT_ALL].survival(np.ones((1, n)))[1][0, 0])
    return table
