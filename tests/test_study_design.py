"""A study described by its config: outcome, split, survival endpoint, readers, and their errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from stsanalysis.errors import InputError
from stsanalysis.report.config import load_config
from stsanalysis.studies import radiomics_nomogram as study
from stsanalysis.studies.design import Outcome, Split, Survival, outcome_from_config
from stsanalysis.studies.radiomics_features import reader_tables, signature_names
from stsanalysis.studies.radiomics_text import patient_characteristics_text


def _cohort(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "Métastase pulmonaire": rng.choice(["oui", "non"], n),
            "grade": rng.choice([1, 2, 3], n),
            "centre": np.repeat([1, 2], n // 2),
            "scan_date": pd.date_range("2015-01-01", periods=n, freq="30D").strftime("%Y-%m-%d"),
            "age": rng.normal(60, 10, n).round(),
            "pfs_months": rng.exponential(30, n).round(1),
            "pfs_event": rng.integers(0, 2, n),
        }
    )


def test_outcome_from_a_text_value_a_list_and_a_comparison():
    data = _cohort()
    text = Outcome.from_spec({"column": "Métastase pulmonaire", "positive": "oui", "label": "lung metastasis"})
    assert text.classify(data).tolist() == (data["Métastase pulmonaire"] == "oui").astype(int).tolist()
    assert text.class_labels == {0: "No lung metastasis", 1: "Lung metastasis"}
    assert text.predicted_groups == ("predicted no lung metastasis", "predicted lung metastasis")
    listed = Outcome.from_spec({"column": "grade", "positive": [2, 3], "label": "grade II-III"})
    assert listed.classify(data).sum() == int((data["grade"] >= 2).sum())
    compared = Outcome.from_spec({"column": "grade", "positive": ">= 3", "label": "high grade", "negative_label": "low grade"})
    assert compared.classify(data).sum() == int((data["grade"] == 3).sum())
    assert compared.contrast == "low vs high grade" and text.contrast == "no lung metastasis vs lung metastasis"


def test_high_grade_shorthand_is_the_demo_outcome():
    shorthand = outcome_from_config({}, 3)
    assert shorthand.label == "high grade" and shorthand.class_labels == {0: "Low grade", 1: "High grade"}
    assert shorthand.reference_standard == "high grade (FNCLCC grade III) at histopathology"
    assert outcome_from_config({}, 2).reference_standard == "high grade (FNCLCC grade II-III) at histopathology"


def test_outcome_errors_name_the_values_present():
    data = _cohort()
    with pytest.raises(InputError, match=r"\['yes'\] do not occur in 'Métastase pulmonaire'; its values are \['non', 'oui'\]"):
        Outcome.from_spec({"column": "Métastase pulmonaire", "positive": "yes", "label": "lung metastasis"}).classify(data)
    with pytest.raises(InputError, match="compares with a number"):
        Outcome.from_spec({"column": "Métastase pulmonaire", "positive": "> 1", "label": "x"}).classify(data)
    with pytest.raises(InputError, match=r"'outcome' needs the key\(s\) \['label'\]"):
        Outcome.from_spec({"column": "grade", "positive": 3})
    with pytest.raises(InputError, match="unknown key"):
        Outcome.from_spec({"column": "grade", "positive": 3, "label": "x", "threshold": 2})
    missing = data.assign(grade=data["grade"].where(data.index != 4))
    with pytest.raises(InputError, match=r"missing for 1 patient\(s\) \(\[4\]\)"):
        Outcome.from_spec({"column": "grade", "positive": 3, "label": "x"}).classify(missing)


def test_split_kinds():
    data = _cohort()
    y = Outcome.from_spec({"column": "Métastase pulmonaire", "positive": "oui", "label": "m"}).classify(data)
    by_centre = Split.from_spec({}, training_centre=1).assign(data, y, seed=1)
    assert (by_centre == "training").tolist() == (data["centre"] == 1).tolist()
    assert Split.from_spec({}, 1).validation_name == "external validation"
    by_date = Split.from_spec({"by": "date", "column": "scan_date", "before": "2018-01-01"})
    sets = by_date.assign(data, y, seed=1)
    assert (sets == "training").sum() == int((pd.to_datetime(data["scan_date"]) < "2018-01-01").sum())
    assert by_date.validation_name == "temporal validation"
    random = Split.from_spec({"random": 0.25, "stratify": True})
    first, second = random.assign(data, y, seed=5), random.assign(data, y, seed=5)
    assert first.equals(second) and (first == "validation").sum() == 15
    assert abs(y[first == "validation"].mean() - y.mean()) < 0.05  # stratified
    by_column = Split.from_spec({"by": "column", "column": "centre", "training": 2}).assign(data, y, seed=0)
    assert (by_column == "training").tolist() == (data["centre"] == 2).tolist()


def test_split_errors_name_the_set_and_counts():
    data = _cohort()
    y = pd.Series(np.where(data["centre"] == 1, 1, 0), index=data.index)  # every validation patient negative
    with pytest.raises(InputError, match=r"leaves the training set with 30 patients \(30 positive, 0 negative\)"):
        Split.from_spec({}, 1).assign(data, y, seed=0)
    single = data.assign(centre=1)
    with pytest.raises(InputError, match=r"'split.by: centre' needs patients from two or more centres.*\[1\]"):
        Split.from_spec({"by": "centre", "training": 1}).assign(single, y, seed=0)
    with pytest.raises(InputError, match="must be one of"):
        Split.from_spec({"by": "centre", "training": 7}).assign(data, y, seed=0)
    with pytest.raises(InputError, match="needs 'split.before'"):
        Split.from_spec({"by": "date", "column": "scan_date"})
    with pytest.raises(InputError, match="between 0 and 1"):
        Split.from_spec({"random": 30})
    with pytest.raises(InputError, match=r"must hold dates.*\[3\]"):
        Split.from_spec({"by": "date", "column": "scan_date", "before": "2018-01-01"}).assign(
            data.assign(scan_date=data["scan_date"].where(data.index != 3, "unknown")), y, seed=0
        )


def test_survival_errors_name_the_patients():
    data = _cohort()
    survival = Survival.from_spec({"time": "pfs_months", "event": "pfs_event", "label": "overall survival", "times": [0, 12]})
    survival.check(data)
    with pytest.raises(InputError, match=r"non-negative number for every patient; patient\(s\) \[2, 9\] have \[-1.0, nan\]"):
        survival.check(data.assign(pfs_months=data["pfs_months"].where(~data.index.isin([2]), -1.0).where(data.index != 9)))
    with pytest.raises(InputError, match=r"1 \(event\) or 0 \(censored\).*\[0\]"):
        survival.check(data.assign(pfs_event=data["pfs_event"].where(data.index != 0, 2)))
    assert Survival.from_spec({}) is None


def test_prepare_cohort_counts_and_excludes_missing_values():
    data = _cohort()
    data.loc[[0, 1, 40], "age"] = np.nan
    outcome = Outcome.from_spec({"column": "Métastase pulmonaire", "positive": "oui", "label": "lung metastasis"})
    cohort = study.prepare_cohort(data, outcome=outcome, split=Split.from_spec({}, 1), seed=0, model_variables=["age"], batch_column="")
    assert len(cohort.clinical) == 57 and cohort.missing.excluded == {"training": 2, "validation": 1}
    row = cohort.missing.table.set_index("variable").loc["age"]
    assert (row["training_missing"], row["validation_missing"], row["total_missing"]) == (2, 1, 3)
    assert row["training_percent"] == pytest.approx(100 * 2 / 30)
    assert "excluded (complete-case analysis; training, 2; validation, 1)" in cohort.missing.sentence()
    overview = study.set_overview(cohort)
    assert overview.columns.tolist() == ["set", "patients", "lung_metastasis"] and overview["patients"].tolist() == [28, 29]
    assert patient_characteristics_text(cohort).startswith("No lung metastasis vs lung metastasis in each set")


def test_signatures_and_readers():
    assert signature_names(["CT"]) == {"CT signature": ("CT",)}
    index = pd.MultiIndex.from_tuples([("P1", "CT", "A"), ("P2", "CT", "A")], names=["patient_id", "sequence", "reader"])
    features = pd.DataFrame({"original_firstorder_Mean": [1.0, 2.0]}, index=index)
    tables = reader_tables(features, ["CT"], {})
    assert list(tables) == ["reader1"] and tables["reader1"].index.tolist() == ["P1", "P2"]
    with pytest.raises(InputError, match=r"No case has the reader label\(s\) \['reader2: B'\]"):
        reader_tables(features, ["CT"], {"reader1": "A", "reader2": "B"})
    with pytest.raises(InputError, match="unknown role"):
        reader_tables(features, ["CT"], {"reader1": "A", "observer": "B"})


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"outcome": {"column": "grade", "positive": 3, "label": "x"}, "high_grade_from": 3}, "'outcome' and 'high_grade_from'"),
        ({"split": {"random": 0.3}, "training_centre": 1}, "'split' and 'training_centre'"),
    ],
)
def test_contradicting_keys_are_refused_before_anything_runs(tmp_path, parameters, message):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({"notebook": "radiomics_nomogram_study", "parameters": parameters}))
    with pytest.raises(InputError, match=message):
        load_config(path)


def test_a_separated_factor_never_shows_an_infinite_odds_ratio():
    rng = np.random.default_rng(4)
    data = _cohort(200, seed=4)
    data["Métastase pulmonaire"] = rng.choice(["oui", "non"], 200)
    # every patient with a "yes" node status has metastases: complete separation of that level
    data["nodes"] = np.where((data["Métastase pulmonaire"] == "oui") & (rng.random(200) < 0.5), "yes", "no")
    outcome = Outcome.from_spec({"column": "Métastase pulmonaire", "positive": "oui", "label": "lung metastasis"})
    cohort = study.prepare_cohort(data, outcome=outcome, split=Split.from_spec({}, 1), seed=0, batch_column="")
    from stsanalysis.stats.logistic import SeparationWarning

    with pytest.warns(SeparationWarning, match='method="firth"'):
        ml = study.fit_clinical_model(cohort, ["nodes", "age"], p_enter=1.0)
    shown = study.screening_display(ml.screen).set_index("factor")
    assert shown.loc["nodes[yes]", "univariable_or"] == "not estimable (separation)"
    firth = study.fit_clinical_model(cohort, ["nodes", "age"], p_enter=1.0, method="firth")
    shown = study.screening_display(firth.screen).set_index("factor")
    assert shown.loc["nodes[yes]", "univariable_or"] != "not estimable (separation)"
    assert np.isfinite(firth.screen["univariable_odds_ratio"].dropna()).all()
    assert firth.model.method == "firth" and np.isfinite(firth.probability()).all()


def test_split_mapping_wins_over_the_notebook_default_training_centre():
    data = _cohort()
    y = pd.Series(np.tile([0, 1], 30), index=data.index)
    # the notebook always passes its default training_centre (1): a split mapping is read alone
    sets = Split.from_spec({"by": "centre", "training": 2}, training_centre=1).assign(data, y, seed=0)
    assert (sets == "training").tolist() == (data["centre"] == 2).tolist()
    with pytest.raises(InputError, match="needs 'split.training'"):
        Split.from_spec({"by": "column", "column": "centre"}, training_centre=1)
