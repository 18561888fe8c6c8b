"""The package's shape: modules of one topic, short functions, no import cycle, figures that only draw."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "stsanalysis"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
#: Modules whose functions draw figures: they take results and never compute statistics.
FIGURE_MODULES = sorted((PACKAGE / "plotting").glob("*.py")) + [PACKAGE / "viewer" / "figures.py"]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """Every stsanalysis module that ``name`` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in MODULES and module != name}


def test_no_module_is_longer_than_the_limit():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_longer_than_the_limit():
    long = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name} ({length} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return components


def test_no_import_cycle_between_modules():
    # a package's __init__ re-exports its modules: the edge to a package is an edge to its
    # __init__, which is fine as long as no module of the package imports back through it
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    assert _cycles(graph) == []


def test_statistics_never_import_plotting():
    offenders = {
        name: sorted(m for m in imported if m.startswith("stsanalysis.plotting"))
        for name, imported in (
            (name, imported_modules(name, path)) for name, path in MODULES.items() if name.startswith("stsanalysis.stats")
        )
    }
    assert {name: found for name, found in offenders.items() if found} == {}


@pytest.mark.parametrize("path", FIGURE_MODULES, ids=lambda path: path.name)
def test_figure_modules_take_results_and_call_no_statistics(path):
    """A figure function draws a result; it imports result classes and constants from stats, never a function."""
    module = importlib.import_module(module_name(path))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and "stats" in (node.module or "").split("."):
            for alias in node.names:
                value = getattr(module, alias.asname or alias.name)
                assert inspect.isclass(value) or not callable(value), (
                    f"{path.name} imports the statistics function {alias.name} from {node.module}"
                )
    name = module_name(path)
    assert "stsanalysis.stats" not in imported_modules(name, path), f"{path.name} imports the statistics package"


@pytest.mark.parametrize("package", ["stsanalysis.stats", "stsanalysis.plotting", "stsanalysis.teaching", "stsanalysis.radiomics"])
def test_lazy_package_names_are_the_sub_modules_objects(package):
    """Every name a package exports on first use is its sub-module's object, also once every sub-module is imported."""
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        importlib.import_module(f"{package}.{info.name}")
    for name, sub_module in module._EXPORTS.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"{package}.{sub_module}"), name), name
    assert set(module.__all__) <= set(dir(module))
