"""Intraclass correlation coefficients (inter- and intra-reader reliability).

The formulas are the ANOVA estimators of Shrout & Fleiss (1979) and McGraw & Wong (1996)
exactly as ``psych::ICC(x, lmer = FALSE)`` computes them, including psych's confidence
interval of ICC(A,1) with the Satterthwaite-type denominator degrees of freedom of
McGraw & Wong. One vectorised core (:func:`_icc_arrays`) serves both the single-table
:func:`icc` and the per-feature :func:`icc_features`, so the two cannot disagree.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ..validation import numeric_frame
from ._conf_level import resolve_conf_level

__all__ = [
    "ICC_FORMS",
    "ICC_FORM_PARTS",
    "icc_form_name",
    "DroppedTargetsWarning",
    "UndefinedIccWarning",
    "icc",
    "icc_features",
]

#: The six ICC forms, keyed by psych's names: McGraw & Wong's (1996) name, the model in
#: words, and the unit of reliability. The one home of ICC names: tables, methods text
#: and checklists read them here.
ICC_FORM_PARTS = {
    "ICC1": ("ICC(1)", "one-way random", "absolute agreement", "single rater"),
    "ICC2": ("ICC(A,1)", "two-way random", "absolute agreement", "single rater"),
    "ICC3": ("ICC(C,1)", "two-way mixed", "consistency", "single rater"),
    "ICC1k": ("ICC(k)", "one-way random", "absolute agreement", "mean of k raters"),
    "ICC2k": ("ICC(A,k)", "two-way random", "absolute agreement", "mean of k raters"),
    "ICC3k": ("ICC(C,k)", "two-way mixed", "consistency", "mean of k raters"),
}
#: psych's form names mapped to the McGraw & Wong (1996) names and models.
ICC_FORMS = {form: f"{name} {model}, {definition}, {unit}" for form, (name, model, definition, unit) in ICC_FORM_PARTS.items()}


def icc_form_name(form: str) -> str:
    """McGraw & Wong's name of a psych ICC form, as manuscripts write it ("ICC2" -> "ICC(A,1)")."""
    return ICC_FORM_PARTS[form][0] if form in ICC_FORM_PARTS else form


_MIN_TARGETS = 3


class DroppedTargetsWarning(UserWarning):
    """Targets (rows) with a missing rating were left out of the ICC."""


class UndefinedIccWarning(UserWarning):
    """The ICC of some features is undefined (no variance at all); they are NaN."""


def _single_rater_bound(f_bound: np.ndarray, k: int) -> np.ndarray:
    """(F - 1) / (F + k - 1), with its limit 1 for F = inf (readers agreeing exactly)."""
    return np.where(np.isinf(f_bound), 1.0, (f_bound - 1) / (f_bound + k - 1))


def _mean_squares(ratings: np.ndarray) -> dict[str, np.ndarray]:
    """Two-way ANOVA mean squares (per feature) of ``ratings`` (n_targets, k_raters, n_features):
    between targets (msb), between raters (msj), residual (mse) and within targets (msw)."""
    n, k = ratings.shape[0], ratings.shape[1]
    grand = ratings.mean(axis=(0, 1))
    target_means = ratings.mean(axis=1)  # (n, features)
    rater_means = ratings.mean(axis=0)  # (k, features)
    ss_targets = k * ((target_means - grand) ** 2).sum(axis=0)
    ss_raters = n * ((rater_means - grand) ** 2).sum(axis=0)
    # The residual from its definition, not SST - SSB - SSJ, which cancels badly when the
    # readers agree closely (the case that matters).
    residual = ratings - target_means[:, None, :] - rater_means[None, :, :] + grand
    ss_error = (residual**2).sum(axis=(0, 1))
    return {
        "msb": ss_targets / (n - 1),
        "msj": ss_raters / (k - 1),
        "mse": ss_error / ((n - 1) * (k - 1)),
        "msw": (ss_raters + ss_error) / (n * (k - 1)),
    }


def _absolute_agreement_interval(squares, icc2, n: int, k: int, upper_q: float) -> tuple[np.ndarray, np.ndarray]:
    """CI of ICC(A,1) with McGraw & Wong's approximate denominator df v, as psych."""
    msb, msj, mse = squares["msb"], squares["msj"], squares["mse"]
    f_raters = msj / mse
    v_num = (k - 1) * (n - 1) * (k * icc2 * f_raters + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v_den = (n - 1) * k**2 * icc2**2 * f_raters**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    # Readers that agree up to a shift (mse = 0) give v = inf / inf; its limit is k - 1,
    # which R reaches too (its residual mean square is ~1e-30, not 0).
    v = np.where(mse == 0, k - 1, v_num / v_den)
    f_for_low = sps.f.ppf(upper_q, n - 1, v)
    f_for_high = sps.f.ppf(upper_q, v, n - 1)
    spread = k * msj + (k * n - k - n) * mse
    icc2_low = n * (msb - f_for_low * mse) / (f_for_low * spread + n * msb)
    icc2_high = n * (f_for_high * msb - mse) / (spread + n * f_for_high * msb)
    return icc2_low, icc2_high


def _icc_arrays(ratings: np.ndarray, alpha: float) -> dict[str, dict[str, np.ndarray]]:
    """All six ICCs for ``ratings`` of shape (n_targets, k_raters, n_features).

    Returns {form: {icc, f, df1, df2, p, ci_low, ci_high}} with one value per feature.
    """
    n, k = ratings.shape[0], ratings.shape[1]
    df_targets, df_error, df_within = n - 1, (n - 1) * (k - 1), n * (k - 1)
    squares = _mean_squares(ratings)
    msb, msj, mse, msw = squares["msb"], squares["msj"], squares["mse"], squares["msw"]

    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)
        icc1k = (msb - msw) / msb
        icc2k = (msb - mse) / (msb + (msj - mse) / n)
        icc3k = (msb - mse) / msb
        f_one_way = msb / msw
        f_two_way = msb / mse
        p_one_way = sps.f.sf(f_one_way, df_targets, df_within)
        p_two_way = sps.f.sf(f_two_way, df_targets, df_error)

        # Shrout & Fleiss exact F-based intervals for the one-way and consistency forms.
        upper_q = 1 - alpha / 2
        f1_low = f_one_way / sps.f.ppf(upper_q, df_targets, df_within)
        f1_high = f_one_way * sps.f.ppf(upper_q, df_within, df_targets)
        f3_low = f_two_way / sps.f.ppf(upper_q, df_targets, df_error)
        f3_high = f_two_way * sps.f.ppf(upper_q, df_error, df_targets)
        icc2_low, icc2_high = _absolute_agreement_interval(squares, icc2, n, k, upper_q)
        f1_bounds = (_single_rater_bound(f1_low, k), _single_rater_bound(f1_high, k))
        f3_bounds = (_single_rater_bound(f3_low, k), _single_rater_bound(f3_high, k))
        f1k_bounds = (1 - 1 / f1_low, 1 - 1 / f1_high)
        f3k_bounds = (1 - 1 / f3_low, 1 - 1 / f3_high)
        icc2k_bounds = (icc2_low * k / (1 + icc2_low * (k - 1)), icc2_high * k / (1 + icc2_high * (k - 1)))

    def form(value, f, df1, df2, p, low, high):
        shape = value.shape
        return {
            "icc": value,
            "f": f,
            "df1": np.broadcast_to(float(df1), shape),
            "df2": np.broadcast_to(float(df2), shape),
            "p": p,
            "ci_low": low,
            "ci_high": high,
        }

    return {
        "ICC1": form(icc1, f_one_way, df_targets, df_within, p_one_way, *f1_bounds),
        "ICC2": form(icc2, f_two_way, df_targets, df_error, p_two_way, icc2_low, icc2_high),
        "ICC3": form(icc3, f_two_way, df_targets, df_error, p_two_way, *f3_bounds),
        "ICC1k": form(icc1k, f_one_way, df_targets, df_within, p_one_way, *f1k_bounds),
        "ICC2k": form(icc2k, f_two_way, df_targets, df_error, p_two_way, *icc2k_bounds),
        "ICC3k": form(icc3k, f_two_way, df_targets, df_error, p_two_way, *f3k_bounds),
    }


def _alpha_of(conf_level: float, alpha: float | None) -> float:
    """psych's ``alpha`` (1 - confidence level) from ``conf_level`` or from psych's own keyword."""
    resolve_conf_level(conf_level, alpha, "alpha", is_alpha=True)
    return alpha if alpha is not None else 1 - conf_level


def icc(ratings, alpha: float | None = None, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Six intraclass correlation coefficients of a targets x raters table.

    Follows ``psych::ICC(x, lmer = FALSE)``: two-way ANOVA without interaction, the
    Shrout & Fleiss (1979) forms ICC1, ICC2, ICC3 (single rater) and ICC1k, ICC2k, ICC3k
    (mean of k raters), their F tests against 0 and ``conf_level`` confidence intervals;
    for ICC2/ICC2k the interval uses McGraw & Wong's (1996) approximate degrees of freedom,
    as psych does. ``description`` gives the McGraw & Wong name of each form; inter-reader
    agreement of measurements is usually reported as ICC2, "ICC(A,1)".

    Parameters
    ----------
    ratings : DataFrame or 2-D array, n_targets x k_raters (k >= 2)
        One row per patient/lesion, one column per reader (or reading session).
    alpha : float, optional
        psych's name for 1 - confidence level (``psych::ICC(x, alpha = 0.05)``), kept for
        existing callers; ``conf_level`` is the keyword of every other statistic. Giving
        both with different levels raises :class:`InputError`.
    conf_level : float
        Confidence level of the intervals (default 0.95).

    Targets with a missing rating are dropped with a :class:`DroppedTargetsWarning`
    naming them (psych stops instead); at least 3 complete targets are required.

    Returns
    -------
    DataFrame indexed by ``form`` with columns icc, f, df1, df2, p, ci_low, ci_high,
    description.

    Examples
    --------
    >>> ratings = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> table = icc(ratings)
    >>> table.loc[["ICC2", "ICC3"], ["icc", "ci_low", "ci_high"]].round(3)
            icc  ci_low  ci_high
    form
    ICC2  0.290   0.019    0.761
    ICC3  0.715   0.342    0.946
    """
    alpha = _alpha_of(conf_level, alpha)
    if np.ndim(ratings) != 2:
        raise InputError(f"'ratings' must be a 2-D table (targets x raters); got shape {np.shape(ratings)}.")
    frame = numeric_frame(pd.DataFrame(ratings), "ratings")
    if frame.shape[1] < 2:
        raise InputError(f"'ratings' needs at least 2 rater columns; got {frame.shape[1]}.")
    incomplete = frame.isna().any(axis=1)
    if incomplete.any():
        dropped = list(frame.index[incomplete])
        warnings.warn(
            f"{len(dropped)} target(s) with a missing rating left out of the ICC: {dropped}.",
            DroppedTargetsWarning,
            stacklevel=2,
        )
        frame = frame.loc[~incomplete]
    if frame.shape[0] < _MIN_TARGETS:
        raise InputError(f"'ratings' needs at least {_MIN_TARGETS} targets with complete ratings; got {frame.shape[0]}.")
    if np.ptp(frame.to_numpy()) == 0:
        raise InputError(f"The ICC is undefined: all {frame.size} ratings are identical ({float(frame.iat[0, 0]):g}).")
    forms = _icc_arrays(frame.to_numpy()[:, :, None], alpha)
    table = pd.DataFrame({name: {key: float(values[0]) for key, values in columns.items()} for name, columns in forms.items()}).T
    table.index.name = "form"
    table["description"] = [ICC_FORMS[name] for name in table.index]
    return table


def _aligned_readers(reader_a: pd.DataFrame, reader_b: pd.DataFrame) -> None:
    for name, frame in (("reader_a", reader_a), ("reader_b", reader_b)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"'{name}' must be a DataFrame (patients x features); got {type(frame).__name__}.")
    problems = []
    for what, index_a, index_b in (
        ("patients (index)", reader_a.index, reader_b.index),
        ("features (columns)", reader_a.columns, reader_b.columns),
    ):
        only_a = index_a.difference(index_b)
        only_b = index_b.difference(index_a)
        if len(only_a) or len(only_b):
            problems.append(
                f"{what} differ: only in reader_a {list(only_a[:5])}{' ...' if len(only_a) > 5 else ''}, "
                f"only in reader_b {list(only_b[:5])}{' ...' if len(only_b) > 5 else ''}"
            )
        elif index_a.has_duplicates:
            problems.append(f"{what} contain duplicates: {list(index_a[index_a.duplicated()][:5])}")
    if problems:
        raise InputError("reader_a and reader_b must describe the same patients and features; " + "; ".join(problems) + ".")


def icc_features(
    reader_a: pd.DataFrame,
    reader_b: pd.DataFrame,
    form: str = "ICC2",
    *,
    alpha: float | None = None,
    with_ci: bool = False,
    conf_level: float = 0.95,
) -> pd.Series | pd.DataFrame:
    """One ICC per feature column from two readings of the same patients.

    The same estimators as :func:`icc` (``psych::ICC(cbind(a[, j], b[, j]), lmer = FALSE)``
    for every feature j), computed for all features at once with NumPy. ``reader_b`` is
    aligned to ``reader_a`` by index (patients) and columns (features); both must hold
    the same labels.

    Features with no variance at all (constant in both readings) or with a missing value
    get NaN with one :class:`UndefinedIccWarning` saying how many. ``conf_level`` sets the
    level of the intervals of ``with_ci=True`` (``alpha`` = 1 - ``conf_level``, psych's name,
    is accepted as for :func:`icc`).

    Returns
    -------
    Series of ICC values indexed by feature (name = ``form``), or with ``with_ci=True`` a
    DataFrame indexed by feature with columns icc, ci_low, ci_high, f, p.

    Examples
    --------
    >>> import pandas as pd
    >>> reader_a = pd.DataFrame({"volume": [10.0, 12, 15, 9, 20], "mean": [1.0, 1.4, 0.9, 1.2, 1.1]})
    >>> reader_b = pd.DataFrame({"volume": [11.0, 12, 14, 9, 21], "mean": [1.2, 1.1, 1.0, 1.0, 1.3]})
    >>> icc_features(reader_a, reader_b).round(3)
    feature
    volume    0.985
    mean     -0.023
    Name: ICC2, dtype: float64
    """
    if form not in ICC_FORMS:
        raise InputError(f"'form' must be one of {list(ICC_FORMS)}; got {form!r}.")
    alpha = _alpha_of(conf_level, alpha)
    _aligned_readers(reader_a, reader_b)
    first = numeric_frame(reader_a, "reader_a")
    second = numeric_frame(reader_b, "reader_b").loc[first.index, first.columns]
    if first.shape[0] < _MIN_TARGETS:
        raise InputError(f"ICC needs at least {_MIN_TARGETS} patients; got {first.shape[0]}.")
    ratings = np.stack([first.to_numpy(), second.to_numpy()], axis=1)  # patients x readers x features

    missing = np.isnan(ratings).any(axis=(0, 1))
    constant = np.ptp(np.where(np.isnan(ratings), 0.0, ratings), axis=(0, 1)) == 0
    undefined = missing | constant
    with np.errstate(invalid="ignore", divide="ignore"):
        result = _icc_arrays(ratings, alpha)[form]
    if undefined.any():
        names = list(first.columns[undefined][:5])
        warnings.warn(
            f"ICC undefined for {int(undefined.sum())} of {undefined.size} feature(s) "
            f"({int(constant.sum())} constant, {int(missing.sum())} with missing values), set to NaN: "
            f"{names}{' ...' if undefined.sum() > 5 else ''}.",
            UndefinedIccWarning,
            stacklevel=2,
        )
    columns = ["icc", "ci_low", "ci_high", "f", "p"] if with_ci else ["icc"]
    table = pd.DataFrame({column: np.where(undefined, np.nan, result[column]) for column in columns}, index=first.columns)
    table.index.name = "feature"
    if with_ci:
        return table
    return table["icc"].rename(form)
