"""ROC analysis: the empirical curve, AUC with DeLong (or SPSS) inference, Youden cut-offs.

Defaults follow R's pROC 1.18 (``roc``, ``var``, ``ci.auc``, ``coords``). The bootstrap
(``ci.auc(method = "bootstrap")``, ``ci.se``) is in :mod:`~stsanalysis.stats.roc_bootstrap`,
the comparison of curves (``roc.test``) in :mod:`~stsanalysis.stats.delong` and the 2 x 2
table of a binary test (epiR ``epi.tests``) in :mod:`~stsanalysis.stats.diagnostic`.
Conventions used throughout:

* ``y`` is the outcome coded 0/1 (1 = positive = pROC's "case"); ``score`` the test value.
* ``direction="<"`` means controls < cases: higher scores indicate the positive class and a
  patient is called positive when ``score >= threshold``. ``direction=">"`` means lower
  scores indicate the positive class and a patient is positive when ``score <= threshold``
  (pROC ``roc.utils.perfs``). ``"auto"`` picks ``">"`` when the median of the controls is
  greater than the median of the cases, else ``"<"`` (pROC ``roc.default``). A fixed
  direction is never flipped: a wrong one gives an AUC below 0.5, reported as such.
* The thresholds of the empirical curve are pROC's: ``-inf``, the midpoints between
  consecutive distinct sorted scores, ``+inf``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..errors import InputError
from ..validation import binary_outcome, numeric_vector, same_length
from ._result import Result
from .diagnostic import Cutoff, _ratio
from .roc_bootstrap import BAND_SPECIFICITIES, AucBootstrap, replicate_aucs, replicate_counts, sensitivity_band

DIRECTIONS = ("<", ">")
SE_METHODS = ("delong", "spss")


class PerfectSeparationWarning(UserWarning):
    """The scores separate cases and controls perfectly (AUC 0 or 1): DeLong variance is 0."""


# --------------------------------------------------------------------------- helpers


def _oriented(score: np.ndarray, direction: str) -> np.ndarray:
    """Scores turned so that higher always means 'more positive'."""
    return score if direction == "<" else -score


def _pair_shares(cases: np.ndarray, controls: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per case, the shares of controls scoring below it and tied with it; per control, the
    shares of cases scoring above it and tied with it (oriented scores)."""
    sorted_controls = np.sort(controls)
    sorted_cases = np.sort(cases)
    controls_below = np.searchsorted(sorted_controls, cases, side="left")
    controls_tied = np.searchsorted(sorted_controls, cases, side="right") - controls_below
    cases_not_above = np.searchsorted(sorted_cases, controls, side="right")
    cases_tied = cases_not_above - np.searchsorted(sorted_cases, controls, side="left")
    return (
        controls_below / controls.size,
        controls_tied / controls.size,
        (cases.size - cases_not_above) / cases.size,
        cases_tied / cases.size,
    )


def _placements(cases: np.ndarray, controls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components V10 (one per case) and V01 (one per control).

    V10 of a case is the share of controls with a lower (oriented) score, V01 of a control
    the share of cases with a higher score; ties count 1/2 (DeLong, DeLong & Clarke-Pearson
    1988; pROC ``delongPlacements``). Their means both equal the AUC.
    """
    below, tied_controls, above, tied_cases = _pair_shares(cases, controls)
    return below + 0.5 * tied_controls, above + 0.5 * tied_cases


def _delong_variance(v10: np.ndarray, v01: np.ndarray) -> float:
    """var(V10)/m + var(V01)/n with sample variances (pROC ``var.roc``, method "delong")."""
    return float(np.var(v10, ddof=1) / v10.size + np.var(v01, ddof=1) / v01.size)


def _spss_variance(cases: np.ndarray, controls: np.ndarray, auc: float) -> float:
    """Hanley & McNeil (1982) variance with Q1, Q2 estimated from the data.

    This is SPSS's ROC "Std. Error" under the nonparametric assumption (DISTRIBUTION(FREE));
    Q1 = P(two cases both score above one control), Q2 = P(one case scores above two
    controls), a tied pair counting 1/2 and a tied triple 1/3, as in GNU PSPP's
    re-implementation of the SPSS algorithm (``roc.c``).
    """
    below, tied_controls, above, tied_cases = _pair_shares(cases, controls)
    q1 = np.mean(above**2 + above * tied_cases + tied_cases**2 / 3)
    q2 = np.mean(below**2 + below * tied_controls + tied_controls**2 / 3)
    n_cases, n_controls = cases.size, controls.size
    return float((auc * (1 - auc) + (n_cases - 1) * (q1 - auc**2) + (n_controls - 1) * (q2 - auc**2)) / (n_cases * n_controls))


def _thresholds(score: np.ndarray, direction: str) -> np.ndarray:
    """pROC's thresholds (``roc.utils.thresholds``), ascending: -inf, midpoints, +inf."""
    unique = np.unique(score)
    lower = np.concatenate([[-np.inf], unique])
    upper = np.concatenate([unique, [np.inf]])
    thresholds = (lower + upper) / 2
    # Half of each first, where the sum would overflow (as pROC does above 1e100).
    huge = np.abs(thresholds) > 1e100
    thresholds[huge] = lower[huge] / 2 + upper[huge] / 2
    # Between two adjacent doubles the midpoint rounds onto one of them; pROC then moves it
    # onto the value that keeps the two scores on different sides of the decision rule.
    interior = np.arange(1, thresholds.size - 1)
    if direction == "<":
        onto_lower = interior[thresholds[interior] == lower[interior]]
        thresholds[onto_lower] = upper[onto_lower]
    else:
        onto_upper = interior[thresholds[interior] == upper[interior]]
        thresholds[onto_upper] = lower[onto_upper]
    return thresholds


def _confusion_counts(y: np.ndarray, score: np.ndarray, thresholds: np.ndarray, direction: str) -> dict[str, np.ndarray]:
    """tp, fp, tn, fn at each threshold with pROC's rule (>= for "<", <= for ">")."""
    cases = np.sort(score[y == 1])
    controls = np.sort(score[y == 0])
    if direction == "<":
        tp = cases.size - np.searchsorted(cases, thresholds, side="left")
        fp = controls.size - np.searchsorted(controls, thresholds, side="left")
    else:
        tp = np.searchsorted(cases, thresholds, side="right")
        fp = np.searchsorted(controls, thresholds, side="right")
    return {"tp": tp, "fp": fp, "tn": controls.size - fp, "fn": cases.size - tp}


def _resolve_direction(direction: str, cases: np.ndarray, controls: np.ndarray) -> str:
    if direction == "auto":
        # pROC roc.default: median(controls) > median(cases) -> ">"
        return ">" if np.median(controls) > np.median(cases) else "<"
    if direction not in DIRECTIONS:
        raise InputError(f"'direction' must be 'auto', '<' or '>'; got {direction!r}.")
    return direction


def _standardised(difference: float, standard_error: float) -> float:
    """difference / standard_error, reading 0/0 as 0 (pROC ``delong.paired.test``)."""
    if standard_error > 0:
        return float(difference / standard_error)
    return 0.0 if difference == 0 else float(np.sign(difference) * np.inf)


def _quantile_levels(conf_level: float) -> list[float]:
    if not 0 < conf_level < 1:
        raise InputError(f"'conf_level' must be between 0 and 1; got {conf_level!r}.")
    return [(1 - conf_level) / 2, 0.5, 1 - (1 - conf_level) / 2]


# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, eq=False)
class RocResult(Result):
    """Empirical ROC curve with its AUC, DeLong (or SPSS) variance, CI and p (AUC vs 0.5).

    ``curve`` lists the thresholds in pROC's order (specificity increasing) with the
    sensitivity and specificity at each. ``y`` and ``score`` are kept for the methods.
    ``band`` is None, or the bootstrap band of the sensitivity that :meth:`with_band` added
    (columns specificity, sensitivity_low, sensitivity_median, sensitivity_high).
    """

    auc: float
    auc_variance: float
    ci_low: float
    ci_high: float
    p: float
    direction: str
    n_positive: int
    n_negative: int
    conf_level: float
    se_method: str
    curve: pd.DataFrame
    y: np.ndarray
    score: np.ndarray
    band: pd.DataFrame | None = dataclasses.field(default=None, metadata={"table": True})

    # ---- cut-offs

    def _cutoffs(self, thresholds: np.ndarray) -> list[Cutoff]:
        counts = _confusion_counts(self.y, self.score, thresholds, self.direction)
        observed = np.isin(thresholds, self.score)
        cutoffs = []
        for i, threshold in enumerate(thresholds):
            tp, fp, tn, fn = (int(counts[key][i]) for key in ("tp", "fp", "tn", "fn"))
            sensitivity = tp / self.n_positive
            specificity = tn / self.n_negative
            cutoffs.append(
                Cutoff(
                    threshold=float(threshold),
                    direction=self.direction,
                    sensitivity=sensitivity,
                    specificity=specificity,
                    youden_index=sensitivity + specificity - 1,
                    ppv=_ratio(tp, tp + fp),
                    npv=_ratio(tn, tn + fn),
                    accuracy=(tp + tn) / (self.n_positive + self.n_negative),
                    tp=tp,
                    fp=fp,
                    tn=tn,
                    fn=fn,
                    threshold_in_data=bool(observed[i]),
                )
            )
        return cutoffs

    def youden(self, all_optima: bool = False) -> Cutoff | list[Cutoff]:
        """Cut-off maximising sensitivity + specificity (pROC ``coords(r, "best",
        best.method = "youden")``), at pROC's midpoint thresholds including +-inf.

        Tied optima are compared exactly on the counts (tp * n_negative + tn * n_positive),
        where pROC compares floating-point sums. With ``all_optima=True`` all of them are
        returned in pROC's row order; otherwise the first of them, the one with the
        highest sensitivity.
        """
        thresholds = self.curve["threshold"].to_numpy()
        counts = _confusion_counts(self.y, self.score, thresholds, self.direction)
        criterion = counts["tp"] * self.n_negative + counts["tn"] * self.n_positive
        optima = self._cutoffs(thresholds[criterion == criterion.max()])
        return optima if all_optima else optima[0]

    def at(self, threshold: float) -> Cutoff:
        """Classification at a fixed threshold (e.g. chosen on the training set), with
        pROC's rule; matches ``coords(r, x = threshold, input = "threshold")``."""
        value = float(numeric_vector([threshold], "threshold")[0])
        return self._cutoffs(np.array([value]))[0]

    # ---- bootstrap

    def bootstrap_ci(
        self,
        n_boot: int = 2000,
        stratified: bool = True,
        seed: int | None = None,
        conf_level: float = 0.95,
    ) -> AucBootstrap:
        """Percentile bootstrap CI of the AUC, as pROC ``ci.auc(method = "bootstrap",
        boot.n, boot.stratified)``: quantiles (R type 7) of the replicate AUCs.

        Stratified resampling keeps the numbers of cases and controls. Vectorised over
        replicates; deterministic for a given ``seed`` (numpy Generator), but not the same
        random numbers as R, so only close to pROC's interval.

        Examples
        --------
        >>> result = roc([0, 0, 0, 0, 1, 1, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.7, 0.9, 0.6, 0.5])
        >>> ci = result.bootstrap_ci(n_boot=500, seed=1)
        >>> round(ci.ci_low, 4), ci.median, ci.ci_high
        (0.4375, 0.8125, 1.0)
        """
        levels = _quantile_levels(conf_level)
        oriented = _oriented(self.score, self.direction)
        aucs = replicate_aucs(*replicate_counts(self.y, oriented, n_boot, stratified, seed))
        low, median, high = np.quantile(aucs, levels)
        return AucBootstrap(
            ci_low=float(low),
            median=float(median),
            ci_high=float(high),
            conf_level=conf_level,
            n_boot=n_boot,
            stratified=stratified,
            seed=seed,
            aucs=aucs,
        )

    def bootstrap_band(
        self,
        n_boot: int = 2000,
        seed: int | None = None,
        specificities: Sequence[float] | np.ndarray | None = None,
        stratified: bool = True,
        conf_level: float = 0.95,
    ) -> pd.DataFrame:
        """Bootstrap CI of the sensitivity at fixed specificities (pROC ``ci.se``).

        As pROC (``coords(..., input = "specificity")``): where a replicate's curve has the
        specificity exactly, its highest sensitivity there is taken, otherwise the
        sensitivity is interpolated linearly between the neighbouring curve points.
        Default grid: 0, 0.1, ..., 1 (pROC's default). Columns: specificity,
        sensitivity_low, sensitivity_median, sensitivity_high.
        """
        levels = _quantile_levels(conf_level)
        grid = np.linspace(0, 1, 11) if specificities is None else numeric_vector(specificities, "specificities")
        if ((grid < 0) | (grid > 1)).any():
            outside = grid[(grid < 0) | (grid > 1)]
            raise InputError(f"'specificities' must lie in [0, 1]; got {outside[:3].tolist()}.")
        counts = replicate_counts(self.y, _oriented(self.score, self.direction), n_boot, stratified, seed)
        return sensitivity_band(*counts, grid, levels)

    def with_band(
        self,
        n_boot: int = 2000,
        *,
        seed: int | None,
        stratified: bool = True,
        specificities: Sequence[float] | np.ndarray = BAND_SPECIFICITIES,
        conf_level: float = 0.95,
    ) -> RocResult:
        """A copy of this result whose ``band`` holds :meth:`bootstrap_band` (compute, then draw).

        The default grid is the 101 specificities 0, 0.01, ..., 1 that
        :func:`stsanalysis.plotting.roc_figure` draws as a shaded band. ``seed`` is required
        so that a drawn band is always reproducible.

        Examples
        --------
        >>> result = roc([0, 0, 0, 0, 1, 1, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.7, 0.9, 0.6, 0.5])
        >>> banded = result.with_band(200, seed=1)
        >>> result.band is None, banded.band.shape
        (True, (101, 4))
        """
        band = self.bootstrap_band(n_boot=n_boot, seed=seed, specificities=specificities, stratified=stratified, conf_level=conf_level)
        return dataclasses.replace(self, band=band)


# --------------------------------------------------------------------------- public API


def roc(
    y,
    score,
    *,
    direction: str = "auto",
    conf_level: float = 0.95,
    se_method: str = "delong",
) -> RocResult:
    """Empirical ROC curve, AUC, its variance, CI and p for AUC = 0.5.

    Follows pROC 1.18 ``roc(y, score, direction = ...)`` with ``ci.auc(method = "delong")``
    and ``var(roc)``: AUC with ties counting 1/2, DeLong variance from the structural
    components, Wald CI ``auc +- z * sqrt(var)`` clipped to [0, 1].

    ``p`` is two-sided, ``z = (auc - 0.5) / sqrt(var)`` on the same variance as the CI
    (``se_method="delong"``, default; pROC itself reports no p). This is the test SPSS's ROC
    table labels "Asymptotic Sig." (null hypothesis: true area = 0.5), but SPSS computes
    it differently, so its p differs slightly: ``se_method="spss"`` reproduces SPSS instead,
    with "Std. Error" from Hanley & McNeil (1982) with Q1/Q2 estimated nonparametrically
    (used for the CI, ``auc_variance``) and p from the standard error *under the null
    hypothesis*, sqrt((n_positive + n_negative + 1) / (12 n_positive n_negative)), i.e.
    Hanley-McNeil at AUC = 0.5 (formulas of GNU PSPP's re-implementation of SPSS ROC,
    ``roc.c``; not checked against SPSS output). SPSS may print CI limits above 1; here
    both methods clip to [0, 1].

    Degenerate cases: perfect separation (AUC 1, or 0 with a wrong fixed direction) has
    DeLong variance 0, CI [AUC, AUC] and p = 0, and raises :class:`PerfectSeparationWarning`
    (pROC warns too). When every placement is 1/2 (e.g. all scores tied), AUC = 0.5,
    variance 0 and p = 1 (0/0 read as z = 0, pROC's convention in ``roc.test``).

    Raises :class:`InputError` when ``y`` is not 0/1 with at least two positives and two
    negatives, when ``score`` is not numeric or has missing values, or lengths differ.

    Examples
    --------
    >>> result = roc([0, 0, 0, 0, 1, 1, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.7, 0.9, 0.6, 0.5])
    >>> result.auc, result.direction
    (0.8125, '<')
    >>> round(result.ci_low, 3), round(result.ci_high, 3)
    (0.425, 1.0)
    >>> result.youden().rule
    '> 0.45'
    """
    y_name = str(getattr(y, "name", None) or "y")
    score_name = str(getattr(score, "name", None) or "score")
    same_length(y=y, score=score)
    outcome = binary_outcome(y, y_name, min_per_class=2)
    values = numeric_vector(score, score_name)
    if se_method not in SE_METHODS:
        raise InputError(f"'se_method' must be one of {SE_METHODS}; got {se_method!r}.")
    levels = _quantile_levels(conf_level)

    direction = _resolve_direction(direction, values[outcome == 1], values[outcome == 0])
    oriented = _oriented(values, direction)
    cases, controls = oriented[outcome == 1], oriented[outcome == 0]
    auc, variance, ci_low, ci_high, p = _auc_inference(cases, controls, se_method, levels)
    if auc in (0.0, 1.0):
        warnings.warn(
            f"'{score_name}' separates cases and controls perfectly (AUC = {auc:g}): the "
            f"{se_method} variance is 0, the CI collapses to [{auc:g}, {auc:g}] and p = {p:.3g}. "
            "Report the AUC with the numbers of patients rather than the CI.",
            PerfectSeparationWarning,
            stacklevel=2,
        )
    return RocResult(
        auc=auc,
        auc_variance=variance,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        p=p,
        direction=direction,
        n_positive=int(cases.size),
        n_negative=int(controls.size),
        conf_level=conf_level,
        se_method=se_method,
        curve=_empirical_curve(outcome, values, direction),
        y=outcome,
        score=values,
    )


def _auc_inference(
    cases: np.ndarray, controls: np.ndarray, se_method: str, levels: list[float]
) -> tuple[float, float, float, float, float]:
    """AUC, its variance, Wald CI (clipped to [0, 1]) and p for AUC = 0.5 (oriented scores)."""
    v10, v01 = _placements(cases, controls)
    auc = float(np.mean(v10))
    if se_method == "delong":
        variance = _delong_variance(v10, v01)
        null_variance = variance
    else:
        variance = _spss_variance(cases, controls, auc)
        null_variance = (cases.size + controls.size + 1) / (12 * cases.size * controls.size)

    if variance > 0:
        half_width = scipy_stats.norm.ppf(levels[2]) * np.sqrt(variance)
        ci_low, ci_high = max(auc - half_width, 0.0), min(auc + half_width, 1.0)
    else:
        ci_low = ci_high = auc
    p = float(2 * scipy_stats.norm.sf(abs(_standardised(auc - 0.5, float(np.sqrt(null_variance))))))
    return auc, variance, ci_low, ci_high, p


def _empirical_curve(outcome: np.ndarray, values: np.ndarray, direction: str) -> pd.DataFrame:
    """Threshold, sensitivity and specificity at pROC's thresholds, by increasing specificity."""
    thresholds = _thresholds(values, direction)
    if direction == ">":
        thresholds = thresholds[::-1]  # pROC sorts the curve by increasing specificity
    counts = _confusion_counts(outcome, values, thresholds, direction)
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "sensitivity": counts["tp"] / np.sum(outcome == 1),
            "specificity": counts["tn"] / np.sum(outcome == 0),
        }
    )
