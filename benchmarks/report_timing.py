"""Timing the pipeline as ``make report`` runs it: cold against the bare script, and the notebook layer's overhead.

Each build runs in a sandbox copy of the project (:func:`newslens.pipeline.sandbox.make`); the
notebooks' own compute runs in one more, in process, with the display stubbed out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import (HERE, ROOT, error_record, fmt_s, log, measure, median_of, rel, run_command,
                                run_driver, short_error, shutdown_loky, subprocess_env)
from benchmarks.workloads import NEWS_PARAMS
from newslens.pipeline import sandbox

NOTEBOOK_STAGES = ("01-ingest", "02-tokenize", "03-keywords", "04-topics", "05-summary")

PLOT_VALUE_HELPERS = frozenset({"heaps_parameters", "wrap", "log10_values", "power_label", "log_ticks"})


def _stub_display() -> None:
    """Replace the drawing functions of ``newslens.report.plots`` and the ``show_*`` functions of ``newslens.report.markup``.

    Only what draws or displays becomes a no-op mock; the modules' value helpers stay real, since the
    stages' own code uses them (``precision.display_value`` in the topic explorer, ``plots.heaps_parameters``).
    The patches last as long as the process (one driver).
    """
    import inspect
    from unittest import mock

    from newslens.report import plots, markup

    names = [(plots, name) for name, f in inspect.getmembers(plots, inspect.isfunction)
             if f.__module__ == plots.__name__ and not name.startswith("_") and name not in PLOT_VALUE_HELPERS]
    names += [(markup, name) for name, f in inspect.getmembers(markup, inspect.isfunction)
              if f.__module__ == markup.__name__ and name.startswith("show_")]
    for module, name in names:
        mock.patch.object(module, name, mock.MagicMock(name=f"{module.__name__}.{name}")).start()


def cell_notebook_compute(folder: Path, args) -> dict:
    """The seed (or news) run's stage code, executed in-process with the display layer stubbed out.

    Each notebook's code cells run in order with ``params_file`` set as papermill would, but with the
    drawing functions of ``newslens.report.plots`` and the ``show_*`` functions of ``newslens.report.markup`` replaced by
    no-op mocks (:func:`_stub_display`): what remains is the stage's own compute (module calls, their
    arguments, the output files). Imports are done before timing.
    """
    import json as _json

    from newslens import config

    params_rel = args.params
    timings = {}
    _stub_display()
    os.chdir(config.NOTEBOOKS_DIR)  # papermill's cwd
    for stage in NOTEBOOK_STAGES:
        notebook = _json.loads((config.NOTEBOOKS_DIR / f"{stage}.ipynb").read_text(encoding="utf-8"))
        cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
        first = tagged[0] if tagged else 0
        sources = ["".join(c["source"]) for c in cells]
        sources.insert(first + 1, f"params_file = {params_rel!r}")
        codes = [compile(src, f"<{stage} cell {i}>", "exec") for i, src in enumerate(sources)]

        def run_notebook(codes=codes):
            namespace = {"__name__": "__main__"}
            for code in codes:
                exec(code, namespace)
            return namespace

        def fresh():
            shutdown_loky()
            tok = sys.modules.get("newslens.text.tokenizer")
            if tok is not None and hasattr(getattr(tok, "_lemma", None), "cache_clear"):
                tok._lemma.cache_clear()

        timings[stage] = measure(run_notebook, repeats=args.repeats, budget=args.cell_budget, before=fresh,
                                 label=f"compute {stage}")
    # No machine path in the results: the run is named by its params file alone.
    return {"ours": timings, "rss": None, "anchors": {}, "info": {"params": params_rel}}


def notebook_overhead(run_params: Path, args, key: str) -> dict:
    """Wall time of ``stage`` + ``render`` for the 5 stages in a sandbox, minus the same stages' compute."""
    out: dict = {"params": rel(run_params), "stages": {}}
    sandboxes = []
    section_start = time.perf_counter()
    try:
        def sandbox() -> Path:
            return make_sandbox(run_params, key, sandboxes)

        wall_root = sandbox()
        env = subprocess_env({"NEWSLENS_ROOT": str(wall_root)})
        env.pop("TQDM_DISABLE", None)  # as `make report` runs them
        params_arg = f"params/{run_params.name}"
        for stage in NOTEBOOK_STAGES:
            row = {}
            for command in ("stage", "render"):
                done = run_command([sys.executable, "-m", "newslens", command, params_arg, stage],
                                   env=env, cwd=wall_root, timeout=args.driver_timeout,
                                   prefix=f"[{key} {command} {stage}] ")
                row[f"{command}_s"] = round(done["seconds"], 3)
                if done["returncode"] != 0:
                    row["error"] = f"{command} exited {done['returncode']}: {done['stderr_tail'][-1500:]}"
                    break
            out["stages"][stage] = row
            log.info("%s %s: stage %s s, render %s s", key, stage, fmt_s(row.get("stage_s")),
                     fmt_s(row.get("render_s")))
            if "error" in row:
                raise RuntimeError(f"{stage}: {row['error']}")
        compute_root = sandbox()
        # The wall time is one run; so is the news compute (minutes). The seed compute is cheap: --repeats.
        compute_args = argparse.Namespace(**{**vars(args), "repeats": 1 if key == "news" else args.repeats})
        compute = run_driver("notebook-compute", 1, compute_args,
                             extra_env={"NEWSLENS_ROOT": str(compute_root)},
                             extra_args=("--params", params_arg), cwd=compute_root)
        out["compute_driver"] = {k: v for k, v in compute.items() if k not in ("ours",)}
        if "error" in compute:
            raise RuntimeError(f"compute driver: {compute['error']}")
        wall = compute_sum = 0.0
        for stage in NOTEBOOK_STAGES:
            row = out["stages"][stage]
            row["compute"] = compute["ours"][stage]
            row["compute_s"] = median_of(compute["ours"][stage])
            row["wall_s"] = row["stage_s"] + row["render_s"]
            row["overhead_s"] = row["wall_s"] - (row["compute_s"] or 0.0)
            wall += row["wall_s"]
            compute_sum += row["compute_s"] or 0.0
        out.update(wall_s=wall, compute_s=compute_sum, overhead_s=wall - compute_sum,
                   overhead_share=(wall - compute_sum) / wall if wall else None)
    except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
        log.error("notebook overhead (%s) failed: %s", key, short_error(exc))
        out.update(error_record(exc))
    finally:
        out["section_s"] = round(time.perf_counter() - section_start, 1)
        if not args.keep_sandbox:
            for root in sandboxes:
                shutil.rmtree(root, ignore_errors=True)
        else:
            out["sandboxes"] = [str(r) for r in sandboxes]
    return out


def make_sandbox(run_params: Path, key: str, sandboxes: list[Path]) -> Path:
    """A copy of the project that ``make report`` can build without touching the real build/, data/processed/, reports/.

    Copies what ``make report`` reads (:data:`newslens.pipeline.sandbox.MAKE_PARTS`) and the committed
    ``reports/<run>/topics.json``; links ``.venv`` and ``data/raw/news-articles``; makes it a git
    repository. Python still imports the package of this checkout (``PYTHONPATH``).
    """
    root = Path(tempfile.mkdtemp(prefix=f"newslens-bench-{key}-"))
    sandboxes.append(root)
    return sandbox.make(root, parts=sandbox.MAKE_PARTS, links=(".venv", "data/raw/news-articles"),
                        params=run_params, git=True)


def report_section(args) -> dict:
    """Cold ``make report PARAMS=params/news.yaml`` against ``bare_report.py``, then the news run's compute.

    The two alternate ``--report-repeats`` times (each make in a fresh sandbox: cold), timed from
    outside; medians. Then the five notebooks' code runs in process in one more sandbox
    (``cell_notebook_compute``, display stubbed out): make's wall time minus that compute is the
    notebook layer's overhead.
    """
    out: dict = {"params": rel(NEWS_PARAMS), "make": [], "bare": []}
    sandboxes: list[Path] = []
    section_start = time.perf_counter()
    params_arg = f"params/{NEWS_PARAMS.name}"
    try:
        for index in range(args.report_repeats):
            root = make_sandbox(NEWS_PARAMS, "report", sandboxes)
            env = subprocess_env({"NEWSLENS_ROOT": str(root)})
            env.pop("TQDM_DISABLE", None)  # as `make report` runs it
            done = run_command(["make", "-C", str(root), "-o", ".venv/.installed", "report", f"PARAMS={params_arg}"],
                               env=env, cwd=root, timeout=args.driver_timeout, prefix="[make report] ")
            if done["returncode"] != 0:
                raise RuntimeError(f"make report exited {done['returncode']}: {done['stderr_tail'][-1500:]}")
            out["make"].append(round(done["seconds"], 3))
            with tempfile.TemporaryDirectory(prefix="newslens-bare-") as figures:
                done = run_command([sys.executable, str(HERE / "bare_report.py"), "--out", figures, "--json"],
                                   env=subprocess_env(), cwd=ROOT, timeout=args.driver_timeout,
                                   prefix="[bare report] ")
            if done["returncode"] != 0:
                raise RuntimeError(f"bare_report.py exited {done['returncode']}: {done['stderr_tail'][-1500:]}")
            out["bare"].append(round(done["seconds"], 3))
            out["bare_k"] = json.loads(done["stdout"].strip().splitlines()[-1])["k"]
            log.info("report run %d: make report %s s, bare script %s s", index + 1, fmt_s(out["make"][-1]),
                     fmt_s(out["bare"][-1]))
            shutil.rmtree(root, ignore_errors=True)
        out["make_s"], out["bare_s"] = statistics.median(out["make"]), statistics.median(out["bare"])
        compute_root = make_sandbox(NEWS_PARAMS, "compute", sandboxes)
        compute_args = argparse.Namespace(**{**vars(args), "repeats": 1})
        compute = run_driver("notebook-compute", 1, compute_args, extra_env={"NEWSLENS_ROOT": str(compute_root)},
                             extra_args=("--params", params_arg), cwd=compute_root)
        if "error" in compute:
            raise RuntimeError(f"compute driver: {compute['error']}")
        out["compute_runs"] = compute["ours"]  # errors included: they show in RESULTS.md
        out["compute"] = {stage: median_of(m) for stage, m in compute["ours"].items()}
        failed = [stage for stage, value in out["compute"].items() if value is None]
        if failed:
            raise RuntimeError(f"the in-process compute of {', '.join(failed)} failed: no overhead")
        out["compute_s"] = sum(out["compute"].values())
        out["overhead_s"] = out["make_s"] - out["compute_s"]
        out["overhead_share"] = out["overhead_s"] / out["make_s"]
    except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
        log.error("report section failed: %s", short_error(exc))
        out.update(error_record(exc))
    finally:
        out["section_s"] = round(time.perf_counter() - section_start, 1)
        for root in sandboxes:
            if not args.keep_sandbox:
                shutil.rmtree(root, ignore_errors=True)
    return out
