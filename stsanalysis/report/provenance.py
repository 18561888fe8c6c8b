"""Provenance: what produced a report (software versions, parameters, input hashes, seeds).

Every report notebook ends with :func:`display_provenance`, so that the report itself is
the record of how its numbers were made.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from ..files import sha256_file

#: Distributions whose versions a report lists (those not installed are listed as such).
PROVENANCE_PACKAGES = (
    "stsanalysis",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "scikit-learn",
    "lifelines",
    "SimpleITK",
    "pyradiomics-bhklab",
    "plotly",
    "papermill",
    "nbconvert",
)


def software_versions(packages=PROVENANCE_PACKAGES) -> pd.DataFrame:
    """Versions of Python and of the packages a report depends on (``software``, ``version``)."""
    rows = [("Python", platform.python_version()), ("Platform", platform.platform(terse=True))]
    for package in packages:
        try:
            rows.append((package, version(package)))
        except PackageNotFoundError:
            rows.append((package, "not installed"))
    return pd.DataFrame(rows, columns=["software", "version"])


def parameters_hash(parameters: Mapping[str, Any]) -> str:
    """SHA-256 of the parameters as canonical JSON (sorted keys), to identify a run."""
    canonical = json.dumps(dict(parameters), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def input_files(parameters: Mapping[str, Any]) -> pd.DataFrame:
    """SHA-256, size and path of every parameter value that names an existing file.

    A folder parameter is listed by the hash of its ``manifest.json`` when it has one (the
    demo cohorts do), else by a hash of its files' names and sizes.
    """
    rows = []
    for name, value in parameters.items():
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            continue
        path = Path(value)
        if path.is_file():
            rows.append((name, str(path), path.stat().st_size, sha256_file(path)))
        elif path.is_dir():
            manifest = path / "manifest.json"
            if manifest.is_file():
                rows.append((name, str(path), manifest.stat().st_size, sha256_file(manifest)))
            else:
                listing = sorted((str(p.relative_to(path)), p.stat().st_size) for p in path.rglob("*") if p.is_file())
                rows.append(
                    (
                        name,
                        str(path),
                        sum(size for _, size in listing),
                        hashlib.sha256(json.dumps(listing).encode()).hexdigest(),
                    )
                )
    return pd.DataFrame(rows, columns=["parameter", "path", "bytes", "sha256"])


def notebook_parameters(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a report notebook as it ran, read from its namespace (``globals()``).

    A parameter is a name that the notebook's ``parameters`` cell declares with a type
    annotation (``seed: int = 1``; the house style); its value is the one papermill injected,
    else the default. So every parameter reaches provenance, including one added later, and
    no notebook keeps a hand-copied list. Only the ``parameters`` cell may annotate names.
    """
    return {name: namespace[name] for name in namespace.get("__annotations__", {}) if name in namespace}


def display_provenance(parameters: Mapping[str, Any], seeds: Mapping[str, int] | None = None) -> None:
    """Show the provenance tables in a notebook (the last cell of every report)."""
    from IPython.display import display

    from .formatting import to_html_table

    parameter_table = pd.DataFrame(
        [(name, json.dumps(value, default=str)) for name, value in parameters.items()], columns=["parameter", "value"]
    )
    display(to_html_table(software_versions(), caption="Software versions"))
    display(to_html_table(parameter_table, caption=f"Parameters (SHA-256 {parameters_hash(parameters)[:16]}…)"))
    files = input_files(parameters)
    if not files.empty:
        display(to_html_table(files, caption="Input files"))
    if seeds:
        seed_table = pd.DataFrame(list(seeds.items()), columns=["random_process", "seed"])
        display(to_html_table(seed_table, caption="Random seeds"))
