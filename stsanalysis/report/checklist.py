"""Reporting checklists a run can fill: CLEAR (Kocak et al. 2023), the IBSI 1 reporting items,
TRIPOD+AI (Collins et al. 2024), METRICS (Kocak et al. 2024) and the Radiomics Quality Score (Lambin et al. 2017).

A report ends with the checklist items its run knows: :func:`clear_checklist` lists the 58
CLEAR items with a status and, where the run can fill it, the value (e.g. the feature
extraction software and version); :func:`ibsi_reporting_table` lists the IBSI 1 reporting
items (theibsi/ibsi-doc, chapter 4, "Reporting guidelines") relevant to an MRI radiomics
study, filled from the provenance that :func:`stsanalysis.radiomics.extract_features`
attaches to its result.

Checklists are data: one CSV per checklist in ``checklists/`` with the columns

``item``
    the checklist's own item id (CLEAR: 1 to 58; IBSI: the item number, e.g. "48b");
``section``
    the section (or topic) the item belongs to;
``text``
    the item as published;
``filler``
    how the run fills it: a name of :data:`~stsanalysis.report.checklist_fillers.FILLERS`
    (a function of the run's :class:`~stsanalysis.report.facts.RunFacts` and extraction
    provenance), or a fixed status: ``authors`` ("to be completed by the authors") or
    ``not_applicable``;

then any columns of the checklist's own: METRICS ``weight, conditional`` (the item weights
and conditions), RQS ``points_min, points_max`` (the points an item can earn).

:func:`load_checklist` reads and checks a file; :func:`fill_checklist` fills any checklist
from a run. A new checklist is a new CSV, plus a filler for any question no checklist has
asked yet.

:func:`tripod_ai_checklist`, :func:`metrics_checklist` and :func:`rqs_checklist` fill the
three assessment checklists; :func:`metrics_score` (the METRICS score over the items the
run assessed) and :func:`rqs_total` (the RQS points the run established) score them, and
:func:`checklist_summary` writes a checklist's summary lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .checklist_fillers import FILLERS, NOT_APPLICABLE
from .checklist_fillers_metrics import DOES_NOT_APPLY, MET, NOT_MET, split_verdict
from .checklist_fillers_rqs import split_points
from .facts import RunFacts

__all__ = [
    "REPORTED",
    "TO_COMPLETE",
    "NOT_APPLICABLE",
    "CHECKLIST_COLUMNS",
    "FIXED_STATUSES",
    "NOT_RECORDED_FILLERS",
    "available_checklists",
    "load_checklist",
    "fill_checklist",
    "clear_checklist",
    "ibsi_reporting_table",
    "tripod_ai_checklist",
    "metrics_checklist",
    "rqs_checklist",
    "MetricsScore",
    "metrics_score",
    "RqsTotal",
    "rqs_total",
    "checklist_summary",
]

CHECKLIST_DIR = Path(__file__).parent / "checklists"
CHECKLIST_COLUMNS = ["item", "section", "text", "filler"]
REPORTED = "reported in this report"
TO_COMPLETE = "to be completed by the authors"

# fillers that are a fixed status rather than a value from the run
FIXED_STATUSES = {"authors": TO_COMPLETE, "not_applicable": NOT_APPLICABLE}

#: Part of an extraction provenance -> the fillers that describe it. A provenance of features
#: read from a feature table lists the parts its file does not record in ``not_recorded``
#: (:mod:`stsanalysis.radiomics.feature_table`); their items then read "not recorded
#: (features read from <file name>)" instead of pyradiomics' defaults.
NOT_RECORDED_FILLERS = {
    "setting": (
        "normalisation",
        "interpolator",
        "interpolation_grid",
        "voxel_dimensions",
        "intensity_rounding",
        "mask_interpolation",
        "partial_volume",
        "resegmentation",
        "discretisation_method",
        "discretisation",
        "discretisation_bins",
        "first_bin",
        "resampling",
        "texture_aggregation",
        "distance_weighting",
        "glcm_symmetry",
        "distances",
        "gldm_coarseness",
        "default_settings",
        "preprocessing",
        "settings_shared",
    ),
    "imageType": ("image_filters", "ibsi_compliance", "extraction_method", "settings_shared"),
    "software": ("extraction_software", "extraction_method", "preprocessing"),
}


def available_checklists() -> list[str]:
    """The names of the checklists shipped with stsanalysis ("clear", "ibsi_reporting", ...)."""
    return sorted(path.stem for path in CHECKLIST_DIR.glob("*.csv"))


def _checklist_path(checklist: str | Path) -> Path:
    if isinstance(checklist, Path) or str(checklist).endswith(".csv"):
        return Path(checklist)
    path = CHECKLIST_DIR / f"{checklist}.csv"
    if not path.exists():
        raise InputError(f"Unknown checklist {checklist!r}; expected one of {available_checklists()} or a CSV path.")
    return path


def load_checklist(checklist: str | Path, own_columns: Sequence[str] = ()) -> pd.DataFrame:
    """The items of a checklist (a name of :func:`available_checklists` or a CSV path), checked.

    Returns a DataFrame ``item, section, text, filler``, then the checklist's own columns
    named in ``own_columns`` (e.g. METRICS ``("weight", "conditional")``). Raises
    :class:`~stsanalysis.InputError` naming the file (and the item) when a column is missing,
    an item id repeats or a filler is neither a name of ``FILLERS`` nor a fixed status.
    """
    path = _checklist_path(checklist)
    items = pd.read_csv(path, keep_default_na=False)
    if list(items.columns[: len(CHECKLIST_COLUMNS)]) != CHECKLIST_COLUMNS:
        raise InputError(
            f"Checklist file {path.name} must have the columns {CHECKLIST_COLUMNS} first (then any of its own); got {list(items.columns)}."
        )
    missing = [name for name in own_columns if name not in items.columns[len(CHECKLIST_COLUMNS) :]]
    if missing:
        raise InputError(
            f"Checklist file {path.name} lacks the column(s) {missing}; its own columns are {list(items.columns[len(CHECKLIST_COLUMNS) :])}."
        )
    repeated = items.loc[items["item"].duplicated(), "item"].tolist()
    if repeated:
        raise InputError(f"Checklist file {path.name} lists item(s) {repeated} more than once.")
    for item, filler in zip(items["item"], items["filler"]):
        if filler not in FILLERS and filler not in FIXED_STATUSES:
            raise InputError(
                f"Checklist file {path.name}, item {item}: unknown filler {filler!r}; expected a name of "
                f"stsanalysis.report.checklist_fillers.FILLERS or a fixed status ({', '.join(FIXED_STATUSES)})."
            )
    return items[CHECKLIST_COLUMNS + list(own_columns)]


def fill_checklist(
    checklist: str | Path,
    facts: RunFacts | None = None,
    provenance: Mapping | None = None,
    not_applicable: Mapping | None = None,
) -> pd.DataFrame:
    """A checklist filled from a run: ``item, section, text, status, value``.

    ``status`` is "reported in this report" (``value`` from the item's filler), "not
    applicable" (a fixed status, or declared in ``not_applicable``, item -> reason, whose
    reason is the ``value``) or "to be completed by the authors" (``value`` empty: the
    filler is ``authors`` or the facts it needs are absent). ``provenance`` is the
    extraction provenance the extraction fillers describe; without it they leave their
    items to the authors.
    """
    items = load_checklist(checklist)
    facts = facts if facts is not None else RunFacts()
    declared = dict(not_applicable or {})
    unknown = sorted(set(declared) - set(items["item"]), key=str)
    if unknown:
        raise InputError(f"'not_applicable' names items {unknown} that {_checklist_path(checklist).name} does not list.")
    statuses, values = [], []
    for item, filler in zip(items["item"], items["filler"]):
        value = None
        if item in declared:
            status, value = NOT_APPLICABLE, str(declared[item])
        elif filler in FIXED_STATUSES:
            status = FIXED_STATUSES[filler]
        else:
            value = _not_recorded(filler, provenance) or FILLERS[filler](facts, provenance)
            status = TO_COMPLETE if value is None else REPORTED
        statuses.append(status)
        values.append("" if value is None else str(value))
    return items.drop(columns="filler").assign(status=statuses, value=values)


def _not_recorded(filler: str, provenance: Mapping | None) -> str | None:
    """ "not recorded (features read from <file name>)" when the filler describes a part the provenance lacks."""
    missing = (provenance or {}).get("not_recorded") or ()
    if not any(filler in NOT_RECORDED_FILLERS.get(part, ()) for part in missing):
        return None
    source = provenance.get("path")
    return f"not recorded (features read from {Path(source).name})" if source else "not recorded"


def ibsi_reporting_table(provenance: Mapping, facts: RunFacts | None = None) -> pd.DataFrame:
    """The IBSI 1 reporting items of an MRI radiomics study with the values this run fills.

    ``provenance`` is ``extract_features(...).attrs["provenance"]`` (settings, software,
    IBSI notes) or a sequence's provenance of ``read_feature_table``, whose unrecorded
    settings read "not recorded (features read from <file name>)"; ``facts`` adds what
    the images' provenance cannot know (scanners, segmentation, robustness). Settings absent from the parameters are reported with
    pyradiomics' default value. Items the run cannot fill read "to be completed by the
    authors"; one row per feature that deviates from IBSI 1 gives the reason.

    Returns a DataFrame ``topic, item, value`` (``item`` is the IBSI item with its number,
    "Imaging modality (8)").
    """
    table = fill_checklist("ibsi_reporting", facts, provenance)
    rows = [
        (section, f"{text} ({item})", value if status == REPORTED else status)
        for item, section, text, status, value in table.itertuples(index=False, name=None)
    ]
    for name, reason in (provenance.get("ibsi_deviations") or {}).items():
        rows.append(("IBSI deviation", name, reason))
    for name in provenance.get("ibsi_not_defined") or []:
        rows.append(("IBSI deviation", name, "no IBSI 1 definition"))
    return pd.DataFrame(rows, columns=["topic", "item", "value"])


def clear_checklist(facts: RunFacts) -> pd.DataFrame:
    """The 58 CLEAR items (Kocak et al., Insights Imaging 2023) with what this run fills.

    Returns a DataFrame ``item, section, short_name, status, value``. ``status`` is
    "reported in this report" (``value`` from ``facts``), "not applicable" (declared in
    ``facts.not_applicable``; ``value`` is the reason) or "to be completed by the authors"
    (``value`` empty: title, ethics, discussion, and every item whose facts are absent).
    """
    declared = dict(facts.not_applicable or {})
    items = load_checklist("clear")["item"]
    unknown = sorted(set(declared) - set(items))
    if unknown:
        raise InputError(f"'not_applicable' names CLEAR items {unknown}; the items are numbered 1 to {len(items)}.")
    # the CLEAR items on extraction are reported only when the run has a (non-empty) provenance
    table = fill_checklist("clear", facts, facts.extraction_provenance or None, declared)
    return table.rename(columns={"text": "short_name"})


# ----------------------------------------------------------------------------- TRIPOD+AI, METRICS, RQS

METRICS_COLUMNS = ("weight", "conditional")
RQS_COLUMNS = ("points_min", "points_max")


def tripod_ai_checklist(facts: RunFacts) -> pd.DataFrame:
    """The TRIPOD+AI items (Collins et al., BMJ 2024;385:e078378: 27 items, 52 with their sub-items) this run fills.

    Returns a DataFrame ``item, section, text, status, value`` as :func:`fill_checklist`;
    ``item`` is the paper's number ("1", "3a", ...), ``text`` our paraphrase of the item.
    """
    return fill_checklist("tripod_ai", facts, facts.extraction_provenance or None)


def metrics_checklist(facts: RunFacts) -> pd.DataFrame:
    """The 30 METRICS items (Kocak et al., Insights Imaging 2024;15:8) with the answers of this run.

    Returns a DataFrame ``item, section, text, conditional, weight, status, met, value``:
    ``weight`` is the published item weight, ``conditional`` the condition under which the
    item applies (empty: always). ``met`` is "yes" or "no" where the run answers the item
    (``status`` "reported in this report", ``value`` its evidence), empty where the item is
    "not applicable" (``value``: why) or "to be completed by the authors". Score it with
    :func:`metrics_score`.
    """
    table = fill_checklist("metrics", facts, facts.extraction_provenance or None)
    own = load_checklist("metrics", METRICS_COLUMNS)
    answers = [split_verdict(value) if status == REPORTED else ("", value) for status, value in zip(table["status"], table["value"])]
    status = [NOT_APPLICABLE if answer == DOES_NOT_APPLY else status for (answer, _), status in zip(answers, table["status"])]
    return table.assign(
        conditional=own["conditional"].to_numpy(),
        weight=own["weight"].astype(float).to_numpy(),
        status=status,
        met=[answer if answer in (MET, NOT_MET) else "" for answer, _ in answers],
        value=[reason for _, reason in answers],
    )[["item", "section", "text", "conditional", "weight", "status", "met", "value"]]


def rqs_checklist(facts: RunFacts) -> pd.DataFrame:
    """The 16 Radiomics Quality Score items (Lambin et al., Nat Rev Clin Oncol 2017;14:749) with this run's points.

    Returns a DataFrame ``item, section, text, points_min, points_max, status, points,
    value``: ``points`` (an integer) where the run establishes them (``value``: the
    reason), missing where they are the authors' to claim (``status`` "to be completed by
    the authors"). Sum them with :func:`rqs_total`.
    """
    table = fill_checklist("rqs", facts, facts.extraction_provenance or None)
    own = load_checklist("rqs", RQS_COLUMNS)
    scored = [split_points(value) if status == REPORTED else (None, value) for status, value in zip(table["status"], table["value"])]
    return table.assign(
        points_min=own["points_min"].to_numpy(),
        points_max=own["points_max"].to_numpy(),
        points=pd.array([points for points, _ in scored], dtype="Int64"),
        value=[reason for _, reason in scored],
    )[["item", "section", "text", "points_min", "points_max", "status", "points", "value"]]


def _require_columns(table: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    missing = [name for name in columns if name not in table.columns]
    if missing:
        raise InputError(f"The checklist table must have the columns {list(columns)} (as {source} returns); it lacks {missing}.")


@dataclass(frozen=True)
class MetricsScore:
    """The METRICS score of the items a run assessed, and the weight left to the authors.

    Weights are the published ones (summing to 1 over the 30 items); "weight points" are
    weights x 100. ``score`` = weight of the items met / weight of the items assessed x 100;
    once the authors answer their items, the final score lies between ``lowest`` (none met)
    and ``highest`` (all met). Items that do not apply count in neither.
    """

    n_assessed: int
    weight_met: float
    weight_assessed: float
    n_to_complete: int
    weight_to_complete: float
    weight_not_applicable: float

    @property
    def score(self) -> float:
        return 100 * self.weight_met / self.weight_assessed if self.weight_assessed else float("nan")

    @property
    def lowest(self) -> float:
        applicable = self.weight_assessed + self.weight_to_complete
        return 100 * self.weight_met / applicable if applicable else float("nan")

    @property
    def highest(self) -> float:
        applicable = self.weight_assessed + self.weight_to_complete
        return 100 * (self.weight_met + self.weight_to_complete) / applicable if applicable else float("nan")

    def summary(self) -> str:
        if not self.n_assessed:
            return f"METRICS score: no item assessed by this run; {100 * self.weight_to_complete:.1f} weight points ({self.n_to_complete} items) await the authors"
        return (
            f"METRICS score over the {self.n_assessed} items this run assessed: {self.score:.1f}% "
            f"({100 * self.weight_met:.1f} of {100 * self.weight_assessed:.1f} weight points met); "
            f"{100 * self.weight_to_complete:.1f} weight points ({self.n_to_complete} items) await the authors, "
            f"so the final score will lie between {self.lowest:.1f}% and {self.highest:.1f}%"
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**asdict(self), "score": self.score, "lowest": self.lowest, "highest": self.highest}])


def metrics_score(table: pd.DataFrame) -> MetricsScore:
    """The METRICS score of a :func:`metrics_checklist` table (the METRICS web tool's formula).

    Sum of the weights of the items met / sum of the weights of the items the run assessed
    (met or not) x 100; the weights of the items "to be completed by the authors" are
    counted apart, so the score covers only what this run can show.
    """
    _require_columns(table, ["weight", "status", "met"], "metrics_checklist(facts)")
    weight = table["weight"].astype(float)
    assessed = table["met"].isin([MET, NOT_MET])
    to_complete = table["status"] == TO_COMPLETE
    return MetricsScore(
        n_assessed=int(assessed.sum()),
        weight_met=float(weight[table["met"] == MET].sum()),
        weight_assessed=float(weight[assessed].sum()),
        n_to_complete=int(to_complete.sum()),
        weight_to_complete=float(weight[to_complete].sum()),
        weight_not_applicable=float(weight[table["status"] == NOT_APPLICABLE].sum()),
    )


@dataclass(frozen=True)
class RqsTotal:
    """The RQS points a run established, and the range the authors' items can still add.

    ``points`` sums the ``n_scored`` items the run scored; the ``n_to_complete`` items left
    to the authors can add ``authors_min`` to ``authors_max``; the scale runs from
    ``minimum`` to ``maximum`` (-8 to 36).
    """

    points: int
    n_scored: int
    n_to_complete: int
    authors_min: int
    authors_max: int
    minimum: int
    maximum: int

    @property
    def total_min(self) -> int:
        return self.points + self.authors_min

    @property
    def total_max(self) -> int:
        return self.points + self.authors_max

    def summary(self) -> str:
        return (
            f"RQS points established by this run: {self.points} from {self.n_scored} items (scale {self.minimum} to {self.maximum}); "
            f"the {self.n_to_complete} items left to the authors can add {self.authors_min} to {self.authors_max}, "
            f"so the total will lie between {self.total_min} and {self.total_max}"
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**asdict(self), "total_min": self.total_min, "total_max": self.total_max}])


def rqs_total(table: pd.DataFrame) -> RqsTotal:
    """The points of an :func:`rqs_checklist` table: established by the run, and the authors' remaining range."""
    _require_columns(table, ["points", "points_min", "points_max", "status"], "rqs_checklist(facts)")
    scored = table["points"].notna()
    to_complete = table["status"] == TO_COMPLETE
    return RqsTotal(
        points=int(table.loc[scored, "points"].sum()),
        n_scored=int(scored.sum()),
        n_to_complete=int(to_complete.sum()),
        authors_min=int(table.loc[to_complete, "points_min"].sum()),
        authors_max=int(table.loc[to_complete, "points_max"].sum()),
        minimum=int(table["points_min"].sum()),
        maximum=int(table["points_max"].sum()),
    )


def _top_level(item) -> int:
    """An item's number without its letter: "12a" -> 12."""
    return int(re.match(r"\d+", str(item)).group())


def checklist_summary(table: pd.DataFrame, name: str) -> str:
    """The summary of a filled checklist: "TRIPOD+AI: 10 of 27 items reported by this run (6 more in part)".

    Items are counted by their number (TRIPOD+AI's 3a-3c are item 3). An item is reported
    by this run when the run fills all its sub-items (those not applicable aside), "in part"
    when it fills some. A METRICS table (:func:`metrics_checklist`) adds the line of
    :func:`metrics_score`, an RQS table (:func:`rqs_checklist`) that of :func:`rqs_total`;
    lines are separated by newlines.
    """
    _require_columns(table, ["item", "status"], "fill_checklist")
    status = table["status"].groupby(table["item"].map(_top_level), sort=False)
    any_reported = status.agg(lambda statuses: statuses.eq(REPORTED).any())
    settled = status.agg(lambda statuses: statuses.isin([REPORTED, NOT_APPLICABLE]).all())
    not_applicable = status.agg(lambda statuses: statuses.eq(NOT_APPLICABLE).all())
    n_reported, n_in_part = int((any_reported & settled).sum()), int((any_reported & ~settled).sum())
    line = f"{name}: {n_reported} of {len(status)} items reported by this run"
    line += f" ({n_in_part} more in part)" if n_in_part else ""
    line += f"; {int(not_applicable.sum())} not applicable" if not_applicable.any() else ""
    lines = [line]
    if {"weight", "met"} <= set(table.columns):
        lines.append(metrics_score(table).summary())
    if {"points", "points_min", "points_max"} <= set(table.columns):
        lines.append(rqs_total(table).summary())
    return "\n".join(lines)
