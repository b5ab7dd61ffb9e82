"""The topics of a large corpus: the hash sample, the cap, the partitioned transform, and the stage's path."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from newslens.analysis import topic_sample
from newslens.analysis.tfidf import TfidfModel
from newslens.analysis.topic_pass import corpus_pass
from newslens.analysis.topic_sample import sample_rows, topic_sample as sample_of
from newslens.analysis.topics import estimator_for, run_topics
from newslens.engine import Engine
from newslens.params import TopicsParams
import test_topics
from test_topics import BASE

corpus = test_topics.corpus  # the fixture: test_topics's 60 documents, tokenized and weighted

IDS = [f"article-{i:04d}" for i in range(1000)]


# --- the sample --------------------------------------------------------------------------

def test_sample_rows_does_not_depend_on_the_order_of_the_documents():
    rows = sample_rows(IDS, 100)
    assert len(rows) == 100 and (np.diff(rows) > 0).all()  # row order
    shuffled = list(np.random.default_rng(1).permutation(IDS))
    rows_shuffled = sample_rows(shuffled, 100)
    assert (np.diff(rows_shuffled) > 0).all()
    assert {IDS[i] for i in rows} == {shuffled[i] for i in rows_shuffled}


def test_sample_rows_does_not_depend_on_the_hash_seed():
    script = ("import json; from newslens.analysis.topic_sample import sample_rows; "
              f"print(json.dumps(sample_rows({IDS[:300]!r}, 40).tolist()))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(sample_rows(IDS[:300], 40).tolist()).replace(" ", "").replace(",", ", ")


def test_a_document_in_the_sample_stays_unless_an_added_one_hashes_lower():
    before = {IDS[i] for i in sample_rows(IDS[:600], 100)}
    grown = IDS[:600] + [f"added-{i:04d}" for i in range(400)]
    after = {grown[i] for i in sample_rows(grown, 100)}
    kept_old = {doc_id for doc_id in after if doc_id.startswith("article")}
    assert kept_old <= before                      # no old document enters when others are added
    added = after - kept_old
    assert len(before - kept_old) == len(added)    # each one that left was pushed out by an added one
    assert max(topic_sample.doc_hash(d) for d in kept_old) < min(topic_sample.doc_hash(d) for d in before - kept_old)


def test_ties_of_the_hash_go_by_doc_id(monkeypatch):
    monkeypatch.setattr(topic_sample, "doc_hash", lambda doc_id: 7)
    assert sample_rows(["c", "a", "d", "b"], 2).tolist() == [1, 3]


def test_the_cap_is_a_boundary(monkeypatch):
    ids = IDS[:120]
    assert sample_of(ids, TopicsParams(sample_documents=120)) is None       # at the cap: every document
    assert len(sample_of(ids, TopicsParams(sample_documents=119))) == 119   # one above: a sample
    monkeypatch.setattr(topic_sample, "SWEEP_SAMPLE", 120)                  # the default cap
    assert sample_of(ids, TopicsParams()) is None
    assert len(sample_of(ids + ["one-more"], TopicsParams())) == 120


def test_old_params_have_no_sample_setting_and_a_bad_one_is_refused():
    assert TopicsParams().sample_documents is None
    assert topic_sample.sample_cap(TopicsParams()) == topic_sample.SWEEP_SAMPLE == 20_000
    with pytest.raises(ValueError, match="sample_documents"):
        TopicsParams(sample_documents=0)


# --- the transform, partition by partition -----------------------------------------------

def _weights(estimator, tfidf, data, engine):
    """Every row's weights from one pass of 48-row partitions (no coherence terms, no focus)."""
    nothing = np.arange(0, dtype=np.int64)
    weights, _ = corpus_pass(tfidf, estimator, data, nothing, nothing, engine, rows=48)
    return weights


@pytest.mark.parametrize("model", ["nmf", "lda"])
def test_the_partitioned_transform_equals_the_whole_matrix_transform(model):
    rng = np.random.default_rng(0)  # four topics' mixtures, a third of the cells kept
    dense = rng.gamma(0.3, size=(150, 4)) @ rng.gamma(0.3, size=(4, 40)) * (rng.random((150, 40)) < 0.3)
    matrix = sparse.csr_matrix(np.ceil(dense * 3) if model == "lda" else dense)
    estimator = estimator_for(model, 4, 0).fit(matrix[:100])
    whole = estimator.transform(matrix)
    held = TfidfModel([f"d{i}" for i in range(150)], np.array([f"t{j}" for j in range(40)], dtype=object),
                      matrix, matrix, np.ones(40))
    with Engine(n_jobs=1) as engine:
        parts = _weights(estimator, held, "tfidf", engine)
    assert parts.shape == whole.shape
    np.testing.assert_allclose(parts, whole, atol=1e-6)


@pytest.mark.parametrize("model", ["nmf", "lda"])
def test_tasks_that_name_rows_of_the_tfidf_file_give_the_same_weights_as_blocks_of_the_matrix(model, tmp_path):
    from sklearn.feature_extraction.text import TfidfTransformer

    from newslens.analysis.tfidf import TfidfModel, read_cell_rows, read_tfidf, write_tfidf

    rng = np.random.default_rng(1)
    dense = rng.poisson(0.4, size=(130, 30)).astype(np.int64)
    dense[7] = 0  # a document without a counted term: a row of no cells
    counts = sparse.csr_matrix(dense)
    transformer = TfidfTransformer(sublinear_tf=True)
    model_in = TfidfModel([f"d{i}" for i in range(130)], np.array([f"t{j}" for j in range(30)], dtype=object),
                          transformer.fit_transform(counts).tocsr(), counts, transformer.idf_)
    write_tfidf(model_in, tmp_path)
    tfidf = read_tfidf(tmp_path / "tfidf.parquet", tmp_path / "tfidf_terms.parquet", tmp_path / "tfidf_documents.parquet")
    assert tfidf.cells == tmp_path / "tfidf.parquet"
    column, data = ("tfidf", tfidf.matrix) if model == "nmf" else ("count", tfidf.counts)
    for start, stop in ((0, 48), (48, 96), (96, 130), (5, 9)):
        part = read_cell_rows(tfidf.cells, column, start, stop, 30)
        assert part.dtype == data.dtype and (part != data[start:stop]).nnz == 0
    estimator = estimator_for(model, 4, 0).fit(data[:100])
    held = TfidfModel(tfidf.doc_ids, tfidf.terms, tfidf.matrix, tfidf.counts, tfidf.idf)  # names no file
    with Engine(n_jobs=1) as engine:
        by_block = _weights(estimator, held, column, engine)
        by_name = _weights(estimator, tfidf, column, engine)
    assert np.array_equal(by_block, by_name)


def test_a_capped_vocabulary_keeps_the_terms_in_the_most_documents_and_the_workers_read_those_columns(tmp_path):
    from sklearn.feature_extraction.text import TfidfTransformer

    from newslens.analysis.tfidf import TfidfModel, kept_columns, read_cell_rows, read_tfidf, write_tfidf

    rng = np.random.default_rng(2)
    counts = sparse.csr_matrix(rng.poisson(rng.gamma(0.3, size=40), size=(120, 40)).astype(np.int64))
    transformer = TfidfTransformer(sublinear_tf=True)
    whole = TfidfModel([f"d{i}" for i in range(120)], np.array([f"t{j:02d}" for j in range(40)], dtype=object),
                       transformer.fit_transform(counts).tocsr(), counts, transformer.idf_)
    write_tfidf(whole, tmp_path)
    files = (tmp_path / "tfidf.parquet", tmp_path / "tfidf_terms.parquet", tmp_path / "tfidf_documents.parquet")
    assert read_tfidf(*files, max_terms=40).columns is None  # at the cap: every term
    capped = read_tfidf(*files, max_terms=15)
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    kept = kept_columns(whole.idf, 15)
    assert np.array_equal(capped.columns, kept) and capped.all_terms == 40 and len(capped.terms) == 15
    assert df[kept].min() >= np.delete(df, kept).max()  # the terms in the most documents
    assert list(capped.terms) == list(whole.terms[kept])
    for name in ("matrix", "counts"):
        assert (getattr(capped, name) != getattr(whole, name)[:, kept]).nnz == 0
    part = read_cell_rows(capped.cells, "tfidf", 30, 75, 15, columns=kept)
    assert (part != whole.matrix[30:75][:, kept]).nnz == 0
    estimator = estimator_for("nmf", 3, 0).fit(capped.matrix[:100])
    held = TfidfModel(capped.doc_ids, capped.terms, capped.matrix, capped.counts, capped.idf)  # names no file
    with Engine(n_jobs=1) as engine:
        by_block = _weights(estimator, held, "tfidf", engine)
        by_name = _weights(estimator, capped, "tfidf", engine)
    assert np.array_equal(by_block, by_name)


# --- the stage's path on a real small corpus ---------------------------------------------

def _fit(corpus, folder, settings=BASE):
    tfidf, display = corpus
    return run_topics(tfidf, settings, display=display, identities_path=folder / "topics.json",
                      labels_path=folder / "run.labels.yaml", n_jobs=1, engine=Engine(n_jobs=1))


def test_above_the_cap_the_model_is_fitted_on_the_sample_and_every_document_gets_weights(
        corpus, tmp_path, monkeypatch):
    tfidf, _ = corpus
    monkeypatch.setattr(topic_sample, "SWEEP_SAMPLE", 50)
    monkeypatch.setattr(topic_sample, "PARTITION_ROWS", 16)
    result = _fit(corpus, tmp_path)
    assert result.sampled == 50 and result.k in (2, 3, 4)
    assert ("the k sweep and the model were fitted on 50 of 60 documents chosen by a hash of their id; "
            "every document’s weights come from that model") in result.k_note
    mixture = result.mixtures
    assert sorted(mixture.index) == sorted(tfidf.doc_ids) and mixture.shape[1] == result.k
    assert np.allclose(mixture.sum(axis=1), 1.0, atol=1e-5)  # no document left without weights
    assert len(result.topics) == result.k and result.topics["prevalence"].is_monotonic_decreasing
    assert result.components.shape == (result.k, len(tfidf.terms))


def test_the_sample_path_fits_lda_too(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(topic_sample, "SWEEP_SAMPLE", 50)
    result = _fit(corpus, tmp_path, TopicsParams(model="lda", k=3, seeds=[0]))
    assert result.sampled == 50 and "50 of 60 documents" in result.k_note
    assert len(result.mixtures) == 60


def test_at_the_cap_nothing_changes(corpus, tmp_path, monkeypatch):
    default = _fit(corpus, tmp_path / "default")
    monkeypatch.setattr(topic_sample, "SWEEP_SAMPLE", 60)
    at_cap = _fit(corpus, tmp_path / "at-cap")
    assert at_cap.sampled == 0 and at_cap.k_note == default.k_note and "hash" not in at_cap.k_note
    pd.testing.assert_frame_equal(at_cap.mixtures, default.mixtures)
    pd.testing.assert_frame_equal(at_cap.sweep, default.sweep)
    pd.testing.assert_frame_equal(at_cap.topic_terms, default.topic_terms)


def test_a_tfidf_of_the_sample_rows_only_gives_what_the_whole_matrix_gives(corpus, tmp_path, monkeypatch):
    """The stage reads only the sample's rows (read_tfidf's rows); the workers read the others in
    one pass (topic_pass.corpus_pass): every table, coherence, the explorer's term totals and the
    focus's terms are those of the fit that held every row, in memory or read from the file."""
    from newslens.analysis import topics
    from newslens.analysis.short_texts import ShortTexts
    from newslens.analysis.tfidf import read_tfidf, write_tfidf
    from newslens.analysis.topic_quality import co_documents

    tfidf, display = corpus
    monkeypatch.setattr(topic_sample, "SWEEP_SAMPLE", 50)
    monkeypatch.setattr(topic_sample, "PARTITION_ROWS", 16)
    write_tfidf(tfidf, tmp_path)
    files = [tmp_path / name for name in ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet")]
    whole = read_tfidf(*files)
    rows = topics.topic_rows(whole.doc_ids, BASE, ShortTexts(False, float("nan")))
    held = read_tfidf(*files, rows=rows)
    assert held.matrix.shape == (50, whole.matrix.shape[1]) and held.all_doc_ids == whole.doc_ids
    assert (held.matrix != whole.matrix[rows]).nnz == 0 and (held.counts != whole.counts[rows]).nnz == 0
    focus = [whole.doc_ids[3], whole.doc_ids[55]]
    fits = {}
    for name, model in (("in memory", tfidf), ("file, every row", whole), ("file, sample rows", held)):
        folder = tmp_path / name.replace(" ", "-").replace(",", "")
        fits[name] = run_topics(model, BASE, display=display, identities_path=folder / "topics.json",
                                labels_path=folder / "run.labels.yaml", n_jobs=1, engine=Engine(n_jobs=1),
                                focus_ids=focus)
    reference = fits["in memory"]
    assert reference.sampled == 50
    # the sums are every document's, not the sample's
    assert reference.corpus.totals.tolist() == np.asarray(whole.counts.sum(axis=0)).ravel().tolist()
    expected = co_documents(whole.counts, reference.corpus.co.terms)
    assert reference.corpus.co.n_docs == 60 and (reference.corpus.co.co == expected.co).all()
    in_focus = np.flatnonzero(np.asarray(whole.counts[[3, 55]].sum(axis=0)).ravel() > 0)
    assert reference.corpus.focus_terms.tolist() == in_focus.tolist()
    for name in ("file, every row", "file, sample rows"):
        fit = fits[name]
        for table in ("sweep", "topics", "topic_terms", "mixtures"):
            pd.testing.assert_frame_equal(getattr(fit, table), getattr(reference, table), obj=f"{name}: {table}")
        assert fit.identities == reference.identities and fit.k_note == reference.k_note
        assert (fit.corpus.totals == reference.corpus.totals).all()
        assert (fit.corpus.co.co == reference.corpus.co.co).all()
        assert fit.corpus.focus_terms.tolist() == reference.corpus.focus_terms.tolist()


def test_a_driver_that_holds_no_row_of_the_sample_gets_what_the_held_rows_give(corpus, tmp_path, monkeypatch):
    """The stage's driver reads the TF-IDF's labels only (read_tfidf's matrices=False): the sweep and
    the final fit read the sample's rows from the files (here in this process, one worker), and every
    table is the one the held rows give. Without the files it says what is missing."""
    from newslens.analysis import topics
    from newslens.analysis.short_texts import ShortTexts
    from newslens.analysis.tfidf import read_tfidf, write_tfidf

    tfidf, display = corpus
    settings = BASE.model_copy(update={"sample_documents": 50})
    monkeypatch.setattr(topic_sample, "PARTITION_ROWS", 16)
    write_tfidf(tfidf, tmp_path)
    files = [tmp_path / name for name in ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet")]
    rows = topics.topic_rows(tfidf.doc_ids, settings, ShortTexts(False, float("nan")))
    held, labels = read_tfidf(*files, rows=rows), read_tfidf(*files, rows=rows, matrices=False)
    assert labels.matrix is None and labels.counts is None
    assert (labels.doc_ids, labels.all_doc_ids, list(labels.terms)) == (held.doc_ids, held.all_doc_ids,
                                                                          list(held.terms))
    assert labels.rows.tolist() == held.rows.tolist() and labels.cells == held.cells
    fits = {}
    for name, given in (("held", held), ("labels", labels)):
        fits[name] = run_topics(given, settings, display=display, identities_path=tmp_path / name / "topics.json",
                                labels_path=tmp_path / name / "run.labels.yaml", n_jobs=1, engine=Engine(n_jobs=1),
                                files=files)
    assert fits["labels"].sampled == 50
    for table in ("sweep", "topics", "topic_terms", "mixtures"):
        pd.testing.assert_frame_equal(getattr(fits["labels"], table), getattr(fits["held"], table), obj=table)
    assert np.array_equal(fits["labels"].components, fits["held"].components)
    with pytest.raises(ValueError, match="holds none of the sample's rows, and no files were given"):
        run_topics(labels, settings, display=display, identities_path=None, labels_path=None, n_jobs=1)


def test_the_counts_digest_of_a_file_follows_the_counts_it_names(corpus, tmp_path):
    """The baselines' cache key hashes the sample's counts; a driver that holds none hashes them from
    the file, a row group at a time: the same for the same cells, another when a count changes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newslens.analysis.tfidf import counts_digest, read_tfidf, write_tfidf

    write_tfidf(corpus[0], tmp_path)
    files = [tmp_path / name for name in ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet")]
    rows = np.arange(0, 60, 2)
    digest = counts_digest(read_tfidf(*files, rows=rows, matrices=False))
    assert digest == counts_digest(read_tfidf(*files, rows=rows, matrices=False))
    assert digest != counts_digest(read_tfidf(*files, rows=rows[1:], matrices=False))
    table = pq.read_table(files[0])
    in_sample = np.flatnonzero(np.isin(table.column("doc").to_numpy(), rows))[0]
    changed = table.column("count").to_numpy().copy()
    changed[in_sample] += 1
    pq.write_table(table.set_column(table.schema.get_field_index("count"), "count", pa.array(changed)), files[0])
    assert digest != counts_digest(read_tfidf(*files, rows=rows, matrices=False))
    with pytest.raises(ValueError, match="holds no counts and names no file"):
        counts_digest(TfidfModel(["a"], np.array(["t"], dtype=object), None, None, np.ones(1)))


def test_read_tfidf_refuses_rows_out_of_order_or_out_of_range(corpus, tmp_path):
    from newslens.analysis.tfidf import read_tfidf, write_tfidf

    write_tfidf(corpus[0], tmp_path)
    files = [tmp_path / name for name in ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet")]
    for rows in ([5, 3], [1, 1], [59, 60], [-1, 2]):
        with pytest.raises(ValueError, match="ascending row indices below 60"):
            read_tfidf(*files, rows=np.array(rows))


@pytest.mark.slow
def test_the_sample_is_swept_fitted_and_weighed_alike_on_the_dask_engine(corpus, tmp_path, monkeypatch):
    """On dask the sweep's fits and the pass's partitions are the cluster's tasks: every table is
    the one the pandas engine gives, in this process."""
    from newslens.analysis import topics
    from newslens.engine import DaskEngine

    monkeypatch.setattr(topics, "SMALL_CORPUS", 10)  # the sample's 50 documents are swept in parallel
    monkeypatch.setattr(topic_sample, "SWEEP_SAMPLE", 50)
    monkeypatch.setattr(topic_sample, "PARTITION_ROWS", 16)
    tfidf, display = corpus
    local = _fit(corpus, tmp_path / "pandas")
    with DaskEngine(n_workers=2, count_bytes=True) as engine:
        on_dask = run_topics(tfidf, BASE, display=display, identities_path=tmp_path / "dask" / "topics.json",
                             labels_path=tmp_path / "dask" / "run.labels.yaml", n_jobs=2, engine=engine)
        maps = engine.traffic.by_label()
    assert on_dask.sampled == local.sampled == 50
    for name in ("sweep", "topics", "topic_terms", "mixtures"):
        pd.testing.assert_frame_equal(getattr(on_dask, name), getattr(local, name))
    sweep_fits = len(BASE.seeds) * len(on_dask.sweep)
    assert [(one.tasks, one.largest_task < 100) for label, one in maps.items() if "sweep" in label] == [
        (sweep_fits, True)]  # each fit a task of (k, seed); the matrices were sent once, shared


@pytest.mark.slow
def test_the_sweeps_workers_read_their_rows_from_the_files_and_are_sent_references(corpus, tmp_path, monkeypatch):
    """Given the TF-IDF files, the sweep's worker processes read the sample's rows themselves: the
    broadcast is a reference of well under a kilobyte, not the matrices, and every table is the same."""
    from newslens.analysis import topics
    from newslens.analysis.tfidf import read_tfidf, write_tfidf
    from newslens.analysis.short_texts import ShortTexts

    tfidf, display = corpus
    settings = BASE.model_copy(update={"sample_documents": 50})  # read alike in the workers' processes
    monkeypatch.setattr(topics, "SMALL_CORPUS", 10)  # the sample's 50 documents are swept in parallel
    monkeypatch.setattr(topic_sample, "PARTITION_ROWS", 16)  # ... by the engine's workers
    write_tfidf(tfidf, tmp_path)
    files = [tmp_path / name for name in ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet")]
    rows = topics.topic_rows(tfidf.doc_ids, settings, ShortTexts(False, float("nan")))
    held, labels = read_tfidf(*files, rows=rows), read_tfidf(*files, rows=rows, matrices=False)
    fits, shared, final = {}, {}, {}
    for name, model, given in (("matrices", held, None), ("files", held, files), ("no rows held", labels, files)):
        engine = Engine(n_jobs=2, count_bytes=True)
        fits[name] = run_topics(model, settings, display=display, identities_path=tmp_path / name / "topics.json",
                                labels_path=tmp_path / name / "run.labels.yaml", n_jobs=2, engine=engine,
                                files=given)
        traffic = engine.traffic.by_label()
        [shared[name]] = [one.shared for label, one in traffic.items() if "sweep" in label]
        final[name] = [(one.tasks, one.largest_task) for label, one in traffic.items() if "final_fit" in label]
    assert fits["files"].sampled == fits["no rows held"].sampled == 50
    for name in ("files", "no rows held"):  # the final fit in a worker process, on one BLAS thread: the same bits
        for table in ("sweep", "topics", "topic_terms", "mixtures"):
            pd.testing.assert_frame_equal(getattr(fits[name], table), getattr(fits["matrices"], table), obj=table)
    assert shared["files"] < 1_000 < 20 * shared["files"] < shared["matrices"]
    assert final["matrices"] == final["files"] == []  # fitted where the rows are held
    [(tasks, largest)] = final["no rows held"]  # one task, a reference to the rows
    assert tasks == 1 and largest < 1_000


def test_a_sample_source_refuses_rows_that_are_not_the_ones_held(corpus, tmp_path):
    from newslens.analysis.tfidf import write_tfidf
    from newslens.analysis.topics import SampleSource

    write_tfidf(corpus[0], tmp_path)
    files = tuple(str(tmp_path / name) for name in ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet"))
    settings = BASE.model_copy(update={"sample_documents": 50})
    assert SampleSource(files, settings, "nmf", (50, corpus[0].matrix.shape[1])).read().matrix.shape[0] == 50
    assert SampleSource(files, settings, "btm", (60, corpus[0].matrix.shape[1])).read().rows is None  # every row
    with pytest.raises(ValueError, match=r"are \(50, \d+\), not the \(60, \d+\) the stage holds"):
        SampleSource(files, settings, "nmf", (60, corpus[0].matrix.shape[1])).read()
