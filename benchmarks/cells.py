"""The cells: each (stage, scale) of ours, timed in its own process, and the bare-library anchors on its inputs.

Ours is the stage as :func:`benchmarks.workloads.run_stage` runs it (writing its outputs, the
later cells' inputs); the anchors are what a bare script would call on the same texts or tokens.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import workloads
from benchmarks.harness import (RESULT_TAG, error_record, fmt_s, loadavg, log, measure, measure_ours,
                                setup_logging, short_error, shutdown_loky)
from benchmarks.report_timing import cell_notebook_compute

OUR_STAGES = ("ingest", "tokenize", "tfidf", "nmf")
CELL_STAGES = OUR_STAGES + ("pipeline",)
TOPIC_K = 10


# =============================================================================== the cells (drivers)

def cell_ingest(folder: Path, args) -> dict:
    """Stage 01 on this scale's CSV; anchors: TfidfVectorizer on the same texts, and reading the CSV."""
    import pandas as pd

    run = workloads.stage_run(folder, "01-ingest")
    csv = folder / "news.csv"
    info = {}

    def keep(result):
        flagged = result.documents["near_duplicate_of"].notna()
        replica = result.documents["doc_id"].str.contains(r"-r\d+$")
        info.update(documents_out=len(result.documents), log_rows=len(result.log),
                    statuses={str(k): int(v) for k, v in result.log["status"].value_counts().items()},
                    near_duplicates=int(flagged.sum()), near_duplicate_replicas=int((flagged & replica).sum()))

    ours, rss = measure_ours(lambda: workloads.run_stage("01-ingest", run), args, keep_first=keep, label="ingest")
    texts = pd.read_csv(csv, dtype=str, keep_default_na=False)["text"].tolist()
    anchors = {"sklearn_tfidfvectorizer": _tfidf_anchor(texts, args)} if folder_scale(folder) <= args.max_anchor_scale \
        else {}
    anchors |= {"read_csv": measure(lambda: pd.read_csv(csv), repeats=args.repeats, budget=args.cell_budget,
                                   label="anchor pandas.read_csv")}
    return {"ours": ours, "rss": rss, "anchors": anchors, "info": info}


def _tfidf_anchor(texts: list[str], args) -> dict:
    """The common anchor of ingest and tokenize: ``TfidfVectorizer(stop_words="english")`` on the texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return measure(lambda: TfidfVectorizer(stop_words="english").fit_transform(texts),
                   repeats=args.repeats, budget=args.cell_budget, label="anchor TfidfVectorizer")


def _fresh_tokenizer() -> None:
    """Each repeat as a fresh stage run: cold lemma cache, new worker processes."""
    from newslens.text import tokenizer

    if hasattr(getattr(tokenizer, "_lemma", None), "cache_clear"):
        tokenizer._lemma.cache_clear()
    shutdown_loky()


def cell_tokenize(folder: Path, args) -> dict:
    """Stage 02 on ingest's documents; anchors: TfidfVectorizer and gensim's Phrases on the same texts."""
    from newslens.text import tokenization

    documents = workloads.read_documents(folder)
    run = workloads.stage_run(folder, "02-tokenize")
    texts = documents["text"].tolist()
    info = {"documents": len(documents)}

    def keep(result):
        info.update({k: v for k, v in result.stats.items() if isinstance(v, (int, float))})

    ours, rss = measure_ours(lambda: workloads.run_stage("02-tokenize", run), args, before=_fresh_tokenizer,
                             keep_first=keep, label="tokenize")
    if folder_scale(folder) == 1:  # what the stage's two worker processes buy on this machine (one run)
        info["n_jobs_1"] = measure(lambda: tokenization.tokenize_documents(documents, run.params.tokenize,
                                                                           run.params.language, n_jobs=1),
                                   repeats=1, budget=args.cell_budget, before=_fresh_tokenizer,
                                   label="tokenize n_jobs=1")
    anchors = {"sklearn_tfidfvectorizer": _tfidf_anchor(texts, args)} if folder_scale(folder) <= args.max_anchor_scale \
        else {}
    if folder_scale(folder) <= min(args.max_anchor_scale, args.gensim_max_scale):
        anchors["gensim_phrases"] = measure(lambda: _gensim_phrases(texts), repeats=args.repeats,
                                            budget=args.cell_budget, label="anchor gensim Phrases")
    return {"ours": ours, "rss": rss, "anchors": anchors, "info": info}


def _gensim_phrases(texts: list[str]):
    """gensim's own way: simple_preprocess, each document one 'sentence', npmi Phrases."""
    from gensim.models.phrases import Phrases
    from gensim.utils import simple_preprocess

    sentences = [simple_preprocess(text) for text in texts]
    return Phrases(sentences, min_count=10, threshold=0.5, scoring="npmi")


def cell_tfidf(folder: Path, args) -> dict:
    """Stage 03 (its run(): TF-IDF, keyword and keyness tables, KWIC); anchor: TfidfVectorizer on the same tokens."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from newslens.text import tokenization

    workloads.ensure_stage(folder, "02-tokenize")
    run = workloads.stage_run(folder, "03-keywords")
    info = {}

    def keep(result):
        import pyarrow.parquet as pq

        nnz = pq.ParquetFile(run.processed_dir / "tfidf.parquet").metadata.num_rows  # one row per non-zero cell
        info.update(terms=int(result.terms), nnz=int(nnz))

    ours, rss = measure_ours(lambda: workloads.run_stage("03-keywords", run), args, keep_first=keep, label="tfidf")
    start = time.perf_counter()
    doc_ids, analyzer = tokenization.load_analyzer(run.processed_dir)
    info.update(load_analyzer_s=round(time.perf_counter() - start, 3), documents=len(doc_ids))
    anchors = {}
    if folder_scale(folder) <= args.max_anchor_scale:
        token_lists = [analyzer(doc_id) for doc_id in doc_ids]
        anchors["sklearn_tfidf_pretokenized"] = measure(
            lambda: TfidfVectorizer(analyzer=lambda x: x, sublinear_tf=True, min_df=2,
                                    max_df=0.5).fit_transform(token_lists),
            repeats=args.repeats, budget=args.cell_budget, label="anchor TfidfVectorizer(tokens)")
    return {"ours": ours, "rss": rss, "anchors": anchors, "info": info}


def cell_nmf(folder: Path, args) -> dict:
    """One topic fit (NMF, k = 10) on this scale's TF-IDF; anchor: a bare scikit-learn NMF."""
    from sklearn.decomposition import NMF

    from newslens.analysis import topics

    matrix = workloads.read_tfidf(folder).matrix
    info = {"shape": list(matrix.shape), "nnz": int(matrix.nnz), "k": TOPIC_K}
    ours, rss = measure_ours(lambda: topics.fit_model("nmf", matrix, TOPIC_K, 0), args, label="nmf k=10")
    anchors = {}
    if folder_scale(folder) <= args.max_anchor_scale:
        def bare():
            model = NMF(n_components=TOPIC_K, init="nndsvda", random_state=0).fit(matrix)
            info["bare_n_iter"] = int(model.n_iter_)
            return model

        anchors["bare_nmf"] = measure(bare, repeats=args.repeats, budget=args.cell_budget,
                                      label="anchor bare NMF")
    return {"ours": ours, "rss": rss, "anchors": anchors, "info": info}


def cell_pipeline(folder: Path, args) -> dict:
    """The anchors of the whole pipeline (ours is the sum of the stage medians, computed by the main process)."""
    import pandas as pd

    csv = folder / "news.csv"

    def sklearn_example():
        from sklearn.decomposition import NMF
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = pd.read_csv(csv, dtype=str, keep_default_na=False)["text"].tolist()
        matrix = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english").fit_transform(texts)
        return NMF(n_components=TOPIC_K, init="nndsvda", random_state=0).fit(matrix)

    def gensim_lda():
        from gensim.corpora import Dictionary
        from gensim.models import LdaModel
        from gensim.utils import simple_preprocess

        texts = pd.read_csv(csv, dtype=str, keep_default_na=False)["text"].tolist()
        docs = [simple_preprocess(text) for text in texts]
        dictionary = Dictionary(docs)
        corpus = [dictionary.doc2bow(doc) for doc in docs]
        return LdaModel(corpus, num_topics=TOPIC_K, id2word=dictionary, random_state=0)

    anchors = {}
    if folder_scale(folder) <= args.max_anchor_scale:
        anchors["sklearn_example_tfidf_nmf"] = measure(sklearn_example, repeats=args.repeats,
                                                       budget=args.cell_budget, label="anchor sklearn example")
    if folder_scale(folder) <= min(args.max_anchor_scale, args.gensim_max_scale):
        anchors["gensim_ldamodel"] = measure(gensim_lda, repeats=args.repeats, budget=args.cell_budget,
                                             label="anchor gensim LdaModel")
    return {"ours": None, "rss": None, "anchors": anchors, "info": {}}


# The sweep as it was before the speed work (src/newslens/analysis/topics.py: sweep and _sweep_job), copied so that
# the baseline stays the same while the library changes: every (k, seed), joblib n_jobs=2 on threads.
BASELINE_SUBSAMPLE = 0.8
BASELINE_TOL = 1e-3
# Above ×1 both sweeps use the news run's first two seeds and k up to 20 only (8 fits, not 24): at
# ×16 today's 24 fits took over 10 minutes, more than the 25-minute budget leaves.
LARGE_SWEEP_SEEDS = 2
LARGE_SWEEP_K_MAX = 20


def _baseline_job(matrix, binary, k: int, seed: int, top_n: int) -> dict:
    """One (k, seed) fit on the seed's 80% row subsample, as ``topics._sweep_job`` picked the rows."""
    import numpy as np
    from sklearn.decomposition import NMF

    from newslens.analysis import topic_quality

    rng = np.random.default_rng(seed)
    n = matrix.shape[0]
    rows = np.sort(rng.choice(n, size=max(k + 1, int(round(BASELINE_SUBSAMPLE * n))), replace=False))
    components = NMF(n_components=k, init="nndsvda", random_state=seed, tol=BASELINE_TOL).fit(matrix[rows]).components_
    top = np.argsort(-components, axis=1, kind="stable")[:, :top_n]
    return {"k": k, "seed": seed, "coherence": topic_quality.mean_coherence(components, binary), "top": top}


def baseline_sweep(matrix, counts, settings, terms, *, n_jobs: int = 2):
    """The exhaustive NMF sweep: every k of ``topics.k_range`` × every seed; returns (table, chosen k)."""
    import numpy as np
    from joblib import Parallel, delayed

    from newslens.analysis import topic_quality, topics

    ks = topics.k_range(settings, *matrix.shape)
    binary = (counts > 0).astype(np.int32).tocsc()
    jobs = [(k, seed) for k in ks for seed in settings.seeds]
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0])  # the largest k first
    done = Parallel(n_jobs=n_jobs, backend="threading")(
        delayed(_baseline_job)(matrix, binary, *jobs[i], settings.top_n) for i in order)
    fits = [fit for _, fit in sorted(zip(order, done), key=lambda pair: pair[0])]
    table = topics.sweep_table(ks, fits, terms)  # the stage's own table of the fits
    return table, topic_quality.choose_k(table)[0]


class _SweepDone(Exception):
    """Raised in place of the final fit: ``run_topics`` has swept and chosen its k."""

    def __init__(self, k: int):
        super().__init__(k)
        self.k = k


def library_sweep(tfidf, settings) -> int:
    """The sweep as the topics notebook runs it (``topics.run_topics``), up to its choice of k.

    ``run_topics`` is called as the notebook calls it, with its final fit (``build_topics``)
    replaced by a stop that carries the chosen k: whatever arguments the stage passes its sweep
    are the ones timed. Returns the k chosen.
    """
    from unittest import mock

    from newslens.analysis import topics

    def stop(model, tfidf, k, *rest, **kwargs):
        raise _SweepDone(k)

    with tempfile.TemporaryDirectory() as empty, mock.patch.object(topics, "build_topics", side_effect=stop):
        try:  # no committed topic ids nor labels: files that do not exist
            topics.run_topics(tfidf, settings, display={}, identities_path=Path(empty) / "topics.json",
                              labels_path=Path(empty) / "labels.yaml")
        except _SweepDone as done:
            return done.k
    raise RuntimeError("topics.run_topics returned without calling build_topics: no k to compare")


def cell_sweep(folder: Path, args) -> dict:
    """Today's exhaustive sweep against the library's, alternating, on this scale's TF-IDF (news topics params)."""
    settings = workloads.stage_run(folder, "04-topics").params.topics
    if folder_scale(folder) > 1:  # k = 5..20 with two seeds (8 fits, not 24), for both sweeps alike
        settings = settings.model_copy(update={"seeds": list(settings.seeds)[:LARGE_SWEEP_SEEDS],
                                               "k_max": LARGE_SWEEP_K_MAX})
    model = workloads.read_tfidf(folder)
    info = {"shape": list(model.matrix.shape), "k_min": settings.k_min, "k_max": settings.k_max,
            "k_step": settings.k_step, "seeds": list(settings.seeds), "ks": {}}
    runs = {"baseline": [], "library": []}
    errors = {}
    steps = {"baseline": lambda: baseline_sweep(model.matrix, model.counts, settings, model.terms)[1],
             "library": lambda: library_sweep(model, settings)}
    repeats = 1 if folder_scale(folder) > 1 else args.repeats  # at ×16 about 24 NMF fits each: once
    for index in range(repeats):
        for name, step in steps.items():  # alternating, so load from elsewhere hits both alike
            shutdown_loky()
            gc.collect()
            try:
                start = time.perf_counter()
                info["ks"][name] = step()
                runs[name].append(time.perf_counter() - start)
                log.info("  sweep %s run %d: %s s, k = %s", name, index + 1, fmt_s(runs[name][-1]), info["ks"][name])
            except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
                log.error("  sweep %s failed: %s", name, short_error(exc))
                errors[name] = error_record(exc)
        spent = sum(sum(times) for times in runs.values())
        last = sum(times[-1] for times in runs.values() if times)
        if index + 1 < repeats and spent + last > 2 * args.cell_budget:
            log.info("  sweep: cell budget reached after %d pair(s)", index + 1)
            break
    ours = {name: ({"times": times, "median": statistics.median(times), "n": len(times)}
                   if times else errors.get(name, {"error": "no run"})) for name, times in runs.items()}
    return {"ours": ours, "rss": None, "anchors": {}, "info": info}


def folder_scale(folder: Path) -> int:
    """The scale N of a ``x{N}`` folder (1 for any other folder)."""
    return int(folder.name[1:]) if folder.name.startswith("x") and folder.name[1:].isdigit() else 1


CELLS = {"ingest": cell_ingest, "tokenize": cell_tokenize, "tfidf": cell_tfidf, "nmf": cell_nmf,
         "pipeline": cell_pipeline, "sweep": cell_sweep, "notebook-compute": cell_notebook_compute}


def driver(args) -> int:
    """One cell in this process: print ``BENCH_RESULT {json}`` on stdout."""
    setup_logging(prefix=f"[{args.stage} ×{args.scale}] ")
    os.environ.setdefault("TQDM_DISABLE", "1")
    record = {"stage": args.stage, "scale": args.scale, "load_start": loadavg()}
    start = time.perf_counter()
    try:
        if args.stage == "prepare":
            record["info"] = workloads.prepare_inputs(Path(args.work), args.scales)
        else:
            workloads.prewarm()
            record.update(CELLS[args.stage](workloads.scale_dir(Path(args.work), args.scale), args))
    except Exception as exc:  # noqa: BLE001 - reported to the main process
        log.error("failed: %s", short_error(exc))
        record.update(error_record(exc))
    record["driver_s"] = round(time.perf_counter() - start, 3)
    record["load_end"] = loadavg()
    sys.stdout.write(RESULT_TAG + json.dumps(record, default=str) + "\n")
    sys.stdout.flush()
    return 0

