"""Stage 02 by reference: tasks carry row ranges and scratch parts, the driver receives counts and summaries."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

from newslens.engine import Engine
from newslens.params import load_run
from newslens.text import passes, tokenization



@pytest.fixture(scope="module")
def news_600(news_run, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The first 600 documents of the news run (built first if needed), as one file."""
    folder = tmp_path_factory.mktemp("news600")
    documents = pd.read_parquet(news_run / "documents.parquet").head(600)
    documents.to_parquet(folder / "documents.parquet")
    return folder / "documents.parquet", documents


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.slow
def test_tasks_carry_references_and_the_driver_receives_summaries(news_600, tmp_path) -> None:
    path, documents = news_600
    params = load_run("params/news.yaml").params
    with Engine(2, count_bytes=True) as engine:
        result = tokenization.tokenize_documents(path, params.tokenize, params.language, engine=engine,
                                                 out_dir=tmp_path)
        traffic = engine.traffic.by_label()
    assert result.tokens is None and (tmp_path / "tokens.parquet").is_file()
    assert pd.read_parquet(tmp_path / "tokens.parquet")["doc_id"].drop_duplicates().tolist() == \
        documents["doc_id"].tolist()
    labels = [label for label in traffic if label.startswith("newslens.text.")]
    assert {label.rsplit(".", 1)[1] for label in labels} >= {"surface_part", "normalize_part", "token_part"}
    for label in labels:
        assert traffic[label].largest_task <= 16_000, label  # references, not texts
    received = sum(traffic[label].received for label in labels)
    texts = len(pickle.dumps(documents["text"].tolist(), protocol=pickle.HIGHEST_PROTOCOL))
    # measured: 0.94 of the texts' pickle on 2 partitions of news (per-partition vocabulary counters);
    # the phrase candidates (3.6 MB per partition) and the sentences no longer come back
    assert received < texts
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_the_scratch_folder_is_removed_after_an_error_in_a_task(news_600, tmp_path, monkeypatch) -> None:
    path, _ = news_600
    params = load_run("params/news.yaml").params

    def broken(tokenizer, part):
        assert Path(part.path).exists()  # the first pass's scratch part is there
        raise RuntimeError("a task failed")

    monkeypatch.setattr(passes, "normalize_part", broken)
    with Engine(1) as engine, pytest.raises(RuntimeError, match="a task failed"):
        tokenization.tokenize_documents(path, params.tokenize, params.language, engine=engine, out_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no scratch, no tokens.parquet


def test_the_in_memory_api_leaves_no_scratch(tmp_path, monkeypatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    documents = pd.DataFrame({"doc_id": ["a", "b"], "text": ["Belt and Road talks.", "Talks went on."]})
    result = tokenization.tokenize_documents(documents, load_run("params/seed.yaml").params.tokenize, "en",
                                             engine=Engine(1))
    assert result.tokens["doc_id"].tolist() == ["a", "b"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_folder_of_parts_gives_the_tokens_of_one_file(news_600, tmp_path) -> None:
    """The dask engine's documents.parquet is a folder of parts of uneven sizes: the same tokens."""
    path, documents = news_600
    parts = tmp_path / "parts" / "documents.parquet"
    parts.mkdir(parents=True)
    for number, (start, stop) in enumerate([(0, 123), (123, 480), (480, 481), (481, 600)]):
        documents.iloc[start:stop].to_parquet(parts / f"part-{number:05d}.parquet")
    params = load_run("params/news.yaml").params
    outputs = {}
    for name, source in (("file", path), ("folder", parts)):
        out = tmp_path / name
        out.mkdir()
        with Engine(1) as engine:
            result = tokenization.tokenize_documents(source, params.tokenize, params.language, engine=engine,
                                                     out_dir=out)
        outputs[name] = (pd.read_parquet(out / "tokens.parquet"), result.vocabulary, result.stats)
    file_tokens, file_vocabulary, file_stats = outputs["file"]
    folder_tokens, folder_vocabulary, folder_stats = outputs["folder"]
    pd.testing.assert_frame_equal(file_tokens, folder_tokens)
    pd.testing.assert_frame_equal(file_vocabulary, folder_vocabulary)
    assert file_stats == folder_stats and file_tokens["doc_id"].nunique() == 600
