"""The summary's sentences and tables: the run's own words, any number of groups, no empty claims."""

from __future__ import annotations

import pandas as pd
import pytest

from newslens.analysis.keywords import KEYNESS_COLUMNS
from newslens.report import distinctive, summary
from newslens.wording import Words

SPEECH = Words("speech", "party")
ARTICLE = Words("article", "outlet")


def _outputs(groups: list, dates: list | None = None, statuses: tuple[str, ...] = (), **tables) -> summary.Outputs:
    n = len(groups)
    documents = pd.DataFrame({
        "doc_id": [f"d{i}" for i in range(n)], "parent_id": [f"d{i}" for i in range(n)],
        "group": pd.Series(groups, dtype=object), "title": [f"Title {i}" for i in range(n)],
        "date": pd.to_datetime(dates if dates is not None else [None] * n),
    })
    log = pd.DataFrame({"status": ["ingested"] * n + list(statuses)})
    empty = pd.DataFrame()
    values = {"documents": documents, "log": log, "token_stats": {}, "focus_terms": empty,
              "similar": empty, "keyness": empty, "group_sizes": empty, "topics": empty, "topic_periods": empty,
              "k_choice": {}, "vocabulary": empty, "corpus_terms": empty, "focus_topics": empty} | tables
    return summary.Outputs(**values)


def _topics(prevalences: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"topic": range(1, len(prevalences) + 1), "label": [f"t{i}" for i in range(len(prevalences))],
                         "prevalence": prevalences, "top_terms": "a, b"})


# ---------------------------------------------------------------- the corpus sentence

@pytest.mark.parametrize("missing", [None, "", "(no group)", "(none)"])
def test_units_without_a_group_are_counted_apart_never_named_as_a_group(missing):
    out = _outputs(["Con"] * 5 + ["Lab"] * 3 + [missing] * 2)
    sentence = summary.corpus_sentence(out, SPEECH)
    assert sentence.startswith("The corpus holds 10 speeches from 2 parties. They are Con (5 speeches) and Lab (3); "
                               "2 speeches have no party.")
    assert "(none)" not in sentence and "(no group)" not in sentence


def test_one_group_is_named_and_not_counted_in_the_plural():
    sentence = summary.corpus_sentence(_outputs(["seed"] * 19), Words("sentence"))
    assert sentence.startswith("The corpus holds 19 sentences, all from one group, seed.")
    assert "group(s)" not in sentence and "largest" not in sentence


def test_three_hundred_groups_name_the_three_largest():
    groups = [f"account{i:03d}" for i in range(300) for _ in range(1 + (i == 7) * 5 + (i == 42) * 3)]
    sentence = summary.corpus_sentence(_outputs(groups), Words("post", "account"))
    assert ("from 300 accounts. The largest of the 300 are account007 (6 posts), account042 (4) "
            "and account000 (1).") in sentence


def test_no_group_at_all_says_so():
    assert "308 speeches, and no speech names its party." in summary.corpus_sentence(_outputs([None] * 308), SPEECH)


def test_one_group_and_some_units_without_one_do_not_say_all():
    sentence = summary.corpus_sentence(_outputs(["Con", "Con", None]), SPEECH)
    assert sentence.startswith("The corpus holds 3 speeches, from one party, Con; 1 speech has no party.")


def test_three_groups_are_all_named_not_called_the_largest():
    sentence = summary.corpus_sentence(_outputs(["Con", "Con", "Lab", "SNP"]), SPEECH)
    assert "from 3 parties. They are Con (2 speeches), Lab (1) and SNP (1)." in sentence


def test_one_unit_is_singular_everywhere():
    sentence = summary.corpus_sentence(_outputs(["BBC"], ["2017-02-01"], ("skipped", "duplicate")), ARTICLE)
    assert sentence == ("The corpus holds 1 article, all from one outlet, BBC. It is dated 1 February 2017. "
                        "1 exact duplicate was merged and 1 input was skipped "
                        "(the ingest report lists each with its reason).")


@pytest.mark.parametrize("time_view, ending", [(True, "No speech carries a date, so this summary has no view over time."),
                                               (False, "No speech carries a date.")])
def test_a_corpus_without_dates_says_so_in_the_corpus_section(time_view, ending):
    sentence = summary.corpus_sentence(_outputs(["Con", "Lab"]), SPEECH, time_view=time_view)
    assert ending in sentence
    assert "No exact duplicate was found and no input was skipped." in sentence  # nothing listed: no pointer


def test_partly_dated_corpus_counts_the_undated():
    out = _outputs(["Con"] * 3, ["1990-01-05", "2019-10-21", None])
    assert "2 speeches are dated, from 5 January 1990 to 21 October 2019; 1 is not." in summary.corpus_sentence(out, SPEECH)


# ---------------------------------------------------------------- focus sentences

def test_a_focus_that_is_the_whole_run_claims_no_comparison_with_other_units():
    focus_terms = pd.DataFrame({"term": ["belarus", "china"], "score": [0.3, 0.2], "share_elsewhere": [0.0, 0.0]})
    out = _outputs(["seed"] * 3, focus_terms=focus_terms,
                   similar=pd.DataFrame(columns=["rank", "title", "group", "date", "similarity"]))
    ids = ["d0", "d1", "d2"]
    words = Words("sentence")
    keywords = summary.keywords_sentence(out, {"belarus": "Belarus"}, words, ids)
    assert keywords.endswith("not terms that distinguish it: Belarus and china.")
    assert "set the focus document apart" not in keywords and "fewer than 1%" not in keywords
    assert "no other sentence is there to set it apart from" in keywords
    assert "no other sentence to compare" in summary.similar_sentence(out, words, ids)


def test_focus_sentences_name_the_unit_and_count_in_the_right_number():
    focus_terms = pd.DataFrame({"term": ["a", "b"], "score": [0.3, 0.2], "share_elsewhere": [0.005, 0.2]})
    similar = pd.DataFrame({"rank": [1, 2, 3], "title": ["One", "Two", "Three"], "group": ["BBC", "BBC", None],
                            "date": pd.NaT, "similarity": [0.51, 0.4, 0.3]})
    out = _outputs(["BBC", "CNN", "BBC", None], focus_terms=focus_terms, similar=similar)
    assert summary.keywords_sentence(out, {}, ARTICLE, ["d0"]).endswith(
        "1 of its top 2 terms appears in fewer than 1% of the other articles.")
    assert summary.similar_sentence(out, ARTICLE, ["d0"]) == (
        "Its closest neighbour is “One” (BBC, similarity 0.51). "
        "Of the 3 most similar articles, 2 from BBC and 1 with no outlet.")


# ---------------------------------------------------------------- how many topics a table shows

@pytest.mark.parametrize("k", [2, 9, 15])
def test_up_to_fifteen_topics_all_are_shown(k):
    shown, note = summary.topics_shown(_topics([1 / k] * k))
    assert len(shown) == k and note is None


def test_many_topics_show_the_first_eighty_percent_of_the_weight():
    prevalences = [0.4, 0.3, 0.1] + [0.2 / 17] * 17  # 80% in 3 topics: the floor of 10 holds
    shown, note = summary.topics_shown(_topics(prevalences))
    assert len(shown) == 10
    assert note == "The 10 smaller topics (12% of the weight) are in the topics report."


def test_flat_topics_show_as_many_as_eighty_percent_needs():
    shown, note = summary.topics_shown(_topics([1 / 18] * 18))
    assert len(shown) == 15 and shown["topic"].tolist() == list(range(1, 16))
    assert note == "The 3 smaller topics (17% of the weight) are in the topics report."


def test_a_summary_table_shows_at_most_fifteen_topics():
    shown, note = summary.topics_shown(_topics([1 / 30] * 30))
    assert len(shown) == 15 and shown["topic"].tolist() == list(range(1, 16))
    assert note == "The 15 smaller topics (50% of the weight) are in the topics report."


def test_rounded_prevalences_are_shares_of_their_own_sum():
    # topics.csv rounds prevalence to 3 decimals: 20 topics of 0.05 may sum to 0.98 or 1.02.
    for each in (0.049, 0.051):
        shown, note = summary.topics_shown(_topics([each] * 20))
        assert len(shown) == 15
        assert note == "The 5 smaller topics (25% of the weight) are in the topics report."


# ---------------------------------------------------------------- groups compared

def _keyness(groups: list[str], distinctive: bool = True) -> pd.DataFrame:
    return pd.DataFrame([{"by": "group", "group": g, "term": f"{g.lower()}_{r}", "direction": "over", "rank": r,
                          "log_ratio": 1.5, "log_ratio_low": 0.5, "log_ratio_high": 2.25, "distinctive": distinctive}
                         for g in groups for r in (1, 2)])


def _sizes(documents: list, small: tuple = ()) -> pd.DataFrame:
    counts = pd.Series([g for g in documents if g is not None]).value_counts()
    return pd.DataFrame([{"by": "group", "group": g, "n_docs": int(n), "n_tokens": 1000 * int(n),
                          "compared": g not in small, "reason": "1 document (fewer than 5)" if g in small else ""}
                         for g, n in sorted(counts.items())])


def _lines(groups: list, keyness: pd.DataFrame, words: Words = SPEECH, small: tuple = ()):
    out = _outputs(groups, keyness=keyness)
    return distinctive.group_lines(out.keyness, _sizes(groups, small), out.documents, {}, words)


def test_group_table_gives_sizes_and_distinctive_terms_with_their_intervals():
    table, note = _lines(["Con", "Con", "Lab", "SNP", None], _keyness(["Con", "Lab"]))
    assert table.columns.tolist() == ["party", "speeches", "distinctive terms (log ratio; 95% interval)"]
    assert table["party"].tolist() == ["Con", "Lab", "SNP"] and table["speeches"].tolist() == [2, 1, 1]
    assert table.iloc[0, 2] == "con_1 (+1.5; +0.5 to +2.2); con_2 (+1.5; +0.5 to +2.2)"
    assert table.iloc[2, 2] == distinctive.NONE_DISTINCTIVE  # compared, but nothing holds across its units
    assert note is None


def test_a_term_that_is_not_distinctive_is_not_listed():
    table, _ = _lines(["Con", "Lab"], _keyness(["Con", "Lab"], distinctive=False))
    assert (table.iloc[:, 2] == distinctive.NONE_DISTINCTIVE).all()


def test_the_units_without_a_group_are_listed_last_and_not_counted_as_a_named_group():
    groups = ["Con"] * 6 + ["Lab"] * 6 + [None] * 6
    keyness = _keyness(["Con", "Lab", "(no group)"])
    out = _outputs(groups, keyness=keyness)
    out.documents["group"] = out.documents["group"].fillna("(no group)")
    table, note = distinctive.group_lines(out.keyness, _sizes(out.documents["group"].tolist()), out.documents, {}, SPEECH)
    assert table["party"].tolist() == ["Con", "Lab", "(no group)"] and note is None


def test_groups_too_small_are_named_with_their_size_and_never_listed():
    groups = ["Con"] * 6 + ["Lab"] * 6 + ["AfD"]
    table, note = _lines(groups, _keyness(["Con", "Lab"]), small=("AfD",))
    assert table["party"].tolist() == ["Con", "Lab"]
    assert note == ("Too small to compare (fewer than the keywords stage's minimum of speeches or tokens): "
                    "AfD (1 speech).")


def test_no_two_groups_big_enough_gives_an_empty_table_and_the_note():
    table, note = _lines(["Con"] * 6 + ["AfD"], pd.DataFrame(columns=KEYNESS_COLUMNS),
                         small=("AfD",))
    assert table.empty and note.startswith("Too small to compare")


def test_group_table_lists_the_largest_groups_when_there_are_hundreds():
    names = [f"g{i:03d}" for i in range(300)]
    table, note = _lines([n for i, n in enumerate(names) for _ in range(1 + (i >= 290))], _keyness(names),
                         Words("post", "account"))
    assert len(table) == distinctive.GROUPS_SHOWN and set(names[290:]) <= set(table["account"])
    assert note == "The 15 largest of the 300 compared accounts are listed; the keywords report has them all."


@pytest.mark.parametrize("n", [16, distinctive.ALL_GROUPS_UP_TO])
def test_up_to_twenty_groups_all_are_listed(n):
    names = [f"g{i:02d}" for i in range(n)]
    table, note = _lines(names, _keyness(names))
    assert table["party"].tolist() == names and note is None


def test_groups_are_listed_alphabetically_whatever_their_case():
    names = ["wsjhealth", "KaiserHealthNews", "bbchealth"]
    table, _ = _lines(names, _keyness(names), Words("post", "account"))
    assert table["account"].tolist() == ["bbchealth", "KaiserHealthNews", "wsjhealth"]


def test_a_single_group_gives_an_empty_table():
    keyness = pd.DataFrame(columns=KEYNESS_COLUMNS)  # as keywords writes it
    table, note = _lines(["seed"], keyness)
    assert table.empty and note is None


# ---------------------------------------------------------------- the run's limits in the summary

def _news_like_limits(focus_date: str | None = "2022-01-10"):
    """A corpus like the news run's, its limits measured: China Daily alone until February 2017."""
    from newslens.analysis import limits

    dates = (["2016-04-19"] + ["2016-12-05"] * 26 + ["2017-01-20"] * 2
             + ["2017-02-10", "2017-03-10", "2017-03-30"] * 100)
    groups = ["CNN"] + ["China Daily"] * 26 + ["CNN", "DW"] + ["CNN", "DW", "TASS"] * 100
    if focus_date:
        dates, groups = [focus_date, *dates], ["seed", *groups]
    out = _outputs(groups, dates)
    similar = pd.DataFrame({"rank": [1, 2], "title": ["Belarus and Russia", "Brexit and the Irish"],
                            "group": ["TASS", "China Daily"], "date": pd.to_datetime(["2017-03-20", "2017-01-27"]),
                            "similarity": [0.302125, 0.163209]})
    found = limits.limits(out.documents, ["d0"] if focus_date else [], sparse_rows(len(dates)),
                          out.documents["doc_id"].tolist(), similar if focus_date else similar.iloc[:0])
    found["similarity"] = found["similarity"] | {"floor": 0.24, "level": 0.999, "one_in": 1000, "above": 1}  # as news
    return summary.Outputs(**{**out.__dict__, "similar": similar, "limits": found})


def sparse_rows(n: int):
    from scipy import sparse

    return sparse.identity(n, format="csr")


def test_a_focus_after_its_corpus_is_said_with_the_gap_and_no_span_that_hides_it():
    out = _news_like_limits()
    said = summary.corpus_sentence(out, ARTICLE, noun="article")
    assert ("The focus article is dated 10 January 2022, 4 years and 9 months after the latest other article "
            "(30 March 2017); the 329 other articles date from 19 April 2016 to 30 March 2017, 91% of them from "
            "February and March 2017.") in said
    assert "to 10 January 2022" not in said and "All are dated" not in said
    # before February, the two January articles of CNN and DW bring China Daily's share under 90%
    assert ("Before January 2017, China Daily is nearly the only outlet (26 of the 27 articles); 99.7% of the other "
            "outlets' articles date from January 2017 on.") in said


def test_the_distinctive_terms_say_what_a_focus_from_another_time_implies():
    out = _news_like_limits()
    out.focus_terms = pd.DataFrame({"term": ["lukashenko"], "score": [0.3], "share_elsewhere": [0.0]})
    said = summary.keywords_sentence(out, {"lukashenko": "Lukashenko"}, ARTICLE, ["d0"])
    assert said.endswith("The focus article is 4 years and 9 months newer than every other article, so a term can "
                         "set it apart because it is new since March 2017 (a name, an event, a word of its time) "
                         "rather than because the article stresses it.")


def test_the_similar_articles_say_how_many_clear_the_floor_and_the_table_marks_them():
    out = _news_like_limits()
    said = summary.similar_sentence(out, ARTICLE, ["d0"])
    assert said.endswith("Only 1 of the 2 is closer than chance: above 0.240, a similarity that only 1 in 1,000 "
                         "pairs of articles of this corpus reach (marked in the table). The others are no "
                         "closer than two articles picked at random can be.")
    assert summary.similar_table(out, ARTICLE)["closer than chance"].tolist() == ["yes", "no"]
    out.limits["similarity"]["above"] = 0
    assert "None of them is closer than chance: none is above 0.240" in summary.similar_sentence(out, ARTICLE, ["d0"])


def test_a_concentrated_corpus_without_a_focus_says_where_most_units_fall():
    out = _news_like_limits(focus_date=None)
    assert ("All are dated from 19 April 2016 to 30 March 2017, 91% of them from February and March 2017."
            in summary.corpus_sentence(out, ARTICLE))


def test_a_run_built_before_the_limits_keeps_its_sentences():
    out = _news_like_limits()
    out.limits = None
    said = summary.corpus_sentence(out, ARTICLE, noun="article")
    assert "All are dated from 19 April 2016 to 10 January 2022." in said and "focus" not in said
    assert "closer than chance" not in summary.similar_sentence(out, ARTICLE, ["d0"])
    assert "closer than chance" not in summary.similar_table(out, ARTICLE)


def test_the_topics_sentence_says_which_topics_are_mixed_or_incoherent():
    topics = pd.DataFrame({"topic": [1, 2, 3], "label": ["a (mixed)", "b (incoherent)", "c"],
                           "prevalence": [0.5, 0.3, 0.2], "top_terms": "x, y", "mixed": [True, False, False],
                           "incoherent": [False, True, False]})
    said = summary.topics_sentence(_outputs(["A"], topics=topics, k_choice={"reason": "k=3 was given"}))
    assert "1 topic is marked mixed" in said
    assert "1 topic is marked incoherent: its top terms appear together less often than chance" in said
    plain = summary.topics_sentence(_outputs(["A"], topics=topics.drop(columns=["mixed", "incoherent"]),
                                             k_choice={"reason": "k=3 was given"}))
    assert "marked" not in plain  # topic tables written before the marks existed
