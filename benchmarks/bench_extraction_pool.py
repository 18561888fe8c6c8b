"""Speed-up of 2 worker processes over serial extraction on 10 demo cases (run on demand).

    .venv/bin/python benchmarks/bench_extraction_pool.py              # data/demo, else a temporary demo
    .venv/bin/python benchmarks/bench_extraction_pool.py --repeats 5 --cases 10

On the same demo cases (T1, reader 1 of the first patients of ``data/demo/radiomics``,
36 x 36 x 9 voxels, preset ``mri_t1``: 1,130 features; no cache) it times, in
``--repeats`` rounds that run every variant back to back (so that each round sees about the
same load on a shared machine), and reports the best round of each:

* ``extract_features(n_jobs=1)``: serial, in this process;
* ``extract_features(n_jobs=2)``: a pool started for the call (worker start-up included);
* the same inside ``worker_pool(n_jobs=2)``, the pool already started (as for the second
  and later calls of a run, e.g. the second sequence);
* a design-B run of both sequences of half as many patients (``extract_cohort_features``,
  serial and 2 processes: one pool for both sequences).

It checks that the parallel tables equal the serial one exactly. With ``PYTHONPATH`` set
to an older copy of the package (e.g. ``git archive HEAD stsanalysis | tar -x -C /tmp/old``)
it times that code; rows it cannot run are left out.

The heavy imports are inside the functions: spawned workers import the main script again
(``__mp_main__``), so a script that drives a process pool keeps its top level light.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "radiomics"


def demo_cases(demo: Path, n_patients: int, sequences=("T1",)):
    """The first ``n_patients`` of the demo cases table, reader 1, the given sequences, absolute paths."""
    from stsanalysis.studies.radiomics_features import read_cases

    cases = read_cases(demo / "cases.csv")
    patients = cases["patient_id"].drop_duplicates().head(n_patients)
    chosen = cases[cases["patient_id"].isin(patients) & (cases["reader"] == "reader1") & cases["sequence"].isin(sequences)]
    return chosen.reset_index(drop=True)


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def _without_attrs(table):
    table = table.copy()
    table.attrs = {}
    return table


def one_round(cases, spare, both, times: dict, tables: dict) -> None:
    """Each variant once, back to back, so that every round sees about the same load."""
    from stsanalysis.radiomics.extraction import extract_features
    from stsanalysis.studies.radiomics_features import extract_cohort_features

    try:
        from stsanalysis.radiomics.backends import worker_pool
    except ImportError:  # code from before the pool that is kept
        worker_pool = None
    sequences = {"T1": "mri_t1", "FS-T2": "mri_t2fs"}
    runs = {
        "serial": lambda: extract_features(cases, "mri_t1", n_jobs=1, progress=False),
        "2 processes, pool per call": lambda: extract_features(cases, "mri_t1", n_jobs=2, progress=False),
    }
    for name, run in runs.items():
        seconds, tables[name] = timed(run)
        times.setdefault(name, []).append(seconds)
    if worker_pool is not None:
        with worker_pool(n_jobs=2):
            extract_features(spare, "mri_t1", n_jobs=2, progress=False)  # start the workers on other cases
            seconds, tables["kept"] = timed(extract_features, cases, "mri_t1", n_jobs=2, progress=False)
        times.setdefault("2 processes, pool kept (worker_pool)", []).append(seconds)
    for name, n_jobs in (("design B, 2 sequences: serial", 1), ("design B, 2 sequences: 2 processes", 2)):
        seconds, (tables[name], _, _) = timed(extract_cohort_features, both, sequences, n_jobs=n_jobs)
        times.setdefault(name, []).append(seconds)


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--demo", type=Path, default=DEMO, help="demo radiomics folder (default: data/demo/radiomics)")
    args = parser.parse_args()
    scratch = None
    if not (args.demo / "cases.csv").is_file():  # no `make demo` yet: the same demo, in a temporary folder
        import tempfile

        from stsanalysis.data.demo import write_demo

        scratch = tempfile.TemporaryDirectory(prefix="bench_pool_demo_")
        args.demo = write_demo(scratch.name, progress=False)["radiomics"]

    cases = demo_cases(args.demo, args.cases)
    spare = demo_cases(args.demo, args.cases + 4).iloc[args.cases :]
    both = demo_cases(args.demo, args.cases // 2, sequences=("T1", "FS-T2"))
    times, tables = {}, {}
    for _ in range(args.repeats):
        one_round(cases, spare, both, times, tables)
    serial = _without_attrs(tables["serial"])
    identical = all(_without_attrs(tables[name]).equals(serial) for name in ("2 processes, pool per call", "kept") if name in tables)
    identical &= tables["design B, 2 sequences: 2 processes"].equals(tables["design B, 2 sequences: serial"])

    best = {name: min(values) for name, values in times.items()}
    print(f"{len(cases)} demo cases (T1, mri_t1, {serial.shape[1]} features); best of {args.repeats} rounds; cores: {os.cpu_count()}")
    print(f"{'run':<40} {'seconds':>8} {'x serial':>9}")
    for name, seconds in best.items():
        reference = best["design B, 2 sequences: serial"] if name.startswith("design B") else best["serial"]
        print(f"{name:<40} {seconds:8.2f} {reference / seconds:9.2f}")
    print(f"design B rows: T1 and FS-T2 of {len(both) // 2} patients ({len(both)} cases)")
    print(f"parallel tables equal the serial one exactly: {identical}")
    print(f"single-case time (serial / cases): {best['serial'] / len(cases):.3f} s; ideal with 2 cores: {best['serial'] / 2:.2f} s")
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
