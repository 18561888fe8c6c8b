"""The interactive nomogram gives the points and risk of Nomogram.score for the values entered."""

from __future__ import annotations

import pandas as pd
import pytest

from stsanalysis.stats.logistic import logistic_regression
from stsanalysis.stats.nomogram import Nomogram
from stsanalysis.viewer import NomogramCalculator


@pytest.fixture(scope="module")
def nomogram(logistic_cohort):
    return Nomogram(logistic_regression(logistic_cohort, "high_grade", ["age", "margin"]), logistic_cohort)


def test_form_has_a_slider_for_numbers_and_a_dropdown_for_levels(nomogram):
    calculator = NomogramCalculator(nomogram)
    assert type(calculator.inputs["age"]).__name__ == "FloatSlider"
    assert type(calculator.inputs["margin"]).__name__ == "Dropdown"
    assert nomogram.continuous_predictors == ("age",)


def test_changing_a_value_updates_points_and_risk(nomogram):
    calculator = NomogramCalculator(nomogram)
    calculator.inputs["age"].value = 70.0
    calculator.inputs["margin"].value = calculator.inputs["margin"].options[-1]
    expected = nomogram.score(pd.DataFrame([{"age": 70.0, "margin": calculator.inputs["margin"].options[-1]}])).iloc[0]
    assert calculator.result().iloc[0]["probability"] == pytest.approx(expected["probability"], rel=1e-12)
    assert f"{expected['total_points']:.2f}" in calculator.output.value
    assert f"{expected['probability']:.2f}" in calculator.output.value
    probability = nomogram.model.predict(calculator.patient())[0]
    assert expected["probability"] == pytest.approx(probability, rel=1e-12)


def test_static_report_shows_a_note_instead_of_the_form(nomogram):
    bundle = NomogramCalculator(nomogram)._repr_mimebundle_()
    assert "runs when this notebook is opened in JupyterLab" in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
