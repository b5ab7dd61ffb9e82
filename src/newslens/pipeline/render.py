"""Rendering executed notebooks into shareable, self-contained HTML with provenance.

The HTML template (``templates/newslens``) loads nothing from the network: no
CDN, no web font; figures are embedded as data. The only script is the view library
(:mod:`newslens.report.views`), once per page, allowed by a Content-Security-Policy hash. Code cells are
hidden, and stderr, timings and execution counts are scrubbed so the same run
gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from newslens.files import write_text
from newslens.report.navigation import with_header
from newslens.report.views import TEMPLATES_DIR, finish_page



# ---------------------------------------------------------------- notebook → HTML

VOLATILE_CELL_KEYS = ("execution", "papermill")


def scrub_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove what changes from run to run or leaks noise: timings, stderr, execution counts."""
    notebook.metadata.pop("papermill", None)
    notebook.metadata.get("widgets", None) and notebook.metadata.pop("widgets")
    for cell in notebook.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill draws a random id on every run
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            if "execution_count" in output:
                output["execution_count"] = None
            outputs.append(output)
        cell.outputs = outputs
    return notebook


def render_html(notebook: nbformat.NotebookNode, target: Path, *, title: str, header: str | None = None) -> Path:
    """Render an executed notebook to a self-contained HTML file with code hidden, ``header`` (HTML) atop its body."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="newslens", extra_template_basedirs=[str(TEMPLATES_DIR.parent)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    page = finish_page(body)
    return write_text(target, with_header(page, header) if header else page)


