"""The command line that ``make`` drives: parameter slices, stage runs and the index page.

Usage::

    python -m newslens slices params/news.yaml
    python -m newslens stage params/news.yaml 01-ingest
    python -m newslens render params/news.yaml 01-ingest
    python -m newslens findings params/news.yaml
    python -m newslens compare params/news.yaml HEAD~5
    python -m newslens validate params/news.yaml --coder ann --items 30
    python -m newslens index
    python -m newslens makefile > build/stages.mk

A stage runs its notebook with papermill into ``build/<run>/<stage>.ipynb``,
scrubs volatile metadata and writes ``build/<run>/<stage>.done``, the file make
tracks (see :func:`mark_done`); ``render`` then writes ``reports/<run>/<stage>.html``
with the provenance block.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Iterator

# nbformat validates with jsonschema, which builds dozens of grammars for an
# optional URI-format checker on import (~2 s per process, twice per stage).
# nbformat's schemas do not use that check, so we tell jsonschema it is absent.
sys.modules.setdefault("rfc3987_syntax", None)

from newslens import config  # noqa: E402 - after the jsonschema stub above, which must precede nbformat's import
from newslens.files import sha256_file, write_bytes, write_text  # noqa: E402 - after the jsonschema stub above, which must precede nbformat's import
from newslens import stages  # noqa: E402 - after the jsonschema stub above, which must precede nbformat's import
from newslens.params import load_run  # noqa: E402 - after the jsonschema stub above, which must precede nbformat's import

logger = logging.getLogger("newslens.pipeline.execute")
KERNEL_NAME = "newslens"
# Seconds a notebook kernel may take to start. papermill's 60 s is too short on a busy
# two-core machine whose fresh environment compiles every import on first use.
KERNEL_START_TIMEOUT = 300
# The memory allocator of the kernels the stages run in (glibc's; other allocators ignore the name).
# glibc maps an allocation of at least this many bytes on its own and unmaps it when freed. Its
# default threshold starts there but rises after each large free, up to 32 MiB, so that a stage's
# many short-lived arrays of a few MiB (a view's copies, a read's columns) then come from the heap,
# whose freed pages the process keeps. Fixed, they are given back: the topics stage's peak at ×16
# was 37 MiB lower in one process (665 to 628 MiB), ×1 10 MiB (488 to 478). Dask sets
# its workers' allocator the same way (``MALLOC_TRIM_THRESHOLD_``). A value the user set is kept.
KERNEL_ENV = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


class StageFailed(RuntimeError):
    """A notebook raised; its executed copy with papermill's error cell is in build/."""


def write_slices(params_file: str) -> list[Path]:
    """Write each stage's slice of the params, only where its content changed."""
    run = load_run(params_file)
    changed = []
    for stage in stages.NAMES:
        target = run.build_dir / "params" / f"{stage}.json"
        payload = stages.stage_slice_json(run.params, stage)
        if not target.exists() or target.read_text(encoding="utf-8") != payload:
            write_text(target, payload)
            changed.append(target)
    # The engine is in no slice (results do not depend on it), but a changed engine
    # reruns the stages that use it, so that `make report ENGINE=dask` really runs on Dask.
    engine = run.build_dir / "params" / "engine.txt"
    if not engine.exists() or engine.read_text(encoding="utf-8") != run.params.engine + "\n":
        write_text(engine, run.params.engine + "\n")
        changed.append(engine)
    slices = [path for path in changed if path != engine]
    logger.info("run %s: %d of %d parameter slices changed%s", run.name, len(slices), len(stages.NAMES),
                ", and the engine" if engine in changed else "")
    return changed


def _notebook_params_path(run) -> str:
    """The params path passed to the notebook: relative to the project root when inside it."""
    try:
        return run.params_file.resolve().relative_to(config.PROJECT_ROOT).as_posix()
    except ValueError:
        return str(run.params_file)


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """The block's kernels start with :data:`KERNEL_ENV`'s settings, each where the environment has
    none; the environment is as it was after the block."""
    added = {name: value for name, value in KERNEL_ENV.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def run_stage(params_file: str, stage: str) -> Path:
    """Execute one stage's notebook for a run into ``build/<run>/<stage>.ipynb``, then render it.

    The executed copy is scrubbed of timings, execution counts and stderr; when
    the notebook raises, papermill's copy with the error cell stays in build/
    and :class:`StageFailed` names the stage.
    """
    import nbformat
    import papermill

    from newslens.pipeline.render import scrub_notebook

    run = load_run(params_file)
    notebook = config.NOTEBOOKS_DIR / f"{stage}.ipynb"
    executed = run.build_dir / f"{stage}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    started, started_ns = time.perf_counter(), time.time_ns()
    logger.info("run %s: executing %s", run.name, stage)
    try:
        with kernel_environment():
            papermill.execute_notebook(
                str(notebook), str(executed), parameters={"params_file": _notebook_params_path(run)},
                kernel_name=KERNEL_NAME, cwd=str(config.NOTEBOOKS_DIR), progress_bar=False,
                log_output=False, request_save_on_cell_execute=False, start_timeout=KERNEL_START_TIMEOUT)
    except papermill.PapermillExecutionError as exc:
        raise StageFailed(f"stage {stage} failed for run {run.name}: {exc.ename}: {exc.evalue}\n"
                          f"  the executed notebook with the error cell is "
                          f"{config.relative_to_root(executed)}") from None
    scrubbed = scrub_notebook(nbformat.read(executed, as_version=4))
    write_bytes(executed, nbformat.writes(scrubbed).encode("utf-8"))
    if (empty := _nothing_to_analyse(run, stage)) is not None:
        # The ingest report says what was read and skipped; the run stops here (no .done).
        report = _render(run, stage)
        raise StageFailed(f"{empty}; see {config.relative_to_root(report)} and "
                          f"{config.relative_to_root(run.processed_dir / 'ingest_log.csv')}")
    item = stages.stage(stage)
    rewritten = [stages.run_file_path(item, name, run.name, run.params_file) for name in item.rewrites]
    mark_done(run.build_dir / f"{stage}.done", stage, executed, started_ns, rewritten)
    logger.info("run %s: %s executed in %.1fs", run.name, stage, time.perf_counter() - started)
    # Rendered here, in the process that has the libraries loaded: make's render rule then
    # finds the report newer than all it depends on and starts no second process.
    _render(run, stage)
    return executed


def mark_done(done: Path, stage: str, executed: Path, started_ns: int, rewritten: list[Path] = ()) -> None:
    """Write a stage's marker: the stage and the sha256 of the notebook it executed, dated when
    the stage *started*.

    make reruns a stage whose prerequisites are newer than its marker. Dated at the start, the
    marker is older than a notebook, module or params file edited while the stage ran, so the
    next ``make report`` reruns it; dated at the end, such an edit would look already built.
    The run files the stage rewrites itself (``rewritten``: the topic identities, both read and
    written) get the same date, so that the stage's own write does not make it stale.
    The hash lets :func:`render_stage` tell a finished execution from papermill's error copy
    without comparing times (the executed notebook is newer than the marker's date).
    """
    for path in rewritten:
        if path.exists():
            os.utime(path, ns=(started_ns, started_ns))
    write_text(done, f"{stage}\nexecuted {sha256_file(executed)}\n")
    os.utime(done, ns=(started_ns, started_ns))


def finished_execution(done: Path, executed: Path) -> bool:
    """Whether ``executed`` is the notebook the stage's marker ``done`` records as finished."""
    if not done.exists() or not executed.exists():
        return False
    recorded = [line.split(" ", 1)[1] for line in done.read_text(encoding="utf-8").splitlines()
                if line.startswith("executed ")]
    if not recorded:  # a marker of an older version: it was written after the execution
        return done.stat().st_mtime_ns >= executed.stat().st_mtime_ns
    return recorded[0] == sha256_file(executed)


def _nothing_to_analyse(run, stage: str) -> str | None:
    """After ingest: why the run has no documents (counts per skip reason), or None when it has some."""
    if stage != stages.NAMES[0]:
        return None
    import pandas as pd

    from newslens.corpus.ingest import empty_corpus_message

    log = pd.read_csv(run.processed_dir / "ingest_log.csv", dtype=str, keep_default_na=False)
    return empty_corpus_message(log, run.name)


def render_stage(params_file: str, stage: str) -> Path:
    """Render an executed stage to ``reports/<run>/<stage>.html`` with its provenance block.

    Rendering is separate from execution so that committing code (which changes
    the provenance) re-renders the reports in seconds without re-running them.
    """
    run = load_run(params_file)
    executed, done = run.build_dir / f"{stage}.ipynb", run.build_dir / f"{stage}.done"
    # A failed execution leaves papermill's error notebook, not the one the .done records: never publish it.
    if executed.exists() and not finished_execution(done, executed):
        raise StageFailed(f"stage {stage} of run {run.name} did not complete: "
                          f"{config.relative_to_root(executed)} is not a finished execution; "
                          f"run the stage again before rendering it")
    return _render(run, stage)


def _render(run, stage: str) -> Path:
    import nbformat

    from newslens.pipeline import provenance
    from newslens.pipeline.render import render_html
    from newslens.report import navigation
    from newslens.report.views import MAX_REPORT_BYTES, page_sizes

    executed = run.build_dir / f"{stage}.ipynb"
    notebook = nbformat.read(executed, as_version=4)
    cell = nbformat.v4.new_code_cell(source="")
    cell.id = "provenance"
    cell.outputs = [nbformat.v4.new_output("display_data",
                                           data={"text/html": provenance.stage(run, stage)})]
    notebook.cells.append(cell)
    report = render_html(notebook, run.reports_dir / f"{stage}.html", title=f"{run.params.title} · {stage}",
                         header=navigation.run_header(run.reports_dir, run.params.title, f"{stage}.html"))
    navigation.refresh_run(run.reports_dir, run.params.title)  # the pages rendered before this one link it too
    sizes = page_sizes(report.read_text(encoding="utf-8"))
    logger.info("run %s: rendered %s: %s kB (view library %s kB, view data %s kB; limit %s kB)",
                run.name, config.relative_to_root(report), *(f"{sizes[k] / 1000:,.1f}" for k in
                ("total", "library", "data")), f"{MAX_REPORT_BYTES / 1000:,.0f}")
    if sizes["total"] > MAX_REPORT_BYTES:
        logger.warning("run %s: %s is %s kB, over the %s kB a shared report should stay under",
                       run.name, config.relative_to_root(report), f"{sizes['total'] / 1000:,.0f}",
                       f"{MAX_REPORT_BYTES / 1000:,.0f}")
    return report


def run_compare(spec_a: str, spec_b: str) -> Path:
    """Execute ``notebooks/compare.ipynb`` for two runs and render ``reports/compare/<a>--<b>.html``.

    Each side is a params file (the run's committed findings) or a git revision of the
    other side's run. Both are loaded first, so a bad side fails with its message, not a traceback.
    """
    import nbformat
    import papermill

    from newslens.analysis import compare
    from newslens.pipeline import provenance
    from newslens.pipeline.render import render_html, scrub_notebook
    from newslens.report import compare_page, navigation

    compare.compare(compare.load_findings(spec_a, spec_b), compare.load_findings(spec_b, spec_a))
    label_a, label_b = compare.side_label(spec_a, spec_b), compare.side_label(spec_b, spec_a)
    name = compare_page.report_name(label_a, label_b)
    executed = config.BUILD_DIR / "compare" / f"{name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        with kernel_environment():
            papermill.execute_notebook(
                str(config.NOTEBOOKS_DIR / "compare.ipynb"), str(executed), parameters={"a": spec_a, "b": spec_b},
                kernel_name=KERNEL_NAME, cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, start_timeout=KERNEL_START_TIMEOUT)
    except papermill.PapermillExecutionError as exc:
        raise StageFailed(f"comparison {name} failed: {exc.ename}: {exc.evalue}\n  the executed notebook "
                          f"is {config.relative_to_root(executed)}") from None
    notebook = scrub_notebook(nbformat.read(executed, as_version=4))
    cell = nbformat.v4.new_code_cell(source="")
    cell.id = "provenance"
    cell.outputs = [nbformat.v4.new_output("display_data",
                                           data={"text/html": provenance.comparison(spec_a, spec_b)})]
    notebook.cells.append(cell)
    sides = [(label, _compared_run(spec, other)) for label, spec, other in
             ((label_a, spec_a, spec_b), (label_b, spec_b, spec_a))]
    report = render_html(notebook, config.REPORTS_DIR / "compare" / f"{name}.html",
                         title=f"{label_a} against {label_b} · compare",
                         header=navigation.comparison_header(f"{label_a} against {label_b}", f"{name}.html", sides))
    logger.info("compared %s with %s: %s (%s kB)", label_a, label_b, config.relative_to_root(report),
                f"{report.stat().st_size / 1000:,.1f}")
    return report


def _compared_run(spec: str, other: str) -> Path | None:
    """The reports folder of the run a comparison's side is: a params file's run, or for a git
    revision the other side's run; None for a findings file, which belongs to no run."""
    if spec.endswith(".json"):
        return None
    return config.reports_dir(Path(spec if spec.endswith(".yaml") else other).stem)


def write_validation_page(params_file: str, *, coder: str = "", items: int | None = None) -> Path:
    """Write ``reports/<run>/validate.html``: the run's word- and topic-intrusion items for a coder.

    The items come from the topics stage's outputs (:func:`newslens.analysis.validation_items.draw`);
    the page is finished like every report (one library copy, the same Content-Security-Policy).
    A run without a topic model gets a page that says so.
    """
    from newslens.report.validation_form import PAGE

    from newslens.report import navigation

    run = load_run(params_file)
    page, data = validation_page_text(run, coder=coder, items=items)
    # With its header, as the stage pages have it, so an unchanged page is not written again.
    page = navigation.with_header(page, navigation.run_header(run.reports_dir, run.params.title, PAGE))
    target = _write_if_changed(run.reports_dir / PAGE, page)
    navigation.refresh_run(run.reports_dir, run.params.title)  # the other pages link it too
    if data is None:
        logger.info("run %s: no topic model to validate; wrote %s", run.name, config.relative_to_root(target))
    else:
        logger.info("run %s: wrote %s: %d items (%d topic), about %d minutes, model %s", run.name,
                    config.relative_to_root(target), len(data["items"]),
                    sum(item["kind"] == "topic" for item in data["items"]), data["minutes"], data["model"])
    return target


def validation_page_text(run, *, coder: str = "", items: int | None = None) -> tuple[str, dict | None]:
    """The finished validation page of ``run`` and the items it holds (None: the run has no model)."""
    import json

    from newslens.analysis.validation import model_hash
    from newslens.pipeline import provenance
    from newslens.report.validation_form import items_for, no_model_page, page_html
    from newslens.report.views import finish_page

    data = items_for(run, coder=coder, items=items)
    identities = stages.run_file_path(stages.stage("04-topics"), "identities", run.name, run.params_file)
    block = provenance.validation(run, identities, model_hash(json.loads(identities.read_text(encoding="utf-8"))))
    if data is None:
        return finish_page(no_model_page(run.params.title, run.name, block)), None
    return finish_page(page_html(data, run.params.title, block)), data


def _write_if_changed(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` unless it holds it already (its date then stays, and make sees no change)."""
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return target
    return write_text(target, text)


