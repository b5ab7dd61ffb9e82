"""The topic views the reports show: by group, over time, per document, per topic."""

from __future__ import annotations

import pandas as pd

from newslens.analysis import topic_views

TOPICS = pd.DataFrame({"topic": [2, 1], "label": ["Brexit", "Trump"], "prevalence": [0.6, 0.4]})
DOCUMENTS = pd.DataFrame({
    "doc_id": ["a", "b", "c", "d#1", "d#2"], "parent_id": ["a", "b", "c", "d", "d"],
    "group": ["bbc", "bbc", "cnn", "cnn", "cnn"],
    "title": ["May triggers Article 50", "Trump signs order", "Trump at rally", "Long read", "Long read"],
    "text": ["May triggers Article 50.", "Trump signs order.", "Trump at rally.",
             "The first sentence of a long read.", "The second sentence of it."],
    "date": pd.to_datetime(["2017-01-02", "2017-01-03", "2017-01-10", "2017-01-17", "2017-01-17"]),
})
DOC_TOPICS = pd.DataFrame({
    "doc_id": ["a", "a", "b", "b", "c", "c", "d#1", "d#1", "d#2", "d#2"],
    "topic": [2, 1, 2, 1, 2, 1, 2, 1, 2, 1],
    "weight": [0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.5, 0.5, 1 / 3, 2 / 3],
})
MIXTURES = topic_views.wide(DOC_TOPICS)


def test_prevalence_by_group_is_the_mean_weight_labelled_in_topic_order():
    table = topic_views.prevalence_by_group(MIXTURES, DOCUMENTS, TOPICS)
    assert table.index.tolist() == ["T2: Brexit", "T1: Trump"]
    assert table.loc["T2: Brexit", "bbc"] == 0.55
    assert table.loc["T1: Trump", "cnn"] == round((0.7 + 0.5 + 2 / 3) / 3, 4)  # 4 significant digits


def test_prevalence_over_time_uses_the_resolution_of_the_span():
    table, resolution = topic_views.prevalence_over_time(MIXTURES, DOCUMENTS, TOPICS)
    assert resolution.name == "day"  # 15 days
    assert table.columns.tolist() == ["2017-01-02", "2017-01-03", "2017-01-10", "2017-01-17"]
    undated = DOCUMENTS.assign(date=pd.NaT)
    empty, _ = topic_views.prevalence_over_time(MIXTURES, undated, TOPICS)
    assert empty.empty


def test_the_summary_reads_the_table_over_time_the_topics_stage_computed(tmp_path):
    """topic_periods.parquet holds prevalence_over_time's table value for value (the summary reads
    it instead of every document's mixture); without dates it holds an empty table."""
    table, _ = topic_views.prevalence_over_time(MIXTURES, DOCUMENTS, TOPICS)
    topic_views.write_periods(table, tmp_path)
    pd.testing.assert_frame_equal(topic_views.read_periods(tmp_path), table)
    empty, _ = topic_views.prevalence_over_time(MIXTURES, DOCUMENTS.assign(date=pd.NaT), TOPICS)
    topic_views.write_periods(empty, tmp_path)
    assert topic_views.read_periods(tmp_path).empty


def test_representative_documents_show_a_unit_by_its_own_words():
    top = topic_views.representative_documents(MIXTURES, DOCUMENTS, TOPICS, n=2)
    assert top["topic"].tolist() == [2, 2, 1, 1]
    assert top["doc_id"].tolist() == ["a", "d#1", "b", "c"]
    assert top.loc[1, "title"] == "The first sentence of a long read."
    assert top["weight"].tolist() == [0.9, 0.5, 0.8, 0.7]


def test_focus_mixture_and_term_frames():
    terms10 = pd.DataFrame({"topic": [1, 1, 2, 2], "rank": [1, 2, 1, 2], "term": ["trump", "wall", "brexit", "may"]})
    table = topic_views.focus_topics(MIXTURES, TOPICS.assign(mixed=False), terms10, ["d#1", "d#2"], {"trump"})
    mixture = topic_views.focus_mixture(table)
    assert mixture.index.tolist() == ["T1: Trump", "T2: Brexit"]
    assert mixture.iloc[0] == round((0.5 + 2 / 3) / 2, 3)
    assert table["terms_in_focus"].tolist() == [1, 0]
    assert not table["weak"].any()  # both parts hold well over a tenth of the document
    terms = pd.DataFrame({"topic": [2, 2, 1], "term": ["brexit", "may", "trump"], "weight": [0.5, 0.25, 0.9]})
    frames = topic_views.term_frames(TOPICS, terms, {"may": "May"})
    assert [name for name, _ in frames] == ["T2: Brexit (60%)", "T1: Trump (40%)"]
    assert frames[0][1].to_dict() == {"brexit": 0.5, "May": 0.25}


def test_the_long_table_is_written_a_few_documents_at_a_time_and_reads_back_wide(tmp_path):
    import numpy as np
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    weights = np.round(rng.dirichlet([0.5] * 4, size=7), 6)
    mixtures = pd.DataFrame(weights, index=pd.Index([f"d{i}" for i in (5, 1, 6, 0, 3, 2, 4)], name="doc_id"),
                            columns=pd.Index([3, 1, 4, 2], name="topic"))
    path = topic_views.write_doc_topics(mixtures, tmp_path / "doc_topics.parquet", rows=3)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 3 + 3 + 1 documents
    read = pd.read_parquet(path)
    assert read.shape == (28, 3) and read["doc_id"].iloc[:4].tolist() == ["d5"] * 4  # the corpus's order
    pd.testing.assert_frame_equal(read, topic_views.long_table(mixtures))
    back = topic_views.wide(read)
    assert back.index.tolist() == mixtures.index.tolist() and back.columns.tolist() == [3, 1, 4, 2]
    assert np.array_equal(back.to_numpy(), weights)
