"""Stage 04 topics: NPMI by hand, Hungarian matching and stable ids, the choice of k, labels, reruns."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from newslens.analysis.tfidf import fit_tfidf
from newslens.params import KeywordsParams, TokenizeParams, TopicsParams
from newslens.text.tokenization import load_analyzer, tokenize_documents
from newslens.text.tokenization import write_outputs as write_tokens
from newslens.analysis.identities import MATCH_MIN_JACCARD, assign_ids, load_identities, load_labels
from newslens.analysis.topic_quality import (
    TopicsError, choose_k, jaccard, match_topics, mean_coherence, npmi_coherence, stability)
from newslens.analysis.topics import k_range, k_range_note, normalize_rows, run_topics, write_outputs

# 60 short documents from four themes, each two real sentences of the news corpus (NewsArticles.csv).
TRUMP = [
    'Trump handed daily management of the real estate, property management and licensing to his '
    'adult sons and a longtime Trump Organization employee.',
    "Otherwise, the notion that Trump's White House can't take a joke gets a lot more serious.",
    "The White House later Monday released a list of 78 attacks it said backed up Trump's claim.",
    "The US Senate has confirmed President Donald Trump's controversial nominee for education "
    'secretary, Betsy DeVos, by the slenderest possible margin.',
    "Since Mr Trump's Republican party holds a majority there, action against the president seems unlikely.",
    'Coats (73) is considered a mainstream Republican and served on the Senate Intelligence and '
    'Armed Services committees.',
    "That's the message emanating from the White House, starting with President Trump, just three "
    'weeks into his hectic presidency.',
    'Abe gifted Trump a high-end golf driver when the pair met at Trump Tower in New York last November.',
    "Trump's Thursday tweet could complicate the upcoming hearings for Gorsuch, who is certain to "
    "face questions about Trump's tweets from Democrats.",
    "Mr Sessions, whose nomination was among Mr Trump's most controversial, resigned his Senate "
    'seat shortly after his colleagues confirmed him.',
    'Donald Trump and Shinzo Abe will hold talks at the White House on Friday, including with the '
    'participation of the delegations.',
    'Other co-initiators are Republican Senators Marco Rubio and John McCain, and Democrat Senators '
    'Claire McCaskill and Sherrod Brown.',
]
SYRIA = [
    'Over the past month, the Syrian government troops have driven terrorists out of 35 communities '
    'in the north of the province of Aleppo, he said.',
    'Syrian President, Bashar al-Assad, has said that cooperation between Russia and the United '
    'States could be beneficial for Syria and the entire world.',
    'The nationwide ceasefire came into force across Syria at midnight on December 30, 2016 under '
    'the agreement on a complex solution to the Syria crisis.',
    'Some Syrian refugees in Germany have made arrangements to return home voluntarily.',
    'The majority of the victims were civilians who had denounced the regime of Syrian President '
    'Bashar al-Assad, Amnesty said.',
    'Vast numbers of Syrian refugees had been gathering in border-town camps in neighboring Turkey, '
    'Lebanon and Jordan since 2011.',
    'The Syrian government, led by President Bashar al-Assad, responded to the protests by killing '
    'hundreds of demonstrators and imprisoning many more.',
    'They were supporting Syrian rebels who are locked in a fierce battle to try to capture al-Bab '
    'from IS fighters.',
    'She said the government remained committed to accepting 3,000 child refugees from crisis-hit '
    'regions such as Syria.',
    'It is mid-day and almost time for the latest news from Radio Fresh FM in the rebel-held '
    'province of Idlib, in north west Syria.',
    "The Syrian ceasefire excluded areas where militant factions, IS and Syria's al-Qaida "
    'affiliate, operate or hold ground.',
    'The Syrian army advance towards al-Bab is aimed at preventing deeper Turkish advances and '
    'safeguarding the city of Aleppo, 50km to the southwest.',
]
FOOTBALL = [
    'I fear for the club this season, but they do have the capability to stay up.',
    'The club is challenging for Champions League football in its first ever season in the top flight.',
    "Pal Dardai's side are solid and fit and the Hungarian coach has said he's looking to take the "
    'match in to extra time.',
    'Unfortunately, the young striker fell well short of this goal and-found himself back on the '
    'bench in the second half.',
    'In November 2014 the club organized its first league matches.',
    'The roof at the Principality Stadium will be closed for the match at the request of England '
    'coach Eddie Jones.',
    "While it's still early in the new coach's tenure, the Royal Blues have been as impossible to "
    'predict as ever this season.',
    'They have lost their past five league matches and are the only side in the top four English '
    'divisions without a league goal in 2017.',
    'The team won the league title after starting the season with 5,000-to-1 odds to do so.',
    'The Foxes are three points above the relegation zone in 15th and travel to West Ham on '
    'Saturday aiming for a third successive league win.',
    'This season they are 17th after 25 games, with only 21 points.',
    'During the Russian Football Premier League derby match with Lokomotiv Moscow, Spartak fans '
    'unfurled two huge banners.',
]
ECONOMY = [
    'Zhang Yiping, an economist with China Merchants Securities, says that the month-on-month '
    'recovery will provide more growth momentum this year.',
    "As China's southern gateway, Guangzhou has built economic and trade relations with more 200 "
    'countries and regions globally.',
    'China is now the second-largest trade partner of the Philippines.',
    "Creativity in all aspects of a brand's appearance and promotion is now the next hurdle for "
    'Chinese companies to overcome.',
    'Williamson, a leading expert on Chinese innovation, believes China will have little difficulty '
    'attracting such investment.',
    "In 2015, China's total direct investment to the US exceeded the FDI amount from the US to "
    'China for the first time.',
    'China has transformed from low-cost production to a technologically-driven and technically '
    'intensive economy.',
    'Chinese companies invested in 7,961 overseas companies in 164 countries and regions in the '
    'past year, according to the Ministry of Commerce.',
    "In 2015, about 113 million Chinese worked in businesses driven by China's digital economy, "
    'according to a report by Boston Consulting Group.',
    'This is an important characteristic of the new normal of the Chinese economy.',
    'China has huge development projects in this region, involving billions of dollars of '
    'investment and trade.',
    "The IMF forecast 6.5 percent growth in China's economy in 2017, up 0.3 of a percentage point "
    'from its October forecast.',
]

THEMES = {"trump": TRUMP, "syria": SYRIA, "football": FOOTBALL, "economy": ECONOMY}
TEXTS = {f"{theme}-{j:02d}": f"{sentences[j % 12]} {sentences[(j + 5) % 12]}"
         for theme, sentences in THEMES.items() for j in range(15)}
BASE = TopicsParams(k="auto", k_min=2, k_max=4, k_step=1, seeds=[0, 1])
OUTPUT_FILES = ("sweep.csv", "topic_terms.parquet", "doc_topics.parquet", "topics.csv", "k_choice.json")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The corpus tokenized and weighted as stages 02 and 03 do: (tfidf model, display forms)."""
    folder = tmp_path_factory.mktemp("topics-corpus")
    documents = pd.DataFrame({"doc_id": list(TEXTS), "text": list(TEXTS.values())})
    result = tokenize_documents(documents, TokenizeParams(phrase_min_count=6, news_boilerplate=True), "en", n_jobs=1)
    write_tokens(result, folder)
    tfidf = fit_tfidf(*load_analyzer(folder), KeywordsParams(min_df=2, max_df=0.5))
    return tfidf, dict(zip(result.vocabulary["term"], result.vocabulary["display"]))


def _run(corpus, folder, settings=BASE, *, n_jobs=1, labels: str | None = None):
    """run_topics with the identities and labels files in ``folder``; writes the outputs there too."""
    tfidf, display = corpus
    folder.mkdir(parents=True, exist_ok=True)
    labels_path = folder / "run.labels.yaml"
    if labels is not None:
        labels_path.write_text(labels, encoding="utf-8")
    result = run_topics(tfidf, settings, display=display, identities_path=folder / "topics.json",
                        labels_path=labels_path, n_jobs=n_jobs)
    write_outputs(result, folder / "out", folder / "topics.json")
    return result


def _first_terms(result) -> dict[str, int]:
    """Each topic's strongest term → its id."""
    first = result.topic_terms[result.topic_terms["rank"] == 1]
    return dict(zip(first["term"], first["topic"]))


def _bytes(folder) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUT_FILES}


# --- NPMI ------------------------------------------------------------------------------

# Four documents and four terms (columns a, b, c, d):
#   doc 1: a b . d      p(a) = 3/4, p(b) = 2/4, p(c) = 2/4, p(d) = 4/4
#   doc 2: a b . d
#   doc 3: a . c d
#   doc 4: . . c d
BINARY = sparse.csc_matrix(np.array([[1, 1, 0, 1], [1, 1, 0, 1], [1, 0, 1, 1], [0, 0, 1, 1]]))
NPMI_AB = math.log((2 / 4) / (3 / 4 * 2 / 4)) / -math.log(2 / 4)  # ln(4/3) / ln 2 ≈ +0.4150
NPMI_AC = math.log((1 / 4) / (3 / 4 * 2 / 4)) / -math.log(1 / 4)  # ln(2/3) / ln 4 ≈ −0.2925
NPMI_BC = -1.0                                                   # b and c never meet
NPMI_AD = math.log((3 / 4) / (3 / 4 * 4 / 4)) / -math.log(3 / 4)  # d is everywhere: 0


def test_npmi_worked_by_hand():
    assert NPMI_AB == pytest.approx(0.4150375, abs=1e-6)
    assert NPMI_AC == pytest.approx(-0.2924813, abs=1e-6)
    scores = npmi_coherence([np.array([0, 1]), np.array([0, 2]), np.array([1, 2]), np.array([0, 3]),
                             np.array([0, 1, 2])], BINARY)
    assert scores == pytest.approx([NPMI_AB, NPMI_AC, NPMI_BC, NPMI_AD, (NPMI_AB + NPMI_AC + NPMI_BC) / 3])


def test_npmi_edge_cases():
    everywhere = sparse.csc_matrix(np.ones((3, 2), dtype=int))
    assert npmi_coherence([np.array([0, 1])], everywhere).tolist() == [1.0]  # both in every document
    assert np.isnan(npmi_coherence([np.array([0])], BINARY)[0])  # one term: no pair
    assert npmi_coherence([np.array([1, 0])], BINARY)[0] == pytest.approx(NPMI_AB)  # symmetric


def test_mean_coherence_uses_the_top_terms_of_each_topic():
    # topic 0 weighs a, b highest; topic 1 weighs b, c highest: top-2 NPMI is (ab + bc) / 2
    components = np.array([[0.9, 0.8, 0.1, 0.0], [0.0, 0.7, 0.9, 0.1]])
    assert mean_coherence(components, BINARY, sizes=(2,)) == pytest.approx((NPMI_AB + NPMI_BC) / 2)
    # sizes above the vocabulary fall back to all four terms
    all_pairs = npmi_coherence([np.array([0, 1, 2, 3])], BINARY)[0]
    assert mean_coherence(components, BINARY, sizes=(5, 10)) == pytest.approx(all_pairs)


# --- matching and ids -----------------------------------------------------------------------

SYRIA_T = ["syria", "syrian", "refugee", "aleppo", "assad"]
TRUMP_T = ["trump", "white_house", "senate", "republican", "president"]
LEAGUE_T = ["league", "match", "coach", "club", "season"]


def test_jaccard():
    assert jaccard(SYRIA_T, SYRIA_T) == 1.0
    assert jaccard(SYRIA_T, TRUMP_T) == 0.0
    assert jaccard(["trump", "president"], TRUMP_T) == pytest.approx(2 / 5)
    assert jaccard([], []) == 0.0


def test_match_topics_is_the_best_one_to_one_assignment():
    previous = [SYRIA_T, TRUMP_T, LEAGUE_T]
    current = [LEAGUE_T, SYRIA_T[:4] + ["ceasefire"], TRUMP_T]
    pairs = match_topics(previous, current)
    assert [(p, c) for p, c, _ in pairs] == [(0, 1), (1, 2), (2, 0)]
    assert [round(o, 4) for _, _, o in pairs] == [round(4 / 6, 4), 1.0, 1.0]
    # Hungarian, not greedy: taking the best pair first, (0, 0) with 5/6, would leave (1, 1) with 0;
    # the assignment (0, 1) + (1, 0) = 2/6 + 4/6 has the larger total overlap
    previous = [["a", "b", "c", "d", "e"], ["a", "b", "e", "f"]]
    current = [["a", "b", "c", "d", "e", "f"], ["c", "d", "g"]]
    pairs = match_topics(previous, current)
    assert [(p, c) for p, c, _ in pairs] == [(0, 1), (1, 0)]
    assert [o for _, _, o in pairs] == pytest.approx([2 / 6, 4 / 6])
    assert match_topics([], current) == [] and match_topics(previous, []) == []


@pytest.mark.parametrize("previous, current, expected", [
    ({1: SYRIA_T, 2: TRUMP_T, 3: LEAGUE_T}, [LEAGUE_T, SYRIA_T, TRUMP_T], [3, 1, 2]),     # permuted
    ({1: SYRIA_T, 2: TRUMP_T}, [TRUMP_T, ["china", "trade"], SYRIA_T], [2, 3, 1]),         # a new topic
    ({1: SYRIA_T, 2: TRUMP_T, 3: LEAGUE_T}, [LEAGUE_T, TRUMP_T], [3, 2]),                  # one is gone
    ({4: SYRIA_T, 9: TRUMP_T}, [["china"], SYRIA_T, ["ukraine"]], [10, 4, 11]),            # after the max
    ({}, [SYRIA_T, TRUMP_T], [1, 2]),                                                       # first run
    # 1 shared term of 9 (Jaccard 0.11 < 0.2): a new id, although the assignment pairs them
    ({1: SYRIA_T}, [["syria", "trade", "china", "growth", "economy"]], [2]),
    # 2 shared of 8 (Jaccard 0.25 >= 0.2): the same topic
    ({1: SYRIA_T}, [["syria", "syrian", "ceasefire", "idlib", "rebel"]], [1]),
])
def test_assign_ids(previous, current, expected):
    assert assign_ids(current, previous) == expected


def test_match_threshold_is_inclusive():
    current = [["a", "b", "c", "d", "e", "f"]]
    previous = {1: ["a", "b", "x", "y", "z", "w"]}  # 2 of 10: exactly 0.2
    assert jaccard(previous[1], current[0]) == MATCH_MIN_JACCARD == 0.2
    assert assign_ids(current, previous) == [1]


def test_stability():
    seeds = [[SYRIA_T, TRUMP_T], [TRUMP_T, SYRIA_T]]
    assert stability(seeds) == 1.0  # the same topics in another order
    assert stability([[SYRIA_T], [TRUMP_T]]) == 0.0
    # three seeds: pairs (1, 2) = 1.0, (1, 3) and (2, 3) = mean(1.0, 0.0) = 0.5
    assert stability(seeds + [[SYRIA_T, LEAGUE_T]]) == pytest.approx((1.0 + 0.5 + 0.5) / 3)
    assert np.isnan(stability([[SYRIA_T]]))  # one seed: nothing to compare


# --- choosing k -------------------------------------------------------------------------------

def _sweep(k, coherence, stability_):
    return pd.DataFrame({"k": k, "coherence": coherence, "stability": stability_})


@pytest.mark.parametrize("sweep, expected", [
    # normalised coherence [0, 1, .5] and stability [0, .25, 1]: scores 0, .625, .75
    (_sweep([5, 10, 15], [0.1, 0.3, 0.2], [0.5, 0.6, 0.9]), 15),
    # scores all 0.5: the tie goes to the smaller k
    (_sweep([5, 10, 15], [0.1, 0.2, 0.3], [0.9, 0.5, 0.1]), 5),
    (_sweep([15, 10, 5], [0.3, 0.2, 0.1], [0.1, 0.5, 0.9]), 5),   # row order does not matter
    # a constant column counts 1 everywhere; coherence decides
    (_sweep([2, 3, 4], [0.05, 0.2, 0.1], [0.7, 0.7, 0.7]), 3),
    # a single seed gives no stability (NaN): coherence decides
    (_sweep([2, 3, 4], [0.05, 0.1, 0.2], [np.nan, np.nan, np.nan]), 4),
    (_sweep([7], [0.1], [0.5]), 7),
])
def test_choose_k(sweep, expected):
    k, reason = choose_k(sweep)
    assert k == expected
    assert reason.startswith(f"k={expected} scored highest with coherence")
    assert "each scaled from its lowest to its highest value" in reason


def test_choose_k_is_scale_free():
    sweep = _sweep([5, 10, 15, 20], [0.12, 0.18, 0.16, 0.11], [0.8, 0.6, 0.7, 0.4])
    scaled = sweep.assign(coherence=sweep["coherence"] * 10 - 3, stability=sweep["stability"] / 4)
    assert choose_k(sweep)[0] == choose_k(scaled)[0] == 10


def test_choose_k_of_an_empty_sweep_is_an_error():
    with pytest.raises(TopicsError, match="topics: the k sweep produced no fits"):
        choose_k(_sweep([], [], []))


# --- the ks a corpus supports ---------------------------------------------------------------

@pytest.mark.parametrize("settings, n_documents, n_terms, expected", [
    (TopicsParams(k_min=5, k_max=40, k_step=5), 3824, 20000, [5, 10, 15, 20, 25, 30, 35, 40]),  # the news run
    (TopicsParams(k_min=5, k_max=40, k_step=5), 1000, 5000, [5, 10, 15, 20, 25, 30]),  # at most ⌊√1000⌋ = 31
    (TopicsParams(k_min=5, k_max=40, k_step=5), 293, 5000, [5, 10, 15]),     # at most ⌊√293⌋ = 17
    (TopicsParams(k_min=2, k_max=6, k_step=3), 100, 100, [2, 5, 6]),   # k_max is always swept
    (TopicsParams(k_min=5, k_max=40, k_step=5), 23, 5000, [2, 3, 4]),  # cap ⌊√23⌋ = 4 below k_min: 2 to 4
    (TopicsParams(k_min=2, k_max=6, k_step=1), 19, 192, [2, 3, 4]),    # the seed run's 19 sentences
    (TopicsParams(k_min=2, k_max=10, k_step=1), 100, 50, [2, 3, 4, 5]),  # at most 50 terms / top_n 10
    (TopicsParams(k=7), 8, 100, [7]),                                  # a given k: only below N and V
])
def test_k_range(caplog, settings, n_documents, n_terms, expected):
    with caplog.at_level(logging.WARNING, logger="newslens.analysis.topics"):
        assert k_range(settings, n_documents, n_terms) == expected
    assert ("dropped from the sweep" in caplog.text) == (expected[-1] < settings.k_max and settings.k == "auto")


@pytest.mark.parametrize("settings, n_documents, n_terms, message", [
    (TopicsParams(k=10), 5, 100,
     r"topics\.k=10 is larger than this run supports \(5 documents, 100 terms: at most 4\)"),
    (TopicsParams(k=8), 8, 100, r"topics\.k=8 is larger than this run supports \(8 documents"),
    (TopicsParams(k=5), 100, 5, r"topics\.k=5 is larger .* 5 terms: at most 4\)"),
    (TopicsParams(k_min=5, k_max=40), 3, 100,
     r"topics: the corpus is too small for a topic model: a corpus of 3 documents supports at most 1 "
     r"topic \(⌊√N⌋\); give more documents"),
    (TopicsParams(k_min=2, k_max=40), 1000, 15,
     r"a vocabulary of 15 terms supports at most 1 topic of 10 top terms each"),
])
def test_k_range_errors(settings, n_documents, n_terms, message):
    with pytest.raises(TopicsError, match=message):
        k_range(settings, n_documents, n_terms)


@pytest.mark.parametrize("texts, why", [
    ([" ".join(f"word{i} term{i} thing{i}" for i in range(40))], "a corpus of 1 document supports at most 1 topic"),
    (["grain trade", "grain trade", "grain trade"], "terms supports at most 0 topics"),
])
def test_a_corpus_too_small_for_a_model_gets_no_model_and_the_reason(tmp_path, texts, why):
    from newslens.analysis.tfidf import fit_tfidf
    from newslens.params import KeywordsParams, TokenizeParams
    from newslens.text.tokenization import load_analyzer, tokenize_documents
    from newslens.text.tokenization import write_outputs as write_tokens

    documents = pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(texts))], "text": texts})
    write_tokens(tokenize_documents(documents, TokenizeParams(phrases=False), "en", n_jobs=1), tmp_path)
    tfidf = fit_tfidf(*load_analyzer(tmp_path), KeywordsParams(min_df=1, max_df=1.0))
    result = run_topics(tfidf, TopicsParams(), display={}, identities_path=tmp_path / "topics.json",
                        labels_path=tmp_path / "labels.yaml", n_jobs=1)
    assert result.k == 0 and result.topics.empty and result.mixtures.empty
    assert result.reason.startswith("No topic model: ") and why in result.reason
    write_outputs(result, tmp_path, tmp_path / "topics.json")
    assert pd.read_csv(tmp_path / "topics.csv").empty
    assert json.loads((tmp_path / "k_choice.json").read_text())["k"] == 0


@pytest.mark.parametrize("settings, n_documents, expected", [
    (TopicsParams(), 3824, "k searched 5–40, as asked; a corpus of 3,824 documents supports at most 61 topics (⌊√N⌋)"),
    (TopicsParams(), 293, "k searched 5–15 (of 5–40 asked): a corpus of 293 documents supports at most 17 topics "
                          "(⌊√N⌋)"),
    (TopicsParams(k=6), 293, "k=6 was given"),
])
def test_k_range_note_says_why(settings, n_documents, expected):
    ks = k_range(settings, n_documents, 20000)
    assert k_range_note(settings, ks, n_documents, 20000) == expected


def test_k_range_note_names_the_runs_unit():
    ks = k_range(TopicsParams(), 574, 20000)
    assert k_range_note(TopicsParams(), ks, 574, 20000, "paragraph").endswith(
        "a corpus of 574 paragraphs supports at most 23 topics (⌊√N⌋)")


# --- labels ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("- Syria\n- Trump\n", r"run\.labels\.yaml: expected a mapping of topic id → label, got list"),
    ("Syria\n", r"expected a mapping of topic id → label, got str"),
    ("0: Syria\n", r"run\.labels\.yaml: topic id 0 is not a positive integer \(keys are the stable topic ids"),
    ("-1: Syria\n", r"topic id -1 is not a positive integer"),
    ("abc: Syria\n", r"topic id 'abc' is not a positive integer"),
    ("true: Syria\n", r"topic id True is not a positive integer"),
    ("1.5: Syria\n", r"topic id 1\.5 is not a positive integer"),
    ("1: ''\n", r"run\.labels\.yaml: label for topic 1 must be a non-empty string, got ''"),
    ("1: '   '\n", r"label for topic 1 must be a non-empty string, got '   '"),
    ("1:\n", r"label for topic 1 must be a non-empty string, got None"),
    ("1: [Syria, war]\n", r"label for topic 1 must be a non-empty string, got \['Syria', 'war'\]"),
    ("1: Syria\n  2: [unclosed\n", r"run\.labels\.yaml: not valid YAML: "),
])
def test_load_labels_errors(tmp_path, text, message):
    path = tmp_path / "run.labels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TopicsError, match=message):
        load_labels(path, [1, 2, 3])


def test_load_labels_keeps_known_ids_and_reports_unknown_ones(tmp_path):
    path = tmp_path / "run.labels.yaml"
    assert load_labels(path, [1, 2]) == ({}, [])  # no file: no labels, no problem
    path.write_text("# labels by stable topic id\n", encoding="utf-8")
    assert load_labels(path, [1, 2]) == ({}, [])  # an empty file too
    path.write_text("2: '  Syrian war '\n1: US politics\n9: Ghost\n", encoding="utf-8")
    labels, problems = load_labels(path, [1, 2, 3])
    assert labels == {1: "US politics", 2: "Syrian war"}
    assert problems == ["1 label names a topic this model does not have (9 “Ghost”): its topic disappeared in a "
                        "refit, or the id never existed; it is not used."]
    path.write_text("".join(f"{i}: Label {i}\n" for i in range(1, 15)), encoding="utf-8")
    labels, problems = load_labels(path, [1, 2, 3])
    assert len(problems) == 1 and problems[0].startswith("11 labels name topics this model does not have (4 “Label 4”")


# --- the stage on a small real corpus -----------------------------------------------------------

def test_run_topics_finds_the_four_themes(corpus, tmp_path):
    tfidf, _ = corpus
    result = _run(corpus, tmp_path)
    assert result.k == 4 and result.sweep["k"].tolist() == [2, 3, 4]
    assert result.sweep["fits"].tolist() == [2, 2, 2]
    assert result.reason.startswith("k=4 scored highest")
    assert set(_first_terms(result)) == {"trump", "syrian", "league", "china"}
    assert result.topics["topic"].tolist() == [1, 2, 3, 4]  # first run: ids in prevalence order
    assert result.topics["prevalence"].is_monotonic_decreasing
    assert result.topics["labelled"].tolist() == [False] * 4
    assert result.topics["label"].iloc[0].count(" · ") == 2  # the automatic label: three top terms
    # each document's mixture sums to 1, and each document's theme is its largest topic
    mixture = result.mixtures
    assert np.allclose(mixture.sum(axis=1), 1.0, atol=1e-5)
    theme_of_topic = {t: d.split("-")[0] for d, t in mixture.idxmax(axis=1).items()}
    assert len(set(theme_of_topic.values())) == 4
    assert (mixture.idxmax(axis=1).map(theme_of_topic) == mixture.index.str.split("-").str[0]).all()
    assert result.mixtures.index.tolist() == tfidf.doc_ids
    assert result.topic_terms.groupby("topic").size().tolist() == [BASE.top_n] * 4
    assert result.coherence == result.identities["coherence"]
    written = json.loads((tmp_path / "topics.json").read_text(encoding="utf-8"))
    assert written == result.identities
    assert load_identities(tmp_path / "topics.json") == {t["id"]: t["terms"] for t in written["topics"]}


def test_rerun_with_the_identities_file_keeps_ids_and_bytes(corpus, tmp_path):
    first = _run(corpus, tmp_path / "a")
    again = _run(corpus, tmp_path / "b")  # a fresh run, no identities: the same bytes
    assert _bytes(tmp_path / "a" / "out") == _bytes(tmp_path / "b" / "out")
    assert (tmp_path / "a" / "topics.json").read_bytes() == (tmp_path / "b" / "topics.json").read_bytes()
    rerun = _run(corpus, tmp_path / "a")  # now with the identities that the first run wrote
    assert _first_terms(rerun) == _first_terms(first) == _first_terms(again)
    pd.testing.assert_frame_equal(rerun.topics, first.topics)
    assert _bytes(tmp_path / "a" / "out") == _bytes(tmp_path / "b" / "out")


@pytest.mark.parametrize("change, k, persisting", [
    ({"seeds": [0, 1, 2]}, 4, 4),  # only the seeds: the same four topics
    ({"k_max": 6}, 6, 4),          # a higher k bound: two more topics
    ({"k_max": 3}, 3, 3),          # a lower one: a topic goes
    ({"k_min": 3}, 3, 3),
], ids=["seeds", "k_max-up", "k_max-down", "k_min-up"])
def test_changing_seeds_or_a_k_bound_keeps_the_ids_of_topics_that_persist(corpus, tmp_path, change, k,
                                                                           persisting):
    before = _first_terms(_run(corpus, tmp_path))  # writes topics.json, as a committed run would
    assert sorted(before.values()) == [1, 2, 3, 4]
    after = _run(corpus, tmp_path, BASE.model_copy(update=change))
    assert after.k == k
    ids = _first_terms(after)  # a topic is known by its strongest term: trump, syrian, league, china
    assert len(ids) == k
    kept = set(ids) & set(before)
    assert len(kept) == persisting
    for term in kept:
        assert ids[term] == before[term], f"the {term!r} topic changed its id"
    new_ids = sorted(ids[term] for term in set(ids) - set(before))
    assert new_ids == list(range(5, 5 + k - persisting))  # new topics get new ids, never a previous one
    assert after.topics["topic"].is_unique


def test_labels_follow_the_stable_ids(corpus, tmp_path):
    ids = _first_terms(_run(corpus, tmp_path))
    labels = f"{ids['syrian']}: Syrian war\n{ids['league']}: Football\n99: Brexit\n"
    result = _run(corpus, tmp_path, labels=labels)
    by_id = result.topics.set_index("topic")
    assert by_id.loc[ids["syrian"], "label"] == "Syrian war" and by_id.loc[ids["syrian"], "labelled"]
    assert by_id.loc[ids["league"], "label"] == "Football"
    assert not by_id.loc[ids["trump"], "labelled"]
    assert result.label_problems == [
        "1 label names a topic this model does not have (99 “Brexit”): its topic disappeared in a refit, "
        "or the id never existed; it is not used."]
    topics_csv = pd.read_csv(tmp_path / "out" / "topics.csv")
    assert topics_csv.loc[topics_csv["topic"] == ids["syrian"], "label"].item() == "Syrian war"


def test_bad_labels_stop_the_run(corpus, tmp_path):
    with pytest.raises(TopicsError, match="topic id 0 is not a positive integer"):
        _run(corpus, tmp_path, labels="0: Syria\n")


def test_fixed_k_and_lda(corpus, tmp_path):
    result = _run(corpus, tmp_path, TopicsParams(model="lda", k=3, seeds=[0]))
    assert result.k == 3 and result.reason == "k=3 was given in the params (no choice made)"
    assert result.sweep["k"].tolist() == [3] and np.isnan(result.sweep["stability"].iloc[0])
    mixture = result.mixtures.sum(axis=1)
    assert np.allclose(mixture, 1.0, atol=1e-5)
    assert json.loads((tmp_path / "out" / "k_choice.json").read_text()) == {"k": 3, "reason": result.reason}


def test_a_vocabulary_too_small_gets_no_model_and_says_why(corpus):
    tfidf, display = corpus
    tiny = type(tfidf)(tfidf.doc_ids, tfidf.terms[:1], tfidf.matrix[:, :1], tfidf.counts[:, :1], tfidf.idf[:1])
    result = run_topics(tiny, BASE, display=display, identities_path=None, labels_path=None)
    assert result.k == 0 and result.reason == ("No topic model: the vocabulary has 1 term after filtering "
                                               "(lower keywords.min_df or raise keywords.max_df)")


def test_k_larger_than_the_corpus_names_the_key(corpus, tmp_path):
    with pytest.raises(TopicsError, match=r"topics\.k=60 is larger than this run supports \(60 documents"):
        _run(corpus, tmp_path, TopicsParams(k=60))


def test_normalize_rows_keeps_empty_documents_at_zero():
    rows = normalize_rows(np.array([[1.0, 3.0], [0.0, 0.0]]))
    assert rows.tolist() == [[0.25, 0.75], [0.0, 0.0]]


@pytest.mark.slow
def test_parallel_sweep_gives_the_same_outputs(corpus, tmp_path, monkeypatch):
    """n_jobs=2 runs the sweep in two threads, and for a matrix of more rows than one partition on
    the engine's worker processes (seconds to start: hence slow): the outputs are the same bytes."""
    from newslens.analysis import topic_sample, topics

    _run(corpus, tmp_path / "serial", n_jobs=1)
    monkeypatch.setattr(topics, "SMALL_CORPUS", 10)  # the 60 documents are swept in parallel
    _run(corpus, tmp_path / "threads", n_jobs=2)
    monkeypatch.setattr(topic_sample, "PARTITION_ROWS", 16)  # ... and as more than one partition's rows
    calls, fit = [], topics._sweep_job
    monkeypatch.setattr(topics, "_sweep_job", lambda *args: calls.append(args) or fit(*args))
    _run(corpus, tmp_path / "workers", n_jobs=2)
    assert not calls  # the fits ran in the worker processes, not in this one
    serial = _bytes(tmp_path / "serial" / "out")
    assert _bytes(tmp_path / "threads" / "out") == serial and _bytes(tmp_path / "workers" / "out") == serial


# --- the anchor models' cache ---------------------------------------------------------------

def test_anchor_coherence_is_cached_on_its_inputs(corpus, tmp_path, monkeypatch):
    """The baselines are fitted once per input: a second call reads the cache, a change refits."""
    from newslens.analysis import anchors

    tfidf, _ = corpus
    texts, cache = list(TEXTS.values()), tmp_path / "anchor_coherence.json"
    fresh = anchors.anchor_coherence(texts, tfidf, 4, 0.25, cache=cache)
    assert cache.is_file() and fresh["model"].tolist()[0] == "newslens (this report)"
    assert fresh["npmi"].between(-1, 1).all() and len(fresh) == 3
    fits = []
    real = anchors.anchor_scores
    monkeypatch.setattr(anchors, "anchor_scores", lambda *a: fits.append(a) or real(*a))
    pd.testing.assert_frame_equal(anchors.anchor_coherence(texts, tfidf, 4, 0.25, cache=cache), fresh)
    assert fits == []  # read from the cache: the same numbers, no model fitted
    assert anchors.anchor_coherence(texts, tfidf, 4, 0.3, cache=cache)["npmi"].tolist()[1:] == fresh["npmi"].tolist()[1:]
    assert fits == []  # our own score is not part of the key
    anchors.anchor_coherence(texts, tfidf, 3, 0.25, cache=cache)  # another k: fitted again
    anchors.anchor_coherence(texts[:-1] + [texts[-1] + " changed"], tfidf, 3, 0.25, cache=cache)  # another text
    assert len(fits) == 2
    cache.write_text("{not json", encoding="utf-8")  # a damaged cache is refitted, not an error
    pd.testing.assert_frame_equal(anchors.anchor_coherence(texts, tfidf, 4, 0.25, cache=cache), fresh)
    assert len(fits) == 3


# --- exclusivity, mixed topics and what the evidence says of k ------------------------------------

def test_exclusivity_falls_as_a_topic_shares_its_terms():
    from newslens.analysis.topic_quality import exclusivity

    rng = np.random.default_rng(0)
    separate = np.zeros((3, 60))
    for topic in range(3):
        separate[topic, topic * 20:(topic + 1) * 20] = rng.uniform(1, 5, 20)
    blended = separate.copy()
    blended[2] = separate[:2].mean(axis=0)  # the third topic is the other two's mixture
    alone, shared = exclusivity(separate), exclusivity(blended)
    assert np.all((alone > 0) & (alone <= 1))
    assert shared[2] < alone[2] - 0.1 and shared[2] == shared.min()


def test_a_mixed_topic_is_marked_once_and_only_below_the_baseline():
    from newslens.analysis.topics import mark_mixed

    topics = pd.DataFrame({"topic": [1, 2, 3, 4, 5, 6, 7, 8], "label": list("abcdefgh"),
                           "coherence": [0.18, 0.19, 0.42, 0.24, 0.24, 0.29, 0.44, 0.47],
                           "exclusivity": [0.94, 0.81, 0.97, 0.96, 0.96, 0.97, 0.98, 0.99]})
    marked = mark_mixed(topics, baseline=0.33)
    assert marked["mixed"].tolist() == [True, True] + [False] * 6
    assert marked["label"].tolist()[:3] == ["a (mixed)", "b (mixed)", "c"]
    assert mark_mixed(marked, baseline=0.33)["label"].tolist() == marked["label"].tolist()  # never "(mixed) (mixed)"
    assert not mark_mixed(topics, baseline=0.1)["mixed"].any()  # every topic beats a weak baseline


def test_k_evidence_says_when_topics_are_unstable_or_below_the_example():
    from newslens.analysis.topic_quality import k_evidence

    sweep = pd.DataFrame({"k": [5, 10, 15], "coherence": [0.10, 0.20, 0.15], "stability": [0.40, 0.45, 0.30]})
    lines = k_evidence(sweep, 10, 0.20, baseline=0.25)
    assert len(lines) == 2  # k = 10 is best on both counts: no compromise to report
    assert "keeps on average only about 6 of its top 10 terms (stability 0.45)" in lines[0]
    assert "less coherent than those of the scikit-learn example (NPMI 0.200 against 0.250)" in lines[1]
    assert k_evidence(sweep.assign(stability=[0.7, 0.9, 0.8]), 10, 0.3, baseline=0.25) == []


def test_stored_texts_are_read_only_when_the_baselines_are_fitted(corpus, tmp_path, monkeypatch):
    """Texts named in documents.parquet give the scores the same texts in memory give; a cached
    score is checked against a digest of the file's texts, and a changed text refits."""
    from newslens.analysis import anchors

    tfidf, _ = corpus
    ids = list(tfidf.doc_ids)
    documents = pd.DataFrame({"doc_id": ids[::-1], "text": [TEXTS[i] for i in ids[::-1]]})  # another order
    path = tmp_path / "documents.parquet"
    documents.to_parquet(path)
    stored, cache = anchors.StoredTexts(path, ids), tmp_path / "anchor_coherence.json"
    assert stored.read() == [TEXTS[i] for i in ids]
    in_memory = anchors.anchor_coherence(stored.read(), tfidf, 4, 0.25)
    pd.testing.assert_frame_equal(anchors.anchor_coherence(stored, tfidf, 4, 0.25, cache=cache), in_memory)
    reads = []
    real = anchors.StoredTexts.read
    monkeypatch.setattr(anchors.StoredTexts, "read", lambda self: reads.append(1) or real(self))
    pd.testing.assert_frame_equal(anchors.anchor_coherence(stored, tfidf, 4, 0.25, cache=cache), in_memory)
    assert reads == []  # a cache hit reads no text
    documents.loc[0, "text"] += " changed"
    documents.to_parquet(path)
    anchors.anchor_coherence(stored, tfidf, 4, 0.25, cache=cache)
    assert reads == [1]  # another text: read and fitted again
    with pytest.raises(KeyError, match="not in"):
        anchors.StoredTexts(path, ids + ["no-such-document"]).digest()


def test_the_baselines_task_scores_what_a_fit_in_this_process_scores(news_run):
    """The topics stage fits the anchors' baselines in a task on its engine's workers, from references
    to its input files (a small job whatever the corpus); the scores are those of the same fit here."""
    import pickle

    from newslens import config
    from newslens.analysis import topics
    from newslens.analysis.anchors import anchor_scores
    from newslens.engine import Engine
    from newslens.params import load_run

    settings = load_run(config.PROJECT_ROOT / "params" / "news.yaml").params.topics
    k = json.loads((news_run / "k_choice.json").read_text(encoding="utf-8"))["k"]
    job = topics.BaselinesJob({name: news_run / name for name in topics.BaselinesJob.INPUTS}, settings, k, 0, "en")
    assert len(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)) < 16_000  # references, not data
    _, _, tfidf = topics.model_inputs(lambda name: news_run / name, settings)
    texts, rows = topics.anchor_inputs(news_run / "documents.parquet", tfidf, settings)
    here = anchor_scores(texts.read(), rows, k, 0, "en")
    with Engine(2) as engine:
        assert engine.task(topics.baselines, job) == here
    assert [name for name, _ in here][0].startswith("scikit-learn example") and all(-1 <= s <= 1 for _, s in here)

