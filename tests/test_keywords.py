"""Stage 03 keywords: the shared analyzer, scikit-learn's TF-IDF, focus terms, neighbours, determinism."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from newslens import config
from newslens.analysis import keywords
from newslens.analysis.keywords import (
    corpus_top_terms, focus_keywords, group_keyness, similar_documents, top_keywords, write_outputs)
from newslens.analysis.tfidf import effective_df_bounds, fit_tfidf
from newslens.params import KeywordsParams, TokenizeParams
from newslens.corpus.sentences import split_text_sentences
from newslens.text.tokenization import load_analyzer, load_document_tokens, tokenize_documents
from newslens.text.tokenization import write_outputs as write_tokens

NEWS_CSV = config.RAW_DIR / "news-articles" / "NewsArticles.csv"
NEWS_DIR = config.processed_dir("news")
SEED_FILE = config.RAW_DIR / "seed" / "xi-lukashenko-call-2022-01-10.txt"
SEED_ID = "xi-lukashenko-call-2022-01-10"

# A tiny corpus worked by hand (lemmas and phrases off). After stop words the documents are
#   d0  belarus staunch cooperation partner china
#   d1  china-belarus relations set good example friendly exchanges
#   d2  belarus hopes maintain close communication coordination china
#   d3  united nations accused myanmar military committing crimes humanity
#   d4  united nations civilian casualties hit record highs
TINY = {
    "d0": "Belarus will always be a staunch cooperation partner of China.",
    "d1": "China-Belarus relations have set a good example of friendly exchanges.",
    "d2": "Belarus hopes to maintain close communication and coordination with China.",
    "d3": "The United Nations has accused Myanmar's military of committing crimes against humanity.",
    "d4": "The United Nations said last year that civilian casualties had hit record highs.",
}
TINY_META = pd.DataFrame({
    "doc_id": list(TINY), "title": [f"Title {d}" for d in TINY],
    "group": ["xinhua", "xinhua", "tass", "cnn", "cnn"],
    "date": pd.to_datetime(["2022-01-10", "2022-01-11", "2022-01-12", "2022-01-17", "2022-01-18"]),
})
PLAIN = TokenizeParams(phrases=False, lemmatize=False, news_boilerplate=True)  # news texts
# Every term, and every group however small: these tests are about the mechanics (sizes: below).
ALL_TERMS = KeywordsParams(min_df=1, max_df=1.0, keyness_min_freq=1, keyness_min_documents=1, keyness_min_tokens=1)

# A larger corpus of real sentences (seed article, news corpus), for the comparisons with scikit-learn.
SEED = split_text_sentences(SEED_FILE.read_text(encoding="utf-8"))
NEWS = [
    "He will also speak at the United Nations Office in Geneva before wrapping up his first overseas tour of 2017.",
    "Last September, Rodriguez represented Venezuela at the United Nations General Assembly.",
    "The United Nations has almost 19,000 troops deployed in DRC, its largest and costliest peacekeeping mission.",
    "What role can Lloyd's play in China's Belt and Road Initiative?",
    "Some projects in Belt and Road countries are already built and in operation.",
    "Earlier on Tuesday, the Supreme Court of Belarus upheld a lower court ruling to extradite Lapshin.",
    "Eurasian Economic Union includes Russia, Belarus, Kazakhstan, Armenia and Kyrgyzstan.",
    "Belarusian President Alexander Lukashenko earlier mentioned some \"militants plotting an armed provocation.\"",
]
POOL = SEED + NEWS
CORPUS = {f"c{i:02d}": " ".join(POOL[(i * 5 + j * 3) % len(POOL)] for j in range(1 + i % 3)) for i in range(24)}
CORPUS_SETTINGS = KeywordsParams(min_df=2, max_df=0.5)


def _write_tokens(texts: dict[str, str], folder, settings: TokenizeParams = PLAIN):
    documents = pd.DataFrame({"doc_id": list(texts), "text": list(texts.values())})
    write_tokens(tokenize_documents(documents, settings, "en", n_jobs=1), folder)
    return folder


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return _write_tokens(TINY, tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return fit_tfidf(*load_analyzer(tiny_dir), ALL_TERMS)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return _write_tokens(CORPUS, tmp_path_factory.mktemp("corpus"), TokenizeParams(phrase_min_count=3, news_boilerplate=True))


# --- the shared analyzer and scikit-learn's formula -----------------------------------

def test_tfidf_uses_the_saved_tokens_without_tokenizing_again(corpus_dir):
    doc_ids, analyzer = load_analyzer(corpus_dir)
    model = fit_tfidf(doc_ids, analyzer, CORPUS_SETTINGS)
    stored = load_document_tokens(corpus_dir)
    assert model.doc_ids == doc_ids == list(CORPUS)
    vocabulary = set(model.terms)
    assert vocabulary <= {t for tokens in stored.values() for t in tokens}
    assert any("_" in t for t in vocabulary)  # phrases from the tokenizer, as they were saved
    row_sums = np.asarray(model.counts.sum(axis=1)).ravel()
    assert row_sums.tolist() == [sum(t in vocabulary for t in stored[d]) for d in doc_ids]
    # each count cell is the number of times the saved token occurs in the document
    column = {t: i for i, t in enumerate(model.terms)}
    for row, doc_id in enumerate(doc_ids[:5]):
        for term in set(stored[doc_id]) & vocabulary:
            assert model.counts[row, column[term]] == stored[doc_id].count(term)


def test_tfidf_weights_are_scikit_learns(corpus_dir):
    from sklearn.feature_extraction.text import TfidfVectorizer

    doc_ids, analyzer = load_analyzer(corpus_dir)
    model = fit_tfidf(doc_ids, analyzer, CORPUS_SETTINGS)
    reference = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2, max_df=0.5)
    expected = reference.fit_transform(doc_ids)
    assert model.terms.tolist() == reference.get_feature_names_out().tolist()
    assert np.allclose(model.matrix.toarray(), expected.toarray())
    assert np.allclose(model.idf, reference.idf_)
    assert (np.asarray(model.counts.max(axis=1).todense()).ravel() > 1).any()  # sublinear tf matters here
    # and rows are l2-normalised (cosine similarity is a dot product)
    norms = np.sqrt(np.asarray(model.matrix.multiply(model.matrix).sum(axis=1)).ravel())
    assert np.allclose(norms[norms > 0], 1.0)


def test_tfidf_by_hand_on_the_tiny_corpus(tiny):
    # smooth idf: ln((1 + n) / (1 + df)) + 1 with n = 5 documents
    column = {t: i for i, t in enumerate(tiny.terms)}
    assert tiny.idf[column["staunch"]] == pytest.approx(math.log(6 / 2) + 1)  # df 1
    assert tiny.idf[column["belarus"]] == pytest.approx(math.log(6 / 3) + 1)  # df 2
    # d0 has five terms once each: three with df 1, belarus and china with df 2
    rare, common = math.log(3) + 1, math.log(2) + 1
    norm = math.sqrt(3 * rare ** 2 + 2 * common ** 2)
    assert tiny.matrix[0, column["staunch"]] == pytest.approx(rare / norm)
    assert tiny.matrix[0, column["china"]] == pytest.approx(common / norm)
    assert tiny.matrix[0].nnz == 5


# --- focus keywords, top keywords, neighbours --------------------------------------------

def test_focus_keywords_ranks_and_docs_elsewhere(tiny):
    frame = focus_keywords(tiny, ["d0"], top_n=10)
    rare, common = math.log(3) + 1, math.log(2) + 1
    norm = math.sqrt(3 * rare ** 2 + 2 * common ** 2)
    # equal scores are ranked by term; belarus and china also occur in d2 (1 of the 4 other documents)
    assert frame.to_dict("list") == {
        "rank": [1, 2, 3, 4, 5],
        "term": ["cooperation", "partner", "staunch", "belarus", "china"],
        "score": [round(rare / norm, 6)] * 3 + [round(common / norm, 6)] * 2,
        "docs_elsewhere": [0, 0, 0, 1, 1],
        "share_elsewhere": [0.0, 0.0, 0.0, 0.25, 0.25],
        "idf": [round(rare, 4)] * 3 + [round(common, 4)] * 2,
    }
    assert focus_keywords(tiny, ["d0"], top_n=2)["term"].tolist() == ["cooperation", "partner"]


def test_focus_of_several_units_sums_them(tiny):
    frame = focus_keywords(tiny, ["d0", "d2"], top_n=3)
    # belarus and china are in both units: common/|d0| + common/|d2| ≈ 0.389 + 0.320 beats the
    # rare terms of the shorter d0 (rare/|d0| ≈ 0.482), which beat those of d2 (≈ 0.397)
    assert frame["term"].tolist() == ["belarus", "china", "cooperation"]
    assert frame["docs_elsewhere"].tolist() == [0, 0, 0]  # d2 is part of the focus now
    assert frame["share_elsewhere"].tolist() == [0.0, 0.0, 0.0]


def test_focus_that_matches_nothing_is_a_clear_error(tiny):
    with pytest.raises(ValueError, match=r"focus: none of \['nope'\] has any term in the TF-IDF vocabulary"):
        focus_keywords(tiny, ["nope"], top_n=5)


def test_top_keywords_ranks_ties_by_term(tiny):
    frame = top_keywords(tiny, top_n=3)
    assert list(frame.columns) == ["doc_id", "rank", "term", "score"]
    d0 = frame[frame["doc_id"] == "d0"]
    assert d0["term"].tolist() == ["cooperation", "partner", "staunch"]
    assert d0["rank"].tolist() == [1, 2, 3]
    d3 = frame[frame["doc_id"] == "d3"]
    # d3: six terms with df 1 outrank united and nations (df 2); ties alphabetical
    assert d3["term"].tolist() == ["accused", "committing", "crimes"]
    assert frame.groupby("doc_id").size().tolist() == [3] * 5
    pd.testing.assert_frame_equal(frame, top_keywords(tiny, top_n=3))


def test_top_keywords_skip_documents_without_terms(tmp_path):
    folder = _write_tokens({**TINY, "empty": "He said that it was so."}, tmp_path)
    model = fit_tfidf(*load_analyzer(folder), ALL_TERMS)
    assert "empty" in model.doc_ids
    assert "empty" not in set(top_keywords(model, 5)["doc_id"])


@pytest.mark.parametrize("exclude_focus, expected", [
    (False, ["d0", "d2", "d1", "d3", "d4"]),
    (True, ["d2", "d1", "d3", "d4"]),
])
def test_similar_documents(tiny, exclude_focus, expected):
    frame = similar_documents(tiny, ["d0"], TINY_META, top_n=10, exclude_focus=exclude_focus)
    assert frame["doc_id"].tolist() == expected  # zero similarities ranked by doc_id
    assert frame["rank"].tolist() == list(range(1, len(expected) + 1))
    assert list(frame.columns) == ["rank", "doc_id", "similarity", "title", "group", "date"]
    if not exclude_focus:
        assert frame["similarity"].iloc[0] == pytest.approx(1.0)  # the document itself, first
    # d2 shares belarus and china with d0: (2 · common²) / (norm(d0) · norm(d2))
    rare, common = math.log(3) + 1, math.log(2) + 1
    d2 = frame.loc[frame["doc_id"] == "d2", "similarity"].iloc[0]
    assert d2 == pytest.approx(2 * common ** 2 / ((3 * rare ** 2 + 2 * common ** 2) ** 0.5
                                                    * (5 * rare ** 2 + 2 * common ** 2) ** 0.5), abs=1e-6)
    assert frame.loc[frame["doc_id"] == "d2", "title"].iloc[0] == "Title d2"
    assert frame["similarity"].iloc[-1] == 0.0


def test_every_document_is_most_similar_to_itself(corpus_dir):
    model = fit_tfidf(*load_analyzer(corpus_dir), CORPUS_SETTINGS)
    meta = pd.DataFrame({"doc_id": model.doc_ids, "title": None, "group": None, "date": pd.NaT})
    for doc_id in model.doc_ids[:8]:
        frame = similar_documents(model, [doc_id], meta, top_n=3, exclude_focus=False)
        assert frame["doc_id"].iloc[0] == doc_id
        assert frame["similarity"].iloc[0] == pytest.approx(1.0)


def test_corpus_top_terms(tiny):
    frame = corpus_top_terms(tiny, top_n=4)
    # mean over 5 documents: belarus/china ≈ (0.389 + 0.320) / 5 > nations/united ≈ (0.299 + 0.320) / 5
    assert frame["term"].tolist() == ["belarus", "china", "nations", "united"]
    assert frame["df"].tolist() == [2, 2, 2, 2]
    assert frame["rank"].tolist() == [1, 2, 3, 4]
    rare, common = math.log(3) + 1, math.log(2) + 1
    d0, d2 = (3 * rare ** 2 + 2 * common ** 2) ** 0.5, (5 * rare ** 2 + 2 * common ** 2) ** 0.5
    assert frame["mean_tfidf"].iloc[0] == pytest.approx((common / d0 + common / d2) / 5, abs=1e-6)


# --- df bounds and errors -------------------------------------------------------------

@pytest.mark.parametrize("n_documents, min_df, max_df, expected, warns", [
    (100, 2, 0.5, (2, 0.5), False),
    (4, 2, 0.5, (2, 0.5), False),   # max_df × n = 2 documents, exactly min_df
    (3, 2, 0.5, (1, 0.5), True),    # 1.5 < 2: min_df lowered to 1
    (1, 2, 0.5, (1, 1.0), True),    # a single document: every term is in it
    (5, 1, 1.0, (1, 1.0), False),
])
def test_effective_df_bounds(caplog, n_documents, min_df, max_df, expected, warns):
    with caplog.at_level(logging.WARNING, logger="newslens.analysis.keywords"):
        assert effective_df_bounds(n_documents, KeywordsParams(min_df=min_df, max_df=max_df)) == expected
    assert ("exceeds max_df × documents" in caplog.text) == warns


def test_tiny_run_lowers_min_df_instead_of_failing(tiny_dir):
    # 5 documents, max_df 0.5 → at most 2.5 documents per term; min_df 3 would leave nothing
    model = fit_tfidf(*load_analyzer(tiny_dir), KeywordsParams(min_df=3, max_df=0.5))
    assert {"belarus", "united", "staunch"} <= set(model.terms)


@pytest.mark.parametrize("doc_ids, analyzer, settings, message", [
    ([], lambda d: [], KeywordsParams(), r"keywords: the run has no documents to weight"),
    (["d0", "d1"], lambda d: [], KeywordsParams(min_df=1),
     r"keywords: empty vocabulary after min_df=1, max_df=0.5 on 2 documents \(empty vocabulary"),
    (["d0", "d1", "d2", "d3"], lambda d: ["belarus"], KeywordsParams(min_df=1, max_df=0.5),
     r"keywords: empty vocabulary after min_df=1, max_df=0.5 on 4 documents \(After pruning, no terms remain"),
])
def test_empty_vocabulary_is_a_clear_error(doc_ids, analyzer, settings, message):
    with pytest.raises(ValueError, match=message):
        fit_tfidf(doc_ids, analyzer, settings)


# --- keyness by group and period ---------------------------------------------------------

def test_group_keyness_is_skipped_with_a_single_group(tiny, caplog):
    meta = TINY_META.assign(group="xinhua")
    with caplog.at_level(logging.INFO, logger="newslens.analysis.keywords"):
        frame, sizes = group_keyness(tiny, meta, ALL_TERMS.model_copy(update={"period": None}))
    assert frame.empty
    assert list(frame.columns) == keywords.KEYNESS_COLUMNS
    assert sizes[["by", "group", "n_docs", "compared"]].values.tolist() == [["group", "xinhua", 5, True]]
    assert "keyness by group skipped: 1 of 1 group(s) reach the minimum size" in caplog.text


def test_group_keyness_by_group_and_by_week(tiny):
    frame, _ = group_keyness(tiny, TINY_META, ALL_TERMS.model_copy(update={"period": "week"}))
    assert set(frame["by"]) == {"group", "period"}
    assert set(frame.loc[frame["by"] == "group", "group"]) == {"cnn", "tass", "xinhua"}
    # 10-12 January 2022 fall in the ISO week of Monday 10 January, 17-18 January in the next one
    assert set(frame.loc[frame["by"] == "period", "group"]) == {"2022-01-10", "2022-01-17"}
    cnn = frame[(frame["by"] == "group") & (frame["group"] == "cnn") & (frame["direction"] == "over")]
    assert cnn.iloc[0][["term", "freq_target", "freq_reference"]].tolist() in (
        ["nations", 2, 0], ["united", 2, 0])
    without_period, _ = group_keyness(tiny, TINY_META, ALL_TERMS.model_copy(update={"period": None}))
    assert set(without_period["by"]) == {"group"}


def test_period_keyness_follows_the_time_axis_by_default(tiny):
    # 8 days: the axis counts days, and so does keyness (keywords.period: auto, the default)
    frame, _ = group_keyness(tiny, TINY_META, ALL_TERMS)
    assert ALL_TERMS.period == "auto"
    assert set(frame.loc[frame["by"] == "period", "group"]) <= {f"2022-01-{d}" for d in range(10, 19)}
    # two and a half centuries: decades, labelled so they sort in time
    meta = TINY_META.assign(group="xinhua", date=pd.to_datetime(
        ["1790-01-08", "1791-10-25", "1862-12-01", "2016-01-12", "2026-02-24"]).as_unit("ms"))
    assert keywords.period_resolution(meta, "auto") == "decade"
    frame, _ = group_keyness(tiny, meta, ALL_TERMS)
    assert set(frame["group"]) <= {"1790s", "1860s", "2010s", "2020s"} and len(set(frame["group"])) >= 2


def test_period_keyness_alone_when_there_is_one_group(tiny):
    frame, _ = group_keyness(tiny, TINY_META.assign(group="xinhua"), ALL_TERMS.model_copy(update={"period": "month"}))
    assert frame.empty  # a single month as well: nothing to compare
    meta = TINY_META.assign(group="xinhua", date=pd.to_datetime(
        ["2022-01-10", "2022-01-11", "2022-02-12", "2022-02-17", None]))
    frame, _ = group_keyness(tiny, meta, ALL_TERMS.model_copy(update={"period": "month"}))
    assert set(frame["by"]) == {"period"}
    assert set(frame["group"]) == {"2022-01", "2022-02"}  # the undated d4 is left out


# --- determinism --------------------------------------------------------------------------

KEYWORD_FILES = ("keywords.parquet", "keyness.parquet", "keyness_groups.csv", "similar.csv", "corpus_terms.csv", "focus_keywords.csv")


def _keywords_run(folder, out, meta):
    settings = KeywordsParams(min_df=2, max_df=0.5, keyness_min_freq=2, keyness_min_tokens=1, top_n=5, period=None)
    model = fit_tfidf(*load_analyzer(folder), settings)
    focus = [model.doc_ids[0]]
    keyness, sizes = group_keyness(model, meta, settings)
    write_outputs(out, keywords=top_keywords(model, settings.top_n),
                  keyness=keyness, group_sizes=sizes,
                  similar=similar_documents(model, focus, meta, settings.similar_n),
                  corpus_terms=corpus_top_terms(model), focus_terms=focus_keywords(model, focus, settings.top_n))
    return {name: (out / name).read_bytes() for name in KEYWORD_FILES}


def test_outputs_are_byte_identical_on_rerun(corpus_dir, tmp_path):
    ids = list(CORPUS)
    meta = pd.DataFrame({"doc_id": ids, "title": [f"T{d}" for d in ids],
                         "group": ["xinhua", "tass", "cnn"] * 8,
                         "date": pd.to_datetime("2017-02-06") + pd.to_timedelta(np.arange(24) % 3, unit="D")})
    first = _keywords_run(corpus_dir, tmp_path / "a", meta)
    second = _keywords_run(corpus_dir, tmp_path / "b", meta)
    assert first == second
    assert pd.read_parquet(tmp_path / "a" / "keyness.parquet")["group"].nunique() == 3
    similar = pd.read_csv(tmp_path / "a" / "similar.csv")
    assert similar["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert ids[0] not in set(similar["doc_id"])


# --- the real news run ----------------------------------------------------------------------

@pytest.mark.slow
def test_news_run_focus_keywords_of_the_seed(news_run):
    from newslens.params import load_run

    settings = load_run("params/news.yaml").params.keywords
    model = fit_tfidf(*load_analyzer(NEWS_DIR), settings)
    frame = focus_keywords(model, [SEED_ID], settings.top_n)
    terms = frame["term"].tolist()
    print("\nseed focus keywords:", ", ".join(terms))
    assert len(terms) == 15
    assert {"belarus", "lukashenko", "china-belarus"} <= set(terms)
    stopwords = set((NEWS_DIR / "stopwords.txt").read_text(encoding="utf-8").split())
    assert not set(terms) & (stopwords | {"said", "say", "the", "and"})
    neighbours = similar_documents(model, [SEED_ID], pd.read_parquet(NEWS_DIR / "documents.parquet"), 10)
    assert SEED_ID not in set(neighbours["doc_id"]) and neighbours["similarity"].is_monotonic_decreasing
