"""Base class for statistical results: frozen dataclasses with named fields.

Subclass with ``@dataclass(frozen=True)``. Fields holding tables (DataFrames) are left out
of ``to_frame`` and shortened in ``repr``; so is an optional table field that is still None,
when declared with ``dataclasses.field(default=None, metadata={"table": True})``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class Result:
    """Common behaviour of every result object: ``to_dict``, ``to_frame`` and a short repr."""

    def to_dict(self) -> dict[str, Any]:
        """All fields as a dict (tables kept as DataFrames)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def to_frame(self) -> pd.DataFrame:
        """The scalar fields as a one-row DataFrame (snake_case columns)."""
        tables = {field.name for field in dataclasses.fields(self) if field.metadata.get("table")}
        scalars = {name: value for name, value in self.to_dict().items() if (np.isscalar(value) or value is None) and name not in tables}
        return pd.DataFrame([scalars])

    def __repr__(self) -> str:
        parts = []
        for name, value in self.to_dict().items():
            if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray)):
                parts.append(f"{name}=<{type(value).__name__} {getattr(value, 'shape', '')}>")
            elif isinstance(value, float):
                parts.append(f"{name}={value:.6g}")
            else:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
