"""The cohort explorer opened from a study config (``stsanalysis explore --config study.yaml``).

The cohort is the demo's images under other names: the clinical table as an Excel file whose
columns have spaces and accents, a text endpoint "Métastase pulmonaire" (oui/non), a split by
centre, one sequence ("T2 FS") and one reader (no reader column in the cases table). The
explorer must show what the config says, never the demo's high grade, T1 or reader 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from stsanalysis import InputError, stats
from stsanalysis.cli import main
from stsanalysis.data.demo import make_radiomics_demo
from stsanalysis.viewer import CohortExplorer, load_explorer_data, patient_images
from stsanalysis.viewer.launch import CONFIG_VARIABLE, explorer_config

ENDPOINT, SIZE, CENTRE, PATIENT = "Métastase pulmonaire", "Taille tumorale (cm)", "Centre d'inclusion", "N° patient"
SEQUENCE = "T2 FS"
LABELS = {0: "No lung metastasis", 1: "Lung metastasis"}


def write_config(folder, name: str, parameters: dict, notebook: str = "radiomics_nomogram_study"):
    path = folder / f"{name}.yaml"
    config = {"notebook": notebook, "name": name, "parameters": parameters}
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")  # keep the sequences' order
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The demo's images as another study; returns (folder, its config's parameters)."""
    folder = tmp_path_factory.mktemp("explore_study")
    demo = make_radiomics_demo(folder / "images_and_masks")
    clinical = pd.read_csv(demo.clinical)
    rng = np.random.default_rng(5)
    clinical[ENDPOINT] = np.where((clinical["grade"] == 3) ^ (rng.random(len(clinical)) < 0.15), "oui", "non")
    clinical = clinical.drop(columns=["high_grade"]).rename(
        columns={"patient_id": PATIENT, "centre": CENTRE, "scanner": "Scanner IRM", "size_cm": SIZE, "age": "Âge (ans)"}
    )
    clinical.to_excel(folder / "clinique.xlsx", index=False)

    cases = pd.read_csv(demo.cases)
    one = cases[(cases["sequence"] == "FS-T2") & (cases["reader"] == "reader1")].drop(columns="reader")
    one = one.assign(sequence=SEQUENCE, image="images_and_masks/" + one["image"], mask="images_and_masks/" + one["mask"])
    one.rename(columns={"patient_id": PATIENT}).to_csv(folder / "cas.csv", index=False)
    parameters = {
        "clinical_path": "clinique.xlsx",  # relative: resolved from the config's folder
        "cases_path": "cas.csv",
        "columns": {"patient_id": PATIENT, "centre": CENTRE, "scanner": "Scanner IRM"},
        "case_columns": {"patient_id": PATIENT},
        "sequences": {SEQUENCE: "mri_t2fs"},
        "readers": {},
        "outcome": {"column": ENDPOINT, "positive": "oui", "label": "lung metastasis"},
        "split": {"by": "centre", "training": 1},
        "mrmr_k": 8,  # a parameter of the report that the explorer does not read
    }
    return folder, parameters


@pytest.fixture(scope="module")
def config(study):
    folder, parameters = study
    return write_config(folder, "metastases", parameters)


def test_explorer_shows_the_configured_study(study, config):
    folder, _ = study
    # as the notebook calls it: demo_dir is not read when a config is given
    data = load_explorer_data("no/demo/here", config_path=config)
    explorer = CohortExplorer.from_data(data, backend="plotly")
    clinical = pd.read_excel(folder / "clinique.xlsx")

    assert explorer.sequences == [SEQUENCE] and data.sequences == (SEQUENCE,)
    assert [panel.children[0].value for panel in explorer.image_views.children] == [f"<b>{SEQUENCE}</b>"]
    assert set(explorer.patient_list.options) == set(clinical[PATIENT]) and len(explorer.patient_list.options) == 180
    assert (data.reader, data.second_reader, data.reliability_subset) == ("reader1", None, [])
    assert "One reader segmented this study" in explorer.reader_summary.value

    # the outcome: its class names in the colours and the 2 x 2 table, its 0/1 in the ROC
    assert explorer.class_labels == LABELS and explorer.outcome == "lung_metastasis"
    assert sorted(explorer.table["lung_metastasis"].unique()) == ["Lung metastasis", "No lung metastasis"]
    assert explorer.scatter_color.value == "lung_metastasis"
    assert {trace.name for trace in explorer.scatter_view.data} == {f"lung_metastasis {label}" for label in LABELS.values()}
    explorer.roc_score.value = SIZE
    expected = stats.roc((clinical[ENDPOINT] == "oui").astype(int), clinical[SIZE])
    assert f'<td>AUC</td><td class="num">{expected.auc:.3f}</td>' in explorer.roc_metrics.value  # y = 1 for "oui"
    header = '<th scope="col" class="num">Lung metastasis</th><th scope="col" class="num">No lung metastasis</th>'
    assert header in explorer.roc_metrics.value  # the 2 x 2 table's reference standard
    n_positive = int((clinical[ENDPOINT] == "oui").sum())
    totals = f'<tr><td>Total</td><td class="num">{n_positive}</td><td class="num">{180 - n_positive}</td><td class="num">180</td></tr>'
    assert totals in explorer.roc_metrics.value
    assert "high grade" not in explorer.roc_metrics.value.lower()

    # filters: the columns the table has among centre, scanner, the outcome's column and set
    assert list(explorer.filters) == ["centre", "scanner", ENDPOINT, "set"]
    assert explorer.filters["set"].options == ("All", "training", "validation")
    explorer.filters["set"].value = "validation"
    validation = clinical.loc[clinical[CENTRE] != 1, PATIENT]
    assert set(explorer.patient_list.options) == set(validation)
    explorer.filters["set"].value = "All"
    explorer.filters[ENDPOINT].value = "oui"
    assert len(explorer.patient_list.options) == int((clinical[ENDPOINT] == "oui").sum())


def test_one_patient_image_and_mask_load(study, config):
    folder, _ = study
    data = load_explorer_data("", config_path=config)
    images = patient_images(data.cases, data.base_dir, "B007")
    assert list(images) == [SEQUENCE]
    assert images[SEQUENCE]["image"] == folder / "images_and_masks" / "images" / "B007_FS-T2.nii.gz"
    assert images[SEQUENCE]["masks"] == {"reader1": folder / "images_and_masks" / "masks" / "B007_reader1.nii.gz"}

    explorer = CohortExplorer.from_data(data, backend="plotly", patient_id="B007")
    volume = sitk.GetArrayFromImage(sitk.ReadImage(str(images[SEQUENCE]["image"])))
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(images[SEQUENCE]["masks"]["reader1"])))
    figure = explorer.viewers[SEQUENCE]
    explorer.slice.value = 2
    np.testing.assert_array_equal(figure.data[0].z, volume[2])
    np.testing.assert_array_equal(figure.data[1].z, mask[2])


def test_the_demo_config_keeps_the_demo_names(study):
    """The shorthand ``high_grade_from`` and ``training_centre``, three reader roles, two sequences."""
    folder, _ = study
    demo = folder / "images_and_masks"
    config = write_config(
        folder,
        "demo_like",
        {
            "clinical_path": str(demo / "clinical.csv"),
            "cases_path": str(demo / "cases.csv"),
            "sequences": {"T1": "mri_t1", "FS-T2": "mri_t2fs"},
            "readers": {"reader1": "reader1", "reader2": "reader2", "repeat": "reader1_repeat"},
            "high_grade_from": 3,
            "training_centre": 1,
        },
    )
    data = load_explorer_data("", config_path=config)
    assert data.outcome == "high_grade" and data.class_labels == {0: "Low grade", 1: "High grade"}
    assert data.filter_columns == ("centre", "scanner", "grade", "set")
    assert data.sequences == ("T1", "FS-T2") and (data.reader, data.second_reader) == ("reader1", "reader2")
    assert len(data.reliability_subset) == 40
    assert (data.clinical["high_grade"] == (data.clinical["grade"] >= 3)).all()


def test_a_design_a_config_is_refused(tmp_path):
    config = write_config(tmp_path, "biomarker", {"cohort_path": "cohort.csv"}, notebook="biomarker_study")
    with pytest.raises(InputError, match=r"explorer opens radiomics \(design B\) studies"):
        load_explorer_data("", config_path=config)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"outcome": {"column": "Métastase hépatique", "positive": "oui", "label": "liver metastasis"}}, "Métastase hépatique"),
        ({"columns": {"patient_id": PATIENT, "centre": "Centre"}}, "'Centre'"),
        ({"case_columns": {"patient_id": "Patient"}}, "'Patient'"),
        ({"sequences": {"T1": "mri_t1"}}, "'T1'"),
        ({"readers": {"reader1": "reader1", "reader2": "reader2"}}, "'reader2'"),
    ],
    ids=["outcome column", "clinical column", "cases column", "sequence", "reader"],
)
def test_a_missing_column_or_label_is_named(study, change, named):
    folder, parameters = study
    config = write_config(folder, "broken", {**parameters, **change})
    with pytest.raises(InputError, match=named):
        load_explorer_data("", config_path=config)


def test_explore_hands_the_config_to_jupyterlab(study, config, monkeypatch, capsys):
    started = []

    class FakeServer:
        def __init__(self, command, cwd, env):
            started.append(env)

        def wait(self):
            return 0

    monkeypatch.setattr("subprocess.Popen", FakeServer)
    monkeypatch.setenv(CONFIG_VARIABLE, "/left/over.yaml")
    assert main(["explore", "--no-browser", "--config", str(config)]) == 0
    assert started[-1][CONFIG_VARIABLE] == str(config.resolve())
    assert main(["explore", "--no-browser"]) == 0  # the demo: no config reaches the kernel
    assert CONFIG_VARIABLE not in started[-1]

    folder, _ = study
    design_a = write_config(folder, "design_a", {"cohort_path": "cohort.csv"}, notebook="biomarker_study")
    assert main(["explore", "--no-browser", "--config", str(design_a)]) == 2  # refused before JupyterLab starts
    assert "design B" in capsys.readouterr().err and len(started) == 2

    # the kernel's side: the notebook's config_path parameter wins over the variable
    monkeypatch.setenv(CONFIG_VARIABLE, str(config))
    assert explorer_config("") == str(config) and explorer_config("other.yaml") == "other.yaml"
    monkeypatch.delenv(CONFIG_VARIABLE)
    assert explorer_config("") == ""


@pytest.mark.slow
def test_explorer_notebook_runs_on_the_config(study, config, tmp_path):
    """The notebook itself (as JupyterLab runs it after ``explore --config``): one sequence, one reader."""
    import papermill

    from stsanalysis.viewer.launch import EXPLORER_NOTEBOOK

    output = tmp_path / "explore.ipynb"
    papermill.execute_notebook(
        str(EXPLORER_NOTEBOOK), str(output), parameters={"config_path": str(config), "backend": "plotly"}, progress_bar=False
    )
    text = output.read_text(encoding="utf-8")
    assert "One reader segmented this study" in text
    assert f"Patient B001: {SEQUENCE}" in text  # the example patient: the first of the cases table
