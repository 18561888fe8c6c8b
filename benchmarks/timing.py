"""What the benchmark scripts share: the best of several timed calls.

The scripts run as ``python benchmarks/bench_*.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import time


def best_time(function, repeats: int) -> tuple[float, object]:
    """The shortest wall time of ``repeats`` calls of ``function()``, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result
