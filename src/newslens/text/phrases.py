"""Phrases: collocations learned with gensim, and applied without it.

gensim ``Phrases`` with npmi scoring and the run language's connector words
(:data:`LANGUAGE_CONNECTORS`: articles, prepositions and conjunctions that may sit
inside a phrase, as gensim's English ones do) learns the
phrases on lowercase sentences *before* stop words are removed (so
``belt_and_road`` can form); the model is frozen, saved, and its parts are
joined by :data:`~newslens.text.words.JOINER`. A weaker phrase whose last word starts
a stronger one is dropped (:func:`prune_overlapping`), so that "President Xi
Jinping" gives ``president`` + ``xi_jinping``.

The slow parts of gensim are replaced by code that gives exactly its results
(the tests hold it to gensim's): counting the candidates (:func:`candidates`, per
partition of the documents, summed in order) and applying the frozen model
(:class:`PhraseTable`, plain data that a worker process can use without importing
gensim).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import chain, compress, islice

from newslens.params import TokenizeParams
from newslens.text.words import JOINER

# gensim's ENGLISH_CONNECTOR_WORDS (a test keeps them equal): a worker counting phrase
# candidates then needs no gensim import.
CONNECTOR_WORDS = frozenset("a an the for of with without at from to in on by and or".split())
# The same kinds of words in the other run languages: "Tag_der_Deutschen_Einheit",
# "ministerio_de_hacienda", "union_européenne", "camera_dei_deputati", "partij_van_de_arbeid".
LANGUAGE_CONNECTORS = {
    "en": CONNECTOR_WORDS,
    "de": frozenset("der die das des dem den ein eine einer eines einem einen und oder von vom zu zur zum "
                    "für mit in im an am auf aus bei über unter gegen".split()),
    "es": frozenset("de del la el los las un una unos unas y e o u a al en con por para sin sobre "
                    "entre".split()),
    "fr": frozenset("de du des la le les un une et ou à au aux en dans par pour sur sans avec "
                    "entre".split()),
    "it": frozenset("di del della dei degli delle dello il lo la i gli le un una uno e o a al alla ai "
                    "agli alle da dal dalla dai in nel nella nei con per su sul sulla tra fra".split()),
    "nl": frozenset("de het een van en of voor met in op aan bij uit tot door over om te der".split()),
    "pt": frozenset("de do da dos das o a os as um uma e ou em no na nos nas por pelo pela para com "
                    "sem sobre entre ao aos".split()),
    "ru": frozenset("и или в во на с со к ко по о об от до из у за для без при под над между".split()),
}


def connector_words(language: str) -> frozenset[str]:
    """The connector words of a run language (gensim's English ones for ``en``)."""
    return LANGUAGE_CONNECTORS[language]


def candidates(lowered: list[str], connectors: frozenset[str], found: list[str]) -> None:
    """Append the phrase candidates of a sentence to ``found``, as gensim's ``Phrases._learn_vocab``.

    Every word that is not a connector closes a candidate opened by the previous such word,
    with the connector words in between (``belt_and_road``); gensim's own pass is a
    Python loop that also counts every word in a dict, 3× slower than this and a Counter.
    """
    start, between = None, []
    for word in lowered:
        if word in connectors:
            if start is not None:
                between.append(word)
        else:
            if start is not None:
                found.append(JOINER.join([start, *between, word]) if between else start + JOINER + word)
                between = []
            start = word


def learn_phrases(candidates: list[Counter], words: Counter, n_words: int, settings: TokenizeParams,
                  language: str = "en", *, frequent: dict[str, int] | None = None):
    """Score collocations from the corpus' candidate and word counts (npmi, the language's connector words).

    The counts are those of gensim's first pass (``Phrases._learn_vocab``), made per
    chunk of documents in parallel and summed in chunk order; summing counts gives
    exactly the model gensim would learn on the whole corpus in one pass. ``frequent``: the
    candidates already summed and cut at ``phrase_min_count``, in order of first appearance.
    """
    if not settings.phrases:
        return None
    model = word_model(words, n_words, settings, language)
    model.vocab.update(_frequent(candidates, settings.phrase_min_count) if frequent is None else frequent)
    frozen = model.freeze()
    frozen.phrasegrams = prune_overlapping(frozen.phrasegrams, JOINER)
    return frozen


def word_model(words: Counter, n_words: int, settings: TokenizeParams, language: str = "en"):
    """gensim's Phrases with the corpus's word counts and no candidate yet: what scores a candidate.

    A candidate's npmi needs only its own count and its first and last words' counts, so
    candidates can be scored apart, a bucket at a time on the workers (:func:`passing`).
    """
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    connectors = ENGLISH_CONNECTOR_WORDS if language == "en" else connector_words(language)
    model = Phrases(min_count=settings.phrase_min_count, threshold=settings.phrase_threshold,
                    scoring="npmi", connector_words=connectors, delimiter=JOINER)
    model.corpus_word_count = n_words
    # Exact pruning: a phrase and its parts each occur at least min_count times,
    # so rarer entries can never score; dropping them makes freezing fast.
    kept = settings.phrase_min_count
    model.vocab = {w: n for w, n in words.items() if n >= kept and w not in connectors}
    return model


def passing(model, candidates: dict[str, int]) -> set[str]:
    """The candidates (already at least ``phrase_min_count``) that score above the threshold.

    ``model`` is a :func:`word_model`; it is left as it was. :func:`learn_phrases` given only
    these candidates learns the same phrases as given them all: the others never score.
    """
    from copy import copy

    scorer = copy(model)  # a shallow copy with its own vocab: the shared model is not changed
    scorer.vocab = {**model.vocab, **candidates}
    return set(scorer.export_phrases()) & set(candidates)


def _frequent(counters: list[Counter], at_least: int) -> dict[str, int]:
    """The keys whose summed count is at least ``at_least``, in order of first appearance.

    Summed with pandas' hash table: most of a million candidates occur once, and
    summing them in a Python loop took longer than counting them.
    """
    import numpy as np
    import pandas as pd

    keys = np.fromiter(chain.from_iterable(counters), dtype=object, count=sum(map(len, counters)))
    counts = np.fromiter(chain.from_iterable(c.values() for c in counters), dtype=np.int64, count=len(keys))
    codes, uniques = pd.factorize(keys)
    totals = np.bincount(codes, weights=counts, minlength=len(uniques)).astype(np.int64)
    frequent = np.flatnonzero(totals >= at_least)
    return dict(zip(uniques[frequent].tolist(), totals[frequent].tolist()))


def prune_overlapping(phrasegrams: dict[str, float], joiner: str = JOINER) -> dict[str, float]:
    """Drop a phrase ``a_b`` when a stronger phrase starts with its last word ``b``.

    gensim joins greedily from the left, so "President Xi Jinping" would become
    ``president_xi`` + ``jinping``; without the weaker ``president_xi`` it becomes
    ``president`` + ``xi_jinping``, the phrase a reader means.

    >>> prune_overlapping({"president_xi": 0.6, "xi_jinping": 0.9, "white_house": 0.9})
    {'xi_jinping': 0.9, 'white_house': 0.9}
    """
    best_start: dict[str, float] = {}
    for phrase, score in phrasegrams.items():
        first = phrase.split(joiner, 1)[0]
        best_start[first] = max(score, best_start.get(first, float("-inf")))
    return {phrase: score for phrase, score in phrasegrams.items()
            if best_start.get(phrase.rsplit(joiner, 1)[1], float("-inf")) <= score}


@dataclass(frozen=True)
class PhraseTable:
    """A frozen phrase model as plain data: what applying phrases needs, and nothing of gensim.

    Importing gensim takes a second or more, so a worker process that only applies
    phrases gets this table instead of gensim's ``FrozenPhrases``.
    """

    scores: dict[str, float]
    threshold: float
    connectors: frozenset[str]
    delimiter: str = JOINER
    firsts: frozenset[str] = frozenset()  # first words of the phrases
    openings: frozenset[tuple[str, str]] = frozenset()  # first two words of the phrases

    @classmethod
    def of(cls, phraser) -> "PhraseTable":
        """The table of a gensim ``FrozenPhrases``."""
        scores = dict(phraser.phrasegrams)
        openings = frozenset(tuple(p.split(phraser.delimiter, 2)[:2]) for p in scores)
        return cls(scores, phraser.threshold, frozenset(phraser.connector_words), phraser.delimiter,
                   frozenset(first for first, _ in openings), openings)

    def apply(self, sentence: list[str], surface: list[str] | None = None,
              forms: dict[str, Counter] | None = None, longest: int = 4) -> list[str]:
        """Join collocations in one lowercase sentence, exactly as ``FrozenPhrases[sentence]``.

        gensim's ``analyze_sentence`` walks every word in Python, joining and looking up
        every candidate; this first finds the words that, with the next one, open a
        phrase (few do), then makes the same left-to-right greedy choices: a candidate is a word,
        the connector words after it and the next word; a joined candidate's last word
        starts no other.

        With the sentence's ``surface`` tokens, it also counts in ``forms`` the written
        form of every phrase of at most ``longest`` words, wherever it occurs, including
        those the greedy walk does not join (the tests check it against a plain scan of
        every sentence).
        """
        # the positions whose word pair opens a phrase, looked up without a Python loop over the words
        pairs = map(self.openings.__contains__, zip(sentence, islice(sentence, 1, None)))
        starts = list(compress(range(len(sentence)), pairs))
        if not starts:
            return list(sentence)
        connectors, scores, threshold, delimiter = self.connectors, self.scores, self.threshold, self.delimiter
        out: list[str] = []
        done = 0  # sentence[:done] is in ``out``
        for start in starts:
            # a phrase's parts are a word, connector words, and the next word that is not one
            end = start + 1
            while end < len(sentence) and sentence[end] in connectors:
                end += 1
            if end == len(sentence):
                continue
            phrase = delimiter.join(sentence[start:end + 1])
            if forms is not None and end - start < longest and phrase in scores:
                written = forms.get(phrase)
                if written is None:  # not setdefault(phrase, Counter()): that makes a Counter every time
                    written = forms[phrase] = Counter()
                written[" ".join(surface[start:end + 1])] += 1
            # the last word of a joined phrase cannot start another (gensim's walk moves past it)
            if start >= done and scores.get(phrase, float("-inf")) > threshold:
                out.extend(sentence[done:start])
                out.append(phrase)
                done = end + 1
        out.extend(sentence[done:])
        return out
