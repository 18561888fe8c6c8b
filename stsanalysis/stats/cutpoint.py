"""The Youden-optimal cut-off of a marker and its bootstrap distribution, as R's cutpointr.

Follows cutpointr 1.1 ``cutpointr(x, class, pos_class = 1, method = maximize_metric,
metric = youden, boot_runs = n_boot)``. Its conventions differ from pROC's
(:meth:`stsanalysis.stats.roc.RocResult.youden`), which is why this is not computed there:

* candidate cut-offs are the observed marker values (plus +inf for ``">="``, -inf for
  ``"<="``), not midpoints between them;
* ``">="`` calls a patient positive when ``marker >= cut-off``, ``"<="`` when
  ``marker <= cut-off``; ``"auto"`` picks ``">="`` when the median of the negatives is
  below the median of the positives, else ``"<="`` (equal medians give ``"<="``, where
  pROC chooses "higher is positive");
* every candidate whose Youden index is within 1e-6 of the maximum counts as optimal
  (``tol_metric``) and ties are broken by their median (``break_ties = median``), which
  need not be an observed value: sensitivity and specificity are those of the rule
  ``marker >= median`` (or ``<=``).

The bootstrap resamples patients (not stratified, cutpointr's default ``boot_stratify =
FALSE``); in each replicate the cut-off is optimised in-bag and its sensitivity,
specificity, Youden index and accuracy are computed in-bag (``_b``) and on the patients not
drawn (``_oob``), as the columns of cutpointr's ``boot``. The direction stays the one
chosen on the whole data.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import binary_outcome, name_of, numeric_vector, same_length
from ._conf_level import check_conf_level
from ._result import Result

__all__ = ["CutpointBootstrap", "cutpoint_bootstrap"]

DIRECTIONS = (">=", "<=")
#: cutpointr's ``tol_metric``: candidates this close to the best Youden index are optimal too.
TOLERANCE = 1e-6
#: Replicates processed at once: keeps the (replicates x patients) arrays near 2 million cells.
_CELLS_PER_CHUNK = 2_000_000
_METRICS = ("sensitivity", "specificity", "youden", "acc")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class CutpointBootstrap(Result):
    """Youden-optimal cut-off on the data and its bootstrap distribution (cutpointr).

    ``cutpoint`` with ``direction`` (``">="``: positive when ``marker >= cutpoint``) and
    the in-sample ``sensitivity``, ``specificity``, ``youden`` (sensitivity + specificity
    - 1) and ``accuracy`` at it; ``n_optima`` candidates were tied (their median is the
    cut-off). ``replicates`` has one row per bootstrap replicate (columns
    ``optimal_cutpoint`` and sensitivity, specificity, youden, acc, each ``_b`` in-bag
    and ``_oob`` out-of-bag); ``summary`` one row per such column with mean, sd, median and
    the percentile CI (R ``quantile`` type 7). ``n_boot_used`` counts the replicates kept:
    cutpointr drops a replicate whose in-bag sample lacks a class.
    """

    cutpoint: float
    direction: str
    sensitivity: float
    specificity: float
    youden: float
    accuracy: float
    n_optima: int
    n_positive: int
    n_negative: int
    cutpoint_mean: float
    cutpoint_sd: float
    cutpoint_ci_low: float
    cutpoint_ci_high: float
    conf_level: float
    n_boot: int
    n_boot_used: int
    seed: int | None
    replicates: pd.DataFrame = dataclasses.field(metadata={"table": True})
    summary: pd.DataFrame = dataclasses.field(metadata={"table": True})


@dataclasses.dataclass(frozen=True)
class _SortedData:
    """Patients sorted by oriented marker (higher = more positive), with the groups of tied values."""

    oriented: np.ndarray
    positive: np.ndarray
    rank: np.ndarray  # sorted position of each patient in the original order
    starts: np.ndarray  # first sorted position of each distinct value
    values: np.ndarray  # the distinct oriented values, ascending

    @classmethod
    def of(cls, outcome: np.ndarray, marker: np.ndarray, direction: str) -> _SortedData:
        oriented = marker if direction == ">=" else -marker
        order = np.argsort(oriented, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        values, starts = np.unique(oriented[order], return_index=True)
        return cls(oriented[order], outcome[order].astype(float), rank, starts, values)


def _suffix_sums(weights: np.ndarray) -> np.ndarray:
    """Per row, the sum of ``weights`` from each sorted position to the end (0 appended)."""
    totals = np.cumsum(weights[:, ::-1], axis=1)[:, ::-1]
    return np.hstack([totals, np.zeros((weights.shape[0], 1))])


def _optimal_cutpoints(data: _SortedData, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of the Youden-optimal oriented cut-offs of each row of patient ``weights``
    (in sorted order; a weight is how often the patient was drawn), and their number."""
    positives = _suffix_sums(weights * data.positive)
    negatives = _suffix_sums(weights * (1 - data.positive))
    # classified positive at candidate v (oriented >= v): the suffix from v's first position;
    # the last column (suffix 0) is the candidate +inf, which calls nobody positive
    tp, fp = positives[:, np.r_[data.starts, -1]], negatives[:, np.r_[data.starts, -1]]
    n_positive, n_negative = positives[:, :1], negatives[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        sensitivity = tp / n_positive
        specificity = (n_negative - fp) / n_negative
    youden = (sensitivity + specificity) - 1
    present = np.hstack([np.add.reduceat(weights, data.starts, axis=1) > 0, np.ones((weights.shape[0], 1), bool)])
    # absent values are no candidates; a replicate without one class (NaN) is dropped later
    youden = np.where(present & ~np.isnan(youden), youden, -np.inf)
    best = youden.max(axis=1, keepdims=True)
    tied = youden >= best - TOLERANCE
    candidates = np.broadcast_to(np.r_[data.values, np.inf], youden.shape)
    return np.nanmedian(np.where(tied, candidates, np.nan), axis=1), tied.sum(axis=1)


def _metrics_at(data: _SortedData, weights: np.ndarray, cutpoints: np.ndarray) -> dict[str, np.ndarray]:
    """Sensitivity, specificity, Youden index and accuracy of the rule oriented >= cut-off."""
    positives = _suffix_sums(weights * data.positive)
    negatives = _suffix_sums(weights * (1 - data.positive))
    first = np.searchsorted(data.oriented, cutpoints, side="left")
    rows = np.arange(weights.shape[0])
    tp, fp = positives[rows, first], negatives[rows, first]
    n_positive, n_negative = positives[:, 0], negatives[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        sensitivity = tp / n_positive
        specificity = (n_negative - fp) / n_negative
        accuracy = (tp + n_negative - fp) / (n_positive + n_negative)
    return {"sensitivity": sensitivity, "specificity": specificity, "youden": (sensitivity + specificity) - 1, "acc": accuracy}


def bootstrap_indices(n: int, n_boot: int, seed: int | None) -> np.ndarray:
    """Row positions (0-based) of each replicate, an (n_boot x n) array: ``rng.integers(0,
    n, (n_boot, n))``, cutpointr's simple (unstratified) resampling with numpy's generator."""
    return np.random.default_rng(seed).integers(0, n, (n_boot, n))


def _replicates(data: _SortedData, draws: np.ndarray) -> pd.DataFrame:
    """In-bag optimal cut-off and in-bag / out-of-bag metrics of each replicate (oriented scale)."""
    n = data.oriented.size
    chunk = max(1, _CELLS_PER_CHUNK // n)
    parts = []
    for start in range(0, draws.shape[0], chunk):
        block = data.rank[draws[start : start + chunk]]
        rows = np.arange(block.shape[0])[:, None] * n
        weights = np.bincount((rows + block).ravel(), minlength=block.shape[0] * n).reshape(block.shape[0], n).astype(float)
        cutpoints, _ = _optimal_cutpoints(data, weights)
        in_bag = _metrics_at(data, weights, cutpoints)
        out_of_bag = _metrics_at(data, (weights == 0).astype(float), cutpoints)
        in_bag_positive = weights @ data.positive
        valid = (in_bag_positive > 0) & (in_bag_positive < n)
        columns = {"optimal_cutpoint": cutpoints}
        for metric in _METRICS:
            columns[f"{metric}_b"] = in_bag[metric]
            columns[f"{metric}_oob"] = out_of_bag[metric]
        parts.append(pd.DataFrame(columns)[valid])
    return pd.concat(parts, ignore_index=True)


def _summary(replicates: pd.DataFrame, levels: list[float]) -> pd.DataFrame:
    rows = []
    for column in replicates.columns:
        with np.errstate(invalid="ignore"):  # an infinite cut-off (no patient positive) gives R's -Inf/NaN
            rows.append(_describe(column, replicates[column].to_numpy(), levels))
    return pd.DataFrame(rows)


def _describe(column: str, values: np.ndarray, levels: list[float]) -> dict:
    values = values[~np.isnan(values)]
    if not values.size:
        return {"variable": column, "n": 0, "mean": np.nan, "sd": np.nan, "median": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    low, median, high = np.quantile(values, [levels[0], 0.5, levels[1]])
    sd = float(np.std(values, ddof=1)) if values.size > 1 else np.nan
    return {
        "variable": column,
        "n": values.size,
        "mean": float(np.mean(values)),
        "sd": sd,
        "median": float(median),
        "ci_low": float(low),
        "ci_high": float(high),
    }


def _resolve_direction(direction: str, outcome: np.ndarray, marker: np.ndarray) -> str:
    if direction == "auto":
        # cutpointr assume_direction_pos_class: median(negatives) < median(positives) -> ">="
        return ">=" if np.median(marker[outcome == 0]) < np.median(marker[outcome == 1]) else "<="
    if direction not in DIRECTIONS:
        raise InputError(f"'direction' must be 'auto', '>=' or '<='; got {direction!r}.")
    return direction


def cutpoint_bootstrap(
    y,
    marker,
    n_boot: int = 1000,
    seed: int | None = 0,
    direction: str = "auto",
    conf_level: float = 0.95,
) -> CutpointBootstrap:
    """Youden-optimal cut-off of ``marker`` for outcome ``y`` and its bootstrap distribution.

    As R ``cutpointr(x = marker, class = y, pos_class = 1, direction = ..., method =
    maximize_metric, metric = youden, boot_runs = n_boot)`` (cutpointr 1.1, defaults
    ``break_ties = median``, ``tol_metric = 1e-6``, ``boot_stratify = FALSE``; conventions
    in the module docstring). The cut-off and its in-sample metrics equal cutpointr's. The
    bootstrap draws with numpy's generator (``seed``), so replicate by replicate it is not
    cutpointr's (R's RNG), only alike in distribution; given the same rows drawn it is
    identical (tests/reference/cutpoint.R replays our draws through cutpointr).
    ``summary`` describes each column of ``replicates`` (mean, sd, median, percentile CI at
    ``conf_level``); the cut-off's are also the fields ``cutpoint_mean`` ... ``cutpoint_ci_high``.

    Raises :class:`InputError` when lengths differ, ``y`` is not 0/1 with two patients per
    class, ``marker`` has missing or infinite values, or ``n_boot`` is not a positive integer.

    Examples
    --------
    >>> y = [0] * 10 + [1] * 10
    >>> marker = [1.2, 2.3, 2.9, 3.1, 4.0, 2.2, 1.8, 3.4, 2.6, 3.0, 3.3, 3.8, 4.4, 5.0, 5.6, 2.8, 4.1, 3.6, 4.7, 3.9]
    >>> result = cutpoint_bootstrap(y, marker, n_boot=500, seed=1)
    >>> result.cutpoint, result.n_optima, result.sensitivity, result.specificity
    (3.45, 2, 0.8, 0.9)
    >>> result.n_boot_used, round(result.cutpoint_ci_low, 2), round(result.cutpoint_ci_high, 2)
    (500, 2.8, 4.1)

    The optima 3.3 and 3.6 tie (Youden index 0.7); cutpointr reports their median, 3.45.
    """
    same_length(y=y, marker=marker)
    outcome = binary_outcome(y, name_of(y, "y"), min_per_class=2)
    values = numeric_vector(marker, name_of(marker, "marker"))
    levels = [(1 - check_conf_level(conf_level)) / 2, 1 - (1 - conf_level) / 2]
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise InputError(f"'n_boot' must be a positive integer; got {n_boot!r}.")
    direction = _resolve_direction(direction, outcome, values)
    data = _SortedData.of(outcome, values, direction)

    everyone = np.ones((1, values.size))
    oriented_cutpoint, n_optima = _optimal_cutpoints(data, everyone)
    at_cutpoint = {name: float(metric[0]) for name, metric in _metrics_at(data, everyone, oriented_cutpoint).items()}
    replicates = _replicates(data, bootstrap_indices(values.size, n_boot, seed))
    if direction == "<=":
        replicates["optimal_cutpoint"] = -replicates["optimal_cutpoint"]
    if len(replicates) < n_boot:
        warnings.warn(
            f"{n_boot - len(replicates)} of {n_boot} bootstrap replicates drew patients of one class only and were dropped (as cutpointr does).",
            UserWarning,
            stacklevel=2,
        )
    summary = _summary(replicates, levels)
    cut = summary.iloc[0]
    return CutpointBootstrap(
        cutpoint=float(oriented_cutpoint[0] if direction == ">=" else -oriented_cutpoint[0]),
        direction=direction,
        sensitivity=at_cutpoint["sensitivity"],
        specificity=at_cutpoint["specificity"],
        youden=at_cutpoint["youden"],
        accuracy=at_cutpoint["acc"],
        n_optima=int(n_optima[0]),
        n_positive=int(outcome.sum()),
        n_negative=int((outcome == 0).sum()),
        cutpoint_mean=float(cut["mean"]),
        cutpoint_sd=float(cut["sd"]),
        cutpoint_ci_low=float(cut["ci_low"]),
        cutpoint_ci_high=float(cut["ci_high"]),
        conf_level=conf_level,
        n_boot=int(n_boot),
        n_boot_used=len(replicates),
        seed=seed,
        replicates=replicates,
        summary=summary,
    )
