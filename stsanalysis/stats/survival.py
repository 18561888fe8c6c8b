"""Survival curves and their comparison: Kaplan-Meier and log-rank tests.

Every default follows R's ``survival`` package (3.5):

- :func:`kaplan_meier` -- ``survfit(Surv(time, event) ~ group)`` with ``conf.type = "log"``,
  Greenwood standard errors, medians and their CIs as ``print(survfit)``.
- :func:`logrank_test` -- ``survdiff(..., rho = 0)``; ``rho = 1`` is the Peto & Peto
  modification of the Gehan-Wilcoxon test. :func:`pairwise_logrank` is
  ``survminer::pairwise_survdiff`` (survdiff on each pair of groups, then ``p.adjust``).

Cox regression is in :mod:`~stsanalysis.stats.cox`, Harrell's C in
:mod:`~stsanalysis.stats.concordance`; both use the input checks of this module.

Event coding is 1 = event (death, progression), 0 = censored, as ``Surv(time, event)``.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from ..errors import InputError
from ..validation import name_of, numeric_vector, same_length
from ._result import Result

__all__ = [
    "KMResult",
    "LogrankResult",
    "SurvivalWarning",
    "kaplan_meier",
    "logrank_test",
    "pairwise_logrank",
]

CONF_TYPES = ("log", "log-log", "plain")
# R's p.adjust method names mapped to statsmodels' multipletests names.
P_ADJUST_METHODS = {
    "BH": "fdr_bh",
    "fdr": "fdr_bh",
    "BY": "fdr_by",
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "hommel": "hommel",
    "bonferroni": "bonferroni",
    "none": None,
}


class SurvivalWarning(UserWarning):
    """Data that a survival estimate can handle but that the user should know about."""


# --------------------------------------------------------------------------------------------
# input checks


def _survival_data(time, event, group=None, names=None):
    """Validate (time, event[, group]); return float times, 0/1 events and the group Series.

    ``names`` are the argument or column names used in error messages (default: the Series'
    names, else "time" and "event").
    """
    time_name, event_name = names or (name_of(time, "time"), name_of(event, "event"))
    time_array = numeric_vector(time, time_name)
    negative = time_array < 0
    if negative.any():
        raise InputError(
            f"'{time_name}' must be non-negative survival times; {int(negative.sum())} value(s) are "
            f"negative (e.g. {time_array[negative][:3].tolist()})."
        )
    event_array = numeric_vector(event, event_name)
    not_binary = ~np.isin(event_array, (0.0, 1.0))
    if not_binary.any():
        raise InputError(
            f"'{event_name}' must be coded 1 = event, 0 = censored; got other values "
            f"{np.unique(event_array[not_binary])[:5].tolist()} in {int(not_binary.sum())} row(s)."
        )
    if group is None:
        same_length(time=time_array, event=event_array)
        return time_array, event_array.astype(int), None
    group_series = pd.Series(group).reset_index(drop=True)
    same_length(time=time_array, event=event_array, group=group_series)
    if group_series.isna().any():
        raise InputError(
            f"The grouping variable 'group' has {int(group_series.isna().sum())} missing value(s) "
            f"at rows {np.flatnonzero(group_series.isna().to_numpy())[:5].tolist()}."
        )
    return time_array, event_array.astype(int), group_series


def _group_levels(group_series: pd.Series | None) -> list:
    """Group labels in the order of a categorical's categories (R's factor levels), else sorted."""
    if group_series is None:
        return ["all"]
    if isinstance(group_series.dtype, pd.CategoricalDtype):
        present = set(group_series.unique())
        return [level for level in group_series.cat.categories if level in present]
    return sorted(group_series.unique().tolist())


def _group_masks(n: int, group_series):
    """Yield (level, boolean mask) per group; one level 'all' without a grouping."""
    if group_series is None:
        yield "all", np.ones(n, dtype=bool)
        return
    values = group_series.to_numpy()
    for level in _group_levels(group_series):
        yield level, values == level


def _warn_groups_without_events(event, group_series, what: str) -> None:
    if group_series is None:
        return
    for level, mask in _group_masks(event.size, group_series):
        if not event[mask].any():
            warnings.warn(
                f"Group {level!r} has no events ({int(mask.sum())} patients, all censored); its {what}.",
                SurvivalWarning,
                stacklevel=3,
            )


def _z_value(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise InputError(f"'conf_level' must be between 0 and 1; got {conf_level!r}.")
    return float(sps.norm.ppf(1 - (1 - conf_level) / 2))


# --------------------------------------------------------------------------------------------
# Kaplan-Meier


def _survival_ci(survival, se_log, z, conf_type):
    """Pointwise CI of S(t) from the SE of log S(t), as survival:::survfit_confint."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half_width = z * se_log * survival
            return np.maximum(survival - half_width, 0), np.minimum(survival + half_width, 1)
        if conf_type == "log":
            log_s = np.log(np.where(survival == 0, np.nan, survival))
            low = np.where(se_log == 0, survival, np.exp(log_s - z * se_log))
            high = np.where(se_log == 0, survival, np.exp(log_s + z * se_log))
            return low, np.minimum(high, 1)
        # log-log: undefined where S is 0 or 1 unless the SE is 0 (before the first event)
        log_s = np.log(np.where((survival == 0) | (survival == 1), np.nan, survival))
        shift = z * se_log / log_s
        low = np.where(se_log == 0, survival, np.exp(-np.exp(np.log(-log_s) - shift)))
        high = np.where(se_log == 0, survival, np.exp(-np.exp(np.log(-log_s) + shift)))
        return low, high


def _km_one_group(time, event, z, conf_type) -> pd.DataFrame:
    times, inverse = np.unique(time, return_inverse=True)
    n_event = np.bincount(inverse, weights=event, minlength=times.size)
    n_removed = np.bincount(inverse, minlength=times.size)
    n_risk = time.size - np.concatenate(([0], np.cumsum(n_removed)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - n_event / n_risk)
        # Greenwood: Var(log S) = sum d / (n (n - d)); infinite once everybody at risk died
        greenwood = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0))
        se_log = np.sqrt(greenwood)
        std_error = survival * se_log
    ci_low, ci_high = _survival_ci(survival, se_log, z, conf_type)
    return pd.DataFrame(
        {
            "time": times,
            "n_risk": n_risk.astype(int),
            "n_event": n_event.astype(int),
            "n_censor": (n_removed - n_event).astype(int),
            "survival": survival,
            "std_error": std_error,
            "ci_low": ci_low,
            "ci_high": ci_high,
        }
    )


def _first_time_below_half(curve: np.ndarray, times: np.ndarray) -> float:
    """First time a curve is <= 0.5, as print.survfit's ``minmin``.

    Where the curve equals 0.5 (within sqrt(machine eps)) over a flat stretch, the result
    is the midpoint between the start of the stretch and the next time the curve drops.
    """
    tolerance = np.sqrt(np.finfo(float).eps)
    keep = ~np.isnan(curve) & (curve < 0.5 + tolerance)
    if not keep.any():
        return np.nan
    times, curve = times[keep], curve[keep]
    lower = curve < curve[0]
    if abs(curve[0] - 0.5) < tolerance and lower.any():
        return float((times[0] + times[np.argmax(lower)]) / 2)
    return float(times[0])


@dataclasses.dataclass(frozen=True)
class KMResult(Result):
    """Kaplan-Meier estimate per group (``survival::survfit``).

    ``table``: one row per group and distinct time (events and censorings) with columns
    group, time, n_risk, n_event, n_censor, survival, std_error (Greenwood SE of S, as
    ``summary(survfit)$std.err``), ci_low, ci_high. ``median``: per group n, n_event,
    median, ci_low, ci_high (as ``print(survfit)``; NaN when not reached).
    """

    table: pd.DataFrame
    median: pd.DataFrame
    conf_type: str
    conf_level: float

    @property
    def groups(self) -> list:
        return list(dict.fromkeys(self.table["group"]))

    def at_risk(self, times) -> pd.DataFrame:
        """Numbers at risk at ``times`` and events / censorings up to them (survminer's table).

        n_risk counts patients with time >= t (``summary(fit, times, extend = TRUE)$n.risk``);
        cum_n_event and cum_n_censor count those with time <= t.
        """
        times = numeric_vector(times, "times")
        rows = []
        for group, table in self.table.groupby("group", sort=False):
            table_times = table["time"].to_numpy()[None, :]
            at_or_after = table_times >= times[:, None]
            up_to = table_times <= times[:, None]
            first_at_or_after = np.where(at_or_after.any(axis=1), at_or_after.argmax(axis=1), -1)
            n_risk = np.where(first_at_or_after >= 0, table["n_risk"].to_numpy()[first_at_or_after], 0)
            rows.append(
                pd.DataFrame(
                    {
                        "group": group,
                        "time": times,
                        "n_risk": n_risk.astype(int),
                        "cum_n_event": (up_to * table["n_event"].to_numpy()).sum(axis=1).astype(int),
                        "cum_n_censor": (up_to * table["n_censor"].to_numpy()).sum(axis=1).astype(int),
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)

    def survival_at(self, times) -> pd.DataFrame:
        """S(t) with SE and CI at ``times``, as ``summary(fit, times = times)``.

        n_event counts the events since the previous requested time. Times after a group's
        last follow-up are left out, as R does (``extend = FALSE``).
        """
        times = np.sort(numeric_vector(times, "times"))
        risk = self.at_risk(times)
        rows = []
        for group, table in self.table.groupby("group", sort=False):
            times_in_range = times[times <= table["time"].max()]
            # index of the last table time <= t; -1 before the first time (S = 1, SE = 0)
            last = np.searchsorted(table["time"].to_numpy(), times_in_range, side="right") - 1
            padded = pd.concat(
                [
                    pd.DataFrame({"survival": [1.0], "std_error": [0.0], "ci_low": [1.0], "ci_high": [1.0]}),
                    table[["survival", "std_error", "ci_low", "ci_high"]],
                ],
                ignore_index=True,
            ).iloc[last + 1]
            group_risk = risk[risk["group"] == group].iloc[: times_in_range.size]
            cum_events = group_risk["cum_n_event"].to_numpy()
            rows.append(
                pd.DataFrame(
                    {
                        "group": group,
                        "time": times_in_range,
                        "n_risk": group_risk["n_risk"].to_numpy(),
                        "n_event": np.diff(cum_events, prepend=0),
                        **{column: padded[column].to_numpy() for column in padded.columns},
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)


def kaplan_meier(time, event, group=None, conf_type: str = "log", conf_level: float = 0.95) -> KMResult:
    """Kaplan-Meier survival curves, as R's ``survfit(Surv(time, event) ~ group)``.

    Standard errors are Greenwood's. ``conf_type`` picks R's pointwise CI: "log" (R's
    default, exp(log S +- z SE(log S))), "log-log" (lifelines' default) or "plain"
    (S +- z SE(S)), all truncated to [0, 1] as R. The median and its CI follow
    ``print(survfit)``: the first time the curve (for the CI: the lower and the upper CI
    curve) is <= 0.5, the midpoint of a flat stretch at exactly 0.5.

    A group without events warns and keeps S = 1.

    Examples
    --------
    >>> km = kaplan_meier([5, 8, 12, 12, 20, 25], [1, 1, 0, 1, 1, 0])
    >>> km.table[["time", "n_risk", "n_event", "survival"]].round(3)
       time  n_risk  n_event  survival
    0   5.0       6        1     0.833
    1   8.0       5        1     0.667
    2  12.0       4        1     0.500
    3  20.0       2        1     0.250
    4  25.0       1        0     0.250
    >>> km.median[["n", "n_event", "median"]]
       n  n_event  median
    0  6        4    16.0
    """
    if conf_type not in CONF_TYPES:
        raise InputError(f"'conf_type' must be one of {CONF_TYPES}; got {conf_type!r}.")
    z = _z_value(conf_level)
    time, event, group_series = _survival_data(time, event, group)
    if not event.any():
        warnings.warn(
            f"All {event.size} patients are censored: the survival estimate stays 1 and no median can be estimated.",
            SurvivalWarning,
            stacklevel=2,
        )
    else:
        _warn_groups_without_events(event, group_series, "survival estimate stays 1")
    tables, medians = [], []
    for level, mask in _group_masks(time.size, group_series):
        table = _km_one_group(time[mask], event[mask], z, conf_type)
        times = table["time"].to_numpy()
        tables.append(table.assign(group=level))
        medians.append(
            {
                "group": level,
                "n": int(mask.sum()),
                "n_event": int(event[mask].sum()),
                "median": _first_time_below_half(table["survival"].to_numpy(), times),
                # the lower CI curve reaches 0.5 first, so it gives the lower limit
                "ci_low": _first_time_below_half(table["ci_low"].to_numpy(), times),
                "ci_high": _first_time_below_half(table["ci_high"].to_numpy(), times),
            }
        )
    table = pd.concat(tables, ignore_index=True)
    table = table[["group"] + [column for column in table.columns if column != "group"]]
    return KMResult(table=table, median=pd.DataFrame(medians), conf_type=conf_type, conf_level=conf_level)


# --------------------------------------------------------------------------------------------
# log-rank


@dataclasses.dataclass(frozen=True)
class LogrankResult(Result):
    """``survdiff`` result: chi-square statistic, df, p and the per-group table.

    ``table`` columns: group, n, observed, expected, variance (diagonal of the variance
    of O - E), oe_squared_over_e ((O-E)^2/E) and oe_squared_over_v ((O-E)^2/V), as
    ``print(survdiff)``. With rho != 0 observed and expected are weighted, as in R.
    """

    statistic: float
    df: int
    p: float
    rho: float
    table: pd.DataFrame


def logrank_test(time, event, group, rho: float = 0) -> LogrankResult:
    """Log-rank test for two or more groups, as ``survival::survdiff(..., rho = rho)``.

    Each event time is weighted by S(t-)^rho, S the pooled Kaplan-Meier estimate: rho = 0
    is the log-rank test, rho = 1 the Peto & Peto modification of the Gehan-Wilcoxon test.
    The statistic is (O - E)' V^- (O - E) over the groups with expected > 0, df = their
    number - 1, as survdiff.

    Examples
    --------
    >>> time = [5, 8, 12, 20, 6, 15, 30, 40]
    >>> event = [1, 1, 1, 1, 1, 0, 1, 0]
    >>> result = logrank_test(time, event, ["a"] * 4 + ["b"] * 4)
    >>> round(result.statistic, 3), result.df, round(result.p, 4)
    (2.799, 1, 0.0943)
    """
    time, event, group_series = _survival_data(time, event, group)
    levels = _group_levels(group_series)
    if len(levels) < 2:
        raise InputError(f"The grouping variable 'group' needs at least 2 levels; got {levels}.")
    if not event.any():
        raise InputError(f"'event' has no events among {event.size} patients; a log-rank test needs some.")
    _warn_groups_without_events(event, group_series, "observed count is 0")

    times, inverse = np.unique(time, return_inverse=True)
    codes = pd.Categorical(group_series, categories=levels).codes
    deaths = np.zeros((times.size, len(levels)))
    removed = np.zeros((times.size, len(levels)))
    np.add.at(deaths, (inverse, codes), event)
    np.add.at(removed, (inverse, codes), 1)
    at_risk = removed[::-1].cumsum(axis=0)[::-1]  # per group: time >= t
    n_risk, n_dead = at_risk.sum(axis=1), deaths.sum(axis=1)
    # pooled Kaplan-Meier, left-continuous: the weight at t uses S just before t
    pooled_km = np.concatenate(([1.0], np.cumprod(1 - n_dead / n_risk)[:-1]))
    weight = pooled_km**rho
    share = at_risk / n_risk[:, None]
    observed = (weight[:, None] * deaths).sum(axis=0)
    expected = (weight[:, None] * n_dead[:, None] * share).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(n_risk > 1, weight**2 * n_dead * (n_risk - n_dead) / (n_risk - 1), 0)
    variance = np.einsum("t,tj,tjk->jk", spread, share, np.eye(len(levels))[None] - share[:, None, :])

    informative = expected > 0
    difference = (observed - expected)[informative][1:]
    sub_variance = variance[np.ix_(informative, informative)][1:, 1:]
    df = int(informative.sum()) - 1
    statistic = float(difference @ np.linalg.solve(sub_variance, difference)) if df > 0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        # a group censored before the first event has E = V = 0: NaN, as R's 0/0
        table = pd.DataFrame(
            {
                "group": levels,
                "n": np.bincount(codes, minlength=len(levels)),
                "observed": observed,
                "expected": expected,
                "variance": np.diag(variance),
                "oe_squared_over_e": (observed - expected) ** 2 / expected,
                "oe_squared_over_v": (observed - expected) ** 2 / np.diag(variance),
            }
        )
    return LogrankResult(statistic=statistic, df=df, p=float(sps.chi2.sf(statistic, df)), rho=float(rho), table=table)


def pairwise_logrank(time, event, group, rho: float = 0, p_adjust: str = "BH") -> pd.DataFrame:
    """Log-rank tests between every pair of groups, as ``survminer::pairwise_survdiff``.

    Each pair is tested by :func:`logrank_test` on the patients of those two groups only;
    p values are adjusted over all pairs with R's ``p.adjust`` method ``p_adjust`` ("BH"
    default, "holm", "bonferroni", "hochberg", "hommel", "BY", "none").
    Columns: group_a, group_b, statistic, p, p_adjusted.

    Examples
    --------
    >>> time = [5, 8, 12, 20, 6, 15, 30, 40, 9, 14, 22, 35]
    >>> event = [1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1]
    >>> table = pairwise_logrank(time, event, ["a"] * 4 + ["b"] * 4 + ["c"] * 4, p_adjust="holm")
    >>> table.round(3)
      group_a group_b  statistic      p  p_adjusted
    0       a       b      2.799  0.094       0.283
    1       a       c      2.253  0.133       0.283
    2       b       c      0.291  0.590       0.590
    """
    if p_adjust not in P_ADJUST_METHODS:
        raise InputError(f"'p_adjust' must be one of {list(P_ADJUST_METHODS)}; got {p_adjust!r}.")
    time, event, group_series = _survival_data(time, event, group)
    levels = _group_levels(group_series)
    rows = []
    for group_a, group_b in itertools.combinations(levels, 2):
        pair = group_series.isin([group_a, group_b]).to_numpy()
        with warnings.catch_warnings():
            # a pair whose groups lack events is reported by its p value, not once per pair
            warnings.simplefilter("ignore", SurvivalWarning)
            test = logrank_test(time[pair], event[pair], group_series[pair], rho=rho)
        rows.append({"group_a": group_a, "group_b": group_b, "statistic": test.statistic, "p": test.p})
    result = pd.DataFrame(rows)
    method = P_ADJUST_METHODS[p_adjust]
    result["p_adjusted"] = result["p"] if method is None else multipletests(result["p"], method=method)[1]
    return result
