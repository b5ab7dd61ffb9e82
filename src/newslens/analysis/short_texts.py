"""Short texts (posts, sentences) and what a corpus's size supports, for the topics stage.

* **Detection** (:func:`detect_short`): a corpus is one of short texts when the median
  number of kept tokens per document, in what the tokenize stage wrote, is below
  :data:`SHORT_MEDIAN_TOKENS` (20). A news article keeps a few hundred, a speech dozens,
  a post about six.
* **The model for short texts** (:func:`fit_btm`): the Biterm Topic Model (Yan et al.,
  2013) of ``bitermplus``. A post has too few words for a topic mixture of its own, so
  BTM models the corpus's word pairs (biterms, here every pair of tokens within 15
  positions of each other in a document) as drawn from topics, and infers each
  document's mixture from its biterms afterwards. It is fitted by collapsed Gibbs
  sampling, single-threaded, from a fixed seed, so the same seed gives the same topics
  on any machine and any number of cores. ``topics.model: auto`` (the default) picks
  BTM for a corpus of short texts and NMF otherwise; ``benchmarks/SHORT_TEXTS.md``
  measures why.
* **k capped by corpus size** (:func:`k_cap`): k is at most ⌊√N⌋ for N documents (the
  square-root rule of thumb for the number of clusters in N items; a topic should be
  told by more documents than there are topics), and at most V / top_n for V terms,
  so that every topic can have ``top_n`` top terms of its own.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from newslens.wording import Words

logger = logging.getLogger(__name__)

SHORT_MEDIAN_TOKENS = 20  # median kept tokens per document below which texts are short
BTM_ITERATIONS = 50       # Gibbs sweeps; NPMI at 50, 100 and 200 iterations differs by < 0.005
BTM_WINDOW = 15           # biterms: token pairs at most 14 positions apart (the reference BTM's)
BTM_BETA = 0.01           # topic-word prior; the document-topic prior is 50 / k (Yan et al.)


@dataclass(frozen=True)
class ShortTexts:
    """Whether a corpus is one of short texts, and the evidence."""

    short: bool
    median_tokens: float
    threshold: int = SHORT_MEDIAN_TOKENS

    @classmethod
    def of_median(cls, median: float) -> "ShortTexts":
        """The rule applied to a median number of kept tokens per document."""
        return cls(median < SHORT_MEDIAN_TOKENS, float(median))

    def evidence(self, unit: str) -> str:
        """The rule applied to this corpus, in words."""
        relation = "below" if self.short else "at or above"
        verdict = "detected as short texts" if self.short else "not detected as short texts"
        return (f"{verdict}: the median {unit} keeps {self.median_tokens:g} tokens, {relation} "
                f"the threshold of {self.threshold}")


def detect_short(tokens_per_document) -> ShortTexts:
    """Apply the short-text rule to the kept tokens of each document (as tokenize wrote them).

    >>> detect_short([5, 6, 9]).short, detect_short([300, 12, 250]).short
    (True, False)
    """
    counts = np.asarray(list(tokens_per_document), dtype=float)
    if counts.size == 0:
        raise ValueError("short texts: no documents to measure")
    return ShortTexts.of_median(float(np.median(counts)))


def choose_model(model: str, texts: ShortTexts) -> tuple[str, str]:
    """The model to fit, and why: ``auto`` is BTM for short texts and NMF otherwise."""
    if model != "auto":
        return model, f"{model.upper()}, as the run's settings ask"
    if texts.short:
        return "btm", "BTM (the biterm topic model), chosen for short texts"
    return "nmf", "NMF, chosen for texts that are not short"


# ---------------------------------------------------------------- the k range

def k_cap(n_documents: int, n_terms: int, top_n: int, unit: str = "document") -> tuple[int, str]:
    """The largest k a corpus supports, and the rule in words (``unit``: what the run calls a document).

    k ≤ ⌊√N⌋ for N documents, k ≤ ⌊V / top_n⌋ for V terms, and k < N, k < V.

    >>> k_cap(3824, 20000, 10)[0], k_cap(293, 1500, 10)[0]
    (61, 17)
    >>> k_cap(574, 9000, 10, "paragraph")[1]
    'a corpus of 574 paragraphs supports at most 23 topics (⌊√N⌋)'
    """
    by_documents = math.isqrt(max(n_documents, 0))
    by_terms = n_terms // top_n
    cap = max(min(by_documents, by_terms, n_documents - 1, n_terms - 1), 0)
    s = lambda n: "" if n == 1 else "s"
    binding = (f"a corpus of {Words(unit).count(n_documents)} supports at most {by_documents} "
               f"topic{s(by_documents)} (⌊√N⌋)" if by_documents <= by_terms else
               f"a vocabulary of {n_terms:,} term{s(n_terms)} supports at most {by_terms} topic{s(by_terms)} "
               f"of {top_n} top terms each (⌊V / top_n⌋)")
    return cap, binding


# ---------------------------------------------------------------- the biterm topic model

def vectorized_documents(counts: sparse.csr_matrix, seed: int | None = None) -> list[np.ndarray]:
    """Each document as term ids, each repeated by its count: in term order, or shuffled by ``seed``.

    The counts do not keep the tokens' order. BTM's biterms are pairs at most
    :data:`BTM_WINDOW` positions apart, so in term order a document longer than the window
    would pair only terms close in the (alphabetical) vocabulary, and the topics come out
    as alphabetical bands. :func:`fit_btm` therefore shuffles each document, with one
    seeded generator: the window then samples pairs evenly from the whole document.
    """
    counts = counts.tocsr()
    documents = [np.repeat(counts.indices[start:stop], counts.data[start:stop]).astype(np.int32)
                 for start, stop in zip(counts.indptr[:-1], counts.indptr[1:])]
    if seed is None:
        return documents
    rng = np.random.default_rng(seed)
    return [rng.permutation(document) for document in documents]


def fit_btm(counts: sparse.csr_matrix, k: int, seed: int, *, iterations: int = BTM_ITERATIONS,
            doc_topics: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """Fit BTM on a document-term count matrix; returns (doc_topic, topic_term).

    ``doc_topic`` is p(topic | document) from the document's biterms (None when
    ``doc_topics`` is false: the sweep needs only the topics); ``topic_term`` is
    p(term | topic). Documents without a biterm (one token or none) get all-zero rows.
    """
    import bitermplus

    documents = vectorized_documents(counts, seed)
    biterms = bitermplus.get_biterms(documents, win=BTM_WINDOW, as_array=True)
    if not any(len(b) for b in biterms):
        raise ValueError("topics: no document has two terms, so there are no biterms to model")
    model = bitermplus.BTM(counts, np.arange(counts.shape[1]), T=k, M=20, alpha=50 / k, beta=BTM_BETA,
                           seed=seed, win=BTM_WINDOW)
    model.fit(biterms, iterations=iterations, verbose=False)
    components = np.asarray(model.matrix_topics_words_, dtype=float)
    if not doc_topics:
        return None, components
    mixture = np.nan_to_num(np.asarray(model.transform(documents, verbose=False), dtype=float))
    mixture[[len(b) == 0 for b in biterms]] = 0.0
    return mixture, components
