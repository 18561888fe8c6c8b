"""Notebook -> HTML report: sections, provenance, offline opening, failures leave nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from stsanalysis import stats
from stsanalysis.data.demo import make_biomarker_demo
from stsanalysis.data.io import read_cohort
from stsanalysis.files import sha256_file
from stsanalysis.report.build import table_of_contents
from stsanalysis.report.formatting import format_estimate, format_number
from stsanalysis.studies.biomarker import prepare_biomarker_data

pytestmark = pytest.mark.slow


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stsanalysis", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def biomarker_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    cohort = folder / "cohort.csv"
    make_biomarker_demo().to_csv(cohort, index=False)
    result = run_cli("report", "--notebook", "biomarker_study", "-p", f"cohort_path={cohort}", "--output", str(folder / "out"))
    assert result.returncode == 0, result.stderr
    return folder / "out" / "biomarker_study.html", cohort


DESIGN_A_SECTIONS = [
    "Cohort",
    "Table 1: subtypes, grade and Ki-67",
    "Table 2: descriptive statistics and inter-reader agreement",
    "Table 3: low vs high grade, low vs high Ki-67",
    "Table 4: correlation with grade and Ki-67",
    "Tables 5 and 6: diagnostic performance (ROC)",
    "Methods",
    "Provenance",
]


def test_report_has_sections_toc_and_provenance(biomarker_report):
    path, cohort = biomarker_report
    html = path.read_text()
    toc = table_of_contents(html)
    assert [entry.text for entry in toc if entry.level == 2] == DESIGN_A_SECTIONS
    assert 'id="table-of-contents"' in html and 'id="report-footer"' in html
    assert "Software versions" in html and "Random seeds" in html
    assert sha256_file(cohort) in html  # input hash in the provenance section
    for caption in (
        "Table 1. Cohort (n = 32)",
        "Table 1b.",
        "Table 2.",
        "Table 2b.",
        "Table 3a.",
        "Table 3b.",
        "Table 4.",
        "Table 5.",
        "Table 6.",
    ):
        assert f"<caption>{caption}" in html, caption
    assert html.count("Plotly.newPlot") == 6  # box plots, three Bland-Altman plots and two ROC figures


def test_report_numbers_are_those_of_direct_package_calls(biomarker_report):
    html = biomarker_report[0].read_text()
    cohort = read_cohort(biomarker_report[1])
    data = prepare_biomarker_data(cohort)
    reliability = stats.reliability_table(data, {"adc_mean": ("adc_mean_r1", "adc_mean_r2")})
    expected_icc = format_estimate(reliability["icc"][0], reliability["ci_low"][0], reliability["ci_high"][0])
    assert f"<td>{expected_icc}</td>" in html
    result = stats.roc(data["high_grade"], data["adc_mean"], se_method="spss")
    assert result.direction == ">"
    assert f"<td>{format_estimate(result.auc, result.ci_low, result.ci_high)}</td>" in html
    assert f"<td>{html_escape(result.youden().rule)}</td>" in html
    agreement = stats.agreement_table(data["surgical_grade"], data["biopsy_grade"])
    assert f"in {agreement.n_agree}/32 patients" in html
    rho = stats.spearman(data["adc_mean"], data["ki67"]).rho
    assert re.search(rf"<td[^>]*>{format_number(rho, 3)}</td>", html)
    agreement = stats.bland_altman(data["cho_cr_r1"], data["cho_cr_r2"])
    bias = format_estimate(agreement.bias, agreement.bias_ci_low, agreement.bias_ci_high, 3)
    assert re.search(rf"<td>Cho/Cr</td><td[^>]*>32</td><td>{re.escape(bias)}</td>", html)


def test_report_hides_code_and_loads_no_remote_script(biomarker_report):
    html = biomarker_report[0].read_text()
    assert "read_cohort(" not in html  # code cells are hidden
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"https?:", html)
    assert "MathJax.Hub" not in html and "require.min.js" not in html


def test_report_opens_offline_in_chromium_with_figure_rendered(biomarker_report, offline_page, artifact_dir):
    page, remote, errors = offline_page
    page.goto(biomarker_report[0].as_uri())
    page.wait_for_selector(".plotly-graph-div .main-svg", timeout=15000)
    assert page.locator(".plotly-graph-div .main-svg").count() >= 1
    assert page.locator(".plotly-graph-div .boxlayer .box").count() == 6  # 3 parameters x 2 groups
    assert page.locator(".plotly-graph-div").count() == 6
    page.screenshot(path=str(artifact_dir / "biomarker_study.png"), full_page=True)
    assert remote == []
    assert errors == []


def _write_notebook(path, *sources):
    cells = [new_code_cell(source) for source in sources]
    cells[0].metadata["tags"] = ["parameters"]
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, path)


def test_failing_notebook_exits_nonzero_names_the_error_and_keeps_previous_report(tmp_path):
    notebook = tmp_path / "broken.ipynb"
    _write_notebook(notebook, "threshold: int = 3", "print('fine')", "raise ValueError(f'column grade has {threshold} levels')")
    output = tmp_path / "reports"
    output.mkdir()
    previous = output / "broken.html"
    previous.write_text("previous report")

    result = run_cli("report", "--notebook", str(notebook), "--output", str(output))

    assert result.returncode == 1
    assert "failed in cell 3" in result.stderr
    assert "ValueError: column grade has 3 levels" in result.stderr
    assert previous.read_text() == "previous report"
    assert sorted(p.name for p in output.iterdir() if p.is_file()) == ["broken.html"]
    assert (output / ".failed" / "broken.ipynb").is_file()


def test_failing_notebook_leaves_no_report(tmp_path):
    notebook = tmp_path / "broken.ipynb"
    _write_notebook(notebook, "x: int = 1", "1 / 0")
    result = run_cli("report", "--notebook", str(notebook), "--output", str(tmp_path / "out"))
    assert result.returncode == 1 and "ZeroDivisionError" in result.stderr
    assert not list((tmp_path / "out").glob("*.html"))


def test_several_configs_build_two_at_a_time_each_into_its_folder_and_one_failure_stops_none(tmp_path):
    """``report --jobs 2 --config ...`` (what ``make report`` runs): every good report is written to its
    config's ``output``; a failing one is named, the exit code is the worst (1: a notebook failed)."""
    for name, body in (("first", "print(value)"), ("second", "print(value * 2)"), ("broken", "raise ValueError('no grade column')")):
        _write_notebook(tmp_path / f"{name}.ipynb", "value: int = 1", body)
        config = f"notebook: {name}\noutput: {tmp_path / 'out' / name}\nparameters: {{value: 3}}\n"
        (tmp_path / f"{name}.yaml").write_text(config)
    configs = [arg for name in ("first", "broken", "second") for arg in ("--config", str(tmp_path / f"{name}.yaml"))]

    result = run_cli("report", "--jobs", "2", *configs)

    assert result.returncode == 1
    assert (
        "error: broken: Notebook 'broken.ipynb' failed in cell 3: ValueError: no grade column" in result.stderr
    )  # cell 2 is papermill's injected parameters
    assert (tmp_path / "out" / "first" / "first.html").is_file() and (tmp_path / "out" / "second" / "second.html").is_file()
    assert not (tmp_path / "out" / "broken" / "broken.html").exists()
    assert (tmp_path / "out" / "broken" / ".failed" / "broken.ipynb").is_file()
    assert result.stdout.count("report written:") == 2


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        ("notebook: biomarker_study\nparameterz: {}\n", "unknown key(s) ['parameterz']"),
        ("notebook: biomarker_study\nparameters: {readr: mean}\n", "unknown parameter(s) ['readr']"),
        (
            "notebook: biomarker_study\nparameters: {high_grade_from: two}\n",
            "'high_grade_from' must be of type int; got str",
        ),
        ("notebook: biomarker_study\nname: [a, b]\n", "'name' must be of type str; got list"),
        ("name: x\n", "the key 'notebook' is required"),
        ("notebook: no_such_notebook\n", "Notebook 'no_such_notebook' not found"),
        ("notebook: biomarker_study\nparameters: {cohort_path: missing.csv}\n", "missing.csv' does not exist"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_bad_config_exits_2_and_names_the_problem(tmp_path, config_text, message):
    config = tmp_path / "study.yaml"
    config.write_text(config_text)
    result = run_cli("report", "--config", str(config), "--output", str(tmp_path / "out"))
    assert result.returncode != 0
    assert message in result.stderr
    assert not list(tmp_path.glob("out/*.html"))


def test_unwritable_output_folder_is_refused_before_running(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = run_cli("report", "--notebook", "biomarker_study", "--output", str(blocker / "reports"))
    assert result.returncode == 2
    assert "is not writable" in result.stderr


RENAMED = {
    "patient_id": "Study ID",
    "subtype": "Histology",
    "biopsy_grade": "Grade (biopsy)",
    "surgical_grade": "Grade (surgery)",
    "ki67": "Ki67 LI %",
    "adc_min_r1": "ADCmin R1",
    "adc_min_r2": "ADCmin R2",
    "adc_mean_r1": "ADCmean R1",
    "adc_mean_r2": "ADCmean R2",
    "cho_cr_r1": "ChoCr R1",
    "cho_cr_r2": "ChoCr R2",
}


def test_renamed_cohort_runs_through_a_config_alone(tmp_path, biomarker_report):
    make_biomarker_demo().rename(columns=RENAMED).to_excel(tmp_path / "our cohort.xlsx", index=False)
    mapping = "\n".join(f"    {design}: {user!r}" for design, user in RENAMED.items())
    (tmp_path / "study.yaml").write_text(
        f"notebook: biomarker_study\nname: our_study\nparameters:\n  cohort_path: our cohort.xlsx\n  columns:\n{mapping}\n"
    )
    result = run_cli("report", "--config", str(tmp_path / "study.yaml"), "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    renamed_html = (tmp_path / "out" / "our_study.html").read_text()
    demo_html = biomarker_report[0].read_text()
    table_5 = re.compile(r"<caption>Table 5\..*?</table>", re.S)
    assert table_5.search(renamed_html).group(0) == table_5.search(demo_html).group(0)


def test_column_mapping_errors_name_the_column(tmp_path):
    make_biomarker_demo().rename(columns={"surgical_grade": "Grade_OP"}).to_csv(tmp_path / "cohort.csv", index=False)
    for mapping, message in (
        ("{surgical_grad: Grade_OP}", "Unknown column name(s) ['surgical_grad']"),
        ("{surgical_grade: Grade_OQ}", "'Grade_OQ' (mapped to 'surgical_grade') not found"),
        ("{}", "Column(s) ['surgical_grade'] not found"),
    ):
        (tmp_path / "study.yaml").write_text(f"notebook: biomarker_study\nparameters:\n  cohort_path: cohort.csv\n  columns: {mapping}\n")
        result = run_cli("report", "--config", str(tmp_path / "study.yaml"), "--output", str(tmp_path / "out"))
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not list(tmp_path.glob("out/*.html"))


def test_tables_download_as_csv_and_figures_save_as_svg_offline(biomarker_report, offline_page):
    page, remote, errors = offline_page
    page.goto(biomarker_report[0].as_uri())
    page.wait_for_selector(".sts-figure-export button", timeout=15000)
    assert page.locator(".sts-figure-export").count() == 6
    assert page.locator(".sts-download a").count() == page.locator("table.sts-table").count()
    with page.expect_download() as download:
        page.locator(".sts-figure-export button", has_text="Save SVG").first.click()
    assert download.value.suggested_filename == "figure.svg"
    assert Path(download.value.path()).read_text().startswith("<svg")
    with page.expect_download() as download:
        page.locator(".sts-download a").first.click()
    assert Path(download.value.path()).read_text().splitlines()[0] == "characteristic,level,n,percent"
    assert remote == [] and errors == []


def test_only_warnings_survive_from_stderr():
    from stsanalysis.report.build import _warnings_only

    stderr = (
        "/site-packages/stsanalysis/stats/logistic.py:258: SeparationWarning: fitted probabilities 0 or 1 (term 'x').\n"
        "  warnings.warn(\n"
        "100%|##########| 3/3 [00:01<00:00,  2.9it/s]\n"
        "Fixed bin Count enabled\n"
    )
    assert _warnings_only(stderr) == "SeparationWarning: fitted probabilities 0 or 1 (term 'x').\n"
