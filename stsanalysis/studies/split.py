"""The sets of a study and the groups a fitted model predicts: their names live here only.

Design B fits every model on the training set and applies it unchanged to the validation
set (how patients are split: :class:`~stsanalysis.studies.design.Split`); a model's predicted probability becomes a predicted class with a cut-off fixed on the
training set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import require_columns

TRAINING = "training"
VALIDATION = "validation"
#: The sets in the order of every table and figure.
SET_ORDER = (TRAINING, VALIDATION)
#: The predicted classes of a model whose probability is cut at a fixed cut-off: (below, at or above);
#: a study's own names come from its outcome (:attr:`~stsanalysis.studies.design.Outcome.predicted_groups`).
PREDICTED_GROUPS = ("predicted low grade", "predicted high grade")


def split_sets(data: pd.DataFrame, centre_column: str, training_centre) -> pd.Series:
    """'training' for the training centre's patients, 'validation' for every other centre."""
    require_columns(data, [centre_column], "the cohort")
    if not (data[centre_column] == training_centre).any():
        raise InputError(
            f"No patient has {centre_column} = {training_centre!r}; the training centre must be one of {sorted(data[centre_column].unique().tolist())}."
        )
    return pd.Series(np.where(data[centre_column] == training_centre, TRAINING, VALIDATION), index=data.index, name="set")


def set_masks(sets: pd.Series) -> dict[str, np.ndarray]:
    """``{set: boolean mask}`` of the sets present, in :data:`SET_ORDER`."""
    return {name: (sets == name).to_numpy() for name in SET_ORDER if (sets == name).any()}


def predicted_groups(probability: pd.Series, cutoff: float, groups: tuple[str, str] = PREDICTED_GROUPS) -> pd.Series:
    """The predicted class of each patient: ``groups[1]`` at or above ``cutoff``, else ``groups[0]``."""
    low, high = groups
    return pd.Series(np.where(probability >= cutoff, high, low), index=probability.index, name="group")
