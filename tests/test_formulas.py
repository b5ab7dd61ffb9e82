"""Formulas learned from the corpus: the two rules, their evidence floors, keep, and the stage."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newslens.corpus.clean import MISSING_GROUP
from newslens.text import formulas
from newslens.params import TokenizeParams, validate_params
from newslens.text.tokenization import tokenize_documents

STOP = frozenset({"the", "and", "of", "my", "i", "to", "a"})
TOPICS = {"red": ["tax", "budget", "income"], "blue": ["school", "pupil", "teacher"]}


def _docs(n: int = 60, *, opener: bool = True, closer: bool = True) -> tuple[list, list, list]:
    """``n`` letters in two groups over two years: "colleague" evenly everywhere, each group's
    own words only in its letters; half open with "dear sir", a third close "yours faithfully"."""
    docs, groups, dates = [], [], []
    for i in range(n):
        group = "red" if i % 2 else "blue"
        first = (["dear", "sir"] if opener and i % 2 == 0 else []) + [f"point{i}", "colleague"]
        middle = [*TOPICS[group], "colleague", f"case{i}"]
        last = ["hope", f"reply{i % 7}"] + (["yours", "faithfully"] if closer and i % 3 == 0 else [])
        docs.append([first, middle, last])
        groups.append(group)
        dates.append(pd.Timestamp(f"{2015 + i % 2}-03-0{1 + i % 5}"))
    return docs, groups, dates


def _df(docs) -> Counter:
    return Counter(t for doc in docs for t in {t for sentence in doc for t in sentence})


def test_an_evenly_spread_term_is_learned_and_a_group_s_own_words_are_not():
    docs, groups, dates = _docs()
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    assert "colleague" in learned.terms
    assert not learned.terms & {"tax", "budget", "school", "pupil"}  # in half the documents, one group only
    row = learned.table.set_index("formula").loc["colleague"]
    assert row["kind"] == "even spread" and row["documents"] == 60
    assert row["g2"] <= formulas.SPREAD_G2 or abs(row["log_ratio"]) <= formulas.SPREAD_MAX_LOG_RATIO


def test_openers_and_closers_are_learned_longest_first():
    docs, groups, dates = _docs()
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    assert ("dear", "sir") in learned.openers and ("yours", "faithfully") in learned.closers
    # "dear" alone starts as many documents as "dear sir": only the longer one is listed
    assert ("dear",) not in learned.openers
    assert learned.strip(["dear", "sir", "colleague"], ["hope", "yours", "faithfully"]) == (2, 2)
    assert learned.strip(["sir", "dear"], ["faithfully", "yours"]) == (0, 0)  # elsewhere, it stays
    kinds = learned.table.set_index("formula")["kind"]
    assert kinds["dear sir"] == "opener" and kinds["yours faithfully"] == "closer"


def test_a_sequence_of_stop_words_and_a_rare_opener_are_not_learned():
    docs, groups, dates = _docs()
    for doc in docs[:9]:  # 9 documents: fewer than MIN_REPEATS
        doc[0] = ["rare", "greeting", *doc[0]]
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    assert not any(seq[0] == "rare" for seq in learned.openers)
    assert all(not all(t in STOP for t in seq) for seq in learned.openers | learned.closers)


def test_keep_names_terms_and_openers_that_are_never_learned():
    docs, groups, dates = _docs()
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP, keep=["Colleague", "dear  sir"])
    assert "colleague" not in learned.terms
    # keeping an opener keeps its start too: no "dear" alone is cut instead
    assert ("dear", "sir") not in learned.openers and ("dear",) not in learned.openers


def test_too_few_documents_learn_nothing_and_say_why():
    docs, groups, dates = _docs(formulas.MIN_DOCS - 1)
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    assert learned.table.empty and not learned.terms and not learned.openers
    assert len(learned.notes) == 3 and all(f"fewer than the {formulas.MIN_DOCS}" in n for n in learned.notes)


def test_without_groups_or_periods_even_spread_skips_but_openers_are_learned():
    docs, _, _ = _docs()
    learned = formulas.learn_formulas(docs, ["one"] * len(docs), [pd.NaT] * len(docs), _df(docs), STOP)
    assert not learned.terms
    assert learned.notes == ["even spread: skipped (nothing to compare: 1 groups with 10 or more documents; "
                             "0 periods with 10 or more documents)",
                             "address terms: skipped (nothing to compare: 1 groups with 10 or more documents)"]
    assert ("dear", "sir") in learned.openers


def test_periods_alone_are_enough_to_compare():
    docs, _, dates = _docs()
    learned = formulas.learn_formulas(docs, [None] * len(docs), dates, _df(docs), STOP)
    assert "colleague" in learned.terms
    assert learned.notes == ["address terms: skipped (nothing to compare: 0 groups with 10 or more documents)"]
    where = learned.table.set_index("formula").loc["colleague", "where"]
    assert where.split(" ")[0] in ("day", "week", "month", "quarter", "year", "decade")


def test_a_period_that_overuses_a_term_vetoes_it():
    docs, groups, dates = _docs()
    for doc, date in zip(docs, dates):
        if date.year == 2016:
            doc[1] += ["colleague"] * 4  # five times as often in one year
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    assert "colleague" not in learned.terms


# ---------------------------------------------------------------- address terms

# Per language: two address terms (a speech's greeting and its yielding), a subject one party leads
# its speeches with, and each party's own words. No word list of the rule: only the test knows them.
DEBATES = {
    "en": {"address": ["hon_friend", "give_way"], "lead": "scottish",
           "topics": {"lab": ["nurse", "ward", "hospital"], "con": ["tax", "budget", "treasury"],
                      "lib": ["school", "pupil", "teacher"]}},
    "de": {"address": ["herr_kollege", "bitte_schön"], "lead": "bayerisch",
           "topics": {"spd": ["rente", "pflege", "arbeit"], "cdu": ["steuer", "haushalt", "schulden"],
                      "grüne": ["klima", "wald", "energie"]}},
}


def _debate(language: str, n: int = 90) -> tuple[list, list, list]:
    """``n`` speeches of three parties over three years: an address term at both edges of a speech
    (and now and then inside), the party's words inside, one party's subject at its start.

    Like "Frau Präsidentin", the address terms come and go with the years (the greeting is rare in
    the last year, the yielding in the first): too uneven over the periods for an even spread.
    """
    debate = DEBATES[language]
    (greeting, yielding), parties = debate["address"], sorted(debate["topics"])
    docs, groups, dates = [], [], []
    for i in range(n):
        party, year = parties[i % 3], i * 3 // n  # 0, 1, 2: a third of the speeches each
        first = ([greeting] if year < 2 or i % 4 == 0 else []) + [f"name{i}"]
        first += [debate["lead"]] if party == parties[0] else []
        inside = [[*debate["topics"][party], f"point{i}", f"case{i % 11}"] for _ in range(4)]
        if i % 6 == 0:
            inside[1].append(greeting)
        last = [f"end{i % 7}"] + ([yielding] if year > 0 or i % 4 == 0 else [])
        docs.append([first, *inside, last])
        groups.append(party)
        dates.append(pd.Timestamp(f"{2015 + year}-06-{1 + i % 28:02}"))
    return docs, groups, dates


@pytest.mark.parametrize("language", sorted(DEBATES))
def test_address_terms_are_learned_by_where_they_stand_in_any_language(language):
    docs, groups, dates = _debate(language)
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    address = learned.table[learned.table["kind"] == "address"].set_index("formula")
    greeting, yielding = DEBATES[language]["address"]
    assert set(address.index) == {greeting, yielding} and {greeting, yielding} <= learned.terms
    # one party opens its speeches with its subject: led by the edges, but vetoed by that party
    assert DEBATES[language]["lead"] not in learned.terms
    # the parties' words stand inside the speeches
    assert not learned.terms & {w for words in DEBATES[language]["topics"].values() for w in words}
    row = address.loc[greeting]
    assert row["documents"] == 70 and row["where"].startswith("group ")  # 2 more use it only inside
    assert row["evidence"].startswith("at the edges of 68 documents, ")
    assert "none of 3 groups over- or under-uses it" in row["evidence"]


def test_an_address_term_needs_the_edges_three_times_as_often_as_the_inside():
    from newslens.measures import g2, log_ratio

    docs, groups, dates = _debate("en", 300)  # enough speeches for a 1.4-fold difference to be no chance
    for doc in docs:  # inside, about two thirds as often as at the edges: edge-led, but not three times
        for sentence in doc[1:4]:
            sentence.append("hon_friend")
    edges, inside, _ = formulas.edge_counts(docs)
    counts = ([edges["hon_friend"]], [inside["hon_friend"]], sum(edges.values()), sum(inside.values()))
    assert 0.5 < log_ratio(*counts)[0] < formulas.ADDRESS_MIN_LOG_RATIO and g2(*counts)[0] > formulas.SPREAD_G2
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    address = set(learned.table.loc[learned.table["kind"] == "address", "formula"])
    assert "hon_friend" not in address and "give_way" in address


def test_an_address_term_in_too_few_documents_is_not_learned():
    docs, groups, dates = _debate("de")
    for doc in docs[9:]:  # 9 documents: fewer than MIN_REPEATS
        doc[-1] = [t for t in doc[-1] if t != "bitte_schön"]
    assert "bitte_schön" not in formulas.learn_formulas(docs, groups, dates, _df(docs), STOP).terms


def test_keep_and_the_speeches_without_a_party_for_address_terms():
    docs, groups, dates = _debate("de")
    kept = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP, keep=["Herr_Kollege"])
    assert "herr_kollege" not in kept.terms and "bitte_schön" in kept.terms
    # speeches without a party (a minister's) greet more often: they are no party, so they veto nothing
    extra = [[["herr_kollege", "herr_kollege", f"minister{i}"], ["antwort", f"zahl{i}"], ["bitte_schön"]]
             for i in range(12)]
    learned = formulas.learn_formulas(docs + extra, groups + [MISSING_GROUP] * 12, dates + dates[:12],
                                      _df(docs + extra), STOP)
    assert "herr_kollege" in learned.terms


def test_without_two_named_groups_address_terms_skip_and_say_why():
    docs, groups, dates = _debate("de")
    alone = ["spd" if group == "spd" else MISSING_GROUP for group in groups]
    learned = formulas.learn_formulas(docs, alone, dates, _df(docs), STOP)
    assert "address" not in set(learned.table["kind"])
    assert learned.notes == ["address terms: skipped (nothing to compare: 1 named group with 10 or more documents)"]


def test_the_edges_of_a_one_sentence_document_are_that_sentence_once():
    edges, inside, edge_docs = formulas.edge_counts([[["ja", "gern"]], [["a"], [], ["b", "c"], ["d"]], []])
    assert edges == Counter({"ja": 1, "gern": 1, "a": 1, "d": 1})
    assert inside == Counter({"b": 1, "c": 1}) and edge_docs["gern"] == 1


def test_the_stage_learns_german_address_terms_from_text_and_keep_spares_them():
    docs, groups, dates = _debate("de")
    words = {"herr_kollege": "kollegin", "bitte_schön": "dankeschön"}  # one word each: no phrases needed
    # sentences start with a capital, as the sentence splitter expects
    texts = [" ".join(" ".join(words.get(t, t) for t in sentence).capitalize() + "." for sentence in doc)
             for doc in docs]
    documents = pd.DataFrame({"doc_id": [f"d{i:03}" for i in range(len(docs))], "text": texts,
                              "group": groups, "date": dates})
    settings = TokenizeParams(phrases=False, stopword_max_df=1.0)
    result = tokenize_documents(documents, settings, "de", n_jobs=1)
    address = result.formulas.table.loc[result.formulas.table["kind"] == "address", "formula"]
    assert sorted(address) == ["dankeschön", "kollegin"]
    sources = result.stopword_sources.set_index("term")["source"]
    assert sources["kollegin"] == sources["dankeschön"] == "formula (learned from the corpus)"
    assert result.stats["formulas"]["address"] == 2
    kept = tokenize_documents(documents, settings.model_copy(update={"keep": ["Kollegin"]}), "de", n_jobs=1)
    assert "kollegin" not in set(kept.stopword_sources["term"])
    assert "kollegin" in set(kept.vocabulary.loc[kept.vocabulary["kept"], "term"])


# ---------------------------------------------------------------- the stage

def _documents(n: int = 60) -> pd.DataFrame:
    docs, groups, dates = _docs(n)
    texts = [" ".join(" ".join(sentence).capitalize() + "." for sentence in doc) for doc in docs]
    return pd.DataFrame({"doc_id": [f"d{i:03}" for i in range(n)], "text": texts, "group": groups, "date": dates})


def test_the_stage_cuts_openers_only_where_they_stand_and_lists_the_spread_terms():
    documents = _documents()
    documents.loc[1, "text"] += " The sir said dear things."  # "dear" and "sir" elsewhere: kept
    result = tokenize_documents(documents, TokenizeParams(phrases=False, stopword_max_df=1.0), "en", n_jobs=1)
    by_doc = result.tokens.groupby("doc_id")["tokens"].apply(lambda s: [t for lst in s for t in lst])
    assert by_doc["d000"][:1] != ["dear"] and "faithfully" not in by_doc["d000"]
    assert {"sir", "dear"} <= set(by_doc["d001"])
    sources = result.stopword_sources.set_index("term")["source"]
    assert sources["colleague"] == "formula (learned from the corpus)"
    assert result.stats["formulas"]["opener"] >= 1 and result.stats["formulas"]["closer"] >= 1
    assert result.stats["dropped"]["opener or closer"] > 0


def test_keep_and_formulas_off_in_the_stage():
    documents = _documents()
    settings = TokenizeParams(phrases=False, stopword_max_df=1.0, keep=["colleague"])
    kept = tokenize_documents(documents, settings, "en", n_jobs=1)
    assert "colleague" not in set(kept.stopword_sources["term"])
    settings = TokenizeParams(phrases=False, stopword_max_df=1.0, formulas=False)
    off = tokenize_documents(documents, settings, "en", n_jobs=1)
    assert off.formulas.table.empty and off.formulas.notes == ["off (tokenize.formulas is false)"]
    assert "colleague" not in set(off.stopword_sources["term"])
    assert "opener or closer" not in off.stats["dropped"]


def test_a_single_article_cut_into_sentences_keeps_its_words():
    sentences = " ".join(f"Xi and Lukashenko spoke about trade number {i}." for i in range(12))
    documents = pd.DataFrame({"doc_id": [f"s{i}" for i in range(12)], "text": sentences.split(". "),
                              "group": "seed", "date": pd.Timestamp("2022-01-10")})
    result = tokenize_documents(documents, TokenizeParams(phrases=False, stopword_max_df=1.0), "en", n_jobs=1)
    assert result.formulas.table.empty and all("skipped" in n for n in result.formulas.notes)
    assert "trade" in set(result.vocabulary.loc[result.vocabulary["kept"], "term"])


# ---------------------------------------------------------------- params

BASE = {"title": "T", "sources": [{"path": "data/raw/seed/"}]}


@pytest.mark.parametrize("tokenize, message", [
    ({"formulas": "sometimes"}, "formulas"),
    ({"keep": "colleague"}, "keep"),
    ({"keep": [""]}, "keep"),
    ({"keep": ["  "]}, "blank"),
    ({"keep": ["Hon"], "extra_stopwords": ["hon"]}, "both name 'hon'"),
    ({"formula": True}, "formula"),
])
def test_bad_formula_params_are_refused(tokenize, message):
    with pytest.raises(Exception, match=message):
        validate_params({**BASE, "tokenize": tokenize})


def test_formula_params_default_on():
    params = validate_params(BASE)
    assert params.tokenize.formulas is True and params.tokenize.keep == []


def test_a_one_token_opener_must_stand_first_in_a_quarter_of_its_documents():
    docs, groups, dates = _docs()
    for i, doc in enumerate(docs):
        doc[1] = [*doc[1], "president"]  # in every document ...
        if i < 12:
            doc[0] = ["president", *doc[0]]  # ... first in 12 of 60: a content word, not a formula
        elif i < 24:
            doc[0] = ["order", *doc[0]]  # first in 12 and nowhere else: the chair's call
    learned = formulas.learn_formulas(docs, groups, dates, _df(docs), STOP)
    assert ("order",) in learned.openers and ("president",) not in learned.openers


_SENTENCES = st.lists(st.lists(st.sampled_from(["dear", "sir", "xi_jinping", "2017", "yours", "faithfully", "u.s."]),
                               max_size=4), max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(_SENTENCES, max_size=6))
def test_token_docs_give_the_edges_of_split_documents(docs):
    """TokenDocs.edges (only the edge sentences split) gives what the plain walk over token lists gives."""
    from newslens.text.passes import SEP, TokenDocs

    normalized = [[SEP.join(sentence) for sentence in doc] for doc in docs]
    assert list(formulas.edge_sentences(TokenDocs(normalized))) == list(formulas.edge_sentences(docs))
    assert list(formulas.edge_sentences(docs)) == [([s for s in doc if s][0], [s for s in doc if s][-1])
                                                   for doc in docs if any(doc)]
