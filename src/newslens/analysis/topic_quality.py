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
  coherence and stability; the highest wins, the smaller k on ties.
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
SHOWN = {"prevalence": 3, "coherence": 3, "model_coherence": 4}


class TopicsError(ValueError):
    """The corpus or the settings cannot give the topics asked for."""


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
    reason = (f"k={int(best['k'])} has the best balance of coherence (NPMI {best['coherence']:.3f}) "
              f"and stability across seeds ({best['stability']:.2f}): the highest mean of the two "
              f"min–max-normalised scores among k = {', '.join(str(int(k)) for k in sweep['k'])}")
    return int(best["k"]), reason
