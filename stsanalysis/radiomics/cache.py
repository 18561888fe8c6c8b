"""The per-case extraction cache: one small JSON file per finished case.

An entry is named by :func:`cache_key`, the hash of everything its values depend on (the
content of the image and mask, the parameters, the label and the pyradiomics version), so
a changed input is a new entry and a stale one is never read. Entries are written
atomically and durably (:func:`write_entry`: a temporary file in the same folder, flushed to
disk, renamed over the entry): a run that is killed, by the user or by a cluster's
scheduler at its time limit, leaves each case either complete or absent, and the next run
resumes where it stopped. The folder can be shared by the workers of a cluster (a network
file system): each worker writes the cases it finished, and two writers of the same case
write the same content.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..files import atomic_path


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
    """Write a finished case; a reader never sees a half-written entry, and a written one survives a crash.

    The content is fsynced before the rename and the folder after it, so that a node that
    loses power (or a job killed mid-write) leaves the old state or the whole entry.
    """
    text = json.dumps({"features": features, "diagnostics": diagnostics})
    with atomic_path(path) as temporary:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open a folder, its rename is journaled)."""
    if os.name != "posix":
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:  # some network and FUSE file systems refuse fsync on a folder: the rename itself is atomic there
        pass
    finally:
        os.close(descriptor)
