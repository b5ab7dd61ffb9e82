"""The run's limits (stage 03's limits.json): span and focus, concentration, groups over time, the floor."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from newslens.analysis import compare, limits
from newslens.report import limits_prose
from newslens.wording import Words

ARTICLE = Words("article", "outlet")
SIMILAR = pd.DataFrame({"similarity": [0.302125, 0.23321, 0.163209]})


def _documents(dates: list, groups: list | None = None, focus_date=None) -> pd.DataFrame:
    """Documents d0.. with these dates and groups; with ``focus_date``, a focus ``f`` (group seed) first."""
    groups = groups if groups is not None else ["x"] * len(dates)
    frame = pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(dates))], "group": pd.Series(groups, dtype=object),
                          "date": pd.to_datetime(pd.Series(dates, dtype=object))})
    if focus_date is None:
        return frame
    focus = pd.DataFrame({"doc_id": ["f"], "group": ["seed"], "date": pd.to_datetime([focus_date])})
    return pd.concat([focus, frame], ignore_index=True)


def _matrix(rows: int, seed: int = 1) -> sparse.csr_matrix:
    """A documents × terms TF-IDF-like matrix, l2-normalised rows, with a few shared terms."""
    rng = np.random.default_rng(seed)
    dense = rng.random((rows, 40)) * (rng.random((rows, 40)) < 0.2)
    dense[:, 0] += 0.05  # every row has a term, so no row is empty
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    return sparse.csr_matrix(dense)


# ---------------------------------------------------------------- the span, and the focus in it

def test_a_focus_years_after_its_corpus_is_outside_the_span_with_the_gap():
    documents = _documents(["2016-04-19", "2017-02-10", "2017-03-30"], focus_date="2022-01-10")
    span = limits.date_span(documents, ["f"])
    assert span["focus_outside_span"] is True and span["side"] == "after"
    assert span["gap"] == {"days": 1747, "years": 4.78, "months": 57}
    assert span["others"] == {"first": "2016-04-19", "last": "2017-03-30", "documents": 3}
    assert span["all"] == {"first": "2016-04-19", "last": "2022-01-10", "documents": 4}


def test_a_focus_before_its_corpus_is_outside_on_the_other_side():
    span = limits.date_span(_documents(["2001-05-01", "2003-01-02"], focus_date="2000-05-01"), ["f"])
    assert (span["focus_outside_span"], span["side"], span["gap_days"]) == (True, "before", 365)


@pytest.mark.parametrize("focus_date", ["2017-02-10", "2016-04-19", "2017-03-30"])
def test_a_focus_inside_the_span_or_on_its_edge_is_not_outside(focus_date):
    span = limits.date_span(_documents(["2016-04-19", "2017-02-10", "2017-03-30"], focus_date=focus_date), ["f"])
    assert span["focus_outside_span"] is False and span["gap"] is None and span["reason"] is None


@pytest.mark.parametrize("documents, focus, reason", [
    (_documents(["2017-01-01", "2017-02-01"]), [], "the run has no focus"),
    (_documents(["2017-01-01", "2017-02-01"]), ["d0", "d1"], "the focus is every document of the run"),
    (_documents([None, None], focus_date="2022-01-10"), ["f"], "no other document has a date"),
    (pd.concat([_documents([None]).assign(doc_id="f"), _documents(["2017-01-01"])]), ["f"], "the focus has no date"),
])
def test_without_a_dated_focus_and_dated_others_the_answer_is_null_with_a_reason(documents, focus, reason):
    span = limits.date_span(documents, focus)
    assert span["focus_outside_span"] is None and span["reason"] == reason


# ---------------------------------------------------------------- concentration

def test_a_corpus_mostly_from_two_months_of_a_year_is_concentrated():
    dates = ["2016-04-19", "2016-08-01"] + ["2017-02-06"] * 9 + ["2017-03-30"] * 10
    found = limits.concentration(pd.Series(pd.to_datetime(dates)))
    assert found["days"] == {"first": "2017-02-06", "last": "2017-03-30", "length": 53, "documents": 19,
                             "share": 0.9}
    assert found["months"]["first"] == "2017-02" and found["months"]["count"] == 2
    assert found["span_days"] == 345 and found["window_share"] == 0.15 and found["concentrated"] is True


def test_an_even_spread_is_not_concentrated():
    dates = pd.Series(pd.date_range("2010-01-01", "2019-12-31", periods=200))
    found = limits.concentration(dates)
    assert found["concentrated"] is False and 0.85 < found["window_share"] < 0.95


@pytest.mark.parametrize("dates, reason", [
    ([None, None], "fewer than two documents have a date"),
    (["2017-01-01", None], "fewer than two documents have a date"),
    (["2017-01-01", "2017-01-01"], "every dated document has the same date"),
])
def test_no_dates_or_one_date_give_no_concentration_and_say_why(dates, reason):
    found = limits.concentration(pd.Series(pd.to_datetime(pd.Series(dates, dtype=object))))
    assert found["concentrated"] is None and found["days"] is None and found["reason"] == reason


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4000), min_size=2, max_size=60))
def test_the_window_holds_at_least_the_share_and_no_shorter_window_does(offsets):
    days = pd.Series(pd.Timestamp("2000-01-01") + pd.to_timedelta(offsets, unit="D"))
    found = limits.concentration(days)
    if found["days"] is None:
        assert len(set(offsets)) == 1
        return
    values = np.sort(np.array(offsets))
    need = int(np.ceil(limits.CONCENTRATION_SHARE * len(values)))
    assert found["days"]["documents"] >= need
    shortest = min(values[i + need - 1] - values[i] for i in range(len(values) - need + 1))
    assert found["days"]["length"] == shortest + 1


# ---------------------------------------------------------------- groups over the span

def _news_like() -> pd.DataFrame:
    """China Daily alone for months, then eight more outlets in February and March 2017."""
    dates = ["2016-12-05"] * 28 + ["2017-01-20"] * 2 + ["2017-02-10", "2017-03-10"] * 40 + ["2017-03-20"] * 2
    groups = ["China Daily"] * 28 + ["CNN", "DW"] + [f"outlet {i % 8}" for i in range(80)] + ["China Daily"] * 2
    return _documents(dates, groups)


def test_a_stretch_where_one_group_holds_nearly_everything_is_found_and_said():
    documents = _news_like()
    found = limits.group_coverage(documents["date"], documents["group"])
    lead = found["lead"]
    assert (lead["boundary"], lead["group"], lead["group_documents"], lead["documents"]) == (
        "2017-02-01", "China Daily", 28, 30)
    assert lead["other_groups_outside_share"] == round(80 / 82, 3) and found["tail"] is None
    assert limits_prose.coverage_sentence({"groups": found}, ARTICLE) == (
        "Before February 2017, China Daily is nearly the only outlet (28 of the 30 articles); "
        "97.6% of the other outlets' articles date from February 2017 on.")


def test_groups_that_start_late_cover_only_part_of_the_span():
    documents = _news_like()
    found = limits.group_coverage(documents["date"], documents["group"])
    spans = {g["group"]: g for g in found["groups"]}
    assert spans["China Daily"]["first"] == "2016-12-05" and spans["outlet 0"]["first"] == "2017-02-10"
    assert "outlet 0" in found["partial"] and "China Daily" not in found["partial"]


def test_a_group_alone_at_the_end_is_the_tail():
    dates = ["2017-01-10", "2017-01-20"] * 20 + ["2017-03-10"] * 10
    groups = ["A", "B"] * 20 + ["A"] * 10
    found = limits.group_coverage(pd.Series(pd.to_datetime(dates)), pd.Series(groups))
    assert found["lead"] is None and found["tail"]["group"] == "A" and found["tail"]["boundary"] == "2017-02-01"
    assert limits_prose.coverage_sentence({"groups": found}, ARTICLE).startswith(
        "From February 2017 on, A is the only outlet (10 of the 10 articles)")


def test_mixed_groups_throughout_give_no_stretch_and_no_sentence():
    dates = pd.Series(pd.date_range("2017-01-01", "2017-06-30", periods=60))
    found = limits.group_coverage(dates, pd.Series(["A", "B", "C"] * 20))
    assert found["lead"] is None and found["tail"] is None and found["partial"] == []
    assert limits_prose.coverage_sentence({"groups": found}, ARTICLE) is None


@pytest.mark.parametrize("groups", [["A"] * 6, [None] * 6, ["A", "A", "A", None, "(no group)", ""]])
def test_one_group_has_no_coverage_to_compare(groups):
    found = limits.group_coverage(pd.Series(pd.date_range("2017-01-01", periods=6, freq="MS")), pd.Series(groups))
    assert found["groups"] == [] and found["lead"] is None and found["reason"].startswith("fewer than two groups")


# ---------------------------------------------------------------- the similarity floor

def test_the_floor_of_a_corpus_of_some_hundred_documents_is_from_every_pair():
    matrix = _matrix(300)
    found = limits.similarity_floor(matrix, np.arange(300))
    cosines = np.round((matrix @ matrix.T).toarray()[np.triu_indices(300, k=1)], 6)
    assert found["pairs"] == 300 * 299 // 2 and found["sampled"] is False
    assert (found["level"], found["one_in"]) == (0.9967, 300)
    assert found["floor"] == round(float(np.quantile(cosines, 1 - 1 / 300, method="higher")), 3)
    # about 1 pair in 300 is above it
    assert 0.002 < (cosines > found["floor"]).mean() < 0.005


def test_the_blocks_of_the_all_pairs_product_give_every_pair_once(monkeypatch):
    matrix = _matrix(23)
    monkeypatch.setattr(limits, "PAIR_BLOCK", 5)
    cosines = limits._all_pair_cosines(matrix)
    expected = np.round((matrix @ matrix.T).toarray()[np.triu_indices(23, k=1)], 6)
    assert len(cosines) == 253 and np.array_equal(np.sort(cosines), np.sort(expected))


def test_a_large_corpus_samples_pairs_the_same_way_for_the_same_seed():
    matrix = _matrix(300)
    rows = np.arange(300)
    first = limits.similarity_floor(matrix, rows, pairs=20_000, all_pairs=0)
    assert first == limits.similarity_floor(matrix, rows, pairs=20_000, all_pairs=0)
    assert first["sampled"] is True and first["seed"] == limits.FLOOR_SEED and first["pairs"] == 20_000
    exact = limits.similarity_floor(matrix, rows)["floor"]
    for seed in (1, 2):
        assert limits.similarity_floor(matrix, rows, pairs=20_000, seed=seed, all_pairs=0)["floor"] == pytest.approx(
            exact, abs=0.03)


def test_a_small_corpus_uses_every_pair_and_the_level_of_one_in_a_hundred():
    matrix = _matrix(12)
    found = limits.similarity_floor(matrix, np.arange(12))
    cosines = np.round((matrix @ matrix.T).toarray()[np.triu_indices(12, k=1)], 6)
    assert found["pairs"] == 66 and (found["level"], found["one_in"]) == (0.99, 100) and found["seed"] is None
    assert found["floor"] == round(float(np.quantile(cosines, 0.99, method="higher")), 3)


def test_the_focus_is_left_out_of_the_pairs_and_its_neighbours_are_counted_above_the_floor():
    matrix = _matrix(50)
    doc_ids = [f"d{i}" for i in range(50)]
    found = limits.similar_limits(matrix, doc_ids, ["d0"], SIMILAR)
    alone = limits.similarity_floor(matrix, np.arange(1, 50))
    assert found["floor"] == alone["floor"] and found["shown"] == 3
    assert found["above"] == int((SIMILAR["similarity"] > found["floor"]).sum())


@pytest.mark.parametrize("focus, reason", [([], "the run has no focus"),
                                           (["d0", "d1"], "fewer than two other documents to pair")])
def test_no_floor_without_a_focus_or_other_documents(focus, reason):
    found = limits.similar_limits(_matrix(2), ["d0", "d1"], focus, SIMILAR.iloc[:0])
    assert found["floor"] is None and found["above"] is None and found["reason"] == reason


# ---------------------------------------------------------------- the whole file

def _whole(documents: pd.DataFrame, focus: list[str]) -> dict:
    matrix = _matrix(len(documents))
    return limits.limits(documents, focus, matrix, documents["doc_id"].tolist(), SIMILAR.iloc[:0])


@pytest.mark.parametrize("documents, focus", [
    (_documents([]), []),
    (_documents(["2017-01-01"]), ["d0"]),
    (_documents(["2017-01-01", "2017-01-01", "2017-01-01"]), ["d0", "d1", "d2"]),  # the seed run
    (_documents([None, None, None], ["a", "b", None]), ["d1"]),
    (_documents(["2017-01-01", None]), []),
])
def test_tiny_and_odd_runs_give_a_file_with_nulls_and_reasons(documents, focus):
    data = _whole(documents, focus) if len(documents) else limits.limits(
        documents, focus, sparse.csr_matrix((0, 3)), [], SIMILAR.iloc[:0])
    text = limits.limits_json(data)
    assert json.loads(text) == data and "NaN" not in text
    assert data["span"]["focus_outside_span"] is None and data["span"]["reason"]
    assert data["concentration"]["concentrated"] is None and data["concentration"]["reason"]
    assert limits_prose.span_sentence(data, ARTICLE) is None and limits_prose.floor_sentence(data, ARTICLE) is None


def test_the_file_is_the_same_bytes_for_reordered_documents():
    documents = _news_like()
    documents = pd.concat([_documents([], focus_date="2022-01-10"), documents], ignore_index=True)
    matrix = _matrix(len(documents))
    one = limits.limits_json(limits.limits(documents, ["f"], matrix, documents["doc_id"].tolist(), SIMILAR))
    order = np.random.default_rng(3).permutation(len(documents))
    shuffled = documents.iloc[order].reset_index(drop=True)
    two = limits.limits_json(limits.limits(shuffled, ["f"], matrix, documents["doc_id"].tolist(), SIMILAR))
    assert one == two


# ---------------------------------------------------------------- findings.json

def _processed(folder, *, with_limits: bool) -> None:
    pd.DataFrame({"doc_id": ["d1", "d0"]}).to_parquet(folder / "documents.parquet")
    pd.DataFrame({"term": ["tax"], "df": [5], "kept": [True]}).to_parquet(folder / "vocabulary.parquet")
    pd.DataFrame({"by": ["group"], "direction": ["over"], "group": ["A"], "rank": [1], "term": ["tax"]}).to_parquet(
        folder / "keyness.parquet")
    pd.DataFrame({"topic": [1], "rank": [1], "term": ["tax"], "weight": [0.5]}).to_parquet(folder / "topic_terms.parquet")
    pd.DataFrame({"topic": [1], "prevalence": [1.0]}).to_csv(folder / "topics.csv", index=False)
    pd.DataFrame({"doc_id": ["d0"], "topic": [1], "weight": [1.0]}).to_parquet(folder / "doc_topics.parquet")
    if with_limits:
        documents = _documents(["2016-04-19", "2017-03-30"], focus_date="2022-01-10")
        data = limits.limits(documents, ["f"], _matrix(3), ["f", "d0", "d1"], SIMILAR)
        limits.write_limits(data, folder / "limits.json")


def test_findings_carry_the_limits_and_a_run_built_before_them_still_compares(tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    new.mkdir(), old.mkdir()
    _processed(new, with_limits=True)
    _processed(old, with_limits=False)
    with_limits, without = compare.findings(new, run="tiny"), compare.findings(old, run="tiny")
    kept = with_limits["limits"]
    assert kept["focus_outside_span"] is True and kept["gap_days"] == 1747
    assert kept["span"] == {"first": "2016-04-19", "last": "2017-03-30", "documents": 2}
    assert kept["similarity_floor"] is not None and kept["similar_shown"] == 3
    assert "limits" not in without
    assert json.loads(compare.findings_json(with_limits)) == with_limits
    assert compare.unchanged(compare.compare(without, with_limits))


# ---------------------------------------------------------------- the sentences

def _outside(focus_date: str, dates: list[str]) -> dict:
    documents = _documents(dates, focus_date=focus_date)
    return limits.limits(documents, ["f"], _matrix(len(documents)), documents["doc_id"].tolist(), SIMILAR.iloc[:0])


def test_a_focus_years_before_its_corpus_is_said_as_older():
    data = _outside("1990-06-01", ["2001-05-01", "2003-01-02", "2003-02-01"])
    assert limits_prose.span_sentence(data, Words("speech", "party")) == (
        "The focus speech is dated 1 June 1990, 10 years and 11 months before the earliest other speech "
        "(1 May 2001); the 3 other speeches date from 1 May 2001 to 1 February 2003.")
    assert "fell out of use before May 2001" in limits_prose.terms_caveat(data, Words("speech", "party"))


def test_a_focus_days_after_its_corpus_is_said_but_its_terms_get_no_caveat():
    data = _outside("2017-04-02", ["2017-02-10", "2017-03-30"])
    assert limits_prose.span_sentence(data, ARTICLE).startswith(
        "The focus article is dated 2 April 2017, less than a month after the latest other article (30 March 2017)")
    assert limits_prose.terms_caveat(data, ARTICLE) is None


def test_a_concentrated_corpus_of_weeks_is_said_in_days():
    dates = pd.Series(pd.to_datetime(["2016-12-01"] + ["2017-03-06"] * 5 + ["2017-03-30"] * 5))
    data = {"concentration": limits.concentration(dates)}
    assert limits_prose.concentration_clause(data) == "91% of them between 6 March and 30 March 2017"
