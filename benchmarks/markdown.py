"""The one writer of ``benchmarks/results.json`` and ``benchmarks/RESULTS.md``."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.cells import OUR_STAGES
from benchmarks.harness import fmt_s, median_of, ratio_of
from benchmarks.targets import cell_of, evaluate_targets, pipeline_ours

ANCHOR_NAMES = {
    "read_csv": "pandas.read_csv (read floor)",
    "sklearn_tfidfvectorizer": 'sklearn TfidfVectorizer(stop_words="english")',
    "gensim_phrases": "gensim simple_preprocess + Phrases(npmi)",
    "sklearn_tfidf_pretokenized": "sklearn TfidfVectorizer on our tokens",
    "bare_nmf": 'bare NMF(k=10, init="nndsvda")',
    "sklearn_example_tfidf_nmf": "sklearn example: TfidfVectorizer + NMF k=10",
    "gensim_ldamodel": "gensim Dictionary + LdaModel k=10",
}
STAGE_NAMES = {"ingest": "ingest", "tokenize": "tokenize", "tfidf": "TF-IDF", "nmf": "one topic fit (NMF k=10)",
               "pipeline": "whole pipeline"}


def add_engines_estimate(results_json: Path, estimate: dict, scale_out: list[dict] | None = None) -> None:
    """Put engines.py's 10-million-document estimate (and its scale-out targets) into a bench run's
    results and rewrite its RESULTS.md."""
    results_json = Path(results_json)
    results = json.loads(results_json.read_text(encoding="utf-8"))
    if scale_out is not None:
        results["scale_out"] = scale_out
    results["engines"] = {"total_h": estimate["total_h"], "parallel_h": estimate["parallel_h"],
                          "serial_h": estimate["serial_h"], "workers": estimate["workers"],
                          "from_scales": ", ".join(f"×{s}" for s in estimate["scales"])}
    results["targets"] = evaluate_targets(results)
    write_report(results, results_json.parent)


def write_report(results: dict, out_dir: Path) -> None:
    """Write results.json and RESULTS.md into ``out_dir``."""
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    (out_dir / "RESULTS.md").write_text(render_markdown(results), encoding="utf-8")


def _header(results: dict, scales: list[int]) -> list[str]:
    """The title, the command, the machine and the settings."""
    settings, machine = results["settings"], results.get("machine", {})
    lines = ["# newslens benchmark results", "",
             f"Command: `{results['command']}`  ", f"Date: {results['date']}  ",
             f"Bench wall time: {fmt_s(results.get('bench_seconds'))} s  ",
             f"Machine: {machine.get('nproc')} CPUs ({machine.get('cpu', '?')}), "
             f"{machine.get('mem_total_gib', '?')} GiB; Python {machine.get('python')}, numpy {machine.get('numpy')}, "
             f"scikit-learn {machine.get('scikit-learn')}, gensim {machine.get('gensim')}, pandas {machine.get('pandas')}; "
             f"BLAS threads 1  ",
             f"Load average at start / end: {results.get('load_start')} / {results.get('load_end')}"
             + ("  \n**The machine was busy (load ≥ 1 at the start): timings are noisy.**"
                if (results.get("load_start") or [0])[0] >= 1 else ""),
             "",
             f"Settings: scales {', '.join(f'×{s}' for s in scales)}; up to {settings['repeats']} repeat(s) per "
             f"measurement, fewer when a measurement's runs would pass {settings['cell_budget']:g} s "
             f"(the *n* column); times are medians in seconds of in-process compute (ours: the stage as it runs, "
             f"writing its outputs). See `benchmarks/README.md`.", ""]
    return lines


def _targets(results: dict, scales: list[int]) -> list[str]:
    """The targets table."""
    lines: list[str] = []
    lines += ["## Targets", "", "| target | measured | status |", "|---|---|---|"]
    for row in results.get("targets", []):
        values = ", ".join(f"{k}: {_fmt_value(v, row['unit'], k)}" for k, v in row["values"].items()) or "not measured"
        lines.append(f"| {row['target']} | {values} | **{row['status']}** |")
    lines.append("")
    return lines


def _stages(results: dict, scales: list[int]) -> list[str]:
    """Each stage against its anchors, at each scale."""
    lines: list[str] = []
    lines += ["## Stages against their anchors", "",
              "ratio = ours / anchor (below 1: ours is faster).", "",
              "| stage | scale | ours (s) | n | anchor | anchor (s) | n | ratio |", "|---|---|---|---|---|---|---|---|"]
    for stage in OUR_STAGES:
        for scale in scales:
            cell = cell_of(results, stage, scale)
            ours = cell.get("ours") or {}
            anchors = cell.get("anchors") or {}
            if not anchors:
                lines.append(f"| {STAGE_NAMES[stage]} | ×{scale} | {_fmt_m(ours)} | {ours.get('n', '–')} | – | – | – | – |")
            for name, anchor in anchors.items():
                lines.append(f"| {STAGE_NAMES[stage]} | ×{scale} | {_fmt_m(ours)} | {ours.get('n', '–')} | "
                             f"{ANCHOR_NAMES.get(name, name)} | {_fmt_m(anchor)} | {anchor.get('n', '–')} | "
                             f"{_fmt_ratio(ratio_of(median_of(ours), median_of(anchor)))} |")
    lines.append("")
    return lines


def _stage_notes(results: dict, scales: list[int]) -> list[str]:
    """What tokenize's two workers buy, and what TF-IDF's reading of the tokens takes."""
    lines: list[str] = []
    notes = []
    for scale in scales:
        info = cell_of(results, "tokenize", scale).get("info") or {}
        ours = median_of(cell_of(results, "tokenize", scale).get("ours"))
        serial = info.get("n_jobs_1")
        if isinstance(serial, dict) and serial.get("median") is not None:
            notes.append(f"- tokenize ×{scale} with `n_jobs=1` (one run): {fmt_s(serial['median'])} s, against "
                         f"{fmt_s(ours)} s with the default `n_jobs=2`: the two workers give a "
                         f"{_fmt_ratio(ratio_of(serial['median'], ours))} speed-up.")
    for scale in scales:
        info = cell_of(results, "tfidf", scale).get("info") or {}
        if info.get("load_analyzer_s") is not None:
            notes.append(f"- TF-IDF ×{scale}: `tokenization.load_analyzer` (reading tokens.parquet, part of the time above) "
                         f"took {fmt_s(info['load_analyzer_s'])} s; matrix {info.get('documents')} × "
                         f"{info.get('terms')}, {info.get('nnz')} non-zeros.")
    if notes:
        lines += notes + [""]
    return lines


def _ingest_output(results: dict, scales: list[int]) -> list[str]:
    """Ingest's output at each scale: the replicas kept as documents."""
    lines: list[str] = []
    rows = [(scale, cell_of(results, "ingest", scale).get("info") or {}) for scale in scales]
    if any(info.get("documents_out") for _, info in rows):
        lines += ["## Ingest output at each scale", "",
                  "Replicas are distinct articles (`make_replicas`): ingest should keep about N × the ×1 "
                  "documents, with about the ×1 count of duplicates and near-duplicates.", "",
                  "| scale | CSV rows | documents out | × the ×1 documents | log statuses | near-duplicates "
                  "flagged (of them replicas) |", "|---|---|---|---|---|---|"]
        base = rows[0][1].get("documents_out") if rows[0][0] == 1 else None
        csv_rows = ((results.get("inputs") or {}).get("info") or {}).get("rows") or {}
        for scale, info in rows:
            out = info.get("documents_out")
            growth = f"{out / base:.2f}" if out and base else "–"
            statuses = ", ".join(f"{k} {v:,}" for k, v in sorted((info.get("statuses") or {}).items()))
            lines.append(f"| ×{scale} | {csv_rows.get(str(scale), '–')} | {out if out is not None else '–'} | "
                         f"{growth} | {statuses or '–'} | {info.get('near_duplicates', '–')} "
                         f"({info.get('near_duplicate_replicas', '–')}) |")
        lines.append("")
    return lines


def _pipeline(results: dict, scales: list[int]) -> list[str]:
    """The whole pipeline against its anchors."""
    lines: list[str] = []
    lines += ["## Whole pipeline (ingest + tokenize + TF-IDF + one NMF fit)", "",
              "Ours is the sum of the four stage medians above; the anchors start from the same raw CSV.", "",
              "| scale | ours (s) | anchor | anchor (s) | n | ratio |", "|---|---|---|---|---|---|"]
    for scale in scales:
        ours = pipeline_ours(results, scale)
        for name, anchor in (cell_of(results, "pipeline", scale).get("anchors") or {}).items():
            lines.append(f"| ×{scale} | {fmt_s(ours)} | {ANCHOR_NAMES.get(name, name)} | {_fmt_m(anchor)} | "
                         f"{anchor.get('n', '–')} | {_fmt_ratio(ratio_of(ours, median_of(anchor)))} |")
    lines.append("")
    return lines


def _scaling(results: dict, scales: list[int]) -> list[str]:
    """Each stage's time at each scale."""
    lines: list[str] = []
    lines += ["## Scaling", "", "| stage | " + " | ".join(f"×{s} (s)" for s in scales)
              + (f" | ×{scales[-1]} / ×{scales[0]} |" if len(scales) > 1 else " |"),
              "|---|" + "---|" * len(scales) + ("---|" if len(scales) > 1 else "")]
    for stage in OUR_STAGES:
        medians = [median_of(cell_of(results, stage, s).get("ours")) for s in scales]
        row = f"| {STAGE_NAMES[stage]} | " + " | ".join(fmt_s(m) for m in medians) + " |"
        if len(scales) > 1:
            row += f" {_fmt_ratio(ratio_of(medians[-1], medians[0]))} |"
        lines.append(row)
    lines.append("")
    return lines


def _memory(results: dict, scales: list[int]) -> list[str]:
    """Each stage's peak memory."""
    lines: list[str] = []
    lines += ["## Peak memory (each stage in its own process)", "",
              "MiB. *baseline*: peak before the stage ran (interpreter, libraries, inputs loaded); *self*: "
              "`ru_maxrss` of the process after the stage; *tree*: sampled sum over the process and its "
              "worker processes (loky), every 0.1 s.", "",
              "| stage | scale | baseline | self | tree | peak |", "|---|---|---|---|---|---|"]
    for stage in OUR_STAGES:
        for scale in scales:
            rss = cell_of(results, stage, scale).get("rss") or {}
            lines.append(f"| {STAGE_NAMES[stage]} | ×{scale} | {_fmt_mib(rss.get('baseline_mib'))} | "
                         f"{_fmt_mib(rss.get('self_peak_mib'))} | {_fmt_mib(rss.get('tree_peak_mib'))} | "
                         f"{'≥ ' if rss.get('guard_hit') else ''}{_fmt_mib(rss.get('peak_mib'))}"
                         f"{' (memory guard hit)' if rss.get('guard_hit') else ''} |")
    lines.append("")
    return lines


def _sweep(results: dict, scales: list[int]) -> list[str]:
    """The library's k sweep against today's."""
    lines: list[str] = []
    lines += ["## k sweep: the library's against today's exhaustive sweep", "",
              "*today*: `baseline_sweep` in benchmarks/cells.py, a copy of the sweep before the speed work (every k × "
              "seed, NMF tol 1e-3 on each seed's 80% subsample, 2 threads); *new*: `topics.run_topics` up to "
              "its choice of k, as the topics notebook calls it. News topics params; alternating.", "",
              "| scale | matrix | today (s) | n | new (s) | n | new / today | k today | k new |",
              "|---|---|---|---|---|---|---|---|---|"]
    for scale, record in sorted((results.get("sweep") or {}).items(), key=lambda item: int(item[0])):
        ours, info = record.get("ours") or {}, record.get("info") or {}
        base, new = ours.get("baseline") or {}, ours.get("library") or {}
        ks = info.get("ks") or {}
        lines.append(f"| ×{scale} | {info.get('shape', '–')} | {_fmt_m(base)} | {base.get('n', '–')} | "
                     f"{_fmt_m(new)} | {new.get('n', '–')} | {_fmt_ratio(ratio_of(median_of(new), median_of(base)))} | "
                     f"{ks.get('baseline', '–')} | {ks.get('library', '–')} |")
    if not results.get("sweep"):
        lines.append("Not run.")
    lines.append("")
    return lines


def _report(results: dict, scales: list[int]) -> list[str]:
    """Cold `make report` against the bare script."""
    lines: list[str] = []
    report = results.get("report") or {}
    lines += ["## Cold `make report PARAMS=params/news.yaml` against the bare script", ""]
    if report.get("make_s") is not None:
        compute = report.get("compute") or {}
        lines += [f"Each `make report` in a fresh sandbox copy of the project (cold: no build/, data/processed/), "
                  f"timed from outside, alternating with `benchmarks/bare_report.py` (read the CSV, TF-IDF, "
                  f"k sweep 5..40 × 3 seeds, one NMF, three PNGs; k = {report.get('bare_k')}); medians of "
                  f"{len(report.get('make', []))}.", "",
                  "| make report (s) | bare script (s) | ratio | in-process compute (s) | notebook layer (s) | share |",
                  "|---|---|---|---|---|---|",
                  f"| {fmt_s(report['make_s'])} | {fmt_s(report.get('bare_s'))} | "
                  f"{_fmt_ratio(ratio_of(report['make_s'], report.get('bare_s')))} | {fmt_s(report.get('compute_s'))} | "
                  f"{fmt_s(report.get('overhead_s'))} | {_fmt_pct(report.get('overhead_share'))} |", "",
                  "In-process compute per stage (the notebooks' code cells, display stubbed out): "
                  + ", ".join(f"{stage} {fmt_s(value)} s" for stage, value in compute.items()) + ".", ""]
    elif report.get("error"):
        lines += [f"Failed: {report['error']}", ""]
    else:
        lines += ["Not run.", ""]
    return lines


def _engines(results: dict, scales: list[int]) -> list[str]:
    """The 10-million-document estimate of engines.py."""
    lines: list[str] = []
    engines = results.get("engines") or {}
    if engines:
        lines += ["## 10 million documents on 32 Dask workers (from ENGINES.md)", "",
                  f"Extrapolated from the Dask runs at {engines.get('from_scales')}: parallel per-partition work "
                  f"{engines.get('parallel_h')} h + serial driver work {engines.get('serial_h')} h = "
                  f"**{engines.get('total_h')} h**.", ""]
    return lines


def _overhead(results: dict, scales: list[int]) -> list[str]:
    """The notebook layer's overhead, per stage."""
    lines: list[str] = []
    lines += ["## Notebook-layer overhead (seed run, per stage)", "",
              "Wall time of `python -m newslens stage` + `render` per stage in a sandbox copy of the "
              "project, minus the same notebooks' code run in-process with plotting and report display "
              "stubbed out (imports done beforehand).", ""]
    for key, data in (results.get("overhead") or {}).items():
        if data.get("error") and not data.get("wall_s"):
            lines += [f"**{key}**: failed: {data['error']}", ""]
            continue
        lines += [f"**{key}** run (`{data.get('params')}`): wall {fmt_s(data.get('wall_s'))} s, compute "
                  f"{fmt_s(data.get('compute_s'))} s, overhead {fmt_s(data.get('overhead_s'))} s "
                  f"= {_fmt_pct(data.get('overhead_share'))} of the wall time.", "",
                  "| stage | stage (s) | render (s) | compute (s) | overhead (s) |", "|---|---|---|---|---|"]
        for stage, row in data.get("stages", {}).items():
            lines.append(f"| {stage} | {fmt_s(row.get('stage_s'))} | {fmt_s(row.get('render_s'))} | "
                         f"{fmt_s(row.get('compute_s'))} | {fmt_s(row.get('overhead_s'))} |")
        lines.append("")
    if not results.get("overhead"):
        lines += ["Not run.", ""]
    return lines


def _estimate(results: dict, scales: list[int]) -> list[str]:
    """The estimated time of a full run (a --quick run only)."""
    lines: list[str] = []
    estimate = results.get("estimate_full_run")
    if estimate:
        lines += ["## Estimated full run", "",
                  f"Linear extrapolation of this run's ×1 cells to scales {estimate['scales']}, "
                  f"{estimate['repeats']} repeats, cell budget {estimate['cell_budget']:g} s: "
                  f"about **{estimate['seconds'] / 60:.0f} min** (a floor: super-linear stages take longer)."]
        lighter = results.get("estimate_full_run_anchors_to_x4")
        if lighter:
            lines.append(f"With `--max-anchor-scale 4` (no anchors at ×16): about "
                         f"**{lighter['seconds'] / 60:.0f} min**.")
        lines.append("")
    return lines


def _errors(results: dict, scales: list[int]) -> list[str]:
    """Every error recorded in the run."""
    lines: list[str] = []
    errors = _collect_errors(results)
    lines += ["## Errors", ""] + ([f"- {e}" for e in errors] if errors else ["None."]) + [""]
    return lines

SECTIONS = (_header, _targets, _stages, _stage_notes, _ingest_output, _pipeline, _scaling, _memory, _sweep,
            _report, _engines, _overhead, _estimate, _errors)


def render_markdown(results: dict) -> str:
    """RESULTS.md of a run's results: its sections in order."""
    scales = results["settings"]["scales"]
    return "\n".join(line for section in SECTIONS for line in section(results, scales))


def _fmt_value(value, unit: str, key: str = "") -> str:
    """One measured value of a target row: text as it is, seconds and hours by the key's unit, else the row's unit."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if key.endswith("(s)"):
        return f"{fmt_s(value)} s"
    if key.endswith("(h)") or unit == "h":
        return f"{value:.2f} h"
    if unit == "%":
        return f"{value:.0%}"
    if unit == "GiB":
        return f"{value:.2f} GiB"
    return f"{value:.2f}×"


def _fmt_ratio(value) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _fmt_m(measurement: dict | None) -> str:
    if not measurement:
        return "–"
    if "median" in measurement:
        return fmt_s(measurement["median"])
    return "error" if "error" in measurement else "–"


def _fmt_mib(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _fmt_pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _collect_errors(results: dict) -> list[str]:
    errors = []

    def walk(node, path):
        if isinstance(node, dict):
            if "error" in node and isinstance(node["error"], str):
                errors.append(f"`{path}`: {node['error']}")
            for key, value in node.items():
                if key not in ("error", "traceback", "stderr_tail"):
                    walk(value, f"{path}.{key}" if path else key)

    walk({k: v for k, v in results.items() if k in ("inputs", "cells", "sweep", "report", "overhead")}, "")
    return errors
