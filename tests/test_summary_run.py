"""Stage 05 in process: run() on runs built in a temporary folder, checked against the files it read.

The earlier stages' outputs are built here with their own functions (as their notebooks call
them): the seed run, whose focus is every unit of it, and a small sample of the news corpus
without a focus, dated and in several outlets, for the sections a focus replaces.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from newslens import config
from newslens.pipeline import in_process
from newslens.analysis import topic_explorer_data
from newslens.report import summary
from newslens.stages import StageRun

SAMPLE_EVERY = 100  # every 100th article of the news corpus: 39 articles, a few seconds per stage


def build_upstream(params_file: Path, root: Path) -> StageRun:
    """Run stages 01–04 for ``params_file`` under ``root``, each by its run(); the summary's StageRun."""
    in_process.run_stages(params_file, root=root, through="04-topics")
    return in_process.stage_run(params_file, "05-summary", root=root)


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> StageRun:
    """The seed run's stages 01–04, with the committed topic identities (so ids match its reports)."""
    root = tmp_path_factory.mktemp("seed")
    (root / "reports" / "seed").mkdir(parents=True)
    shutil.copy(config.PROJECT_ROOT / "reports" / "seed" / "topics.json", root / "reports" / "seed")
    return build_upstream(config.PROJECT_ROOT / "params" / "seed.yaml", root)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> StageRun:
    """Every SAMPLE_EVERY-th article of the news corpus, grouped by outlet, with no focus."""
    root = tmp_path_factory.mktemp("sample")
    articles = pd.read_csv(config.PROJECT_ROOT / "data" / "raw" / "news-articles" / "NewsArticles.csv").iloc[::SAMPLE_EVERY]
    articles = articles.assign(outlet=articles["article_source_link"].map(lambda url: urlparse(url).netloc))
    articles[["article_id", "publish_date", "title", "outlet", "text"]].to_csv(root / "sample.csv", index=False)
    params = root / "sample.yaml"
    params.write_text(f"""title: A sample of the news corpus
sources:
  - path: {root / "sample.csv"}
    text_column: text
    id_column: article_id
    title_column: title
    date_column: publish_date
    group_column: outlet
unit_name: article
group_name: outlet
language: en
focus: null
keywords: {{min_df: 2, max_df: 0.5}}
topics: {{k: auto, k_min: 2, k_max: 6, k_step: 2, seeds: [0]}}
""", encoding="utf-8")
    return build_upstream(params, root)


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def display_of(stage_run: StageRun) -> dict[str, str]:
    vocabulary = pd.read_parquet(stage_run.processed_dir / "vocabulary.parquet")
    return dict(zip(vocabulary["term"], vocabulary["display"]))


# ---------------------------------------------------------------- the seed run: a focus that is the whole run

def test_seed_summary_reads_the_earlier_outputs_and_writes_nothing(seed):
    before = files_under(seed.root)
    result = summary.run(seed)
    assert files_under(seed.root) == before
    documents = pd.read_parquet(seed.processed_dir / "documents.parquet")
    assert result.title == "Xi–Lukashenko call (10 Jan 2022), sentence by sentence"
    assert result.focus_ids == tuple(documents["doc_id"]) and len(documents) > 1  # every sentence of the article
    assert result.noun == "document"
    assert result.focus == "Focus: “Xi Jinping and Alexander Lukashenko phone call, 10 January 2022” (seed, 10 January 2022)."
    assert result.corpus.startswith(f"The corpus holds {len(documents)} sentences, all from one group, seed. ")
    assert result.links == summary.links_html()


def test_seed_terms_are_the_focus_keywords_in_display_form(seed):
    result = summary.run(seed)
    focus_terms = pd.read_csv(seed.processed_dir / "focus_keywords.csv")
    display = display_of(seed)
    charted = focus_terms.head(summary.FOCUS_TERMS_CHARTED)
    assert result.top_terms.index.tolist() == [display.get(t, t) for t in charted["term"]]
    assert result.top_terms.tolist() == charted["score"].tolist()
    first = ", ".join(display.get(t, t) for t in focus_terms["term"].head(2))
    # The focus is the whole run: its terms are its weightiest, never said to set it apart.
    assert result.whole_run and "set them apart" not in result.terms and "most set" not in result.terms
    assert result.terms.startswith("The focus is every sentence of the run, so no other sentence is there to set "
                                   "it apart from")
    assert result.terms.endswith(f"not terms that distinguish it: {first}, " + result.terms.split(f"{first}, ", 1)[1])


def test_seed_has_no_other_unit_to_compare_and_one_group(seed):
    result = summary.run(seed)
    assert pd.read_csv(seed.processed_dir / "similar.csv").empty and result.similar.empty
    assert result.similar.columns.tolist() == ["rank", "title", "group", "date", "similarity"]
    assert result.similar_sentence == "The focus is every sentence of the run, so there is no other sentence to compare."
    assert result.group_lines.empty and result.group_lines_note is None
    assert result.over_time is None and result.resolution is None and result.time_sentence is None


def test_seed_topics_and_the_focus_mixture_come_from_the_topic_files(seed):
    result = summary.run(seed)
    saved = pd.read_csv(seed.processed_dir / "topics.csv")
    k_choice = json.loads((seed.processed_dir / "k_choice.json").read_text(encoding="utf-8"))
    assert result.modelled and result.n_topics == len(saved) == k_choice["k"] == 4
    pd.testing.assert_frame_equal(result.topics, saved[["topic", "label", "prevalence", "top_terms"]])
    assert result.topics_note is None  # four topics: every one is shown
    assert result.topics_sentence.startswith(f"The topic model found 4 topics. {k_choice['reason']}. ")
    assert sorted(saved["topic"]) == [2, 3, 6, 7]  # the ids of reports/seed/topics.json, as in the seed report
    assert result.explorer == topic_explorer_data.compact(topic_explorer_data.load(seed.processed_dir / "topic_explorer.json"))
    assert len(result.explorer["topics"]) == 4
    doc_topics = pd.read_parquet(seed.processed_dir / "doc_topics.parquet")
    means = doc_topics.groupby("topic")["weight"].mean().sort_values(ascending=False)
    labels = saved.set_index("topic")["label"]
    assert result.mixture.index.tolist() == [f"T{t}: {labels[t]}" for t in means.index]
    assert result.mixture.tolist() == means.round(3).tolist()  # the focus's shares as focus_topics.csv keeps them
    assert result.mixture_sentence.startswith(f"The document is mostly “{result.mixture.index[0]}” "
                                              f"({result.mixture.iloc[0]:.0%} of its weight).")


def test_seed_robustness_line_follows_the_committed_sensitivity_file(seed):
    assert summary.run(seed).robustness is None  # no make sensitivity for this run
    path = seed.run_file("sensitivity")
    shutil.copy(config.PROJECT_ROOT / "reports" / "news" / "sensitivity.json", path)
    try:
        line = summary.run(seed).robustness
    finally:
        path.unlink()
    assert line.startswith("Robustness: ") and "of the focus document's 10 top keywords hold in all" in line


# ---------------------------------------------------------------- a sample without a focus

def test_sample_without_a_focus_shows_the_corpus_terms_groups_and_time(sample):
    result = summary.run(sample)
    documents = pd.read_parquet(sample.processed_dir / "documents.parquet")
    corpus_terms = pd.read_csv(sample.processed_dir / "corpus_terms.csv")
    display = display_of(sample)
    assert result.focus_ids == () and result.focus is None and result.similar_sentence is None
    assert result.mixture is None and result.mixture_sentence is None
    assert result.corpus.startswith(f"The corpus holds {len(documents)} articles from ")
    charted = corpus_terms.head(summary.CORPUS_TERMS_CHARTED)
    assert result.top_terms.index.tolist() == [display.get(t, t) for t in charted["term"]]
    assert result.top_terms.tolist() == charted["mean_tfidf"].tolist()
    assert result.terms.startswith("Over all articles, the terms with the highest mean TF-IDF weight are ")
    keyness = pd.read_parquet(sample.processed_dir / "keyness.parquet")
    compared = set(keyness.loc[(keyness["by"] == "group") & (keyness["direction"] == "over"), "group"])
    assert result.group_lines.columns.tolist() == ["outlet", "articles", "distinctive terms (log ratio; 95% interval)"]
    assert len(result.group_lines) > 1 and set(result.group_lines["outlet"]) <= compared
    assert result.modelled and result.over_time is not None
    assert result.over_time.shape[0] == len(result.topics) and result.over_time.shape[1] > 1
    assert result.time_sentence.startswith(f"The mean topic weight of the articles of each {result.resolution.name}")


# ---------------------------------------------------------------- the notebook computes nothing
