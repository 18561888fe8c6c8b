"""Catalogue of broken inputs: each gives a clear error naming the column, patient or file.

Function-level rows call the public functions on a broken copy of the demo cohorts (fast);
a few CLI rows run ``python -m stsanalysis report`` on a broken copy and also check the
exit code and that no report was written (marked slow). The safety tests check that data
never becomes executable script in a report and that YAML is only read with safe_load.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from stsanalysis import InputError, stats
from stsanalysis.data.demo import make_biomarker_demo, make_radiomics_clinical
from stsanalysis.data.io import read_cohort
from stsanalysis.radiomics import extract_features
from stsanalysis.report.config import load_config
from stsanalysis.studies import biomarker as study

PACKAGE = Path(__file__).resolve().parents[1] / "stsanalysis"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_biomarker_demo()


def _write(frame: pd.DataFrame, folder: Path, name: str = "cohort.csv") -> Path:
    path = folder / name
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- cohort tables
# Each row: a change to the design-A cohort and the phrase the error must contain. The
# table goes through the notebook's own path: CSV file -> read_cohort -> prepare -> tables.


def _with_value(column, row, value):
    def change(c):
        c = c.copy()
        c[column] = c[column].astype(object)
        c.loc[row, column] = value
        return c

    return change


def _design_a_tables(path: Path, columns: dict | None = None) -> None:
    data = study.prepare_biomarker_data(read_cohort(path, columns=columns or {}, design_columns=study.COLUMNS))
    analysis = study.analyse_biomarkers(data)
    study.descriptive_reliability_table(analysis)
    for contrast in analysis.contrasts:
        study.group_comparison_display(analysis, contrast)
        study.roc_display(analysis, contrast)
    study.correlation_display(analysis)


COHORT_CASES = {
    "missing column": (lambda c: c.drop(columns="ki67"), "Column(s) ['ki67'] not found in the design-A cohort"),
    "misspelled column": (
        lambda c: c.rename(columns={"adc_min_r1": "adc_min_r01"}),
        "Column(s) ['adc_min_r1'] not found in the design-A cohort",
    ),
    "non-numeric value": (
        _with_value("adc_min_r1", 3, "0,81"),
        "'adc_min_r1' must be numeric; 1 value(s) are not numbers (3: '0,81')",
    ),
    "roman numeral grade": (
        _with_value("surgical_grade", 2, "II"),
        "'surgical_grade' must be numeric; 1 value(s) are not numbers (2: 'II')",
    ),
    "grade out of range": (
        _with_value("surgical_grade", 2, 4),
        "'surgical_grade' must be an FNCLCC grade 1, 2 or 3; got [1.0, 2.0, 3.0, 4.0]",
    ),
    "NaN value": (_with_value("adc_mean_r2", 5, np.nan), "'adc_mean_r2' has 1 missing value(s) (NaN or empty) at [5]"),
    "empty string": (_with_value("cho_cr_r1", 7, ""), "'cho_cr_r1' has 1 missing value(s) (NaN or empty) at [7]"),
    "blank string": (
        _with_value("cho_cr_r1", 7, " "),
        "'cho_cr_r1' must be numeric; 1 value(s) are not numbers (7: ' ')",
    ),
    "duplicate patient id": (_with_value("patient_id", 4, "A03"), "duplicate patient_id value(s) ['A03']"),
    "missing patient id": (_with_value("patient_id", 4, ""), "1 row(s) have no 'patient_id'"),
    "outcome with one class": (
        lambda c: c.assign(surgical_grade=3),
        "The grouping column 'high_grade' must have exactly 2 levels; got 1 ([1])",
    ),
    # an all-tied predictor is no longer refused: its ICC, p and rho are "—" with a table
    # footnote (tests/test_degenerate_data.py)
    "n < 10": (lambda c: c.head(5), "The design-A cohort has 5 patients; the analysis needs at least 10."),
}


@pytest.mark.parametrize("case", list(COHORT_CASES))
def test_broken_cohort_is_refused_naming_the_problem(case, cohort, tmp_path):
    change, phrase = COHORT_CASES[case]
    path = _write(change(cohort), tmp_path)
    with pytest.raises(InputError) as error:
        _design_a_tables(path)
    assert phrase in str(error.value)


@pytest.mark.parametrize(
    ("columns", "phrase"),
    [
        ({"surgical_grade": "Grade_OP"}, "Column(s) 'Grade_OP' (mapped to 'surgical_grade') not found in cohort file"),
        ({"surgical_grad": "surgical_grade"}, "Unknown column name(s) ['surgical_grad'] in the column mapping"),
    ],
    ids=["mapped column missing", "misspelled design name"],
)
def test_bad_column_mapping_names_both_names(columns, phrase, cohort, tmp_path):
    with pytest.raises(InputError) as error:
        _design_a_tables(_write(cohort, tmp_path), columns)
    assert phrase in str(error.value)


def test_missing_and_unreadable_cohort_files_are_named(tmp_path):
    with pytest.raises(InputError, match=r"Cohort file '.*nowhere\.csv' does not exist"):
        read_cohort(tmp_path / "nowhere.csv")
    with pytest.raises(InputError, match=r"unsupported extension '\.txt'"):
        read_cohort(_write(pd.DataFrame({"patient_id": ["A"]}), tmp_path, "cohort.txt"))


# --------------------------------------------------------------------------- statistics


def test_perfect_separation_warns_naming_the_predictor(cohort):
    data = study.prepare_biomarker_data(cohort)
    separated = data.assign(adc_mean=data["high_grade"] * 2.0 + np.arange(len(data)) * 1e-3)
    with pytest.warns(stats.PerfectSeparationWarning, match="'adc_mean' separates cases and controls perfectly"):
        result = stats.roc(separated["high_grade"], separated["adc_mean"])
    assert result.auc == 1.0
    with pytest.warns(stats.SeparationWarning, match="Separation or quasi-separation"):
        stats.logistic_regression(separated, "high_grade", ["adc_mean"])


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        (
            lambda: stats.roc(pd.Series(np.ones(20), name="high_grade"), np.arange(20.0)),
            "The 'high_grade' column must have exactly two values; got 1 (all 1)",
        ),
        (
            lambda: stats.spearman(pd.Series(np.full(12, 2.0), name="adc_min"), np.arange(12.0)),
            "'adc_min' is constant (2 in all 12 rows)",
        ),
        (
            lambda: stats.logistic_regression(pd.DataFrame({"y": [0, 1] * 10, "x": 1.0}), "y", ["x"]),
            "The predictor 'x' is constant (1 in all 20 rows)",
        ),
        (
            lambda: stats.icc(np.array([[1.0, 2.0], [2.0, 3.0]])),
            "'ratings' needs at least 3 targets with complete ratings; got 2",
        ),
        (
            lambda: stats.shapiro(pd.Series([1.0, 2.0], name="ki67")),
            "'ki67' needs at least 3 non-missing value(s); got 2",
        ),
    ],
    ids=["one class", "tied predictor (correlation)", "tied predictor (logistic)", "n < 3 (ICC)", "n < 3 (Shapiro)"],
)
def test_degenerate_statistics_inputs(call, phrase):
    with pytest.raises(InputError) as error:
        call()
    assert phrase in str(error.value)


@pytest.mark.parametrize("case", ["identical", "shifted"])
def test_readers_agreeing_exactly_give_the_limits_without_numpy_warnings(case, reference):
    # A shift-only or identical second reading makes the residual mean square exactly 0:
    # F = inf and v = inf / inf once leaked RuntimeWarnings and NaN bounds.
    expected = reference("icc_perfect_agreement")[case]
    x = np.array(reference("icc_perfect_agreement")["x"])
    second = x + (0.5 if case == "shifted" else 0.0)
    table = stats.icc(np.column_stack([x, second]))  # filterwarnings=error: no warning may leak
    # psych::ICC(cbind(x, x [+ 0.5]), lmer = FALSE)$results: ICC, lower bound, upper bound
    assert table.index.tolist() == expected["form"]
    for column in ("icc", "ci_low", "ci_high"):
        assert table[column].to_numpy() == pytest.approx(expected[column], rel=1e-9)
    vectorised = stats.icc_features(pd.DataFrame({"f": x}), pd.DataFrame({"f": second}), "ICC2", with_ci=True)
    assert vectorised.loc["f", ["icc", "ci_low", "ci_high"]].tolist() == pytest.approx(
        [expected[column][1] for column in ("icc", "ci_low", "ci_high")], rel=1e-9
    )


def _negative_time():
    clinical = make_radiomics_clinical()
    clinical.loc[3, "pfs_months"] = -2.5
    return clinical


@pytest.mark.parametrize(
    "call",
    [
        lambda c: stats.kaplan_meier(c["pfs_months"], c["pfs_event"], c["grade"]),
        lambda c: stats.logrank_test(c["pfs_months"], c["pfs_event"], c["grade"]),
        lambda c: stats.cox_regression(c, "pfs_months", "pfs_event", ["size_cm"]),
        lambda c: stats.concordance_index(c["pfs_months"], c["pfs_event"], c["size_cm"]),
    ],
    ids=["kaplan_meier", "logrank_test", "cox_regression", "concordance_index"],
)
def test_negative_survival_time_is_refused(call):
    with pytest.raises(InputError) as error:
        call(_negative_time())
    assert "'pfs_months' must be non-negative survival times; 1 value(s) are negative (e.g. [-2.5])" in str(error.value)


# --------------------------------------------------------------------------- images

SMALL_PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {"firstorder": ["Mean"]},
    "setting": {"binCount": 16, "label": 1},
}


def _volume(seed: int) -> tuple[sitk.Image, sitk.Image]:
    rng = np.random.default_rng(seed)
    image = sitk.GetImageFromArray((100 + 20 * rng.standard_normal((8, 20, 20))).astype(np.int16))
    mask_array = np.zeros((8, 20, 20), dtype=np.uint8)
    mask_array[1:7, 6:14, 6:14] = 1
    return image, sitk.GetImageFromArray(mask_array)


def _empty_mask(image, mask):
    return image, mask * 0


def _shifted_mask(image, mask):
    mask.SetOrigin((0.0, 0.0, 5.0))
    return image, mask


def _resized_mask(image, mask):
    return image, sitk.ConstantPad(mask, (0, 0, 0), (0, 0, 1))


IMAGE_CASES = {
    # problem: (how to break P01, which file is blamed, the phrase of the reason)
    "mask origin differs": (_shifted_mask, "mask", "mask origin (0, 0, 5) differs from the image origin (0, 0, 0)"),
    "mask size differs": (_resized_mask, "mask", "mask size (20, 20, 9) differs from the image size (20, 20, 8)"),
    "empty mask": (_empty_mask, "mask", "No labels found in this mask"),
    "truncated NIfTI (gzip)": (
        "truncated",
        "image",
        "the file is corrupt or truncated (Compressed file ended before the end-of-stream marker was reached)",
    ),
    "truncated NIfTI": (
        "truncated .nii",
        "image",
        "the file is truncated: 3376 bytes where its NIfTI header announces 6752",
    ),
    "not an image": ("garbage", "image", "SimpleITK cannot read it"),
    "missing image file": ("missing", "image", "file not found"),
}


def _truncate(path: Path) -> None:
    """Keep the first half of the file: what an interrupted copy leaves behind."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


FILE_BREAKERS = {
    "truncated": _truncate,
    "truncated .nii": _truncate,
    "garbage": lambda path: path.write_bytes(b"not an image at all"),
    "missing": os.remove,
}


@pytest.fixture
def two_cases(tmp_path):
    """Cases P00 (intact) and P01, broken by ``problem``: a mask change or a file breaker."""

    def write(problem) -> pd.DataFrame:
        suffix = ".nii" if problem == "truncated .nii" else ".nii.gz"
        rows = []
        for index in range(2):
            image, mask = _volume(index)
            if index == 1 and callable(problem):
                image, mask = problem(image, mask)
            paths = {kind: tmp_path / f"P0{index}_{kind}{suffix}" for kind in ("image", "mask")}
            sitk.WriteImage(image, str(paths["image"]))
            sitk.WriteImage(mask, str(paths["mask"]))
            rows.append({"patient_id": f"P0{index}", "image": str(paths["image"]), "mask": str(paths["mask"])})
        if problem in FILE_BREAKERS:
            FILE_BREAKERS[problem](Path(rows[1]["image"]))
        return pd.DataFrame(rows)

    return write


@pytest.mark.parametrize("problem", list(IMAGE_CASES))
def test_bad_image_case_fails_alone_naming_patient_and_file(problem, two_cases):
    breaker, blamed, phrase = IMAGE_CASES[problem]
    cases = two_cases(breaker)
    features = extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)
    assert features.index.tolist() == ["P00"]  # the batch went on
    errors = features.attrs["errors"]
    assert errors["patient_id"].tolist() == ["P01"]
    assert errors["file"].tolist() == [cases.loc[1, blamed]]
    assert errors["error"][0].startswith(f"Patient P01, file {cases.loc[1, blamed]}: ")
    assert phrase in errors["error"][0]


def test_every_image_case_failing_raises(two_cases):
    cases = two_cases(None)
    for path in cases["mask"]:
        sitk.WriteImage(sitk.ReadImage(path) * 0, path)
    with pytest.raises(
        InputError,
        match=r"Feature extraction failed for all 2 case\(s\):\nPatient P00, file .*P00_mask\.nii\.gz: No labels found",
    ):
        extract_features(cases, SMALL_PARAMS, n_jobs=1, progress=False)


# --------------------------------------------------------------------------- study configs


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("notebook: biomarker_study\nouptut: reports\n", "unknown key(s) ['ouptut']; allowed keys are"),
        ("notebook: biomarker_study\ntitle: 42\n", "'title' must be of type str; got int (42)"),
        (
            "notebook: biomarker_study\nparameters: {n_boot: many}\n",
            "parameter 'n_boot' must be of type int; got str ('many')",
        ),
        ("notebook: biomarker_study\nparameters: {seeds: 1}\n", "unknown parameter(s) ['seeds']"),
        ("notebook: biomarker_study\nparameters: [1, 2]\n", "'parameters' must be of type dict; got list"),
        ("notebook: biomarker_study\nname: [unclosed\n", "is not valid YAML"),
    ],
    ids=[
        "unknown key",
        "wrong type",
        "parameter of wrong type",
        "unknown parameter",
        "parameters not a mapping",
        "invalid YAML",
    ],
)
def test_bad_config_names_the_key(text, phrase, tmp_path):
    config = tmp_path / "study.yaml"
    config.write_text(text)
    with pytest.raises(InputError) as error:
        load_config(config)
    assert phrase in str(error.value)


# --------------------------------------------------------------------------- CLI


def run_report(config: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stsanalysis", "report", "--config", str(config), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _config(folder: Path, cohort_path: Path, output: Path, **extra: str) -> Path:
    lines = [
        "notebook: biomarker_study",
        f"output: {output}",
        "parameters:",
        f"  cohort_path: {cohort_path}",
        "  n_boot: 50",
    ]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    config = folder / "study.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


CLI_CASES = {
    # case: (change to the cohort, extra top-level config keys, exit code, phrase in stderr)
    "misspelled column": (
        lambda c: c.rename(columns={"ki67": "ki_67"}),
        {},
        2,
        "Column(s) ['ki67'] not found in the design-A cohort",
    ),
    "duplicate patient id": (_with_value("patient_id", 4, "A03"), {}, 2, "duplicate patient_id value(s) ['A03']"),
    "unknown config key": (lambda c: c, {"outptu": "x"}, 2, "unknown key(s) ['outptu']"),
    "config key of wrong type": (lambda c: c, {"name": "[a, b]"}, 2, "'name' must be of type str; got list"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_refuses_broken_input_and_writes_no_report(case, cohort, tmp_path):
    change, extra, exit_code, phrase = CLI_CASES[case]
    output = tmp_path / "reports"
    config = _config(tmp_path, _write(change(cohort), tmp_path), output, **extra)
    result = run_report(config)
    assert result.returncode == exit_code, result.stderr
    assert phrase in result.stderr
    assert not list(tmp_path.rglob("*.html"))


@pytest.mark.slow
def test_cli_unwritable_output_folder_is_refused_before_running(cohort, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    config = _config(tmp_path, _write(cohort, tmp_path), blocker / "reports")
    result = run_report(config)
    assert result.returncode == 2
    assert f"Output folder '{blocker / 'reports'}' is not writable" in result.stderr
    assert "choose another with --output" in result.stderr
    assert not list(tmp_path.rglob("*.html"))


# --------------------------------------------------------------------------- safety

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.slow
def test_script_in_the_data_is_escaped_in_the_report(cohort, tmp_path):
    hostile = cohort.copy()
    hostile.loc[0, "patient_id"] = SCRIPT
    hostile["subtype"] = hostile["subtype"].replace(hostile.loc[0, "subtype"], SCRIPT)
    result = run_report(_config(tmp_path, _write(hostile, tmp_path), tmp_path / "reports"))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "reports" / "biomarker_study.html").read_text()
    assert SCRIPT not in html
    # every occurrence is escaped: as HTML text (Table 1) or inside JSON (figure hover text)
    prefixes = [html[: match.start()] for match in re.finditer(r"alert\(1\)", html)]
    assert len(prefixes) >= 2 and all(p.endswith(("&lt;script&gt;", r"\u003cscript\u003e")) for p in prefixes)
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in html  # subtype row of Table 1
    assert r'"hovertext":["\u003cscript\u003ealert(1)\u003c\u002fscript\u003e"' in html  # patient id in the box plots


def test_yaml_is_only_read_with_safe_load():
    unsafe = re.compile(r"yaml\.load\(|yaml\.unsafe_load|yaml\.full_load|Loader=yaml\.(Unsafe|Full)?Loader\b")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if unsafe.search(line)
    ]
    assert offenders == []
    assert "yaml.safe_load(" in (PACKAGE / "report" / "config.py").read_text()
