"""Deterministic synthetic demo cohorts for the two study designs (see STUDIES.md).

Nothing here is real patient data. The cohorts exist so that one command produces a full
report on a fresh machine, and so that tests and teaching notebooks have data whose
structure and effect sizes are known:

* :func:`make_biomarker_demo` (design A): 32 patients, two readers' ADCmin, ADCmean and
  Cho/Cr, biopsy and surgical FNCLCC grade, subtype and Ki-67 LI. ADC is lower and Cho/Cr
  higher in high grade; reader noise gives inter-reader ICCs of about 0.8-0.95.
* :func:`make_radiomics_demo` (design B): 180 patients in two centres (109 + 71) and three
  scanner models installed in both centres, a clinical table with PFS, and for every patient a T1-weighted and a
  fat-suppressed T2-weighted NIfTI volume (0.8 x 0.8 x 4 mm voxels) with a 3D tumour mask.
  High-grade tumours have a finer, more heterogeneous texture with necrotic foci, mixed
  with patient-level noise so that a texture signature reaches an AUC near 0.8-0.9; every
  scanner adds its own gain, noise level and blur (a batch effect ComBat can remove). For
  40 patients a second reader's mask and a repeated reader-1 mask are written. Three patients
  are also written as a DICOM series with an RTSTRUCT and a SEG, one also as a cropped 3D
  Slicer segmentation (:mod:`.demo_dicom`), listed in ``cases_dicom.csv``.

Every random draw comes from ``numpy.random.default_rng`` seeded from ``seed`` (and the
patient's index for images), so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from .. import __version__
from ..files import atomic_path, atomic_write_text, sha256_file

DEFAULT_SEED = 20240601

#: Histological subtypes of the design-A demo and their counts (sum 32).
BIOMARKER_SUBTYPES = {
    "Undifferentiated pleomorphic sarcoma": 9,
    "Myxofibrosarcoma": 7,
    "Myxoid liposarcoma": 5,
    "Dedifferentiated liposarcoma": 4,
    "Synovial sarcoma": 3,
    "Leiomyosarcoma": 4,
}

#: Scanner models of the design-B demo and the acquisition effect each adds (intensity
#: gain, noise SD relative to tissue contrast, blur in mm): the batch effect.
SCANNERS = {
    "Scanner A 1.5T": {"gain": 1.00, "noise": 0.03, "blur_mm": 0.0},
    "Scanner B 3T": {"gain": 1.35, "noise": 0.10, "blur_mm": 0.5},
    "Scanner C 3T": {"gain": 0.80, "noise": 0.06, "blur_mm": 1.2},
}
#: Patients per centre and scanner model: every model is installed in both centres, so a
#: batch correction fitted on the training centre applies to the external one.
CENTRE_SCANNERS = {
    1: {"Scanner A 1.5T": 40, "Scanner B 3T": 35, "Scanner C 3T": 34},
    2: {"Scanner A 1.5T": 25, "Scanner B 3T": 24, "Scanner C 3T": 22},
}

#: Voxel grid of the demo volumes (x, y, z) and spacing in mm: anisotropic, as in clinical
#: MRI, so that resampling to 1 mm isotropic matters.
IMAGE_SIZE = (36, 36, 9)
IMAGE_SPACING = (0.8, 0.8, 4.0)


# --------------------------------------------------------------------------------------
# Design A
# --------------------------------------------------------------------------------------
def make_biomarker_demo(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return the design-A demo cohort (32 patients) as a DataFrame.

    Columns: ``patient_id``, ``subtype``, ``biopsy_grade`` and ``surgical_grade`` (FNCLCC
    1-3), ``ki67`` (Ki-67 labelling index, %), and per reader (``_r1``, ``_r2``)
    ``adc_min``, ``adc_mean`` (x10^-3 mm^2/s) and ``cho_cr`` (choline/creatine ratio).
    """
    rng = np.random.default_rng([seed, 1])
    n = 32
    grade = rng.permutation(np.repeat([1, 2, 3], [10, 9, 13]))
    high = grade >= 2
    subtype = rng.permutation(np.repeat(list(BIOMARKER_SUBTYPES), list(BIOMARKER_SUBTYPES.values())))

    # Biopsy under-grades or over-grades two patients by one step (30/32 agreement).
    biopsy_grade = grade.copy()
    discordant = rng.choice(np.flatnonzero(grade >= 2), size=2, replace=False)
    biopsy_grade[discordant[0]] -= 1
    biopsy_grade[discordant[1]] = 3 if grade[discordant[1]] == 2 else 2

    ki67 = np.exp(rng.normal(np.where(high, np.log(32.0), np.log(11.0)), 0.45))
    ki67 = np.clip(np.round(ki67), 1, 90)
    proliferation = (np.log(ki67) - np.log(ki67).mean()) / np.log(ki67).std()

    adc_mean = rng.normal(np.where(high, 1.32, 1.74), 0.21) - 0.05 * proliferation
    adc_min = adc_mean - np.abs(rng.normal(np.where(high, 0.40, 0.42), 0.22))
    cho_cr = np.exp(rng.normal(np.where(high, np.log(3.0), np.log(1.6)), 0.45))

    def two_readers(true_value: np.ndarray, error_sd: float, bias: float, decimals: int):
        reader_1 = true_value + rng.normal(0.0, error_sd, n)
        reader_2 = true_value + bias + rng.normal(0.0, error_sd, n)
        return np.round(reader_1, decimals), np.round(reader_2, decimals)

    columns = {
        "patient_id": [f"A{index + 1:02d}" for index in range(n)],
        "subtype": subtype,
        "biopsy_grade": biopsy_grade,
        "surgical_grade": grade,
        "ki67": ki67.astype(int),
    }
    for name, values, error_sd, bias, decimals in (
        ("adc_min", adc_min, 0.13, 0.02, 3),
        ("adc_mean", adc_mean, 0.10, -0.01, 3),
        ("cho_cr", cho_cr, 0.55, 0.05, 2),
    ):
        columns[f"{name}_r1"], columns[f"{name}_r2"] = two_readers(values, error_sd, bias, decimals)
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------------------
# Design B
# --------------------------------------------------------------------------------------
def _ajcc_stage(t_stage: str, grade: int, metastasis: bool) -> str:
    """AJCC 8th edition stage group for trunk/extremity STS (N0 assumed unless M1)."""
    if metastasis:
        return "IV"
    if grade == 1:
        return "IA" if t_stage == "T1" else "IB"
    return {"T1": "II", "T2": "IIIA"}.get(t_stage, "IIIB")


def make_radiomics_clinical(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return the design-B clinical table (180 patients, two centres, three scanners)."""
    rng = np.random.default_rng([seed, 2])
    allocation = [(centre, scanner) for centre, counts in CENTRE_SCANNERS.items() for scanner, n in counts.items() for _ in range(n)]
    centre = np.array([centre for centre, _ in allocation])
    scanner = np.array([scanner for _, scanner in allocation])
    n = scanner.size

    grade = rng.choice([1, 2, 3], size=n, p=[0.22, 0.36, 0.42])
    high = (grade == 3).astype(int)
    # Semantic MRI factors depend on grade (T-stage and margin most, as published).
    size_cm = np.round(np.exp(rng.normal(np.log(6.5) + 0.38 * high, 0.5)), 1)
    t_stage = np.select([size_cm <= 5, size_cm <= 10, size_cm <= 15], ["T1", "T2", "T3"], "T4")
    margin = np.where(rng.random(n) < np.where(high == 1, 0.62, 0.27), "ill-defined", "well-defined")
    depth = np.where(rng.random(n) < np.where(high == 1, 0.82, 0.68), "deep", "superficial")
    necrosis = np.where(rng.random(n) < np.where(high == 1, 0.55, 0.40), "yes", "no")
    oedema = np.where(rng.random(n) < np.where(high == 1, 0.55, 0.42), "yes", "no")
    metastasis = rng.random(n) < 0.06
    ajcc = np.array([_ajcc_stage(t, g, m) for t, g, m in zip(t_stage, grade, metastasis)])

    # PFS: exponential hazard rising with grade, stage and an unmeasured frailty.
    log_hazard = np.log(0.010) + 0.55 * high + 0.20 * (grade == 2) + 0.9 * metastasis
    log_hazard = log_hazard + 0.12 * (np.char.find(ajcc.astype(str), "III") >= 0) + rng.normal(0, 0.6, n)
    event_time = rng.exponential(1.0 / np.exp(log_hazard))
    censor_time = rng.uniform(12.0, 84.0, n)
    pfs_months = np.round(np.minimum(event_time, censor_time), 1).clip(min=0.5)

    return pd.DataFrame(
        {
            "patient_id": [f"B{index + 1:03d}" for index in range(n)],
            "centre": centre,
            "scanner": scanner,
            "age": np.round(rng.normal(58, 14, n).clip(18, 90)).astype(int),
            "sex": np.where(rng.random(n) < 0.55, "male", "female"),
            "t_stage": t_stage,
            "ajcc_stage": ajcc,
            "margin": margin,
            "depth": depth,
            "size_cm": size_cm,
            "necrosis": necrosis,
            "peritumoral_oedema": oedema,
            "grade": grade,
            "high_grade": high,
            "pfs_months": pfs_months,
            "pfs_event": (event_time <= censor_time).astype(int),
        }
    )


def _smooth_field(rng: np.random.Generator, shape: tuple[int, ...], sigma_mm: float) -> np.ndarray:
    """A zero-mean, unit-SD Gaussian random field with correlation length ``sigma_mm``."""
    spacing_zyx = np.array(IMAGE_SPACING[::-1])
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma=sigma_mm / spacing_zyx, mode="reflect")
    return (field - field.mean()) / field.std()


def _physical_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voxel-centre coordinates in mm (z, y, x order), centred on the volume."""
    axes = [(np.arange(size) - (size - 1) / 2.0) * spacing for size, spacing in zip(IMAGE_SIZE[::-1], IMAGE_SPACING[::-1])]
    return np.meshgrid(*axes, indexing="ij")


def _tumour_mask(rng: np.random.Generator, radii_mm: np.ndarray, centre_mm: np.ndarray, roughness: float) -> np.ndarray:
    """An ellipsoid whose surface is perturbed by a smooth random field (a drawn outline)."""
    z, y, x = _physical_grid()
    distance = np.sqrt(
        ((x - centre_mm[0]) / radii_mm[0]) ** 2 + ((y - centre_mm[1]) / radii_mm[1]) ** 2 + ((z - centre_mm[2]) / radii_mm[2]) ** 2
    )
    wobble = _smooth_field(rng, distance.shape, sigma_mm=4.0) * roughness
    return (distance < 1.0 + wobble).astype(np.uint8)


@dataclass(frozen=True)
class _PatientAnatomy:
    radii_mm: np.ndarray
    centre_mm: np.ndarray
    heterogeneity: float


def _patient_images(rng: np.random.Generator, anatomy: _PatientAnatomy, mask: np.ndarray, high_grade: int, scanner: dict):
    """T1 and FS-T2 volumes (int16) of one patient on one scanner."""
    shape = mask.shape
    z, y, x = _physical_grid()
    fat_layer = (np.abs(x + 12.0 + 2.0 * np.sin(y / 5.0)) < 2.5).astype(float)

    # Texture: high grade = finer correlation length, larger amplitude, necrotic foci.
    correlation_mm = 3.2 - 1.2 * anatomy.heterogeneity
    amplitude = 0.16 + 0.12 * anatomy.heterogeneity
    texture = _smooth_field(rng, shape, correlation_mm)
    necrosis_field = _smooth_field(rng, shape, 2.0)
    necrotic = (necrosis_field > 1.6 - 0.5 * high_grade) & (mask == 1)

    images = {}
    for sequence, muscle, fat, tumour, necrotic_signal in (
        ("T1", 0.45, 1.00, 0.50, 0.30),
        ("FS-T2", 0.25, 0.10, 0.80, 1.05),
    ):
        signal = muscle + (fat - muscle) * fat_layer + 0.03 * _smooth_field(rng, shape, 6.0)
        tumour_signal = tumour * (1.0 + amplitude * texture)
        signal = np.where(mask == 1, tumour_signal, signal)
        signal = np.where(necrotic, necrotic_signal, signal)
        if scanner["blur_mm"] > 0:
            signal = ndimage.gaussian_filter(signal, sigma=scanner["blur_mm"] / np.array(IMAGE_SPACING[::-1]))
        signal = signal + scanner["noise"] * rng.standard_normal(shape)
        images[sequence] = np.clip(np.round(1000.0 * scanner["gain"] * signal), 0, 32767).astype(np.int16)
    return images


def _write_nifti(array_zyx: np.ndarray, path: Path) -> None:
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array_zyx)
    image.SetSpacing(IMAGE_SPACING)
    image.SetOrigin(tuple(-(size - 1) / 2.0 * spacing for size, spacing in zip(IMAGE_SIZE, IMAGE_SPACING)))
    with atomic_path(path) as temporary:
        # SimpleITK picks the writer from the extension, so give the temporary one too.
        named = temporary.with_name(temporary.name + ".nii.gz")
        sitk.WriteImage(image, str(named), useCompression=True)
        os.replace(named, temporary)


@dataclass(frozen=True)
class RadiomicsDemo:
    """Paths of a written design-B demo cohort."""

    directory: Path
    clinical: Path
    cases: Path
    #: ``cases_dicom.csv`` (the DICOM and Slicer copies of three patients); None when not written.
    cases_dicom: Path | None = None


def make_radiomics_demo(
    output_dir: str | os.PathLike,
    seed: int = DEFAULT_SEED,
    n_resegmented: int = 40,
    progress: bool = False,
    dicom: bool | None = None,
) -> RadiomicsDemo:
    """Write the design-B demo cohort (clinical table, images, masks) under ``output_dir``.

    Files: ``clinical.csv``; ``cases.csv`` (patient_id, sequence, reader, image, mask; paths
    relative to ``output_dir``); ``images/<id>_<sequence>.nii.gz``;
    ``masks/<id>_<reader>.nii.gz`` with readers ``reader1`` (all patients), ``reader2`` and
    ``reader1_repeat`` (``n_resegmented`` randomly chosen patients). The same mask serves
    both sequences (the volumes are co-registered).

    With ``dicom`` (default: when the 'dicom' extra is installed) three patients' T1 image
    and reader-1 mask are also written under ``dicom/`` as a DICOM series, an RTSTRUCT and a
    SEG, one also as a cropped ``.seg.nrrd``, with ``cases_dicom.csv`` listing them
    (:func:`.demo_dicom.export_dicom_cases`); the files above do not change.
    """
    from tqdm.auto import tqdm

    directory = Path(output_dir)
    (directory / "images").mkdir(parents=True, exist_ok=True)
    (directory / "masks").mkdir(parents=True, exist_ok=True)
    clinical = make_radiomics_clinical(seed)
    resegmented = set(np.random.default_rng([seed, 3]).choice(clinical["patient_id"], size=n_resegmented, replace=False))

    rows = []
    for index, patient in enumerate(tqdm(clinical.itertuples(), total=len(clinical), disable=not progress, desc="demo images")):
        rng = np.random.default_rng([seed, 4, index])
        anatomy = _PatientAnatomy(
            radii_mm=rng.uniform([6.0, 5.5, 8.0], [12.0, 11.0, 14.0]),
            centre_mm=rng.uniform(-1.5, 1.5, 3),
            heterogeneity=float(np.clip(0.45 + 0.45 * patient.high_grade + rng.normal(0, 0.33), 0.0, 1.2)),
        )
        readers = {"reader1": _tumour_mask(rng, anatomy.radii_mm, anatomy.centre_mm, roughness=0.06)}
        if patient.patient_id in resegmented:
            readers["reader2"] = _tumour_mask(
                rng, anatomy.radii_mm * rng.uniform(0.96, 1.04, 3), anatomy.centre_mm + rng.normal(0, 0.4, 3), 0.08
            )
            readers["reader1_repeat"] = _tumour_mask(
                rng, anatomy.radii_mm * rng.uniform(0.98, 1.02, 3), anatomy.centre_mm + rng.normal(0, 0.25, 3), 0.07
            )
        images = _patient_images(rng, anatomy, readers["reader1"], patient.high_grade, SCANNERS[patient.scanner])
        for sequence, volume in images.items():
            image_path = Path("images") / f"{patient.patient_id}_{sequence}.nii.gz"
            _write_nifti(volume, directory / image_path)
            for reader in readers:
                rows.append(
                    (
                        patient.patient_id,
                        sequence,
                        reader,
                        image_path.as_posix(),
                        f"masks/{patient.patient_id}_{reader}.nii.gz",
                    )
                )
        for reader, mask in readers.items():
            _write_nifti(mask, directory / "masks" / f"{patient.patient_id}_{reader}.nii.gz")

    cases = pd.DataFrame(rows, columns=["patient_id", "sequence", "reader", "image", "mask"])
    atomic_write_text(directory / "clinical.csv", clinical.to_csv(index=False))
    atomic_write_text(directory / "cases.csv", cases.to_csv(index=False))
    from .demo_dicom import dicom_export_available, export_dicom_cases

    cases_dicom = export_dicom_cases(directory, seed) if dicom or (dicom is None and dicom_export_available()) else None
    return RadiomicsDemo(directory=directory, clinical=directory / "clinical.csv", cases=directory / "cases.csv", cases_dicom=cases_dicom)


def write_demo(output_dir: str | os.PathLike = "data/demo", seed: int = DEFAULT_SEED, progress: bool = True) -> dict[str, Path]:
    """Write both demo cohorts and a manifest (seed, version, SHA-256 of every file).

    Returns the paths: ``biomarker`` (CSV), ``radiomics`` (folder), ``manifest``. A manifest
    that already records the same seed, package version and generator code (the SHA-256 of
    this module and :mod:`.demo_dicom`) with intact files means the demo is current, and
    nothing is rewritten.
    """
    directory = Path(output_dir)
    manifest_path = directory / "manifest.json"
    paths = {
        "biomarker": directory / "biomarker" / "cohort.csv",
        "radiomics": directory / "radiomics",
        "manifest": manifest_path,
    }
    if _manifest_is_current(manifest_path, seed):
        return paths
    paths["biomarker"].parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(paths["biomarker"], make_biomarker_demo(seed).to_csv(index=False))
    make_radiomics_demo(paths["radiomics"], seed=seed, progress=progress)
    files = sorted(path for path in directory.rglob("*") if path.is_file() and path != manifest_path)
    manifest = {
        "seed": seed,
        "stsanalysis_version": __version__,
        "generator_sha256": _generator_sha256(),
        "files": {path.relative_to(directory).as_posix(): sha256_file(path) for path in files},
    }
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1, sort_keys=True))
    return paths


def _manifest_is_current(manifest_path: Path, seed: int) -> bool:
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return False
    if (manifest.get("seed"), manifest.get("stsanalysis_version"), manifest.get("generator_sha256")) != (
        seed,
        __version__,
        _generator_sha256(),
    ):
        return False
    directory = manifest_path.parent
    return all((directory / name).is_file() for name in manifest.get("files", {}))


def _generator_sha256() -> str:
    """SHA-256 of the generator code: this module and the DICOM export."""
    import hashlib

    digest = hashlib.sha256()
    for module in (Path(__file__), Path(__file__).with_name("demo_dicom.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()
