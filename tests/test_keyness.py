"""Keyness: G² and log ratio against hand-worked values, one-vs-rest tables, periods."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse, stats

from newslens.analysis.keyness import COLUMNS, keyness
from newslens.measures import g2, log_odds_z, log_ratio

# --- g2 -------------------------------------------------------------------------


def test_g2_matches_a_value_worked_by_hand():
    # Term seen a = 30 times in a target of c = 1,000 tokens and b = 70 times in a
    # reference of d = 9,000 tokens (N = c + d = 10,000; a + b = 100).
    #   E1 = c (a + b) / N = 1000 · 100 / 10000 = 10
    #   E2 = d (a + b) / N = 9000 · 100 / 10000 = 90
    #   a ln(a / E1) = 30 ln(30 / 10) = 30 · 1.0986123 =  32.9583687
    #   b ln(b / E2) = 70 ln(70 / 90) = 70 · (-0.2513144) = -17.5920100
    #   G² = 2 (32.9583687 - 17.5920100) = 2 · 15.3663587 = 30.7327 (4 d.p.)
    assert float(g2(30, 70, 1000, 9000)) == pytest.approx(30.7327, abs=5e-5)


def test_g2_is_the_two_term_cell_form_not_the_full_table():
    # Independent check of the two-cell (Rayson & Garside) form: scipy's
    # power_divergence with observed (a, b) and expected (E1, E2).
    two_cell = stats.power_divergence([30, 70], [10, 90], lambda_="log-likelihood").statistic
    assert float(g2(30, 70, 1000, 9000)) == pytest.approx(two_cell, rel=1e-12)
    # The full 2×2 table adds the non-term cells c - a = 970 (E = 990) and
    # d - b = 8930 (E = 8910):
    #   970 ln(970/990) = -19.7966055,   8930 ln(8930/8910) = 20.0224299
    #   G²(full) = 2 (15.3663587 - 19.7966055 + 20.0224299) = 31.1844 (4 d.p.)
    # which is what quanteda's "lr" computes (without its Williams correction).
    full = stats.chi2_contingency([[30, 70], [970, 8930]], correction=False,
                                  lambda_="log-likelihood")[0]
    assert full == pytest.approx(31.1844, abs=5e-5)
    assert full > float(g2(30, 70, 1000, 9000))


def test_g2_zero_cells_use_zero_log_zero():
    # a = 0, b = 20, c = 500, d = 1500: E1 = 5, E2 = 15;
    # G² = 2 (0 + 20 ln(20/15)) = 40 · 0.2876821 = 11.5073
    assert float(g2(0, 20, 500, 1500)) == pytest.approx(11.5073, abs=5e-5)
    assert float(g2(20, 0, 1500, 500)) == pytest.approx(11.5073, abs=5e-5)  # symmetric
    assert float(g2(0, 0, 500, 1500)) == 0.0  # term absent everywhere
    assert float(g2(0, 0, 0, 0)) == 0.0  # empty table, no NaN


def test_g2_is_vectorised_and_zero_when_rates_are_equal():
    values = g2(np.array([10, 30, 0]), np.array([90, 70, 20]), 1000, np.array([9000, 9000, 9000]))
    assert values.shape == (3,)
    assert values[0] == 0.0  # 10/1000 == 90/9000
    assert values[1] == pytest.approx(30.7327, abs=5e-5)
    assert np.all(values >= 0)


@pytest.mark.parametrize(("args", "message"), [
    ((-1, 2, 10, 10), "a: counts must be >= 0"),
    ((11, 2, 10, 10), "cannot exceed its corpus total"),
    ((1, float("nan"), 10, 10), "b: contains NaN"),
])
def test_g2_rejects_impossible_tables(args, message):
    with pytest.raises(ValueError, match=message):
        g2(*args)


# --- log ratio --------------------------------------------------------------------


def test_log_ratio_with_smoothing():
    # a = 10, b = 20, c = 1000, d = 4000, s = 0.5: the pseudo-rate k = 2s / (c + d) = 0.0002 on both sides:
    #   (0.01 + 0.0002) / (0.005 + 0.0002) = 1.9615385; log2 → 0.9720
    assert float(log_ratio(10, 20, 1000, 4000)) == pytest.approx(0.9720, abs=5e-5)
    # Without smoothing: (10/1000) / (20/4000) = 2 → exactly 1 doubling.
    assert float(log_ratio(10, 20, 1000, 4000, smoothing=0)) == 1.0
    # A zero count stays finite: k = 1/400; (0 + k) / (8/300 + k) = 0.0857143; log2 → -3.5443
    assert float(log_ratio(0, 8, 100, 300)) == pytest.approx(-3.5443, abs=5e-5)
    assert float(log_ratio(0, 8, 100, 300, smoothing=0)) == -np.inf
    # Equal sizes: 0.5 on each count, as Hardie's form: (10.5 / 1000) / (20.5 / 1000)
    assert float(log_ratio(10, 20, 1000, 1000)) == pytest.approx(np.log2(10.5 / 20.5))


def test_log_ratio_rejects_bad_arguments():
    with pytest.raises(ValueError, match="smoothing: must be >= 0"):
        log_ratio(1, 1, 10, 10, smoothing=-0.5)
    with pytest.raises(ValueError, match="totals c and d must be positive"):
        log_ratio(0, 1, 0, 10)


# --- keyness ----------------------------------------------------------------------

TERMS = ["tariff", "trade", "peace", "talk"]
COUNTS = np.array([
    [8, 2, 0, 2],   # A
    [7, 3, 1, 1],   # A
    [0, 5, 5, 2],   # B
    [1, 4, 4, 3],   # B
    [0, 5, 3, 4],   # C
    [1, 6, 2, 3],   # C
])
GROUPS = ["A", "A", "B", "B", "C", "C"]


def test_keyness_finds_the_term_a_group_overuses():
    table = keyness(sparse.csr_matrix(COUNTS), GROUPS, TERMS, min_freq=1)
    assert list(table.columns) == COLUMNS
    top = table[(table["group"] == "A") & (table["direction"] == "over")].iloc[0]
    # A: tariff 15 of 24 tokens; B and C: tariff 2 of 48 tokens.
    assert (top["term"], top["freq_target"], top["freq_reference"], top["rank"]) == ("tariff", 15, 2, 1)
    assert top["g2"] == pytest.approx(float(g2(15, 2, 24, 48)))
    assert top["log_ratio"] == pytest.approx(math.log2((15 / 24 + 1 / 72) / (2 / 48 + 1 / 72)))  # k = 2·0.5/72
    assert top["p_value"] == pytest.approx(stats.chi2.sf(top["g2"], 1))
    assert (top["n_docs"], top["n_tokens"]) == (2, 24)
    assert top["log_odds_z"] == pytest.approx(float(log_odds_z(15, 2, 24, 48)))
    assert top["log_ratio_low"] <= top["log_ratio"] <= top["log_ratio_high"]
    assert top["doc_share"] == 1.0
    tariff = table[table["term"] == "tariff"].set_index("group")["direction"]
    assert tariff.to_dict() == {"A": "over", "B": "under", "C": "under"}


def test_keyness_table_is_complete_sorted_and_deterministic():
    table = keyness(COUNTS, GROUPS, TERMS, min_freq=1)
    assert len(table) == 3 * 4  # every term passes, in every group
    order = table.assign(u=table["direction"] == "under")
    assert order.equals(order.sort_values(["group", "u", "rank"], ignore_index=True))
    for _, part in table.groupby(["group", "direction"]):
        assert part["rank"].tolist() == list(range(1, len(part) + 1))
        assert part["g2"].is_monotonic_decreasing
    assert (table["log_ratio"] > 0).eq(table["direction"] == "over").all()
    pd.testing.assert_frame_equal(table, keyness(sparse.csc_matrix(COUNTS), GROUPS, TERMS, min_freq=1))


def test_keyness_ranks_ties_by_term():
    counts = np.array([[5, 5, 0], [0, 0, 9]])
    table = keyness(counts, ["x", "y"], ["zeta", "alpha", "other"], min_freq=1)
    over_x = table[(table["group"] == "x") & (table["direction"] == "over")]
    assert over_x["term"].tolist() == ["alpha", "zeta"]
    assert over_x["rank"].tolist() == [1, 2]


def test_keyness_min_freq_filters_rare_terms():
    table = keyness(COUNTS, GROUPS, TERMS, min_freq=20)  # totals: tariff 17, trade 25, peace 15, talk 15
    assert set(table["term"]) == {"trade"}
    assert len(keyness(COUNTS, GROUPS, TERMS, min_freq=26)) == 0


def test_a_term_a_small_group_never_uses_is_under_used_by_it():
    # Group "tiny" has 2 tokens and never uses "war". Smoothing both counts by 0.5 made its log ratio
    # log2((0.5/2) / (10.5/10000)) > 0, "over"-used; the shared pseudo-rate keeps the raw rates' sign.
    counts = np.array([[0, 2], [10, 9990]])
    table = keyness(counts, ["tiny", "big"], ["war", "other"], min_freq=1)
    assert float(log_ratio(0, 10, 2, 10000)) < 0
    war = table[(table["group"] == "tiny") & (table["term"] == "war")]
    assert war["direction"].tolist() == ["under"]


def test_keyness_top_n_per_group_and_direction():
    table = keyness(COUNTS, GROUPS, TERMS, min_freq=1, top_n=1)
    assert table.groupby(["group", "direction"]).size().max() == 1
    assert table["rank"].eq(1).all()
    assert len(table) == 6  # three groups × over/under


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), top_n=st.integers(1, 6), n_groups=st.integers(2, 4))
def test_top_n_keeps_exactly_the_rows_the_whole_table_ranks_within_it(seed, top_n, n_groups):
    """top_n selects its cells before the frame is built (not every group × term): the same rows,
    ranks and numbers as the whole table cut at that rank, ties in G² broken by the term."""
    rng = np.random.default_rng(seed)
    n_docs, n_terms = 4 * n_groups, 12
    counts = rng.integers(0, 4, size=(n_docs, n_terms)) * rng.integers(0, 2, size=(n_docs, n_terms))
    counts[:, 0] += 1  # no group without tokens
    counts[:, 5] = counts[:, 6]  # two terms with the same counts: a tie in G² in every group
    terms = [f"t{j:02d}" for j in range(n_terms)][::-1]  # the columns' order is not the terms'
    groups = [f"g{i % n_groups}" for i in range(n_docs)]
    whole = keyness(counts, groups, terms, min_freq=1)
    cut = whole[whole["rank"] <= top_n].reset_index(drop=True)
    pd.testing.assert_frame_equal(keyness(counts, groups, terms, min_freq=1, top_n=top_n), cut)


def test_keyness_leaves_out_documents_without_a_group():
    with_missing = keyness(np.vstack([COUNTS, [[50, 0, 0, 0]]]), GROUPS + [None], TERMS, min_freq=1)
    pd.testing.assert_frame_equal(with_missing, keyness(COUNTS, GROUPS, TERMS, min_freq=1))


@pytest.mark.parametrize(("counts", "groups", "terms", "kwargs", "message"), [
    (COUNTS, GROUPS[:-1], TERMS, {}, r"groups: 5 labels for 6 documents"),
    (COUNTS, GROUPS, TERMS[:-1], {}, r"terms: 3 terms for 4 columns"),
    (COUNTS, ["x"] * 6, TERMS, {}, r"keyness needs at least two groups; got 1: \['x'\]"),
    (COUNTS, ["x", "x", "x", None, None, None], TERMS, {}, r"at least two groups; got 1"),
    (COUNTS * -1, GROUPS, TERMS, {}, r"counts: must be >= 0"),
    (COUNTS * 0.5, GROUPS, TERMS, {}, r"counts: must be raw whole-number counts"),
    (COUNTS, GROUPS, TERMS, {"min_freq": -1}, r"min_freq: must be an integer >= 0"),
    (COUNTS, GROUPS, TERMS, {"top_n": 0}, r"top_n: must be a positive integer"),
    (np.vstack([COUNTS, np.zeros((1, 4), int)]), GROUPS + ["D"], TERMS, {},
     r"groups without any tokens cannot be compared: \['D'\]"),
])
def test_keyness_errors(counts, groups, terms, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keyness(counts, groups, terms, **kwargs)


# --- periods ----------------------------------------------------------------------


def _periods(stamps, period: str) -> list:
    from newslens.analysis.keywords import _period_labels

    return _period_labels(pd.DataFrame({"date": pd.to_datetime(pd.Series(stamps))}), period).tolist()


def test_period_labels_by_week_and_month():
    stamps = ["2017-02-06 00:00:00", "2017-02-12 23:59:00", "2017-02-13 00:00:00",
              "2017-01-01 00:00:00", None]
    # Monday 6 Feb to Sunday 12 Feb is one week; 1 Jan 2017 was a Sunday (week of 26 Dec 2016).
    assert _periods(stamps, "week") == ["2017-02-06", "2017-02-06", "2017-02-13", "2016-12-26", None]
    assert _periods(stamps, "month") == ["2017-02", "2017-02", "2017-02", "2017-01", None]


def test_periods_feed_keyness_and_undated_documents_drop_out():
    stamps = ["2017-02-07", "2017-02-08", "2017-03-01", "2017-03-02", None, None]
    table = keyness(COUNTS, _periods(stamps, "month"), TERMS, min_freq=1)
    assert set(table["group"]) == {"2017-02", "2017-03"}
    tariff = table[(table["group"] == "2017-02") & (table["term"] == "tariff")].iloc[0]
    assert (tariff["freq_target"], tariff["freq_reference"]) == (15, 1)  # C's tariff (doc 6) left out

