"""The survival report (design B step 10): sections and numbers equal to direct calls."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from stsanalysis import stats
from stsanalysis.data.demo import make_radiomics_clinical
from stsanalysis.report.build import table_of_contents
from stsanalysis.report.formatting import format_number
from stsanalysis.studies import survival as study
from stsanalysis.studies.split import split_sets

pytestmark = pytest.mark.slow

SECTIONS = [
    "Cohort and follow-up",
    "PFS by pathological grade",
    "PFS by the group the clinical model predicts",
    "C-index: model vs AJCC staging",
    "Cox regression",
    "Methods",
    "Provenance",
]


@pytest.fixture(scope="module")
def survival_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("survival")
    clinical = make_radiomics_clinical()
    clinical.to_csv(folder / "clinical.csv", index=False)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stsanalysis",
            "report",
            "--notebook",
            "survival_analysis",
            "-p",
            f"clinical_path={folder / 'clinical.csv'}",
            "--output",
            str(folder / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return (folder / "out" / "survival_analysis.html").read_text(), clinical


def test_sections(survival_report):
    html, _ = survival_report
    assert [entry.text for entry in table_of_contents(html) if entry.level == 2] == SECTIONS
    assert html.count("Plotly.newPlot") == 3  # KM by grade, by predicted group in each set


def test_methods_paragraph_is_written_from_the_run(survival_report):
    html, clinical = survival_report
    events = int(clinical["pfs_event"].sum())
    assert f"Progression-free survival was analysed in {len(clinical)} patients with {events} events" in html
    assert "pointwise 95% confidence intervals on the log scale (R survival::survfit)" in html
    assert "A clinical logistic model (t_stage and margin) was fitted on the training set" in html
    assert re.search(r"Cox proportional-hazards model \(Efron ties; n = 180, \d+ events\)", html)
    assert "Analyses used stsanalysis" in html and "Copy</button>" in html


def test_numbers_equal_direct_calls(survival_report):
    html, clinical = survival_report
    grade = clinical["grade"].map({1: "Grade I", 2: "Grade II", 3: "Grade III"})
    logrank = stats.logrank_test(clinical["pfs_months"], clinical["pfs_event"], grade)
    assert f"log-rank χ² = {logrank.statistic:.2f}, df = 2" in html

    sets = split_sets(clinical, "centre", 1)
    validation = (sets == "validation").to_numpy()
    ajcc = study.ajcc_ordinal(clinical["ajcc_stage"])
    c_ajcc = stats.concordance_index(clinical["pfs_months"][validation], clinical["pfs_event"][validation], ajcc[validation])
    assert re.search(rf"AJCC stage</td><td[^>]*>{format_number(c_ajcc.c, 3)}</td>", html)


def test_unknown_stage_label_is_named():
    import pandas as pd

    from stsanalysis.errors import InputError

    with pytest.raises(InputError, match=r"unknown stage group\(s\) \['IIC'\]"):
        study.ajcc_ordinal(pd.Series(["IA", "IIC"]))
