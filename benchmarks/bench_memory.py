"""Peak memory of an extraction against the number of cases: it must stay flat (run on demand).

    .venv/bin/python benchmarks/bench_memory.py                      # 100, 300 and 1,000 cases
    .venv/bin/python benchmarks/bench_memory.py --sizes 50 200 --n-jobs 2

Writes 1,000 small synthetic cases (24 x 24 x 12 voxels of 1 mm, a noisy textured image
with a spherical tumour mask) to a temporary folder, then extracts the first 100, 300 and
1,000 of them with a small preset (first-order + GLCM on the original image, 42 features),
each size in a fresh process with ``n_jobs=2`` and a cache folder of its own, so that each
case's result streams to the cache as it completes. For each size it reports

* the peak of Python allocations of the extracting process (``tracemalloc``),
* its peak resident memory (``VmHWM``: Linux carries ``ru_maxrss`` over from the parent
  through fork + exec, so getrusage would report the benchmark's own peak),
* the largest peak resident memory of its worker processes (``getrusage(RUSAGE_CHILDREN)``
  after the pool has stopped and its workers were reaped),
* the cache entries written and the time.

The parent holds the feature table being built (one row per case) and nothing per image:
images are read, reduced to features and dropped inside the workers.
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

PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {"firstorder": [], "glcm": []},  # every feature of both classes
    "setting": {"binWidth": 5, "label": 1},
}

# The extraction of one size, in a fresh interpreter; prints one JSON line.
CHILD = """
import json, re, resource, sys, time, tracemalloc
import pandas as pd
import radiomics.featureextractor, tqdm.auto  # imported before tracing: the trace is the run's data, not module code
from stsanalysis.radiomics.extraction import extract_features

cases = pd.read_csv(sys.argv[1]).head(int(sys.argv[2]))
tracemalloc.start()
start = time.perf_counter()
features = extract_features(cases, json.loads(sys.argv[3]), n_jobs=int(sys.argv[4]), cache_dir=sys.argv[5], progress=False)
seconds = time.perf_counter() - start
_, traced_peak = tracemalloc.get_traced_memory()
status = open("/proc/self/status").read()
print(json.dumps({
    "cases": len(cases),
    "features": features.shape[1],
    "failed": int(features.attrs["provenance"]["n_failed"]),
    "seconds": seconds,
    "tracemalloc_peak_mib": traced_peak / 2**20,
    "parent_peak_rss_mib": int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024,
    "worker_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def make_cases(folder: Path, n_cases: int, size=(24, 24, 12), seed=0):
    """n small cases: noise plus a sine texture inside a sphere of radius 4-6 voxels."""
    import numpy as np
    import pandas as pd
    import SimpleITK as sitk

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    z, y, x = np.indices(size[::-1])
    rows = []
    for case in range(n_cases):
        radius = rng.uniform(4, 6)
        centre = np.array(size[::-1]) / 2 + rng.uniform(-1, 1, 3)
        inside = (z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2 <= radius**2
        image = 100 + 15 * rng.standard_normal(size[::-1])
        image[inside] += 40 + 20 * np.sin(x[inside] / rng.uniform(1, 3))
        paths = folder / f"m{case:04d}_image.nii.gz", folder / f"m{case:04d}_mask.nii.gz"
        sitk.WriteImage(sitk.GetImageFromArray(image.astype(np.int16)), str(paths[0]))
        sitk.WriteImage(sitk.GetImageFromArray(inside.astype(np.uint8)), str(paths[1]))
        rows.append({"patient_id": f"m{case:04d}", "image": str(paths[0]), "mask": str(paths[1])})
    return pd.DataFrame(rows)


def measure(cases_csv: Path, n_cases: int, n_jobs: int, cache_dir: Path) -> dict:
    command = [sys.executable, "-c", CHILD, str(cases_csv), str(n_cases), json.dumps(PARAMS), str(n_jobs), str(cache_dir)]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    result["cache_entries"] = len(list(cache_dir.glob("*.json")))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench_memory_"))
    try:
        start = time.perf_counter()
        cases = make_cases(directory / "data", max(args.sizes))
        cases_csv = directory / "cases.csv"
        cases.to_csv(cases_csv, index=False)
        print(f"{len(cases)} cases of 24 x 24 x 12 voxels written in {time.perf_counter() - start:.0f} s; n_jobs={args.n_jobs}")
        header = ("cases", "features", "seconds", "cases/s", "tracemalloc peak MiB", "parent peak RSS MiB", "worker peak RSS MiB", "cached")
        print(" | ".join(header))
        for n_cases in sorted(args.sizes):
            row = measure(cases_csv, n_cases, args.n_jobs, directory / f"cache_{n_cases}")
            assert row["failed"] == 0 and row["cache_entries"] == n_cases, row
            cells = (
                row["cases"],
                row["features"],
                f"{row['seconds']:.1f}",
                f"{n_cases / row['seconds']:.1f}",
                f"{row['tracemalloc_peak_mib']:.1f}",
                f"{row['parent_peak_rss_mib']:.0f}",
                f"{row['worker_peak_rss_mib']:.0f}",
                row["cache_entries"],
            )
            print(" | ".join(str(cell) for cell in cells), flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
