"""Same inputs and seed -> byte-identical tables, from the statistics up to the report's CSVs.

Each builder runs twice and the two ``to_csv()`` strings must be equal character for
character (not approximately): a manuscript's numbers must not change between two runs.
The report carries its build time, so two reports are compared by their CSV downloads.
"""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from stsanalysis import stats
from stsanalysis.data.demo import make_biomarker_demo
from stsanalysis.radiomics.pipeline import make_radiomics_pipeline
from stsanalysis.studies import biomarker as study

SEED = 20240601


def _twice(build) -> tuple[str, str]:
    return build().to_csv(), build().to_csv()


@pytest.fixture(scope="module")
def design_a() -> pd.DataFrame:
    return study.prepare_biomarker_data(make_biomarker_demo())


DESIGN_A_TABLES = {
    "Table 1": lambda d: study.cohort_summary(d),
    "Table 1b": lambda d: study.grade_agreement_display(study.analyse_biomarkers(d)),
    "Table 2": lambda d: study.descriptive_reliability_table(study.analyse_biomarkers(d)),
    "Table 3a": lambda d: study.group_comparison_display(study.analyse_biomarkers(d), "high_grade"),
    "Table 3b": lambda d: study.group_comparison_display(study.analyse_biomarkers(d), "ki67_high"),
    "Table 4": lambda d: study.correlation_display(study.analyse_biomarkers(d)),
    "Table 5": lambda d: study.roc_display(study.analyse_biomarkers(d, se_method="spss"), "high_grade"),
    "Table 6": lambda d: study.roc_display(study.analyse_biomarkers(d, se_method="spss"), "ki67_high"),
}


@pytest.mark.parametrize("table", list(DESIGN_A_TABLES))
def test_design_a_tables_are_byte_identical(table, design_a):
    first, second = _twice(lambda: DESIGN_A_TABLES[table](design_a))
    assert first == second
    assert len(first.splitlines()) >= 3  # a real table, not an empty one


def test_roc_bootstrap_ci_and_band_with_a_seed(design_a):
    result = stats.roc(design_a["high_grade"], design_a["adc_mean"])
    first, second = _twice(lambda: result.bootstrap_ci(n_boot=500, seed=SEED).to_frame())
    assert first == second
    band_first, band_second = _twice(lambda: result.bootstrap_band(n_boot=500, seed=SEED))
    assert band_first == band_second
    # and the seed matters: another seed gives another interval
    assert result.bootstrap_ci(n_boot=500, seed=SEED + 1).to_frame().to_csv() != first


def _logistic_data(seed: int = 7, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 1.2 * x1 - 0.8 * x2)))).astype(int)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2})


def test_decision_curve_bootstrap_with_a_seed():
    data = _logistic_data()
    model = stats.logistic_regression(data, "y", ["x1", "x2"])
    predictions = {"model": model.predict(data), "x1 only": 1 / (1 + np.exp(-data["x1"]))}
    first, second = _twice(lambda: stats.decision_curve(data["y"], predictions, n_boot=200, seed=SEED))
    assert first == second
    assert "ci_low" in first.splitlines()[0]


def test_bootstrap_validation_with_a_seed():
    data = _logistic_data()
    first, second = _twice(
        lambda: stats.bootstrap_validation(lambda d: stats.logistic_regression(d, "y", ["x1", "x2"]), data, "y", n_boot=50, seed=SEED)
    )
    assert first == second


def _feature_table(seed: int = 3, n: int = 80, n_features: int = 25):
    rng = np.random.default_rng(seed)
    ids = [f"P{i:03d}" for i in range(n)]
    y = pd.Series(rng.integers(0, 2, n), index=ids, name="high_grade")
    signal = rng.normal(size=(n, n_features))
    signal[:, :3] += 1.0 * y.to_numpy()[:, None]
    features = pd.DataFrame(signal * 10 + 50, index=ids, columns=[f"feature_{j:02d}" for j in range(n_features)])
    scanner = pd.Series(np.where(np.arange(n) % 2, "S1", "S2"), index=ids, name="scanner")
    return features, y, scanner


def test_radiomics_pipeline_fit_with_a_seed():
    features, y, scanner = _feature_table()

    def fitted_outputs() -> pd.DataFrame:
        pipeline = make_radiomics_pipeline(k=6, batch_labels=scanner, cv=5, random_state=SEED).fit(features, y)
        lasso = pipeline["lasso"]
        return pd.concat(
            [
                pd.Series(pipeline["mrmr"].selected_features_, name="selected"),
                lasso.coef_.rename("coefficient").reset_index(drop=True),
                pd.Series(pipeline.decision_function(features), name="rad_score"),
            ],
            axis=1,
        )

    first, second = _twice(fitted_outputs)
    assert first == second


# --------------------------------------------------------------------------- the report

CSV_LINK = re.compile(r'<a download="([^"]+)" href="data:text/csv;charset=utf-8,([^"]*)"')


@pytest.mark.slow
def test_two_report_builds_give_identical_csv_downloads(tmp_path):
    cohort = tmp_path / "cohort.csv"
    make_biomarker_demo().to_csv(cohort, index=False)
    downloads = []
    for build in ("first", "second"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "stsanalysis",
                "report",
                "--notebook",
                "biomarker_study",
                "-p",
                f"cohort_path={cohort}",
                "-p",
                "n_boot=200",
                "--output",
                str(tmp_path / build),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        html = (tmp_path / build / "biomarker_study.html").read_text()
        downloads.append({name: unquote(payload) for name, payload in CSV_LINK.findall(html)})
    first, second = downloads
    tables = sorted(name.split("_")[1] for name in first if name.startswith("table_"))
    assert tables == ["1", "1b", "2", "2b", "3a", "3b", "4", "5", "6"]
    assert {"software_versions.csv", "input_files.csv", "random_seeds.csv"} <= set(first)  # provenance
    assert first == second
    table_5 = first["table_5_prediction_of_high_grade.csv"]
    assert table_5.splitlines()[0].startswith("parameter,")
