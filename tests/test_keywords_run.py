"""Stage 03 as one call: keywords.run on the seed run and on a sample of the news corpus, in tmp_path.

Stages 01 and 02 run first with their own functions, as their notebooks call them; the
checks hold the Result to the files the stage wrote and to the run's data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newslens import config
from newslens.analysis import keywords
from newslens.analysis.tfidf import TFIDF_FILES, read_tfidf
from newslens.pipeline import in_process
from newslens.stages import StageRun, stage

NEWS_CSV = config.RAW_DIR / "news-articles" / "NewsArticles.csv"
SAMPLE_ROWS = 200
# The sample as a table source: the outlet (its group) is the host of the article's link.
SAMPLE_PARAMS = """title: news sample
sources:
  - path: {csv}
    text_column: text
    id_column: article_id
    title_column: title
    date_column: publish_date
    group_column: outlet
unit: document
language: en
keywords:
  min_df: 2
  max_df: 0.5
  kwic_terms: [trump, united_nations]
  period: week
"""


def keywords_run(params_file: Path, root: Path) -> StageRun:
    """The keywords stage's run under ``root``, after stages 01 and 02 ran there."""
    in_process.run_stages(params_file, root=root, through="02-tokenize")
    return in_process.stage_run(params_file, "03-keywords", root=root)


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> tuple[StageRun, keywords.KeywordsResult]:
    stage_run = keywords_run(config.PROJECT_ROOT / "params" / "seed.yaml", tmp_path_factory.mktemp("seed"))
    return stage_run, keywords.run(stage_run)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[StageRun, keywords.KeywordsResult]:
    if not NEWS_CSV.is_file():
        pytest.skip(f"{config.relative_to_root(NEWS_CSV)} is absent; run `make data` to fetch it")
    root = tmp_path_factory.mktemp("sample")
    table = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False, nrows=SAMPLE_ROWS)
    table["outlet"] = table["article_source_link"].str.extract(r"//(?:www\.)?([^/.]+)")[0]
    table.to_csv(root / "sample.csv", index=False)
    params_file = root / "sample.yaml"
    params_file.write_text(SAMPLE_PARAMS.format(csv=root / "sample.csv"), encoding="utf-8")
    stage_run = keywords_run(params_file, root)
    return stage_run, keywords.run(stage_run)


def assert_written(stage_run: StageRun, result: keywords.KeywordsResult) -> None:
    """The declared outputs exist, and the tables on disk are the Result's."""
    out = stage_run.processed_dir
    assert result.files == tuple(out / name for name in stage("03-keywords").outputs)
    assert all(path.is_file() for path in result.files)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "keyness.parquet"), result.keyness, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(out / "corpus_terms.csv"), result.corpus_terms, check_dtype=False)
    written = pd.read_csv(out / "similar.csv")
    assert list(written.columns) == keywords.SIMILAR_COLUMNS == list(result.similar.columns)
    assert written["doc_id"].tolist() == result.similar["doc_id"].tolist()
    tfidf = read_tfidf(*(out / name for name in TFIDF_FILES))
    assert (len(tfidf.doc_ids), len(tfidf.terms)) == (result.documents, result.terms)
    top = pd.read_parquet(out / "keywords.parquet")
    assert set(top["doc_id"]) <= set(tfidf.doc_ids) and set(top["term"]) <= set(tfidf.terms)
    vocabulary = pd.read_parquet(out / "vocabulary.parquet")
    assert result.display == dict(zip(vocabulary["term"], vocabulary["display"]))


def test_seed_run_writes_its_tables_and_returns_them(seed):
    stage_run, result = seed
    assert_written(stage_run, result)
    settings = stage_run.params.keywords
    assert (result.min_df, result.max_df) == (settings.min_df, settings.max_df)
    written = pd.read_csv(stage_run.processed_dir / "focus_keywords.csv")
    pd.testing.assert_frame_equal(written, result.focus_terms, check_dtype=False)
    assert len(result.focus_terms) == settings.top_n
    assert result.focus_terms["term"].iloc[0] == "cooperation"


def test_seed_run_centres_on_the_article_and_has_one_group(seed):
    stage_run, result = seed
    documents = pd.read_parquet(stage_run.processed_dir / "documents.parquet")
    focus = documents[documents["location"] == stage_run.params.focus]
    assert result.focus_title == focus["title"].iloc[0]
    assert result.documents == len(focus)  # every sentence of the run is the article's
    assert result.similar.empty  # the focus is excluded, and it is the whole run
    assert documents["group"].nunique() == 1
    assert result.keyness.empty and result.keyness_frames == []
    assert result.keyness_table is None and result.explorer is None
    assert result.top_by_period.empty


def test_seed_run_finds_each_kwic_term_in_the_article(seed):
    stage_run, result = seed
    assert [item.term for item in result.in_context] == list(stage_run.params.keywords.kwic_terms)
    texts = pd.read_parquet(stage_run.processed_dir / "documents.parquet").set_index("doc_id")["text"]
    for item in result.in_context:
        assert len(item.matches) > 0
        assert set(item.matches["doc_id"]) <= set(texts.index)
        assert len(item.collocates) <= keywords.COLLOCATES_SHOWN
        assert item.matches["keyword"].str.lower().str.replace("-", "_").eq(item.term.replace("-", "_")).all()


def test_sample_run_compares_its_outlets(sample):
    stage_run, result = sample
    assert_written(stage_run, result)
    outlets = sorted(pd.read_parquet(stage_run.processed_dir / "documents.parquet")["group"].unique())
    assert [group for group, _ in result.keyness_frames] == outlets
    assert list(result.keyness_table.columns) == outlets
    assert result.explorer["groups"] == outlets
    by_group = result.keyness[(result.keyness["by"] == "group") & (result.keyness["direction"] == "over")
                              & result.keyness["distinctive"]]
    for outlet in set(by_group["group"]):  # each outlet's most over-used distinctive term: positive there
        term = by_group[by_group["group"] == outlet].nsmallest(1, "rank")["term"].iloc[0]
        assert result.keyness_table.loc[result.display.get(term, term), outlet] > 0


def test_sample_run_has_no_focus_and_lists_weeks(sample):
    stage_run, result = sample
    assert result.focus_title is None and result.focus_terms.empty and result.similar.empty
    assert pd.read_csv(stage_run.processed_dir / "focus_keywords.csv").empty
    assert result.period == "week"
    weeks = sorted(result.keyness.loc[result.keyness["by"] == "period", "group"].unique())
    assert result.top_by_period["group"].tolist() == weeks
    assert all(0 < len(terms.split(", ")) <= keywords.PERIOD_TERMS for terms in result.top_by_period["term"])
    trump = result.in_context[0]
    assert trump.term == "trump" and len(trump.matches) > 0
    assert "president" in set(trump.collocates["collocate"])


def test_the_stage_writes_the_limits_it_returns(seed, sample):
    import json

    from newslens.analysis import limits

    for stage_run, result in (seed, sample):
        written = (stage_run.processed_dir / "limits.json").read_text(encoding="utf-8")
        assert written == limits.limits_json(result.limits) and json.loads(written) == result.limits
    seed_limits, sample_limits = seed[1].limits, sample[1].limits
    # the seed run: the focus is every sentence, all of one day; no other sentence to pair
    assert seed_limits["span"]["reason"] == "the focus is every document of the run"
    assert seed_limits["concentration"]["reason"] == "every dated document has the same date"
    assert seed_limits["similarity"]["floor"] is None
    # the sample of the news corpus: no focus, dated, its own dates' span
    documents = pd.read_parquet(sample[0].processed_dir / "documents.parquet")
    span = sample_limits["span"]["others"]
    assert span["first"] == f"{documents['date'].min():%Y-%m-%d}" and span["documents"] == documents["date"].notna().sum()
    assert sample_limits["span"]["focus_outside_span"] is None and sample_limits["similarity"]["reason"] == (
        "the run has no focus")
