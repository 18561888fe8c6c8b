"""Extraction parameters: pyradiomics' feature classes, presets and their validation.

* Parameters come from a preset in ``radiomics/params/`` (``ct``, ``mri_t1``,
  ``mri_t2fs``, ``pet``, ``ibsi_phantom``), a pyradiomics YAML file or a dict of the same
  structure (``imageType``, ``featureClass``, ``setting``). Two keys of ours may be added
  to a user's dict or file: ``preset`` (the preset it starts from) and ``modality``
  (``mri``, ``ct``, ``pet``). :func:`load_params` resolves them, :func:`validate_params`
  checks them against pyradiomics.
* Presets are plain pyradiomics files; their metadata (``# modality: mri``, ``# description:``)
  are leading comments, which pyradiomics ignores (:func:`preset_info`). :func:`pyradiomics_yaml`
  writes resolved parameters back as the pyradiomics file that re-extracts the same features.
* Feature names follow pyradiomics, ``imageType_featureClass_feature``
  (:func:`split_feature_name`).

IBSI compliance: :data:`IBSI_FEATURE_TAGS` maps pyradiomics features to the IBSI 1 feature
tags, :data:`IBSI_DEVIATIONS` lists the features whose definition differs by design (each
with the reason); both are validated on the IBSI digital phantom in
``tests/test_ibsi_phantom.py`` and reported by :func:`extraction_provenance`.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
import platform
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ..errors import InputError

#: pyradiomics' feature classes and their names in manuscripts (IBSI reporting, methods text).
FEATURE_CLASS_LABELS = {
    "shape": "shape (3D)",
    "shape2D": "shape (2D)",
    "firstorder": "first-order",
    "glcm": "GLCM",
    "glrlm": "GLRLM",
    "glszm": "GLSZM",
    "gldm": "GLDM",
    "ngtdm": "NGTDM",
}

PRESET_DIR = Path(__file__).parent / "params"
PYRADIOMICS_DEFAULT_BIN_WIDTH = 25
_SECTIONS = ("imageType", "featureClass", "setting")

# pyradiomics "featureClass_feature" -> IBSI 1 feature tag (theibsi/ibsi-doc, chapter 3).
# GLCM and GLRLM tags get "_3D_avg" (weightingNorm None: features per direction, then the
# mean) or "_3D_comb" (weightingNorm "no_weighting": one merged matrix); GLSZM, GLDM
# (= IBSI NGLDM with gldm_a 0) and NGTDM tags get "_3D". First-order features are computed
# on the intensities (IBSI "stat" family) except Entropy and Uniformity, which use the
# discretised intensities (IBSI "ih" family).
IBSI_FEATURE_TAGS: dict[str, str] = {
    "shape_MeshVolume": "morph_volume",
    "shape_VoxelVolume": "morph_vol_approx",
    "shape_SurfaceArea": "morph_area_mesh",
    "shape_SurfaceVolumeRatio": "morph_av",
    "shape_Compactness1": "morph_comp_1",
    "shape_Compactness2": "morph_comp_2",
    "shape_SphericalDisproportion": "morph_sph_dispr",
    "shape_Sphericity": "morph_sphericity",
    "shape_Maximum3DDiameter": "morph_diam",
    "shape_MajorAxisLength": "morph_pca_maj_axis",
    "shape_MinorAxisLength": "morph_pca_min_axis",
    "shape_LeastAxisLength": "morph_pca_least_axis",
    "shape_Elongation": "morph_pca_elongation",
    "shape_Flatness": "morph_pca_flatness",
    "firstorder_Mean": "stat_mean",
    "firstorder_Variance": "stat_var",
    "firstorder_Skewness": "stat_skew",
    "firstorder_Kurtosis": "stat_kurt",
    "firstorder_Median": "stat_median",
    "firstorder_Minimum": "stat_min",
    "firstorder_10Percentile": "stat_p10",
    "firstorder_90Percentile": "stat_p90",
    "firstorder_Maximum": "stat_max",
    "firstorder_InterquartileRange": "stat_iqr",
    "firstorder_Range": "stat_range",
    "firstorder_MeanAbsoluteDeviation": "stat_mad",
    "firstorder_RobustMeanAbsoluteDeviation": "stat_rmad",
    "firstorder_Energy": "stat_energy",
    "firstorder_RootMeanSquared": "stat_rms",
    "firstorder_Entropy": "ih_entropy",
    "firstorder_Uniformity": "ih_uniformity",
    "glcm_MaximumProbability": "cm_joint_max",
    "glcm_JointAverage": "cm_joint_avg",
    "glcm_SumSquares": "cm_joint_var",
    "glcm_JointEntropy": "cm_joint_entr",
    "glcm_DifferenceAverage": "cm_diff_avg",
    "glcm_DifferenceVariance": "cm_diff_var",
    "glcm_DifferenceEntropy": "cm_diff_entr",
    "glcm_SumAverage": "cm_sum_avg",
    "glcm_SumEntropy": "cm_sum_entr",
    "glcm_JointEnergy": "cm_energy",
    "glcm_Contrast": "cm_contrast",
    "glcm_Id": "cm_inv_diff",
    "glcm_Idn": "cm_inv_diff_norm",
    "glcm_Idm": "cm_inv_diff_mom",
    "glcm_Idmn": "cm_inv_diff_mom_norm",
    "glcm_InverseVariance": "cm_inv_var",
    "glcm_Correlation": "cm_corr",
    "glcm_Autocorrelation": "cm_auto_corr",
    "glcm_ClusterTendency": "cm_clust_tend",
    "glcm_ClusterShade": "cm_clust_shade",
    "glcm_ClusterProminence": "cm_clust_prom",
    "glcm_Imc1": "cm_info_corr1",
    "glcm_Imc2": "cm_info_corr2",
    "glrlm_ShortRunEmphasis": "rlm_sre",
    "glrlm_LongRunEmphasis": "rlm_lre",
    "glrlm_LowGrayLevelRunEmphasis": "rlm_lgre",
    "glrlm_HighGrayLevelRunEmphasis": "rlm_hgre",
    "glrlm_ShortRunLowGrayLevelEmphasis": "rlm_srlge",
    "glrlm_ShortRunHighGrayLevelEmphasis": "rlm_srhge",
    "glrlm_LongRunLowGrayLevelEmphasis": "rlm_lrlge",
    "glrlm_LongRunHighGrayLevelEmphasis": "rlm_lrhge",
    "glrlm_GrayLevelNonUniformity": "rlm_glnu",
    "glrlm_GrayLevelNonUniformityNormalized": "rlm_glnu_norm",
    "glrlm_RunLengthNonUniformity": "rlm_rlnu",
    "glrlm_RunLengthNonUniformityNormalized": "rlm_rlnu_norm",
    "glrlm_RunPercentage": "rlm_r_perc",
    "glrlm_GrayLevelVariance": "rlm_gl_var",
    "glrlm_RunVariance": "rlm_rl_var",
    "glrlm_RunEntropy": "rlm_rl_entr",
    "glszm_SmallAreaEmphasis": "szm_sze",
    "glszm_LargeAreaEmphasis": "szm_lze",
    "glszm_LowGrayLevelZoneEmphasis": "szm_lgze",
    "glszm_HighGrayLevelZoneEmphasis": "szm_hgze",
    "glszm_SmallAreaLowGrayLevelEmphasis": "szm_szlge",
    "glszm_SmallAreaHighGrayLevelEmphasis": "szm_szhge",
    "glszm_LargeAreaLowGrayLevelEmphasis": "szm_lzlge",
    "glszm_LargeAreaHighGrayLevelEmphasis": "szm_lzhge",
    "glszm_GrayLevelNonUniformity": "szm_glnu",
    "glszm_GrayLevelNonUniformityNormalized": "szm_glnu_norm",
    "glszm_SizeZoneNonUniformity": "szm_zsnu",
    "glszm_SizeZoneNonUniformityNormalized": "szm_zsnu_norm",
    "glszm_ZonePercentage": "szm_z_perc",
    "glszm_GrayLevelVariance": "szm_gl_var",
    "glszm_ZoneVariance": "szm_zs_var",
    "glszm_ZoneEntropy": "szm_zs_entr",
    "gldm_SmallDependenceEmphasis": "ngl_lde",
    "gldm_LargeDependenceEmphasis": "ngl_hde",
    "gldm_LowGrayLevelEmphasis": "ngl_lgce",
    "gldm_HighGrayLevelEmphasis": "ngl_hgce",
    "gldm_SmallDependenceLowGrayLevelEmphasis": "ngl_ldlge",
    "gldm_SmallDependenceHighGrayLevelEmphasis": "ngl_ldhge",
    "gldm_LargeDependenceLowGrayLevelEmphasis": "ngl_hdlge",
    "gldm_LargeDependenceHighGrayLevelEmphasis": "ngl_hdhge",
    "gldm_GrayLevelNonUniformity": "ngl_glnu",
    "gldm_DependenceNonUniformity": "ngl_dcnu",
    "gldm_DependenceNonUniformityNormalized": "ngl_dcnu_norm",
    "gldm_GrayLevelVariance": "ngl_gl_var",
    "gldm_DependenceVariance": "ngl_dc_var",
    "gldm_DependenceEntropy": "ngl_dc_entr",
    "ngtdm_Coarseness": "ngt_coarseness",
    "ngtdm_Contrast": "ngt_contrast",
    "ngtdm_Busyness": "ngt_busyness",
    "ngtdm_Complexity": "ngt_complexity",
    "ngtdm_Strength": "ngt_strength",
}

# Features that implement an IBSI feature with a different, documented convention.
_PCA_DIVISOR = (
    "PCA axis length from the covariance of the voxel centres with divisor N where IBSI uses "
    "N - 1: pyradiomics = IBSI x sqrt((N - 1) / N), N = number of ROI voxels"
)
IBSI_DEVIATIONS: dict[str, str] = {
    "firstorder_Kurtosis": ("pyradiomics reports kurtosis, IBSI the excess kurtosis: pyradiomics = IBSI + 3"),
    # on the 74-voxel phantom the major axis still rounds within the IBSI tolerance
    "shape_MajorAxisLength": _PCA_DIVISOR,
    "shape_MinorAxisLength": _PCA_DIVISOR,
    "shape_LeastAxisLength": _PCA_DIVISOR,
}

# Features pyradiomics provides that have no IBSI 1 definition.
IBSI_NOT_DEFINED = (
    "shape_Maximum2DDiameterSlice",
    "shape_Maximum2DDiameterColumn",
    "shape_Maximum2DDiameterRow",
    "firstorder_TotalEnergy",
    "firstorder_StandardDeviation",
    "glcm_MCC",
)


# pykwalify (pyradiomics' schema validator) loads its extension module with the deprecated
# SourceFileLoader.load_module: harmless, and not ours to fix
PYKWALIFY_WARNING = ".*load_module"


class BinWidthWarning(UserWarning):
    """A grey-level bin width meant for CT (pyradiomics' default, 25) is applied to MRI."""


# ----------------------------------------------------------------------------- parameters


def available_presets() -> list[str]:
    """Names of the parameter presets shipped in ``stsanalysis/radiomics/params``."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.yaml"))


#: The metadata lines of a parameter file's leading comments: ``# modality: mri``.
_METADATA_LINE = re.compile(r"#\s*(modality|description):\s*(\S.*?)\s*$")


@dataclass(frozen=True)
class PresetInfo:
    """A shipped preset: its name, modality and one-line description."""

    name: str
    modality: str | None
    description: str | None


def preset_info(name: str) -> PresetInfo:
    """The modality and description of a preset, read from its file's leading comment lines.

    >>> preset_info("pet").modality
    'pet'
    """
    if name not in available_presets():
        raise InputError(f"Unknown parameter preset '{name}'; choose one of {available_presets()}.")
    path = PRESET_DIR / f"{name}.yaml"
    metadata = _comment_metadata(path.read_text(encoding="utf-8"))
    return PresetInfo(name, metadata.get("modality"), metadata.get("description"))


def _comment_metadata(text: str) -> dict[str, str]:
    """``modality`` and ``description`` from the comment lines before a file's first setting."""
    leading = itertools.takewhile(lambda line: not line.strip() or line.lstrip().startswith("#"), text.splitlines())
    matches = [_METADATA_LINE.match(line.strip()) for line in leading]
    return dict(match.groups() for match in reversed(matches) if match)  # reversed: the first line of a name wins


def load_params(params="mri_t1") -> dict:
    """Resolve ``params`` to a complete parameter dict.

    ``params`` is a preset name (:func:`available_presets`), a path to a pyradiomics YAML
    file or a dict with the keys ``imageType``, ``featureClass``, ``setting`` (pyradiomics'
    structure) and optionally ``preset`` and ``modality``. A file without a ``modality``
    key takes it from a ``# modality: …`` comment line before its first setting, as the
    presets state theirs; the result then has a ``modality`` key. When a dict or file names a
    ``preset``, the two merge and the user wins: ``setting`` keys override the preset's one
    by one (a user ``binWidth`` also drops the preset's ``binCount`` and vice versa, as
    the two are alternative discretisations), while a user ``imageType`` or
    ``featureClass`` replaces the preset's selection wholesale, so that an explicit
    feature list is honoured exactly.
    """
    resolved = _load_params(params, seen=())
    resolved.pop("preset", None)
    for section in _SECTIONS:
        resolved[section] = resolved.get(section) or {}  # an empty YAML section loads as None
    return resolved


def _load_params(params, seen: tuple) -> dict:
    if isinstance(params, dict):
        user = copy.deepcopy(params)
    elif isinstance(params, (str, os.PathLike)):
        user = _read_params_file(params)
    else:
        raise InputError(f"'params' must be a preset name, a YAML path or a dict; got {type(params).__name__}.")
    unknown = set(user) - {*_SECTIONS, "preset", "modality"}
    if unknown:
        raise InputError(
            f"Unknown key(s) {sorted(unknown)} in 'params'; expected imageType, featureClass, setting, and optionally preset and modality."
        )
    base_name = user.pop("preset", None)
    if base_name is None:
        return user
    if base_name in seen:
        raise InputError(f"Preset '{base_name}' includes itself (chain {list(seen)}).")
    base = _load_params(base_name, seen=(*seen, base_name))
    return _merge_params(base, user)


def _read_params_file(params) -> dict:
    path = Path(params)
    if path.suffix.lower() not in (".yaml", ".yml") and not path.exists():
        path = PRESET_DIR / f"{params}.yaml"
        if not path.exists():
            raise InputError(
                f"Unknown parameter preset '{params}'; choose one of {available_presets()} or give the path of a pyradiomics YAML file."
            )
    if not path.is_file():
        raise InputError(f"Parameter file '{path}' does not exist.")
    text = path.read_text(encoding="utf-8")
    loaded = yaml.safe_load(text) or {}
    if not isinstance(loaded, dict):
        raise InputError(f"Parameter file '{path}' must hold a mapping; got {type(loaded).__name__}.")
    modality = _comment_metadata(text).get("modality")
    if modality is not None and "modality" not in loaded:
        loaded = {"modality": modality, **loaded}
    return loaded


def _merge_params(base: dict, user: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in user.items():
        if key == "setting":
            settings = merged.setdefault("setting", {}) or {}
            if "binWidth" in value:
                settings.pop("binCount", None)
            if "binCount" in value:
                settings.pop("binWidth", None)
            settings.update(value)
            merged["setting"] = settings
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_params(resolved: dict) -> None:
    """Check names against pyradiomics; warn about a CT bin width on MRI."""
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    known_types = radiomics.getImageTypes()
    unknown_types = [name for name in resolved["imageType"] if name not in known_types]
    if unknown_types:
        raise InputError(f"Unknown imageType(s) {unknown_types}; pyradiomics offers {known_types}.")
    classes = radiomics.getFeatureClasses()
    for class_name, names in resolved["featureClass"].items():
        if class_name not in classes:
            raise InputError(f"Unknown featureClass '{class_name}'; pyradiomics offers {sorted(classes)}.")
        available = classes[class_name].getFeatureNames()
        for name in names or []:
            if name not in available:
                raise InputError(f"featureClass '{class_name}' has no feature '{name}'; available: {sorted(available)}.")
            removed = _removed_feature_reason(classes[class_name], name)
            if removed:
                raise InputError(
                    f"featureClass '{class_name}': pyradiomics computes no value for '{name}' ({removed}). Remove it from the feature list."
                )
    try:
        with warnings.catch_warnings(), captured_radiomics_log():
            warnings.filterwarnings("ignore", message=PYKWALIFY_WARNING, category=DeprecationWarning)
            RadiomicsFeatureExtractor(pyradiomics_params(resolved))
    except Exception as error:  # pykwalify reports bad settings with its own exception types
        raise InputError(f"Invalid pyradiomics parameters: {error}") from error

    settings = resolved["setting"]
    if (
        resolved.get("modality") == "mri"
        and settings.get("binCount") is None
        and settings.get("binWidth", PYRADIOMICS_DEFAULT_BIN_WIDTH) == PYRADIOMICS_DEFAULT_BIN_WIDTH
    ):
        warnings.warn(
            "binWidth 25 (pyradiomics' default, chosen for CT Hounsfield units) is used on MRI, "
            "whose intensities have arbitrary units: the number of grey levels then depends on "
            "the scanner. Set binCount (e.g. 32) or a bin width chosen for the normalised scale.",
            BinWidthWarning,
            stacklevel=3,
        )


def _removed_feature_reason(feature_class, name: str) -> str | None:
    """pyradiomics keeps some removed features as methods that only raise DeprecationWarning."""
    if not feature_class.getFeatureNames()[name]:
        return None
    try:
        getattr(feature_class, f"get{name}FeatureValue")(None)
    except DeprecationWarning as removed:
        return str(removed.args[0])
    except Exception:  # a deprecated feature that is still computed (e.g. Compactness1)
        return None
    return None


def pyradiomics_params(resolved: dict) -> dict:
    """The sections pyradiomics reads (``imageType``, ``featureClass``, ``setting``), without ours."""
    return {section: resolved[section] for section in _SECTIONS}


def pyradiomics_yaml(resolved: dict) -> str:
    """The pyradiomics parameter file of ``resolved`` (:func:`load_params`): it re-extracts the same features.

    The sections pyradiomics reads, as resolved (a preset's inheritance merged, every
    setting written out), without our keys; the modality follows as a comment line, which
    pyradiomics ignores and :func:`load_params` reads back. Load it with
    ``RadiomicsFeatureExtractor(path)`` or ``pyradiomics cases.csv --param path``.
    """
    import radiomics

    # JSON first: numpy numbers and tuples become the plain numbers and lists YAML writes
    sections = json.loads(json.dumps(pyradiomics_params(resolved), default=_plain_value))
    header = [f"# pyradiomics {radiomics.__version__} parameter file written by stsanalysis."]
    if resolved.get("modality"):
        header.append(f"# modality: {resolved['modality']}")
    body = yaml.dump(sections, Dumper=_ParamsDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=88)
    return "\n".join(header) + "\n" + body


def _plain_value(value):
    if isinstance(value, np.generic):
        return value.item()
    raise InputError(f"Parameter value {value!r} ({type(value).__name__}) cannot be written to a pyradiomics YAML file.")


class _ParamsDumper(yaml.SafeDumper):  # block mappings, lists on one line: as the presets are written
    pass


_ParamsDumper.add_representer(list, lambda dumper, items: dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=True))


@contextmanager
def captured_radiomics_log() -> Iterator[list[str]]:
    """Collect pyradiomics' warnings/errors for the diagnostics instead of printing them."""
    import radiomics

    records: list[str] = []

    class _Collector(logging.Handler):
        def emit(self, record):
            records.append(f"{record.levelname}: {record.getMessage()}")

    logger = logging.getLogger("radiomics")
    collector = _Collector(level=logging.WARNING)
    stderr_level = radiomics.handler.level
    radiomics.handler.setLevel(logging.CRITICAL + 10)
    logger.addHandler(collector)
    try:
        yield records
    finally:
        logger.removeHandler(collector)
        radiomics.handler.setLevel(stderr_level)


# ----------------------------------------------------------------------------- feature names


def split_feature_name(name: str) -> dict[str, str | None]:
    """Parts of ``[sequence_]imageType_featureClass_feature`` (pyradiomics naming).

    The image type never contains "_" in pyradiomics (``original``, ``wavelet-LLH``,
    ``log-sigma-1-0-mm-3D``), so everything before it is the sequence prefix added by
    :func:`stsanalysis.radiomics.pipeline.signature_features`.
    """
    parts = name.split("_")
    positions = [i for i, part in enumerate(parts) if part in FEATURE_CLASS_LABELS and 0 < i < len(parts) - 1]
    if not positions:
        raise InputError(f"Feature '{name}' is not named imageType_featureClass_feature as pyradiomics names features.")
    at = positions[-1]
    return {
        "sequence": "_".join(parts[: at - 1]) or None,
        "image_type": parts[at - 1],
        "feature_class": parts[at],
        "feature": "_".join(parts[at + 1 :]),
    }


def _class_feature(name: str) -> str:
    parts = split_feature_name(name)
    return f"{parts['feature_class']}_{parts['feature']}"


# ----------------------------------------------------------------------------- provenance


def extraction_provenance(resolved: dict, feature_names) -> dict:
    """Every setting, software versions and the IBSI compliance notes of the features."""
    # imported here, as in validate_params: the report reads FEATURE_CLASS_LABELS without them
    import radiomics
    import SimpleITK as sitk

    by_class = {_class_feature(name) for name in feature_names}
    return {
        "params": copy.deepcopy(resolved),
        "software": {
            "pyradiomics": radiomics.__version__,
            "SimpleITK": sitk.Version.VersionString(),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "mask_interpolation": "sitkNearestNeighbor (pyradiomics resamples masks with nearest neighbour)",
        "ibsi_deviations": {key: reason for key, reason in IBSI_DEVIATIONS.items() if key in by_class},
        "ibsi_not_defined": sorted(key for key in IBSI_NOT_DEFINED if key in by_class),
        "ibsi_notes": (
            "Features follow IBSI 1 definitions (validated on the IBSI digital phantom) except "
            "those listed in ibsi_deviations; filtered images (wavelet, LoG) are not covered by "
            "IBSI 1. First-order features use the intensities (IBSI 'stat'), Entropy and "
            "Uniformity the discretised ones (IBSI 'ih')."
        ),
    }
