"""Feature reliability for the lessons: features per reading, ICC per feature, summaries."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..radiomics.extraction import extract_features
from ..radiomics.params import split_feature_name
from ..stats.reliability import ICC_FORMS, icc_features
from ..validation import require_columns


def extract_readings(cases: pd.DataFrame, params: Mapping, n_jobs: int = 1, cache_dir=None) -> dict[str, pd.DataFrame]:
    """pyradiomics features per reading: {reader: patients x features}.

    ``cases`` has ``patient_id``, ``reader``, ``image`` and ``mask`` (one row per patient
    and reader, e.g. from :func:`resegmented_demo_cases` plus :func:`perturbed_cases`);
    every reading is extracted in one :func:`stsanalysis.radiomics.extraction.extract_features`
    call with ``params`` (cached in ``cache_dir`` when given). The readings keep the order in
    which ``cases`` lists them.
    """
    require_columns(cases, ["patient_id", "reader", "image", "mask"], "cases")
    features = extract_features(
        cases[["patient_id", "reader", "image", "mask"]],
        dict(params),
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        progress=False,
    )
    features.attrs = {}
    return {reader: features.xs(reader, level="reader") for reader in cases["reader"].unique()}


def feature_iccs(reference: pd.DataFrame, readings: Mapping[str, pd.DataFrame], form: str = "ICC2") -> pd.DataFrame:
    """ICC of every feature between ``reference`` and each reading: features x readings.

    One :func:`stsanalysis.stats.icc_features` call per reading (``form`` in psych's naming:
    ICC2 = McGraw-Wong ICC(A,1), two-way random, absolute agreement, single rater).
    """
    table = pd.DataFrame({name: icc_features(reference, reading, form=form) for name, reading in readings.items()})
    table.index.name = "feature"
    return table


def icc_summary(iccs: pd.DataFrame, threshold: float = 0.75) -> pd.DataFrame:
    """Per reading and feature class: ``n_features``, ``median_icc``, ``n_reliable``, ``percent_reliable``.

    ``iccs`` is the features x readings table of :func:`feature_iccs`. A feature is reliable
    when its ICC is strictly greater than ``threshold`` (the published rule "ICC > 0.75",
    as :class:`stsanalysis.radiomics.selection.ReliabilityFilter` applies it); an undefined
    ICC (NaN) is not reliable. The first rows of each reading are feature class "all".
    """
    classes = [split_feature_name(name)["feature_class"] for name in iccs.index]
    long = iccs.assign(feature_class=classes).melt(id_vars="feature_class", var_name="reading", value_name="icc")
    long["reliable"] = long["icc"].fillna(-np.inf) > threshold
    pooled = long.assign(feature_class="all")
    grouped = pd.concat([pooled, long]).groupby(["reading", "feature_class"], sort=False)
    summary = grouped.agg(n_features=("icc", "size"), median_icc=("icc", "median"), n_reliable=("reliable", "sum")).reset_index()
    summary["n_reliable"] = summary["n_reliable"].astype(int)
    summary["percent_reliable"] = 100.0 * summary["n_reliable"] / summary["n_features"]
    order = {name: position for position, name in enumerate(iccs.columns)}
    return summary.sort_values("reading", key=lambda column: column.map(order), kind="stable").reset_index(drop=True)


def feature_ratings(readings: Mapping[str, pd.DataFrame], feature: str, readers=None) -> pd.DataFrame:
    """One feature as a patients x readers table (the input of :func:`stsanalysis.stats.icc`)."""
    readers = list(readers or readings)
    unknown = [name for name in readers if name not in readings]
    if unknown:
        raise InputError(f"Reading(s) {unknown} not found; readings: {list(readings)}.")
    for name in readers:
        if feature not in readings[name].columns:
            raise InputError(f"Feature {feature!r} not in reading {name!r}; e.g. {list(readings[name].columns[:3])}.")
    return pd.DataFrame({name: readings[name][feature] for name in readers})


def icc_forms_summary(
    reference: pd.DataFrame,
    readings: Mapping[str, pd.DataFrame],
    forms=("ICC1", "ICC2", "ICC3"),
    threshold: float = 0.75,
) -> pd.DataFrame:
    """Median ICC over all features and percent of reliable features, per reading and ICC form.

    Columns ``reading``, ``form``, ``description`` (McGraw-Wong name), ``median_icc``,
    ``percent_reliable`` (ICC > ``threshold``).
    """
    rows = []
    for form in forms:
        pooled = icc_summary(feature_iccs(reference, readings, form=form), threshold)
        pooled = pooled[pooled["feature_class"] == "all"]
        rows.append(pooled.assign(form=form, description=ICC_FORMS[form]))
    table = pd.concat(rows, ignore_index=True)
    order = {name: position for position, name in enumerate(readings)}
    table = table.sort_values("reading", key=lambda column: column.map(order), kind="stable")
    return table[["reading", "form", "description", "median_icc", "percent_reliable"]].reset_index(drop=True)
