"""The stop-word policy of the tokenize stage, whole.

A token (a word or phrase after phrasing and lemmatizing, see :mod:`newslens.text.tokenizer`)
is dropped as a **stop word** when any of these holds:

1. **It is on the run's stop-word list**, the union of five sources (each term is
   listed once in ``stopword_sources.csv``, with the first source that gives it, in
   this order; ``stopwords.txt`` holds the list, one term per line):

   a. *standard*: the run language's list without its exceptions, the content
      words political text needs (``data/stopwords/standard_keep_<language>.txt``).
      English: scikit-learn's list (``ENGLISH_STOP_WORDS``) without "call" as in
      phone call, "bill" as in a law, … (unchanged since English was the only
      language). Every other language (:data:`newslens.params.LANGUAGES`): the list
      of the ``stop-words`` package (:func:`standard_stopwords` says why that one).
   b. *news boilerplate*: reporting and attribution verbs, outlets' names, days and
      page furniture (``data/stopwords/news_boilerplate.txt``), in a run that asks for
      it (``tokenize.news_boilerplate: true``, as the news and seed runs do).
   c. *corpus*: every term in more than ``tokenize.stopword_max_df`` of the
      documents (document frequency > ``stopword_max_df`` × documents, counted on
      the phrased, lemmatized tokens before any filter), only when the run has at
      least :data:`MIN_DOCS_FOR_CORPUS_STOPWORDS` documents: in a smaller corpus a
      document frequency says little.
   d. *formula*: terms frequent and evenly spread over the run's groups and periods,
      learned by :mod:`newslens.text.formulas` (which states the rule) unless
      ``tokenize.formulas`` is false.
   e. *params*: the run's ``tokenize.extra_stopwords``, lowercased.

   A term in ``tokenize.keep`` is on none of them (keep and extra_stopwords may not share one).

2. **It is a contraction of a stop word** the standard list lacks: it holds an
   apostrophe (``'``) and the part before the first one is on the list ("they're",
   "we'll"), or it ends with "n't" ("don't", "isn't").

3. **It is a phrase that starts or ends with a stop word** by rule 1 or 2
   ("has_been", "i_think", "he_said"). Phrases are learned *before* stop words are
   removed, so a stop word inside a phrase is kept: ``belt_and_road``.

The openers and closers :mod:`newslens.text.formulas` learns are not stop words: they are cut
from the start of a document's first sentence and the end of its last, and nowhere else.

Stop words are filtered after phrasing, with the other filters (numbers, short and
overlong tokens) in :meth:`newslens.text.tokenizer.Tokenizer.drop_reason`; the vocabulary
keeps them, marked ``is_stopword`` and not ``kept``.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources
from typing import TYPE_CHECKING

from newslens.params import TokenizeParams
from newslens.text.words import JOINER

if TYPE_CHECKING:  # imported where used: a worker process that tokenizes needs no pandas
    import pandas as pd

MIN_DOCS_FOR_CORPUS_STOPWORDS = 20
FORMULA_SOURCE = "formula (learned from the corpus)"


def word_list(name: str) -> frozenset[str]:
    """The terms of a list in ``newslens/data/stopwords/``: one per line, ``#`` starts a comment."""
    text = (resources.files("newslens.text") / "data" / "stopwords" / name).read_text(encoding="utf-8")
    return frozenset(term for term in (line.split("#", 1)[0].strip() for line in text.splitlines()) if term)


NEWS_BOILERPLATE = word_list("news_boilerplate.txt")
STOPWORD_KEEP = word_list("standard_keep_en.txt")  # exceptions to the standard English list


def standard_keep(language: str) -> frozenset[str]:
    """The exceptions to a language's standard list: content words kept as terms."""
    return word_list(f"standard_keep_{language}.txt")


def standard_stopwords(language: str) -> frozenset[str]:
    """The standard stop-word list of a run language, before its exceptions.

    English is scikit-learn's list, as it always was. The other languages come from
    ``stop-words`` (2025.11.4, BSD-3-Clause, the lists of Alireza Savand's python-stop-words,
    released again in 2025), not from ``stopwords-iso`` (0.7.1, MIT), which merges every list it
    found into one per language and so holds the very words political text is about: its
    German list has "Menschen", "Recht", "Ordnung", "Gott", "Jahr"; its Spanish "acuerdo",
    "general", "país"; its Russian "россия" (Russia), "москва" (Moscow), "война" (war),
    "народ" (people), "страна" (country), "деньги" (money). ``stop-words`` is smaller (de 263
    words, es 652, fr 348, it 453, nl 106, pt 329, ru 421, against stopwords-iso's 620, 732,
    691, 632, 413, 560, 559) and its German and Dutch lists are function words only; the few
    content words of the others (Spanish "estado", "trabajo"; Russian "люди", "жизнь") are
    its exceptions, in ``data/stopwords/standard_keep_<language>.txt``.
    """
    from newslens.params import LANGUAGES

    if language not in LANGUAGES:
        raise ValueError(f"language: no stop-word list for {language!r}; "
                         f"supported: {', '.join(map(repr, LANGUAGES))}")
    if language == "en":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    from stop_words import get_stop_words

    return frozenset(word.strip().lower() for word in get_stop_words(language) if word.strip())


def stopword_sources(df: Counter, n_docs: int, settings: TokenizeParams, language: str, *,
                     learned: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The run's stop-word list (rule 1), a term and its source per row, sorted by term.

    ``df`` holds the document frequencies of the normalized tokens over ``n_docs`` documents;
    ``learned`` the formulas of :mod:`newslens.text.formulas` (source e). ``tokenize.keep`` wins over
    every source.
    """
    import pandas as pd

    rows = [(t, "standard") for t in standard_stopwords(language) - standard_keep(language)]
    if settings.news_boilerplate:
        rows += [(t, "news boilerplate") for t in NEWS_BOILERPLATE]
    if n_docs >= MIN_DOCS_FOR_CORPUS_STOPWORDS:
        ceiling = settings.stopword_max_df * n_docs
        rows += [(t, f"corpus (in > {settings.stopword_max_df:.0%} of documents)")
                 for t, n in df.items() if n > ceiling]
    rows += [(t, FORMULA_SOURCE) for t in sorted(learned)]
    rows += [(t.lower(), "params") for t in settings.extra_stopwords]
    sources = pd.DataFrame(rows, columns=["term", "source"]).drop_duplicates("term", keep="first")
    sources = sources[~sources["term"].isin({" ".join(t.lower().split()) for t in settings.keep})]
    return sources.sort_values("term", ignore_index=True)


def is_stopword(word: str, stopwords: frozenset[str]) -> bool:
    """Rules 1 and 2: on the list, or a contraction of a word on it ("they're", "don't")."""
    if word in stopwords:
        return True
    if "'" in word:
        base = word.split("'", 1)[0]
        return base in stopwords or word.endswith("n't")
    return False


def is_stop_term(token: str, stopwords: frozenset[str]) -> bool:
    """Rules 1 to 3: a stop word, or a phrase that starts or ends with one ("has_been")."""
    if is_stopword(token, stopwords):
        return True
    if JOINER in token:
        parts = token.split(JOINER)
        return is_stopword(parts[0], stopwords) or is_stopword(parts[-1], stopwords)
    return False
