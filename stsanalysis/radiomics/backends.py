"""Where extraction cases run: in this process, in a pool of processes, or on a Dask cluster.

:func:`execute` calls one function on every task and yields the results as they finish (in
completion order, not task order). Cases are parallel, so each worker runs ITK on one
thread. The function and tasks must be picklable for the process pool and Dask.

* **Where**: :func:`resolve_target` turns ``n_jobs`` (a number of processes, ``"dask"`` or a
  scheduler address) or a study config's ``cluster:`` spec (:func:`cluster_from_config`:
  dask-jobqueue's ``SLURMCluster``, a ``LocalCluster`` or a running scheduler) into a target.
* **Pool once**: inside ``with worker_pool(n_jobs, cluster):`` the processes (or the
  cluster) start at the first call that has work and serve every later call with the same
  target, so a run of several calls (one per sequence) pays the start-up of the workers
  (~1 s: a new interpreter importing pyradiomics) once. Outside it each call starts and
  stops its own.
* **Chunks**: the process pool gets the tasks in chunks that shrink as the work runs out
  (guided scheduling: ``remaining / (4 x workers)``, at most :data:`MAX_CHUNK`, one task at
  the end, so no worker idles while another finishes a long chunk), with at most two
  chunks per worker in flight: the parent holds only those results, the rest stream out.
  Dask gets one case per task; its scheduler balances them and steals work.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from multiprocessing import get_all_start_methods, get_context

import numpy as np
import SimpleITK as sitk

from ..errors import InputError

#: Largest number of cases sent to a worker process at once.
MAX_CHUNK = 16
#: Chunks in flight per worker process: one running, one queued behind it.
CHUNKS_IN_FLIGHT = 2

# ----------------------------------------------------------------------------- targets


def resolve_workers(n_jobs) -> int | str:
    """``n_jobs`` as a number of processes (-1: all cores), or ``"dask"`` / a scheduler address."""
    if isinstance(n_jobs, str):
        if n_jobs == "dask" or "://" in n_jobs:
            return n_jobs
        raise InputError(f"'n_jobs' must be an integer, 'dask' or a scheduler address; got '{n_jobs}'.")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise InputError(f"'n_jobs' must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def resolve_target(n_jobs=-1, cluster=None) -> int | str | dict:
    """Where cases run: the checked ``cluster`` spec when one is given (then ``n_jobs`` is not used), else :func:`resolve_workers`.

    An empty ``cluster`` (None, ``{}``: the notebooks' default) means no cluster.
    """
    if cluster:
        return check_cluster_spec(cluster)
    return resolve_workers(n_jobs)


# ----------------------------------------------------------------------------- cluster specs

_SLURM_REQUIRED = ("queue", "cores", "memory", "walltime", "jobs")
_SLURM_OPTIONAL = ("account", "local_directory", "job_extra_directives")
_LOCAL_KEYS = ("workers",)
_EXAMPLE = "e.g. {kind: slurm, queue: short, cores: 8, memory: 32GB, walltime: '02:00:00', jobs: 4}"
# SLURM's --time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours[:minutes[:seconds]]
_WALLTIME = re.compile(r"^\d+(-\d+)?(:\d{1,2}){0,2}$")


def check_cluster_spec(spec) -> dict:
    """The ``cluster:`` spec checked (see :func:`cluster_from_config`); an :class:`InputError` names a bad key."""
    if not isinstance(spec, Mapping):
        raise InputError(f"'cluster' must be a mapping, {_EXAMPLE}; got {type(spec).__name__} ({spec!r}).")
    spec = dict(spec)
    if "address" in spec:
        others = sorted(set(spec) - {"address"})
        if others:
            raise InputError(f"'cluster' with 'address' connects to a running scheduler and takes no other key; got also {others}.")
        if not isinstance(spec["address"], str) or "://" not in spec["address"]:
            raise InputError(f"'cluster.address' must be a scheduler address such as 'tcp://10.0.0.5:8786'; got {spec['address']!r}.")
        return spec
    kind = spec.get("kind")
    if kind not in ("slurm", "local"):
        given = f"'kind' {kind!r}" if "kind" in spec else f"keys {sorted(spec)}"
        raise InputError(f"'cluster' needs 'kind' slurm or local, or the 'address' of a running scheduler; got {given}.")
    required, optional = (_SLURM_REQUIRED, _SLURM_OPTIONAL) if kind == "slurm" else (_LOCAL_KEYS, ())
    unknown = sorted(set(spec) - {"kind", *required, *optional})
    if unknown:
        raise InputError(f"'cluster' of kind '{kind}' has unknown key(s) {unknown}; allowed: {[*required, *optional]}.")
    missing = [key for key in required if key not in spec]
    if missing:
        raise InputError(f"'cluster' of kind '{kind}' lacks key(s) {missing}; required: {list(required)}.")
    for key in ("cores", "jobs", "workers"):
        if key in spec and (isinstance(spec[key], bool) or not isinstance(spec[key], int) or spec[key] < 1):
            raise InputError(f"'cluster.{key}' must be a positive integer; got {spec[key]!r}.")
    if kind == "slurm":
        _check_slurm_values(spec)
    return spec


def _check_slurm_values(spec: dict) -> None:
    for key in ("queue", "account", "local_directory"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key]):
            raise InputError(f"'cluster.{key}' must be a non-empty text; got {spec[key]!r}.")
    if not isinstance(spec["memory"], str) or not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", spec["memory"], flags=re.IGNORECASE):
        raise InputError(f"'cluster.memory' must be the memory of one job such as '32GB' or '64GiB'; got {spec['memory']!r}.")
    if not isinstance(spec["walltime"], str) or not _WALLTIME.match(spec["walltime"]):
        raise InputError(f"'cluster.walltime' must be a SLURM time limit such as '02:00:00' or '1-00:00:00'; got {spec['walltime']!r}.")
    extra = spec.get("job_extra_directives", [])
    if not isinstance(extra, list) or not all(isinstance(item, str) for item in extra):
        raise InputError(f"'cluster.job_extra_directives' must be a list of sbatch options such as ['--exclusive']; got {extra!r}.")


def make_cluster(spec: Mapping):
    """The (not yet scaled) dask cluster of a checked ``kind: slurm`` or ``kind: local`` spec.

    SLURM: one batch job runs ``cores`` worker processes of one thread each (pyradiomics is
    single-threaded per case) sharing ``memory``; jobs start when the cluster is scaled
    (:func:`cluster_from_config`). The dashboard is off (no port to collide with).
    """
    if spec["kind"] == "local":
        from distributed import LocalCluster

        return LocalCluster(n_workers=spec["workers"], threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as error:
        raise InputError(
            "'cluster' of kind 'slurm' needs the optional package dask-jobqueue: pip install 'stsanalysis[cluster]'."
        ) from error
    options = {key: spec[key] for key in ("account", "local_directory", "job_extra_directives") if key in spec}
    return SLURMCluster(
        queue=spec["queue"],
        cores=spec["cores"],
        processes=spec["cores"],
        memory=spec["memory"],
        walltime=spec["walltime"],
        scheduler_options={"dashboard_address": None},
        **options,
    )


def cluster_from_config(spec: Mapping) -> tuple[object, Callable[[], None]]:
    """A dask.distributed client for a study config's ``cluster:`` key, and the function that closes it.

    ``spec`` is one of

    * ``{kind: slurm, queue, cores, memory, walltime, jobs}`` and optionally ``account``,
      ``local_directory`` (worker scratch space, e.g. node-local ``/tmp``) and
      ``job_extra_directives`` (more ``#SBATCH`` options): dask-jobqueue's ``SLURMCluster``
      submitting ``jobs`` batch jobs to partition ``queue``, each with ``cores`` single-threaded
      workers sharing ``memory`` (``"32GB"``) for at most ``walltime`` (``"02:00:00"``). The
      workers run this Python, so the environment and the images must be on a shared folder;
    * ``{kind: local, workers}``: a ``LocalCluster`` of single-threaded worker processes;
    * ``{address: "tcp://host:8786"}``: a running scheduler (closing disconnects from it).

    Closing stops the cluster it started (the batch jobs are cancelled).
    """
    spec = check_cluster_spec(spec)
    try:
        from distributed import Client
    except ImportError as error:
        raise InputError("'cluster' needs the optional packages dask and distributed: pip install 'stsanalysis[cluster]'.") from error
    if "address" in spec:
        client = Client(spec["address"])
        return client, client.close
    cluster = make_cluster(spec)
    try:
        client = Client(cluster)
        if spec["kind"] == "slurm":
            cluster.scale(jobs=spec["jobs"])
    except BaseException:
        cluster.close()
        raise

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


# ----------------------------------------------------------------------------- running tasks

#: Backends kept open by :func:`worker_pool`, innermost last.
_OPEN: list = []


def execute(work: Callable, tasks: Sequence, target: int | str | dict) -> Iterator:
    """``work(task)`` for every task, on the target :func:`resolve_target` chose.

    An open :func:`worker_pool` with the same target runs them; else a pool (or client) is
    started for these tasks and stopped when they are done.
    """
    if not tasks:
        return iter(())
    if isinstance(target, int) and (target == 1 or len(tasks) == 1):
        return (work(task) for task in tasks)
    for backend in reversed(_OPEN):
        if backend.target == target:
            return backend.run(work, tasks)
    size = min(target, len(tasks)) if isinstance(target, int) else target
    return _run_and_close(_open_backend(size), work, tasks)


@contextmanager
def worker_pool(n_jobs=-1, cluster=None) -> Iterator[None]:
    """Keep the extraction workers of ``n_jobs`` (or ``cluster``) alive for every call inside the block.

    ::

        with worker_pool(n_jobs=2):
            t1 = extract_features(t1_cases, "mri_t1", n_jobs=2)
            t2 = extract_features(t2_cases, "mri_t2fs", n_jobs=2)  # same processes, no new start-up

    The workers start at the first call that has something to compute (a run served from
    the cache starts none). A call with another ``n_jobs`` or cluster uses its own.
    """
    backend = _open_backend(resolve_target(n_jobs, cluster))
    _OPEN.append(backend)
    try:
        yield
    finally:
        _OPEN.remove(backend)
        backend.close()


def _open_backend(target):
    return _ProcessBackend(target) if isinstance(target, int) else _DaskBackend(target)


def _run_and_close(backend, work, tasks):
    try:
        yield from backend.run(work, tasks)
    finally:
        backend.close()


def _worker_context():
    """How worker processes start: never by forking this process (its ITK and tqdm threads).

    Where there is a fork server (Linux, macOS) it imports pyradiomics once, clean, and every
    worker forks from it ready to extract: a pool starts in ~0.02 s (0.2 s for the first of a
    process) instead of 0.3 s of spawned workers importing pyradiomics. Elsewhere: spawn.
    """
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload([f"{__package__}.extraction"])
    return context


def _start_worker() -> None:
    """Process initializer: cases are parallel, so each worker runs ITK on one thread."""
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)


def _run_chunk(work: Callable, chunk: Sequence) -> list:
    # also pins ITK here: Dask workers (a SLURM job joining later included) have no initializer
    _start_worker()
    return [work(task) for task in chunk]


def chunk_size(remaining: int, workers: int) -> int:
    """Cases of the next chunk: guided scheduling, shrinking to 1 as the work runs out.

    >>> [chunk_size(n, 2) for n in (1000, 100, 40, 15, 3)]
    [16, 12, 5, 1, 1]
    """
    return max(1, min(MAX_CHUNK, remaining // (4 * workers)))


class _ProcessBackend:
    """A pool of ``target`` worker processes, started at the first run."""

    def __init__(self, target: int):
        self.target = target
        self._pool: ProcessPoolExecutor | None = None

    def run(self, work: Callable, tasks: Sequence) -> Iterator:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.target, mp_context=_worker_context(), initializer=_start_worker)
        submitted, in_flight = 0, set()
        try:
            while submitted < len(tasks) or in_flight:
                while submitted < len(tasks) and len(in_flight) < CHUNKS_IN_FLIGHT * self.target:
                    size = chunk_size(len(tasks) - submitted, self.target)
                    in_flight.add(self._pool.submit(_run_chunk, work, tasks[submitted : submitted + size]))
                    submitted += size
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    yield from future.result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): the next run starts a new pool
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            raise
        finally:
            for future in in_flight:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class _DaskBackend:
    """A dask.distributed client: the running one (``"dask"``), a scheduler address or a cluster spec."""

    def __init__(self, target: str | dict):
        self.target = target
        self._client = None
        self._close: Callable[[], None] = lambda: None

    def _connect(self):
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, default_client
        except ImportError as error:
            raise InputError("n_jobs='dask' needs the optional packages dask and distributed.") from error
        if isinstance(self.target, dict):
            self._client, self._close = cluster_from_config(self.target)
        elif self.target == "dask":
            try:
                self._client = default_client()
            except ValueError as error:
                raise InputError(
                    "n_jobs='dask' needs a running dask.distributed Client; start one "
                    "(Client(...)) or pass the scheduler address, e.g. 'tcp://host:8786'."
                ) from error
        else:
            self._client = Client(self.target)
            self._close = self._client.close
        return self._client

    def run(self, work: Callable, tasks: Sequence) -> Iterator:
        from distributed import as_completed

        client = self._connect()
        futures = client.map(partial(_run_chunk, work), [[task] for task in tasks], pure=False)
        pending = {future.key: future for future in futures}
        completed = as_completed(futures)
        del futures  # a finished case is released once yielded
        try:
            for future in completed:
                del pending[future.key]
                yield from future.result()
        finally:
            if pending:
                client.cancel(list(pending.values()))

    def close(self) -> None:
        close, self._close, self._client = self._close, (lambda: None), None
        close()
