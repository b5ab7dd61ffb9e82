"""Our model's coherence beside two well-known baselines at the same k (the topics report's anchors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from newslens.analysis.topic_quality import SHOWN, mean_coherence


def anchor_coherence(texts: list[str], tfidf, k: int, ours: float, *, seed: int = 0,
                     cache: Path | None = None) -> pd.DataFrame:
    """NPMI of our model beside two well-known baselines at the same k.

    * scikit-learn's topic-extraction example: ``TfidfVectorizer(max_df=0.95,
      min_df=2, stop_words="english")`` on the cleaned texts, then NMF.
    * gensim's ``LdaModel`` at default settings on our own tokens and vocabulary.

    Each model is scored on the document co-occurrence of the tokens it saw,
    with the same NPMI averaged over top-n sizes 5, 10, 15 and 20. The two baselines
    cost about 12 s on the news run; with ``cache`` (a JSON file) their scores are kept
    under a hash of everything they depend on (texts, counts, terms, k, seed, library
    versions) and fitted again only when that changes.
    """
    key = _anchor_key(texts, tfidf, k, seed)
    cached = _read_anchor_cache(cache, key)
    baselines = cached if cached is not None else _anchor_scores(texts, tfidf, k, seed)
    if cache is not None and cached is None:
        from newslens.files import write_text

        write_text(cache, json.dumps({"key": key, "scores": baselines}, indent=1) + "\n")
    rows = [("newslens (this report)", ours)] + [tuple(pair) for pair in baselines]  # ours: at SHOWN
    return pd.DataFrame([(name, k, round(score, SHOWN["model_coherence"])) for name, score in rows],
                        columns=["model", "k", "npmi"])


def _anchor_scores(texts: list[str], tfidf, k: int, seed: int) -> list[list]:
    """[name, NPMI] of the two baselines of :func:`anchor_coherence`, fitted now."""
    from gensim.matutils import Sparse2Corpus
    from gensim.models import LdaModel
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
    example_matrix = vectorizer.fit_transform(texts)
    example = NMF(n_components=k, init="nndsvda", random_state=seed).fit(example_matrix)
    example_binary = (example_matrix > 0).astype(np.int32).tocsc()

    corpus = Sparse2Corpus(tfidf.counts, documents_columns=False)
    id2word = dict(enumerate(tfidf.terms))
    lda = LdaModel(corpus, num_topics=k, id2word=id2word, random_state=seed)
    binary = (tfidf.counts > 0).astype(np.int32).tocsc()
    return [["scikit-learn example: TfidfVectorizer + NMF", mean_coherence(example.components_, example_binary)],
            ["gensim LdaModel, default settings", mean_coherence(lda.get_topics(), binary)]]


def _anchor_key(texts: list[str], tfidf, k: int, seed: int) -> str:
    """sha256 of what the baselines depend on: texts, counts, terms, k, seed and library versions."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    counts = tfidf.counts.tocsr()
    for part in (counts.data, counts.indices, counts.indptr):
        digest.update(str(part.dtype).encode() + np.ascontiguousarray(part).tobytes())
    digest.update("\0".join(map(str, tfidf.terms)).encode("utf-8", "surrogatepass"))
    libraries = {name: version(name) for name in ("scikit-learn", "gensim", "numpy", "scipy")}
    digest.update(json.dumps([k, seed, libraries], sort_keys=True).encode())
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
