"""What a study is, as its config describes it: the outcome, the split and the survival endpoint.

A study config names the user's own endpoint, split and survival columns; the notebooks read
them through these classes, so that no heading, table, sentence or figure legend hard-wires
the demo's "high grade", its two centres or its progression-free survival. Every check
raises :class:`~stsanalysis.errors.InputError` naming the config key, the column and the
values present, before anything is fitted.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import require_columns
from .split import TRAINING, VALIDATION

_COMPARISONS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne}
_COMPARISON_PATTERN = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


def capitalised(text: str) -> str:
    """``text`` with its first letter in upper case and the rest unchanged (unlike ``str.capitalize``).

    >>> capitalised("lung metastasis on CT")
    'Lung metastasis on CT'
    """
    return text[:1].upper() + text[1:]


def _check_keys(spec, key: str, allowed: Sequence[str], required: Sequence[str] = ()) -> dict:
    if not isinstance(spec, Mapping):
        raise InputError(f"'{key}' must be a mapping with the keys {list(allowed)}; got {spec!r}.")
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise InputError(f"'{key}': unknown key(s) {unknown}; allowed keys are {list(allowed)}.")
    missing = [name for name in required if spec.get(name) in (None, "")]
    if missing:
        raise InputError(f"'{key}' needs the key(s) {missing}.")
    return dict(spec)


def _values_present(series: pd.Series) -> list:
    return sorted(series.dropna().unique().tolist(), key=str)


@dataclass(frozen=True)
class Outcome:
    """A binary endpoint: which column, which of its values count as positive, and its name.

    ``positive`` is a tuple of values, or ``comparison`` an (operator, number) pair such as
    (">=", 3). ``label`` names the positive class in every heading and sentence ("lung
    metastasis"); ``negative_label`` the other ("no lung metastasis" by default).
    ``reference_standard`` is the phrase of the methods text.
    """

    column: str
    label: str
    positive: tuple = ()
    comparison: tuple[str, float] | None = None
    negative_label: str | None = None
    description: str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping, key: str = "outcome") -> Outcome:
        """An outcome from its config mapping ``{column, positive, label[, negative_label, description]}``.

        ``positive`` is a value, a list of values, or a comparison with a number (``">= 3"``).

        >>> Outcome.from_spec({"column": "grade", "positive": ">= 3", "label": "high grade"}).definition
        'grade ≥ 3'
        >>> Outcome.from_spec({"column": "response", "positive": ["CR", "PR"], "label": "response"}).negative
        'no response'
        """
        spec = _check_keys(spec, key, ("column", "positive", "label", "negative_label", "description"), ("column", "positive", "label"))
        positive = spec["positive"]
        match = _COMPARISON_PATTERN.match(positive) if isinstance(positive, str) else None
        values = () if match else tuple(positive) if isinstance(positive, list | tuple) else (positive,)
        if not match and not values:
            raise InputError(f"'{key}.positive' must be a value, a list of values or a comparison such as '>= 3'; got {positive!r}.")
        return cls(
            column=str(spec["column"]),
            label=str(spec["label"]),
            positive=values,
            comparison=(match.group(1), float(match.group(2))) if match else None,
            negative_label=spec.get("negative_label"),
            description=spec.get("description"),
        )

    @classmethod
    def high_grade(cls, high_grade_from: int, column: str = "grade") -> Outcome:
        """The demo's endpoint: FNCLCC grade at or above ``high_grade_from`` (the ``high_grade_from`` shorthand)."""
        if high_grade_from not in (2, 3):
            raise InputError(f"'high_grade_from' must be 2 (grade II-III vs I) or 3 (grade III vs I-II); got {high_grade_from!r}.")
        grades = "III" if high_grade_from == 3 else "II-III"
        return cls(
            column=column,
            label="high grade",
            comparison=(">=", float(high_grade_from)),
            negative_label="low grade",
            description=f"high grade (FNCLCC grade {grades}) at histopathology",
        )

    @property
    def negative(self) -> str:
        return self.negative_label or f"no {self.label}"

    @property
    def class_labels(self) -> dict[int, str]:
        """``{0: "Low grade", 1: "High grade"}``: the classes as table headers name them."""
        return {0: capitalised(self.negative), 1: capitalised(self.label)}

    @property
    def contrast(self) -> str:
        """The two classes in one phrase: "low vs high grade", "no lung metastasis vs lung metastasis"."""
        negative, positive = self.negative.split(), self.label.split()
        if len(negative) > 1 and len(positive) > 1 and negative[1:] == positive[1:]:
            return f"{negative[0]} vs {self.label}"
        return f"{self.negative} vs {self.label}"

    @property
    def predicted_groups(self) -> tuple[str, str]:
        """The groups a model's cut-off predicts: (below, at or above)."""
        return f"predicted {self.negative}", f"predicted {self.label}"

    @property
    def count_column(self) -> str:
        """The column name of a count of positives ("high_grade")."""
        return re.sub(r"\W+", "_", self.label.strip()).strip("_") or "positive"

    @property
    def definition(self) -> str:
        """The rule as text: "grade ≥ 3", "response = CR or PR"."""
        if self.comparison:
            symbol, number = self.comparison
            shown = {">=": "≥", "<=": "≤", "!=": "≠", "==": "="}.get(symbol, symbol)
            return f"{self.column} {shown} {number:g}"
        return f"{self.column} = {' or '.join(str(value) for value in self.positive)}"

    @property
    def reference_standard(self) -> str:
        """The phrase of the methods text ("high grade (FNCLCC grade III) at histopathology")."""
        return self.description or f"{self.label} ({self.definition})"

    def classify(self, data: pd.DataFrame, what: str = "the clinical table") -> pd.Series:
        """1 for a positive patient, 0 otherwise; an error names missing values or an unknown positive value."""
        require_columns(data, [self.column], what)
        values = data[self.column]
        if values.isna().any():
            patients = values.index[values.isna()].tolist()
            raise InputError(
                f"The outcome column '{self.column}' is missing for {len(patients)} patient(s) ({patients[:10]}); "
                "fill it in or remove them: a patient without an outcome cannot enter the models."
            )
        if self.comparison:
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.isna().any():
                raise InputError(
                    f"The outcome '{self.definition}' compares with a number, but '{self.column}' holds text "
                    f"({_values_present(values[numeric.isna()])[:5]}); give 'positive' as a value or a list of values."
                )
            symbol, number = self.comparison
            return pd.Series(_COMPARISONS[symbol](numeric, number).astype(int), index=data.index, name=self.column)
        present = _values_present(values)
        as_text = values.astype(str)
        wanted = {str(value) for value in self.positive}
        unknown = sorted(wanted - set(as_text))
        if unknown:
            raise InputError(f"The outcome's positive value(s) {unknown} do not occur in '{self.column}'; its values are {present}.")
        return pd.Series(as_text.isin(wanted).astype(int).to_numpy(), index=data.index, name=self.column)


def outcome_from_config(
    outcome: Mapping | None, high_grade_from: int | None, *, grade_column: str = "grade", key: str = "outcome"
) -> Outcome:
    """``outcome`` when given, else the ``high_grade_from`` shorthand; both given is a contradiction."""
    if outcome:
        return Outcome.from_spec(outcome, key)
    if high_grade_from is None:
        raise InputError(f"Give the endpoint as '{key}: {{column, positive, label}}' (or the shorthand 'high_grade_from').")
    return Outcome.high_grade(high_grade_from, grade_column)


# --------------------------------------------------------------------------------------
# The split into training and validation sets
# --------------------------------------------------------------------------------------
#: How manuscripts name the validation of each kind of split.
VALIDATION_NAMES = {"centre": "external validation", "column": "validation", "date": "temporal validation", "random": "internal validation"}


@dataclass(frozen=True)
class Split:
    """How patients are split into the training and the validation set.

    ``by`` is "centre" (the training centre vs every other: external validation),
    "column" (a column naming each patient's set), "date" (patients before a date train:
    temporal validation) or "random" (a seeded, optionally outcome-stratified fraction held
    out: internal validation).
    """

    by: str = "centre"
    column: str | None = "centre"
    training: object = 1
    fraction: float | None = None
    stratify: bool = True
    before: str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping | None, training_centre=None) -> Split:
        """A split from its config mapping; without one, the training centre (``training_centre``, default 1).

        ``training_centre`` (the shorthand) is read only when ``spec`` is empty; a config that
        gives both is refused when it is loaded (:func:`~stsanalysis.report.config.load_config`).
        """
        if not spec:
            return cls(training=1 if training_centre is None else training_centre)
        spec = _check_keys(spec, "split", ("by", "column", "training", "random", "stratify", "before"))
        if "random" in spec:
            fraction = spec["random"]
            if not isinstance(fraction, int | float) or not 0 < fraction < 1:
                raise InputError(f"'split.random' is the fraction held out for validation, between 0 and 1; got {fraction!r}.")
            if spec.get("by", "random") != "random":
                raise InputError(f"'split' gives both 'random' and 'by: {spec['by']}'; choose one.")
            return cls(by="random", column=None, training=None, fraction=float(fraction), stratify=bool(spec.get("stratify", True)))
        by = spec.get("by", "centre")
        if by not in ("centre", "column", "date"):
            raise InputError(f"'split.by' must be 'centre', 'column' or 'date' (or give 'split.random'); got {by!r}.")
        column = spec.get("column", "centre" if by == "centre" else None)
        if not column:
            raise InputError(f"'split.by: {by}' needs 'split.column', the column to split by.")
        if by == "date":
            if not spec.get("before"):
                raise InputError("'split.by: date' needs 'split.before', the first date of the validation period (e.g. 2019-01-01).")
            return cls(by="date", column=str(column), training=None, before=str(spec["before"]))
        training = spec.get("training", 1 if by == "centre" else None)
        if training is None:
            raise InputError("'split.by: column' needs 'split.training', the value of the training set in that column.")
        return cls(by=by, column=str(column), training=training)

    @property
    def validation_name(self) -> str:
        """How the text names the validation ("external validation", "temporal validation", "internal validation")."""
        return VALIDATION_NAMES[self.by]

    def describe(self) -> str:
        """The rule as a phrase: "centre 1 trains; every other centre validates"."""
        if self.by == "random":
            stratified = ", stratified by outcome" if self.stratify else ""
            return f"a random {self.fraction:.0%} of patients held out for validation{stratified}"
        if self.by == "date":
            return f"patients with {self.column} before {self.before} train; those from {self.before} on validate"
        if self.by == "centre":
            return f"{self.column} {self.training} trains; every other {self.column} validates"
        return f"patients with {self.column} = {self.training} train; every other patient validates"

    def assign(self, data: pd.DataFrame, y: pd.Series, seed: int) -> pd.Series:
        """'training' or 'validation' for every patient; each set must hold both outcome classes."""
        if self.by == "random":
            sets = self._random(y, seed)
        else:
            require_columns(data, [self.column], "the clinical table (split.column)")
            sets = self._date(data[self.column]) if self.by == "date" else self._by_value(data[self.column])
        sets = pd.Series(sets, index=data.index, name="set")
        check_both_classes(sets, y, f"The split ({self.describe()})")
        return sets

    def _random(self, y: pd.Series, seed: int) -> np.ndarray:
        from sklearn.model_selection import train_test_split

        try:
            _, held_out = train_test_split(
                np.arange(len(y)), test_size=self.fraction, random_state=seed, stratify=y.to_numpy() if self.stratify else None
            )
        except ValueError as error:
            raise InputError(f"The random split ({self.describe()}) is impossible for {len(y)} patients: {error}") from error
        sets = np.full(len(y), TRAINING, dtype=object)
        sets[held_out] = VALIDATION
        return sets

    def _by_value(self, values: pd.Series) -> np.ndarray:
        present = _values_present(values)
        if self.by == "centre" and len(present) < 2:
            raise InputError(
                f"'split.by: centre' needs patients from two or more centres, but every patient has {self.column} = "
                f"{present}; split at random ('split: {{random: 0.3}}') or by a column instead."
            )
        training = values.astype(str) == str(self.training)
        if not training.any():
            raise InputError(f"No patient has {self.column} = {self.training!r}; the training value must be one of {present}.")
        if training.all():
            raise InputError(f"Every patient has {self.column} = {self.training!r}: the split leaves no validation set.")
        return np.where(training, TRAINING, VALIDATION)

    def _date(self, values: pd.Series) -> np.ndarray:
        dates = pd.to_datetime(values, errors="coerce")
        bad = values.index[dates.isna()].tolist()
        if bad:
            raise InputError(
                f"'{self.column}' must hold dates (e.g. 2018-05-31) for the temporal split; patient(s) {bad[:10]} have "
                f"{values[dates.isna()].tolist()[:10]}."
            )
        return np.where(dates < pd.Timestamp(self.before), TRAINING, VALIDATION)


def check_both_classes(sets: pd.Series, y: pd.Series, what: str) -> None:
    """An error naming the set and its counts when a set lacks positive or negative patients."""
    for name in (TRAINING, VALIDATION):
        counts = y[(sets == name).to_numpy()].value_counts()
        if len(counts) < 2:
            raise InputError(
                f"{what} leaves the {name} set with {int((sets == name).sum())} patients "
                f"({int(counts.get(1, 0))} positive, {int(counts.get(0, 0))} negative); both outcome classes are needed."
            )


# --------------------------------------------------------------------------------------
# The survival endpoint
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RiskGroups:
    """The cut-off of a survival model's linear predictor into a low- and a high-risk group.

    ``kind`` is "median" (the median linear predictor of the training set, the default),
    "quantile" (the ``quantile`` ``value`` of the training set's linear predictor, e.g. 0.67:
    the top third is high risk) or "value" (a fixed linear predictor, as the nomogram's
    "Linear predictor" axis shows it). The cut-off is fixed on the training set and applied
    unchanged to the validation set; a patient at or above it is high risk.
    """

    kind: str = "median"
    value: float = 0.5

    @classmethod
    def from_spec(cls, spec, key: str = "survival.risk_groups") -> RiskGroups:
        """``"median"`` (default), ``{quantile: q}`` with q in (0, 1), or ``{value: x}``.

        >>> print(RiskGroups.from_spec({"quantile": 0.67}).describe())
        the 67th percentile of the training set's linear predictor
        >>> RiskGroups.from_spec("median").kind
        'median'
        """
        if spec in (None, "", "median"):
            return cls()
        if isinstance(spec, bool) or isinstance(spec, int | float):
            raise InputError(
                f"'{key}' must be \"median\", {{quantile: q}} (q between 0 and 1) or {{value: x}} (a fixed linear "
                f"predictor); got the bare number {spec!r}: write {{quantile: {spec}}} or {{value: {spec}}}."
            )
        if not isinstance(spec, Mapping) or len(spec) != 1 or next(iter(spec)) not in ("quantile", "value"):
            raise InputError(f"'{key}' must be \"median\", {{quantile: q}} or {{value: x}}; got {spec!r}.")
        kind, value = next(iter(spec.items()))
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise InputError(f"'{key}.{kind}' must be a number; got {value!r}.")
        if kind == "quantile" and not 0 < value < 1:
            raise InputError(f"'{key}.quantile' must lie strictly between 0 and 1 (0.5 is the median); got {value!r}.")
        return cls(kind=kind, value=float(value))

    def cutoff(self, training_linear_predictor) -> float:
        """The cut-off on the linear predictor: from the training patients' values, or the fixed value."""
        if self.kind == "value":
            return self.value
        return float(np.quantile(np.asarray(training_linear_predictor, dtype=float), 0.5 if self.kind == "median" else self.value))

    def describe(self) -> str:
        """The rule as a phrase of the methods text."""
        if self.kind == "median":
            return "the median of the training set's linear predictor"
        if self.kind == "quantile":
            return f"the {100 * self.value:g}th percentile of the training set's linear predictor"
        return f"a linear predictor of {self.value:g} (fixed in the config)"


@dataclass(frozen=True)
class Survival:
    """A time-to-event endpoint: time and event (1 = event, 0 = censored) columns, its name and unit.

    ``times`` are the times at which numbers at risk are shown; ``stage`` optionally names a
    stage column (AJCC) that the report compares the models with. A survival-model study
    (``endpoint: survival``) also reads ``prediction_times``, the times t at which survival is
    predicted and judged (positive, increasing, e.g. 12, 36 and 60 months), and
    ``risk_groups`` (:class:`RiskGroups`), how the nomogram's linear predictor is cut into
    a low- and a high-risk group.
    """

    time: str
    event: str
    label: str = "survival"
    unit: str = "months"
    times: tuple[float, ...] = ()
    stage: str | None = None
    prediction_times: tuple[float, ...] = ()
    risk_groups: RiskGroups = RiskGroups()

    @classmethod
    def from_spec(cls, spec: Mapping | None) -> Survival | None:
        """The endpoint of the config's ``survival`` mapping, or None when it is not given.

        >>> Survival.from_spec({"time": "os_months", "event": "death", "prediction_times": [12, 36, 60]}).prediction_times
        (12.0, 36.0, 60.0)
        """
        if not spec:
            return None
        spec = _check_keys(
            spec, "survival", ("time", "event", "label", "unit", "times", "stage", "prediction_times", "risk_groups"), ("time", "event")
        )
        times = spec.get("times") or ()
        if not isinstance(times, list | tuple) or any(not isinstance(t, int | float) or t < 0 for t in times):
            raise InputError(f"'survival.times' must be a list of non-negative numbers; got {times!r}.")
        return cls(
            time=str(spec["time"]),
            event=str(spec["event"]),
            label=str(spec.get("label", "survival")),
            unit=str(spec.get("unit", "months")),
            times=tuple(times),
            stage=spec.get("stage"),
            prediction_times=_prediction_times(spec.get("prediction_times")),
            risk_groups=RiskGroups.from_spec(spec.get("risk_groups")),
        )

    @property
    def columns(self) -> list[str]:
        return [self.time, self.event, *([self.stage] if self.stage else [])]

    def check(self, data: pd.DataFrame) -> None:
        """Times present and non-negative, events 0/1: else an error naming the patients."""
        require_columns(data, self.columns, "the clinical table (survival)")
        time = pd.to_numeric(data[self.time], errors="coerce")
        bad = data.index[time.isna() | (time < 0)].tolist()
        if bad:
            raise InputError(
                f"'{self.time}' ({self.label} time) must be a non-negative number for every patient; "
                f"patient(s) {bad[:10]} have {data.loc[bad[:10], self.time].tolist()}."
            )
        event = pd.to_numeric(data[self.event], errors="coerce")
        bad = data.index[~event.isin([0, 1])].tolist()
        if bad:
            raise InputError(
                f"'{self.event}' must be 1 (event) or 0 (censored) for every patient; patient(s) {bad[:10]} have "
                f"{data.loc[bad[:10], self.event].tolist()}."
            )


def _prediction_times(values) -> tuple[float, ...]:
    """``survival.prediction_times``: positive, finite, strictly increasing numbers (may be empty)."""
    if values in (None, ""):
        return ()
    if not isinstance(values, list | tuple) or any(isinstance(t, bool) or not isinstance(t, int | float) for t in values):
        raise InputError(f"'survival.prediction_times' must be a list of numbers (e.g. [12, 36, 60]); got {values!r}.")
    bad = [t for t in values if not np.isfinite(t) or t <= 0]
    if bad:
        raise InputError(f"'survival.prediction_times' must be positive times; got {bad} in {list(values)}.")
    if any(later <= earlier for earlier, later in zip(values, values[1:])):
        raise InputError(f"'survival.prediction_times' must increase, without repeats; got {list(values)}.")
    return tuple(float(t) for t in values)
