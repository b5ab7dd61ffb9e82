"""The quality of a topic model, from small parts: coherence, term ranks, stability and the choice of k.

As gensim's ``topic_coherence`` pipeline composes a score from segmentation, probability
estimation and a confirmation measure, the topics stage composes its evidence for k here:

* **Coherence** (:func:`npmi_coherence`, :func:`mean_coherence`): NPMI of each topic's top
  terms from document co-occurrence in the run's own tokens (the matrix the model saw),
  averaged over top-n sizes 5, 10, 15 and 20.
* **Term ranks** (:func:`rank_terms`): each topic's terms by weight, by a rule stable to the
  machine's last bits.
* **Stability** (:func:`stability`): the mean, over seed pairs, of the best-match Jaccard
  overlap of top-10 term sets (Greene et al., 2014), the pairs from the one matcher
  (:func:`newslens.analysis.matching.optimal_pairs`).
* **Choice of k** (:func:`choose_k`): each k gets the mean of its min–max normalised
  coherence and stability; the highest wins, the smaller k on ties. :func:`k_evidence` then
  says in plain words what the evidence does not support: a k that is best on neither
  count, topics less coherent than the scikit-learn example's at the same k, or unstable ones.
* **Exclusivity** (:func:`exclusivity`): stm's FREX-based exclusivity (Roberts et al.
  2014; ``stm::exclusivity``), here as the mean over a topic's top 10 terms, so 0–1.
* **Mixed topics** (:func:`mixed_topics`): a topic both incoherent and not exclusive, by the
  rule stated there, is marked as mixed wherever it is shown, not given a confident label.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.analysis.matching import optimal_pairs

TOP_N_SIZES = (5, 10, 15, 20)
# Terms are ranked on their weights rounded to RANK_DIGITS significant digits of the topic's
# largest weight, ties going to the earlier term in the vocabulary (alphabetical): two terms of
# the same weight in exact arithmetic (the same documents, the same counts) then rank the same
# on every machine, whatever last bits the BLAS kernel left on them.
RANK_DIGITS = 9
# Decimals of the values the reports print: prevalence as 12.3% (and 12%), coherence as
# 0.123, the model's mean NPMI beside the baselines as 0.1234. Topic-term weights are only
# drawn (4 significant digits, precision.display_values).
SHOWN = {"prevalence": 3, "coherence": 3, "model_coherence": 4, "exclusivity": 3}
# FREX weighs exclusivity against frequency; stm's exclusivity() uses 0.7 (its labelTopics 0.5).
FREX_WEIGHT = 0.7
EXCLUSIVITY_TOP = 10
# A topic is mixed when it is in the model's lowest quarter by coherence and by exclusivity
# alike, and (when a baseline is known) less coherent than the scikit-learn example's
# average topic at the same k: a model whose every topic beats that has no mixed topic.
MIXED_QUANTILE = 0.25
# Stability is the mean Jaccard overlap of matched top-10 term sets across refits; below this,
# a topic keeps fewer than 7.5 of its top 10 terms on average (2J·10/(1+J)), and the report says so.
LOW_STABILITY = 0.6


class TopicsError(ValueError):
    """The corpus or the settings cannot give the topics asked for."""


class CoDocuments:
    """How many documents hold each pair of some terms (and each term: the diagonal), counted by
    summing partitions' counts (:func:`co_documents`), so coherence over every document needs
    none of them held at once. It stands in for the binary matrix :func:`npmi_coherence` reads.

    >>> binary = sparse.csc_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]]))
    >>> together = co_documents(binary[:2], np.array([0, 1])) + co_documents(binary[2:], np.array([0, 1]))
    >>> together.n_docs, together.block(np.array([1, 0])).tolist()
    (3, [[3.0, 2.0], [2.0, 2.0]])
    """

    def __init__(self, n_docs: int, terms: np.ndarray, co: np.ndarray):
        self.n_docs, self.terms, self.co = int(n_docs), np.asarray(terms), np.asarray(co, dtype=np.int64)
        self._slot = {int(t): i for i, t in enumerate(self.terms)}

    def __add__(self, other: "CoDocuments") -> "CoDocuments":
        if not np.array_equal(self.terms, other.terms):
            raise ValueError("CoDocuments: the counts are of different terms")
        return CoDocuments(self.n_docs + other.n_docs, self.terms, self.co + other.co)

    def block(self, terms: np.ndarray) -> np.ndarray:
        """The counts of ``terms`` (each among :attr:`terms`) and their pairs, as floats."""
        slots = [self._slot[int(t)] for t in terms]
        return self.co[np.ix_(slots, slots)].astype(float)


def co_documents(binary: sparse.spmatrix, terms: np.ndarray) -> CoDocuments:
    """The co-document counts of ``terms`` (column indices) in the rows of ``binary`` (any non-zero
    counts as present); exact integers, so partitions' counts add up to the whole's."""
    columns = (sparse.csc_matrix(binary)[:, np.asarray(terms)] != 0).astype(np.int64)
    return CoDocuments(binary.shape[0], terms, (columns.T @ columns).toarray())


def coherence_terms(components: np.ndarray, top_n: int = 10) -> np.ndarray:
    """Every term that coherence is computed on for this model: each topic's top ``top_n`` (the
    topics' own scores) and top :data:`TOP_N_SIZES` (the model's mean), ascending."""
    usable = [n for n in TOP_N_SIZES if n <= components.shape[1]] or [components.shape[1]]
    return np.unique(rank_terms(components, max(max(usable), top_n)))


def npmi_coherence(top_terms: list[np.ndarray], binary: "sparse.csc_matrix | CoDocuments") -> np.ndarray:
    """Mean pairwise NPMI of each topic's terms, from document co-occurrence (``binary``: the
    documents' 0/1 term matrix, or the :class:`CoDocuments` counts of the terms asked about).

    For terms i, j with document probabilities p(i) = df(i)/N and
    p(i, j) = df(i, j)/N: NPMI = ln(p(i, j) / (p(i) p(j))) / −ln p(i, j), and
    −1 when the two never co-occur. A topic's score is the mean over its pairs.
    """
    n_docs = binary.n_docs if isinstance(binary, CoDocuments) else binary.shape[0]
    scores = []
    for terms in top_terms:
        if isinstance(binary, CoDocuments):
            co = binary.block(terms)
        else:
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


def mean_coherence(components: np.ndarray, binary: "sparse.csc_matrix | CoDocuments",
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
    """The Jaccard overlap of two collections taken as sets (0 when both are empty)."""
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def match_topics(previous: list[list[str]], current: list[list[str]]) -> list[tuple[int, int, float]]:
    """The one matcher's pairs of current and previous topics on their top-term Jaccard overlap.

    Returns (previous index, current index, overlap) for each assigned pair.
    """
    if not previous or not current:
        return []
    overlap = np.array([[jaccard(p, c) for c in current] for p in previous])
    return [(r, c, float(overlap[r, c])) for r, c in optimal_pairs(overlap)]


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
    reason = (f"k={int(best['k'])} scored highest with coherence (NPMI {best['coherence']:.3f}) and stability "
              f"across refits ({best['stability']:.2f}) counted equally, each scaled from its lowest to its highest "
              f"value among k = {', '.join(str(int(k)) for k in sweep['k'])}")
    return int(best["k"]), reason


def exclusivity(components: np.ndarray, n: int = EXCLUSIVITY_TOP, weight: float = FREX_WEIGHT) -> np.ndarray:
    """Each topic's exclusivity: the mean FREX of its top ``n`` terms (stm's ``exclusivity``, scaled to 0–1).

    As in stm's ``calcfrex``: each topic's term distribution β (its weights scaled to sum to 1);
    a term's exclusivity to a topic is β(topic, term) / Σ over topics β(·, term); FREX is the
    harmonic mean, weighted ``weight`` to exclusivity, of the term's rank (as an empirical CDF
    over the vocabulary, within the topic) by exclusivity and by β. stm sums FREX over the top
    terms; the mean here is the same ordering on a 0–1 scale. Weights are compared at
    :data:`RANK_DIGITS` significant digits, as :func:`rank_terms` does, so no CPU's last bit moves a rank.

    >>> components = np.array([[5.0, 4.0, 0.1, 0.1], [0.1, 0.1, 5.0, 4.0]])
    >>> exclusivity(components, n=2).round(3).tolist()  # the second terms rank 3 of 4 by weight
    [0.875, 0.875]
    >>> shared = np.array([[5.0, 4.0, 0.1, 0.1], [5.0, 4.0, 0.2, 0.1]])
    >>> bool(exclusivity(shared, n=2)[1] < 1.0)
    True
    """
    components = np.clip(np.asarray(components, dtype=float), 0, None)
    totals = components.sum(axis=1, keepdims=True)
    beta = np.divide(components, totals, out=np.zeros_like(components), where=totals > 0)
    share = beta.sum(axis=0, keepdims=True)
    exclusive = np.divide(beta, share, out=np.zeros_like(beta), where=share > 0)

    def ecdf(values: np.ndarray) -> np.ndarray:
        scale = np.abs(values).max(axis=1, keepdims=True)
        scale[scale == 0] = 1.0
        rounded = np.round(values / scale, RANK_DIGITS)
        # A term's ECDF value: the share of the vocabulary at or below its (rounded) value.
        ordered = np.sort(rounded, axis=1)
        return np.stack([np.searchsorted(row, r, side="right") for row, r in zip(ordered, rounded)]) / values.shape[1]

    frex = 1.0 / (weight / ecdf(exclusive) + (1 - weight) / ecdf(beta))
    top = rank_terms(components, min(n, components.shape[1]))
    return np.array([frex[i, top[i]].mean() for i in range(len(top))])


def mixed_topics(coherence: np.ndarray, exclusivity_: np.ndarray, baseline: float | None = None) -> np.ndarray:
    """Which topics are mixed: in the model's lowest :data:`MIXED_QUANTILE` by coherence *and* by
    exclusivity, and less coherent than ``baseline`` (the scikit-learn example's mean NPMI at the same k)
    when it is given. Both scores are compared as shown (3 decimals).

    >>> mixed_topics(np.array([0.18, 0.19, 0.42, 0.24, 0.24, 0.29, 0.44, 0.47]),
    ...              np.array([0.94, 0.81, 0.97, 0.96, 0.96, 0.97, 0.98, 0.99]), baseline=0.33).tolist()
    [True, True, False, False, False, False, False, False]
    >>> mixed_topics(np.array([0.5, 0.6, 0.7, 0.8]), np.array([0.9, 0.95, 0.97, 0.99]), baseline=0.33).tolist()
    [False, False, False, False]
    """
    coherence = np.round(np.asarray(coherence, dtype=float), SHOWN["coherence"])
    exclusive = np.round(np.asarray(exclusivity_, dtype=float), SHOWN["exclusivity"])
    if len(coherence) < 2:
        return np.zeros(len(coherence), dtype=bool)
    low = ((coherence <= np.quantile(coherence, MIXED_QUANTILE))
           & (exclusive <= np.quantile(exclusive, MIXED_QUANTILE)))
    if baseline is not None and np.isfinite(baseline):
        low &= coherence < round(float(baseline), SHOWN["coherence"])
    return low


def terms_kept(jaccard_overlap: float, n: int = 10) -> float:
    """How many of ``n`` top terms two matched topics share at a Jaccard overlap (2J·n/(1+J)).

    >>> terms_kept(1.0), round(terms_kept(0.5), 1)
    (10.0, 6.7)
    """
    return 2 * jaccard_overlap * n / (1 + jaccard_overlap)


def k_evidence(sweep: pd.DataFrame, k: int, coherence: float, baseline: float | None = None) -> list[str]:
    """What the evidence says of the chosen k, in plain sentences (none when it is unremarkable).

    * when another k is better on both coherence and stability, or when k is best on neither
      (the choice is then a compromise between the two);
    * when the final model's coherence is below the scikit-learn example's at the same k;
    * when its stability is below :data:`LOW_STABILITY`.

    >>> sweep = pd.DataFrame({"k": [5, 10, 40], "coherence": [0.30, 0.34, 0.38],
    ...                       "stability": [0.87, 0.84, 0.52]})
    >>> for line in k_evidence(sweep, 10, 0.30, baseline=0.33): print(line)
    No k is best on both counts: coherence is highest at k = 40 (NPMI 0.380, against 0.340 at k = 10) and stability at k = 5 (0.87, against 0.84), so k = 10 is a compromise between the two, not a clear best.
    At k = 10 the model's topics are less coherent than those of the scikit-learn example (NPMI 0.300 against 0.330), a plain TF-IDF and NMF model of the same documents.
    """
    lines = []
    rows = sweep.dropna(subset=["coherence"]).set_index("k")
    if len(rows) > 1 and k in rows.index:
        chosen = rows.loc[k]
        best_coherence = rows["coherence"].round(SHOWN["coherence"]).idxmax()
        stable = rows["stability"].dropna()
        best_stability = stable.round(2).idxmax() if len(stable) else k
        if best_coherence != k and best_stability != k:
            lines.append(
                f"No k is best on both counts: coherence is highest at k = {best_coherence} "
                f"(NPMI {rows.loc[best_coherence, 'coherence']:.3f}, against {chosen['coherence']:.3f} at k = {k}) "
                f"and stability at k = {best_stability} ({stable.loc[best_stability]:.2f}, against "
                f"{chosen['stability']:.2f}), so k = {k} is a compromise between the two, not a clear best.")
        stability_k = chosen["stability"]
        if pd.notna(stability_k) and round(float(stability_k), 2) < LOW_STABILITY:
            lines.append(
                f"Its topics are not stable: refitted on other samples of the documents, a topic keeps on average "
                f"only about {terms_kept(float(stability_k)):.0f} of its top 10 terms (stability {stability_k:.2f}).")
    if baseline is not None and np.isfinite(baseline) and round(coherence, 3) < round(float(baseline), 3):
        lines.append(f"At k = {k} the model's topics are less coherent than those of the scikit-learn example "
                     f"(NPMI {coherence:.3f} against {baseline:.3f}), a plain TF-IDF and NMF model of the "
                     "same documents.")
    return lines
