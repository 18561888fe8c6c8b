"""Radiomic feature extraction with pyradiomics: presets, process-parallel, cached, resumable.

:func:`extract_features` turns a cases table (one row per image + mask) into a feature
table (one row per case, pyradiomics feature names ``imageType_featureClass_feature``).

* Parameters come from a preset in ``radiomics/params/`` (``ct``, ``mri_t1``,
  ``mri_t2fs``, ``ibsi_phantom``), a pyradiomics YAML file or a dict of the same
  structure (``imageType``, ``featureClass``, ``setting``). Two keys of ours may be added:
  ``preset`` (the preset the dict or file starts from) and ``modality`` (``mri``, ``ct``).
* Cases run in parallel processes, each with one ITK thread, or on a Dask cluster.
* With ``cache_dir`` every finished case is written at once (atomically) to a small JSON
  file keyed by the content of its image and mask, the parameters, the label and the
  pyradiomics version: a re-run recomputes nothing and an interrupted run resumes.
* A case that fails (unreadable file, mask not matching the image, empty ROI, ...) is
  listed in ``attrs["errors"]`` with the patient, the file and the reason; the others go on.

IBSI compliance: :data:`IBSI_FEATURE_TAGS` maps pyradiomics features to the IBSI 1 feature
tags, :data:`IBSI_DEVIATIONS` lists the features whose definition differs by design (each
with the reason); both are validated on the IBSI digital phantom in
``tests/test_ibsi_phantom.py`` and reported in ``attrs["provenance"]``.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import locale
import logging
import os
import platform
import struct
import tempfile
import warnings
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from math import prod
from numbers import Number
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml

from ..errors import InputError
from ..validation import require_columns
from .params import FEATURE_CLASS_LABELS

PRESET_DIR = Path(__file__).parent / "params"
CASE_ID_COLUMNS = ("patient_id", "sequence", "reader")
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
    "firstorder_Kurtosis": (
        "pyradiomics reports kurtosis, IBSI the excess kurtosis: pyradiomics = IBSI + 3"
    ),
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
_PYKWALIFY_WARNING = ".*load_module"


class BinWidthWarning(UserWarning):
    """A grey-level bin width meant for CT (pyradiomics' default, 25) is applied to MRI."""


# ----------------------------------------------------------------------------- parameters


def available_presets() -> list[str]:
    """Names of the parameter presets shipped in ``stsanalysis/radiomics/params``."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.yaml"))


def load_params(params="mri_t1") -> dict:
    """Resolve ``params`` to a complete parameter dict.

    ``params`` is a preset name (:func:`available_presets`), a path to a pyradiomics YAML
    file or a dict with the keys ``imageType``, ``featureClass``, ``setting`` (pyradiomics'
    structure) and optionally ``preset`` and ``modality``. When a dict or file names a
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
        raise InputError(
            f"'params' must be a preset name, a YAML path or a dict; got {type(params).__name__}."
        )
    unknown = set(user) - {*_SECTIONS, "preset", "modality"}
    if unknown:
        raise InputError(
            f"Unknown key(s) {sorted(unknown)} in 'params'; expected imageType, featureClass, "
            "setting, and optionally preset and modality."
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
                f"Unknown parameter preset '{params}'; choose one of {available_presets()} "
                "or give the path of a pyradiomics YAML file."
            )
    if not path.is_file():
        raise InputError(f"Parameter file '{path}' does not exist.")
    with path.open() as handle:
        loaded = yaml.safe_load(handle) or {}
    if not isinstance(loaded, dict):
        raise InputError(f"Parameter file '{path}' must hold a mapping; got {type(loaded).__name__}.")
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


def _validate_params(resolved: dict) -> None:
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
            raise InputError(
                f"Unknown featureClass '{class_name}'; pyradiomics offers {sorted(classes)}."
            )
        available = classes[class_name].getFeatureNames()
        for name in names or []:
            if name not in available:
                raise InputError(
                    f"featureClass '{class_name}' has no feature '{name}'; "
                    f"available: {sorted(available)}."
                )
            removed = _removed_feature_reason(classes[class_name], name)
            if removed:
                raise InputError(
                    f"featureClass '{class_name}': pyradiomics computes no value for '{name}' "
                    f"({removed}). Remove it from the feature list."
                )
    try:
        with warnings.catch_warnings(), _captured_radiomics_log():
            warnings.filterwarnings("ignore", message=_PYKWALIFY_WARNING, category=DeprecationWarning)
            RadiomicsFeatureExtractor(_pyradiomics_params(resolved))
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


def _pyradiomics_params(resolved: dict) -> dict:
    return {section: resolved[section] for section in _SECTIONS}


# ----------------------------------------------------------------------------- one case


class CaseError(Exception):
    """A case cannot be extracted; ``file`` is the image or mask to blame."""

    def __init__(self, message: str, file: str):
        super().__init__(message)
        self.file = file


@dataclass(frozen=True)
class _CaseTask:
    case_id: tuple
    image: str
    mask: str
    label: int
    params: dict
    cache_file: str | None


@dataclass
class _CaseOutcome:
    case_id: tuple
    features: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    error: str | None = None
    file: str | None = None


@contextmanager
def _locale_kept():
    """GDCM (SimpleITK's DICOM reader) resets the C locale to "C", which turns Python's
    default text encoding into ASCII for the rest of the process: restore it."""
    saved = locale.setlocale(locale.LC_ALL)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def read_image(path) -> sitk.Image:
    """Read a NIfTI/NRRD/... file with SimpleITK, or a DICOM series from a directory."""
    path = Path(path)
    if not path.exists():
        raise CaseError("file not found", str(path))
    try:
        if path.is_dir():
            with _locale_kept():
                reader = sitk.ImageSeriesReader()
                series = reader.GetGDCMSeriesIDs(str(path))
                if len(series) != 1:
                    raise CaseError(
                        f"directory must hold exactly one DICOM series; found {len(series)}", str(path)
                    )
                reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(path), series[0]))
                return reader.Execute()
        if path.name.lower().endswith((".nii", ".nii.gz")):
            _check_nifti_complete(path)
        return sitk.ReadImage(str(path))
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown error"
        raise CaseError(f"SimpleITK cannot read it ({first_line})", str(path)) from error


def _format_vector(values) -> str:
    return "(" + ", ".join(f"{value:.6g}" for value in values) + ")"


def _nifti_data_size(header: bytes) -> int | None:
    """Bytes a NIfTI-1/-2 file must hold (voxel offset + voxel data) by its header; None if not NIfTI."""
    for order in "<>":
        (header_size,) = struct.unpack(f"{order}i", header[:4]) if len(header) >= 4 else (0,)
        if header_size == 348 and len(header) >= 348:
            dims = struct.unpack(f"{order}8h", header[40:56])
            (bitpix,) = struct.unpack(f"{order}h", header[72:74])
            (offset,) = struct.unpack(f"{order}f", header[108:112])
        elif header_size == 540 and len(header) >= 540:
            dims = struct.unpack(f"{order}8q", header[16:80])
            (bitpix,) = struct.unpack(f"{order}h", header[14:16])
            (offset,) = struct.unpack(f"{order}q", header[168:176])
        else:
            continue
        return int(offset) + prod(dims[1 : dims[0] + 1]) * bitpix // 8
    return None


def _check_nifti_complete(path: Path) -> None:
    """ITK reads a truncated NIfTI without complaint and fills the missing voxels with 0."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(540)
            size = len(header) + sum(len(chunk) for chunk in iter(lambda: handle.read(1 << 20), b""))
    except gzip.BadGzipFile:
        return  # not gzip at all: SimpleITK reports what it is
    except (EOFError, zlib.error) as error:
        raise CaseError(f"the file is corrupt or truncated ({error})", str(path)) from error
    expected = _nifti_data_size(header)
    if expected is not None and size < expected:
        raise CaseError(
            f"the file is truncated: {size} bytes where its NIfTI header announces {expected}", str(path)
        )


def _check_geometry(image: sitk.Image, mask: sitk.Image, image_path: str, mask_path: str, settings: dict):
    if image.GetDimension() != 3:
        raise CaseError(
            f"image is {image.GetDimension()}-D (size {image.GetSize()}); a 3-D volume is expected",
            image_path,
        )
    if mask.GetDimension() != 3:
        raise CaseError(
            f"mask is {mask.GetDimension()}-D (size {mask.GetSize()}); a 3-D volume is expected",
            mask_path,
        )
    if settings.get("correctMask"):
        return  # pyradiomics resamples the mask onto the image grid
    tolerance = settings.get("geometryTolerance") or 1e-5
    spacing = np.asarray(image.GetSpacing())
    checks = (
        ("size", image.GetSize(), mask.GetSize(), 0),
        ("spacing", image.GetSpacing(), mask.GetSpacing(), tolerance * spacing),
        ("origin", image.GetOrigin(), mask.GetOrigin(), tolerance * spacing.max()),
        ("direction", image.GetDirection(), mask.GetDirection(), tolerance),
    )
    for name, of_image, of_mask, allowed in checks:
        if not np.allclose(of_image, of_mask, rtol=0, atol=allowed):
            raise CaseError(
                f"mask {name} {_format_vector(of_mask)} differs from the image {name} "
                f"{_format_vector(of_image)}; resample the mask onto the image grid "
                "(or set correctMask: true)",
                mask_path,
            )


@contextmanager
def _captured_radiomics_log() -> Iterator[list[str]]:
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


def _run_pyradiomics(image: sitk.Image, mask: sitk.Image, label: int, params: dict) -> dict:
    """The single call into pyradiomics (tests count calls of this function)."""
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    extractor = RadiomicsFeatureExtractor(_pyradiomics_params(params))
    return extractor.execute(image, mask, label=label)


def _as_number_or_text(value):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Number):
        return float(value)
    return str(value)


def _extract_case(task: _CaseTask) -> _CaseOutcome:
    """Read, check and extract one case; write it to the cache when it succeeds."""
    outcome = _CaseOutcome(task.case_id)
    try:
        image = read_image(task.image)
        mask = read_image(task.mask)
        _check_geometry(image, mask, task.image, task.mask, task.params["setting"])
        with _captured_radiomics_log() as log, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", message=_PYKWALIFY_WARNING, category=DeprecationWarning)
            try:
                values = _run_pyradiomics(image, mask, task.label, task.params)
            except (ValueError, AssertionError) as error:  # pyradiomics' ROI and mask checks
                raise CaseError(str(error), task.mask) from error
            except RuntimeError as error:  # ITK failures inside filters or resampling
                raise CaseError(f"pyradiomics/ITK failed: {error}", task.image) from error
    except CaseError as error:
        outcome.error, outcome.file = str(error), error.file
        return outcome
    for name, value in values.items():
        if name.startswith("diagnostics_"):
            outcome.diagnostics[name] = _as_number_or_text(value)
        else:
            outcome.features[name] = float(value)
    # feature failures (NaN values) and numerical warnings stay visible per case, once each
    messages = log + [f"{w.category.__name__}: {w.message}" for w in caught]
    outcome.diagnostics["diagnostics_messages"] = "\n".join(dict.fromkeys(messages))
    if task.cache_file:
        _write_json_atomically(
            Path(task.cache_file), {"features": outcome.features, "diagnostics": outcome.diagnostics}
        )
    return outcome


def _write_json_atomically(path: Path, content: dict) -> None:
    # a reader never sees a half-written file: write a temporary file, then rename it
    handle = tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            json.dump(content, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _pin_itk_threads() -> None:
    """Worker initializer: cases are parallel, so each worker runs ITK on one thread."""
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)


# ----------------------------------------------------------------------------- the cache


def _hash_path(path: Path, digest) -> None:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path)).encode() if path.is_dir() else b"file")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)


def cache_key(image, mask, params: dict, label: int) -> str:
    """sha256 of the image and mask content, the canonical parameters, label and pyradiomics version."""
    import radiomics

    digest = hashlib.sha256()
    for path in (Path(image), Path(mask)):
        _hash_path(path, digest)
        digest.update(b"\0")
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    digest.update(canonical.encode())
    digest.update(f"label={label};pyradiomics={radiomics.__version__}".encode())
    return digest.hexdigest()


def _read_cache(path: Path) -> dict | None:
    try:
        with path.open() as handle:
            return json.load(handle)
    except (OSError, ValueError):  # absent, or unreadable: recompute
        return None


# ----------------------------------------------------------------------------- execution


def _resolve_workers(n_jobs) -> int | str:
    if isinstance(n_jobs, str):
        if n_jobs == "dask" or "://" in n_jobs:
            return n_jobs
        raise InputError(f"'n_jobs' must be an integer, 'dask' or a scheduler address; got '{n_jobs}'.")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise InputError(f"'n_jobs' must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def _run_serial(tasks):
    for task in tasks:
        yield _extract_case(task)


def _run_processes(tasks, workers: int):
    # spawn: workers start clean (no forked ITK/tqdm threads), the same on Linux, macOS, Windows
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_pin_itk_threads
    ) as pool:
        futures = [pool.submit(_extract_case, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _run_dask(tasks, scheduler: str):
    try:
        from distributed import Client, as_completed as dask_as_completed, default_client
    except ImportError as error:
        raise InputError("n_jobs='dask' needs the optional packages dask and distributed.") from error
    if scheduler == "dask":
        try:
            client, own_client = default_client(), False
        except ValueError as error:
            raise InputError(
                "n_jobs='dask' needs a running dask.distributed Client; start one "
                "(Client(...)) or pass the scheduler address, e.g. 'tcp://host:8786'."
            ) from error
    else:
        client, own_client = Client(scheduler), True
    try:
        client.run(_pin_itk_threads)
        futures = client.map(_extract_case, tasks, pure=False)
        for future in dask_as_completed(futures):
            yield future.result()
    finally:
        if own_client:
            client.close()


def _execute(tasks, workers):
    if not tasks:
        return iter(())
    if isinstance(workers, str):
        return _run_dask(tasks, workers)
    if workers == 1 or len(tasks) == 1:
        return _run_serial(tasks)
    return _run_processes(tasks, min(workers, len(tasks)))


# ----------------------------------------------------------------------------- public entry


def extract_features(cases: pd.DataFrame, params="mri_t1", n_jobs=-1, cache_dir=None, progress=True):
    """Extract pyradiomics features for every case (image + mask) of ``cases``.

    Parameters
    ----------
    cases
        One row per case: ``patient_id``, ``image``, ``mask`` (paths: NIfTI, NRRD or any
        file SimpleITK reads, or a directory holding one DICOM series), optionally
        ``sequence`` and ``reader`` (part of the case identity) and ``label`` (the mask
        value of the ROI; default the ``label`` setting, 1).
    params
        Preset name, YAML path or dict; see :func:`load_params`. A :class:`BinWidthWarning`
        is issued when MRI is discretised with pyradiomics' CT default bin width of 25.
    n_jobs
        Number of worker processes (-1: all cores; 1: in this process), ``"dask"`` (the
        running dask.distributed client) or a scheduler address ``"tcp://..."``.
    cache_dir
        Directory for the per-case cache (created if needed). None: no cache.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    DataFrame
        One row per successful case, indexed by ``patient_id`` (+ ``sequence``, ``reader``
        when present), columns named as pyradiomics names them. ``attrs["diagnostics"]``
        holds pyradiomics' diagnostics (one row per case), ``attrs["errors"]`` the failed
        cases (case id columns, ``file``, ``error``) and ``attrs["provenance"]`` the
        settings, software versions and IBSI compliance notes. pandas cannot ``concat``
        frames whose attrs hold tables: extract all sequences in one call, or clear
        ``attrs`` first.

    Raises
    ------
    InputError
        Bad ``cases`` or ``params``, or every case failed (the message lists why).
    """
    from tqdm.auto import tqdm

    id_columns = _validate_cases(cases)
    resolved = load_params(params)
    _validate_params(resolved)
    workers = _resolve_workers(n_jobs)
    default_label = int(resolved["setting"].get("label", 1))
    cache_path = Path(cache_dir) if cache_dir is not None else None
    if cache_path is not None:
        cache_path.mkdir(parents=True, exist_ok=True)

    outcomes: dict[tuple, _CaseOutcome] = {}
    tasks = []
    for row in cases.itertuples(index=False):
        case_id = tuple(getattr(row, column) for column in id_columns)
        label = _case_label(row, default_label)
        image, mask = str(row.image), str(row.mask)
        missing = [path for path in (image, mask) if not Path(path).exists()]
        if missing:
            outcomes[case_id] = _CaseOutcome(case_id, error="file not found", file=missing[0])
            continue
        cache_file = None
        if cache_path is not None:
            cache_file = cache_path / f"{cache_key(image, mask, resolved, label)}.json"
            cached = _read_cache(cache_file)
            if cached is not None:
                outcomes[case_id] = _CaseOutcome(case_id, cached["features"], cached["diagnostics"])
                continue
        tasks.append(_CaseTask(case_id, image, mask, label, resolved, cache_file and str(cache_file)))

    n_cached = sum(outcome.error is None for outcome in outcomes.values())
    with tqdm(total=len(tasks), disable=not progress, desc="pyradiomics", unit="case") as bar:
        for outcome in _execute(tasks, workers):
            outcomes[outcome.case_id] = outcome
            bar.update(1)

    ordered = [outcomes[tuple(getattr(row, c) for c in id_columns)] for row in cases.itertuples(index=False)]
    return _assemble(ordered, id_columns, resolved, n_cached)


def _validate_cases(cases) -> list[str]:
    require_columns(cases, ("patient_id", "image", "mask"), what="cases")
    if cases.empty:
        raise InputError("'cases' has no rows; expected one row per image + mask.")
    id_columns = [column for column in CASE_ID_COLUMNS if column in cases.columns]
    duplicated = cases.duplicated(subset=id_columns, keep=False)
    if duplicated.any():
        shown = cases.loc[duplicated, id_columns].head(6).to_dict("records")
        raise InputError(
            f"'cases' must have one row per {' + '.join(id_columns)}; {int(duplicated.sum())} rows "
            f"repeat a case, e.g. {shown}. Add a 'sequence' or 'reader' column to tell them apart."
        )
    missing = cases[["patient_id", "image", "mask"]].isna().any(axis=1)
    if missing.any():
        raise InputError(
            f"'cases' rows {list(cases.index[missing][:5])} lack a patient_id, image or mask path."
        )
    return id_columns


def _case_label(row, default_label: int) -> int:
    label = getattr(row, "label", None)
    if label is None or pd.isna(label):
        return default_label
    return int(label)


def _assemble(outcomes, id_columns, resolved, n_cached) -> pd.DataFrame:
    succeeded = [outcome for outcome in outcomes if outcome.error is None]
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    errors = pd.DataFrame(
        [
            {
                **dict(zip(id_columns, outcome.case_id)),
                "file": outcome.file,
                "error": f"Patient {outcome.case_id[0]}, file {outcome.file}: {outcome.error}",
            }
            for outcome in failed
        ],
        columns=[*id_columns, "file", "error"],
    )
    if not succeeded:
        listed = "\n".join(errors["error"].head(10))
        raise InputError(f"Feature extraction failed for all {len(failed)} case(s):\n{listed}")

    index = pd.MultiIndex.from_tuples([o.case_id for o in succeeded], names=id_columns)
    if len(id_columns) == 1:
        index = index.get_level_values(0)
    features = pd.DataFrame([o.features for o in succeeded], index=index, dtype=float)
    diagnostics = pd.DataFrame([o.diagnostics for o in succeeded], index=index)
    features.attrs = {
        "diagnostics": diagnostics,
        "errors": errors,
        "provenance": extraction_provenance(resolved, features.columns)
        | {"n_cases": len(outcomes), "n_failed": len(failed), "n_from_cache": n_cached},
    }
    return features


def extraction_provenance(resolved: dict, feature_names) -> dict:
    """Every setting, software versions and the IBSI compliance notes of the features."""
    import radiomics

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


def split_feature_name(name: str) -> dict[str, str | None]:
    """Parts of ``[sequence_]imageType_featureClass_feature`` (pyradiomics naming).

    The image type never contains "_" in pyradiomics (``original``, ``wavelet-LLH``,
    ``log-sigma-1-0-mm-3D``), so everything before it is the sequence prefix added by
    :func:`stsanalysis.radiomics.pipeline.signature_features`.
    """
    parts = name.split("_")
    positions = [i for i, part in enumerate(parts) if part in FEATURE_CLASS_LABELS and 0 < i < len(parts) - 1]
    if not positions:
        raise InputError(
            f"Feature '{name}' is not named imageType_featureClass_feature as pyradiomics names features."
        )
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
