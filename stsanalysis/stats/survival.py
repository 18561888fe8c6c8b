"""Survival analysis: Kaplan-Meier, log-rank, Cox regression and Harrell's C.

Every default follows R's ``survival`` package (3.5):

- :func:`kaplan_meier` -- ``survfit(Surv(time, event) ~ group)`` with ``conf.type = "log"``,
  Greenwood standard errors, medians and their CIs as ``print(survfit)``.
- :func:`logrank_test` -- ``survdiff(..., rho = 0)``; ``rho = 1`` is the Peto & Peto
  modification of the Gehan-Wilcoxon test. :func:`pairwise_logrank` is
  ``survminer::pairwise_survdiff`` (survdiff on each pair of groups, then ``p.adjust``).
- :func:`cox_regression` -- ``coxph(..., ties = "efron")`` with the tests of
  ``summary(coxph)`` and the proportional-hazards test of ``cox.zph(fit)``.
- :func:`concordance_index` -- ``concordance(Surv(time, event) ~ risk, reverse = TRUE)``
  with its infinitesimal-jackknife standard error; :func:`compare_concordance` contrasts two
  risk scores on the same patients.

Event coding is 1 = event (death, progression), 0 = censored, as ``Surv(time, event)``.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.stats.multitest import multipletests

from ..errors import InputError
from ..validation import name_of, numeric_vector, require_columns, same_length
from ._result import Result

__all__ = [
    "KMResult",
    "LogrankResult",
    "CoxResult",
    "ConcordanceResult",
    "ConcordanceComparison",
    "SurvivalWarning",
    "kaplan_meier",
    "logrank_test",
    "pairwise_logrank",
    "cox_regression",
    "concordance_index",
    "compare_concordance",
]

CONF_TYPES = ("log", "log-log", "plain")
TIES = ("efron", "breslow")
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
                f"Group {level!r} has no events ({int(mask.sum())} patients, all censored); "
                f"its {what}.",
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
                [pd.DataFrame({"survival": [1.0], "std_error": [0.0], "ci_low": [1.0], "ci_high": [1.0]}),
                 table[["survival", "std_error", "ci_low", "ci_high"]]],
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
    """
    if conf_type not in CONF_TYPES:
        raise InputError(f"'conf_type' must be one of {CONF_TYPES}; got {conf_type!r}.")
    z = _z_value(conf_level)
    time, event, group_series = _survival_data(time, event, group)
    if not event.any():
        warnings.warn(
            f"All {event.size} patients are censored: the survival estimate stays 1 and no "
            "median can be estimated.",
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
    return LogrankResult(
        statistic=statistic, df=df, p=float(sps.chi2.sf(statistic, df)), rho=float(rho), table=table
    )


def pairwise_logrank(time, event, group, rho: float = 0, p_adjust: str = "BH") -> pd.DataFrame:
    """Log-rank tests between every pair of groups, as ``survminer::pairwise_survdiff``.

    Each pair is tested by :func:`logrank_test` on the patients of those two groups only;
    p values are adjusted over all pairs with R's ``p.adjust`` method ``p_adjust`` ("BH"
    default, "holm", "bonferroni", "hochberg", "hommel", "BY", "none").
    Columns: group_a, group_b, statistic, p, p_adjusted.
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


# --------------------------------------------------------------------------------------------
# Cox regression


def _event_time_terms(time, event, covariates, beta, ties):
    """Per distinct event time: sum of Schoenfeld residuals and the information contribution.

    Efron's approximation removes k/d of the tied deaths' risk at the k-th of d steps;
    Breslow keeps them all. Summed over event times these are the Cox score and information.
    """
    centred = covariates - covariates.mean(axis=0)
    risk = np.exp(centred @ beta)
    event_times = np.unique(time[event == 1])
    scores = np.zeros((event_times.size, covariates.shape[1]))
    informations = np.zeros((event_times.size, covariates.shape[1], covariates.shape[1]))
    for index, event_time in enumerate(event_times):
        in_risk_set = time >= event_time
        dying = in_risk_set & (time == event_time) & (event == 1)
        n_dying = int(dying.sum())
        fractions = np.arange(n_dying) / n_dying if ties == "efron" else np.zeros(n_dying)
        for fraction in fractions:
            weights = risk * (in_risk_set - fraction * dying)
            mean = weights @ centred / weights.sum()
            deviation = centred - mean
            informations[index] += (weights[:, None] * deviation).T @ deviation / weights.sum()
            scores[index] -= mean
        scores[index] += centred[dying].sum(axis=0)
    return event_times, scores, informations


def _zph_test(time, event, covariates, beta, ties, names) -> pd.DataFrame:
    """Proportional-hazards score test of ``cox.zph(fit, transform = "km")`` (survival 3.x).

    Score test, at the fitted coefficients, of adding g(t) * x_j to the model, g = 1 - S(t-)
    of the pooled Kaplan-Meier, centred over the events: one test per covariate and a GLOBAL
    test of all of them.
    """
    km = _km_one_group(time, event, 1.0, "plain")
    event_times, scores, informations = _event_time_terms(time, event, covariates, beta, ties)
    # left-continuous KM: S just before each time, 1 before the first
    before = np.concatenate(([1.0], km["survival"].to_numpy()))

    def one_minus_km(at):
        return 1 - before[np.searchsorted(km["time"].to_numpy(), at, side="left")]

    g_event = one_minus_km(event_times) - one_minus_km(time[event == 1]).mean()
    n_covariates = covariates.shape[1]
    information = np.block(
        [
            [np.einsum("tjk->jk", informations), np.einsum("t,tjk->jk", g_event, informations)],
            [np.einsum("t,tjk->jk", g_event, informations), np.einsum("t,tjk->jk", g_event**2, informations)],
        ]
    )
    score_time = np.concatenate((np.zeros(n_covariates), g_event @ scores))
    rows = []
    for j, name in enumerate(names):
        keep = np.r_[np.arange(n_covariates), n_covariates + j]
        u = score_time[keep]
        rows.append({"term": name, "chisq": float(u @ np.linalg.solve(information[np.ix_(keep, keep)], u)), "df": 1})
    rows.append(
        {"term": "GLOBAL", "chisq": float(score_time @ np.linalg.solve(information, score_time)), "df": n_covariates}
    )
    table = pd.DataFrame(rows)
    table["p"] = sps.chi2.sf(table["chisq"], table["df"])
    return table


@dataclasses.dataclass(frozen=True)
class CoxResult(Result):
    """Cox proportional-hazards fit with the tests of ``summary(coxph)`` and ``cox.zph``.

    ``coefficients``: term, coef, hazard_ratio, std_error, z, p, ci_low, ci_high (Wald,
    of the hazard ratio). Each test (likelihood ratio, Wald, score = log-rank) has its
    statistic, df and p. ``ph_test``: term, chisq, df, p (one row per covariate + GLOBAL).
    ``concordance``: Harrell's C of the linear predictor (:func:`concordance_index`).
    """

    coefficients: pd.DataFrame
    log_likelihood: float
    log_likelihood_null: float
    lr_statistic: float
    lr_df: int
    lr_p: float
    wald_statistic: float
    wald_df: int
    wald_p: float
    score_statistic: float
    score_df: int
    score_p: float
    n: int
    n_event: int
    ties: str
    ph_test: pd.DataFrame
    concordance: "ConcordanceResult"
    linear_predictor: np.ndarray


def cox_regression(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: list[str],
    ties: str = "efron",
    conf_level: float = 0.95,
) -> CoxResult:
    """Cox regression, as ``coxph(Surv(duration, event) ~ covariates, ties = "efron")``.

    Fitted by statsmodels' ``PHReg`` (Newton-Raphson on the partial likelihood), which has
    both Efron's (R's default) and Breslow's (``ties="breslow"``, SAS/SPSS/Stata default)
    handling of tied event times. Covariates must be numeric (code categories as 0/1
    dummies). The score test is evaluated at beta = 0 as ``summary(coxph)$sctest`` (with one
    binary covariate it is the log-rank test). ``ph_test`` is ``cox.zph(fit)``.
    """
    if ties not in TIES:
        raise InputError(f"'ties' must be one of {TIES}; got {ties!r}.")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise InputError("'covariates' must name at least one column.")
    require_columns(data, [duration, event, *covariates], "data")
    time, status, _ = _survival_data(data[duration], data[event], names=(duration, event))
    if not status.any():
        raise InputError(f"The event column '{event}' has no events; a Cox model cannot be fitted.")
    design = np.column_stack([numeric_vector(data[name], name) for name in covariates])
    constant = [name for name, column in zip(covariates, design.T) if np.ptp(column) == 0]
    if constant:
        raise InputError(f"Covariate(s) {constant} are constant; a Cox model cannot estimate their effect.")
    z = _z_value(conf_level)

    model = PHReg(time, design, status=status, ties=ties)
    beta = np.zeros(design.shape[1])
    # Newton-Raphson to R's convergence (coxph stops at a relative log-likelihood change
    # < 1e-9); statsmodels' default stopping rule is looser than the 1e-6 we promise.
    for _ in range(100):
        step = np.linalg.solve(-model.hessian(beta), model.score(beta))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    else:
        warnings.warn(
            "The Cox model did not converge in 100 Newton steps; a coefficient may be infinite "
            "(monotone likelihood, e.g. a covariate level without events).",
            SurvivalWarning,
            stacklevel=2,
        )
    covariance = np.linalg.inv(-model.hessian(beta))
    std_error = np.sqrt(np.diag(covariance))
    z_values = beta / std_error
    coefficients = pd.DataFrame(
        {
            "term": covariates,
            "coef": beta,
            "hazard_ratio": np.exp(beta),
            "std_error": std_error,
            "z": z_values,
            "p": 2 * sps.norm.sf(np.abs(z_values)),
            "ci_low": np.exp(beta - z * std_error),
            "ci_high": np.exp(beta + z * std_error),
        }
    )
    n_covariates = design.shape[1]
    log_likelihood, log_likelihood_null = float(model.loglike(beta)), float(model.loglike(np.zeros(n_covariates)))
    lr_statistic = 2 * (log_likelihood - log_likelihood_null)
    wald_statistic = float(beta @ np.linalg.solve(covariance, beta))
    score_at_zero = model.score(np.zeros(n_covariates))
    score_statistic = float(score_at_zero @ np.linalg.solve(-model.hessian(np.zeros(n_covariates)), score_at_zero))
    linear_predictor = (design - design.mean(axis=0)) @ beta
    return CoxResult(
        coefficients=coefficients,
        log_likelihood=log_likelihood,
        log_likelihood_null=log_likelihood_null,
        lr_statistic=lr_statistic,
        lr_df=n_covariates,
        lr_p=float(sps.chi2.sf(lr_statistic, n_covariates)),
        wald_statistic=wald_statistic,
        wald_df=n_covariates,
        wald_p=float(sps.chi2.sf(wald_statistic, n_covariates)),
        score_statistic=score_statistic,
        score_df=n_covariates,
        score_p=float(sps.chi2.sf(score_statistic, n_covariates)),
        n=int(time.size),
        n_event=int(status.sum()),
        ties=ties,
        ph_test=_zph_test(time, status, design, beta, ties, covariates),
        concordance=concordance_index(time, status, linear_predictor),
        linear_predictor=linear_predictor,
    )


# --------------------------------------------------------------------------------------------
# concordance


def _pair_influence(time, event, risk):
    """Harrell's C and, per patient, its infinitesimal-jackknife influence (as survival).

    Pairs are compared as n x n boolean matrices: fast up to a few thousand patients.

    A pair is comparable when the shorter time is an event; a censoring at the same time
    as an event counts as the longer survivor, two events at the same time are not
    comparable. Concordant: the patient who failed first has the higher risk. Returns
    (c, dfbeta) with survival::concordancefit's dfbeta for Somers' d, halved for C.
    """
    shorter = (time[:, None] < time[None, :]) | ((time[:, None] == time[None, :]) & (event[None, :] == 0))
    comparable = shorter & (event[:, None] == 1)
    concordant = comparable & (risk[:, None] > risk[None, :])
    discordant = comparable & (risk[:, None] < risk[None, :])
    tied_risk = comparable & (risk[:, None] == risk[None, :])
    per_patient = {
        name: matrix.sum(axis=0) + matrix.sum(axis=1)
        for name, matrix in (("concordant", concordant), ("discordant", discordant), ("tied", tied_risk))
    }
    n_pairs = sum(per_patient.values()).sum() / 2
    if n_pairs == 0:
        raise InputError("No comparable pairs: at least one event before another patient's time is needed.")
    somers_d = (per_patient["concordant"].sum() - per_patient["discordant"].sum()) / 2 / n_pairs
    involved = per_patient["concordant"] + per_patient["discordant"] + per_patient["tied"]
    dfbeta = (per_patient["concordant"] - per_patient["discordant"] - somers_d * involved) / (2 * n_pairs)
    return (somers_d + 1) / 2, dfbeta


@dataclasses.dataclass(frozen=True)
class ConcordanceResult(Result):
    """Harrell's C with its standard error and Wald CI (clipped to [0, 1])."""

    c: float
    se: float
    ci_low: float
    ci_high: float
    conf_level: float


def _concordance_inputs(time, event, **risks):
    time, event, _ = _survival_data(time, event)
    arrays = {name: numeric_vector(values, name) for name, values in risks.items()}
    same_length(time=time, **arrays)
    if not event.any():
        raise InputError(f"'event' has no events among {event.size} patients; the C-index is undefined.")
    return time, event, arrays


def concordance_index(time, event, risk, conf_level: float = 0.95) -> ConcordanceResult:
    """Harrell's C (higher ``risk`` = shorter survival) with survival's standard error.

    Matches ``survival::concordance(Surv(time, event) ~ risk, reverse = TRUE)``: ties in
    risk count 1/2, pairs tied on an event time are not comparable, a censoring tied with an
    event time outlives it. ``se`` is ``sqrt(fit$var)``, the infinitesimal-jackknife SE;
    the CI is C +- z * se, clipped to [0, 1]. (lifelines' ``concordance_index`` expects
    predicted survival times: it equals this C when given ``-risk``.)
    """
    z = _z_value(conf_level)
    time, event, arrays = _concordance_inputs(time, event, risk=risk)
    c, dfbeta = _pair_influence(time, event, arrays["risk"])
    se = float(np.sqrt(np.sum(dfbeta**2)))
    return ConcordanceResult(
        c=float(c), se=se, ci_low=float(max(c - z * se, 0.0)), ci_high=float(min(c + z * se, 1.0)),
        conf_level=conf_level,
    )


@dataclasses.dataclass(frozen=True)
class ConcordanceComparison(Result):
    """Difference of two C-indices (a - b) on the same patients."""

    c_a: float
    c_b: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p: float
    method: str
    n_boot: int
    conf_level: float


def compare_concordance(
    time,
    event,
    risk_a,
    risk_b,
    method: str = "u-statistic",
    n_boot: int = 2000,
    seed: int | None = None,
    conf_level: float = 0.95,
) -> ConcordanceComparison:
    """Compare Harrell's C of two risk scores on the same patients (C_a - C_b).

    ``method="u-statistic"`` (default) uses the joint infinitesimal-jackknife variance of
    the two C's, as ``concordance(fit_a, fit_b)`` in survival (its ``var`` matrix) followed
    by the contrast (1, -1): z = difference / se, two-sided normal p, Wald CI.
    ``method="bootstrap"`` resamples patients ``n_boot`` times (``seed`` for
    reproducibility): percentile CI, and z = difference / SD of the bootstrap differences
    with a normal p (the convention of pROC's bootstrap ``roc.test``).
    """
    if method not in ("u-statistic", "bootstrap"):
        raise InputError(f"'method' must be 'u-statistic' or 'bootstrap'; got {method!r}.")
    z = _z_value(conf_level)
    time, event, arrays = _concordance_inputs(time, event, risk_a=risk_a, risk_b=risk_b)
    c_a, dfbeta_a = _pair_influence(time, event, arrays["risk_a"])
    c_b, dfbeta_b = _pair_influence(time, event, arrays["risk_b"])
    difference = float(c_a - c_b)
    if method == "u-statistic":
        se = float(np.sqrt(np.sum((dfbeta_a - dfbeta_b) ** 2)))
        ci_low, ci_high, n_boot = difference - z * se, difference + z * se, 0
    else:
        if int(n_boot) < 2:
            raise InputError(f"'n_boot' must be at least 2; got {n_boot!r}.")
        rng = np.random.default_rng(seed)
        differences = np.empty(int(n_boot))
        for index in range(differences.size):
            sample = rng.integers(0, time.size, time.size)
            differences[index] = (
                _pair_influence(time[sample], event[sample], arrays["risk_a"][sample])[0]
                - _pair_influence(time[sample], event[sample], arrays["risk_b"][sample])[0]
            )
        se = float(np.std(differences, ddof=1))
        alpha = 1 - conf_level
        ci_low, ci_high = (float(value) for value in np.quantile(differences, [alpha / 2, 1 - alpha / 2]))
    statistic = difference / se
    return ConcordanceComparison(
        c_a=float(c_a),
        c_b=float(c_b),
        difference=difference,
        se=se,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        statistic=float(statistic),
        p=float(2 * sps.norm.sf(abs(statistic))),
        method=method,
        n_boot=int(n_boot),
        conf_level=conf_level,
    )
