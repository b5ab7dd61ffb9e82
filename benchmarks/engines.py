"""The pandas and Dask engines side by side: ingest, tokenize, the TF-IDF and the topic model at ×1, ×4, ×16.

    .venv/bin/python benchmarks/engines.py                 # --scales 1 4 16
    .venv/bin/python benchmarks/engines.py --scales 1      # quick

Inputs are those of ``python -m benchmarks`` (the news CSV at N times its rows, the replicas distinct
articles, and ingest's documents of it, in ``benchmarks/work/x{N}``; made here if missing).
Each (engine, scale) runs in its own process, one run each:

* ingest: ``ingest.ingest`` of the replicated CSV, streamed to a temporary folder;
* tokenize: ``tokenization.tokenize_documents`` of the replicated documents;
* tfidf: the keywords stage's TF-IDF over those tokens, as the stage calls it
  (``tfidf_parts.weigh_corpus``: the workers weight their partitions, write the matrices' cells
  and the keywords, and return sums; then the part files become tfidf.parquet: joined into one
  file on pandas, a folder of the parts themselves on Dask);
* topics: the topics stage's model over that TF-IDF, as the stage calls it (``topics.run_topics``:
  above the sample cap, the k sweep and the final fit on the hashed sample's rows, each fit a task on
  the engine that reads its rows from the files, then one pass in which the workers read every row and
  transform it).

The Dask engine is a LocalCluster of 2 single-threaded worker processes (its start-up is
timed apart); the pandas engine uses its default 2 joblib processes. Peak memory: the
driver's peak resident set (``VmHWM``: :func:`peak_mib`), and on Dask each worker's (read on the workers). The
Dask task stream gives the compute time of every partition task (the parallel part); the rest
of the wall time is the driver's (reading, reductions, writing: the serial part). The
10-million-document estimate on 32 workers extrapolates both parts from the two largest
scales run. Writes ``benchmarks/ENGINES.md`` and ``benchmarks/engines.json``; with
``--reuse-pandas``, also the estimate's target row in that run's ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the benchmarks package, when run as a script
STAGES = ("ingest", "tokenize", "tfidf", "topics")
GROWTH_SCALE = 16  # the growth targets compare this scale with ×1 (exponents: every scale run)
TARGET_DOCS, TARGET_WORKERS = 10_000_000, 32


def peak_mib() -> float:
    """This process's peak resident set in MiB (``VmHWM``: :func:`benchmarks.harness.maxrss_mib`)."""
    from benchmarks.harness import maxrss_mib

    return maxrss_mib()


def _worker_peak_mib() -> float:
    return peak_mib()


def cell(engine_name: str, scale: int, work: Path) -> dict:
    """One engine at one scale, in this process: the three stages, timed."""
    from benchmarks import workloads  # the shared inputs and settings
    from newslens.analysis import keywords
    from newslens.analysis.tfidf_parts import weigh_corpus
    from newslens.corpus.focus import resolve_focus
    from newslens.files import read_parquet
    from newslens.corpus import ingest
    from newslens.text import tokenization
    from newslens.engine import DaskEngine, Engine
    import pandas as pd
    import pyarrow.parquet as pq

    workloads.prewarm()
    folder = workloads.scale_dir(work, scale)
    settings = params = workloads.bench_run(folder).params
    # ingest's output at this scale (made untimed if missing): tokenize's workers read its texts, not the driver
    documents = workloads.documents_path(folder)
    record: dict = {"engine": engine_name, "scale": scale, "stages": {}}
    start = time.perf_counter()
    engine = DaskEngine(count_bytes=True) if engine_name == "dask" else Engine(2, count_bytes=True)
    record["startup_s"] = round(time.perf_counter() - start, 2)
    stream = None
    if engine_name == "dask":
        from distributed import get_task_stream

        stream = get_task_stream
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        out = Path(tmp)
        steps = {
            "ingest": lambda: ingest.ingest(params, out / "ingest", engine=engine),
            # as the stage calls it: the workers' token parts go to tokens.parquet, never through the driver
            "tokenize": lambda: tokenization.write_outputs(
                tokenization.tokenize_documents(documents, settings.tokenize, settings.language, engine=engine,
                                                out_dir=out / "tok", partitioned=engine_name == "dask"),
                out / "tok", partitioned=engine_name == "dask"),
            "tfidf": lambda: _tfidf(weigh_corpus, keywords, resolve_focus, read_parquet, documents, params,
                                    engine, out / "tok"),
            "topics": lambda: _topics(documents, params, engine, out / "tok"),
        }
        (out / "ingest").mkdir()
        (out / "tok").mkdir()
        counted = 0
        for stage, step in steps.items():
            entry = {}
            t0 = time.perf_counter()
            if stream is not None:
                with stream(plot=False) as ts:
                    step()
                entry["task_compute_s"] = round(sum(
                    sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
                    for task in ts.data), 2)
                entry["tasks"] = len(ts.data)
            else:
                step()
            entry["wall_s"] = round(time.perf_counter() - t0, 2)
            entry.update(_traffic(engine.traffic.maps[counted:]))
            counted = len(engine.traffic.maps)
            entry["driver_peak_mib"] = round(peak_mib(), 1)
            record["stages"][stage] = entry
        # the vocabulary-sized state the reductions carry grows with the corpus's vocabulary (tokenize's)
        # and the TF-IDF's terms (those within keywords.min_df and max_df)
        record["vocabulary"] = pq.ParquetFile(out / "tok" / "vocabulary.parquet").metadata.num_rows
        record["tfidf_terms"] = pq.ParquetFile(out / "tok" / "tfidf_terms.parquet").metadata.num_rows
        # the learned phrases: part of the vocabulary, and of what tokenize's reductions carry
        record["phrases"] = len(pd.read_csv(out / "tok" / "phrases.csv"))
    record["documents"] = pq.ParquetFile(documents).metadata.num_rows
    record["driver_peak_mib"] = round(peak_mib(), 1)
    if engine_name == "dask":
        peaks = engine.client.run(_worker_peak_mib)
        record["worker_peak_mib"] = {k: round(v, 1) for k, v in sorted(peaks.items())}
        record["workers"] = len(peaks)
    else:
        record["workers"] = 2
        record["children_peak_mib"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    engine.close()
    return record


def _tfidf(weigh_corpus, keywords, resolve_focus, read_parquet, documents: Path, params, engine, out: Path) -> None:
    """The keywords stage's TF-IDF pass and its files, as :func:`newslens.analysis.keywords.run` makes them."""
    meta = read_parquet(documents, without=("text",))
    settings = params.keywords
    weighted = weigh_corpus(out / "tokens.parquet", settings, engine, focus_ids=resolve_focus(meta, params.focus),
                            similar_n=settings.similar_n, scratch_dir=out,
                            groupings=lambda doc_ids: keywords.keyness_groupings(meta, doc_ids, settings))
    try:
        weighted.write(out, out / "keywords.parquet", partitioned=engine.name == "dask")  # as the stage writes them
    finally:
        weighted.close()


def _topics(documents: Path, params, engine, out: Path) -> None:
    """The topics stage's model over the TF-IDF in ``out``, as :func:`newslens.analysis.topics.run` reads and fits it."""
    import pandas as pd

    from newslens.analysis.topics import model_inputs, run_topics
    from newslens.corpus.focus import resolve_focus
    from newslens.files import read_parquet
    from newslens.stages import TFIDF_FILES

    _, texts, tfidf = model_inputs(lambda name: out / name, params.topics, hold_sample=False)  # as run() reads it
    vocabulary = pd.read_parquet(out / "vocabulary.parquet")
    run_topics(tfidf, params.topics, display=dict(zip(vocabulary["term"], vocabulary["display"])),
               identities_path=out / "topics.json", labels_path=out / "labels.yaml", texts=texts, engine=engine,
               focus_ids=resolve_focus(read_parquet(documents, without=("text",)), params.focus),
               files=[out / name for name in TFIDF_FILES])


def _stages(*records: dict) -> list[str]:
    """The stages every record measured, in order (a record made before a stage was added lacks it)."""
    return [stage for stage in STAGES if all(stage in record["stages"] for record in records)]


def _traffic(maps) -> dict:
    """What a stage's maps moved (the engine's byte counters): tasks, bytes per task, bytes received,
    and the bytes received per mapped function (``received_by_map``, in the order they first ran)."""
    from newslens.engine import Traffic

    maps = list(maps)
    by_map = {label.removeprefix("newslens."): summed.received for label, summed in Traffic(maps).by_label().items()}
    return {"tasks_counted": sum(m.tasks for m in maps),
            "largest_task_bytes": max((m.largest_task for m in maps), default=0),
            "submitted_bytes": sum(m.submitted for m in maps),
            "shared_bytes": sum(m.shared for m in maps),
            "received_bytes": sum(m.received for m in maps),
            "received_by_map": by_map}


def exponent(documents: list[float], seconds: list[float]) -> float | None:
    """The scaling exponent b of seconds ≈ a · documents^b, least squares on the logs (None: < 2 points).

    >>> round(exponent([1_000, 4_000, 16_000], [2.0, 8.0, 32.0]), 3)
    1.0
    """
    import numpy as np

    points = [(d, t) for d, t in zip(documents, seconds) if d and t and t > 0]
    if len(points) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


SCALE_LIMITS = {"task_bytes": 16 * 1024, "received_growth": 3.0, "peak_growth": 1.5, "exponent": 1.05}


def _growth(first: dict, cell: dict, stage: str) -> float | None:
    """The bytes the driver received in ``stage`` at ``cell``'s scale over ``first``'s."""
    base = first["stages"][stage]["received_bytes"]
    return cell["stages"][stage]["received_bytes"] / base if base else None


# The vocabulary a stage's merged counters are the size of: tokenize's, and the TF-IDF's terms.
STAGE_VOCABULARY = {"tokenize": "vocabulary", "tfidf": "tfidf_terms"}


def _vocabulary_growth(first: dict, cell: dict, stage: str) -> float | None:
    """The size of ``stage``'s vocabulary at ``cell``'s scale over ``first``'s (None: a stage whose
    results are not vocabulary-sized, or a record made without it)."""
    key = STAGE_VOCABULARY.get(stage)
    return cell[key] / first[key] if key and first.get(key) and cell.get(key) else None


def scale_targets(results: dict) -> list[dict]:
    """The issue's scale-out targets, per engine, from the cells of every scale run (MET / NOT MET)."""
    rows = []
    for engine in ("pandas", "dask"):
        cells = [results["cells"].get(f"{engine}-{s}") for s in results["scales"]]
        cells = [c for c in cells if c and "largest_task_bytes" in next(iter(c["stages"].values()), {})]
        if not cells:
            continue
        # the issue judges growth from ×1 to ×16 (GROWTH_SCALE); a larger scale run is shown beside it
        first = cells[0]
        judged = next((c for c in cells if c["scale"] == GROWTH_SCALE), cells[-1])
        beyond = cells[-1] if cells[-1]["scale"] > judged["scale"] else None

        for stage in _stages(*cells):
            largest = max(c["stages"][stage]["largest_task_bytes"] for c in cells)
            b = exponent([c["documents"] for c in cells], [c["stages"][stage]["wall_s"] for c in cells])
            row = {"engine": engine, "stage": stage, "largest_task_bytes": largest,
                   "received_growth": _growth(first, judged, stage), "exponent": b,
                   "scales": [first["scale"], judged["scale"]], "vocabulary_growth": _vocabulary_growth(first, judged, stage)}
            if beyond is not None:
                row["beyond"] = {"scale": beyond["scale"], "received_growth": _growth(first, beyond, stage)}
            rows.append(row)
        row = {"engine": engine, "stage": "driver peak", "peak_growth": judged["driver_peak_mib"] / first["driver_peak_mib"],
               "scales": [first["scale"], judged["scale"]]}
        if beyond is not None:
            row["beyond"] = {"scale": beyond["scale"], "peak_growth": beyond["driver_peak_mib"] / first["driver_peak_mib"]}
        rows.append(row)
    for row in rows:
        checks = []
        if "largest_task_bytes" in row:
            checks.append(row["largest_task_bytes"] <= SCALE_LIMITS["task_bytes"])
            checks.append(row["received_growth"] is not None and row["received_growth"] <= SCALE_LIMITS["received_growth"])
            checks.append(row["exponent"] is not None and row["exponent"] <= SCALE_LIMITS["exponent"])
        else:
            checks.append(row["peak_growth"] <= SCALE_LIMITS["peak_growth"])
        row["status"] = "MET" if all(checks) else "NOT MET"
    return rows


def pandas_from_bench(bench_results: dict, scale: int) -> dict | None:
    """The pandas engine's record at ``scale`` from the bench's cells (medians of its runs)."""
    cells = bench_results.get("cells", {})
    picked = {"ingest": "ingest", "tokenize": "tokenize", "tfidf": "tfidf"}
    stages, peaks = {}, []
    for stage, name in picked.items():
        cell = cells.get(name, {}).get(str(scale), {})
        ours = cell.get("ours") or {}
        if ours.get("median") is None:
            return None
        stages[stage] = {"wall_s": round(ours["median"], 2), "n": ours.get("n")}
        peaks.append(cell.get("rss") or {})
    documents = (cells.get("tokenize", {}).get(str(scale), {}).get("info") or {}).get("documents")
    return {"engine": "pandas", "scale": scale, "stages": stages, "documents": documents, "workers": 2,
            "driver_peak_mib": max((p.get("self_peak_mib") or 0) for p in peaks),
            "children_peak_mib": max((p.get("children_peak_mib") or 0) for p in peaks),
            "from": "benchmarks/results.json (same make bench run)"}


def _parts(record: dict) -> dict:
    """Per stage, the measured parallel work (the partition tasks' compute, s) and serial driver work (s).

    The driver's part is the wall time not covered by the tasks spread over the run's workers:
    reading, reductions, writing.
    """
    parts = {}
    for stage, entry in record["stages"].items():
        compute = entry.get("task_compute_s", 0.0)
        parts[stage] = {"parallel_s": compute, "serial_s": max(0.0, entry["wall_s"] - compute / record["workers"])}
    return parts


def _line(x1: float, y1: float, x2: float, y2: float, x: float) -> float:
    """The straight line through (x1, y1) and (x2, y2) at ``x``, never below 0 (a slope below 0 is noise: flat)."""
    if x2 == x1:
        return max(0.0, y2 * x / x2) if x2 else 0.0
    slope = max(0.0, (y2 - y1) / (x2 - x1))
    return max(0.0, y2 + slope * (x - x2))


def estimate(small: dict, large: dict) -> dict:
    """10 million documents on 32 workers, extrapolated from two Dask runs (two scales).

    Per stage, the parallel work (partition tasks' compute) and the serial driver work are each
    a straight line through the two measured (documents, seconds) points, read at 10 million
    documents; the parallel part divides among the workers, the serial part does not.
    """
    rows = {}
    small_parts, large_parts = _parts(small), _parts(large)
    for stage, big in large_parts.items():
        little = small_parts.get(stage, big)
        parallel = _line(small["documents"], little["parallel_s"], large["documents"], big["parallel_s"], TARGET_DOCS)
        serial = _line(small["documents"], little["serial_s"], large["documents"], big["serial_s"], TARGET_DOCS)
        rows[stage] = {"task_compute_s": round(big["parallel_s"], 2), "driver_s": round(big["serial_s"], 2),
                       "parallel_10m_s": round(parallel / TARGET_WORKERS, 1), "serial_10m_s": round(serial, 1),
                       "estimate_s": round(parallel / TARGET_WORKERS + serial, 1)}
    parallel_h = sum(r["parallel_10m_s"] for r in rows.values()) / 3600
    serial_h = sum(r["serial_10m_s"] for r in rows.values()) / 3600
    return {"stages": rows, "parallel_h": round(parallel_h, 2), "serial_h": round(serial_h, 2),
            "total_h": round(parallel_h + serial_h, 2), "workers": TARGET_WORKERS,
            "limit_h": 1.0, "status": "MET" if parallel_h + serial_h <= 1.0 else "NOT MET"}


def markdown(results: dict) -> str:
    cells = results["cells"]
    lines = ["# Engines: pandas and Dask side by side", "",
             f"Command: `{results['command']}`  ", f"Date: {results['date']}  ",
             f"Machine: {results['machine']}; load average at start / end: {results['load']}", "",
             "One run per cell (seconds of wall time; each stage as the notebook calls it). Dask: a "
             "LocalCluster of 2 single-threaded worker processes; pandas: 2 joblib processes. "
             "ratio = dask / pandas (below 1: Dask is faster)."
             + (" The pandas times are the bench's medians from the same `make bench` (its ingest, "
                "tokenize and TF-IDF cells run the pandas engine; ingest there keeps the documents in "
                "memory instead of streaming them to disk)." if results.get("reuse_pandas") else ""), "",
             "| scale | documents | stage | pandas (s) | dask (s) | ratio | dask task compute (s) |",
             "|---|---|---|---|---|---|---|"]
    for scale in results["scales"]:
        p, d = cells.get(f"pandas-{scale}"), cells.get(f"dask-{scale}")
        if not p or not d:
            continue
        shared = _stages(p, d)
        for stage in shared:
            ps, ds = p["stages"][stage]["wall_s"], d["stages"][stage]["wall_s"]
            lines.append(f"| ×{scale} | {d['documents']:,} | {stage} | {ps:.2f} | {ds:.2f} | {ds / ps:.2f}× | "
                         f"{d['stages'][stage].get('task_compute_s', 0):.2f} |")
        pt = sum(p["stages"][s]["wall_s"] for s in shared)
        dt = sum(d["stages"][s]["wall_s"] for s in shared)
        lines.append(f"| ×{scale} | {d['documents']:,} | **all {len(shared)}** | **{pt:.1f}** | **{dt:.1f}** | "
                     f"**{dt / pt:.2f}×** | |")
    lines += ["", "## Peak memory (MiB)", "",
              "| scale | pandas driver | pandas workers (largest) | dask driver | dask workers (each) | dask start-up (s) |",
              "|---|---|---|---|---|---|"]
    for scale in results["scales"]:
        p, d = cells.get(f"pandas-{scale}"), cells.get(f"dask-{scale}")
        if not p or not d:
            continue
        workers = ", ".join(f"{v:,.0f}" for v in d["worker_peak_mib"].values())
        lines.append(f"| ×{scale} | {p['driver_peak_mib']:,.0f} | {p['children_peak_mib']:,.0f} | "
                     f"{d['driver_peak_mib']:,.0f} | {workers} | {d['startup_s']:.1f} |")
    lines += _scale_markdown(results)
    if "estimate" in results:
        e = results["estimate"]
        lines += ["", f"## 10 million documents on {TARGET_WORKERS} workers (estimate): **{e['status']}** "
                  f"(≤ {e['limit_h']:g} h)", "",
                  f"From the Dask runs at ×{e['scales'][0]} and ×{e['scales'][1]} ({e['documents'][0]:,} and "
                  f"{e['documents'][1]:,} documents, 2 workers). Per stage, two parts, each a straight line "
                  "through the two measured points read at 10 million documents: the *parallel* part (the "
                  f"partition tasks' compute time) divided among {TARGET_WORKERS} workers, and the *serial* "
                  "driver part (wall − compute ÷ 2: reading, reductions, writing), not divided."
                  + _straddles_note(e["documents"]), "",
                  f"| stage | task compute at ×{e['scales'][1]} (s) | driver at ×{e['scales'][1]} (s) | "
                  "parallel at 10M (s) | serial at 10M (s) | estimate (s) |", "|---|---|---|---|---|---|"]
        for stage, row in e["stages"].items():
            lines.append(f"| {stage} | {row['task_compute_s']:.1f} | {row['driver_s']:.1f} | "
                         f"{row['parallel_10m_s']:,.0f} | {row['serial_10m_s']:,.0f} | {row['estimate_s']:,.0f} |")
        lines.append(f"| **total** | | | **{e['parallel_h']} h** | **{e['serial_h']} h** | **{e['total_h']} h** |")
    return "\n".join(lines) + "\n"


def _straddles_note(documents: list[int]) -> str:
    """What the estimate's topics row means when its two scales lie either side of the topics
    sample cap: the smaller fits every document, the larger the capped sample."""
    from newslens.analysis.topic_sample import SWEEP_SAMPLE

    if not documents[0] <= SWEEP_SAMPLE < documents[1]:
        return ""
    return (f" The topics row's two points lie either side of the topics sample cap ({SWEEP_SAMPLE:,} "
            f"documents): at {documents[0]:,} documents the stage fits every document, at {documents[1]:,} "
            "the capped sample, whose cost no longer grows with the corpus, so a straight line through "
            "them overstates the stage's growth; two scales above the cap (`--scales 1 4 16 64`) measure it.")


def _scale_markdown(results: dict) -> list[str]:
    """The byte counters at each scale and the scale-out targets (``scale_targets``)."""
    cells = [(key, c) for key, c in results["cells"].items()
             if c and "largest_task_bytes" in next(iter(c["stages"].values()), {})]
    if not cells:
        return []
    lines = ["", "## What moves between the driver and the work, at each scale", "",
             "The engines' byte counters (`NEWSLENS_COUNT_BYTES`): the pickled bytes of each task's partition "
             "(*largest task*), of everything the driver received back (*received*), and the driver's peak "
             "memory after the stage (`VmHWM`, so it never falls).", "",
             "| engine | scale | documents | stage | wall (s) | tasks | largest task (KB) | received (MB) | "
             "driver peak (MiB) |", "|---|---|---|---|---|---|---|---|---|"]
    for _, c in cells:
        for stage in _stages(c):
            e = c["stages"][stage]
            lines.append(f"| {c['engine']} | ×{c['scale']} | {c['documents']:,} | {stage} | {e['wall_s']:.2f} | "
                         f"{e['tasks_counted']:,} | {e['largest_task_bytes'] / 1024:,.1f} | "
                         f"{e['received_bytes'] / 1e6:,.1f} | {e['driver_peak_mib']:,.0f} |")
    rows = scale_targets(results)
    lines += ["", "## Scale-out targets", "",
              f"Each task at most {SCALE_LIMITS['task_bytes'] // 1024} KB (references, not data); the bytes the "
              f"driver receives grow at most {SCALE_LIMITS['received_growth']:g}× from ×1 to ×{GROWTH_SCALE} (the "
              f"issue's scales; larger ones are in the tables above, not judged); the driver's peak at ×{GROWTH_SCALE} "
              f"at most {SCALE_LIMITS['peak_growth']:g}× its ×1 value; "
              f"wall time ≈ a·N^b with b at most {SCALE_LIMITS['exponent']:g}, fitted over every scale run.", "",
              "The *vocabulary growth* beside it is not a target: it is how much the vocabulary that the "
              "counters merged on the driver are the size of grew between the same two scales (tokenize: "
              "the corpus's vocabulary; tfidf: the TF-IDF's terms, within keywords.min_df and max_df)."
              + (" A received growth shown as – had nothing to grow from: at ×1 the stage's one partition ran in "
                 "the driver's process, and the driver received nothing." if any(
                     "received_growth" in row and row["received_growth"] is None for row in rows) else ""), "",
              "| engine | stage | scales | largest task (KB) | received growth | vocabulary growth | exponent b | "
              "driver peak growth | status |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        task_kb = None if row.get("largest_task_bytes") is None else row["largest_task_bytes"] / 1024
        shown = [_shown(task_kb, "{:,.1f}"), _shown(row.get("received_growth"), "{:.2f}×"),
                 _shown(row.get("vocabulary_growth"), "{:.2f}×"),
                 _shown(row.get("exponent"), "{:.2f}"), _shown(row.get("peak_growth"), "{:.2f}×")]
        lines.append(f"| {row['engine']} | {row['stage']} | ×{row['scales'][0]}–×{row['scales'][1]} | "
                     + " | ".join(shown) + f" | **{row['status']}** |")
    return lines + _by_map_markdown(results)


# What each mapped function returns to the driver: what its size follows, and what it is.
MAP_RETURNS = {
    "corpus.partitions.prepare_to_scratch": (
        "documents", "each document's metadata (id, group, date, title, lengths, language), the log's "
                     "entries, fingerprints and near-duplicate band keys, folded in order on the driver"),
    "corpus.ingest.write_part": ("partitions", "the rows each documents part holds"),
    "text.passes.surface_part": ("vocabulary", "surface-form counts, sentence-initial forms, scripts, markers"),
    "text.passes.scored_candidates": ("phrases", "the candidates that score as phrases, with their counts"),
    "text.passes.normalize_part": ("vocabulary", "token counts, document frequencies, the phrases' written forms, "
                                                 "the formulas' edge counts"),
    "text.passes.evidence_part": ("units", "the formula detectors' counts per comparison unit"),
    "text.token_tables.token_part": ("vocabulary", "each type's first occurrence (the Heaps curve), documents "
                                                   "by their number of kept tokens"),
    "analysis.tfidf_parts._census_part": ("documents, vocabulary", "every document's id; document frequencies"),
    "analysis.tfidf_parts._weigh_part": ("terms, documents", "term sums, label × term counts, the most similar "
                                                             "documents; each document's token count"),
    "analysis.topics._sweep_task": ("k × terms", "each sweep fit's coherence and top terms"),
    "analysis.topics.final_fit": ("k × terms", "the fitted model"),
    "analysis.topic_pass.pass_block": ("documents", "every document's topic weights (documents × k) and "
                                                    "summed statistics"),
}


def _by_map_markdown(results: dict) -> list[str]:
    """What the driver receives from each mapped function, at every scale run (one engine: the
    counters are the same bytes on both), beside the sizes those results follow."""
    cells = results["cells"]
    engine = "dask" if any(k.startswith("dask-") and v for k, v in cells.items()) else "pandas"
    runs = [cells[f"{engine}-{s}"] for s in results["scales"] if cells.get(f"{engine}-{s}")]
    runs = [c for c in runs if all("received_by_map" in c["stages"][stage] for stage in _stages(c))]
    if len(runs) < 2:
        return []
    first = runs[0]
    growth_run = next((c for c in runs if c["scale"] == GROWTH_SCALE), runs[-1])
    sizes = [(name, key) for name, key in (("documents", "documents"), ("vocabulary", "vocabulary"),
                                           ("phrases", "phrases"), ("TF-IDF terms", "tfidf_terms"))
             if first.get(key) and growth_run.get(key)]
    grew = ", ".join(f"{name} {growth_run[key] / first[key]:.2f}× ({first[key]:,} → {growth_run[key]:,})"
                     for name, key in sizes)
    scales = " | ".join(f"×{c['scale']} (MB)" for c in runs)
    lines = ["", "## What the driver receives, function by function", "",
             f"The *received* bytes of the table above split by the function each task ran ({engine} engine; "
             "the pandas engine counts the same bytes). *Size follows*: what the result's size is "
             "proportional to. From "
             f"×{first['scale']} to ×{growth_run['scale']}: {grew}.", "",
             f"| stage | function | returns | size follows | {scales} | ×{first['scale']}–×{growth_run['scale']} |",
             "|---|---|---|---|" + "---|" * len(runs) + "---|"]
    for stage in _stages(*runs):
        names = list(dict.fromkeys(name for c in runs for name in c["stages"][stage]["received_by_map"]))
        for name in names:
            got = [c["stages"][stage]["received_by_map"].get(name, 0) for c in runs]
            base = first["stages"][stage]["received_by_map"].get(name, 0)
            top = growth_run["stages"][stage]["received_by_map"].get(name, 0)
            follows, returns = MAP_RETURNS.get(name, ("–", "–"))
            lines.append(f"| {stage} | `{name.rsplit('.', 1)[-1]}` | {returns} | {follows} | "
                         + " | ".join(f"{b / 1e6:,.2f}" for b in got)
                         + f" | {_shown(top / base if base else None, '{:.2f}×')} |")
    return lines


def _shown(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--reuse-pandas", type=Path, metavar="RESULTS_JSON",
                        help="take the pandas engine's times from the bench's results.json of the same "
                             "`make bench` (its ingest, tokenize and TF-IDF cells are the pandas engine) "
                             "instead of running them again")
    parser.add_argument("--add-to", type=Path, metavar="RESULTS_JSON",
                        help="add the estimate and the scale-out targets to this bench run's RESULTS.md")
    parser.add_argument("--cell", nargs=2, metavar=("ENGINE", "SCALE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        print("RESULT " + json.dumps(cell(args.cell[0], int(args.cell[1]), args.work)), flush=True)
        return 0
    from benchmarks import markdown as bench_markdown, workloads

    missing = [s for s in args.scales if not (workloads.scale_dir(args.work, s) / "news.csv").exists()]
    if missing:
        workloads.prepare_inputs(args.work, missing)
    results = {"command": "python benchmarks/engines.py " + " ".join(argv or sys.argv[1:]),
               "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
               "scales": args.scales, "cells": {}, "reuse_pandas": bool(args.reuse_pandas)}
    load_start = os.getloadavg()[0]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0"}
    reused = json.loads(args.reuse_pandas.read_text()) if args.reuse_pandas else None
    for scale in args.scales:
        if reused is not None:
            record = pandas_from_bench(reused, scale)
            if record is not None:
                results["cells"][f"pandas-{scale}"] = record
        for engine in ("pandas", "dask"):
            if f"{engine}-{scale}" in results["cells"]:
                continue
            print(f"engines: {engine} ×{scale} ...", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, __file__, "--work", str(args.work), "--cell", engine, str(scale)],
                                  capture_output=True, text=True, env=env, cwd=ROOT)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode or not lines:
                print(done.stderr[-3000:], file=sys.stderr)
                results["cells"][f"{engine}-{scale}"] = None
                continue
            record = json.loads(lines[-1][7:])
            results["cells"][f"{engine}-{scale}"] = record
            print(f"  {record['stages']}", file=sys.stderr, flush=True)
            (HERE / "engines.json").write_text(json.dumps(results, indent=1) + "\n")  # each cell kept as it ends
    results["load"] = f"{load_start:.2f} / {os.getloadavg()[0]:.2f}"
    measured = [s for s in args.scales if results["cells"].get(f"dask-{s}")]
    if len(measured) >= 2:
        small, large = (results["cells"][f"dask-{s}"] for s in measured[-2:])
        results["estimate"] = {"scales": measured[-2:], "documents": [small["documents"], large["documents"]],
                               **estimate(small, large)}
    (HERE / "engines.json").write_text(json.dumps(results, indent=1) + "\n")
    (HERE / "ENGINES.md").write_text(markdown(results))
    results["scale_out"] = scale_targets(results)
    (HERE / "engines.json").write_text(json.dumps(results, indent=1) + "\n")
    into = args.reuse_pandas or args.add_to
    if into and into.exists() and "estimate" in results:  # the targets' rows in RESULTS.md
        bench_markdown.add_engines_estimate(into, results["estimate"], results["scale_out"])
    print((HERE / "ENGINES.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
