"""Stage 04 as one call: run() on the seed run in a temporary project, and the one topic matcher."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from newslens import config
from newslens.analysis import topics
from newslens.analysis.matching import optimal_pairs
from newslens.pipeline import in_process
from newslens.analysis.topic_views import long_table


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """The seed run's stages 01–03, each by its run(), then stage 04's run()."""
    root = tmp_path_factory.mktemp("seed-topics")
    in_process.run_stages("params/seed.yaml", root=root, through="03-keywords")
    stage_run = in_process.stage_run("params/seed.yaml", "04-topics", root=root)
    return root, stage_run, topics.run(stage_run)


def test_run_writes_the_stage_outputs_and_returns_what_it_wrote(seed):
    root, stage_run, result = seed
    fit = result.fit
    assert set(result.files) == {"sweep.csv", "topic_terms.parquet", "doc_topics.parquet", "topics.csv",
                                 "k_choice.json", "identities", "topic_explorer", "focus_topics.csv",
                                 "topic_effects.parquet", "topic_periods.parquet"}
    assert result.files["identities"] == root / "reports" / "seed" / "topics.json"
    assert all(path.is_file() and path.is_relative_to(root) for path in result.files.values())
    pd.testing.assert_frame_equal(pd.read_csv(result.files["sweep.csv"]), fit.sweep, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(result.files["doc_topics.parquet"]), long_table(fit.mixtures))
    pd.testing.assert_frame_equal(pd.read_parquet(result.files["topic_terms.parquet"]), fit.topic_terms)
    shown = pd.read_csv(result.files["topics.csv"])
    assert shown["topic"].tolist() == fit.topics["topic"].tolist() == [1, 2, 3, 4]  # no earlier run: fresh ids
    assert json.loads(result.files["k_choice.json"].read_text()) == {"k": fit.k, "reason": fit.reason}
    assert json.loads(result.files["identities"].read_text()) == fit.identities


def test_run_fits_the_committed_seed_topics(seed):
    """The same model as the committed seed report: k, NPMI and each topic's top terms in order."""
    _, _, result = seed
    committed = json.loads((config.PROJECT_ROOT / "reports" / "seed" / "topics.json").read_text())
    assert (result.fit.k, result.fit.model, result.fit.coherence) == \
        (committed["k"], committed["model"], committed["coherence"]) == (4, "nmf", 0.3178)
    assert [t["terms"] for t in result.fit.identities["topics"]] == [t["terms"] for t in committed["topics"]]
    assert result.fit.sweep["k"].tolist() == [2, 3, 4] and (result.fit.sweep["fits"] == 3).all()  # 3 seeds
    assert result.fit.k_note.startswith("k searched 2–4 (of 2–6 asked)")  # capped by the corpus's size


def test_run_holds_what_the_report_shows(seed):
    root, stage_run, result = seed
    documents = pd.read_parquet(stage_run.processed_dir / "documents.parquet")
    held = result.documents  # every column but the texts, which it holds for the documents shown only
    pd.testing.assert_frame_equal(held.drop(columns="text"), documents.drop(columns="text"))
    shown = set(result.representative["doc_id"])
    with_text = held["text"].notna()
    assert shown and shown <= set(held.loc[with_text, "doc_id"])
    assert (held.loc[with_text, "text"] == documents.loc[with_text, "text"]).all()
    assert result.n_documents == len(result.fit.mixtures)
    assert len(result.terms) == len(result.totals) == result.fit.components.shape[1]
    assert result.display["china"] == "China"
    assert not result.texts.short or result.texts.median_tokens < result.texts.threshold
    assert sorted(result.focus_ids) == sorted(documents["doc_id"])  # the focus is the whole (only) article
    anchors = result.anchors
    assert anchors["model"].tolist()[0] == "newslens (this report)" and len(anchors) == 3
    assert anchors["npmi"].tolist()[0] == result.fit.coherence and (anchors["k"] == result.fit.k).all()
    assert (stage_run.build_dir / "anchor_coherence.json").is_file()  # the baselines' cache
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.anchors = None


def test_run_writes_the_explorer_and_holds_the_prevalences(seed):
    _, stage_run, shown = seed
    result = shown
    written = json.loads((stage_run.processed_dir / "topic_explorer.json").read_text())
    assert written == shown.explorer and written["k"] == result.fit.k
    assert [t["id"] for t in written["topics"]] == result.fit.topics["topic"].tolist()
    assert shown.by_group.shape == (result.fit.k, 1)  # one group: the report says so instead of a chart
    assert shown.over_time.shape[0] in (0, result.fit.k) and shown.resolution is not None
    assert shown.focus.index[0].startswith("T") and shown.focus.sum() == pytest.approx(1, abs=1e-3)
    assert shown.representative.groupby("topic").size().max() <= 3


def test_run_writes_the_topic_effects_of_its_one_group_and_one_date(seed):
    _, stage_run, result = seed
    written = pd.read_parquet(stage_run.processed_dir / "topic_effects.parquet")
    assert written.columns.tolist() == ["topic", "by", "level", "share", "share_low", "share_high", "n_docs"]
    pd.testing.assert_frame_equal(written, result.effects.table)
    # The seed: 19 sentences of one article, one group, one date: group rows only, each with an interval.
    assert written["by"].unique().tolist() == ["group"] and written["topic"].tolist() == [1, 2, 3, 4]
    assert (written["n_docs"] == 19).all() and (written["share_low"] <= written["share"]).all()
    assert written["share"].sum() == pytest.approx(1, abs=1e-3)  # one group: its shares are the prevalences
    assert result.effects.time_reason == "every dated sentence carries the same date (10 January 2022)"


# ---------------------------------------------------------------- the one matcher

def _best_total(similarity: np.ndarray) -> float:
    """The largest summed similarity of a one-to-one matching, by brute force."""
    rows, cols = similarity.shape
    if rows > cols:
        return _best_total(similarity.T)
    return max(sum(similarity[i, p[i]] for i in range(rows)) for p in itertools.permutations(range(cols), rows))


def test_the_matcher_recovers_a_planted_permutation():
    rng = np.random.default_rng(4)
    planted = rng.permutation(8)
    similarity = rng.uniform(0, 0.5, (8, 8))
    similarity[np.arange(8), planted] = 0.9
    assert optimal_pairs(similarity) == [(i, int(planted[i])) for i in range(8)]


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (4, 4)])
def test_the_matcher_is_optimal_and_mirrors_when_the_sides_swap(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(40):
        similarity = rng.integers(0, 3, shape).astype(float) / 2  # few values: many ties
        pairs = optimal_pairs(similarity, "a", "b")
        assert len(pairs) == min(shape) and len({i for i, _ in pairs}) == len({j for _, j in pairs}) == min(shape)
        assert sum(similarity[i, j] for i, j in pairs) == pytest.approx(_best_total(similarity))
        assert optimal_pairs(similarity.T, "b", "a") == sorted((j, i) for i, j in pairs)


def test_the_matcher_breaks_ties_the_same_way_every_time():
    ties = np.ones((3, 3))
    first = optimal_pairs(ties, "x", "y")
    assert first == optimal_pairs(ties.copy(), "x", "y") == [(0, 0), (1, 1), (2, 2)]
    assert optimal_pairs(ties.T, "y", "x") == first  # the mirror of the diagonal is the diagonal
    assert optimal_pairs(np.zeros((0, 3))) == []
