"""An interactive nomogram: enter a patient's values, read the points and the predicted risk.

The computation is :meth:`stsanalysis.stats.Nomogram.score` (the same numbers as the drawn
nomogram and the model's ``predict``); this module only builds the ipywidgets form. It runs
in JupyterLab; a static HTML report shows the drawn nomogram and its points table instead.
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ..report.formatting import to_html_table

STATIC_NOTE = (
    "<p><em>The interactive nomogram calculator (enter a patient's values, read the points and "
    "the risk) runs when this notebook is opened in JupyterLab; the points table above gives "
    "the same numbers.</em></p>"
)


class NomogramCalculator:
    """One input per predictor (a slider over the axis range, or a dropdown of levels).

    ``widget`` is the form to display; ``patient()`` the current values as a one-row
    DataFrame and ``result()`` its score (points per predictor, total points, linear
    predictor, probability).
    """

    def __init__(self, nomogram, risk_label: str = "Predicted probability"):
        self.nomogram = nomogram
        self.risk_label = risk_label
        table = nomogram.points_table()
        self.inputs = {}
        for predictor in nomogram.model.predictors:
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
                self.inputs[predictor] = widgets.Dropdown(
                    options=values, value=values[0], description=predictor, style={"description_width": "160px"}
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

    def update(self) -> None:
        scored = self.result().iloc[0]
        rows = [(predictor, self.inputs[predictor].value, scored[predictor]) for predictor in self.nomogram.model.predictors]
        rows += [("Total points", "", scored["total_points"]), (self.risk_label, "", scored["probability"])]
        frame = pd.DataFrame(rows, columns=["predictor", "value", "points"])
        self.output.value = to_html_table(frame, caption="This patient", digits=2, download=False)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # JupyterLab renders the form; nbconvert (no widget state) falls back to the note.
        bundle["text/html"] = STATIC_NOTE
        return bundle
