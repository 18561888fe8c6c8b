"""Presets that pyradiomics itself loads, and the pyradiomics YAML a report offers for download.

Every file of ``stsanalysis/radiomics/params`` must load in pyradiomics (its command line and
Slicer's radiomics module use the same loader) with the settings stsanalysis resolves; our
metadata (modality, description) lives in comment lines. ``pyradiomics_yaml`` writes resolved
parameters back as the file that re-extracts the same features: checked on a demo case.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from radiomics.featureextractor import RadiomicsFeatureExtractor

from stsanalysis.errors import InputError
from stsanalysis.radiomics.extraction import extract_features
from stsanalysis.radiomics.params import (
    PRESET_DIR,
    available_presets,
    load_params,
    preset_info,
    pyradiomics_params,
    pyradiomics_yaml,
)
from stsanalysis.report.downloads import display_params_download, download_link, params_download_html, params_downloads

# pykwalify, pyradiomics' schema validator, loads its extension with the deprecated load_module
pytestmark = pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")

PRESET_FILES = sorted(path for path in PRESET_DIR.iterdir() if path.is_file())
DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "radiomics"


def _extractor_state(extractor) -> tuple:
    return extractor.settings, extractor.enabledImagetypes, extractor.enabledFeatures


@pytest.mark.parametrize("path", PRESET_FILES, ids=lambda path: path.name)
def test_every_file_of_the_params_folder_loads_in_pyradiomics_with_our_settings(path):
    extractor = RadiomicsFeatureExtractor(str(path))  # raised SchemaError "Key 'modality' was not defined" before
    resolved = load_params(path.stem)
    assert extractor.enabledImagetypes == resolved["imageType"]
    assert extractor.enabledFeatures == resolved["featureClass"]
    assert {key: extractor.settings[key] for key in resolved["setting"]} == resolved["setting"]
    assert _extractor_state(extractor) == _extractor_state(RadiomicsFeatureExtractor(pyradiomics_params(resolved)))


def test_the_params_folder_holds_only_presets():
    assert [path.name for path in PRESET_FILES] == [f"{name}.yaml" for name in available_presets()]
    assert {"ct", "ibsi_phantom", "mri_t1", "mri_t2fs", "pet"} <= set(available_presets())


@pytest.mark.parametrize("name", available_presets())
def test_every_preset_states_modality_and_description_in_comments(name):
    info = preset_info(name)
    assert info.modality in {"mri", "ct", "pet", "phantom"}
    assert info.description and len(info.description) < 200
    text = (PRESET_DIR / f"{name}.yaml").read_text()
    assert set(yaml.safe_load(text)) <= {"imageType", "featureClass", "setting"}  # nothing of ours outside comments
    assert load_params(name)["modality"] == info.modality  # study_modality and the BinWidthWarning read it here


def test_unknown_preset_info_names_the_choices():
    with pytest.raises(InputError, match="choose one of"):
        preset_info("mri_t3")


def test_fs_t2_preset_holds_the_t1_settings():
    # written out rather than inherited (pyradiomics knows no 'preset' key): keep the two equal
    assert load_params("mri_t2fs") == load_params("mri_t1")


def test_user_dicts_and_files_keep_preset_and_modality(tmp_path):
    merged = load_params({"preset": "mri_t1", "modality": "ct", "setting": {"binWidth": 10}})
    assert merged["modality"] == "ct" and merged["setting"]["binWidth"] == 10 and "binCount" not in merged["setting"]
    inherited = load_params({"preset": "pet", "setting": {"binWidth": 0.5}})
    assert inherited["modality"] == "pet"  # from the preset's comment line
    path = tmp_path / "mine.yaml"
    path.write_text("# modality: ct\nimageType: {Original: {}}\nfeatureClass: {firstorder: [Mean]}\n")
    assert load_params(str(path))["modality"] == "ct"
    path.write_text("# modality: ct\nmodality: mri\nimageType: {Original: {}}\n")
    assert load_params(str(path))["modality"] == "mri"  # a key wins over a comment
    path.write_text("imageType: {Original: {}}\n# modality: ct (after the first setting: a plain comment)\n")
    assert "modality" not in load_params(str(path))


# ----------------------------------------------------------------------------- the YAML download


@pytest.mark.parametrize("name", available_presets())
def test_pyradiomics_yaml_loads_in_pyradiomics_as_the_preset(name, tmp_path):
    resolved = load_params(name)
    text = pyradiomics_yaml(resolved)
    assert yaml.safe_load(text) == pyradiomics_params(resolved)  # our additions removed
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    assert _extractor_state(RadiomicsFeatureExtractor(str(path))) == _extractor_state(
        RadiomicsFeatureExtractor(str(PRESET_DIR / f"{name}.yaml"))
    )
    assert load_params(str(path)) == resolved  # the modality comes back from its comment line


def test_pyradiomics_yaml_writes_merged_user_settings_as_plain_yaml(tmp_path):
    params = {
        "preset": "mri_t1",
        "imageType": {"Original": {}, "LoG": {"sigma": (np.float64(2.0), 4.0)}},
        "setting": {"binWidth": np.float32(0.5), "resampledPixelSpacing": (2, 2, np.int64(2))},
    }
    resolved = load_params(params)
    text = pyradiomics_yaml(resolved)
    assert "preset" not in text and "!!" not in text  # no Python tags
    path = tmp_path / "user.yaml"
    path.write_text(text)
    extractor = RadiomicsFeatureExtractor(str(path))
    assert extractor.settings["binWidth"] == 0.5 and "binCount" not in yaml.safe_load(text)["setting"]
    assert extractor.settings["resampledPixelSpacing"] == [2, 2, 2]
    assert extractor.enabledImagetypes == {"Original": {}, "LoG": {"sigma": [2.0, 4.0]}}
    assert extractor.settings["normalize"] is True  # the preset's settings are written out


def test_pyradiomics_yaml_refuses_values_yaml_cannot_hold():
    with pytest.raises(InputError, match="cannot be written"):
        pyradiomics_yaml({"imageType": {}, "featureClass": {}, "setting": {"label": object()}})


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory) -> pd.DataFrame:
    """One demo patient's T1 image and primary-reader mask (the shipped demo, else a fresh one)."""
    from stsanalysis.studies.radiomics_features import read_cases

    cases_path = DEMO / "cases.csv"
    if not cases_path.is_file():
        from stsanalysis.data.demo import make_radiomics_demo

        cases_path = make_radiomics_demo(tmp_path_factory.mktemp("demo")).cases
    cases = read_cases(cases_path)
    return cases[(cases["sequence"] == "T1") & (cases["reader"] == "reader1")].head(1).drop(columns="reader")


def test_downloaded_yaml_re_extracts_the_same_features_with_pyradiomics(demo_case, tmp_path):
    features = extract_features(demo_case, "mri_t1", n_jobs=1, progress=False)
    html = params_download_html({"T1": features.attrs["provenance"]})
    payload = re.search(r'download="T1\.yaml" href="data:application/yaml;charset=utf-8,([^"]*)"', html).group(1)
    path = tmp_path / "T1.yaml"
    path.write_text(urllib.parse.unquote(payload))
    row = demo_case.iloc[0]
    direct = RadiomicsFeatureExtractor(str(path)).execute(row["image"], row["mask"])  # pyradiomics alone
    expected = {name: float(value) for name, value in direct.items() if not name.startswith("diagnostics_")}
    assert list(features.columns) == list(expected) and len(expected) == 1130
    np.testing.assert_allclose(features.iloc[0].to_numpy(), list(expected.values()), rtol=1e-12, atol=0)


def test_download_html_per_sequence_with_the_command():
    html = params_download_html({"T1": "mri_t1", "FS-T2": "mri_t2fs"})
    assert html.count('<div class="sts-download">') == 2
    assert "Download pyradiomics YAML (T1)" in html and "Download pyradiomics YAML (FS-T2)" in html
    assert "re-extract with: <code>pyradiomics cases.csv --param T1.yaml</code>" in html
    assert 'download="FS-T2.yaml"' in html
    assert params_downloads({"T1": "mri_t1"})["T1"] == pyradiomics_yaml(load_params("mri_t1"))


def test_download_of_a_feature_table_without_settings_says_so():
    record = {"params": {"featureClass": {"firstorder": ["Mean"]}}, "not_recorded": ["imageType", "setting"]}
    assert params_downloads({"T1": record}) == {"T1": None}
    assert "not available" in params_download_html({"T1": record})


def test_display_params_download_shows_html(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    display_params_download({"CT": "ct"})
    assert "Download pyradiomics YAML (CT)" in shown[0].data


def test_download_link_escapes_and_encodes():
    link = download_link('a: "<b>"\n', 'x".yaml', "Save <it>", "application/yaml")
    assert 'download="x&quot;.yaml"' in link and ">Save &lt;it&gt;</a>" in link
    payload = re.search(r"charset=utf-8,([^\"]*)\"", link).group(1)
    assert urllib.parse.unquote(payload) == 'a: "<b>"\n' and "<" not in payload
