"""Command line: ``stsanalysis demo``, ``report``, ``extract`` and ``explore`` (also ``python -m stsanalysis``).

Exit codes: 0 when the demo, report or feature table was written, 1 when a report build
failed (the notebook raised), 2 for bad input (missing file, bad config or data, unwritable
folder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from . import __version__
from .data.demo import DEFAULT_SEED
from .errors import InputError
from .report.build import ReportError


def _parse_parameter(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise InputError(f"Parameter '{text}' must look like NAME=VALUE (VALUE is read as YAML: 30, 0.5, true, text).")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


def _command_demo(args: argparse.Namespace) -> int:
    from .data.demo import write_demo

    paths = write_demo(args.output, seed=args.seed, progress=not args.quiet)
    for label, path in paths.items():
        print(f"{label}: {path}")
    return 0


def _config_from_notebook(args: argparse.Namespace):
    """A study config made of ``--notebook`` with ``--parameters`` and ``--set`` values."""
    from .report.build import resolve_notebook
    from .report.config import StudyConfig, check_parameters, route_endpoint

    notebook = resolve_notebook(args.notebook)
    parameters = {}
    if args.parameters:
        parameters_file = Path(args.parameters)
        if not parameters_file.is_file():
            raise InputError(f"Parameters file '{parameters_file}' does not exist.")
        loaded = yaml.safe_load(parameters_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise InputError(f"Parameters file '{parameters_file}' must hold a mapping NAME: VALUE.")
        parameters.update(loaded)
    parameters.update(dict(_parse_parameter(text) for text in args.set or []))
    notebook = route_endpoint(notebook, parameters, f"Notebook '{notebook.name}'")
    check_parameters(parameters, notebook, f"Notebook '{notebook.name}'")
    return StudyConfig(notebook=notebook, name=args.name or notebook.stem, parameters=parameters)


def _command_report(args: argparse.Namespace) -> int:
    from .report.build import build_reports
    from .report.config import load_config

    if args.name and args.config and len(args.config) > 1:
        raise InputError("--name names one report; with several --config files each report takes its config's name.")
    configs = [load_config(path) for path in args.config] if args.config else [_config_from_notebook(args)]
    builds = [
        {
            "notebook": config.notebook,
            "parameters": config.parameters,
            "output_dir": args.output or config.output,
            "name": args.name or config.name,
            "title": config.title,
        }
        for config in configs
    ]
    status = 0
    for name, result in build_reports(builds, jobs=args.jobs):
        if isinstance(result, Exception):
            print(f"error: {f'{name}: ' if len(builds) > 1 else ''}{result}", file=sys.stderr)
            status = max(status, 2 if isinstance(result, InputError) else 1)
        else:
            print(f"report written: {result}")
    return status


def _command_extract(args: argparse.Namespace) -> int:
    from .files import atomic_write_text
    from .report.config import load_config
    from .studies.radiomics_features import extract_cohort_features, read_cases

    config = load_config(args.config)
    parameters = config.parameters
    if "cases_path" not in parameters:
        raise InputError(f"Config file '{args.config}' has no 'cases_path' parameter: 'extract' needs a radiomics study config.")
    cases = read_cases(parameters["cases_path"], columns=parameters.get("case_columns") or None)
    sequences = parameters.get("sequences") or {"T1": "mri_t1", "FS-T2": "mri_t2fs"}
    features, _, errors = extract_cohort_features(
        cases,
        sequences,
        n_jobs=parameters.get("n_jobs", -1),
        cache_dir=parameters.get("cache_dir"),
        progress=not args.quiet,
        cluster=parameters.get("cluster") or None,  # {kind: slurm, ...}, {kind: local, workers} or {address}
    )
    output = Path(args.output or Path(config.output) / f"{config.name}_features.csv")
    atomic_write_text(output, features.to_csv())
    print(f"features written: {output} ({len(features)} cases x {features.shape[1]} features)")
    if len(errors):
        error_file = output.with_name(output.stem + "_errors.csv")
        atomic_write_text(error_file, errors.to_csv(index=False))
        print(f"{len(errors)} case(s) failed, listed in {error_file}", file=sys.stderr)
    return 0


def _command_explore(args: argparse.Namespace) -> int:
    from .viewer import launch

    return launch(port=args.port, open_browser=not args.no_browser, config=args.config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stsanalysis", description="Statistics and radiomics reports for soft-tissue-sarcoma imaging studies."
    )
    parser.add_argument("--version", action="version", version=f"stsanalysis {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="write the deterministic demo cohorts (design A and B)")
    demo.add_argument("--output", default="data/demo", help="folder to write (default: data/demo)")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    report = commands.add_parser("report", help="execute a study notebook and write its HTML report")
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", action="append", help="study.yaml naming the notebook and its parameters (repeatable: several reports)")
    source.add_argument("--notebook", help="a notebook name (e.g. biomarker_study) or path")
    report.add_argument("--parameters", help="with --notebook: a YAML file of NAME: VALUE parameters")
    report.add_argument("-p", "--set", action="append", metavar="NAME=VALUE", help="set one parameter (repeatable)")
    report.add_argument("--output", help="output folder (default: the config's, else reports/)")
    report.add_argument("--name", help="report file name without .html")
    report.add_argument("--jobs", type=int, default=1, help="reports built at a time with several --config (default: 1)")

    extract = commands.add_parser("extract", help="extract (and cache) the radiomic features of a study config, without a report")
    extract.add_argument("--config", required=True, help="a radiomics study config (cases_path, sequences, cache_dir)")
    extract.add_argument("--output", help="CSV file to write (default: <config output>/<name>_features.csv)")
    extract.add_argument("--quiet", action="store_true", help="no progress bar")

    explore = commands.add_parser("explore", help="open JupyterLab on the interactive cohort explorer")
    explore.add_argument(
        "--config", help="a radiomics (design B) study config: explore its clinical table, images, outcome and split (default: the demo)"
    )
    explore.add_argument("--port", type=int, default=None, help="port of the JupyterLab server (default: a free one)")
    explore.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "demo": _command_demo,
        "report": _command_report,
        "extract": _command_extract,
        "explore": _command_explore,
    }
    try:
        return handlers[args.command](args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
