"""Stage 04: topic models with evidence for k, stable identities and kept labels.

* **Models**: NMF on the TF-IDF matrix (``init="nndsvda"``, fixed seed) or LDA on
  the raw counts of the same vocabulary, both from scikit-learn, or for short texts
  the biterm topic model on the same counts (:mod:`newslens.analysis.short_texts`);
  ``topics.model: auto`` picks BTM for a corpus of short texts and NMF otherwise.
* **k range**: the sweep's ks are capped by what the corpus supports
  (:func:`newslens.analysis.short_texts.k_cap`: ⌊√N⌋ for N documents, V / top_n for V terms).
* **Coherence**: NPMI of each topic's top terms from document co-occurrence in
  the run's own tokens (the matrix the model saw), averaged over top-n sizes
  5, 10, 15 and 20 (see :func:`npmi_coherence`).
* **Stability**: nndsvda is deterministic, so seeds alone would agree by
  construction. Each seed therefore refits on its own random 80% of the
  documents; stability of k is the mean, over seed pairs, of the best-match
  (Hungarian) Jaccard overlap of top-10 term sets (Greene et al., 2014).
* **Choice of k** (:func:`choose_k`): each k gets the mean of its min–max
  normalised coherence and stability; the highest wins, the smaller k on ties.
* **Identities**: topics are ordered by prevalence, then matched to the last
  committed run's topics (``reports/<run>/topics.json``) by Hungarian assignment
  on top-term overlap, so a topic keeps its id across reruns and small changes.
* **Display precision**: every order and choice (topics by prevalence, top terms,
  k) is made on the full-precision values; the values the reports show are then
  rounded to the precision they are shown with (:data:`SHOWN`), because their last
  bits depend on the machine (BLAS kernels in NMF, SIMD ``log`` in NPMI). The sweep
  and each document's mixture keep 6 decimals: k is chosen from the first, and the
  per-group and per-week means are computed from the second.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from newslens.params import TopicsParams
from newslens.precision import display_values
from newslens.analysis.short_texts import ShortTexts, choose_model, k_cap

logger = logging.getLogger(__name__)

TOP_N_SIZES = (5, 10, 15, 20)
SUBSAMPLE = 0.8
MATCH_MIN_JACCARD = 0.2
# The sweep only ranks k: NMF there stops at a 5e-3 relative change (the final fit: 1e-4).
# It runs in float64, like the final fit. In float32 the BLAS kernel's last bits (OpenBLAS
# picks SkylakeX, Haswell or Prescott kernels by CPU) grew over the iterations into other
# top terms, and the sweep's scores differed in their fourth digit from CPU to CPU; in float64
# they are the same on every kernel (tests/test_cpu_paths.py), at 1.3-1.5× the float32 time.
SWEEP_TOL = 5e-3
SWEEP_DTYPE = np.float64
# Terms are ranked on their weights rounded to RANK_DIGITS significant digits of the topic's
# largest weight, ties going to the earlier term in the vocabulary (alphabetical): two terms of
# the same weight in exact arithmetic (the same documents, the same counts) then rank the same
# on every machine, whatever last bits the BLAS kernel left on them.
RANK_DIGITS = 9
SMALL_CORPUS = 200
# NMF spends its time in scipy's sparse products and scikit-learn's coordinate descent,
# which release the GIL: threads share the matrices with no worker start-up, no import of
# scikit-learn and no copy per fit (worker processes spent more on those than they saved:
# 0.6-0.9× on 2 cores). LDA's E-step is a Python loop over documents: processes.
# BTM's Gibbs sampler is Cython that holds the GIL: processes too.
_SWEEP_BACKEND = {"nmf": "threading", "lda": "loky", "btm": "loky"}
# Decimals of the values the reports print: prevalence as 12.3% (and 12%), coherence as
# 0.123, the model's mean NPMI beside the baselines as 0.1234. Topic-term weights are only
# drawn (4 significant digits, precision.display_values).
SHOWN = {"prevalence": 3, "coherence": 3, "model_coherence": 4}


class TopicsError(ValueError):
    """The corpus or the settings cannot give the topics asked for."""


# ---------------------------------------------------------------- scores

def npmi_coherence(top_terms: list[np.ndarray], binary: sparse.csc_matrix) -> np.ndarray:
    """Mean pairwise NPMI of each topic's terms, from document co-occurrence.

    For terms i, j with document probabilities p(i) = df(i)/N and
    p(i, j) = df(i, j)/N: NPMI = ln(p(i, j) / (p(i) p(j))) / −ln p(i, j), and
    −1 when the two never co-occur. A topic's score is the mean over its pairs.
    """
    n_docs = binary.shape[0]
    scores = []
    for terms in top_terms:
        columns = binary[:, terms]
        co = (columns.T @ columns).toarray().astype(float)
        df = np.diag(co).copy()
        i, j = np.triu_indices(len(terms), k=1)
        joint = co[i, j] / n_docs
        with np.errstate(divide="ignore", invalid="ignore"):
            pmi = np.log(joint / ((df[i] / n_docs) * (df[j] / n_docs)))
            npmi = np.where(joint > 0, pmi / -np.log(joint), -1.0)
        npmi = np.where(joint >= 1.0, 1.0, npmi)  # both terms in every document
        scores.append(float(npmi.mean()) if len(npmi) else float("nan"))
    return np.asarray(scores)


def mean_coherence(components: np.ndarray, binary: sparse.csc_matrix,
                   sizes: tuple[int, ...] = TOP_N_SIZES) -> float:
    """NPMI averaged over topics and over the top-n sizes that the vocabulary allows."""
    usable = [n for n in sizes if n <= components.shape[1]] or [components.shape[1]]
    order = rank_terms(components, max(usable))
    return float(np.mean([npmi_coherence(list(order[:, :n]), binary).mean() for n in usable]))


def rank_terms(components: np.ndarray, n: int | None = None) -> np.ndarray:
    """Each topic's term indices by weight, highest first (the first ``n``), by a rule stable
    to the machine's last bits: weights compared at :data:`RANK_DIGITS` significant digits of
    the topic's largest weight, ties to the lower term index.

    >>> rank_terms(np.array([[0.2, 0.5, 0.5 + 1e-15, 0.1]])).tolist()
    [[1, 2, 0, 3]]
    """
    components = np.asarray(components, dtype=float)
    scale = np.abs(components).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    rounded = np.round(components / scale, RANK_DIGITS)
    order = np.argsort(-rounded, axis=1, kind="stable")
    return order if n is None else order[:, :n]


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def match_topics(previous: list[list[str]], current: list[list[str]]) -> list[tuple[int, int, float]]:
    """Hungarian assignment of current to previous topics maximising top-term Jaccard overlap.

    Returns (previous index, current index, overlap) for each assigned pair.
    """
    if not previous or not current:
        return []
    overlap = np.array([[jaccard(p, c) for c in current] for p in previous])
    rows, cols = linear_sum_assignment(-overlap)
    return [(int(r), int(c), float(overlap[r, c])) for r, c in zip(rows, cols)]


def stability(term_sets_by_seed: list[list[list[str]]]) -> float:
    """Mean over seed pairs of the mean best-match Jaccard overlap of their topics."""
    pairs = list(itertools.combinations(term_sets_by_seed, 2))
    if not pairs:
        return float("nan")
    values = [np.mean([o for _, _, o in match_topics(a, b)]) for a, b in pairs]
    return float(np.mean(values))


def choose_k(sweep: pd.DataFrame) -> tuple[int, str]:
    """Pick k from a sweep with columns k, coherence, stability (one row per k).

    Each column is min–max normalised over the sweep; k's score is the mean of
    the two; the highest score wins and ties go to the smaller k.
    """
    if sweep.empty:
        raise TopicsError("topics: the k sweep produced no fits")

    def norm(column: pd.Series) -> pd.Series:
        span = column.max() - column.min()
        return (column - column.min()) / span if span > 0 else pd.Series(1.0, index=column.index)

    scored = sweep.assign(score=(norm(sweep["coherence"]) + norm(sweep["stability"].fillna(0))) / 2)
    best = scored.sort_values(["score", "k"], ascending=[False, True]).iloc[0]
    reason = (f"k={int(best['k'])} has the best balance of coherence (NPMI {best['coherence']:.3f}) "
              f"and stability across seeds ({best['stability']:.2f}): the highest mean of the two "
              f"min–max-normalised scores among k = {', '.join(str(int(k)) for k in sweep['k'])}")
    return int(best["k"]), reason


# ---------------------------------------------------------------- fitting

def fit_model(model: str, matrix: sparse.csr_matrix, k: int, seed: int, *, tol: float = 1e-4):
    """Fit NMF (on TF-IDF), LDA or BTM (on counts); returns (doc_topic, topic_term) arrays.

    NMF uses scikit-learn's defaults but for the structured init; the sweep passes
    a looser ``tol`` (:data:`SWEEP_TOL`), which ranks k the same at a fraction of the cost.
    """
    from sklearn.decomposition import NMF, LatentDirichletAllocation

    if model == "btm":
        from newslens.analysis.short_texts import fit_btm

        return fit_btm(matrix, k, seed)
    if model == "nmf":
        estimator = NMF(n_components=k, init="nndsvda", random_state=seed, tol=tol)
    else:
        estimator = LatentDirichletAllocation(n_components=k, random_state=seed, learning_method="batch",
                                              max_iter=50)
    doc_topic = estimator.fit_transform(matrix)
    return doc_topic, estimator.components_


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


def k_range_note(settings: TopicsParams, ks: list[int], n_documents: int, n_terms: int) -> str:
    """What the reports say about the ks searched, and why they stop where they do."""
    if settings.k != "auto":
        return f"k={settings.k} was given"
    searched = f"k searched {ks[0]}–{ks[-1]}" if len(ks) > 1 else f"k searched {ks[0]}"
    _, why = k_cap(n_documents, n_terms, settings.top_n)
    if ks[-1] < settings.k_max:
        asked = f"{settings.k_min}–{settings.k_max}"
        return f"{searched} (of {asked} asked): {why}"
    return f"{searched}, as asked; {why}"


def sweep(model: str, matrix: sparse.csr_matrix, counts: sparse.csr_matrix, settings: TopicsParams,
          terms: np.ndarray, *, n_jobs: int = 2, ks: list[int] | None = None) -> pd.DataFrame:
    """Fit every (k, seed) of the sweep in parallel; score coherence and stability per k."""
    from joblib import Parallel, delayed

    ks = ks if ks is not None else k_range(settings, *matrix.shape)
    data = matrix.astype(SWEEP_DTYPE) if model == "nmf" else counts
    binary = (counts > 0).astype(np.int32).tocsc()
    jobs = [(k, seed) for k in ks for seed in settings.seeds]
    # Worker start-up costs more than a tiny corpus's fits: small runs stay in process.
    n_jobs = n_jobs if matrix.shape[0] >= SMALL_CORPUS else 1
    # The largest k first, so that no long fit starts last while the other worker idles;
    # the fits are put back in sweep order.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0])
    done = Parallel(n_jobs=n_jobs, backend=_SWEEP_BACKEND[model])(
        delayed(_sweep_job)(model, data, binary, *jobs[i], settings.top_n) for i in order)
    fits = [fit for _, fit in sorted(zip(order, done), key=lambda pair: pair[0])]
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
    topics: pd.DataFrame       # topic, label, prevalence, coherence, top_terms
    topic_terms: pd.DataFrame  # topic, rank, term, weight
    doc_topics: pd.DataFrame   # doc_id, topic, weight (each document's mixture sums to 1)
    label_problems: list[str]
    identities: dict           # what reports/<run>/topics.json records
    coherence: float           # the final model's NPMI, averaged over top-n sizes
    model: str = "nmf"         # the model fitted (topics.model, with auto resolved)
    model_reason: str = ""     # why that model
    k_note: str = ""           # the ks searched and what capped them
    # The final model's topic-term weights over the whole vocabulary, in the order of
    # ``topics`` (full precision; not written: the topic explorer reads them). None: no model.
    components: np.ndarray | None = None


def normalize_rows(doc_topic: np.ndarray) -> np.ndarray:
    """Each document's topic weights scaled to sum to 1 (all-zero rows stay zero)."""
    sums = doc_topic.sum(axis=1, keepdims=True)
    return np.divide(doc_topic, sums, out=np.zeros_like(doc_topic), where=sums > 0)


def assign_ids(current: list[list[str]], previous: dict[int, list[str]]) -> list[int]:
    """Stable ids for the current topics (in prevalence order), reusing matched previous ids."""
    prev_ids = sorted(previous)
    matched = {c: prev_ids[p] for p, c, overlap in match_topics([previous[i] for i in prev_ids], current)
               if overlap >= MATCH_MIN_JACCARD}
    next_id = max(prev_ids, default=0) + 1
    ids = []
    for index in range(len(current)):
        if index in matched:
            ids.append(matched[index])
        else:
            ids.append(next_id)
            next_id += 1
    return ids


def load_identities(path: Path) -> dict[int, list[str]]:
    """The previous committed run's topics: stable id → top terms.

    Read from the last commit (``git show HEAD:<path>``) when the project is a git
    checkout, so trying other settings locally never shifts the ids that the
    committed labels refer to; otherwise from the file as it is on disk.
    """
    committed = _committed_text(path)
    if committed is None:
        if not path.exists():
            return {}
        committed = path.read_text(encoding="utf-8")
    data = json.loads(committed)
    return {int(topic["id"]): list(topic["terms"]) for topic in data.get("topics", [])}


def _committed_text(path: Path) -> str | None:
    """A file's content at HEAD, or None outside git or when it is not committed."""
    from newslens import config, vcs

    try:
        relative = Path(path).resolve().relative_to(config.PROJECT_ROOT).as_posix()
    except ValueError:
        return None
    return vcs.show("HEAD", relative)


def load_labels(path: Path, ids: list[int]) -> tuple[dict[int, str], list[str]]:
    """Human labels keyed by stable topic id, and the labels whose topic is gone.

    Raises :class:`TopicsError` on a malformed file: not a mapping, a key that is
    not a positive integer, or a label that is not a non-empty string.
    """
    import yaml

    if not path.exists():
        return {}, []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TopicsError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TopicsError(f"{path.name}: expected a mapping of topic id → label, got {type(raw).__name__}")
    labels = {}
    for key, label in raw.items():
        if isinstance(key, bool) or not isinstance(key, int) or key < 1:
            raise TopicsError(f"{path.name}: topic id {key!r} is not a positive integer "
                              "(keys are the stable topic ids shown in the topics report)")
        if not isinstance(label, str) or not label.strip():
            raise TopicsError(f"{path.name}: label for topic {key} must be a non-empty string, got {label!r}")
        labels[key] = label.strip()
    missing = [f"label {key} ({labels[key]!r}) has no topic in this run: its topic disappeared or "
               "the id never existed" for key in sorted(set(labels) - set(ids))]
    return {k: v for k, v in labels.items() if k in ids}, missing


def build_topics(model: str, matrix, counts, k: int, seed: int, *, terms: np.ndarray, doc_ids: list[str],
                 display: dict[str, str], previous: dict[int, list[str]], labels_path: Path,
                 top_n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str], dict, np.ndarray]:
    """Fit the final model, order by prevalence, give stable ids and labels (and its components)."""
    doc_topic, components = fit_model(model, matrix if model == "nmf" else counts, k, seed)
    mixture = normalize_rows(doc_topic)
    prevalence = mixture.mean(axis=0)
    order = np.argsort(-prevalence, kind="stable")
    mixture, components, prevalence = mixture[:, order], components[order], prevalence[order]
    top = rank_terms(components, top_n)
    current = [list(terms[row[:10]]) for row in top]
    ids = assign_ids(current, previous)
    labels, problems = load_labels(labels_path, ids)
    binary = (counts > 0).astype(np.int32).tocsc()
    coherence = npmi_coherence([row[:10] for row in top], binary)
    rows, term_rows = [], []
    for position, topic_id in enumerate(ids):
        shown = [display.get(t, t) for t in terms[top[position]]]
        auto = " · ".join(shown[:3])
        rows.append({"topic": topic_id, "label": labels.get(topic_id, auto), "labelled": topic_id in labels,
                     "prevalence": round(float(prevalence[position]), SHOWN["prevalence"]),
                     "coherence": round(float(coherence[position]), SHOWN["coherence"]),
                     "top_terms": ", ".join(shown)})
        weights = display_values(components[position, top[position]])  # ranked above at full precision
        for rank, (term, weight) in enumerate(zip(terms[top[position]], weights), start=1):
            term_rows.append({"topic": topic_id, "rank": rank, "term": term, "weight": float(weight)})
    topics = pd.DataFrame(rows)
    topic_terms = pd.DataFrame(term_rows)
    doc_topics = pd.DataFrame({"doc_id": np.repeat(doc_ids, len(ids)), "topic": np.tile(ids, len(doc_ids)),
                               "weight": np.round(mixture.ravel(), 6)})
    identities = {"k": k, "model": model,
                  "topics": [{"id": i, "terms": t} for i, t in zip(ids, current)]}
    identities["coherence"] = round(mean_coherence(components, binary), SHOWN["model_coherence"])
    return topics, topic_terms, doc_topics, problems, identities, components


def run_topics(tfidf, settings: TopicsParams, *, display: dict[str, str], identities_path: Path,
               labels_path: Path, n_jobs: int = 2, texts: ShortTexts | None = None) -> TopicResult:
    """The whole stage: sweep (or the given k), the final fit, identities and labels.

    ``texts`` says whether the corpus is one of short texts (``topics.model: auto`` then
    fits BTM); without it, the texts are taken as not short.
    """
    model, model_reason = choose_model(settings.model, texts or ShortTexts(False, float("nan")))
    n_documents, n_terms = tfidf.matrix.shape
    if n_terms < 2:
        return no_model(f"the vocabulary has {n_terms} term{'' if n_terms == 1 else 's'} after "
                        "filtering (lower keywords.min_df or raise keywords.max_df)")
    if settings.k == "auto" and k_cap(n_documents, n_terms, settings.top_n)[0] < 2:
        return no_model(k_cap(n_documents, n_terms, settings.top_n)[1] + ", fewer than the 2 a model needs")
    ks = k_range(settings, *tfidf.matrix.shape)
    table = sweep(model, tfidf.matrix, tfidf.counts, settings, tfidf.terms, n_jobs=n_jobs, ks=ks)
    if settings.k == "auto":
        k, reason = choose_k(table)
    else:
        k, reason = settings.k, f"k={settings.k} was given in the params (no choice made)"
    topics, topic_terms, doc_topics, problems, identities, components = build_topics(
        model, tfidf.matrix, tfidf.counts, k, settings.seeds[0], terms=tfidf.terms,
        doc_ids=tfidf.doc_ids, display=display, previous=load_identities(identities_path),
        labels_path=labels_path, top_n=settings.top_n)
    return TopicResult(k, reason, table, topics, topic_terms, doc_topics, problems, identities,
                       identities["coherence"], model, model_reason,
                       k_range_note(settings, ks, *tfidf.matrix.shape), components)


def no_model(why: str) -> TopicResult:
    """The result of a corpus too small for a topic model: k = 0, empty tables, and why.

    >>> result = no_model("a corpus of 1 document supports at most 1 topic (⌊√N⌋)")
    >>> result.k, len(result.topics), result.reason
    (0, 0, 'No topic model: a corpus of 1 document supports at most 1 topic (⌊√N⌋)')
    """
    empty = lambda *columns: pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    topics = pd.DataFrame({"topic": pd.Series(dtype="int64"), "label": pd.Series(dtype="str"),
                           "labelled": pd.Series(dtype="bool"), "prevalence": pd.Series(dtype="float64"),
                           "coherence": pd.Series(dtype="float64"), "top_terms": pd.Series(dtype="str")})
    topic_terms = pd.DataFrame({"topic": pd.Series(dtype="int64"), "rank": pd.Series(dtype="int64"),
                                "term": pd.Series(dtype="str"), "weight": pd.Series(dtype="float64")})
    doc_topics = pd.DataFrame({"doc_id": pd.Series(dtype="str"), "topic": pd.Series(dtype="int64"),
                               "weight": pd.Series(dtype="float64")})
    sweep = empty("k", "coherence", "coherence_sd", "stability", "fits")
    return TopicResult(0, f"No topic model: {why}", sweep, topics, topic_terms, doc_topics, [],
                       {"k": 0, "model": None, "topics": [], "coherence": None}, float("nan"),
                       model="none", model_reason="none fitted", k_note="no k searched")


def write_outputs(result: TopicResult, out_dir: Path, identities_path: Path) -> None:
    """Write the stage's tables, the choice of k, and the identities for the next run."""
    from newslens.files import write_csv, write_parquet, write_text

    write_csv(result.sweep, out_dir / "sweep.csv")
    write_parquet(result.topic_terms, out_dir / "topic_terms.parquet")
    write_parquet(result.doc_topics, out_dir / "doc_topics.parquet")
    write_csv(result.topics, out_dir / "topics.csv")
    write_text(out_dir / "k_choice.json", json.dumps({"k": result.k, "reason": result.reason}, indent=1) + "\n")
    write_text(identities_path, json.dumps(result.identities, indent=1, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- anchors

def anchor_coherence(texts: list[str], tfidf, k: int, ours: float, *, seed: int = 0,
                     cache: Path | None = None) -> pd.DataFrame:
    """NPMI of our model beside two well-known baselines at the same k.

    * scikit-learn's topic-extraction example: ``TfidfVectorizer(max_df=0.95,
      min_df=2, stop_words="english")`` on the cleaned texts, then NMF.
    * gensim's ``LdaModel`` at default settings on our own tokens and vocabulary.

    Each model is scored on the document co-occurrence of the tokens it saw,
    with the same NPMI averaged over top-n sizes 5, 10, 15 and 20. The two baselines
    cost about 12 s on the news run; with ``cache`` (a JSON file) their scores are kept
    under a hash of everything they depend on (texts, counts, terms, k, seed, library
    versions) and fitted again only when that changes.
    """
    key = _anchor_key(texts, tfidf, k, seed)
    cached = _read_anchor_cache(cache, key)
    baselines = cached if cached is not None else _anchor_scores(texts, tfidf, k, seed)
    if cache is not None and cached is None:
        from newslens.files import write_text

        write_text(cache, json.dumps({"key": key, "scores": baselines}, indent=1) + "\n")
    rows = [("newslens (this report)", ours)] + [tuple(pair) for pair in baselines]  # ours: at SHOWN
    return pd.DataFrame([(name, k, round(score, SHOWN["model_coherence"])) for name, score in rows],
                        columns=["model", "k", "npmi"])


def _anchor_scores(texts: list[str], tfidf, k: int, seed: int) -> list[list]:
    """[name, NPMI] of the two baselines of :func:`anchor_coherence`, fitted now."""
    from gensim.matutils import Sparse2Corpus
    from gensim.models import LdaModel
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
    example_matrix = vectorizer.fit_transform(texts)
    example = NMF(n_components=k, init="nndsvda", random_state=seed).fit(example_matrix)
    example_binary = (example_matrix > 0).astype(np.int32).tocsc()

    corpus = Sparse2Corpus(tfidf.counts, documents_columns=False)
    id2word = dict(enumerate(tfidf.terms))
    lda = LdaModel(corpus, num_topics=k, id2word=id2word, random_state=seed)
    binary = (tfidf.counts > 0).astype(np.int32).tocsc()
    return [["scikit-learn example: TfidfVectorizer + NMF", mean_coherence(example.components_, example_binary)],
            ["gensim LdaModel, default settings", mean_coherence(lda.get_topics(), binary)]]


def _anchor_key(texts: list[str], tfidf, k: int, seed: int) -> str:
    """sha256 of what the baselines depend on: texts, counts, terms, k, seed and library versions."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    counts = tfidf.counts.tocsr()
    for part in (counts.data, counts.indices, counts.indptr):
        digest.update(str(part.dtype).encode() + np.ascontiguousarray(part).tobytes())
    digest.update("\0".join(map(str, tfidf.terms)).encode("utf-8", "surrogatepass"))
    libraries = {name: version(name) for name in ("scikit-learn", "gensim", "numpy", "scipy")}
    digest.update(json.dumps([k, seed, libraries], sort_keys=True).encode())
    return digest.hexdigest()


def _read_anchor_cache(cache: Path | None, key: str) -> list[list] | None:
    """The cached baseline scores when ``cache`` holds them for ``key``; None otherwise (or unreadable)."""
    if cache is None or not cache.is_file():
        return None
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored.get("scores") if isinstance(stored, dict) and stored.get("key") == key else None


def fit_streaming_nmf(stream, engine, k: int, seed: int, *, epochs: int = 3,
                      batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """NMF for a corpus whose TF-IDF matrix does not fit in memory: the streaming path.

    scikit-learn's ``MiniBatchNMF.partial_fit`` over the blocks of a
    :class:`newslens.analysis.keywords.TfidfStream` (IDF from the reduction, rows made per part
    on the workers), ``epochs`` passes in document order; then each block's
    doc-topic weights. Only one block and the model are in memory at a time. It
    approximates the batch NMF: ``tests/test_engine.py`` measures how closely (NPMI and
    top-term overlap).
    """
    from sklearn.decomposition import MiniBatchNMF

    model = MiniBatchNMF(n_components=k, init="nndsvda", random_state=seed, batch_size=batch_size)
    for _ in range(epochs):
        for block in stream.blocks(engine):
            for start in range(0, block.shape[0], batch_size):
                model.partial_fit(block[start:start + batch_size])
    doc_topic = np.vstack([model.transform(block) for block in stream.blocks(engine)])
    return doc_topic, model.components_
