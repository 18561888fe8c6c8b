"""Figures of the model statistics: the data they draw, not their pixels."""

import numpy as np
import pandas as pd
import pytest
from conftest import LOGISTIC_PREDICTORS as PREDICTORS

from stsanalysis import InputError
from stsanalysis.plotting.calibration import calibration_figure
from stsanalysis.plotting.dca import decision_curve_figure
from stsanalysis.plotting.forest import forest_figure
from stsanalysis.plotting.nomogram import nomogram_figure
from stsanalysis.stats.calibration import calibration_curve, calibration_summary
from stsanalysis.stats.decision_curve import decision_curve
from stsanalysis.stats.logistic import logistic_regression
from stsanalysis.stats.nomogram import Nomogram
from stsanalysis.stats.screening import univariable_multivariable


@pytest.fixture(scope="module")
def predictions(calibration_predictions):
    return calibration_predictions


@pytest.fixture(scope="module")
def cohort(logistic_cohort):
    return logistic_cohort


@pytest.fixture(scope="module")
def model(logistic_model):
    return logistic_model


def traces(figure, key, value):
    return [trace for trace in figure.data if trace.meta and trace.meta.get(key) == value]


def test_calibration_figure_draws_the_curves(predictions):
    figure = calibration_figure(calibration_summary(predictions["y"], predictions["p"], n_boot=50, seed=1))
    loess = calibration_curve(predictions["y"], predictions["p"])
    (curve,) = traces(figure, "role", "loess")
    assert np.asarray(curve.y) == pytest.approx(loess["observed"].to_numpy())
    (ideal,) = traces(figure, "role", "ideal")
    assert list(ideal.x) == [0, 1] and list(ideal.y) == [0, 1]
    (grouped,) = traces(figure, "role", "grouped")
    assert np.asarray(grouped.y) == pytest.approx(
        calibration_curve(predictions["y"], predictions["p"], method="grouped")["observed"].to_numpy()
    )
    (band,) = traces(figure, "role", "band")
    assert band.fill == "toself" and min(band.y) >= 0 and max(band.y) <= 1
    (events,) = traces(figure, "role", "histogram_events")
    (nonevents,) = traces(figure, "role", "histogram_nonevents")
    assert len(events.x) == predictions["y"].sum()
    assert -np.sum(nonevents.y) == (predictions["y"] == 0).sum()
    assert "Hosmer-Lemeshow p" in figure.layout.annotations[0].text
    assert not traces(calibration_figure(calibration_summary(predictions["y"], predictions["p"], n_boot=0, seed=None)), "role", "band")


def test_calibration_figure_draws_the_summary_without_computing(predictions, monkeypatch):
    summary = calibration_summary(predictions["y"], predictions["p"], groups=8, n_boot=20, seed=3)
    for name in ("calibration_curve", "calibration_metrics", "hosmer_lemeshow"):
        monkeypatch.setattr(f"stsanalysis.stats.calibration.{name}", None)
    figure = calibration_figure(summary, name="Nomogram")
    (band,) = traces(figure, "role", "band")
    curve = summary.curve.dropna(subset=["ci_low", "ci_high"])
    assert np.asarray(band.y[: len(curve)]) == pytest.approx(np.clip(curve["ci_high"].to_numpy(), 0, 1))
    (grouped,) = traces(figure, "role", "grouped")
    assert len(grouped.x) == len(summary.grouped) and grouped.name == "Grouped (8 risk groups)"
    assert traces(figure, "role", "loess")[0].name == "Nomogram (lowess)"
    with pytest.raises(InputError, match="CalibrationSummary"):
        calibration_figure(predictions["y"])


def test_decision_curve_figure(predictions):
    table = decision_curve(predictions["y"], {"model": predictions["p"]}, n_boot=20, seed=1)
    figure = decision_curve_figure(table)
    curves = traces(figure, "role", "curve")
    assert [trace.name for trace in curves] == ["model", "treat all", "treat none"]
    model_rows = table[table["model"] == "model"]
    assert np.asarray(curves[0].y) == pytest.approx(model_rows["net_benefit"].to_numpy())
    assert len(traces(figure, "role", "band")) == 2  # model and treat all; treat none has no uncertainty
    prevalence = predictions["y"].mean()
    assert tuple(figure.layout.yaxis.range) == pytest.approx((-0.1 * prevalence, 1.1 * prevalence))
    with pytest.raises(InputError, match=r"\['net_benefit'\]"):
        decision_curve_figure(table.drop(columns="net_benefit"))


def test_nomogram_figure_places_ticks_at_points(model, cohort):
    nomogram = Nomogram(model, cohort)
    figure = nomogram_figure(nomogram)
    names = [trace.name for trace in figure.data]
    assert names == ["Points", *PREDICTORS, "Total points", "Linear predictor", "Risk"]
    table = nomogram.points_table()
    (size,) = traces(figure, "axis", "size_cm")
    assert np.asarray(size.x) == pytest.approx(table.loc[table["predictor"] == "size_cm", "points"].to_numpy())
    assert list(size.text)[:3] == ["2", "4", "6"]
    (stage,) = traces(figure, "axis", "t_stage")
    assert list(stage.text) == ["T1", "T2", "T3"]
    (total,) = traces(figure, "axis", "Total points")
    assert total.x[-1] == pytest.approx(100) and list(total.text)[-1] == "130"
    (risk,) = traces(figure, "axis", "Risk")
    stretch = 100 / nomogram.total_points_axis()[-1]
    assert np.asarray(risk.x) == pytest.approx(nomogram.risk_axis()["total_points"].to_numpy() * stretch)
    assert not hasattr(nomogram, "figure")  # statistics never import plotting: draw with nomogram_figure


def test_forest_figure_of_a_model_and_of_the_screening_table(model, cohort):
    figure = forest_figure(model)
    (estimates,) = figure.data
    coefficients = model.coefficients.iloc[1:]
    assert np.asarray(estimates.x) == pytest.approx(coefficients["odds_ratio"].to_numpy())
    assert np.asarray(estimates.error_x.array) == pytest.approx((coefficients["ci_high"] - coefficients["odds_ratio"]).to_numpy())
    assert figure.layout.xaxis.type == "log"
    assert list(figure.layout.yaxis.ticktext) == coefficients["term"].tolist()
    screening = forest_figure(univariable_multivariable(cohort, "high_grade", PREDICTORS))
    assert [trace.name for trace in screening.data] == ["Univariable", "Multivariable"]
    assert len(screening.data[0].x) == 5 and len(screening.data[1].x) == 3  # size_cm, t_stage[T2], t_stage[T3]


def test_forest_figure_leaves_out_infinite_estimates():
    data = pd.DataFrame({"x": np.arange(40.0), "y": (np.arange(40) >= 20).astype(int)})
    with pytest.warns(UserWarning, match="Separation"):
        separated = logistic_regression(data, "y", ["x"])
    figure = forest_figure(separated)
    assert len(figure.data[0].x) == 0
    assert figure.layout.meta["omitted"] == ["Odds ratio: x"]
