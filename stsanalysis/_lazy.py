"""Names of a package imported on first use (PEP 562), shared by the sub-packages' ``__init__``.

A package lists ``name: sub-module`` and gets its module-level ``__getattr__`` and
``__dir__`` from :func:`lazy_exports`, so ``from stsanalysis.stats import icc`` imports only
:mod:`stsanalysis.stats.reliability`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package`` whose public names live in the sub-modules ``exports`` names."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f".{exports[name]}", package), name)

    def __dir__() -> list[str]:
        return sorted(set(exports) | {"__doc__", "__name__", "__all__"})

    return __getattr__, __dir__
