#!/usr/bin/env python
"""Topics of short posts: BTM against NMF, measured the same way.

Usage (from the project root)::

    .venv/bin/python benchmarks/short_texts.py PATH/TO/healthtweets.csv
    .venv/bin/python benchmarks/short_texts.py PATH.csv --ks 10 20 --seeds 0 1 2 --pt 300

``PATH`` is a table with a ``text`` column (``--text-column``). The posts go through the
project's own tokenizer (default ``tokenize`` settings) and TF-IDF (default ``keywords``
settings: min_df 2, max_df 0.5), so both models see one vocabulary. At each k and seed:

* **NMF** as the topics stage fits it (:func:`newslens.analysis.topics.fit_model`, TF-IDF), and
* **BTM** as the topics stage fits it for short texts (the counts of the same terms),

each on the whole corpus, timed, and scored by the project's coherence
(:func:`newslens.analysis.topics.mean_coherence`: NPMI of the top 5, 10, 15, 20 terms over document
co-occurrence of that vocabulary). Medians over seeds are reported. Then:

* **determinism**: BTM at the first k and seed fitted twice, and once in a fresh process
  with numpy's SIMD dispatch held to its baseline and OpenBLAS on generic kernels (the
  portable environment of ``benchmarks/cpu_paths.py``), on the first 5,000 posts: the
  sha256 of the topic-term matrix must agree;
* ``--pt SECONDS``: tomotopy's PTModel (pseudo-document topic model, ``TOMOTOPY_ISA=sse2``,
  one worker, 200 iterations) at the first k, seed 0, in a process stopped after SECONDS.

Prints a Markdown report; ``--write`` also writes ``benchmarks/SHORT_TEXTS.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
os.environ.update(THREADS)

import numpy as np  # noqa: E402 - after the thread variables and sys.path, which must come first
import pandas as pd  # noqa: E402 - after the thread variables and sys.path, which must come first


def corpus(path: str, text_column: str):
    """The posts tokenized and weighted as stages 02 and 03 do: (tfidf, seconds, tokenize stats)."""
    from newslens.analysis.tfidf import fit_tfidf
    from newslens.params import KeywordsParams, TokenizeParams
    from newslens.text.tokenization import tokenize_documents

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    documents = pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(table))], "text": table[text_column]})
    start = time.perf_counter()
    tokens = tokenize_documents(documents, TokenizeParams(), "en", n_jobs=1)
    by_doc: dict[str, list[str]] = {}
    for doc_id, sentence in zip(tokens.tokens["doc_id"], tokens.tokens["tokens"]):
        by_doc.setdefault(doc_id, []).extend(sentence)
    tfidf = fit_tfidf(list(by_doc), by_doc.__getitem__, KeywordsParams())
    return tfidf, time.perf_counter() - start, tokens.stats


def score(model: str, tfidf, k: int, seed: int) -> dict:
    from newslens.analysis.topics import fit_model, mean_coherence

    binary = (tfidf.counts > 0).astype(np.int32).tocsc()
    start = time.perf_counter()
    _, components = fit_model(model, tfidf.matrix if model == "nmf" else tfidf.counts, k, seed)
    seconds = time.perf_counter() - start
    return {"model": model, "k": k, "seed": seed, "seconds": round(seconds, 1),
            "npmi": round(mean_coherence(components, binary), 4)}


def btm_digest(path: str, text_column: str, k: int, seed: int, n: int) -> str:
    """sha256 of BTM's topic-term matrix on the first ``n`` posts (run in this process)."""
    from newslens.analysis.short_texts import fit_btm

    tfidf, _, _ = corpus_head(path, text_column, n)
    _, components = fit_btm(tfidf.counts, k, seed)
    return hashlib.sha256(np.ascontiguousarray(components).tobytes()).hexdigest()


def corpus_head(path: str, text_column: str, n: int):
    head = Path(tempfile.gettempdir()) / f"short-texts-head-{os.getpid()}.csv"
    pd.read_csv(path, dtype=str, keep_default_na=False).head(n).to_csv(head, index=False)
    try:
        return corpus(str(head), text_column)
    finally:
        head.unlink()


def digest_in_process(args, env: dict[str, str]) -> str:
    """btm_digest in a fresh interpreter with ``env`` added."""
    code = ("import sys; sys.argv[0] = ''; import runpy; "
            f"m = runpy.run_path({str(Path(__file__))!r}, run_name='digest'); "
            f"print(m['btm_digest']({args.path!r}, {args.text_column!r}, {args.ks[0]}, {args.seeds[0]}, 5000))")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **THREADS, **env},
                          capture_output=True, text=True, timeout=900, check=True)
    return done.stdout.strip().splitlines()[-1]


def portable_env() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cpu_paths

    return cpu_paths.portable_env()


_PT = """
import os, sys, time
os.environ["TOMOTOPY_ISA"] = "sse2"
import numpy as np, tomotopy as tp
sys.path.insert(0, {src!r})
import runpy
m = runpy.run_path({script!r}, run_name="pt")
tfidf, _, _ = m["corpus"]({path!r}, {column!r})
from newslens.analysis.topics import mean_coherence
start = time.perf_counter()
model = tp.PTModel(k={k}, p=1000, seed=0)
terms = set(tfidf.terms); index = {{t: i for i, t in enumerate(tfidf.terms)}}
counts = tfidf.counts
for row in range(counts.shape[0]):
    cols = counts.indices[counts.indptr[row]:counts.indptr[row + 1]]
    reps = counts.data[counts.indptr[row]:counts.indptr[row + 1]]
    words = [tfidf.terms[c] for c, r in zip(cols, reps) for _ in range(r)]
    if words:
        model.add_doc(words)
model.train(200, workers=1)
components = np.zeros(({k}, len(tfidf.terms)))
for z in range({k}):
    for i, w in enumerate(model.used_vocabs):
        components[z, index[w]] = model.get_topic_word_dist(z)[i]
binary = (counts > 0).astype(np.int32).tocsc()
print(round(time.perf_counter() - start, 1), round(mean_coherence(components, binary), 4))
"""


def pt_run(args) -> str:
    code = _PT.format(src=str(ROOT / "src"), script=str(Path(__file__)), path=args.path,
                      column=args.text_column, k=args.ks[0])
    try:
        done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **THREADS},
                              capture_output=True, text=True, timeout=args.pt, check=True)
    except subprocess.TimeoutExpired:
        return f"did not finish within {args.pt} s"
    seconds, npmi = done.stdout.split()[-2:]
    return f"{seconds} s, NPMI {npmi}"


def report(args, tfidf, tokenize_seconds, stats, rows, determinism, pt) -> str:
    table = pd.DataFrame(rows)
    medians = table.groupby(["k", "model"]).agg(npmi=("npmi", "median"), seconds=("seconds", "median"))
    lines = ["# Topics of short posts: BTM against NMF", "",
             f"`.venv/bin/python benchmarks/short_texts.py {Path(args.path).name} --ks "
             f"{' '.join(map(str, args.ks))} --seeds {' '.join(map(str, args.seeds))}"
             f"{f' --pt {args.pt}' if args.pt else ''}` "
             f"({platform.machine()}, {os.cpu_count()} cores shared, Python {platform.python_version()}, "
             "BLAS single-threaded).", "",
             f"{tfidf.matrix.shape[0]:,} posts, {tfidf.matrix.shape[1]:,} terms after min_df 2 / max_df 0.5; "
             f"median {stats['median_tokens_per_document']:g} kept tokens per post; tokenized and weighted "
             f"in {tokenize_seconds:.0f} s. Markers of the medium: "
             + ", ".join(f"{count:,} {name}s" for name, count in stats["markers"].items()) + ".", "",
             "| k | model | median NPMI | median seconds per fit | NPMI per seed |", "| --- | --- | --- | --- | --- |"]
    for (k, model), row in medians.iterrows():
        seeds = table[(table["k"] == k) & (table["model"] == model)]["npmi"].tolist()
        lines.append(f"| {k} | {model.upper()} | {row['npmi']:.4f} | {row['seconds']:.1f} | "
                     f"{', '.join(f'{s:.4f}' for s in seeds)} |")
    lines += ["", "Determinism (BTM, k = {k}, seed {seed}, first 5,000 posts, sha256 of p(term | topic)):".format(
        k=args.ks[0], seed=args.seeds[0]), ""]
    lines += [f"- {name}: `{digest[:16]}…`" for name, digest in determinism.items()]
    lines.append(f"- all identical: {'yes' if len(set(determinism.values())) == 1 else 'NO'}")
    if pt:
        lines += ["", f"tomotopy PTModel (k = {args.ks[0]}, 1,000 pseudo-documents, 200 iterations, one "
                  f"worker, TOMOTOPY_ISA=sse2) on the same terms: {pt}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("path", help="a CSV of posts")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pt", type=int, default=0, help="also time tomotopy's PTModel, stopped after N s")
    parser.add_argument("--write", action="store_true", help="write benchmarks/SHORT_TEXTS.md")
    args = parser.parse_args()
    tfidf, tokenize_seconds, stats = corpus(args.path, args.text_column)
    rows = []
    for k in args.ks:
        for seed in args.seeds:
            for model in ("nmf", "btm"):
                rows.append(score(model, tfidf, k, seed))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    determinism = {"this process": btm_digest(args.path, args.text_column, args.ks[0], args.seeds[0], 5000),
                   "this process, again": btm_digest(args.path, args.text_column, args.ks[0], args.seeds[0], 5000),
                   "fresh process, native": digest_in_process(args, {}),
                   "fresh process, portable (" + " ".join(f"{k}={v}" for k, v in portable_env().items()) + ")":
                       digest_in_process(args, portable_env())}
    pt = pt_run(args) if args.pt else ""
    text = report(args, tfidf, tokenize_seconds, stats, rows, determinism, pt)
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "SHORT_TEXTS.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
