"""Tasks for the process-pool tests, in a module of their own: a spawned worker imports the
module of the function it runs, and this one costs nothing to import (a test module would
bring pandas, dask and the command line into every worker)."""

from __future__ import annotations

import os


def process_id(_task) -> int:
    return os.getpid()


def square(task: int) -> int:
    return task * task
