"""Stage 03: TF-IDF keywords, the focus document's distinctive terms and neighbours.

scikit-learn's ``TfidfVectorizer`` does the weighting; it is fed the shared
analyzer from :mod:`newslens.text.tokenization`, so this stage never tokenizes again.
With the defaults (``sublinear_tf``, smooth idf, l2 norm) a term's weight in a
document is

    w(t, d) = (1 + ln tf(t, d)) · (ln((1 + n) / (1 + df(t))) + 1), then l2-normalised,

and ``min_df``/``max_df`` from the run contract bound the vocabulary.

The views for charts (:func:`keyness_frames`, :func:`keyness_table`) hand over their
values at display precision (``precision.display_values``): the ``log`` in the log ratio
takes another SIMD code path on another CPU and can end in other last bits.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.engine import engine_scope
from newslens.params import KeywordsParams
from newslens.stages import TFIDF_FILES
from newslens.precision import display_values

if TYPE_CHECKING:
    from newslens.engine import Engine

logger = logging.getLogger(__name__)


@dataclass
class TfidfModel:
    """A fitted TF-IDF matrix with its row and column labels."""

    doc_ids: list[str]
    terms: np.ndarray
    matrix: sparse.csr_matrix  # documents × terms, l2-normalised rows
    counts: sparse.csr_matrix  # raw term counts over the same vocabulary
    idf: np.ndarray


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
              engine: "Engine | str | None" = None) -> TfidfModel:
    """Fit TF-IDF over documents given as doc_ids, with the shared analyzer.

    On the dask engine the document-term counts are a map-reduce over partitions
    (:func:`count_matrix`); in process, scikit-learn's CountVectorizer. Both give the
    same matrix, with sorted indices, so everything downstream is identical.
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    if not doc_ids:
        raise ValueError("keywords: the run has no documents to weight")
    min_df, max_df = effective_df_bounds(len(doc_ids), settings)
    try:
        if _engine_name(engine) == "dask":
            counts, terms = count_matrix(doc_ids, analyzer, min_df, max_df, engine)
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
                 engine: "Engine | str") -> tuple[sparse.csr_matrix, np.ndarray]:
    """Document-term counts as a map-reduce over partitions of the documents.

    Map: each partition's document frequencies; reduce: their sum, cut to
    ``min_df ≤ df ≤ max_df`` exactly as scikit-learn does, terms sorted. The
    vocabulary is then broadcast and each partition counts its documents into a
    sparse block; the blocks are stacked in order.
    """
    with engine_scope(engine) as runner:
        token_parts = runner.keep([analyzer(doc_id) for doc_id in part]
                                  for part in np.array_split(np.asarray(doc_ids, dtype=object), runner.workers * 4))
        df: Counter = Counter()
        for part_df in runner.map(_partition_df, token_parts):
            df.update(part_df)
        n = len(doc_ids)
        max_count = max_df if isinstance(max_df, Integral) else max_df * n
        min_count = min_df if isinstance(min_df, Integral) else min_df * n
        if not df:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        terms = sorted(t for t, k in df.items() if min_count <= k <= max_count)
        if not terms:
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        index = {term: i for i, term in enumerate(terms)}
        blocks = list(runner.map(_partition_counts, token_parts, shared=index))
    counts = sparse.vstack(blocks, format="csr").astype(np.int64)
    return counts, np.asarray(terms, dtype=object)


def _partition_df(token_lists: list[list[str]]) -> Counter:
    return Counter(chain.from_iterable(set(tokens) for tokens in token_lists))


def _partition_counts(index: dict[str, int], token_lists: list[list[str]]) -> sparse.csr_matrix:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer=_identity, vocabulary=index, dtype=np.int64).transform(token_lists)


def _identity(tokens):
    return tokens


def top_keywords(model: TfidfModel, top_n: int) -> pd.DataFrame:
    """The top ``top_n`` terms of every document: doc_id, rank, term, score."""
    rows_doc, rows_rank, rows_term, rows_score = [], [], [], []
    matrix = model.matrix
    for row, doc_id in enumerate(model.doc_ids):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if start == end:
            continue
        scores, columns = matrix.data[start:end], matrix.indices[start:end]
        terms = model.terms[columns]
        order = np.lexsort((terms, -scores))[:top_n]  # score desc, then term for ties
        rows_doc.extend([doc_id] * len(order))
        rows_rank.extend(range(1, len(order) + 1))
        rows_term.extend(terms[order])
        rows_score.extend(np.round(scores[order], 6))
    return pd.DataFrame({"doc_id": rows_doc, "rank": np.array(rows_rank, dtype="int32"),
                         "term": rows_term, "score": rows_score})


def corpus_top_terms(model: TfidfModel, top_n: int = 30) -> pd.DataFrame:
    """Terms with the highest mean TF-IDF over all documents, and their document frequency."""
    mean = np.asarray(model.matrix.mean(axis=0)).ravel()
    df = np.asarray((model.counts > 0).sum(axis=0)).ravel()
    order = np.lexsort((model.terms, -mean))[:top_n]
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "term": model.terms[order],
                         "mean_tfidf": np.round(mean[order], 6), "df": df[order]})


def focus_vector(model: TfidfModel, focus_ids: list[str]) -> sparse.csr_matrix:
    """The focus as one l2-normalised row: a document, or the sum of its units (sentences)."""
    index = {doc_id: i for i, doc_id in enumerate(model.doc_ids)}
    rows = [index[d] for d in focus_ids if d in index]
    if not rows:
        raise ValueError(f"focus: none of {focus_ids[:3]} has any term in the TF-IDF vocabulary")
    vector = sparse.csr_matrix(model.matrix[rows].sum(axis=0))
    norm = np.sqrt(vector.multiply(vector).sum())
    return vector / norm if norm else vector


def focus_keywords(model: TfidfModel, focus_ids: list[str], top_n: int) -> pd.DataFrame:
    """The focus's top terms with how rare each is in the rest of the corpus."""
    vector = focus_vector(model, focus_ids).toarray().ravel()
    order = [i for i in np.lexsort((model.terms, -vector)) if vector[i] > 0][:top_n]
    rest = np.setdiff1d(np.arange(len(model.doc_ids)),
                        [i for i, d in enumerate(model.doc_ids) if d in set(focus_ids)])
    df_rest = np.asarray((model.counts[rest][:, order] > 0).sum(axis=0)).ravel()
    return pd.DataFrame({
        "rank": np.arange(1, len(order) + 1), "term": model.terms[order],
        "score": np.round(vector[order], 6), "docs_elsewhere": df_rest,
        "share_elsewhere": np.round(df_rest / max(len(rest), 1), 6),
        "idf": np.round(model.idf[order], 4)})


def similar_documents(model: TfidfModel, focus_ids: list[str], documents: pd.DataFrame,
                      top_n: int, *, exclude_focus: bool = True) -> pd.DataFrame:
    """The documents most similar to the focus by cosine similarity of TF-IDF vectors.

    Rows are l2-normalised, so cosine similarity is a dot product.
    """
    scores = (model.matrix @ focus_vector(model, focus_ids).T).toarray().ravel()
    ids = np.asarray(model.doc_ids)
    keep = ~np.isin(ids, focus_ids) if exclude_focus else np.ones(len(ids), bool)
    candidates = np.flatnonzero(keep)
    order = candidates[np.lexsort((ids[candidates], -scores[candidates]))][:top_n]
    similar = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "doc_id": ids[order],
                            "similarity": np.round(scores[order], 6)})
    meta = documents[["doc_id", "title", "group", "date"]]
    return similar.merge(meta, on="doc_id", how="left")


def group_keyness(model: TfidfModel, documents: pd.DataFrame, settings: KeywordsParams) -> pd.DataFrame:
    """Keyness of each group against the rest, and of each period when the run sets one.

    Uses the raw counts over the TF-IDF vocabulary; a column ``by`` says whether a
    row compares groups ("group") or periods ("period"). Comparisons that need
    two or more groups are skipped (and logged) when a run has only one.
    """
    from newslens.analysis.keyness import keyness

    meta = documents.set_index("doc_id").loc[model.doc_ids]
    groupings = [("group", meta["group"].to_numpy(dtype=object))]
    resolution = period_resolution(meta, settings.period)
    if resolution:
        groupings.append(("period", _period_labels(meta, resolution)))
    frames = []
    tokens_per_document = np.asarray(model.counts.sum(axis=1)).ravel()
    for by, labels in groupings:
        labels = _without_empty_groups(labels, tokens_per_document, by)
        present = {g for g in labels if pd.notna(g)}
        if len(present) < 2:
            logger.info("keyness by %s skipped: only %d %s(s)", by, len(present), by)
            continue
        table = keyness(model.counts, labels, model.terms, min_freq=settings.keyness_min_freq,
                        top_n=settings.keyness_top_n)
        frames.append(table.assign(by=by))
    columns = ["by", "group", "term", "freq_target", "freq_reference", "g2", "log_ratio",
               "p_value", "direction", "rank"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _without_empty_groups(labels: np.ndarray, tokens_per_document: np.ndarray, by: str) -> np.ndarray:
    """The labels with groups that hold no counted token left out (None): they cannot be compared."""
    labels = np.array(labels, dtype=object)
    present = pd.notna(labels)
    totals = pd.Series(tokens_per_document[present]).groupby(labels[present].astype(str)).sum()
    empty = sorted(totals.index[totals == 0])
    if empty:
        logger.info("keyness by %s: %s left out (no token of the vocabulary)", by, ", ".join(empty))
        labels[present & np.isin(labels.astype(str), empty)] = None
    return labels


def period_resolution(documents: pd.DataFrame, period: str | None) -> str | None:
    """The resolution of keyness between periods: the params' own, or the time axis's ("auto")."""
    from newslens.corpus.periods import choose_resolution

    if period != "auto":
        return period
    dates = documents["date"]
    if dates.dropna().empty:
        return None
    return choose_resolution(dates, precision=documents.get("date_precision")).name


_SORTABLE = {"day": "{:%Y-%m-%d}", "week": "{:%Y-%m-%d}", "month": "{:%Y-%m}", "year": "{:%Y}"}
# Dates given only to the month or year fit no finer period.
_TOO_COARSE = {"day": ("month", "year"), "week": ("month", "year"), "month": ("year",), "quarter": ("year",)}


def _period_label(start: pd.Timestamp, resolution: str) -> str:
    """A period's label that sorts in time: '2017-02-06' (its first day), '2017-02', '2017 Q1', '1790s'."""
    if resolution == "quarter":
        return f"{start.year:04d} Q{(start.month - 1) // 3 + 1}"
    if resolution == "decade":
        return f"{start.year:04d}s"
    return f"{start.year:04d}" + _SORTABLE[resolution].format(start)[4:]


def _period_labels(meta: pd.DataFrame, period: str) -> np.ndarray:
    """Each document's period for keyness; dates coarser than the period (a year, for weeks) get None."""
    from newslens.corpus.periods import period_start

    starts = period_start(meta["date"], period)
    labels = np.array([None if pd.isna(start) else _period_label(pd.Timestamp(start), period) for start in starts],
                      dtype=object)
    if "date_precision" in meta and period in _TOO_COARSE:
        too_coarse = meta["date_precision"].isin(_TOO_COARSE[period]).to_numpy()
        if too_coarse.any():
            logger.info("keyness by %s: %d documents dated only to the month or year left out",
                        period, int(too_coarse.sum()))
            labels[too_coarse] = None
    return labels


def keyness_frames(keyness: pd.DataFrame, display: dict[str, str], n: int = 6) -> list[tuple[str, pd.Series]]:
    """Per group, its top ``n`` over-used terms (+G²) and top ``n`` under-used terms (−G²)."""
    frames = []
    table = keyness[keyness["by"] == "group"]
    for group, rows in table.groupby("group", sort=True):
        over = rows[rows["direction"] == "over"].nsmallest(n, "rank")
        under = rows[rows["direction"] == "under"].nsmallest(n, "rank")
        signed = pd.concat([over.assign(v=over["g2"]), under.assign(v=-under["g2"])[::-1]])
        frames.append((str(group), pd.Series(display_values(signed["v"].to_numpy()),  # only drawn
                                              index=[display.get(t, t) for t in signed["term"]])))
    return frames


def keyness_table(model: TfidfModel, documents: pd.DataFrame, keyness: pd.DataFrame,
                  display: dict[str, str], n: int = 3) -> pd.DataFrame:
    """Log ratio (each group vs the rest) of every group's top ``n`` over-used terms.

    Rows are the selected terms, columns the groups; every cell is computed from
    the counts, so a term that is not among a group's top terms still shows its
    real (possibly negative) log ratio there.
    """
    from newslens.measures import log_ratio

    table = keyness[keyness["by"] == "group"]
    top_terms = (table[table["direction"] == "over"].sort_values(["group", "rank"])
                 .groupby("group").head(n)["term"].drop_duplicates().tolist())
    columns = [int(np.flatnonzero(model.terms == t)[0]) for t in top_terms]
    groups = documents.set_index("doc_id").loc[model.doc_ids, "group"].to_numpy(dtype=object)
    selected = model.counts[:, columns]
    term_total = np.asarray(selected.sum(axis=0)).ravel()
    all_total = float(model.counts.sum())
    values = {}
    for group in sorted(set(table["group"].astype(str))):  # the groups keyness compared
        rows = np.array([pd.notna(g) and str(g) == group for g in groups])
        a = np.asarray(selected[rows].sum(axis=0)).ravel()
        c = float(model.counts[rows].sum())
        values[group] = display_values(log_ratio(a, term_total - a, c, all_total - c))  # a chart's cells
    return pd.DataFrame(values, index=[display.get(t, t) for t in top_terms])


def write_outputs(out_dir: Path, *, keywords: pd.DataFrame, keyness: pd.DataFrame,
                  similar: pd.DataFrame, corpus_terms: pd.DataFrame,
                  focus_terms: pd.DataFrame) -> None:
    """Write the stage's tables atomically."""
    from newslens.files import write_csv, write_parquet

    write_parquet(keywords, out_dir / "keywords.parquet")
    write_parquet(keyness, out_dir / "keyness.parquet")
    write_csv(similar.assign(date=pd.to_datetime(similar["date"]).dt.strftime("%Y-%m-%d")),
              out_dir / "similar.csv")
    write_csv(corpus_terms, out_dir / "corpus_terms.csv")
    write_csv(focus_terms, out_dir / "focus_keywords.csv")


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
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int32), np.diff(matrix.indptr))
    entries, terms, documents = (Path(out_dir) / name for name in TFIDF_FILES)
    write_parquet(pd.DataFrame({"doc": rows, "term": matrix.indices.astype(np.int32),
                                "tfidf": matrix.data, "count": counts.data.astype(np.int64)}), entries)
    write_parquet(pd.DataFrame({"term": np.asarray(tfidf.terms, dtype=object), "idf": tfidf.idf}), terms)
    write_parquet(pd.DataFrame({"doc_id": list(tfidf.doc_ids)}), documents)


def read_tfidf(entries: Path, terms: Path, documents: Path) -> TfidfModel:
    """The matrices :func:`write_tfidf` wrote, value for value."""
    cells, vocabulary = pd.read_parquet(entries), pd.read_parquet(terms)
    doc_ids = pd.read_parquet(documents)["doc_id"].tolist()
    shape = (len(doc_ids), len(vocabulary))
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells["doc"].to_numpy(), minlength=shape[0]), out=indptr[1:])
    indices = cells["term"].to_numpy()
    matrix = sparse.csr_matrix((cells["tfidf"].to_numpy(), indices, indptr), shape=shape)
    counts = sparse.csr_matrix((cells["count"].to_numpy(), indices, indptr), shape=shape)
    return TfidfModel(doc_ids, vocabulary["term"].to_numpy(dtype=object), matrix, counts,
                      vocabulary["idf"].to_numpy())


# ------------------------------------------------------------------ streaming path
@dataclass
class TfidfStream:
    """TF-IDF of a corpus too large for one matrix: the vocabulary and IDF from a reduction,
    the rows made block by block from the token parts (see :func:`stream_tfidf`)."""

    parts: list[Path]
    doc_ids: list[str]
    terms: np.ndarray
    idf: np.ndarray
    nnz: int  # non-zeros of the whole matrix, known from the reduction (the sum of the df)
    sublinear_tf: bool

    def blocks(self, engine: "Engine") -> Iterator[sparse.csr_matrix]:
        """The l2-normalised TF-IDF rows, one block per part, in document order."""
        from sklearn.preprocessing import normalize

        index = {term: i for i, term in enumerate(self.terms)}
        for counts in engine.map(_part_counts, self.parts, shared=index):
            block = counts.astype(np.float64)
            if self.sublinear_tf:
                np.log(block.data, block.data)
                block.data += 1.0
            block.data *= self.idf[block.indices]  # the same operations as TfidfTransformer
            yield normalize(block, norm="l2", copy=False)


def token_parts(tokens_path: Path) -> list[Path]:
    """The part files of a tokens.parquet folder (dask engine), or the one file."""
    tokens_path = Path(tokens_path)
    return sorted(tokens_path.glob("part-*.parquet")) if tokens_path.is_dir() else [tokens_path]


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
    n = len(doc_ids)
    if not n:
        raise ValueError("keywords: the run has no documents to weight")
    min_df, max_df = effective_df_bounds(n, settings)
    max_count = max_df if isinstance(max_df, Integral) else max_df * n
    terms = np.asarray(sorted(t for t, k in df.items() if min_df <= k <= max_count), dtype=object)
    if not len(terms):
        raise ValueError(f"keywords: empty vocabulary after min_df={min_df}, max_df={max_df} on {n} documents")
    frequencies = np.array([df[t] for t in terms], dtype=np.float64)
    idf = np.log((1 + n) / (1 + frequencies)) + 1
    return TfidfStream(parts, doc_ids, terms, idf, int(frequencies.sum()), settings.sublinear_tf)


def _part_documents(path: Path) -> tuple[list[str], list[list[str]]]:
    """One part's documents in order, each with its tokens (sentences joined)."""
    tokens = pd.read_parquet(path)
    ids: list[str] = []
    lists: list[list[str]] = []
    for doc_id, sentence in zip(tokens["doc_id"], tokens["tokens"]):
        if not ids or ids[-1] != doc_id:
            ids.append(doc_id)
            lists.append([])
        lists[-1].extend(sentence.tolist() if hasattr(sentence, "tolist") else sentence)
    return ids, lists


def _part_df(path: Path) -> tuple[list[str], Counter]:
    ids, lists = _part_documents(path)
    return ids, _partition_df(lists)


def _part_counts(index: dict[str, int], path: Path) -> sparse.csr_matrix:
    return _partition_counts(index, _part_documents(path)[1])
