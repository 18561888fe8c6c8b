"""An interactive nomogram: enter a patient's values, read the points and the prediction.

The computation is the nomogram's ``score``: :meth:`stsanalysis.stats.Nomogram.score` (the
predicted risk, as the model's ``predict``) or
:meth:`stsanalysis.stats.cox_nomogram.CoxNomogram.score` (survival at each time, as the Cox
model's ``predict_survival``, and the median survival if drawn); this module only builds
the ipywidgets form. It runs in JupyterLab; a static HTML report shows the drawn nomogram and
its points table instead.
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ..report.formatting import to_html_table
from ..stats.cox_nomogram import CoxNomogram

STATIC_NOTE = (
    "<p><em>The interactive nomogram calculator (enter a patient's values, read the points and "
    "the risk) runs when this notebook is opened in JupyterLab; the points table above gives "
    "the same numbers.</em></p>"
)


class NomogramCalculator:
    """One input per predictor (a slider over the axis range, or a dropdown of levels).

    ``widget`` is the form to display; ``patient()`` the current values as a one-row
    DataFrame and ``result()`` its score (points per predictor, total points, linear
    predictor, and the probability of a logistic nomogram or the survival at each time of a
    :class:`~stsanalysis.stats.cox_nomogram.CoxNomogram`). ``risk_label`` names the
    probability of a logistic nomogram; a Cox nomogram's outcomes carry its ``labels``.
    """

    def __init__(self, nomogram, risk_label: str = "Predicted probability"):
        self.nomogram = nomogram
        self.risk_label = risk_label
        table = nomogram.points_table()
        self.inputs = {}
        for predictor in nomogram.predictors:
            values = table.loc[table["predictor"] == predictor, "value"].tolist()
            if predictor in nomogram.continuous_predictors:
                low, high = float(min(values)), float(max(values))
                self.inputs[predictor] = widgets.FloatSlider(
                    value=(low + high) / 2,
                    min=low,
                    max=high,
                    step=(high - low) / 200,
                    description=predictor,
                    continuous_update=False,
                    style={"description_width": "160px"},
                    layout={"width": "520px"},
                )
            else:
                # a two-valued numeric covariate of a Cox nomogram: show 0/1, not 0.0/1.0
                numeric = all(isinstance(value, (int, float)) for value in values)
                options = [(f"{value:g}", value) for value in values] if numeric else values
                self.inputs[predictor] = widgets.Dropdown(
                    options=options, value=values[0], description=predictor, style={"description_width": "160px"}
                )
        self.output = widgets.HTML()
        for control in self.inputs.values():
            control.observe(lambda _change: self.update(), names="value")
        self.widget = widgets.VBox([*self.inputs.values(), self.output])
        self.update()

    def patient(self) -> pd.DataFrame:
        return pd.DataFrame([{predictor: control.value for predictor, control in self.inputs.items()}])

    def result(self) -> pd.DataFrame:
        return self.nomogram.score(self.patient())

    def outcome_labels(self) -> dict[str, str]:
        """Score column -> label of the predictions shown below the total points."""
        if isinstance(self.nomogram, CoxNomogram):
            return dict(self.nomogram.labels)
        return {"probability": self.risk_label}

    def update(self) -> None:
        scored = self.result().iloc[0]
        rows = [(predictor, self.inputs[predictor].value, scored[predictor]) for predictor in self.nomogram.predictors]
        rows += [("Total points", "", scored["total_points"])]
        rows += [(label, "", scored[column]) for column, label in self.outcome_labels().items()]
        frame = pd.DataFrame(rows, columns=["predictor", "value", "points"])
        self.output.value = to_html_table(frame, caption="This patient", digits=2, download=False)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # JupyterLab renders the form; nbconvert (no widget state) falls back to the note.
        bundle["text/html"] = STATIC_NOTE
        return bundle
