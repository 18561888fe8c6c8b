"""Reporting checklists a run can fill: CLEAR (Kocak et al. 2023) and the IBSI 1 reporting items.

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
    ``not_applicable``.

:func:`load_checklist` reads and checks a file; :func:`fill_checklist` fills any checklist
from a run. A new checklist is a new CSV, plus a filler for any question no checklist has
asked yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .checklist_fillers import FILLERS, NOT_APPLICABLE
from .facts import RunFacts

__all__ = [
    "REPORTED",
    "TO_COMPLETE",
    "NOT_APPLICABLE",
    "CHECKLIST_COLUMNS",
    "FIXED_STATUSES",
    "available_checklists",
    "load_checklist",
    "fill_checklist",
    "clear_checklist",
    "ibsi_reporting_table",
]

CHECKLIST_DIR = Path(__file__).parent / "checklists"
CHECKLIST_COLUMNS = ["item", "section", "text", "filler"]
REPORTED = "reported in this report"
TO_COMPLETE = "to be completed by the authors"

# fillers that are a fixed status rather than a value from the run
FIXED_STATUSES = {"authors": TO_COMPLETE, "not_applicable": NOT_APPLICABLE}


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


def load_checklist(checklist: str | Path) -> pd.DataFrame:
    """The items of a checklist (a name of :func:`available_checklists` or a CSV path), checked.

    Returns a DataFrame ``item, section, text, filler``. Raises :class:`~stsanalysis.InputError`
    naming the file (and the item) when a column is missing, an item id repeats or a filler
    is neither a name of ``FILLERS`` nor a fixed status.
    """
    path = _checklist_path(checklist)
    items = pd.read_csv(path, keep_default_na=False)
    if list(items.columns) != CHECKLIST_COLUMNS:
        raise InputError(f"Checklist file {path.name} must have the columns {CHECKLIST_COLUMNS}; got {list(items.columns)}.")
    repeated = items.loc[items["item"].duplicated(), "item"].tolist()
    if repeated:
        raise InputError(f"Checklist file {path.name} lists item(s) {repeated} more than once.")
    for item, filler in zip(items["item"], items["filler"]):
        if filler not in FILLERS and filler not in FIXED_STATUSES:
            raise InputError(
                f"Checklist file {path.name}, item {item}: unknown filler {filler!r}; expected a name of "
                f"stsanalysis.report.checklist_fillers.FILLERS or a fixed status ({', '.join(FIXED_STATUSES)})."
            )
    return items


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
            value = FILLERS[filler](facts, provenance)
            status = TO_COMPLETE if value is None else REPORTED
        statuses.append(status)
        values.append("" if value is None else str(value))
    return items.drop(columns="filler").assign(status=statuses, value=values)


def ibsi_reporting_table(provenance: Mapping, facts: RunFacts | None = None) -> pd.DataFrame:
    """The IBSI 1 reporting items of an MRI radiomics study with the values this run fills.

    ``provenance`` is ``extract_features(...).attrs["provenance"]`` (settings, software,
    IBSI notes); ``facts`` adds what the images' provenance cannot know (scanners,
    segmentation, robustness). Settings absent from the parameters are reported with
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
