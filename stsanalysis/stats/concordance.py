"""Concordance indices of a risk score for survival data: Harrell's C, as R's
``survival::concordance(Surv(time, event) ~ risk, reverse = TRUE)``, and Uno's C, the same
with ``timewt = "n/G2", ymax = tau``.

:func:`concordance_index` gives Harrell's C with its infinitesimal-jackknife standard error;
:func:`compare_concordance` contrasts two risk scores on the same patients;
:func:`uno_concordance` weighs each comparable pair by the inverse squared censoring survival
at the earlier event time, which removes C's dependence on the censoring distribution.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from scipy import stats as sps

from ..errors import ConstantVariableWarning, InputError
from ..validation import numeric_vector, same_length
from ._horizon import horizons, prediction_data
from ._result import Result
from .survival import _survival_data, _z_value
from .time_dependent import CensoringKM

__all__ = [
    "ConcordanceResult",
    "ConcordanceComparison",
    "UnoConcordanceResult",
    "concordance_index",
    "compare_concordance",
    "uno_concordance",
]


def _pair_influence(time, event, risk, event_weights=None):
    """Harrell's C and, per patient, its infinitesimal-jackknife influence (as survival).

    Pairs are compared as n x n boolean matrices: fast up to a few thousand patients.

    A pair is comparable when the shorter time is an event; a censoring at the same time
    as an event counts as the longer survivor, two events at the same time are not
    comparable. Concordant: the patient who failed first has the higher risk. Returns
    (c, dfbeta) with survival::concordancefit's dfbeta for Somers' d, halved for C.
    ``event_weights`` (per patient) weigh each pair by the weight of its earlier patient,
    survival's ``timewt`` (the weights are taken as fixed, as survival's variance does).
    """
    shorter = (time[:, None] < time[None, :]) | ((time[:, None] == time[None, :]) & (event[None, :] == 0))
    comparable = shorter & (event[:, None] == 1)
    if event_weights is not None:
        comparable = np.where(comparable, event_weights[:, None], 0.0)
    concordant = comparable * (risk[:, None] > risk[None, :])
    discordant = comparable * (risk[:, None] < risk[None, :])
    tied_risk = comparable * (risk[:, None] == risk[None, :])
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

    Examples
    --------
    >>> result = concordance_index([5, 8, 12, 20], [1, 1, 0, 1], [3, 2, 2.5, 1])
    >>> result.c, round(result.se, 3)
    (0.8, 0.204)
    """
    z = _z_value(conf_level)
    time, event, arrays = _concordance_inputs(time, event, risk=risk)
    c, dfbeta = _pair_influence(time, event, arrays["risk"])
    se = float(np.sqrt(np.sum(dfbeta**2)))
    return ConcordanceResult(
        c=float(c),
        se=se,
        ci_low=float(max(c - z * se, 0.0)),
        ci_high=float(min(c + z * se, 1.0)),
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

    Examples
    --------
    >>> time, event = [5, 8, 12, 20, 6, 15, 30, 40], [1, 1, 1, 1, 1, 0, 1, 0]
    >>> result = compare_concordance(time, event, [8, 6, 5, 2, 7, 3, 1, 0], [1, 2, 3, 4, 5, 6, 7, 8])
    >>> round(result.c_a, 3), round(result.c_b, 3), round(result.difference, 3)
    (1.0, 0.12, 0.88)
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
    if se == 0:  # the scores order every comparable pair alike: nothing to test
        warnings.warn(
            ConstantVariableWarning(
                f"The two risk scores give the same C with no variance of the difference (difference {difference:g}, SE 0): "
                "they order every comparable pair alike, so the p value is NaN.",
                variable="difference in C",
                reason="the two risk scores rank every comparable pair alike",
            ),
            stacklevel=2,
        )
    statistic = difference / se if se > 0 else float("nan")
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


@dataclasses.dataclass(frozen=True)
class UnoConcordanceResult(ConcordanceResult):
    """Uno's C with its standard error, Wald CI (clipped to [0, 1]) and truncation time ``tau``
    (None: no truncation)."""

    tau: float | None


def uno_concordance(time, event, risk, tau: float | None = None, conf_level: float = 0.95) -> UnoConcordanceResult:
    """Uno's C (higher ``risk`` = shorter survival), truncated at ``tau``, with survival's SE.

    Matches ``survival::concordance(Surv(time, event) ~ risk, reverse = TRUE, timewt = "n/G2",
    ymax = tau)``: Harrell's pairs (see :func:`concordance_index`), each weighted by
    1 / G(T_i-)^2 at the earlier patient's event time T_i, with G the Kaplan-Meier estimate of
    censoring (an event tied with a censoring happens first); pairs whose earlier event lies
    after ``tau`` get weight 0. ``se`` is survival's infinitesimal-jackknife SE, which treats the
    weights as fixed; the CI is C +- z * se, clipped to [0, 1]. Choose ``tau`` where enough
    patients remain at risk: the weights grow as G falls.

    Examples
    --------
    >>> time, event = [5, 8, 12, 20, 6, 15, 30, 40], [1, 1, 0, 1, 1, 0, 1, 0]
    >>> result = uno_concordance(time, event, [8, 6, 5, 2, 7, 3, 1, 4], tau=25)
    >>> round(result.c, 3), round(result.se, 3)
    (0.882, 0.136)
    """
    z = _z_value(conf_level)
    time, event = prediction_data(time, event)
    time, event, arrays = _concordance_inputs(time, event, risk=risk)
    if tau is not None:
        tau = float(horizons(tau, time, event)[0])
    km = CensoringKM.fit(time, event)
    weights = 1.0 / km.before_own_time() ** 2
    if tau is not None:
        weights[time > tau] = 0.0
    c, dfbeta = _pair_influence(time, event, arrays["risk"], event_weights=weights)
    se = float(np.sqrt(np.sum(dfbeta**2)))
    return UnoConcordanceResult(
        c=float(c),
        se=se,
        ci_low=float(max(c - z * se, 0.0)),
        ci_high=float(min(c + z * se, 1.0)),
        conf_level=conf_level,
        tau=tau,
    )
