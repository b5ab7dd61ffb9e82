#!/usr/bin/env python
"""The analytic work of a cold ``make report PARAMS=params/news.yaml``, done the plain way.

    .venv/bin/python benchmarks/bare_report.py --out DIR

One process, single-threaded (BLAS held to one thread, no worker processes), the bare libraries:

1. ``pandas.read_csv`` of the news CSV;
2. ``TfidfVectorizer(stop_words="english", min_df=2, max_df=0.5, sublinear_tf=True)``;
3. the news run's k sweep: k = 5..40 step 5 × seeds 0, 1, 2, each an
   ``NMF(init="nndsvda", tol=1e-3, random_state=seed)`` on the seed's 80% row subsample (picked
   as ``newslens.analysis.topics._sweep_job`` picks it), each k scored by the mean NPMI of its topics'
   top-10 terms (document co-occurrence on the whole corpus; averaged over the seeds), the
   highest score chosen;
4. one ``NMF(init="nndsvda", random_state=0)`` at that k (default tol);
5. three PNGs in DIR: the first topics' top terms, the sweep curve, the topics' prevalence.

This is the floor that ``python -m benchmarks`` holds the cold ``make report`` against. It prints its wall
time (seconds) and the chosen k; ``--json`` prints them as one JSON line instead.
"""

from __future__ import annotations

import os

for _key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_key, "1")  # before numpy is imported: single-threaded BLAS

import argparse  # noqa: E402 - after the thread variables, which must precede numpy's import
import json  # noqa: E402 - after the thread variables, which must precede numpy's import
import time  # noqa: E402 - after the thread variables, which must precede numpy's import
from pathlib import Path  # noqa: E402 - after the thread variables, which must precede numpy's import

ROOT = Path(__file__).resolve().parent.parent
NEWS_CSV = ROOT / "data" / "raw" / "news-articles" / "NewsArticles.csv"
KS = list(range(5, 41, 5))
SEEDS = (0, 1, 2)
SUBSAMPLE = 0.8
TOP = 10


def subsample_rows(n: int, k: int, seed: int):
    """The seed's 80% of the rows, sorted, as the project's sweep picks them (at least k + 1 rows)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max(k + 1, int(round(SUBSAMPLE * n))), replace=False))


def npmi_top_terms(components, binary, top: int = TOP) -> float:
    """Mean NPMI over the topics of their ``top`` terms' document co-occurrence (``binary``: docs × terms, 0/1)."""
    import numpy as np

    n_docs = binary.shape[0]
    scores = []
    for row in components:
        terms = np.argsort(-row, kind="stable")[:top]
        sub = binary[:, terms]
        together = (sub.T @ sub).toarray().astype(float)
        single = np.diag(together).copy()
        i, j = np.triu_indices(len(terms), 1)
        joint = together[i, j] / n_docs
        expected = single[i] * single[j] / n_docs**2
        with np.errstate(divide="ignore", invalid="ignore"):
            npmi = np.where(joint > 0, np.log(joint / expected) / -np.log(joint), -1.0)
        scores.append(float(np.mean(npmi)))
    return float(np.mean(scores))


def sweep(matrix, binary) -> list[dict]:
    """Each k's mean NPMI over the seeds, each fit on its seed's subsample with tol 1e-3."""
    from sklearn.decomposition import NMF

    rows = []
    for k in KS:
        scores = []
        for seed in SEEDS:
            picked = subsample_rows(matrix.shape[0], k, seed)
            model = NMF(n_components=k, init="nndsvda", tol=1e-3, random_state=seed).fit(matrix[picked])
            scores.append(npmi_top_terms(model.components_, binary))
        rows.append({"k": k, "npmi": sum(scores) / len(scores)})
    return rows


def draw(out: Path, terms, components, doc_topic, rows: list[dict], k: int) -> list[Path]:
    """The three figures: top terms of the first six topics, the sweep curve, each topic's prevalence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    paths = [out / "top_terms.png", out / "k_sweep.png", out / "prevalence.png"]
    shown = min(6, len(components))
    figure, axes = plt.subplots(1, shown, figsize=(3 * shown, 4), squeeze=False)
    for topic, axis in enumerate(axes[0]):
        order = np.argsort(-components[topic], kind="stable")[:TOP][::-1]
        axis.barh([terms[t] for t in order], components[topic][order])
        axis.set_title(f"topic {topic}")
    figure.tight_layout()
    figure.savefig(paths[0], dpi=100)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot([r["k"] for r in rows], [r["npmi"] for r in rows], marker="o")
    axis.axvline(k, linestyle="--", color="grey")
    axis.set_xlabel("k")
    axis.set_ylabel("mean NPMI of the top-10 terms")
    figure.tight_layout()
    figure.savefig(paths[1], dpi=100)
    plt.close(figure)

    weights = doc_topic / np.maximum(doc_topic.sum(axis=1, keepdims=True), 1e-12)
    figure, axis = plt.subplots(figsize=(8, 4))
    axis.bar(range(len(components)), weights.mean(axis=0))
    axis.set_xlabel("topic")
    axis.set_ylabel("mean share of a document")
    figure.tight_layout()
    figure.savefig(paths[2], dpi=100)
    plt.close(figure)
    return paths


def run(out: Path, csv: Path = NEWS_CSV) -> dict:
    """The whole job; returns the chosen k, the sweep and the wall time (s)."""
    start = time.perf_counter()
    import pandas as pd
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = pd.read_csv(csv, dtype=str, keep_default_na=False)["text"].tolist()
    vectorizer = TfidfVectorizer(stop_words="english", min_df=2, max_df=0.5, sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts).tocsr()
    binary = (matrix > 0).astype("int32").tocsc()
    rows = sweep(matrix, binary)
    k = max(rows, key=lambda r: (r["npmi"], -r["k"]))["k"]
    model = NMF(n_components=k, init="nndsvda", random_state=0)
    doc_topic = model.fit_transform(matrix)
    out.mkdir(parents=True, exist_ok=True)
    figures = draw(out, vectorizer.get_feature_names_out(), model.components_, doc_topic, rows, k)
    return {"k": k, "sweep": rows, "documents": matrix.shape[0], "terms": matrix.shape[1],
            "figures": [p.name for p in figures], "seconds": round(time.perf_counter() - start, 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the three PNGs")
    parser.add_argument("--csv", type=Path, default=NEWS_CSV, help="the news CSV (default: the builtin's)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    if not args.csv.exists():
        parser.error(f"{args.csv} does not exist: run `make data` first")
    result = run(args.out, args.csv)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"bare report: {result['documents']} documents × {result['terms']} terms, k = {result['k']}, "
              f"wall time {result['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
