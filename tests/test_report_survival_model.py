"""The survival-model variant of the design-B report (``endpoint: survival``), end to end.

The report is built once per module from a design-B config with ``endpoint: survival``
(so the routing to ``radiomics_survival_study`` is exercised) on the demo's clinical table
and a synthetic feature table (``features_path``: no extraction, a few features carry the
progression-free survival signal), with small bootstrap counts. Its key numbers are then
recomputed by direct calls of the statistics on the same data. Bad input (prediction times,
zero times, constant or separating factors, risk groups, routing) is checked on the
package functions directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from compare_report_tables import report_table, report_text
from conftest import REFERENCE_DIR, load_reference

from stsanalysis.data.demo import make_radiomics_clinical
from stsanalysis.errors import InputError
from stsanalysis.report.build import build_report, table_of_contents
from stsanalysis.report.config import load_config
from stsanalysis.stats.brier import brier_score
from stsanalysis.stats.calibration_survival import survival_calibration_summary
from stsanalysis.stats.concordance import concordance_index, uno_concordance
from stsanalysis.stats.cox import cox_regression
from stsanalysis.stats.survival import SurvivalWarning, logrank_test
from stsanalysis.stats.time_dependent import time_dependent_auc
from stsanalysis.studies import design
from stsanalysis.studies import survival_model as study

pytestmark = pytest.mark.slow

SECTIONS = [
    "Radiomics nomogram predicting progression-free survival (design B, survival endpoint)",
    "Cohort",
    "Sample size",
    "Steps 1-2: extraction and reliability of radiomic features",
    "Step 3: harmonisation of the scanner effect",
    "Step 4: radiomics signatures (mRMR + LASSO-Cox)",
    "Step 5: clinical Cox model",
    "Step 6: Cox nomogram",
    "Step 7: discrimination",
    "Step 8: calibration",
    "Step 9: decision curves",
    "Step 10: progression-free survival by nomogram risk group",
    "Methods",
    "Provenance",
]
TIMES = [12.0, 24.0, 36.0]
SURVIVAL = {
    "time": "pfs_months",
    "event": "pfs_event",
    "label": "progression-free survival",
    "unit": "months",
    "times": [0, 12, 24, 36],
    "prediction_times": TIMES,
    "stage": "ajcc_stage",
}
CANDIDATES = ["grade", "age", "sex", "margin", "size_cm", "necrosis"]
SEED = 20240601
FEATURES = [f"original_firstorder_{name}" for name in ("Mean", "Median", "Energy", "Entropy", "Skewness", "Variance")] + [
    f"original_glcm_{name}" for name in ("Contrast", "Correlation", "Idm", "JointEnergy", "ClusterShade", "Autocorrelation")
]


def synthetic_features(clinical: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """A feature table of two sequences, reader 1 for everybody and reader 2 for 40 patients:
    three features per sequence follow a noisy prognostic score, one carries a scanner offset."""
    rng = np.random.default_rng(seed)
    log_time = np.log(clinical["pfs_months"].to_numpy())
    prognosis = (log_time.mean() - log_time) / log_time.std() + 0.5 * clinical["pfs_event"].to_numpy() + rng.normal(0, 1.0, len(clinical))
    scanner = clinical["scanner"].astype("category").cat.codes.to_numpy()
    rows = []
    for sequence in ("T1", "FS-T2"):
        values = rng.normal(size=(len(clinical), len(FEATURES)))
        values[:, :3] += np.outer(prognosis, [0.6, 0.4, -0.5])
        values[:, 4] += 0.8 * scanner
        table = pd.DataFrame(values, columns=FEATURES).assign(patient_id=clinical["patient_id"].to_numpy(), sequence=sequence)
        rows.append(table.assign(reader="reader1"))
        second = table.iloc[:40].copy()
        second[FEATURES] += rng.normal(0, 0.15, second[FEATURES].shape)
        second[FEATURES[-1]] = rng.normal(size=40)  # unreliable: filtered by the ICC
        rows.append(second.assign(reader="reader2"))
    return pd.concat(rows, ignore_index=True)[["patient_id", "sequence", "reader", *FEATURES]]


@pytest.fixture(scope="module")
def cohort_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("survival_model")
    clinical = make_radiomics_clinical()
    clinical.to_csv(folder / "clinical.csv", index=False)
    synthetic_features(clinical).to_csv(folder / "features.csv", index=False)
    return folder


def parameters(folder) -> dict:
    return {
        "endpoint": "survival",
        "clinical_path": str(folder / "clinical.csv"),
        "cases_path": str(folder / "no_cases.csv"),
        "features_path": str(folder / "features.csv"),
        "sequences": {"T1": "mri_t1", "FS-T2": "mri_t2fs"},
        "readers": {"reader1": "reader1", "reader2": "reader2"},
        "survival": SURVIVAL,
        "clinical_candidates": CANDIDATES,
        "mrmr_k": 6,
        "cv_folds": 5,
        "n_boot": 20,
        "n_boot_validation": 10,
        "cache_dir": str(folder / "cache"),
        "seed": SEED,
    }


@pytest.fixture(scope="module")
def report(cohort_files):
    config_path = cohort_files / "study.yaml"
    config_path.write_text(yaml.safe_dump({"notebook": "radiomics_nomogram_study", "parameters": parameters(cohort_files)}))
    config = load_config(config_path)
    path = build_report(config.notebook, config.parameters, output_dir=cohort_files / "reports", name=config.name, title=config.title)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def direct(cohort_files):
    """The same analysis through the package's steps, for the numbers the statistics recompute."""
    from stsanalysis.data.io import read_cohort
    from stsanalysis.studies import radiomics_features as radiomics_steps

    clinical = read_cohort(cohort_files / "clinical.csv")
    cohort = study.prepare_survival_cohort(
        clinical, survival=design.Survival.from_spec(SURVIVAL), split=design.Split.from_spec({}, 1), seed=SEED, model_variables=CANDIDATES
    )
    features, _, _ = radiomics_steps.load_cohort_features(
        cases_path="", case_columns={}, features_path=cohort_files / "features.csv", feature_columns={},
        sequences={"T1": "mri_t1", "FS-T2": "mri_t2fs"}, readers={"reader1": "reader1", "reader2": "reader2"},
        patients=cohort.clinical.index,
    )  # fmt: skip
    tables = radiomics_steps.reader_tables(features, ["T1", "FS-T2"], {"reader1": "reader1", "reader2": "reader2"})
    reliability = radiomics_steps.fit_reliability_filter(tables, 0.75, "ICC2")
    reader1 = reliability.transform(tables["reader1"]).loc[cohort.clinical.index]
    signatures = study.fit_survival_signatures(reader1, cohort, ["T1", "FS-T2"], k=6, lambda_rule="1se", cv=5, n_repeats=1, seed=SEED)
    return cohort, signatures


def test_report_has_every_section_in_order(report):
    assert [entry.text for entry in table_of_contents(report) if entry.level <= 2] == SECTIONS


def test_report_names_the_endpoint_times_and_no_binary_outcome(report):
    text = report_text(report)
    assert "high grade" not in text.lower() and "nan" not in text.split()
    assert "12-month survival" in report and "36-month survival" in report  # the nomogram's survival axes
    assert "Time-dependent AUC at each prediction time (months; 95 % CI)" in text
    assert "Harrell's C (survival::concordance" in text and "riskRegression::Score" in text and "pec::ibs" in text


def test_clinical_cox_model_matches_coxph_on_the_training_set(report, direct):
    cohort, _ = direct
    screen = report_table(report, "univariable_and_multivariable_cox")
    assert screen.loc[screen["in_clinical_model"], "factor"].tolist() == ["grade"]
    training = cohort.clinical[cohort.training.to_numpy()]
    fit = cox_regression(training, "pfs_months", "pfs_event", ["grade"])
    row = screen.set_index("factor").loc["grade"]
    hazard_ratio = fit.coefficients.iloc[0]
    assert row["univariable_hr"] == f"{hazard_ratio.hazard_ratio:.2f} ({hazard_ratio.ci_low:.2f}–{hazard_ratio.ci_high:.2f})"
    assert row["univariable_p"] == pytest.approx(fit.lr_p, rel=1e-9)


def test_key_numbers_equal_direct_calls_of_the_statistics(report, direct):
    cohort, signatures = direct
    nomogram_data = cohort.clinical.assign(rad_score=signatures["Combined signature"].rad_score)
    training = cohort.training.to_numpy()
    fit = cox_regression(nomogram_data[training], "pfs_months", "pfs_event", ["rad_score", "grade"])
    coefficients = report_table(report, "cox_model_of_the_nomogram")
    assert coefficients["coef"].to_numpy() == pytest.approx(fit.coef, rel=1e-9)
    lp = pd.Series(fit.linear_predictor_of(nomogram_data), index=nomogram_data.index)
    valid = ~training
    time, event = nomogram_data["pfs_months"][valid], nomogram_data["pfs_event"][valid]

    concordance = report_table(report, "harrell_s_and_uno_s_c").query("set == 'validation' and model == 'Nomogram'").iloc[0]
    assert concordance["harrell_c"] == pytest.approx(concordance_index(time, event, lp[valid]).c, rel=1e-12)
    assert concordance["uno_c"] == pytest.approx(uno_concordance(time, event, lp[valid], tau=36).c, rel=1e-12)

    aucs = report_table(report, "time_dependent_auc_at_each").query("set == 'validation' and model == 'Nomogram'")
    expected = time_dependent_auc(time, event, lp[valid], TIMES).table
    assert aucs["auc"].to_numpy() == pytest.approx(expected["auc"].to_numpy(), rel=1e-12)
    assert aucs["ci_low"].to_numpy() == pytest.approx(expected["ci_low"].to_numpy(), rel=1e-12)

    survival = fit.predict_survival(nomogram_data[valid], TIMES)
    calibration = report_table(report, "calibration_of_the_nomogram_at").query("set == 'validation'")
    direct_ici = survival_calibration_summary(time, event, survival, groups=5).metrics["ici"].to_numpy()
    assert calibration["ici"].to_numpy() == pytest.approx(direct_ici, rel=1e-9)
    assert np.isfinite(calibration[["ici", "e50", "e90", "emax"]].to_numpy()).all()

    brier = report_table(report, "brier_score_of_the_nomogram").query("set == 'validation' and model == 'Nomogram'")
    assert brier["brier"].to_numpy() == pytest.approx(
        brier_score(time, event, survival, TIMES).table.query("model == 'model'")["brier"], rel=1e-9
    )

    groups = report_table(report, "risk_groups_patients_events").query("set == 'validation'")
    cutoff = np.median(fit.linear_predictor_of(nomogram_data[training], centred=False))
    high = fit.linear_predictor_of(nomogram_data[valid], centred=False) >= cutoff
    assert groups["logrank_p"].iloc[0] == pytest.approx(logrank_test(time, event, np.where(high, "high", "low")).p, rel=1e-9)


def test_routing_picks_the_notebook_of_the_endpoint(tmp_path):
    def config(parameters: dict):
        path = tmp_path / "study.yaml"
        path.write_text(yaml.safe_dump({"notebook": "radiomics_nomogram_study", "parameters": parameters}))
        return load_config(path)

    survival = config({"endpoint": "survival", "mrmr_k": 5})
    assert survival.notebook.stem == "radiomics_survival_study" and survival.name == "radiomics_survival_study"
    assert "endpoint" not in survival.parameters and survival.parameters["mrmr_k"] == 5
    assert config({"endpoint": "binary"}).notebook.stem == "radiomics_nomogram_study"
    assert config({}).notebook.stem == "radiomics_nomogram_study"
    with pytest.raises(InputError, match=r"'endpoint' must be one of \['binary', 'survival'\]; got 'time-to-event'"):
        config({"endpoint": "time-to-event"})
    with pytest.raises(InputError, match=r"unknown parameter\(s\) \['high_grade_from'\]"):
        config({"endpoint": "survival", "high_grade_from": 3})


# ------------------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def clinical():
    return make_radiomics_clinical()


def survival_cohort(clinical, **survival):
    return study.prepare_survival_cohort(
        clinical, survival=design.Survival.from_spec({**SURVIVAL, **survival}), split=design.Split.from_spec({}, 1), seed=SEED
    )


def test_a_prediction_time_beyond_follow_up_names_the_set_and_the_last_usable_time(clinical):
    with pytest.raises(
        InputError, match=r"Prediction time 82 lies beyond the last follow-up of the validation set .*the last usable time is 80\.6"
    ):
        survival_cohort(clinical, prediction_times=[12, 82])
    with pytest.raises(
        InputError, match=r"Prediction time 80\.6 is the last follow-up of the validation set: no patient is followed beyond it"
    ):
        survival_cohort(clinical, prediction_times=[80.6])
    with pytest.warns(SurvivalWarning, match=r"Only 6 patient\(s\) of the validation set are followed beyond prediction time 60"):
        survival_cohort(clinical, prediction_times=[12, 60])


def test_no_events_before_a_time_and_bad_prediction_times_are_refused(clinical):
    with pytest.raises(InputError, match=r"No events occur up to prediction time 0\.4 in the training set"):
        survival_cohort(clinical, prediction_times=[0.4])
    for times, message in (([12, 12], "must increase"), ([0, 12], "must be positive"), (["12"], "list of numbers")):
        with pytest.raises(InputError, match=message):
            design.Survival.from_spec({**SURVIVAL, "prediction_times": times})
    with pytest.raises(InputError, match="needs 'survival"):
        study.prepare_survival_cohort(clinical, survival=None, split=design.Split.from_spec({}, 1), seed=SEED)


def test_zero_or_missing_times_name_the_patients(clinical):
    with pytest.raises(InputError, match=r"patient\(s\) \['B002'\] have a time of 0"):
        survival_cohort(clinical.assign(pfs_months=clinical["pfs_months"].mask(clinical["patient_id"] == "B002", 0.0)))
    with pytest.raises(InputError, match=r"'pfs_months' .* patient\(s\) \['B003'\]"):
        survival_cohort(clinical.assign(pfs_months=clinical["pfs_months"].mask(clinical["patient_id"] == "B003")))


def test_risk_groups_and_missing_data_options_are_checked(clinical):
    assert design.RiskGroups.from_spec({"quantile": 0.67}).cutoff([1.0, 2.0, 3.0, 4.0]) == pytest.approx(np.quantile([1, 2, 3, 4], 0.67))
    assert design.RiskGroups.from_spec({"value": 0.5}).cutoff([9.0]) == 0.5
    for spec, message in ((0.67, "bare number"), ({"quantile": 1.2}, "between 0 and 1"), ("tertiles", "median")):
        with pytest.raises(InputError, match=message):
            design.RiskGroups.from_spec(spec)
    with pytest.raises(InputError, match="'missing: impute' is not available with a survival endpoint"):
        study.prepare_survival_cohort(
            clinical, survival=design.Survival.from_spec(SURVIVAL), split=design.Split.from_spec({}, 1), seed=SEED, missing="impute"
        )


def test_a_factor_constant_in_training_is_named(clinical):
    flagged = clinical.assign(site_flag=np.where(clinical["centre"] == 1, 0.0, 1.0), referral=np.where(clinical["centre"] == 1, "A", "B"))
    cohort = study.prepare_survival_cohort(
        flagged,
        survival=design.Survival.from_spec(SURVIVAL),
        split=design.Split.from_spec({}, 1),
        seed=SEED,
        model_variables=["site_flag", "referral"],
    )
    with pytest.raises(InputError, match=r"In the training set: The predictor 'site_flag' is constant"):
        study.fit_clinical_cox(cohort, ["site_flag"], 0.05)
    with pytest.raises(InputError, match=r"In the training set: The categorical predictor 'referral' must have at least two levels"):
        study.fit_clinical_cox(cohort, ["referral"], 0.05)


def test_monotone_likelihood_is_warned_and_shown_not_estimable(clinical):
    from stsanalysis.studies.survival_model_text import screening_display

    # every training event has the 'implant' level: the hazard ratio grows without bound
    separated = clinical.assign(implant=np.where(clinical["pfs_event"] == 1, "yes", "no"))
    cohort = study.prepare_survival_cohort(
        separated,
        survival=design.Survival.from_spec(SURVIVAL),
        split=design.Split.from_spec({}, 1),
        seed=SEED,
        model_variables=["implant", "age"],
    )
    with pytest.warns(SurvivalWarning, match=r"\['implant\[yes\]'\] diverge in the training set \(monotone likelihood"):
        model = study.fit_clinical_cox(cohort, ["implant", "age"], 0.05)
    shown = screening_display(model.screen).set_index("factor")
    assert shown.loc["implant[yes]", "univariable_hr"] == "not estimable (monotone likelihood)"


def test_mrmr_cox_score_relevance_is_the_breslow_score_test_of_coxph():
    # R: summary(coxph(Surv(months, progression) ~ x, ties = "breslow"))$sctest -> tests/reference/mrmr_cox_score.R
    from stsanalysis.radiomics.selection import MRMRSelector

    expected = load_reference("mrmr_cox_score")
    data = pd.read_csv(REFERENCE_DIR / "mrmr_cox_score_data.csv")
    selector = MRMRSelector(k=2, relevance="cox_score").fit(data[expected["features"]], data[["months", "progression"]])
    statistics = selector.scores_ * 2 * expected["n"]
    assert statistics == pytest.approx([expected["score_statistic"][name] for name in expected["features"]], rel=1e-9)
    assert selector.selected_features_[0] == "ecog"
    with pytest.raises(InputError, match="no events"):
        MRMRSelector(k=1, relevance="cox_score").fit(data[["age"]], data[["months", "progression"]].assign(progression=0))


def test_survival_figures_draw_the_results(direct):
    from stsanalysis.plotting.forest import hazard_ratio_figure
    from stsanalysis.plotting.lasso import lasso_cv_figure, lasso_path_figure
    from stsanalysis.plotting.survival_calibration import survival_calibration_figure
    from stsanalysis.plotting.time_auc import time_auc_figure
    from stsanalysis.stats.cox_validation import cox_calibrate

    cohort, signatures = direct
    lasso = signatures["Combined signature"].pipeline.named_steps["lasso"]
    assert lasso_cv_figure(lasso, deviance="Partial-likelihood deviance").layout.yaxis.title.text.startswith("Partial-likelihood")
    assert len(lasso_path_figure(lasso).data) == lasso.path_.shape[1]  # a Cox path has no intercept column
    data = cohort.clinical.assign(rad_score=signatures["Combined signature"].rad_score)[cohort.training.to_numpy()]
    result = time_dependent_auc(data["pfs_months"], data["pfs_event"], data["rad_score"], [6, 12, 24, 36])
    figure = time_auc_figure({"Combined signature": result}, prediction_times=TIMES, time_label="Months")
    assert [trace.meta["role"] for trace in figure.data] == ["band", "curve"]
    assert list(figure.data[1].y) == pytest.approx(result.table["auc"].to_list())
    fit = cox_regression(data, "pfs_months", "pfs_event", ["rad_score"])
    summary = survival_calibration_summary(data["pfs_months"], data["pfs_event"], fit.predict_survival(data, TIMES), groups=4)
    corrected = cox_calibrate(data, "pfs_months", "pfs_event", ["rad_score"], 12, n_boot=5, seed=1, groups=4).table.assign(time=12.0)
    figure = survival_calibration_figure(summary, corrected=corrected, unit="months")
    roles = [(trace.meta or {}).get("role") for trace in figure.data]
    assert roles.count("smooth") == 3 and roles.count("grouped") == 3 and roles.count("corrected") == 1
    assert figure.data[1].name == f"12 months: smooth (ICI {summary.at(12).ici:.3f})"
    screen = study.cox_screen(cohort, ["grade", "sex"], 0.05)
    figure = hazard_ratio_figure(screen)
    assert figure.layout.xaxis.title.text == "Hazard ratio (95 % CI, log scale)" and "HR" in figure.data[0].hovertemplate


def test_command_line_notebook_and_endpoint_parameter_pick_the_survival_notebook():
    """``stsanalysis report --notebook radiomics_nomogram_study -p endpoint=survival`` routes as a config does."""
    from stsanalysis.cli import _config_from_notebook, build_parser

    args = build_parser().parse_args(["report", "--notebook", "radiomics_nomogram_study", "-p", "endpoint=survival", "-p", "mrmr_k=5"])
    config = _config_from_notebook(args)
    assert config.notebook.stem == "radiomics_survival_study"
    assert config.parameters == {"mrmr_k": 5}
