"""Study configuration (``study.yaml``): which notebook, which parameters, where to write.

Schema (unknown keys and wrong types are errors that name the key)::

    notebook: biomarker_study     # a notebook of the package, or a path to one (required)
    name: biomarker_study         # report file name without .html (default: the notebook's)
    title: Biomarker study        # report title (default: from the name)
    output: reports               # output folder (default: reports; --output overrides)
    parameters:                   # the notebook's parameters; each key must be declared
      cohort_path: data/demo/biomarker/cohort.csv   # in its `parameters` cell, same type

Relative paths in ``parameters`` are resolved from the folder of the config file, so a
config can sit beside its data. ``endpoint`` under ``parameters`` of a design-B config picks
its notebook (:data:`ENDPOINT_NOTEBOOKS`): ``binary`` (default) keeps
``radiomics_nomogram_study``, ``survival`` runs ``radiomics_survival_study``, the
survival-model study of the same cohort (LASSO-Cox signatures, Cox nomogram, time-dependent
AUC); the key itself is not passed to the notebook. A full key and its shorthand (``outcome`` and
``high_grade_from``, ``split`` and ``training_centre``, ``second_outcome`` and
``ki67_threshold``) contradict each other: a config gives one of the two.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError
from .build import resolve_notebook

_TOP_LEVEL = {"notebook": str, "name": str, "title": str, "output": str, "parameters": dict}
_PATH_SUFFIXES = ("_path", "_dir", "_file")
#: Parameters that say the same thing two ways (the full key, its shorthand): a config gives one.
_CONTRADICTIONS = (("outcome", "high_grade_from"), ("split", "training_centre"), ("second_outcome", "ki67_threshold"))
#: The design-B notebook of each ``endpoint`` (a routing parameter of a design-B config).
ENDPOINT_NOTEBOOKS = {"binary": "radiomics_nomogram_study", "survival": "radiomics_survival_study"}


@dataclass(frozen=True)
class StudyConfig:
    notebook: Path
    name: str
    title: str | None = None
    output: str = "reports"
    parameters: dict[str, Any] = field(default_factory=dict)


def _type_name(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(type(value), type(value).__name__)


def declared_parameters(notebook: Path) -> dict[str, str]:
    """Parameter names of a notebook's ``parameters`` cell and their declared type names."""
    import papermill

    return {
        name: (info.get("inferred_type_name") or "None").replace("None", "any")
        for name, info in papermill.inspect_notebook(str(notebook)).items()
    }


def check_parameters(parameters: dict[str, Any], notebook: Path, source: str) -> None:
    """Raise :class:`InputError` for a parameter the notebook does not declare or of the wrong type."""
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise InputError(f"{source}: unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}.")
    for key, value in parameters.items():
        expected = declared[key]
        given = _type_name(value)
        compatible = expected in ("any", given) or (expected == "float" and given == "int") or value is None
        if not compatible:
            raise InputError(f"{source}: parameter '{key}' must be of type {expected}; got {given} ({value!r}).")


def load_config(path: str | os.PathLike) -> StudyConfig:
    """Read and validate a study config; see the module docstring for the schema."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Config file '{path}' does not exist.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InputError(f"Config file '{path}' is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise InputError(f"Config file '{path}' must be a mapping of keys to values; got {type(raw).__name__}.")
    unknown = sorted(set(raw) - set(_TOP_LEVEL))
    if unknown:
        raise InputError(f"Config file '{path}': unknown key(s) {unknown}; allowed keys are {sorted(_TOP_LEVEL)}.")
    if "notebook" not in raw:
        raise InputError(f"Config file '{path}': the key 'notebook' is required.")
    for key, expected in _TOP_LEVEL.items():
        if key in raw and not isinstance(raw[key], expected):
            raise InputError(
                f"Config file '{path}': '{key}' must be of type {expected.__name__}; got {type(raw[key]).__name__} ({raw[key]!r})."
            )

    notebook = Path(raw["notebook"]).with_suffix(".ipynb")
    # a path relative to the config's folder, else a notebook of the package
    notebook_path = resolve_notebook(path.parent / notebook if (path.parent / notebook).is_file() else raw["notebook"])
    parameters = dict(raw.get("parameters") or {})
    notebook_path = route_endpoint(notebook_path, parameters, f"Config file '{path}'")
    check_parameters(parameters, notebook_path, f"Config file '{path}'")
    for full, shorthand in _CONTRADICTIONS:
        if parameters.get(full) and shorthand in parameters:
            raise InputError(f"Config file '{path}': '{full}' and '{shorthand}' (its shorthand) contradict each other; give only '{full}'.")
    for key, value in parameters.items():
        if key.endswith(_PATH_SUFFIXES) and isinstance(value, str) and not Path(value).is_absolute():
            parameters[key] = str((path.parent / value).resolve())
    return StudyConfig(
        notebook=notebook_path,
        name=raw.get("name", notebook_path.stem),
        title=raw.get("title"),
        output=raw.get("output", "reports"),
        parameters=parameters,
    )


def route_endpoint(notebook: Path, parameters: dict[str, Any], source: str) -> Path:
    """The notebook a design-B config runs: the one of its ``endpoint`` parameter (removed from ``parameters``).

    Only the design-B notebooks (:data:`ENDPOINT_NOTEBOOKS`) read ``endpoint``; for any
    other notebook it stays and is refused as an unknown parameter. The chosen notebook is
    looked up beside ``notebook`` first, then among the package's notebooks.
    """
    if notebook.stem not in ENDPOINT_NOTEBOOKS.values() or "endpoint" not in parameters:
        return notebook
    endpoint = parameters.pop("endpoint")
    if endpoint not in ENDPOINT_NOTEBOOKS:
        raise InputError(f"{source}: 'endpoint' must be one of {sorted(ENDPOINT_NOTEBOOKS)}; got {endpoint!r}.")
    sibling = notebook.with_name(f"{ENDPOINT_NOTEBOOKS[endpoint]}.ipynb")
    return resolve_notebook(sibling if sibling.is_file() else ENDPOINT_NOTEBOOKS[endpoint])
