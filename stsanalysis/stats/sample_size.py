"""Minimum sample size for developing a prediction model (Riley et al., BMJ 2020;368:m441).

Binary outcomes (logistic regression), four criteria:

* ``overall_risk``: the overall risk (intercept) within +- ``margin_of_error``:
  n = (1.96 / margin)^2 * prevalence * (1 - prevalence);
* ``mape``: mean absolute prediction error at most ``mape``, by the formula of van Smeden
  et al. (2019), ln MAPE = -0.508 + 0.259 ln(prevalence) + 0.504 ln(P) - 0.544 ln(n);
* ``shrinkage``: expected uniform shrinkage of the predictor effects >= S (0.9):
  n = P / ((S - 1) ln(1 - R2_CS / S));
* ``optimism``: apparent and adjusted Nagelkerke R2 differ by <= ``optimism`` (0.05): the
  same formula with S = R2_CS / (R2_CS + optimism * max R2_CS), max R2_CS = 1 -
  (prevalence^prevalence (1 - prevalence)^(1 - prevalence))^2.

Time-to-event outcomes (Cox regression), three: ``shrinkage`` and ``optimism`` as above with
max R2_CS from the null log-likelihood E ln(E / n) - E of a reference cohort of 10,000 with E =
ceiling(rate * mean follow-up * 10,000) events (as pmsampsize computes it), and
``overall_risk``: the upper 95 % limit of the risk by ``timepoint``, 1 - exp(-(rate + 1.96
sqrt(rate / person-time)) t), within ``margin_of_error`` of the risk 1 - exp(-rate t).

The shrinkage, optimism and binary overall-risk criteria are those of R's ``pmsampsize``
(1.1.3; not installed: tests/reference/sample_size.R writes them by hand), with its 1.96 and
rounding of each n up to an integer. pmsampsize has no MAPE criterion (``mape=None`` drops
it here) and for time-to-event outcomes only reports the risk interval at the n of the other
criteria; here the n it needs is computed too (it is the smaller in pmsampsize's examples).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import integrate
from scipy import stats as scipy_stats

from ..errors import InputError
from ._result import Result

__all__ = ["RileySampleSize", "cox_snell_r2_from_c", "riley_sample_size"]

OUTCOMES = ("binary", "survival")
_DESCRIPTIONS = {
    "overall_risk": "precise overall risk",
    "mape": "small mean absolute prediction error",
    "shrinkage": "small overfitting (shrinkage)",
    "optimism": "small optimism in R²",
}
#: pmsampsize's reference cohort for the maximum R2 of a time-to-event model.
_SURVIVAL_REFERENCE_N = 10_000


@dataclasses.dataclass(frozen=True, repr=False)
class RileySampleSize(Result):
    """Minimum sample size for developing a prediction model, per criterion and overall.

    ``criteria`` is a table (criterion, description, n, events, epp); ``n_required`` is its
    largest n, set by ``binding_criterion``, with ``events_required`` expected events
    (n * prevalence, or n * rate * mean follow-up) and ``epp`` events per predictor
    parameter. ``r2_cox_snell`` is the anticipated R2 used (given, or from the C-statistic);
    ``shrinkage_expected`` the uniform shrinkage expected at ``n_required`` (the larger of
    the target and the optimism criterion's, as pmsampsize). For time-to-event outcomes
    ``risk``/``risk_ci_low``/``risk_ci_high`` are the risk by ``timepoint`` and its 95 %
    interval with the person-time of ``n_required`` patients.
    """

    outcome: str
    parameters: int
    r2_cox_snell: float
    max_r2_cox_snell: float
    r2_nagelkerke: float
    n_required: int
    events_required: float
    epp: float
    binding_criterion: str
    shrinkage_expected: float
    prevalence: float | None
    c_statistic: float | None
    rate: float | None
    timepoint: float | None
    mean_follow_up: float | None
    risk: float | None
    risk_ci_low: float | None
    risk_ci_high: float | None
    criteria: pd.DataFrame = dataclasses.field(metadata={"table": True})

    def sentence(self, n_available: int, events_available: int | None = None) -> str:
        """Whether a cohort of ``n_available`` patients (with ``events_available`` events)
        suffices, in one plain sentence that names the binding criterion.

        Examples
        --------
        >>> result = riley_sample_size("binary", parameters=24, prevalence=0.174, r2_cox_snell=0.288, mape=None)
        >>> result.sentence(500, 87)
        'A cohort of 500 patients with 87 events is too small for a model with 24 predictor parameters: the criteria of Riley et al. (BMJ 2020) require at least 662 patients with 116 events (4.8 events per parameter), set by small optimism in R².'
        """
        if int(n_available) != n_available or n_available < 0:
            raise InputError(f"'n_available' must be a number of patients; got {n_available!r}.")
        if events_available is not None and (int(events_available) != events_available or not 0 <= events_available <= n_available):
            raise InputError(f"'events_available' must be a number of events between 0 and n_available; got {events_available!r}.")
        events_needed = math.ceil(self.events_required - 1e-9)
        cohort = f"A cohort of {n_available} patients" + ("" if events_available is None else f" with {events_available} events")
        requirement = (
            f"the criteria of Riley et al. (BMJ 2020) require at least {self.n_required} patients with {events_needed} events "
            f"({self.epp:.1f} events per parameter), set by {_DESCRIPTIONS[self.binding_criterion]}"
        )
        enough_patients = n_available >= self.n_required
        enough_events = events_available is None or events_available >= events_needed
        if enough_patients and enough_events:
            return f"{cohort} suffices for a model with {self.parameters} predictor parameters: {requirement}."
        if enough_patients:
            return (
                f"{cohort} has enough patients but too few events for a model with {self.parameters} predictor parameters: {requirement}."
            )
        return f"{cohort} is too small for a model with {self.parameters} predictor parameters: {requirement}."


def _n_for_shrinkage(parameters: int, r2: float, shrinkage: float) -> int:
    """Riley et al. (2019) equation: n = P / ((S - 1) ln(1 - R2_CS / S)), rounded up."""
    return math.ceil(parameters / ((shrinkage - 1) * math.log(1 - r2 / shrinkage)))


def max_r2_binary(prevalence: float) -> float:
    """The largest Cox-Snell R² a binary model can reach at ``prevalence``: 1 - L0^(2/n) (Riley et al. 2020).

    >>> round(max_r2_binary(0.174), 4)
    0.6032
    """
    null_log_likelihood = prevalence * math.log(prevalence) + (1 - prevalence) * math.log(1 - prevalence)
    return 1 - math.exp(2 * null_log_likelihood)


def _max_r2_survival(rate: float, mean_follow_up: float) -> float:
    # pmsampsize_surv: E ln(E / n) - E for n = 10,000 and E rounded up
    events = math.ceil(rate * mean_follow_up * _SURVIVAL_REFERENCE_N)
    null_log_likelihood = events * math.log(events / _SURVIVAL_REFERENCE_N) - events
    return 1 - math.exp(2 * null_log_likelihood / _SURVIVAL_REFERENCE_N)


def cox_snell_r2_from_c(c_statistic: float, prevalence: float) -> float:
    """Anticipated Cox-Snell R2 of a logistic model with the given C-statistic (Riley, Van
    Calster & Collins, Stat Med 2021), as pmsampsize's ``cstatistic`` option.

    The linear predictor is normal with unit variance in events and non-events, means
    sqrt(2) * qnorm(C) apart, so that its C-statistic is C; the logistic model of the outcome
    on it is then exact, and its Cox-Snell R2 in an infinite sample is 1 - exp(-2 I), I the
    mutual information of outcome and predictor, integrated numerically here. pmsampsize
    instead fits the model to one simulated sample of 1,000,000 (seed 123456) and rounds to 4
    decimals, which differs from this by its Monte Carlo error (about 1e-3).

    Examples
    --------
    >>> round(cox_snell_r2_from_c(0.8, 0.2), 4)
    0.1827
    """
    if not 0.5 < c_statistic < 1:
        raise InputError(f"'c_statistic' must be between 0.5 and 1 (exclusive); got {c_statistic!r}.")
    separation = math.sqrt(2) * scipy_stats.norm.ppf(c_statistic)
    intercept = math.log(prevalence / (1 - prevalence)) - separation**2 / 2

    def event_loss(x: float) -> float:  # -log P(event | x), weighted by the events' density
        return scipy_stats.norm.pdf(x - separation) * np.logaddexp(0, -(intercept + separation * x))

    def non_event_loss(x: float) -> float:
        return scipy_stats.norm.pdf(x) * np.logaddexp(0, intercept + separation * x)

    options = {"epsabs": 1e-14, "epsrel": 1e-12, "limit": 200}
    conditional_entropy = (
        prevalence * integrate.quad(event_loss, -np.inf, np.inf, **options)[0]
        + (1 - prevalence) * integrate.quad(non_event_loss, -np.inf, np.inf, **options)[0]
    )
    entropy = -(prevalence * math.log(prevalence) + (1 - prevalence) * math.log(1 - prevalence))
    return 1 - math.exp(-2 * (entropy - conditional_entropy))


def _n_for_mape(parameters: int, prevalence: float, mape: float) -> int:
    """van Smeden et al. (2019) MAPE formula solved for n, rounded up."""
    log_n = (-0.508 + 0.259 * math.log(prevalence) + 0.504 * math.log(parameters) - math.log(mape)) / 0.544
    return math.ceil(math.exp(log_n))


def _n_for_risk_at_timepoint(rate: float, timepoint: float, mean_follow_up: float, margin: float) -> int:
    """Smallest n whose upper 95 % limit of the risk by ``timepoint`` is within ``margin`` of it."""
    floor = math.exp(-rate * timepoint) - margin
    if floor <= 0:
        return 1
    largest_rate_error = -math.log(floor) / timepoint - rate
    return max(1, math.ceil(rate * (1.96 / largest_rate_error) ** 2 / mean_follow_up))


def _check_fraction(name: str, value, low: float = 0.0, high: float = 1.0) -> float:
    try:
        valid = low < float(value) < high and not math.isnan(float(value))
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise InputError(f"'{name}' must be a number between {low:g} and {high:g} (exclusive); got {value!r}.")
    return float(value)


def _check_positive(name: str, value) -> float:
    try:
        valid = float(value) > 0 and math.isfinite(float(value))
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise InputError(f"'{name}' must be a positive number; got {value!r}.")
    return float(value)


def _check_design(outcome: str, parameters) -> None:
    if outcome not in OUTCOMES:
        raise InputError(f"'outcome' must be one of {OUTCOMES}; got {outcome!r}.")
    if isinstance(parameters, bool) or not isinstance(parameters, (int, np.integer)) or parameters < 1:
        raise InputError(f"'parameters' must be a positive integer (the number of candidate predictor parameters); got {parameters!r}.")


def _outcome_inputs(outcome: str, prevalence, rate, timepoint, mean_follow_up) -> tuple:
    """The outcome's inputs, checked: prevalence for binary outcomes, rate, timepoint and mean
    follow-up for time-to-event outcomes (the others are left as given)."""
    if outcome == "binary":
        return _check_fraction("prevalence", prevalence), rate, timepoint, mean_follow_up
    checked = (
        _check_positive(name, value) for name, value in (("rate", rate), ("timepoint", timepoint), ("mean_follow_up", mean_follow_up))
    )
    return (prevalence, *checked)


def _anticipated_r2(outcome: str, r2_cox_snell, c_statistic, prevalence, max_r2: float, shrinkage: float) -> float:
    if (r2_cox_snell is None) == (c_statistic is None):
        raise InputError("Give exactly one of 'r2_cox_snell' and 'c_statistic' (the anticipated model performance).")
    if c_statistic is None:
        r2 = _check_fraction("r2_cox_snell", r2_cox_snell)
    elif outcome != "binary":
        raise InputError("'c_statistic' is available for binary outcomes only (Riley et al. 2021); give 'r2_cox_snell'.")
    else:
        r2 = cox_snell_r2_from_c(float(c_statistic), prevalence)
    if r2 >= max_r2 or r2 >= shrinkage:
        raise InputError(
            f"The anticipated Cox-Snell R² ({r2:.4g}) must be below its maximum for this outcome ({max_r2:.4g}) and below 'shrinkage' ({shrinkage:g})."
        )
    return r2


def _criteria_table(n: dict[str, int], events_per_patient: float, parameters: int) -> pd.DataFrame:
    """One row per criterion (in the BMJ paper's order): its n, expected events and EPP."""
    order = [name for name in ("overall_risk", "mape", "shrinkage", "optimism") if name in n]
    return pd.DataFrame(
        {
            "criterion": order,
            "description": [_DESCRIPTIONS[name] for name in order],
            "n": [n[name] for name in order],
            "events": [n[name] * events_per_patient for name in order],
            "epp": [n[name] * events_per_patient / parameters for name in order],
        }
    )


def _risk_interval(rate: float, timepoint: float, person_time: float) -> tuple[float, float, float]:
    """Risk by ``timepoint`` and its 95 % interval from the rate's, rate +- 1.96 sqrt(rate / person-time)."""
    error = 1.96 * math.sqrt(rate / person_time)
    risk, low, high = (1 - math.exp(-value * timepoint) for value in (rate, rate - error, rate + error))
    return risk, low, high


def riley_sample_size(
    outcome: str = "binary",
    *,
    parameters: int,
    r2_cox_snell: float | None = None,
    c_statistic: float | None = None,
    prevalence: float | None = None,
    rate: float | None = None,
    timepoint: float | None = None,
    mean_follow_up: float | None = None,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    margin_of_error: float = 0.05,
    mape: float | None = 0.05,
) -> RileySampleSize:
    """Minimum sample size to develop a prediction model, by the criteria of Riley et al.

    ``outcome="binary"`` needs ``prevalence``; ``"survival"`` needs the overall event
    ``rate`` (events per person-time), ``mean_follow_up`` and the ``timepoint`` of interest
    (same time unit). ``parameters`` counts candidate predictor parameters (a categorical
    predictor with k levels counts k - 1; a spline its degrees of freedom). The anticipated
    model performance is ``r2_cox_snell`` or, for binary outcomes, ``c_statistic``
    (:func:`cox_snell_r2_from_c`). Formulas and their sources are in the module docstring;
    as R ``pmsampsize(type = "b", csrsquared = , parameters = , prevalence = )`` (or
    ``type = "s", rate = , timepoint = , meanfup = ``) for the criteria pmsampsize has.

    Examples
    --------
    >>> result = riley_sample_size("binary", parameters=24, prevalence=0.174, r2_cox_snell=0.288)
    >>> result.criteria[["criterion", "n"]].to_dict("list")
    {'criterion': ['overall_risk', 'mape', 'shrinkage', 'optimism'], 'n': [221, 801, 623, 662]}
    >>> result.n_required, result.binding_criterion, round(result.events_required, 1)
    (801, 'mape', 139.4)
    """
    _check_design(outcome, parameters)
    shrinkage = _check_fraction("shrinkage", shrinkage)
    optimism = _check_fraction("optimism", optimism)
    margin_of_error = _check_fraction("margin_of_error", margin_of_error)
    prevalence, rate, timepoint, mean_follow_up = _outcome_inputs(outcome, prevalence, rate, timepoint, mean_follow_up)
    if outcome == "binary":
        max_r2, events_per_patient = max_r2_binary(prevalence), prevalence
    else:
        max_r2, events_per_patient = _max_r2_survival(rate, mean_follow_up), rate * mean_follow_up
    r2 = _anticipated_r2(outcome, r2_cox_snell, c_statistic, prevalence, max_r2, shrinkage)
    optimism_shrinkage = r2 / (r2 + optimism * max_r2)
    n = {
        "shrinkage": _n_for_shrinkage(int(parameters), r2, shrinkage),
        "optimism": _n_for_shrinkage(int(parameters), r2, optimism_shrinkage),
    }
    if outcome == "binary":
        n["overall_risk"] = math.ceil((1.96 / margin_of_error) ** 2 * prevalence * (1 - prevalence))
        if mape is not None:
            n["mape"] = _n_for_mape(int(parameters), prevalence, _check_fraction("mape", mape))
    else:
        n["overall_risk"] = _n_for_risk_at_timepoint(rate, timepoint, mean_follow_up, margin_of_error)
    criteria = _criteria_table(n, events_per_patient, int(parameters))
    binding = str(criteria.loc[criteria["n"].idxmax(), "criterion"])
    n_required = n[binding]
    risk, risk_low, risk_high = (None,) * 3 if outcome == "binary" else _risk_interval(rate, timepoint, mean_follow_up * n_required)
    return RileySampleSize(
        outcome=outcome,
        parameters=int(parameters),
        r2_cox_snell=r2,
        max_r2_cox_snell=max_r2,
        r2_nagelkerke=r2 / max_r2,
        n_required=n_required,
        events_required=n_required * events_per_patient,
        epp=n_required * events_per_patient / parameters,
        binding_criterion=binding,
        shrinkage_expected=max(shrinkage, optimism_shrinkage),
        prevalence=prevalence,
        c_statistic=None if c_statistic is None else float(c_statistic),
        rate=rate,
        timepoint=timepoint,
        mean_follow_up=mean_follow_up,
        risk=risk,
        risk_ci_low=risk_low,
        risk_ci_high=risk_high,
        criteria=criteria,
    )
