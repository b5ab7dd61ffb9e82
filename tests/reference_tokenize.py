"""Plain reference versions of what the tokenize stage computes by faster routes.

The stage counts forms and document frequencies per partition, in passes shaped
for speed; these functions compute the same things straight from whole
documents, so the tests can hold the fast paths to them. Nothing in
``src/newslens`` uses them.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import Iterable

import pandas as pd

from newslens.params import TokenizeParams
from newslens.text.stopwords import stopword_sources
from newslens.text.words import JOINER, usual_forms, word_display_forms


def display_forms(surface_docs: Iterable[list[list[str]]]) -> dict[str, str]:
    """The usual written form of each lowercase word, preferring non-sentence-initial uses."""
    surface, initial = Counter(), Counter()
    for doc in surface_docs:
        for sentence in doc:
            if sentence:
                initial[sentence[0]] += 1
                surface.update(sentence)
    return word_display_forms(surface, initial)


def phrase_display_forms(lowered_docs: list, surface_docs: list, phrases: frozenset[str],
                         longest: int = 4) -> dict[str, str]:
    """The usual written form of each phrase, e.g. ``new_york`` → ``New York``, by scanning every sentence."""
    firsts = frozenset(p.split(JOINER, 1)[0] for p in phrases)
    counts: dict[str, Counter] = {}
    for lowered_doc, doc in zip(lowered_docs, surface_docs):
        for lowered, sentence in zip(lowered_doc, doc):
            for i, word in enumerate(lowered):
                if word not in firsts:
                    continue
                for n in range(2, min(longest, len(sentence) - i) + 1):
                    key = JOINER.join(lowered[i:i + n])
                    if key in phrases:
                        counts.setdefault(key, Counter())[" ".join(sentence[i:i + n])] += 1
    return usual_forms(counts)


def build_stopwords(term_docs: list[set[str]], settings: TokenizeParams, language: str) -> pd.DataFrame:
    """The run's stop words with where each came from, from each document's set of terms."""
    return stopword_sources(Counter(chain.from_iterable(term_docs)), len(term_docs), settings, language)
