"""Open the cohort explorer notebook in JupyterLab (the ``stsanalysis explore`` command).

``stsanalysis explore --config study.yaml`` hands the study config to the notebook through
the environment variable :data:`CONFIG_VARIABLE`: JupyterLab's kernels inherit the
server's environment, and the notebook's ``config_path`` parameter falls back to it
(:func:`explorer_config`). The notebook itself is not copied or rewritten.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..errors import InputError
from ..report.build import NOTEBOOK_DIR, PROJECT_ROOT

EXPLORER_NOTEBOOK = NOTEBOOK_DIR / "explore_cohort.ipynb"
#: The study config given to ``stsanalysis explore --config``, as the explorer's kernel sees it.
CONFIG_VARIABLE = "STSANALYSIS_EXPLORE_CONFIG"


def explorer_config(config_path: str = "") -> str:
    """The study config the explorer notebook opens: its ``config_path`` parameter, else the
    config given to ``stsanalysis explore --config``, else "" (the demo folder)."""
    return config_path or os.environ.get(CONFIG_VARIABLE, "")


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
    config: str | os.PathLike | None = None,
) -> int:
    """Start JupyterLab on the explorer notebook and wait until it is stopped (Ctrl+C).

    Returns JupyterLab's exit code. Without ``config`` the notebook reads the demo from
    ``data/demo/radiomics`` (write it with ``stsanalysis demo``) unless its ``demo_dir``
    parameter is changed. With ``config`` (a radiomics, design-B study config) it opens
    that study; the config and its tables are checked before JupyterLab starts, so a wrong
    column is an :class:`InputError` here rather than in the notebook.
    """
    from .cohort import load_study_data

    command = jupyter_lab_command(notebook, root_dir, port, open_browser)
    environment = {name: value for name, value in os.environ.items() if name != CONFIG_VARIABLE}
    if config:
        load_study_data(config)
        environment[CONFIG_VARIABLE] = str(Path(config).resolve())
    server = subprocess.Popen(command, cwd=root_dir, env=environment)
    try:
        return server.wait()
    except KeyboardInterrupt:
        # SIGTERM (not subprocess.call's SIGKILL) lets JupyterLab shut its kernels down.
        server.terminate()
        return server.wait()
