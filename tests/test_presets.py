"""The parameter presets of ``stsanalysis/radiomics/params``: each loads, validates and extracts.

The design-B presets' settings are checked in ``tests/test_extraction.py``; here every preset
(so any added later too) and the FDG-PET preset on a synthetic SUV image.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from stsanalysis.radiomics.extraction import extract_features
from stsanalysis.radiomics.params import available_presets, load_params, validate_params


@pytest.mark.parametrize("preset", available_presets())
def test_every_preset_loads_and_validates(preset):
    resolved = load_params(preset)
    validate_params(resolved)
    assert resolved["modality"] in {"mri", "ct", "pet", "phantom"}
    assert resolved["featureClass"], preset


def test_pet_preset_settings():
    pet = load_params("pet")
    assert "pet" in available_presets()
    assert pet["modality"] == "pet"
    settings = pet["setting"]
    assert settings["normalize"] is False
    assert settings["binWidth"] == 0.25 and "binCount" not in settings
    assert settings["resampledPixelSpacing"] == [4, 4, 4]
    assert settings["interpolator"] == "sitkLinear"
    # the feature classes and image types of the CT and MRI presets
    assert pet["featureClass"] == load_params("ct")["featureClass"] == load_params("mri_t1")["featureClass"]
    assert set(pet["imageType"]) == {"Original", "Wavelet", "LoG"}


def _suv_case(tmp_path):
    """An FDG-avid sphere (SUV up to 13 over a background of 1, noise, clipped to 0-15) on 2 x 2 x 3 mm voxels."""
    z, y, x = np.indices((24, 40, 40))
    distance_squared = ((z - 12) * 3.0) ** 2 + ((y - 20) * 2.0) ** 2 + ((x - 20) * 2.0) ** 2
    rng = np.random.default_rng(3)
    suv = 1.0 + 12.0 * np.exp(-distance_squared / (2 * 12.0**2)) + 0.4 * rng.standard_normal(z.shape)
    suv = np.clip(suv, 0.0, 15.0).astype(np.float32)
    image = sitk.GetImageFromArray(suv)
    mask = sitk.GetImageFromArray((distance_squared <= 24.0**2).astype(np.uint8))
    for item in (image, mask):
        item.SetSpacing((2.0, 2.0, 3.0))
    sitk.WriteImage(image, str(tmp_path / "suv.nii.gz"))
    sitk.WriteImage(mask, str(tmp_path / "mask.nii.gz"))
    return suv, pd.DataFrame([{"patient_id": "PET01", "image": str(tmp_path / "suv.nii.gz"), "mask": str(tmp_path / "mask.nii.gz")}])


def test_pet_preset_gives_finite_features_on_an_suv_image(tmp_path):
    suv, case = _suv_case(tmp_path)
    features = extract_features(case, "pet", n_jobs=1, progress=False)
    assert features.attrs["errors"].empty
    # 14 shape + 93 features on the original, 8 wavelet and 3 LoG images
    assert features.shape == (1, 1130)
    assert np.isfinite(features.to_numpy()).all()
    row = features.loc["PET01"]
    # linear interpolation to 4 mm stays within the SUV range (a B-spline would overshoot)
    assert 0.0 <= row["original_firstorder_Minimum"] <= row["original_firstorder_Maximum"] <= suv.max()
    assert features.attrs["provenance"]["params"]["setting"]["binWidth"] == 0.25
