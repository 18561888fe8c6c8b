"""Reclassification of a new prediction model against an old one: NRI and IDI.

The category-free (continuous) NRI and the IDI follow Hmisc ``improveProb(x1 = p_old,
x2 = p_new, y)`` (Pencina, D'Agostino & Vasan 2008; Pencina, D'Agostino & Steyerberg 2011),
with the standard errors Hmisc uses; the categorical NRI applies the same formulas to risk
categories, as ``PredictABEL::reclassification`` does (it calls ``improveProb`` on the
category codes). Both NRIs also carry the test of Pencina et al. (2008), whose variance is
the one under the null hypothesis of no net reclassification.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..errors import InputError
from ..validation import binary_outcome, name_of, numeric_vector, probabilities, same_length
from ._conf_level import check_conf_level
from ._result import Result

__all__ = ["ReclassificationResult", "reclassification"]

INDICES = ("nri_categorical", "nri_continuous", "idi")
COMPONENTS = ("overall", "events", "non_events")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ReclassificationResult(Result):
    """NRI (categorical and continuous) and IDI of ``p_new`` over ``p_old``.

    ``table`` is tidy, one row per ``index`` (nri_categorical, nri_continuous, idi) and
    ``component`` (overall, events, non_events), with columns estimate, se, z, p, ci_low,
    ci_high (Wald, Hmisc's standard errors), n_up, n_down (patients whose category or risk
    went up or down; NRI rows), z_null, p_null (the test of Pencina et al. 2008, variance
    under no net reclassification; NRI rows) and boot_ci_low, boot_ci_high (percentile
    bootstrap; NaN unless ``n_boot`` > 0). The categorical rows are NaN when no ``cutoffs``
    were given. ``reclassification_table`` counts patients by outcome, old and new category
    (None without cutoffs). The scalar fields repeat the three overall indices and their p.
    """

    nri_categorical: float
    nri_categorical_p: float
    nri_continuous: float
    nri_continuous_p: float
    idi: float
    idi_p: float
    n_events: int
    n_non_events: int
    cutoffs: tuple[float, ...] | None
    conf_level: float
    n_boot: int
    seed: int | None
    table: pd.DataFrame = dataclasses.field(metadata={"table": True})
    reclassification_table: pd.DataFrame | None = dataclasses.field(default=None, metadata={"table": True})

    def row(self, index: str, component: str = "overall") -> pd.Series:
        """The row of ``table`` for ``index`` and ``component``."""
        selected = self.table[(self.table["index"] == index) & (self.table["component"] == component)]
        if selected.empty:
            raise InputError(f"No row for index {index!r}, component {component!r}; indices are {INDICES}, components {COMPONENTS}.")
        return selected.iloc[0]


def _categories(p: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    """Category 0, 1, ... of each risk: [0, c1), [c1, c2), ..., [c_k, 1], as R
    ``cut(p, c(0, cutoffs, 1), right = FALSE, include.lowest = TRUE)`` (PredictABEL)."""
    return np.searchsorted(cutoffs, p, side="right")


def _check_cutoffs(cutoffs) -> np.ndarray | None:
    if cutoffs is None:
        return None
    values = numeric_vector(np.atleast_1d(np.asarray(cutoffs, dtype=object)), "cutoffs")
    if ((values <= 0) | (values >= 1)).any() or (np.diff(values) <= 0).any():
        raise InputError(f"'cutoffs' must be increasing risks strictly between 0 and 1 (e.g. [0.1, 0.3]); got {values.tolist()}.")
    return values


def _group_estimates(moves: np.ndarray, differences: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float]]:
    """Estimates and Hmisc standard errors of one NRI (from ``moves`` in {-1, 0, 1}) and the IDI."""
    out = {}
    for component, mask, sign in (("events", y == 1, 1.0), ("non_events", y == 0, -1.0)):
        n = int(mask.sum())
        n_up, n_down = int(np.sum(moves[mask] > 0)), int(np.sum(moves[mask] < 0))
        # Hmisc improveProb: v = (up + down) / n^2 - (up - down)^2 / n^3 (its old estimate
        # under H0, Pencina 2008, is (up + down) / n^2)
        out[component] = {
            "nri": sign * (n_up - n_down) / n,
            "nri_variance": (n_up + n_down) / n**2 - (n_up - n_down) ** 2 / n**3,
            "nri_null_variance": (n_up + n_down) / n**2,
            "n_up": n_up,
            "n_down": n_down,
            "idi": sign * float(np.mean(differences[mask])),
            "idi_variance": float(np.var(differences[mask], ddof=1)) / n if n > 1 else np.nan,
        }
    return out


def _wald_row(index: str, component: str, estimate: float, variance: float, z_quantile: float) -> dict:
    se = float(np.sqrt(variance))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.float64(estimate) / se
    return {
        "index": index,
        "component": component,
        "estimate": float(estimate),
        "se": se,
        "z": float(z),
        "p": float(2 * scipy_stats.norm.sf(abs(z))),
        "ci_low": float(estimate - z_quantile * se),
        "ci_high": float(estimate + z_quantile * se),
    }


def _index_rows(index: str, parts: dict, z_quantile: float) -> list[dict]:
    """The overall, events and non-events rows of one index."""
    key = "idi" if index == "idi" else "nri"
    events, non_events = parts["events"], parts["non_events"]
    rows = [
        _wald_row(index, "overall", events[key] + non_events[key], events[f"{key}_variance"] + non_events[f"{key}_variance"], z_quantile),
        _wald_row(index, "events", events[key], events[f"{key}_variance"], z_quantile),
        _wald_row(index, "non_events", non_events[key], non_events[f"{key}_variance"], z_quantile),
    ]
    if key == "nri":
        null_variances = [
            events["nri_null_variance"] + non_events["nri_null_variance"],
            events["nri_null_variance"],
            non_events["nri_null_variance"],
        ]
        counts = [(events["n_up"] + non_events["n_up"], events["n_down"] + non_events["n_down"]), (events["n_up"], events["n_down"])]
        counts.append((non_events["n_up"], non_events["n_down"]))
        for row, null_variance, (n_up, n_down) in zip(rows, null_variances, counts):
            with np.errstate(divide="ignore", invalid="ignore"):
                z_null = np.float64(row["estimate"]) / np.sqrt(null_variance)
            row.update(n_up=n_up, n_down=n_down, z_null=float(z_null), p_null=float(2 * scipy_stats.norm.sf(abs(z_null))))
    return rows


def _empty_rows(index: str) -> list[dict]:
    return [{"index": index, "component": component} for component in COMPONENTS]


def bootstrap_indices(y: np.ndarray, n_boot: int, seed: int | None) -> np.ndarray:
    """Row positions of the stratified bootstrap replicates, an (n_boot x n) array.

    All event positions of every replicate are drawn first (``rng.integers`` on the events,
    in their order in ``y``), then all non-event positions, so that the draws are exactly
    reproducible, e.g. by the R reference script that replays them.
    """
    rng = np.random.default_rng(seed)
    events, non_events = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    event_draws = events[rng.integers(0, events.size, (n_boot, events.size))]
    non_event_draws = non_events[rng.integers(0, non_events.size, (n_boot, non_events.size))]
    return np.hstack([event_draws, non_event_draws])


def _bootstrap_estimates(per_patient: dict[str, np.ndarray], y: np.ndarray, draws: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """Every (index, component) estimate on each replicate: means of per-patient moves and
    risk differences over the resampled events and non-events."""
    n_events = int(np.sum(y == 1))
    estimates = {}
    for index, values in per_patient.items():
        events = values[draws[:, :n_events]].mean(axis=1)
        non_events = 0.0 - values[draws[:, n_events:]].mean(axis=1)
        estimates[(index, "events")] = events
        estimates[(index, "non_events")] = non_events
        estimates[(index, "overall")] = events + non_events
    return estimates


def _validated(y, p_old, p_new) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    names = {"y": name_of(y, "y"), "p_old": name_of(p_old, "p_old"), "p_new": name_of(p_new, "p_new")}
    same_length(y=y, p_old=p_old, p_new=p_new)
    outcome = binary_outcome(y, names["y"], min_per_class=2)
    old = probabilities(p_old, names["p_old"], closed=True)
    new = probabilities(p_new, names["p_new"], closed=True)
    return outcome, old, new


def _estimates_table(
    outcome: np.ndarray, old: np.ndarray, new: np.ndarray, cut_values: np.ndarray | None, z_quantile: float
) -> tuple[pd.DataFrame, dict[str, np.ndarray], pd.DataFrame | None]:
    """The tidy table of estimates (bootstrap columns still NaN), the per-patient moves and
    risk differences the bootstrap resamples, and the reclassification counts."""
    differences = new - old
    per_patient = {"nri_continuous": np.sign(differences), "idi": differences}
    rows = []
    table_counts = None
    if cut_values is None:
        rows += _empty_rows("nri_categorical")
    else:
        old_category, new_category = _categories(old, cut_values), _categories(new, cut_values)
        per_patient["nri_categorical"] = np.sign(new_category - old_category).astype(float)
        rows += _index_rows("nri_categorical", _group_estimates(per_patient["nri_categorical"], differences, outcome), z_quantile)
        table_counts = _reclassification_table(outcome, old_category, new_category, cut_values)
    continuous = _group_estimates(per_patient["nri_continuous"], differences, outcome)
    rows += _index_rows("nri_continuous", continuous, z_quantile) + _index_rows("idi", continuous, z_quantile)
    table = pd.DataFrame(rows).reindex(
        columns=["index", "component", "estimate", "se", "z", "p", "ci_low", "ci_high", "n_up", "n_down", "z_null", "p_null"]
    )
    table[["n_up", "n_down"]] = table[["n_up", "n_down"]].astype("Int64")
    table[["boot_ci_low", "boot_ci_high"]] = np.nan
    return table, per_patient, table_counts


def reclassification(
    y,
    p_old,
    p_new,
    cutoffs: Sequence[float] | None = None,
    conf_level: float = 0.95,
    n_boot: int = 0,
    seed: int | None = 0,
) -> ReclassificationResult:
    """Net reclassification improvement (categorical and continuous) and IDI of ``p_new`` over ``p_old``.

    As R ``Hmisc::improveProb(x1 = p_old, x2 = p_new, y)`` for the continuous NRI and the
    IDI (its ``print`` gives the Wald CI estimate +- z * se and p = 2 * pnorm(-|z|)). The
    continuous NRI counts any increase of the risk as "up"; its events part is
    P(up | event) - P(down | event), its non-events part P(down | non-event) - P(up |
    non-event). The IDI's parts are the mean change of risk among events and minus that
    among non-events, with SE sqrt(var / n) (Hmisc reports only the overall SE).

    With ``cutoffs`` (e.g. ``[0.1, 0.3]``) the categorical NRI counts moves between the
    risk categories [0, 0.1), [0.1, 0.3), [0.3, 1] (R ``cut(..., right = FALSE)``, as
    ``PredictABEL::reclassification(cutoff = c(0, 0.1, 0.3, 1))``), with the same standard
    errors (PredictABEL calls ``improveProb`` on the category codes; it scales each model's
    codes by the highest category that model uses, which miscounts moves when one model never
    reaches the top category: here moves are counted on the categories themselves).
    ``z_null``/``p_null`` give the original test of Pencina et al. (2008), with variance
    (n_up + n_down) / n^2 per group, the variance under no net reclassification.

    ``n_boot`` > 0 adds percentile CIs (R ``quantile`` type 7) from a bootstrap stratified by
    outcome (events and non-events resampled separately); ``seed`` fixes it (numpy Generator).

    Raises :class:`InputError` when lengths differ, ``y`` is not 0/1 with two of each class,
    the risks are missing or outside [0, 1], or the cutoffs are not increasing in (0, 1).

    Examples
    --------
    >>> y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    >>> p_old = [0.05, 0.12, 0.25, 0.35, 0.08, 0.15, 0.28, 0.4, 0.09, 0.5]
    >>> p_new = [0.04, 0.09, 0.22, 0.38, 0.07, 0.32, 0.31, 0.45, 0.12, 0.45]
    >>> result = reclassification(y, p_old, p_new, cutoffs=[0.1, 0.3])
    >>> round(result.nri_continuous, 3), round(result.nri_categorical, 3), round(result.idi, 4)
    (1.2, 0.8, 0.056)
    >>> events = result.row("nri_categorical", "events")
    >>> float(events["estimate"]), int(events["n_up"]), int(events["n_down"])
    (0.6, 3, 0)
    """
    outcome, old, new = _validated(y, p_old, p_new)
    cut_values = _check_cutoffs(cutoffs)
    z_quantile = float(scipy_stats.norm.ppf((1 + check_conf_level(conf_level)) / 2))
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InputError(f"'n_boot' must be a non-negative integer (0 for no bootstrap); got {n_boot!r}.")

    table, per_patient, table_counts = _estimates_table(outcome, old, new, cut_values, z_quantile)
    if n_boot > 0:
        levels = [(1 - conf_level) / 2, 1 - (1 - conf_level) / 2]
        estimates = _bootstrap_estimates(per_patient, outcome, bootstrap_indices(outcome, n_boot, seed))
        for (index, component), values in estimates.items():
            at = (table["index"] == index) & (table["component"] == component)
            table.loc[at, ["boot_ci_low", "boot_ci_high"]] = np.quantile(values, levels)

    def overall(index: str, column: str) -> float:
        return float(table.loc[(table["index"] == index) & (table["component"] == "overall"), column].iloc[0])

    return ReclassificationResult(
        nri_categorical=overall("nri_categorical", "estimate"),
        nri_categorical_p=overall("nri_categorical", "p"),
        nri_continuous=overall("nri_continuous", "estimate"),
        nri_continuous_p=overall("nri_continuous", "p"),
        idi=overall("idi", "estimate"),
        idi_p=overall("idi", "p"),
        n_events=int(outcome.sum()),
        n_non_events=int((outcome == 0).sum()),
        cutoffs=None if cut_values is None else tuple(float(value) for value in cut_values),
        conf_level=conf_level,
        n_boot=int(n_boot),
        seed=seed,
        table=table,
        reclassification_table=table_counts,
    )


def _category_labels(cutoffs: np.ndarray) -> list[str]:
    bounds = [0.0, *cutoffs.tolist(), 1.0]
    labels = [f"[{low:g}, {high:g})" for low, high in zip(bounds[:-2], bounds[1:-1])]
    return [*labels, f"[{bounds[-2]:g}, 1]"]


def _reclassification_table(y: np.ndarray, old: np.ndarray, new: np.ndarray, cutoffs: np.ndarray) -> pd.DataFrame:
    """Counts by outcome, old and new category (every combination, zeros included)."""
    labels = _category_labels(cutoffs)
    k = len(labels)
    counts = np.bincount((y * k + old) * k + new, minlength=2 * k * k).reshape(2, k, k)
    outcome, old_index, new_index = np.meshgrid(np.arange(2), np.arange(k), np.arange(k), indexing="ij")
    return pd.DataFrame(
        {
            "outcome": np.where(outcome.ravel() == 1, "event", "non_event"),
            "old_category": np.asarray(labels)[old_index.ravel()],
            "new_category": np.asarray(labels)[new_index.ravel()],
            "n": counts.ravel(),
        }
    )
