"""Input checks shared by every public function.

Public functions validate their arguments here, early, so that a bad column is reported
with its name, the expectation and what was found (scikit-learn style), never as a NumPy
error from deep inside a computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import InputError


def _describe_bad_values(series: pd.Series, mask: np.ndarray, limit: int = 3) -> str:
    bad = series[mask]
    shown = ", ".join(f"{idx!r}: {val!r}" for idx, val in list(bad.items())[:limit])
    more = f" and {mask.sum() - limit} more" if mask.sum() > limit else ""
    return f"{shown}{more}"


def numeric_vector(
    values,
    name: str = "values",
    *,
    allow_nan: bool = False,
    min_size: int = 1,
) -> np.ndarray:
    """Return ``values`` as a 1-D float array, or raise :class:`InputError` naming ``name``.

    Strings that are not numbers, NaN (unless ``allow_nan``), infinities, a wrong shape and
    fewer than ``min_size`` values are refused with a message that shows the offending
    rows (index labels when ``values`` is a Series).
    """
    if np.ndim(values) != 1:
        raise InputError(f"'{name}' must be one-dimensional; got shape {np.shape(values)}.")
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    if series.dtype == bool:
        series = series.astype(float)
    numeric = pd.to_numeric(series, errors="coerce")
    not_numeric = numeric.isna().to_numpy() & ~series.isna().to_numpy()
    if not_numeric.any():
        raise InputError(
            f"'{name}' must be numeric; {int(not_numeric.sum())} value(s) are not numbers "
            f"({_describe_bad_values(series, not_numeric)}). Clean or recode them."
        )
    array = numeric.to_numpy(dtype=float)
    missing = np.isnan(array)
    if missing.any() and not allow_nan:
        raise InputError(
            f"'{name}' has {int(missing.sum())} missing value(s) (NaN or empty) at "
            f"{list(series.index[missing][:5])}; drop those rows or impute them first."
        )
    if np.isinf(array).any():
        raise InputError(f"'{name}' contains infinite values; replace them before the analysis.")
    if (array.size - int(missing.sum())) < min_size:
        raise InputError(f"'{name}' needs at least {min_size} non-missing value(s); got {array.size - int(missing.sum())}.")
    return array


def binary_outcome(values, name: str = "outcome", *, min_per_class: int = 1) -> np.ndarray:
    """Return a 0/1 integer array, or raise :class:`InputError` naming ``name``.

    Accepts booleans and any two numeric values coded 0/1. Refuses missing values, other
    codings and classes with fewer than ``min_per_class`` members.
    """
    array = numeric_vector(values, name)
    levels = np.unique(array)
    if not set(levels.tolist()) <= {0.0, 1.0}:
        raise InputError(
            f"The '{name}' column must be binary coded 0/1; got values {levels[:6].tolist()}"
            f"{' ...' if levels.size > 6 else ''} in {array.size} rows."
        )
    counts = {int(level): int((array == level).sum()) for level in (0, 1)}
    if levels.size < 2:
        only = int(levels[0]) if levels.size else None
        raise InputError(f"The '{name}' column must have exactly two values; got 1 (all {only}) in {array.size} rows.")
    if min(counts.values()) < min_per_class:
        raise InputError(
            f"The '{name}' column needs at least {min_per_class} observations in each class; got {counts[0]} with 0 and {counts[1]} with 1."
        )
    return array.astype(int)


def require_columns(data: pd.DataFrame, columns: Iterable[str], what: str = "data") -> None:
    """Raise :class:`InputError` listing every column of ``columns`` missing from ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"'{what}' must be a pandas DataFrame; got {type(data).__name__}.")
    missing = [column for column in columns if column not in data.columns]
    if missing:
        available = ", ".join(map(str, data.columns[:20]))
        raise InputError(
            f"Column(s) {missing} not found in {what}. Available columns: {available}"
            f"{' ...' if data.shape[1] > 20 else ''}. Check the spelling or map them in study.yaml."
        )


def two_levels(groups, name: str = "group") -> tuple[np.ndarray, list]:
    """Return (codes, levels) for a grouping variable with exactly two levels (sorted)."""
    series = pd.Series(groups)
    if series.isna().any():
        raise InputError(f"The grouping column '{name}' has {int(series.isna().sum())} missing value(s).")
    levels = sorted(series.unique().tolist())
    if len(levels) != 2:
        raise InputError(f"The grouping column '{name}' must have exactly 2 levels; got {len(levels)} ({levels[:6]}).")
    return (series == levels[1]).to_numpy().astype(int), levels


def probabilities(values, name: str = "predictions", *, closed: bool = False) -> np.ndarray:
    """Return predicted probabilities as floats strictly inside (0, 1), or raise.

    ``closed=True`` accepts 0 and 1 as well (for uses that never take the logit).
    """
    array = numeric_vector(values, name)
    outside = ((array < 0) | (array > 1)) if closed else ((array <= 0) | (array >= 1))
    if outside.any():
        interval = "between 0 and 1" if closed else "strictly between 0 and 1"
        raise InputError(
            f"'{name}' must be probabilities {interval}; {int(outside.sum())} value(s) are outside (e.g. {array[outside][:3].tolist()})."
        )
    return array


def same_length(**arrays: Sequence) -> None:
    """Raise :class:`InputError` when the named arrays differ in length."""
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"Inputs must have the same length; got {lengths}.")


def name_of(values, default: str) -> str:
    """The name to use for ``values`` in messages: the Series name if it has one, else ``default``."""
    return str(values.name) if isinstance(values, pd.Series) and values.name is not None else default


def numeric_frame(frame: pd.DataFrame, name: str = "data") -> pd.DataFrame:
    """``frame`` with every column as float (NaN kept), or :class:`InputError` naming the bad cell.

    Refuses text that is not a number and infinities. Only non-numeric columns are
    converted, so frames with thousands of feature columns stay fast.
    """
    converted = frame.copy()
    text_columns = [column for column, dtype in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    for column in text_columns:
        converted[column] = pd.to_numeric(frame[column], errors="coerce")
    not_numeric = converted.isna() & frame.notna()
    if not_numeric.to_numpy().any():
        column = not_numeric.any().idxmax()
        row = not_numeric[column].idxmax()
        raise InputError(
            f"'{name}' must be numeric; column {column!r} has the non-numeric value "
            f"{frame.at[row, column]!r} at row {row!r} ({int(not_numeric.to_numpy().sum())} in all)."
        )
    converted = converted.astype(float)
    if np.isinf(converted.to_numpy()).any():
        raise InputError(f"'{name}' contains infinite values; replace them before the analysis.")
    return converted


def finite_feature_frame(X, name: str = "X") -> pd.DataFrame:
    """``X`` (a table or a 2-D array, whose columns are named x0, x1, ...) as a float DataFrame
    with no missing or infinite value.

    For the radiomics transformers (ComBat, the feature filters): a column with a missing,
    non-numeric or infinite value is refused by name, with what to do.
    """
    if not isinstance(X, pd.DataFrame):
        array = np.asarray(X, dtype=float)
        if array.ndim != 2:
            raise InputError(f"'{name}' must be a 2-D table with at least one feature; got shape {array.shape}.")
        X = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])  # scikit-learn's names
    if X.shape[1] == 0:
        raise InputError(f"'{name}' must be a 2-D table with at least one feature; got shape {X.shape}.")
    values = numeric_frame(X, name)
    missing = values.isna().any()
    if missing.any():
        raise InputError(
            f"'{name}' must hold numbers without missing values; columns {list(X.columns[missing.to_numpy()][:5])} "
            "have missing values (impute or drop them first)."
        )
    return values
