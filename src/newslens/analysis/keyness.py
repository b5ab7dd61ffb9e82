"""Keyness: which terms a group of documents uses more (or less) than the rest.

Each group is compared with all other documents pooled (one-vs-rest), as
quanteda's ``textstat_keyness`` does and as Rayson & Garside (2000) describe
for comparing corpora. For one term and one group the 2×2 table is::

                     target (group)   reference (rest)   total
    term                  a                 b             a + b
    all tokens            c                 d             c + d = N

**Log-likelihood G²** (Rayson & Garside's corpus form, the one the UCREL
log-likelihood calculator uses) sums over the two *term* cells only::

    E1 = c (a + b) / N        E2 = d (a + b) / N
    G² = 2 [a ln(a / E1) + b ln(b / E2)],   with 0 · ln 0 = 0

This is not the textbook G² of the full contingency table (which also has the
non-term cells c − a and d − b, and is what quanteda's ``measure = "lr"``
computes); the full-table value is never smaller, and the two agree closely
when the term is rare. G² is returned unsigned: it says how surprising the
difference is, not which way it goes. ``p_value`` is the χ² (1 df) tail of G².

**Log ratio** (Hardie 2014) gives the direction and the effect size, in
doublings of relative frequency, with a small additive smoothing so that a
zero count stays finite::

    log ratio = log2( ((a + s) / c) / ((b + s) / d) ),   s = 0.5 by default

A term is ``over``-used by a group when its log ratio is positive, else
``under``-used.

Periods as groups: the keywords stage labels documents by period
(:mod:`newslens.analysis.keywords`); :func:`keyness` leaves documents whose group is
missing (``None``: undated) out of both target and reference.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from newslens.analysis.keyness_uncertainty import REPLICATES, SEED, DocumentCounts, MatrixDocuments, distinctive
from newslens.measures import g2, log_odds_z, log_ratio

STORED_DECIMALS = 10
COLUMNS = ["group", "n_docs", "n_tokens", "term", "freq_target", "freq_reference", "g2", "log_ratio",
           "log_ratio_low", "log_ratio_high", "log_odds_z", "doc_share", "p_value", "direction", "distinctive",
           "rank"]


def _group_indicator(groups: Sequence, n_documents: int) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Sorted group labels and the groups × documents 0/1 matrix (missing groups: no row)."""
    if len(groups) != n_documents:
        raise ValueError(f"groups: {len(groups)} labels for {n_documents} documents (rows of counts)")
    labels = pd.Series(list(groups), dtype=object)
    present = labels.notna().to_numpy()
    names, codes = np.unique(labels[present].astype(str).to_numpy(), return_inverse=True)
    if len(names) < 2:
        raise ValueError(f"keyness needs at least two groups; got {len(names)}: {names.tolist()}")
    columns = np.flatnonzero(present)
    indicator = sparse.csr_matrix((np.ones(len(columns)), (codes, columns)),
                                  shape=(len(names), n_documents))
    return names, indicator


def _check_counts(counts, terms: Sequence[str]) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(counts)
    if matrix.shape[1] != len(terms):
        raise ValueError(f"terms: {len(terms)} terms for {matrix.shape[1]} columns of counts")
    if matrix.nnz and matrix.data.min() < 0:
        raise ValueError(f"counts: must be >= 0; found {matrix.data.min():g}")
    if matrix.nnz and not np.array_equal(matrix.data, np.round(matrix.data)):
        raise ValueError("counts: must be raw whole-number counts (not weights such as tf-idf)")
    return matrix


def keyness(counts, groups: Sequence[str], terms: Sequence[str], *, min_freq: int = 10,
            top_n: int | None = None, targets: Sequence[str] | None = None,
            replicates: int = REPLICATES, seed: int = SEED) -> pd.DataFrame:
    """Key terms of each group against all other documents (one-vs-rest), with document-level uncertainty.

    Parameters
    ----------
    counts : scipy.sparse matrix or array_like, shape (documents, terms)
        Raw term counts.
    groups : sequence of str
        One group label per document; ``None``/NaN leaves the document out of both sides.
    terms : sequence of str
        One term per column of ``counts``.
    min_freq : int
        Keep a (group, term) row when ``a + b >= max(min_freq, 1)`` (the term's
        frequency over all grouped documents).
    top_n : int, optional
        Keep the ``top_n`` strongest rows per group and direction.
    targets : sequence of str, optional
        The groups to list (default: every group). The others still count in each
        target's reference: a group too small to compare is part of "the rest".
    replicates, seed : int
        The bootstrap over documents that gives each listed row its interval
        (:func:`newslens.analysis.keyness_uncertainty.bootstrap_log_ratio`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: the group, its documents and tokens (``c``), the term,
        ``freq_target`` (a) and ``freq_reference`` (b); ``g2``, ``log_ratio`` (smoothing 0.5,
        its sign that of the raw rate difference) and ``log_odds_z`` as in
        :mod:`newslens.measures`, with ``d`` = the other documents' tokens;
        ``log_ratio_low`` and ``log_ratio_high``, the 95% interval over documents;
        ``doc_share``, the share of the group's documents that use the term;
        ``p_value = chi2.sf(g2, df=1)`` (tokens taken as independent: the interval is the
        honest measure); ``direction`` (``over`` when the log ratio > 0); ``distinctive``
        (:func:`newslens.analysis.keyness_uncertainty.distinctive`); ``rank`` 1 = highest G²
        within group and direction (ties by term). Sorted by group, direction (``over``
        first), rank.
    """
    matrix = _check_counts(counts, terms)
    names, indicator = _group_indicator(groups, matrix.shape[0])
    by_group = np.asarray((indicator @ matrix).todense(), dtype=float)  # groups × terms
    labels = np.array([None if pd.isna(g) else str(g) for g in groups], dtype=object)
    return keyness_of_sums(names, by_group, terms, MatrixDocuments(matrix, labels), min_freq=min_freq,
                           top_n=top_n, targets=targets, replicates=replicates, seed=seed)


def keyness_of_sums(names: np.ndarray, by_group: np.ndarray, terms: Sequence[str], documents: "DocumentCounts", *,
                    min_freq: int = 10, top_n: int | None = None, targets: Sequence[str] | None = None,
                    replicates: int = REPLICATES, seed: int = SEED) -> pd.DataFrame:
    """:func:`keyness` from the groups' summed counts (``by_group``, groups × terms, the groups
    ``names`` sorted) and ``documents``, which gives the per-document quantities: each group's
    documents, the bootstrap's intervals and the document shares (in memory
    :class:`~newslens.analysis.keyness_uncertainty.MatrixDocuments`; the keywords stage's
    partitioned pass its own). The same rows as :func:`keyness` on the counts they sum."""
    if isinstance(min_freq, bool) or not isinstance(min_freq, (int, np.integer)) or min_freq < 0:
        raise ValueError(f"min_freq: must be an integer >= 0; got {min_freq!r}")
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer))
                              or top_n < 1):
        raise ValueError(f"top_n: must be a positive integer or None; got {top_n!r}")
    if len(names) < 2:
        raise ValueError(f"keyness needs at least two groups; got {len(names)}: {list(names)}")
    by_group = np.asarray(by_group, dtype=float)
    if by_group.shape[1] != len(terms):
        raise ValueError(f"terms: {len(terms)} terms for {by_group.shape[1]} columns of counts")
    term_totals = by_group.sum(axis=0)
    group_totals = by_group.sum(axis=1)
    empty = names[group_totals == 0]
    if len(empty):
        raise ValueError(f"groups without any tokens cannot be compared: {empty.tolist()}")
    wanted = names if targets is None else np.array(sorted(set(map(str, targets))), dtype=names.dtype)
    unknown = sorted(set(wanted.tolist()) - set(names.tolist()))
    if unknown:
        raise ValueError(f"targets: {unknown} are not among the groups ({names.tolist()})")
    a, b = by_group, term_totals[None, :] - by_group
    c, d = group_totals[:, None], group_totals.sum() - group_totals[:, None]
    ratio = log_ratio(a, b, c, d)
    keep = (term_totals[None, :] >= max(min_freq, 1)) & np.isin(names, wanted)[:, None]
    scores = g2(a, b, c, d)
    rows, cols = np.nonzero(keep) if top_n is None else _top_cells(keep, scores, ratio > 0, terms, top_n)
    frame = _keyness_frame(names[rows], np.asarray(terms, dtype=object)[cols], cols, a[rows, cols],
                           b[rows, cols], scores[rows, cols], ratio[rows, cols], top_n)
    return _with_uncertainty(frame, documents, names, group_totals, c, d, replicates, seed)


def _top_cells(keep: np.ndarray, scores: np.ndarray, over: np.ndarray, terms: Sequence[str],
               top_n: int) -> tuple[np.ndarray, np.ndarray]:
    """The (group, term) cells of ``keep`` that :func:`_keyness_frame` ranks within ``top_n`` in
    their group and direction (``over``: log ratio above 0), in the same order of G², then term,
    as its sort; the frame is then built of these alone, not of every group × term cell (at 60,600
    documents, 93,000 terms × the groups, the stage's largest frame), and ranks them as before."""
    term_order = np.empty(len(terms), dtype=np.int64)
    term_order[np.argsort(np.asarray(terms, dtype=object), kind="stable")] = np.arange(len(terms))
    rows, cols = [], []
    for row in range(keep.shape[0]):
        for side in (over[row], ~over[row]):
            candidates = np.flatnonzero(keep[row] & side)
            # the frame's sort: G² descending (NaN last), then the term; lexsort's last key is the primary
            best = candidates[np.lexsort((term_order[candidates], -scores[row, candidates]))[:top_n]]
            rows.append(np.full(len(best), row, dtype=np.int64))
            cols.append(best)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((cols, rows))  # np.nonzero's order
    return rows[order], cols[order]


def _keyness_frame(group, term, column, a, b, g2_values, ratio, top_n: int | None) -> pd.DataFrame:
    """Assemble, rank and sort the keyness rows (``_column``: the term's column in the counts)."""
    frame = pd.DataFrame({
        "group": pd.Series(group, dtype=object), "term": pd.Series(term, dtype=object),
        "_column": np.asarray(column, dtype=np.int64),
        "freq_target": a.astype("int64"), "freq_reference": b.astype("int64"),
        "g2": g2_values, "log_ratio": ratio, "p_value": stats.chi2.sf(g2_values, 1),
        "direction": np.where(ratio > 0, "over", "under")})
    frame["_under"] = frame["direction"] == "under"
    frame = frame.sort_values(["group", "_under", "g2", "term"], ascending=[True, True, False, True],
                              kind="mergesort", ignore_index=True)
    frame["rank"] = frame.groupby(["group", "direction"], sort=False).cumcount().astype("int64") + 1
    if top_n is not None:
        frame = frame[frame["rank"] <= top_n].reset_index(drop=True)
    return frame


def _with_uncertainty(frame: pd.DataFrame, documents: "DocumentCounts", names: np.ndarray,
                      group_totals: np.ndarray, c: np.ndarray, d: np.ndarray, replicates: int,
                      seed: int) -> pd.DataFrame:
    """The listed rows with their group's size, log-odds z, bootstrap interval and document share."""
    position = {name: i for i, name in enumerate(names.tolist())}
    index = frame["group"].map(position).to_numpy(dtype=np.int64)
    frame["n_docs"] = frame["group"].map({name: documents.n_docs(name)
                                          for name in frame["group"].unique().tolist()}).astype("int64")
    frame["n_tokens"] = group_totals[index].astype("int64")
    frame["log_odds_z"] = log_odds_z(frame["freq_target"], frame["freq_reference"], c[index, 0], d[index, 0])
    targets = {name: rows["_column"].to_numpy() for name, rows in frame.groupby("group", sort=True)}
    intervals = documents.intervals(targets, replicates=replicates, seed=seed) if targets else {}
    frame["log_ratio_low"], frame["log_ratio_high"], frame["doc_share"] = np.nan, np.nan, np.nan
    for name, rows in frame.groupby("group", sort=True):
        low, high = intervals[name]
        frame.loc[rows.index, "log_ratio_low"] = low
        frame.loc[rows.index, "log_ratio_high"] = high
        frame.loc[rows.index, "doc_share"] = documents.share(name, targets[name])
    # The logarithms' last bits depend on numpy's SIMD code path: the stored values are rounded
    # far below any shown digit, so keyness.parquet is the same on every CPU.
    for column in ("log_ratio_low", "log_ratio_high", "log_odds_z"):
        frame[column] = frame[column].round(STORED_DECIMALS)
    frame["distinctive"] = distinctive(frame["log_ratio_low"], frame["log_ratio_high"], frame["doc_share"],
                                       frame["direction"])
    return frame[COLUMNS]
