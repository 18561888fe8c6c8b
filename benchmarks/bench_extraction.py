"""Extraction throughput, cache re-run and peak memory (run on demand, not in the test suite).

    .venv/bin/python benchmarks/bench_extraction.py --cases 10 --preset mri_t1

Builds synthetic anisotropic MRI cases (0.8 x 0.8 x 4 mm, an ellipsoidal tumour with a
textured interior) and times, on the same cases and parameters:

* ``extract_features`` with n_jobs=1 and n_jobs=2 (a process pool started for the call, one
  ITK thread per worker), back to back in ``--repeats`` rounds, the best of each,
* the pyradiomics command line ``pyradiomics cases.csv --jobs 2 --param params.yaml``,
* a re-run served from the on-disk cache,
* peak resident memory of a serial extraction against cohort size (each size in a fresh
  process, so that ru_maxrss is that extraction's own peak).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml

from stsanalysis.radiomics.extraction import extract_features
from stsanalysis.radiomics.params import load_params

PYRADIOMICS_CLI = Path(sys.executable).with_name("pyradiomics")


def make_cases(directory: Path, n_cases: int, size=(96, 96, 20), seed=0) -> pd.DataFrame:
    """n synthetic T1-like volumes (x, y, z voxels of 0.8 x 0.8 x 4 mm) with tumour masks."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    z, y, x = np.indices(size[::-1])
    centre = np.array(size) * (0.8, 0.8, 4.0) / 2  # mm
    rows = []
    for case in range(n_cases):
        radii = rng.uniform(0.25, 0.4, 3) * centre.min() * 2  # mm
        inside = (
            ((x * 0.8 - centre[0]) / radii[0]) ** 2 + ((y * 0.8 - centre[1]) / radii[1]) ** 2 + ((z * 4.0 - centre[2]) / radii[2]) ** 2
        ) <= 1
        image = 300 + 40 * rng.standard_normal(size[::-1])
        image[inside] += 200 + 80 * np.sin(x[inside] / rng.uniform(1, 4)) + 60 * rng.standard_normal(inside.sum())
        volume = sitk.GetImageFromArray(image.astype(np.int16))
        mask = sitk.GetImageFromArray(inside.astype(np.uint8))
        for item in (volume, mask):
            item.SetSpacing((0.8, 0.8, 4.0))
        paths = directory / f"case{case:03d}_image.nii.gz", directory / f"case{case:03d}_mask.nii.gz"
        sitk.WriteImage(volume, str(paths[0]))
        sitk.WriteImage(mask, str(paths[1]))
        rows.append({"patient_id": f"case{case:03d}", "image": str(paths[0]), "mask": str(paths[1])})
    return pd.DataFrame(rows)


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def run_cli(cases: pd.DataFrame, params: dict, directory: Path, jobs: int) -> float:
    batch = directory / "cli_cases.csv"
    cases.rename(columns={"image": "Image", "mask": "Mask"})[["Image", "Mask"]].to_csv(batch, index=False)
    param_file = directory / "cli_params.yaml"
    param_file.write_text(yaml.safe_dump({key: params[key] for key in ("imageType", "featureClass", "setting")}))
    command = [
        str(PYRADIOMICS_CLI),
        str(batch),
        "--jobs",
        str(jobs),
        "--param",
        str(param_file),
        "-o",
        str(directory / "cli_out.csv"),
        "-f",
        "csv",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def peak_memory(cases_csv: Path, preset: str, n_cases: int) -> float:
    """Peak RSS (MiB) of a fresh process extracting the first n cases serially.

    Read from VmHWM in /proc/self/status: Linux carries ru_maxrss over from the parent
    through fork + exec, so getrusage would report the benchmark's own peak.
    """
    code = (
        "import re, pandas as pd; from stsanalysis.radiomics import extract_features; "
        f"cases = pd.read_csv({str(cases_csv)!r}).head({n_cases}); "
        f"extract_features(cases, {preset!r}, n_jobs=1, progress=False); "
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(output.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--preset", default="mri_t1")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of serial + 2 processes (best of each)")
    parser.add_argument(
        "--size",
        type=int,
        nargs=3,
        default=(96, 96, 20),
        metavar=("X", "Y", "Z"),
        help="voxels per case (0.8 x 0.8 x 4 mm)",
    )
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench_extraction_"))
    try:
        cases = make_cases(directory / "data", args.cases, size=tuple(args.size))
        cases_csv = directory / "cases.csv"
        cases.to_csv(cases_csv, index=False)
        params = load_params(args.preset)
        results = {"n_cases": args.cases, "preset": args.preset, "size_voxels": list(args.size)}

        # serial and 2 processes back to back in each round (the same load on a shared
        # machine); the best round of each
        serial, parallel = [], []
        for _ in range(args.repeats):
            seconds, features = timed(extract_features, cases, args.preset, n_jobs=1, progress=False)
            serial.append(seconds)
            parallel.append(timed(extract_features, cases, args.preset, n_jobs=2, progress=False)[0])
        results["serial_s"], results["n_jobs_2_s"] = min(serial), min(parallel)
        results["speed_up_2_processes"] = results["serial_s"] / results["n_jobs_2_s"]
        results["n_features"] = features.shape[1]
        timed(extract_features, cases, args.preset, n_jobs=2, cache_dir=directory / "cache", progress=False)
        results["cache_rerun_s"], _ = timed(extract_features, cases, args.preset, n_jobs=2, cache_dir=directory / "cache", progress=False)
        if PYRADIOMICS_CLI.exists():
            results["pyradiomics_cli_jobs_2_s"] = run_cli(cases, params, directory, jobs=2)
        sizes = sorted({1, max(1, args.cases // 2), args.cases})
        results["peak_rss_mib_by_cohort_size"] = {n: round(peak_memory(cases_csv, args.preset, n), 1) for n in sizes}
        results["seconds_per_case_serial"] = results["serial_s"] / args.cases
        print(json.dumps(results, indent=2, default=lambda v: round(v, 2)))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
