"""Texture phantoms: the same grey values arranged in different spatial patterns.

The first lesson of radiomics: first-order (histogram) features only see *which* grey
values an ROI holds, texture features also see *where* they are. Every phantom made here
holds exactly the same multiset of voxel values (half the voxels at ``mean - sd``, half at
``mean + sd``), so its mean is ``mean``, its (population) SD is ``sd`` and every
first-order feature is identical across phantoms; only the arrangement differs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ..errors import InputError
from ..files import atomic_path

#: The arrangements, in the order lessons show them.
PHANTOM_PATTERNS = ("blocks", "checkerboard", "stripes", "random")

#: pyradiomics parameters of the texture lesson: the original image, first-order, GLCM and
#: GLRLM features, two grey-level bins (one per grey value, whatever ``mean`` and ``sd``; a
#: fixed bin width could put both values in one bin) and 2-D texture matrices (the
#: phantoms are single slices, so the through-plane directions are empty).
PHANTOM_PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {"firstorder": [], "glcm": [], "glrlm": []},
    "setting": {"binCount": 2, "force2D": True, "force2Ddimension": 0, "label": 1},
}


@dataclass(frozen=True)
class Phantom:
    """One phantom: a single-slice 3-D image (1 mm voxels) and a mask covering all of it."""

    name: str
    image: sitk.Image
    mask: sitk.Image

    @property
    def array(self) -> np.ndarray:
        """The grey values as a 2-D array (rows x columns)."""
        return sitk.GetArrayFromImage(self.image)[0]


def _as_image(array_2d: np.ndarray, pixel_type: type) -> sitk.Image:
    image = sitk.GetImageFromArray(array_2d[None].astype(pixel_type))
    image.SetSpacing((1.0, 1.0, 1.0))
    return image


def _patterns(size: int, block: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """0/1 arrays of size x size, each with exactly half the voxels set."""
    rows, columns = np.indices((size, size))
    checkerboard = (rows + columns) % 2
    return {
        "blocks": (rows // block + columns // block) % 2,
        "checkerboard": checkerboard,
        "stripes": columns % 2,
        "random": rng.permutation(checkerboard.ravel()).reshape(size, size),
    }


def texture_phantoms(
    size: int = 32,
    block: int = 8,
    mean: float = 100.0,
    sd: float = 20.0,
    seed: int = 0,
) -> dict[str, Phantom]:
    """Four phantoms with the same grey values in different patterns (:data:`PHANTOM_PATTERNS`).

    * ``blocks``: squares of ``block`` x ``block`` voxels, alternating (coarse texture);
    * ``checkerboard``: alternating single voxels (the finest texture);
    * ``stripes``: alternating columns one voxel wide (a direction-dependent texture);
    * ``random``: the checkerboard's voxels shuffled (``seed``), salt and pepper.

    Each is a ``size`` x ``size`` single-slice image; half its voxels are ``mean - sd`` and
    half ``mean + sd``, so the mean is ``mean`` and the population SD ``sd`` exactly. The
    mask (label 1) covers the whole image.
    """
    if not isinstance(block, (int, np.integer)) or block < 1:
        raise InputError(f"'block' must be a positive integer; got {block!r}.")
    if not isinstance(size, (int, np.integer)) or size < 2 * block or size % (2 * block):
        raise InputError(f"'size' must be a positive multiple of 2 x block = {2 * block}; got {size!r}.")
    if not sd > 0:
        raise InputError(f"'sd' must be positive; got {sd!r}.")
    rng = np.random.default_rng(seed)
    mask = _as_image(np.ones((size, size)), np.uint8)
    return {
        name: Phantom(name, _as_image(mean + sd * (2 * pattern - 1.0), np.float64), mask)
        for name, pattern in _patterns(size, block, rng).items()
    }


def write_phantom_cases(phantoms: Mapping[str, Phantom], directory: str | os.PathLike) -> pd.DataFrame:
    """Write each phantom's image and mask as NIfTI under ``directory``.

    Returns the cases table :func:`stsanalysis.radiomics.extraction.extract_features`
    reads: ``patient_id`` (the phantom's name), ``image``, ``mask`` (absolute paths).
    """
    directory = Path(directory).resolve()
    rows = []
    for name, phantom in phantoms.items():
        paths = {"image": directory / f"{name}_image.nii.gz", "mask": directory / f"{name}_mask.nii.gz"}
        for role, path in paths.items():
            with atomic_path(path) as temporary:
                # SimpleITK picks the writer from the extension, so the temporary file needs one
                named = temporary.with_name(temporary.name + ".nii.gz")
                sitk.WriteImage(getattr(phantom, role), str(named))
                os.replace(named, temporary)
        rows.append({"patient_id": name, "image": str(paths["image"]), "mask": str(paths["mask"])})
    return pd.DataFrame(rows)


def phantom_features(phantoms: Mapping[str, Phantom], params: Mapping | None = None) -> pd.DataFrame:
    """pyradiomics features of every phantom (one row each, indexed by the phantom's name).

    The phantoms are written to a temporary folder and extracted with
    :func:`stsanalysis.radiomics.extraction.extract_features` in this process, with
    ``params`` (default :data:`PHANTOM_PARAMS`).
    """
    from ..radiomics.extraction import extract_features

    with tempfile.TemporaryDirectory(prefix="stsanalysis-phantoms-") as folder:
        cases = write_phantom_cases(phantoms, folder)
        features = extract_features(cases, dict(params or PHANTOM_PARAMS), n_jobs=1, progress=False)
    features.attrs = {}  # the diagnostics name the deleted temporary files
    return features


def compare_features(features: pd.DataFrame, rtol: float = 1e-9) -> pd.DataFrame:
    """Which features differ between phantoms: one row per feature.

    ``features`` has one row per phantom and pyradiomics feature columns
    (``original_glcm_Contrast``). Returns ``feature_class``, ``feature``, one column per
    phantom and ``identical`` (True when every phantom's value lies within ``rtol`` of the
    largest absolute value), sorted by class as pyradiomics lists them.
    """
    if not isinstance(features, pd.DataFrame) or features.empty:
        raise InputError("'features' must be a non-empty DataFrame (one row per phantom).")
    values = features.T
    spread = values.max(axis=1) - values.min(axis=1)
    scale = values.abs().max(axis=1).clip(lower=1.0)
    parts = values.index.str.split("_", n=2)
    table = pd.DataFrame(
        {
            "feature_class": [part[1] for part in parts],
            "feature": [part[2] for part in parts],
            **{str(column): values[column].to_numpy() for column in values.columns},
            "identical": (spread <= rtol * scale).to_numpy(),
        }
    )
    return table.reset_index(drop=True)


def class_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per feature class: ``n_features``, ``n_identical`` and ``n_different`` across phantoms."""
    counts = comparison.groupby("feature_class", sort=False)["identical"].agg(n_features="size", n_identical="sum")
    counts["n_identical"] = counts["n_identical"].astype(int)
    counts["n_different"] = counts["n_features"] - counts["n_identical"]
    return counts.reset_index()


def select_features(comparison: pd.DataFrame, features: Sequence[str] | None = None, *, feature_class: str | None = None) -> pd.DataFrame:
    """Rows of ``comparison``: ``features`` named ``"featureClass_feature"`` in that order, or
    every feature of ``feature_class`` (e.g. ``"firstorder"``)."""
    if (features is None) == (feature_class is None):
        raise InputError("Give either 'features' or 'feature_class', not both or neither.")
    if feature_class is not None:
        rows = comparison[comparison["feature_class"] == feature_class]
        if rows.empty:
            raise InputError(f"No feature of class {feature_class!r}; classes: {sorted(comparison['feature_class'].unique())}.")
        return rows.reset_index(drop=True)
    keys = comparison["feature_class"] + "_" + comparison["feature"]
    missing = [name for name in features if name not in set(keys)]
    if missing:
        raise InputError(f"Feature(s) {missing} not in the comparison; available e.g. {list(keys[:5])}.")
    return comparison.set_index(keys).loc[list(features)].reset_index(drop=True)
