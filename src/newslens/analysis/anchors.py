"""Our model's coherence beside two well-known baselines at the same k (the topics report's anchors).

The scikit-learn example removes English stop words (``stop_words="english"``); on a run in another
language that list removes almost nothing, and the baseline would be scored on function words. So it
gets the run language's standard list (:func:`newslens.text.stopwords.standard_stopwords`, the
``stop-words`` package's list: German, Spanish, ...), and an English run keeps ``"english"``, so it
stays the published example. The table names the list the example used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from newslens.analysis.topic_quality import SHOWN, mean_coherence


class StoredTexts(NamedTuple):
    """The texts of ``doc_ids`` (in that order) in a documents.parquet (a file or a folder of parts),
    read only when a baseline is fitted: a cached score is checked against :meth:`digest`, which
    scans the file without holding more than one batch of its texts."""

    path: Path
    doc_ids: list[str]

    def read(self) -> list[str]:
        """The texts, in ``doc_ids``'s order (a missing doc_id raises KeyError)."""
        from newslens.files import texts_of

        return texts_of(self.path, self.doc_ids).loc[self.doc_ids].tolist()

    def digest(self) -> bytes:
        """sha256 of the texts in ``doc_ids``'s order, from one scan of the file a batch at a time."""
        import hashlib

        from newslens.files import wanted_texts

        each: dict[str, bytes] = {}
        for ids, texts in wanted_texts(self.path, self.doc_ids):
            for doc_id, text in zip(ids, texts):
                each[doc_id] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        missing = [doc_id for doc_id in self.doc_ids if doc_id not in each]
        if missing:
            raise KeyError(f"{len(missing)} of the documents are not in {self.path}, e.g. {missing[0]!r}")
        return hashlib.sha256(b"".join(each[doc_id] for doc_id in self.doc_ids)).digest()


def anchor_coherence(texts: list[str] | StoredTexts, tfidf, k: int, ours: float, *, seed: int = 0,
                     cache: Path | None = None, language: str = "en",
                     fit: Callable[[], list[list]] | None = None) -> pd.DataFrame:
    """NPMI of our model beside two well-known baselines at the same k.

    * scikit-learn's topic-extraction example: ``TfidfVectorizer(max_df=0.95,
      min_df=2, stop_words="english")`` on the cleaned texts, then NMF; in a run of another
      ``language``, that language's standard stop-word list instead of ``"english"``
      (:func:`example_stop_words`).
    * gensim's ``LdaModel`` at default settings on our own tokens and vocabulary.

    Each model is scored on the document co-occurrence of the tokens it saw,
    with the same NPMI averaged over top-n sizes 5, 10, 15 and 20. The two baselines
    cost about 12 s on the news run; with ``cache`` (a JSON file) their scores are kept
    under a hash of everything they depend on (texts, counts, terms, k, seed, library
    versions) and fitted again only when that changes. ``texts`` given as :class:`StoredTexts`
    are read only when the baselines are fitted. ``fit``, when given, fits them from the same
    inputs elsewhere and returns what :func:`anchor_scores` would (the topics stage: a task on
    its engine's workers, which read the texts and rows themselves, so the driver never holds
    the fits' working memory).
    """
    key = _anchor_key(texts, tfidf, k, seed, language)
    baselines = _read_anchor_cache(cache, key)
    if baselines is None:  # fitted (the texts read only now), and the scores cached
        if fit is not None:
            baselines = fit()
        else:
            baselines = anchor_scores(texts.read() if isinstance(texts, StoredTexts) else texts, tfidf, k, seed,
                                      language)
        if cache is not None:
            from newslens.files import write_text

            write_text(cache, json.dumps({"key": key, "scores": baselines}, indent=1) + "\n")
    rows = [("newslens (this report)", ours)] + [tuple(pair) for pair in baselines]  # ours: at SHOWN
    return pd.DataFrame([(name, k, round(score, SHOWN["model_coherence"])) for name, score in rows],
                        columns=["model", "k", "npmi"])


def example_stop_words(language: str) -> tuple[str | list[str], str]:
    """The scikit-learn example's stop words in a run of ``language``, and how the table names them.

    >>> example_stop_words("en")
    ('english', 'English stop words')
    >>> words, name = example_stop_words("de"); name, "und" in words
    ('German stop words', True)
    """
    from newslens.text.stopwords import standard_stopwords

    name = f"{LANGUAGE_NAMES.get(language, language)} stop words"
    return ("english", name) if language == "en" else (sorted(standard_stopwords(language)), name)


LANGUAGE_NAMES = {"de": "German", "en": "English", "es": "Spanish", "fr": "French", "it": "Italian",
                  "nl": "Dutch", "pt": "Portuguese", "ru": "Russian"}


def anchor_scores(texts: list[str], tfidf, k: int, seed: int, language: str) -> list[list]:
    """[name, NPMI] of the two baselines of :func:`anchor_coherence`, fitted now."""
    from gensim.matutils import Sparse2Corpus
    from gensim.models import LdaModel
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    stop_words, stop_name = example_stop_words(language)
    vectorizer = TfidfVectorizer(max_df=0.95, min_df=2, stop_words=stop_words)
    example_matrix = vectorizer.fit_transform(texts)
    example = NMF(n_components=k, init="nndsvda", random_state=seed).fit(example_matrix)
    example_binary = (example_matrix > 0).astype(np.int32).tocsc()

    corpus = Sparse2Corpus(tfidf.counts, documents_columns=False)
    id2word = dict(enumerate(tfidf.terms))
    lda = LdaModel(corpus, num_topics=k, id2word=id2word, random_state=seed)
    binary = (tfidf.counts > 0).astype(np.int32).tocsc()
    return [[f"scikit-learn example: TfidfVectorizer ({stop_name}) + NMF", mean_coherence(example.components_, example_binary)],
            ["gensim LdaModel, default settings", mean_coherence(lda.get_topics(), binary)]]


def _anchor_key(texts: list[str] | StoredTexts, tfidf, k: int, seed: int, language: str) -> str:
    """sha256 of what the baselines depend on: texts, counts, terms, k, seed, language and library versions."""
    import hashlib
    from importlib.metadata import version

    from newslens.analysis.tfidf import counts_digest

    digest = hashlib.sha256()
    if isinstance(texts, StoredTexts):
        digest.update(b"stored\0" + texts.digest())
    else:
        for text in texts:
            digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(counts_digest(tfidf))  # held, or read from its file a row group at a time
    digest.update("\0".join(map(str, tfidf.terms)).encode("utf-8", "surrogatepass"))
    libraries = {name: version(name) for name in ("scikit-learn", "gensim", "numpy", "scipy", "stop-words")}
    digest.update(json.dumps([k, seed, language, libraries], sort_keys=True).encode())
    return digest.hexdigest()


def _read_anchor_cache(cache: Path | None, key: str) -> list[list] | None:
    """The cached baseline scores when ``cache`` holds them for ``key``; None otherwise (or unreadable)."""
    if cache is None or not cache.is_file():
        return None
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored.get("scores") if isinstance(stored, dict) and stored.get("key") == key else None
