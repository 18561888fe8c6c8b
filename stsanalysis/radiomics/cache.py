"""The per-case extraction cache: one small JSON file per finished case.

An entry is named by :func:`cache_key`, the hash of everything its values depend on (the
content of the image and mask, the parameters, the label and the pyradiomics version), so
a changed input is a new entry and a stale one is never read. Entries are written
atomically (:func:`stsanalysis.files.atomic_write_text`): a run that is killed leaves each
case either complete or absent, and the next run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..files import atomic_write_text


def _hash_path(path: Path, digest) -> None:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path)).encode() if path.is_dir() else b"file")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)


def cache_key(image, mask, params: dict, label: int) -> str:
    """sha256 of the image and mask content, the canonical parameters, label and pyradiomics version."""
    import radiomics

    digest = hashlib.sha256()
    for path in (Path(image), Path(mask)):
        _hash_path(path, digest)
        digest.update(b"\0")
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    digest.update(canonical.encode())
    digest.update(f"label={label};pyradiomics={radiomics.__version__}".encode())
    return digest.hexdigest()


def entry_path(cache_dir: Path, image, mask, params: dict, label: int) -> Path:
    """The cache file of one case: ``<cache_dir>/<cache_key>.json``."""
    return cache_dir / f"{cache_key(image, mask, params, label)}.json"


def read_entry(path: Path) -> dict | None:
    """The cached ``{"features": ..., "diagnostics": ...}`` of a case; None when absent or unreadable."""
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):  # absent, or unreadable: recompute
        return None


def write_entry(path: Path, features: dict, diagnostics: dict) -> None:
    """Write a finished case; a reader never sees a half-written entry."""
    atomic_write_text(path, json.dumps({"features": features, "diagnostics": diagnostics}))
