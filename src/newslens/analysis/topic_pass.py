"""One pass over every document of a topic model's corpus, partition by partition on the engine.

The topics stage holds the rows its model is fitted on (every document's, or a sample's:
:mod:`newslens.analysis.topic_sample`); what it needs of every document comes from one pass
over the corpus's fixed partitions (:data:`~newslens.analysis.topic_sample.PARTITION_ROWS` rows),
each read by the worker that handles it (:class:`~newslens.analysis.topic_sample.CellRows`):
the documents' topic weights from the fitted model's ``transform``, and exact integer sums
(:class:`CorpusStats`): each term's count (the explorer's p(w)), the co-document counts of the
terms coherence is computed on (:class:`~newslens.analysis.topic_quality.CoDocuments`), and the
terms in the focus's rows. Both are merged in partition order where the blocks ran (the engine's
``fold``: on dask the driver receives one merge). The driver then holds the weights and
vocabulary-sized sums, never the corpus's matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np
from scipy import sparse

from newslens.analysis.topic_quality import CoDocuments, co_documents
from newslens.analysis.topic_sample import CellRows

if TYPE_CHECKING:
    from newslens.engine import Engine



class CorpusStats(NamedTuple):
    """What the topics stage needs of every document besides its weights, summed over partitions:
    each term's count (the explorer's p(w)), the co-document counts of the terms coherence is
    computed on, and the terms in the focus's rows."""

    totals: np.ndarray        # each of the model's terms' count over every document (int64)
    co: CoDocuments           # co-document counts of the coherence terms over every document
    focus_terms: np.ndarray   # the model's terms found in the focus's rows, ascending


def block_stats(counts: sparse.csr_matrix, coherence: np.ndarray, focus: np.ndarray) -> CorpusStats:
    """One partition's :class:`CorpusStats` (``focus``: the focus's rows within it); exact integers,
    so partitions' stats sum to the whole's (:func:`merge_stats`)."""
    totals = np.asarray(counts.sum(axis=0), dtype=np.int64).ravel()
    used = np.flatnonzero(np.asarray(counts[np.asarray(focus, dtype=np.int64)].sum(axis=0)).ravel() > 0)
    return CorpusStats(totals, co_documents(counts, coherence), used)


def merge_stats(parts: Sequence[CorpusStats]) -> CorpusStats:
    """The partitions' stats summed in partition order."""
    totals, co, focus = parts[0]
    for part in parts[1:]:
        totals, co, focus = totals + part.totals, co + part.co, np.union1d(focus, part.focus_terms)
    return CorpusStats(totals, co, np.asarray(focus, dtype=np.int64))


def pass_block(shared, block) -> tuple[np.ndarray | None, CorpusStats]:
    """One partition's doc-topic weights (``transform`` of the fitted model; None without one) and
    its :class:`CorpusStats` (run on a worker). ``block`` is a :class:`CellRows`, read here, or a
    (TF-IDF, counts, first row) triple held in memory; ``shared`` is (estimator or None, the model's
    data: "tfidf" or "count", the file's kept columns, the coherence terms, the focus's rows)."""
    estimator, data, columns, coherence, focus = shared
    if isinstance(block, CellRows):
        (weights, counts), start = block.read_both(columns), block.start
    else:
        weights, counts, start = block
    local = np.asarray(focus, dtype=np.int64) - start
    local = local[(local >= 0) & (local < counts.shape[0])]
    mixture = None if estimator is None else np.asarray(
        estimator.transform(weights if data == "tfidf" else counts), dtype=float)
    return mixture, block_stats(counts, coherence, local)


def corpus_pass(tfidf, estimator, data: str, coherence: np.ndarray, focus: np.ndarray,
                engine: Engine | str | None = None, *, n_jobs: int = 2,
                rows: int | None = None) -> tuple[np.ndarray | None, CorpusStats]:
    """Every document's doc-topic weights from ``estimator.transform`` (None: no estimator) and the
    :class:`CorpusStats` of every document, in one pass of fixed partitions of ``rows`` rows.

    When ``tfidf`` holds only some rows of its file (:func:`newslens.analysis.tfidf.read_tfidf`'s
    ``rows``), or was read from a file at all, each task names its rows of the file
    (:class:`CellRows`) and the worker reads them: no task carries a block of the matrix, and the
    driver holds only the weights and vocabulary-sized sums. Otherwise the blocks are the held
    matrices' rows. The partitions do not depend on the workers, nor do the weights (``transform``
    is run on the same rows whatever the engine).
    """
    from newslens.analysis import topic_sample
    from newslens.engine import engine_scope

    rows = rows or topic_sample.PARTITION_ROWS
    n = len(tfidf.all_doc_ids)
    n_terms = len(tfidf.terms)
    if estimator is None and tfidf.rows is None:  # the counts are all held: one block, in process
        blocks = [(tfidf.matrix, tfidf.counts, 0)]
    elif tfidf.cells is not None and (tfidf.rows is not None or n > rows):
        blocks = [CellRows(str(tfidf.cells), "tfidf", start, min(start + rows, n), n_terms)
                  for start in range(0, n, rows)]
    elif tfidf.rows is not None:
        raise ValueError("corpus_pass: the TF-IDF holds some rows only and names no file to read the others from")
    else:
        blocks = [(tfidf.matrix[start:start + rows], tfidf.counts[start:start + rows], start)
                  for start in range(0, n, rows)]
    shared = (estimator, data, tfidf.columns, coherence, focus)
    if len(blocks) == 1 and not isinstance(blocks[0], CellRows):
        return pass_block(shared, blocks[0])
    with engine_scope(engine, n_jobs) as runner:  # merged where the blocks ran: the driver gets one merge
        return runner.fold(pass_block, blocks, merge_blocks, shared=shared)


def merge_blocks(found: Sequence[tuple[np.ndarray | None, CorpusStats]]) -> tuple[np.ndarray | None, CorpusStats]:
    """Consecutive blocks' results as one: their weights stacked in order, their stats summed
    (:func:`merge_stats`); a fold's merge, so it leaves its inputs as they were."""
    mixtures = [mixture for mixture, _ in found]
    weights = None if any(mixture is None for mixture in mixtures) else np.vstack(mixtures)
    return weights, merge_stats([stats for _, stats in found])
