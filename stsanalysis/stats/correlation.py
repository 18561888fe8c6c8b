"""Correlation tests as ``stats::cor.test``.

Both functions take two equally long numeric vectors without missing values (the table
builder :func:`stsanalysis.stats.tables.correlation_table` drops incomplete pairs first,
as ``cor.test`` does, and reports n).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats as sps

from ..errors import InputError
from ..validation import name_of, numeric_vector, same_length
from ._result import Result

__all__ = ["CorrelationResult", "spearman", "pearson"]


@dataclasses.dataclass(frozen=True, repr=False)
class CorrelationResult(Result):
    """A correlation coefficient, its two-sided p value, n and (Pearson) its CI."""

    rho: float
    p: float
    n: int
    method: str
    ci_low: float = np.nan
    ci_high: float = np.nan


def _pair(x, y, names: tuple[str, str] | None) -> tuple[np.ndarray, np.ndarray]:
    names = names or (name_of(x, "x"), name_of(y, "y"))
    first = numeric_vector(x, names[0], min_size=3)
    second = numeric_vector(y, names[1], min_size=3)
    same_length(**{names[0]: first, names[1]: second})
    for values, name in ((first, names[0]), (second, names[1])):
        if np.ptp(values) == 0:
            raise InputError(f"The correlation is undefined: '{name}' is constant ({values[0]:g} in all {values.size} rows).")
    return first, second


def _t_test_of_correlation(r: float, n: int) -> float:
    """Two-sided p of H0: correlation 0 by t = r sqrt(n - 2) / sqrt(1 - r^2) on n - 2 df."""
    if abs(r) >= 1:
        return 0.0
    t = r * np.sqrt((n - 2) / (1 - r**2))
    return float(2 * sps.t.sf(abs(t), n - 2))


def spearman(x, y, *, names: tuple[str, str] | None = None) -> CorrelationResult:
    """Spearman's rank correlation as ``cor.test(x, y, method = "spearman", exact = FALSE)``.

    rho is Pearson's correlation of the mid-ranks (ties averaged); the p value uses R's
    asymptotic t approximation with n - 2 degrees of freedom (what SPSS reports too).
    ``names`` label x and y in error messages (default: the Series names, else x and y).

    Examples
    --------
    >>> result = spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])
    >>> round(result.rho, 4), round(result.p, 4), result.n
    (0.8286, 0.0416, 6)
    """
    first, second = _pair(x, y, names)
    rho = float(np.corrcoef(sps.rankdata(first), sps.rankdata(second))[0, 1])
    return CorrelationResult(
        rho=rho, p=_t_test_of_correlation(rho, first.size), n=int(first.size), method="Spearman's rank correlation rho"
    )


def pearson(x, y, *, conf_level: float = 0.95, names: tuple[str, str] | None = None) -> CorrelationResult:
    """Pearson's product-moment correlation as ``cor.test(x, y)``.

    The confidence interval uses Fisher's z transformation (R gives it for n >= 4; NaN
    otherwise).

    Examples
    --------
    >>> result = pearson([1, 2, 3, 4, 5, 6], [2.0, 1.5, 3.5, 3.0, 6.0, 5.0])
    >>> round(result.rho, 4), round(result.ci_low, 3), round(result.ci_high, 3)
    (0.8641, 0.176, 0.985)
    """
    first, second = _pair(x, y, names)
    n = first.size
    r = float(np.corrcoef(first, second)[0, 1])
    ci_low = ci_high = np.nan
    if n >= 4:
        half_width = sps.norm.ppf((1 + conf_level) / 2) / np.sqrt(n - 3)
        with np.errstate(divide="ignore"):  # r = +-1 gives z = +-inf and the interval [r, r], as R
            z = np.arctanh(r)
        ci_low, ci_high = np.tanh(z - half_width), np.tanh(z + half_width)
    return CorrelationResult(
        rho=r,
        p=_t_test_of_correlation(r, n),
        n=int(n),
        method="Pearson's product-moment correlation",
        ci_low=float(ci_low),
        ci_high=float(ci_high),
    )
