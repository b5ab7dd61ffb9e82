"""Validation by hand: items drawn from a real fit, answers read back, refused when they do not fit, scored.

The items come from a topic model fitted on the seed article's sentences (as stages 02–04 do);
the answers are CSV files written as the page writes them. Scores are checked against values
worked out by hand.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from newslens.analysis import validation, validation_items
from newslens.analysis.validation import COLUMNS, Refused, model_hash

RUN = "tiny"
# Four topics over five documents; each row sums to 1.
MIXTURE = pd.DataFrame(
    [[0.6, 0.3, 0.1, 0.0], [0.5, 0.2, 0.2, 0.1], [0.0, 0.7, 0.2, 0.1], [0.1, 0.1, 0.1, 0.7], [0.25, 0.25, 0.25, 0.25]],
    index=[f"d{i}" for i in range(5)], columns=[1, 2, 3, 4])
IDENTITIES = {"k": 4, "model": "nmf", "coherence": 0.1,
              "topics": [{"id": t, "terms": [f"term{t}{i}" for i in range(10)]} for t in MIXTURE.columns]}
MODEL = model_hash(IDENTITIES)
TOPICS = pd.DataFrame({"topic": [1, 2, 3, 4], "label": ["Alpha", "Beta", "Gamma", "Delta"]})


@pytest.fixture
def project(tmp_path):
    """A run's model files and an empty answers folder."""
    (tmp_path / "topics.json").write_text(json.dumps(IDENTITIES), encoding="utf-8")
    doc_topics = MIXTURE.stack().rename("weight").rename_axis(["doc_id", "topic"]).reset_index()
    doc_topics.to_parquet(tmp_path / "doc_topics.parquet")
    TOPICS.to_csv(tmp_path / "topics.csv", index=False)
    (tmp_path / "validation" / RUN).mkdir(parents=True)
    return tmp_path


def word_row(item: str, topic: int, chosen: str, *, intruder: str = "odd") -> list[str]:
    options = [f"term{topic}{i}" for i in range(5)] + [intruder]
    return [item, "word", str(topic), "", *options, intruder, chosen]


def topic_row(item: str, doc: str, options: list[int], intruder: int, chosen: int) -> list[str]:
    main = int(MIXTURE.loc[doc].idxmax()) if doc in MIXTURE.index else 1
    return [item, "topic", str(main), doc, *map(str, options), "", "", str(intruder), str(chosen)]


def write_answers(project, name: str, coder: str, rows: list[list[str]], *, run: str = RUN, model: str = MODEL,
                  header: list[str] = COLUMNS) -> None:
    path = project / "validation" / RUN / name
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # with a BOM, as the page writes it
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([run, coder, model, *row] for row in rows)


def check(project) -> validation.Validation:
    return validation.validate(RUN, project / "validation" / RUN, project / "topics.json",
                               project / "doc_topics.parquet", project / "topics.csv")


ANN = [word_row("w001", 1, "odd"), word_row("w002", 2, "term20"), word_row("w003", 3, "odd"),
       topic_row("t004", "d0", [1, 2, 3, 4], 4, 4),   # right: 0
       topic_row("t005", "d1", [1, 2, 3, 4], 4, 1),   # log(0.1) - log(0.5)
       topic_row("t006", "d2", [2, 3, 4, 1], 1, 2)]   # log(0.001 floor) - log(0.7)


def test_only_the_answered_documents_mixtures_are_read(project):
    """The answers name a few documents; doc_topics.parquet has a row per document and topic of the
    corpus: the scores read the named documents' rows (every topic a column), nothing else."""
    write_answers(project, "ann.csv", "ann", ANN)
    write_answers(project, "bad.csv", "bob", ANN, header=COLUMNS[:-1] + ["picked"])  # refused: not read
    assert validation.answered_documents(project / "validation" / RUN) == ["d0", "d1", "d2"]
    read = validation.answered_mixtures(project / "doc_topics.parquet", ["d2", "d0"], TOPICS["topic"])
    whole = pd.read_parquet(project / "doc_topics.parquet").pivot(index="doc_id", columns="topic", values="weight")
    pd.testing.assert_frame_equal(read, whole.loc[["d0", "d2"]], check_index_type=False)
    none = validation.answered_mixtures(project / "doc_topics.parquet", [], TOPICS["topic"])
    assert none.empty and none.columns.tolist() == [1, 2, 3, 4]
    assert check(project).overall["topic_items"] == 3  # scored from those rows


def test_no_answers_means_not_validated(project):
    result = check(project)
    assert not result.validated and result.files.empty
    assert result.words["answers"].tolist() == [0, 0, 0, 0]


def test_one_coder_scores_as_worked_out_by_hand(project):
    write_answers(project, "ann.csv", "ann", ANN)
    result = check(project)
    assert result.files["status"].tolist() == ["accepted"]
    words = result.words.set_index("topic")
    assert words.loc[1, ["answers", "found", "precision"]].tolist() == [1, 1, 1.0]
    assert words.loc[2, ["answers", "found", "precision"]].tolist() == [1, 0, 0.0]
    assert words.loc[4, "answers"] == 0 and math.isnan(words.loc[4, "precision"])
    odds = result.odds.set_index("topic")
    assert odds.loc[1, "answers"] == 2  # d0 and d1: main topic 1
    assert odds.loc[1, "log_odds"] == round((0 + math.log(0.1) - math.log(0.5)) / 2, 2)
    assert odds.loc[2, "log_odds"] == round(math.log(0.001) - math.log(0.7), 2)
    assert result.overall["precision"] == round(2 / 3, 2)
    assert result.overall["precision_ci"] == tuple(round(x, 2) for x in validation.wilson(2, 3))
    expected = (math.log(0.1) - math.log(0.5) + math.log(0.001) - math.log(0.7)) / 3
    assert result.overall["log_odds"] == round(expected, 2)
    low, high = result.overall["log_odds_ci"]
    assert low <= result.overall["log_odds"] <= high <= 0
    assert result.agreement == {"word": None, "topic": None}  # one coder


def test_a_topic_the_coders_could_not_read_is_marked(project):
    for coder, chosen in (("ann", "term10"), ("bob", "term11"), ("cy", "odd")):
        write_answers(project, f"{coder}.csv", coder, [word_row("w001", 1, chosen), word_row("w002", 2, "odd")])
    pytest.importorskip("krippendorff")
    result = check(project)
    words = result.words.set_index("topic")
    assert words.loc[1, ["answers", "coders", "found", "unreadable"]].tolist() == [3, 3, 1, True]
    assert not words.loc[2, "unreadable"]  # all three found it
    assert result.agreement["topic"] is None and result.agreement["word"] is not None


def test_agreement_is_krippendorffs_alpha(project):
    krippendorff = pytest.importorskip("krippendorff")
    write_answers(project, "ann.csv", "ann", ANN)
    bob = [row[:-1] + [row[-2]] for row in ANN]  # bob always finds the intruder
    write_answers(project, "bob.csv", "bob", bob)
    result = check(project)
    assert result.overall["coders"] == 2
    # By hand: ann's and bob's chosen options per word item, coded as the sorted distinct answers.
    values = sorted({"odd", "term20"})
    data = np.array([[values.index(c) for c in ("odd", "term20", "odd")], [values.index("odd")] * 3], dtype=float)
    assert result.agreement["word"] == round(float(krippendorff.alpha(reliability_data=data,
                                                                       level_of_measurement="nominal")), 2)


# ---------------------------------------------------------------- answers that do not fit

def test_another_runs_answers_are_refused(project):
    write_answers(project, "other.csv", "ann", ANN, run="news")
    result = check(project)
    assert not result.validated
    assert result.files[["file", "status"]].values.tolist() == [["other.csv", "refused"]]
    assert "answers for run 'news', not 'tiny'" in result.files["reason"].iloc[0]


def test_answers_to_an_older_model_are_stale(project):
    write_answers(project, "old.csv", "ann", ANN, model="0123456789ab")
    write_answers(project, "new.csv", "bob", ANN)
    result = check(project)
    files = result.files.set_index("file")
    assert files.loc["old.csv", "status"] == "stale" and "refitted" in files.loc["old.csv", "reason"]
    assert files.loc["new.csv", "status"] == "accepted"
    assert set(result.answers["coder"]) == {"bob"}


@pytest.mark.parametrize("rows, header, reason", [
    ([], COLUMNS, "holds no answers"),
    (ANN, [c for c in COLUMNS if c != "chosen"], "lacks the column chosen"),
    ([word_row("w001", 1, "nowhere")], COLUMNS, "item w001: its answer is not among its options"),
    ([word_row("w001", 1, "odd"), word_row("w001", 2, "odd")], COLUMNS, "answers item w001 twice"),
    ([["w001", "color", "1", "", "a", "b", "", "", "", "", "a", "a"]], COLUMNS, "unknown kind 'color'"),
    ([topic_row("t001", "d9", [1, 2, 3, 4], 4, 4)], COLUMNS, "the run has no document 'd9'"),
    ([word_row("w001", 7, "odd")], COLUMNS, "the model has no topic '7'"),
])
def test_a_malformed_file_is_refused_with_its_reason(project, rows, header, reason):
    write_answers(project, "bad.csv", "ann", rows, header=header)
    write_answers(project, "good.csv", "bob", ANN)
    result = check(project)
    files = result.files.set_index("file")
    assert files.loc["bad.csv", "status"] == "refused"
    assert reason in files.loc["bad.csv", "reason"]
    assert set(result.answers["coder"]) == {"bob"}  # nothing of the bad file enters


def test_a_file_that_is_not_text_is_refused(project):
    (project / "validation" / RUN / "binary.csv").write_bytes(b"\xff\xfe\x00\x81garbage")
    result = check(project)
    assert result.files["status"].tolist() == ["refused"]
    assert "not a readable CSV file" in result.files["reason"].iloc[0]


def test_a_coder_who_answered_twice_is_refused_entirely(project):
    write_answers(project, "ann-1.csv", "ann", ANN)
    write_answers(project, "ann-2.csv", "ann", ANN[:2])
    write_answers(project, "bob.csv", "bob", ANN)
    result = check(project)
    files = result.files.set_index("file")
    assert files.loc[["ann-1.csv", "ann-2.csv"], "status"].tolist() == ["refused", "refused"]
    assert "coder 'ann' answered more than once (ann-1.csv, ann-2.csv)" in files.loc["ann-1.csv", "reason"]
    assert set(result.answers["coder"]) == {"bob"}


# ---------------------------------------------------------------- intervals

@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 200), data=st.data())
def test_wilson_interval_holds_the_share(n, data):
    found = data.draw(st.integers(0, n))
    low, high = validation.wilson(found, n)
    assert 0 <= low <= found / n <= high <= 1
    wider = validation.wilson(found, n)
    narrower = validation.wilson(found * 4, n * 4)  # four times the answers, the same share
    assert narrower[1] - narrower[0] < wider[1] - wider[0]


def test_bootstrap_of_constant_values_is_that_value():
    values = pd.Series([-1.5, -1.5, -1.5])
    assert validation.bootstrap_mean(values, pd.Series(["a", "b", "c"])) == (-1.5, -1.5)


# ---------------------------------------------------------------- items from a real fit

@pytest.fixture(scope="module")
def seed_fit(tmp_path_factory):
    """The seed article's sentences fitted as stages 02–04 do, with the files the items read."""
    from newslens.analysis.tfidf import fit_tfidf, write_tfidf
    from newslens.analysis.topics import run_topics, write_outputs
    from newslens.params import KeywordsParams, TokenizeParams, TopicsParams
    from newslens.text.tokenization import load_analyzer, tokenize_documents
    from newslens.text.tokenization import write_outputs as write_tokens
    from test_browser_topics import seed_documents

    folder = tmp_path_factory.mktemp("seed-items")
    documents = seed_documents()
    documents.to_parquet(folder / "documents.parquet")
    tokens = tokenize_documents(documents[["doc_id", "text"]], TokenizeParams(), "en", n_jobs=1)
    write_tokens(tokens, folder)
    tfidf = fit_tfidf(*load_analyzer(folder), KeywordsParams(min_df=2, max_df=0.9))
    write_tfidf(tfidf, folder)
    display = dict(zip(tokens.vocabulary["term"], tokens.vocabulary["display"]))
    result = run_topics(tfidf, TopicsParams(k=5, seeds=[0]), display=display,
                        identities_path=folder / "topics.json", labels_path=folder / "labels.yaml", n_jobs=1)
    write_outputs(result, folder, folder / "topics.json")
    return folder, result


def test_the_affinity_read_a_range_of_rows_at_a_time_is_the_product_in_memory(seed_fit, monkeypatch):
    from newslens.analysis.tfidf import read_tfidf
    from newslens.stages import TFIDF_FILES

    folder, fit = seed_fit
    files = [folder / name for name in TFIDF_FILES]
    in_memory, rows = validation_items.topic_affinity(fit.mixtures, read_tfidf(*files))
    whole, same_rows = validation_items.topic_affinity(fit.mixtures, validation_items.TfidfRows(*files))
    assert rows == same_rows and np.array_equal(whole, in_memory)  # one range: the same product
    monkeypatch.setattr(validation_items, "AFFINITY_ROWS", 7)
    assert len(fit.mixtures) > 7  # several ranges
    summed, _ = validation_items.topic_affinity(fit.mixtures, validation_items.TfidfRows(*files))
    assert np.allclose(summed, in_memory, rtol=1e-3, atol=0)


def test_items_follow_the_rules(seed_fit):
    folder, fit = seed_fit
    data = validation_items.draw(RUN, folder, folder / "topics.json", n_topic_items=8)
    assert data["model"] == model_hash(json.loads((folder / "topics.json").read_text(encoding="utf-8")))
    words = [i for i in data["items"] if i["kind"] == "word"]
    topics = [i for i in data["items"] if i["kind"] == "topic"]
    assert [i["topics"][0] for i in words] == fit.topics["topic"].tolist()  # every topic, once
    display = pd.read_parquet(folder / "vocabulary.parquet").set_index("term")["display"]
    ranked = fit.topic_terms.sort_values(["topic", "rank"])
    for item in words:
        own = ranked.loc[ranked["topic"] == item["topics"][0], "term"].tolist()
        top5 = {display.get(t, t) for t in own[:5]}
        assert len(item["options"]) == 6 and set(item["options"]) == top5 | {item["intruder"]}
        others = {display.get(t, t) for t in ranked.loc[(ranked["topic"] != item["topics"][0]) &
                                                        (ranked["rank"] <= 10), "term"]}
        assert item["intruder"] in others and item["intruder"] not in {display.get(t, t) for t in own}
    mixture = fit.mixtures
    assert 0 < len(topics) <= 8
    for item in topics:
        weights = mixture.loc[item["doc_id"]]
        shown = [t for t in item["options"] if t != item["intruder"]]
        assert sorted(shown) == sorted(weights.sort_values(ascending=False, kind="stable").index[:3].tolist())
        assert min(weights[shown]) >= validation_items.MIN_SHOWN_SHARE
        assert weights[item["intruder"]] < validation_items.MAX_INTRUDER_SHARE
        assert item["doc_id"] in data["documents"]
    ids = [i["id"] for i in data["items"]]
    assert len(set(ids)) == len(ids)


def test_the_eligible_documents_follow_the_rule_read_document_by_document():
    """Each document's main topics by weight (ties to the lower id) and its low topics, computed for
    every document at once, are what the rule gives one document at a time; ties are common."""
    rng = np.random.default_rng(7)
    weights = np.round(rng.dirichlet([0.3] * 6, 400), 2)
    mixture = pd.DataFrame(weights, index=[f"d{i:03d}" for i in range(400)], columns=[2, 5, 7, 8, 11, 13])
    expected = {}
    for doc_id, row in mixture.iterrows():
        ordered = sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = [int(t) for t, w in ordered[:validation_items.SHOWN_TOPICS] if w >= validation_items.MIN_SHOWN_SHARE]
        low = sorted(int(t) for t, w in ordered if w < validation_items.MAX_INTRUDER_SHARE)
        if len(shown) == validation_items.SHOWN_TOPICS and low:
            expected[doc_id] = (shown, low)
    assert 20 < len(expected) < 400
    assert validation_items._eligible(mixture) == expected
    assert validation_items._eligible(mixture[[2, 5]]) == {}  # fewer topics than an item shows


def test_the_mixtures_read_a_row_group_at_a_time_are_the_wide_table(seed_fit, tmp_path):
    from newslens.analysis.topic_views import read_mixtures, wide, write_doc_topics

    folder, fit = seed_fit
    written = write_doc_topics(fit.mixtures, tmp_path / "doc_topics.parquet", rows=7)  # several row groups
    read = read_mixtures(written)
    expected = wide(pd.read_parquet(folder / "doc_topics.parquet")).sort_index(axis=1)
    pd.testing.assert_frame_equal(read, expected, check_index_type=False, check_column_type=False)
    assert read.columns.tolist() == sorted(fit.mixtures.columns)


def test_items_are_the_same_for_every_coder_and_change_with_the_model(seed_fit):
    folder, _ = seed_fit
    first = validation_items.draw(RUN, folder, folder / "topics.json", n_topic_items=8)
    again = validation_items.draw(RUN, folder, folder / "topics.json", n_topic_items=8)
    assert first == again
    assert validation_items.item_seed(RUN, "aaaaaaaaaaaa") != validation_items.item_seed(RUN, "bbbbbbbbbbbb")
    assert validation_items.item_seed(RUN, first["model"]) != validation_items.item_seed("other", first["model"])


def test_a_negative_number_of_items_is_refused(seed_fit):
    folder, _ = seed_fit
    with pytest.raises(ValueError, match="must be 0 or more"):
        validation_items.draw(RUN, folder, folder / "topics.json", n_topic_items=-1)


def test_read_answers_keeps_every_column_as_text(project):
    write_answers(project, "ann.csv", "ann", ANN)
    answers = validation.read_answers(project / "validation" / RUN / "ann.csv")
    assert answers.columns.tolist() == COLUMNS
    assert all(isinstance(value, str) for value in answers.to_numpy().ravel())
    with pytest.raises(Refused):
        (project / "validation" / RUN / "empty.csv").write_text("", encoding="utf-8")
        validation.read_answers(project / "validation" / RUN / "empty.csv")
