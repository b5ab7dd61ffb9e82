"""The fixed sample a large corpus's topic model is fitted on, and its weights for every document.

A corpus of more than :data:`SWEEP_SAMPLE` documents (or ``topics.sample_documents``) is not
swept and fitted whole: the k sweep and the final model are fitted on the documents with
the smallest hash of their id (:func:`sample_rows`), and every document's topic weights
then come from that model's ``transform``, applied partition by partition on the
project's engine (:func:`newslens.analysis.topic_pass.corpus_pass`). A corpus at or below the cap is fitted whole,
as before.

* **The sample** is a bottom-k sample of a stable hash (BLAKE2b, 8 bytes) of each doc_id: it
  does not depend on the order of the documents, the number of workers or
  ``PYTHONHASHSEED``, and a document in the sample stays in it when documents are added,
  unless an added one hashes lower and pushes it out.
* **The cap**: measured with ``benchmarks/topic_sample.py`` on the news run's TF-IDF stacked
  ×16 (60,496 documents, 22,581 terms; one process on this project's 2-core machine), the
  default sweep (8 ks × 3 seeds) and final fit took 305 s of CPU on every document and 154 s on
  the 20,000 of the sample (the sweep 150 s, the final fit 3 s), and the transform of all
  60,496 documents from that model 0.5 s. Both chose k = 10, and their topics matched one to
  one with a topic-term cosine of 0.98 or more. The sweep is the cost that grows with the
  documents; at 20,000 it stays at two to three minutes of CPU whatever the corpus's size,
  and ⌊√20,000⌋ = 141 topics are still more than the default ``k_max`` of 40 (200 at most), so
  the sample does not cap the default sweep's ks.
* **The partitions** are fixed runs of :data:`PARTITION_ROWS` rows, so the weights do not depend
  on how many workers compute them.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np
from scipy import sparse

from newslens.wording import plural

if TYPE_CHECKING:
    from newslens.params import TopicsParams

# The most documents the k sweep and the final model are fitted on (see the module's docstring).
SWEEP_SAMPLE = 20_000
# The rows of one partition of the transform: fixed, so the weights do not depend on the workers.
PARTITION_ROWS = 5_000


def doc_hash(doc_id: str) -> int:
    """A stable 64-bit hash of a doc_id (BLAKE2b), the same in every process and on every machine.

    >>> doc_hash("a") == doc_hash("a"), doc_hash("a") == doc_hash("b")
    (True, False)
    """
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big")


def sample_rows(doc_ids: Sequence[str], size: int) -> np.ndarray:
    """The row indices of the ``size`` documents with the smallest :func:`doc_hash`, in row order.

    Ties of the hash are broken by doc_id. All rows when there are at most ``size``.

    >>> sample_rows(["a", "b", "c", "d"], 2).tolist()
    [0, 2]
    >>> sample_rows(["d", "c", "b", "a"], 2).tolist()
    [1, 3]
    """
    n = len(doc_ids)
    if size >= n:
        return np.arange(n)
    if size <= 0:
        return np.arange(0)
    hashes = np.fromiter((doc_hash(doc_id) for doc_id in doc_ids), dtype=np.uint64, count=n)
    boundary = np.partition(hashes, size - 1)[size - 1]
    below = np.flatnonzero(hashes < boundary)
    tied = np.flatnonzero(hashes == boundary)
    tied = sorted(tied.tolist(), key=lambda row: doc_ids[row])[:size - len(below)]
    return np.sort(np.concatenate([below, np.asarray(tied, dtype=below.dtype)]))


TOPIC_TERMS = 30_000  # the topic model's vocabulary at most (topics.max_terms: null)


def terms_cap(settings: TopicsParams) -> int:
    """The most terms the model is fitted on: the run's ``topics.max_terms``, or :data:`TOPIC_TERMS`."""
    return settings.max_terms if settings.max_terms is not None else TOPIC_TERMS


def terms_note(kept: int, of: int) -> str:
    """What the reports say when the model's vocabulary was capped.

    >>> terms_note(30000, 93142)
    'the model uses the 30,000 of the 93,142 terms that are in the most documents'
    """
    return f"the model uses the {kept:,} of the {of:,} terms that are in the most documents"


def sample_cap(settings: TopicsParams) -> int:
    """The most documents the sweep and the model are fitted on: ``topics.sample_documents``,
    or :data:`SWEEP_SAMPLE` when it is not given."""
    return settings.sample_documents if settings.sample_documents is not None else SWEEP_SAMPLE


def topic_sample(doc_ids: Sequence[str], settings: TopicsParams) -> np.ndarray | None:
    """The rows to fit on when the corpus has more documents than the cap; None: fit them all.

    >>> from newslens.params import TopicsParams
    >>> ids = [f"doc-{i}" for i in range(12)]
    >>> topic_sample(ids, TopicsParams(sample_documents=12)) is None
    True
    >>> len(topic_sample(ids, TopicsParams(sample_documents=10)))
    10
    """
    cap = sample_cap(settings)
    return sample_rows(doc_ids, cap) if len(doc_ids) > cap else None


def sample_note(n_sample: int, n_documents: int, unit: str = "document") -> str:
    """What the reports say when the model was fitted on a sample (``unit``: what the run calls a document).

    >>> sample_note(20000, 60600)
    'the k sweep and the model were fitted on 20,000 of 60,600 documents chosen by a hash of their id; every document’s weights come from that model'
    """
    return (f"the k sweep and the model were fitted on {n_sample:,} of {n_documents:,} {plural(unit)} chosen "
            f"by a hash of their id; every {unit}’s weights come from that model")


class CellRows(NamedTuple):
    """Rows ``start`` to ``stop`` of a matrix stored as tfidf.parquet's cells (``column``: "tfidf" or
    "count"), read by the worker that transforms them (:func:`newslens.analysis.tfidf.read_cell_rows`)."""

    path: str
    column: str
    start: int
    stop: int
    n_terms: int

    def read(self, columns: np.ndarray | None = None) -> sparse.csr_matrix:
        from newslens.analysis.tfidf import read_cell_rows

        return read_cell_rows(self.path, self.column, self.start, self.stop, self.n_terms, columns=columns)

    def read_both(self, columns: np.ndarray | None = None) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """The rows' TF-IDF weights and counts, from one read."""
        from newslens.analysis.tfidf import read_cell_rows

        return read_cell_rows(self.path, ("tfidf", "count"), self.start, self.stop, self.n_terms, columns=columns)
