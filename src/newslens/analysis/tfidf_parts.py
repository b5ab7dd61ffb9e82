"""TF-IDF by partition: everything the keywords stage needs of the matrix, without the matrix.

The keywords stage never stacks the TF-IDF matrix in one process. It weights tokens.parquet
partition by partition on the run's engine (:func:`weigh_corpus`), in three passes:

1. *census*: each partition's documents and document frequencies, summed in partition order
   (a fold): the vocabulary (``min_df``/``max_df``, as scikit-learn cuts it) and the IDF;
2. *focus*: the partitions holding the focus's documents give their rows: the focus vector;
3. *weights*: each worker counts its partition against the broadcast vocabulary, weights it
   (the same operations as scikit-learn's ``TfidfTransformer``, so the same values), writes its
   cells of tfidf.parquet and its rows of keywords.parquet to part files, and returns sums the
   size of the vocabulary: the mean weight and the count of every term, each group's and each
   period's counts, and the partition's documents most similar to the focus; these merge in
   partition order (:meth:`newslens.engine.Engine.fold`).

Later passes read the workers' cell parts back: keyness's bootstrap sums (replicates × listed
terms), the groups' document frequencies of chosen terms, and the rows the similarity floor
pairs (at most :data:`FLOOR_DOCUMENTS`, chosen here by a hash of their ids). What reaches this
process is vocabulary-sized, plus the documents' ids and one integer per document (its count of
the vocabulary's tokens, for the groups' sizes). :class:`WeightedCorpus` holds it;
:class:`ModelCounts` gives the same answers from a :class:`~newslens.analysis.tfidf.TfidfModel`
in memory (tests, notebooks).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.analysis.keyness_uncertainty import (MatrixDocuments, bootstrap_intervals, bootstrap_sums,
                                                   document_keys, merge_bootstrap_sums)
from newslens.analysis.tfidf import (TfidfModel, TokenPart, _part_df, _partition_counts, _summed, part_documents,
                                     token_parts, vocabulary_of, weigh)

if TYPE_CHECKING:
    from newslens.engine import Engine
    from newslens.params import KeywordsParams

# A label with fewer documents than keyness compares is summed with the other small ones into
# one row under this name (it counts in every comparison's reference; it is never compared):
# the driver holds a row per label that can be compared, however many labels there are.
SMALL_LABELS = "\x00smaller groups"
# The similarity floor is measured on every pair of at most this many documents other than the
# focus: all of them up to this size, else those of lowest hash of their id (7,998,000 pairs).
FLOOR_DOCUMENTS = 4_000
KEYWORD_SCHEMA = (("doc_id", "string"), ("rank", "int32"), ("term", "string"), ("score", "float64"))
CELL_SCHEMA = (("doc", "int32"), ("term", "int32"), ("tfidf", "float64"), ("count", "int64"))


def _schema(columns):
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, kind)()) for name, kind in columns])


# ------------------------------------------------------------------ the in-memory counterpart

def _labelled(labels) -> tuple[np.ndarray, np.ndarray]:
    """Sorted label names of the documents that have one, and each document's code (-1: none)."""
    labels = pd.Series(list(labels), dtype=object)
    present = labels.notna().to_numpy()
    names, codes = np.unique(labels[present].astype(str).to_numpy(), return_inverse=True)
    full = np.full(len(labels), -1, dtype=np.int32)
    full[present] = codes
    return names.astype(object), full


def _indicator(codes: np.ndarray, n_labels: int) -> sparse.csr_matrix:
    present = np.flatnonzero(codes >= 0)
    return sparse.csr_matrix((np.ones(len(present), dtype=np.int64), (codes[present], present)),
                             shape=(n_labels, len(codes)))


def _top_similar(scores: np.ndarray, ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` highest scores, ties by doc_id (as the similar-documents table orders them)."""
    order = np.lexsort((ids, -scores))[:n]
    return scores[order], ids[order]


def _lowest_hashes(hashes: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` lowest (hash, row) pairs."""
    return np.lexsort((rows, hashes))[:n]


class ModelCounts:
    """What the keywords stage reads of the TF-IDF, from a fitted model in memory."""

    def __init__(self, model: TfidfModel):
        self.model = model
        self.doc_ids, self.terms, self.idf = list(model.doc_ids), model.terms, model.idf
        self.df = np.asarray((model.counts > 0).sum(axis=0)).ravel().astype(np.int64)
        self.mean = np.asarray(model.matrix.mean(axis=0)).ravel()
        self.column_totals = np.asarray(model.counts.sum(axis=0)).ravel().astype(np.int64)
        self.tokens = np.asarray(model.counts.sum(axis=1)).ravel().astype(np.int64)

    def label_sums(self, by: str, labels) -> tuple[np.ndarray, np.ndarray]:
        """Sorted names of ``labels`` (one per document; None: none) and their labels × terms counts."""
        names, codes = _labelled(labels)
        return names, (_indicator(codes, len(names)) @ self.model.counts).toarray().astype(np.int64)

    def label_documents(self, by: str, labels, columns) -> np.ndarray:
        """Per label (as :meth:`label_sums` names them), how many of its documents use each term of ``columns``."""
        names, codes = _labelled(labels)
        used = (self.model.counts[:, np.asarray(columns, dtype=np.int64)] > 0).astype(np.int64)
        return np.asarray((_indicator(codes, len(names)) @ used).todense(), dtype=np.int64)

    def documents(self, by: str, labels) -> MatrixDocuments:
        """The per-document counts keyness's bootstrap and document shares need."""
        return MatrixDocuments(self.model.counts, np.array([None if pd.isna(g) else str(g) for g in labels],
                                                           dtype=object), keys=document_keys(self.doc_ids))

    def _focus_rows(self, focus_ids: list[str]) -> list[int]:
        index = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        return [index[d] for d in focus_ids if d in index]

    def focus_vector(self, focus_ids: list[str]) -> sparse.csr_matrix:
        rows = self._focus_rows(focus_ids)
        return _focus_vector(self.model.matrix[rows] if rows else None, focus_ids)

    def focus_df(self, focus_ids: list[str]) -> tuple[np.ndarray, int]:
        """Per term, how many of the focus's documents use it; and how many documents the focus has here."""
        rows = sorted(set(self._focus_rows(focus_ids)))
        return np.asarray((self.model.counts[rows] > 0).sum(axis=0)).ravel().astype(np.int64), len(rows)

    def similar(self, focus_ids: list[str], n: int, *, exclude_focus: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` documents most similar to the focus: (scores, doc_ids), the most similar first."""
        scores = (self.model.matrix @ self.focus_vector(focus_ids).T).toarray().ravel()
        ids = np.asarray(self.doc_ids, dtype=object)
        keep = ~np.isin(ids, focus_ids) if exclude_focus else np.ones(len(ids), bool)
        return _top_similar(scores[keep], ids[keep], n)

    def floor_rows(self, focus_ids: list[str]) -> tuple[sparse.csr_matrix, list[str], int]:
        """The rows the similarity floor pairs (:data:`FLOOR_DOCUMENTS` documents other than the focus
        at most), their doc_ids in document order, and how many documents other than the focus there are."""
        focus = set(focus_ids)
        others = np.array([i for i, d in enumerate(self.doc_ids) if d not in focus], dtype=np.int64)
        hashes = document_keys([self.doc_ids[i] for i in others])
        chosen = np.sort(others[_lowest_hashes(hashes, others, FLOOR_DOCUMENTS)])
        return self.model.matrix[chosen], [self.doc_ids[i] for i in chosen], len(others)


def _focus_vector(rows: sparse.csr_matrix | None, focus_ids: list[str]) -> sparse.csr_matrix:
    """The focus as one l2-normalised row: the sum of its rows (in the focus's order)."""
    if rows is None or rows.shape[0] == 0:
        raise ValueError(f"focus: none of {focus_ids[:3]} has any term in the TF-IDF vocabulary")
    vector = sparse.csr_matrix(rows.sum(axis=0))
    norm = np.sqrt(vector.multiply(vector).sum())
    return vector / norm if norm else vector


def counts_of(model) -> "ModelCounts | WeightedCorpus":
    """``model`` as the keywords stage reads it: a :class:`WeightedCorpus` as it is, a model in memory wrapped."""
    return model if isinstance(model, (ModelCounts, WeightedCorpus)) else ModelCounts(model)


# ------------------------------------------------------------------ the passes

class PartRef(NamedTuple):
    """A task of the weights pass: a partition of tokens.parquet, its number and its first document's row."""

    part: TokenPart
    number: int
    offset: int
    n: int


@dataclass(frozen=True)
class Weighting:
    """What every task of the weights pass shares (sent once to each worker)."""

    index: dict
    terms: np.ndarray
    idf: np.ndarray
    sublinear: bool
    inverse_n: float
    top_n: int
    scratch: str
    codes: dict  # per grouping ("group", "period"): each document's label code, -1 for none
    n_labels: dict
    focus: sparse.csr_matrix | None
    focus_ids: frozenset
    similar_n: int


@dataclass
class PartSums:
    """One partition's (or several merged partitions') sums, the size of the vocabulary."""

    mean: np.ndarray
    totals: np.ndarray
    tokens: list  # per partition, each document's count of the vocabulary's tokens
    labels: dict  # per grouping: labels × terms counts
    similar: tuple  # (scores, doc_ids, how many are kept) of the most similar documents


def _census_part(part: TokenPart) -> tuple[list[int], list[str], Counter]:
    ids, df = _part_df(part)
    return [len(ids)], ids, df


def _census_merge(parts: list) -> tuple[list[int], list[str], Counter]:
    sizes, ids = [], []
    for part_sizes, part_ids, _ in parts:
        sizes += part_sizes
        ids += part_ids
    return sizes, ids, _summed([df for _, _, df in parts])


def _focus_part(shared: tuple, ref: PartRef) -> dict[str, tuple]:
    """The focus's documents in one partition: doc_id -> (weight row, count row)."""
    index, idf, sublinear, focus_ids = shared
    ids, lists = part_documents(ref.part)
    mine = [i for i, doc_id in enumerate(ids) if doc_id in focus_ids]
    counts = _partition_counts(index, [lists[i] for i in mine])
    weights = weigh(counts, idf, sublinear)
    return {ids[i]: (weights[j], counts[j]) for j, i in enumerate(mine)}


def _write_part(table, path: Path) -> None:
    """Write a part file as a worker does: to a temporary name, then moved (a retried task rewrites it)."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd", write_statistics=True)
    os.replace(tmp, path)


def _weigh_part(shared: Weighting, ref: PartRef) -> PartSums:
    """The weights pass on a worker: weight a partition, write its cells and keywords, return its sums."""
    import pyarrow as pa

    from newslens.analysis.keywords import top_keywords

    ids, lists = part_documents(ref.part)
    if len(ids) != ref.n:
        raise ValueError(f"keywords: {ref.part.path} holds {len(ids)} documents, the census counted {ref.n}")
    counts = _partition_counts(shared.index, lists)
    weights = weigh(counts, shared.idf, shared.sublinear)
    scratch = Path(shared.scratch)
    rows = np.repeat(np.arange(ref.offset, ref.offset + ref.n, dtype=np.int32), np.diff(weights.indptr))
    _write_part(pa.table({"doc": rows, "term": weights.indices.astype(np.int32), "tfidf": weights.data,
                          "count": counts.data.astype(np.int64)}, schema=_schema(CELL_SCHEMA)),
                scratch / f"cells-{ref.number:05d}.parquet")
    keywords = top_keywords(TfidfModel(ids, shared.terms, weights, counts, shared.idf), shared.top_n)
    _write_part(pa.Table.from_pandas(keywords, schema=_schema(KEYWORD_SCHEMA), preserve_index=False)
                .replace_schema_metadata(None), scratch / f"keywords-{ref.number:05d}.parquet")
    labels = {by: (_indicator(codes[ref.offset:ref.offset + ref.n], shared.n_labels[by]) @ counts).tocsr()
              for by, codes in shared.codes.items()}
    id_array = np.asarray(ids, dtype=object)
    others = np.array([doc_id not in shared.focus_ids for doc_id in ids], dtype=bool)
    if shared.focus is not None:
        scores = (weights @ shared.focus.T).toarray().ravel()
        similar = (*_top_similar(scores[others], id_array[others], shared.similar_n), shared.similar_n)
    else:
        similar = (np.zeros(0), np.zeros(0, dtype=object), 0)
    np.save(scratch / f"keys-{ref.number:05d}.npy", document_keys(ids))  # the bootstrap's weights
    return PartSums(np.asarray((weights * shared.inverse_n).sum(axis=0)).ravel(),
                    np.asarray(counts.sum(axis=0)).ravel().astype(np.int64),
                    [np.asarray(counts.sum(axis=1)).ravel().astype(np.int64)], labels, similar)


def merge_sums(parts: list[PartSums]) -> PartSums:
    """Partitions' sums merged in order (a fold's combine: associative, inputs left as they are)."""
    first = parts[0]
    mean, totals = first.mean.copy(), first.totals.copy()
    labels = dict(first.labels)
    tokens = list(first.tokens)
    for part in parts[1:]:
        mean += part.mean
        totals += part.totals
        tokens += part.tokens
        labels = {by: labels[by] + counts for by, counts in part.labels.items()}
    n_similar = first.similar[2]
    similar = (*_top_similar(np.concatenate([part.similar[0] for part in parts]),
                             np.concatenate([part.similar[1] for part in parts]), n_similar), n_similar)
    return PartSums(mean, totals, tokens, labels, similar)


@dataclass
class WeightedCorpus:
    """The keywords stage's TF-IDF, summed by the workers (see the module docstring).

    It answers what :class:`ModelCounts` answers; the cells of the matrix and the top keywords are
    in the workers' part files until :meth:`write` joins them into tfidf.parquet and keywords.parquet.
    """

    doc_ids: list[str]
    terms: np.ndarray
    idf: np.ndarray
    df: np.ndarray
    mean: np.ndarray
    column_totals: np.ndarray
    tokens: np.ndarray
    names: dict  # per grouping: its sorted label names that are summed one by one
    sums: dict  # per grouping: those labels × terms counts, sparse, and a last row: the small labels'
    small: dict  # per grouping: the labels summed in the last row
    similar_found: tuple
    focus_ids: list[str]
    focus: sparse.csr_matrix | None
    focus_counts: sparse.csr_matrix | None
    refs: list[PartRef]
    runner: "Engine"
    scratch: Path

    def label_sums(self, by: str, labels) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`ModelCounts.label_sums`, except that the labels too small for keyness to compare
        come as one last row named :data:`SMALL_LABELS` (their sum: the same references, the same
        totals)."""
        names, _ = _labelled(labels)
        position = {name: i for i, name in enumerate(self.names[by].tolist())}
        big = [name for name in names if name in position]
        small = [name for name in names if name not in position]
        unknown = sorted(set(small) - self.small[by])
        if unknown:
            raise ValueError(f"keywords: labels {unknown[:3]} were not summed for {by}")
        rows = [position[name] for name in big] + ([self.sums[by].shape[0] - 1] if small else [])
        return (np.array(big + ([SMALL_LABELS] if small else []), dtype=object),
                self.sums[by][rows].toarray().astype(np.int64))

    def label_documents(self, by: str, labels, columns) -> np.ndarray:
        """Per label, how many of its documents use each term of ``columns``: a pass over the cell parts."""
        names, codes = _labelled(labels)
        columns = np.asarray(columns, dtype=np.int64)
        order = np.argsort(columns, kind="stable")
        found = self.runner.fold(_label_documents_part, self.refs, _summed_arrays,
                                 shared=(str(self.scratch), columns[order], codes, len(names)))
        out = np.zeros((len(names), len(columns)), dtype=np.int64)
        if found is not None:
            out[:, order] = found
        return out

    def documents(self, by: str, labels) -> "SummedDocuments":
        return SummedDocuments(self, by, np.array([None if pd.isna(g) else str(g) for g in labels], dtype=object))

    def focus_vector(self, focus_ids: list[str]) -> sparse.csr_matrix:
        self._same_focus(focus_ids)
        return self.focus

    def focus_df(self, focus_ids: list[str]) -> tuple[np.ndarray, int]:
        self._same_focus(focus_ids)
        return np.asarray((self.focus_counts > 0).sum(axis=0)).ravel().astype(np.int64), self.focus_counts.shape[0]

    def similar(self, focus_ids: list[str], n: int, *, exclude_focus: bool = True) -> tuple[np.ndarray, np.ndarray]:
        self._same_focus(focus_ids)
        if not exclude_focus:
            raise ValueError("keywords: the partitioned pass lists similar documents other than the focus only")
        scores, ids, _ = self.similar_found
        return scores[:n], ids[:n]

    def floor_rows(self, focus_ids: list[str]) -> tuple[sparse.csr_matrix, list[str], int]:
        """As :meth:`ModelCounts.floor_rows`: the documents chosen here by the hash of their ids, their
        rows read from the workers' cell parts (only the parts that hold one)."""
        focus = set(focus_ids)
        others = np.array([i for i, d in enumerate(self.doc_ids) if d not in focus], dtype=np.int64)
        keys = document_keys([self.doc_ids[i] for i in others])
        chosen = np.sort(others[_lowest_hashes(keys, others, FLOOR_DOCUMENTS)])
        where = [ref for ref in self.refs
                 if np.searchsorted(chosen, ref.offset) < np.searchsorted(chosen, ref.offset + ref.n)]
        blocks = list(self.runner.map(_rows_part, where, shared=(str(self.scratch), chosen, len(self.terms))))
        matrix = (sparse.vstack(blocks, format="csr") if blocks
                  else sparse.csr_matrix((0, len(self.terms)), dtype=np.float64))
        return matrix, [self.doc_ids[i] for i in chosen], len(others)

    def _same_focus(self, focus_ids: list[str]) -> None:
        if list(focus_ids) != self.focus_ids:
            raise ValueError("keywords: the partitioned pass was weighted for another focus")

    def write(self, out_dir: Path, keywords_file: Path, *, partitioned: bool = False) -> None:
        """Write tfidf.parquet and ``keywords_file`` from the workers' parts, and the terms and documents.

        One file each (``partitioned=False``: the parts joined here, a row group per part), or a
        folder each whose parts are the workers' files themselves, hard-linked (the dask engine:
        the matrices' cells never pass through this process). Either form reads the same
        (:func:`newslens.analysis.tfidf.read_tfidf`, ``pandas.read_parquet``). The scratch parts
        stay where they were until :meth:`close`, for the passes that read them after this.
        """
        from newslens.files import write_parquet
        from newslens.stages import TFIDF_FILES

        entries, terms, documents = (Path(out_dir) / name for name in TFIDF_FILES)
        _join(sorted(self.scratch.glob("cells-*.parquet")), entries, _schema(CELL_SCHEMA), partitioned)
        _join(sorted(self.scratch.glob("keywords-*.parquet")), keywords_file, _schema(KEYWORD_SCHEMA), partitioned)
        write_parquet(pd.DataFrame({"term": np.asarray(self.terms, dtype=object), "idf": self.idf}), terms)
        write_parquet(pd.DataFrame({"doc_id": list(self.doc_ids)}), documents)

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _join(parts: list[Path], target: Path, schema, partitioned: bool = False) -> None:
    """The part files, in order, as one file (a row group per part, read a part at a time) or as
    a folder of them (:meth:`newslens.files.ParquetParts.adopt`)."""
    from newslens.files import ParquetParts

    with ParquetParts(target, schema, partitioned=partitioned) as out:
        for part in parts:
            out.adopt(part)


def _cells(scratch: str, ref: PartRef, columns: list[str]):
    import pyarrow.parquet as pq

    return pq.read_table(Path(scratch) / f"cells-{ref.number:05d}.parquet", columns=columns)


def _rows_part(shared: tuple, ref: PartRef) -> sparse.csr_matrix:
    """The TF-IDF rows of the chosen documents (global rows, sorted) in one partition (on a worker)."""
    scratch, chosen, n_terms = shared
    mine = chosen[(chosen >= ref.offset) & (chosen < ref.offset + ref.n)]
    table = _cells(scratch, ref, ["doc", "term", "tfidf"])
    docs = table.column("doc").to_numpy()
    keep = np.isin(docs, mine)
    return sparse.csr_matrix((table.column("tfidf").to_numpy()[keep],
                              (np.searchsorted(mine, docs[keep]), table.column("term").to_numpy()[keep])),
                             shape=(len(mine), n_terms))


def _label_documents_part(shared: tuple, ref: PartRef) -> np.ndarray:
    """Per label, its documents in one partition that use each of ``columns`` (sorted) (on a worker)."""
    scratch, columns, codes, n_labels = shared
    table = _cells(scratch, ref, ["doc", "term"])
    rows, terms = table.column("doc").to_numpy() - ref.offset, table.column("term").to_numpy()
    keep = np.isin(terms, columns)
    used = sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.int64), (rows[keep], np.searchsorted(columns, terms[keep]))),
                             shape=(ref.n, len(columns)))
    return np.asarray((_indicator(codes[ref.offset:ref.offset + ref.n], n_labels) @ used).todense(), dtype=np.int64)


def _summed_arrays(parts: list[np.ndarray]) -> np.ndarray:
    return sum(parts[1:], parts[0].copy())


def _bootstrap_part(shared: tuple, ref: PartRef) -> dict:
    """One partition's bootstrap sums (:func:`~newslens.analysis.keyness_uncertainty.bootstrap_sums`),
    from its cell part and its documents' keys (on a worker)."""
    scratch, columns, codes, names, wanted, replicates, seed = shared
    table = _cells(scratch, ref, ["doc", "term", "count"])
    rows, terms = table.column("doc").to_numpy() - ref.offset, table.column("term").to_numpy()
    counts = table.column("count").to_numpy()
    tokens = np.bincount(rows, weights=counts, minlength=ref.n).astype(np.int64)  # sums of integers: exact
    keep = np.isin(terms, columns)
    sub = sparse.csr_matrix((counts[keep], (rows[keep], np.searchsorted(columns, terms[keep]))),
                            shape=(ref.n, len(columns)), dtype=np.int64)
    keys = np.load(Path(scratch) / f"keys-{ref.number:05d}.npy")
    return bootstrap_sums(sub, tokens, codes[ref.offset:ref.offset + ref.n], keys, names, wanted,
                          replicates=replicates, seed=seed)


class SummedDocuments:
    """:class:`~newslens.analysis.keyness_uncertainty.DocumentCounts` of a :class:`WeightedCorpus`:
    document shares from the summed document frequencies; the bootstrap's weighted sums made by the
    workers from their cell parts and merged in partition order (replicates × listed terms reach
    this process, nothing per document)."""

    def __init__(self, corpus: WeightedCorpus, by: str, labels: np.ndarray):
        self.corpus, self.by, self.labels = corpus, by, labels
        self.names = list(_labelled(labels)[0])
        self._used: tuple | None = None  # (columns, labels × columns documents), from one pass
        self._listed = np.zeros(0, dtype=np.int64)  # the terms the last intervals were for

    def n_docs(self, name: str) -> int:
        return int((self.labels == name).sum())

    def intervals(self, targets, *, replicates, seed):
        columns = np.unique(np.concatenate([np.asarray(c, dtype=np.int64) for c in targets.values()]))
        index = {column: i for i, column in enumerate(columns.tolist())}
        wanted = {name: [index[c] for c in np.asarray(cols, dtype=np.int64).tolist()] for name, cols in targets.items()}
        names = sorted(set(self.labels[pd.notna(self.labels)]))
        position = {name: i for i, name in enumerate(names)}
        codes = np.array([position[g] if g is not None else -1 for g in self.labels], dtype=np.int32)
        self._used = None
        self._listed = columns
        sums = self.corpus.runner.fold(_bootstrap_part, self.corpus.refs, merge_bootstrap_sums,
                                       shared=(str(self.corpus.scratch), columns, codes, names, wanted,
                                               replicates, seed))
        return bootstrap_intervals(sums)

    def share(self, name, columns):
        n = self.n_docs(name)
        if n == 0:
            return np.zeros(len(columns))
        columns = np.asarray(columns, dtype=np.int64)
        if self._used is None or not np.isin(columns, self._used[0]).all():  # one pass for every listed term
            wanted = np.union1d(self._listed, columns)
            self._used = (wanted, self.corpus.label_documents(self.by, self.labels, wanted))
        listed, used = self._used
        row = used[list(self.names).index(name)]
        return np.asarray(row[np.searchsorted(listed, columns)], dtype=float) / n


def _summed_labels(labels, min_documents: int) -> tuple[np.ndarray, np.ndarray, set]:
    """The labels summed one by one (those with at least ``min_documents`` documents, sorted), each
    document's code (the last code: a smaller label; -1: none), and the smaller labels."""
    names, codes = _labelled(labels)
    sizes = np.bincount(codes[codes >= 0], minlength=len(names))
    big = sizes >= min_documents
    recode = np.where(big, np.cumsum(big) - 1, int(big.sum())).astype(np.int32)
    full = np.where(codes >= 0, recode[np.maximum(codes, 0)], -1).astype(np.int32)
    return names[big], full, set(names[~big].tolist())


def weigh_corpus(tokens: Path, settings: "KeywordsParams", runner: "Engine", *, focus_ids: list[str],
                 groupings: Callable[[list[str]], dict], similar_n: int, scratch_dir: Path) -> WeightedCorpus:
    """The passes of the module docstring over tokens.parquet on ``runner``.

    ``groupings(doc_ids)`` gives, per grouping ("group", "period"), each document's label (None:
    none), once the census knows the documents; the labels' counts are summed by the workers.
    The workers' part files go to a temporary folder in ``scratch_dir``
    (:meth:`WeightedCorpus.write` joins them; :meth:`WeightedCorpus.close` removes it).
    """
    parts = token_parts(tokens)
    census = runner.fold(_census_part, parts, _census_merge)
    if census is None or not census[1]:
        raise ValueError("keywords: the run has no documents to weight")
    sizes, doc_ids, df = census
    n = len(doc_ids)
    terms, frequencies, idf = vocabulary_of(df, n, settings)
    index = {term: i for i, term in enumerate(terms)}
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    refs = [PartRef(part, number, int(offsets[number]), int(size))
            for number, (part, size) in enumerate(zip(parts, sizes))]
    focus, focus_counts = None, None
    if focus_ids:
        wanted = set(focus_ids)
        where = [ref for ref in refs if any(d in wanted for d in doc_ids[ref.offset:ref.offset + ref.n])]
        found: dict = {}
        for rows in runner.map(_focus_part, where, shared=(index, idf, settings.sublinear_tf, frozenset(wanted))):
            found.update(rows)
        present = [d for d in focus_ids if d in found]
        focus = _focus_vector(sparse.vstack([found[d][0] for d in present], format="csr") if present else None,
                              focus_ids)
        unique = list(dict.fromkeys(present))
        focus_counts = sparse.vstack([found[d][1] for d in unique], format="csr")
    labelled = {by: _summed_labels(labels, settings.keyness_min_documents)
                for by, labels in groupings(doc_ids).items()}
    scratch = Path(tempfile.mkdtemp(prefix=".tfidf-parts.", dir=scratch_dir))
    try:
        shared = Weighting(index, terms, idf, settings.sublinear_tf, 1.0 / n, settings.top_n, str(scratch),
                           {by: codes for by, (_, codes, _) in labelled.items()},
                           {by: len(names) + 1 for by, (names, _, _) in labelled.items()}, focus,
                           frozenset(focus_ids), similar_n)
        sums = runner.fold(_weigh_part, refs, merge_sums, shared=shared)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return WeightedCorpus(
        doc_ids=doc_ids, terms=terms, idf=idf, df=frequencies.astype(np.int64), mean=sums.mean,
        column_totals=sums.totals, tokens=np.concatenate(sums.tokens) if sums.tokens else np.zeros(0, np.int64),
        names={by: names for by, (names, _, _) in labelled.items()}, sums=sums.labels,
        small={by: small for by, (_, _, small) in labelled.items()}, similar_found=sums.similar,
        focus_ids=list(focus_ids), focus=focus, focus_counts=focus_counts, refs=refs,
        runner=runner, scratch=scratch)
