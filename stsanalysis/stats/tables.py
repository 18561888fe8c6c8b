"""Manuscript tables: Table 1 (patient characteristics), the design-A tables 2 to 4 and the
ROC table (one row per parameter: AUC, CI, p, Youden cut-off).

Each builder validates the columns it is given, computes with the functions of
:mod:`~stsanalysis.stats.univariate`, :mod:`~stsanalysis.stats.correlation` and
:mod:`~stsanalysis.stats.reliability`, and returns a tidy DataFrame with full-precision
numbers (p values are never rounded here). Only :func:`table_one` writes its summary
cells as text ("1.23 ± 0.45", "12 (37.5%)"), with the functions of
:mod:`stsanalysis.report.formatting`, because its cells mix kinds of summary.

Missing values are dropped per variable (per pair for correlations) and counted.

Degenerate data do not abort a table: a variable without variance (all values identical)
gets NaN for what cannot be computed (p, ICC, rho), which the report prints as "—", and a
footnote naming the variable in ``table.attrs["notes"]`` (a list of sentences, empty when
there is none; :func:`~stsanalysis.report.formatting.to_html_table` prints them below the
table). The :class:`~stsanalysis.errors.ConstantVariableWarning` of the test is caught
here and becomes that footnote, so that a report prints no warning. The rest of the table
is computed as usual.

:func:`agreement_table` lives in :mod:`~stsanalysis.stats.agreement` and is re-exported.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ConstantVariableWarning, InputError
from ..report.formatting import format_count_percent, format_mean_sd, format_median_iqr
from ..validation import numeric_vector, require_columns, two_levels
from .agreement import AgreementResult, agreement_table
from .contingency import contingency_test
from .correlation import spearman
from .reliability import ICC_FORMS, icc
from .roc import RocResult, roc
from .univariate import compare_groups, shapiro, summary_statistics

__all__ = [
    "AgreementResult",
    "table_one",
    "describe_parameters",
    "reliability_table",
    "group_comparison_table",
    "correlation_table",
    "agreement_table",
    "roc_table",
    "roc_summary",
]


@contextlib.contextmanager
def _constant_variable_notes(notes: list[str]) -> Iterator[None]:
    """Turn each ConstantVariableWarning raised in the block into a footnote; other warnings pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConstantVariableWarning)
        yield
    for record in caught:
        warning = record.message
        if isinstance(warning, ConstantVariableWarning) and warning.variable:
            notes.append(f"p not computed for '{warning.variable}': {warning.reason}.")
        elif isinstance(warning, ConstantVariableWarning):
            notes.append(str(warning))
        else:
            warnings.warn_explicit(warning, record.category, record.filename, record.lineno, source=record.source)


def _identical(values: np.ndarray) -> str | None:
    """ "all 12 values are identical (2.5)" when the non-missing values do not vary, else None."""
    values = values[~np.isnan(values)]
    if values.size == 0 or np.ptp(values) > 0:
        return None
    return f"all {values.size} values are identical ({values[0]:g})"


def _with_notes(table: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    table.attrs["notes"] = list(notes)
    return table


def _is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _continuous_rows(data, variable, group, levels, alpha, digits, quantile_method) -> list[dict]:
    values = numeric_vector(data[variable], variable, allow_nan=True)
    missing = int(np.isnan(values).sum())
    try:
        comparison = compare_groups(
            pd.Series(values, index=data.index, name=variable),
            data[group],
            alpha=alpha,
            quantile_method=quantile_method,
        )
    except InputError as error:  # e.g. a constant variable: report it untested, say why
        comparison = None
        untested = f"not tested: {error}"
    normal = comparison is not None and comparison.statistic_name == "t"

    def summarize(sample) -> str:
        summary = summary_statistics(sample, quantile_method=quantile_method)
        if normal:
            return format_mean_sd(summary["mean"], summary["sd"], digits)
        return format_median_iqr(summary["median"], summary["p25"], summary["p75"], digits)

    row = {
        "variable": variable,
        "level": "",
        "summary": "mean ± SD" if normal else "median (P25, P75)",
        "overall": summarize(values),
    }
    for level in levels:
        row[str(level)] = summarize(values[(data[group] == level).to_numpy()])
    row |= {
        "test": comparison.test if comparison else untested,
        "p": comparison.p if comparison else np.nan,
        "missing": missing,
    }
    return [row]


def _categorical_rows(data, variable, group, levels, digits, notes: list[str]) -> list[dict]:
    present = data.loc[data[variable].notna()]
    counts = pd.crosstab(present[variable], present[group]).reindex(columns=levels, fill_value=0)
    if counts.shape[0] >= 2:
        result = contingency_test(counts)
        test, p = result.test, result.p
    else:
        test, p = f"not tested: only one level ({counts.index.tolist()})", np.nan
        reason = f"all {len(present)} values are {counts.index[0]!r}" if len(counts) else "it has no values"
        notes.append(f"p not computed for '{variable}': {reason}.")
    header = {"variable": variable, "level": "", "summary": "n (%)", "overall": ""}
    header |= {str(level): "" for level in levels}
    header |= {"test": test, "p": p, "missing": int(data[variable].isna().sum())}
    rows = [header]
    column_totals = counts.sum(axis=0)
    for category, category_counts in counts.iterrows():
        row = {
            "variable": variable,
            "level": str(category),
            "summary": "n (%)",
            "overall": format_count_percent(category_counts.sum(), counts.to_numpy().sum(), digits=1),
        }
        row |= {str(level): format_count_percent(category_counts[level], column_totals[level], digits=1) for level in levels}
        row |= {"test": "", "p": np.nan, "missing": pd.NA}
        rows.append(row)
    return rows


def table_one(
    df: pd.DataFrame,
    group: str,
    variables: list[str],
    categorical: list[str] | None = None,
    *,
    alpha: float = 0.05,
    digits: int = 2,
    quantile_method: str = "r",
) -> pd.DataFrame:
    """Patient characteristics by group, with the test chosen per variable.

    Continuous variables: mean ± SD and Welch's t-test when Shapiro-Wilk does not reject
    normality (p > ``alpha``) in both groups, else median (P25, P75) and the Mann-Whitney U
    test (see :func:`~stsanalysis.stats.univariate.compare_groups`). Categorical variables
    (those listed in ``categorical`` and every non-numeric column): n (%) within each
    column, one row per level below a header row holding the test and p; Fisher's exact
    test when any expected count is below 5, else Pearson's chi-square
    (:func:`~stsanalysis.stats.univariate.contingency_test`).

    Returns columns variable, level, summary, overall, one column per group level, test,
    p (float), missing (integer count of missing values of the variable; ``<NA>`` on the
    rows of the levels of a categorical variable). A constant variable (one value, or one
    category) gets p = NaN and a footnote in ``attrs["notes"]`` (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"grade": ["low"] * 4 + ["high"] * 4, "age": [50, 61, 45, 58, 66, 70, 59, 72],
    ...                    "sex": ["f", "m", "f", "f", "m", "m", "f", "m"]})
    >>> table_one(df, "grade", ["age", "sex"])[["variable", "level", "high", "low", "test"]]
      variable level          high           low                 test
    0      age        66.75 ± 5.74  53.50 ± 7.33         Welch t-test
    1      sex                                    Fisher's exact test
    2      sex     f     1 (25.0%)     3 (75.0%)
    3      sex     m     3 (75.0%)     1 (25.0%)
    """
    categorical = list(categorical or [])
    require_columns(df, [group, *variables, *categorical], "df")
    unknown = [name for name in categorical if name not in variables]
    if unknown:
        raise InputError(f"'categorical' names {unknown}, which are not in 'variables' {variables}.")
    _, levels = two_levels(df[group], group)
    rows, notes = [], []
    for variable in variables:
        if variable in categorical or _is_categorical(df[variable]):
            rows.extend(_categorical_rows(df, variable, group, levels, digits, notes))
        else:
            with _constant_variable_notes(notes):
                rows.extend(_continuous_rows(df, variable, group, levels, alpha, digits, quantile_method))
    table = pd.DataFrame(rows, columns=["variable", "level", "summary", "overall", *map(str, levels), "test", "p", "missing"])
    table["missing"] = table["missing"].astype("Int64")  # counts; <NA> on the level rows
    return _with_notes(table, notes)


def describe_parameters(
    data: pd.DataFrame,
    parameters: list[str],
    *,
    alpha: float = 0.05,
    quantile_method: str = "r",
) -> pd.DataFrame:
    """Design A, Table 2 descriptives: one row per parameter.

    Columns parameter, n, min, max, mean, sd, median, p25, p75, shapiro_p, normal
    (Shapiro-Wilk p > ``alpha``), summary_kind ("mean_sd" when normal, else
    "median_iqr"). Missing values are dropped; n counts the values used. When
    Shapiro-Wilk cannot be computed (a constant parameter, fewer than 3 values) shapiro_p
    is NaN, the parameter is summarised as median (P25, P75) and ``attrs["notes"]`` says why.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"adc": [1.1, 0.9, 1.3, 1.0, 1.2, 0.8], "size": [3.0, 5.5, 4.1, 12.0, 6.2, 4.8]})
    >>> describe_parameters(data, ["adc", "size"])[["parameter", "n", "mean", "median", "summary_kind"]].round(3)
      parameter  n   mean  median summary_kind
    0       adc  6  1.050    1.05      mean_sd
    1      size  6  5.933    5.15      mean_sd
    """
    require_columns(data, parameters, "data")
    rows, notes = [], []
    for parameter in parameters:
        values = numeric_vector(data[parameter], parameter, allow_nan=True)
        values = values[~np.isnan(values)]
        summary = summary_statistics(values, quantile_method=quantile_method)
        if values.size < 3:
            notes.append(f"Shapiro-Wilk p not computed for '{parameter}': n = {values.size}, at least 3 values are needed.")
        elif np.ptp(values) < 1e-10:  # shapiro.test: "all 'x' values are identical"
            notes.append(f"Shapiro-Wilk p not computed for '{parameter}': all {values.size} values are identical ({values[0]:g}).")
        testable = values.size >= 3 and np.ptp(values) >= 1e-10
        shapiro_p = shapiro(values, name=parameter).p if testable else np.nan
        normal = bool(shapiro_p > alpha)
        rows.append(
            {"parameter": parameter}
            | summary[["n", "min", "max", "mean", "sd", "median", "p25", "p75"]].to_dict()
            | {"shapiro_p": shapiro_p, "normal": normal, "summary_kind": "mean_sd" if normal else "median_iqr"}
        )
    table = pd.DataFrame(rows)
    table["n"] = table["n"].astype(int)
    return _with_notes(table, notes)


def reliability_table(
    data: pd.DataFrame,
    readers: dict[str, tuple[str, str]],
    form: str = "ICC2",
    *,
    alpha: float | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Design A, Table 2 reliability: the ICC of each parameter between two readers.

    ``readers`` maps a parameter name to its two reader columns, e.g.
    ``{"ADCmean": ("adc_mean_r1", "adc_mean_r2")}``. Uses :func:`icc` (``psych::ICC``);
    ``form`` picks the row (default ICC2 = ICC(A,1), absolute agreement). Patients with a
    missing reading are dropped with a warning. ``conf_level`` is the level of the CI
    (``alpha`` = 1 - ``conf_level``, psych's name, is accepted as for :func:`icc`). A
    parameter whose ratings are all identical gets NaN (as ``psych::ICC``) and a footnote
    in ``attrs["notes"]``; the other parameters are computed.

    Returns columns parameter, icc, ci_low, ci_high, p, f, df1, df2, n, form.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"adc_r1": [1.1, 0.9, 1.3, 1.0, 1.2], "adc_r2": [1.0, 0.9, 1.4, 1.1, 1.2]})
    >>> reliability_table(data, {"ADC": ("adc_r1", "adc_r2")})[["parameter", "icc", "ci_low", "ci_high", "n"]].round(3)
      parameter    icc  ci_low  ci_high  n
    0       ADC  0.902   0.369    0.989  5
    """
    if form not in ICC_FORMS:
        raise InputError(f"'form' must be one of {list(ICC_FORMS)}; got {form!r}.")
    for parameter, columns in readers.items():
        if not (isinstance(columns, (tuple, list)) and len(columns) == 2):
            raise InputError(f"readers[{parameter!r}] must be a pair of column names; got {columns!r}.")
    require_columns(data, [column for columns in readers.values() for column in columns], "data")
    rows, notes = [], []
    for parameter, columns in readers.items():
        ratings = data[list(columns)]
        try:
            row = icc(ratings, alpha, conf_level=conf_level).loc[form]
        except InputError as error:  # name the parameter: icc() only knows 'ratings'
            constant = _constant_ratings(ratings)
            if constant is None:
                raise InputError(f"Parameter '{parameter}' ({columns[0]}, {columns[1]}): {error}") from None
            notes.append(f"ICC not computed for '{parameter}': {constant}.")
            row = pd.Series(np.nan, index=["icc", "ci_low", "ci_high", "p", "f", "df1", "df2"])
        rows.append(
            {"parameter": parameter}
            | row[["icc", "ci_low", "ci_high", "p", "f", "df1", "df2"]].astype(float).to_dict()
            | {"n": int(ratings.notna().all(axis=1).sum()), "form": form}
        )
    return _with_notes(pd.DataFrame(rows), notes)


def _constant_ratings(ratings: pd.DataFrame) -> str | None:
    """ "all 64 ratings are identical (1)" when the complete, numeric ratings do not vary, else None."""
    numeric = ratings.apply(pd.to_numeric, errors="coerce")
    if numeric.isna().to_numpy().sum() > ratings.isna().to_numpy().sum():  # text: icc() names it
        return None
    reason = _identical(numeric.dropna().to_numpy(dtype=float).ravel())
    return reason and reason.replace(" values ", " ratings ")


def group_comparison_table(
    data: pd.DataFrame,
    parameters: list[str],
    group: str,
    *,
    alpha: float = 0.05,
    equal_var: bool = False,
    quantile_method: str = "r",
) -> pd.DataFrame:
    """Design A, Table 3: each parameter compared between the two levels of ``group``.

    One row per parameter with the summaries of both groups (suffix ``_1`` for the first
    sorted level, ``_2`` for the second; ``group_1``/``group_2`` name them), the test
    chosen by :func:`~stsanalysis.stats.univariate.compare_groups` (t-test when both
    groups pass Shapiro-Wilk, else Mann-Whitney U with SPSS's Z), statistic_name ("t" or
    "Z"), statistic and p. A constant parameter gets Z = 0, p = NaN and a footnote in
    ``attrs["notes"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"adc": [1.1, 0.9, 1.3, 1.0, 0.7, 0.8, 0.6, 0.9], "grade": ["low"] * 4 + ["high"] * 4})
    >>> group_comparison_table(data, ["adc"], "grade")[["parameter", "group_1", "group_2", "test", "p"]].round(4)
      parameter group_1 group_2          test       p
    0       adc    high     low  Welch t-test  0.0251
    """
    require_columns(data, [*parameters, group], "data")
    rows, notes = [], []
    for parameter in parameters:
        with _constant_variable_notes(notes):
            comparison = compare_groups(
                data[parameter], data[group], alpha=alpha, equal_var=equal_var, quantile_method=quantile_method, name=parameter
            )
        row = {"parameter": parameter}
        for position, (level, summary) in enumerate(comparison.summaries.iterrows(), start=1):
            row[f"group_{position}"] = level
            row |= {f"{key}_{position}": summary[key] for key in ["n", "mean", "sd", "median", "p25", "p75", "shapiro_p"]}
        row |= {
            "test": comparison.test,
            "statistic_name": comparison.statistic_name,
            "statistic": comparison.statistic,
            "p": comparison.p,
        }
        rows.append(row)
    table = pd.DataFrame(rows)
    table[["n_1", "n_2"]] = table[["n_1", "n_2"]].astype(int)
    return _with_notes(table, notes)


def correlation_table(data: pd.DataFrame, parameters: list[str], targets: list[str]) -> pd.DataFrame:
    """Design A, Table 4: Spearman's rho of each parameter with each target.

    ``cor.test(x, y, method = "spearman", exact = FALSE)`` per pair, on the rows where
    both are present (as R). Returns columns parameter, target, rho, p, n. A constant
    parameter or target gets rho = p = NaN (``cor.test`` warns "the standard deviation is
    zero" and gives NA) and a footnote in ``attrs["notes"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"adc": [1.1, 0.9, 1.3, 1.0, 0.7, 0.8], "ki67": [10, 25, 5, 20, 40, 15]})
    >>> correlation_table(data, ["adc"], ["ki67"]).round(4)
      parameter target     rho       p  n
    0       adc   ki67 -0.8286  0.0416  6
    """
    require_columns(data, [*parameters, *targets], "data")
    rows, notes = [], []
    for parameter in parameters:
        for target in targets:
            pair = data[[parameter, target]]
            numeric_vector(pair[parameter], parameter, allow_nan=True)
            numeric_vector(pair[target], target, allow_nan=True)
            complete = pair.apply(pd.to_numeric).dropna()
            constant = [(name, _identical(complete[name].to_numpy(dtype=float))) for name in (parameter, target)]
            constant = [(name, reason) for name, reason in constant if reason and len(complete) >= 3]
            if constant:
                name, reason = constant[0]
                notes.append(f"rho and p not computed for '{parameter}' with '{target}': '{name}' is constant, {reason}.")
                rows.append({"parameter": parameter, "target": target, "rho": np.nan, "p": np.nan, "n": len(complete)})
                continue
            result = spearman(complete[parameter], complete[target])
            rows.append({"parameter": parameter, "target": target, "rho": result.rho, "p": result.p, "n": result.n})
    return _with_notes(pd.DataFrame(rows), notes)


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

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"high_grade": [0, 0, 0, 0, 1, 1, 1, 1], "adc": [1.3, 1.1, 1.2, 0.8, 0.9, 0.7, 1.0, 0.6]})
    >>> roc_table(data, "high_grade", ["adc"])[["parameter", "auc", "rule", "sensitivity", "specificity"]]
      parameter    auc    rule  sensitivity  specificity
    0       adc  0.875  < 1.05          1.0         0.75
    """
    parameters = [parameters] if isinstance(parameters, str) else list(parameters)
    require_columns(data, [outcome, *parameters], "data")
    results = {}
    for parameter in parameters:
        chosen = direction.get(parameter, "auto") if isinstance(direction, Mapping) else direction
        results[parameter] = roc(data[outcome], data[parameter], direction=chosen, conf_level=conf_level, se_method=se_method)
    return roc_summary(results)


def roc_summary(rocs: Mapping[str, RocResult]) -> pd.DataFrame:
    """The table of :func:`roc_table` from ROC curves already computed: one row per curve
    (``parameter`` = its name) with AUC, CI, p and the Youden cut-off. A constant
    parameter has AUC 0.5 by construction; its p is NaN here (the test of AUC = 0.5 is
    0 / 0) with a footnote in ``attrs["notes"]``.

    Examples
    --------
    >>> from stsanalysis.stats import roc
    >>> y = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> roc_summary({"adc": roc(y, [1.3, 1.1, 1.2, 0.8, 0.9, 0.7, 1.0, 0.6])})[["parameter", "auc", "rule"]]
      parameter    auc    rule
    0       adc  0.875  < 1.05
    """
    rows, notes = [], []
    for parameter, result in rocs.items():
        cutoff = result.youden()
        constant = _identical(np.asarray(result.score, dtype=float))
        if constant:
            notes.append(f"p not computed for '{parameter}': {constant}, so the AUC is 0.5 by construction.")
        rows.append(
            {
                "parameter": parameter,
                "auc": result.auc,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "p": np.nan if constant else result.p,
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
    return _with_notes(pd.DataFrame(rows), notes)
