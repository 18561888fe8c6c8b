"""Table builders against R (tests/reference/stats_tables.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError
from stsanalysis.stats.reliability import DroppedTargetsWarning
from stsanalysis.stats.tables import (
    agreement_table,
    correlation_table,
    describe_parameters,
    group_comparison_table,
    reliability_table,
    table_one,
)

REFERENCE = load_reference("stats_tables")
COHORT = pd.read_csv(REFERENCE_DIR / "stats_tables_cohort.csv")


def test_table_one_picks_tests_and_matches_r():
    # R: shapiro.test per group, then t.test(x, y) or the SPSS Mann-Whitney p; chisq.test
    # (correct = FALSE) or fisher.test by the expected-count rule  -> stats_tables.R
    table = table_one(COHORT, "high_grade", ["age", "ki67", "adc_mean", "sex", "deep", "subtype"])
    assert list(table.columns) == ["variable", "level", "summary", "overall", "high", "low", "test", "p", "missing"]
    headers = table.loc[table["level"] == ""].set_index("variable")
    for variable in ["age", "ki67", "adc_mean", "sex", "deep", "subtype"]:
        expected = REFERENCE["table_one"][variable]
        assert headers.loc[variable, "test"] == expected["test"], variable
        assert headers.loc[variable, "p"] == pytest.approx(expected["p"], rel=1e-9), variable
    assert headers.loc["age", "missing"] == 1
    assert headers.loc["age", "summary"] == "mean ± SD"
    assert headers.loc["ki67", "summary"] == "median (P25, P75)"
    # continuous cells as formatted text: R mean(), sd() of the high-grade adc_mean
    high = COHORT.loc[COHORT.high_grade == "high", "adc_mean"]
    assert headers.loc["adc_mean", "high"] == f"{high.mean():.2f} ± {high.std():.2f}"


def test_table_one_categorical_rows_give_counts_and_column_percentages():
    table = table_one(COHORT, "high_grade", ["subtype"])
    levels = table.loc[table["level"] != ""].set_index("level")
    assert sorted(levels.index) == sorted(COHORT["subtype"].unique())
    for subtype, row in levels.iterrows():
        in_low = int(((COHORT.subtype == subtype) & (COHORT.high_grade == "low")).sum())
        in_all = int((COHORT.subtype == subtype).sum())
        assert row["low"] == f"{in_low} ({100 * in_low / 10:.1f}%)"
        assert row["overall"] == f"{in_all} ({100 * in_all / 32:.1f}%)"
        assert np.isnan(row["p"])


def test_table_one_treats_listed_numeric_columns_as_categorical():
    table = table_one(COHORT, "high_grade", ["surgical_grade"], categorical=["surgical_grade"])
    assert table["level"].tolist() == ["", "1", "2", "3"]
    assert table.loc[0, "test"] == "Fisher's exact test"


def test_table_one_reports_an_untestable_variable_instead_of_failing():
    data = COHORT.assign(constant=1.0)
    table = table_one(data, "high_grade", ["constant"])  # no warning: it becomes the footnote
    assert table.loc[0, "test"] == "Mann-Whitney U"
    assert np.isnan(table.loc[0, "p"])
    assert table.attrs["notes"] == ["p not computed for 'constant': all 32 values are identical (1)."]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"group": "subtype", "variables": ["age"]}, r"'subtype' must have exactly 2 levels; got 4"),
        ({"group": "high_grade", "variables": ["agee"]}, r"Column\(s\) \['agee'\] not found"),
        ({"group": "high_grade", "variables": ["age"], "categorical": ["sex"]}, "not in 'variables'"),
    ],
)
def test_table_one_refuses_bad_input(kwargs, message):
    with pytest.raises(InputError, match=message):
        table_one(COHORT, **kwargs)


def test_describe_parameters_matches_r():
    # R: length, min, max, mean, sd, quantile(type = 7), shapiro.test on non-missing values
    table = describe_parameters(COHORT, ["adc_mean", "ki67", "cho_r2"]).set_index("parameter")
    for parameter, expected in REFERENCE["describe"].items():
        assert table.loc[parameter, "n"] == expected["n"]
        for column in ["min", "max", "mean", "sd", "median", "p25", "p75"]:
            assert table.loc[parameter, column] == pytest.approx(expected[column], rel=1e-12), (parameter, column)
        assert table.loc[parameter, "shapiro_p"] == pytest.approx(expected["shapiro_p"], rel=1e-6)
        assert table.loc[parameter, "normal"] == (expected["shapiro_p"] > 0.05)
    assert table["summary_kind"].tolist() == ["mean_sd", "median_iqr", "mean_sd"]


def test_describe_parameters_refuses_text():
    with pytest.raises(InputError, match="'subtype' must be numeric"):
        describe_parameters(COHORT, ["subtype"])


def test_reliability_table_matches_psych():
    # R: psych::ICC(na.omit(cohort[, c(r1, r2)]), lmer = FALSE), row ICC2
    with pytest.warns(DroppedTargetsWarning, match="1 target"):  # cho_r2 is missing for one patient
        table = reliability_table(COHORT, {"ADC": ("adc_r1", "adc_r2"), "Cho/Cr": ("cho_r1", "cho_r2")})
    table = table.set_index("parameter")
    for parameter, key in [("ADC", "adc"), ("Cho/Cr", "cho")]:
        expected = REFERENCE["reliability"][key]
        assert table.loc[parameter, "icc"] == pytest.approx(expected["ICC"], rel=1e-9)
        assert table.loc[parameter, "ci_low"] == pytest.approx(expected["lower bound"], rel=1e-9)
        assert table.loc[parameter, "ci_high"] == pytest.approx(expected["upper bound"], rel=1e-9)
        assert table.loc[parameter, "p"] == pytest.approx(expected["p"], rel=1e-9)
        assert table.loc[parameter, "f"] == pytest.approx(expected["F"], rel=1e-9)
    assert table["n"].tolist() == [32, 31]
    assert (table["form"] == "ICC2").all()


def test_reliability_table_refuses_a_single_column():
    with pytest.raises(InputError, match=r"readers\['ADC'\] must be a pair"):
        reliability_table(COHORT, {"ADC": ("adc_r1",)})


def test_group_comparison_table_matches_r():
    # R: as table_one (t.test / SPSS Z), one row per parameter
    table = group_comparison_table(COHORT, ["adc_mean", "ki67"], "high_grade").set_index("parameter")
    for parameter, name in [("adc_mean", "t"), ("ki67", "Z")]:
        expected = REFERENCE["table_one"][parameter]
        assert table.loc[parameter, "statistic_name"] == name
        assert table.loc[parameter, "statistic"] == pytest.approx(expected["statistic"], rel=1e-9)
        assert table.loc[parameter, "p"] == pytest.approx(expected["p"], rel=1e-9)
        assert [table.loc[parameter, "shapiro_p_1"], table.loc[parameter, "shapiro_p_2"]] == pytest.approx(expected["shapiro"], rel=1e-6)
    assert table.loc["ki67", ["group_1", "group_2", "n_1", "n_2"]].tolist() == ["high", "low", 22, 10]
    low_ki67 = COHORT.loc[COHORT.high_grade == "low", "ki67"]
    assert table.loc["ki67", "median_2"] == low_ki67.median()


def test_correlation_table_matches_cor_test():
    # R: cor.test(x, y, method = "spearman", exact = FALSE) on complete pairs
    table = correlation_table(COHORT, ["adc_mean", "cho_r2"], ["surgical_grade", "ki67"])
    assert len(table) == 4
    table = table.set_index(["parameter", "target"])
    for (parameter, target), key in [
        (("adc_mean", "surgical_grade"), "adc_mean_grade"),
        (("adc_mean", "ki67"), "adc_mean_ki67"),
        (("cho_r2", "ki67"), "cho_r2_ki67"),
    ]:
        expected = REFERENCE["correlation"][key]
        assert table.loc[(parameter, target), "rho"] == pytest.approx(expected["rho"], rel=1e-9)
        assert table.loc[(parameter, target), "p"] == pytest.approx(expected["p"], rel=1e-9)
        assert table.loc[(parameter, target), "n"] == expected["n"]


def test_agreement_table_matches_binom_test_and_psych_kappa():
    # R: binom.test(agree, n)$conf.int; psych::cohen.kappa(cbind(surgical, biopsy))
    expected = REFERENCE["agreement"]
    result = agreement_table(COHORT["surgical_grade"], COHORT["biopsy_grade"])
    assert result.table.to_numpy().tolist() == expected["table"]
    assert (result.n, result.n_agree) == (32, expected["n_agree"])
    assert result.accuracy == pytest.approx(expected["accuracy"], rel=1e-12)
    assert [result.accuracy_ci_low, result.accuracy_ci_high] == pytest.approx(expected["accuracy_ci"], rel=1e-9)
    assert result.kappa == pytest.approx(expected["kappa"], rel=1e-9)
    assert result.kappa_se**2 == pytest.approx(expected["kappa_variance"], rel=1e-9)
    assert [result.kappa_ci_low, result.kappa_ci_high] == pytest.approx(expected["kappa_ci"], rel=1e-9)


def test_agreement_table_keeps_empty_categories_in_label_order():
    result = agreement_table(["I", "III", "III", "I"], ["I", "III", "I", "I"], labels=["I", "II", "III"])
    assert list(result.table.index) == ["I", "II", "III"]
    assert result.table.loc["II"].sum() == 0
    assert result.n_agree == 3


@pytest.mark.parametrize(
    ("reference", "test", "labels", "message"),
    [
        (["I", "II"], ["I"], None, "same length"),
        (["I", None, "II"], ["I", "II", "II"], None, "'reference' has 1 missing"),
        (["I", "IV"], ["I", "II"], ["I", "II", "III"], r"Ratings \['IV'\] are not among"),
    ],
)
def test_agreement_table_refuses_bad_input(reference, test, labels, message):
    with pytest.raises(InputError, match=message):
        agreement_table(reference, test, labels=labels)
