"""The keywords stage's partitioned TF-IDF gives what the matrix in memory gives, on the news run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from newslens.analysis import keyness_data, keywords, tfidf_parts
from newslens.analysis.texts import Texts
from newslens.analysis.tfidf import fit_tfidf
from newslens.corpus.focus import resolve_focus
from newslens.engine import Engine
from newslens.params import load_run
from newslens.text.tokenization import load_analyzer
from newslens.text.tokenizer import Tokenizer

DOCS_PER_PART = 300  # the news run's 3,824 documents in 13 partitions


def _regrouped(tokens_path, target, docs_per_part: int) -> None:
    """tokens.parquet again, a row group per ``docs_per_part`` documents (partitions of the passes)."""
    table = pq.read_table(tokens_path)
    ids = table.column("doc_id").to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    cuts = [*starts[::docs_per_part].tolist(), len(ids)]
    with pq.ParquetWriter(target, table.schema) as writer:
        for start, stop in zip(cuts, cuts[1:]):
            writer.write_table(table.slice(start, stop - start))


@pytest.fixture(scope="module")
def both(news_run, tmp_path_factory):
    """The news run weighted in memory (the batch matrix) and by partitions on two worker processes."""
    params = load_run("params/news.yaml").params
    settings = params.keywords
    documents = pd.read_parquet(news_run / "documents.parquet")
    focus_ids = resolve_focus(documents, params.focus)
    folder = tmp_path_factory.mktemp("parts")
    tokens = folder / "tokens.parquet"
    _regrouped(news_run / "tokens.parquet", tokens, DOCS_PER_PART)
    batch = fit_tfidf(*load_analyzer(news_run), settings)
    original = tfidf_parts.FLOOR_DOCUMENTS
    tfidf_parts.FLOOR_DOCUMENTS = 1_000  # a sample of the others for the floor, drawn across partitions
    engine = Engine(2)
    try:
        parts = tfidf_parts.weigh_corpus(tokens, settings, engine, focus_ids=focus_ids,
                                         similar_n=settings.similar_n, scratch_dir=folder,
                                         groupings=lambda ids: keywords.keyness_groupings(documents, ids, settings))
        parts.write(folder, folder / "keywords.parquet")
        (folder / "partitioned").mkdir()
        parts.write(folder / "partitioned", folder / "partitioned" / "keywords.parquet", partitioned=True)
        yield batch, tfidf_parts.ModelCounts(batch), parts, documents, focus_ids, settings, folder, params
    finally:
        tfidf_parts.FLOOR_DOCUMENTS = original
        engine.close()
    parts.close()
    assert not parts.scratch.exists()


@pytest.mark.slow
def test_the_sums_are_the_matrix_sums(both):
    batch, memory, parts, *_ = both
    assert len(parts.refs) == 13 and parts.doc_ids == batch.doc_ids
    assert list(parts.terms) == list(batch.terms) and np.array_equal(parts.idf, batch.idf)
    assert np.array_equal(parts.df, memory.df) and np.array_equal(parts.tokens, memory.tokens)
    assert np.array_equal(parts.column_totals, memory.column_totals)
    np.testing.assert_allclose(parts.mean, memory.mean, rtol=1e-12, atol=0)  # summed by partition: the last bits
    # labels too small to compare are summed in one row: the seed article's group, four weeks of 1-2 articles
    assert parts.small["group"] == {"seed"} and len(parts.small["period"]) == 4
    assert parts.sums["period"].shape[0] == len(parts.names["period"]) + 1


@pytest.mark.slow
def test_the_workers_files_are_the_matrices_and_the_keywords(both):
    batch, _, parts, _, _, settings, folder, _ = both
    from newslens.analysis.tfidf import read_tfidf

    written = read_tfidf(folder / "tfidf.parquet", folder / "tfidf_terms.parquet", folder / "tfidf_documents.parquet")
    for name in ("matrix", "counts"):
        got, want = getattr(written, name), getattr(batch, name)
        assert all(np.array_equal(getattr(got, a), getattr(want, a)) for a in ("indptr", "indices", "data")), name
    assert pq.ParquetFile(folder / "tfidf.parquet").metadata.num_row_groups == 13
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "keywords.parquet"),
                                  keywords.top_keywords(batch, settings.top_n))


@pytest.mark.slow
def test_the_folders_of_the_workers_parts_read_as_the_joined_files(both):
    """On dask, tfidf.parquet and keywords.parquet are folders of the workers' own part files
    (hard links: the driver reads none of their bytes); every reader gets what the joined files give."""
    from newslens.analysis.tfidf import read_cell_rows, read_tfidf

    _, _, parts, _, _, _, folder, _ = both
    names = ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet")
    joined = read_tfidf(*(folder / name for name in names))
    split = read_tfidf(*(folder / "partitioned" / name for name in names))
    cells = folder / "partitioned" / "tfidf.parquet"
    assert cells.is_dir() and len(list(cells.glob("part-*.parquet"))) == 13
    assert all(part.stat().st_nlink == 2 for part in cells.glob("part-*.parquet"))  # the scratch file's inode
    for name in ("matrix", "counts"):
        got, want = getattr(split, name), getattr(joined, name)
        assert all(np.array_equal(getattr(got, a), getattr(want, a)) for a in ("indptr", "indices", "data")), name
    rows = np.arange(250, 2_600, 7)
    sample = read_tfidf(*(folder / "partitioned" / name for name in names), max_terms=500, rows=rows)
    want = read_tfidf(*(folder / name for name in names), max_terms=500, rows=rows)
    assert (sample.matrix != want.matrix).nnz == 0 and (sample.counts != want.counts).nnz == 0
    n_terms = len(joined.terms)
    assert (read_cell_rows(cells, "tfidf", 280, 920, n_terms)
            != read_cell_rows(folder / "tfidf.parquet", "tfidf", 280, 920, n_terms)).nnz == 0
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "partitioned" / "keywords.parquet"),
                                  pd.read_parquet(folder / "keywords.parquet"))


@pytest.mark.slow
def test_the_tables_are_those_of_the_matrix_in_memory(both):
    batch, memory, parts, documents, focus_ids, settings, _, _ = both
    pd.testing.assert_frame_equal(keywords.corpus_top_terms(parts), keywords.corpus_top_terms(batch))
    pd.testing.assert_frame_equal(keywords.focus_keywords(parts, focus_ids, settings.top_n),
                                  keywords.focus_keywords(batch, focus_ids, settings.top_n))
    pd.testing.assert_frame_equal(keywords.similar_documents(parts, focus_ids, documents, settings.similar_n),
                                  keywords.similar_documents(batch, focus_ids, documents, settings.similar_n))
    streamed, sizes = keywords.group_keyness(parts, documents, settings)
    in_memory, memory_sizes = keywords.group_keyness(batch, documents, settings)
    assert set(streamed["by"]) == {"group", "period"} and len(streamed) > 100
    pd.testing.assert_frame_equal(streamed, in_memory)
    pd.testing.assert_frame_equal(sizes, memory_sizes)
    display = {}
    pd.testing.assert_frame_equal(keywords.keyness_table(parts, documents, streamed, display),
                                  keywords.keyness_table(batch, documents, in_memory, display))


@pytest.mark.slow
def test_the_explorer_and_the_similarity_floor_are_those_of_the_matrix(both):
    batch, memory, parts, documents, focus_ids, settings, folder, params = both
    from newslens.analysis import limits

    rows, ids, others = parts.floor_rows(focus_ids)
    want_rows, want_ids, want_others = memory.floor_rows(focus_ids)
    assert len(ids) == 1_000 and ids == want_ids and others == want_others == len(batch.doc_ids) - len(focus_ids)
    assert (rows != want_rows).nnz == 0
    similar = keywords.similar_documents(parts, focus_ids, documents, settings.similar_n)
    found = limits.similar_limits(rows, ids, focus_ids, similar, n_others=others)
    assert found["sampled"] and found["level"] == 0.999 and found["pairs"] == 1_000 * 999 // 2
    keyness, sizes = keywords.group_keyness(parts, documents, settings)
    normalize = Tokenizer.load(load_run("params/news.yaml").processed_dir).normalize
    texts = Texts.in_frame(documents)
    assert (keyness_data.explorer_data(parts, documents, keyness, settings, {}, normalize, sizes=sizes, texts=texts)
            == keyness_data.explorer_data(batch, documents, keyness, settings, {}, normalize, sizes=sizes,
                                          texts=texts))


def test_a_corpus_without_documents_or_vocabulary_is_refused(tmp_path):
    import pyarrow as pa

    from newslens.params import KeywordsParams

    tokens = tmp_path / "tokens.parquet"
    table = pa.table({"doc_id": ["a", "b"], "sentence": pa.array([0, 0], pa.int32()),
                      "tokens": pa.array([["x"], ["x"]], pa.list_(pa.string()))})
    pq.write_table(table, tokens)
    with Engine(1) as engine, pytest.raises(ValueError, match="keywords: empty vocabulary after min_df=1"):
        tfidf_parts.weigh_corpus(tokens, KeywordsParams(min_df=1, max_df=0.5), engine, focus_ids=[],
                                 similar_n=10, scratch_dir=tmp_path, groupings=lambda ids: {})
    assert not list(tmp_path.glob(".tfidf-parts.*"))
