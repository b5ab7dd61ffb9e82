"""KWIC on the original text, collocates on tokens, and the escaped KWIC table."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newslens.measures import g2
from newslens.analysis.kwic import (COLLOCATE_COLUMNS, KWIC_COLUMNS, collocate_counts, collocates,
                                    collocates_from_counts, kwic, merge_collocate_counts)
from newslens.report.markup import kwic_html
from newslens.params import TokenizeParams
from newslens.text.tokenizer import Tokenizer

TEXT = ("Minsk and Beijing signed a cooperation plan on Monday. The cooperation, "
        "officials  said,\nwill deepen.")

# --- kwic -------------------------------------------------------------------------


def test_kwic_contexts_are_the_original_wording():
    frame = kwic({"d1": TEXT}, "cooperation", window=3)
    assert list(frame.columns) == KWIC_COLUMNS
    rows = frame[["left", "keyword", "right", "start"]].values.tolist()
    assert rows == [
        ["Beijing signed a", "cooperation", "plan on Monday", TEXT.index("cooperation")],
        # punctuation kept; the double space and the line break collapse to one space
        ["on Monday. The", "cooperation", ", officials said, will", TEXT.index("cooperation, ")],
    ]
    for start, keyword in zip(frame["start"], frame["keyword"]):
        assert TEXT[start:start + len(keyword)] == keyword


def test_kwic_window_shorter_than_the_context():
    row = kwic({"d1": TEXT}, "cooperation", window=1).iloc[1]
    assert (row["left"], row["right"]) == ("The", ", officials")
    wide = kwic({"d1": TEXT}, "cooperation", window=50).iloc[0]
    assert (wide["left"], wide["right"]) == ("Minsk and Beijing signed a",
                                             "plan on Monday. The cooperation, officials said, will deepen")


def test_kwic_at_the_very_start_and_end_of_a_document():
    texts = {"d1": "“Cooperation matters,” he said of Belarus.", "d2": "Belarus"}
    start = kwic(texts, "cooperation").iloc[0]
    assert (start["left"], start["keyword"], start["right"]) == \
        ("", "Cooperation", "matters,” he said of Belarus")
    ends = kwic(texts, "belarus")
    assert ends[["doc_id", "left", "keyword", "right"]].values.tolist() == [
        ["d1", "Cooperation matters,” he said of", "Belarus", ""],  # from the first word, not the quote
        ["d2", "", "Belarus", ""],
    ]


def test_kwic_phrase_terms_match_consecutive_words_within_a_sentence():
    texts = {"d1": "The United Nations backed the Belt and Road Initiative. Xi Jinping's visit "
                   "followed. Nothing united. Nations were absent."}
    un = kwic(texts, "united_nations", window=2)
    assert un[["left", "keyword", "right"]].values.tolist() == [["The", "United Nations", "backed the"]]
    assert un["keyword"].tolist() == ["United Nations"]  # "united. Nations" crosses a sentence
    assert kwic(texts, "belt_and_road", window=1)[["left", "keyword", "right"]].values.tolist() == [
        ["the", "Belt and Road", "Initiative"]]
    assert kwic(texts, "xi_jinping")["keyword"].tolist() == ["Xi Jinping's"]  # possessive ignored
    assert kwic(texts, "UNITED NATIONS")["keyword"].tolist() == ["United Nations"]


def test_kwic_matches_lemmas_through_normalize():
    texts = {"d1": "Talks stalled. He talked; the talk ended.", "d2": "No talking."}
    lemmas = {"talks": "talk", "talked": "talk", "talking": "talk"}
    frame = kwic(texts, "talk", normalize=lambda w: lemmas.get(w, w))
    assert frame["keyword"].tolist() == ["Talks", "talked", "talk", "talking"]
    assert frame["doc_id"].tolist() == ["d1", "d1", "d1", "d2"]
    assert kwic(texts, "talk")["keyword"].tolist() == ["talk"]  # default: lowercase only
    tokenizer = Tokenizer(TokenizeParams(), "en", None, frozenset())  # the run's lemmatizer
    assert kwic(texts, "talk", normalize=tokenizer.normalize)["keyword"].tolist() == \
        ["Talks", "talked", "talk", "talking"]


def test_kwic_rows_follow_document_order_and_limit_caps_them():
    texts = {"z": "peace here, peace there", "a": "peace everywhere"}
    frame = kwic(texts, "peace")
    assert list(zip(frame["doc_id"], frame["start"])) == [("z", 0), ("z", 12), ("a", 0)]
    assert kwic(texts, "peace", limit=2)["doc_id"].tolist() == ["z", "z"]
    empty = kwic(texts, "war")
    assert empty.empty and list(empty.columns) == KWIC_COLUMNS


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("",), {}, r"term: must be a non-empty string; got ''"),
    (("   ",), {}, r"term: must be a non-empty string"),
    (("united__nations",), {}, r"term: 'united__nations' has an empty part"),
    (("peace",), {"window": 0}, r"window: must be a positive integer; got 0"),
    (("peace",), {"limit": 0}, r"limit: must be a positive integer or None; got 0"),
])
def test_kwic_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        kwic({"d": "peace"}, *args, **kwargs)


def test_kwic_rejects_texts_that_are_not_a_mapping():
    with pytest.raises(ValueError, match="texts: must be a mapping of doc_id to text; got list"):
        kwic(["peace"], "peace")


# --- collocates -------------------------------------------------------------------

DOCS = [
    ["trade", "war", "tariff", "china"],
    ["trade", "war", "steel"],
    ["peace", "talk", "summit"],
    ["trade", "war", "us"],
    ["peace", "summit", "talk", "weather"],
]


def test_collocates_finds_the_obvious_neighbour():
    frame = collocates(DOCS, "war", window=1, min_count=3)
    assert list(frame.columns) == COLLOCATE_COLUMNS
    # Window region (±1 around each "war"): trade, tariff, trade, steel, trade, us → c = 6;
    # the rest: china, peace, talk, summit, peace, summit, talk, weather → d = 8.
    # "trade": a = 3, b = 0; expected = 6 · 3 / 14 = 1.2857;
    # G² = 2 · 3 ln(3 / 1.2857) = 6 ln(14/6) = 6 · 0.8472979 = 5.0838
    assert frame[["term", "collocate", "count"]].values.tolist() == [["war", "trade", 3]]
    assert frame["expected"].iloc[0] == pytest.approx(18 / 14)
    assert frame["g2"].iloc[0] == pytest.approx(6 * math.log(14 / 6))
    assert frame["g2"].iloc[0] == pytest.approx(5.0838, abs=5e-5)


def test_collocates_windows_stay_in_a_document_and_count_positions_once():
    docs = [["war", "a", "war", "b"], ["c", "d"], ["c", "d"]]
    frame = collocates(docs, "war", window=1, min_count=1, top_n=None)
    # "a" sits in both windows but is one position; "c" starts the next document.
    assert dict(zip(frame["collocate"], frame["count"])) == {"a": 1, "b": 1}
    assert "war" not in set(frame["collocate"])
    assert frame["collocate"].tolist() == ["a", "b"]  # equal G², ties by collocate
    assert frame["g2"].iloc[0] == pytest.approx(float(g2(1, 0, 2, 4)))


def test_collocates_min_count_top_n_and_unknown_terms():
    assert collocates(DOCS, "war", window=1, min_count=4).empty
    assert len(collocates(DOCS, "war", window=2, min_count=1, top_n=2)) == 2
    empty = collocates(DOCS, "nothing")
    assert empty.empty and list(empty.columns) == COLLOCATE_COLUMNS


_TOKENS = st.lists(st.lists(st.sampled_from(["war", "trade", "peace", "talk", "us", "war_crime"]), max_size=9),
                   max_size=12)


@settings(max_examples=80, deadline=None)
@given(docs=_TOKENS, cuts=st.lists(st.integers(0, 12), max_size=4), window=st.integers(1, 3),
       term=st.sampled_from(["war", "war_crime", "absent"]))
def test_collocates_summed_over_partitions_are_the_whole_corpus_collocates(docs, cuts, window, term):
    """The keywords stage counts each partition of tokens.parquet on a worker and sums the counts."""
    bounds = sorted({0, len(docs), *(min(c, len(docs)) for c in cuts)})
    parts = [collocate_counts(docs[a:b], [term, "peace"], window=window) for a, b in zip(bounds, bounds[1:])]
    merged = merge_collocate_counts([merge_collocate_counts(parts[:2]), *parts[2:]]) if parts else \
        merge_collocate_counts([])
    whole = collocates(docs, term, window=window, min_count=1, top_n=None)
    pd.testing.assert_frame_equal(collocates_from_counts(term, merged, min_count=1, top_n=None), whole,
                                  check_exact=True)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"window": 0}, r"window: must be a positive integer; got 0"),
    ({"min_count": 0}, r"min_count: must be a positive integer; got 0"),
    ({"top_n": -1}, r"top_n: must be a positive integer or None; got -1"),
])
def test_collocates_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        collocates(DOCS, "war", **kwargs)
    with pytest.raises(ValueError, match="term: must be a non-empty string"):
        collocates(DOCS, "")


# --- kwic_html --------------------------------------------------------------------


def test_kwic_html_escapes_every_cell_and_aligns_the_keyword():
    texts = {"<doc>": "He wrote <script>alert(1)</script> cooperation </table> ends & more"}
    html = kwic_html(kwic(texts, "cooperation", window=6))
    assert html.startswith('<table class="kwic">') and html.count("</table>") == 1
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/table&gt; ends &amp; more" in html
    assert '<td class="doc">&lt;doc&gt;</td>' in html
    assert '<td class="left">He wrote &lt;script&gt;alert(1)&lt;/script&gt;</td>' in html
    assert '<td class="term">cooperation</td>' in html
    assert 'class="right"' in html


def test_kwic_html_caps_rows_and_checks_its_input():
    frame = kwic({"d": " ".join(["peace"] * 30)}, "peace")
    html = kwic_html(frame, max_rows=5)
    assert html.count("<tr>") == 1 + 5 and "<caption>5 of 30 matches</caption>" in html
    assert "<caption>" not in kwic_html(frame.head(3))
    # the first lines of more matches than the frame holds (the keywords stage keeps only those)
    assert "<caption>3 of 30 matches</caption>" in kwic_html(frame.head(3), total=30)
    with pytest.raises(ValueError, match="total: 2 matches, fewer than the frame's 3 rows"):
        kwic_html(frame.head(3), total=2)
    with pytest.raises(ValueError, match=r"frame: missing KWIC columns \['left'\]"):
        kwic_html(frame.drop(columns="left"))
    with pytest.raises(ValueError, match="max_rows: must be a positive integer"):
        kwic_html(frame, max_rows=0)
