"""Time ``stsanalysis report`` for each demo study config, cold and warm feature cache.

    .venv/bin/python benchmarks/bench_report.py                 # every notebooks/configs/*.yaml
    .venv/bin/python benchmarks/bench_report.py --warm-only     # skip the cold runs (design B
                                                                # extracts 520 cases cold)
    .venv/bin/python benchmarks/bench_report.py --configs biomarker_study
    .venv/bin/python benchmarks/bench_report.py --all-warm      # what a warm `make report` runs:
                                                                # every study and lesson, 2 at a time

Each run is the command line a user types (``python -m stsanalysis report --config``, a
fresh process: kernel start, notebook execution, HTML rendering) on a copy of the config
with its paths made absolute, writing to a temporary folder. A config with a ``cache_dir``
parameter (design B: the pyradiomics feature cache) runs

* cold: with an empty temporary cache folder (every case is extracted),
* warm: with a temporary copy of the configured cache folder (data/cache/features, filled
  by ``make report``), so that data/cache itself is never written.

Configs without a cache run twice (first and second run); the difference is then only the
operating system's file cache.

``--all-warm`` times one ``stsanalysis report --jobs 2`` of every study config and lesson, as a
warm ``make report`` does (the configs' own caches, which a warm run only reads), three times,
and prints each run's wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

CONFIG_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "configs"
PATH_SUFFIXES = ("_path", "_dir", "_file")


def absolute_config(config: Path) -> dict:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    parameters = raw.get("parameters", {})
    for key, value in parameters.items():
        if key.endswith(PATH_SUFFIXES) and isinstance(value, str) and not Path(value).is_absolute():
            parameters[key] = str((config.parent / value).resolve())
    return raw


def timed_report(raw: dict, folder: Path, cache_dir: Path | None) -> float:
    config = dict(raw, parameters=dict(raw.get("parameters", {})))
    if cache_dir is not None:
        config["parameters"]["cache_dir"] = str(cache_dir)
    config_path = folder / "study.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stsanalysis",
            "report",
            "--config",
            str(config_path),
            "--output",
            str(folder / "reports"),
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{config_path} failed ({result.returncode}):\n{result.stderr}")
    return seconds


def bench(config: Path, warm_only: bool) -> tuple[str, float | None, float]:
    raw = absolute_config(config)
    configured_cache = raw.get("parameters", {}).get("cache_dir")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        scratch = Path(scratch)
        cold_dir, warm_dir = scratch / "cold", scratch / "warm"
        cold_dir.mkdir()
        warm_dir.mkdir()
        if configured_cache is None:
            cold = None if warm_only else timed_report(raw, cold_dir, None)
            warm = timed_report(raw, warm_dir, None)
            return "none (first / second run)", cold, warm
        cold = None if warm_only else timed_report(raw, cold_dir, cold_dir / "cache")
        warm_cache = warm_dir / "cache"
        if Path(configured_cache).is_dir():
            shutil.copytree(configured_cache, warm_cache)
        elif cold_dir.joinpath("cache").is_dir():
            shutil.copytree(cold_dir / "cache", warm_cache)
        else:
            raise SystemExit(f"{config.name}: no filled cache to copy ({configured_cache} is absent); run without --warm-only")
        warm = timed_report(raw, warm_dir, warm_cache)
        return f"copy of {Path(configured_cache).name}/", cold, warm


def bench_html_table(n_rows: int = 5000) -> float:
    """Seconds to render a table of ``n_rows`` rows with its index (budget: 1 s)."""
    import numpy as np
    import pandas as pd

    from stsanalysis.report.formatting import to_html_table

    frame = pd.DataFrame({"value": np.arange(n_rows) / 7}, index=pd.Index([f"P{i}" for i in range(n_rows)], name="patient"))
    start = time.perf_counter()
    to_html_table(frame, index=True, digits=2)
    return time.perf_counter() - start


def bench_all_warm(repeats: int = 3) -> list[float]:
    """Wall seconds of ``stsanalysis report --jobs 2`` over every config and lesson, ``repeats`` times."""
    configs = sorted(CONFIG_DIR.glob("*.yaml")) + sorted((CONFIG_DIR / "teaching").glob("*.yaml"))
    command = [sys.executable, "-m", "stsanalysis", "report", "--jobs", "2"]
    for config in configs:
        command += ["--config", str(config)]
    seconds = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        for _ in range(repeats):
            start = time.perf_counter()
            result = subprocess.run([*command, "--output", scratch], capture_output=True, text=True)
            seconds.append(time.perf_counter() - start)
            if result.returncode != 0:
                raise SystemExit(f"the reports failed ({result.returncode}):\n{result.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", help="config names (default: every notebooks/configs/*.yaml)")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold runs")
    parser.add_argument("--all-warm", action="store_true", help="time every study and lesson together, 2 at a time")
    args = parser.parse_args()
    if args.all_warm:
        print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print("all reports and lessons, --jobs 2, warm:", ", ".join(f"{s:.1f} s" for s in bench_all_warm()))
        return
    configs = [CONFIG_DIR / f"{name}.yaml" for name in args.configs] if args.configs else sorted(CONFIG_DIR.glob("*.yaml"))

    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"to_html_table, 5,000 rows with index: {bench_html_table():.3f} s (budget 1 s)")
    print(f"{'config':<28} {'feature cache (warm)':<28} {'cold s':>8} {'warm s':>8} {'cold/warm':>9}")
    for config in configs:
        cache, cold, warm = bench(config, args.warm_only)
        cold_text = f"{cold:8.1f}" if cold is not None else f"{'-':>8}"
        ratio = f"{cold / warm:9.1f}" if cold is not None else f"{'-':>9}"
        print(f"{config.stem:<28} {cache:<28} {cold_text} {warm:8.1f} {ratio}", flush=True)


if __name__ == "__main__":
    main()
