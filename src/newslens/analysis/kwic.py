"""Keyword in context on the original text, and a term's collocates on the tokens.

:func:`kwic` shows a term where it occurs, in the documents' own wording (not
tokens): readers check a finding against what the outlet actually wrote. Words
are found with the tokenizer's own word pattern (``newslens.text.words._WORD``,
imported although private so the two can never disagree on what a word is),
and a possessive ``'s`` is ignored when comparing, as the tokenizer drops it.

:func:`collocates` works on the run's tokens (stop words already removed) and
scores each word near the term by log-likelihood G² (:func:`newslens.measures.g2`).

:func:`newslens.report.markup.kwic_html` renders a KWIC table with the keyword in an aligned centre
column; every cell is escaped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from newslens.measures import g2
from newslens.corpus.sentences import split_text_sentences
from newslens.text.words import _WORD, JOINER, words

KWIC_COLUMNS = ["doc_id", "left", "keyword", "right", "start"]
COLLOCATE_COLUMNS = ["term", "collocate", "count", "expected", "g2"]


def _positive_int(name: str, value, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        extra = " or None" if optional else ""
        raise ValueError(f"{name}: must be a positive integer{extra}; got {value!r}")


def _term_parts(term: str, joiner: str) -> list[str]:
    """A term as its lowercase words: ``'belt_and_road'`` → ``['belt', 'and', 'road']``."""
    if not isinstance(term, str) or not term.strip():
        raise ValueError(f"term: must be a non-empty string; got {term!r}")
    if not joiner:
        raise ValueError("joiner: must be a non-empty string")
    parts = re.split(rf"{re.escape(joiner)}|\s+", term.strip().lower())
    if not all(parts):
        raise ValueError(f"term: {term!r} has an empty part when split on {joiner!r}")
    return parts


def _bare(word: str) -> str:
    """A surface word lowercased and without possessive ``'s``, as the tokenizer sees it."""
    return (words(word) or [word])[0].lower()


def _word_key(normalize: Callable[[str], str]) -> Callable[[str], str]:
    """``normalize(_bare(word))``, computed once per distinct surface word."""
    keys: dict[str, str] = {}

    def key(word: str) -> str:
        found = keys.get(word)
        if found is None:
            found = keys[word] = normalize(_bare(word))
        return found
    return key


def _sentence_starts(text: str) -> np.ndarray:
    """Character offset of each sentence of ``text`` (sentences are exact spans, in order)."""
    starts, position = [], 0
    for sentence in split_text_sentences(text):
        position = text.find(sentence, position)
        starts.append(position)
        position += len(sentence)
    return np.asarray(starts, dtype=np.int64)


def _find(surface: list[str], parts: list[str], key: Callable[[str], str],
          bare: dict[str, str] | None = None) -> list[tuple[int, int]]:
    """(first word, last word) index pairs where a document's words spell the term.

    ``bare`` caches :func:`_bare` of each surface word across documents.
    """
    if len(parts) == 1:  # normalize each distinct word once, then scan for those that match
        matching = {word for word in set(surface) if key(word) == parts[0]}
        return [(i, i) for i, word in enumerate(surface) if word in matching] if matching else []
    bare = {} if bare is None else bare
    lowered = [bare.get(word) or bare.setdefault(word, _bare(word)) for word in surface]
    n = len(parts)
    return [(i, i + n - 1) for i in range(len(lowered) - n + 1)
            if lowered[i] == parts[0] and lowered[i:i + n] == parts]


def _within_sentences(text: str, spans: np.ndarray, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The matches whose first and last words are in the same sentence, as the tokenizer's phrases are."""
    sentence = np.searchsorted(_sentence_starts(text), spans[:, 0], side="right")
    return [(i, j) for i, j in found if sentence[i] == sentence[j]]


def _squash(text: str) -> str:
    return " ".join(text.split())


def kwic(texts: Mapping[str, str], term: str, *, window: int = 6,
         normalize: Callable[[str], str] = str.lower, joiner: str = JOINER,
         limit: int | None = None) -> pd.DataFrame:
    """Every occurrence of ``term`` in the original texts, with ``window`` words each side.

    Parameters
    ----------
    texts : Mapping[str, str]
        ``doc_id → text``, in the order rows should follow; values that are not
        strings (missing texts) are skipped.
    term : str
        A token of the run: a word (``'talk'``) or a phrase (``'united_nations'``).
        Matching is case-insensitive.
    window : int
        Words of context on each side (fewer near the ends of a document).
    normalize : callable
        Applied to each lowercased surface word (possessive ``'s`` removed); a
        single-word term matches where ``normalize(word) == term``. Pass the run's
        ``Tokenizer.normalize`` to match lemmas (``talks`` → ``talk``). Phrases
        are compared on the lowercase words themselves (phrases are not
        lemmatized) and must lie within one sentence. Words are found in the
        text whatever the tokenizer made of them, so a word is also shown where
        it became part of a phrase (``talks`` in ``peace_talks``) or was dropped
        as a stop word: rows can outnumber the term's count in the vocabulary.
    joiner : str
        What joins the words of a phrase term.
    limit : int, optional
        At most this many rows.

    Returns
    -------
    pandas.DataFrame
        ``doc_id, left, keyword, right, start``: ``keyword`` is the exact matched
        text; ``left`` is the text from the first of up to ``window`` words before
        the match up to the match, ``right`` the text after the match through the
        ``window``-th word after it, both with whitespace collapsed (``''`` at the
        start or end of a document); ``start`` is the match's character offset.
        Rows in document order, then by offset.

    Examples
    --------
    >>> frame = kwic({"d1": "Trade talks began. The talks ended."}, "talks", window=2)
    >>> frame[["left", "keyword", "right", "start"]].values.tolist()
    [['Trade', 'talks', 'began. The', 6], ['began. The', 'talks', 'ended', 23]]
    """
    return kwic_frame(kwic_rows(texts, term, window=window, normalize=normalize, joiner=joiner, limit=limit))


def kwic_rows(texts: Mapping[str, str], term: str, *, window: int = 6,
              normalize: Callable[[str], str] = str.lower, joiner: str = JOINER,
              limit: int | None = None) -> list[tuple]:
    """:func:`kwic`'s rows as tuples (``doc_id, left, keyword, right, start``), in document order.

    The rows of consecutive partitions of the texts, joined in order, are the rows of the whole.
    """
    parts = _term_parts(term, joiner)
    _positive_int("window", window)
    _positive_int("limit", limit, optional=True)
    if not isinstance(texts, Mapping):
        raise ValueError(f"texts: must be a mapping of doc_id to text; got {type(texts).__name__}")
    key, bare = _word_key(normalize), {}
    rows: list[tuple] = []
    for doc_id, text in texts.items():
        if isinstance(text, str) and (len(parts) == 1 or parts[0] in text.lower()):
            rows.extend(_document_rows(doc_id, text, parts, key, window, bare))
            if limit is not None and len(rows) >= limit:
                return rows[:limit]
    return rows


def _document_rows(doc_id: str, text: str, parts: list[str], key: Callable[[str], str],
                   window: int, bare: dict[str, str] | None = None) -> list[tuple]:
    """KWIC rows of one document: (doc_id, left, keyword, right, start)."""
    found = _find(_WORD.findall(text), parts, key, bare)
    if not found:
        return []
    spans = np.array([m.span() for m in _WORD.finditer(text)], dtype=np.int64)
    if len(parts) > 1:
        found = _within_sentences(text, spans, found)
    return _rows_at(doc_id, text, spans, found, window)


def _rows_at(doc_id: str, text: str, spans: np.ndarray, found: list[tuple[int, int]],
             window: int) -> list[tuple]:
    """KWIC rows at the matched (first word, last word) pairs; ``spans`` are the words' offsets."""
    rows = []
    for first, last in found:
        start, end = int(spans[first, 0]), int(spans[last, 1])
        lo, hi = max(0, first - window), min(len(spans), last + 1 + window)
        left = text[spans[lo, 0]:start] if first > 0 else ""
        right = text[end:spans[hi - 1, 1]] if last + 1 < len(spans) else ""
        rows.append((doc_id, _squash(left), text[start:end], _squash(right), start))
    return rows


def kwic_frame(rows: list[tuple]) -> pd.DataFrame:
    """KWIC rows as :func:`kwic`'s frame."""
    frame = pd.DataFrame(rows, columns=KWIC_COLUMNS)
    return frame.astype({"start": "int64"})


def collocates(token_docs: Iterable[Sequence[str]], term: str, *, window: int = 5,
               min_count: int = 3, top_n: int | None = 20) -> pd.DataFrame:
    """Words found near ``term`` more often than their overall frequency predicts.

    The tokens within ``window`` positions either side of any occurrence of
    ``term`` (inside one document; the occurrences themselves excluded, each
    position counted once even where windows overlap) form the *window* region;
    all other tokens, again without the occurrences, form the *rest*. For each
    word, with ``a`` = its count in the window region, ``b`` = its count in the
    rest, ``c`` and ``d`` = the sizes of the two regions::

        expected = c (a + b) / (c + d)
        G² = 2 [a ln(a / E1) + b ln(b / E2)]      (:func:`newslens.measures.g2`)

    Only attracted words are kept (``a > expected`` and ``a >= min_count``).

    Parameters
    ----------
    token_docs : iterable of sequences of str
        Each document's tokens in order (e.g. ``load_document_tokens(...).values()``).
    term : str
        The node token (a word or a ``_``-joined phrase, as in the tokens).
    window : int
        Positions either side of each occurrence.
    min_count : int
        Least count in the window region for a collocate to be shown.
    top_n : int or None
        Rows kept.

    Returns
    -------
    pandas.DataFrame
        ``term, collocate, count (a), expected, g2``, by G² descending, ties by
        collocate; at most ``top_n`` rows (all when ``top_n`` is None).

    >>> docs = [["trade", "war", "tariff"], ["trade", "war", "tariff"], ["peace", "deal", "tariff"]]
    >>> collocates(docs, "war", window=1, min_count=2)[["collocate", "count"]].values.tolist()
    [['trade', 2], ['tariff', 2]]
    """
    _positive_int("min_count", min_count)
    _positive_int("top_n", top_n, optional=True)
    target = collocate_target(term)
    return collocates_from_counts(target, collocate_counts(token_docs, [term], window=window),
                                  min_count=min_count, top_n=top_n)


def collocate_target(term: str) -> str:
    """The token a collocate search looks for: a word, or a phrase's words joined as in the tokens."""
    return JOINER.join(_term_parts(term, JOINER))


@dataclass
class CollocateCounts:
    """What :func:`collocates` counts, for some documents: sums over partitions of a corpus.

    ``total`` counts every token; per node term, ``near`` counts the tokens in its window
    region (``a``), ``window`` is that region's size (``c``) and ``nodes`` its occurrences.
    The rest of a word's count is ``total − a`` (the node itself is never in either region)
    and the rest region's size ``tokens − c − nodes`` (``b`` and ``d``).
    """

    tokens: int
    total: Counter
    near: dict  # node term -> Counter of the tokens in its windows
    window: dict  # node term -> positions in its windows
    nodes: dict  # node term -> its occurrences


def collocate_counts(token_docs: Iterable[Sequence[str]], terms: Sequence[str], *, window: int = 5) -> CollocateCounts:
    """The counts :func:`collocates_from_counts` scores, of some documents, for each of ``terms``."""
    _positive_int("window", window)
    targets = [collocate_target(term) for term in terms]
    docs = [list(doc) for doc in token_docs]
    lengths = np.array([len(doc) for doc in docs], dtype=np.int64)
    codes, vocabulary = pd.factorize(pd.Series([t for doc in docs for t in doc], dtype=object))
    total = np.bincount(codes, minlength=len(vocabulary))
    found = CollocateCounts(int(lengths.sum()), Counter(dict(zip(vocabulary, total.tolist()))), {}, {}, {})
    for target in targets:
        near, size, nodes = Counter(), 0, 0
        if target in vocabulary:
            node = codes == vocabulary.get_loc(target)
            in_window = _window_mask(node, lengths, window) & ~node
            a = np.bincount(codes[in_window], minlength=len(vocabulary))
            seen = np.flatnonzero(a)
            near, size, nodes = Counter(dict(zip(vocabulary[seen], a[seen].tolist()))), int(in_window.sum()), int(node.sum())
        found.near[target], found.window[target], found.nodes[target] = near, size, nodes
    return found


def merge_collocate_counts(parts: list[CollocateCounts]) -> CollocateCounts:
    """Partitions' collocate counts summed in order (a fold's combine; the inputs unchanged)."""
    merged = CollocateCounts(0, Counter(), {}, {}, {})
    for part in parts:
        merged.tokens += part.tokens
        merged.total.update(part.total)
        for target, near in part.near.items():
            merged.near.setdefault(target, Counter()).update(near)
            merged.window[target] = merged.window.get(target, 0) + part.window[target]
            merged.nodes[target] = merged.nodes.get(target, 0) + part.nodes[target]
    return merged


def collocates_from_counts(target: str, counts: CollocateCounts, *, min_count: int = 3,
                           top_n: int | None = 20) -> pd.DataFrame:
    """:func:`collocates`'s table from its counts (:func:`collocate_counts`, summed over partitions)."""
    empty = pd.DataFrame({"term": pd.Series(dtype=object), "collocate": pd.Series(dtype=object),
                          "count": pd.Series(dtype="int64"), "expected": pd.Series(dtype=float),
                          "g2": pd.Series(dtype=float)})
    near = counts.near.get(target, Counter())
    c = float(counts.window.get(target, 0))
    if c == 0:
        return empty
    d = float(counts.tokens - counts.window[target] - counts.nodes[target])
    words = np.array(list(near), dtype=object)  # a word never in a window (a = 0) is never kept
    a = np.array([near[w] for w in words], dtype=float)
    b = np.array([counts.total[w] - near[w] for w in words], dtype=float)
    expected = c * (a + b) / (c + d)
    keep = np.flatnonzero((a >= min_count) & (a > expected))
    frame = pd.DataFrame({"term": pd.Series([target] * len(keep), dtype=object),
                          "collocate": pd.Series(words[keep], dtype=object),
                          "count": a[keep].astype("int64"), "expected": expected[keep],
                          "g2": g2(a[keep], b[keep], c, d)})
    frame = frame.sort_values(["g2", "collocate"], ascending=[False, True], kind="mergesort",
                              ignore_index=True)
    return frame if top_n is None else frame.head(top_n)


def _window_mask(node: np.ndarray, lengths: np.ndarray, window: int) -> np.ndarray:
    """True at every position within ``window`` of a node position of the same document."""
    doc_start = np.repeat(np.cumsum(lengths) - lengths, lengths)
    doc_end = np.repeat(np.cumsum(lengths), lengths)  # one past the document's last token
    positions = np.flatnonzero(node)
    lo = np.maximum(positions - window, doc_start[positions])
    hi = np.minimum(positions + window + 1, doc_end[positions])
    cover = np.zeros(len(node) + 1, dtype=np.int64)
    np.add.at(cover, lo, 1)
    np.add.at(cover, hi, -1)
    return np.cumsum(cover)[:-1] > 0
