"""SHA-256 of every image and mask a cases table names, remembered between runs.

A report's provenance identifies its inputs by content: :func:`case_file_hashes` hashes each
image and mask file and each DICOM series folder of the cases table, so that an image
replaced in place changes the report's record. Reading a clinical image collection (often
gigabytes) again at every run would be slow, so :class:`FileHashCache` remembers each file's
hash in ``<cache_dir>/file_hashes/sha256.json``, keyed on the file's absolute path, size,
modification time and inode change time (``st_mtime_ns``, ``st_ctime_ns``, as git's index
does): an unchanged file is not read again, while a rewritten or replaced file has a new
modification time, or, when a copy kept the old one, a new change time, and is hashed again.
A file modified less than :data:`RECENT_SECONDS` before it is hashed is hashed but not
remembered, since on a file system with coarse timestamps a second write within the same
tick could keep both times (git's "racily clean" rule).

Recipes (so that anyone can recompute them):

* a folder (a DICOM series): SHA-256 of the JSON list of its files' ``[relative POSIX path,
  SHA-256]`` pairs, sorted by path (:func:`folder_digest`);
* the combined hash of a cases table: the same recipe over every image and mask, with paths
  relative to the cases file's folder (a missing file has ``null`` for its hash), so that it
  does not depend on where the study folder lies.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..files import atomic_write_text, sha256_file

#: Where the hash cache lives inside a study's ``cache_dir`` (beside the extraction cache's entries).
CACHE_FILE = Path("file_hashes") / "sha256.json"
#: A file modified this recently is hashed but not remembered (see the module docstring).
RECENT_SECONDS = 2.0
_FORMAT_VERSION = 1
#: Columns of :attr:`CaseFileHashes.files`.
FILE_COLUMNS = ("role", "path", "kind", "n_files", "bytes", "sha256")


def folder_digest(pairs) -> str:
    """SHA-256 of ``[path, sha256]`` pairs as canonical JSON, sorted by path."""
    canonical = json.dumps(sorted([str(path), digest] for path, digest in pairs), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class HashedPath:
    """The content hash of one file or folder: ``kind`` is "file", "folder" or "missing"."""

    path: Path
    kind: str
    n_files: int
    n_bytes: int
    sha256: str | None


class FileHashCache:
    """SHA-256 of files, remembered in ``<cache_dir>/file_hashes/sha256.json``; ``cache_dir=None``: not remembered.

    Use it as a context manager: the hashes found are written (atomically) when the block
    ends without an error. ``n_read`` counts the files read, ``n_remembered`` those whose
    hash came from the cache.
    """

    def __init__(self, cache_dir=None):
        self.path = Path(cache_dir) / CACHE_FILE if cache_dir else None
        self._entries = self._read_entries()
        self._new: dict[str, list] = {}
        self.n_read = 0
        self.n_remembered = 0

    def __enter__(self) -> FileHashCache:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None:
            self.save()

    def _read_entries(self) -> dict[str, list]:
        if self.path is None:
            return {}
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent or unreadable: every file is hashed again
            return {}
        if not isinstance(stored, dict) or stored.get("version") != _FORMAT_VERSION:
            return {}
        return dict(stored.get("files") or {})

    def hash_path(self, path) -> HashedPath:
        """The hash of a file, or of a folder by the folder recipe; kind "missing" when neither exists."""
        path = Path(path).absolute()
        if path.is_file():
            stat = path.stat()
            return HashedPath(path, "file", 1, stat.st_size, self.file_sha256(path))
        if path.is_dir():
            files = sorted(member for member in path.rglob("*") if member.is_file())
            pairs = [(member.relative_to(path).as_posix(), self.file_sha256(member)) for member in files]
            return HashedPath(path, "folder", len(files), sum(member.stat().st_size for member in files), folder_digest(pairs))
        return HashedPath(path, "missing", 0, 0, None)

    def file_sha256(self, path) -> str:
        """SHA-256 of a file's content, read only when its path, size or times changed since it was remembered."""
        path = Path(path).absolute()
        stat = path.stat()
        key = str(path)
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
        remembered = self._new.get(key) or self._entries.get(key)
        if remembered is not None and list(remembered[:3]) == signature:
            self.n_remembered += 1
            return remembered[3]
        digest = sha256_file(path)
        self.n_read += 1
        if time.time_ns() - stat.st_mtime_ns >= RECENT_SECONDS * 1e9:
            self._new[key] = [*signature, digest]
        return digest

    def save(self) -> None:
        """Write the cache with the hashes found since it was read (merged with what another run wrote meanwhile)."""
        if self.path is None or not self._new:
            return
        entries = self._read_entries() | self._new
        try:
            atomic_write_text(self.path, json.dumps({"version": _FORMAT_VERSION, "files": entries}, separators=(",", ":")))
        except OSError:  # a read-only cache folder: the hashes are right all the same, the next run reads the files again
            return
        self._entries, self._new = entries, {}


@dataclass(frozen=True)
class CaseFileHashes:
    """The images and masks of a cases table by content: one row per file or folder, and their combined hash.

    ``files`` has the columns of :data:`FILE_COLUMNS` (paths relative to the cases file's
    folder; ``kind`` "file", "folder" or "missing"); ``n_files`` counts files, a DICOM
    folder's each.
    """

    cases_path: str
    files: pd.DataFrame
    sha256: str
    n_files: int
    n_bytes: int
    n_missing: int

    def summary(self) -> str:
        """One line for a report: "Images and masks: 620 files, combined SHA-256 3f2a…"."""
        missing = f"; {self.n_missing} listed file(s) missing" if self.n_missing else ""
        return f"Images and masks: {self.n_files} files, combined SHA-256 {self.sha256[:16]}…{missing}"

    def to_frame(self) -> pd.DataFrame:
        return self.files.copy()

    def to_dict(self) -> dict:
        return {
            "cases_path": self.cases_path,
            "sha256": self.sha256,
            "n_files": self.n_files,
            "n_bytes": self.n_bytes,
            "n_missing": self.n_missing,
        }

    def __repr__(self) -> str:
        return f"CaseFileHashes({self.summary()!r})"


def case_file_hashes(cases_path, case_columns=None, cache_dir=None, *, missing: str = "error") -> CaseFileHashes:
    """SHA-256 of every image and mask file and DICOM folder of a cases table, and their combined hash.

    The table is read as extraction reads it (:func:`~stsanalysis.studies.radiomics_features.read_cases`,
    relative paths from the cases file's folder; ``case_columns`` renames your columns).
    A mask written ``file#name`` (a structure of the file) is hashed as ``file``. With
    ``cache_dir`` unchanged files are not read again (:class:`FileHashCache`).
    ``missing="error"`` raises :class:`~stsanalysis.InputError` naming a file that does not
    exist; ``missing="list"`` lists it (kind "missing"), as a report does whose extraction
    listed the case as failed.
    """
    from ..studies.radiomics_features import read_cases

    if missing not in ("error", "list"):
        raise InputError(f"'missing' must be 'error' or 'list'; got {missing!r}.")
    cases = read_cases(cases_path, columns=case_columns or None)
    base = Path(cases_path).absolute().parent
    listed = _listed_paths(cases)
    rows = []
    with FileHashCache(cache_dir) as cache:
        for path, (role, patient) in listed.items():
            hashed = cache.hash_path(path)
            if hashed.kind == "missing" and missing == "error":
                raise InputError(f"The {role} file '{path}' of patient '{patient}' (cases file '{cases_path}') does not exist.")
            rows.append((role, _relative(hashed.path, base), hashed.kind, hashed.n_files, hashed.n_bytes, hashed.sha256))
    files = pd.DataFrame(rows, columns=list(FILE_COLUMNS))
    return CaseFileHashes(
        cases_path=str(cases_path),
        files=files,
        sha256=folder_digest(zip(files["path"], files["sha256"])),
        n_files=int(files["n_files"].sum()),
        n_bytes=int(files["bytes"].sum()),
        n_missing=int((files["kind"] == "missing").sum()),
    )


def _listed_paths(cases: pd.DataFrame) -> dict[Path, tuple[str, str]]:
    """Each image and mask file or folder once (images first), with its role and first patient."""
    listed: dict[Path, tuple[str, str]] = {}
    for role in ("image", "mask"):
        for path, patient in zip(cases[role], cases["patient_id"]):
            listed.setdefault(_on_disk(str(path)), (role, str(patient)))
    return listed


def _on_disk(path: str) -> Path:
    """``path``, or the file part of ``file#structure`` when only that exists."""
    candidate = Path(path)
    if not candidate.exists() and "#" in candidate.name:
        file_part = Path(path.rsplit("#", 1)[0])
        if file_part.exists():
            return file_part
    return candidate


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive (Windows): no relative path
        return path.as_posix()
