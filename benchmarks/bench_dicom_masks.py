"""Masks from DICOM RTSTRUCT, DICOM SEG and 3D Slicer against the NIfTI masks of the same patients.

    .venv/bin/python benchmarks/bench_dicom_masks.py [--demo data/demo/radiomics] [--repeats 5]

For each row of the demo's ``cases_dicom.csv`` (three patients: a DICOM series with an
RTSTRUCT and a SEG; one also a cropped ``.seg.nrrd`` on its NIfTI image) and for the same
patient's NIfTI image and mask, times (best of ``--repeats``):

* reading the image (:func:`~stsanalysis.radiomics.images.read_image`: a DICOM series
  folder or a NIfTI file),
* reading the mask onto the image grid (:func:`~stsanalysis.radiomics.masks.read_mask`:
  rasterising the RTSTRUCT, placing the SEG or the cropped Slicer segment; the NIfTI
  mask through the same function),
* pyradiomics on the result (the mri_t1 preset's settings, original image, first-order,
  shape and GLCM features),

and reports the Dice of each mask with the NIfTI mask and the largest relative difference
of the features. Without ``--demo`` the demo is written to a temporary folder first. A
clinical-size case follows (``--large``: 512 x 512 x 60 voxels of 0.7 x 0.7 x 2.5 mm, an
ellipsoidal tumour of ~130 ml, its series, RTSTRUCT and SEG written by the demo's writers).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from timing import best_time

from stsanalysis.data.demo import make_radiomics_demo
from stsanalysis.data.demo_dicom import write_dicom_series, write_rtstruct, write_seg
from stsanalysis.radiomics.images import read_image
from stsanalysis.radiomics.masks import read_mask
from stsanalysis.radiomics.params import PYKWALIFY_WARNING, load_params, pyradiomics_params

PARAMS = {"preset": "mri_t1", "imageType": {"Original": {}}, "featureClass": {"firstorder": [], "shape": [], "glcm": []}}


def measure(directory: Path, image_path: str, mask_path: str, roi, extractor, repeats: int) -> dict:
    read_time, image = best_time(lambda: read_image(directory / image_path), repeats)
    mask_time, (mask, info) = best_time(lambda: read_mask(str(directory / mask_path), image, roi or None), repeats)
    extract_time, values = best_time(lambda: extractor.execute(image, mask, label=1), max(1, repeats // 2))
    features = {name: float(value) for name, value in values.items() if not name.startswith("diagnostics_")}
    return {
        "read image s": read_time,
        "read mask s": mask_time,
        "pyradiomics s": extract_time,
        "info": info,
        "mask": mask,
        "features": features,
    }


def write_large_case(directory: Path) -> pd.DataFrame:
    """A clinical-size MR volume with an ellipsoidal tumour as NIfTI files and as a DICOM series, RTSTRUCT and SEG."""
    rng = np.random.default_rng(0)
    z, y, x = np.indices((60, 512, 512))
    inside = ((x - 250) / 80.0) ** 2 + ((y - 270) / 60.0) ** 2 + ((z - 30) / 18.0) ** 2 <= 1
    voxels = (300 + 40 * rng.standard_normal(inside.shape) + 200 * inside).astype(np.int16)
    image, mask = sitk.GetImageFromArray(voxels), sitk.GetImageFromArray(inside.astype(np.uint8))
    for item in (image, mask):
        item.SetSpacing((0.7, 0.7, 2.5))
        item.SetOrigin((-179.0, -179.0, -75.0))
    sitk.WriteImage(image, str(directory / "large_image.nii.gz"))
    sitk.WriteImage(mask, str(directory / "large_mask.nii.gz"))
    # the series from the NIfTI as read back (its float32 spacing), so that both images are the same
    slices = write_dicom_series(sitk.ReadImage(str(directory / "large_image.nii.gz")), directory / "large" / "series", "LARGE", 0)
    structures = {"GTV_Mass": inside.astype(np.uint8)}
    write_rtstruct(directory / "large" / "rtstruct.dcm", slices, structures, 0)
    write_seg(directory / "large" / "seg.dcm", slices, structures, 0)
    return pd.DataFrame(
        [
            ("LARGE", "large/series", f"large/{name}", "GTV_Mass", "large_image.nii.gz", "large_mask.nii.gz")
            for name in ("rtstruct.dcm", "seg.dcm")
        ],
        columns=["patient_id", "image", "mask", "roi", "nifti_image", "nifti_mask"],
    )


def dice(first: sitk.Image, second: sitk.Image) -> float:
    a, b = (sitk.GetArrayViewFromImage(item).astype(bool) for item in (first, second))
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def compare(directory: Path, cases: pd.DataFrame, extractor, repeats: int) -> list[dict]:
    """Time each case's mask and the NIfTI mask of the same patient; Dice and feature differences."""
    rows = []
    for case in cases.itertuples():
        nifti = measure(directory, case.nifti_image, case.nifti_mask, None, extractor, repeats)
        other = measure(directory, case.image, case.mask, case.roi, extractor, repeats)
        difference = max(abs(other["features"][name] - value) / max(abs(value), 1e-12) for name, value in nifti["features"].items())
        for source, result in (("NIfTI", nifti), (other["info"].kind, other)):
            total = result["read image s"] + result["read mask s"] + result["pyradiomics s"]
            times = {key: value for key, value in result.items() if key.endswith(" s")}
            rows.append({"patient": case.patient_id, "mask": source, **times, "total s": total})
        rows[-1] |= {"dice vs NIfTI": dice(other["mask"], nifti["mask"]), "max rel. feature diff": difference}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, help="a design-B demo folder holding cases_dicom.csv (default: write one)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large", action=argparse.BooleanOptionalAction, default=True, help="also time a clinical-size case")
    arguments = parser.parse_args()
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)  # its advice on bin counts, once per case

    with tempfile.TemporaryDirectory() as scratch:
        directory = arguments.demo or make_radiomics_demo(Path(scratch) / "demo", dicom=True).directory
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=PYKWALIFY_WARNING, category=DeprecationWarning)
            extractor = RadiomicsFeatureExtractor(pyradiomics_params(load_params(PARAMS)))
        cases = pd.read_csv(directory / "cases_dicom.csv", keep_default_na=False)
        cases["nifti_image"] = [f"images/{patient}_T1.nii.gz" for patient in cases["patient_id"]]
        cases["nifti_mask"] = [f"masks/{patient}_reader1.nii.gz" for patient in cases["patient_id"]]
        rows = compare(directory, cases, extractor, arguments.repeats)
        if arguments.large:
            rows += compare(Path(scratch), write_large_case(Path(scratch)), extractor, max(1, arguments.repeats // 2))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
        print("\nmean seconds by mask kind (demo patients):")
        demo = table[table["patient"] != "LARGE"]
        print(demo.groupby("mask")[["read image s", "read mask s", "pyradiomics s", "total s"]].mean().to_string())


if __name__ == "__main__":
    main()
