"""The views render in JupyterLab itself when a user runs a cell, as they do in a report.

Starts a real JupyterLab server on a free local port (no token, a temporary notebook
folder), opens a notebook in headless Chromium, runs its cell, and waits for the table view
in the cell's output to come alive: the output carries the library, which JupyterLab runs
because an output the user just produced is trusted.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = """import pandas as pd
from newslens.report import markup
markup.show_table(pd.DataFrame({"term": [f"term{i:02d}" for i in range(40)], "count": range(40)}),
                  caption="Forty terms")"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(CELL)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "views.ipynb")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={folder}",
         "--ServerApp.disable_check_xsrf=True", "--allow-root", "--LabApp.news_url=", "--LabServerApp.announcements_url="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_table_view_comes_alive_in_a_jupyterlab_output(chromium, lab):
    from newslens import config

    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{lab}/lab/tree/views.ipynb", wait_until="domcontentloaded", timeout=90_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=90_000)
        page.get_by_text("| Idle").first.wait_for(timeout=90_000)  # the status bar: the kernel is ready
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        live = page.locator('.jp-OutputArea [data-view="table"].nl-live')
        live.wait_for(timeout=90_000)
        assert live.locator("tbody tr").count() == 40  # every row, not the static first 15
        live.locator("input[type=search]").fill("term3")
        assert live.locator("tbody tr").count() == 10
        assert live.get_attribute("data-error") is None
        # The output carries the views' stylesheet: the sort buttons are unstyled text, not buttons.
        assert live.locator("button.nl-sort").first.evaluate("b => getComputedStyle(b).borderStyle") == "none"
        folder = config.BUILD_DIR / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "jupyterlab-table-view.png"))
        assert not [e for e in errors if "newslens" in e]
    finally:
        context.close()
