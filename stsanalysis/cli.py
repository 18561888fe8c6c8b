"""Command line: ``stsanalysis demo``, ``report`` and ``explore`` (also ``python -m stsanalysis``).

Exit codes: 0 when the demo or report was written, 1 when a report build failed (the
notebook raised), 2 for bad input (missing file, bad config, unwritable folder).
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


def _command_report(args: argparse.Namespace) -> int:
    from .report.build import build_report, resolve_notebook
    from .report.config import StudyConfig, check_parameters, load_config

    if args.config:
        config = load_config(args.config)
    else:
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
        check_parameters(parameters, notebook, f"Notebook '{notebook.name}'")
        config = StudyConfig(notebook=notebook, name=args.name or notebook.stem, parameters=parameters)
    path = build_report(
        config.notebook,
        config.parameters,
        output_dir=args.output or config.output,
        name=args.name or config.name,
        title=config.title,
    )
    print(f"report written: {path}")
    return 0


def _command_explore(args: argparse.Namespace) -> int:
    from .viewer import launch

    return launch(port=args.port, open_browser=not args.no_browser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stsanalysis", description="Statistics and radiomics reports for soft-tissue-sarcoma imaging studies.")
    parser.add_argument("--version", action="version", version=f"stsanalysis {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="write the deterministic demo cohorts (design A and B)")
    demo.add_argument("--output", default="data/demo", help="folder to write (default: data/demo)")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    report = commands.add_parser("report", help="execute a study notebook and write its HTML report")
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="study.yaml naming the notebook and its parameters")
    source.add_argument("--notebook", help="a notebook name (e.g. biomarker_study) or path")
    report.add_argument("--parameters", help="with --notebook: a YAML file of NAME: VALUE parameters")
    report.add_argument("-p", "--set", action="append", metavar="NAME=VALUE", help="set one parameter (repeatable)")
    report.add_argument("--output", help="output folder (default: the config's, else reports/)")
    report.add_argument("--name", help="report file name without .html")

    explore = commands.add_parser("explore", help="open JupyterLab on the interactive cohort explorer")
    explore.add_argument("--port", type=int, default=None, help="port of the JupyterLab server (default: a free one)")
    explore.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"demo": _command_demo, "report": _command_report, "explore": _command_explore}
    try:
        return handlers[args.command](args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
