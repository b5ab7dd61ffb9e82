#!/usr/bin/env python
"""The topics of a corpus above the sample cap: fitted on the hash sample against fitted whole.

Usage (from the project root, after ``make report PARAMS=params/news.yaml``)::

    .venv/bin/python benchmarks/topic_sample.py [--run news] [--scale 16] [--modes sampled,full] [--root .]

The run's TF-IDF matrix is stacked ``--scale`` times, each copy with a random quarter of its
cells dropped (seed 0) and its doc ids suffixed ``~<copy>``, so the copies differ. Each mode runs
:func:`newslens.analysis.topics.run_topics` with the run's topics params: ``sampled`` with the
default cap (:data:`newslens.analysis.topic_sample.SWEEP_SAMPLE`), ``full`` with the cap above
the corpus. Everything runs in this process (one sweep worker, an engine of one process), so
its CPU time is the whole cost. Prints each mode's wall and CPU time, k and sweep, then the
best one-to-one match of the two fits' topics (cosine of their topic-term weights, scipy's
``linear_sum_assignment``), how many documents have the matched topic as their largest, and
the matched topics' prevalences.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from newslens.analysis.tfidf import TfidfModel, read_tfidf
from newslens.analysis.topics import run_topics
from newslens.engine import Engine
from newslens.params import load_run
from newslens.stages import TFIDF_FILES

ROOT = Path(__file__).resolve().parents[1]


def stacked(tfidf: TfidfModel, scale: int, *, keep: float = 0.75, seed: int = 0) -> TfidfModel:
    """``scale`` copies of the matrix, each keeping a random ``keep`` of its cells."""
    rng = np.random.default_rng(seed)
    matrix, counts = tfidf.matrix.tocoo(), tfidf.counts.tocoo()
    parts, part_counts, ids = [], [], []
    for copy in range(scale):
        kept = rng.random(matrix.nnz) < keep
        cells = (matrix.row[kept], matrix.col[kept])
        parts.append(sparse.csr_matrix((matrix.data[kept], cells), shape=matrix.shape))
        part_counts.append(sparse.csr_matrix((counts.data[kept], cells), shape=counts.shape))
        ids += [f"{doc_id}~{copy}" for doc_id in tfidf.doc_ids]
    return TfidfModel(ids, tfidf.terms, sparse.vstack(parts).tocsr(), sparse.vstack(part_counts).tocsr(), tfidf.idf)


def compare(sampled, full) -> None:
    """The best one-to-one match of the two fits' topics, and what it says of the documents."""
    a = sampled.components / np.linalg.norm(sampled.components, axis=1, keepdims=True)
    b = full.components / np.linalg.norm(full.components, axis=1, keepdims=True)
    cosine = a @ b.T
    rows, columns = linear_sum_assignment(-cosine)
    matched = cosine[rows, columns]
    print(f"topic-term cosine, best one-to-one match ({len(rows)} pairs): mean {matched.mean():.3f}, "
          f"median {np.median(matched):.3f}, min {matched.min():.3f}, ≥0.9: {(matched >= 0.9).sum()}")
    if sampled.k != full.k:
        return
    weights_sampled = sampled.mixtures.to_numpy()
    weights_full = full.mixtures.to_numpy()
    to_full = dict(zip(rows, columns))
    largest = np.array([to_full[t] for t in weights_sampled.argmax(axis=1)])
    some = weights_full.sum(axis=1) > 0
    print(f"documents whose largest topic is the matched one: {(largest == weights_full.argmax(axis=1))[some].mean():.3f}")
    print(f"prevalence, sampled (matched order): {np.round(weights_sampled.mean(axis=0)[rows], 3).tolist()}")
    print(f"prevalence, full:                    {np.round(weights_full.mean(axis=0)[columns], 3).tolist()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--run", default="news")
    parser.add_argument("--scale", type=int, default=16)
    parser.add_argument("--modes", default="sampled,full")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project whose run's outputs to read")
    args = parser.parse_args()
    folder = args.root / "data" / "processed" / args.run
    params = load_run(args.root / "params" / f"{args.run}.yaml").params
    tfidf = stacked(read_tfidf(*(folder / name for name in TFIDF_FILES)), args.scale)
    print("corpus", tfidf.matrix.shape, "non-zeros", tfidf.matrix.nnz, flush=True)
    vocabulary = pd.read_parquet(folder / "vocabulary.parquet")
    display = dict(zip(vocabulary["term"], vocabulary["display"]))
    fits = {}
    with tempfile.TemporaryDirectory() as scratch:
        for mode in args.modes.split(","):
            cap = {"sampled": None, "full": max(tfidf.matrix.shape[0], 10)}[mode]
            settings = params.topics.model_copy(update={"sample_documents": cap})
            wall, cpu = time.perf_counter(), time.process_time()
            fit = run_topics(tfidf, settings, display=display, identities_path=Path(scratch) / f"{mode}.json",
                             labels_path=Path(scratch) / "none.labels.yaml", n_jobs=1, engine=Engine(n_jobs=1))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            fits[mode] = fit
            print(f"{mode}: {wall:.1f} s wall, {cpu:.1f} s CPU, k = {fit.k}, fitted on "
                  f"{fit.sampled or tfidf.matrix.shape[0]:,} documents, NPMI {fit.coherence}; {fit.k_note}", flush=True)
            print(fit.sweep.to_string(index=False), flush=True)
    if {"sampled", "full"} <= set(fits):
        compare(fits["sampled"], fits["full"])


if __name__ == "__main__":
    main()
