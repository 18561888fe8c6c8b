"""ROC analysis, DeLong inference, Youden cut-offs and diagnostic accuracy.

Defaults follow R's pROC 1.18 (``roc``, ``var``, ``ci.auc``, ``coords``, ``roc.test``,
``ci.se``) and epiR 2.0.57 (``epi.tests``). Conventions used throughout:

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
import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..errors import InputError
from ..validation import binary_outcome, numeric_vector, require_columns, same_length
from ._result import Result

DIRECTIONS = ("<", ">")
SE_METHODS = ("delong", "spss")


class PerfectSeparationWarning(UserWarning):
    """The scores separate cases and controls perfectly (AUC 0 or 1): DeLong variance is 0."""


# --------------------------------------------------------------------------- helpers


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0 (e.g. PPV with no positives)."""
    return numerator / denominator if denominator else float("nan")


def _oriented(score: np.ndarray, direction: str) -> np.ndarray:
    """Scores turned so that higher always means 'more positive'."""
    return score if direction == "<" else -score


def _pair_shares(
    cases: np.ndarray, controls: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    return float(
        (auc * (1 - auc) + (n_cases - 1) * (q1 - auc**2) + (n_controls - 1) * (q2 - auc**2))
        / (n_cases * n_controls)
    )


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


def _confusion_counts(
    y: np.ndarray, score: np.ndarray, thresholds: np.ndarray, direction: str
) -> dict[str, np.ndarray]:
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


@dataclasses.dataclass(frozen=True)
class Cutoff(Result):
    """Classification at one threshold.

    A patient is called positive when ``score >= threshold`` (direction ``"<"``) or
    ``score <= threshold`` (direction ``">"``), exactly as pROC. ``youden_index`` is
    sensitivity + specificity - 1 (pROC's ``coords(..., ret = "youden")`` reports
    sensitivity + specificity). ``threshold_in_data`` tells whether some patient has exactly
    the threshold as score; only then does the equality in the rule matter.
    """

    threshold: float
    direction: str
    sensitivity: float
    specificity: float
    youden_index: float
    ppv: float
    npv: float
    accuracy: float
    tp: int
    fp: int
    tn: int
    fn: int
    threshold_in_data: bool

    @property
    def rule(self) -> str:
        """The decision rule as text, e.g. ``"< 1.525"`` (low values predict positive).

        The strict operator is used when no patient has the threshold as score (pROC's
        midpoint thresholds), where ``<`` and ``<=`` classify every patient alike.
        """
        operator = "<" if self.direction == ">" else ">"
        if self.threshold_in_data:
            operator += "="
        return f"{operator} {self.threshold:.6g}"


@dataclasses.dataclass(frozen=True, eq=False)
class AucBootstrap(Result):
    """Percentile bootstrap CI of the AUC (pROC ``ci.auc(method = "bootstrap")``)."""

    ci_low: float
    median: float
    ci_high: float
    conf_level: float
    n_boot: int
    stratified: bool
    seed: int | None
    aucs: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class RocResult(Result):
    """Empirical ROC curve with its AUC, DeLong (or SPSS) variance, CI and p (AUC vs 0.5).

    ``curve`` lists the thresholds in pROC's order (specificity increasing) with the
    sensitivity and specificity at each. ``y`` and ``score`` are kept for the methods.
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

    def _bootstrap_counts(
        self, n_boot: int, stratified: bool, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Counts of resampled cases and controls per distinct score: two (n_boot x U) arrays.

        Scores are coded by the rank of their distinct (oriented) value, so that every
        replicate's ROC curve follows from cumulative sums, with no loop over replicates.
        """
        if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
            raise InputError(f"'n_boot' must be a positive integer; got {n_boot!r}.")
        rng = np.random.default_rng(seed)
        unique, codes = np.unique(_oriented(self.score, self.direction), return_inverse=True)
        n_values = unique.size
        rows = np.arange(n_boot)[:, None] * n_values

        def histogram(resampled_codes: np.ndarray, weights=None) -> np.ndarray:
            flat = (rows + resampled_codes).ravel()
            weights = None if weights is None else weights.ravel()
            counts = np.bincount(flat, weights=weights, minlength=n_boot * n_values)
            return counts.reshape(n_boot, n_values)

        if stratified:
            # pROC stratified.ci.auc: resample cases and controls separately.
            case_codes = codes[self.y == 1]
            control_codes = codes[self.y == 0]
            cases = case_codes[rng.integers(0, case_codes.size, (n_boot, case_codes.size))]
            controls = control_codes[rng.integers(0, control_codes.size, (n_boot, control_codes.size))]
            return histogram(cases).astype(float), histogram(controls).astype(float)
        draws = rng.integers(0, self.y.size, (n_boot, self.y.size))
        is_case = self.y[draws].astype(float)
        case_counts = histogram(codes[draws], is_case)
        control_counts = histogram(codes[draws], 1.0 - is_case)
        valid = (case_counts.sum(axis=1) > 0) & (control_counts.sum(axis=1) > 0)
        if not valid.all():
            # pROC: "NA value(s) produced during bootstrap were ignored."
            warnings.warn(
                f"{int((~valid).sum())} bootstrap replicate(s) without cases or without "
                "controls were ignored (non-stratified resampling).",
                UserWarning,
                stacklevel=3,
            )
        return case_counts[valid], control_counts[valid]

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
        """
        levels = _quantile_levels(conf_level)
        case_counts, control_counts = self._bootstrap_counts(n_boot, stratified, seed)
        controls_below = np.cumsum(control_counts, axis=1) - control_counts
        pairs_won = np.sum(case_counts * (controls_below + 0.5 * control_counts), axis=1)
        aucs = pairs_won / (case_counts.sum(axis=1) * control_counts.sum(axis=1))
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
        grid = np.linspace(0, 1, 11) if specificities is None else numeric_vector(
            specificities, "specificities"
        )
        if ((grid < 0) | (grid > 1)).any():
            outside = grid[(grid < 0) | (grid > 1)]
            raise InputError(f"'specificities' must lie in [0, 1]; got {outside[:3].tolist()}.")
        case_counts, control_counts = self._bootstrap_counts(n_boot, stratified, seed)
        n_cases = case_counts.sum(axis=1, keepdims=True)
        n_controls = control_counts.sum(axis=1, keepdims=True)
        # Curve points for a threshold below everything, then just above each distinct score:
        # specificity non-decreasing, sensitivity non-increasing along each row.
        all_positive = np.ones_like(n_cases)
        specificity = np.hstack([0 * all_positive, np.cumsum(control_counts, axis=1) / n_controls])
        sensitivity = np.hstack([all_positive, (n_cases - np.cumsum(case_counts, axis=1)) / n_cases])
        rows = np.arange(specificity.shape[0])
        band = np.empty((rows.size, grid.size))
        for j, target in enumerate(grid):
            # first point with specificity >= target: the highest sensitivity there when the
            # specificity is exact, else the first point above, interpolated towards the
            # last point below (whose distance to the target is then the share of the gap)
            first = np.sum(specificity < target, axis=1)
            previous = np.maximum(first - 1, 0)
            exact = specificity[rows, first] == target
            gap = np.where(exact, 1.0, specificity[rows, previous] - specificity[rows, first])
            share = (target - specificity[rows, first]) / gap  # 0 when exact
            band[:, j] = sensitivity[rows, first] + share * (
                sensitivity[rows, previous] - sensitivity[rows, first]
            )
        low, median, high = np.quantile(band, levels, axis=0)
        return pd.DataFrame(
            {
                "specificity": grid,
                "sensitivity_low": low,
                "sensitivity_median": median,
                "sensitivity_high": high,
            }
        )


@dataclasses.dataclass(frozen=True)
class DelongResult(Result):
    """DeLong comparison of two AUCs (pROC ``roc.test(method = "delong")``).

    Paired: ``statistic`` is Z, ``df`` NaN, ``ci_low``/``ci_high`` the CI of the difference
    ``auc_a - auc_b`` (as pROC 1.18). Unpaired: ``statistic`` is pROC's D with a t
    distribution on Welch-Satterthwaite-type ``df``; pROC gives no CI (NaN here).
    """

    statistic: float
    p: float
    df: float
    difference: float
    ci_low: float
    ci_high: float
    method: str
    auc_a: float
    auc_b: float


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
    if auc in (0.0, 1.0):
        warnings.warn(
            f"'{score_name}' separates cases and controls perfectly (AUC = {auc:g}): the "
            f"{se_method} variance is 0, the CI collapses to [{auc:g}, {auc:g}] and p = {p:.3g}. "
            "Report the AUC with the numbers of patients rather than the CI.",
            PerfectSeparationWarning,
            stacklevel=2,
        )

    thresholds = _thresholds(values, direction)
    if direction == ">":
        thresholds = thresholds[::-1]  # pROC sorts the curve by increasing specificity
    counts = _confusion_counts(outcome, values, thresholds, direction)
    curve = pd.DataFrame(
        {
            "threshold": thresholds,
            "sensitivity": counts["tp"] / cases.size,
            "specificity": counts["tn"] / controls.size,
        }
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
        curve=curve,
        y=outcome,
        score=values,
    )


def _placements_of(result: RocResult) -> tuple[np.ndarray, np.ndarray]:
    oriented = _oriented(result.score, result.direction)
    return _placements(oriented[result.y == 1], oriented[result.y == 0])


def delong_test(
    roc_a: RocResult, roc_b: RocResult, paired: bool = True, conf_level: float = 0.95
) -> DelongResult:
    """Compare two AUCs with DeLong's method, as pROC 1.18 ``roc.test(roc_a, roc_b,
    method = "delong", paired = ...)``.

    Paired (same patients, same outcome, scores in the same patient order): Z from the
    covariance of the structural components, two-sided normal p and the CI of
    ``auc_a - auc_b``. Unpaired (independent samples): pROC's D = difference / sqrt(var_a +
    var_b) with a t distribution on df = (var_a + var_b)^2 / (var_a^2 / (N_a - 1) +
    var_b^2 / (N_b - 1)). Variances are DeLong's whatever ``se_method`` the ROCs used.
    """
    levels = _quantile_levels(conf_level)
    if roc_a.direction != roc_b.direction:
        warnings.warn(
            "DeLong's test should not be applied to ROC curves with different directions "
            f"('{roc_a.direction}' and '{roc_b.direction}').",
            UserWarning,
            stacklevel=2,
        )
    v10_a, v01_a = _placements_of(roc_a)
    v10_b, v01_b = _placements_of(roc_b)
    difference = roc_a.auc - roc_b.auc
    if paired:
        if roc_a.y.size != roc_b.y.size:
            raise InputError(
                "The paired DeLong test needs the same patients in both ROC curves; "
                f"roc_a has {roc_a.y.size} and roc_b {roc_b.y.size} patients. "
                "Use paired=False for independent samples."
            )
        mismatch = np.flatnonzero(roc_a.y != roc_b.y)
        if mismatch.size:
            raise InputError(
                "The paired DeLong test needs the same outcome for each patient in both ROC "
                f"curves; it differs for {mismatch.size} patient(s) (first at position "
                f"{int(mismatch[0])}). Check that both scores are in the same patient order."
            )
        covariance_cases = np.cov(v10_a, v10_b, ddof=1)
        covariance_controls = np.cov(v01_a, v01_b, ddof=1)
        covariance = covariance_cases / v10_a.size + covariance_controls / v01_a.size
        sigma = float(np.sqrt(max(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1], 0.0)))
        statistic = _standardised(difference, sigma)
        half_width = scipy_stats.norm.ppf(levels[2]) * sigma
        return DelongResult(
            statistic=float(statistic),
            p=float(2 * scipy_stats.norm.sf(abs(statistic))),
            df=float("nan"),
            difference=float(difference),
            ci_low=float(difference - half_width),
            ci_high=float(difference + half_width),
            method="DeLong's test for two correlated ROC curves",
            auc_a=roc_a.auc,
            auc_b=roc_b.auc,
        )
    variance_a = _delong_variance(v10_a, v01_a)
    variance_b = _delong_variance(v10_b, v01_b)
    total = variance_a + variance_b
    statistic = _standardised(difference, float(np.sqrt(total)))
    df = _ratio(total**2, variance_a**2 / (roc_a.y.size - 1) + variance_b**2 / (roc_b.y.size - 1))
    return DelongResult(
        statistic=float(statistic),
        p=float(2 * scipy_stats.t.sf(abs(statistic), df)),
        df=float(df),
        difference=float(difference),
        ci_low=float("nan"),
        ci_high=float("nan"),
        method="DeLong's test for two ROC curves",
        auc_a=roc_a.auc,
        auc_b=roc_b.auc,
    )


def compare_rocs(
    rocs: Mapping[str, RocResult], paired: bool = True, conf_level: float = 0.95
) -> pd.DataFrame:
    """DeLong test (:func:`delong_test`) for every pair of ROC curves, one row per pair.

    Columns: model_a, model_b, auc_a, auc_b, difference, statistic, df, p, ci_low, ci_high,
    method. p values are not adjusted for multiple comparisons.
    """
    if len(rocs) < 2:
        raise InputError(f"'rocs' must hold at least two ROC curves; got {len(rocs)}.")
    rows = [
        {"model_a": name_a, "model_b": name_b,
         **delong_test(rocs[name_a], rocs[name_b], paired=paired, conf_level=conf_level).to_dict()}
        for name_a, name_b in itertools.combinations(rocs, 2)
    ]
    columns = ["model_a", "model_b", "auc_a", "auc_b", "difference", "statistic", "df", "p",
               "ci_low", "ci_high", "method"]
    return pd.DataFrame(rows, columns=columns)


def roc_table(
    data: pd.DataFrame,
    outcome: str,
    parameters: Sequence[str],
    direction: str | Mapping[str, str] = "auto",
    conf_level: float = 0.95,
    se_method: str = "delong",
) -> pd.DataFrame:
    """One row per parameter: AUC with CI and p (:func:`roc`) and the Youden cut-off.

    Columns: parameter, auc, ci_low, ci_high, p, threshold, rule (e.g. "< 1.525": low
    values predict the positive class), sensitivity, specificity, youden_index, direction,
    n_positive, n_negative. ``direction`` is one value for all parameters or a mapping
    parameter -> direction (missing parameters use "auto").
    """
    parameters = [parameters] if isinstance(parameters, str) else list(parameters)
    require_columns(data, [outcome, *parameters], "data")
    rows = []
    for parameter in parameters:
        chosen = direction.get(parameter, "auto") if isinstance(direction, Mapping) else direction
        result = roc(
            data[outcome], data[parameter], direction=chosen, conf_level=conf_level, se_method=se_method
        )
        cutoff = result.youden()
        rows.append(
            {
                "parameter": parameter,
                "auc": result.auc,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "p": result.p,
                "threshold": cutoff.threshold,
                "rule": cutoff.rule,
                "sensitivity": cutoff.sensitivity,
                "specificity": cutoff.specificity,
                "youden_index": cutoff.youden_index,
                "direction": result.direction,
                "n_positive": result.n_positive,
                "n_negative": result.n_negative,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- 2 x 2 table


def _clopper_pearson(successes: int, total: int, conf_level: float) -> tuple[float, float, float]:
    """Estimate and exact (Clopper-Pearson) CI, as epiR's ``zexact``; NaN when total is 0."""
    if total == 0:
        return (float("nan"),) * 3
    alpha = 1 - conf_level
    low = scipy_stats.beta.ppf(alpha / 2, successes, total - successes + 1) if successes > 0 else 0.0
    high = scipy_stats.beta.ppf(1 - alpha / 2, successes + 1, total - successes) if successes < total else 1.0
    return successes / total, float(low), float(high)


def _log_interval(estimate: float, log_se: float, z: float) -> tuple[float, float, float]:
    """Estimate with CI exp(log(estimate) +- z * log_se) (epiR's log method)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_estimate = np.log(estimate)
        return estimate, float(np.exp(log_estimate - z * log_se)), float(np.exp(log_estimate + z * log_se))


def diagnostic_metrics(y, predicted, conf_level: float = 0.95) -> pd.DataFrame:
    """Diagnostic accuracy of a binary test, as epiR 2.0.57 ``epi.tests(method = "exact")``.

    Rows (``metric``): sensitivity, specificity, ppv, npv, accuracy with exact
    Clopper-Pearson CIs; lr_positive, lr_negative (CIs by the log method of Simel et al.)
    and diagnostic_odds_ratio (log method, Woolf); then the 2 x 2 counts tp, fp, fn, tn
    (value only). Columns: metric, value, ci_low, ci_high. Zero cells give infinite or
    NaN ratios, as epiR (no continuity correction).
    """
    y_name = str(getattr(y, "name", None) or "y")
    predicted_name = str(getattr(predicted, "name", None) or "predicted")
    same_length(y=y, predicted=predicted)
    outcome = binary_outcome(y, y_name)
    test = numeric_vector(predicted, predicted_name)
    if not set(np.unique(test).tolist()) <= {0.0, 1.0}:
        raise InputError(
            f"'{predicted_name}' must be the test result coded 0/1; "
            f"got values {np.unique(test)[:6].tolist()}."
        )
    z = scipy_stats.norm.ppf(_quantile_levels(conf_level)[2])
    tp = int(np.sum((test == 1) & (outcome == 1)))
    fp = int(np.sum((test == 1) & (outcome == 0)))
    fn = int(np.sum((test == 0) & (outcome == 1)))
    tn = int(np.sum((test == 0) & (outcome == 0)))
    n_positive, n_negative = tp + fn, fp + tn
    sensitivity = np.float64(tp) / n_positive
    specificity = np.float64(tn) / n_negative
    with np.errstate(divide="ignore", invalid="ignore"):
        lr_positive = sensitivity / (1 - specificity)
        lr_negative = (1 - sensitivity) / specificity
        # epiR: SE of log(LR) (Simel, Samsa & Matchar 1991)
        lr_positive_se = np.sqrt(
            (1 - sensitivity) / (n_positive * sensitivity) + specificity / (n_negative * (1 - specificity))
        )
        lr_negative_se = np.sqrt(
            sensitivity / (n_positive * (1 - sensitivity)) + (1 - specificity) / (n_negative * specificity)
        )
        odds_ratio = np.float64(tp * tn) / (fp * fn)
        odds_ratio_se = np.sqrt(np.sum(1 / np.array([tp, fp, fn, tn], dtype=float)))
    estimates = {
        "sensitivity": _clopper_pearson(tp, n_positive, conf_level),
        "specificity": _clopper_pearson(tn, n_negative, conf_level),
        "ppv": _clopper_pearson(tp, tp + fp, conf_level),
        "npv": _clopper_pearson(tn, tn + fn, conf_level),
        "accuracy": _clopper_pearson(tp + tn, n_positive + n_negative, conf_level),
        "lr_positive": _log_interval(float(lr_positive), lr_positive_se, z),
        "lr_negative": _log_interval(float(lr_negative), lr_negative_se, z),
        "diagnostic_odds_ratio": _log_interval(float(odds_ratio), odds_ratio_se, z),
    }
    nan = float("nan")
    counts = {"tp": (tp, nan, nan), "fp": (fp, nan, nan), "fn": (fn, nan, nan), "tn": (tn, nan, nan)}
    rows = [(metric, *values) for metric, values in {**estimates, **counts}.items()]
    return pd.DataFrame(rows, columns=["metric", "value", "ci_low", "ci_high"])
