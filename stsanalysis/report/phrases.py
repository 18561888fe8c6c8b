"""The phrase library of the generated texts: wording helpers and the extraction settings in words.

The methods paragraph (:mod:`stsanalysis.report.methods`) and the checklists
(:mod:`stsanalysis.report.checklist`) both describe a run with these phrases, so the two
always say the same thing. The ``describe_*`` functions read the provenance that
:func:`stsanalysis.radiomics.extract_features` attaches to its result
(``attrs["provenance"]``); a setting the parameters leave out is described with
pyradiomics' default value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..radiomics.params import FEATURE_CLASS_LABELS
from ..stats.reliability import ICC_FORM_PARTS
from .facts import RunFacts

__all__ = [
    "PYRADIOMICS_DEFAULTS",
    "INTERPOLATOR_NAMES",
    "count",
    "number",
    "counted",
    "join_words",
    "icc_description",
    "extraction_params",
    "extraction_setting",
    "interpolator_name",
    "voxel_size",
    "describe_resampling",
    "describe_discretisation",
    "describe_normalisation",
    "describe_image_types",
    "describe_feature_classes",
    "describe_aggregation",
    "describe_distances",
    "describe_extraction_software",
    "describe_ibsi_compliance",
    "describe_lambda_tuning",
]

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


# ----------------------------------------------------------------------------- wording


def count(n: int) -> str:
    """An integer as manuscripts print it.

    >>> count(1130)
    '1,130'
    """
    return f"{int(n):,}"


def number(value) -> str:
    """A setting value without trailing zeros.

    >>> number(1.0), number(0.75), number("coif1")
    ('1', '0.75', 'coif1')
    """
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def counted(n: int, noun: str) -> str:
    """A count with its noun (regular plurals only).

    >>> counted(1, "centre"), counted(2, "centre")
    ('1 centre', '2 centres')
    """
    return f"{count(n)} {noun if n == 1 else noun + 's'}"


def join_words(words: Sequence[str]) -> str:
    """Words joined as a sentence lists them.

    >>> join_words(["a"]), join_words(["a", "b"]), join_words(["a", "b", "c"])
    ('a', 'a and b', 'a, b and c')
    """
    words = [str(word) for word in words]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def icc_description(form: str) -> str | None:
    """The model of a psych ICC form in words (from ``ICC_FORM_PARTS``); None for unknown forms.

    One-way models have only absolute agreement, which manuscripts leave unsaid.

    >>> icc_description("ICC2")
    'two-way random effects, absolute agreement, single rater'
    >>> icc_description("ICC1k")
    'one-way random effects, mean of k raters'
    """
    if form not in ICC_FORM_PARTS:
        return None
    _, model, definition, unit = ICC_FORM_PARTS[form]
    definitions = [] if model.startswith("one-way") else [definition]
    return ", ".join([f"{model} effects", *definitions, unit])


# ----------------------------------------------------------------------------- extraction settings


def extraction_params(provenance: Mapping) -> Mapping:
    """The resolved pyradiomics parameters (``imageType``, ``featureClass``, ``setting``) of a provenance."""
    return provenance.get("params") or {}


def extraction_setting(provenance: Mapping, key: str):
    """A pyradiomics setting of the run, or pyradiomics' default when the parameters leave it out."""
    settings = extraction_params(provenance).get("setting") or {}
    return settings[key] if key in settings else PYRADIOMICS_DEFAULTS.get(key)


def interpolator_name(name) -> str:
    """SimpleITK's interpolator name as manuscripts write it: "sitkBSpline" -> "B-spline"."""
    return INTERPOLATOR_NAMES.get(str(name), str(name).removeprefix("sitk"))


def voxel_size(provenance: Mapping) -> str | None:
    """ "1 × 1 × 1 mm", or None without resampling.

    pyradiomics keeps the original spacing where ``resampledPixelSpacing`` is 0 (in-plane
    resampling only): "1 × 1 mm × original".
    """
    spacing = (extraction_params(provenance).get("setting") or {}).get("resampledPixelSpacing")
    if not spacing:
        return None
    resampled = [number(value) for value in spacing if value]
    kept = len(spacing) - len(resampled)
    return " × ".join(resampled) + " mm" + " × original" * kept


def describe_resampling(provenance: Mapping) -> str:
    """ "resampled to 1 × 1 × 1 mm³ voxels with B-spline interpolation (masks: nearest neighbour)"."""
    size = voxel_size(provenance)
    if size is None:
        return "not resampled (original voxel spacing)"
    # isotropic-style "1 × 1 × 1 mm³"; in-plane only keeps the slice spacing ("0.5 × 0.5 mm × original")
    size = size if "original" in size else f"{size}³"
    return (
        f"resampled to {size} voxels with {interpolator_name(extraction_setting(provenance, 'interpolator'))} "
        "interpolation (masks: nearest neighbour)"
    )


def describe_discretisation(provenance: Mapping) -> str:
    """ "a fixed bin count of 32" or "a fixed bin width of 25"."""
    settings = extraction_params(provenance).get("setting") or {}
    if settings.get("binCount") is not None:
        return f"a fixed bin count of {number(settings['binCount'])}"
    return f"a fixed bin width of {number(extraction_setting(provenance, 'binWidth'))}"


def describe_normalisation(provenance: Mapping) -> str | None:
    """The intensity normalisation phrase, or None when the images were not normalised."""
    settings = extraction_params(provenance).get("setting") or {}
    if not settings.get("normalize"):
        return None
    text = f"z-score normalised (scale {number(extraction_setting(provenance, 'normalizeScale'))}"
    if settings.get("removeOutliers"):
        text += f", outliers beyond {number(settings['removeOutliers'])} SD removed"
    shift = extraction_setting(provenance, "voxelArrayShift")
    if shift:
        text += f"; first-order features computed after a shift of {number(shift)}"
    return text + ")"


def describe_image_types(provenance: Mapping) -> str:
    """ "the original image, wavelet decompositions (coif1, 8 sub-bands) and LoG-filtered images (σ = 1, 2, 3 mm)"."""
    image_types = extraction_params(provenance).get("imageType") or {"Original": {}}
    parts = []
    for name, options in image_types.items():
        options = options or {}
        if name == "Original":
            parts.append("the original image")
        elif name == "Wavelet":
            wavelet = options.get("wavelet", extraction_setting(provenance, "wavelet"))
            level = options.get("level", extraction_setting(provenance, "level"))
            # pyradiomics' 3D stationary wavelet: 7 detail sub-bands per level plus the last approximation
            parts.append(f"wavelet decompositions ({wavelet}, {7 * int(level) + 1} sub-bands)")
        elif name == "LoG":
            sigma = options.get("sigma") or extraction_setting(provenance, "sigma") or []
            sigmas = ", ".join(number(value) for value in sigma)
            parts.append(f"Laplacian-of-Gaussian filtered images (σ = {sigmas} mm)")
        else:
            parts.append(f"{name} filtered images")
    return join_words(parts)


def describe_feature_classes(provenance: Mapping) -> str:
    """ "first-order and GLCM": the computed feature classes as manuscripts name them."""
    classes = extraction_params(provenance).get("featureClass") or {}
    return join_words([FEATURE_CLASS_LABELS.get(name, name) for name in classes])


def describe_aggregation(provenance: Mapping) -> str:
    """How texture matrices were aggregated, in IBSI terms."""
    dimension = "2D (per slice)" if extraction_setting(provenance, "force2D") else "3D"
    norm = extraction_setting(provenance, "weightingNorm")
    if norm is None:
        merged = "GLCM and GLRLM features computed per direction and averaged (IBSI 'averaged')"
    elif norm == "no_weighting":
        merged = "GLCM and GLRLM matrices merged over directions (IBSI 'merged')"
    else:
        merged = f"GLCM and GLRLM matrices merged over directions with {norm}-norm distance weighting"
    return f"{dimension}; {merged}; GLSZM, GLDM and NGTDM from one matrix over all directions"


def describe_distances(provenance: Mapping) -> str:
    """ "Chebyshev distance 1": the neighbourhood distances of the texture matrices."""
    distances = ", ".join(number(value) for value in extraction_setting(provenance, "distances"))
    return f"Chebyshev distance {distances}"


def describe_extraction_software(provenance: Mapping) -> str:
    """ "pyradiomics 3.1.4 (SimpleITK 2.3.1)"."""
    software = provenance.get("software") or {}
    # radiomics.__version__ reads "v3.1.4"; manuscripts write "3.1.4"
    text = f"pyradiomics {str(software.get('pyradiomics', '(version unknown)')).removeprefix('v')}"
    if software.get("SimpleITK"):
        text += f" (SimpleITK {software['SimpleITK']})"
    return text


def describe_ibsi_compliance(provenance: Mapping) -> str:
    """ "IBSI 1-compliant except firstorder_Kurtosis (reason); without IBSI 1 definition: ..."."""
    deviations = provenance.get("ibsi_deviations") or {}
    not_defined = provenance.get("ibsi_not_defined") or []
    text = "IBSI 1-compliant"
    if deviations:
        text += " except " + "; ".join(f"{name} ({reason})" for name, reason in deviations.items())
    if not_defined:
        text += f"; without IBSI 1 definition: {', '.join(not_defined)}"
    filtered = [name for name in extraction_params(provenance).get("imageType") or {} if name != "Original"]
    if filtered:
        text += f"; features of filtered images ({', '.join(filtered)}) are not covered by IBSI 1"
    return text


# ----------------------------------------------------------------------------- model settings


def describe_lambda_tuning(facts: RunFacts) -> str | None:
    """ "λ by 10-fold cross-validation repeated 5 times, 1-SE rule" (cv.glmnet's default is 10 folds)."""
    if facts.lasso_lambda_rule is None:
        return None
    text = f"λ by {facts.cv_folds or 10}-fold cross-validation"
    if facts.cv_repeats and facts.cv_repeats > 1:
        text += f" repeated {facts.cv_repeats} times"
    rule = {"1se": "1-SE rule", "min": "minimum deviance"}.get(facts.lasso_lambda_rule, facts.lasso_lambda_rule)
    return f"{text}, {rule}"
