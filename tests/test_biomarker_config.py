"""Design-A reports of a cohort that is not the demo, described by its config alone.

The demo cohort with another study's names: the surgical grade column renamed (so there is
no grade), no subtype, a text endpoint "Métastase pulmonaire" (oui/non) as the first contrast
and the proliferation index under another name as the second, dichotomised with "> 20".
The report must name the configured groups and never the demo's "high grade" or "Ki-67";
its numbers are those of direct calls.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from compare_report_tables import report_table, report_text
from scipy import stats as sps

from stsanalysis import InputError
from stsanalysis.data.demo import make_biomarker_demo
from stsanalysis.report.build import table_of_contents
from stsanalysis.report.display import markdown
from stsanalysis.studies import biomarker as study
from stsanalysis.studies.design import Outcome

ENDPOINT, INDEX = "Métastase pulmonaire", "MIB-1 LI (%)"
OUTCOME = {"column": ENDPOINT, "positive": "oui", "label": "lung metastasis"}
SECOND = {"column": INDEX, "positive": "> 20", "label": "high proliferation", "negative_label": "low proliferation"}
DEMO_WORDS = ("high grade", "High grade", "high-grade", "Ki-67")


def _own_cohort() -> pd.DataFrame:
    """The demo cohort as another study names it (deterministic)."""
    cohort = make_biomarker_demo()
    flip = np.random.default_rng(11).random(len(cohort)) < 0.15
    cohort[ENDPOINT] = np.where((cohort["surgical_grade"] == 3) ^ flip, "oui", "non")
    return cohort.drop(columns="subtype").rename(columns={"surgical_grade": "Grade OP", "ki67": INDEX})


def _contrasts():
    return study.contrasts_from_config(OUTCOME, SECOND)


# --------------------------------------------------------------------------- the report


def _figures(html: str) -> str:
    """The figures' JSON (titles, legends), without the inlined plotly.js library."""
    return " ".join(re.findall(r"Plotly\.newPlot\((.*?)\)\s*\.then", html, flags=re.S))


@pytest.fixture(scope="module")
def own_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own_biomarker_study")
    cohort = _own_cohort()
    cohort.to_csv(folder / "cohorte.csv", index=False)
    config = {
        "notebook": "biomarker_study",
        "name": "own_study",
        "parameters": {"cohort_path": "cohorte.csv", "outcome": OUTCOME, "second_outcome": SECOND, "n_boot": 50, "seed": 7},
    }
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "stsanalysis", "report", "--config", str(path), "--output", str(folder / "out")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return (folder / "out" / "own_study.html").read_text(encoding="utf-8"), cohort


@pytest.mark.slow
def test_report_names_the_configured_groups_and_never_the_demo(own_report):
    html, _ = own_report
    text, figures = report_text(html), _figures(html)
    headings = [entry.text for entry in table_of_contents(html)]
    assert "Quantitative MRI biomarkers of lung metastasis and high proliferation (design A)" in headings
    assert "Table 1: lung metastasis and high proliferation" in headings
    assert "Table 3: no lung metastasis vs lung metastasis, low vs high proliferation" in headings
    assert f"Table 4: correlation with {INDEX}" in headings
    for phrase in (
        "A tumour counts as lung metastasis when Métastase pulmonaire = oui, and as high proliferation when MIB-1 LI (%) > 20.",
        "Table 3a. No lung metastasis vs lung metastasis",
        "Table 3b. Low vs high proliferation",
        "differed significantly between patients with and without lung metastasis",
        "Table 5. Prediction of lung metastasis",
        "Table 6. Prediction of high proliferation",
        "'Métastase pulmonaire' (lung metastasis) holds text: it is not correlated.",
        "Groups (no lung metastasis vs lung metastasis (Métastase pulmonaire = oui) and low vs high proliferation (MIB-1 LI (%) > 20))",
        f"Correlations with {INDEX} were assessed with Spearman's rank correlation.",
        "their agreement (Table 1b) is not shown",
    ):
        assert phrase in text, phrase
    assert "Table 1b." not in text and "Histological subtype" not in text
    assert "Quantitative MRI parameters in patients with and without lung metastasis" in figures
    assert "ROC curves: lung metastasis" in figures and "ROC curves: high proliferation" in figures
    for word in DEMO_WORDS:
        assert word not in text and word not in figures, word


@pytest.mark.slow
def test_report_numbers_are_those_of_direct_calls(own_report):
    html, cohort = own_report
    adc_mean = (cohort["adc_mean_r1"] + cohort["adc_mean_r2"]) / 2
    metastasis = cohort[ENDPOINT] == "oui"
    table_1 = report_table(html, "table_1_")
    assert table_1["level"].tolist() == ["No lung metastasis", "Lung metastasis", "Low proliferation", "High proliferation"]
    assert table_1["n"].tolist()[:2] == [int((~metastasis).sum()), int(metastasis.sum())]

    table_3a = report_table(html, "table_3a_").set_index("parameter")
    assert list(table_3a.columns[:2]) == ["No lung metastasis", "Lung metastasis"]
    row = table_3a.loc["ADCmean"]
    if row["test"].startswith("Welch"):
        # R: t.test(adc_mean ~ metastasis)$p.value
        expected = sps.ttest_ind(adc_mean[~metastasis], adc_mean[metastasis], equal_var=False).pvalue
    else:
        # R: wilcox.test(adc_mean ~ metastasis, exact = FALSE, correct = FALSE)$p.value
        expected = sps.mannwhitneyu(adc_mean[~metastasis], adc_mean[metastasis], method="asymptotic", use_continuity=False).pvalue
    assert row["p"] == pytest.approx(expected, rel=1e-9)

    table_4 = report_table(html, "table_4_").set_index("parameter")
    assert list(table_4.columns) == ["r_MIB_1_LI", "p_MIB_1_LI"]
    # R: cor.test(adc_mean, mib1, method = "spearman", exact = FALSE)$estimate
    assert table_4.loc["ADCmean", "r_MIB_1_LI"] == pytest.approx(sps.spearmanr(adc_mean, cohort[INDEX]).statistic, rel=1e-12)


# --------------------------------------------------------------------------- the contrasts


def test_shorthands_are_the_demo_contrasts():
    grade, ki67 = study.contrasts_from_config({}, {}, high_grade_from=3, ki67_threshold=20)
    assert (grade.key, grade.outcome.column, grade.outcome.comparison) == ("high_grade", "surgical_grade", (">=", 3.0))
    assert grade.group_names == {0: "Low grade", 1: "High grade"} and grade.groups_phrase == "low- and high-grade tumours"
    assert grade.methods_groups == "low vs high grade (grade III vs grade I-II)"
    assert (ki67.key, ki67.group_names[1], ki67.roc_title) == ("ki67_high", "High Ki-67", "Ki-67 LI ≥ 20 %")
    assert ki67.outcome.description == "Ki-67 LI < 20% vs ≥ 20%"


def test_group_wording_follows_the_labels():
    metastasis, proliferation = _contrasts()
    assert (metastasis.key, metastasis.versus) == ("lung_metastasis", "no lung metastasis vs lung metastasis")
    assert metastasis.groups_phrase == "patients with and without lung metastasis"
    assert proliferation.groups_phrase == "low- and high-proliferation tumours"
    response = study.Contrast.from_outcome(
        Outcome.from_spec({"column": "recist", "positive": ["CR", "PR"], "label": "responder", "negative_label": "non-responder"}),
        "responder",
    )
    assert response.groups_phrase == "the non-responder and responder groups"
    assert response.comparison_caption == "Non-responder vs responder"


def test_configured_outcomes_need_only_their_own_columns():
    required = study.required_columns(_contrasts())
    assert ENDPOINT in required and INDEX in required
    assert not {"surgical_grade", "biopsy_grade", "ki67", "subtype"} & set(required)


def test_cohort_summary_has_grade_and_subtype_rows_only_when_present():
    contrasts = _contrasts()
    data = study.prepare_biomarker_data(_own_cohort(), contrasts=contrasts)
    assert study.cohort_summary(data, contrasts)["characteristic"].unique().tolist() == ["Lung metastasis", "High proliferation"]
    demo = study.prepare_biomarker_data(make_biomarker_demo())
    assert study.cohort_summary(demo)["characteristic"].unique().tolist() == [
        "Histological subtype",
        "FNCLCC grade (surgery)",
        "Grade group",
        "Ki-67 LI group",
    ]


def test_a_text_outcome_has_no_correlation_and_says_so():
    contrasts = _contrasts()
    analysis = study.analyse_biomarkers(study.prepare_biomarker_data(_own_cohort(), contrasts=contrasts), contrasts=contrasts)
    assert [target.column for target in analysis.targets] == [INDEX]
    assert analysis.agreement is None
    assert "'Métastase pulmonaire' (lung metastasis) holds text" in study.correlation_sentence(analysis)


def test_label_equal_to_its_column_gets_its_own_group_column():
    (contrast, _) = study.contrasts_from_config({"column": "lung_metastasis", "positive": 1, "label": "lung metastasis"})
    assert contrast.key == "lung_metastasis_group"


def test_generated_markdown_escapes_html():
    assert markdown("Table 3: <b>x</b> & y").data == "Table 3: &lt;b&gt;x&lt;/b&gt; &amp; y"


# --------------------------------------------------------------------------- errors


def test_positive_value_not_present_lists_the_values():
    contrasts = study.contrasts_from_config({**OUTCOME, "positive": "yes"}, SECOND)
    with pytest.raises(InputError) as error:
        study.prepare_biomarker_data(_own_cohort(), contrasts=contrasts)
    assert f"positive value(s) ['yes'] do not occur in '{ENDPOINT}'; its values are ['non', 'oui']" in str(error.value)


def test_missing_outcome_column_is_named():
    contrasts = study.contrasts_from_config({**OUTCOME, "column": "Metastase"}, SECOND)
    with pytest.raises(InputError, match=r"Column\(s\) \['Metastase'\] not found in the design-A cohort"):
        study.prepare_biomarker_data(_own_cohort(), contrasts=contrasts)


def test_demo_shorthand_on_the_renamed_cohort_names_the_grade_column():
    with pytest.raises(InputError, match=r"Column\(s\) \['surgical_grade', 'ki67'\] not found in the design-A cohort"):
        study.prepare_biomarker_data(_own_cohort())


def test_outcome_beside_a_changed_shorthand_is_a_contradiction():
    with pytest.raises(InputError, match=r"'outcome' and 'high_grade_from: 3' both define the same contrast"):
        study.contrasts_from_config(OUTCOME, high_grade_from=3)
    with pytest.raises(InputError, match=r"'second_outcome' and 'ki67_threshold: 10' both define the same contrast"):
        study.contrasts_from_config(second_outcome=SECOND, ki67_threshold=10)
    assert study.contrasts_from_config(OUTCOME, high_grade_from=2)[0].label == "lung metastasis"  # the default: outcome wins


def test_unknown_contrast_key_lists_the_contrasts():
    analysis = study.analyse_biomarkers(study.prepare_biomarker_data(make_biomarker_demo()))
    with pytest.raises(InputError, match=r"No contrast 'grade' in this analysis; its contrasts are \['high_grade', 'ki67_high'\]"):
        study.group_comparison_display(analysis, "grade")
