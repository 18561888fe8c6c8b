"""Missing clinical values of a design-B cohort: counted per variable and set, then handled.

``complete_case`` (the default) drops the patients with a missing value in a model variable
and counts them per set; ``impute`` keeps every patient and completes the model variables
``m`` times by chained equations (:func:`stsanalysis.stats.imputation.multiple_imputation`),
the imputation model fitted on the training set only, so that the validation set is
completed with what was learnt on training, as every other step of the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..errors import InputError
from .split import SET_ORDER, TRAINING

MISSING_STRATEGIES = ("complete_case", "impute")


@dataclass(frozen=True)
class MissingData:
    """How missing values were handled: the counts, the patients excluded, the completed tables.

    ``table``: one row per variable, missing count and percentage per set. ``excluded``:
    patients dropped per set (complete-case analysis). ``datasets``: the ``m`` completed
    clinical tables of multiple imputation (empty for complete-case analysis).
    """

    strategy: str
    table: pd.DataFrame
    excluded: dict[str, int]
    datasets: tuple[pd.DataFrame, ...] = ()

    def sentence(self) -> str:
        """What the report and the methods text say about missing values."""
        variables = self.table.loc[self.table["total_missing"] > 0, "variable"].tolist()
        if not variables:
            return "No model variable had missing values."
        listed = ", ".join(variables)
        if self.strategy == "impute":
            return (
                f"Missing values ({listed}) were imputed {len(self.datasets)} times by chained equations (scikit-learn's "
                "IterativeImputer with posterior sampling), the imputation model fitted on the training set only; the "
                "clinical model and the nomogram were fitted on every completed data set and pooled with Rubin's rules."
            )
        dropped = "; ".join(f"{name}, {count}" for name, count in self.excluded.items())
        return f"Patients with a missing value in a model variable ({listed}) were excluded (complete-case analysis; {dropped})."


def missing_table(data: pd.DataFrame, variables: Sequence[str], sets: pd.Series) -> pd.DataFrame:
    """Missing values per variable: count and percentage in each set and in all patients."""
    rows = []
    for variable in dict.fromkeys(variables):
        row = {"variable": variable}
        for name in SET_ORDER:
            in_set = data.loc[(sets == name).to_numpy(), variable]
            row[f"{name}_missing"] = int(in_set.isna().sum())
            row[f"{name}_percent"] = 100.0 * in_set.isna().mean() if len(in_set) else float("nan")
        row["total_missing"] = int(data[variable].isna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


def handle_missing(
    clinical: pd.DataFrame,
    sets: pd.Series,
    model_variables: Sequence[str],
    shown_variables: Sequence[str],
    *,
    strategy: str = "complete_case",
    n_imputations: int = 20,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series, MissingData]:
    """Count the missing values of ``shown_variables`` and handle those of ``model_variables``.

    Returns the clinical table and sets that the analysis goes on with (complete cases, or
    every patient with imputation) and the :class:`MissingData` record.
    """
    if strategy not in MISSING_STRATEGIES:
        raise InputError(f"'missing' must be one of {MISSING_STRATEGIES}; got {strategy!r}.")
    table = missing_table(clinical, [*model_variables, *shown_variables], sets)
    variables = list(dict.fromkeys(model_variables))
    if strategy == "impute" and clinical[variables].isna().any(axis=None):
        from ..stats.imputation import multiple_imputation

        datasets = multiple_imputation(clinical, variables, fit_rows=(sets == TRAINING).to_numpy(), m=n_imputations, seed=seed)
        return clinical, sets, MissingData(strategy, table, {}, tuple(datasets))
    complete = clinical[variables].notna().all(axis=1)
    excluded = {name: int((~complete & (sets == name)).sum()) for name in SET_ORDER}
    return clinical[complete], sets[complete], MissingData("complete_case", table, excluded)
