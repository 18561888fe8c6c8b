"""Decision curves against a hand R implementation of Vickers & Elkin 2006 -> tests/reference/decision_curve.R."""

import numpy as np
import pytest
from conftest import load_reference

from stsanalysis import InputError
from stsanalysis.stats.decision_curve import decision_curve

COLUMNS = ["tp", "fp", "net_benefit", "net_interventions_avoided"]


@pytest.fixture(scope="module")
def data(calibration_predictions):
    return calibration_predictions


@pytest.fixture(scope="module")
def reference():
    return load_reference("decision_curve")


def test_net_benefit_matches_hand_r(data, reference):
    # R: NB = TP/n - FP/n * pt/(1 - pt) at pt = (1:99)/100, positive = p >= pt
    table = decision_curve(data["y"], {"model": data["p"], "coarse": data["p_coarse"]})
    assert table["model"].unique().tolist() == ["model", "coarse", "treat all", "treat none"]
    for name, key in [
        ("model", "model"),
        ("coarse", "coarse"),
        ("treat all", "treat_all"),
        ("treat none", "treat_none"),
    ]:
        rows = table[table["model"] == name]
        assert rows["threshold"].to_numpy() == pytest.approx(reference["thresholds"], rel=1e-15)
        for column in COLUMNS:
            assert rows[column].to_numpy() == pytest.approx(reference[key][column], rel=1e-9, abs=1e-12), (name, column)
    assert "ci_low" not in table


def test_custom_thresholds(data, reference):
    table = decision_curve(data["y"], {"model": data["p"]}, thresholds=reference["custom_thresholds"])
    rows = table[table["model"] == "model"]
    for column in COLUMNS:
        assert rows[column].to_numpy() == pytest.approx(reference["model_custom"][column], rel=1e-9)


def test_bootstrap_band(data):
    table = decision_curve(data["y"], {"model": data["p"]}, thresholds=[0.1, 0.3, 0.5], n_boot=1000, seed=7)
    model = table[table["model"] == "model"]
    assert (model["ci_low"] < model["net_benefit"]).all() and (model["net_benefit"] < model["ci_high"]).all()
    # treat all at 0.5: NB = prevalence - (1 - prevalence); its bootstrap SE is about 2 sqrt(p(1-p)/n)
    treat_all = table[(table["model"] == "treat all") & (table["threshold"] == 0.5)].iloc[0]
    prevalence = data["y"].mean()
    expected_half_width = 1.96 * 2 * np.sqrt(prevalence * (1 - prevalence) / len(data))
    assert (treat_all["ci_high"] - treat_all["ci_low"]) / 2 == pytest.approx(expected_half_width, rel=0.1)
    none = table[table["model"] == "treat none"]
    assert (none[["ci_low", "ci_high"]] == 0).all().all()


def test_bad_input_is_refused(data):
    with pytest.raises(InputError, match=r"'thresholds' must be probabilities strictly between 0 and 1"):
        decision_curve(data["y"], {"model": data["p"]}, thresholds=[0.0, 0.5])
    with pytest.raises(InputError, match=r"'thresholds'"):
        decision_curve(data["y"], {"model": data["p"]}, thresholds=[0.5, 1.2])
    with pytest.raises(InputError, match=r"predictions\['bad'\]' must be probabilities between 0 and 1"):
        decision_curve([0, 1, 1], {"bad": [0.2, 1.3, 0.5]})
    with pytest.raises(InputError, match=r"reserved"):
        decision_curve([0, 1, 1], {"treat all": [0.2, 0.3, 0.5]})
    with pytest.raises(InputError, match=r"same length"):
        decision_curve([0, 1, 1], {"model": [0.2, 0.3]})
    # 0 and 1 are valid risks for a decision curve (no logit is taken)
    table = decision_curve([0, 1, 1], {"model": [0.0, 1.0, 0.5]}, thresholds=[0.5])
    assert table.loc[table["model"] == "model", "tp"].iloc[0] == 2
