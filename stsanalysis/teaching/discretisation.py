"""Pre-processing choices for the lessons: grey-level discretisation and voxel resampling."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ..errors import InputError
from ..radiomics.params import split_feature_name
from ..stats.reliability import icc_features
from ..validation import require_columns
from .reliability import extract_readings


def grey_levels(cases: pd.DataFrame, bin_width: float = 25.0, bin_count: int = 32) -> pd.DataFrame:
    """Number of grey levels inside each ROI after discretisation, as pyradiomics bins it.

    The ROI intensities of each case (``image``, ``mask``; any non-zero mask voxel) are
    discretised by ``radiomics.imageoperations.binImage`` once with a fixed bin width
    and once with a fixed bin count; the number of grey levels is the highest bin index
    (pyradiomics' texture matrices have that many rows). Returns one row per case with
    ``patient_id`` (and ``scanner`` when ``cases`` has it), ``roi_min``, ``roi_max``,
    ``grey_levels_bin_width`` and ``grey_levels_bin_count``.
    """
    from radiomics.imageoperations import binImage

    require_columns(cases, ["patient_id", "image", "mask"], "cases")
    if not bin_width > 0:
        raise InputError(f"'bin_width' must be positive; got {bin_width!r}.")
    if not (isinstance(bin_count, (int, np.integer)) and bin_count >= 2):
        raise InputError(f"'bin_count' must be an integer of at least 2; got {bin_count!r}.")
    rows = []
    for row in cases.itertuples(index=False):
        image = sitk.GetArrayFromImage(sitk.ReadImage(str(row.image))).astype(float)
        roi = image[sitk.GetArrayFromImage(sitk.ReadImage(str(row.mask))) != 0]
        if roi.size == 0:
            raise InputError(f"The mask of patient {row.patient_id} ({row.mask}) is empty.")
        by_width, _ = binImage(roi, binWidth=bin_width)
        by_count, _ = binImage(roi, binCount=bin_count)
        rows.append(
            {
                "patient_id": row.patient_id,
                **({"scanner": row.scanner} if "scanner" in cases.columns else {}),
                "roi_min": roi.min(),
                "roi_max": roi.max(),
                "grey_levels_bin_width": int(by_width.max()),
                "grey_levels_bin_count": int(by_count.max()),
            }
        )
    return pd.DataFrame(rows)


def grey_level_summary(levels: pd.DataFrame, by: str = "scanner") -> pd.DataFrame:
    """Per group (scanner): ``n_patients``, median ROI maximum and the median, minimum and
    maximum number of grey levels with each discretisation (the table of :func:`grey_levels`)."""
    require_columns(levels, [by, "roi_max", "grey_levels_bin_width", "grey_levels_bin_count"], "levels")
    grouped = levels.groupby(by)
    return grouped.agg(
        n_patients=("roi_max", "size"),
        median_roi_max=("roi_max", "median"),
        bin_width_median=("grey_levels_bin_width", "median"),
        bin_width_min=("grey_levels_bin_width", "min"),
        bin_width_max=("grey_levels_bin_width", "max"),
        bin_count_median=("grey_levels_bin_count", "median"),
    ).reset_index()


def preprocessing_settings(bin_width: float = 25.0, bin_count: int = 32, spacing_mm: float = 1.0) -> dict[str, dict]:
    """The four pyradiomics settings of the discretisation lesson: {name: params}.

    Bin width ``bin_width`` or bin count ``bin_count``, each on the native voxel grid and
    resampled to ``spacing_mm`` isotropic voxels (B-spline; pyradiomics resamples the mask
    with nearest neighbour). Original image, raw intensities (no normalisation), the
    first-order and the five texture classes.
    """
    feature_classes = {name: [] for name in ("firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")}
    resampled = {"resampledPixelSpacing": [spacing_mm] * 3, "interpolator": "sitkBSpline"}
    settings = {}
    for grid, extra in (("native", {}), (f"{spacing_mm:g} mm isotropic", resampled)):
        for name, discretisation in (
            (f"bin width {bin_width:g}", {"binWidth": bin_width}),
            (f"bin count {bin_count}", {"binCount": bin_count}),
        ):
            settings[f"{name}, {grid}"] = {
                "imageType": {"Original": {}},
                "featureClass": feature_classes,
                "setting": {**discretisation, **extra, "label": 1},
            }
    return settings


def extract_settings(
    cases: pd.DataFrame, settings: Mapping[str, Mapping], n_jobs: int = 1, cache_dir=None
) -> dict[str, dict[str, pd.DataFrame]]:
    """Features of every reading under every setting: {setting: {reader: patients x features}}."""
    return {name: extract_readings(cases, params, n_jobs=n_jobs, cache_dir=cache_dir) for name, params in settings.items()}


def setting_iccs(
    extractions: Mapping[str, Mapping[str, pd.DataFrame]],
    reader_a: str = "reader1",
    reader_b: str = "reader2",
    form: str = "ICC2",
) -> pd.DataFrame:
    """ICC between two readers of every feature under every setting: features x settings."""
    table = pd.DataFrame({name: icc_features(readings[reader_a], readings[reader_b], form=form) for name, readings in extractions.items()})
    table.index.name = "feature"
    return table


def variance_explained(features: pd.DataFrame, groups) -> pd.Series:
    """Share of each feature's variance explained by ``groups`` (eta squared of a one-way ANOVA).

    eta^2 = SS_between / SS_total: 0 when the groups (e.g. scanners) have the same
    mean, 1 when all the variance lies between groups. NaN for a constant feature.
    """
    groups = pd.Series(np.asarray(groups), index=features.index)
    if groups.isna().any():
        raise InputError(f"'groups' has {int(groups.isna().sum())} missing value(s).")
    centred = features - features.mean()
    group_means = features.groupby(groups).transform("mean") - features.mean()
    total = (centred**2).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((group_means**2).sum() / total.where(total > 0)).rename("variance_explained")


def discretisation_summary(
    extractions: Mapping[str, Mapping[str, pd.DataFrame]],
    scanner: pd.Series,
    iccs: pd.DataFrame,
    threshold: float = 0.75,
    reference: str = "reader1",
    by_class: bool = True,
) -> pd.DataFrame:
    """One row per setting and feature class: how scanner-dependent and how reliable the features are.

    Each setting's first row pools all features (class "all"); ``by_class=False`` keeps only
    that row.

    Columns ``setting``, ``feature_class``, ``n_features``, ``median_variance_explained``
    (by ``scanner``, a Series indexed by patient, on the ``reference`` reader's features),
    ``median_icc`` and ``percent_reliable`` (ICC > ``threshold``, from ``iccs``, the table of
    :func:`setting_iccs`).
    """
    rows = []
    for name, readings in extractions.items():
        features = readings[reference]
        explained = variance_explained(features, scanner.loc[features.index])
        classes = pd.Series([split_feature_name(column)["feature_class"] for column in features.columns], index=features.columns)
        for feature_class in ["all", *(dict.fromkeys(classes) if by_class else [])]:
            selected = classes.index if feature_class == "all" else classes.index[classes == feature_class]
            icc_values = iccs.loc[selected, name]
            rows.append(
                {
                    "setting": name,
                    "feature_class": feature_class,
                    "n_features": len(selected),
                    "median_variance_explained": explained.loc[selected].median(),
                    "median_icc": icc_values.median(),
                    "percent_reliable": 100.0 * (icc_values.fillna(-np.inf) > threshold).mean(),
                }
            )
    return pd.DataFrame(rows)


def relative_change(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """How much features change from ``before`` to ``after`` (e.g. native grid to resampled), per class.

    For every feature the median over patients of the absolute change in percent of the
    ``before`` value (a zero ``before`` value is left out); then per feature class
    ``n_features``, the median of those medians (``median_change_percent``) and the
    number of features whose median change exceeds 10 % (``n_changed_over_10_percent``).
    Patients and features are aligned by label; class "all" comes first.
    """
    after = after.loc[before.index, before.columns]
    with np.errstate(invalid="ignore", divide="ignore"):
        change = (100.0 * (after - before) / before.abs().where(before != 0)).abs().median()
    classes = [split_feature_name(name)["feature_class"] for name in change.index]
    table = pd.DataFrame({"feature_class": classes, "change": change.to_numpy()})
    pooled = pd.concat([table.assign(feature_class="all"), table])
    return (
        pooled.groupby("feature_class", sort=False)["change"]
        .agg(
            n_features="size",
            median_change_percent="median",
            n_changed_over_10_percent=lambda values: int((values > 10).sum()),
        )
        .reset_index()
    )
