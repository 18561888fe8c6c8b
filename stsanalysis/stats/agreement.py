"""Agreement of two ratings of the same patients.

Categorical ratings (e.g. biopsy vs surgical grade): the cross-tabulation, accuracy with its
exact CI and Cohen's kappa, as ``psych::cohen.kappa`` (:func:`agreement_table`). Continuous
measurements (e.g. tumour volume by two readers): Bland-Altman bias and limits of
agreement with exact and approximate CIs and the proportional-bias regression
(:func:`bland_altman`); :func:`stsanalysis.plotting.agreement.bland_altman_figure` draws it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import optimize, special
from scipy import stats as sps

from ..errors import InputError
from ..validation import name_of, numeric_vector, same_length
from ._conf_level import check_conf_level
from ._result import Result

__all__ = ["AgreementResult", "BlandAltmanResult", "agreement_table", "bland_altman"]


@dataclasses.dataclass(frozen=True, repr=False)
class AgreementResult(Result):
    """Agreement of two categorical ratings (e.g. biopsy vs surgical grade).

    ``table`` is the cross-tabulation (rows = reference, columns = test). ``accuracy`` is
    the proportion on the diagonal with its exact Clopper-Pearson interval (R
    ``binom.test``); ``kappa`` is Cohen's unweighted kappa with the large-sample standard
    error of Fleiss, Cohen & Everitt (1969) and a normal interval clipped to [-1, 1], as
    ``psych::cohen.kappa``.
    """

    table: pd.DataFrame
    n: int
    n_agree: int
    accuracy: float
    accuracy_ci_low: float
    accuracy_ci_high: float
    kappa: float
    kappa_se: float
    kappa_ci_low: float
    kappa_ci_high: float


def _cohen_kappa(proportions: np.ndarray, n: int) -> tuple[float, float]:
    """Cohen's kappa and its standard error (Fleiss, Cohen & Everitt 1969) from cell proportions."""
    row = proportions.sum(axis=1)
    column = proportions.sum(axis=0)
    observed = np.trace(proportions)
    chance = float(row @ column)
    if np.isclose(chance, 1.0):  # both raters used a single category: kappa is 0/0 (NA in psych)
        return np.nan, np.nan
    kappa = (observed - chance) / (1 - chance)
    diagonal = np.diag(proportions) * ((1 - chance) - (row + column) * (1 - observed)) ** 2
    # Off-diagonal cells weighted by (p_.i + p_j.)^2: column margin of i plus row margin of j.
    margins = column[:, None] + row[None, :]
    off_diagonal = proportions * margins**2
    off_diagonal_sum = off_diagonal.sum() - np.trace(off_diagonal)
    variance = (diagonal.sum() + (1 - observed) ** 2 * off_diagonal_sum - (observed * chance - 2 * chance + observed) ** 2) / (
        n * (1 - chance) ** 4
    )
    return float(kappa), float(np.sqrt(max(variance, 0.0)))


def agreement_table(reference, test, labels=None, *, conf_level: float = 0.95) -> AgreementResult:
    """Cross-tabulation, accuracy and Cohen's kappa of two ratings of the same patients.

    ``labels`` fixes the order of the categories (default: the sorted union of both);
    values outside ``labels`` are refused. Pairs with a missing rating are refused (fix
    or drop them first, the table must add up to the cohort).

    Examples
    --------
    >>> result = agreement_table(["low", "low", "high", "high", "high", "low"], ["low", "high", "high", "high", "high", "low"])
    >>> result.n_agree, round(result.accuracy, 3), round(result.kappa, 3)
    (5, 0.833, 0.667)
    """
    reference = pd.Series(reference).reset_index(drop=True)
    test = pd.Series(test).reset_index(drop=True)
    if len(reference) != len(test):
        raise InputError(f"'reference' and 'test' must have the same length; got {len(reference)} and {len(test)}.")
    for name, series in (("reference", reference), ("test", test)):
        if series.isna().any():
            raise InputError(
                f"'{name}' has {int(series.isna().sum())} missing rating(s) at positions {list(series.index[series.isna()][:5])}."
            )
    if labels is None:
        labels = sorted(set(reference) | set(test))
    else:
        labels = list(labels)
        unknown = sorted((set(reference) | set(test)) - set(labels), key=str)
        if unknown:
            raise InputError(f"Ratings {unknown} are not among 'labels' {labels}.")
    if len(labels) < 2:
        raise InputError(f"Agreement needs at least 2 categories; got {labels}.")
    table = pd.crosstab(pd.Categorical(reference, categories=labels), pd.Categorical(test, categories=labels), dropna=False)
    table.index.name, table.columns.name = "reference", "test"
    counts = table.to_numpy()
    n = int(counts.sum())
    n_agree = int(np.trace(counts))
    accuracy_ci = sps.binomtest(n_agree, n).proportion_ci(confidence_level=conf_level, method="exact")
    kappa, kappa_se = _cohen_kappa(counts / n, n)
    half_width = sps.norm.ppf((1 + conf_level) / 2) * kappa_se
    return AgreementResult(
        table=table,
        n=n,
        n_agree=n_agree,
        accuracy=n_agree / n,
        accuracy_ci_low=float(accuracy_ci.low),
        accuracy_ci_high=float(accuracy_ci.high),
        kappa=kappa,
        kappa_se=kappa_se,
        kappa_ci_low=float(max(-1.0, kappa - half_width)),
        kappa_ci_high=float(min(1.0, kappa + half_width)),
    )


# --------------------------------------------------------------------------- Bland-Altman

#: The limits of agreement are bias +- LOA_Z * SD: 95 % of the differences (Bland & Altman
#: round it to 1.96).
LOA_Z = float(sps.norm.ppf(0.975))
# Gauss-Legendre nodes for the integral over the standardised error of the mean, on [0, 10]
# in 10 panels (the normal density beyond 10 is below 1e-22).
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(40)
_PANELS = np.arange(10.0)
_U = ((_NODES[None, :] + 1) / 2 + _PANELS[:, None]).ravel()
_U_WEIGHTS = np.tile(_WEIGHTS / 2, _PANELS.size)


@dataclasses.dataclass(frozen=True, repr=False)
class BlandAltmanResult(Result):
    """Bland-Altman analysis of two measurements ``a`` and ``b`` of the same patients.

    ``difference = a - b`` and ``mean = (a + b) / 2`` per patient (``points``, for the
    figure). ``bias`` is the mean difference with its t interval; the limits of agreement
    ``lower_limit``/``upper_limit`` are bias -+ ``loa_z`` * ``sd_difference`` (95 % of the
    differences). Their CIs: exact (Carkeet 2015, the limits taken as a pair: two-sided
    normal tolerance factors at confidence (1 -+ conf_level) / 2), and ``*_approx``, Bland &
    Altman (1999): limit +- t * sqrt(3 s^2 / n). ``slope``, ``intercept`` and their SEs and
    p values are R's ``lm(difference ~ mean)``: a slope different from 0 means the
    disagreement grows (or shrinks) with the size of the measurement (proportional bias).
    """

    n: int
    conf_level: float
    bias: float
    sd_difference: float
    bias_se: float
    bias_ci_low: float
    bias_ci_high: float
    loa_z: float
    lower_limit: float
    upper_limit: float
    lower_limit_ci_low: float
    lower_limit_ci_high: float
    upper_limit_ci_low: float
    upper_limit_ci_high: float
    lower_limit_ci_low_approx: float
    lower_limit_ci_high_approx: float
    upper_limit_ci_low_approx: float
    upper_limit_ci_high_approx: float
    tolerance_factor_inner: float
    tolerance_factor_outer: float
    intercept: float
    intercept_se: float
    intercept_p: float
    slope: float
    slope_se: float
    slope_p: float
    r_squared: float
    points: pd.DataFrame = dataclasses.field(metadata={"table": True})

    def limits_table(self) -> pd.DataFrame:
        """Bias and limits as a tidy table: quantity, estimate, ci_low, ci_high, method."""
        rows = [("bias", self.bias, self.bias_ci_low, self.bias_ci_high, "t")]
        for limit in ("lower_limit", "upper_limit"):
            estimate = getattr(self, limit)
            rows.append((limit, estimate, getattr(self, f"{limit}_ci_low"), getattr(self, f"{limit}_ci_high"), "exact"))
            rows.append((limit, estimate, getattr(self, f"{limit}_ci_low_approx"), getattr(self, f"{limit}_ci_high_approx"), "approximate"))
        return pd.DataFrame(rows, columns=["quantity", "estimate", "ci_low", "ci_high", "method"])


def _half_width(u: np.ndarray, content: float) -> np.ndarray:
    """r with Phi(u + r) - Phi(u - r) = content for each u >= 0: the half-width, in SDs, of
    the interval around a mean displaced by u that holds ``content`` of a normal population."""
    low = np.full(u.shape, sps.norm.ppf((1 + content) / 2))
    high = u + low
    for _ in range(200):  # bisection to machine precision, then Newton polishes
        middle = (low + high) / 2
        too_small = special.ndtr(u + middle) - special.ndtr(u - middle) < content
        low, high = np.where(too_small, middle, low), np.where(too_small, high, middle)
        if np.all(high - low <= 4 * np.finfo(float).eps * high):
            break
    half = (low + high) / 2
    for _ in range(2):
        error = special.ndtr(u + half) - special.ndtr(u - half) - content
        half = half - error / (sps.norm.pdf(u + half) + sps.norm.pdf(u - half))
    return half


def tolerance_factor(n: int, content: float, confidence: float) -> float:
    """Exact two-sided normal tolerance factor k: mean +- k * SD of n observations covers at
    least ``content`` of the population with probability ``confidence``.

    Solves confidence = 2 * integral_0^inf phi(u) P(chi2_{n-1} > (n - 1) r(u / sqrt(n))^2 / k^2) du,
    r as in :func:`_half_width` (Odeh 1978; the factors of Carkeet 2015's tables), by
    40-point Gauss-Legendre quadrature on ten unit panels and Brent's method for k.

    Examples
    --------
    >>> round(tolerance_factor(10, 0.95, 0.95), 4)
    3.3934
    """
    df = n - 1
    radius_squared = _half_width(_U / np.sqrt(n), content) ** 2
    density = 2 * _U_WEIGHTS * sps.norm.pdf(_U)

    def coverage_confidence(k: float) -> float:
        return float(density @ special.chdtrc(df, df * radius_squared / k**2)) - confidence

    high = 10.0
    while coverage_confidence(high) < 0:
        high *= 4
    return float(optimize.brentq(coverage_confidence, 1e-8, high, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500))


def _proportional_bias(mean: np.ndarray, difference: np.ndarray) -> dict[str, float]:
    """Intercept, slope, their SEs and two-sided t-test p values and R^2 of lm(difference ~ mean)."""
    n = mean.size
    centred = mean - mean.mean()
    sxx = float(centred @ centred)
    if sxx == 0:  # every pair has the same mean: lm gives NA for the slope
        nan = float("nan")
        return dict.fromkeys(("intercept", "intercept_se", "intercept_p", "slope", "slope_se", "slope_p", "r_squared"), nan)
    slope = float(centred @ (difference - difference.mean())) / sxx
    intercept = float(difference.mean() - slope * mean.mean())
    residuals = difference - intercept - slope * mean
    residual_variance = float(residuals @ residuals) / (n - 2)
    total = float(np.sum((difference - difference.mean()) ** 2))
    slope_se = np.sqrt(residual_variance / sxx)
    intercept_se = np.sqrt(residual_variance * (1 / n + mean.mean() ** 2 / sxx))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_slope, t_intercept = np.float64(slope) / slope_se, np.float64(intercept) / intercept_se
    return {
        "intercept": intercept,
        "intercept_se": float(intercept_se),
        "intercept_p": float(2 * sps.t.sf(abs(t_intercept), n - 2)),
        "slope": slope,
        "slope_se": float(slope_se),
        "slope_p": float(2 * sps.t.sf(abs(t_slope), n - 2)),
        "r_squared": 1 - float(residuals @ residuals) / total if total > 0 else float("nan"),
    }


def bland_altman(a, b, conf_level: float = 0.95) -> BlandAltmanResult:
    """Bland-Altman bias, 95 % limits of agreement with exact and approximate CIs, and
    the proportional-bias regression, for two measurements ``a`` and ``b`` of the same patients.

    Differences are ``a - b``. Bias: mean difference, CI bias +- t_{n-1} * s / sqrt(n).
    Limits: bias -+ z * s, z = qnorm(0.975) = 1.95996 (Bland & Altman write 1.96). Exact CIs
    of the limits (Carkeet 2015, limits considered as a pair): [bias + k_inner * s, bias +
    k_outer * s] for the upper limit and the mirror image for the lower, where k are the
    exact two-sided tolerance factors for content 0.95 at confidence (1 - conf_level) / 2
    (inner) and (1 + conf_level) / 2 (outer) (:func:`tolerance_factor`). Approximate CIs
    (Bland & Altman 1999): limit +- t_{n-1} * sqrt(3 s^2 / n). The regression of the
    difference on the pair mean is R's ``lm(d ~ m)``. No R package is installed for the limits'
    CIs (``BlandAltmanLeh`` gives the approximate ones): tests/reference/bland_altman.R
    writes the formulas by hand.

    Raises :class:`InputError` when lengths differ, values are missing or not numeric, or
    there are fewer than 3 pairs.

    Examples
    --------
    >>> a = [10.2, 12.5, 9.8, 15.1, 11.0, 13.4, 8.9, 14.2]
    >>> b = [10.0, 12.9, 9.1, 14.3, 11.4, 12.8, 8.7, 13.5]
    >>> result = bland_altman(a, b)
    >>> round(result.bias, 4), round(result.lower_limit, 3), round(result.upper_limit, 3)
    (0.3, -0.654, 1.254)
    >>> round(result.upper_limit_ci_low, 3), round(result.upper_limit_ci_high, 3)
    (0.955, 2.369)
    >>> round(result.upper_limit_ci_low_approx, 3), round(result.upper_limit_ci_high_approx, 3)
    (0.549, 1.96)
    """
    same_length(a=a, b=b)
    first = numeric_vector(a, name_of(a, "a"))
    second = numeric_vector(b, name_of(b, "b"))
    if first.size < 3:
        raise InputError(f"Bland-Altman analysis needs at least 3 pairs of measurements; got {first.size}.")
    check_conf_level(conf_level)
    n = first.size
    difference, mean = first - second, (first + second) / 2
    bias, sd = float(np.mean(difference)), float(np.std(difference, ddof=1))
    t_quantile = float(sps.t.ppf((1 + conf_level) / 2, n - 1))
    bias_se = sd / np.sqrt(n)
    lower, upper = bias - LOA_Z * sd, bias + LOA_Z * sd
    content = 2 * sps.norm.cdf(LOA_Z) - 1
    inner = tolerance_factor(n, content, (1 - conf_level) / 2)
    outer = tolerance_factor(n, content, (1 + conf_level) / 2)
    approx_half_width = t_quantile * np.sqrt(3 * sd**2 / n)
    return BlandAltmanResult(
        n=n,
        conf_level=conf_level,
        bias=bias,
        sd_difference=sd,
        bias_se=float(bias_se),
        bias_ci_low=float(bias - t_quantile * bias_se),
        bias_ci_high=float(bias + t_quantile * bias_se),
        loa_z=LOA_Z,
        lower_limit=lower,
        upper_limit=upper,
        lower_limit_ci_low=bias - outer * sd,
        lower_limit_ci_high=bias - inner * sd,
        upper_limit_ci_low=bias + inner * sd,
        upper_limit_ci_high=bias + outer * sd,
        lower_limit_ci_low_approx=float(lower - approx_half_width),
        lower_limit_ci_high_approx=float(lower + approx_half_width),
        upper_limit_ci_low_approx=float(upper - approx_half_width),
        upper_limit_ci_high_approx=float(upper + approx_half_width),
        tolerance_factor_inner=inner,
        tolerance_factor_outer=outer,
        **_proportional_bias(mean, difference),
        points=pd.DataFrame({"mean": mean, "difference": difference}),
    )
