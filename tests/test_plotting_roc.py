"""ROC figure: the data in the traces and the numbers in the legend (not pixels)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR

from stsanalysis import InputError, stats
from stsanalysis.plotting.roc import roc_figure

INPUTS = pd.read_csv(REFERENCE_DIR / "roc_input.csv")
N180 = INPUTS[INPUTS["dataset"] == "n180"]
ROCS = {
    "model A": stats.roc(N180["y"], N180["score"]),
    "model B": stats.roc(N180["y"], N180["score_b"]),
}


def traces(figure, role):
    return [trace for trace in figure.data if trace.meta and trace.meta["role"] == role]


def test_curves_are_one_minus_specificity_against_sensitivity():
    figure = roc_figure(ROCS)
    curves = traces(figure, "curve")
    assert [trace.meta["model"] for trace in curves] == ["model A", "model B"]
    for trace, result in zip(curves, ROCS.values()):
        np.testing.assert_allclose(trace.x, 1 - result.curve["specificity"])
        np.testing.assert_allclose(trace.y, result.curve["sensitivity"])


def test_legend_shows_auc_and_delong_ci():
    figure = roc_figure(ROCS)
    for trace, result in zip(traces(figure, "curve"), ROCS.values()):
        auc, low, high = map(float, re.search(r"AUC ([\d.]+) \(95 % CI ([\d.]+)–([\d.]+)\)", trace.name).groups())
        assert auc == pytest.approx(result.auc, abs=5e-4)
        assert low == pytest.approx(result.ci_low, abs=5e-4)
        assert high == pytest.approx(result.ci_high, abs=5e-4)
    assert traces(figure, "curve")[0].name == "model A: AUC 0.902 (95 % CI 0.858–0.947)"


def test_youden_marker_sits_on_the_cutoff():
    figure = roc_figure(ROCS)
    for trace, result in zip(traces(figure, "youden"), ROCS.values()):
        cutoff = result.youden()
        assert trace.x[0] == pytest.approx(1 - cutoff.specificity)
        assert trace.y[0] == pytest.approx(cutoff.sensitivity)
        assert trace.meta["rule"] == cutoff.rule
    assert traces(roc_figure(ROCS, mark_youden=False), "youden") == []


def test_band_is_the_bootstrap_band_and_reproducible():
    figure = roc_figure(ROCS["model A"].with_band(300, seed=5))
    (band,) = traces(figure, "band")
    expected = ROCS["model A"].bootstrap_band(n_boot=300, seed=5, specificities=np.linspace(0, 1, 101))
    n = len(expected)
    np.testing.assert_allclose(band.y[:n], expected["sensitivity_high"])
    np.testing.assert_allclose(band.y[n:], expected["sensitivity_low"][::-1])
    np.testing.assert_allclose(band.x[:n], 1 - expected["specificity"])
    assert band.fill == "toself"
    again = traces(roc_figure(ROCS["model A"].with_band(300, seed=5)), "band")[0]
    np.testing.assert_array_equal(band.y, again.y)


def test_figure_draws_a_band_only_when_the_result_carries_one(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("roc_figure must not compute")

    banded = {"model A": ROCS["model A"].with_band(100, seed=1), "model B": ROCS["model B"]}
    monkeypatch.setattr(stats.RocResult, "bootstrap_band", refuse)
    figure = roc_figure(banded)
    assert [trace.meta["model"] for trace in traces(figure, "band")] == ["model A"]
    assert traces(roc_figure(ROCS), "band") == []


def test_reference_diagonal_square_axes_and_title():
    figure = roc_figure(ROCS, title="Training set")
    (diagonal,) = traces(figure, "reference")
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.yaxis.scaleratio == 1
    assert figure.layout.width == figure.layout.height
    assert figure.layout.title.text == "Training set"
    assert figure.layout.xaxis.title.text == "1 - specificity"


def test_single_result_and_empty_input():
    figure = roc_figure(ROCS["model B"])
    assert traces(figure, "curve")[0].name.startswith("ROC: AUC 0.819")
    with pytest.raises(InputError, match="at least one ROC"):
        roc_figure({})
