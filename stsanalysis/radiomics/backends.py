"""Where extraction cases run: in this process, in a pool of processes, or on a Dask cluster.

:func:`execute` calls one function on every task and yields the results as they finish (in
completion order, not task order). Cases are parallel, so each worker runs ITK on one
thread. The function and tasks must be picklable for the process pool and Dask.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

import numpy as np
import SimpleITK as sitk

from ..errors import InputError


def resolve_workers(n_jobs) -> int | str:
    """``n_jobs`` as a number of processes (-1: all cores), or ``"dask"`` / a scheduler address."""
    if isinstance(n_jobs, str):
        if n_jobs == "dask" or "://" in n_jobs:
            return n_jobs
        raise InputError(f"'n_jobs' must be an integer, 'dask' or a scheduler address; got '{n_jobs}'.")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise InputError(f"'n_jobs' must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def execute(work: Callable, tasks: Sequence, workers: int | str) -> Iterator:
    """``work(task)`` for every task, on the backend :func:`resolve_workers` chose."""
    if not tasks:
        return iter(())
    if isinstance(workers, str):
        return _run_dask(work, tasks, workers)
    if workers == 1 or len(tasks) == 1:
        return _run_serial(work, tasks)
    return _run_processes(work, tasks, min(workers, len(tasks)))


def _pin_itk_threads() -> None:
    """Worker initializer: cases are parallel, so each worker runs ITK on one thread."""
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)


def _run_serial(work, tasks):
    for task in tasks:
        yield work(task)


def _run_processes(work, tasks, workers: int):
    # spawn: workers start clean (no forked ITK/tqdm threads), the same on Linux, macOS, Windows
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_pin_itk_threads) as pool:
        futures = [pool.submit(work, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _run_dask(work, tasks, scheduler: str):
    try:
        from distributed import Client, default_client
        from distributed import as_completed as dask_as_completed
    except ImportError as error:
        raise InputError("n_jobs='dask' needs the optional packages dask and distributed.") from error
    if scheduler == "dask":
        try:
            client, own_client = default_client(), False
        except ValueError as error:
            raise InputError(
                "n_jobs='dask' needs a running dask.distributed Client; start one "
                "(Client(...)) or pass the scheduler address, e.g. 'tcp://host:8786'."
            ) from error
    else:
        client, own_client = Client(scheduler), True
    try:
        client.run(_pin_itk_threads)
        futures = client.map(work, tasks, pure=False)
        for future in dask_as_completed(futures):
            yield future.result()
    finally:
        if own_client:
            client.close()
