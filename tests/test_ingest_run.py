"""Stage 01 run in process: the files ``ingest.run`` writes and the IngestResult it returns.

On the seed run (one article, sentence by sentence) and on the first 200 rows of the news
corpus (a table source with outlets, dates, empty texts and one copied article), each
Result field is held to the files the stage wrote.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from newslens import config
from newslens.corpus import ingest
from newslens.params import load_run
from newslens.stages import StageRun, stage

OUTPUTS = ["cleaning.csv", "documents.parquet", "ingest_log.csv"]
SAMPLE_ROWS = 200


def _run(params_file: Path | str, root: Path) -> tuple[StageRun, ingest.IngestResult]:
    stage_run = StageRun(load_run(params_file), stage("01-ingest"), root=root)
    return stage_run, ingest.run(stage_run)


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> tuple[StageRun, ingest.IngestResult]:
    return _run("params/seed.yaml", tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[StageRun, ingest.IngestResult]:
    """The news corpus's first rows as a CSV with an outlet column, its first article copied at the end."""
    root = tmp_path_factory.mktemp("sample")
    rows = pd.read_csv(config.PROJECT_ROOT / "data/raw/news-articles/NewsArticles.csv", nrows=SAMPLE_ROWS)
    rows["outlet"] = rows["article_source_link"].map(lambda link: urlparse(link).netloc)
    copy = rows.iloc[[0]].assign(article_id=rows["article_id"].max() + 1)
    pd.concat([rows, copy]).to_csv(root / "news.csv", index=False)
    (root / "sample.yaml").write_text(
        "title: News sample\nunit: document\nunit_name: article\ngroup_name: outlet\nlanguage: en\n"
        f"sources:\n  - path: {root / 'news.csv'}\n    text_column: text\n    id_column: article_id\n"
        "    title_column: title\n    date_column: publish_date\n    group_column: outlet\n", encoding="utf-8")
    return _run(root / "sample.yaml", root)


def _written(stage_run: StageRun, result: ingest.IngestResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """documents.parquet and ingest_log.csv as written; the three paths checked on the way."""
    assert sorted(p.name for p in stage_run.processed_dir.iterdir()) == OUTPUTS
    assert (result.documents_path, result.log_path, result.cleaning_path) == tuple(
        stage_run.processed_dir / name for name in ("documents.parquet", "ingest_log.csv", "cleaning.csv"))
    return pd.read_parquet(result.documents_path), pd.read_csv(result.log_path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("which", ["seed", "sample"])
def test_result_holds_what_the_stage_wrote(which: str, request) -> None:
    stage_run, result = request.getfixturevalue(which)
    documents, log = _written(stage_run, result)
    pd.testing.assert_frame_equal(result.documents, documents.drop(columns="text"))
    assert result.log["location"].tolist() == log["location"].tolist()
    assert result.log["status"].tolist() == log["status"].tolist()
    pd.testing.assert_frame_equal(result.changes, pd.read_csv(result.cleaning_path))
    assert result.n_units == len(documents) and result.n_entries == len(log)
    assert result.n_groups == documents["group"].nunique()
    assert result.status_counts.to_dict() == log["status"].value_counts().to_dict()
    assert list(result.status_counts.index) == sorted(result.status_counts.index)
    assert result.per_group.to_dict() == documents["group"].value_counts().to_dict()
    assert result.per_group.is_monotonic_decreasing
    assert (result.first_date, result.last_date) == (documents["date"].min(), documents["date"].max())
    assert result.lengths["count"] == len(documents) and result.lengths["max"] == documents["n_words"].max()
    assert result.languages["units"].sum() == len(documents)
    assert result.log_summary["entries"].sum() == len(log)
    assert result.near_duplicates == documents["near_duplicate_of"].notna().sum()
    dated = documents["date"].notna().sum()
    assert result.over_time.to_numpy().sum() + len(result.outside) == dated
    assert list(result.outside.columns) == ingest.OUTSIDE_COLUMNS
    assert set(result.outside["doc_id"]) <= set(documents["doc_id"])
    assert result.empty is None and result.language_warning is None and result.notes == ()
    assert stage_run.params.title == result.title and result.run_language == "en"


def test_seed_result(seed) -> None:
    """The seed article: 19 sentences of one document, one day, one group; its sidecar read as metadata."""
    _, result = seed
    assert (result.n_sources, result.n_units, result.n_groups) == (1, 19, 1)
    assert result.per_group.to_dict() == {"seed": 19}
    assert result.first_date == result.last_date == pd.Timestamp("2022-01-10")
    assert result.status_counts.to_dict() == {"ingested": 1, "metadata": 1}
    assert result.resolution.name == "day" and result.over_time.to_dict() == {"seed": {"2022-01-10": 19}}
    assert result.outside.empty
    assert result.languages.to_dict("records") == [{"language": "en", "how": "detected", "units": 19}]
    assert dict(zip(result.changes["kind"], result.changes["count"])) == {
        "lowercase_sentence_joined": 1, "period_to_comma": 2, "stray_period_removed": 2}
    assert result.excerpts["document"].unique().tolist() == [
        "data/raw/seed/xi-lukashenko-call-2022-01-10.txt"]
    assert len(result.excerpts) == ingest.EXCERPTS_PER_DOCUMENT
    assert (result.excerpts["before"] != result.excerpts["after"]).all()


def test_sample_result(sample) -> None:
    """200 news rows and a copy: two empty texts skipped, the copy merged, five outlets, a few outliers."""
    _, result = sample
    documents, log = _written(*sample)
    assert result.status_counts.to_dict() == {"duplicate": 1, "ingested": SAMPLE_ROWS - 2, "skipped": 2}
    summary = {(row.status, row.reason): row.entries for row in result.log_summary.itertuples()}
    assert summary == {("duplicate", "exact duplicate"): 1, ("ingested", ""): SAMPLE_ROWS - 2,
                       ("skipped", "empty text"): 2}
    assert log.loc[log["status"] == "duplicate", "doc_id"].tolist() == ["news-1"]
    assert result.n_groups == 5 and result.per_group.sum() == SAMPLE_ROWS - 2
    assert result.per_group.index[0] == "tass.com"
    assert result.first_date == pd.Timestamp("2016-04-19") and result.last_date == pd.Timestamp("2017-02-07")
    assert result.resolution.name == "day" and len(result.outside) == 4
    assert result.outside["date"].max() < pd.Timestamp("2017-02-02")  # the chart's first day
    assert 0 < result.excerpts["document"].nunique() <= ingest.EXCERPT_DOCUMENTS
    assert result.excerpts.groupby("document").size().max() <= ingest.EXCERPTS_PER_DOCUMENT
    assert set(result.excerpts["document"]) <= set(log.loc[log["status"] != "skipped", "location"])
    assert result.changes.set_index("kind")["count"].gt(0).all()


def test_empty_run_says_why(tmp_path: Path) -> None:
    """A run whose only text is empty writes its files and carries the message the pipeline stops on."""
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "blank.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "blank.yaml").write_text(f"title: Blank\nsources:\n  - path: {tmp_path / 'texts'}/\n",
                                         encoding="utf-8")
    stage_run, result = _run(tmp_path / "blank.yaml", tmp_path)
    documents, log = _written(stage_run, result)
    assert documents.empty and result.n_units == 0 and result.per_group.empty
    assert result.first_date is None and result.over_time.empty and result.excerpts.empty
    assert result.empty == ingest.empty_corpus_message(log, "blank")
    assert result.empty.startswith("run blank has no documents after ingest")
