"""Multiple imputation by chained equations, fitted on the training rows only.

:func:`multiple_imputation` -- m completed copies of a table (scikit-learn's
``IterativeImputer`` with Bayesian posterior draws), the imputation model fitted on the
training rows and applied unchanged to the others, so that validation data never shape it.
The completed datasets are analysed one by one and pooled by Rubin's rules: the pooling
functions of :mod:`stsanalysis.stats.pooling` (``pool_rubin``, ``pooled_logistic``,
``pooled_wald_test``) are re-exported here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (makes IterativeImputer importable)
from sklearn.impute import IterativeImputer

from ..errors import InputError
from .logistic import _is_categorical
from .pooling import PooledLogisticResult, PooledWaldTest, pool_rubin, pooled_logistic, pooled_wald_test

__all__ = [
    "ImputationConvergenceWarning",
    "PooledLogisticResult",
    "PooledWaldTest",
    "multiple_imputation",
    "pool_rubin",
    "pooled_logistic",
    "pooled_wald_test",
]

# IterativeImputer's random_state must be a 32-bit unsigned integer
_MAX_SEED = 2**32 - 1


class ImputationConvergenceWarning(UserWarning):
    """scikit-learn reported that the imputation model did not converge."""


@dataclasses.dataclass(frozen=True)
class _Column:
    """How one imputed column is encoded for the imputer and decoded back (training data only)."""

    name: str
    levels: tuple | None  # categorical: the training levels, a dummy for each but the first; None: numeric
    most_frequent: object = None  # categorical fall-back level
    integer_range: tuple[float, float] | None = None  # numeric holding only integers: training min, max

    @classmethod
    def from_training(cls, series: pd.Series) -> _Column:
        observed = series.dropna()
        if observed.empty:
            raise InputError(
                f"The column '{series.name}' is missing in all {len(series)} training rows; it cannot be imputed "
                "from the training data. Drop it from 'columns'."
            )
        if _is_categorical(series):
            if isinstance(series.dtype, pd.CategoricalDtype):
                levels = tuple(level for level in series.cat.categories if (observed == level).any())
            else:
                levels = tuple(sorted(observed.unique().tolist(), key=str))
            return cls(series.name, levels, most_frequent=observed.value_counts().index[0])
        values = pd.to_numeric(observed).to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise InputError(f"The column '{series.name}' contains infinite values; replace them before imputing.")
        integers = bool(np.all(values == np.round(values)))
        return cls(series.name, None, integer_range=(values.min(), values.max()) if integers else None)

    @property
    def width(self) -> int:
        return 1 if self.levels is None else len(self.levels) - 1

    def encode(self, series: pd.Series) -> np.ndarray:
        """Numeric: the values; categorical: dummies of the levels but the first (an unseen level is all 0); NaN if missing."""
        missing = series.isna().to_numpy()
        if self.levels is None:
            values = pd.to_numeric(series).to_numpy(dtype=float)
            if np.isinf(values).any():
                raise InputError(f"The column '{self.name}' contains infinite values; replace them before imputing.")
            return values[:, None]
        dummies = np.column_stack([(series == level).to_numpy(dtype=float) for level in self.levels[1:]] or [np.empty((len(series), 0))])
        dummies[missing] = np.nan
        return dummies

    def decode(self, series: pd.Series, imputed: np.ndarray, uniforms: np.ndarray) -> pd.Series:
        """``series`` with its missing values replaced from the imputed block (observed values untouched)."""
        missing = np.flatnonzero(series.isna().to_numpy())
        completed = series.copy()
        if missing.size == 0:
            return completed
        if self.levels is None:
            values = imputed[missing, 0]
            if self.integer_range is not None:
                values = np.clip(np.round(values), *self.integer_range)
            completed.iloc[missing] = values
            return completed
        # a level drawn with probability proportional to the imputed dummies clipped at 0, the
        # first level's dummy being 1 - the sum of the others
        dummies = imputed[missing]
        weights = np.clip(np.column_stack([1 - dummies.sum(axis=1), dummies]), 0, None)
        totals = weights.sum(axis=1)
        cumulative = np.cumsum(weights, axis=1) / np.where(totals > 0, totals, 1)[:, None]
        drawn = np.minimum((cumulative <= uniforms[missing, None]).sum(axis=1), len(self.levels) - 1)
        chosen = [self.levels[index] if total > 0 else self.most_frequent for index, total in zip(drawn, totals)]
        completed.iloc[missing] = pd.Series(chosen, dtype=object).to_numpy()
        return completed


@contextlib.contextmanager
def _named_convergence_warnings():
    """Re-issue scikit-learn's ConvergenceWarning as :class:`ImputationConvergenceWarning`; others pass through."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            warnings.warn(
                f"The imputation model did not converge ({warning.message}); increase 'max_iter'.",
                ImputationConvergenceWarning,
                stacklevel=4,
            )
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def _impute_once(matrix: np.ndarray, fit_rows: np.ndarray, max_iter: int, random_state: int) -> np.ndarray:
    """One completed matrix: the imputer fitted (and the training rows completed) on ``fit_rows`` only."""
    # imputed values stay within each column's observed training range (a tumour size is never negative)
    observed = matrix[fit_rows]
    imputer = IterativeImputer(
        sample_posterior=True,
        max_iter=max_iter,
        random_state=random_state,
        min_value=np.nanmin(observed, axis=0),
        max_value=np.nanmax(observed, axis=0),
    )
    completed = np.empty_like(matrix)
    with _named_convergence_warnings():
        completed[fit_rows] = imputer.fit_transform(matrix[fit_rows])
        if not fit_rows.all():
            completed[~fit_rows] = imputer.transform(matrix[~fit_rows])
    return completed


def _check_fit_rows(data: pd.DataFrame, fit_rows) -> np.ndarray:
    if isinstance(fit_rows, pd.Series) and not fit_rows.index.equals(data.index):
        raise InputError("'fit_rows' is a Series whose index differs from the index of 'data'; pass a mask aligned with 'data'.")
    mask = np.asarray(fit_rows)
    if mask.dtype != bool or mask.shape != (len(data),):
        raise InputError(
            f"'fit_rows' must be a boolean mask with one value per row of 'data' ({len(data)}); got dtype {mask.dtype}, shape {mask.shape}."
        )
    if mask.sum() < 2:
        raise InputError(f"'fit_rows' must select at least 2 training rows to fit the imputation model; got {int(mask.sum())}.")
    return mask


def _check_settings(m, max_iter, seed) -> None:
    for name, value, minimum in (("m", m, 2), ("max_iter", max_iter, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise InputError(f"'{name}' must be an integer >= {minimum}; got {value!r}.")
    if seed + m - 1 > _MAX_SEED:
        raise InputError(f"'seed' + m - 1 must be at most {_MAX_SEED} (imputation i uses seed + i); got seed = {seed}, m = {m}.")


def _check_columns(data: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    columns = [columns] if isinstance(columns, str) else list(columns)
    absent = [column for column in columns if column not in data.columns]
    if absent:
        raise InputError(f"The column(s) {absent} named in 'columns' are not in 'data'; its columns are {list(data.columns)}.")
    if len(set(columns)) != len(columns):
        raise InputError(f"'columns' names a column more than once: {columns}.")
    if len(columns) < 2:
        raise InputError(f"'columns' must name at least 2 columns (the imputation model predicts each from the others); got {columns}.")
    return columns


def multiple_imputation(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    fit_rows,
    m: int = 20,
    max_iter: int = 10,
    seed: int = 0,
) -> list[pd.DataFrame]:
    """m completed copies of ``data``: chained-equation imputation fitted on the training rows.

    Every column of ``data`` is kept; the missing values of ``columns`` are imputed, with
    ``columns`` as the imputation model's variables (include the outcome: an imputation
    model without it biases the outcome's associations towards zero). Imputation i uses
    scikit-learn's ``IterativeImputer(sample_posterior=True, max_iter=max_iter,
    random_state=seed + i)``, bounded to each column's observed training range: starting from the training means, each column is regressed on
    the others by Bayesian ridge regression and its missing values are replaced by draws from
    the posterior predictive normal distribution, for ``max_iter`` rounds.

    Leakage-free: the imputer is fitted on the rows where ``fit_rows`` (a boolean mask, the
    training set) is True, which it completes as it fits; the other rows are completed by the
    fitted imputer, unchanged (``transform``). Validation rows thus never influence the
    imputation model nor the training rows' imputations.

    Text, categorical and boolean columns enter as dummies of their training levels but the
    first (a level seen only outside the training rows is all 0). A full one-hot set would
    be collinear: each dummy would be predicted from its siblings, missing in the same rows,
    and the other variables would be ignored. For a missing value a level is drawn with
    probability proportional to its imputed dummy clipped at 0 (the first level's dummy is 1
    minus the others'; the most frequent training level when all are 0), and the column keeps
    its levels and dtype. Numeric columns that
    hold only integers in the training rows (0/1 codes, counts) are rounded and clipped to
    the training range; other numeric columns keep the drawn values, which may fall outside
    the observed range.

    Differences from R's ``mice`` (the reference; ``mice(data, m, maxit)``): mice imputes
    numeric columns by predictive mean matching (``pmm``: an observed donor value, so
    imputations stay within the data's support), binary factors by Bayesian logistic
    regression (``logreg``) and unordered factors by multinomial regression (``polyreg``),
    each with a posterior draw of the regression coefficients per iteration, and fits on all
    rows. Here every column has a Bayesian linear model (mice's ``norm``, but sklearn draws
    per row from the predictive distribution rather than one coefficient vector per
    iteration) and a factor's level comes from its linear-probability dummies: an
    approximation of ``logreg``/``polyreg`` that keeps the imputation model fitted on
    training rows only. The Gaussian draw of the dummies adds noise to the level draw, so
    imputed levels follow the other variables less closely than mice's, which attenuates a
    factor's associations somewhat when many of its values are missing. With posterior sampling the chain runs exactly ``max_iter`` rounds
    (as mice's ``maxit``), so scikit-learn's early-stopping ConvergenceWarning does not
    arise; should scikit-learn report non-convergence it is re-issued as
    :class:`ImputationConvergenceWarning`.

    Raises :class:`InputError` naming the column when a column is not in ``data`` or is
    missing in every training row, and for m < 2 or a malformed ``fit_rows``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({"age": rng.normal(60, 10, 40), "margin": rng.choice(["R0", "R1"], 40)})
    >>> data["size_cm"] = 0.1 * data["age"] + rng.normal(0, 1, 40)
    >>> data.loc[[3, 10, 25], "size_cm"] = np.nan
    >>> data.loc[[5, 30], "margin"] = None
    >>> completed = multiple_imputation(data, ["age", "size_cm", "margin"], fit_rows=data.index < 30, m=3)
    >>> len(completed), int(sum(frame.isna().sum().sum() for frame in completed))
    (3, 0)
    >>> [round(float(frame.loc[3, "size_cm"]), 2) for frame in completed]
    [6.64, 7.4, 6.53]
    """
    columns = _check_columns(data, columns)
    mask = _check_fit_rows(data, fit_rows)
    _check_settings(m, max_iter, seed)
    specs = [_Column.from_training(data.loc[mask, column]) for column in columns]
    return [_completed_copy(data, specs, mask, max_iter, seed + index) for index in range(m)]


def _completed_copy(data: pd.DataFrame, specs: list[_Column], fit_rows: np.ndarray, max_iter: int, seed: int) -> pd.DataFrame:
    """One completed copy of ``data``: imputer random_state and level draws seeded by ``seed``."""
    matrix = np.column_stack([spec.encode(data[spec.name]) for spec in specs])
    starts = np.cumsum([0] + [spec.width for spec in specs])
    imputed = _impute_once(matrix, fit_rows, max_iter, seed)
    # one uniform per row and factor, so a row's level draw does not depend on other rows
    uniforms = np.random.default_rng(seed).random((len(data), len(specs)))
    completed = data.copy()
    for position, spec in enumerate(specs):
        block = imputed[:, starts[position] : starts[position + 1]]
        # .array keeps an extension dtype (Categorical, boolean, Int64) and ignores the index
        completed[spec.name] = spec.decode(data[spec.name], block, uniforms[:, position]).array
    return completed
