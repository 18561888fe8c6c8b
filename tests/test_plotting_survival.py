"""Kaplan-Meier figure: its data (curves, bands, censoring marks, numbers at risk), not pixels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_reference

from stsanalysis import InputError, stats
from stsanalysis.plotting import km_figure

REFERENCE = load_reference("survival")
LUNG = pd.read_csv(REFERENCE_DIR / "survival_lung.csv")


@pytest.fixture(scope="module")
def lung_km():
    return stats.kaplan_meier(LUNG["time"], LUNG["event"], LUNG["sex"])


def trace(figure, name):
    (found,) = [item for item in figure.data if item.name == name]
    return found


def test_one_step_curve_with_ci_band_per_group(lung_km):
    figure = km_figure(lung_km)
    for group in (1, 2):
        table = lung_km.table[lung_km.table["group"] == group]
        curve = trace(figure, str(group))
        assert curve.line.shape == "hv"
        # starts at S(0) = 1, then the survfit estimate at every distinct time
        np.testing.assert_array_equal(curve.x, np.concatenate(([0.0], table["time"])))
        np.testing.assert_array_equal(curve.y, np.concatenate(([1.0], table["survival"])))
        upper, lower = trace(figure, f"{group} CI upper"), trace(figure, f"{group} CI lower")
        np.testing.assert_array_equal(upper.y[1:], table["ci_high"])
        np.testing.assert_array_equal(lower.y[1:], table["ci_low"])
        assert lower.fill == "tonexty" and upper.legendgroup == lower.legendgroup == curve.legendgroup
    assert [item.name for item in figure.data if item.showlegend is not False] == ["1", "2"]


def test_censoring_marks_sit_on_the_curve_at_censoring_times(lung_km):
    figure = km_figure(lung_km)
    table = lung_km.table[lung_km.table["group"] == 2]
    marks = trace(figure, "2 censored")
    assert marks.marker.symbol == "cross-thin"
    censored = table[table["n_censor"] > 0]
    np.testing.assert_array_equal(marks.x, censored["time"])
    np.testing.assert_array_equal(marks.y, censored["survival"])


def test_numbers_at_risk_row_matches_r_risk_table(lung_km):
    # R: summary(survfit(Surv(time, event) ~ sex), times = c(0, 250, 500, 750, 1000), extend = TRUE)$n.risk
    expected = REFERENCE["risk_table_lung_sex"]
    times = [0, 250, 500, 750, 1000]
    figure = km_figure(lung_km, at_risk_times=times)
    expected_groups = np.array(expected["group"])
    for group in ("1", "2"):
        numbers = trace(figure, f"{group} at risk")
        assert numbers.xaxis == "x2" and numbers.yaxis == "y2"  # second row, shared x axis
        np.testing.assert_array_equal(numbers.x, times)
        assert list(numbers.y) == [group] * len(times)
        assert [int(text) for text in numbers.text] == np.array(expected["n_risk"])[expected_groups == group].tolist()
    assert figure.layout.xaxis2.matches == "x" or figure.layout.xaxis.matches == "x2"
    assert list(figure.layout.xaxis.tickvals) == times
    assert list(figure.layout.yaxis2.categoryarray) == ["2", "1"]  # first group on top


def test_default_at_risk_times_are_round_numbers_to_last_follow_up(lung_km):
    numbers = trace(km_figure(lung_km), "1 at risk")
    np.testing.assert_array_equal(numbers.x, [0, 250, 500, 750, 1000])


def test_logrank_p_is_annotated_only_when_given(lung_km):
    test = stats.logrank_test(LUNG["time"], LUNG["event"], LUNG["sex"])  # p = 0.0016
    figure = km_figure(lung_km, logrank=test, title="Overall survival by sex")
    texts = [annotation.text for annotation in figure.layout.annotations]
    assert "Log-rank p = 0.002" in texts
    assert figure.layout.title.text == "Overall survival by sex"
    peto = stats.logrank_test(LUNG["time"], LUNG["event"], LUNG["sex"], rho=1)
    assert peto.p < 0.001
    assert "Peto-Peto p < 0.001" in [annotation.text for annotation in km_figure(lung_km, logrank=peto).layout.annotations]
    assert not any("p =" in annotation.text for annotation in km_figure(lung_km).layout.annotations)


def test_single_curve_without_groups():
    figure = km_figure(stats.kaplan_meier(LUNG["time"], LUNG["event"]), at_risk_times=[0, 500])
    assert [int(text) for text in trace(figure, "all at risk").text] == [len(LUNG), int((LUNG["time"] >= 500).sum())]


def test_figure_needs_a_kaplan_meier_result():
    with pytest.raises(InputError, match="KMResult"):
        km_figure(LUNG)
