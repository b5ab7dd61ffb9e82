"""Property tests: generated corpora through the stage functions, from ingest to what the summary loads.

Each example writes a small table (CSV or JSON Lines) whose rows vary along the axes
outside corpora vary on: dates from year 1 to 9999 in ISO, partial (``1850``,
``1850-03``), prose and UTC-offset forms mixed with garbage; groups missing, empty or
numeric (``1999``, ``2.0``, ``7``); titles empty or missing; texts from one word to a few
thousand, with non-Latin scripts, or only a number. The stage functions run in process
(not the notebooks): ingest, tokenize, TF-IDF and keyness, topics, the topic views.

The properties: no exception; every input row is accounted for once in the ingest log
(ingested, merged as a duplicate or skipped with a reason); every ingested document keeps
its cleaned text; groups are clean labels, never missing; dates are within years 1-9999
at the precision they were given; a run with no documents stops with a message that
counts its skip reasons; a topic model the corpus cannot support is refused with a
``TopicsError`` that says why, and a corpus of stop words alone with the keywords stage's
"empty vocabulary" error.

Budget: ``max_examples=30``, no deadline. Measured on the shared two-core machine (busy with
other builds): ``.venv/bin/python -m pytest -q tests/test_properties.py`` took 26 s.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from newslens.analysis import keywords, topics
from newslens.analysis.tfidf import fit_tfidf
from newslens.corpus import dates, ingest
from newslens.analysis import topic_views
from newslens.text import tokenization
from newslens.corpus.clean import MISSING_GROUP, clean_text
from newslens.params import validate_params

WORDS = ("minister", "harvest", "river", "council", "budget", "railway", "election", "school", "hospital",
         "treaty", "port", "tax", "weather", "army", "court", "bridge", "market", "union", "coal", "tea")
UNICODE_WORDS = ("Zürich", "naïve", "Ελλάδα", "Москва", "北京", "سلام", "café", "straße")

years = st.integers(1, 9999)
full_dates = st.dates(min_value=pd.Timestamp("0001-01-01").date(), max_value=pd.Timestamp("9999-12-31").date())
DATES = st.one_of(
    st.none(), st.just(""),
    full_dates.map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    years.map(lambda y: f"{y:04d}"),
    st.tuples(years, st.integers(1, 12)).map(lambda t: f"{t[0]:04d}-{t[1]:02d}"),
    st.tuples(full_dates, st.sampled_from(["+08:00", "-05:00", "Z", ""])).map(
        lambda t: f"{t[0].year:04d}-{t[0].month:02d}-{t[0].day:02d}T23:30:00{t[1]}"),
    full_dates.filter(lambda d: d.year >= 1000).map(lambda d: f"{d.day} {d:%B} {d.year}"),
    st.sampled_from(["garbage", "soon", "12", "2017-02-30"]),
)
GROUPS = st.one_of(st.none(), st.just(""), st.sampled_from(["Lab", "Con", "LibDem"]),
                   st.integers(1990, 2020), st.sampled_from([2.0, 7, 7.0, 3.5]))
TITLES = st.one_of(st.none(), st.just(""), st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30))
WORD = st.one_of(st.sampled_from(WORDS), st.sampled_from(UNICODE_WORDS))
TEXTS = st.one_of(
    st.lists(WORD, min_size=1, max_size=10).map(" ".join),                     # tweet length
    st.lists(WORD, min_size=20, max_size=200).map(" ".join),                   # an article
    st.tuples(st.lists(WORD, min_size=5, max_size=5), st.integers(200, 800)).map(  # long, repetitive
        lambda t: " ".join(t[0] * t[1])),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=60),  # any printable unicode
    st.sampled_from(["12345", "3.5", "   "]),                                  # not text
)
ROWS = st.lists(st.fixed_dictionaries({"text": TEXTS, "date": DATES, "group": GROUPS, "title": TITLES}),
                min_size=1, max_size=8)


def _write(rows: list[dict], folder: Path, kind: str) -> Path:
    if kind == "csv":
        path = folder / "corpus.csv"
        pd.DataFrame(rows, columns=["text", "date", "group", "title"]).to_csv(path, index=False)
    else:  # JSON Lines keeps numbers as numbers: 2.0 and 7 reach the reader as float and int
        path = folder / "corpus.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _params(path: Path):
    return validate_params({
        "title": "generated", "engine": "pandas",
        "sources": [{"path": str(path), "text_column": "text", "date_column": "date",
                     "group_column": "group", "title_column": "title"}],
        "tokenize": {"phrase_min_count": 2},
        "keywords": {"min_df": 1, "max_df": 1.0, "keyness_min_freq": 1, "period": "month"},
        "topics": {"k_min": 2, "k_max": 3, "seeds": [0]}})


def _check_ingest(rows: list[dict], path: Path, result, out: Path) -> None:
    log = result.log
    if len(log) == 1 and log["location"].iloc[0].endswith(path.name):  # the whole file skipped, said why
        assert log["status"].iloc[0] == "skipped" and log["reason"].iloc[0]
        return
    expected = [f"{path.name}:{n}" for n in range(1, len(rows) + 1)]
    assert [loc.rsplit("/", 1)[-1] for loc in log["location"]] == expected  # each row once, in order
    assert set(log["status"]) <= {"ingested", "duplicate", "skipped"}
    assert (log.loc[log["status"] == "skipped", "reason"].str.len() > 0).all()
    documents = pd.read_parquet(out / "documents.parquet")
    assert documents["group"].notna().all()
    assert not documents["group"].astype(str).str.fullmatch(r"-?\d+\.0+").any()
    assert str(documents["date"].dtype) == f"datetime64[{dates.DATE_UNIT}]"
    assert (documents["date_precision"].notna() == documents["date"].notna()).all()
    texts = dict(zip(documents["doc_id"], documents["text"]))
    for row, status, doc_id in zip(rows, log["status"], log["doc_id"]):
        if status == "ingested":  # the document keeps its (cleaned) text, and a missing group its label
            assert texts[doc_id] == clean_text(str(row["text"])).text
            if row["group"] in (None, ""):
                assert documents.loc[documents["doc_id"] == doc_id, "group"].tolist() == [MISSING_GROUP]


def _later_stages(result, params, out: Path) -> None:
    documents = pd.read_parquet(out / "documents.parquet")
    pd.testing.assert_series_equal(documents["date"], result.documents["date"], check_names=False)
    tokens = tokenization.tokenize_documents(documents, params.tokenize, params.language, engine="pandas")
    tokenization.write_outputs(tokens, out)
    doc_ids, analyzer = tokenization.load_analyzer(out)
    try:
        tfidf = fit_tfidf(doc_ids, analyzer, params.keywords, engine="pandas")
    except ValueError as exc:  # only stop words, or no words at all: refused, with the reason
        assert "empty vocabulary" in str(exc)
        return
    keyness, _ = keywords.group_keyness(tfidf, documents, params.keywords)
    display = dict(zip(tokens.vocabulary["term"], tokens.vocabulary["display"]))
    if (keyness["by"] == "group").any():
        keywords.keyness_table(tfidf, documents, keyness, display)
        keywords.keyness_frames(keyness, display)
    try:
        fitted = topics.run_topics(tfidf, params.topics, display=display, identities_path=out / "topics.json",
                                   labels_path=out / "labels.yaml", n_jobs=1)
    except topics.TopicsError as exc:  # too few documents or terms: refused, with the reason
        assert re.search(r"documents|vocabulary|terms", str(exc))
        return
    if fitted.k == 0:  # a corpus too small for a model: none, and why
        assert fitted.reason.startswith("No topic model: ") and fitted.topics.empty
    topic_views.prevalence_by_group(fitted.mixtures, documents, fitted.topics)
    over_time, resolution = topic_views.prevalence_over_time(fitted.mixtures, documents, fitted.topics)
    precisions = set(documents["date_precision"].dropna())
    if precisions == {"year"}:  # a corpus dated by year never gets finer bins
        assert resolution.name in ("year", "decade")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=ROWS, kind=st.sampled_from(["csv", "jsonl"]))
def test_generated_corpora_run_every_stage_and_lose_nothing(rows, kind) -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = _write(rows, folder, kind)
        params = _params(path)
        out = folder / "out"
        result = ingest.ingest(params, out)
        _check_ingest(rows, path, result, out)
        if result.documents.empty:
            message = ingest.empty_corpus_message(result.log, "generated")
            assert message is not None and f"of {len(result.log):,} input entries" in message
            return
        _later_stages(result, params, out)
