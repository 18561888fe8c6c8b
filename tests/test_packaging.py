"""The two install routes (pip via pyproject.toml, conda via environment.yml) must agree."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _normalise(requirement: str) -> tuple[str, str]:
    name, specifier = _REQUIREMENT.match(requirement).groups()
    return name.lower().replace("_", "-"), specifier.replace(" ", "")


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pip_requirements += extra
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_requirements = []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            conda_requirements += [item for item in entry["pip"] if not item.startswith("-e")]
        elif entry != "pip" and not entry.startswith("python="):
            conda_requirements.append(entry)
    assert dict(map(_normalise, conda_requirements)) == dict(map(_normalise, pip_requirements))


def test_every_notebook_parameter_is_visible_to_papermill():
    """papermill cannot parse a parameter line whose comment holds '=' and then ignores it."""
    import nbformat
    import papermill

    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        cell = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
        declared = [
            line.split(":", 1)[0].split("=", 1)[0].strip() for line in cell.source.splitlines() if line and not line.startswith("#")
        ]
        assert sorted(papermill.inspect_notebook(str(path))) == sorted(declared), path.name
