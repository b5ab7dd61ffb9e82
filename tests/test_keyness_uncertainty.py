"""Keyness at the level of documents: group sizes, bootstrap intervals, dispersion, and the log ratio's sign."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import sparse

from newslens.analysis.keyness_uncertainty import (bootstrap_log_ratio, distinctive, document_share,
                                                   group_sizes)
from newslens.measures import log_odds_z, log_ratio


def planted_corpus(rng, *, n_target=40, n_reference=200, length=200, rate_target=0.01, rate_reference=0.005):
    """Two groups of documents of ``length`` tokens; column 0 is the planted term, column 1 the rest."""
    rates = np.r_[np.full(n_target, rate_target), np.full(n_reference, rate_reference)]
    term = rng.binomial(length, rates)
    counts = sparse.csr_matrix(np.c_[term, length - term])
    labels = np.array(["target"] * n_target + ["reference"] * n_reference, dtype=object)
    return counts, labels


def test_the_interval_covers_a_planted_difference_in_at_least_90_of_100_trials():
    truth = np.log2(0.01 / 0.005)
    covered = 0
    for trial in range(100):
        counts, labels = planted_corpus(np.random.default_rng(1000 + trial))
        (low, high), = bootstrap_log_ratio(counts, labels, {"target": np.array([0])}, seed=trial).values()
        covered += bool(low[0] <= truth <= high[0])
    assert covered >= 90, f"covered {covered} of 100"


def test_a_term_one_document_repeats_is_not_distinctive():
    rng = np.random.default_rng(7)
    counts, labels = planted_corpus(rng, rate_target=0.0, rate_reference=0.0005)
    dense = counts.toarray()
    dense[3] = [40, 160]  # one document of the target says the term 40 times
    counts = sparse.csr_matrix(dense)
    members = np.flatnonzero(labels == "target")
    a = dense[members, 0].sum()
    b = dense[labels == "reference", 0].sum()
    c, d = dense[members].sum(), dense[labels == "reference"].sum()
    assert log_ratio(a, b, c, d) > 3  # by tokens, a strong difference
    (low, high), = bootstrap_log_ratio(counts, labels, {"target": np.array([0])}).values()
    share = document_share(counts, members, np.array([0]))
    assert share.tolist() == [1 / 40]
    assert low[0] < 0 < high[0]  # without that document the difference is gone
    assert distinctive(low, high, share, np.array(["over"])).tolist() == [False]


def test_a_term_used_across_the_group_is_distinctive():
    counts, labels = planted_corpus(np.random.default_rng(3), rate_target=0.02, rate_reference=0.005)
    members = np.flatnonzero(labels == "target")
    (low, high), = bootstrap_log_ratio(counts, labels, {"target": np.array([0])}).values()
    share = document_share(counts, members, np.array([0]))
    assert low[0] > 1 and share[0] > 0.9
    assert distinctive(low, high, share, np.array(["over"])).tolist() == [True]


def test_the_interval_is_the_same_whatever_the_parts_and_the_order_of_the_documents():
    from newslens.analysis.keyness_uncertainty import (bootstrap_intervals, bootstrap_sums, document_keys,
                                                       merge_bootstrap_sums)

    counts, labels = planted_corpus(np.random.default_rng(5))
    keys = document_keys([f"doc-{i}" for i in range(counts.shape[0])])
    targets = {"target": np.array([0, 1]), "reference": np.array([1])}
    whole = bootstrap_log_ratio(counts, labels, targets, keys=keys)
    names, codes = ["reference", "target"], np.where(labels == "target", 1, 0)
    tokens = np.asarray(counts.sum(axis=1)).ravel()
    wanted = {"target": [0, 1], "reference": [1]}
    cuts = [0, 17, 18, 150, counts.shape[0]]  # uneven parts, one of a single document
    parts = [bootstrap_sums(counts[a:b], tokens[a:b], codes[a:b], keys[a:b], names, wanted)
             for a, b in zip(cuts, cuts[1:])]
    merged = bootstrap_intervals(merge_bootstrap_sums(parts))
    order = np.random.default_rng(0).permutation(counts.shape[0])  # the documents in another order
    shuffled = bootstrap_log_ratio(counts[order], labels[order], targets, keys=keys[order])
    for name in whole:
        for got in (merged[name], shuffled[name]):
            assert all(np.array_equal(x, y) for x, y in zip(whole[name], got))


def test_poisson_weights_come_from_the_key_the_seed_and_the_replicate_alone():
    from newslens.analysis.keyness_uncertainty import document_keys, poisson_weights

    keys = document_keys([f"d{i}" for i in range(50_000)])
    weights = poisson_weights(keys, 4, seed=0)
    assert weights.dtype == np.int64 and weights.min() == 0
    frequencies = np.bincount(weights.ravel()) / weights.size
    poisson = [np.exp(-1) / np.prod(range(1, k + 1)) for k in range(5)]
    assert np.allclose(frequencies[:5], poisson, atol=0.005)  # Poisson(1): 0.368, 0.368, 0.184, 0.061, 0.015
    assert np.array_equal(poisson_weights(keys[::-1], 4, seed=0), weights[:, ::-1])
    assert not np.array_equal(poisson_weights(keys, 4, seed=1), weights)
    assert not np.array_equal(weights[0], weights[1])  # replicates differ


def test_the_bootstrap_is_seeded_and_its_interval_holds_the_estimate():
    counts, labels = planted_corpus(np.random.default_rng(11))
    first = bootstrap_log_ratio(counts, labels, {"target": np.array([0, 1])})
    again = bootstrap_log_ratio(counts, labels, {"target": np.array([0, 1])})
    assert all(np.array_equal(x, y) for x, y in zip(first["target"], again["target"]))
    other = bootstrap_log_ratio(counts, labels, {"target": np.array([0, 1])}, seed=1)
    assert not np.array_equal(first["target"][0], other["target"][0])
    low, high = first["target"]
    assert (low <= high).all()


def test_groups_below_the_minimum_are_listed_with_their_sizes():
    labels = ["outlet"] * 6 + ["seed"] + [None]
    sizes = group_sizes(labels, np.array([200] * 6 + [400, 50]), min_documents=5, min_tokens=500)
    assert sizes.set_index("group")["compared"].to_dict() == {"outlet": True, "seed": False}
    seed = sizes.set_index("group").loc["seed"]
    assert (seed["n_docs"], seed["n_tokens"]) == (1, 400)
    assert seed["reason"] == "1 document (fewer than 5), 400 tokens (fewer than 500)"


def test_hundreds_of_one_document_groups_do_not_crash():
    labels = [f"speaker{i:03d}" for i in range(300)] + ["party"] * 20
    sizes = group_sizes(labels, np.full(320, 100), min_documents=5, min_tokens=500)
    assert sizes["compared"].sum() == 1 and (~sizes["compared"]).sum() == 300


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 500), b=st.integers(0, 5000), c_extra=st.integers(1, 10_000), d_extra=st.integers(1, 100_000))
def test_the_log_ratio_never_contradicts_the_raw_rates(a, b, c_extra, d_extra):
    c, d = a + c_extra, b + d_extra
    ratio = float(log_ratio(a, b, c, d))
    raw = a / c - b / d
    assert np.sign(ratio) == np.sign(raw) or abs(raw) < 1e-15
    z = float(log_odds_z(a, b, c, d))
    assert np.sign(z) == np.sign(raw) or abs(z) < 1e-9 or abs(raw) < 1e-15


def test_the_reference_side_is_every_other_document():
    counts = sparse.csr_matrix(np.array([[5, 5], [5, 5], [0, 10], [0, 10], [1, 9]]))
    labels = np.array(["a", "a", "b", "b", None], dtype=object)
    with pytest.raises(ValueError, match="replicates"):
        bootstrap_log_ratio(counts, labels, {"a": np.array([0])}, replicates=1)
    (low, high), = bootstrap_log_ratio(counts, labels, {"a": np.array([0])}).values()
    assert low[0] > 0  # "a" always holds the term; "b" never does: every replicate says over-used
