"""The two passes of the tokenize stage over partitions of the documents.

:func:`newslens.text.tokenization.tokenize_documents` maps these functions over
partitions on any engine and reduces their results in partition order:

1. :func:`surface_chunk`: each text's sentences of surface tokens, the phrase
   candidates, and the counts of surface forms, scripts and markers;
2. :func:`normalize_chunk`: those sentences phrased and lemmatized by the draft
   tokenizer, with their token and document frequencies.

What travels between processes is kept small: a sentence is one string of tokens
joined by :data:`SEP`, and counters are packed (:func:`pack`).
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

from newslens.text.phrases import candidates, connector_words
from newslens.text.words import count_markers, script_of, surface_sentences

if TYPE_CHECKING:
    from newslens.text.tokenizer import Tokenizer

# Sentences travel between processes as one string, tokens joined by this; no token holds a
# space (words are runs of letters, digits and inner marks; phrases join words by "_").
SEP = " "


def chunks(items: list, n: int) -> list[list]:
    """``items`` cut into at most ``n`` consecutive lists of about equal length."""
    size = max(1, -(-len(items) // n))
    return [items[i:i + size] for i in range(0, len(items), size)]


def pack(counter: Counter) -> tuple[str, bytes]:
    """A counter of space-free strings as one string and one array: 5× faster to pickle."""
    return SEP.join(counter), array("q", counter.values()).tobytes()


def unpack(packed: tuple[str, bytes]) -> Counter:
    """The counter that :func:`pack` packed, keys in the same order."""
    keys, values = packed
    counts = array("q")
    counts.frombytes(values)
    return Counter(dict(zip(keys.split(SEP), counts))) if keys else Counter()


def sum_counters(counters: Iterable[Counter]) -> Counter:
    """Sum counters in order: keys stay in order of first appearance."""
    total = Counter()
    for counter in counters:
        total.update(counter)
    return total


def split_sentence(sentence: str | list[str]) -> list[str]:
    """A sentence's tokens from :class:`NormalizedChunk`."""
    if isinstance(sentence, str):
        return sentence.split(SEP) if sentence else []
    return sentence


class TokenDocs:
    """The normalized documents as token lists, made as they are read (no second copy in memory)."""

    def __init__(self, normalized: list[list]):
        self._normalized = normalized

    def __len__(self) -> int:
        return len(self._normalized)

    def __iter__(self) -> Iterator[list[list[str]]]:
        for doc in self._normalized:
            yield [split_sentence(sentence) for sentence in doc]

    def edges(self) -> Iterator[tuple[list[str], list[str]]]:
        """The first and last non-empty sentence of each document that has one, only those split.

        A sentence is empty exactly when its joined string (or its list) is.
        """
        for doc in self._normalized:
            filled = [sentence for sentence in doc if len(sentence)]
            if filled:
                yield split_sentence(filled[0]), split_sentence(filled[-1])


# ---------------------------------------------------------------- the first pass

@dataclass
class SurfaceChunk:
    """What the first pass learns from some texts; small, so cheap to send between processes."""

    sentences: list[list[str]]  # per text, each sentence's surface tokens joined by SEP
    candidates: Counter         # gensim's phrase candidates ("belt_and_road"), in order of first use
    n_words: int                # all words, connector words too (gensim's corpus_word_count)
    surface: Counter            # surface form counts
    initial: Counter            # surface form counts as the first word of a sentence
    scripts: Counter            # script_of the texts
    markers: Counter            # links, handles, retweet marks and hashtags (words.count_markers)

    def __getstate__(self) -> dict:
        counts = ("candidates", "surface", "initial")
        return {k: pack(v) if k in counts else v for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict) -> None:
        counts = ("candidates", "surface", "initial")
        self.__dict__.update({k: unpack(v) if k in counts else v for k, v in state.items()})


def surface_chunk(texts: list[str], language: str = "en") -> SurfaceChunk:
    """Surface tokens of some texts, their phrase candidates and form counts (the first pass)."""
    connectors = connector_words(language)
    sentences, found, flat, initial = [], [], [], []
    n_words, markers = 0, Counter()
    for text in texts:
        markers.update(count_markers(text))
        doc = []
        for tokens in surface_sentences(text, language):
            joined = SEP.join(tokens)
            doc.append(joined)
            if tokens:
                n_words += len(tokens)
                flat.extend(tokens)
                initial.append(tokens[0])
                candidates(joined.lower().split(SEP), connectors, found)
        sentences.append(doc)
    return SurfaceChunk(sentences, Counter(found), n_words, Counter(flat), Counter(initial),
                        Counter(map(script_of, texts)), markers)


# ---------------------------------------------------------------- the second pass

@dataclass
class NormalizedChunk:
    """What the second pass makes of some texts."""

    sentences: list[list]   # per text, each sentence's normalized tokens (joined by SEP when a str)
    cf: Counter             # token counts
    df: Counter             # document frequencies
    phrase_forms: dict      # phrase -> Counter of its written forms


def normalize_chunk(tokenizer: Tokenizer, docs: list) -> NormalizedChunk:
    """Phrase and lemmatize some texts' sentences (from :class:`SurfaceChunk`), before any filter."""
    table = tokenizer.phrase_table()
    lemmas = tokenizer._lemmas if tokenizer.settings.lemmatize else None
    out, flat, df, phrase_forms = [], [], Counter(), {}
    for doc in docs:
        normalized, start = [], len(flat)
        for sentence in doc:
            lowered = sentence.lower().split(SEP) if sentence else []
            if table is not None and not table.firsts.isdisjoint(lowered):
                lowered = table.apply(lowered, sentence.split(SEP), phrase_forms)
            tokens = lowered
            if lemmas is None and tokenizer.variants:  # no lemmas: the variants still count as their form
                tokens = [tokenizer.variants.get(t, t) for t in lowered]
            if lemmas is not None:
                tokens = list(map(lemmas.get, lowered))
                if None in tokens:  # phrases, and words that learn_lemmas did not see
                    tokens = [tokenizer.normalize(w) if t is None else t for t, w in zip(tokens, lowered)]
            flat.extend(tokens)
            joined = SEP.join(tokens)
            # a token holding SEP (a lemma with a space, say) would not split back: keep the list
            normalized.append(joined if joined.count(SEP) == max(len(tokens) - 1, 0) else tokens)
        df.update(set(flat[start:]))
        out.append(normalized)
    return NormalizedChunk(out, Counter(flat), df, phrase_forms)
