#!/usr/bin/env python
"""newslens benchmarks: each stage's compute against the bare libraries, at 1×, 4× and 16× the news run.

At ×N the news CSV has N × its rows: the originals and N − 1 distinct replicas of each (new articles
made of sentences of the same outlet's other articles, :func:`make_replicas`), and the later stages
get ingest's output of it. Also: the k sweep against today's exhaustive one (×1, ×16), a cold
``make report PARAMS=params/news.yaml`` against ``benchmarks/bare_report.py``, and the notebook layer's
overhead.

Usage (from the project root; ``make bench`` runs the first line with fewer anchors)::

    .venv/bin/python benchmarks/bench.py                      # scales 1 4 16, 3 repeats
    .venv/bin/python benchmarks/bench.py --quick              # scale 1, 1 repeat: a smoke test
    .venv/bin/python benchmarks/bench.py --sections stages    # only some sections (stages, sweep, report, overhead)

Writes ``benchmarks/results.json`` (every raw number) and ``benchmarks/RESULTS.md`` (tables,
ratios, targets MET / NOT MET). Inputs and intermediate files go to ``benchmarks/work/``
(git-ignored), rebuilt on every run. What is measured and how to read it: ``benchmarks/README.md``.

Every (stage, scale) cell runs in its own process, the *driver*::

    .venv/bin/python benchmarks/bench.py --stage tokenize --scale 16

which times our function ``--repeats`` times, then reads its peak RSS, then times the anchors on the
same inputs, and prints one ``BENCH_RESULT {json}`` line. A failing cell or anchor is recorded as an
error; the bench goes on.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import logging
import math
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

# Single-threaded BLAS, as the Makefile exports it (timings stay reproducible; stages parallelise
# themselves). Set before numpy is imported, here and in every subprocess.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
for _key, _value in THREAD_ENV.items():
    os.environ.setdefault(_key, _value)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_WORK = HERE / "work"
NEWS_CSV = ROOT / "data" / "raw" / "news-articles" / "NewsArticles.csv"
NEWS_PARAMS = ROOT / "params" / "news.yaml"
SEED_PARAMS = ROOT / "params" / "seed.yaml"
NOTEBOOK_STAGES = ("01-ingest", "02-tokenize", "03-keywords", "04-topics", "05-summary")
OUR_STAGES = ("ingest", "tokenize", "tfidf", "nmf")
CELL_STAGES = OUR_STAGES + ("pipeline",)
RESULT_TAG = "BENCH_RESULT "
SECTIONS = ("stages", "sweep", "report", "overhead")
TOPIC_K = 10
GIB = 1024.0
TARGETS = {"tokenize_vs_tfidf": 2.0, "ingest_vs_tfidf": 1.5, "pipeline_vs_example": 2.5, "report_vs_bare": 1.0,
           "scaling_16": 17.0, "sweep_vs_today": 0.5, "engines_hours": 1.0, "overhead_share": 0.30,
           "peak_rss_gib": 6.0}
# The table source that reads the news CSV (and its replicas) like the builtin does, minus the URL → outlet step.
CSV_COLUMNS = {"text_column": "text", "id_column": "article_id", "title_column": "title",
               "date_column": "publish_date", "group_column": "article_source_link"}

log = logging.getLogger("bench")


# =============================================================================== small helpers

def _setup_logging(prefix: str = "") -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s {prefix}%(message)s", datefmt="%H:%M:%S")
    for noisy in ("newslens", "gensim", "smart_open", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _short_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:500]}"


def _error_record(exc: BaseException) -> dict:
    return {"error": _short_error(exc), "traceback": traceback.format_exc()[-3000:]}


def _maxrss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _scale_dir(work: Path, scale: int) -> Path:
    return work / f"x{scale}"


def _rel(path: str | Path) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _rel_path(path: str) -> str:
    """A path as given, relative to the project root when inside it (no symlink resolution: .venv/bin/python)."""
    absolute = os.path.abspath(path)
    return os.path.relpath(absolute, ROOT) if absolute.startswith(str(ROOT) + os.sep) else path


def _fmt_s(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def _fmt_ratio(value) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _median(measurement: dict | None) -> float | None:
    if not measurement or "median" not in measurement:
        return None
    return measurement["median"]


def _ratio(ours: float | None, anchor: float | None) -> float | None:
    if ours is None or anchor is None or anchor <= 0:
        return None
    return ours / anchor


# =============================================================================== measuring

def shutdown_loky() -> None:
    """Stop joblib's reusable loky workers, so the next parallel call pays its start-up as a fresh run does."""
    try:
        from joblib.externals.loky import reusable_executor

        executor = getattr(reusable_executor, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)
    except Exception:  # noqa: BLE001 - best effort; a live pool only makes the repeat a bit faster
        pass


def measure(function, *, repeats: int, budget: float, before=None, keep_first=None, label: str = "") -> dict:
    """Run ``function`` up to ``repeats`` times; the median of the wall times (perf_counter).

    A repeat is skipped when the time spent so far plus the last run would exceed ``budget``
    seconds (at least one run always happens): at large scales a cell runs once, not three times.
    ``before()`` runs untimed before each repeat; ``keep_first(result)`` runs untimed on the first result.
    """
    times: list[float] = []
    try:
        for index in range(repeats):
            if before is not None:
                before()
            gc.collect()
            start = time.perf_counter()
            result = function()
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            if index == 0 and keep_first is not None:
                keep_first(result)
            del result
            log.info("  %-28s run %d/%d: %s s", label, index + 1, repeats, _fmt_s(elapsed))
            if sum(times) + elapsed > budget and index + 1 < repeats:
                log.info("  %-28s cell budget %.0f s reached: %d run(s)", label, budget, len(times))
                break
    except Exception as exc:  # noqa: BLE001 - recorded, the bench goes on
        log.error("  %s failed: %s", label, _short_error(exc))
        record = _error_record(exc)
        if times:
            record.update(times=times, median=statistics.median(times), n=len(times))
        return record
    return {"times": times, "median": statistics.median(times), "n": len(times)}


class PeakTreeRSS:
    """Sample the summed RSS of this process and all its descendants (loky workers) every ``interval`` s.

    With ``guard_bytes``, a sum above it ends this cell at once (workers killed, an error result printed,
    the process exits): a runaway ×16 stage must not push a shared machine into swap or the OOM killer.
    """

    def __init__(self, interval: float = 0.1, guard_bytes: float | None = None, record: dict | None = None):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self.guard_bytes, self.record = guard_bytes, record
        self._thread = threading.Thread(target=self._run, daemon=True)
        try:
            import psutil

            self._process = psutil.Process()
        except Exception:  # noqa: BLE001 - psutil is optional
            self._process = None

    def _sample(self) -> int:
        total = self._process.memory_info().rss
        for child in self._process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except Exception:  # noqa: BLE001 - the child just exited
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self._sample())
            except Exception:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
                pass
            if self.guard_bytes and self.peak > self.guard_bytes:
                self._abort()
            self._stop.wait(self.interval)

    def _abort(self) -> None:
        gib = self.peak / 2**30
        message = f"memory guard: process tree RSS reached {gib:.1f} GiB (> {self.guard_bytes / 2**30:.1f} GiB); cell stopped"
        log.error(message)
        for child in self._process.children(recursive=True):
            try:
                child.kill()
            except Exception:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
                pass
        record = dict(self.record or {})
        record.update(error=message, rss={"peak_mib": round(self.peak / 2**20, 1), "guard_hit": True,
                                          "self_peak_mib": round(_maxrss_mib(), 1)})
        sys.stdout.write(RESULT_TAG + json.dumps(record, default=str) + "\n")
        sys.stdout.flush()
        os._exit(3)

    def __enter__(self):
        if self._process is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._process is not None:
            self._thread.join()

    @property
    def peak_mib(self) -> float | None:
        return self.peak / 2**20 if self._process is not None and self.peak else None


def measure_ours(function, args, **kwargs) -> tuple[dict, dict]:
    """Time our function and report the process's peak RSS over those runs (before any anchor runs)."""
    baseline = _maxrss_mib()
    guard = args.mem_guard_gib * 2**30 if args.mem_guard_gib else None
    with PeakTreeRSS(guard_bytes=guard, record={"stage": args.stage, "scale": args.scale}) as tree:
        result = measure(function, repeats=args.repeats, budget=args.cell_budget, **kwargs)
    shutdown_loky()  # reaps the workers, so RUSAGE_CHILDREN covers them
    rss = {"baseline_mib": round(baseline, 1), "self_peak_mib": round(_maxrss_mib(), 1),
           "tree_peak_mib": None if tree.peak_mib is None else round(tree.peak_mib, 1),
           "children_peak_mib": round(_maxrss_mib(resource.RUSAGE_CHILDREN), 1)}
    rss["peak_mib"] = max(v for v in (rss["self_peak_mib"], rss["tree_peak_mib"]) if v is not None)
    return result, rss


# =============================================================================== inputs

def _news_settings():
    from newslens.params import load_run

    return load_run(NEWS_PARAMS).params


def _prewarm() -> None:
    """Import what the stages import lazily, and load simplemma's dictionary: imports are not compute."""
    import numpy  # noqa: F401 - imported to load it before timing
    import pandas  # noqa: F401 - imported to load it before timing
    import pyarrow.parquet  # noqa: F401 - imported to load it before timing
    import scipy.sparse  # noqa: F401 - imported to load it before timing
    import sklearn.decomposition
    import sklearn.feature_extraction.text  # noqa: F401 - imported to load it before timing
    import gensim.corpora
    import gensim.models
    import gensim.models.phrases
    import gensim.utils  # noqa: F401 - imported to load it before timing
    import joblib  # noqa: F401 - imported to load it before timing
    import ftfy  # noqa: F401 - imported to load it before timing
    import charset_normalizer  # noqa: F401 - imported to load it before timing
    import simplemma

    simplemma.lemmatize("tests", lang="en")
    from newslens.analysis import keywords, topics  # noqa: F401 - imported to load it before timing
    from newslens.corpus import clean, ingest, sentences, sources  # noqa: F401 - imported to load it before timing
    from newslens.text import tokenization  # noqa: F401 - imported to load it before timing


# =============================================================================== honest replicas

REPLICA_SEED = 0
# Sentences in a replica at least: a one- or two-sentence replica can be most of one donor (Jaccard ~0.6).
REPLICA_MIN_SENTENCES = 3


def _outlet(url: str) -> str:
    """The outlet of a news CSV row: the domain of its link (a malformed link is its own outlet)."""
    from newslens.corpus.sources import outlet_from_url

    try:
        return outlet_from_url(url)
    except Exception:  # noqa: BLE001 - any unparsable link
        return url


def make_replicas(raw, scale: int, *, seed: int = REPLICA_SEED, language: str = "en"):
    """The news CSV at ``scale`` times its rows: the originals, then ``scale - 1`` distinct replicas of each.

    Replica r ≥ 1 of an article is a new article of the same outlet (the domain of
    ``article_source_link``) and date, made of about as many sentences as the original has
    (``sentences.split_text_sentences``; at least :data:`REPLICA_MIN_SENTENCES`), each drawn from
    a different *other* article of that outlet while there are enough: its word 5-gram Jaccard
    with any one real article stays far below the near-duplicate threshold (0.8), so ingest
    keeps it as a document of its own and
    every later stage sees ``scale`` times the documents. Its id is ``<id>-r<r>``, its title a
    donor's title + `` (replica r)``, its link the original's + ``#replica-r`` (same outlet); an
    article without text gets a replica without text (skipped by ingest like the original).
    Deterministic: the same ``seed`` gives the same table.
    """
    import numpy as np
    import pandas as pd

    from newslens.corpus.sentences import split_text_sentences

    if scale < 1:
        raise ValueError(f"replicas: scale must be at least 1, not {scale}")
    raw = raw.reset_index(drop=True)
    texts = raw["text"].tolist()
    split = [split_text_sentences(text, language) for text in texts]
    outlets = raw["article_source_link"].map(_outlet).to_numpy()
    has_text = np.array([bool(s) for s in split])
    donors_of = {name: np.flatnonzero((outlets == name) & has_text) for name in set(outlets)}
    taken = set(texts)  # no replica may repeat an original, or an earlier replica, exactly
    rng = np.random.default_rng(seed)
    parts = [raw]
    for replica in range(1, scale):
        titles, bodies = [], []
        for index in range(len(raw)):
            pool = donors_of[outlets[index]]
            pool = pool[pool != index]
            body, title_from = "", index
            if split[index] and len(pool):
                wanted = max(len(split[index]), REPLICA_MIN_SENTENCES)
                body, title_from = _replica_text(wanted, pool, split, rng, taken)
                taken.add(body)
            titles.append(f"{raw.at[title_from, 'title']} (replica {replica})")
            bodies.append(body)
        parts.append(raw.assign(article_id=raw["article_id"] + f"-r{replica}", title=titles, text=bodies,
                                article_source_link=raw["article_source_link"] + f"#replica-{replica}",
                                subtitle=""))
    return pd.concat(parts, ignore_index=True)


def _replica_text(wanted: int, pool, split: list[list[str]], rng, taken: set[str]) -> tuple[str, int]:
    """``wanted`` sentences from ``wanted`` different donors of ``pool`` (repeating donors only once it runs out).

    Returns the text and its first donor (whose title the replica borrows). A text already in
    ``taken`` (an original or an earlier replica: one-sentence articles can collide) gets one more
    sentence from another donor until it is new.
    """
    donors = [int(d) for d in rng.choice(pool, size=min(wanted, len(pool)), replace=False)]
    while len(donors) < wanted:
        donors += [int(d) for d in rng.choice(pool, size=min(wanted - len(donors), len(pool)), replace=False)]
    text = " ".join(split[d][int(rng.integers(len(split[d])))] for d in donors)
    while text in taken:
        donor = int(rng.choice(pool))
        text += " " + split[donor][int(rng.integers(len(split[donor])))]
    return text, donors[0]


def prepare_inputs(work: Path, scales: list[int]) -> dict:
    """The news CSV at each scale (``make_replicas``), in ``work/x{N}/news.csv``.

    The stage inputs of tokenize, TF-IDF and NMF are ingest's output on that CSV, written by the
    ingest cell's first run (or by :func:`_ensure_documents`, untimed, when that cell did not run).
    """
    import pandas as pd

    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    raw = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False)
    info = {"csv_rows": len(raw), "replica_seed": REPLICA_SEED, "rows": {}}
    for scale in scales:
        folder = _scale_dir(work, scale)
        shutil.rmtree(folder, ignore_errors=True)  # never reuse tokens or matrices of an earlier run
        folder.mkdir(parents=True)
        table = make_replicas(raw, scale)
        table.to_csv(folder / "news.csv", index=False)
        info["rows"][str(scale)] = len(table)
        log.info("inputs ×%d: %d CSV rows", scale, len(table))
    info["seconds"] = round(time.perf_counter() - start, 2)
    return info


def ingest_params(folder: Path):
    """The run that ingests this scale's CSV: a table source read like the builtin, minus the URL → outlet step."""
    from newslens.params import RunParams, Source

    return RunParams(title="bench", sources=[Source(path=str(folder / "news.csv"), **CSV_COLUMNS)],
                     unit="document")


def _ensure_documents(folder: Path) -> None:
    """Documents of this scale, from the ingest cell; made here (untimed) if that cell did not write them."""
    if (folder / "documents.parquet").exists():
        return
    from newslens.corpus import ingest

    log.info("  documents missing in %s: ingesting (untimed)", folder.name)
    ingest.ingest(ingest_params(folder)).documents.to_parquet(folder / "documents.parquet", index=False)


def _documents(folder: Path):
    import pandas as pd

    _ensure_documents(folder)
    return pd.read_parquet(folder / "documents.parquet")


def _ensure_tokens(folder: Path) -> None:
    """Tokens of this scale, from the tokenize cell; made here (untimed) if that cell did not write them."""
    if (folder / "tokens.parquet").exists():
        return
    from newslens.text import tokenization

    log.info("  tokens missing in %s: tokenizing (untimed)", folder.name)
    settings = _news_settings()
    tokenization.write_outputs(tokenization.tokenize_documents(_documents(folder), settings.tokenize,
                                                       settings.language), folder)


def _tfidf(folder: Path):
    from newslens.analysis.tfidf import fit_tfidf
    from newslens.text import tokenization

    _ensure_tokens(folder)
    doc_ids, analyzer = tokenization.load_analyzer(folder)
    return fit_tfidf(doc_ids, analyzer, _news_settings().keywords)


# =============================================================================== the cells (drivers)

def cell_ingest(folder: Path, args) -> dict:
    import pandas as pd

    from newslens.corpus import ingest

    params = ingest_params(folder)
    csv = folder / "news.csv"
    info = {}

    def keep(result):
        result.documents.to_parquet(folder / "documents.parquet", index=False)  # the later cells' input (untimed)
        flagged = result.documents["near_duplicate_of"].notna()
        replica = result.documents["doc_id"].str.contains(r"-r\d+$")
        info.update(documents_out=len(result.documents), log_rows=len(result.log),
                    statuses={str(k): int(v) for k, v in result.log["status"].value_counts().items()},
                    near_duplicates=int(flagged.sum()), near_duplicate_replicas=int((flagged & replica).sum()))

    ours, rss = measure_ours(lambda: ingest.ingest(params), args, keep_first=keep, label="ingest")
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


def cell_tokenize(folder: Path, args) -> dict:
    from newslens.text import tokenization

    settings = _news_settings()
    documents = _documents(folder)
    texts = documents["text"].tolist()
    info = {"documents": len(documents)}

    def fresh():  # each repeat as a fresh stage run: cold lemma cache, new worker processes
        from newslens.text import tokenizer

        if hasattr(getattr(tokenizer, "_lemma", None), "cache_clear"):
            tokenizer._lemma.cache_clear()
        shutdown_loky()

    def keep(result):
        tokenization.write_outputs(result, folder)  # the later cells' input (untimed)
        info.update({k: v for k, v in result.stats.items() if isinstance(v, (int, float))})

    ours, rss = measure_ours(lambda: tokenization.tokenize_documents(documents, settings.tokenize,
                                                                 settings.language),
                             args, before=fresh, keep_first=keep, label="tokenize")
    if folder_scale(folder) == 1:  # what the stage's two worker processes buy on this machine (one run)
        info["n_jobs_1"] = measure(lambda: tokenization.tokenize_documents(documents, settings.tokenize,
                                                                       settings.language, n_jobs=1),
                                   repeats=1, budget=args.cell_budget, before=fresh, label="tokenize n_jobs=1")
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
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    from newslens.analysis.tfidf import fit_tfidf
    from newslens.text import tokenization

    _ensure_tokens(folder)
    settings = _news_settings().keywords
    start = time.perf_counter()
    doc_ids, analyzer = tokenization.load_analyzer(folder)
    info = {"load_analyzer_s": round(time.perf_counter() - start, 3), "documents": len(doc_ids)}

    def keep(model):
        sparse.save_npz(folder / "tfidf.npz", model.matrix)
        info.update(terms=int(model.matrix.shape[1]), nnz=int(model.matrix.nnz))

    ours, rss = measure_ours(lambda: fit_tfidf(doc_ids, analyzer, settings), args,
                             keep_first=keep, label="tfidf")
    anchors = {}
    if folder_scale(folder) <= args.max_anchor_scale:
        token_lists = [analyzer(doc_id) for doc_id in doc_ids]
        anchors["sklearn_tfidf_pretokenized"] = measure(
            lambda: TfidfVectorizer(analyzer=lambda x: x, sublinear_tf=True, min_df=2,
                                    max_df=0.5).fit_transform(token_lists),
            repeats=args.repeats, budget=args.cell_budget, label="anchor TfidfVectorizer(tokens)")
    return {"ours": ours, "rss": rss, "anchors": anchors, "info": info}


def _matrix(folder: Path):
    from scipy import sparse

    path = folder / "tfidf.npz"
    if not path.exists():
        log.info("  tfidf.npz missing in %s: fitting TF-IDF (untimed)", folder.name)
        sparse.save_npz(path, _tfidf(folder).matrix)
    return sparse.load_npz(path).tocsr()


def cell_nmf(folder: Path, args) -> dict:
    from sklearn.decomposition import NMF

    from newslens.analysis import topics

    matrix = _matrix(folder)
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

    from newslens.analysis import topics

    rng = np.random.default_rng(seed)
    n = matrix.shape[0]
    rows = np.sort(rng.choice(n, size=max(k + 1, int(round(BASELINE_SUBSAMPLE * n))), replace=False))
    components = NMF(n_components=k, init="nndsvda", random_state=seed, tol=BASELINE_TOL).fit(matrix[rows]).components_
    top = np.argsort(-components, axis=1, kind="stable")[:, :top_n]
    return {"k": k, "seed": seed, "coherence": topics.mean_coherence(components, binary), "top": top}


def baseline_sweep(matrix, counts, settings, terms, *, n_jobs: int = 2):
    """The exhaustive NMF sweep: every k of ``topics.k_range`` × every seed; returns (table, chosen k)."""
    import numpy as np
    import pandas as pd
    from joblib import Parallel, delayed

    from newslens.analysis import topics

    ks = topics.k_range(settings, *matrix.shape)
    binary = (counts > 0).astype(np.int32).tocsc()
    jobs = [(k, seed) for k in ks for seed in settings.seeds]
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0])  # the largest k first
    done = Parallel(n_jobs=n_jobs, backend="threading")(
        delayed(_baseline_job)(matrix, binary, *jobs[i], settings.top_n) for i in order)
    fits = [fit for _, fit in sorted(zip(order, done), key=lambda pair: pair[0])]
    rows = []
    for k in ks:
        at_k = [f for f in fits if f["k"] == k]
        term_sets = [[list(terms[t]) for t in f["top"]] for f in at_k]
        rows.append({"k": k, "coherence": round(float(np.mean([f["coherence"] for f in at_k])), 6),
                     "coherence_sd": round(float(np.std([f["coherence"] for f in at_k])), 6),
                     "stability": round(topics.stability(term_sets), 6), "fits": len(at_k)})
    table = pd.DataFrame(rows)
    return table, topics.choose_k(table)[0]


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

    def stop(model, matrix, counts, k, *rest, **kwargs):
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
    settings = _news_settings().topics
    if folder_scale(folder) > 1:  # k = 5..20 with two seeds (8 fits, not 24), for both sweeps alike
        settings = settings.model_copy(update={"seeds": list(settings.seeds)[:LARGE_SWEEP_SEEDS],
                                               "k_max": LARGE_SWEEP_K_MAX})
    model = _tfidf(folder)
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
                log.info("  sweep %s run %d: %s s, k = %s", name, index + 1, _fmt_s(runs[name][-1]), info["ks"][name])
            except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
                log.error("  sweep %s failed: %s", name, _short_error(exc))
                errors[name] = _error_record(exc)
        spent = sum(sum(times) for times in runs.values())
        last = sum(times[-1] for times in runs.values() if times)
        if index + 1 < repeats and spent + last > 2 * args.cell_budget:
            log.info("  sweep: cell budget reached after %d pair(s)", index + 1)
            break
    ours = {name: ({"times": times, "median": statistics.median(times), "n": len(times)}
                   if times else errors.get(name, {"error": "no run"})) for name, times in runs.items()}
    return {"ours": ours, "rss": None, "anchors": {}, "info": info}


# Functions of newslens.report.plots that compute values for the text (not figures): kept when plots are stubbed.
PLOT_VALUE_HELPERS = frozenset({"heaps_parameters"})


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


def folder_scale(folder: Path) -> int:
    return int(folder.name[1:]) if folder.name.startswith("x") and folder.name[1:].isdigit() else 1


CELLS = {"ingest": cell_ingest, "tokenize": cell_tokenize, "tfidf": cell_tfidf, "nmf": cell_nmf,
         "pipeline": cell_pipeline, "sweep": cell_sweep, "notebook-compute": cell_notebook_compute}


def driver(args) -> int:
    """One cell in this process: print ``BENCH_RESULT {json}`` on stdout."""
    _setup_logging(prefix=f"[{args.stage} ×{args.scale}] ")
    os.environ.setdefault("TQDM_DISABLE", "1")
    record = {"stage": args.stage, "scale": args.scale, "load_start": _loadavg()}
    start = time.perf_counter()
    try:
        if args.stage == "prepare":
            record["info"] = prepare_inputs(Path(args.work), args.scales)
        else:
            _prewarm()
            record.update(CELLS[args.stage](_scale_dir(Path(args.work), args.scale), args))
    except Exception as exc:  # noqa: BLE001 - reported to the main process
        log.error("failed: %s", _short_error(exc))
        record.update(_error_record(exc))
    record["driver_s"] = round(time.perf_counter() - start, 3)
    record["load_end"] = _loadavg()
    sys.stdout.write(RESULT_TAG + json.dumps(record, default=str) + "\n")
    sys.stdout.flush()
    return 0


# =============================================================================== the main process

def _subprocess_env(extra: dict | None = None) -> dict:
    env = {**os.environ, **THREAD_ENV, "TQDM_DISABLE": "1"}
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra or {})
    return env


def run_command(cmd: list[str], *, env: dict, cwd: Path, timeout: float, prefix: str = "") -> dict:
    """Run a command in its own process group; stream its stderr to ours; keep stdout and a stderr tail."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    tail: list[str] = []

    def pump():
        for line in process.stderr:
            tail.append(line)
            del tail[:-60]
            sys.stderr.write(prefix + line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    stdout_chunks: list[str] = []
    out_reader = threading.Thread(target=lambda: stdout_chunks.append(process.stdout.read()), daemon=True)
    out_reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(process.pid, 9)  # only the group this bench started
        except ProcessLookupError:
            pass
        process.wait()
    reader.join(timeout=10)
    out_reader.join(timeout=10)
    return {"returncode": process.returncode, "seconds": time.perf_counter() - start, "timed_out": timed_out,
            "stdout": "".join(stdout_chunks), "stderr_tail": "".join(tail)}


def run_driver(stage: str, scale: int, args, *, extra_env: dict | None = None, extra_args=(),
               cwd: Path = ROOT) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", stage, "--scale", str(scale),
           "--repeats", str(args.repeats), "--cell-budget", str(args.cell_budget), "--work", str(args.work),
           "--max-anchor-scale", str(args.max_anchor_scale), "--gensim-max-scale", str(args.gensim_max_scale),
           "--mem-guard-gib", str(args.mem_guard_gib),
           "--scales", *map(str, args.scales), *extra_args]
    done = run_command(cmd, env=_subprocess_env(extra_env), cwd=cwd, timeout=args.driver_timeout)
    lines = [line for line in done["stdout"].splitlines() if line.startswith(RESULT_TAG)]
    if lines:
        record = json.loads(lines[-1][len(RESULT_TAG):])
    else:
        reason = "timed out" if done["timed_out"] else f"exit code {done['returncode']}"
        record = {"stage": stage, "scale": scale, "error": f"driver gave no result ({reason})",
                  "stderr_tail": done["stderr_tail"][-3000:]}
    record["wall_s"] = round(done["seconds"], 3)
    return record


def machine_info() -> dict:
    import numpy
    import pandas
    import scipy
    import sklearn

    info = {"nproc": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": numpy.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "pandas": pandas.__version__, "thread_env": {k: os.environ.get(k) for k in THREAD_ENV}}
    for name in ("gensim", "joblib", "simplemma", "ftfy", "papermill"):
        try:
            info[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
            info[name] = None
    try:
        model = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        info["cpu"] = model[0] if model else platform.processor()
        mem = [line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")]
        info["mem_total_gib"] = round(int(mem[0].split()[1]) / 2**20, 1) if mem else None
    except OSError:
        pass
    return info


def notebook_overhead(run_params: Path, args, results: dict, key: str) -> dict:
    """Wall time of ``stage`` + ``render`` for the 5 stages in a sandbox, minus the same stages' compute."""
    out: dict = {"params": _rel(run_params), "stages": {}}
    sandboxes = []
    section_start = time.perf_counter()
    try:
        def sandbox() -> Path:
            return make_sandbox(run_params, key, sandboxes)

        wall_root = sandbox()
        env = _subprocess_env({"NEWSLENS_ROOT": str(wall_root)})
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
            log.info("%s %s: stage %s s, render %s s", key, stage, _fmt_s(row.get("stage_s")),
                     _fmt_s(row.get("render_s")))
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
            row["compute_s"] = _median(compute["ours"][stage])
            row["wall_s"] = row["stage_s"] + row["render_s"]
            row["overhead_s"] = row["wall_s"] - (row["compute_s"] or 0.0)
            wall += row["wall_s"]
            compute_sum += row["compute_s"] or 0.0
        out.update(wall_s=wall, compute_s=compute_sum, overhead_s=wall - compute_sum,
                   overhead_share=(wall - compute_sum) / wall if wall else None)
    except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
        log.error("notebook overhead (%s) failed: %s", key, _short_error(exc))
        out.update(_error_record(exc))
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

    Copies params/, notebooks/, src/, data/raw/seed/, the Makefile, pyproject.toml, requirements.lock
    and the committed ``reports/<run>/topics.json`` (topic ids as `make report` sees them); links
    ``.venv`` and ``data/raw/news-articles``; makes it a git repository (the Makefile asks git for
    the code state). Python still imports the package of this checkout (``PYTHONPATH``).
    """
    root = Path(tempfile.mkdtemp(prefix=f"newslens-bench-{key}-"))
    sandboxes.append(root)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for folder in ("params", "notebooks", "src", "data/raw/seed"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copyfile(ROOT / name, root / name)
    (root / ".venv").symlink_to(ROOT / ".venv")
    (root / "data" / "raw" / "news-articles").symlink_to(ROOT / "data" / "raw" / "news-articles")
    identities = ROOT / "reports" / run_params.stem / "topics.json"
    if identities.exists():
        (root / "reports" / run_params.stem).mkdir(parents=True)
        shutil.copyfile(identities, root / "reports" / run_params.stem / "topics.json")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def report_section(args) -> dict:
    """Cold ``make report PARAMS=params/news.yaml`` against ``bare_report.py``, then the news run's compute.

    The two alternate ``--report-repeats`` times (each make in a fresh sandbox: cold), timed from
    outside; medians. Then the five notebooks' code runs in process in one more sandbox
    (``cell_notebook_compute``, display stubbed out): make's wall time minus that compute is the
    notebook layer's overhead.
    """
    out: dict = {"params": _rel(NEWS_PARAMS), "make": [], "bare": []}
    sandboxes: list[Path] = []
    section_start = time.perf_counter()
    params_arg = f"params/{NEWS_PARAMS.name}"
    try:
        for index in range(args.report_repeats):
            root = make_sandbox(NEWS_PARAMS, "report", sandboxes)
            env = _subprocess_env({"NEWSLENS_ROOT": str(root)})
            env.pop("TQDM_DISABLE", None)  # as `make report` runs it
            done = run_command(["make", "-C", str(root), "-o", ".venv/.installed", "report", f"PARAMS={params_arg}"],
                               env=env, cwd=root, timeout=args.driver_timeout, prefix="[make report] ")
            if done["returncode"] != 0:
                raise RuntimeError(f"make report exited {done['returncode']}: {done['stderr_tail'][-1500:]}")
            out["make"].append(round(done["seconds"], 3))
            with tempfile.TemporaryDirectory(prefix="newslens-bare-") as figures:
                done = run_command([sys.executable, str(HERE / "bare_report.py"), "--out", figures, "--json"],
                                   env=_subprocess_env(), cwd=ROOT, timeout=args.driver_timeout,
                                   prefix="[bare report] ")
            if done["returncode"] != 0:
                raise RuntimeError(f"bare_report.py exited {done['returncode']}: {done['stderr_tail'][-1500:]}")
            out["bare"].append(round(done["seconds"], 3))
            out["bare_k"] = json.loads(done["stdout"].strip().splitlines()[-1])["k"]
            log.info("report run %d: make report %s s, bare script %s s", index + 1, _fmt_s(out["make"][-1]),
                     _fmt_s(out["bare"][-1]))
            shutil.rmtree(root, ignore_errors=True)
        out["make_s"], out["bare_s"] = statistics.median(out["make"]), statistics.median(out["bare"])
        compute_root = make_sandbox(NEWS_PARAMS, "compute", sandboxes)
        compute_args = argparse.Namespace(**{**vars(args), "repeats": 1})
        compute = run_driver("notebook-compute", 1, compute_args, extra_env={"NEWSLENS_ROOT": str(compute_root)},
                             extra_args=("--params", params_arg), cwd=compute_root)
        if "error" in compute:
            raise RuntimeError(f"compute driver: {compute['error']}")
        out["compute_runs"] = compute["ours"]  # errors included: they show in RESULTS.md
        out["compute"] = {stage: _median(m) for stage, m in compute["ours"].items()}
        failed = [stage for stage, value in out["compute"].items() if value is None]
        if failed:
            raise RuntimeError(f"the in-process compute of {', '.join(failed)} failed: no overhead")
        out["compute_s"] = sum(out["compute"].values())
        out["overhead_s"] = out["make_s"] - out["compute_s"]
        out["overhead_share"] = out["overhead_s"] / out["make_s"]
    except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
        log.error("report section failed: %s", _short_error(exc))
        out.update(_error_record(exc))
    finally:
        out["section_s"] = round(time.perf_counter() - section_start, 1)
        for root in sandboxes:
            if not args.keep_sandbox:
                shutil.rmtree(root, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- analysis and report

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


def _cell(results: dict, stage: str, scale: int) -> dict:
    return results.get("cells", {}).get(stage, {}).get(str(scale), {})


def pipeline_ours(results: dict, scale: int) -> float | None:
    parts = [_median(_cell(results, stage, scale).get("ours")) for stage in OUR_STAGES]
    return None if any(p is None for p in parts) else sum(parts)


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")


def ratio_target(values: dict, limit: float) -> bool | None:
    """MET when every measured value is at most ``limit``; n/a when nothing was measured."""
    known = [v for v in values.values() if v is not None]
    return None if not known else all(v <= limit for v in known)


def sweep_target(sweeps: dict, limit: float) -> tuple[dict, bool | None]:
    """The library's sweep against today's at each scale: the time ratio and both chosen ks.

    MET only when the ratio is at most ``limit`` *and* the two chose the same k at every scale run.
    """
    values, oks = {}, []
    for scale, record in sorted(sweeps.items(), key=lambda item: int(item[0])):
        ours, ks = record.get("ours") or {}, (record.get("info") or {}).get("ks") or {}
        ratio = _ratio(_median(ours.get("library")), _median(ours.get("baseline")))
        values[f"×{scale}"] = ratio
        values[f"×{scale} k (today / new)"] = f"{ks.get('baseline', '–')} / {ks.get('library', '–')}"
        if ratio is None or "baseline" not in ks or "library" not in ks:
            oks.append(None)
        else:
            oks.append(ratio <= limit and ks["baseline"] == ks["library"])
    if not oks or any(ok is None for ok in oks):
        return values, (False if any(ok is False for ok in oks) else None)
    return values, all(oks)


def evaluate_targets(results: dict) -> list[dict]:
    """Each target's measured values and MET / NOT MET / n/a (not measured in this run)."""
    scales = sorted(results["settings"]["scales"])
    top, low = scales[-1], scales[0]
    rows = []

    def add(name, limit, values: dict, ok, unit: str = "x") -> None:
        rows.append({"target": name, "limit": limit, "values": values, "status": _status(ok), "unit": unit})

    def stage_ratios(stage, anchor, limit, name):
        values = {f"×{scale}": _ratio(_median(_cell(results, stage, scale).get("ours")),
                                      _median((_cell(results, stage, scale).get("anchors") or {}).get(anchor)))
                  for scale in scales}
        add(name, f"≤ {limit}×", values, ratio_target(values, limit))

    stage_ratios("tokenize", "sklearn_tfidfvectorizer", TARGETS["tokenize_vs_tfidf"],
                 'tokenize ≤ 2.0× TfidfVectorizer(stop_words="english") on the same texts')
    stage_ratios("ingest", "sklearn_tfidfvectorizer", TARGETS["ingest_vs_tfidf"],
                 'ingest ≤ 1.5× TfidfVectorizer(stop_words="english") on the same texts')
    values = {f"×{scale}": _ratio(pipeline_ours(results, scale), _median(
        (_cell(results, "pipeline", scale).get("anchors") or {}).get("sklearn_example_tfidf_nmf"))) for scale in scales}
    add("whole pipeline ≤ 2.5× scikit-learn's topic-extraction example", f"≤ {TARGETS['pipeline_vs_example']}×",
        values, ratio_target(values, TARGETS["pipeline_vs_example"]))
    report = results.get("report") or {}
    value = _ratio(report.get("make_s"), report.get("bare_s"))
    add("cold `make report PARAMS=params/news.yaml` ≤ 1.0× bare_report.py", f"≤ {TARGETS['report_vs_bare']}×",
        {"ratio": value, "make report (s)": report.get("make_s"), "bare (s)": report.get("bare_s")},
        None if value is None else value <= TARGETS["report_vs_bare"])
    if top > low:
        limit = TARGETS["scaling_16"] * (top / low) / 16.0
        values = {stage: _ratio(_median(_cell(results, stage, top).get("ours")),
                                _median(_cell(results, stage, low).get("ours"))) for stage in OUR_STAGES}
        ok = ratio_target(values, limit)
        add(f"time(×{top})/time(×{low}) ≤ {limit:g} for every stage", f"≤ {limit:g}", values,
            None if ok and any(v is None for v in values.values()) else ok)
    else:
        add("time(×16)/time(×1) ≤ 17 for every stage", "≤ 17", {}, None)
    values, ok = sweep_target(results.get("sweep") or {}, TARGETS["sweep_vs_today"])
    add("k sweep ≤ 0.5× today's exhaustive sweep, same k (×1 and ×16)", f"≤ {TARGETS['sweep_vs_today']}×",
        values, None if ok and not {"1", "16"} <= set(results.get("sweep") or {}) else ok)
    engines = results.get("engines") or {}
    hours = engines.get("total_h")
    add(f"10 million documents on {engines.get('workers', 32)} Dask workers ≤ 1 h (estimate, ENGINES.md)",
        f"≤ {TARGETS['engines_hours']} h",
        {"hours": hours, "parallel (h)": engines.get("parallel_h"), "serial driver (h)": engines.get("serial_h")},
        None if hours is None else hours <= TARGETS["engines_hours"], unit="h")
    # The news run's share decides; the seed run's (one article: nearly all overhead) is shown beside it.
    news_share = report.get("overhead_share")
    shares = {"news (make report)": news_share}
    shares.update({f"{key} (stage + render, not judged)": data.get("overhead_share")
                   for key, data in (results.get("overhead") or {}).items()})
    add("notebook overhead ≤ 30% of the news run's `make report` wall time", "≤ 30%", shares,
        None if news_share is None else news_share <= TARGETS["overhead_share"], unit="%")
    values = {}
    for stage in OUR_STAGES:
        rss = _cell(results, stage, top).get("rss") or {}
        values[stage] = None if rss.get("peak_mib") is None else rss["peak_mib"] / GIB
    known = [v for v in values.values() if v is not None]
    add(f"peak RSS at ×{top} ≤ 6 GiB" + ("" if top == 16 else " (×16 not run)"), "≤ 6 GiB", values,
        None if top != 16 or len(known) < len(OUR_STAGES) else all(v <= TARGETS["peak_rss_gib"] for v in known),
        unit="GiB")
    return rows


def estimate_full_run(results: dict, scales=(1, 4, 16), repeats: int = 3, budget: float | None = None,
                      max_anchor_scale: int = 10**6) -> dict | None:
    """Linear extrapolation of a run's ×1 cells to the full settings (a floor: super-linear parts take longer)."""
    budget = budget or results["settings"]["cell_budget"]
    if 1 not in results["settings"]["scales"]:
        return None

    def planned(t: float) -> float:
        runs = max(1, min(repeats, int(budget // t))) if t > 0 else repeats
        return runs * t

    total, per_cell = 0.0, {}
    for stage in CELL_STAGES:
        cell = _cell(results, stage, 1)
        if not cell or "wall_s" not in cell:
            continue
        measured, is_anchor = [], []
        for m, anchor in [(cell.get("ours"), False)] + [(a, True) for a in (cell.get("anchors") or {}).values()]:
            if isinstance(m, dict) and m.get("times"):
                measured.append(m["times"])
                is_anchor.append(anchor)
        extra = [m for m in (cell.get("info") or {}).values() if isinstance(m, dict) and m.get("times")]
        spent = sum(sum(times) for times in measured) + sum(sum(m["times"]) for m in extra)
        fixed = max(cell["wall_s"] - spent, 0.0)
        startup = min(fixed, 5.0)  # interpreter and imports; the rest (inputs, outputs) grows with the scale
        for scale in scales:
            seconds = startup + (fixed - startup) * scale
            seconds += sum(planned(statistics.median(times) * scale) for times, anchor in zip(measured, is_anchor)
                           if not anchor or scale <= max_anchor_scale)
            if scale == 1:  # one-off extra measurements (tokenize with n_jobs=1)
                seconds += sum(sum(m["times"]) for m in extra)
            per_cell[f"{stage} ×{scale}"] = round(seconds, 1)
            total += seconds
    for record in (results.get("sweep") or {}).values():  # ×1 only in a --quick run: ×16 is about 16× that
        total += record.get("wall_s", 0.0) * (1 + (16 if 16 in scales else 0))
    for data in [results.get("report") or {}] + list((results.get("overhead") or {}).values()):
        total += data.get("section_s") or 0.0
    return {"seconds": round(total), "per_cell": per_cell, "scales": list(scales), "repeats": repeats,
            "cell_budget": budget, "max_anchor_scale": max_anchor_scale}


def add_engines_estimate(results_json: Path, estimate: dict) -> None:
    """Put engines.py's 10-million-document estimate into a bench run's results and rewrite its RESULTS.md."""
    results_json = Path(results_json)
    results = json.loads(results_json.read_text(encoding="utf-8"))
    results["engines"] = {"total_h": estimate["total_h"], "parallel_h": estimate["parallel_h"],
                          "serial_h": estimate["serial_h"], "workers": estimate["workers"],
                          "from_scales": ", ".join(f"×{s}" for s in estimate["scales"])}
    results["targets"] = evaluate_targets(results)
    write_report(results, results_json.parent)


def write_report(results: dict, out_dir: Path) -> None:
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    (out_dir / "RESULTS.md").write_text(render_markdown(results), encoding="utf-8")


def render_markdown(results: dict) -> str:
    settings, machine = results["settings"], results.get("machine", {})
    scales = settings["scales"]
    lines = ["# newslens benchmark results", "",
             f"Command: `{results['command']}`  ", f"Date: {results['date']}  ",
             f"Bench wall time: {_fmt_s(results.get('bench_seconds'))} s  ",
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
             f"(the *n* column); times are medians in seconds of in-process compute. See `benchmarks/README.md`.", ""]

    lines += ["## Targets", "", "| target | measured | status |", "|---|---|---|"]
    for row in results.get("targets", []):
        values = ", ".join(f"{k}: {_fmt_value(v, row['unit'], k)}" for k, v in row["values"].items()) or "not measured"
        lines.append(f"| {row['target']} | {values} | **{row['status']}** |")
    lines.append("")

    lines += ["## Stages against their anchors", "",
              "ratio = ours / anchor (below 1: ours is faster).", "",
              "| stage | scale | ours (s) | n | anchor | anchor (s) | n | ratio |", "|---|---|---|---|---|---|---|---|"]
    for stage in OUR_STAGES:
        for scale in scales:
            cell = _cell(results, stage, scale)
            ours = cell.get("ours") or {}
            anchors = cell.get("anchors") or {}
            if not anchors:
                lines.append(f"| {STAGE_NAMES[stage]} | ×{scale} | {_fmt_m(ours)} | {ours.get('n', '–')} | – | – | – | – |")
            for name, anchor in anchors.items():
                lines.append(f"| {STAGE_NAMES[stage]} | ×{scale} | {_fmt_m(ours)} | {ours.get('n', '–')} | "
                             f"{ANCHOR_NAMES.get(name, name)} | {_fmt_m(anchor)} | {anchor.get('n', '–')} | "
                             f"{_fmt_ratio(_ratio(_median(ours), _median(anchor)))} |")
    lines.append("")
    notes = []
    for scale in scales:
        info = _cell(results, "tokenize", scale).get("info") or {}
        ours = _median(_cell(results, "tokenize", scale).get("ours"))
        serial = info.get("n_jobs_1")
        if isinstance(serial, dict) and serial.get("median") is not None:
            notes.append(f"- tokenize ×{scale} with `n_jobs=1` (one run): {_fmt_s(serial['median'])} s, against "
                         f"{_fmt_s(ours)} s with the default `n_jobs=2`: the two workers give a "
                         f"{_fmt_ratio(_ratio(serial['median'], ours))} speed-up.")
    for scale in scales:
        info = _cell(results, "tfidf", scale).get("info") or {}
        if info.get("load_analyzer_s") is not None:
            notes.append(f"- TF-IDF ×{scale}: `tokenization.load_analyzer` (reading tokens.parquet, not timed above) "
                         f"took {_fmt_s(info['load_analyzer_s'])} s; matrix {info.get('documents')} × "
                         f"{info.get('terms')}, {info.get('nnz')} non-zeros.")
    if notes:
        lines += notes + [""]
    rows = [(scale, _cell(results, "ingest", scale).get("info") or {}) for scale in scales]
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

    lines += ["## Whole pipeline (ingest + tokenize + TF-IDF + one NMF fit)", "",
              "Ours is the sum of the four stage medians above; the anchors start from the same raw CSV.", "",
              "| scale | ours (s) | anchor | anchor (s) | n | ratio |", "|---|---|---|---|---|---|"]
    for scale in scales:
        ours = pipeline_ours(results, scale)
        for name, anchor in (_cell(results, "pipeline", scale).get("anchors") or {}).items():
            lines.append(f"| ×{scale} | {_fmt_s(ours)} | {ANCHOR_NAMES.get(name, name)} | {_fmt_m(anchor)} | "
                         f"{anchor.get('n', '–')} | {_fmt_ratio(_ratio(ours, _median(anchor)))} |")
    lines.append("")

    lines += ["## Scaling", "", "| stage | " + " | ".join(f"×{s} (s)" for s in scales)
              + (f" | ×{scales[-1]} / ×{scales[0]} |" if len(scales) > 1 else " |"),
              "|---|" + "---|" * len(scales) + ("---|" if len(scales) > 1 else "")]
    for stage in OUR_STAGES:
        medians = [_median(_cell(results, stage, s).get("ours")) for s in scales]
        row = f"| {STAGE_NAMES[stage]} | " + " | ".join(_fmt_s(m) for m in medians) + " |"
        if len(scales) > 1:
            row += f" {_fmt_ratio(_ratio(medians[-1], medians[0]))} |"
        lines.append(row)
    lines.append("")

    lines += ["## Peak memory (each stage in its own process)", "",
              "MiB. *baseline*: peak before the stage ran (interpreter, libraries, inputs loaded); *self*: "
              "`ru_maxrss` of the process after the stage; *tree*: sampled sum over the process and its "
              "worker processes (loky), every 0.1 s.", "",
              "| stage | scale | baseline | self | tree | peak |", "|---|---|---|---|---|---|"]
    for stage in OUR_STAGES:
        for scale in scales:
            rss = _cell(results, stage, scale).get("rss") or {}
            lines.append(f"| {STAGE_NAMES[stage]} | ×{scale} | {_fmt_mib(rss.get('baseline_mib'))} | "
                         f"{_fmt_mib(rss.get('self_peak_mib'))} | {_fmt_mib(rss.get('tree_peak_mib'))} | "
                         f"{'≥ ' if rss.get('guard_hit') else ''}{_fmt_mib(rss.get('peak_mib'))}"
                         f"{' (memory guard hit)' if rss.get('guard_hit') else ''} |")
    lines.append("")

    lines += ["## k sweep: the library's against today's exhaustive sweep", "",
              "*today*: `baseline_sweep` in bench.py, a copy of the sweep before the speed work (every k × "
              "seed, NMF tol 1e-3 on each seed's 80% subsample, 2 threads); *new*: `topics.run_topics` up to "
              "its choice of k, as the topics notebook calls it. News topics params; alternating.", "",
              "| scale | matrix | today (s) | n | new (s) | n | new / today | k today | k new |",
              "|---|---|---|---|---|---|---|---|---|"]
    for scale, record in sorted((results.get("sweep") or {}).items(), key=lambda item: int(item[0])):
        ours, info = record.get("ours") or {}, record.get("info") or {}
        base, new = ours.get("baseline") or {}, ours.get("library") or {}
        ks = info.get("ks") or {}
        lines.append(f"| ×{scale} | {info.get('shape', '–')} | {_fmt_m(base)} | {base.get('n', '–')} | "
                     f"{_fmt_m(new)} | {new.get('n', '–')} | {_fmt_ratio(_ratio(_median(new), _median(base)))} | "
                     f"{ks.get('baseline', '–')} | {ks.get('library', '–')} |")
    if not results.get("sweep"):
        lines.append("Not run.")
    lines.append("")

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
                  f"| {_fmt_s(report['make_s'])} | {_fmt_s(report.get('bare_s'))} | "
                  f"{_fmt_ratio(_ratio(report['make_s'], report.get('bare_s')))} | {_fmt_s(report.get('compute_s'))} | "
                  f"{_fmt_s(report.get('overhead_s'))} | {_fmt_pct(report.get('overhead_share'))} |", "",
                  "In-process compute per stage (the notebooks' code cells, display stubbed out): "
                  + ", ".join(f"{stage} {_fmt_s(value)} s" for stage, value in compute.items()) + ".", ""]
    elif report.get("error"):
        lines += [f"Failed: {report['error']}", ""]
    else:
        lines += ["Not run.", ""]

    engines = results.get("engines") or {}
    if engines:
        lines += ["## 10 million documents on 32 Dask workers (from ENGINES.md)", "",
                  f"Extrapolated from the Dask runs at {engines.get('from_scales')}: parallel per-partition work "
                  f"{engines.get('parallel_h')} h + serial driver work {engines.get('serial_h')} h = "
                  f"**{engines.get('total_h')} h**.", ""]

    lines += ["## Notebook-layer overhead (seed run, per stage)", "",
              "Wall time of `python -m newslens stage` + `render` per stage in a sandbox copy of the "
              "project, minus the same notebooks' code run in-process with plotting and report display "
              "stubbed out (imports done beforehand).", ""]
    for key, data in (results.get("overhead") or {}).items():
        if data.get("error") and not data.get("wall_s"):
            lines += [f"**{key}**: failed: {data['error']}", ""]
            continue
        lines += [f"**{key}** run (`{data.get('params')}`): wall {_fmt_s(data.get('wall_s'))} s, compute "
                  f"{_fmt_s(data.get('compute_s'))} s, overhead {_fmt_s(data.get('overhead_s'))} s "
                  f"= {_fmt_pct(data.get('overhead_share'))} of the wall time.", "",
                  "| stage | stage (s) | render (s) | compute (s) | overhead (s) |", "|---|---|---|---|---|"]
        for stage, row in data.get("stages", {}).items():
            lines.append(f"| {stage} | {_fmt_s(row.get('stage_s'))} | {_fmt_s(row.get('render_s'))} | "
                         f"{_fmt_s(row.get('compute_s'))} | {_fmt_s(row.get('overhead_s'))} |")
        lines.append("")
    if not results.get("overhead"):
        lines += ["Not run.", ""]

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

    errors = _collect_errors(results)
    lines += ["## Errors", ""] + ([f"- {e}" for e in errors] if errors else ["None."]) + [""]
    return "\n".join(lines)


def _fmt_value(value, unit: str, key: str = "") -> str:
    """One measured value of a target row: text as it is, seconds and hours by the key's unit, else the row's unit."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if key.endswith("(s)"):
        return f"{_fmt_s(value)} s"
    if key.endswith("(h)") or unit == "h":
        return f"{value:.2f} h"
    if unit == "%":
        return f"{value:.0%}"
    if unit == "GiB":
        return f"{value:.2f} GiB"
    return f"{value:.2f}×"


def _fmt_m(measurement: dict | None) -> str:
    if not measurement:
        return "–"
    if "median" in measurement:
        return _fmt_s(measurement["median"])
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


# --------------------------------------------------------------------------- main

def default_mem_guard_gib() -> float:
    try:
        available = [line for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemAvailable")]
        return round(min(16.0, 0.8 * int(available[0].split()[1]) / 2**20), 1)
    except (OSError, IndexError, ValueError):
        return 16.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16], help="replication factors")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--quick", action="store_true", help="smoke test: --scales 1 --repeats 1")
    parser.add_argument("--cell-budget", type=float, default=150.0,
                        help="seconds: stop repeating a measurement when its runs would pass this (default 150; "
                             "'inf' always runs --repeats)")
    parser.add_argument("--max-anchor-scale", type=int, default=10**6,
                        help="skip the anchors above this scale (ours is still measured)")
    parser.add_argument("--gensim-max-scale", type=int, default=10**6,
                        help="skip the gensim anchors (Phrases, LdaModel) above this scale (`make bench`: 1)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--sweep-scales", type=int, nargs="+", default=[1, 16],
                        help="scales at which the k sweep is timed against today's (default 1 16; those in --scales)")
    parser.add_argument("--report-repeats", type=int, default=1,
                        help="cold `make report` / bare script pairs (default 1: a cold news build takes minutes)")
    parser.add_argument("--work", default=str(DEFAULT_WORK), help="folder for inputs and intermediates")
    parser.add_argument("--out", default=str(HERE), help="folder for results.json and RESULTS.md")
    parser.add_argument("--keep-sandbox", action="store_true", help="keep the overhead sandboxes")
    parser.add_argument("--driver-timeout", type=float, default=4 * 3600.0, help="seconds per subprocess")
    parser.add_argument("--mem-guard-gib", type=float, default=None,
                        help="stop a stage whose processes pass this RSS (default: 80%% of the memory available "
                             "at the start, at most 16 GiB; 0 disables)")
    # driver mode (internal)
    parser.add_argument("--stage", choices=sorted(CELLS) + ["prepare"], help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--params", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.scales, args.repeats = [1], 1
    if args.mem_guard_gib is None:
        args.mem_guard_gib = default_mem_guard_gib()
    args.scales = sorted(set(args.scales))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.stage:
        return driver(args)
    _setup_logging()
    from tqdm import tqdm

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = shlex.join([_rel_path(sys.executable), _rel_path(sys.argv[0])] + sys.argv[1:]) if argv is None \
        else shlex.join([_rel_path(sys.executable), "benchmarks/bench.py", *argv])
    started = time.perf_counter()
    results = {"command": command, "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
               "settings": {"scales": args.scales, "repeats": args.repeats, "cell_budget": args.cell_budget,
                            "max_anchor_scale": args.max_anchor_scale,
                            "gensim_max_scale": args.gensim_max_scale, "sections": args.sections,
                            "mem_guard_gib": args.mem_guard_gib,
                            "topic_k": TOPIC_K, "sweep_scales": args.sweep_scales,
                            "report_repeats": args.report_repeats},
               "load_start": _loadavg(), "cells": {}, "sweep": {}, "overhead": {}}
    try:
        results["machine"] = machine_info()
    except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
        results["machine"] = _error_record(exc)
    if (results["load_start"] or [0])[0] >= 1:
        log.warning("load average %s: the machine is busy, timings will be noisy", results["load_start"])

    def save():
        results["bench_seconds"] = round(time.perf_counter() - started, 1)
        results["load_end"] = _loadavg()
        try:
            results["targets"] = evaluate_targets(results)
            results["estimate_full_run"] = estimate_full_run(results) if args.scales == [1] else None
            results["estimate_full_run_anchors_to_x4"] = (estimate_full_run(results, max_anchor_scale=4)
                                                          if args.scales == [1] else None)
        except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
            results["report_error"] = _error_record(exc)
        write_report(results, out_dir)

    plan = []
    if "stages" in args.sections:
        plan += [("prepare", 0)] + [(stage, scale) for scale in args.scales for stage in CELL_STAGES]
    if "sweep" in args.sections:
        if "stages" not in args.sections:
            plan.append(("prepare", 0))
        plan += [("sweep", scale) for scale in args.sweep_scales if scale in args.scales]
    if "report" in args.sections:
        plan.append(("report", 0))
    if "overhead" in args.sections:
        plan.append(("overhead", "seed"))
    bar = tqdm(plan, desc="bench", unit="cell", file=sys.stderr, disable=False, dynamic_ncols=True)
    for stage, scale in bar:
        bar.set_postfix_str(f"overhead {scale}" if stage == "overhead" else
                            "report" if stage == "report" else f"{stage} ×{scale}")
        try:
            if stage == "prepare":
                record = run_driver("prepare", 0, args)
                results["inputs"] = record
                if "error" in record:
                    log.error("preparing the inputs failed: %s", record["error"])
            elif stage == "sweep":
                results["sweep"][str(scale)] = run_driver("sweep", scale, args)
            elif stage == "report":
                results["report"] = report_section(args)
            elif stage == "overhead":
                params = SEED_PARAMS if scale == "seed" else NEWS_PARAMS
                results["overhead"][scale] = notebook_overhead(params, args, results, scale)
            else:
                results["cells"].setdefault(stage, {})[str(scale)] = run_driver(stage, scale, args)
        except Exception as exc:  # noqa: BLE001 - one cell never stops the bench
            log.error("%s ×%s failed: %s", stage, scale, _short_error(exc))
            target = results["cells"].setdefault(stage, {}) if stage in CELL_STAGES else results
            target[str(scale) if stage in CELL_STAGES else stage] = _error_record(exc)
        save()
    bar.close()
    save()
    log.info("wrote %s and %s in %.0f s", _rel(out_dir / "results.json"), _rel(out_dir / "RESULTS.md"),
             results["bench_seconds"])
    for row in results.get("targets", []):
        log.info("%-55s %s", row["target"], row["status"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
