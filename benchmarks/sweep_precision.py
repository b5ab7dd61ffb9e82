#!/usr/bin/env python
"""What the k sweep's double precision costs: the sweep of a run timed in float32 and float64.

Usage (from the project root, after ``make report PARAMS=params/news.yaml``)::

    .venv/bin/python benchmarks/sweep_precision.py [--params params/news.yaml] [--repeats 3]

The sweep (``topics.sweep``, every k and seed, two workers as the stage runs it) is fitted on the
run's own TF-IDF matrix, alternately in float32 (as before the fix of the BLAS-kernel drift) and
in float64 (as now), so both see the same machine load. Prints each time, the medians, their
ratio, and whether the two precisions gave the same sweep table on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from newslens.report import notebook
from newslens.analysis import topics
from newslens.analysis.tfidf import fit_tfidf
from newslens.text import tokenization


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params/news.yaml")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    run = notebook.setup(args.params, "04-topics")
    doc_ids, analyzer = tokenization.load_analyzer(run.processed_dir)
    tfidf = fit_tfidf(doc_ids, analyzer, run.params.keywords, engine=run.params.engine)
    times: dict[str, list[float]] = {"float32": [], "float64": []}
    tables = {}
    for _ in range(args.repeats):
        for name in times:
            topics.SWEEP_DTYPE = getattr(np, name)
            started = time.perf_counter()
            tables[name] = topics.sweep("nmf", tfidf.matrix, tfidf.counts, run.params.topics, tfidf.terms, n_jobs=2)
            times[name].append(time.perf_counter() - started)
            print(f"{name}: {times[name][-1]:.1f} s", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{run.name}: {tfidf.matrix.shape[0]:,} documents × {tfidf.matrix.shape[1]:,} terms, "
          f"{len(tables['float64'])} ks × {len(run.params.topics.seeds)} seeds; medians of {args.repeats}: "
          f"float32 {medians['float32']:.1f} s, float64 {medians['float64']:.1f} s, "
          f"ratio {medians['float64'] / medians['float32']:.2f}; "
          f"same table: {tables['float32'].equals(tables['float64'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
