"""The validation view answers in a JupyterLab output as it does on its page.

Uses the JupyterLab server of ``tests/test_jupyterlab.py``: a notebook is put through the
server's contents API, its cell shows a few items with ``validation_form.show``, and a coder
answers them in the output until the download link appears.
"""

from __future__ import annotations

import json
import urllib.request

import nbformat
import pytest

from test_jupyterlab import lab  # noqa: F401 - the JupyterLab server fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = """from newslens.report import validation_form
validation_form.show({
    "run": "lab", "model": "0123456789ab", "k": 4, "minutes": 1, "unit": "article", "coder": "lab coder",
    "topics": {str(t): {"label": f"Topic {t}", "terms": [f"word{t}", "other"]} for t in (1, 2, 3, 4)},
    "documents": {"d1": {"title": "A title", "group": "An outlet", "date": "2022-01-10", "text": "Some text."}},
    "items": [{"id": "w001", "kind": "word", "topics": [1], "options": ["a", "b", "c", "d", "e", "odd"],
               "intruder": "odd"},
              {"id": "t002", "kind": "topic", "topics": [1], "doc_id": "d1", "options": [1, 2, 3, 4],
               "intruder": 4}]})"""


def put_notebook(url: str, name: str, source: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    body = json.dumps({"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(notebook))})
    request = urllib.request.Request(f"{url}/api/contents/{name}", data=body.encode("utf-8"), method="PUT",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).close()


def test_the_validation_view_answers_in_a_jupyterlab_output(chromium, lab):  # noqa: F811 - the fixture
    from newslens import config

    put_notebook(lab, "validate.ipynb", CELL)
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # A workspace of its own, reset: the server may hold another test's notebook open in its default one.
        page.goto(f"{lab}/lab/workspaces/validate/tree/validate.ipynb?reset", wait_until="domcontentloaded",
                  timeout=90_000)
        # Only this notebook's cell: JupyterLab may restore other notebooks in hidden tabs.
        cell = page.locator(".jp-Notebook .jp-Cell .cm-content >> visible=true").first
        cell.wait_for(timeout=90_000)
        page.get_by_text("| Idle").first.wait_for(timeout=90_000)
        cell.click()
        page.keyboard.press("Shift+Enter")
        live = page.locator('.jp-OutputArea [data-view="validation"].nl-live')
        live.wait_for(timeout=90_000)
        current = live.locator('[data-role="item"]:not([hidden])')
        assert current.get_attribute("data-kind") == "word"
        current.locator('button[data-role="option"][data-value="odd"]').click()
        assert current.get_attribute("data-kind") == "topic"
        current.locator('button[data-role="option"][data-value="2"]').click()
        assert live.locator('[data-role="progress"]').inner_text() == "2 of 2 answered"
        link = live.locator('a[data-role="download"]')
        assert link.get_attribute("download") == "validation-lab-lab-coder-0123456789ab.csv"
        assert link.get_attribute("href").startswith("data:text/csv")
        folder = config.BUILD_DIR / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "jupyterlab-validation-view.png"))
        assert not [e for e in errors if "newslens" in e]
    finally:
        context.close()
