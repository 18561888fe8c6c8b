"""Calibration of predicted probabilities: Hosmer-Lemeshow, val.prob metrics, curves, and
Harrell's bootstrap optimism correction.

Defaults follow ``ResourceSelection::hoslem.test``, ``rms::val.prob`` and ``rms::validate``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps
from sklearn.metrics import roc_auc_score
from statsmodels.nonparametric.smoothers_lowess import lowess

from ..errors import InputError
from ..validation import binary_outcome, probabilities, require_columns, same_length
from ._conf_level import resolve_conf_level
from ._result import Result
from .logistic import _fit_glm


def _outcome_and_predictions(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = binary_outcome(y, "y")
    p = probabilities(p, "p")
    same_length(y=y, p=p)
    return y, p


@dataclasses.dataclass(frozen=True, repr=False)
class HLResult(Result):
    """Hosmer-Lemeshow goodness-of-fit test; ``table`` has one row per risk group."""

    statistic: float
    df: int
    p: float
    groups: int
    table: pd.DataFrame


def _quantile_groups(p: np.ndarray, groups: int) -> np.ndarray:
    """Group index per prediction, as R ``cut(p, unique(quantile(p, seq(0, 1, 1/g))), include.lowest = TRUE)``."""
    # numpy's default 'linear' quantile is R's type 7, the default of quantile()
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    # intervals are right-closed (a, b]; the lowest break belongs to the first interval
    return np.maximum(np.searchsorted(breaks, p, side="left"), 1) - 1


def hosmer_lemeshow(y, p, groups: int = 10) -> HLResult:
    """Hosmer-Lemeshow test with quantile groups, as ``ResourceSelection::hoslem.test(y, p, g)``.

    Groups are cut at the unique type-7 quantiles of ``p`` (tied quantiles merge groups, so
    there can be fewer than ``groups``); the statistic sums (O - E)^2 / E over events and
    non-events of every group; df = ``groups`` - 2 as hoslem.test, even when groups merged.

    Examples
    --------
    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0]
    >>> p = [0.1, 0.2, 0.3, 0.25, 0.7, 0.8, 0.4, 0.6, 0.15, 0.9, 0.55, 0.35]
    >>> result = hosmer_lemeshow(y, p, groups=4)
    >>> round(result.statistic, 3), result.df, round(result.p, 3)
    (1.566, 2, 0.457)
    """
    y, p = _outcome_and_predictions(y, p)
    if not isinstance(groups, (int, np.integer)) or groups < 3:
        raise InputError(f"'groups' must be an integer of at least 3; got {groups!r}.")
    group = _quantile_groups(p, groups)
    frame = pd.DataFrame({"group": group + 1, "y": y, "p": p})
    table = (
        frame.groupby("group")
        .agg(
            n=("y", "size"),
            p_min=("p", "min"),
            p_max=("p", "max"),
            mean_predicted=("p", "mean"),
            observed_events=("y", "sum"),
            expected_events=("p", "sum"),
        )
        .reset_index()
    )
    table["observed_nonevents"] = table["n"] - table["observed_events"]
    table["expected_nonevents"] = table["n"] - table["expected_events"]
    statistic = float(
        ((table["observed_events"] - table["expected_events"]) ** 2 / table["expected_events"]).sum()
        + ((table["observed_nonevents"] - table["expected_nonevents"]) ** 2 / table["expected_nonevents"]).sum()
    )
    df = groups - 2
    return HLResult(statistic=statistic, df=df, p=float(sps.chi2.sf(statistic, df)), groups=len(table), table=table)


@dataclasses.dataclass(frozen=True, repr=False)
class CalibrationMetrics(Result):
    """Calibration and accuracy of predicted probabilities (``rms::val.prob`` names in brackets).

    ``intercept`` and ``slope`` [Intercept, Slope] come from the logistic recalibration
    ``glm(y ~ qlogis(p))``; ``calibration_in_the_large`` is the intercept with the slope fixed
    at 1 (``glm(y ~ offset(qlogis(p)))``), 0 when predictions are right on average.
    ``brier`` [Brier]; ``brier_scaled`` = 1 - Brier / (ybar (1 - ybar)); ``emax``, ``e90``,
    ``eavg`` [Emax, E90, Eavg]: max, 90th percentile and mean of |p - lowess(p, y)|;
    ``c_index`` [C (ROC)], ``dxy`` [Dxy]; ``spiegelhalter_z``, ``spiegelhalter_p`` [S:z, S:p].
    """

    intercept: float
    slope: float
    calibration_in_the_large: float
    brier: float
    brier_scaled: float
    emax: float
    e90: float
    eavg: float
    c_index: float
    dxy: float
    spiegelhalter_z: float
    spiegelhalter_p: float
    n: int
    n_events: int


def _lowess_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R ``lowess(p, y, iter = 0)`` (f = 2/3, delta = 1 % of the range) at the unique sorted p."""
    fitted = lowess(y, p, frac=2 / 3, it=0, delta=0.01 * np.ptp(p), return_sorted=True)
    # R's approx(..., ties = mean) averages the smooth over tied predictions
    unique_p, inverse = np.unique(fitted[:, 0], return_inverse=True)
    return unique_p, np.bincount(inverse, weights=fitted[:, 1]) / np.bincount(inverse)


def calibration_metrics(y, p) -> CalibrationMetrics:
    """Calibration metrics of predicted probabilities, as ``rms::val.prob(p, y)``.

    Examples
    --------
    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0]
    >>> p = [0.1, 0.2, 0.3, 0.25, 0.7, 0.8, 0.4, 0.6, 0.15, 0.9, 0.55, 0.35]
    >>> metrics = calibration_metrics(y, p)
    >>> round(metrics.brier, 4), round(metrics.c_index, 3), round(metrics.slope, 3)
    (0.1175, 0.944, 3.252)
    """
    y, p = _outcome_and_predictions(y, p)
    logit = special.logit(p)
    recalibration = _fit_glm(y.astype(float), np.column_stack([np.ones_like(logit), logit]))
    in_the_large = _fit_glm(y.astype(float), np.ones((y.size, 1)), offset=logit)
    smooth_p, smooth_y = _lowess_curve(y, p)
    errors = np.abs(p - np.interp(p, smooth_p, smooth_y))
    brier = float(np.mean((p - y) ** 2))
    prevalence = y.mean()
    # Spiegelhalter's z as val.prob: sum((y - p)(1 - 2p)) / sqrt(sum((1 - 2p)^2 p (1 - p)))
    spiegelhalter_z = float(np.sum((y - p) * (1 - 2 * p)) / np.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p))))
    c_index = float(roc_auc_score(y, p))
    return CalibrationMetrics(
        intercept=float(recalibration.params[0]),
        slope=float(recalibration.params[1]),
        calibration_in_the_large=float(in_the_large.params[0]),
        brier=brier,
        brier_scaled=1 - brier / (prevalence * (1 - prevalence)),
        emax=float(errors.max()),
        e90=float(np.quantile(errors, 0.9)),
        eavg=float(errors.mean()),
        c_index=c_index,
        dxy=2 * c_index - 1,
        spiegelhalter_z=spiegelhalter_z,
        spiegelhalter_p=float(2 * sps.norm.sf(abs(spiegelhalter_z))),
        n=int(y.size),
        n_events=int(y.sum()),
    )


def calibration_curve(
    y,
    p,
    method: str = "loess",
    groups: int = 10,
    n_boot: int = 0,
    seed: int | None = None,
    level: float | None = None,
    *,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Observed against predicted risk, for a calibration plot.

    ``method="loess"``: R ``lowess(p, y, iter = 0)`` (the smooth of ``rms::val.prob``) at
    each unique prediction; ``ci_low``/``ci_high`` are percentile bootstrap limits when
    ``n_boot`` > 0 (resampling patients), else NaN. ``method="grouped"``: the
    Hosmer-Lemeshow quantile groups, observed proportion with a Clopper-Pearson CI, and
    ``n`` per group. Columns: ``predicted, observed, ci_low, ci_high`` (+ ``n`` grouped).
    ``conf_level`` is the level of both intervals (``level``, its older name, still works).

    Examples
    --------
    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0]
    >>> p = [0.1, 0.2, 0.3, 0.25, 0.7, 0.8, 0.4, 0.6, 0.15, 0.9, 0.55, 0.35]
    >>> calibration_curve(y, p, method="grouped", groups=3).round(3)
       predicted  observed  ci_low  ci_high  n
    0      0.175       0.0   0.000    0.602  4
    1      0.400       0.5   0.068    0.932  4
    2      0.750       1.0   0.398    1.000  4
    """
    y, p = _outcome_and_predictions(y, p)
    alpha = 1 - resolve_conf_level(conf_level, level, "level")
    if method == "grouped":
        table = hosmer_lemeshow(y, p, groups).table
        events, n = table["observed_events"].to_numpy(), table["n"].to_numpy()
        # Clopper-Pearson limits from the beta distribution, as binom.test
        with np.errstate(invalid="ignore"):
            ci_low = np.where(events > 0, sps.beta.ppf(alpha / 2, events, n - events + 1), 0.0)
            ci_high = np.where(events < n, sps.beta.ppf(1 - alpha / 2, events + 1, n - events), 1.0)
        return pd.DataFrame({"predicted": table["mean_predicted"], "observed": events / n, "ci_low": ci_low, "ci_high": ci_high, "n": n})
    if method != "loess":
        raise InputError(f"'method' must be 'loess' or 'grouped'; got {method!r}.")
    predicted, observed = _lowess_curve(y, p)
    ci_low = ci_high = np.full(predicted.size, np.nan)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        curves = np.full((n_boot, predicted.size), np.nan)
        for b in range(n_boot):
            rows = rng.integers(0, y.size, y.size)
            boot_p, boot_observed = _lowess_curve(y[rows], p[rows])
            inside = (predicted >= boot_p[0]) & (predicted <= boot_p[-1])  # no extrapolation
            curves[b, inside] = np.interp(predicted[inside], boot_p, boot_observed)
        ci_low, ci_high = np.nanquantile(curves, [alpha / 2, 1 - alpha / 2], axis=0)
    return pd.DataFrame({"predicted": predicted, "observed": observed, "ci_low": ci_low, "ci_high": ci_high})


@dataclasses.dataclass(frozen=True, repr=False)
class CalibrationSummary(Result):
    """Everything a calibration plot shows, computed once (:func:`calibration_summary`).

    ``curve``: the lowess curve with its bootstrap band (:func:`calibration_curve`,
    ``method="loess"``); ``grouped``: observed against predicted per Hosmer-Lemeshow risk
    group (``method="grouped"``); ``metrics``: :class:`CalibrationMetrics`;
    ``hosmer_lemeshow``: :class:`HLResult`; ``predicted`` and ``outcome``: the validated
    inputs (for the histograms); ``groups``, ``n_boot`` and ``seed`` as given.
    """

    curve: pd.DataFrame
    grouped: pd.DataFrame
    metrics: CalibrationMetrics
    hosmer_lemeshow: HLResult
    predicted: np.ndarray
    outcome: np.ndarray
    groups: int
    n_boot: int
    seed: int | None


def calibration_summary(y, p, *, groups: int = 10, n_boot: int = 200, seed: int | None) -> CalibrationSummary:
    """Lowess curve with a bootstrap band, grouped curve, val.prob metrics and Hosmer-Lemeshow
    test of one set of predictions: the numbers of
    :func:`stsanalysis.plotting.calibration_figure`, which only draws them.

    ``n_boot`` resamples for the 95 % band of the lowess curve (0 for none); ``seed`` is
    required so that the band is reproducible; ``groups`` risk groups for the grouped curve
    and the Hosmer-Lemeshow test.

    Examples
    --------
    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0]
    >>> p = [0.1, 0.2, 0.3, 0.25, 0.7, 0.8, 0.4, 0.6, 0.15, 0.9, 0.55, 0.35]
    >>> summary = calibration_summary(y, p, groups=4, n_boot=20, seed=1)
    >>> round(summary.metrics.brier, 4), len(summary.grouped), summary.hosmer_lemeshow.df
    (0.1175, 4, 2)
    """
    outcome, predicted = _outcome_and_predictions(y, p)
    return CalibrationSummary(
        curve=calibration_curve(outcome, predicted, method="loess", n_boot=n_boot, seed=seed),
        grouped=calibration_curve(outcome, predicted, method="grouped", groups=groups),
        metrics=calibration_metrics(outcome, predicted),
        hosmer_lemeshow=hosmer_lemeshow(outcome, predicted, groups=groups),
        predicted=predicted,
        outcome=outcome,
        groups=groups,
        n_boot=n_boot,
        seed=seed,
    )


_VALIDATION_METRICS = ("auc", "dxy", "calibration_intercept", "calibration_slope", "brier")
# predictions are clipped before the logit so that a bootstrap model with fitted 0/1 stays finite
_LOGIT_CLIP = 1e-12


def _performance(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    p = np.clip(p, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    logit = special.logit(p)
    recalibration = _fit_glm(y.astype(float), np.column_stack([np.ones_like(logit), logit]))
    auc = float(roc_auc_score(y, p))
    return {
        "auc": auc,
        "dxy": 2 * auc - 1,
        "calibration_intercept": float(recalibration.params[0]),
        "calibration_slope": float(recalibration.params[1]),
        "brier": float(np.mean((p - y) ** 2)),
    }


def _predicted_risk(model, data: pd.DataFrame) -> np.ndarray:
    """P(outcome = 1): scikit-learn's ``predict_proba(data)[:, 1]``, else ``predict(data)``."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(data), dtype=float)[:, 1]
    return np.asarray(model.predict(data), dtype=float)


def bootstrap_validation(
    fit_fn: Callable[[pd.DataFrame], object],
    data: pd.DataFrame,
    outcome: str,
    n_boot: int = 200,
    seed: int | None = None,
) -> pd.DataFrame:
    """Harrell's bootstrap optimism correction, as ``rms::validate(lrm_fit, B = n_boot)``.

    ``fit_fn(train)`` fits the whole modelling procedure on a DataFrame and returns a model
    whose ``predict(data)`` gives probabilities (e.g.
    ``lambda d: logistic_regression(d, "y", ["x1", "x2"])``) or a fitted scikit-learn
    classifier/pipeline, whose ``predict_proba(data)[:, 1]`` is used (so that feature
    selection inside the pipeline is repeated in every bootstrap sample). For each bootstrap sample the
    model is refitted; optimism = performance on the bootstrap sample - performance of that
    model on the original data; ``corrected`` = ``apparent`` - mean optimism.

    Metrics: ``auc`` (= Dxy / 2 + 0.5, rank based, ``sklearn.metrics.roc_auc_score``),
    ``dxy``, ``calibration_intercept`` and ``calibration_slope`` (refit of ``y`` on the
    logit of the predictions), ``brier``. rms fixes the training-sample intercept and slope
    at 0 and 1; refitting gives the same for maximum-likelihood models and stays honest for
    penalised ones. Bootstrap samples whose fit raises :class:`InputError` (e.g. one
    outcome class) are skipped; warnings of the refits (separation, events per parameter)
    are counted, not repeated. ``attrs``: ``n_boot_successful``, ``n_boot_warnings``.
    Resampling uses NumPy's generator, so the corrected values differ from R's at the
    Monte-Carlo level; the apparent values are identical.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from stsanalysis.stats import logistic_regression
    >>> rng = np.random.default_rng(1)
    >>> data = pd.DataFrame({"size_cm": rng.normal(6, 2, 80)})
    >>> data["high_grade"] = (data["size_cm"] + rng.normal(0, 2, 80) > 6).astype(int)
    >>> table = bootstrap_validation(lambda d: logistic_regression(d, "high_grade", ["size_cm"]), data, "high_grade",
    ...                              n_boot=20, seed=1)
    >>> table.set_index("metric").loc["auc"].round(3)
    apparent     0.860
    optimism    -0.012
    corrected    0.872
    Name: auc, dtype: float64
    """
    require_columns(data, [outcome])
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise InputError(f"'n_boot' must be a positive integer; got {n_boot!r}.")
    y = binary_outcome(data[outcome], outcome)
    apparent = _performance(y, _predicted_risk(fit_fn(data), data))
    rng = np.random.default_rng(seed)
    optimism = []
    n_warnings = 0
    for _ in range(n_boot):
        sample = data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = fit_fn(sample)
                train = _performance(sample[outcome].to_numpy(dtype=int), _predicted_risk(model, sample))
                test = _performance(y, _predicted_risk(model, data))
            except InputError:
                continue
        n_warnings += len(caught) > 0
        optimism.append([train[metric] - test[metric] for metric in _VALIDATION_METRICS])
    if not optimism:
        raise InputError("No bootstrap sample could be fitted; check the model and the outcome column.")
    mean_optimism = np.mean(optimism, axis=0)
    table = pd.DataFrame(
        {
            "metric": list(_VALIDATION_METRICS),
            "apparent": [apparent[metric] for metric in _VALIDATION_METRICS],
            "optimism": mean_optimism,
        }
    )
    table["corrected"] = table["apparent"] - table["optimism"]
    table.attrs["n_boot_successful"] = len(optimism)
    table.attrs["n_boot_warnings"] = n_warnings
    return table
