"""The topic explorer's data: the intertopic map, terms by relevance, top documents, and its page."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from hypothesis import given, settings, strategies as st

from newslens.analysis import topic_explorer_data
from newslens.report import topic_explorer as te
from newslens.report import views
from newslens.analysis.topics import TopicResult, no_model
from newslens.wording import Words
from newslens.analysis.topic_views import wide

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
RLO = "\u202e"
HOSTILE = f"{SCRIPT} {IMG} </script><!-- \u2028 {RLO}txet"

TERMS = np.array(["brexit", "eu", "vote", "trump", "election", "goal", "league", "united_nations"])
DISPLAY = {"united_nations": "united nations"}
# Three topics over eight terms: Brexit, the US election, football.
COMPONENTS = np.array([
    [5.0, 4.0, 2.0, 0.0, 0.5, 0.0, 0.0, 1.0],
    [0.0, 0.2, 2.0, 5.0, 4.0, 0.0, 0.0, 0.5],
    [0.0, 0.0, 0.0, 0.1, 0.0, 5.0, 4.0, 0.0],
])
DOC_IDS = ["a", "b", "c", "d", "e", "f"]
MIXTURE = np.array([[0.9, 0.1, 0.0], [0.7, 0.3, 0.0], [0.2, 0.8, 0.0], [0.0, 1.0, 0.0],
                    [0.0, 0.1, 0.9], [0.5, 0.0, 0.5]])
COUNTS = sparse.csr_matrix(np.array([[5, 4, 1, 0, 0, 0, 0, 1], [3, 3, 2, 1, 1, 0, 0, 0],
                                     [0, 0, 2, 4, 3, 0, 0, 1], [0, 1, 1, 5, 4, 0, 0, 0],
                                     [0, 0, 0, 0, 0, 6, 5, 0], [2, 1, 0, 0, 0, 3, 2, 0]]))
TOTALS = np.asarray(COUNTS.sum(axis=0)).ravel()  # each term's count over the documents


def documents(*, groups=("bbc", "bbc", "cnn", "cnn", "dw", "dw"), dates=True) -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": DOC_IDS, "parent_id": DOC_IDS,
        "title": ["May triggers Article 50", "Brexit talks", "Trump rally", "Election night",
                  "Cup final", "Leave voters and the league"],
        "text": [f"The text of document {d}, " + "with many words " * 20 for d in DOC_IDS],
        "group": list(groups),
        "date": pd.to_datetime(["2017-01-02", "2017-01-09", "2017-01-16", "2017-01-23", "2017-01-30",
                                "2017-02-06"]) if dates else pd.NaT,
        "date_precision": ["day"] * 6,
    })


def result(components=COMPONENTS, labels=("Brexit", "Trump", "Football")) -> TopicResult:
    prevalence = MIXTURE.mean(axis=0)
    topics = pd.DataFrame({"topic": [1, 2, 3], "label": list(labels), "labelled": True,
                           "prevalence": np.round(prevalence, 3), "coherence": 0.1, "top_terms": ""})
    doc_topics = pd.DataFrame({"doc_id": np.repeat(DOC_IDS, 3), "topic": np.tile([1, 2, 3], 6),
                               "weight": MIXTURE.ravel()})
    return TopicResult(3, "given", pd.DataFrame(), topics, pd.DataFrame(), wide(doc_topics), [], {}, 0.1,
                       components=np.asarray(components, dtype=float))


def data(components=COMPONENTS, docs=None, **kwargs):
    return topic_explorer_data.explorer_data(result(components, **kwargs), documents() if docs is None else docs,
                            terms=TERMS, totals=TOTALS, display=DISPLAY, words=Words("article", "outlet"))


# ---------------------------------------------------------------- Jensen–Shannon divergence

def test_jsd_of_identical_topics_is_zero_and_of_disjoint_ones_ln_2():
    p = topic_explorer_data.term_distributions(np.array([[1.0, 3.0, 0.0, 0.0], [2.0, 6.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]))
    jsd = topic_explorer_data.jensen_shannon(p)
    assert jsd[0, 1] == pytest.approx(0.0, abs=1e-15)
    assert jsd[0, 2] == pytest.approx(math.log(2))   # natural log: the maximum is ln 2 (1 in base 2)
    assert np.allclose(jsd, jsd.T) and np.all(np.diag(jsd) == 0)


def test_jsd_worked_by_hand():
    # P = (½, ½), Q = (1, 0), M = (¾, ¼): JSD = ½ [½ ln(⅔) + ½ ln 2] + ½ ln(4/3) ≈ 0.2158
    expected = 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)) + 0.5 * math.log(1 / 0.75)
    assert topic_explorer_data.jensen_shannon(np.array([[0.5, 0.5], [1.0, 0.0]]))[0, 1] == pytest.approx(expected)
    assert expected == pytest.approx(0.2158, abs=1e-4)


def test_term_distributions_sum_to_one_and_a_zero_row_is_uniform():
    p = topic_explorer_data.term_distributions(np.array([[2.0, 2.0, 4.0], [0.0, 0.0, 0.0]]))
    assert p.tolist() == [[0.25, 0.25, 0.5], [1 / 3, 1 / 3, 1 / 3]]


# ---------------------------------------------------------------- classical scaling

def _distances(coords):
    return np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=-1))


def test_pcoa_recovers_points_on_a_line():
    d = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    coords = topic_explorer_data.pcoa(d)
    assert np.allclose(_distances(coords), d)
    assert np.allclose(coords[:, 1], 0)
    assert np.allclose(coords[:, 0], [1.0, 0.0, -1.0])  # the first of the largest magnitude is positive


def test_pcoa_of_tied_axes_puts_the_first_point_on_the_first_axis():
    d = np.ones((3, 3)) - np.eye(3)  # an equilateral triangle: both eigenvalues equal
    coords = topic_explorer_data.pcoa(d)
    assert np.allclose(_distances(coords), d)
    assert coords[0, 0] == pytest.approx(1 / math.sqrt(3)) and coords[0, 1] == pytest.approx(0, abs=1e-12)
    assert coords[1, 1] > 0 > coords[2, 1]


def test_two_topics_get_one_axis():
    coords = topic_explorer_data.intertopic_map(COMPONENTS[:2])
    assert coords.tolist() == [[1.0, 0.0], [-1.0, 0.0]]


def test_identical_topics_sit_at_the_centre():
    assert topic_explorer_data.intertopic_map(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])).tolist() == [[0.0, 0.0]] * 3


def test_map_signs_are_fixed_and_survive_noise_and_order_of_terms():
    coords = topic_explorer_data.intertopic_map(COMPONENTS)
    for axis in range(2):
        column = coords[:, axis]
        assert column[np.argmax(np.abs(column))] > 0
    assert np.abs(coords).max() == 1.0
    rng = np.random.default_rng(0)
    noisy = COMPONENTS + rng.uniform(0, 1e-12, COMPONENTS.shape)
    assert topic_explorer_data.intertopic_map(noisy).tolist() == coords.tolist()
    shuffled = COMPONENTS[:, rng.permutation(COMPONENTS.shape[1])]  # the terms' order is no part of it
    assert topic_explorer_data.intertopic_map(shuffled).tolist() == coords.tolist()


# ---------------------------------------------------------------- relevance

def test_relevance_is_sievert_and_shirley():
    assert topic_explorer_data.relevance(np.array([0.2]), np.array([0.05]), 0.6)[0] == pytest.approx(
        0.6 * math.log(0.2) + 0.4 * math.log(0.2 / 0.05))


def test_candidates_hold_the_top_terms_at_lambda_one_and_zero():
    terms = np.array([f"t{i}" for i in range(40)])
    p_topic = np.linspace(0.05, 0.001, 40)  # t0 the most frequent in the topic
    p_corpus = np.full(40, 0.05)
    p_corpus[39] = 1e-6                     # t39: rare in the topic, rarer still in the corpus
    picked = topic_explorer_data.relevance_candidates(p_topic, p_corpus, terms, n=5)
    names = set(terms[picked])
    assert {"t0", "t1", "t2", "t3", "t4"} <= names   # λ = 1: by p(w|t)
    assert "t39" in names                             # λ = 0: by lift
    assert list(picked) == sorted(picked, key=lambda i: -p_topic[i])  # sent by p(w|t)


def test_candidates_skip_terms_the_topic_never_uses_and_break_ties_by_term():
    terms = np.array(["b", "a", "c"])
    picked = topic_explorer_data.relevance_candidates(np.array([0.5, 0.5, 0.0]), np.array([0.3, 0.3, 0.4]), terms, n=1)
    assert terms[picked].tolist() == ["a"]


# ---------------------------------------------------------------- documents

def test_top_documents_by_weight_then_id_and_only_with_weight():
    doc_topics = pd.DataFrame({"doc_id": ["b", "a", "c", "d", "a"], "topic": [1, 1, 1, 1, 2],
                               "weight": [0.5, 0.5, 0.9, 0.0, 0.0]})
    top = topic_explorer_data.top_documents(wide(doc_topics), n=3)
    assert top[["doc_id", "topic"]].values.tolist() == [["c", 1], ["a", 1], ["b", 1]]
    assert topic_explorer_data.top_documents(wide(doc_topics), n=1)["doc_id"].tolist() == ["c"]


@pytest.mark.parametrize("text, limit, expected", [
    ("short text", 200, "short text"),
    ("The minister said the talks would resume", 20, "The minister said…"),
    ("a  spaced\n\ttext here", 12, "a spaced…"),
    ("Supercalifragilisticexpialidocious", 10, "Supercalif…"),  # no space to cut at
    ("Ends with a comma, then more", 19, "Ends with a comma…"),
])
def test_snippets_are_cut_at_a_word(text, limit, expected):
    cut = topic_explorer_data.cut_at_word(text, limit)
    assert cut == expected and len(cut) <= limit + 1


def test_a_unit_shows_its_own_words_instead_of_its_documents_title():
    units = pd.DataFrame({"doc_id": ["d#1"], "parent_id": ["d"], "title": ["Long read"],
                          "text": ["The first sentence of a long read."], "group": ["bbc"],
                          "date": [pd.NaT], "date_precision": [None]})
    entry = topic_explorer_data.document_entry(next(units.itertuples(index=False)))
    assert entry == {"id": "d#1", "title": "The first sentence of a long read.", "group": "bbc", "date": None}


def test_dates_follow_their_precision():
    assert topic_explorer_data._date_text(pd.Timestamp("1997-05-01"), "year") == "1997"
    assert topic_explorer_data._date_text(pd.Timestamp("1997-05-01"), "month") == "1997-05"
    assert topic_explorer_data._date_text(pd.Timestamp("1997-05-01"), "day") == "1997-05-01"


# ---------------------------------------------------------------- the data

def test_data_of_a_model():
    explorer = data()
    assert [t["id"] for t in explorer["topics"]] == [1, 2, 3]
    assert explorer["topics"][0]["name"] == "T1: Brexit" and explorer["lambda"] == 0.6
    assert "united nations" in explorer["terms"]  # the display form of a phrase
    brexit = explorer["topics"][0]
    shown = [explorer["terms"][i] for i, _ in brexit["terms"]]
    assert shown[0] == "brexit" and brexit["terms"][0][1] == pytest.approx(5 / 12.5, abs=1e-4)
    assert "goal" not in shown  # the topic puts no weight on it
    assert explorer["pw"][explorer["terms"].index("brexit")] == pytest.approx(10 / 61, abs=1e-4)  # 10 of 61 tokens
    docs = [explorer["docs"][d]["id"] for d, _ in brexit["docs"]]
    assert docs == ["a", "b", "f", "c"]  # weight 0.9, 0.7, 0.5, 0.2; d and e have none
    assert explorer["groups"] == ["bbc", "cnn", "dw"] and brexit["by_group"] == [0.8, 0.1, 0.25]
    assert len(explorer["periods"]) == 6 and brexit["over_time"][0] == 0.9
    assert explorer["notes"] == {"groups": None, "time": None}
    for t in explorer["topics"]:  # circles inside the map
        assert t["r"] <= t["cx"] <= topic_explorer_data.MAP_SIZE - t["r"] and t["r"] <= t["cy"] <= topic_explorer_data.MAP_SIZE - t["r"]


def test_circle_area_follows_prevalence():
    layout = topic_explorer_data.map_layout([{"prevalence": 0.4, "x": 0, "y": 0}, {"prevalence": 0.1, "x": 1, "y": -1}])
    assert (layout[1]["r"] / layout[0]["r"]) ** 2 == pytest.approx(0.25, abs=0.01)
    assert layout[1]["cx"] + layout[1]["r"] <= topic_explorer_data.MAP_SIZE and layout[1]["cy"] + layout[1]["r"] <= topic_explorer_data.MAP_SIZE


def test_many_topics_get_smaller_circles():
    many = topic_explorer_data.map_layout([{"prevalence": 1 / 35, "x": 0, "y": 0}] * 35)
    few = topic_explorer_data.map_layout([{"prevalence": 1 / 3, "x": 0, "y": 0}] * 3)
    assert few[0]["r"] == topic_explorer_data.MAX_RADIUS > many[0]["r"]
    assert 35 * math.pi * many[0]["r"] ** 2 <= topic_explorer_data.MAP_INK * topic_explorer_data.MAP_SIZE ** 2 * 1.01


def test_one_group_and_no_dates_say_so():
    explorer = data(docs=documents(groups=["bbc"] * 6, dates=False))
    assert explorer["groups"] == [] and explorer["periods"] == []
    assert "by_group" not in explorer["topics"][0] and "over_time" not in explorer["topics"][0]
    assert explorer["notes"] == {"groups": "This run has a single outlet.",
                                 "time": "The articles have no dates, so there is no time axis."}


def test_the_same_model_gives_the_same_bytes_and_noise_changes_nothing():
    first, second = topic_explorer_data.explorer_json(data()), topic_explorer_data.explorer_json(data())
    assert first == second
    rng = np.random.default_rng(1)
    noisy = COMPONENTS + rng.uniform(-1e-12, 1e-12, COMPONENTS.shape) * (COMPONENTS > 0)
    assert topic_explorer_data.explorer_json(data(noisy)) == first
    assert json.loads(first) == data()  # sorted, plain JSON


def test_the_file_round_trips(tmp_path):
    explorer = data()
    topic_explorer_data.write(explorer, tmp_path)
    assert topic_explorer_data.load(tmp_path / topic_explorer_data.FILE) == explorer
    assert (tmp_path / topic_explorer_data.FILE).read_text(encoding="utf-8").endswith("}\n")


def test_compact_keeps_five_documents_each_and_drops_the_charts():
    explorer = data()
    small = topic_explorer_data.compact(explorer, docs=1)
    assert small["compact"] is True and small["groups"] == [] and small["periods"] == []
    for full, short in zip(explorer["topics"], small["topics"]):
        assert "by_group" not in short and short["terms"] == full["terms"]
        assert [small["docs"][d]["id"] for d, _ in short["docs"]] == \
            [explorer["docs"][d]["id"] for d, _ in full["docs"][:1]]
    assert len(small["docs"]) < len(explorer["docs"])
    assert topic_explorer_data.compact(explorer)["topics"][0]["docs"] == explorer["topics"][0]["docs"][:topic_explorer_data.COMPACT_DOCS]


def test_a_run_without_a_model_gets_no_explorer_and_no_error(tmp_path):
    empty = no_model("a corpus of 1 document supports at most 1 topic")
    explorer = topic_explorer_data.explorer_data(empty, documents(), terms=TERMS, totals=TOTALS, display={}, words=Words())
    assert explorer is None and topic_explorer_data.compact(None) is None and te.explorer_html(None) == ""
    topic_explorer_data.write(None, tmp_path)
    assert (tmp_path / topic_explorer_data.FILE).read_text(encoding="utf-8") == "null\n"
    assert topic_explorer_data.load(tmp_path / topic_explorer_data.FILE) is None and topic_explorer_data.load(tmp_path / "missing.json") is None


# ---------------------------------------------------------------- the page

def test_colours_mean_mixed_or_not_as_on_the_page():
    assert te.tint({"id": 3}) == te.tint({"id": 1, "mixed": False}) == te.TOPIC_COLOUR
    assert te.tint({"id": 3, "mixed": True}) == te.MIXED_COLOUR
    script = (views.TEMPLATES_DIR / "topic-explorer.js").read_text(encoding="utf-8")
    assert f'TOPIC = "{te.TOPIC_COLOUR}", MIXED = "{te.MIXED_COLOUR}"' in script and "NL.colour" not in script


def test_static_map_is_svg_with_a_tooltip_per_topic():
    html = te.explorer_html(data())
    assert html.startswith('<div class="nl-view" data-view="topic-explorer"')
    fallback = html[:html.index('<script type="application/json"')]
    assert fallback.count("<circle") == 3 and fallback.count("<title>") == 3
    assert "<title>T1: Brexit (38.3% of the topic weight)</title>" in fallback
    assert 'class="note nl-static"' in fallback and "With JavaScript on" in fallback
    assert "<li>T1: Brexit (38.3%)</li>" in fallback  # which circle is which


def test_hostile_text_stays_text():
    docs = documents(groups=[HOSTILE, HOSTILE, "cnn", "cnn", "dw", "dw"])
    docs["title"] = HOSTILE
    docs["text"] = HOSTILE + " and more words"
    html = te.explorer_html(data(docs=docs, labels=(HOSTILE, "Trump", "Football")))
    # one script element only: the inert JSON data
    assert len(re.findall(r"<script", html)) == 1 and html.count("</script>") == 1
    assert "<img" not in html and "<!--" not in html
    payload = html[html.index('data-role="data">') + len('data-role="data">'):html.rindex("</script>")]
    assert not set("<>&\u2028") & set(payload)
    restored = json.loads(payload)
    assert restored["topics"][0]["label"] == HOSTILE and HOSTILE in restored["groups"]
    assert restored["docs"][0]["title"] == " ".join(HOSTILE.split())  # U+2028 is white space: collapsed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the static map's tooltip, escaped


def test_the_script_writes_text_only():
    script = (views.TEMPLATES_DIR / "topic-explorer.js").read_text(encoding="utf-8")
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                   "setAttribute(\"style", "</script", "<!--"):
        assert banned not in script, banned
    assert "topic-explorer.js" in views.LIBRARY_FILES and "topic-explorer" in views.library()


# ---------------------------------------------------------------- the map: every circle reachable

def _covered_centres(topics: list[dict]) -> list:
    """Ids whose centre lies inside a circle the page draws above it (largest first, ties by id)."""
    order = sorted(topics, key=lambda t: (-t["r"], t["id"]))
    return [below["id"] for a, below in enumerate(order) for above in order[a + 1:]
            if math.hypot(below["cx"] - above["cx"], below["cy"] - above["cy"]) <= above["r"]]


def test_a_centre_under_a_smaller_circle_is_moved_apart():
    # topic 13 right under topic 28, as the news run's classical scaling put them
    topics = [{"id": 28, "prevalence": 0.06, "x": 0.30, "y": 0.20}, {"id": 13, "prevalence": 0.02, "x": 0.30, "y": 0.20},
              {"id": 5, "prevalence": 0.04, "x": 0.31, "y": 0.21}, {"id": 7, "prevalence": 0.03, "x": -0.5, "y": 0.1}]
    unmoved = [{**t, **c} for t, c in zip(topics, [
        {"cx": 180 + 100 * t["x"], "cy": 180 - 100 * t["y"], "r": 10.0} for t in topics])]
    assert _covered_centres(unmoved)  # as scaled, centres hide under each other
    laid = [{**t, **c} for t, c in zip(topics, topic_explorer_data.map_layout(topics))]
    assert _covered_centres(laid) == []
    for t in laid:
        assert t["r"] <= t["cx"] <= topic_explorer_data.MAP_SIZE - t["r"] and t["r"] <= t["cy"] <= topic_explorer_data.MAP_SIZE - t["r"]
    assert laid[3]["cx"] == topic_explorer_data.map_layout(topics)[3]["cx"]  # a topic far away stays put
    assert topic_explorer_data.map_layout(topics) == topic_explorer_data.map_layout(topics)  # deterministic


@given(st.lists(st.tuples(st.floats(0.005, 0.3), st.floats(-1, 1), st.floats(-1, 1)), min_size=2, max_size=40))
@settings(max_examples=60, deadline=None)
def test_every_centre_can_be_clicked_whatever_the_scaling(points):
    topics = [{"id": i + 1, "prevalence": p, "x": x, "y": y} for i, (p, x, y) in enumerate(points)]
    laid = [{**t, **c} for t, c in zip(topics, topic_explorer_data.map_layout(topics))]
    assert _covered_centres(laid) == []
    size = topic_explorer_data.MAP_SIZE
    assert all(0 <= t["cx"] - t["r"] + 1 and t["cx"] + t["r"] <= size for t in laid)


def test_size_legend_reference_circles_follow_the_area_rule():
    topics = [{"prevalence": p, "x": 0, "y": 0} for p in (0.2, 0.08, 0.03, 0.012)]
    legend = topic_explorer_data.size_legend(topics)
    assert [share for share, _ in legend] == [0.02, 0.1, 0.2]  # of 2%, 5%, 10%, 20%: smallest, middle, largest
    top = topic_explorer_data.map_layout(topics)[0]["r"]
    for share, r in legend:
        assert (r / top) ** 2 == pytest.approx(share / 0.2, abs=0.02)


def test_mixed_topics_are_flagged_and_an_absent_column_means_none():
    plain = data()
    assert [t["mixed"] for t in plain["topics"]] == [False, False, False]
    fit = result()
    fit.topics["mixed"] = [False, True, "no"]
    flagged = topic_explorer_data.explorer_data(fit, documents(), terms=TERMS, totals=TOTALS, display=DISPLAY,
                                                words=Words("article", "outlet"))
    assert [t["mixed"] for t in flagged["topics"]] == [False, True, False]
    assert "Grey circles are mixed topics" in te.explorer_html(flagged) and "Grey" not in te.explorer_html(plain)


def test_rare_terms_are_not_candidates():
    p_topic = np.array([0.5, 0.3, 0.2])
    p_corpus = np.array([0.5, 0.45, 0.05])  # "page24" is rare, so at λ = 0 it would lead
    terms = np.array(["trade", "talk", "page24"])
    assert 2 in topic_explorer_data.relevance_candidates(p_topic, p_corpus, terms, n=1)
    picked = topic_explorer_data.relevance_candidates(p_topic, p_corpus, terms, n=1, uses=np.array([900, 700, 9]),
                                                      min_uses=20)
    assert list(picked) == [0]  # at every λ: trade, the rare term out
    assert topic_explorer_data.min_uses(1_000_000) == 20 and topic_explorer_data.min_uses(61) == 1


def test_terms_carry_their_uses_and_the_stated_minimum():
    explorer = data()
    totals = dict(zip(TERMS, np.asarray(COUNTS.sum(axis=0)).ravel()))
    shown = {DISPLAY.get(t, t): int(n) for t, n in totals.items()}
    assert explorer["uses"] == [shown[t] for t in explorer["terms"]] and explorer["min_uses"] == 1
