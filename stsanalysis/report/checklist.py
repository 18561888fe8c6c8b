"""Reporting checklists a run can fill: CLEAR (Kocak et al. 2023) and the IBSI 1 reporting items.

A report ends with the checklist items its run knows: :func:`clear_checklist` lists the 58
CLEAR items with a status and, where the run can fill it, the value (e.g. the feature
extraction software and version); :func:`ibsi_reporting_table` lists the IBSI 1 reporting
items (theibsi/ibsi-doc, chapter 4, "Reporting guidelines") relevant to an MRI radiomics
study, filled from the provenance that
:func:`stsanalysis.radiomics.extraction.extract_features` attaches to its result.

What a run knows is collected in one :class:`RunFacts`; every field is optional, and an
absent fact leaves its item "to be completed by the authors". The item lists live in
``checklists/clear.csv`` (item, section, short_name, as published) and
``checklists/ibsi_reporting.csv`` (topic, item with the IBSI item number, fact: the name
of the fact that fills it).

The phrases describing the extraction settings (:func:`describe_resampling` and the like)
are shared with :mod:`stsanalysis.report.methods`, so the checklist and the methods
paragraph always say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..radiomics.params import FEATURE_CLASS_LABELS

__all__ = [
    "RunFacts",
    "REPORTED",
    "TO_COMPLETE",
    "NOT_APPLICABLE",
    "clear_checklist",
    "ibsi_reporting_table",
    "software_facts",
]

CHECKLIST_DIR = Path(__file__).parent / "checklists"
REPORTED = "reported in this report"
TO_COMPLETE = "to be completed by the authors"
NOT_APPLICABLE = "not applicable"

# pyradiomics' defaults for settings a parameter file may leave out (pyradiomics 3.x docs,
# "Customizing the extraction"), so that an unset setting is reported with its value
PYRADIOMICS_DEFAULTS = {
    "interpolator": "sitkBSpline",
    "binWidth": 25,
    "normalizeScale": 1,
    "voxelArrayShift": 0,
    "symmetricalGLCM": True,
    "distances": [1],
    "weightingNorm": None,
    "gldm_a": 0,
    "wavelet": "coif1",
    "start_level": 0,
    "level": 1,
    "padDistance": 5,
}

# psych's ICC names -> McGraw & Wong's, as manuscripts write them
ICC_NAMES = {
    "ICC1": "ICC(1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}

INTERPOLATOR_NAMES = {
    "sitkBSpline": "B-spline",
    "sitkLinear": "linear",
    "sitkNearestNeighbor": "nearest-neighbour",
    "sitkLanczosWindowedSinc": "Lanczos windowed-sinc",
    "sitkGaussian": "Gaussian",
    "sitkLabelGaussian": "label-Gaussian",
    "sitkHammingWindowedSinc": "Hamming windowed-sinc",
    "sitkCosineWindowedSinc": "cosine windowed-sinc",
    "sitkWelchWindowedSinc": "Welch windowed-sinc",
    "sitkBlackmanWindowedSinc": "Blackman windowed-sinc",
}



@dataclass(frozen=True)
class RunFacts:
    """What a design-B run knows, for the methods paragraph and the checklists.

    Every field is optional (None, or False for the yes/no facts): a sentence or checklist
    value is written only from the facts present. Mappings keep their insertion order,
    which is the order of the text.

    Cohort: ``n_patients`` and ``n_positive`` per set (``{"training": 109, "external
    validation": 71}``), ``centres``, ``scanners``, ``sequences`` (as the text names them,
    e.g. "T1-weighted"), ``modality`` ("MRI"), ``study_nature`` ("retrospective"),
    ``outcome`` (the reference standard as a phrase), ``clinical_predictors``.

    Segmentation: ``segmentation_method`` (a phrase, "manually on every slice"),
    ``segmentation_software``, ``n_readers``, ``resegmentation_subset`` (patients segmented
    again), ``resegmentation_interval`` ("one month": reader 1 repeated after it).

    Extraction: ``extraction_provenance`` (``extract_features(...).attrs["provenance"]``),
    ``n_features_per_sequence``.

    Reliability: ``icc_form`` (psych name, "ICC2"), ``icc_assessments`` (("inter", "intra")),
    ``icc_threshold``, ``n_features_reliable`` of ``n_features_tested``.

    Harmonisation: ``combat_batch`` (the batch variable, e.g. "centre"),
    ``combat_parametric``, ``combat_mean_only``, ``combat_fitted_on`` ("the training set").

    Selection and model: ``mrmr_k``, ``mrmr_relevance`` ("mutual_info" | "f_statistic"),
    ``lasso_lambda_rule`` ("1se" | "min"), ``cv_folds``, ``cv_repeats``,
    ``n_selected_features`` per signature, ``univariable_p_enter`` (clinical model),
    ``nomogram``.

    Validation and evaluation: ``external_set`` (a phrase naming it), ``performance_metrics``,
    ``auc_ci_method`` ("DeLong"), ``model_comparison`` ("paired DeLong tests"),
    ``hosmer_lemeshow_groups``, ``calibration_slope_intercept``, ``decision_curve``,
    ``decision_curve_n_boot``, ``survival_endpoint``.

    Reproducibility: ``software`` (name -> version, e.g. :func:`software_facts` of
    :func:`~stsanalysis.report.provenance.software_versions`), ``seeds`` (process -> seed),
    ``code_availability``, ``data_availability``.

    ``not_applicable``: CLEAR items the authors declare not applicable, with the reason
    (``{30: "balanced classes, no resampling of the training set"}``).
    """

    n_patients: Mapping[str, int] | None = None
    n_positive: Mapping[str, int] | None = None
    centres: Sequence[str] | None = None
    scanners: Sequence[str] | None = None
    sequences: Sequence[str] | None = None
    modality: str | None = None
    study_nature: str | None = None
    outcome: str | None = None
    clinical_predictors: Sequence[str] | None = None
    segmentation_method: str | None = None
    segmentation_software: str | None = None
    n_readers: int | None = None
    resegmentation_subset: int | None = None
    resegmentation_interval: str | None = None
    extraction_provenance: Mapping | None = None
    n_features_per_sequence: int | None = None
    icc_form: str | None = None
    icc_assessments: Sequence[str] | None = None
    icc_threshold: float | None = None
    n_features_reliable: int | None = None
    n_features_tested: int | None = None
    combat_batch: str | None = None
    combat_parametric: bool = True
    combat_mean_only: bool = False
    combat_fitted_on: str | None = None
    mrmr_k: int | None = None
    mrmr_relevance: str | None = None
    lasso_lambda_rule: str | None = None
    cv_folds: int | None = None
    cv_repeats: int | None = None
    n_selected_features: Mapping[str, int] | None = None
    univariable_p_enter: float | None = None
    nomogram: bool = False
    external_set: str | None = None
    performance_metrics: Sequence[str] | None = None
    auc_ci_method: str | None = None
    model_comparison: str | None = None
    hosmer_lemeshow_groups: int | None = None
    calibration_slope_intercept: bool = False
    decision_curve: bool = False
    decision_curve_n_boot: int | None = None
    survival_endpoint: str | None = None
    software: Mapping[str, str] | None = None
    seeds: Mapping[str, int] | None = None
    code_availability: str | None = None
    data_availability: str | None = None
    not_applicable: Mapping[int, str] | None = None


# distribution names -> the names manuscripts cite
_CITED_NAMES = {"pyradiomics-bhklab": "pyradiomics"}


def software_facts(versions: pd.DataFrame) -> dict[str, str]:
    """``software_versions()`` as the name -> version mapping :class:`RunFacts` takes.

    Packages not installed are left out; distributions are renamed as manuscripts cite
    them ("pyradiomics-bhklab" -> "pyradiomics").
    """
    return {
        _CITED_NAMES.get(name, name): version
        for name, version in zip(versions["software"], versions["version"])
        if version != "not installed"
    }


# ----------------------------------------------------------------------------- phrases


def count(n: int) -> str:
    """An integer as manuscripts print it: 1,130."""
    return f"{int(n):,}"


def number(value) -> str:
    """A setting value without trailing zeros: 1.0 -> "1", 0.75 -> "0.75"."""
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def counted(n: int, noun: str) -> str:
    """"1 centre", "2 centres" (regular plurals only)."""
    return f"{count(n)} {noun if n == 1 else noun + 's'}"


def join_words(words: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    words = [str(word) for word in words]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def icc_name(form: str) -> str:
    """McGraw-Wong name of a psych ICC form: "ICC2" -> "ICC(A,1)"; unknown forms unchanged."""
    return ICC_NAMES.get(form, form)


def _params(provenance: Mapping) -> Mapping:
    return provenance.get("params") or {}


def _setting(provenance: Mapping, key: str):
    settings = _params(provenance).get("setting") or {}
    return settings[key] if key in settings else PYRADIOMICS_DEFAULTS.get(key)


def _interpolator_name(name) -> str:
    return INTERPOLATOR_NAMES.get(str(name), str(name).removeprefix("sitk"))


def voxel_size(provenance: Mapping) -> str | None:
    """"1 × 1 × 1 mm", or None without resampling.

    pyradiomics keeps the original spacing where ``resampledPixelSpacing`` is 0 (in-plane
    resampling only): "1 × 1 mm × original".
    """
    spacing = (_params(provenance).get("setting") or {}).get("resampledPixelSpacing")
    if not spacing:
        return None
    resampled = [number(value) for value in spacing if value]
    kept = len(spacing) - len(resampled)
    return " × ".join(resampled) + " mm" + " × original" * kept


def describe_resampling(provenance: Mapping) -> str:
    """"resampled to 1 × 1 × 1 mm³ voxels with B-spline interpolation (masks: nearest neighbour)"."""
    size = voxel_size(provenance)
    if size is None:
        return "not resampled (original voxel spacing)"
    # isotropic-style "1 × 1 × 1 mm³"; in-plane only keeps the slice spacing ("0.5 × 0.5 mm × original")
    size = size if "original" in size else f"{size}³"
    return (
        f"resampled to {size} voxels with {_interpolator_name(_setting(provenance, 'interpolator'))} "
        "interpolation (masks: nearest neighbour)"
    )


def describe_discretisation(provenance: Mapping) -> str:
    """"a fixed bin count of 32" or "a fixed bin width of 25"."""
    settings = _params(provenance).get("setting") or {}
    if settings.get("binCount") is not None:
        return f"a fixed bin count of {number(settings['binCount'])}"
    return f"a fixed bin width of {number(_setting(provenance, 'binWidth'))}"


def describe_normalisation(provenance: Mapping) -> str | None:
    """The intensity normalisation phrase, or None when the images were not normalised."""
    settings = _params(provenance).get("setting") or {}
    if not settings.get("normalize"):
        return None
    text = f"z-score normalised (scale {number(_setting(provenance, 'normalizeScale'))}"
    if settings.get("removeOutliers"):
        text += f", outliers beyond {number(settings['removeOutliers'])} SD removed"
    shift = _setting(provenance, "voxelArrayShift")
    if shift:
        text += f"; first-order features computed after a shift of {number(shift)}"
    return text + ")"


def describe_image_types(provenance: Mapping) -> str:
    """"the original image, wavelet decompositions (coif1, 8 sub-bands) and LoG-filtered images (σ = 1, 2, 3 mm)"."""
    image_types = _params(provenance).get("imageType") or {"Original": {}}
    parts = []
    for name, options in image_types.items():
        options = options or {}
        if name == "Original":
            parts.append("the original image")
        elif name == "Wavelet":
            wavelet = options.get("wavelet", _setting(provenance, "wavelet"))
            level = options.get("level", _setting(provenance, "level"))
            # pyradiomics' 3D stationary wavelet: 7 detail sub-bands per level plus the last approximation
            parts.append(f"wavelet decompositions ({wavelet}, {7 * int(level) + 1} sub-bands)")
        elif name == "LoG":
            sigma = options.get("sigma") or _setting(provenance, "sigma") or []
            sigmas = ", ".join(number(value) for value in sigma)
            parts.append(f"Laplacian-of-Gaussian filtered images (σ = {sigmas} mm)")
        else:
            parts.append(f"{name} filtered images")
    return join_words(parts)


def describe_feature_classes(provenance: Mapping) -> str:
    classes = _params(provenance).get("featureClass") or {}
    return join_words([FEATURE_CLASS_LABELS.get(name, name) for name in classes])


def describe_aggregation(provenance: Mapping) -> str:
    """How texture matrices were aggregated, in IBSI terms."""
    dimension = "2D (per slice)" if _setting(provenance, "force2D") else "3D"
    norm = _setting(provenance, "weightingNorm")
    if norm is None:
        merged = "GLCM and GLRLM features computed per direction and averaged (IBSI 'averaged')"
    elif norm == "no_weighting":
        merged = "GLCM and GLRLM matrices merged over directions (IBSI 'merged')"
    else:
        merged = f"GLCM and GLRLM matrices merged over directions with {norm}-norm distance weighting"
    return f"{dimension}; {merged}; GLSZM, GLDM and NGTDM from one matrix over all directions"


def describe_distances(provenance: Mapping) -> str:
    distances = ", ".join(number(value) for value in _setting(provenance, "distances"))
    return f"Chebyshev distance {distances}"


def describe_extraction_software(provenance: Mapping) -> str:
    """"pyradiomics 3.1.4 (SimpleITK 2.3.1)"."""
    software = provenance.get("software") or {}
    # radiomics.__version__ reads "v3.1.4"; manuscripts write "3.1.4"
    text = f"pyradiomics {str(software.get('pyradiomics', '(version unknown)')).removeprefix('v')}"
    if software.get("SimpleITK"):
        text += f" (SimpleITK {software['SimpleITK']})"
    return text


def describe_ibsi_compliance(provenance: Mapping) -> str:
    """"IBSI 1-compliant except firstorder_Kurtosis (reason); without IBSI 1 definition: ..."."""
    deviations = provenance.get("ibsi_deviations") or {}
    not_defined = provenance.get("ibsi_not_defined") or []
    text = "IBSI 1-compliant"
    if deviations:
        text += " except " + "; ".join(f"{name} ({reason})" for name, reason in deviations.items())
    if not_defined:
        text += f"; without IBSI 1 definition: {', '.join(not_defined)}"
    filtered = [name for name in _params(provenance).get("imageType") or {} if name != "Original"]
    if filtered:
        text += f"; features of filtered images ({', '.join(filtered)}) are not covered by IBSI 1"
    return text


# ----------------------------------------------------------------------------- IBSI items


def _facts_value(facts: RunFacts | None, name: str):
    value = getattr(facts, name, None) if facts is not None else None
    if isinstance(value, (list, tuple)):
        return join_words(value) if value else None
    return value


def _readers(facts: RunFacts | None) -> str | None:
    if facts is None or facts.n_readers is None:
        return None
    text = counted(facts.n_readers, "reader")
    if facts.resegmentation_subset:
        text += f"; {facts.resegmentation_subset} patients segmented again for reproducibility"
    return text


def _robustness(facts: RunFacts | None) -> str | None:
    if facts is None or facts.icc_form is None or facts.icc_threshold is None:
        return None
    kinds = join_words([f"{kind}-reader" for kind in facts.icc_assessments or ()])
    return f"{kinds} {icc_name(facts.icc_form)} > {number(facts.icc_threshold)}".strip()


def _resegmentation(provenance: Mapping) -> str:
    settings = _params(provenance).get("setting") or {}
    if settings.get("resegmentRange") is None:
        return "none"
    mode = settings.get("resegmentMode", "absolute")
    return f"intensity range {settings['resegmentRange']} ({mode})"


def _first_bin(provenance: Mapping) -> str:
    if (_params(provenance).get("setting") or {}).get("binCount") is not None:
        return NOT_APPLICABLE + " (fixed bin count: the ROI minimum starts the first bin)"
    # pyradiomics getBinEdges: edges are multiples of the bin width from 0
    return "the largest multiple of the bin width not above the ROI minimum"


def _mask_interpolation(provenance: Mapping) -> str:
    return provenance.get("mask_interpolation") or "nearest neighbour"


# fact name (ibsi_reporting.csv) -> value from (provenance, facts); None leaves the item to the authors
_IBSI_FACTS: dict[str, Callable[[Mapping, RunFacts | None], str | None]] = {
    "modality": lambda p, f: _facts_value(f, "modality") or _params(p).get("modality"),
    "scanners": lambda p, f: _facts_value(f, "scanners"),
    "sequences": lambda p, f: _facts_value(f, "sequences"),
    "normalisation": lambda p, f: describe_normalisation(p) or "none",
    "segmentation_method": lambda p, f: _facts_value(f, "segmentation_method"),
    "readers": lambda p, f: _readers(f),
    "interpolator": lambda p, f: (
        _interpolator_name(_setting(p, "interpolator")) if voxel_size(p) else NOT_APPLICABLE + " (no resampling)"
    ),
    "interpolation_grid": lambda p, f: (
        # pyradiomics imageoperations.resampleImage
        "aligned to the corner of the original grid, cropped to the ROI bounding box padded by "
        f"{number(_setting(p, 'padDistance'))} voxels"
        if voxel_size(p)
        else NOT_APPLICABLE + " (no resampling)"
    ),
    "voxel_dimensions": lambda p, f: voxel_size(p) or "original voxel spacing (no resampling)",
    "intensity_rounding": lambda p, f: (
        "no explicit rounding: interpolated intensities are stored in the input image's pixel type"
        if voxel_size(p)
        else NOT_APPLICABLE
    ),
    "mask_interpolation": lambda p, f: _mask_interpolation(p),
    "partial_volume": lambda p, f: "none (nearest-neighbour mask interpolation leaves no partially masked voxels)",
    "resegmentation": lambda p, f: _resegmentation(p),
    "discretisation_method": lambda p, f: (
        "fixed bin number (FBN)"
        if (_params(p).get("setting") or {}).get("binCount") is not None
        else "fixed bin size (FBS)"
    ),
    "discretisation_bins": lambda p, f: describe_discretisation(p).removeprefix("a "),
    "first_bin": lambda p, f: _first_bin(p),
    "image_filters": lambda p, f: describe_image_types(p),
    "feature_classes": lambda p, f: describe_feature_classes(p),
    "ibsi_compliance": lambda p, f: describe_ibsi_compliance(p),
    "robustness": lambda p, f: _robustness(f),
    "extraction_software": lambda p, f: describe_extraction_software(p),
    "texture_aggregation": lambda p, f: describe_aggregation(p),
    "distance_weighting": lambda p, f: (
        "no weighting"
        if _setting(p, "weightingNorm") in (None, "no_weighting")
        else f"{_setting(p, 'weightingNorm')}-norm"
    ),
    "glcm_symmetry": lambda p, f: "symmetric" if _setting(p, "symmetricalGLCM") else "asymmetric",
    "distances": lambda p, f: describe_distances(p),
    "szm_linkage": lambda p, f: "Chebyshev distance 1 (26-connected in 3D)",
    "gldm_coarseness": lambda p, f: f"α = {number(_setting(p, 'gldm_a'))}",
    "clinical_comparison": lambda p, f: (
        "clinical model and nomogram compared with the radiomic signatures"
        if f is not None and f.univariable_p_enter is not None
        else None
    ),
    "multicollinearity": lambda p, f: (
        "mRMR penalises redundancy between selected features" if f is not None and f.mrmr_k else None
    ),
    "code_availability": lambda p, f: _facts_value(f, "code_availability"),
    "data_availability": lambda p, f: _facts_value(f, "data_availability"),
}


def ibsi_reporting_table(provenance: Mapping, facts: RunFacts | None = None) -> pd.DataFrame:
    """The IBSI 1 reporting items of an MRI radiomics study with the values this run fills.

    ``provenance`` is ``extract_features(...).attrs["provenance"]`` (settings, software,
    IBSI notes); ``facts`` adds what the images' provenance cannot know (scanners,
    segmentation, robustness). Settings absent from the parameters are reported with
    pyradiomics' default value. Items the run cannot fill read "to be completed by the
    authors"; one row per feature that deviates from IBSI 1 gives the reason.

    Returns a DataFrame ``topic, item, value``.
    """
    items = pd.read_csv(CHECKLIST_DIR / "ibsi_reporting.csv", keep_default_na=False)
    rows = []
    for topic, item, fact in items.itertuples(index=False, name=None):
        value = _IBSI_FACTS[fact](provenance, facts) if fact else None
        rows.append((topic, item, TO_COMPLETE if value is None else str(value)))
    for name, reason in (provenance.get("ibsi_deviations") or {}).items():
        rows.append(("IBSI deviation", name, reason))
    for name in provenance.get("ibsi_not_defined") or []:
        rows.append(("IBSI deviation", name, "no IBSI 1 definition"))
    return pd.DataFrame(rows, columns=["topic", "item", "value"])


# ----------------------------------------------------------------------------- CLEAR items


def _per_set(mapping: Mapping[str, int] | None) -> str | None:
    if not mapping:
        return None
    return "; ".join(f"{name}: {count(n)}" for name, n in mapping.items())


def _data_split(facts: RunFacts) -> str | None:
    if not facts.n_patients:
        return None
    text = _per_set(facts.n_patients)
    if facts.external_set:
        text += f" (centre-wise split; external test: {facts.external_set})"
    return text


def _imaging(facts: RunFacts) -> str | None:
    parts = []
    if facts.sequences:
        parts.append(f"sequences: {join_words(facts.sequences)}")
    if facts.scanners:
        parts.append(f"scanners: {join_words(facts.scanners)}")
    if facts.extraction_provenance and voxel_size(facts.extraction_provenance):
        parts.append(f"resampled voxels: {voxel_size(facts.extraction_provenance)}")
    return "; ".join(parts) or None


def _segmentation(facts: RunFacts) -> str | None:
    if facts.segmentation_method is None:
        return None
    text = facts.segmentation_method
    if facts.segmentation_software:
        text += f" ({facts.segmentation_software})"
    return text


def _preprocessing(facts: RunFacts) -> str | None:
    provenance = facts.extraction_provenance
    if provenance is None:
        return None
    normalisation = describe_normalisation(provenance) or "no intensity normalisation"
    return f"{normalisation}; {describe_resampling(provenance)}; {describe_extraction_software(provenance)}"


def _n_features(facts: RunFacts) -> str | None:
    if facts.n_features_per_sequence is None:
        return None
    text = f"{count(facts.n_features_per_sequence)} per sequence"
    if facts.sequences:
        text += f" ({join_words(facts.sequences)})"
    return text


def _reliability(facts: RunFacts) -> str | None:
    text = _robustness(facts)
    if text is None:
        return None
    if facts.resegmentation_subset:
        text += f"; {facts.resegmentation_subset} patients segmented twice"
    return text


def _combat(facts: RunFacts) -> str | None:
    if facts.combat_batch is None:
        return None
    kind = "parametric" if facts.combat_parametric else "non-parametric"
    mean_only = ", mean only" if facts.combat_mean_only else ""
    text = f"ComBat ({kind} empirical Bayes{mean_only}) of the {facts.combat_batch} effect"
    if facts.combat_fitted_on:
        text += f", fitted on {facts.combat_fitted_on}"
    return text


def _dimension_reduction(facts: RunFacts) -> str | None:
    steps = []
    if _robustness(facts):
        steps.append(f"reliability filter ({_robustness(facts)})")
    if facts.mrmr_k:
        steps.append(f"mRMR (k = {facts.mrmr_k})")
    if facts.lasso_lambda_rule:
        steps.append("LASSO")
    return " → ".join(steps) or None


def describe_lambda_tuning(facts: RunFacts) -> str | None:
    """"λ by 10-fold cross-validation repeated 5 times, 1-SE rule" (cv.glmnet's default is 10 folds)."""
    if facts.lasso_lambda_rule is None:
        return None
    text = f"λ by {facts.cv_folds or 10}-fold cross-validation"
    if facts.cv_repeats and facts.cv_repeats > 1:
        text += f" repeated {facts.cv_repeats} times"
    rule = {"1se": "1-SE rule", "min": "minimum deviance"}.get(facts.lasso_lambda_rule, facts.lasso_lambda_rule)
    return f"{text}, {rule}"


def _algorithms(facts: RunFacts) -> str | None:
    parts = []
    if facts.lasso_lambda_rule:
        parts.append("LASSO logistic regression (glmnet objective) for the rad-score")
    if facts.univariable_p_enter is not None:
        parts.append("logistic regression for the clinical model")
    if facts.nomogram:
        parts.append("logistic nomogram")
    if not parts:
        return None
    text = "; ".join(parts)
    if facts.software and "stsanalysis" in facts.software:
        text += f" (stsanalysis {facts.software['stsanalysis']})"
    return text


def _metrics(facts: RunFacts) -> str | None:
    if not facts.performance_metrics:
        return None
    return join_words(facts.performance_metrics)


def _uncertainty(facts: RunFacts) -> str | None:
    parts = []
    if facts.auc_ci_method:
        parts.append(f"95% CI of the AUC ({facts.auc_ci_method})")
    if facts.hosmer_lemeshow_groups:
        parts.append(f"Hosmer-Lemeshow test ({facts.hosmer_lemeshow_groups} groups)")
    if facts.calibration_slope_intercept:
        parts.append("calibration slope and intercept")
    if facts.decision_curve and facts.decision_curve_n_boot:
        parts.append(f"bootstrap CI of the net benefit ({count(facts.decision_curve_n_boot)} resamples)")
    return "; ".join(parts) or None


def _comparison_with_clinical(facts: RunFacts) -> str | None:
    if facts.univariable_p_enter is None and not facts.nomogram:
        return None
    parts = ["clinical model vs radiomic signatures"]
    if facts.nomogram:
        parts.append("combined nomogram")
    if facts.decision_curve:
        parts.append("decision curve analysis")
    return "; ".join(parts)


def _settings_shared(facts: RunFacts) -> str | None:
    if facts.extraction_provenance is None:
        return None
    params = _params(facts.extraction_provenance)
    return "pyradiomics parameters: " + json.dumps(
        {section: params.get(section) for section in ("imageType", "featureClass", "setting")}, default=str
    )


def _class_balance(facts: RunFacts) -> str | None:
    if not facts.n_positive or not facts.n_patients:
        return None
    return "; ".join(
        f"{name}: {count(facts.n_positive[name])}/{count(facts.n_patients[name])} positive"
        for name in facts.n_patients
        if name in facts.n_positive
    )


# CLEAR item -> value from the facts (None: "to be completed by the authors")
_CLEAR_FACTS: dict[int, Callable[[RunFacts], str | None]] = {
    10: lambda f: f.study_nature,
    13: lambda f: join_words(f.centres) if f.centres else None,
    15: _data_split,
    16: _imaging,
    17: lambda f: join_words(f.clinical_predictors) if f.clinical_predictors else None,
    18: lambda f: f.outcome,
    19: _segmentation,
    20: _readers,
    21: _preprocessing,
    22: lambda f: describe_resampling(f.extraction_provenance) if f.extraction_provenance else None,
    23: lambda f: describe_discretisation(f.extraction_provenance) if f.extraction_provenance else None,
    24: lambda f: describe_image_types(f.extraction_provenance) if f.extraction_provenance else None,
    25: lambda f: (
        f"{describe_extraction_software(f.extraction_provenance)}; {describe_ibsi_compliance(f.extraction_provenance)}"
        if f.extraction_provenance
        else None
    ),
    26: lambda f: describe_feature_classes(f.extraction_provenance) if f.extraction_provenance else None,
    27: _n_features,
    28: lambda f: (
        "all pyradiomics settings not listed in the parameters kept their defaults" if f.extraction_provenance else None
    ),
    30: _class_balance,
    31: _reliability,
    32: _combat,
    33: _dimension_reduction,
    34: _algorithms,
    35: describe_lambda_tuning,
    37: lambda f: f"{describe_lambda_tuning(f)}, on the training set only" if f.lasso_lambda_rule else None,
    38: lambda f: f"external testing on {f.external_set}" if f.external_set else None,
    39: _metrics,
    40: _uncertainty,
    41: lambda f: f.model_comparison,
    42: _comparison_with_clinical,
    43: lambda f: "nomogram and rad-score formula" if f.nomogram else None,
    46: lambda f: (
        f"{count(f.n_features_reliable)} of {count(f.n_features_tested)} features reproducible"
        if f.n_features_reliable is not None and f.n_features_tested is not None
        else None
    ),
    47: lambda f: "performance tables per set" if f.performance_metrics else None,
    48: lambda f: "comparison tables per set" if _comparison_with_clinical(f) else None,
    54: lambda f: f.data_availability,
    55: _settings_shared,
    56: lambda f: f.code_availability,
}


def clear_checklist(facts: RunFacts) -> pd.DataFrame:
    """The 58 CLEAR items (Kocak et al., Insights Imaging 2023) with what this run fills.

    Returns a DataFrame ``item, section, short_name, status, value``. ``status`` is
    "reported in this report" (``value`` from ``facts``), "not applicable" (declared in
    ``facts.not_applicable``; ``value`` is the reason) or "to be completed by the authors"
    (``value`` empty: title, ethics, discussion, and every item whose facts are absent).
    """
    items = pd.read_csv(CHECKLIST_DIR / "clear.csv")
    declared = dict(facts.not_applicable or {})
    unknown = sorted(set(declared) - set(items["item"]))
    if unknown:
        raise InputError(f"'not_applicable' names CLEAR items {unknown}; the items are numbered 1 to {len(items)}.")
    statuses, values = [], []
    for item in items["item"]:
        filler = _CLEAR_FACTS.get(int(item))
        value = filler(facts) if filler is not None else None
        if int(item) in declared:
            statuses.append(NOT_APPLICABLE)
            values.append(str(declared[int(item)]))
        elif value is None:
            statuses.append(TO_COMPLETE)
            values.append("")
        else:
            statuses.append(REPORTED)
            values.append(value)
    return items.assign(status=statuses, value=values)
