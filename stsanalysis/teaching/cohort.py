"""The design-B demo cohort as the teaching notebooks use it: a small, re-segmented subset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.demo import make_radiomics_demo
from ..errors import InputError


def resegmented_demo_cases(
    demo_dir: str | os.PathLike,
    n_patients: int = 20,
    sequence: str = "FS-T2",
    seed: int = 0,
) -> pd.DataFrame:
    """Cases of ``n_patients`` demo patients that two readers segmented, for one sequence.

    Reads the design-B demo cohort in ``demo_dir`` (written there by
    :func:`stsanalysis.data.demo.make_radiomics_demo` when the folder is new or empty) and
    draws ``n_patients`` of the patients with a ``reader2`` mask at random (``seed``).
    Returns one row per patient and reader (``reader1``, ``reader2``) with ``patient_id``,
    ``reader``, ``scanner``, ``high_grade`` and absolute ``image`` and ``mask`` paths,
    sorted by patient and reader.
    """
    directory = Path(demo_dir).resolve()
    if not (directory / "cases.csv").is_file():
        if directory.is_dir() and any(directory.iterdir()):
            raise InputError(
                f"'demo_dir' {str(demo_dir)!r} ({directory}) holds files but no cases.csv; give the folder of the "
                "design-B demo cohort, or an empty or new folder to write it into."
            )
        make_radiomics_demo(directory)
    cases = pd.read_csv(directory / "cases.csv")
    sequences = sorted(cases["sequence"].unique())
    if sequence not in sequences:
        raise InputError(f"'sequence' must be one of {sequences}; got {sequence!r}.")
    cases = cases[(cases["sequence"] == sequence) & cases["reader"].isin(["reader1", "reader2"])]
    resegmented = np.sort(cases.loc[cases["reader"] == "reader2", "patient_id"].unique())
    if not 3 <= n_patients <= resegmented.size:
        raise InputError(f"'n_patients' must be between 3 and {resegmented.size} (the patients with a second reader); got {n_patients}.")
    chosen = np.random.default_rng(seed).choice(resegmented, size=n_patients, replace=False)
    clinical = pd.read_csv(directory / "clinical.csv", usecols=["patient_id", "scanner", "high_grade"])
    subset = cases[cases["patient_id"].isin(chosen)].merge(clinical, on="patient_id", how="left")
    for column in ("image", "mask"):
        subset[column] = [str(directory / path) for path in subset[column]]
    columns = ["patient_id", "reader", "scanner", "high_grade", "image", "mask"]
    return subset[columns].sort_values(["patient_id", "reader"]).reset_index(drop=True)
