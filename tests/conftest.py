"""Shared test fixtures.

R reference values live in ``tests/reference/<name>.json``, written by the R script of the
same name (``tests/reference/<name>.R``); CI reads the JSON and never needs R.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).parent / "reference"


def load_reference(name: str):
    """Return the parsed JSON output of ``tests/reference/<name>.R``."""
    path = REFERENCE_DIR / f"{name}.json"
    with path.open() as handle:
        return json.load(handle)


@pytest.fixture
def reference():
    return load_reference


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by playwright (no browser download).

    Skipped when Chromium is not installed, unless STSANALYSIS_REQUIRE_BROWSER=1 (set by
    .ci/run), where a missing browser is a failure.
    """
    import os
    import shutil

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        message = "Chromium not installed (Debian package 'chromium'); real-browser tests need it."
        if os.environ.get("STSANALYSIS_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def watch_page(page, allowed_prefixes=("file:", "data:", "blob:")):
    """Refuse every request not starting with ``allowed_prefixes`` and record it; record console
    errors. Returns the two lists (attempted remote URLs, console errors), filled as the page runs."""
    remote, errors = [], []

    def handle(route):
        if route.request.url.startswith(tuple(allowed_prefixes)):
            route.continue_()
        else:
            remote.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return remote, errors


@pytest.fixture
def offline_page(browser):
    """A page that refuses every request that is not a local file, and records them.

    Yields (page, attempted_remote_urls, console_errors).
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    remote, errors = watch_page(page)
    yield page, remote, errors
    context.close()


@pytest.fixture(scope="session")
def artifact_dir():
    """Folder for screenshots and other artefacts a person should look at (git-ignored)."""
    folder = Path(__file__).resolve().parents[1] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
