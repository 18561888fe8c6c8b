"""Results of expensive deterministic steps, kept on disk and keyed on everything they depend on.

A warm rebuild of a report must not redo what cannot have changed: the bootstrap
validation of a model, the segmentation agreement of 40 mask pairs. :func:`cached_table`
stores a step's table under ``<cache_dir>/<step>/<key>.csv``, where the key is the SHA-256
of the step's inputs (data, settings, seed, the package version and, for files, their
path, size and modification time), and reads it back instead of computing it. Tables are
written as CSV with round-trip float precision (never pickles: a shared cache folder must
not be able to run code), atomically (temporary file, then rename), so a killed run leaves
no half-written entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from . import __version__
from .files import atomic_write_text


def file_signature(paths: Iterable[str | os.PathLike]) -> list[tuple[str, int, int]]:
    """(absolute path, size, modification time in ns) of each file: what a key needs to notice a replaced file."""
    signature = []
    for path in paths:
        status = Path(path).stat()
        signature.append((str(Path(path).resolve()), status.st_size, status.st_mtime_ns))
    return signature


def _key(step: str, parts) -> str:
    digest = hashlib.sha256()
    for part in (step, __version__, *parts):
        if isinstance(part, pd.DataFrame | pd.Series):
            digest.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
            names = part.columns if isinstance(part, pd.DataFrame) else [part.name]
            digest.update(json.dumps([str(name) for name in names]).encode())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def cached_table(cache_dir: str | os.PathLike | None, step: str, parts: Iterable, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``compute()``, or the table it returned before for the same ``parts``; no cache when ``cache_dir`` is None.

    ``parts`` are the step's inputs: DataFrames/Series (hashed with their index and column
    names) and JSON-serialisable values. The table's index and dtypes of numeric columns
    come back as written; ``attrs`` (footnotes) are kept in a JSON sidecar line.
    """
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / step / f"{_key(step, list(parts))}.csv"
    if path.is_file():
        notes_line, _, body = path.read_text(encoding="utf-8").partition("\n")
        table = pd.read_csv(io.StringIO(body), index_col=0, float_precision="round_trip")
        table.attrs = json.loads(notes_line)
        return table
    table = compute()
    atomic_write_text(path, json.dumps(table.attrs, default=str) + "\n" + table.to_csv(float_format="%.17g"))
    return table
