"""Provenance: the one block that closes every page (stage reports, comparisons, sensitivity).

Every page says the same things in the same layout: the code commit and whether the tree was
clean, what ran and how to regenerate it, the package versions, then what the page read,
as a table of files with their sizes and sha256. :func:`block` is that layout; the three
functions after it fill it in for a stage, a comparison and a sensitivity grid.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from pathlib import Path
from typing import Any, Iterable, Sequence

from newslens import config, vcs
from newslens.files import sha256_file
from newslens.report.markup import escape
from newslens.stages import CODE_PATHS, module_path, params_yaml
from newslens.stages import stage as stage_table

KEY_PACKAGES = ("pandas", "numpy", "scikit-learn", "scipy", "gensim", "matplotlib", "papermill",
                "nbconvert", "pyarrow", "pydantic", "syntok", "simplemma", "ftfy", "stop-words", "py3langid")
MAX_INPUT_ROWS = 50


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
    from newslens.corpus.fetch import builtin_path

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


def block(*, code: str, command: str, inputs_title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
          run: str | None = None, numeric: Sequence[str] = ("bytes",), as_code: Sequence[str] = ("sha256",),
          parameters: str | None = None, more: int = 0) -> str:
    """The provenance block. Every page's provenance is this one layout.

    ``run`` is the run's line as HTML (a comparison has none). ``code``, ``command`` and the
    cells of ``rows`` (the inputs table, under ``columns``) are escaped here; a column named in
    ``numeric`` is right-aligned, one named in ``as_code`` is set as code. ``parameters`` is the
    YAML the page read, under its own heading; ``more`` says how many input rows were left out.
    """
    state = git_state()

    def cell(column: str, value: Any) -> str:
        text = f"<code>{escape(value)}</code>" if column in as_code else escape(value)
        return f"<td class='num'>{text}</td>" if column in numeric else f"<td>{text}</td>"

    body = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(columns, row)) + "</tr>" for row in rows)
    if more:
        body += f"<tr><td colspan='{len(columns)}'>… and {more:,} more files</td></tr>"
    head = "".join(f'<th class="num">{escape(c)}</th>' if c in numeric else f"<th>{escape(c)}</th>"
                   for c in columns)
    versions = ", ".join(f"{escape(k)} {escape(v)}" for k, v in package_versions().items())
    run_row = f"<tr><th>Run</th><td>{run}</td></tr>\n" if run is not None else ""
    settings = (f"<h3>Parameters this stage reads</h3>\n<pre>{escape(parameters)}</pre>\n"
                if parameters is not None else "")
    return f"""<div class="provenance">
<h2>Provenance</h2>
<table>
<tr><th>Code commit</th><td><code>{escape(state['commit'])}</code> ({escape(state['tree'])})</td></tr>
{run_row}<tr><th>Code it ran</th><td>{escape(code)} (<code>src/newslens/</code>)</td></tr>
<tr><th>Regenerate</th><td><code>{escape(command)}</code></td></tr>
<tr><th>Packages</th><td>{versions}</td></tr>
</table>
{settings}<h3>{escape(inputs_title)}</h3>
<table><thead><tr>{head}</tr></thead>
<tbody>{body}</tbody></table>
</div>"""


def stage(run, name: str) -> str:
    """The provenance of a stage's report: its parameters, its code and the run's raw inputs."""
    files = input_files(run.params.sources)
    rows = [(config.relative_to_root(p), f"{p.stat().st_size:,}", sha256_file(p)) for p in files]
    params_file = config.relative_to_root(run.params_file)
    used = stage_table(name)
    return block(
        run=f"{escape(run.name)}, stage {escape(name)}, params file <code>{escape(params_file)}</code>",
        code=", ".join([used.notebook] + [module_path(m) for m in used.all_modules]),
        command=f"make report PARAMS={params_file}", parameters=params_yaml(run.params, name),
        inputs_title="Raw inputs", columns=("file", "bytes", "sha256"), rows=rows[:MAX_INPUT_ROWS],
        more=max(0, len(rows) - MAX_INPUT_ROWS))


def comparison(spec_a: str, spec_b: str) -> str:
    """The provenance of a comparison page: both sides' findings and their sha256."""
    from newslens.analysis.compare import FINDINGS, side_label

    rows = []
    for spec, other in ((spec_a, spec_b), (spec_b, spec_a)):
        if spec.endswith(".yaml"):
            where = f"reports/{Path(spec).stem}/{FINDINGS}"
            text = (config.reports_dir(Path(spec).stem) / FINDINGS).read_bytes()
        elif spec.endswith(".json"):
            where = config.relative_to_root(config.resolve_path(spec))
            text = config.resolve_path(spec).read_bytes()
        else:
            where = f"git show {spec}:reports/{Path(other).stem}/{FINDINGS}"
            text = (vcs.show(spec, f"reports/{Path(other).stem}/{FINDINGS}") or "").encode("utf-8")
        rows.append((side_label(spec, other), where, f"{len(text):,}", hashlib.sha256(text).hexdigest()))
    return block(code=("notebooks/compare.ipynb, analysis/compare.py, analysis/matching.py, report/compare_page.py, "
                       "report/markup.py, report/views.py"),
                 command=f"make compare A={spec_a} B={spec_b}", inputs_title="Findings compared",
                 columns=("side", "file", "bytes", "sha256"), as_code=("file", "sha256"), rows=rows)


def sensitivity(run, findings: Sequence[tuple[str, int, str]]) -> str:
    """The provenance of a sensitivity page: the base's and each variant's findings, (name, bytes, sha256)."""
    rows = [(name, f"{size:,}", digest) for name, size, digest in findings]
    params_file = config.relative_to_root(run.params_file)
    return block(
        run=(f"{escape(run.name)}, params file <code>{escape(params_file)}</code>; each variant ran\n"
             f"notebooks 02-tokenize, 03-keywords and 04-topics in <code>build/sensitivity/{escape(run.name)}/</code>"),
        code="pipeline/sensitivity.py, analysis/compare.py and the stages' code",
        command=f"make -j2 sensitivity PARAMS={params_file}", inputs_title="Findings compared",
        columns=("run", "bytes", "sha256"), rows=rows)


def validation(run, identities: Path, model: str) -> str:
    """The provenance of a validation page: the model its items were drawn from (topics.json and its hash)."""
    data = identities.read_bytes()
    params_file = config.relative_to_root(run.params_file)
    return block(
        run=(f"{escape(run.name)}, params file <code>{escape(params_file)}</code>; items drawn from model "
             f"<code>{escape(model)}</code> with the topics stage's outputs"),
        code="analysis/validation_items.py, analysis/validation.py, report/validation_page.py",
        command=f"make validate PARAMS={params_file}", inputs_title="Model",
        columns=("file", "bytes", "sha256"),
        rows=[(config.relative_to_root(identities), f"{len(data):,}", hashlib.sha256(data).hexdigest())])
