"""Topic shares by group and over time with 95% intervals from a bootstrap over documents."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newslens.analysis import topic_effects, topic_views
from newslens.analysis.topic_effects import EFFECT_COLUMNS, level_intervals, too_small
from newslens.report.distinctive import is_missing_group as report_is_missing_group
from newslens.analysis.topic_views import wide

TOPICS = pd.DataFrame({"topic": [2, 1], "label": ["Brexit", "Trump"], "prevalence": [0.6, 0.4]})


def corpus(groups: list, dates: list, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Documents with the given groups and dates, and realistic two-topic mixtures (6 decimals)."""
    rng = np.random.default_rng(seed)
    ids = [f"d{i:03d}" for i in range(len(groups))]
    first = np.round(rng.beta(0.6, 0.9, len(ids)), 6)
    documents = pd.DataFrame({"doc_id": ids, "group": groups, "date": pd.to_datetime(dates)})
    doc_topics = pd.DataFrame({"doc_id": np.repeat(ids, 2), "topic": np.tile([2, 1], len(ids)),
                               "weight": np.column_stack([first, np.round(1 - first, 6)]).ravel()})
    return documents, doc_topics


# 40 bbc articles over four weeks, 10 cnn articles, 2 from one blog, 3 without a group.
GROUPS = ["bbc"] * 40 + ["cnn"] * 10 + ["blog"] * 2 + [None, "(no group)", ""]
DATES = ([f"2017-01-{2 + (i % 28):02d}" for i in range(40)] + ["2017-01-05"] * 10 + ["2017-01-30"] * 2
         + ["2017-01-10", "2017-01-11", "2017-01-12"])
DOCUMENTS, DOC_TOPICS = corpus(GROUPS, DATES)
MIXTURES = wide(DOC_TOPICS)


@pytest.fixture(scope="module")
def effects():
    return topic_effects.topic_effects(MIXTURES, DOCUMENTS, TOPICS)


def test_the_table_has_the_contract_columns_one_row_per_topic_and_level(effects):
    table = effects.table
    assert tuple(table.columns) == EFFECT_COLUMNS
    groups = effects.rows("group")
    assert groups["level"].tolist()[:4] == ["bbc", "cnn", "blog", "(no group)"]  # largest first, no group last
    assert groups.groupby("topic")["n_docs"].apply(list).to_dict() == {1: [40, 10, 2, 3], 2: [40, 10, 2, 3]}
    assert table["topic"].drop_duplicates().tolist() == [2, 1]  # in the topics' order
    periods = effects.rows("period")
    assert effects.resolution.name == "day"  # 29 days
    assert len(table) == 2 * (4 + periods["level"].nunique())


def test_shares_are_the_plain_means_the_heat_map_shows(effects):
    groups = effects.rows("group").set_index(["topic", "level"])
    named = DOCUMENTS.assign(group=DOCUMENTS["group"].where(~DOCUMENTS["group"].map(report_is_missing_group),
                                                            "(no group)"))
    means = DOC_TOPICS.merge(named, on="doc_id").groupby(["topic", "group"])["weight"].mean()
    for (topic, group), mean in means.items():
        assert groups.loc[(topic, group), "share"] == round(mean, 4)
    heat = topic_views.prevalence_by_group(MIXTURES, DOCUMENTS[DOCUMENTS["group"] == "cnn"], TOPICS)
    assert groups.loc[(2, "cnn"), "share"] == pytest.approx(heat.loc["T2: Brexit", "cnn"], abs=1e-4)
    # Over time: the mean of each day's documents, like the heat map over time.
    periods = effects.rows("period").set_index(["topic", "level"])
    day = DOC_TOPICS.merge(DOCUMENTS, on="doc_id")
    on_5th = day[(day["date"] == "2017-01-05") & (day["topic"] == 1)]["weight"]
    assert periods.loc[(1, "2017-01-05"), "share"] == round(on_5th.mean(), 4)
    assert periods.loc[(1, "2017-01-05"), "n_docs"] == len(on_5th) == 12  # 10 cnn, 2 bbc


def test_intervals_contain_the_share_and_are_wider_for_smaller_groups(effects):
    groups = effects.rows("group").set_index(["topic", "level"])
    for topic in (1, 2):
        bbc, cnn = groups.loc[(topic, "bbc")], groups.loc[(topic, "cnn")]
        for row in (bbc, cnn):
            assert row["share_low"] <= row["share"] <= row["share_high"]
            assert row["share_low"] < row["share_high"]
        assert cnn["share_high"] - cnn["share_low"] > bbc["share_high"] - bbc["share_low"]


def test_wider_for_fewer_documents_of_the_same_mixtures():
    weights = np.round(np.random.default_rng(3).dirichlet([0.5, 0.5, 0.5], 400), 6)
    codes = np.r_[np.zeros(320, dtype=int), np.ones(80, dtype=int)]
    _, low, high, n = level_intervals(weights, codes, 2)
    assert n.tolist() == [320, 80]
    width = high - low
    assert (width[1] > 1.5 * width[0]).all()  # about √4 = 2 times as wide


def test_replicates_drawn_a_block_at_a_time_are_those_of_one_draw(monkeypatch):
    """A level of many documents draws its replicates a block at a time (a bounded matrix of counts):
    the blocks are the one draw's rows, so the intervals are the same bits as drawn at once."""
    weights = np.round(np.random.default_rng(5).dirichlet([0.5, 0.5, 0.5], 900), 6)
    codes = np.r_[np.zeros(700, dtype=int), np.ones(200, dtype=int)]
    at_once = level_intervals(weights, codes, 2)
    monkeypatch.setattr(topic_effects, "_DRAW_CELLS", 700 * 7)  # the larger level: 7 replicates a block
    in_blocks = level_intervals(weights, codes, 2)
    for one, other in zip(at_once, in_blocks):
        assert np.array_equal(one, other, equal_nan=True)
    assert np.isfinite(in_blocks[1]).all()


def test_levels_below_the_minimum_keep_their_share_without_an_interval(effects):
    table = effects.table
    blog = table[(table["by"] == "group") & (table["level"] == "blog")]
    assert blog["share"].notna().all() and blog["share_low"].isna().all() and blog["share_high"].isna().all()
    assert too_small(table, effects.min_documents)[blog.index].all()
    assert not too_small(table, effects.min_documents)[table["level"] == "bbc"].any()
    # With a minimum of 2 the blog gets an interval; with 50, even the bbc has none.
    looser = topic_effects.topic_effects(MIXTURES, DOCUMENTS, TOPICS, min_documents=2)
    assert looser.rows("group").query("level == 'blog'")["share_low"].notna().all()
    stricter = topic_effects.topic_effects(MIXTURES, DOCUMENTS, TOPICS, min_documents=50)
    assert stricter.table["share_low"].isna().all() and stricter.table["share"].notna().any()


GAPPED = DOCUMENTS.assign(date=pd.to_datetime([f"2017-01-{2 + i // 2:02d}" if i < 20 else f"2017-01-{20 + (i - 20) // 2}"
                                               for i in range(40)] + DATES[40:]))  # no article 13-19 January


def test_empty_periods_stay_on_the_axis_with_no_share():
    periods = topic_effects.topic_effects(MIXTURES, GAPPED, TOPICS).rows("period").query("topic == 2")
    assert periods["level"].iloc[0] == "2017-01-02" and periods["level"].iloc[-1] == "2017-01-30"
    assert len(periods) == 29  # every day, empty ones included
    empty = periods[periods["n_docs"] == 0]
    assert empty["level"].tolist() == [f"2017-01-{d}" for d in range(13, 20)]
    assert empty["share"].isna().all() and empty["share_low"].isna().all()


def test_deterministic_for_a_seed_and_other_for_another():
    first = topic_effects.topic_effects(MIXTURES, DOCUMENTS, TOPICS)
    again = topic_effects.topic_effects(MIXTURES.sample(frac=1, random_state=4), DOCUMENTS, TOPICS)
    pd.testing.assert_frame_equal(first.table, again.table)  # row order of the input does not matter
    other = topic_effects.topic_effects(MIXTURES, DOCUMENTS, TOPICS, seed=1)
    assert not first.table["share_low"].equals(other.table["share_low"])
    assert first.table["share"].equals(other.table["share"])


def test_no_dates_and_one_date_give_no_time_rows_and_say_why():
    undated = topic_effects.topic_effects(MIXTURES, DOCUMENTS.assign(date=pd.NaT), TOPICS, unit="article")
    assert set(undated.table["by"]) == {"group"}
    assert undated.resolution is None and undated.time_reason == "no article carries a date"
    one_day = topic_effects.topic_effects(MIXTURES, DOCUMENTS.assign(date=pd.Timestamp("2022-01-10")), TOPICS)
    assert set(one_day.table["by"]) == {"group"}
    assert one_day.time_reason == "every dated document carries the same date (10 January 2022)"
    one_month = DOCUMENTS.assign(date=pd.to_datetime(["2017-03-01"] * 50 + ["2017-03-02"] * 5), date_precision="month")
    monthly = topic_effects.topic_effects(MIXTURES, one_month, TOPICS)
    assert monthly.time_reason == "the dated documents fall in a single month (Mar 2017)"


def test_undated_and_outlying_documents_are_left_out_of_the_periods_and_said():
    dates = DATES[:-1] + ["2022-01-10"]  # one article years away from the rest
    documents = DOCUMENTS.assign(date=pd.to_datetime(dates)).copy()
    documents.loc[0, "date"] = pd.NaT
    effects = topic_effects.topic_effects(MIXTURES, documents, TOPICS)
    assert effects.time_note == "Left out of the periods: 1 undated document and 1 dated far from the rest."
    assert effects.rows("period").query("topic == 1")["n_docs"].sum() == len(DOCUMENTS) - 2


def test_a_tiny_corpus_has_shares_and_no_interval():
    documents, doc_topics = corpus(["a", "a", "b"], ["2020-01-01", "2020-02-01", "2020-03-01"])
    effects = topic_effects.topic_effects(wide(doc_topics), documents, TOPICS)
    dated = effects.table[effects.table["n_docs"] > 0]
    assert dated["share"].notna().all() and len(dated) == 2 * (2 + 3)  # two groups, three days
    assert effects.table["share_low"].isna().all() and too_small(dated, 5).all()


def test_no_model_gives_an_empty_table_with_the_columns():
    empty = topic_effects.topic_effects(MIXTURES.iloc[0:0], DOCUMENTS, TOPICS.iloc[0:0])
    assert tuple(empty.table.columns) == EFFECT_COLUMNS and empty.table.empty


def test_missing_groups_are_read_as_the_reports_read_them():
    for label in ("bbc", None, float("nan"), "", "  ", "(no group)", "(none)", "none"):
        assert topic_effects.is_missing_group(label) == report_is_missing_group(label)


def test_the_written_table_round_trips_with_its_columns(tmp_path, effects):
    from newslens.files import write_parquet

    path = write_parquet(effects.table, tmp_path / "topic_effects.parquet")
    read = pd.read_parquet(path)
    assert tuple(read.columns) == EFFECT_COLUMNS
    assert read["share"].map(lambda v: v != v or round(v, 4) == v).all()  # stored at 4 decimals


@pytest.mark.slow
def test_on_the_news_run_seed_is_too_small_and_china_daily_least_on_the_top_topic(news_run):
    processed = news_run
    documents = pd.read_parquet(processed / "documents.parquet")
    effects = topic_effects.topic_effects(wide(pd.read_parquet(processed / "doc_topics.parquet")), documents,
                                          pd.read_csv(processed / "topics.csv"))
    groups = effects.rows("group")
    assert groups.query("level == 'seed'")["share_low"].isna().all()
    assert effects.resolution.name == "week"
    defined = effects.table.dropna(subset=["share_low"])
    assert ((defined["share_low"] <= defined["share"]) & (defined["share"] <= defined["share_high"])).all()


@st.composite
def mixtures(draw):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(1, 4))
    raw = np.asarray(draw(st.lists(st.lists(st.floats(0, 1), min_size=k, max_size=k), min_size=n, max_size=n)))
    sums = raw.sum(axis=1, keepdims=True)
    weights = np.round(np.divide(raw, sums, out=np.zeros_like(raw), where=sums > 0), 6)
    codes = np.asarray(draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n)))
    return weights, codes


@settings(max_examples=60, deadline=None)
@given(mixtures(), st.integers(1, 6), st.integers(0, 3))
def test_low_share_high_are_ordered_whenever_defined(data, min_documents, seed):
    weights, codes = data
    share, low, high, n_docs = level_intervals(weights, codes, 3, min_documents=min_documents, replicates=50, seed=seed)
    defined = ~np.isnan(low)
    assert (low[defined] <= share[defined] + 1e-12).all() and (share[defined] <= high[defined] + 1e-12).all()
    assert (defined == (n_docs >= min_documents)[:, None]).all()  # an interval exactly where enough documents
    assert (share[n_docs > 0] >= 0).all() and (share[n_docs > 0] <= 1 + 1e-9).all()


def shown_by(page_function, effects, words, monkeypatch, limits=None) -> tuple[list[str], int]:
    """What a topics page cell displays: its texts, and how many charts."""
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    from types import SimpleNamespace

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    result = SimpleNamespace(fit=SimpleNamespace(k=2, topics=TOPICS), effects=effects, limits=limits)
    page_function(result, words)
    texts = [html.unescape(item.data) for item in shown if hasattr(item, "data")]
    return texts, len(shown) - len(texts)


def test_the_page_draws_each_chart_with_a_plain_sentence_under_it(effects, monkeypatch):
    from newslens.report import topics_page
    from newslens.wording import Words

    words = Words(unit="article", group="outlet")
    texts, charts = shown_by(topics_page.by_group, effects, words, monkeypatch)
    assert charts == 1 and len(texts) == 1  # the chart, then its sentence
    assert "95% interval" in texts[0] and "200 redraws of the outlet's articles" in texts[0]
    assert "Drawn hollow, without an interval: outlets of fewer than 5 articles" in texts[0]
    assert "blog (2 articles)" in texts[0]
    texts, charts = shown_by(topics_page.over_time, effects, words, monkeypatch)
    assert charts == 1 and "The grey bars beneath count the articles of each day" in texts[0]
    assert "2017-01-04 (2 articles), 2017-01-06 (2 articles)" in texts[0] and "A gap" not in texts[0]
    assert "2017-01-07 (2 articles), 2017-01-08 (2 articles) and 22 more." in texts[0]  # six named
    lead = {"boundary": "2017-01-05", "group": "wire", "group_documents": 6, "documents": 6,
            "other_groups_outside_share": 1.0}
    covered = shown_by(topics_page.over_time, effects, words, monkeypatch, {"groups": {"lead": lead, "tail": None}})
    assert "Before January 2017, wire is the only outlet (6 of the 6 articles)" in covered[0][0]
    gapped = topic_effects.topic_effects(MIXTURES, GAPPED, TOPICS, unit="article")
    assert "A gap is a day with no article." in shown_by(topics_page.over_time, gapped, words, monkeypatch)[0][0]
    for text in texts:
        assert not any(key in text for key in ("n_docs", "share_low", "keyness_min_documents", "min_documents"))
    undated = topic_effects.topic_effects(MIXTURES, DOCUMENTS.assign(date=pd.NaT), TOPICS, unit="article")
    texts, charts = shown_by(topics_page.over_time, undated, words, monkeypatch)
    assert charts == 0 and "No time axis: no article carries a date." in texts[0]
