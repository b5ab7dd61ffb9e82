"""The keyness explorer's data: counts that agree with keyness.py, capped terms and groups, KWIC lines
that equal kwic.kwic's, inert JSON, the same bytes on every build."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from newslens.report import keyness_explorer as kx
from newslens.analysis import kwic
from newslens.report import views
from newslens.analysis import keyness_data
from newslens.analysis.keyness import keyness as keyness_table
from newslens.analysis.keywords import group_keyness
from newslens.analysis.tfidf import fit_tfidf
from newslens.analysis.keyness_uncertainty import group_sizes
from newslens.params import KeywordsParams
from newslens.text.words import words

TEXTS = {  # doc_id: (group, text)
    "a1": ("Outlet A", "Trade talks began in Minsk. The talks on trade ended. The United Nations watched the talks."),
    "a2": ("Outlet A", "Trade grew. Officials praised trade and talks on trade with the United Nations."),
    "a3": ("Outlet A", "The trade deal and the talks: trade, trade and more trade."),
    "b1": ("Outlet B", "War and peace. The war ended in talks. Peace talks and war."),
    "b2": ("Outlet B", "The war went on. Peace was far. United. Nations of the war watched."),
    "b3": ("Outlet B", "Peace came after war. War talks failed, then peace talks held."),
    "c1": ("Outlet C", "Weather was fine. Weather and trade and peace in the United Nations."),
    "c2": ("Outlet C", "Fine weather, fine trade. The weather held for the talks."),
}
PHRASES = {("united", "nations"): "united_nations"}


def analyzer_for(texts: dict[str, str]):
    """Lowercase words, possessive 's dropped, 'united nations' joined (a stand-in for the run's tokens)."""
    def analyze(doc_id: str) -> list[str]:
        tokens, i, found = [], 0, [w.lower() for w in words(texts[doc_id])]
        while i < len(found):
            pair = tuple(found[i:i + 2])
            if pair in PHRASES:
                tokens.append(PHRASES[pair])
                i += 2
            else:
                tokens.append(found[i])
                i += 1
        return tokens
    return analyze


def corpus(groups: dict[str, str] | None = None):
    texts = {d: t for d, (_, t) in TEXTS.items()}
    documents = pd.DataFrame({"doc_id": list(TEXTS), "text": list(texts.values()),
                              "title": [f"Title of {d}" for d in TEXTS],
                              "group": [(groups or {}).get(d, g) for d, (g, _) in TEXTS.items()]})
    settings = KeywordsParams(min_df=1, max_df=1.0, keyness_min_freq=2, keyness_top_n=5, kwic_window=3,
                              period=None, keyness_min_documents=2, keyness_min_tokens=1)
    model = fit_tfidf(list(TEXTS), analyzer_for(texts), settings)
    return documents, model, settings


def build(budget: keyness_data.Budget | None = None, groups=None, normalize=str.lower):
    budget = budget or keyness_data.Budget()
    documents, model, settings = corpus(groups)
    table, sizes = group_keyness(model, documents, settings)  # what the stage computes
    display = {"united_nations": "united nations"}
    data = keyness_data.explorer_data(model, documents, table, settings, display, normalize, budget, sizes=sizes)
    return data, table, model


def test_a_group_too_small_is_not_listed_but_counts_among_the_others():
    data, table, model = build(groups={"c2": "Outlet D"})  # D: one document, below the minimum of 2
    assert data["groups"] == ["Outlet A", "Outlet B"] and "Outlet D" not in set(table["group"])
    assert [row[0] for row in data["too_small"]] == ["Outlet C", "Outlet D"]  # C is down to one too
    assert data["too_small"][1][1:] == [1, int(model.counts[model.doc_ids.index("c2")].sum())]
    assert data["all_tokens"] == int(model.counts.sum())  # "all the others" still counts them


def test_document_counts_and_intervals_are_the_static_tables():
    data, table, model = build()
    column = {t: i for i, t in enumerate(data["terms"])}
    assert data["documents"] == [3, 3, 2]
    trade = column["trade"]
    assert data["doc_counts"][0][trade] == 3 and data["doc_counts"][1][trade] == 0
    listed = table[table["group"] == "Outlet A"]
    for row in listed.itertuples():
        low, high = data["intervals"][0][str(column[row.term])]
        assert (low, high) == (round(row.log_ratio_low * 100), round(row.log_ratio_high * 100))


def test_counts_agree_with_keyness_one_against_the_rest():
    data, table, model = build()
    assert data["groups"] == ["Outlet A", "Outlet B", "Outlet C"]
    column = {t: i for i, t in enumerate(data["terms"])}
    full = keyness_table(model.counts, pd.Series([TEXTS[d][0] for d in model.doc_ids]), model.terms, min_freq=0)
    assert len(full) > 20
    for row in full.itertuples():
        g, t = data["groups"].index(row.group), column[row.term]
        a = data["counts"][g][t]
        assert (a, data["term_totals"][t] - a) == (row.freq_target, row.freq_reference), row
    assert data["tokens"] == [int(model.counts[[i for i, d in enumerate(model.doc_ids) if TEXTS[d][0] == g]].sum())
                              for g in data["groups"]]
    assert data["all_tokens"] == int(model.counts.sum())
    assert data["display"][column["united_nations"]] == "united nations" and data["display"][column["trade"]] == ""


def test_json_holds_only_ints_and_strings():
    data, _, _ = build()

    def kinds(value):
        if isinstance(value, dict):
            return set().union(*(kinds(v) for v in value.values())) if value else set()
        if isinstance(value, list):
            return set().union(*(kinds(v) for v in value)) if value else set()
        return {type(value)}
    assert kinds(data) <= {int, str}


def test_select_terms_budget_and_required_terms():
    rng = np.random.default_rng(0)
    by_group = rng.integers(0, 50, size=(4, 300))
    terms = [f"t{i:03d}" for i in range(300)]
    chosen = keyness_data.select_terms(by_group, terms, ["t299", "not-a-term"], keyness_data.Budget(cells=100, min_terms=5))
    totals = by_group.sum(axis=0)
    frequent = np.lexsort((np.array(terms, dtype=object), -totals))[:25]
    assert set(chosen) == set(frequent) | {299}  # 100 cells / 4 groups, and the required term
    assert list(totals[chosen]) == sorted(totals[chosen], reverse=True)  # by frequency
    assert len(keyness_data.select_terms(by_group, terms, [], keyness_data.Budget(cells=100, min_terms=60))) == 60
    assert len(keyness_data.select_terms(by_group, terms, [], keyness_data.Budget(cells=10**6, min_terms=5))) == 300


def test_every_groups_top_keyness_terms_are_carried():
    data, table, _ = build(keyness_data.Budget(cells=3, min_terms=1))
    assert set(table["term"]) <= set(data["terms"])
    assert len(data["terms"]) == len(set(table["term"]) | {data["terms"][0]})


@pytest.mark.parametrize("term", ["talks", "trade", "united_nations", "peace"])
def test_kwic_lines_equal_kwic_rows(term):
    documents, model, settings = corpus()
    texts = [(d, t, ["Outlet A", "Outlet B", "Outlet C"].index(g))
             for d, t, g in zip(documents["doc_id"], documents["text"], documents["group"])]
    usage = np.ones((3, 1), dtype=np.int64)
    lines = keyness_data.kwic_lines(texts, [term], usage, normalize=str.lower, window=3, per_term=1000)
    expected = kwic.kwic(dict(zip(documents["doc_id"], documents["text"])), term, window=3)
    got = sorted(row[:5] for row in lines[term])
    assert got == sorted(expected.itertuples(index=False, name=None)) and len(got) >= 3
    if term == "united_nations":  # "United. Nations" spans two sentences: no match, as in kwic()
        assert "b2" not in {row[0] for row in got}


def test_kwic_lines_with_lemmas_spread_over_groups():
    documents, model, settings = corpus()
    lemma = lambda word: word[:-1] if word.endswith("s") else word
    texts = [(d, t, ["Outlet A", "Outlet B", "Outlet C"].index(g))
             for d, t, g in zip(documents["doc_id"], documents["text"], documents["group"])]
    full = keyness_data.kwic_lines(texts, ["talk"], np.ones((3, 1)), normalize=lemma, window=2, per_term=1000)["talk"]
    expected = kwic.kwic(dict(zip(documents["doc_id"], documents["text"])), "talk", window=2, normalize=lemma)
    assert sorted(r[:5] for r in full) == sorted(expected.itertuples(index=False, name=None))
    usage = np.array([[5], [9], [1]])  # Outlet B uses it most, then A, then C
    spread = keyness_data.kwic_lines(texts, ["talk"], usage, normalize=lemma, window=2, per_term=4)["talk"]
    assert [r[5] for r in spread] == [1, 0, 2, 1]
    assert spread[0][:5] == next(r[:5] for r in full if r[5] == 1)  # each group's lines in document order
    one = keyness_data.kwic_lines(texts, ["talk"], usage, normalize=lemma, window=2, per_term=100, per_document=1)["talk"]
    assert len({r[0] for r in one}) == len(one) == len({r[0] for r in full})  # one line from every document


def test_kwic_budget_keeps_the_most_distinctive_terms_first():
    data, table, _ = build()
    small, _, _ = build(keyness_data.Budget(kwic_bytes=700, frequent_terms=0))
    assert 0 < len(small["kwic"]) < len(data["kwic"])
    first = table.sort_values(["rank", "direction", "group", "term"], kind="mergesort")["term"]
    assert list(small["kwic"]) == sorted(small["kwic"])  # a dict: sorted keys in the JSON
    assert set(small["kwic"]) == set(list(dict.fromkeys(first))[:len(small["kwic"])])
    size = sum(len(json.dumps(lines)) for lines in small["kwic"].values())
    assert size <= 700
    for lines in data["kwic"].values():
        assert len(lines) <= data["lines_per_term"]
        assert all(data["docs"][line[0]][0].startswith("Title of ") for line in lines)  # titles, not ids
    cover = small["kwic_cover"]
    assert cover["named"] == len(small["kwic"]) < cover["named_of"] and cover["frequent"] == 0


def test_the_whole_data_stays_within_its_bytes_by_leaving_out_the_lines_tried_last():
    from newslens.report.views import json_data

    data, _, _ = build()
    whole = len(json_data(data).encode("utf-8"))
    without_lines = len(json_data({**data, "kwic": {}, "docs": []}).encode("utf-8"))
    limit = (whole + without_lines) // 2
    fitted, _, _ = build(keyness_data.Budget(data_bytes=limit))
    assert len(json_data(fitted).encode("utf-8")) <= limit < whole
    assert 0 < len(fitted["kwic"]) < len(data["kwic"])
    assert {k: v for k, v in fitted.items() if k not in ("kwic", "docs", "kwic_cover")} == \
        {k: v for k, v in data.items() if k not in ("kwic", "docs", "kwic_cover")}  # only lines are left out
    for term, lines in fitted["kwic"].items():  # the lines kept are the whole data's, their documents too
        assert [fitted["docs"][line[0]] for line in lines] == [data["docs"][line[0]] for line in data["kwic"][term]]
        assert [line[1:] for line in lines] == [line[1:] for line in data["kwic"][term]]
    assert fitted["kwic_cover"]["named"] < data["kwic_cover"]["named"]
    assert build(keyness_data.Budget(data_bytes=whole))[0] == data  # at its size: nothing left out


def test_one_group_gives_no_explorer():
    data, _, _ = build(groups={d: "Only" for d in TEXTS})
    assert data is None


def test_more_than_max_groups_keeps_the_largest():
    groups = {d: f"G{i // 2}" for i, d in enumerate(TEXTS)}  # 4 groups of two documents
    data, _, model = build(keyness_data.Budget(max_groups=3), groups=groups)
    tokens = {f"G{g}": int(model.counts[2 * g:2 * g + 2].sum()) for g in range(4)}
    largest = sorted(sorted(tokens), key=lambda g: -tokens[g])[:3]
    assert data["groups"] == sorted(largest) and data["group_count"] == 4
    assert data["all_tokens"] == sum(tokens.values())  # "all the others" counts every group
    assert {data["docs"][line[0]][2] for lines in data["kwic"].values() for line in lines} <= {0, 1, 2}


def test_fifty_synthetic_groups():
    rng = np.random.default_rng(1)
    vocabulary = [f"w{i:03d}" for i in range(400)]
    rows = []
    for g in range(60):
        for k in range(3):
            picked = rng.choice(vocabulary, size=20 + g)
            rows.append({"doc_id": f"g{g:02d}-{k}", "group": f"Group {g:02d}", "title": "",
                         "text": " ".join(picked)})
    documents = pd.DataFrame(rows)
    texts = dict(zip(documents["doc_id"], documents["text"]))
    settings = KeywordsParams(min_df=1, max_df=1.0, keyness_min_freq=2)
    model = fit_tfidf(list(texts), lambda d: texts[d].split(), settings)
    table = keyness_table(model.counts, documents["group"], model.terms, top_n=10).assign(by="group")
    sizes = group_sizes(documents["group"], np.asarray(model.counts.sum(axis=1)).ravel(), min_documents=1,
                        min_tokens=1).assign(by="group")
    data = keyness_data.explorer_data(model, documents, table, settings, {}, str.lower, sizes=sizes)
    assert len(data["groups"]) == 50 and data["group_count"] == 60
    assert data["groups"] == [f"Group {g:02d}" for g in range(10, 60)]  # the largest: longer documents
    assert len(data["terms"]) == len(vocabulary) and all(len(row) == 400 for row in data["counts"])
    assert data["docs"] and all(re.fullmatch(r"g\d\d-\d", doc[0]) and doc[1] == "" for doc in data["docs"])  # untitled: the id


HOSTILE = "</script><script>alert(1)</script> <img src=x onerror=alert(1)> \u2028 \u202eevil <!-- x"


def test_hostile_names_and_contexts_stay_inert():
    groups = {d: HOSTILE if d.startswith("a") else "Outlet B" for d in TEXTS}
    data, _, _ = build(groups=groups)
    data["docs"][0][0] = HOSTILE
    markup = kx.explorer_html(data)
    body = markup[markup.index('data-role="data">') + len('data-role="data">'):-len("</script></div>")]
    assert "<" not in body and ">" not in body and "\u2028" not in body and "&" not in body
    assert json.loads(body)["groups"][0] == HOSTILE  # the text arrives intact
    assert markup.count("</script") == 1 and "<!--" not in markup and "<img" not in markup


def test_two_builds_give_the_same_bytes():
    first, _, _ = build()
    again, _, _ = build()
    assert kx.explorer_html(first) == kx.explorer_html(again)
    assert "needs JavaScript" in kx.explorer_html(first)


def test_script_writes_text_only():
    source = (views.TEMPLATES_DIR / "keyness-explorer.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
                         r"\.style\s*=|setAttribute\(\s*[\"']style", source)


def test_every_line_names_its_documents_group_title_and_date():
    data, _, _ = build()
    documents, _, _ = corpus()
    by_id = documents.set_index("doc_id")
    dated = documents.assign(date=pd.to_datetime(["2017-01-0%d" % i for i in range(1, 9)]))
    again = keyness_data._documents(dated, ["a2", "c1"], {"Outlet A": 0, "Outlet C": 2})
    assert again == [["Title of a2", "2017-01-02", 0], ["Title of c1", "2017-01-07", 2]]
    seen = 0
    column = {t: i for i, t in enumerate(data["terms"])}
    for term, lines in data["kwic"].items():
        for doc, _, keyword, _ in lines:
            written = keyword or data["display"][column[term]] or term  # "": the display form
            title, date, group = data["docs"][doc]
            doc_id = title.removeprefix("Title of ")
            assert by_id.loc[doc_id, "group"] == data["groups"][group] and date == ""  # no dates here
            assert written.lower() in by_id.loc[doc_id, "text"].lower()
            seen += 1 if keyword else 0
    assert seen < sum(len(lines) for lines in data["kwic"].values())  # most keywords are written as the term


def test_kwic_for_every_named_term_then_the_most_frequent():
    documents, model, settings = corpus()
    table, sizes = group_keyness(model, documents, settings)
    data = keyness_data.explorer_data(model, documents, table, settings, {}, str.lower, sizes=sizes,
                                      named=["weather", "fine", "not-in-the-vocabulary"])
    assert {"weather", "fine"} <= set(data["kwic"]) and "not-in-the-vocabulary" not in data["terms"]
    cover = data["kwic_cover"]
    assert cover["named"] == cover["named_of"] and cover["frequent"] == cover["frequent_of"]
    assert set(data["kwic"]) == {t for t in data["terms"] if t in data["kwic"]}
    assert all(len(lines) <= 3 for lines in data["kwic"].values())  # up to 3 lines each by default
    # a tiny budget: named terms first, in their order, and the count of frequent terms tried is 0
    small = keyness_data.explorer_data(model, documents, table, settings, {}, str.lower,
                                       keyness_data.Budget(kwic_bytes=400, frequent_terms=0), sizes=sizes, named=["weather"])
    assert 0 < small["kwic_cover"]["named"] < small["kwic_cover"]["named_of"]
    assert small["kwic_cover"]["frequent"] == 0


def test_surface_forms_map_inflected_words_to_their_lemma():
    lemma = {"sanctions": "sanction", "sanctioned": "sanction", "talks": "talk", "russia's": "russia"}.get
    texts = ["New Sanctions were imposed; Russia's talks went on.", "He sanctioned it. SANCTIONS!", None,
             "sanction talk"]
    forms = keyness_data.surface_forms(texts, ["sanction", "russia", "talk"], lambda w: lemma(w, w))
    assert forms == {"sanctioned": 0, "sanctions": 0, "talks": 2}  # "russia's" is russia once 's is dropped
    assert keyness_data.surface_forms(texts, ["sanction"], str.lower) == {}  # no lemmas: no forms


def test_news_like_search_data_finds_sanctions_and_belt_and_road():
    texts = {"n1": ("Outlet A", "Sanctions on Minsk. The Belt and Road plan grew; sanctions stayed."),
             "n2": ("Outlet A", "The Belt and Road summit. New sanctions."),
             "n3": ("Outlet B", "A belt was sold. The Belt and Road again, and sanctions."),
             "n4": ("Outlet B", "Minsk talks. Belt and Road talks.")}
    documents = pd.DataFrame({"doc_id": list(texts), "group": [g for g, _ in texts.values()],
                              "title": [f"Story {d}" for d in texts], "text": [t for _, t in texts.values()],
                              "date": pd.to_datetime(["2017-03-01", "2017-03-02", "2017-03-03", "2017-03-04"])})
    lemma = lambda w: "sanction" if w == "sanctions" else w

    def analyze(doc_id):
        found = [lemma(w.lower()) for w in words(dict(zip(documents["doc_id"], documents["text"]))[doc_id])]
        return " ".join(found).replace("belt and road", "belt_and_road").split()
    settings = KeywordsParams(min_df=1, max_df=1.0, keyness_min_freq=1, period=None, keyness_min_documents=2,
                              keyness_min_tokens=1)
    model = fit_tfidf(list(texts), analyze, settings)
    table, sizes = group_keyness(model, documents, settings)
    data = keyness_data.explorer_data(model, documents, table, settings, {"belt_and_road": "Belt and Road"}, lemma,
                                      sizes=sizes)
    column = {t: i for i, t in enumerate(data["terms"])}
    assert data["forms"] == {"sanctions": column["sanction"]}
    assert data["display"][column["belt_and_road"]] == "Belt and Road"
    assert {"sanction", "minsk", "belt_and_road"} <= set(data["kwic"])
    doc, _, keyword, _ = data["kwic"]["sanction"][0]
    assert keyword.lower() == "sanctions" and data["docs"][doc][:2] == ["Story n1", "2017-03-01"]


def test_listed_terms_hold_every_lists_top_terms_for_every_comparison():
    data, _, _ = build()
    counts, totals = np.array(data["counts"]), np.array(data["term_totals"])
    tokens, terms = np.array(data["tokens"]), data["terms"]
    top = keyness_data.listed_terms(counts, totals, tokens, data["all_tokens"], terms, min_freq=2, shown=1)
    # A over-uses trade against the rest and against B; B over-uses war; C, weather
    assert {"trade", "war", "weather"} <= set(top) and top == sorted(top)
    everything = keyness_data.listed_terms(counts, totals, tokens, data["all_tokens"], terms, min_freq=2, shown=1000)
    assert set(everything) == {t for i, t in enumerate(terms) if totals[i] >= 2}  # every term that can be ranked
    rare = [t for i, t in enumerate(terms) if totals[i] < 2]
    assert rare and not set(rare) & set(everything)
    # the explorer's data: every such term gets its lines (the corpus is small enough)
    assert set(keyness_data.listed_terms(counts, totals, tokens, data["all_tokens"], terms, min_freq=2,
                                         shown=data["shown"])) <= set(data["kwic"])


def test_the_budget_grows_for_the_most_frequent_terms_only():
    full, _, _ = build()
    size = lambda data: sum(len(json.dumps(lines)) for lines in data["kwic"].values())
    for soft in range(200, size(full), 200):  # the smallest budget that holds every named term's lines
        capped, _, _ = build(keyness_data.Budget(kwic_bytes=soft, frequent_terms=0, kwic_bytes_max=10**6))
        if capped["kwic_cover"]["named"] == capped["kwic_cover"]["named_of"]:
            break
    assert capped["kwic_cover"]["frequent"] < len(full["terms"]) and size(capped) <= soft
    grown, _, _ = build(keyness_data.Budget(kwic_bytes=soft, frequent_terms=len(full["terms"]), kwic_bytes_max=10**6))
    assert grown["kwic_cover"]["frequent"] == len(full["terms"]) and set(grown["kwic"]) == set(full["kwic"])
    assert size(grown) > soft


@pytest.mark.parametrize("per_partition", [1, 3])
@pytest.mark.parametrize("lines_per_term", [1, 2, 40])
def test_the_explorer_and_keywords_in_context_read_partitions_of_the_file_as_the_frame(
        tmp_path, per_partition, lines_per_term):
    """The stage reads documents.parquet partition by partition on its engine (analysis.texts):
    the lines, word forms and keywords in context are those of the texts held in one frame."""
    from newslens.analysis.keywords import terms_in_context
    from newslens.analysis.texts import Texts
    from newslens.engine import Engine
    from newslens.text import passes

    documents, model, settings = corpus()
    documents["date"] = pd.to_datetime("2017-01-01") + pd.to_timedelta(range(len(documents)), unit="D")
    settings = settings.model_copy(update={"kwic_terms": ["talk", "united_nations", "war"]})
    table, sizes = group_keyness(model, documents, settings)
    display = {"united_nations": "united nations"}
    budget = keyness_data.Budget(lines_per_term=lines_per_term, lines_per_document=1)
    path = tmp_path / "documents.parquet"
    documents.to_parquet(path, row_group_size=2)
    meta = documents.drop(columns="text")

    def lemma(word: str) -> str:
        return word[:-1] if word.endswith("s") else word

    with Engine(1) as engine:
        parts = Texts(passes.row_partitions(path, per_partition), engine)
        assert len(parts.parts) == -(-len(documents) // per_partition)
        held = keyness_data.explorer_data(model, documents, table, settings, display, lemma, budget, sizes=sizes)
        read = keyness_data.explorer_data(model, meta, table, settings, display, lemma, budget, sizes=sizes,
                                          texts=parts)
        assert held["kwic"]
        assert json.dumps(read, sort_keys=True) == json.dumps(held, sort_keys=True)
        focus = ["b3", "a3"]
        whole = terms_in_context(documents, focus, None, settings, lemma)
        by_parts = terms_in_context(meta, focus, None, settings, lemma, parts)
    for one, other in zip(whole, by_parts):
        pd.testing.assert_frame_equal(one.matches, other.matches)
    firsts = list(dict.fromkeys(whole[0].matches["doc_id"]))  # "talk": the focus's documents first, in its order
    assert firsts[:2] == focus and firsts[2:] == [d for d in documents["doc_id"] if d in firsts[2:]]


def _lemma(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


@pytest.mark.parametrize("jobs", [1, 2])
def test_keywords_in_context_keep_the_focus_and_the_first_lines_and_count_them_all(tmp_path, jobs):
    """The pass over the texts keeps each term's focus matches and the first ``lines`` others (what the
    report lists), whatever the partitions and workers, and counts every match for the caption."""
    from newslens.analysis.keywords import terms_in_context
    from newslens.analysis.texts import Texts
    from newslens.engine import Engine
    from newslens.text import passes

    documents, _, settings = corpus()
    documents["date"] = pd.to_datetime("2017-01-01") + pd.to_timedelta(range(len(documents)), unit="D")
    settings = settings.model_copy(update={"kwic_terms": ["talk", "war"]})
    path = tmp_path / "documents.parquet"
    documents.to_parquet(path, row_group_size=2)
    focus = ["b3", "a3"]
    whole = terms_in_context(documents, focus, None, settings, _lemma, lines=10_000)
    assert whole[0].total == len(whole[0].matches) > 4  # enough matches to cut
    received, cuts = [], []
    for lines in (3, 10_000):
        with Engine(jobs, count_bytes=True) as engine:
            texts = Texts(passes.row_partitions(path, 1), engine)
            cuts.append(terms_in_context(documents.drop(columns="text"), focus, None, settings, _lemma, texts,
                                         lines=lines))
            received.append(sum(one.received for one in engine.traffic.maps))
    assert received[0] < received[1]  # the lines past the first few never reach the driver
    cuts.append(terms_in_context(documents.drop(columns="text"), focus, None, settings, _lemma,
                                 Texts(passes.row_partitions(path, 1), None), lines=3))  # in this process
    assert whole[0].matches["doc_id"].iloc[0] == "b3"  # the focus's lines first
    for full, short, long, here in zip(whole, *cuts):
        pd.testing.assert_frame_equal(long.matches, full.matches)
        for cut in (short, here):
            pd.testing.assert_frame_equal(cut.matches, full.matches.head(3))
            assert cut.total == full.total

