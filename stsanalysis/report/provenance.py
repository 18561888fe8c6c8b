"""Provenance: what produced a report (software versions, parameters, input hashes, seeds).

Every report notebook ends with :func:`display_provenance`, so that the report itself is
the record of how its numbers were made. Its input files are those its parameters name and,
for a radiomics report, every image and mask of its cases table (``cases_path``), hashed by
content with the hash cache in ``cache_dir`` (:mod:`stsanalysis.report.file_hashes`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..files import sha256_file

if TYPE_CHECKING:
    from .file_hashes import CaseFileHashes

#: The parameters that name a report's cases table, its column names and its cache folder.
CASES_PARAMETER, CASE_COLUMNS_PARAMETER, CACHE_PARAMETER = "cases_path", "case_columns", "cache_dir"

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
    demo cohorts do), else by a hash of its files' names and sizes. The cache folder
    (``cache_dir``) is not an input: what it holds is derived from the inputs, and it grows
    from run to run.
    """
    rows = []
    for name, value in parameters.items():
        if name == CACHE_PARAMETER or not isinstance(value, (str, os.PathLike)) or not str(value):
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


def case_images(parameters: Mapping[str, Any]) -> CaseFileHashes | None:
    """The content hashes of the images and masks of the cases table a report's parameters name.

    None when the parameters name no existing cases table (``cases_path``). The table's
    column names (``case_columns``) and the hash cache folder (``cache_dir``) come from the
    parameters too. A missing image or mask is listed, not an error: extraction listed its
    case as failed and the report went on.
    """
    from .file_hashes import case_file_hashes

    cases_path = parameters.get(CASES_PARAMETER)
    if not isinstance(cases_path, (str, os.PathLike)) or not str(cases_path) or not Path(cases_path).is_file():
        return None
    return case_file_hashes(
        cases_path, parameters.get(CASE_COLUMNS_PARAMETER) or None, parameters.get(CACHE_PARAMETER) or None, missing="list"
    )


def case_images_row(images: CaseFileHashes) -> pd.DataFrame:
    """The one row of the input-file table that stands for every image and mask (combined SHA-256)."""
    folders = images.files[images.files["kind"] == "folder"]
    in_folders = f" ({int(folders['n_files'].sum())} in {len(folders)} folder(s), e.g. DICOM series)" if len(folders) else ""
    listed = f"{images.n_files} files{in_folders} named by {images.cases_path}"
    return pd.DataFrame(
        [(f"{CASES_PARAMETER}: images and masks", listed, images.n_bytes, images.sha256)], columns=["parameter", "path", "bytes", "sha256"]
    )


def case_images_download(images: CaseFileHashes) -> str:
    """A link that saves the SHA-256 of every image and mask as CSV (:attr:`CaseFileHashes.files`)."""
    from .downloads import download_link

    label = f"Download the list: SHA-256 of each of the {len(images.files)} images and masks (CSV)"
    return f'<div class="sts-download">{download_link(images.files.to_csv(index=False), "image_mask_sha256.csv", label, "text/csv")}</div>'


def display_provenance(parameters: Mapping[str, Any], seeds: Mapping[str, int] | None = None) -> None:
    """Show the provenance tables in a notebook (the last cell of every report)."""
    from IPython.display import HTML, display

    from .formatting import to_html_table

    parameter_table = pd.DataFrame(
        [(name, json.dumps(value, default=str)) for name, value in parameters.items()], columns=["parameter", "value"]
    )
    display(to_html_table(software_versions(), caption="Software versions"))
    display(to_html_table(parameter_table, caption=f"Parameters (SHA-256 {parameters_hash(parameters)[:16]}…)"))
    files = input_files(parameters)
    images = case_images(parameters)
    if images is not None:
        files = pd.concat([files, case_images_row(images)], ignore_index=True)
    if not files.empty:
        notes = f"{images.summary()} (download the list below)." if images is not None else None
        display(to_html_table(files, caption="Input files", notes=notes))
    if images is not None:
        display(HTML(case_images_download(images)))
    if seeds:
        seed_table = pd.DataFrame(list(seeds.items()), columns=["random_process", "seed"])
        display(to_html_table(seed_table, caption="Random seeds"))
