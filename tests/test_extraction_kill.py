"""A killed extraction loses nothing: finished cases are not recomputed, the result is exact.

An extraction of 12 small synthetic cases runs in a child process and is killed with
SIGKILL (no clean-up code runs) once at least 3 cases are in the cache. The re-run in this
process must compute only the cases that were not finished and give the same table as a
clean run without cache.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from stsanalysis.radiomics import extraction
from stsanalysis.radiomics.cache import cache_key, read_entry
from stsanalysis.radiomics.extraction import extract_features
from stsanalysis.radiomics.params import load_params

N_CASES = 12
PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {"shape": ["VoxelVolume"], "firstorder": ["Mean", "Variance"], "glcm": ["Contrast"]},
    "setting": {"binCount": 16, "label": 1},
}

# The child slows every case down (0.4 s) so that the kill lands mid-run whatever the
# machine's load; the values it caches are pyradiomics' own.
CHILD = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from stsanalysis.radiomics import extraction

    real = extraction._run_pyradiomics
    def slow(*args):
        time.sleep(0.4)
        return real(*args)
    extraction._run_pyradiomics = slow
    extraction.extract_features(pd.read_csv(sys.argv[1]), {params!r}, n_jobs=1, cache_dir=sys.argv[2], progress=False)
    """
).format(params=PARAMS)


def _write_cases(folder: Path) -> pd.DataFrame:
    rows = []
    for index in range(N_CASES):
        rng = np.random.default_rng(index)
        image = sitk.GetImageFromArray((100 + 20 * rng.standard_normal((8, 20, 20))).astype(np.int16))
        mask_array = np.zeros((8, 20, 20), dtype=np.uint8)
        mask_array[1:7, 5 + index % 3 : 14, 6:14] = 1
        paths = {kind: folder / f"K{index:02d}_{kind}.nii.gz" for kind in ("image", "mask")}
        sitk.WriteImage(image, str(paths["image"]))
        sitk.WriteImage(sitk.GetImageFromArray(mask_array), str(paths["mask"]))
        rows.append({"patient_id": f"K{index:02d}", "image": str(paths["image"]), "mask": str(paths["mask"])})
    return pd.DataFrame(rows)


def _kill_after_cached(cases_csv: Path, cache_dir: Path, at_least: int, timeout: float = 120.0) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(cases_csv), str(cache_dir)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while len(list(cache_dir.glob("*.json"))) < at_least:
            assert child.poll() is None, f"the extraction ended before it was killed: {child.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no cache files appeared"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL


@pytest.fixture
def computed_cases(monkeypatch):
    """Patient ids of the cases actually extracted (not served from the cache)."""
    computed = []
    real = extraction._extract_case

    def counting(task):
        computed.append(task.case_id[0])
        return real(task)

    monkeypatch.setattr(extraction, "_extract_case", counting)
    return computed


def test_killed_extraction_resumes_without_recomputing_or_losing_cases(tmp_path, computed_cases):
    cases = _write_cases(tmp_path)
    cases_csv = tmp_path / "cases.csv"
    cases.to_csv(cases_csv, index=False)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()

    _kill_after_cached(cases_csv, cache_dir, at_least=3)

    resolved = load_params(PARAMS)
    key_of = {cache_key(row.image, row.mask, resolved, 1): row.patient_id for row in cases.itertuples()}
    finished = sorted(key_of[path.stem] for path in cache_dir.glob("*.json"))
    assert 3 <= len(finished) < N_CASES
    leftovers = [path.name for path in cache_dir.iterdir() if path.suffix != ".json"]
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers)  # at most a write cut short

    resumed = extract_features(cases, PARAMS, n_jobs=1, cache_dir=cache_dir, progress=False)

    assert sorted(computed_cases) == sorted(set(cases["patient_id"]) - set(finished))
    assert resumed.attrs["provenance"]["n_from_cache"] == len(finished)
    assert resumed.attrs["errors"].empty
    assert len(list(cache_dir.glob("*.json"))) == N_CASES
    clean = extract_features(cases, PARAMS, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(resumed, clean, check_exact=True)


def test_stray_temporary_and_truncated_cache_files_do_not_break_a_run(tmp_path, computed_cases):
    cases = _write_cases(tmp_path).head(3)
    cache_dir = tmp_path / "cache"
    first = extract_features(cases, PARAMS, n_jobs=1, cache_dir=cache_dir, progress=False)
    cached = sorted(cache_dir.glob("*.json"))
    # what a crash can leave: a temporary file cut short, and (on a file system without
    # atomic rename) a truncated cache entry
    (cache_dir / f".{cached[0].stem}.abc123.tmp").write_text('{"features": {"orig')
    cached[1].write_text(cached[1].read_text()[:20])
    computed_cases.clear()

    again = extract_features(cases, PARAMS, n_jobs=1, cache_dir=cache_dir, progress=False)

    key_of = {cache_key(row.image, row.mask, load_params(PARAMS), 1): row.patient_id for row in cases.itertuples()}
    assert computed_cases == [key_of[cached[1].stem]]  # only the truncated entry is recomputed
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert read_entry(cached[1]) is not None  # and rewritten whole
