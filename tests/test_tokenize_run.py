"""The tokenize stage as one call: ``tokenization.run`` writes its outputs and returns what its report shows.

Two real runs, each after stage 01 in a temporary project root: the seed run (the seed article,
sentence by sentence, with a focus) and a sample of the news corpus (NewsArticles.csv, a
table source grouped by outlet, without a focus). Every field of the result is checked
against the files the stage wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from newslens import config
from newslens.corpus.sources import outlet_from_url
from newslens.pipeline import in_process
from newslens.stages import StageRun, stage
from newslens.text import tokenization
from newslens.text.words import MARKERS

NEWS_CSV = config.RAW_DIR / "news-articles" / "NewsArticles.csv"
# Articles of the news sample: every 19th row of the corpus's 3,824, so all nine outlets are
# in it; fewer than 200 texts, so tokenize works in this process (no worker processes).
NEWS_SAMPLE_ROWS, NEWS_SAMPLE_STEP = 199, 19
SEED_TITLE = "Xi Jinping and Alexander Lukashenko phone call, 10 January 2022"


def run_stage(params_file: Path | str, root: Path) -> tuple[StageRun, tokenization.TokenizeResult]:
    """Stage 01 into ``root``, then stage 02 there, each by its run()."""
    in_process.run_stages(params_file, root=root, through="01-ingest")
    stage_run = in_process.stage_run(params_file, "02-tokenize", root=root)
    return stage_run, tokenization.run(stage_run)


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> tuple[StageRun, tokenization.TokenizeResult]:
    return run_stage("params/seed.yaml", tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def news_sample(tmp_path_factory) -> tuple[StageRun, tokenization.TokenizeResult]:
    if not NEWS_CSV.is_file():
        pytest.skip(f"{config.relative_to_root(NEWS_CSV)} is absent; run `make data` to fetch it")
    root = tmp_path_factory.mktemp("news-sample")
    rows = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False).iloc[::NEWS_SAMPLE_STEP].head(NEWS_SAMPLE_ROWS)
    rows.assign(outlet=rows["article_source_link"].map(outlet_from_url)).to_csv(root / "sample.csv", index=False)
    news = yaml.safe_load((config.PROJECT_ROOT / "params" / "news.yaml").read_text(encoding="utf-8"))
    params = {**news, "title": "A sample of the news corpus", "focus": None,
              "sources": [{"path": str(root / "sample.csv"), "text_column": "text", "id_column": "article_id",
                           "title_column": "title", "date_column": "publish_date", "group_column": "outlet"}],
              "tokenize": {**news["tokenize"], "phrase_min_count": 5}}  # a sample's phrases are rarer
    (root / "news-sample.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return run_stage(root / "news-sample.yaml", root)


RUNS = ["seed", "news_sample"]


def written(stage_run: StageRun) -> dict:
    """The stage's outputs, read back from its processed folder."""
    folder = stage_run.processed_dir
    return {"documents": pd.read_parquet(folder / "documents.parquet"),
            "tokens": pd.read_parquet(folder / "tokens.parquet"),
            "vocabulary": pd.read_parquet(folder / "vocabulary.parquet"),
            "sources": pd.read_csv(folder / "stopword_sources.csv", keep_default_na=False),
            "formulas": pd.read_csv(folder / "formulas.csv", keep_default_na=False),
            "stopwords": (folder / "stopwords.txt").read_text(encoding="utf-8").splitlines(),
            "stats": json.loads((folder / "tokenize_stats.json").read_text(encoding="utf-8"))}


@pytest.mark.parametrize("name", RUNS)
def test_run_writes_every_output_of_the_stage_table(name, request):
    stage_run, result = request.getfixturevalue(name)
    assert [path.parent for path in result.outputs] == [stage_run.processed_dir] * len(result.outputs)
    assert sorted(path.name for path in result.outputs) == sorted(stage("02-tokenize").outputs)
    assert all(path.is_file() for path in result.outputs)


@pytest.mark.parametrize("name", RUNS)
def test_counts_are_those_written(name, request):
    stage_run, result = request.getfixturevalue(name)
    files = written(stage_run)
    stats, tokens = files["stats"], files["tokens"]
    assert result.stats == stats
    assert stats["documents"] == len(files["documents"]) == tokens["doc_id"].nunique()
    assert stats["sentences"] == len(tokens)
    assert result.title == stage_run.params.title
    assert result.lemmatize is True
    assert result.stopwords == len(files["stopwords"]) == len(files["sources"])
    per_doc = tokens.assign(n=tokens["tokens"].map(len)).groupby("doc_id", sort=False)["n"].sum()
    assert result.tokens_per_document.index.tolist() == files["documents"]["doc_id"].tolist()
    assert result.tokens_per_document.tolist() == per_doc.tolist()
    assert result.tokens_per_document.sum() == stats["tokens"]


@pytest.mark.parametrize("name", RUNS)
def test_vocabulary_charts_are_the_kept_vocabulary(name, request):
    stage_run, result = request.getfixturevalue(name)
    vocabulary = written(stage_run)["vocabulary"]
    kept = vocabulary[vocabulary["kept"]]
    assert len(kept) == result.stats["vocabulary"] == len(result.frequencies)
    assert result.frequencies.tolist() == kept["cf"].tolist()
    assert result.frequencies.is_monotonic_decreasing
    assert result.kept_phrases == kept["is_phrase"].sum() > 0
    assert result.top_terms.to_dict() == dict(zip(kept["display"][:tokenization.TOP_TERMS],
                                                  kept["cf"][:tokenization.TOP_TERMS]))
    phrases = kept[kept["is_phrase"]].head(tokenization.TOP_PHRASES)
    assert result.top_phrases.index.tolist() == phrases["display"].tolist()
    assert result.top_phrases.tolist() == phrases["cf"].tolist()


@pytest.mark.parametrize("name", RUNS)
def test_heaps_curve_ends_at_the_whole_run(name, request):
    stage_run, result = request.getfixturevalue(name)
    tokens = [t for sentence in written(stage_run)["tokens"]["tokens"] for t in sentence]
    curve = result.heaps_curve
    assert curve.iloc[-1].tolist() == [len(tokens), len(set(tokens))]
    assert curve["tokens"].is_monotonic_increasing and curve["types"].is_monotonic_increasing
    assert 0 < result.heaps_beta < 1 and result.heaps_k > 0  # a vocabulary grows, slower than the text


@pytest.mark.parametrize("name", RUNS)
def test_stop_words_and_formulas_are_those_written(name, request):
    stage_run, result = request.getfixturevalue(name)
    files = written(stage_run)
    sources = files["sources"]
    assert dict(zip(result.stopword_counts["source"], result.stopword_counts["terms"])) == \
        sources["source"].value_counts().to_dict()
    assert result.stopword_counts["terms"].sum() == result.stopwords
    assert result.corpus_stopwords == tuple(sorted(sources.loc[sources["source"].str.startswith("corpus"), "term"]))
    assert result.formula_notes == tuple(files["stats"]["formulas"]["notes"])
    assert len(result.formulas) == len(files["formulas"])
    assert result.formulas["keep with"].tolist() == [f"tokenize: {{keep: [{formula!r}]}}"
                                                     for formula in files["formulas"]["formula"]]


@pytest.mark.parametrize("name", RUNS)
def test_odd_input_and_markers_are_the_stats(name, request):
    _, result = request.getfixturevalue(name)
    stats = result.stats
    assert result.odd_input["count"].tolist() == [stats["documents_without_tokens"], stats["documents_other_script"],
                                                  *stats["dropped"].values()]
    assert result.odd_input["what"].tolist()[2:] == [f"tokens dropped: {reason}" for reason in stats["dropped"]]
    assert result.markers.to_dict("list") == {"marker": list(MARKERS), "count": list(stats["markers"].values()),
                                              "rule": ["cut", "cut", "cut", "kept as its word"]}


def test_the_seed_focus_is_the_whole_article(seed):
    stage_run, result = seed
    tokens = written(stage_run)["tokens"]
    assert result.focus == stage_run.params.focus
    assert result.focus_title == SEED_TITLE
    assert result.stats["documents"] == 19  # the seed article's sentences, each one unit
    assert result.focus_sentences == [list(sentence) for sentence in tokens["tokens"]]
    assert result.focus_display["united_nations"] == "United Nations"
    assert result.top_phrases.to_dict() == {"United Nations": 3}  # the seed's one kept phrase


def test_the_news_sample_shows_its_first_article(news_sample):
    stage_run, result = news_sample
    files = written(stage_run)
    first = files["documents"].iloc[0]
    assert result.focus is None
    assert result.focus_title == first["title"]
    focus_rows = files["tokens"][files["tokens"]["doc_id"] == first["doc_id"]]
    assert result.focus_sentences == [list(sentence) for sentence in focus_rows["tokens"]]
    assert files["documents"]["group"].nunique() == 9  # every outlet of the corpus
    assert result.stats["documents"] > 150
    phrases = {t for sentence in result.focus_sentences for t in sentence if "_" in t}
    display = dict(zip(files["vocabulary"]["term"], files["vocabulary"]["display"]))
    assert {t: result.focus_display[t] for t in phrases} == {t: display[t] for t in phrases}
