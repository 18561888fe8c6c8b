"""Design A: the quantitative-MRI biomarker study (ADCmin, ADCmean, Cho/Cr; two readers)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import numeric_vector, require_columns

#: Parameters measured by each reader (columns ``<name>_r1`` and ``<name>_r2``) and labels.
PARAMETER_LABELS = {
    "adc_min": "ADCmin (×10⁻³ mm²/s)",
    "adc_mean": "ADCmean (×10⁻³ mm²/s)",
    "cho_cr": "Cho/Cr",
}
READER_MODES = ("mean", "reader1")


def prepare_biomarker_data(
    cohort: pd.DataFrame,
    *,
    reader: str = "mean",
    high_grade_from: int = 2,
    ki67_threshold: float = 30.0,
    parameters: Sequence[str] = tuple(PARAMETER_LABELS),
) -> pd.DataFrame:
    """The analysis table of design A: one value per parameter and patient, and the outcomes.

    ``reader="mean"`` analyses the mean of the two readers (as published), ``"reader1"``
    the first reader's value. ``high_grade`` is 1 when the surgical FNCLCC grade is at
    least ``high_grade_from`` (design A: grade II+III vs I); ``ki67_high`` is 1 when the
    Ki-67 LI is at least ``ki67_threshold`` %. Reader columns are kept for the ICC.
    """
    if reader not in READER_MODES:
        raise InputError(f"'reader' must be one of {READER_MODES}; got {reader!r}.")
    reader_columns = [f"{name}_{suffix}" for name in parameters for suffix in ("r1", "r2")]
    require_columns(cohort, ["patient_id", "surgical_grade", "biopsy_grade", "ki67", "subtype", *reader_columns], "the design-A cohort")
    grade = numeric_vector(cohort["surgical_grade"], "surgical_grade")
    if not np.isin(grade, (1, 2, 3)).all():
        raise InputError(f"'surgical_grade' must be an FNCLCC grade 1, 2 or 3; got {sorted(set(grade.tolist()))}.")
    data = cohort[["patient_id", "subtype", "biopsy_grade", "surgical_grade", "ki67", *reader_columns]].copy()
    for name in parameters:
        first = numeric_vector(cohort[f"{name}_r1"], f"{name}_r1")
        second = numeric_vector(cohort[f"{name}_r2"], f"{name}_r2")
        data[name] = (first + second) / 2.0 if reader == "mean" else first
    data["high_grade"] = (grade >= high_grade_from).astype(int)
    data["ki67_high"] = (numeric_vector(cohort["ki67"], "ki67") >= ki67_threshold).astype(int)
    return data


def cohort_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Counts and percentages of subtype, surgical grade, grade group and Ki-67 group."""
    n = len(data)
    pieces = []
    for characteristic, column, labels in (
        ("Histological subtype", "subtype", None),
        ("FNCLCC grade (surgery)", "surgical_grade", {1: "Grade I", 2: "Grade II", 3: "Grade III"}),
        ("Grade group", "high_grade", {0: "Low grade", 1: "High grade"}),
        ("Ki-67 LI group", "ki67_high", {0: "Low Ki-67", 1: "High Ki-67"}),
    ):
        counts = data[column].value_counts().sort_index()
        pieces.append(
            pd.DataFrame(
                {
                    "characteristic": characteristic,
                    "level": [labels.get(level, level) if labels else level for level in counts.index],
                    "n": counts.to_numpy(),
                    "percent": 100.0 * counts.to_numpy() / n,
                }
            )
        )
    return pd.concat(pieces, ignore_index=True)
