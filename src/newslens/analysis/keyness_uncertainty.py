"""Keyness at the level of documents: which groups are big enough, intervals, and dispersion.

G² and the log ratio count tokens as if each were an independent draw, so a word that one
document repeats looks as strong as a word every document of the group uses (Lijffijt et al.
2016, "Significance testing of word frequencies in corpora", *Digital Scholarship in the
Humanities* 31(2)). Three things put the document back in:

* **Group sizes.** A group or period is compared only when it holds at least a minimum of
  documents and of tokens (the run's ``keywords.keyness_min_documents`` and
  ``keyness_min_tokens``); smaller ones are listed with their sizes and never ranked
  (:func:`group_sizes`).
* **A bootstrap over documents** (:func:`bootstrap_log_ratio`): each replicate redraws, with
  replacement, as many documents as each group has from that group (every group, the reference's
  included, so the reference keeps its mix), and recomputes the log ratio from the redrawn counts.
  The 2.5th and 97.5th percentiles of :data:`REPLICATES` replicates are the 95% interval. The
  draws are seeded, and the counts are sums of integers, so the interval is the same on every
  machine.
* **Dispersion** (:func:`document_share`): the share of the group's documents that use the term.

A term is *distinctive* (:func:`distinctive`) when its interval excludes 0 and, for an over-used
term, at least :data:`MIN_DOCUMENT_SHARE` of the group's documents use it.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.measures import log_ratio

REPLICATES = 200         # bootstrap replicates per comparison
LEVEL = 0.95             # the interval's coverage
MIN_DOCUMENT_SHARE = 0.05  # an over-used term must be used by at least this share of the group's documents
SEED = 0
REDRAW_CELLS = 1_000_000  # redraw weights (replicates × a group's documents) held at once


def group_sizes(labels: Sequence, tokens_per_document: np.ndarray, *, min_documents: int,
                min_tokens: int) -> pd.DataFrame:
    """Each group's documents and tokens, and whether it is big enough to compare.

    Returns columns ``group, n_docs, n_tokens, compared, reason``, sorted by group; ``reason`` says
    why a group is not compared ("" when it is). Documents without a label are not counted.

    >>> sizes = group_sizes(["a", "a", "b", None], np.array([300, 300, 40, 9]), min_documents=2, min_tokens=100)
    >>> sizes[["group", "n_docs", "n_tokens", "compared"]].values.tolist()
    [['a', 2, 600, True], ['b', 1, 40, False]]
    >>> sizes["reason"].tolist()[1]
    '1 document (fewer than 2), 40 tokens (fewer than 100)'
    """
    labels = np.asarray(labels, dtype=object)
    present = pd.notna(labels)
    frame = (pd.DataFrame({"group": labels[present].astype(str),
                           "tokens": np.asarray(tokens_per_document)[present].astype("int64")})
             .groupby("group", sort=True)["tokens"].agg(n_docs="size", n_tokens="sum").reset_index())
    frame["n_docs"] = frame["n_docs"].astype("int64")
    frame["n_tokens"] = frame["n_tokens"].astype("int64")
    reasons = []
    for n_docs, n_tokens in zip(frame["n_docs"], frame["n_tokens"]):
        why = []
        if n_docs < min_documents:
            why.append(f"{n_docs:,} document{'s' if n_docs != 1 else ''} (fewer than {min_documents:,})")
        if n_tokens < min_tokens:
            why.append(f"{n_tokens:,} tokens (fewer than {min_tokens:,})")
        reasons.append(", ".join(why))
    frame["reason"] = reasons
    frame["compared"] = frame["reason"] == ""
    return frame[["group", "n_docs", "n_tokens", "compared", "reason"]]


def document_share(counts: sparse.csr_matrix, members: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The share of the documents ``members`` (row indices) that use each term of ``columns``."""
    if len(members) == 0:
        return np.zeros(len(columns))
    used = (counts[members][:, columns] > 0).sum(axis=0)
    return np.asarray(used, dtype=float).ravel() / len(members)


def _redraw_weights(rng: np.random.Generator, members: np.ndarray, replicates: int) -> np.ndarray:
    """How many times each member document is drawn in each replicate (replicates × members)."""
    n = len(members)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=replicates).astype(np.int64) if n else \
        np.zeros((replicates, 0), dtype=np.int64)


def bootstrap_log_ratio(counts: sparse.csr_matrix, labels: Sequence, targets: dict[str, np.ndarray], *,
                        replicates: int = REPLICATES, level: float = LEVEL, seed: int = SEED,
                        smoothing: float = 0.5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A percentile interval for the log ratio of chosen terms of each target group, by documents.

    Parameters
    ----------
    counts : scipy.sparse.csr_matrix, shape (documents, terms)
        Raw term counts.
    labels : sequence
        Each document's group; ``None``/NaN documents are left out of every side.
    targets : dict
        For each group compared, the term columns to give an interval (its listed terms).

    Returns
    -------
    dict
        Per group, ``(low, high)`` arrays aligned with its columns in ``targets``.
    """
    matrix = sparse.csr_matrix(counts)
    columns = np.unique(np.concatenate([np.asarray(c, dtype=np.int64) for c in targets.values()] or
                                       [np.zeros(0, dtype=np.int64)]))
    index = {column: i for i, column in enumerate(columns.tolist())}
    tokens = np.asarray(matrix.sum(axis=1)).ravel().astype(np.int64)
    sub = matrix[:, columns].tocsr() if len(columns) else sparse.csr_matrix((matrix.shape[0], 0))
    return bootstrap_columns(sub, tokens, labels,
                             {name: [index[c] for c in np.asarray(wanted, dtype=np.int64).tolist()]
                              for name, wanted in targets.items()},
                             replicates=replicates, level=level, seed=seed, smoothing=smoothing)


def bootstrap_columns(sub: sparse.csr_matrix, tokens: np.ndarray, labels: Sequence, targets: dict[str, Sequence[int]],
                      *, replicates: int = REPLICATES, level: float = LEVEL, seed: int = SEED,
                      smoothing: float = 0.5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`bootstrap_log_ratio` from each document's counts of the chosen terms only (``sub``,
    documents × chosen terms) and its count of every term (``tokens``); ``targets`` names columns
    of ``sub``. The same redraws, so the same intervals."""
    if replicates < 2:
        raise ValueError(f"replicates: must be at least 2; got {replicates!r}")
    labels = np.asarray(labels, dtype=object)
    present = pd.notna(labels)
    names = sorted(set(labels[present].astype(str)))
    tokens = np.asarray(tokens, dtype=np.int64)
    rng = np.random.default_rng(seed)
    per_group: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    total_terms = np.zeros((replicates, sub.shape[1]), dtype=np.int64)
    total_tokens = np.zeros(replicates, dtype=np.int64)
    for name in names:  # one redraw per group, in a fixed order, so the seed fixes every replicate
        members = np.flatnonzero(present & (labels.astype(str) == name))
        rows, member_tokens = sub[members], tokens[members]
        term_counts = np.empty((replicates, sub.shape[1]), dtype=np.int64)
        token_counts = np.empty(replicates, dtype=np.int64)
        # the redraws a few replicates at a time (the same draws as all at once): replicates × members
        # weights would grow with the corpus
        step = max(1, min(replicates, REDRAW_CELLS // max(len(members), 1)))
        for start in range(0, replicates, step):
            weights = _redraw_weights(rng, members, min(step, replicates - start))
            stop = start + len(weights)
            term_counts[start:stop] = np.rint(np.asarray(rows.T @ weights.T).T)  # integer sums: exact
            token_counts[start:stop] = weights @ member_tokens
        per_group[name] = (term_counts, token_counts)
        total_terms += term_counts
        total_tokens += token_counts
    alpha = (1.0 - level) / 2.0
    out = {}
    for name, cols in targets.items():
        term_counts, token_counts = per_group[name]
        cols = list(cols)
        a = term_counts[:, cols].astype(float)
        b = (total_terms[:, cols] - term_counts[:, cols]).astype(float)
        c = np.maximum(token_counts, 1).astype(float)[:, None]
        d = np.maximum(total_tokens - token_counts, 1).astype(float)[:, None]
        values = log_ratio(a, b, c, d, smoothing=smoothing)
        low, high = np.quantile(values, [alpha, 1.0 - alpha], axis=0)
        out[name] = (low, high)
    return out


class DocumentCounts(Protocol):
    """What keyness needs of the documents beyond their groups' sums (see :func:`newslens.analysis.keyness.keyness_of_sums`)."""

    def n_docs(self, name: str) -> int: ...

    def intervals(self, targets: dict[str, np.ndarray], *, replicates: int,
                  seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]: ...

    def share(self, name: str, columns: np.ndarray) -> np.ndarray: ...


class MatrixDocuments:
    """:class:`DocumentCounts` of a counts matrix in memory, each document's group in ``labels`` (None: none)."""

    def __init__(self, counts: sparse.csr_matrix, labels: np.ndarray):
        self.counts, self.labels = sparse.csr_matrix(counts), np.asarray(labels, dtype=object)

    def _members(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.labels == name)

    def n_docs(self, name: str) -> int:
        return len(self._members(name))

    def intervals(self, targets, *, replicates, seed):
        return bootstrap_log_ratio(self.counts, self.labels, targets, replicates=replicates, seed=seed)

    def share(self, name, columns):
        return document_share(self.counts, self._members(name), columns)


def distinctive(low: np.ndarray, high: np.ndarray, share: np.ndarray, direction: np.ndarray, *,
                min_share: float = MIN_DOCUMENT_SHARE) -> np.ndarray:
    """Whether each row's difference is one to cite: its interval excludes 0, and an over-used term is
    used by at least ``min_share`` of the group's documents (an under-used one may be rare in the group).

    >>> distinctive(np.array([0.2, -0.1, -2.0]), np.array([1.5, 0.8, -0.5]), np.array([0.3, 0.4, 0.0]),
    ...             np.array(["over", "over", "under"])).tolist()
    [True, False, True]
    """
    excludes_zero = (np.asarray(low) > 0) | (np.asarray(high) < 0)
    spread = (np.asarray(direction) != "over") | (np.asarray(share) >= min_share)
    return excludes_zero & spread
