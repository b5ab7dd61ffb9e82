"""The compiled byte walk gives py3langid's own features, in its order, so the same scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from newslens import config
from newslens.corpus.language import DETECT_CHARS
from newslens.corpus.language_id import identifier

ODD_TEXTS = ["", " ", "a", "ÄÖÜ ß", "数据 分析 新闻", "Привет, мир! " * 50, "😀" * 300, "\x00\x01 binary?",
             "ALL CAPITALS HEADLINE ABOUT THE ECONOMY", "l'Union européenne s'exprime aujourd'hui"]


@pytest.fixture(scope="module")
def library() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Starts of real texts in four languages (as ingest reads them), and odd ones."""
    news = pd.read_csv(config.RAW_DIR / "news-articles" / "NewsArticles.csv", usecols=["text"], nrows=300)
    speeches = [pd.read_csv(config.RAW_DIR / name / f"{lang}.csv", usecols=["text"], nrows=150)
                for name, lang in (("bundestag", "de"), ("congreso", "es"))]
    real = pd.concat([news, *speeches])["text"].dropna().astype(str)
    return [t[:DETECT_CHARS].lower() for t in real] + ODD_TEXTS


def test_compiled_walk_counts_the_library_features_in_its_order(library, texts):
    ours = identifier()
    for text in texts:
        data = library._encode(text)
        expected = visit_counts(library.tk_nextmove, library._rowbase, library.tk_output, data)
        scores = ours._raw_score(data)
        if expected is None:
            assert np.all(scores == 0.0)
            continue
        # the same features in the same order give bit-identical naive Bayes sums
        np.testing.assert_array_equal(scores, library._sparse_score(expected, library.nb_ptc))


def test_compiled_identifier_decides_as_the_library(library, texts):
    ours = identifier()
    assert [ours.classify(t) for t in texts] == [library.classify(t) for t in texts]
    found = {ours.classify(t)[0] for t in texts[:300]} | {ours.classify(t)[0] for t in texts[300:450]}
    assert {"en", "de"} <= found  # real texts, really told apart


def test_walk_leaves_its_buffers_clean_between_texts():
    ours = identifier()
    first = ours.classify("the government announced new measures on tuesday")
    ours.classify("die bundesregierung hat am mittwoch einen gesetzentwurf beschlossen")
    assert not ours._counts.any()
    assert ours.classify("the government announced new measures on tuesday") == first
