#!/usr/bin/env python
"""Stress the ingest stage with large and odd inputs; every case runs in its own process.

Usage (from the project root; ``make stress`` runs the first line)::

    .venv/bin/python benchmarks/stress.py                 # every case, full size (~10-20 min)
    .venv/bin/python benchmarks/stress.py --scale 0.05    # a quick smoke run at 5% of the sizes
    .venv/bin/python benchmarks/stress.py --only csv-odd binary
    .venv/bin/python benchmarks/stress.py --keep          # keep the generated inputs (printed path)

Cases (generated into a temporary folder, never into the project):

* ``big-txt``: one 100 MB ``.txt`` file of real news sentences in paragraphs;
* ``csv-500k``: a 500,000-row CSV (id, title, outlet, date, text; two real sentences per row);
* ``csv-odd``: 20,000 rows whose fields hold embedded newlines (LF and CRLF), doubled quotes,
  commas, tabs, "NULL"/"NaN"/"None" strings, emoji and right-to-left text, empty texts, and one
  5 MB field;
* ``binary``: random bytes named ``.txt`` and ``.csv`` in a folder and as a table source, NUL-free
  random bytes (the encoding detector's worst case), and a file of NULs;
* ``files-2k`` and ``files-20k``: folders of 2,000 and 20,000 tiny ``.txt`` files.

Each case runs ``python benchmarks/stress.py --worker CASE`` with ``NEWSLENS_ROOT`` at the
temporary folder. The worker validates the params with ``newslens.params.validate_params``,
streams every source once with ``newslens.corpus.sources.read_source`` (reader pass), then runs the
stage itself, ``newslens.corpus.ingest.ingest(params, out)`` streaming documents.parquet to disk, in one process. It reports wall times,
its peak RSS after the reader pass and at the end (``VmHWM``), the open file descriptors before,
during (sampled every 5 ms) and after, and checks that every input row or file is in the log
exactly once. The parent also records each worker's peak RSS from ``os.wait4``.

Writes ``benchmarks/STRESS.md`` and prints the same table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

for _key, _value in {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "PYTHONHASHSEED": "0"}.items():
    os.environ.setdefault(_key, _value)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NEWS_CSV = ROOT / "data" / "raw" / "news-articles" / "NewsArticles.csv"
SEED_DIR = ROOT / "data" / "raw" / "seed"
REPORT = HERE / "STRESS.md"
RSS_LIMIT_KB = 3 * 1024 * 1024  # flagged above ~3 GB
CASE_TIMEOUT_S = 45 * 60
CASES = ("big-txt", "csv-500k", "csv-odd", "binary", "files-2k", "files-20k")
OUTLETS = ("http://www.aljazeera.com/news/", "http://www.bbc.com/news/", "http://edition.cnn.com/",
           "http://www.dw.com/en/", "http://www.huffingtonpost.com/", "http://www.rte.ie/news/",
           "http://tass.com/", "http://www.chinadaily.com.cn/", "http://www.reuters.com/")


# --------------------------------------------------------------------------- inputs


def sentence_pool() -> list[str]:
    """Real sentences: the news corpus when fetched, else the seed article."""
    texts: list[str] = []
    if NEWS_CSV.exists():
        import pandas as pd

        texts = pd.read_csv(NEWS_CSV, usecols=["text"], dtype=str, keep_default_na=False)["text"].tolist()
    texts += [p.read_text(encoding="utf-8") for p in sorted(SEED_DIR.glob("*.txt"))]
    pool = []
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            if 40 <= len(sentence) <= 400:
                pool.append(sentence)
    return sorted(set(pool))


def write_big_txt(path: Path, pool: list[str], size: int, rng) -> None:
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        while written < size:
            paragraph = " ".join(pool[i] for i in rng.integers(0, len(pool), 6)) + "\n\n"
            handle.write(paragraph)
            written += len(paragraph.encode("utf-8"))


def write_csv_rows(path: Path, pool: list[str], rows: int, rng) -> None:
    start = _dt.date(2016, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "outlet", "date", "text"])
        for i in range(rows):
            a, b = rng.integers(0, len(pool), 2)
            writer.writerow([f"a{i:07d}", " ".join(pool[a].split()[:8]), OUTLETS[i % len(OUTLETS)],
                             (start + _dt.timedelta(days=int(i % 700))).isoformat(), f"{pool[a]} {pool[b]}"])


def write_odd_csv(path: Path, pool: list[str], rows: int, rng) -> None:
    oddities = [
        lambda s: f'{s}\nA second line, "quoted", with commas, and a tab\there.',
        lambda s: f"{s}\r\nWindows line end.\r\n\r\nAnd a blank line before this one.",
        lambda s: f'"{s}" said the "spokesman" ""twice""',
        lambda s: f"  {s}  \t ",
        lambda s: "NULL", lambda s: "NaN", lambda s: "None",
        lambda s: f"{s} 🎉🇧🇾 مرحبا بالعالم \u202eevil\u202c",
        lambda s: "",
        lambda s: "   ",
        lambda s: f"{s},{s};{s}|{s}",
        lambda s: s.replace(" ", "\n"),
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["id", "title", "text"])
        for i in range(rows):
            sentence = pool[int(rng.integers(0, len(pool)))]
            title = f'Title "{i}"\nsecond line' if i % 7 == 0 else f"Title {i}"
            writer.writerow([f"o{i}", title, oddities[i % len(oddities)](sentence)])
        writer.writerow([f"o{rows}", "One huge field", " ".join(pool[:2000]) * max(1, 5_000_000 // len(" ".join(pool[:2000])))])


def write_binary(folder: Path, table: Path, size: int, rng) -> None:
    folder.mkdir(parents=True)
    (folder / "random.txt").write_bytes(rng.bytes(size))
    (folder / "random.csv").write_bytes(rng.bytes(size))
    table.write_bytes(rng.bytes(size))
    nonul = rng.integers(1, 256, size=size // 2, dtype="uint8").tobytes()
    (folder / "no-nul-random.txt").write_bytes(nonul)
    (folder / "zeros.md").write_bytes(bytes(size))


def write_many_files(folder: Path, pool: list[str], count: int) -> None:
    for i in range(count):
        sub = folder / f"d{i // 1000:02d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        (sub / f"f{i:05d}.txt").write_text(pool[(i * 7919) % len(pool)] + "\n", encoding="utf-8")


def count_csv_records(path: Path) -> int:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def build_inputs(work: Path, scale: float, only: list[str]) -> dict[str, dict]:
    """Generate every case's input and params; return {case: spec}."""
    import numpy as np

    rng = np.random.default_rng(0)
    pool = sentence_pool()
    specs: dict[str, dict] = {}
    data = work / "data" / "raw"
    data.mkdir(parents=True, exist_ok=True)

    def want(case: str) -> bool:
        return case in only

    if want("big-txt"):
        path = data / "big.txt"
        write_big_txt(path, pool, int(100 * 1024 * 1024 * scale), rng)
        specs["big-txt"] = {"sources": [{"path": str(path)}], "expected": 1, "unit": "document",
                            "input": f"1 file, {path.stat().st_size / 1e6:,.0f} MB"}
    if want("csv-500k"):
        path = data / "rows.csv"
        rows = int(500_000 * scale)
        write_csv_rows(path, pool, rows, rng)
        specs["csv-500k"] = {"sources": [{"path": str(path), "text_column": "text", "id_column": "id",
                                          "title_column": "title", "group_column": "outlet",
                                          "date_column": "date"}],
                             "expected": rows, "input": f"{rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB"}
    if want("csv-odd"):
        path = data / "odd.csv"
        write_odd_csv(path, pool, int(20_000 * scale), rng)
        records = count_csv_records(path)
        specs["csv-odd"] = {"sources": [{"path": str(path), "text_column": "text", "id_column": "id",
                                         "title_column": "title"}],
                            "expected": records,
                            "input": f"{records:,} records (csv module), {path.stat().st_size / 1e6:,.1f} MB"}
    if want("binary"):
        folder, table = data / "binary", data / "binary-table.csv"
        write_binary(folder, table, max(4096, int(10 * 1024 * 1024 * scale)), rng)
        size = sum(p.stat().st_size for p in folder.iterdir()) + table.stat().st_size
        specs["binary"] = {"sources": [{"path": str(folder)}, {"path": str(table), "text_column": "text"}],
                           "expected": 5, "input": f"5 binary files (4 in a folder, 1 as a table), {size / 1e6:,.0f} MB"}
    for case, count in (("files-2k", 2_000), ("files-20k", 20_000)):
        if want(case):
            folder = data / case
            n = max(10, int(count * scale))
            write_many_files(folder, pool, n)
            specs[case] = {"sources": [{"path": str(folder)}], "expected": n, "input": f"{n:,} files of one sentence"}
    return specs


# --------------------------------------------------------------------------- worker (one case, own process)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def worker(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    import logging

    logging.disable(logging.WARNING)  # unparseable dates etc. would flood stderr
    from newslens.corpus import ingest, sources
    from newslens.engine import Engine
    from newslens.params import validate_params

    params = validate_params({"title": spec["case"], "sources": spec["sources"],
                              "unit": spec.get("unit", "document")}, origin=spec["case"])
    result: dict = {"fds_before": _fds()}
    peak = {"fds": result["fds_before"]}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                peak["fds"] = max(peak["fds"], _fds())
            except OSError:
                pass
            stop.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    items = skipped = 0
    for source in params.sources:
        for item in sources.read_source(source):
            items += 1
            skipped += isinstance(item, sources.Skipped)
    result["read_s"] = time.perf_counter() - started
    result["read_peak_kb"] = _status_kb("VmHWM")
    result["read_items"], result["read_skipped"] = items, skipped
    result["fds_after_read"] = _fds()

    started = time.perf_counter()
    out = Path(spec["out"])
    # The stage as the notebook runs it (streaming documents.parquet into out), in this one
    # process (Engine(1)), so that the peak RSS below covers all of its work.
    stage = ingest.ingest(params, out, engine=Engine(1))
    result["ingest_s"] = time.perf_counter() - started
    result["write_s"] = 0.0  # written while ingesting
    stop.set()
    sampler.join()
    result["peak_kb"] = _status_kb("VmHWM")
    result["fds_peak"], result["fds_after"] = peak["fds"], _fds()

    log = stage.log
    result["log_rows"] = len(log)
    result["log_unique"] = bool(log["location"].is_unique)
    result["statuses"] = {k: int(v) for k, v in log["status"].value_counts().sort_index().items()}
    result["documents"] = len(stage.documents)  # read back from documents.parquet, without the text
    result["ingested_match"] = set(log.loc[log["status"] == "ingested", "doc_id"]) == set(stage.documents["parent_id"])
    result["reasons"] = {k: int(v) for k, v in
                         log.loc[log["status"] == "skipped", "reason"].str.slice(0, 60).value_counts().head(6).items()}
    result["outputs_mb"] = round(sum(p.stat().st_size for p in out.iterdir()) / 1e6, 1)
    print("STRESS_RESULT " + json.dumps(result), flush=True)


# --------------------------------------------------------------------------- parent


def run_case(case: str, spec: dict, work: Path) -> dict:
    spec = {**spec, "case": case, "out": str(work / "data" / "processed" / case)}
    spec_path = work / f"{case}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "NEWSLENS_ROOT": str(work)}
    stdout_path, stderr_path = work / f"{case}.out", work / f"{case}.err"
    started = time.perf_counter()
    with stdout_path.open("w") as out, stderr_path.open("w") as err:
        process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path)],
                                   stdout=out, stderr=err, env=env, cwd=work, start_new_session=True)
        timer = threading.Timer(CASE_TIMEOUT_S, lambda: os.killpg(process.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    record = {"case": case, "input": spec["input"], "expected": spec["expected"], "wall_s": wall,
              "child_maxrss_kb": usage.ru_maxrss, "returncode": process.returncode}
    lines = [line for line in stdout_path.read_text().splitlines() if line.startswith("STRESS_RESULT ")]
    if process.returncode != 0 or not lines:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-5:]
        record["error"] = ("killed after timeout" if process.returncode == -signal.SIGKILL
                           else f"exit {process.returncode}: " + " | ".join(tail))
        return record
    record.update(json.loads(lines[-1].split(" ", 1)[1]))
    return record


def verdict(record: dict) -> list[str]:
    problems = []
    if "error" in record:
        return [record["error"]]
    if record["log_rows"] != record["expected"]:
        problems.append(f"log has {record['log_rows']:,} rows, expected {record['expected']:,}")
    if not record["log_unique"]:
        problems.append("an input appears twice in the log")
    if not record["ingested_match"]:
        problems.append("ingested log rows and documents disagree")
    if record["read_items"] != record["log_rows"]:
        problems.append(f"reader yielded {record['read_items']:,} items, log has {record['log_rows']:,}")
    if record["fds_peak"] - record["fds_before"] > 8 or record["fds_after"] > record["fds_before"] + 2:
        problems.append(f"file descriptors grew: {record['fds_before']} → peak {record['fds_peak']}, "
                        f"after {record['fds_after']}")
    if max(record["peak_kb"], record["child_maxrss_kb"]) > RSS_LIMIT_KB:
        problems.append(f"peak RSS {max(record['peak_kb'], record['child_maxrss_kb']) / 1024**2:.1f} GB "
                        "is over ~3 GB")
    return problems


def _gb(kb: int) -> str:
    return f"{kb / 1024**2:.2f} GB" if kb >= 1024**2 else f"{kb / 1024:,.0f} MB"


def markdown(records: list[dict], args, started: str, load: tuple) -> str:
    head = ("| case | input | log rows (expected) | documents | outcomes | read pass | read peak RSS | "
            "ingest (streamed to disk) | peak RSS | fds before / peak / after | verdict |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for r in records:
        problems = verdict(r)
        if "error" in r:
            rows.append(f"| {r['case']} | {r['input']} | – | – | – | – | – | {r['wall_s']:,.1f} s wall | "
                        f"{_gb(r['child_maxrss_kb'])} | – | **FAILED**: {problems[0]} |")
            continue
        outcomes = ", ".join(f"{n:,} {s}" for s, n in r["statuses"].items())
        rows.append(
            f"| {r['case']} | {r['input']} | {r['log_rows']:,} ({r['expected']:,}) | {r['documents']:,} | {outcomes} | "
            f"{r['read_s']:,.1f} s | {_gb(r['read_peak_kb'])} | {r['ingest_s']:,.1f} s | "
            f"{_gb(max(r['peak_kb'], r['child_maxrss_kb']))} | {r['fds_before']} / {r['fds_peak']} / {r['fds_after']} | "
            + ("ok" if not problems else "**" + "; ".join(problems) + "**") + " |")
    reasons = "\n".join(f"- **{r['case']}** skips: " + ", ".join(f"{n:,} × {k!r}" for k, n in r["reasons"].items())
                        for r in records if r.get("reasons"))
    return (f"# Stress: large and odd inputs through the ingest stage\n\n"
            f"Generated by `{' '.join(['.venv/bin/python', 'benchmarks/stress.py', *args])}` on {started} "
            f"({platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
            f"load average {load[0]:.2f} at the start, {load[1]:.2f} at the end).\n\n"
            "Each case runs in its own process: a reader pass (`newslens.corpus.sources.read_source` over every "
            "source), then the stage (`newslens.corpus.ingest.ingest(params, out)`, which streams documents.parquet to disk; in one process, `Engine(1)`, so the peak covers all its work). *read peak RSS* is "
            "the process's high-water mark after the reader pass; *peak RSS* is the high-water mark of the "
            "whole process (the larger of `VmHWM` and `os.wait4`'s `ru_maxrss`). File descriptors are "
            "counted in `/proc/self/fd` before, during (sampled every 5 ms) and after. The verdict checks "
            "that the log lists every input row or file exactly once, that descriptors do not grow with "
            "the number of files, and flags a peak RSS over ~3 GB.\n\n"
            + head + "\n".join(rows) + "\n\n" + (reasons + "\n" if reasons else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help="size factor for every case (default 1)")
    parser.add_argument("--only", nargs="+", choices=CASES, default=list(CASES), help="run only these cases")
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs")
    parser.add_argument("--output", type=Path, default=REPORT, help="where to write the markdown table")
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0

    started = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    load_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="newslens-stress-"))
    print(f"generating inputs in {work} ...", flush=True)
    records = []
    try:
        specs = build_inputs(work, args.scale, args.only)
        for case in args.only:
            print(f"running {case}: {specs[case]['input']} ...", flush=True)
            record = run_case(case, specs[case], work)
            records.append(record)
            problems = verdict(record)
            print(f"  {record['wall_s']:,.1f} s, peak RSS "
                  f"{_gb(max(record.get('peak_kb', 0), record['child_maxrss_kb']))}: "
                  f"{'ok' if not problems else '; '.join(problems)}", flush=True)
            shutil.rmtree(work / "data" / "processed" / case, ignore_errors=True)
    finally:
        if args.keep:
            print(f"inputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    shown_args = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--keep"]
    text = markdown(records, shown_args, started, (load_start, os.getloadavg()[0]))
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)
    # Lost or doubled inputs, leaked descriptors and crashes fail `make stress`; a high peak RSS is reported.
    return 1 if any(not p.startswith("peak RSS") for r in records for p in verdict(r)) else 0


if __name__ == "__main__":
    sys.exit(main())
