"""TRIPOD+AI, METRICS and the Radiomics Quality Score filled from a run, with their scores."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from stsanalysis.errors import InputError
from stsanalysis.report.checklist import (
    CHECKLIST_COLUMNS,
    FIXED_STATUSES,
    NOT_APPLICABLE,
    REPORTED,
    TO_COMPLETE,
    checklist_summary,
    load_checklist,
    metrics_checklist,
    metrics_score,
    rqs_checklist,
    rqs_total,
    tripod_ai_checklist,
)
from stsanalysis.report.checklist_fillers import FILLERS
from stsanalysis.report.facts import RunFacts

# METRICS item weights, Kocak et al., Insights Imaging 2024;15:8, Table 1 (= the METRICS web
# tool's `weights`, github.com/metricsscore/metrics, METRICS.html)
METRICS_WEIGHTS = {
    1: 0.0368, 2: 0.0735, 3: 0.0919, 4: 0.0438, 5: 0.0292, 6: 0.0438, 7: 0.0292, 8: 0.0337, 9: 0.0225, 10: 0.0112,
    11: 0.0622, 12: 0.0311, 13: 0.0415, 14: 0.0200, 15: 0.0200, 16: 0.0300, 17: 0.0200, 18: 0.0599, 19: 0.0300, 20: 0.0352,
    21: 0.0234, 22: 0.0176, 23: 0.0117, 24: 0.0293, 25: 0.0176, 26: 0.0375, 27: 0.0749, 28: 0.0075, 29: 0.0075, 30: 0.0075,
}  # fmt: skip

# TRIPOD+AI (Collins et al., BMJ 2024;385:e078378): the 27 items with their sub-items
TRIPOD_AI_ITEMS = (
    "1 2 3a 3b 3c 4 5a 5b 6a 6b 6c 7 8a 8b 8c 9a 9b 9c 10 11 12a 12b 12c 12d 12e 12f 12g 13 14 15 16 17 "
    "18a 18b 18c 18d 18e 18f 19 20a 20b 20c 21 22 23a 23b 24 25 26 27a 27b 27c"
).split()


@pytest.fixture
def demo_facts(design_b_facts) -> RunFacts:
    """The demo's design-B run (two centres, external validation, two readers) as run_facts writes it."""
    return dataclasses.replace(
        design_b_facts,
        validation="external validation",
        split_rule="centre 1 trains; every other centre validates",
        missing_data="No model variable had missing values.",
        reliability_assessed=True,
    )


@pytest.fixture
def random_split_facts(demo_facts) -> RunFacts:
    """One centre, a random held-out set, one reader (no reliability), imputed clinical factors, no ComBat."""
    return dataclasses.replace(
        demo_facts,
        centres=("Centre 1",),
        validation="internal validation",
        split_rule="a random 30% of patients held out for validation, stratified by outcome",
        external_set=None,
        n_patients={"training": 126, "internal validation": 54},
        n_positive={"training": 60, "internal validation": 25},
        n_readers=1,
        resegmentation_subset=None,
        reliability_assessed=False,
        icc_form=None,
        icc_assessments=(),
        icc_threshold=None,
        n_features_reliable=None,
        n_features_tested=None,
        combat_batch=None,
        combat_fitted_on=None,
        missing_data="Missing values (margin) were imputed 20 times by chained equations.",
        survival_endpoint=None,
    )


def _by_item(table: pd.DataFrame, column: str) -> pd.Series:
    return table.set_index("item")[column]


# ----------------------------------------------------------------------------- the data files


def test_tripod_ai_file_holds_the_27_items_and_their_sub_items():
    items = load_checklist("tripod_ai")
    assert items["item"].tolist() == TRIPOD_AI_ITEMS
    assert items["item"].str.extract(r"^(\d+)")[0].astype(int).nunique() == 27
    section = _by_item(items, "section")
    # sections and topics as the paper's checklist
    assert section["1"] == "Title" and section["2"] == "Abstract"
    assert section["10"] == "Methods: Sample size" and section["11"] == "Methods: Missing data"
    assert section["16"] == "Methods: Training versus evaluation"
    assert section["18f"] == "Open science: Code sharing"
    assert section["19"] == "Patient and public involvement"
    assert section["27a"] == "Discussion: Usability of the model in the context of current care"


def test_metrics_file_holds_30_items_in_9_categories_with_the_published_weights():
    items = load_checklist("metrics", ("weight", "conditional"))
    assert list(items.columns) == [*CHECKLIST_COLUMNS, "weight", "conditional"]
    assert items["item"].tolist() == list(range(1, 31))
    assert items["section"].unique().tolist() == [
        "Study design",
        "Imaging data",
        "Segmentation",
        "Image processing and feature extraction",
        "Feature processing",
        "Preparation for modeling",
        "Metrics and comparison",
        "Testing",
        "Open science",
    ]
    assert _by_item(items, "weight").to_dict() == METRICS_WEIGHTS
    assert items["weight"].sum() == pytest.approx(1.0, abs=1e-9)
    conditional = _by_item(items, "conditional")
    assert conditional[conditional != ""].index.tolist() == [8, 9, 10, 12, 14, 15, 16, 17]
    assert conditional[9] == "segmentation; fully automated segmentation"
    assert conditional[17] == "end-to-end deep learning"
    # the four columns alone unless the own columns are asked for
    assert list(load_checklist("metrics").columns) == CHECKLIST_COLUMNS


def test_rqs_file_holds_16_items_from_minus_8_to_36_points():
    items = load_checklist("rqs", ("points_min", "points_max"))
    assert items["item"].tolist() == list(range(1, 17))
    assert (items["points_min"].sum(), items["points_max"].sum()) == (-8, 36)
    points = items.set_index("item")[["points_min", "points_max"]].apply(tuple, axis=1)
    assert points[2] == (0, 1) and points[3] == (0, 1) and points[4] == (0, 1)
    assert points[5] == (-3, 3) and points[12] == (-5, 5) and points[11] == (0, 7) and points[16] == (0, 4)


@pytest.mark.parametrize("name", ["tripod_ai", "metrics", "rqs"])
def test_every_filler_of_the_three_checklists_exists(name):
    fillers = set(load_checklist(name)["filler"])
    assert fillers <= set(FILLERS) | set(FIXED_STATUSES), sorted(fillers - set(FILLERS) - set(FIXED_STATUSES))


def test_a_missing_own_column_is_an_input_error():
    with pytest.raises(InputError, match=r"metrics\.csv lacks the column\(s\) \['points'\]"):
        load_checklist("metrics", ("points",))


# ----------------------------------------------------------------------------- TRIPOD+AI


def test_tripod_ai_fills_what_the_demo_run_knows(demo_facts):
    table = tripod_ai_checklist(demo_facts)
    assert list(table.columns) == ["item", "section", "text", "status", "value"]
    assert table["item"].tolist() == TRIPOD_AI_ITEMS
    value, status = _by_item(table, "value"), _by_item(table, "status")
    assert value["6a"] == "2 centres: Centre 1 and Centre 2"
    assert value["8a"] == "FNCLCC grade III vs I-II on the surgical specimen; time-to-event endpoint: progression-free survival"
    # the report's events-per-parameter check: 52 events (training) / 30 mRMR features
    assert "52 events (the smaller outcome class) in the training set: 1.7 events per candidate radiomic parameter" in value["10"]
    assert value["11"] == "No model variable had missing values."
    assert "LASSO logistic regression (λ by 10-fold cross-validation repeated 5 times, 1-SE rule)" in value["12c"]
    assert "ComBat" in value["12d"]
    assert "Harrell's C-index" in value["12e"] and "decision curve analysis" in value["12e"]
    assert value["12f"] == value["24"] == "none: every model was applied unchanged (no recalibration) to the validation set"
    assert value["16"].startswith("external validation on the external validation set (centre 2)")
    assert value["18f"] == "https://example.org/sts-study"
    assert value["21"] == "training: 52/109 positive; external validation: 33/71 positive"
    # what only the authors know
    assert status[["1", "2", "3a", "5b", "6b", "14", "17", "19", "25", "26", "27c"]].eq(TO_COMPLETE).all()
    reported = table["status"] == REPORTED
    assert (table.loc[reported, "value"].str.len() > 0).all() and (table.loc[~reported, "value"] == "").all()
    assert not table["value"].str.contains(r"\bNone\b|\bnan\b").any()
    assert checklist_summary(table, "TRIPOD+AI") == "TRIPOD+AI: 10 of 27 items reported by this run (6 more in part)"


def test_tripod_ai_follows_the_split_missing_data_and_endpoint(random_split_facts):
    value, status = _by_item(tripod_ai_checklist(random_split_facts), "value"), _by_item(tripod_ai_checklist(random_split_facts), "status")
    assert value["11"] == "Missing values (margin) were imputed 20 times by chained equations."
    assert value["8a"] == "FNCLCC grade III vs I-II on the surgical specimen"
    assert value["16"].startswith("the validation set comes from the same source as the training set (random split): a random 30%")
    assert value["9a"].startswith("1,130 radiomic features per sequence") and "no reliability pre-selection" in value["9a"]
    assert "60 events" in value["10"] and "2.0 events per candidate radiomic parameter" in value["10"]
    # neither ComBat nor several centres: nothing on heterogeneity across clusters
    assert status["12d"] == TO_COMPLETE


# ----------------------------------------------------------------------------- METRICS


def test_metrics_answers_and_score_of_the_demo_run(demo_facts):
    table = metrics_checklist(demo_facts)
    assert list(table.columns) == ["item", "section", "text", "conditional", "weight", "status", "met", "value"]
    assert len(table) == 30
    met, status = _by_item(table, "met"), _by_item(table, "status")
    answered_yes = [4, 8, 11, 12, 13, 14, 15, 18, 20, 21, 22, 23, 24, 25, 27, 29]
    assert met[met == "yes"].index.tolist() == answered_yes
    # external validation only: no held-out set of the training centre
    assert met[met == "no"].index.tolist() == [26]
    # conditional items that do not apply: manual segmentation, hand-crafted features
    assert status[status == NOT_APPLICABLE].index.tolist() == [9, 17]
    # 52 training events for up to 9 features per model: 5.8 per parameter, the authors' to argue
    assert status[16] == TO_COMPLETE
    score = metrics_score(table)
    # the METRICS web tool's calculateScore: sum(weights of "yes") / sum(weights of "yes" and "no") x 100
    weight_yes = sum(METRICS_WEIGHTS[item] for item in answered_yes)
    assert score.score == pytest.approx(100 * weight_yes / (weight_yes + METRICS_WEIGHTS[26]), rel=1e-12)
    assert score.score == pytest.approx(93.3851, abs=1e-4)
    authors = [1, 2, 3, 5, 6, 7, 10, 16, 19, 28, 30]
    assert status[status == TO_COMPLETE].index.tolist() == authors
    assert score.weight_to_complete == pytest.approx(sum(METRICS_WEIGHTS[item] for item in authors), rel=1e-12)
    assert score.weight_not_applicable == pytest.approx(METRICS_WEIGHTS[9] + METRICS_WEIGHTS[17], rel=1e-12)
    assert (score.lowest, score.highest) == (pytest.approx(55.2898, abs=1e-4), pytest.approx(96.0836, abs=1e-4))
    assert checklist_summary(table, "METRICS") == (
        "METRICS: 17 of 30 items reported by this run; 2 not applicable\n"
        "METRICS score over the 17 items this run assessed: 93.4% (52.9 of 56.7 weight points met); "
        "39.1 weight points (11 items) await the authors, so the final score will lie between 55.3% and 96.1%"
    )


def test_metrics_answers_follow_the_split_and_the_reliability(random_split_facts):
    table = metrics_checklist(random_split_facts)
    met, value = _by_item(table, "met"), _by_item(table, "value")
    assert (met[4], value[4]) == ("no", "1 centre (Centre 1)")
    assert (met[14], value[14]) == ("no", "no repeat segmentations, so no reliability filter")
    assert (met[26], met[27]) == ("yes", "no")
    assert met[18] == "yes" and "seeded" in value[18]
    # the score counts only the items assessed: hand computation as the web tool
    weights = _by_item(table, "weight")
    expected = 100 * weights[met == "yes"].sum() / weights[met.isin(["yes", "no"])].sum()
    assert metrics_score(table).score == pytest.approx(expected, rel=1e-12)


def test_metrics_dimensionality_is_met_with_ten_events_per_parameter(demo_facts):
    # 52 events; signatures of at most 4 features, nomogram of the rad-score + 3 clinical factors
    facts = dataclasses.replace(demo_facts, n_selected_features={"T1": 3, "FS-T2": 2, "combined": 4})
    row = metrics_checklist(facts).set_index("item").loc[16]
    assert (row["met"], row["value"]) == ("yes", "52 training events for at most 4 parameters per model (13.0 per parameter)")


# ----------------------------------------------------------------------------- RQS


def test_rqs_points_of_the_demo_run(demo_facts):
    table = rqs_checklist(demo_facts)
    assert list(table.columns) == ["item", "section", "text", "points_min", "points_max", "status", "points", "value"]
    points = _by_item(table, "points")
    assert points.dropna().astype(int).to_dict() == {2: 1, 5: 3, 6: 1, 8: 1, 9: 2, 10: 2, 11: 0, 12: 3, 13: 2, 14: 2}
    assert points[[1, 3, 4, 7, 15, 16]].isna().all()
    assert _by_item(table, "value")[12] == (
        "external validation on a dataset from another institute: the external validation set (centre 2)"
    )
    assert _by_item(table, "value")[5] == "mRMR (k = 30) then LASSO"
    total = rqs_total(table)
    assert (total.points, total.n_scored, total.n_to_complete) == (17, 10, 6)
    assert (total.authors_min, total.authors_max, total.total_min, total.total_max) == (0, 10, 17, 27)
    assert (total.minimum, total.maximum) == (-8, 36)
    assert checklist_summary(table, "RQS") == (
        "RQS: 10 of 16 items reported by this run\n"
        "RQS points established by this run: 17 from 10 items (scale -8 to 36); the 6 items left to the authors "
        "can add 0 to 10, so the total will lie between 17 and 27"
    )


def test_rqs_points_of_a_random_split_study_without_reliability(random_split_facts, demo_facts):
    points = _by_item(rqs_checklist(random_split_facts), "points")
    # one segmentation per patient: 0 of the 1 point; a dataset from the same institute: +2
    assert points[2] == 0 and points[12] == 2
    assert _by_item(rqs_checklist(demo_facts), "points")[12] == 3
    assert rqs_total(rqs_checklist(random_split_facts)).points == 15  # the demo's 17, one point less for each


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"centres": ("A", "B", "C")}, 4),  # trained on one centre, validated on two others
        ({"centres": ("A", "B", "C", "D")}, 5),
        ({"validation": "temporal validation", "external_set": None}, 2),  # same institute, later period
        ({"validation": "validation", "external_set": None}, None),  # a split by a column: the authors say
    ],
)
def test_rqs_validation_points_follow_the_kind_of_validation(demo_facts, changes, expected):
    points = _by_item(rqs_checklist(dataclasses.replace(demo_facts, **changes)), "points")[12]
    assert (None if pd.isna(points) else points) == expected


def test_settings_a_feature_table_did_not_record_are_left_to_the_authors(demo_facts):
    # read_feature_table on a plain CSV: neither settings, image types nor software are known
    provenance = {
        "params": {"featureClass": {"firstorder": ["Mean"]}},
        "software": {"pyradiomics": "not recorded"},
        "not_recorded": ["imageType", "setting", "software"],
        "path": "/data/plain_features.csv",
    }
    facts = dataclasses.replace(demo_facts, extraction_provenance=provenance)
    status = _by_item(metrics_checklist(facts), "status")
    assert status[[11, 12, 13]].eq(TO_COMPLETE).all()
    tripod = _by_item(tripod_ai_checklist(facts), "value")
    assert tripod["7"] == "not recorded (features read from plain_features.csv)"
    assert "pyradiomics" not in tripod["9b"]


# ----------------------------------------------------------------------------- no facts, bad tables


def test_without_facts_every_item_is_left_to_the_authors():
    for table in (tripod_ai_checklist(RunFacts()), metrics_checklist(RunFacts()), rqs_checklist(RunFacts())):
        assert (table["status"] == TO_COMPLETE).all()
    assert checklist_summary(tripod_ai_checklist(RunFacts()), "TRIPOD+AI") == "TRIPOD+AI: 0 of 27 items reported by this run"
    assert checklist_summary(metrics_checklist(RunFacts()), "METRICS").splitlines()[1] == (
        "METRICS score: no item assessed by this run; 100.0 weight points (30 items) await the authors"
    )
    assert rqs_total(rqs_checklist(RunFacts())).points == 0


def test_scores_need_their_checklist_tables(demo_facts):
    with pytest.raises(InputError, match=r"columns \['weight', 'status', 'met'\] \(as metrics_checklist\(facts\) returns\); it lacks"):
        metrics_score(tripod_ai_checklist(demo_facts))
    with pytest.raises(InputError, match=r"as rqs_checklist\(facts\) returns\); it lacks \['points', 'points_min', 'points_max'\]"):
        rqs_total(metrics_checklist(demo_facts))
