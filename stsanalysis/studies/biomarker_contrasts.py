"""Design A's two contrasts (reference standards): each outcome with the words the report names it by.

A :class:`Contrast` holds an :class:`~stsanalysis.studies.design.Outcome`, the 0/1 column of
the analysis table and every text of the report that names it (title, table captions and
labels, sentences, figure legends, methods). :meth:`Contrast.from_outcome` derives the texts
from the outcome's labels; :func:`grade_contrast` and :func:`ki67_contrast`, the shorthands
``high_grade_from`` and ``ki67_threshold``, keep the published wording of the demo report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..report.phrases import number
from .design import Outcome, capitalised

#: The shorthands' defaults (the notebook's): only a changed one contradicts an ``outcome``.
DEFAULT_HIGH_GRADE_FROM, DEFAULT_KI67_THRESHOLD = 2, 30.0
GRADE_NAMES = {1: "I", 2: "II", 3: "III"}


@dataclass(frozen=True)
class Target:
    """A column the parameters are correlated with (Table 4) and how the report names it.

    ``key`` names the ``r_<key>``/``p_<key>`` columns; ``header`` the header ("r (grade)");
    ``name`` the caption; ``phrase`` the sentence; ``methods`` the methods text; ``described``
    the section's text ("the surgical FNCLCC grade (1-3)").
    """

    column: str
    key: str
    header: str
    name: str
    phrase: str
    methods: str
    described: str

    @classmethod
    def of(cls, column: str) -> Target:
        """A user's column, named as it is."""
        return cls(column, re.sub(r"\W+", "_", column).strip("_") or "target", column, column, column, column, f"'{column}'")


def _low_high(negative: str, label: str) -> tuple[str, str, str] | None:
    """("low", "high", "grade") for the pair "low grade" / "high grade" (one-word attribute), else None."""
    low, _, attribute = negative.partition(" ")
    high, _, other = label.partition(" ")
    pair = (low.lower(), high.lower()) == ("low", "high") and attribute == other and attribute and " " not in attribute
    return (low, high, attribute) if pair else None


@dataclass(frozen=True)
class Contrast:
    """A binary reference standard of design A: its :class:`Outcome`, its 0/1 column and its texts.

    ``key`` is the 0/1 column of the analysis table. The texts: ``topic`` (report title),
    ``reference`` (introduction), ``rule`` ("A tumour counts as <rule>"), ``summary`` (cohort
    line), ``short_name`` (section headings), ``characteristic`` and ``groups_noun`` (Table 1
    and its text; empty when the grade rows name the groups), ``comparison_caption`` (Table 3),
    ``prediction`` (Table 5/6 caption), ``roc_title`` (figure), ``methods_groups`` (methods
    text) and ``target`` (Table 4). :meth:`from_outcome` derives them from the outcome's labels.
    """

    key: str
    outcome: Outcome
    topic: str
    reference: str
    rule: str
    summary: str
    short_name: str
    characteristic: str
    groups_noun: str
    comparison_caption: str
    prediction: str
    roc_title: str
    methods_groups: str
    target: Target

    @classmethod
    def from_outcome(cls, outcome: Outcome, key: str, **texts) -> Contrast:
        """A contrast named by its outcome's labels; ``texts`` replace any of the derived texts."""
        label, versus = outcome.label, _versus(outcome.negative, outcome.label)
        derived = {
            "topic": label,
            "reference": outcome.reference_standard,
            "rule": f"{label} when {outcome.definition}",
            "summary": f"{label}: {outcome.definition}",
            "short_name": label,
            "characteristic": capitalised(label),
            "groups_noun": f"the {label} groups",
            "comparison_caption": capitalised(versus),
            "prediction": label,
            "roc_title": label,
            "methods_groups": f"{versus} ({outcome.description or outcome.definition})",
            "target": Target.of(outcome.column),
        }
        return cls(key=key, outcome=outcome, **(derived | texts))

    @property
    def label(self) -> str:
        """The positive class ("high grade", "lung metastasis")."""
        return self.outcome.label

    @property
    def group_names(self) -> dict[int, str]:
        """``{0: "Low grade", 1: "High grade"}``: the groups as table headers and legends name them."""
        return self.outcome.class_labels

    @property
    def versus(self) -> str:
        """The groups in a heading: "low vs high grade", "no lung metastasis vs lung metastasis"."""
        return _versus(self.outcome.negative, self.label)

    @property
    def groups_phrase(self) -> str:
        """The groups in a sentence: "low- and high-grade tumours", "patients with and without lung metastasis"."""
        negative, label = self.outcome.negative, self.label
        if pair := _low_high(negative, label):
            return f"{pair[0]}- and {pair[1]}-{pair[2]} tumours"
        return f"patients with and without {label}" if negative == f"no {label}" else f"the {negative} and {label} groups"


def _versus(negative: str, label: str) -> str:
    pair = _low_high(negative, label)
    return f"{pair[0]} vs {pair[1]} {pair[2]}" if pair else f"{negative} vs {label}"


def grade_contrast(high_grade_from: int = DEFAULT_HIGH_GRADE_FROM) -> Contrast:
    """The ``high_grade_from`` shorthand: surgical FNCLCC grade >= ``high_grade_from``, in the published words."""
    outcome = Outcome.high_grade(high_grade_from, "surgical_grade")
    high = "grade III" if high_grade_from == 3 else f"grade {GRADE_NAMES[high_grade_from]}-III"
    low = "grade I" if high_grade_from == 2 else f"grade I-{GRADE_NAMES[high_grade_from - 1]}"
    grade = Target("surgical_grade", "grade", "grade", "surgical grade", "surgical grade", "the grade", "the surgical FNCLCC grade (1-3)")
    return Contrast.from_outcome(
        outcome,
        "high_grade",
        topic="grade",
        reference="the surgical FNCLCC grade",
        rule="high grade when its surgical FNCLCC grade is at least `high_grade_from`",
        summary=f"high grade = FNCLCC grade >= {high_grade_from}",
        short_name="grade",
        characteristic="Grade group",
        groups_noun="",
        methods_groups=f"low vs high grade ({high} vs {low})",
        target=grade,
    )


def ki67_contrast(ki67_threshold: float = DEFAULT_KI67_THRESHOLD) -> Contrast:
    """The ``ki67_threshold`` shorthand: Ki-67 LI >= ``ki67_threshold`` %, in the published words."""
    cut = number(ki67_threshold)
    outcome = Outcome(
        "ki67",
        "high Ki-67",
        comparison=(">=", float(ki67_threshold)),
        negative_label="low Ki-67",
        description=f"Ki-67 LI < {cut}% vs ≥ {cut}%",
    )
    return Contrast.from_outcome(
        outcome,
        "ki67_high",
        topic="proliferation",
        reference="the Ki-67 labelling index",
        rule="highly proliferative when its Ki-67 labelling index is at least `ki67_threshold` %",
        summary=f"high Ki-67 = LI >= {ki67_threshold:g} %",
        short_name="Ki-67",
        characteristic="Ki-67 LI group",
        groups_noun="the Ki-67 groups",
        comparison_caption=f"Low vs high Ki-67 LI (threshold {ki67_threshold:g} %)",
        prediction=f"high Ki-67 LI (≥ {ki67_threshold:g} %)",
        roc_title=f"Ki-67 LI ≥ {ki67_threshold:g} %",
        methods_groups=outcome.description,
        target=Target("ki67", "ki67", "Ki-67", "Ki-67 LI", "the Ki-67 LI", "the Ki-67 LI", "the Ki-67 LI (%)"),
    )
