"""Extraction beyond one process: a pool started once, chunks, and clusters from a study config.

* ``worker_pool`` keeps the same worker processes for several calls; chunks return every
  case exactly once; worker processes import extraction without pandas.
* ``cluster:`` specs: a ``LocalCluster`` gives the serial result; dask-jobqueue's
  ``SLURMCluster`` built from a spec writes the batch script the spec asks for (no SLURM
  needed); a bad spec is refused naming the key; the command line reads ``parameters.cluster``.
* A run on a cluster that is killed (SIGKILL, as a scheduler ends a job at its time limit)
  resumes from the shared cache without recomputing a finished case.
"""

from __future__ import annotations

import json
import os
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
import yaml
from pool_tasks import process_id, square

from stsanalysis import InputError
from stsanalysis.cli import main
from stsanalysis.radiomics import backends
from stsanalysis.radiomics.backends import check_cluster_spec, execute, make_cluster, worker_pool
from stsanalysis.radiomics.extraction import extract_features

PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {"shape": ["VoxelVolume"], "firstorder": ["Mean", "Variance"], "glcm": ["Contrast"]},
    "setting": {"binCount": 16, "label": 1},
}
SLURM_SPEC = {
    "kind": "slurm",
    "queue": "short",
    "cores": 4,
    "memory": "16GB",
    "walltime": "02:00:00",
    "jobs": 3,
    "account": "radiology",
    "local_directory": "/scratch/dask",
    "job_extra_directives": ["--exclusive"],
}
LOCAL_SPEC = {"kind": "local", "workers": 2}

# dask.distributed is optional (the 'dask' extra): every cluster test below needs it
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")


def write_cases(folder: Path, n_cases: int) -> pd.DataFrame:
    """Small noisy volumes (8 x 20 x 20) with box masks of varying width."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(n_cases):
        rng = np.random.default_rng(index)
        image = sitk.GetImageFromArray((100 + 20 * rng.standard_normal((8, 20, 20))).astype(np.int16))
        mask = np.zeros((8, 20, 20), dtype=np.uint8)
        mask[1:7, 5 + index % 3 : 14, 6:14] = 1
        paths = {kind: folder / f"C{index:02d}_{kind}.nii.gz" for kind in ("image", "mask")}
        sitk.WriteImage(image, str(paths["image"]))
        sitk.WriteImage(sitk.GetImageFromArray(mask), str(paths["mask"]))
        rows.append({"patient_id": f"C{index:02d}", "image": str(paths["image"]), "mask": str(paths["mask"])})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- pool once, chunks


def test_worker_pool_keeps_the_same_processes_across_calls():
    with worker_pool(n_jobs=2):
        first = set(execute(process_id, range(8), 2))
        second = set(execute(process_id, range(8), 2))
        assert set(execute(process_id, range(2), 1)) == {os.getpid()}  # another target: its own backend
    assert os.getpid() not in first
    assert len(first | second) <= 2  # one pool of at most 2 workers served both calls (it grows on demand)
    assert not set(execute(process_id, range(8), 2)) & first  # closed with the block; a call alone starts its own


def test_chunks_return_every_task_exactly_once():
    tasks = list(range(300))  # 300 tasks on 2 workers: chunks of 16 shrinking to 1
    assert sorted(execute(square, tasks, 2)) == [task * task for task in tasks]


def test_worker_processes_import_extraction_without_pandas():
    code = "import sys, stsanalysis.radiomics.extraction; print('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_a_reused_extractor_logs_its_warnings_for_every_case(tmp_path):
    cases = write_cases(tmp_path, 3)
    messages = extract_features(cases, PARAMS, n_jobs=1, progress=False).attrs["diagnostics"]["diagnostics_messages"]
    # pyradiomics advises against binCount when the extractor is built; built once, said for each case
    assert messages.str.contains("Fixed bin Count enabled").all()
    assert messages.nunique() == 1


def test_extraction_in_a_worker_pool_equals_serial(tmp_path):
    cases = write_cases(tmp_path, 6)
    serial = extract_features(cases, PARAMS, n_jobs=1, progress=False)
    with worker_pool(n_jobs=2):
        pooled = [extract_features(part, PARAMS, n_jobs=2, progress=False) for part in (cases.head(3), cases.tail(3))]
    for part in pooled:
        part.attrs = {}  # pandas cannot concat frames whose attrs hold tables
    combined = pd.concat(pooled)
    serial.attrs = {}
    pd.testing.assert_frame_equal(combined, serial, check_exact=True)


# --------------------------------------------------------------------------- cluster specs


def test_local_cluster_extraction_equals_serial(tmp_path):
    cases = write_cases(tmp_path, 4)
    serial = extract_features(cases, PARAMS, n_jobs=1, progress=False)
    on_cluster = extract_features(cases, PARAMS, cluster=LOCAL_SPEC, cache_dir=tmp_path / "cache", progress=False)
    pd.testing.assert_frame_equal(on_cluster, serial, check_exact=True)
    pd.testing.assert_frame_equal(on_cluster.attrs["diagnostics"], serial.attrs["diagnostics"], check_exact=True)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 4  # the cluster's workers wrote the cache


def test_slurm_cluster_from_a_spec_writes_the_batch_script():
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue (the 'cluster' extra) is not installed")
    cluster = make_cluster(check_cluster_spec(SLURM_SPEC))
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    lines = script.splitlines()
    for directive in (
        "#SBATCH -p short",
        "#SBATCH -A radiology",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH -t 02:00:00",
        "#SBATCH --exclusive",
    ):
        assert directive in lines, script
    assert "#SBATCH --mem=15G" in lines, script  # dask-jobqueue writes 16 GB as whole GiB
    # one single-threaded worker per core (pyradiomics runs one case per thread)
    assert "--nworkers 4" in script and "--nthreads 1" in script and "--local-directory /scratch/dask" in script


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["slurm"], "'cluster' must be a mapping"),
        ({"kind": "pbs", "queue": "short"}, "needs 'kind' slurm or local.*got 'kind' 'pbs'"),
        ({"queue": "short"}, r"needs 'kind'.*got keys \['queue'\]"),
        ({**SLURM_SPEC, "queu": "long"}, r"unknown key\(s\) \['queu'\]"),
        ({key: value for key, value in SLURM_SPEC.items() if key != "walltime"}, r"lacks key\(s\) \['walltime'\]"),
        ({**SLURM_SPEC, "cores": "4"}, "'cluster.cores' must be a positive integer; got '4'"),
        ({**SLURM_SPEC, "jobs": 0}, "'cluster.jobs' must be a positive integer"),
        ({**SLURM_SPEC, "memory": 16}, "'cluster.memory' must be the memory of one job"),
        ({**SLURM_SPEC, "walltime": "2 hours"}, "'cluster.walltime' must be a SLURM time limit"),
        ({**SLURM_SPEC, "job_extra_directives": "--exclusive"}, "'cluster.job_extra_directives' must be a list"),
        ({"kind": "local", "workers": -1}, "'cluster.workers' must be a positive integer"),
        ({"kind": "local", "workers": 2, "queue": "short"}, r"kind 'local' has unknown key\(s\) \['queue'\]"),
        ({"address": "tcp://10.0.0.5:8786", "kind": "local"}, r"takes no other key; got also \['kind'\]"),
        ({"address": "10.0.0.5"}, "'cluster.address' must be a scheduler address"),
    ],
)
def test_bad_cluster_specs_are_refused_naming_the_key(spec, message, tmp_path):
    with pytest.raises(InputError, match=message):
        check_cluster_spec(spec)
    with pytest.raises(InputError, match=message):  # before any case is read
        extract_features(pd.DataFrame({"patient_id": ["P1"], "image": ["a"], "mask": ["b"]}), PARAMS, cluster=spec, progress=False)


def test_a_well_formed_spec_passes_unchanged():
    assert check_cluster_spec(SLURM_SPEC) == SLURM_SPEC
    assert check_cluster_spec({"walltime": "1-12:00", **{k: v for k, v in SLURM_SPEC.items() if k != "walltime"}})["walltime"] == "1-12:00"


NOTEBOOK_PARAMETERS = """cases_path: str = ""
sequences: dict = {}
cache_dir: str = ""
n_jobs: int = -1
cluster: dict = {}
"""


def _study_config(folder: Path, cases: pd.DataFrame, cluster) -> Path:
    """A config for `stsanalysis extract`, with a notebook that declares the parameters it uses."""
    import nbformat

    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell(NOTEBOOK_PARAMETERS, metadata={"tags": ["parameters"]})]
    nbformat.write(notebook, folder / "extract_only.ipynb")
    cases.assign(sequence="T1").to_csv(folder / "cases.csv", index=False)
    parameters = {"cases_path": "cases.csv", "sequences": {"T1": PARAMS}, "cache_dir": "cache", "cluster": cluster}
    config = folder / "study.yaml"
    config.write_text(yaml.safe_dump({"notebook": "extract_only", "output": str(folder), "parameters": parameters}))
    return config


def test_extract_command_runs_on_the_cluster_of_the_config(tmp_path, capsys):
    cases = write_cases(tmp_path / "data", 3)
    config = _study_config(tmp_path, cases, {"kind": "local", "workers": 1})
    assert main(["extract", "--config", str(config), "--quiet", "--output", str(tmp_path / "features.csv")]) == 0
    written = pd.read_csv(tmp_path / "features.csv", index_col=["patient_id", "sequence", "reader"], float_precision="round_trip")
    serial = extract_features(cases, PARAMS, n_jobs=1, progress=False)
    np.testing.assert_array_equal(written.to_numpy(), serial.to_numpy())
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3

    bad = _study_config(tmp_path, cases, {"kind": "slurm", "queue": "short"})
    assert main(["extract", "--config", str(bad), "--quiet"]) == 2
    assert "lacks key(s) ['cores', 'memory', 'walltime', 'jobs']" in capsys.readouterr().err


# --------------------------------------------------------------------------- killed on a cluster

# The child extracts on a LocalCluster (one worker process) with every case slowed down by
# 0.4 s inside the worker, so that the kill lands mid-run; the values it caches are pyradiomics'.
CHILD = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from stsanalysis.radiomics import backends, extraction

    def slow_down():
        from stsanalysis.radiomics import extraction
        real = extraction._run_pyradiomics
        def slow(*args):
            time.sleep(0.4)
            return real(*args)
        extraction._run_pyradiomics = slow

    real_from_config = backends.cluster_from_config
    def slowed_cluster(spec):
        client, close = real_from_config(spec)
        client.run(slow_down)
        return client, close
    backends.cluster_from_config = slowed_cluster
    extraction.extract_features(pd.read_csv(sys.argv[1]), {params!r}, cluster={{"kind": "local", "workers": 1}},
                                cache_dir=sys.argv[2], progress=False)
    """
).format(params=PARAMS)


def _kill_run_after_cached(cases_csv: Path, cache_dir: Path, at_least: int, timeout: float = 180.0) -> None:
    """SIGKILL the extraction (and the cluster it started, which no clean-up code stops) once ``at_least`` cases are cached."""
    import psutil

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(cases_csv), str(cache_dir)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    descendants = []
    try:
        while len(list(cache_dir.glob("*.json"))) < at_least:
            assert child.poll() is None, f"the extraction ended before it was killed: {child.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no cache files appeared"
            time.sleep(0.02)
        descendants = psutil.Process(child.pid).children(recursive=True)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stderr.close()
        for process in descendants:  # the cluster's nanny and worker, started by the child
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(descendants, timeout=30)
    assert child.returncode == -signal.SIGKILL


def test_a_killed_cluster_run_resumes_from_the_shared_cache(tmp_path):
    n_cases = 10
    cases = write_cases(tmp_path / "data", n_cases)
    cases_csv = tmp_path / "cases.csv"
    cases.to_csv(cases_csv, index=False)
    cache_dir = tmp_path / "shared_cache"
    cache_dir.mkdir()

    _kill_run_after_cached(cases_csv, cache_dir, at_least=3)

    finished = {path.name: path.stat().st_ino for path in cache_dir.glob("*.json")}
    assert 3 <= len(finished) < n_cases
    assert all(json.loads((cache_dir / name).read_text())["features"] for name in finished)  # whole entries only
    leftovers = [path.name for path in cache_dir.iterdir() if path.suffix != ".json"]
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers)  # at most a write cut short

    resumed = extract_features(cases, PARAMS, cluster={"kind": "local", "workers": 1}, cache_dir=cache_dir, progress=False)

    assert resumed.attrs["provenance"]["n_from_cache"] == len(finished)
    assert resumed.attrs["errors"].empty
    # a finished case is read, not computed again: its entry is the same file (a rewrite is a new inode)
    assert {name: (cache_dir / name).stat().st_ino for name in finished} == finished
    assert len(list(cache_dir.glob("*.json"))) == n_cases
    clean = extract_features(cases, PARAMS, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(resumed, clean, check_exact=True)


def test_closing_a_pool_with_a_cluster_stops_it(monkeypatch, tmp_path):
    closed = []
    real = backends.cluster_from_config

    def recording(spec):
        client, close = real(spec)
        return client, lambda: (closed.append(True), close())

    monkeypatch.setattr(backends, "cluster_from_config", recording)
    cases = write_cases(tmp_path, 2)
    with worker_pool(cluster={"kind": "local", "workers": 1}):
        extract_features(cases.head(1), PARAMS, cluster={"kind": "local", "workers": 1}, progress=False)
        extract_features(cases.tail(1), PARAMS, cluster={"kind": "local", "workers": 1}, progress=False)
        assert closed == []  # one cluster for both calls
    assert closed == [True]
