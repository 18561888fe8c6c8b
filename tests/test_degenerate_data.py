"""Degenerate data gives a conventional answer or a readable error, never a silent one.

1. A constant variable: the test returns R's statistic with p = NaN and warns
   (ConstantVariableWarning); inside a table the warning becomes a footnote and the rest
   of the table is computed.
2. Table 1's "missing" column holds integer counts.
3. ComBat: a one-sample batch needs mean_only=True (checked against sva::ComBat); a
   feature constant within a batch is adjusted for location only there, with a warning.
4. Broken table files are InputErrors naming the file, with the parser's error chained.
"""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis.data.io import read_cohort
from stsanalysis.errors import ConstantVariableWarning, InputError
from stsanalysis.radiomics.harmonization import ComBat, ComBatWarning
from stsanalysis.radiomics.pipeline import make_radiomics_pipeline
from stsanalysis.report.formatting import to_html_table
from stsanalysis.stats.tables import (
    correlation_table,
    describe_parameters,
    group_comparison_table,
    reliability_table,
    roc_table,
    table_one,
)
from stsanalysis.stats.univariate import compare_groups, mann_whitney, t_test

COHORT = pd.read_csv(REFERENCE_DIR / "stats_tables_cohort.csv")  # 32 patients, 22 high grade
WITH_CONSTANT = COHORT.assign(constant=2.5, constant_r2=2.5, y=(COHORT["high_grade"] == "high").astype(int))

# --------------------------------------------------------------------------- 1. constant variables


def test_mann_whitney_of_identical_values_gives_w_z_0_and_nan_p():
    # R: wilcox.test(rep(2, 5), rep(2, 7))  -> W = 17.5, p-value = NaN (warning: ties)
    with pytest.warns(ConstantVariableWarning, match=r"all 12 values are identical \(2\) in 'x' and 'y'; returning U = 17.5"):
        result = mann_whitney([2.0] * 5, [2.0] * 7)
    assert result.u == 17.5  # R's W = n_x n_y / 2
    assert result.z == 0.0  # SPSS prints Z = 0
    assert np.isnan(result.p) and np.isnan(result.p_exact) and np.isnan(result.p_continuity)
    assert np.isnan(result.effect_size_r)
    assert (result.rank_sum_x, result.rank_sum_y) == (32.5, 45.5)  # mid-rank 6.5 each


def test_t_test_of_constant_groups_gives_nan_where_r_stops():
    # R: t.test(c(1, 1), c(2, 2))  -> Error: data are essentially constant
    with pytest.warns(ConstantVariableWarning, match=r"'cho_cr' and 'y' are both constant \('cho_cr' all 1, 'y' all 2\)"):
        result = t_test(pd.Series([1.0, 1.0], name="cho_cr"), [2.0, 2.0])
    assert np.isnan(result.t) and np.isnan(result.p) and np.isnan(result.ci_low) and np.isnan(result.df)
    assert result.mean_difference == -1.0
    with pytest.warns(ConstantVariableWarning):
        assert t_test([1.0, 1.0], [1.0, 1.0, 1.0], equal_var=True).df == 3.0  # Student's df is defined


def test_compare_groups_of_a_constant_variable_warns_naming_it():
    values = pd.Series([2.0] * 12, name="adc_min")
    with pytest.warns(ConstantVariableWarning, match=r"'adc_min' is constant: all 12 values are identical \(2\)") as caught:
        result = compare_groups(values, ["low"] * 5 + ["high"] * 7)
    assert len(caught) == 1  # once for the variable, not again for the groups
    assert caught[0].message.variable == "adc_min"
    assert (result.test, result.statistic_name, result.statistic) == ("Mann-Whitney U", "Z", 0.0)
    assert np.isnan(result.p)
    assert result.detail.u == 17.5  # U of the first level (high, n = 7) vs low (n = 5): 7 * 5 / 2
    assert "constant variable" in result.reason


def test_table_one_gives_a_dash_and_a_footnote_for_a_constant_variable():
    # filterwarnings=error: a ConstantVariableWarning escaping table_one would fail here
    table = table_one(WITH_CONSTANT, "high_grade", ["age", "constant", "sex"])
    plain = table_one(COHORT, "high_grade", ["age", "sex"])
    headers = table.loc[table["level"] == ""].set_index("variable")
    assert np.isnan(headers.loc["constant", "p"]) and headers.loc["constant", "test"] == "Mann-Whitney U"
    assert headers.loc["constant", "overall"] == "2.50 (2.50, 2.50)"
    # the rest of the table is computed as without the constant variable
    assert headers.loc["age", "p"] == plain.set_index("variable").loc["age", "p"]
    assert table.attrs["notes"] == ["p not computed for 'constant': all 32 values are identical (2.5)."]
    html = to_html_table(table, download=False)
    assert (
        '<tfoot><tr><td colspan="9">p not computed for &#x27;constant&#x27;: all 32 values are identical (2.5).</td></tr></tfoot>' in html
    )
    row = next(line for line in html.splitlines() if line.startswith("<tr><td>constant</td>"))
    assert '<td class="num">—</td><td class="num">0</td></tr>' in row  # p, missing


def test_table_one_gives_a_footnote_for_a_one_category_variable():
    table = table_one(COHORT.assign(centre="Mannheim"), "high_grade", ["centre"])
    assert np.isnan(table.loc[0, "p"])
    assert table.attrs["notes"] == ["p not computed for 'centre': all 32 values are 'Mannheim'."]


def test_group_comparison_table_reports_z_0_and_a_footnote():
    table = group_comparison_table(WITH_CONSTANT, ["adc_mean", "constant"], "high_grade").set_index("parameter")
    alone = group_comparison_table(COHORT, ["adc_mean"], "high_grade").set_index("parameter")
    assert (table.loc["constant", "statistic_name"], table.loc["constant", "statistic"]) == ("Z", 0.0)
    assert np.isnan(table.loc["constant", "p"])
    assert table.loc["adc_mean", "p"] == alone.loc["adc_mean", "p"]
    assert table.attrs["notes"] == ["p not computed for 'constant': all 32 values are identical (2.5)."]


def test_other_tables_give_nan_and_a_footnote_for_a_constant_parameter():
    described = describe_parameters(WITH_CONSTANT, ["adc_mean", "constant"]).set_index("parameter")
    assert np.isnan(described.loc["constant", "shapiro_p"]) and described.loc["constant", "summary_kind"] == "median_iqr"
    assert described.attrs["notes"] == ["Shapiro-Wilk p not computed for 'constant': all 32 values are identical (2.5)."]

    # R: psych::ICC of two identical constant readings gives NaN
    reliability = reliability_table(WITH_CONSTANT, {"adc": ("adc_r1", "adc_r2"), "constant": ("constant", "constant_r2")})
    assert reliability["icc"].notna().tolist() == [True, False] and reliability["n"].tolist() == [32, 32]
    assert reliability.attrs["notes"] == ["ICC not computed for 'constant': all 64 ratings are identical (2.5)."]

    # R: cor.test(rep(2.5, 32), ki67, method = "spearman") -> NA (the standard deviation is zero)
    correlations = correlation_table(WITH_CONSTANT, ["adc_mean", "constant"], ["ki67"]).set_index("parameter")
    assert np.isnan(correlations.loc["constant", "rho"]) and np.isnan(correlations.loc["constant", "p"])
    assert correlations.loc["constant", "n"] == 32 and correlations.loc["adc_mean", "p"] < 0.05
    assert correlations.attrs["notes"] == [
        "rho and p not computed for 'constant' with 'ki67': 'constant' is constant, all 32 values are identical (2.5)."
    ]

    rocs = roc_table(WITH_CONSTANT, "y", ["adc_mean", "constant"]).set_index("parameter")
    assert rocs.loc["constant", "auc"] == 0.5 and np.isnan(rocs.loc["constant", "p"])
    assert rocs.attrs["notes"] == ["p not computed for 'constant': all 32 values are identical (2.5), so the AUC is 0.5 by construction."]


# --------------------------------------------------------------------------- 2. integer counts


def test_table_one_missing_counts_are_integers():
    table = table_one(COHORT, "high_grade", ["age", "sex"])
    assert str(table["missing"].dtype) == "Int64"
    assert table["missing"].tolist()[:2] == [1, 0] and table["missing"].iloc[2:].isna().all()
    html = to_html_table(table, download=False)
    missing_cells = [re.findall(r"<td[^>]*>([^<]*)</td>", line)[-1] for line in html.splitlines() if line.startswith("<tr><td>")]
    assert missing_cells == ["1", "0", "—", "—"]


# --------------------------------------------------------------------------- 3. ComBat

COMBAT = load_reference("combat")
COMBAT_DATA = pd.read_csv(REFERENCE_DIR / "combat_data.csv").set_index("sample")
FEATURES = COMBAT_DATA.filter(like="feature_")


def test_combat_refuses_a_one_sample_batch_unless_mean_only():
    case = COMBAT["single_sample_batch_C_mean_only"]
    features, batch = FEATURES.loc[case["samples"]], COMBAT_DATA.batch[case["samples"]]
    with pytest.raises(InputError, match=r"batch\(es\) 'C' \(n = 1: sample 'S46'\)\. Use ComBat\(mean_only=True\)"):
        ComBat().fit(features, batch)
    # R: sva::ComBat(dat[, single], batch[single], mean.only = TRUE)  -> tests/reference/combat.R
    adjusted = ComBat(mean_only=True).fit_transform(features, batch)
    np.testing.assert_allclose(adjusted.to_numpy(), np.array(case["adjusted"]), rtol=1e-6, atol=1e-9)


def test_combat_adjusts_a_feature_constant_within_a_batch_for_location_only():
    features = FEATURES.copy()
    in_a = COMBAT_DATA.batch == "A"
    features.loc[in_a, "feature_01"] = 7.0
    with pytest.warns(ComBatWarning, match=r"'feature_01' in batch\(es\) 'A' \(n = 25\)\. They are adjusted for location only"):
        combat = ComBat().fit(features, COMBAT_DATA.batch)
    adjusted = combat.transform(features, COMBAT_DATA.batch)
    # R: sva::ComBat(constant_a, batch) -> the other 19 features, harmonised as without feature_01
    expected = np.array(COMBAT["constant_feature_01_in_A"])
    np.testing.assert_allclose(adjusted.drop(columns="feature_01").to_numpy(), expected[:, 1:], rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(expected[:, 0], features["feature_01"])  # sva leaves feature_01 as it was
    # here: in A only the location moves (delta* = 1), in B and C the full adjustment
    assert combat.location_only_ == [("feature_01", "A")]
    assert combat.delta_star_.loc["A", "feature_01"] == 1.0 and combat.delta_star_.loc["B", "feature_01"] != 1.0
    shift = combat.gamma_star_.loc["A", "feature_01"] * np.sqrt(combat.var_pooled_["feature_01"])
    assert adjusted.loc[in_a, "feature_01"].to_numpy() == pytest.approx(7.0 - shift)


def test_the_radiomics_pipeline_survives_degenerate_batches():
    rng = np.random.default_rng(3)
    ids = [f"P{i:03d}" for i in range(60)]
    scanner = pd.Series(["S1"] * 30 + ["S2"] * 30, index=ids)
    y = pd.Series(rng.integers(0, 2, 60), index=ids)
    features = pd.DataFrame(rng.normal(size=(60, 8)), index=ids, columns=[f"f{j}" for j in range(8)])
    features.loc[scanner == "S1", "f7"] = 0.0  # e.g. a texture feature that one scanner never varies
    pipeline = make_radiomics_pipeline(k=3, batch_labels=scanner, cv=3, lambda_rule="min")
    with pytest.warns(ComBatWarning, match="'f7' in batch"):
        pipeline.fit(features, y)
    assert np.isfinite(pipeline.predict_proba(features)).all()
    lonely = pd.concat([scanner, pd.Series(["S3"], index=["P999"])])
    with_lonely = pd.concat([features, features.iloc[[0]].set_axis(["P999"])]).assign(f7=rng.normal(size=61))
    pipeline = make_radiomics_pipeline(k=3, batch_labels=lonely, cv=3, lambda_rule="min")
    with pytest.raises(InputError, match="'S3' \\(n = 1: sample 'P999'\\)"):
        pipeline.fit(with_lonely, pd.concat([y, pd.Series([1], index=["P999"])]))
    pipeline.set_params(combat__mean_only=True).fit(with_lonely, pd.concat([y, pd.Series([1], index=["P999"])]))


# --------------------------------------------------------------------------- 4. broken files


def _write_bytes(name: str, content: bytes):
    def write(folder):
        path = folder / name
        path.write_bytes(content)
        return path

    return write


def _truncated(name: str, writer):
    def write(folder):
        whole = folder / f"whole_{name}"
        writer(whole)
        path = folder / name
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        return path

    return write


def _zip_without_workbook(folder):
    path = folder / "cohort.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return path


def _folder(folder):
    path = folder / "cohort.csv"
    path.mkdir()
    (path / "clinical.csv").write_text("patient_id\nA\n")
    return path


COHORT_FRAME = pd.DataFrame({"patient_id": ["A01", "A02"], "age": [61, 47]})
RANDOM_BYTES = np.random.default_rng(0).bytes(2000)

BROKEN_FILES = {
    # name: (write the file into a folder, phrase of the message, chained exception type or None)
    "random bytes .xlsx": (
        _write_bytes("cohort.xlsx", RANDOM_BYTES),
        "is not a readable Excel workbook (.xlsx): it is not a zip archive",
        None,
    ),
    "truncated .xlsx": (
        _truncated("cohort.xlsx", lambda path: COHORT_FRAME.to_excel(path, index=False)),
        "is not a readable Excel workbook (.xlsx): the zip archive inside is damaged or truncated",
        zipfile.BadZipFile,
    ),
    "zip without a workbook": (_zip_without_workbook, "is not a readable Excel workbook (.xlsx): There is no item named", KeyError),
    "old .xls renamed": (
        _write_bytes("cohort.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
        "it is an Excel 97-2003 workbook (.xls) or a password-protected workbook",
        None,
    ),
    "random bytes .sav": (_write_bytes("cohort.sav", RANDOM_BYTES), "is not a readable SPSS data file (.sav)", Exception),
    "truncated .sav": (
        _truncated("cohort.sav", lambda path: __import__("pyreadstat").write_sav(COHORT_FRAME, str(path))),
        "is not a readable SPSS data file (.sav)",
        Exception,
    ),
    "empty .csv": (_write_bytes("cohort.csv", b""), "is empty; expected a table with a header row of column names", None),
    "blank lines .csv": (_write_bytes("cohort.csv", b"\n\n\n"), "is empty; expected a table with a header row", pd.errors.EmptyDataError),
    "header only .csv": (_write_bytes("cohort.csv", b"patient_id,age\n"), "has no patients: 2 column(s) but no rows", None),
    "undecodable .csv": (
        _write_bytes("cohort.csv", b"patient_id,name\nA01,\x81\x8d\n"),
        "it is neither UTF-8 nor Windows-1252 (cp1252) text (byte 0x81 on line 2); pass encoding=",
        UnicodeDecodeError,
    ),
    "binary .csv": (_write_bytes("cohort.csv", b"patient_id\x00\x00\x01"), "it holds NUL bytes: a binary file, not text", None),
    "workbook named .csv": (
        lambda folder: COHORT_FRAME.to_excel(folder / "cohort.csv", index=False, engine="openpyxl") or folder / "cohort.csv",
        "it is a zip archive, probably an Excel workbook (.xlsx) renamed",
        None,
    ),
    "folder": (_folder, "is a folder, not a file; give the path of the table file inside it (it holds clinical.csv)", None),
}


@pytest.mark.parametrize("case", list(BROKEN_FILES))
def test_a_broken_file_is_an_input_error_naming_it(case, tmp_path):
    write, phrase, cause = BROKEN_FILES[case]
    path = write(tmp_path)
    with pytest.raises(InputError) as error:
        read_cohort(path)
    message = str(error.value)
    assert message.startswith(f"Cohort file '{path}' ")
    assert phrase in message
    if cause is None:
        assert error.value.__cause__ is None or isinstance(error.value.__cause__, Exception)
    else:
        assert isinstance(error.value.__cause__, cause), type(error.value.__cause__)


def test_text_that_is_not_utf8_is_read_as_windows_1252(tmp_path):
    # Excel's "CSV (comma delimited)" on a German Windows: cp1252, "ü" = 0xfc, "€" = 0x80
    path = tmp_path / "cohort.csv"
    path.write_bytes("patient_id,surname,note\nA01,Müller,€ 12\n".encode("cp1252"))
    assert read_cohort(path)[["surname", "note"]].iloc[0].tolist() == ["Müller", "€ 12"]
    # UTF-8 with Excel's byte-order mark ("CSV UTF-8"): the BOM is not part of the first column name
    path.write_bytes("patient_id,surname\nA01,Müller\n".encode("utf-8-sig"))
    assert read_cohort(path).columns.tolist() == ["patient_id", "surname"]
    # an explicit encoding is used as given
    path.write_bytes("patient_id,surname\nA01,Müller\n".encode("latin-1"))
    assert read_cohort(path, encoding="latin-1").loc[0, "surname"] == "Müller"
