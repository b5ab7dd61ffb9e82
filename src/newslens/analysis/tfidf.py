"""TF-IDF: the weighting of stage 03, its matrices on disk, and its streaming path.

scikit-learn's ``TfidfVectorizer`` does the weighting; it is fed the shared
analyzer from :mod:`newslens.text.tokenization`, so nothing tokenizes again.
With the defaults (``sublinear_tf``, smooth idf, l2 norm) a term's weight in a
document is

    w(t, d) = (1 + ln tf(t, d)) · (ln((1 + n) / (1 + df(t))) + 1), then l2-normalised,

and ``min_df``/``max_df`` from the run contract bound the vocabulary. The keywords
stage writes the fitted matrices (:data:`TFIDF_FILES`, :func:`write_tfidf`); the topics
stage reads them back (:func:`read_tfidf`) rather than refitting.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.engine import PARTITION_DOCUMENTS, chunked, engine_scope
from newslens.params import KeywordsParams
from newslens.stages import TFIDF_FILES

if TYPE_CHECKING:
    from newslens.engine import Engine

logger = logging.getLogger(__name__)


@dataclass
class TfidfModel:
    """A fitted TF-IDF matrix with its row and column labels."""

    doc_ids: list[str]
    terms: np.ndarray
    # None when read without them (:func:`read_tfidf`'s ``matrices``): the labels only
    matrix: sparse.csr_matrix | None  # documents × terms, l2-normalised rows
    counts: sparse.csr_matrix | None  # raw term counts over the same vocabulary
    idf: np.ndarray
    cells: Path | None = None  # the tfidf.parquet the matrices were read from (:func:`read_tfidf`)
    columns: np.ndarray | None = None  # with a cap on the terms: the file's terms kept, in order
    all_terms: int | None = None  # with a cap: how many terms the file has
    # Read for some rows only (:func:`read_tfidf`'s ``rows``): the file's rows held, in order, and
    # every row's doc_id (``doc_ids`` are then the held rows'); None: every row is held.
    rows: np.ndarray | None = None
    file_doc_ids: list[str] | None = None

    @property
    def all_doc_ids(self) -> list[str]:
        """Every document's id in the file's row order, whether or not its row is held."""
        return self.doc_ids if self.file_doc_ids is None else self.file_doc_ids


def effective_df_bounds(n_documents: int, settings: KeywordsParams) -> tuple[int, float | int]:
    """min_df and max_df that scikit-learn accepts for this corpus size.

    A ``min_df`` above the corpus size (a tiny run) is lowered to 1 and logged,
    rather than failing with scikit-learn's "max_df corresponds to < documents
    than min_df".
    """
    min_df = settings.min_df
    max_docs = settings.max_df * n_documents
    if min_df > max_docs:
        logger.warning("keywords.min_df=%d exceeds max_df × documents (%.1f); using min_df=1",
                       min_df, max_docs)
        min_df = 1
    max_df = settings.max_df if max_docs >= min_df else 1.0
    return min_df, max_df


def fit_tfidf(doc_ids: list[str], analyzer, settings: KeywordsParams, *,
              engine: "Engine | str | None" = None, tokens: Path | None = None) -> TfidfModel:
    """Fit TF-IDF over documents given as doc_ids, with the shared analyzer.

    On the dask engine the document-term counts are a map-reduce over partitions
    (:func:`count_matrix`): with ``tokens`` (the tokens.parquet the analyzer reads) each
    task names a part of it and the worker reads its tokens; in process, scikit-learn's
    CountVectorizer. Both give the same matrix, with sorted indices, so everything
    downstream is identical.
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    if not doc_ids:
        raise ValueError("keywords: the run has no documents to weight")
    min_df, max_df = effective_df_bounds(len(doc_ids), settings)
    try:
        if _engine_name(engine) == "dask":
            counts, terms = count_matrix(doc_ids, analyzer, min_df, max_df, engine, tokens=tokens)
        else:
            # CountVectorizer + TfidfTransformer is exactly TfidfVectorizer, and keeps the raw
            # counts, which keyness and topics (LDA) need, without counting twice.
            vectorizer = CountVectorizer(analyzer=analyzer, min_df=min_df, max_df=max_df, dtype=np.int64)
            counts, terms = vectorizer.fit_transform(doc_ids).tocsr(), vectorizer.get_feature_names_out()
    except ValueError as exc:
        raise ValueError(f"keywords: empty vocabulary after min_df={min_df}, max_df={max_df} "
                         f"on {len(doc_ids)} documents ({exc})") from None
    counts.sort_indices()
    transformer = TfidfTransformer(sublinear_tf=settings.sublinear_tf, norm="l2", smooth_idf=True)
    matrix = transformer.fit_transform(counts).tocsr()
    return TfidfModel(list(doc_ids), terms, matrix, counts, transformer.idf_)


def _engine_name(engine) -> str:
    return engine if isinstance(engine, str) else getattr(engine, "name", "pandas")


def count_matrix(doc_ids: list[str], analyzer, min_df: int, max_df: float | int,
                 engine: "Engine | str", *, tokens: Path | None = None) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Document-term counts as a map-reduce over partitions of the documents.

    Map: each partition's document frequencies; reduce: their sum (a fold on the workers), cut to
    ``min_df ≤ df ≤ max_df`` exactly as scikit-learn does, terms sorted. The
    vocabulary is then broadcast and each partition counts its documents into a
    sparse block; the blocks are stacked in order. With ``tokens`` the partitions are
    its part files, which the workers read (tasks carry their names); otherwise the
    analyzer's token lists are sent to the workers and held there for both passes.
    """
    with engine_scope(engine) as runner:
        if tokens is not None:
            parts: list = token_parts(tokens)
            frequencies, counting = _part_frequencies, _part_counts
        else:
            parts = runner.keep([analyzer(doc_id) for doc_id in part] for part in chunked(doc_ids, PARTITION_DOCUMENTS))
            frequencies, counting = _partition_df, _partition_counts
        df: Counter = runner.fold(frequencies, parts, _summed) or Counter()
        terms = vocabulary_cut(df, len(doc_ids), min_df, max_df)
        index = {term: i for i, term in enumerate(terms)}
        blocks = list(runner.map(counting, parts, shared=index))
    counts = sparse.vstack(blocks, format="csr").astype(np.int64)
    if counts.shape[0] != len(doc_ids):
        raise ValueError(f"the token parts hold {counts.shape[0]} documents, the analyzer {len(doc_ids)}")
    return counts, np.asarray(terms, dtype=object)


def vocabulary_cut(df: Counter, n: int, min_df: int | float, max_df: int | float) -> list[str]:
    """The terms of document frequency ``min_df ≤ df ≤ max_df`` (counts, or shares of ``n``), sorted:
    scikit-learn's cut, with its messages."""
    max_count = max_df if isinstance(max_df, Integral) else max_df * n
    min_count = min_df if isinstance(min_df, Integral) else min_df * n
    if not df:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    terms = sorted(t for t, k in df.items() if min_count <= k <= max_count)
    if not terms:
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    return terms


def vocabulary_of(df: Counter, n: int, settings: KeywordsParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vocabulary of ``n`` documents from their document frequencies ``df``, as :func:`fit_tfidf`
    cuts it (``min_df``/``max_df``, :func:`effective_df_bounds`), with each term's frequency and
    scikit-learn's smoothed IDF, ``ln((1 + n) / (1 + df)) + 1``: (terms, frequencies, idf)."""
    if not n:
        raise ValueError("keywords: the run has no documents to weight")
    min_df, max_df = effective_df_bounds(n, settings)
    try:
        terms = np.asarray(vocabulary_cut(df, n, min_df, max_df), dtype=object)
    except ValueError as exc:
        raise ValueError(f"keywords: empty vocabulary after min_df={min_df}, max_df={max_df} "
                         f"on {n} documents ({exc})") from None
    frequencies = np.array([df[t] for t in terms], dtype=np.float64)
    return terms, frequencies, np.log((1 + n) / (1 + frequencies)) + 1


def weigh(counts: sparse.csr_matrix, idf: np.ndarray, sublinear_tf: bool) -> sparse.csr_matrix:
    """TF-IDF rows from raw counts: the operations of scikit-learn's ``TfidfTransformer`` (sublinear
    tf, the IDF, l2 norm), in its order, so the same values."""
    from sklearn.preprocessing import normalize

    block = counts.astype(np.float64)
    if sublinear_tf:
        np.log(block.data, block.data)
        block.data += 1.0
    block.data *= idf[block.indices]
    return normalize(block, norm="l2", copy=False)


def _partition_df(token_lists: list[list[str]]) -> Counter:
    return Counter(chain.from_iterable(set(tokens) for tokens in token_lists))


def _summed(counters: list[Counter]) -> Counter:
    """Partitions' document frequencies summed in order (a fold's combine)."""
    total: Counter = Counter()
    for counter in counters:
        total.update(counter)
    return total


def _partition_counts(index: dict[str, int], token_lists: list[list[str]]) -> sparse.csr_matrix:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer=_identity, vocabulary=index, dtype=np.int64).transform(token_lists)


def _identity(tokens):
    return tokens


# ------------------------------------------------------------------ the matrices, for the topics stage

def write_tfidf(tfidf: TfidfModel, out_dir: Path) -> None:
    """Write the fitted matrices (:data:`TFIDF_FILES`), so that topics reads them rather than refitting.

    The two matrices share their non-zero cells (a TF-IDF weight is zero exactly where the count
    is); both are stored row by row, columns ascending, so :func:`read_tfidf` gives the same arrays.
    """
    from newslens.files import write_parquet

    matrix, counts = tfidf.matrix.tocsr(), tfidf.counts.tocsr()
    matrix.sort_indices()
    counts.sort_indices()
    if not (np.array_equal(matrix.indptr, counts.indptr) and np.array_equal(matrix.indices, counts.indices)):
        raise ValueError("keywords: the TF-IDF and count matrices differ in their non-zero cells")
    entries, terms, documents = (Path(out_dir) / name for name in TFIDF_FILES)
    _write_cells(matrix, counts, entries)
    write_parquet(pd.DataFrame({"term": np.asarray(tfidf.terms, dtype=object), "idf": tfidf.idf}), terms)
    write_parquet(pd.DataFrame({"doc_id": list(tfidf.doc_ids)}), documents)


# Cells written or read at once: the matrices' own arrays are the only corpus-sized memory.
CELL_CHUNK = 1 << 20
_CELL_SCHEMA = (("doc", "int32"), ("term", "int32"), ("tfidf", "float64"), ("count", "int64"))


def _write_cells(matrix: sparse.csr_matrix, counts: sparse.csr_matrix, target: Path) -> None:
    """The non-zero cells (doc, term, tfidf, count), row by row, in row groups of :data:`CELL_CHUNK`
    cells: a chunk at a time is converted, never a table of every cell."""
    import pyarrow as pa

    from newslens.files import ParquetParts

    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in _CELL_SCHEMA])
    nnz = matrix.nnz
    with ParquetParts(target, schema) as out:
        for start in range(0, nnz, CELL_CHUNK):
            stop = min(start + CELL_CHUNK, nnz)
            first = int(np.searchsorted(matrix.indptr, start, side="right")) - 1
            last = int(np.searchsorted(matrix.indptr, stop, side="left"))
            rows = np.repeat(np.arange(first, last, dtype=np.int32), np.diff(matrix.indptr[first:last + 1]))
            offset = int(matrix.indptr[first])
            out.write_table(pa.table({
                "doc": rows[start - offset:stop - offset], "term": matrix.indices[start:stop].astype(np.int32),
                "tfidf": matrix.data[start:stop], "count": counts.data[start:stop].astype(np.int64)}, schema=schema))


def kept_columns(idf: np.ndarray, max_terms: int | None) -> np.ndarray | None:
    """The ``max_terms`` terms in the most documents (the lowest IDF; ties: the first), in order; None
    when every term is kept.

    >>> kept_columns(np.array([2.0, 1.0, 3.0, 1.0]), 2).tolist()
    [1, 3]
    """
    if max_terms is None or len(idf) <= max_terms:
        return None
    return np.sort(np.lexsort((np.arange(len(idf)), np.asarray(idf)))[:max_terms])


def _remap(columns: np.ndarray | None, n_terms: int) -> np.ndarray | None:
    """Each of ``n_terms`` indices' position among ``columns`` (ascending; -1: not among them), the kept
    terms' or the held rows' new numbers; None when ``columns`` is None (every one is kept)."""
    if columns is None:
        return None
    remap = np.full(n_terms, -1, dtype=np.int64)
    remap[columns] = np.arange(len(columns))
    return remap


def row_groups(parquet, columns: list[str]):
    """The file's row groups one at a time (``columns`` of each): :func:`write_tfidf` writes
    :data:`CELL_CHUNK` cells per group, so a reader holds one chunk's cells, not a read-ahead of several."""
    for index in range(parquet.num_row_groups):
        yield parquet.read_row_group(index, columns=columns)


def read_tfidf(entries: Path, terms: Path, documents: Path, *, max_terms: int | None = None,
               rows: np.ndarray | None = None, matrices: bool = True) -> TfidfModel:
    """The matrices :func:`write_tfidf` wrote, value for value, read a row group at a time into
    the matrices' own arrays (no table of every cell is held beside them).

    With ``max_terms``, only the columns of the ``max_terms`` terms in the most documents
    (:func:`kept_columns`) are read: a model fitted on them holds no more, however large the
    vocabulary (``columns`` and ``all_terms`` say so). With ``rows`` (ascending row indices of the
    file), only those rows are held: the matrices are as large as the rows asked for, however
    many documents the file has (``rows`` and ``file_doc_ids`` say so). Without ``matrices``, no
    cell is read: the model's ``matrix`` and ``counts`` are None, its labels are as they would be
    (a process whose workers read the rows themselves, :func:`kept_cells`, holds only those).
    """
    vocabulary = pd.read_parquet(terms)
    doc_ids = pd.read_parquet(documents)["doc_id"].tolist()
    columns = kept_columns(vocabulary["idf"].to_numpy(), max_terms)
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (np.any(np.diff(rows) <= 0) or rows[0] < 0 or rows[-1] >= len(doc_ids)):
            raise ValueError(f"read_tfidf: rows must be ascending row indices below {len(doc_ids)}")
    kept_terms = vocabulary if columns is None else vocabulary.iloc[columns]
    held = doc_ids if rows is None else [doc_ids[i] for i in rows]
    model = TfidfModel(held, kept_terms["term"].to_numpy(dtype=object), None, None, kept_terms["idf"].to_numpy(),
                       cells=Path(entries), columns=columns, all_terms=None if columns is None else len(vocabulary),
                       rows=rows, file_doc_ids=None if rows is None else doc_ids)
    if not matrices:
        return model
    shape = (len(held), len(model.terms))
    remap, position = _remap(columns, len(vocabulary)), _remap(rows, len(doc_ids))
    if remap is None and position is None:
        nnz = sum(pq_rows for pq_rows in _cell_counts(entries))
    else:  # a first pass over the cells' coordinates only: the kept cells' number
        nnz = sum(len(docs) for docs, _ in kept_cells(entries, remap, position, ()))
    per_row = np.zeros(shape[0], dtype=np.int64)
    indices = np.empty(nnz, dtype=np.int32)
    weights = np.empty(nnz, dtype=np.float64)
    values = np.empty(nnz, dtype=np.int64)
    at = 0
    for docs, cell_terms, cell_weights, cell_counts in kept_cells(entries, remap, position, ("tfidf", "count")):
        n = len(docs)
        per_row += np.bincount(docs, minlength=shape[0])
        indices[at:at + n] = cell_terms
        weights[at:at + n] = cell_weights
        values[at:at + n] = cell_counts
        at += n
    from newslens.files import release_arrow_memory

    release_arrow_memory()
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    model.matrix = sparse.csr_matrix((weights, indices, indptr), shape=shape)
    model.counts = sparse.csr_matrix((values, indices, indptr), shape=shape)
    return model


def _cell_counts(entries: Path) -> Iterator[int]:
    import pyarrow.parquet as pq

    from newslens.files import parquet_files

    for path in parquet_files(entries):
        with pq.ParquetFile(path) as parquet:
            yield parquet.metadata.num_rows


def kept_cells(entries: Path, remap: np.ndarray | None, position: np.ndarray | None,
               names: tuple[str, ...]) -> Iterator[tuple[np.ndarray, ...]]:
    """The cells of ``entries`` (one file, or on dask a folder of the workers' parts,
    :class:`~newslens.analysis.tfidf_parts.WeightedCorpus`) a row group at a time, in the file's
    order: each group's held rows (their positions, ``position``) and kept terms (renumbered,
    ``remap``), then its ``names`` columns of those cells. None for ``remap`` or ``position``: every
    term or row."""
    import pyarrow.parquet as pq

    from newslens.files import parquet_files

    for path in parquet_files(entries):
        with pq.ParquetFile(path) as parquet:
            for batch in row_groups(parquet, ["doc", "term", *names]):
                docs, cell_terms = batch.column("doc").to_numpy(), batch.column("term").to_numpy()
                found = [batch.column(name).to_numpy() for name in names]
                keep = None if remap is None else remap[cell_terms] >= 0
                if position is not None:
                    held = position[docs] >= 0
                    keep = held if keep is None else keep & held
                if keep is not None:
                    docs, cell_terms, found = docs[keep], cell_terms[keep], [column[keep] for column in found]
                yield (docs if position is None else position[docs],
                       cell_terms if remap is None else remap[cell_terms], *found)


def counts_digest(tfidf: TfidfModel) -> bytes:
    """sha256 of the counts ``tfidf`` holds, or, when it holds no matrix (``read_tfidf(...,
    matrices=False)``), of the counts it names in its file, read a row group at a time."""
    import hashlib

    digest = hashlib.sha256()
    if tfidf.counts is not None:
        counts = tfidf.counts.tocsr()
        for part in (counts.data, counts.indices, counts.indptr):
            digest.update(str(part.dtype).encode() + np.ascontiguousarray(part).tobytes())
        return digest.digest()
    if tfidf.cells is None:
        raise ValueError("counts_digest: the TF-IDF holds no counts and names no file to read them from")
    n_file_terms = len(tfidf.terms) if tfidf.columns is None else tfidf.all_terms
    remap = _remap(tfidf.columns, n_file_terms)
    position = _remap(tfidf.rows, len(tfidf.all_doc_ids))
    digest.update(b"cells\0")
    for docs, cell_terms, cell_counts in kept_cells(tfidf.cells, remap, position, ("count",)):
        for part in (docs.astype(np.int64), cell_terms.astype(np.int64), cell_counts.astype(np.int64)):
            digest.update(np.ascontiguousarray(part).tobytes())
    from newslens.files import release_arrow_memory

    release_arrow_memory()  # the row groups read and dropped
    return digest.digest()


def read_cell_rows(entries: str | Path, column: str | tuple[str, ...], start: int, stop: int, n_terms: int, *,
                   columns: np.ndarray | None = None) -> sparse.csr_matrix | tuple[sparse.csr_matrix, ...]:
    """Rows ``start`` to ``stop`` of one matrix :func:`write_tfidf` wrote (``column``: "tfidf" or
    "count"), as :func:`read_tfidf` reads them: the row groups that hold no such row are skipped.
    With a tuple of columns, one matrix per column from the one read (they share their cells).
    ``columns``: the file's terms kept (:func:`kept_columns`), ``n_terms`` of them; else all."""
    import pyarrow.dataset as ds

    names = (column,) if isinstance(column, str) else tuple(column)
    kinds = [{"tfidf": np.float64, "count": np.int64}[name] for name in names]
    doc = ds.field("doc")
    table = ds.dataset(entries, format="parquet").to_table(columns=["doc", "term", *names],
                                                           filter=(doc >= start) & (doc < stop))
    rows, terms = table.column("doc").to_numpy() - start, table.column("term").to_numpy()
    values = [table.column(name).to_numpy().astype(kind, copy=False) for name, kind in zip(names, kinds)]
    if columns is not None:
        columns = np.asarray(columns)
        size = max(int(np.max(terms, initial=-1)), int(np.max(columns, initial=-1))) + 1
        terms = _remap(columns, size)[terms]
        keep = terms >= 0
        rows, terms, values = rows[keep], terms[keep], [v[keep] for v in values]
    if len(rows) > 1 and not (np.all(np.diff(rows) >= 0)):  # a scan may hand its batches out of order
        order = np.lexsort((terms, rows))
        rows, terms, values = rows[order], terms[order], [v[order] for v in values]
    indptr = np.zeros(stop - start + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=stop - start), out=indptr[1:])
    matrices = tuple(sparse.csr_matrix((v, terms, indptr), shape=(stop - start, n_terms)) for v in values)
    return matrices[0] if isinstance(column, str) else matrices


# ------------------------------------------------------------------ streaming path
@dataclass
class TfidfStream:
    """TF-IDF of a corpus too large for one matrix: the vocabulary and IDF from a reduction,
    the rows made block by block from the token parts (see :func:`stream_tfidf`)."""

    parts: list[TokenPart]
    doc_ids: list[str]
    terms: np.ndarray
    idf: np.ndarray
    nnz: int  # non-zeros of the whole matrix, known from the reduction (the sum of the df)
    sublinear_tf: bool

    def blocks(self, engine: "Engine") -> Iterator[sparse.csr_matrix]:
        """The l2-normalised TF-IDF rows, one block per part, in document order."""
        index = {term: i for i, term in enumerate(self.terms)}
        for counts in engine.map(_part_counts, self.parts, shared=index):
            yield weigh(counts, self.idf, self.sublinear_tf)


class TokenPart(NamedTuple):
    """A partition of tokens.parquet that a worker reads: a part file of the folder (the dask
    engine), or row groups ``first`` to ``stop`` of the one file (the tokenize stage writes a
    row group per partition)."""

    path: str
    first: int = 0
    stop: int | None = None  # None: the whole file


def token_parts(tokens_path: Path) -> list[TokenPart]:
    """The partitions of tokens.parquet, in document order; none splits a document.

    A file's row groups are joined where a document runs on from one into the next.
    """
    import pyarrow.parquet as pq

    tokens_path = Path(tokens_path)
    if tokens_path.is_dir():
        return [TokenPart(str(path)) for path in sorted(tokens_path.glob("part-*.parquet"))]
    with pq.ParquetFile(tokens_path) as parquet:
        edges = []  # per row group: its first and last doc_id
        for group in range(parquet.num_row_groups):
            ids = parquet.read_row_group(group, columns=["doc_id"]).column("doc_id")
            edges.append((ids[0].as_py(), ids[-1].as_py()) if len(ids) else (None, None))
    starts = [0] + [g for g in range(1, len(edges)) if edges[g][0] is None or edges[g][0] != edges[g - 1][1]]
    return [TokenPart(str(tokens_path), a, b) for a, b in zip(starts, [*starts[1:], len(edges)])] or \
        [TokenPart(str(tokens_path))]


def token_doc_ids(tokens_path: Path) -> list[str]:
    """The documents of tokens.parquet in order (its doc_id column, without the tokens)."""
    ids = pd.read_parquet(tokens_path, columns=["doc_id"])["doc_id"]
    return ids[ids.ne(ids.shift())].tolist()


def stream_tfidf(tokens_path: Path, settings: KeywordsParams, engine: "Engine") -> TfidfStream:
    """The streaming path's reduction: document frequencies per part on the workers, summed.

    Each worker reads its part of ``tokens.parquet`` itself (the driver never holds the
    tokens); min_df/max_df cut the vocabulary as in :func:`fit_tfidf`, and the IDF is
    scikit-learn's smoothed one, ``ln((1 + n) / (1 + df)) + 1``.
    """
    parts = token_parts(tokens_path)
    df: Counter = Counter()
    doc_ids: list[str] = []
    for part_ids, part_df in engine.map(_part_df, parts):
        doc_ids += part_ids
        df.update(part_df)
    terms, frequencies, idf = vocabulary_of(df, len(doc_ids), settings)
    return TfidfStream(parts, doc_ids, terms, idf, int(frequencies.sum()), settings.sublinear_tf)


def part_documents(part: TokenPart | Path | str) -> tuple[list[str], list[list[str]]]:
    """One part's documents in order, each with its tokens (sentences joined)."""
    import pyarrow.parquet as pq

    if not isinstance(part, TokenPart):
        part = TokenPart(str(part))
    if part.stop is None:
        tokens = pd.read_parquet(part.path)
    else:
        with pq.ParquetFile(part.path) as parquet:
            tokens = parquet.read_row_groups(range(part.first, part.stop)).to_pandas()
    ids: list[str] = []
    lists: list[list[str]] = []
    for doc_id, sentence in zip(tokens["doc_id"], tokens["tokens"]):
        if not ids or ids[-1] != doc_id:
            ids.append(doc_id)
            lists.append([])
        lists[-1].extend(sentence.tolist() if hasattr(sentence, "tolist") else sentence)
    return ids, lists


def _part_df(path: Path) -> tuple[list[str], Counter]:
    ids, lists = part_documents(path)
    return ids, _partition_df(lists)


def _part_frequencies(path: Path) -> Counter:
    return _partition_df(part_documents(path)[1])


def _part_counts(index: dict[str, int], path: Path) -> sparse.csr_matrix:
    return _partition_counts(index, part_documents(path)[1])
