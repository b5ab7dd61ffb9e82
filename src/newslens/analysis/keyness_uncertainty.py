"""Keyness at the level of documents: which groups are big enough, intervals, and dispersion.

G² and the log ratio count tokens as if each were an independent draw, so a word that one
document repeats looks as strong as a word every document of the group uses (Lijffijt et al.
2016, "Significance testing of word frequencies in corpora", *Digital Scholarship in the
Humanities* 31(2)). Three things put the document back in:

* **Group sizes.** A group or period is compared only when it holds at least a minimum of
  documents and of tokens (the run's ``keywords.keyness_min_documents`` and
  ``keyness_min_tokens``); smaller ones are listed with their sizes and never ranked
  (:func:`group_sizes`).
* **A bootstrap over documents** (:func:`bootstrap_log_ratio`), the Poisson bootstrap: in each
  replicate every document counts k times, k drawn from a Poisson distribution of mean 1 (a
  group's size then varies a little from replicate to replicate, as it does when documents are
  redrawn with replacement; Hanley and MacGibbon 2006, "Creating non-parametric bootstrap samples
  using Poisson frequencies", *Computer Methods and Programs in Biomedicine* 83; Chamandy et al.
  2012, "Estimating uncertainty for massive data streams", Google). Every group is redrawn, the
  reference's included, and the log ratio recomputed from the weighted counts. The 2.5th and
  97.5th percentiles of :data:`REPLICATES` replicates are the 95% interval. A document's k in a
  replicate comes from a hash of its id, the seed and the replicate (:func:`poisson_weights`),
  integers throughout: the weights do not depend on where, in what order or in how many parts
  the documents are counted, so partitions summed on any number of workers give the same
  interval, and the same on every machine. A replicate in which a group (or the rest) draws no
  document is left out of its interval: it says nothing of the group's rate. A group of n
  documents draws none with probability e^-n: below 1 in 100 replicates from the smallest group
  compared by default (5 documents).
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
BLOCK_DOCUMENTS = 5_000  # documents weighted at once in memory (replicates × documents weights)


def _poisson_thresholds(terms: int = 24) -> np.ndarray:
    """P(K ≤ k) for K ~ Poisson(1), k = 0, 1, ..., as 53-bit integers, in exact decimal arithmetic
    (no floating-point ``exp``, whose last bit may differ between CPUs)."""
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    term, total, out = Decimal(1).exp() ** -1, Decimal(0), []
    for k in range(terms):
        total += term
        out.append(min(int(total * (1 << 53)), (1 << 53) - 1))
        term /= k + 1
    return np.array(out, dtype=np.uint64)


_THRESHOLDS = _poisson_thresholds()
_GOLDEN = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: 64 well-mixed bits from 64 (uint64 arrays, wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def document_keys(doc_ids: Sequence[str]) -> np.ndarray:
    """Each document's key for :func:`poisson_weights`: a stable 64-bit hash of its id (BLAKE2b)."""
    from newslens.analysis.topic_sample import doc_hash

    return np.fromiter((doc_hash(str(d)) for d in doc_ids), dtype=np.uint64, count=len(doc_ids))


def poisson_weights(keys: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """How many times each document counts in each replicate (replicates × documents): Poisson(1)
    draws, each from the document's key, the seed and the replicate alone.

    >>> w = poisson_weights(document_keys([f"d{i}" for i in range(20_000)]), 3, 0)
    >>> w.shape, round(float(w.mean()), 1), round(float(w.var()), 1)
    ((3, 20000), 1.0, 1.0)
    >>> bool((poisson_weights(document_keys(["d7"]), 3, 0)[:, 0] == w[:, 7]).all())
    True
    """
    keys = np.asarray(keys, dtype=np.uint64)
    with np.errstate(over="ignore"):
        streams = _mix(np.arange(1, replicates + 1, dtype=np.uint64) * _GOLDEN
                       + _mix(np.array([seed], dtype=np.uint64) + _GOLDEN))
        bits = _mix(keys[None, :] ^ streams[:, None]) >> np.uint64(11)  # 53 uniform bits
    return np.searchsorted(_THRESHOLDS, bits, side="right").astype(np.int64)


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


def bootstrap_log_ratio(counts: sparse.csr_matrix, labels: Sequence, targets: dict[str, np.ndarray], *,
                        keys: np.ndarray | None = None, replicates: int = REPLICATES, level: float = LEVEL,
                        seed: int = SEED, smoothing: float = 0.5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A percentile interval for the log ratio of chosen terms of each target group, by documents.

    Parameters
    ----------
    counts : scipy.sparse.csr_matrix, shape (documents, terms)
        Raw term counts.
    labels : sequence
        Each document's group; ``None``/NaN documents are left out of every side.
    targets : dict
        For each group compared, the term columns to give an interval (its listed terms).
    keys : array of uint64, optional
        Each document's key (:func:`document_keys` of its id); by default the keys of its row
        number, so the same matrix gives the same interval.

    Returns
    -------
    dict
        Per group, ``(low, high)`` arrays aligned with its columns in ``targets``.
    """
    matrix = sparse.csr_matrix(counts)
    labels = np.array([None if pd.isna(g) else str(g) for g in labels], dtype=object)
    names = sorted(set(labels[pd.notna(labels)]))
    columns = np.unique(np.concatenate([np.asarray(c, dtype=np.int64) for c in targets.values()] or
                                       [np.zeros(0, dtype=np.int64)]))
    index = {column: i for i, column in enumerate(columns.tolist())}
    wanted = {name: [index[c] for c in np.asarray(cols, dtype=np.int64).tolist()] for name, cols in targets.items()}
    keys = document_keys([str(i) for i in range(matrix.shape[0])]) if keys is None else np.asarray(keys, np.uint64)
    codes = np.array([names.index(g) if g is not None else -1 for g in labels], dtype=np.int64)
    sub = matrix[:, columns].tocsr() if len(columns) else sparse.csr_matrix((matrix.shape[0], 0), dtype=np.int64)
    tokens = np.asarray(matrix.sum(axis=1)).ravel().astype(np.int64)
    sums = None
    for start in range(0, matrix.shape[0], BLOCK_DOCUMENTS):  # the same weights whatever the blocks
        stop = start + BLOCK_DOCUMENTS
        part = bootstrap_sums(sub[start:stop], tokens[start:stop], codes[start:stop], keys[start:stop],
                              names, wanted, replicates=replicates, seed=seed)
        sums = part if sums is None else merge_bootstrap_sums([sums, part])
    if sums is None:
        sums = bootstrap_sums(sub, tokens, codes, keys, names, wanted, replicates=replicates, seed=seed)
    return bootstrap_intervals(sums, level=level, smoothing=smoothing)


def bootstrap_sums(sub: sparse.csr_matrix, tokens: np.ndarray, codes: np.ndarray, keys: np.ndarray,
                   names: Sequence[str], wanted: dict[str, list[int]], *, replicates: int = REPLICATES,
                   seed: int = SEED) -> dict:
    """One part of the documents' weighted sums for the bootstrap (replicates × columns, integers).

    ``sub`` holds the documents' counts of the chosen terms (documents × chosen terms), ``tokens``
    their counts of every term, ``codes`` their group (an index into ``names``; -1: none) and
    ``keys`` their :func:`document_keys`; ``wanted`` names, per target group, its columns of ``sub``.
    Sums of parts (:func:`merge_bootstrap_sums`) are the sums of the whole, exactly.
    """
    if replicates < 2:
        raise ValueError(f"replicates: must be at least 2; got {replicates!r}")
    codes = np.asarray(codes, dtype=np.int64)
    weights = poisson_weights(keys, replicates, seed)
    present = np.flatnonzero(codes >= 0)
    rows = sparse.csr_matrix(sub)
    total = np.rint(np.asarray(rows[present].T @ weights[:, present].T).T).astype(np.int64)  # integer sums: exact
    group_tokens = np.zeros((len(names), replicates), dtype=np.int64)
    for code in np.unique(codes[present]):
        members = np.flatnonzero(codes == code)
        group_tokens[code] = weights[:, members] @ np.asarray(tokens, dtype=np.int64)[members]
    own = {}
    for name, cols in wanted.items():
        members = np.flatnonzero(codes == list(names).index(name))
        own[name] = np.rint(np.asarray(rows[members][:, cols].T @ weights[:, members].T).T).astype(np.int64)
    return {"names": list(names), "wanted": wanted, "total": total, "tokens": group_tokens, "own": own}


def merge_bootstrap_sums(parts: list[dict]) -> dict:
    """Parts' :func:`bootstrap_sums` added (associative; the inputs are left as they are)."""
    first = parts[0]
    return {"names": first["names"], "wanted": first["wanted"],
            "total": sum((p["total"] for p in parts[1:]), first["total"].copy()),
            "tokens": sum((p["tokens"] for p in parts[1:]), first["tokens"].copy()),
            "own": {name: sum((p["own"][name] for p in parts[1:]), first["own"][name].copy())
                    for name in first["own"]}}


def bootstrap_intervals(sums: dict, *, level: float = LEVEL,
                        smoothing: float = 0.5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per target group, the percentile interval of the log ratio over the replicates of ``sums``."""
    alpha = (1.0 - level) / 2.0
    all_tokens = sums["tokens"].sum(axis=0)
    out = {}
    for name, cols in sums["wanted"].items():
        a = sums["own"][name].astype(float)
        b = (sums["total"][:, cols] - sums["own"][name]).astype(float)
        mine = sums["tokens"][sums["names"].index(name)]
        c = np.maximum(mine, 1).astype(float)[:, None]
        d = np.maximum(all_tokens - mine, 1).astype(float)[:, None]
        values = log_ratio(a, b, c, d, smoothing=smoothing)
        # a replicate in which the group, or the rest, drew no token says nothing of its rate
        values[(mine == 0) | (all_tokens - mine == 0)] = np.nan
        if np.isnan(values).all():
            low = high = np.full(values.shape[1], np.nan)
        else:
            low, high = np.nanquantile(values, [alpha, 1.0 - alpha], axis=0)
        out[name] = (low, high)
    return out


class DocumentCounts(Protocol):
    """What keyness needs of the documents beyond their groups' sums (see :func:`newslens.analysis.keyness.keyness_of_sums`)."""

    def n_docs(self, name: str) -> int: ...

    def intervals(self, targets: dict[str, np.ndarray], *, replicates: int,
                  seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]: ...

    def share(self, name: str, columns: np.ndarray) -> np.ndarray: ...


class MatrixDocuments:
    """:class:`DocumentCounts` of a counts matrix in memory, each document's group in ``labels`` (None:
    none), its key in ``keys`` (:func:`document_keys`; by default its row number's)."""

    def __init__(self, counts: sparse.csr_matrix, labels: np.ndarray, keys: np.ndarray | None = None):
        self.counts, self.labels, self.keys = sparse.csr_matrix(counts), np.asarray(labels, dtype=object), keys

    def _members(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.labels == name)

    def n_docs(self, name: str) -> int:
        return len(self._members(name))

    def intervals(self, targets, *, replicates, seed):
        return bootstrap_log_ratio(self.counts, self.labels, targets, keys=self.keys, replicates=replicates,
                                   seed=seed)

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
