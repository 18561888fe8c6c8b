"""The cohort explorer in a real browser: the static HTML report and the live JupyterLab app.

(a) The executed explorer notebook rendered by ``build_report`` opens offline; its plotly
    slice viewer's slider changes the slice without a kernel.
(b) JupyterLab on 127.0.0.1 runs the notebook; the NiiVue canvas and the plotly figures
    appear, and no console error comes from our widgets. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from conftest import watch_page

from stsanalysis.data.demo import write_demo
from stsanalysis.report.build import build_report
from stsanalysis.viewer.launch import EXPLORER_NOTEBOOK, jupyter_lab_command

pytestmark = pytest.mark.slow

STATIC_NOTE = "The interactive cohort explorer runs in JupyterLab"
LAB_START_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    """A folder laid out like the project: data/demo/radiomics and the explorer notebook."""
    root = tmp_path_factory.mktemp("explorer")
    write_demo(root / "data" / "demo", progress=False)
    shutil.copy(EXPLORER_NOTEBOOK, root / EXPLORER_NOTEBOOK.name)
    return root


@pytest.fixture(scope="module")
def report(demo_root):
    return build_report("explore_cohort", {"demo_dir": str(demo_root / "data" / "demo" / "radiomics")}, demo_root / "reports")


def _slice_state(page, figure_index: int):
    """Active slider step and the first image row of one plotly figure (decoded by plotly.js)."""
    return page.evaluate(
        """(index) => {
            const figure = document.querySelectorAll('.plotly-graph-div')[index];
            return [figure.layout.sliders[0].active, Array.from(figure._fullData[0].z[0])];
        }""",
        figure_index,
    )


# --------------------------------------------------------------------------- (a) static report


def test_report_slice_viewer_works_offline(report, offline_page, artifact_dir):
    page, remote, errors = offline_page
    page.goto(report.as_uri())
    page.wait_for_selector(".plotly-graph-div .slider-container", timeout=20000)
    titles = page.locator(".plotly-graph-div .gtitle").all_text_contents()  # SVG text: no innerText
    assert titles == ["Patient B008: T1", "Patient B008: FS-T2"]  # B008: first patient read twice
    assert page.locator(".plotly-graph-div .contour").count() >= 4  # two outlines per figure

    active_before, row_before = _slice_state(page, 0)
    assert active_before == 4  # the slice where reader 1's mask is largest
    rail = page.locator(".slider-container .slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.click(box["x"] + 3, box["y"] + box["height"] / 2)  # the rail's left end: slice 1
    # the slider's step sets `active` first and restyles the heatmap after: wait for both
    page.wait_for_function(
        """(before) => {
            const figure = document.querySelectorAll('.plotly-graph-div')[0];
            return figure.layout.sliders[0].active === 0 && JSON.stringify(Array.from(figure._fullData[0].z[0])) !== JSON.stringify(before);
        }""",
        arg=row_before,
        timeout=10000,
    )
    active_after, row_after = _slice_state(page, 0)
    assert active_after == 0 and row_after != row_before
    assert "Axial slice 1 of 9" in page.locator(".slider-container").first.text_content()

    page.screenshot(path=str(artifact_dir / "explore_cohort_report.png"), full_page=True)
    assert remote == []
    assert errors == []


def test_report_shows_the_note_instead_of_widget_state(report):
    # report.build drops papermill's widget state: anywidget stores its whole JS bundle
    # (~5 MB) per widget, and nbconvert would prefer the widget view to the note.
    html = report.read_text()
    assert STATIC_NOTE in html
    assert len(html) < 8_000_000  # plotly.js inlined (~4.7 MB) + figures; no widget state (~40 MB)


# --------------------------------------------------------------------------- (b) JupyterLab


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def jupyter_lab(demo_root, tmp_path):
    """JupyterLab serving ``demo_root`` on a free local port with a random token; stopped afterwards."""
    port, token = _free_port(), secrets.token_hex(16)
    command = jupyter_lab_command(demo_root / EXPLORER_NOTEBOOK.name, demo_root, port=port, open_browser=False)
    command += [
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.allow_root=True",  # CI containers run as root
        # Nothing may leave the machine: no news feed, no update check, no PyPI extension search.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    environment = dict(
        os.environ,
        # Settings, workspaces and runtime files of this run only (no user state leaks in or out).
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
    )
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=demo_root, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + LAB_START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as response:
                    json.load(response)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_explorer_runs_in_jupyterlab_with_niivue_and_plotly(browser, jupyter_lab, artifact_dir):
    base_url, token = jupyter_lab
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    remote, errors = watch_page(page, (base_url, "data:", "blob:"))
    try:
        page.goto(f"{base_url}/lab/tree/{EXPLORER_NOTEBOOK.name}?token={token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=60000)
        # Cells run while the kernel is still "Initializing" are dropped: wait for "Idle".
        page.wait_for_selector(".jp-StatusBar-TextItem:text-matches('Python 3.*Idle')", timeout=60000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

        # Lab renders cells lazily off screen, so wait for elements to exist, not to be visible.
        page.wait_for_selector(".jp-OutputArea-output canvas", state="attached", timeout=60000)  # NiiVue
        page.wait_for_selector(".jp-OutputArea-output .js-plotly-plot .heatmaplayer", state="attached", timeout=60000)
        # The provenance table is the last output: every cell ran.
        page.wait_for_selector(".jp-OutputArea-output :text('Software versions')", state="attached", timeout=60000)
        canvases = page.locator(".jp-OutputArea-output .jupyter-widgets canvas")
        assert canvases.count() >= 2  # T1 and FS-T2 viewers
        page.wait_for_timeout(2000)  # NiiVue draws after the volumes are decoded
        widget = page.locator(".jp-OutputArea-output .jupyter-widgets.widget-tab").first
        widget.scroll_into_view_if_needed()
        widget.screenshot(path=str(artifact_dir / "explorer_lab_patient_tab.png"))

        page.locator(".lm-TabBar-tabLabel", has_text="Readers").first.click()
        page.wait_for_selector(".widget-tab .js-plotly-plot .contour", timeout=20000)
        widget.screenshot(path=str(artifact_dir / "explorer_lab_readers_tab.png"))
        page.locator(".lm-TabBar-tabLabel", has_text="ROC").first.click()
        rule = widget.locator("p:has-text('Test positive when')")
        rule.wait_for(timeout=20000)
        assert widget.locator(".js-plotly-plot .scatterlayer .trace").count() >= 2  # curve and threshold marker
        youden_rule = rule.inner_text()
        handle = widget.locator(".widget-hslider .noUi-handle").last  # the threshold slider
        handle.focus()
        handle.press("Home")  # lowest threshold: every patient above it, sensitivity 1
        page.wait_for_function("(old) => !document.body.innerText.includes(old)", arg=youden_rule, timeout=20000)
        assert rule.inner_text() != youden_rule
        widget.screenshot(path=str(artifact_dir / "explorer_lab_roc_tab.png"))
        page.screenshot(path=str(artifact_dir / "explorer_lab.png"), full_page=False)
    except Exception:
        page.screenshot(path=str(artifact_dir / "explorer_lab_failure.png"))
        print("console errors:", errors, "remote:", remote)
        raise
    finally:
        context.close()

    # No console error at all, from Lab or our widgets, so no tolerance list is needed (NiiVue's
    # WebGL "GPU stall due to ReadPixels" messages are warnings, not errors). The NiiVue and
    # plotly widgets load their JS from the local anywidget bundles: no remote request.
    assert errors == []
    assert remote == []
