"""Stage 04: topic models with evidence for k, stable identities and kept labels.

* **Models**: NMF on the TF-IDF matrix (``init="nndsvda"``, fixed seed) or LDA on
  the raw counts of the same vocabulary, both from scikit-learn, or for short texts
  the biterm topic model on the same counts (:mod:`newslens.analysis.short_texts`);
  ``topics.model: auto`` picks BTM for a corpus of short texts and NMF otherwise.
* **k range**: the sweep's ks are capped by what the corpus supports
  (:func:`newslens.analysis.short_texts.k_cap`: ⌊√N⌋ for N documents, V / top_n for V terms).
* **Coherence, stability and the choice of k**: :mod:`newslens.analysis.topic_quality`
  (NPMI of top terms from document co-occurrence; stability from refits on random 80%
  subsamples, nndsvda being deterministic, matched by :mod:`newslens.analysis.matching`).
* **Identities and labels**: :mod:`newslens.analysis.identities`.
* **Large corpora**: above :data:`newslens.analysis.topic_sample.SWEEP_SAMPLE` documents
  (``topics.sample_documents``), the sweep and the final model are fitted on a sample chosen
  by a hash of the doc ids, and every document's weights come from that model's ``transform``
  (:mod:`newslens.analysis.topic_sample`); at or below it, on every document.
* **Baselines**: :mod:`newslens.analysis.anchors`.
* **Display precision**: every order and choice (topics by prevalence, top terms,
  k) is made on the full-precision values; the values the reports show are then
  rounded to the precision they are shown with
  (:data:`newslens.analysis.topic_quality.SHOWN`), because their last
  bits depend on the machine (BLAS kernels in NMF, SIMD ``log`` in NPMI). The sweep
  and each document's mixture keep 6 decimals: k is chosen from the first, and the
  per-group and per-week means are computed from the second.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.params import TopicsParams
from newslens.stages import TFIDF_FILES
from newslens.precision import display_values
from newslens.analysis.identities import assign_ids, load_identities, load_labels
from newslens.analysis.short_texts import ShortTexts, choose_model, k_cap
from newslens.analysis.topic_quality import (SHOWN, TopicsError, choose_k, exclusivity, k_evidence,
                                             mean_coherence, mixed_topics, npmi_coherence, rank_terms, stability)

if TYPE_CHECKING:
    from newslens.analysis.anchors import StoredTexts
    from newslens.analysis.topic_effects import TopicEffects
    from newslens.analysis.topic_pass import CorpusStats
    from newslens.engine import Engine
    from newslens.corpus.periods import Resolution
    from newslens.stages import StageRun

logger = logging.getLogger(__name__)

SUBSAMPLE = 0.8
# The sweep only ranks k: NMF there stops at a 5e-3 relative change (the final fit: 1e-4).
# It runs in float64, like the final fit. In float32 the BLAS kernel's last bits (OpenBLAS
# picks SkylakeX, Haswell or Prescott kernels by CPU) grew over the iterations into other
# top terms, and the sweep's scores differed in their fourth digit from CPU to CPU; in float64
# they are the same on every kernel (tests/test_cpu_paths.py), at 1.3-1.5× the float32 time.
SWEEP_TOL = 5e-3
SWEEP_DTYPE = np.float64
SMALL_CORPUS = 200
# NMF spends its time in scipy's sparse products and scikit-learn's coordinate descent,
# which release the GIL: threads share the matrices with no worker start-up, no import of
# scikit-learn and no copy per fit (worker processes spent more on those than they saved:
# 0.6-0.9× on 2 cores). LDA's E-step is a Python loop over documents: processes.
# BTM's Gibbs sampler is Cython that holds the GIL: processes too.
_SWEEP_BACKEND = {"nmf": "threading", "lda": "loky", "btm": "loky"}


# ---------------------------------------------------------------- fitting

def estimator_for(model: str, k: int, seed: int, *, tol: float = 1e-4):
    """The unfitted scikit-learn estimator of ``model`` (``nmf`` or ``lda``) at ``k`` and ``seed``.

    NMF uses scikit-learn's defaults but for the structured init; the sweep passes
    a looser ``tol`` (:data:`SWEEP_TOL`), which ranks k the same at a fraction of the cost.
    """
    from sklearn.decomposition import NMF, LatentDirichletAllocation

    if model == "nmf":
        return NMF(n_components=k, init="nndsvda", random_state=seed, tol=tol)
    return LatentDirichletAllocation(n_components=k, random_state=seed, learning_method="batch", max_iter=50)


def fit_model(model: str, matrix: sparse.csr_matrix, k: int, seed: int, *, tol: float = 1e-4):
    """Fit NMF (on TF-IDF), LDA or BTM (on counts); returns (doc_topic, topic_term) arrays
    (the estimator: :func:`estimator_for`)."""
    if model == "btm":
        from newslens.analysis.short_texts import fit_btm

        return fit_btm(matrix, k, seed)
    estimator = estimator_for(model, k, seed, tol=tol)
    doc_topic = estimator.fit_transform(matrix)
    return doc_topic, estimator.components_


class SampleSource(NamedTuple):
    """The rows a topic model's sweep is fitted on, as references a worker reads them from: stage 03's
    TF-IDF files (entries, terms, documents), the topics settings (which fix the sample and the terms
    cap), the model (NMF and LDA are fitted on the sample, BTM on every row) and the shape the driver
    holds, which the rows read must have. It pickles to well under a kilobyte, whatever the corpus."""

    files: tuple[str, str, str]
    settings: TopicsParams
    model: str
    shape: tuple[int, int]

    def read(self):
        """The rows, read as the stage reads them (:func:`model_inputs`): a :class:`~newslens.analysis.tfidf.TfidfModel`."""
        from newslens.analysis.tfidf import read_tfidf
        from newslens.analysis.topic_sample import terms_cap, topic_sample

        doc_ids = pd.read_parquet(self.files[2])["doc_id"].tolist()
        rows = topic_sample(doc_ids, self.settings) if self.model in ("nmf", "lda") else None
        tfidf = read_tfidf(*map(Path, self.files), max_terms=terms_cap(self.settings), rows=rows)
        if tfidf.matrix.shape != tuple(self.shape):
            raise ValueError(f"topics: the sweep's rows read from {self.files[0]} are {tfidf.matrix.shape}, "
                             f"not the {tuple(self.shape)} the stage holds: the files changed during the run")
        return tfidf

    def key(self) -> tuple:
        """What the rows depend on: the files as they are now (size and modification time), the settings
        and the model; a worker keeps the rows it read under this key (:func:`_sweep_data`)."""
        import os

        stats = tuple((name, os.stat(name).st_size, os.stat(name).st_mtime_ns) for name in self.files)
        return stats, self.settings.model_dump_json(), self.model, tuple(self.shape)


def sweep_matrices(model: str, matrix: sparse.csr_matrix, counts: sparse.csr_matrix):
    """What the sweep's fits read: the model's data (NMF: the TF-IDF in :data:`SWEEP_DTYPE`; LDA and
    BTM: the counts) and the binary counts coherence is scored on."""
    data = matrix.astype(SWEEP_DTYPE, copy=False) if model == "nmf" else counts
    return data, (counts > 0).astype(np.int32).tocsc()


_HELD: dict[tuple, tuple] = {}  # in a worker process: the sweep's rows, read once for all its fits


def _sweep_data(source: SampleSource) -> tuple:
    """:func:`sweep_matrices` of ``source``'s rows, read once per worker process and kept for the
    sweep's other fits (the last source's only: a new key replaces it)."""
    key = source.key()
    if key not in _HELD:
        _HELD.clear()
        tfidf = source.read()
        _HELD[key] = sweep_matrices(source.model, tfidf.matrix, tfidf.counts)
    return _HELD[key]


class FinalFit(NamedTuple):
    """The final model's fit as one task: the rows' :class:`SampleSource` (which names the model), k
    and the seed. It pickles to well under a kilobyte, whatever the corpus."""

    source: SampleSource
    k: int
    seed: int


def final_fit(job: FinalFit):
    """The fitted estimator (:func:`estimator_for`) of ``job``'s rows, read in this process (or found
    held from the sweep's fits, :func:`_sweep_data`, and not kept after): on a worker, the fit's working memory is never
    the driver's. One BLAS thread, so that the fit is the same bits in a worker of any engine."""
    from threadpoolctl import threadpool_limits

    held = _HELD.get(job.source.key())  # a worker that swept holds the rows; else they are read for this fit only
    if held is None:
        rows = job.source.read()
        held = sweep_matrices(job.source.model, rows.matrix, rows.counts)
    data, _ = held
    estimator = estimator_for(job.source.model, job.k, job.seed)
    with threadpool_limits(limits=1):
        estimator.fit(data)
    return estimator


def _sweep_job(model: str, matrix, binary, k: int, seed: int, top_n: int) -> dict:
    """One (k, seed) fit of the sweep on the seed's 80% subsample."""
    rng = np.random.default_rng(seed)
    n = matrix.shape[0]
    rows = np.sort(rng.choice(n, size=max(k + 1, int(round(SUBSAMPLE * n))), replace=False))
    _, components = fit_model(model, matrix[rows], k, seed, tol=SWEEP_TOL)
    top = rank_terms(components, top_n)
    return {"k": k, "seed": seed, "coherence": mean_coherence(components, binary), "top": top}


def k_range(settings: TopicsParams, n_documents: int, n_terms: int) -> list[int]:
    """The ks to sweep, capped by what the corpus supports (:func:`~newslens.analysis.short_texts.k_cap`).

    A given k need only be below the numbers of documents and terms. A sweep keeps its
    ks up to the cap; when the cap is below ``k_min``, it searches 2 to the cap instead.
    """
    limit = min(n_documents - 1, n_terms - 1)
    if settings.k != "auto":
        if settings.k > limit:
            raise TopicsError(f"topics.k={settings.k} is larger than this run supports "
                              f"({n_documents} documents, {n_terms} terms: at most {limit})")
        return [settings.k]
    ks = list(range(settings.k_min, settings.k_max + 1, settings.k_step))
    if ks[-1] != settings.k_max:
        ks.append(settings.k_max)
    cap, why = k_cap(n_documents, n_terms, settings.top_n)
    usable = [k for k in ks if k <= cap] or list(range(2, cap + 1))
    if not usable:
        raise TopicsError(f"topics: the corpus is too small for a topic model: {why}; "
                          "give more documents")
    if usable != ks:
        logger.warning("topics: k above %d dropped from the sweep (%s)", cap, why)
    return usable


def k_range_note(settings: TopicsParams, ks: list[int], n_documents: int, n_terms: int,
                 unit: str = "document") -> str:
    """What the reports say about the ks searched, and why they stop where they do (``unit``: what the
    run calls a document)."""
    if settings.k != "auto":
        return f"k={settings.k} was given"
    searched = f"k searched {ks[0]}–{ks[-1]}" if len(ks) > 1 else f"k searched {ks[0]}"
    _, why = k_cap(n_documents, n_terms, settings.top_n, unit)
    if ks[-1] < settings.k_max:
        asked = f"{settings.k_min}–{settings.k_max}"
        return f"{searched} (of {asked} asked): {why}"
    return f"{searched}, as asked; {why}"


def sweep(model: str, matrix: sparse.csr_matrix, counts: sparse.csr_matrix, settings: TopicsParams,
          terms: np.ndarray, *, n_jobs: int = 2, ks: list[int] | None = None,
          engine: Engine | str | None = None, source: SampleSource | None = None) -> pd.DataFrame:
    """Fit every (k, seed) of the sweep in parallel; score coherence and stability per k.

    A matrix of more rows than one partition of the corpus pass
    (:data:`~newslens.analysis.topic_sample.PARTITION_ROWS`), or any on the dask engine, is
    swept on ``engine``'s workers: each fit is a task, and the driver holds none of the fits'
    working arrays, only their top terms and scores. With a ``source`` (the files the held rows
    were read from) each worker reads the rows itself, once for all its fits, and the driver sends
    references only; without one the matrices are sent to the workers once. ``matrix`` and
    ``counts`` may then be None: the driver holds no row. A smaller one is swept
    in this process (see :data:`_SWEEP_BACKEND`). The fits are the same wherever they run.
    """
    from joblib import Parallel, delayed

    from newslens.analysis.topic_sample import PARTITION_ROWS
    from newslens.engine import engine_scope

    shape = matrix.shape if matrix is not None else source.shape  # no matrix: the source's rows, not held here
    ks = ks if ks is not None else k_range(settings, *shape)
    jobs = [(k, seed) for k in ks for seed in settings.seeds]
    # Worker start-up costs more than a tiny corpus's fits: small runs stay in process.
    n_jobs = n_jobs if shape[0] >= SMALL_CORPUS else 1
    # The largest k first, so that no long fit starts last while the other worker idles;
    # the fits are put back in sweep order.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0])
    with engine_scope(engine, n_jobs) as runner:
        if n_jobs > 1 and (runner.name == "dask" or shape[0] > PARTITION_ROWS):
            held = source if source is not None else sweep_matrices(model, matrix, counts)
            done = list(runner.map(_sweep_task, [jobs[i] for i in order], shared=(model, held, settings.top_n)))
        else:  # in this process: the rows held, or read now for the sweep alone
            rows = source.read() if matrix is None else None
            data, binary = sweep_matrices(model, *((matrix, counts) if rows is None else (rows.matrix, rows.counts)))
            done = Parallel(n_jobs=n_jobs, backend=_SWEEP_BACKEND[model])(
                delayed(_sweep_job)(model, data, binary, *jobs[i], settings.top_n) for i in order)
    fits = [fit for _, fit in sorted(zip(order, done), key=lambda pair: pair[0])]
    return sweep_table(ks, fits, terms)


def _sweep_task(shared: tuple, job: tuple[int, int]) -> dict:
    """One fit of the sweep as an engine task: ``job`` is (k, seed), ``shared`` the model's name, the
    rows (a :class:`SampleSource` the worker reads, or the :func:`sweep_matrices` themselves) and
    top_n, sent once to every worker."""
    model, held, top_n = shared
    data, binary = _sweep_data(held) if isinstance(held, SampleSource) else held
    return _sweep_job(model, data, binary, *job, top_n)


def sweep_table(ks: list[int], fits: list[dict], terms: np.ndarray) -> pd.DataFrame:
    """One row per k of the fits (each ``{"k", "coherence", "top"}``): mean and sd of coherence, stability."""
    rows = []
    for k in ks:
        at_k = [f for f in fits if f["k"] == k]
        term_sets = [[list(terms[t]) for t in f["top"]] for f in at_k]
        rows.append({"k": k, "coherence": round(float(np.mean([f["coherence"] for f in at_k])), 6),
                     "coherence_sd": round(float(np.std([f["coherence"] for f in at_k])), 6),
                     "stability": round(stability(term_sets), 6), "fits": len(at_k)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the final model

@dataclass
class TopicResult:
    """Everything the topics stage writes and shows."""

    k: int
    reason: str
    sweep: pd.DataFrame        # k, coherence, coherence_sd, stability, fits
    topics: pd.DataFrame       # topic, label, labelled, prevalence, coherence, exclusivity, mixed, top_terms
    topic_terms: pd.DataFrame  # topic, rank, term, weight
    # Each document's mixture, wide: one row per document (index doc_id, in the corpus's order), one column
    # per topic (in the order of ``topics``), weights to 6 decimals summing to 1; doc_topics.parquet holds it
    # long (:func:`~newslens.analysis.topic_views.long_table`).
    mixtures: pd.DataFrame
    label_problems: list[str]
    identities: dict           # what reports/<run>/topics.json records
    coherence: float           # the final model's NPMI, averaged over top-n sizes
    model: str = "nmf"         # the model fitted (topics.model, with auto resolved)
    model_reason: str = ""     # why that model
    k_note: str = ""           # the ks searched and what capped them (and the sample, when there is one)
    # The final model's topic-term weights over the whole vocabulary, in the order of
    # ``topics`` (full precision; not written: the topic explorer reads them). None: no model.
    components: np.ndarray | None = None
    # The documents the sweep and the model were fitted on when that was a sample of the
    # corpus (:mod:`newslens.analysis.topic_sample`); 0: all of them.
    sampled: int = 0
    # Every document's term totals, co-document counts of the coherence terms and the focus's
    # terms, summed over the corpus's partitions (None: no model).
    corpus: CorpusStats | None = None


def normalize_rows(doc_topic: np.ndarray) -> np.ndarray:
    """Each document's topic weights scaled to sum to 1 (all-zero rows stay zero)."""
    sums = doc_topic.sum(axis=1, keepdims=True)
    return np.divide(doc_topic, sums, out=np.zeros_like(doc_topic), where=sums > 0)


def build_topics(model: str, tfidf, k: int, seed: int, *, display: dict[str, str],
                 previous: dict[int, list[str]], labels_path: Path, top_n: int, sample: np.ndarray | None = None,
                 engine: Engine | str | None = None, n_jobs: int = 2, focus_rows: np.ndarray | None = None,
                 source: SampleSource | None = None,
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str], dict, np.ndarray, CorpusStats]:
    """Fit the final model, order by prevalence, give stable ids and labels (and its components and
    the :class:`~newslens.analysis.topic_pass.CorpusStats` of every document). The mixtures are wide
    (:attr:`TopicResult.mixtures`): k floats a document, not k rows of its id, topic and weight.

    ``tfidf`` holds every document's row, or only the sample's (its ``rows``). With a ``sample`` of
    its rows, or when it holds only the sample, the model is fitted on those, and every document's
    weights come from its ``transform`` in one pass over the corpus's fixed partitions on ``engine``
    (:func:`~newslens.analysis.topic_pass.corpus_pass`), which also sums what the prevalences,
    coherence, the explorer's term totals and the focus's terms need: they are then computed as
    without a sample, over every document. ``focus_rows``: the focus's rows of the corpus.
    A ``tfidf`` that holds no matrix (the sample's rows not read here) is fitted in one task on
    ``engine`` (:func:`final_fit`), whose worker reads the rows from ``source``.
    """
    from newslens.analysis.topic_quality import coherence_terms
    from newslens.analysis.topic_pass import corpus_pass

    terms = np.asarray(tfidf.terms)
    data_name = "tfidf" if model == "nmf" else "count"
    data = tfidf.matrix if model == "nmf" else tfidf.counts
    focus_rows = np.asarray([] if focus_rows is None else focus_rows, dtype=np.int64)
    if sample is None and tfidf.rows is None:
        doc_topic, components = fit_model(model, data, k, seed)
        _, stats = corpus_pass(tfidf, None, data_name, coherence_terms(components, top_n), focus_rows)
    else:
        if data is None:  # the rows are read and fitted where the work runs
            from newslens.engine import engine_scope

            if source is None:
                raise ValueError("topics: the TF-IDF holds no rows and names no files to read them from")
            with engine_scope(engine, n_jobs) as runner:
                estimator = runner.task(final_fit, FinalFit(source, k, seed))
        else:
            estimator = estimator_for(model, k, seed)
            estimator.fit(data if sample is None else data[sample])
        components = estimator.components_
        doc_topic, stats = corpus_pass(tfidf, estimator, data_name, coherence_terms(components, top_n), focus_rows,
                                       engine, n_jobs=n_jobs)
    mixture = normalize_rows(doc_topic)
    prevalence = mixture.mean(axis=0)
    order = np.argsort(-prevalence, kind="stable")
    mixture, components, prevalence = mixture[:, order], components[order], prevalence[order]
    top = rank_terms(components, top_n)
    current = [list(terms[row[:10]]) for row in top]
    ids = assign_ids(current, previous)
    labels, problems = load_labels(labels_path, ids)
    coherence = npmi_coherence([row[:10] for row in top], stats.co)
    exclusive = exclusivity(components)
    rows, term_rows = [], []
    for position, topic_id in enumerate(ids):
        shown = [display.get(t, t) for t in terms[top[position]]]
        auto = " · ".join(shown[:3])
        rows.append({"topic": topic_id, "label": labels.get(topic_id, auto), "labelled": topic_id in labels,
                     "prevalence": round(float(prevalence[position]), SHOWN["prevalence"]),
                     "coherence": round(float(coherence[position]), SHOWN["coherence"]),
                     "exclusivity": round(float(exclusive[position]), SHOWN["exclusivity"]),
                     "mixed": False, "incoherent": False, "top_terms": ", ".join(shown)})
        weights = display_values(components[position, top[position]])  # ranked above at full precision
        for rank, (term, weight) in enumerate(zip(terms[top[position]], weights), start=1):
            term_rows.append({"topic": topic_id, "rank": rank, "term": term, "weight": float(weight)})
    topics = pd.DataFrame(rows)  # mixed: set by judge(), against the baseline
    topic_terms = pd.DataFrame(term_rows)
    mixtures = pd.DataFrame(np.round(mixture, 6), index=pd.Index(tfidf.all_doc_ids, name="doc_id", dtype="str"),
                            columns=pd.Index(ids, dtype="int64", name="topic"))
    identities = {"k": k, "model": model,
                  "topics": [{"id": i, "terms": t} for i, t in zip(ids, current)]}
    identities["coherence"] = round(mean_coherence(components, stats.co), SHOWN["model_coherence"])
    return topics, topic_terms, mixtures, problems, identities, components, stats


FOCUS_COLUMNS = ["topic", "label", "share", "terms_in_focus", "weak", "mixed"]
# The focus's parts the reports' mixture charts show and their caveats name (smaller slivers are left out).
FOCUS_SHOWN = 0.01
MIXED = " (mixed)"  # what a mixed topic's label ends with, wherever the label is shown
INCOHERENT = " (incoherent)"  # a topic whose top terms appear together less often than chance


def mark_mixed(topics: pd.DataFrame, baseline: float | None) -> pd.DataFrame:
    """``topics`` with its ``mixed`` column set (:func:`~newslens.analysis.topic_quality.mixed_topics`)
    and each mixed topic's label ending in :data:`MIXED`, so every table, chart and sentence says so.

    >>> topics = pd.DataFrame({"topic": [1, 2, 3, 4], "label": ["a · b", "c · d", "e", "f"],
    ...                        "coherence": [0.1, 0.5, 0.6, 0.7], "exclusivity": [0.8, 0.9, 0.95, 0.99]})
    >>> mark_mixed(topics, baseline=0.3)[["label", "mixed"]].values.tolist()
    [['a · b (mixed)', True], ['c · d', False], ['e', False], ['f', False]]

    A topic that is not mixed but whose top terms appear together less often than chance
    (NPMI below 0, as shown) is marked incoherent, its label ending in :data:`INCOHERENT`.

    >>> topics = pd.DataFrame({"topic": [1, 2], "label": ["a", "b"], "coherence": [-0.2, 0.3],
    ...                        "exclusivity": [0.99, 0.9]})
    >>> mark_mixed(topics, baseline=0.1)[["label", "mixed", "incoherent"]].values.tolist()
    [['a (incoherent)', False, True], ['b', False, False]]
    """
    if topics.empty:
        return topics.assign(mixed=pd.Series(dtype="bool"), incoherent=pd.Series(dtype="bool"))
    mixed = mixed_topics(topics["coherence"].to_numpy(), topics["exclusivity"].to_numpy(), baseline)
    incoherent = ~mixed & (topics["coherence"].round(SHOWN["coherence"]).to_numpy() < 0)
    labels = topics["label"].str.removesuffix(MIXED).str.removesuffix(INCOHERENT)
    labels = labels.where(~mixed, labels + MIXED).where(~incoherent, labels + INCOHERENT)
    return topics.assign(mixed=mixed, incoherent=incoherent, label=labels)


def judge(fit: TopicResult, baseline: float | None) -> TopicResult:
    """The fit with its topics marked mixed against ``baseline`` (the scikit-learn example's NPMI at
    the same k) and the choice of k followed by what the evidence does not support
    (:func:`~newslens.analysis.topic_quality.k_evidence`)."""
    if not fit.k:
        return fit
    from dataclasses import replace

    caveats = k_evidence(fit.sweep, fit.k, fit.coherence, baseline)
    reason = ". ".join([fit.reason.rstrip("."), *[line.rstrip(".") for line in caveats]])
    return replace(fit, topics=mark_mixed(fit.topics, baseline), reason=reason)


def run_topics(tfidf, settings: TopicsParams, *, display: dict[str, str], identities_path: Path,
               labels_path: Path, n_jobs: int = 2, texts: ShortTexts | None = None,
               engine: Engine | str | None = None, focus_ids: Sequence[str] = (), unit: str = "document",
               files: Sequence[Path] | None = None) -> TopicResult:
    """The whole stage: sweep (or the given k), the final fit, identities and labels.

    ``texts`` says whether the corpus is one of short texts (``topics.model: auto`` then
    fits BTM); without it, the texts are taken as not short. ``focus_ids``: the focus's documents,
    whose terms the result's ``corpus`` names. ``unit``: what the run calls a document, in the notes.

    A corpus of more documents than the cap (:func:`newslens.analysis.topic_sample.sample_cap`)
    is swept and fitted on a sample chosen by a hash of the doc ids, and every document's
    weights come from that model, computed on ``engine`` (NMF and LDA; BTM fits the whole corpus).
    ``tfidf`` may hold that sample's rows only (:func:`topic_rows`): the rest are read by the workers.
    ``files``: stage 03's TF-IDF files ``tfidf`` was read from (:func:`model_inputs`); given, the sweep's
    workers read the rows they fit from them (:class:`SampleSource`), and are sent no matrix. A ``tfidf``
    read without the sample's rows (``model_inputs(..., hold_sample=False)``) then needs them: the sweep
    and the final fit run on the workers, and this process never holds a row of the sample.
    """
    from newslens.analysis.topic_sample import sample_note, terms_note, topic_sample
    from newslens.engine import engine_scope

    model, model_reason = choose_model(settings.model, texts or ShortTexts(False, float("nan")))
    n_documents, n_terms = len(tfidf.all_doc_ids), len(tfidf.terms)
    if tfidf.rows is not None and model not in ("nmf", "lda"):
        raise ValueError(f"topics: {model.upper()} is fitted on every document; read every row of the TF-IDF")
    if n_terms < 2:
        return no_model(f"the vocabulary has {n_terms} term{'' if n_terms == 1 else 's'} after "
                        "filtering (lower keywords.min_df or raise keywords.max_df)")
    if settings.k == "auto" and k_cap(n_documents, n_terms, settings.top_n)[0] < 2:
        return no_model(k_cap(n_documents, n_terms, settings.top_n, unit)[1] + ", fewer than the 2 a model needs")
    if tfidf.rows is not None:  # only the sample's rows are held (or none: model_inputs' hold_sample)
        sample, fit_rows = None, tfidf.rows
        matrix, counts = tfidf.matrix, tfidf.counts
        if matrix is None and files is None:
            raise ValueError("topics: the TF-IDF holds none of the sample's rows, and no files were given "
                             "to read them from")
    else:
        sample = fit_rows = topic_sample(tfidf.doc_ids, settings) if model in ("nmf", "lda") else None
        matrix, counts = ((tfidf.matrix, tfidf.counts) if sample is None
                          else (tfidf.matrix[sample], tfidf.counts[sample]))
    fitted = n_documents if fit_rows is None or len(fit_rows) == n_documents else len(fit_rows)
    if fitted < n_documents:
        logger.info("topics: the sweep and the model are fitted on %d of %d documents", fitted, n_documents)
    ks = k_range(settings, fitted, n_terms)
    wanted = set(focus_ids)
    focus_rows = np.asarray([i for i, doc_id in enumerate(tfidf.all_doc_ids) if doc_id in wanted], dtype=np.int64)
    with engine_scope(engine, n_jobs) as runner:  # one engine (on dask, one cluster) for the sweep and the pass
        shape = (n_documents if fit_rows is None else len(fit_rows), n_terms)
        source = None if files is None else SampleSource(tuple(str(name) for name in files), settings, model, shape)
        table = sweep(model, matrix, counts, settings, tfidf.terms, n_jobs=n_jobs, ks=ks, engine=runner,
                      source=source)
        if settings.k == "auto":
            k, reason = choose_k(table)
        else:
            k, reason = settings.k, f"k={settings.k} was given in the params (no choice made)"
        topics, topic_terms, mixtures, problems, identities, components, stats = build_topics(
            model, tfidf, k, settings.seeds[0], display=display, previous=load_identities(identities_path),
            labels_path=labels_path, top_n=settings.top_n, sample=sample, engine=runner, n_jobs=n_jobs,
            focus_rows=focus_rows, source=source)
    note = k_range_note(settings, ks, fitted, n_terms, unit)
    if fitted < n_documents:
        note = f"{note}; {sample_note(fitted, n_documents, unit)}"
    if getattr(tfidf, "columns", None) is not None:
        note = f"{note}; {terms_note(n_terms, tfidf.all_terms)}"
    return TopicResult(k, reason, table, topics, topic_terms, mixtures, problems, identities,
                       identities["coherence"], model, model_reason, note, components,
                       0 if fitted == n_documents else fitted, stats)


def topic_rows(doc_ids: Sequence[str], settings: TopicsParams, texts: ShortTexts) -> np.ndarray | None:
    """The rows of the TF-IDF the topics stage reads: the sample's when the model is fitted on one
    (:func:`newslens.analysis.topic_sample.topic_sample`), None (every row) otherwise."""
    from newslens.analysis.topic_sample import topic_sample

    model, _ = choose_model(settings.model, texts)
    return topic_sample(doc_ids, settings) if model in ("nmf", "lda") else None


def no_model(why: str) -> TopicResult:
    """The result of a corpus too small for a topic model: k = 0, empty tables, and why.

    >>> result = no_model("a corpus of 1 document supports at most 1 topic (⌊√N⌋)")
    >>> result.k, len(result.topics), result.reason
    (0, 0, 'No topic model: a corpus of 1 document supports at most 1 topic (⌊√N⌋)')
    """
    empty = lambda *columns: pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    topics = pd.DataFrame({"topic": pd.Series(dtype="int64"), "label": pd.Series(dtype="str"),
                           "labelled": pd.Series(dtype="bool"), "prevalence": pd.Series(dtype="float64"),
                           "coherence": pd.Series(dtype="float64"), "exclusivity": pd.Series(dtype="float64"),
                           "mixed": pd.Series(dtype="bool"), "incoherent": pd.Series(dtype="bool"),
                           "top_terms": pd.Series(dtype="str")})
    topic_terms = pd.DataFrame({"topic": pd.Series(dtype="int64"), "rank": pd.Series(dtype="int64"),
                                "term": pd.Series(dtype="str"), "weight": pd.Series(dtype="float64")})
    mixtures = pd.DataFrame(index=pd.Index([], name="doc_id", dtype="str"),
                            columns=pd.Index([], dtype="int64", name="topic"), dtype="float64")
    sweep = empty("k", "coherence", "coherence_sd", "stability", "fits")
    return TopicResult(0, f"No topic model: {why}", sweep, topics, topic_terms, mixtures, [],
                       {"k": 0, "model": None, "topics": [], "coherence": None}, float("nan"),
                       model="none", model_reason="none fitted", k_note="no k searched")


def write_outputs(result: TopicResult, out_dir: Path, identities_path: Path,
                  focus: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write the stage's tables, the choice of k, the identities for the next run and the focus's
    mixture (``focus_topics.csv``, an empty table without a focus); their paths by name."""
    from newslens.analysis.topic_views import write_doc_topics
    from newslens.files import write_csv, write_parquet, write_text

    choice = json.dumps({"k": result.k, "reason": result.reason}, indent=1) + "\n"
    focus = focus if focus is not None else pd.DataFrame(columns=FOCUS_COLUMNS)
    return {"focus_topics.csv": write_csv(focus, out_dir / "focus_topics.csv"),
            "sweep.csv": write_csv(result.sweep, out_dir / "sweep.csv"),
            "topic_terms.parquet": write_parquet(result.topic_terms, out_dir / "topic_terms.parquet"),
            "doc_topics.parquet": write_doc_topics(result.mixtures, out_dir / "doc_topics.parquet"),
            "topics.csv": write_csv(result.topics, out_dir / "topics.csv"),
            "k_choice.json": write_text(out_dir / "k_choice.json", choice),
            "identities": write_text(identities_path, json.dumps(result.identities, indent=1,
                                                                 ensure_ascii=False) + "\n")}


# ---------------------------------------------------------------- the stage

@dataclass(frozen=True)
class TopicsResult:
    """What stage 04 wrote, and everything its report shows but the report layer's views."""

    fit: TopicResult              # the model: k and why, the sweep, topics, terms, mixtures
    files: dict[str, Path]        # what the stage wrote: its tables, k_choice.json, the identities
    documents: pd.DataFrame       # stage 01's documents (groups and dates of the mixtures)
    display: dict[str, str]       # each term's display form
    terms: np.ndarray             # the model's vocabulary (stage 03's TF-IDF terms)
    totals: np.ndarray | None     # each term's count over every document (None: no model)
    n_documents: int              # the documents with tokens (stage 02's)
    texts: ShortTexts             # whether they are short texts, and the evidence
    focus_ids: list[str]          # the focus document's units (none without a model)
    anchors: pd.DataFrame | None  # our NPMI beside two baselines at the same k (None without a model)
    explorer: dict[str, Any] | None   # the topic explorer's data, as topic_explorer.json holds it
    # The prevalence views: all None without a model (k = 0).
    by_group: pd.DataFrame | None        # mean topic weight per group (topics × groups)
    over_time: pd.DataFrame | None       # mean topic weight per period (topics × periods)
    resolution: Resolution | None        # the periods' resolution, and why
    focus: pd.Series | None              # the focus document's mixture (None: no focus)
    representative: pd.DataFrame | None  # each topic's top documents
    focus_caveats: str | None = None     # the weak and mixed parts of the focus's mixture, in words
    # Shares by group and period with 95% intervals, as topic_effects.parquet holds them (empty: k = 0).
    effects: TopicEffects | None = None
    limits: dict[str, Any] | None = None  # stage 03's limits.json: the span, which groups cover it (None: none)


def run(stage_run: StageRun) -> TopicsResult:
    """Stage 04: fit the topics on stage 03's TF-IDF, write them and the explorer's data, score them
    against the baselines, and compute the prevalence views and their intervals (``topic_effects.parquet``).

    The baselines' scores are cached in the run's build folder (``anchor_coherence.json``)
    and refitted only when their inputs change.
    """
    from newslens.analysis import topic_effects, topic_explorer_data, topic_views
    from newslens.analysis.anchors import anchor_coherence
    from newslens.analysis.limits import read_limits
    from newslens.corpus.focus import resolve_focus
    from newslens.analysis.topic_explorer_data import top_documents
    from newslens.files import read_parquet, with_texts, write_parquet

    # the documents' columns without their texts: the texts are read for the documents the
    # baselines are fitted on and the documents the reports show, and for no others
    documents_path = stage_run.input("documents.parquet")
    documents = read_parquet(documents_path, without=("text",))
    settings = stage_run.params.topics
    per_document, texts, tfidf = model_inputs(stage_run.input, settings, hold_sample=False)  # the workers read it
    # the display forms of the model's terms (every term a table, chart or the explorer names), not the vocabulary's
    vocabulary = pd.read_parquet(stage_run.input("vocabulary.parquet"), columns=["term", "display"])
    vocabulary = vocabulary[vocabulary["term"].isin(tfidf.terms)]
    display = dict(zip(vocabulary["term"], vocabulary["display"]))
    doc_ids = per_document.index.tolist()
    identities_path = stage_run.run_file("identities")
    focus_ids = resolve_focus(documents, stage_run.params.focus)
    fit = run_topics(tfidf, settings, display=display, identities_path=identities_path,
                     labels_path=stage_run.run_file("labels"), texts=texts, engine=stage_run.params.engine,
                     focus_ids=focus_ids, unit=stage_run.words.unit,
                     files=[stage_run.input(name) for name in TFIDF_FILES])
    if fit.k:  # the baselines are fitted (on a cache miss) in a task on the engine's workers, from references
        job = BaselinesJob({name: stage_run.input(name) for name in BaselinesJob.INPUTS}, settings, fit.k, 0,
                           stage_run.params.language)
        anchors = anchor_coherence(*anchor_inputs(documents_path, tfidf, settings), fit.k, fit.coherence,
                                   cache=stage_run.build_dir / "anchor_coherence.json", seed=job.seed,
                                   language=job.language, fit=lambda: fit_baselines(job, stage_run.params.engine))
    else:
        anchors = None
    fit = judge(fit, example_coherence(anchors))
    focus_ids = focus_ids if fit.k else []
    focus_table = (topic_views.focus_topics(fit.mixtures, fit.topics, fit.topic_terms, focus_ids,
                                            set(tfidf.terms[fit.corpus.focus_terms])) if focus_ids else None)
    files = write_outputs(fit, stage_run.processed_dir, identities_path, focus=focus_table)
    if fit.k:  # the texts of the documents shown: each topic's top documents (the explorer's and the report's)
        documents = with_texts(documents, documents_path, top_documents(fit.mixtures)["doc_id"])
    else:
        documents = documents.assign(text=None)
    totals = None if fit.corpus is None else fit.corpus.totals
    explorer = topic_explorer_data.explorer_data(fit, documents, terms=tfidf.terms, totals=totals,
                                                 display=display, words=stage_run.words)
    files["topic_explorer"] = topic_explorer_data.write(explorer, stage_run.processed_dir)  # the summary's too
    effects = topic_effects.topic_effects(fit.mixtures, documents, fit.topics, unit=stage_run.words.unit,
                                          min_documents=stage_run.params.keywords.keyness_min_documents)
    files["topic_effects.parquet"] = write_parquet(effects.table, stage_run.processed_dir / "topic_effects.parquet")
    common = (fit, files, documents, display, tfidf.terms, totals, len(doc_ids), texts)
    limits = read_limits(stage_run.input("limits.json"))
    over_time, resolution = (topic_views.prevalence_over_time(fit.mixtures, documents, fit.topics) if fit.k
                             else (pd.DataFrame(), None))
    files["topic_periods.parquet"] = topic_views.write_periods(over_time, stage_run.processed_dir)  # the summary's
    if not fit.k:
        return TopicsResult(*common, [], None, explorer, None, None, None, None, None, None, effects, limits)
    focus = topic_views.focus_mixture(focus_table) if focus_ids else None
    caveats = topic_views.focus_caveats(focus_table, stage_run.words.unit, FOCUS_SHOWN) if focus_ids else None
    return TopicsResult(*common, focus_ids, anchors, explorer,
                        topic_views.prevalence_by_group(fit.mixtures, documents, fit.topics), over_time,
                        resolution, focus, topic_views.representative_documents(fit.mixtures, documents, fit.topics),
                        caveats, effects, limits)


def model_inputs(input_path: Callable[[str], Path], settings: TopicsParams, *,
                 hold_sample: bool = True) -> tuple[pd.Series, ShortTexts, Any]:
    """What the model is fitted on, read as the stage reads it from stage 02's and 03's files
    (``input_path(name)``): each document's count of tokens (read column by column, never the
    token lists), whether the texts are short, and the TF-IDF, of at most ``topics.max_terms``
    terms (those in the most documents) and, when the model is fitted on a sample, of the
    sample's rows only (the workers read the others' rows to weigh them). Without ``hold_sample``, a
    sample's rows are not read at all (``read_tfidf(..., matrices=False)``): the stage's driver, whose
    workers read them (:class:`SampleSource`). Every row of a corpus within the cap is read either way."""
    from newslens.analysis.short_texts import detect_short
    from newslens.analysis.tfidf import read_tfidf
    from newslens.analysis.topic_sample import terms_cap
    from newslens.text.token_stats import tokens_per_document_in

    per_document = tokens_per_document_in(input_path("tokens.parquet"))
    texts = detect_short(per_document.tolist())
    rows = topic_rows(pd.read_parquet(input_path(TFIDF_FILES[2]))["doc_id"].tolist(), settings, texts)
    tfidf = read_tfidf(*(input_path(name) for name in TFIDF_FILES), max_terms=terms_cap(settings), rows=rows,
                       matrices=hold_sample or rows is None)
    return per_document, texts, tfidf


def anchor_inputs(documents_path: Path, tfidf, settings: TopicsParams) -> tuple[StoredTexts, object]:
    """The texts (read only when the baselines are fitted) and TF-IDF rows the anchors are fitted on:
    the documents the model was fitted on.

    At or below the sample cap that is every document; above it, the same sample as the
    model's (:func:`newslens.analysis.topic_sample.topic_sample`), so the baselines are fitted
    on what the model was, and their cost stays that of the sample's whatever the corpus's size.
    A ``tfidf`` that holds only the sample's rows (its ``rows``) is that sample.
    """
    from newslens.analysis.anchors import StoredTexts
    from newslens.analysis.tfidf import TfidfModel
    from newslens.analysis.topic_sample import topic_sample

    sample = None if tfidf.rows is not None else topic_sample(tfidf.doc_ids, settings)
    ids = tfidf.doc_ids if sample is None else [tfidf.doc_ids[i] for i in sample]
    texts = StoredTexts(Path(documents_path), list(ids))
    if sample is None:
        return texts, tfidf
    return texts, TfidfModel(ids, tfidf.terms, tfidf.matrix[sample], tfidf.counts[sample], tfidf.idf)


class BaselinesJob(NamedTuple):
    """What a worker needs to fit the anchors' baselines, as references: the stage's input files
    (by name), the topics settings (the sample and the terms cap follow from them), k, the seed and
    the run's language. It pickles to well under a kilobyte, whatever the corpus."""

    INPUTS = ("documents.parquet", "tokens.parquet", *TFIDF_FILES)

    inputs: dict[str, Path]
    settings: TopicsParams
    k: int
    seed: int
    language: str


def baselines(job: BaselinesJob) -> list[list]:
    """The anchors' baseline scores (:func:`newslens.analysis.anchors.anchor_scores`) from ``job``'s
    files, read as the stage reads them: the same TF-IDF rows and texts, so the same scores as a
    fit in the driver's process."""
    from newslens.analysis.anchors import anchor_scores

    _, _, tfidf = model_inputs(job.inputs.__getitem__, job.settings)
    texts, rows = anchor_inputs(job.inputs["documents.parquet"], tfidf, job.settings)
    return anchor_scores(texts.read(), rows, job.k, job.seed, job.language)


def fit_baselines(job: BaselinesJob, engine: str) -> list[list]:
    """:func:`baselines` in one task on ``engine``, opened only now: a cached score needs no engine."""
    from newslens.engine import engine_scope

    with engine_scope(engine) as runner:
        return runner.task(baselines, job)


def example_coherence(anchors: pd.DataFrame | None) -> float | None:
    """The scikit-learn example's NPMI from the anchors table (None without one)."""
    if anchors is None:
        return None
    example = anchors.loc[anchors["model"].str.startswith("scikit-learn"), "npmi"]
    return float(example.iloc[0]) if len(example) else None
