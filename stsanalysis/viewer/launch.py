"""Open the cohort explorer notebook in JupyterLab (the ``stsanalysis explore`` command)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..errors import InputError
from ..report.build import NOTEBOOK_DIR, PROJECT_ROOT

EXPLORER_NOTEBOOK = NOTEBOOK_DIR / "explore_cohort.ipynb"


def jupyter_lab_command(
    notebook: str | os.PathLike = EXPLORER_NOTEBOOK,
    root_dir: str | os.PathLike = PROJECT_ROOT,
    port: int | None = None,
    open_browser: bool = True,
) -> list[str]:
    """The command line that starts JupyterLab in ``root_dir`` with ``notebook`` open.

    Uses this Python's ``jupyter lab``, so the kernel sees the same installed stsanalysis.
    """
    notebook, root = Path(notebook).resolve(), Path(root_dir).resolve()
    if not notebook.is_file():
        raise InputError(f"Notebook '{notebook}' does not exist.")
    if not notebook.is_relative_to(root):
        raise InputError(f"Notebook '{notebook}' must lie inside the JupyterLab root folder '{root}'.")
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", str(notebook.relative_to(root))]
    if port is not None:
        command.append(f"--ServerApp.port={int(port)}")
    if not open_browser:
        command.append("--no-browser")
    return command


def launch(
    notebook: str | os.PathLike = EXPLORER_NOTEBOOK,
    root_dir: str | os.PathLike = PROJECT_ROOT,
    port: int | None = None,
    open_browser: bool = True,
) -> int:
    """Start JupyterLab on the explorer notebook and wait until it is stopped (Ctrl+C).

    Returns JupyterLab's exit code. The notebook reads the demo from
    ``data/demo/radiomics`` (write it with ``stsanalysis demo``) unless its ``demo_dir``
    parameter is changed.
    """
    command = jupyter_lab_command(notebook, root_dir, port, open_browser)
    server = subprocess.Popen(command, cwd=root_dir)
    try:
        return server.wait()
    except KeyboardInterrupt:
        # SIGTERM (not subprocess.call's SIGKILL) lets JupyterLab shut its kernels down.
        server.terminate()
        return server.wait()
