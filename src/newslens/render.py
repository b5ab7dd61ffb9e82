"""Rendering executed notebooks into shareable, self-contained HTML with provenance.

The HTML template (``templates/newslens``) loads nothing from the network: no
CDN, no web font; figures are embedded as data. The only script is the view library
(:mod:`newslens.views`), once per page, allowed by a Content-Security-Policy hash. Code cells are
hidden, and stderr, timings and execution counts are scrubbed so the same run
gives the same bytes.
"""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path
from typing import Iterable, Sequence

import nbformat

from newslens import config, vcs
from newslens.files import sha256_file, write_text
from newslens.report import escape
from newslens.stages import CODE_PATHS
from newslens.stages import stage as stage_table
from newslens.views import finish_page

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
KEY_PACKAGES = ("pandas", "numpy", "scikit-learn", "scipy", "gensim", "matplotlib", "papermill",
                "nbconvert", "pyarrow", "pydantic", "syntok", "simplemma", "ftfy", "stop-words", "py3langid")
MAX_INPUT_ROWS = 50


# ---------------------------------------------------------------- provenance

def git_state() -> dict[str, str]:
    """The last commit that touched the code, params or seed data, and whether they are clean.

    Using the last commit of these paths (not HEAD) means that committing the
    rendered reports does not change what the reports say about themselves.
    """
    commit = vcs.output("log", "-1", "--format=%H", "--", *CODE_PATHS)
    if not commit:
        return {"commit": "not a git checkout", "tree": "unknown"}
    dirty = vcs.output("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)
    return {"commit": commit, "tree": "clean" if not dirty else "uncommitted changes in code or params"}


def input_files(sources: Iterable) -> list[Path]:
    """Every raw file a run's sources read, sorted."""
    from newslens.fetch import builtin_path

    files: list[Path] = []
    for source in sources:
        if source.builtin:
            files.append(builtin_path(source.builtin))
            continue
        path = config.resolve_path(source.path)
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return files


def package_versions(names: Sequence[str] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of the key packages, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance_html(run, stage: str) -> str:
    """The provenance block that closes every report."""
    from newslens.stages import params_yaml

    state = git_state()
    files = input_files(run.params.sources)
    rows = [(config.relative_to_root(p), f"{p.stat().st_size:,}", sha256_file(p)) for p in files]
    shown = rows[:MAX_INPUT_ROWS]
    inputs = "".join(f"<tr><td>{escape(a)}</td><td class='num'>{b}</td><td><code>{c}</code></td></tr>"
                     for a, b, c in shown)
    if len(rows) > len(shown):
        inputs += f"<tr><td colspan='3'>… and {len(rows) - len(shown):,} more files</td></tr>"
    versions = ", ".join(f"{escape(k)} {escape(v)}" for k, v in package_versions().items())
    params_file = config.relative_to_root(run.params_file)
    command = f"make report PARAMS={params_file}"
    used = stage_table(stage)
    code = ", ".join([used.notebook] + [f"{m}.py" for m in used.all_modules])
    return f"""<div class="provenance">
<h2>Provenance</h2>
<table>
<tr><th>Code commit</th><td><code>{escape(state['commit'])}</code> ({escape(state['tree'])})</td></tr>
<tr><th>Run</th><td>{escape(run.name)}, stage {escape(stage)}, params file <code>{escape(params_file)}</code></td></tr>
<tr><th>Code it ran</th><td>{escape(code)} (<code>src/newslens/</code>)</td></tr>
<tr><th>Regenerate</th><td><code>{escape(command)}</code></td></tr>
<tr><th>Packages</th><td>{versions}</td></tr>
</table>
<h3>Parameters this stage reads</h3>
<pre>{escape(params_yaml(run.params, stage))}</pre>
<h3>Raw inputs</h3>
<table><thead><tr><th>file</th><th class="num">bytes</th><th>sha256</th></tr></thead>
<tbody>{inputs}</tbody></table>
</div>"""


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


def render_html(notebook: nbformat.NotebookNode, target: Path, *, title: str) -> Path:
    """Render an executed notebook to a self-contained HTML file with code hidden."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="newslens", extra_template_basedirs=[str(TEMPLATES_DIR)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return write_text(target, finish_page(body))


