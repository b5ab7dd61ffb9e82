"""Short texts: markers of the medium, the short-text rule, BTM, and k capped by corpus size."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from newslens import config
from newslens.analysis.tfidf import fit_tfidf
from newslens.params import KeywordsParams, TokenizeParams, TopicsParams
from newslens.analysis.short_texts import (SHORT_MEDIAN_TOKENS, ShortTexts, choose_model, detect_short, fit_btm, k_cap,
                                  vectorized_documents)
from newslens.text.tokenization import load_analyzer, tokenize_documents
from newslens.text.tokenization import write_outputs as write_tokens
from newslens.analysis.topics import run_topics
from newslens.text.words import count_markers, strip_non_text, surface_sentences

# Posts in the shape of the health-news accounts' tweets: a retweet mark, handles, tags, links.
POSTS = [
    "RT @bbchealth: Ebola vaccine trial begins in Guinea http://bbc.in/1x",
    "Ebola outbreak: WHO says vaccine trial shows promise #ebola",
    "New Ebola cases fall in Sierra Leone, the WHO says http://reut.rs/2y",
    "Vaccine for Ebola protects health workers in Guinea, trial finds",
    "Flu season: how to protect your family from the flu virus #flu",
    "Flu vaccine less effective this season, CDC says http://nyti.ms/3z",
    "RT @CDCgov: Get your flu shot now, flu season peaks in February",
    "Why the flu virus spreads faster in winter @nprhealth",
    "Diet and exercise: 10 foods that help you lose weight #diet",
    "Exercise more, sit less: a daily walk helps weight loss http://ow.ly/4a",
    "Lose weight with these easy diet swaps via @goodhealth",
    "Weight loss: why diet beats exercise alone, study finds",
]
TEXTS = {f"p{i:03d}": f"{POSTS[i % len(POSTS)]} ({i})" for i in range(96)}


@pytest.fixture(scope="module")
def posts(tmp_path_factory):
    """The posts tokenized and weighted as stages 02 and 03 do: (tfidf, tokenize stats)."""
    folder = tmp_path_factory.mktemp("posts")
    documents = pd.DataFrame({"doc_id": list(TEXTS), "text": list(TEXTS.values())})
    result = tokenize_documents(documents, TokenizeParams(phrases=False), "en", n_jobs=1)
    write_tokens(result, folder)
    doc_ids, analyzer = load_analyzer(folder)
    return fit_tfidf(doc_ids, analyzer, KeywordsParams(min_df=2, max_df=0.5)), result.stats, \
        [len(analyzer(d)) for d in doc_ids]


# --- markers of the medium -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("RT @bbchealth: #Ebola vaccine trial http://bbc.in/x @WHO",
     {"retweet": 1, "handle": 2, "hashtag": 1, "link": 1}),
    ("Mail me@nhs.uk or ask @Kristin_M (via @NHS)", {"handle": 2}),     # an e-mail address is no handle
    ("RT is a broadcaster; C# and R&D #1", {}),                         # RT alone, C#, #1: no markers
    ("See https://t.co/@abc now", {"link": 1}),                          # a handle inside a link is the link's
])
def test_markers_are_counted(text, expected):
    assert dict(count_markers(text)) == expected


def test_markers_are_cut_but_a_tag_keeps_its_word():
    assert surface_sentences("RT @bbchealth: #Ebola vaccine trial http://bbc.in/x @WHO") == \
        [["Ebola", "vaccine", "trial"]]
    assert surface_sentences("RT is a channel.") == [["RT", "is", "a", "channel"]]  # no handle after it
    assert "@" not in strip_non_text("ask @nhs_uk and @WHO")


def test_tokenize_stats_report_markers_and_the_median(posts):
    _, stats, per_doc = posts
    assert stats["markers"] == {"link": 32, "handle": 32, "retweet": 16, "hashtag": 24}
    assert stats["median_tokens_per_document"] == float(np.median(per_doc)) < SHORT_MEDIAN_TOKENS


# --- the short-text rule ---------------------------------------------------------------------

@pytest.mark.parametrize("per_doc, short", [
    ([6, 5, 9, 300], True),
    ([19, 19, 21], True),
    ([20, 20, 5], False),          # the median at the threshold is not short
    ([412, 350, 12], False),
])
def test_detect_short(per_doc, short):
    assert detect_short(per_doc).short is short


def test_detect_short_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no documents"):
        detect_short([])


def test_evidence_and_the_model_it_picks():
    texts = detect_short([6, 6, 7])
    assert texts.evidence("post") == ("detected as short texts: the median post keeps 6 tokens, below the "
                                      "threshold of 20")
    assert choose_model("auto", texts)[0] == "btm"
    assert choose_model("auto", ShortTexts.of_median(300))[0] == "nmf"
    assert choose_model("nmf", texts) == ("nmf", "NMF, as the run's settings ask")


# --- k capped by corpus size -----------------------------------------------------------------

@pytest.mark.parametrize("n_documents, n_terms, top_n, cap", [
    (3824, 20000, 10, 61),   # the news run: its 5-40 stands
    (293, 1500, 10, 17),
    (63326, 14217, 10, 251),
    (1000, 150, 10, 15),     # the vocabulary binds: 150 terms / 10
    (19, 192, 10, 4),        # the seed run's sentences
    (1, 100, 10, 0),
])
def test_k_cap(n_documents, n_terms, top_n, cap):
    assert k_cap(n_documents, n_terms, top_n)[0] == cap


# --- BTM --------------------------------------------------------------------------------------

def test_vectorized_documents_repeat_counts():
    from scipy import sparse

    counts = sparse.csr_matrix(np.array([[2, 0, 1], [0, 0, 0]]))
    assert [d.tolist() for d in vectorized_documents(counts)] == [[0, 0, 2], []]


def test_vectorized_documents_shuffle_each_document_by_seed():
    from scipy import sparse

    counts = sparse.csr_matrix(np.ones((2, 50), dtype=np.int64))
    first, again = vectorized_documents(counts, 3), vectorized_documents(counts, 3)
    assert [d.tolist() for d in first] == [d.tolist() for d in again]
    assert sorted(first[0].tolist()) == list(range(50)) and first[0].tolist() != list(range(50))


def test_btm_topics_of_long_documents_follow_words_not_the_alphabet():
    """Four topics whose words interleave in the vocabulary (ids by residue mod 4), documents of
    40 tokens mixing two topics: BTM must find the four word sets. Windows over documents in
    term order found bands of neighbouring ids instead (54–70, 95–111, …: purity 0.5–0.7),
    which is how the Congreso run's topics came out alphabetical."""
    from scipy import sparse

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(400):
        row = np.zeros(120, dtype=np.int64)
        for topic in rng.choice(4, size=2, replace=False):
            np.add.at(row, rng.choice(np.arange(topic, 120, 4), size=20), 1)
        rows.append(row)
    _, components = fit_btm(sparse.csr_matrix(np.array(rows)), 4, 0)
    purity = [np.bincount(np.argsort(-components[t])[:10] % 4, minlength=4).max() / 10 for t in range(4)]
    assert min(purity) >= 0.9, f"topics mix the word sets: purity {purity}"


def test_btm_is_deterministic_with_a_seed(posts):
    tfidf, _, _ = posts
    first, second = fit_btm(tfidf.counts, 3, 7), fit_btm(tfidf.counts, 3, 7)
    assert np.array_equal(first[1], second[1]) and np.array_equal(first[0], second[0])
    assert not np.array_equal(first[1], fit_btm(tfidf.counts, 3, 8)[1])
    assert np.allclose(first[1].sum(axis=1), 1.0)
    sums = first[0].sum(axis=1)
    assert np.all(np.isclose(sums, 1.0) | (sums == 0))


_DIGEST = """
import hashlib, sys
import numpy as np
from scipy import sparse
from newslens.analysis.short_texts import fit_btm
rng = np.random.default_rng(0)
counts = sparse.csr_matrix(rng.poisson(0.3, size=(300, 40)))
_, components = fit_btm(counts, 4, 1)
print(hashlib.sha256(np.ascontiguousarray(components).tobytes()).hexdigest())
"""


@pytest.mark.slow
def test_btm_gives_the_same_bytes_on_the_portable_cpu_path():
    sys.path.insert(0, str(config.PROJECT_ROOT / "benchmarks"))
    import cpu_paths

    env = {**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT / "src"), "OMP_NUM_THREADS": "1"}
    native = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True, text=True,
                            check=True).stdout
    portable = subprocess.run([sys.executable, "-c", _DIGEST], env={**env, **cpu_paths.portable_env()},
                              capture_output=True, text=True, check=True).stdout
    assert native == portable and len(native.strip()) == 64


@pytest.mark.parametrize("model, texts, fitted", [
    ("auto", ShortTexts.of_median(6), "btm"),
    ("auto", ShortTexts.of_median(300), "nmf"),
    ("nmf", ShortTexts.of_median(6), "nmf"),
])
def test_run_topics_picks_the_model(posts, tmp_path, model, texts, fitted):
    tfidf, _, _ = posts
    settings = TopicsParams(model=model, k_min=2, k_max=4, k_step=1, seeds=[0, 1])
    result = run_topics(tfidf, settings, display={}, identities_path=tmp_path / "topics.json",
                        labels_path=tmp_path / "labels.yaml", n_jobs=1, texts=texts)
    assert result.model == fitted and result.identities["model"] == fitted
    assert result.k_note == ("k searched 2–4, as asked; a vocabulary of 43 terms supports at most 4 topics "
                             "of 10 top terms each (⌊V / top_n⌋)")


def test_btm_sweep_is_the_same_on_one_or_two_workers(posts, tmp_path):
    tfidf, _, _ = posts
    settings = TopicsParams(model="btm", k_min=2, k_max=4, k_step=1, seeds=[0, 1])
    runs = [run_topics(tfidf, settings, display={}, identities_path=tmp_path / f"{n}.json",
                       labels_path=tmp_path / "labels.yaml", n_jobs=n) for n in (1, 2)]
    pd.testing.assert_frame_equal(runs[0].sweep, runs[1].sweep)
    pd.testing.assert_frame_equal(runs[0].mixtures, runs[1].mixtures)


def test_btm_on_real_posts_beats_nmf_on_coherence(tmp_path):
    """On a sample of the health-tweets builtin (every 20th post), BTM's median NPMI beats NMF's.

    Same tokens, same vocabulary, same k and seeds, the coherence the topics report uses;
    the full comparison is benchmarks/short_texts.py (benchmarks/SHORT_TEXTS.md).
    """
    from newslens.corpora import BUILTINS
    from newslens.analysis.topics import fit_model, mean_coherence

    path = BUILTINS["health-tweets"].target
    if not path.exists():
        pytest.skip("health-tweets not fetched (run `make data CORPUS=health-tweets`)")
    table = pd.read_csv(path).iloc[::20]
    documents = pd.DataFrame({"doc_id": table["source_id"].astype(str), "text": table["text"].astype(str)})
    result = tokenize_documents(documents, TokenizeParams(phrases=False), "en", n_jobs=1)
    write_tokens(result, tmp_path)
    doc_ids, analyzer = load_analyzer(tmp_path)
    tfidf = fit_tfidf(doc_ids, analyzer, KeywordsParams(min_df=2, max_df=0.5))
    binary = (tfidf.counts > 0).astype(np.int32).tocsc()
    btm = np.median([mean_coherence(fit_model("btm", tfidf.counts, 10, s)[1], binary) for s in (0, 1, 2)])
    nmf = np.median([mean_coherence(fit_model("nmf", tfidf.matrix, 10, s)[1], binary) for s in (0, 1, 2)])
    assert btm > nmf, (btm, nmf)
