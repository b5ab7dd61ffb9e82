"""Stage 02: one tokenization, shared by every later stage.

The policy, in order:

1. **Sentences** from :mod:`newslens.sentences`; phrases never cross them.
2. **Words**: runs of letters and digits, with internal hyphens and apostrophes
   kept whole (``China-Belarus``, ``win-win``, ``Sino-Belarusian``). A possessive
   ``'s`` is dropped (``China's`` → ``china``). Punctuation is not a token.
3. **Case**: tokens are lowercase; the most frequent surface form of each term is
   kept for display (``Xi Jinping``, not ``xi jinping``).
4. **Phrases**: gensim ``Phrases`` with npmi scoring and English connector words,
   learned on lowercase sentences *before* stop words are removed (so
   ``belt_and_road`` can form), frozen and saved; phrase parts are joined by ``_``.
5. **Lemmas** (option, on by default): simplemma, offline, for the run's
   language; applied to single words whose usual surface form is lowercase, so
   names (``Reuters``, ``Mattis``) and phrases are left as written.
6. **Filters**, after phrasing: stop words (a standard list, a corpus-derived
   list of terms above a document-frequency ceiling, and news boilerplate),
   pure numbers (unless ``keep_numbers``), tokens shorter than
   ``min_token_length``, and "words" longer than ``max_token_length`` (URLs,
   base64 blobs), which are counted.

:class:`Tokenizer` holds the frozen result (phrase model, stop words, name list)
and turns any text into the same tokens; :func:`load_analyzer` hands later
stages the saved tokens as a scikit-learn ``analyzer``, so no stage tokenizes
again.
"""

from __future__ import annotations

import json
import logging
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from newslens.engine import engine_scope
from newslens.params import TokenizeParams
from newslens.sentences import split_text_sentences

if TYPE_CHECKING:  # imported where used: a worker process that tokenizes needs neither
    import pandas as pd

    from newslens.engine import Engine

logger = logging.getLogger(__name__)

JOINER = "_"
# Letters/digits with internal hyphens or apostrophes; dots inside initialisms (U.S.) too.
# Numbers with decimal points or thousands separators (2.65, 19,000) come first, whole:
# otherwise "2.65" would read as "2.6" + "5" and "1,000" as "1" + "000" (and a phrase "1_000").
# The first character is matched once, outside the alternatives, so that `re` skips the
# spaces and punctuation between words with its fast first-character scan (the same
# matches as "\d+(?:[.,]\d+)+…|[^\W_](?:\.[^\W_])+\.?|[^\W_]+(?:[-'’][^\W_]+)*", 40% faster).
_WORD = re.compile(r"[^\W_](?:(?<=\d)\d*(?:[.,]\d+)+(?:st|nd|rd|th|s)?(?![^\W_])"
                   r"|(?:\.[^\W_])+\.?|[^\W_]*(?:[-'’][^\W_]+)*)", re.UNICODE)
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_NUMBER = re.compile(r"^[\d.,]+(?:st|nd|rd|th|s)?$")

# Words every news outlet uses to report speech and attribute sources, and the
# outlets' own names; they say who spoke, not what was said.
NEWS_BOILERPLATE = frozenset("""
say said says saying tell told tells according accord report reported reports reporting reporter
add added adds adding note noted state stated claim claimed claims announce announced ask asked
statement news press agency spokesman spokeswoman spokesperson mr mrs ms also would could one two
year years time week month day monday tuesday wednesday thursday friday saturday sunday
aljazeera al_jazeera tass abc abc_news rte huffington huffington_post huffpost dw deutsche_welle
bbc bbc_news cnn china_daily xinhua reuters ap associated_press afp image caption copyright
getty getty_images photo video watch read click subscribe newsletter share al jazeera source
european_weekly page
""".split())


def standard_stopwords(language: str) -> frozenset[str]:
    """scikit-learn's English list: the standard for the only language supported so far."""
    if language != "en":
        raise ValueError(f"language: no stop-word list for {language!r}; supported: 'en'")
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def words(sentence: str) -> list[str]:
    """Surface word tokens of one sentence, with possessive ``'s`` removed.

    >>> words("China's win-win cooperation with the U.S. grew 3.5% in 2021.")
    ['China', 'win-win', 'cooperation', 'with', 'the', 'U.S.', 'grew', '3.5', 'in', '2021']
    """
    tokens = _WORD.findall(sentence)
    if "'" not in sentence and "’" not in sentence:
        return tokens
    return [_POSSESSIVE.sub("", t) if "'" in t or "’" in t else t for t in tokens]


# Not language: web addresses, e-mail addresses, and outlets' share widgets and
# source lines. They are cut before words are found (the text itself is kept
# whole in documents.parquet), so "dw", "com" or "Newsvine" never become terms.
# Each alternative comes with strings that any match of it contains (compared
# case-folded, see _fold): most texts contain none of them, and the rest are
# searched only with the alternatives they can match.
_NON_TEXT_ALTERNATIVES = (
    (r"(?:https?://|www\.|pic\.twitter\.com/)\S+", ("http://", "https://", "www.", "pic.twitter.com/")),
    (r"\b[\w.+-]+@[\w-]+\.[\w.]+\b", ("@",)),
    (r"Send Facebook Twitter Google\+ Whatsapp Tumblr linkedin stumble Digg reddit Newsvine Permalink",
     ("send facebook twitter google+",)),
    (r"\bSource:\s*-?\s*Al Jazeera(?: and news agencies)?", ("source:",)),
    (r"Do you have information you want to share with the Huffington Post\? Here's how\.",
     ("do you have information",)),
    (r"Share this slide:", ("share this slide:",)),
    (r"How will Donald Trump's first 100 days impact YOU\? Subscribe, choose the community that you "
     r"most identify with or want to learn more about and we'll send you the news that matters most "
     r"once a week throughout Trump's first 100 days in office\.", ("how will donald trump's",)),
    (r"\bLearn more(?=\s*$|\s+[A-Z])", ("learn more",)),
)
NON_TEXT = re.compile("|".join(pattern for pattern, _ in _NON_TEXT_ALTERNATIVES), re.IGNORECASE)


def _fold(text: str) -> str:
    """``text`` such that an ASCII string occurs in it iff it occurs in ``text`` under ``re.IGNORECASE``.

    Under IGNORECASE an ASCII letter also matches "İ", "ı" (i) and "ſ" (s) and the
    Kelvin sign (k); ``str.lower`` maps all but the first three (and "İ" to two characters).
    """
    return text.replace("İ", "i").replace("ı", "i").replace("ſ", "s").lower()


@lru_cache(maxsize=None)
def _non_text_pattern(present: tuple[int, ...]) -> re.Pattern:
    """NON_TEXT without the alternatives that cannot match: the same matches, found faster.

    An alternative that matches nowhere in a text changes nothing in its ``sub``;
    ``re`` would still try it at every position, which made this step 4 s of the stage.
    """
    return re.compile("|".join(_NON_TEXT_ALTERNATIVES[i][0] for i in present), re.IGNORECASE)


def strip_non_text(text: str) -> str:
    """Replace URLs, e-mail addresses and share-widget boilerplate by a space.

    >>> strip_non_text("See http://dw.com/p/2Wx5C now. Source: Al Jazeera")
    'See   now.  '
    """
    folded = _fold(text)
    present = tuple(i for i, (_, needles) in enumerate(_NON_TEXT_ALTERNATIVES)
                    if any(needle in folded for needle in needles))
    return _non_text_pattern(present).sub(" ", text) if present else text


def surface_sentences(text: str) -> list[list[str]]:
    """A text as sentences of surface tokens."""
    return [words(s) for s in split_text_sentences(strip_non_text(text))]


@lru_cache(maxsize=200_000)
def _lemma(token: str, language: str) -> str:
    import simplemma

    if "-" in token or not token.isalpha():
        return token
    return simplemma.lemmatize(token, lang=language).lower()


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
        openings = self.openings
        starts = [i for i, pair in enumerate(zip(sentence, sentence[1:])) if pair in openings]
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
                forms.setdefault(phrase, Counter())[" ".join(surface[start:end + 1])] += 1
            # the last word of a joined phrase cannot start another (gensim's walk moves past it)
            if start >= done and scores.get(phrase, float("-inf")) > threshold:
                out.extend(sentence[done:start])
                out.append(phrase)
                done = end + 1
        out.extend(sentence[done:])
        return out


@dataclass
class Tokenizer:
    """The frozen tokenization of a run: apply it to any text, get the run's tokens.

    A pickled tokenizer (sent to a worker process) carries its phrases as a
    :class:`PhraseTable` instead of the gensim model: it tokenizes the same, but
    cannot be saved.
    """

    settings: TokenizeParams
    language: str
    phraser: object | None  # gensim FrozenPhrases
    stopwords: frozenset[str]
    names: frozenset[str] = field(default_factory=frozenset)  # lowercase forms usually capitalised
    _lemmas: dict = field(default_factory=dict, repr=False, compare=False)
    _phrases: PhraseTable | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_phrases"], state["phraser"] = self.phrase_table(), None
        return state

    def phrase_table(self) -> PhraseTable | None:
        """The phrases as plain data (made once from the gensim model)."""
        if self._phrases is None and self.phraser is not None:
            self._phrases = PhraseTable.of(self.phraser)
        return self._phrases

    def phrase(self, sentence: list[str]) -> list[str]:
        """Join collocations in one lowercase sentence."""
        table = self.phrase_table()
        return table.apply(sentence) if table is not None and sentence else sentence

    def normalize(self, token: str) -> str:
        """Lemmatize a single lowercase word, unless it is a name or a phrase."""
        cached = self._lemmas.get(token)
        if cached is None:
            if not self.settings.lemmatize or JOINER in token or token in self.names:
                cached = token
            else:
                cached = _lemma(token, self.language)
            self._lemmas[token] = cached
        return cached

    def learn_lemmas(self, words: Iterable[str]) -> None:
        """Look up the lemma of every word now (a worker then needs no simplemma)."""
        for word in words:
            self.normalize(word)

    def is_stopword(self, word: str) -> bool:
        """A stop word, or a contraction of one the standard list lacks ("they're", "don't")."""
        if word in self.stopwords:
            return True
        if "'" in word:
            base = word.split("'", 1)[0]
            return base in self.stopwords or word.endswith("n't")
        return False

    def drop_reason(self, token: str) -> str | None:
        """Why a phrased, lemmatized token is filtered out, or None to keep it."""
        if self.is_stopword(token):
            return "stop word"
        if JOINER in token:
            parts = token.split(JOINER)
            if self.is_stopword(parts[0]) or self.is_stopword(parts[-1]):
                return "stop word"  # a phrase that starts or ends with one: "has_been", "i_think"
            if not self.settings.keep_numbers and any(_NUMBER.match(p) for p in parts):
                return "number"  # dates and times joined as phrases: "12_09", "2016_target"
        if len(token) > self.settings.max_token_length:
            return "overlong"
        if _NUMBER.match(token):
            return None if self.settings.keep_numbers else "number"
        if len(token) < self.settings.min_token_length:
            return "short"
        return None

    def normalized_sentence(self, lowered: list[str]) -> list[str]:
        """Phrase and lemmatize one lowercase sentence, before any filter."""
        return [self.normalize(token) for token in self.phrase(lowered)]

    def tokens_of_sentence(self, lowered: list[str]) -> list[str]:
        """Phrase, lemmatize and filter one lowercase sentence."""
        return [t for t in self.normalized_sentence(lowered) if self.drop_reason(t) is None]

    def analyze(self, text: str) -> list[list[str]]:
        """Tokens of a new text, sentence by sentence, exactly as the stage made them."""
        return [self.tokens_of_sentence([t.lower() for t in s]) for s in surface_sentences(text)]

    def save(self, folder: Path) -> None:
        """Save the phrase model and settings so the same tokens can be made again."""
        from newslens.io import atomic_path, write_text

        if self.phraser is None and self._phrases is not None:
            raise ValueError("a tokenizer that was pickled (sent to a worker) has no gensim model to save")
        state = {"settings": self.settings.model_dump(), "language": self.language,
                 "names": sorted(self.names), "has_phrases": self.phraser is not None}
        write_text(folder / "tokenizer.json", json.dumps(state, indent=1, sort_keys=True) + "\n")
        if self.phraser is not None:
            # gensim logs lifecycle events (timestamps, the temporary file name) into the pickle;
            # without them the same phrases give the same bytes.
            self.phraser.lifecycle_events = None
            with atomic_path(folder / "phrases.model") as tmp:
                self.phraser.save(str(tmp))

    @classmethod
    def load(cls, folder: Path) -> "Tokenizer":
        """Load a saved tokenizer: settings, names, stop words and frozen phrases."""
        state = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        phraser = None
        if state["has_phrases"]:
            from gensim.models.phrases import FrozenPhrases

            phraser = FrozenPhrases.load(str(folder / "phrases.model"))
        # one stop word per line (a params stop word may hold a space: split on lines only)
        lines = (folder / "stopwords.txt").read_text(encoding="utf-8").splitlines()
        stopwords = frozenset(line for line in lines if line)
        return cls(TokenizeParams(**state["settings"]), state["language"], phraser, stopwords,
                   frozenset(state["names"]))


# ---------------------------------------------------------------- learning the tokenizer

# Content words in scikit-learn's English list that news analysis needs (its docs
# warn the list has known issues): "call" as in phone call, "bill" as in a law.
STOPWORD_KEEP = frozenset({"bill", "call", "computer", "cry", "fire", "interest", "mill", "system",
                           "detail", "describe", "found", "move", "show", "side", "thick", "thin"})
MIN_DOCS_FOR_CORPUS_STOPWORDS = 20
# gensim's ENGLISH_CONNECTOR_WORDS (a test keeps them equal): a worker counting phrase
# candidates then needs no gensim import.
CONNECTOR_WORDS = frozenset("a an the for of with without at from to in on by and or".split())
# Sentences travel between processes as one string, tokens joined by this; no token holds a
# space (words are runs of letters, digits and inner marks; phrases join words by "_").
_SEP = " "


@dataclass
class TokenizeResult:
    """Everything the tokenize stage writes."""

    tokens: pd.DataFrame        # doc_id, sentence, tokens
    vocabulary: pd.DataFrame    # term, display, cf, df, is_phrase, is_stopword
    phrases: pd.DataFrame       # phrase, display, count, score
    stopword_sources: pd.DataFrame  # term, source
    tokenizer: Tokenizer
    stats: dict


def _chunks(items: list, n: int) -> list[list]:
    size = max(1, -(-len(items) // n))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _pack(counter: Counter) -> tuple[str, bytes]:
    """A counter of space-free strings as one string and one array: 5× faster to pickle."""
    return _SEP.join(counter), array("q", counter.values()).tobytes()


def _unpack(packed: tuple[str, bytes]) -> Counter:
    keys, values = packed
    counts = array("q")
    counts.frombytes(values)
    return Counter(dict(zip(keys.split(_SEP), counts))) if keys else Counter()


@dataclass
class SurfaceChunk:
    """What the first pass learns from some texts; small, so cheap to send between processes."""

    sentences: list[list[str]]  # per text, each sentence's surface tokens joined by _SEP
    candidates: Counter         # gensim's phrase candidates ("belt_and_road"), in order of first use
    n_words: int                # all words, connector words too (gensim's corpus_word_count)
    surface: Counter            # surface form counts
    initial: Counter            # surface form counts as the first word of a sentence
    scripts: Counter            # script_of the texts

    def __getstate__(self) -> dict:
        counts = ("candidates", "surface", "initial")
        return {k: _pack(v) if k in counts else v for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict) -> None:
        counts = ("candidates", "surface", "initial")
        self.__dict__.update({k: _unpack(v) if k in counts else v for k, v in state.items()})


def _candidates(lowered: list[str], connectors: frozenset[str], found: list[str]) -> None:
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


def _surface_chunk(texts: list[str]) -> SurfaceChunk:
    """Surface tokens of some texts, their phrase candidates and form counts (the first pass)."""
    sentences, found, flat, initial = [], [], [], []
    n_words = 0
    for text in texts:
        doc = []
        for tokens in surface_sentences(text):
            joined = _SEP.join(tokens)
            doc.append(joined)
            if tokens:
                n_words += len(tokens)
                flat.extend(tokens)
                initial.append(tokens[0])
                _candidates(joined.lower().split(_SEP), CONNECTOR_WORDS, found)
        sentences.append(doc)
    return SurfaceChunk(sentences, Counter(found), n_words, Counter(flat), Counter(initial),
                        Counter(map(script_of, texts)))


@dataclass
class NormalizedChunk:
    """What the second pass makes of some texts."""

    sentences: list[list]   # per text, each sentence's normalized tokens (joined by _SEP when a str)
    cf: Counter             # token counts
    df: Counter             # document frequencies
    phrase_forms: dict      # phrase -> Counter of its written forms


def _normalize_chunk(tokenizer: Tokenizer, docs: list) -> NormalizedChunk:
    """Phrase and lemmatize some texts' sentences (from :class:`SurfaceChunk`), before any filter."""
    table = tokenizer.phrase_table()
    lemmas = tokenizer._lemmas if tokenizer.settings.lemmatize else None
    out, flat, df, phrase_forms = [], [], Counter(), {}
    for doc in docs:
        normalized, start = [], len(flat)
        for sentence in doc:
            lowered = sentence.lower().split(_SEP) if sentence else []
            if table is not None and not table.firsts.isdisjoint(lowered):
                lowered = table.apply(lowered, sentence.split(_SEP), phrase_forms)
            tokens = lowered
            if lemmas is not None:
                tokens = list(map(lemmas.get, lowered))
                if None in tokens:  # phrases, and words that learn_lemmas did not see
                    tokens = [tokenizer.normalize(w) if t is None else t for t, w in zip(tokens, lowered)]
            flat.extend(tokens)
            joined = _SEP.join(tokens)
            # a token holding _SEP (a lemma with a space, say) would not split back: keep the list
            normalized.append(joined if joined.count(_SEP) == max(len(tokens) - 1, 0) else tokens)
        df.update(set(flat[start:]))
        out.append(normalized)
    return NormalizedChunk(out, Counter(flat), df, phrase_forms)


def _sum_counters(counters: Iterable[Counter]) -> Counter:
    """Sum counters in order: keys stay in order of first appearance."""
    total = Counter()
    for counter in counters:
        total.update(counter)
    return total


def _display_forms(surface: Counter, initial: Counter) -> dict[str, str]:
    """The usual written form of each lowercase word, from counts of all uses and of sentence-initial uses.

    A use inside a sentence weighs 1000 sentence-initial ones; ties go to the first
    form in code-point order.
    """
    best: dict[str, tuple[int, str]] = {}
    for form, count in surface.items():
        first = initial.get(form, 0)
        weight = (count - first) * 1000 + first
        low = form.lower()
        kept = best.get(low)
        if kept is None or weight > kept[0] or (weight == kept[0] and form < kept[1]):
            best[low] = (weight, form)
    return {low: form for low, (_, form) in best.items()}


def _usual_forms(counts: dict[str, Counter]) -> dict[str, str]:
    """The most frequent written form of each key; ties go to the first in code-point order."""
    return {key: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for key, c in counts.items()}


def learn_phrases(candidates: list[Counter], words: Counter, n_words: int, settings: TokenizeParams):
    """Score collocations from the corpus' candidate and word counts (npmi, English connector words).

    The counts are those of gensim's first pass (``Phrases._learn_vocab``), made per
    chunk of documents in parallel and summed in chunk order; summing counts gives
    exactly the model gensim would learn on the whole corpus in one pass.
    """
    if not settings.phrases:
        return None
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    model = Phrases(min_count=settings.phrase_min_count, threshold=settings.phrase_threshold,
                    scoring="npmi", connector_words=ENGLISH_CONNECTOR_WORDS, delimiter=JOINER)
    model.corpus_word_count = n_words
    # Exact pruning: a phrase and its parts each occur at least min_count times,
    # so rarer entries can never score; dropping them makes freezing fast.
    kept = settings.phrase_min_count
    model.vocab = {w: n for w, n in words.items() if n >= kept and w not in ENGLISH_CONNECTOR_WORDS}
    model.vocab.update(_frequent(candidates, kept))
    frozen = model.freeze()
    frozen.phrasegrams = prune_overlapping(frozen.phrasegrams, JOINER)
    return frozen


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


def _stopword_sources(df: Counter, n_docs: int, settings: TokenizeParams, language: str) -> pd.DataFrame:
    """The run's stop words with where each came from (standard, boilerplate, corpus, params),
    from document frequencies ``df`` over ``n_docs`` documents."""
    import pandas as pd

    rows = [(t, "standard") for t in standard_stopwords(language) - STOPWORD_KEEP]
    rows += [(t, "news boilerplate") for t in NEWS_BOILERPLATE]
    if n_docs >= MIN_DOCS_FOR_CORPUS_STOPWORDS:
        ceiling = settings.stopword_max_df * n_docs
        rows += [(t, f"corpus (in > {settings.stopword_max_df:.0%} of documents)")
                 for t, n in df.items() if n > ceiling]
    rows += [(t.lower(), "params") for t in settings.extra_stopwords]
    sources = pd.DataFrame(rows, columns=["term", "source"]).drop_duplicates("term", keep="first")
    return sources.sort_values("term", ignore_index=True)


_NOT_LETTERS = re.compile(r"[\W\d_]+")
_NOT_LATIN = re.compile(r"[^A-Za-zÀ-ɏ]+")
_NOT_ASCII_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


def script_of(text: str) -> str:
    """'latin' when most letters are Latin, else 'other' (counted, never dropped)."""
    if text.isascii():  # the common case, decided without scanning every letter
        return "latin" if re.search("[A-Za-z]", text) else "none"
    ascii_part = text.encode("ascii", "ignore")
    ascii_letters = len(ascii_part.translate(None, _NOT_ASCII_LETTERS))
    if ascii_letters >= 0.5 * (ascii_letters + len(text) - len(ascii_part)):
        return "latin"  # Latin even if every other character were a non-Latin letter
    # letters counted as what is left once the rest is removed (no list of every letter)
    letters = len(_NOT_LETTERS.sub("", text))
    if not letters:
        return "none"
    return "latin" if len(_NOT_LATIN.sub("", text)) >= 0.5 * letters else "other"


def tokenize_documents(documents: pd.DataFrame, settings: TokenizeParams, language: str,
                       *, n_jobs: int = 2, engine: "Engine | str | None" = None) -> TokenizeResult:
    """Learn the run's tokenizer on ``documents`` and tokenize them with it.

    Two passes over partitions of the documents, on any engine (see :mod:`newslens.engine`):
    surface counts, phrase candidates and sentences per partition, reduced into the frozen
    phrase model and the lemmas; then normalised tokens with that tokenizer broadcast,
    reduced into the stop words. ``engine`` is an engine, an engine name, or None for local
    processes (``n_jobs``).
    """
    texts = documents["text"].tolist()
    with engine_scope(engine, n_jobs) as runner:
        parallel, parts = len(texts) >= 200, runner.workers * 2
        chunks = list(runner.map(_surface_chunk, _chunks(texts, parts), parallel=parallel))
        surface = _sum_counters(c.surface for c in chunks)
        words = Counter()
        for form, count in surface.items():
            words[form.lower()] += count
        phraser = learn_phrases([c.candidates for c in chunks], words, sum(c.n_words for c in chunks), settings)
        forms = _display_forms(surface, _sum_counters(c.initial for c in chunks))
        names = frozenset(low for low, form in forms.items() if form[:1].isupper() and JOINER not in low)
        draft = Tokenizer(settings, language, phraser, frozenset(), names)
        if settings.lemmatize:
            draft.learn_lemmas(words)
        sentences = [doc for chunk in chunks for doc in chunk.sentences]
        scripts = _sum_counters(c.scripts for c in chunks)
        del chunks, surface
        draft.phrase_table()  # made once here, not in every task's pickle
        pieces = list(runner.map(_normalize_chunk, _chunks(sentences, parts), shared=draft, parallel=parallel))
    phrase_forms: dict[str, Counter] = {}
    for piece in pieces:
        for phrase, counts in piece.phrase_forms.items():
            phrase_forms.setdefault(phrase, Counter()).update(counts)
    forms.update(_usual_forms(phrase_forms))
    normalized = [doc for piece in pieces for doc in piece.sentences]
    cf, df = _sum_counters(p.cf for p in pieces), _sum_counters(p.df for p in pieces)
    stopword_sources = _stopword_sources(df, len(normalized), settings, language)
    tokenizer = Tokenizer(settings, language, phraser, frozenset(stopword_sources["term"]), names,
                          draft._lemmas)
    return _assemble(documents, normalized, cf, df, tokenizer, stopword_sources, forms, scripts)


def _assemble(documents, normalized, cf, df, tokenizer, stopword_sources, forms, scripts):
    import numpy as np
    import pandas as pd

    # each term's fate is decided once; its occurrences follow (cf counts them)
    reasons = {term: tokenizer.drop_reason(term) for term in cf}
    keep = frozenset(term for term, reason in reasons.items() if reason is None).__contains__
    dropped = Counter()
    for term, reason in reasons.items():
        if reason is not None:
            dropped[reason] += cf[term]
    doc_ids, sentence_ids, token_lists = [], [], []
    per_doc: dict = {}
    for doc_id, doc in zip(documents["doc_id"], normalized):
        # A text with no sentence at all (only a URL, say) still gets one empty row, so every
        # document reaches tokens.parquet and the later stages.
        kept = [list(filter(keep, _split(sentence))) for sentence in doc] if doc else [[]]
        doc_ids.extend([doc_id] * len(kept))
        sentence_ids.extend(range(len(kept)))
        token_lists.extend(kept)
        per_doc[doc_id] = per_doc.get(doc_id, 0) + sum(map(len, kept))
    tokens = pd.DataFrame({"doc_id": doc_ids, "sentence": np.array(sentence_ids, dtype="int32"),
                           "tokens": token_lists})
    terms = list(cf)
    vocabulary = pd.DataFrame({"term": terms, "display": [display_form(t, forms) for t in terms],
                               "cf": np.fromiter(cf.values(), dtype="int64", count=len(terms)),
                               "df": np.fromiter(map(df.__getitem__, terms), dtype="int64", count=len(terms))})
    vocabulary["is_phrase"] = vocabulary["term"].str.contains(JOINER, regex=False)
    vocabulary["is_stopword"] = vocabulary["term"].isin(tokenizer.stopwords)
    vocabulary["kept"] = [reasons[t] is None for t in vocabulary["term"]]
    vocabulary = vocabulary.sort_values(["cf", "term"], ascending=[False, True], ignore_index=True)
    phrases = _phrase_table(tokenizer, vocabulary)
    empty = [d for d in documents["doc_id"] if per_doc.get(d, 0) == 0]
    stats = {"documents": len(documents), "sentences": sum(map(len, normalized)),
             "tokens": sum(per_doc.values()),
             "documents_without_tokens": len(empty), "documents_without_tokens_ids": empty[:20],
             "documents_other_script": scripts.get("other", 0), "dropped": dict(sorted(dropped.items())),
             "vocabulary": int(vocabulary["kept"].sum()), "phrases": len(phrases)}
    return TokenizeResult(tokens, vocabulary, phrases, stopword_sources, tokenizer, stats)


def _split(sentence: str | list[str]) -> list[str]:
    """A sentence's tokens from :class:`NormalizedChunk`."""
    if isinstance(sentence, str):
        return sentence.split(_SEP) if sentence else []
    return sentence


def display_form(term: str, forms: dict[str, str]) -> str:
    """How a term is shown to readers: ``xi_jinping`` → ``Xi Jinping``."""
    if term in forms:
        return forms[term]
    return " ".join(forms.get(part, part) for part in term.split(JOINER))


def _phrase_table(tokenizer: Tokenizer, vocabulary: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    columns = ["phrase", "display", "count", "score"]
    if tokenizer.phraser is None:
        return pd.DataFrame(columns=columns)
    scores = tokenizer.phraser.phrasegrams
    found = vocabulary[vocabulary["is_phrase"] & vocabulary["term"].isin(scores)]
    table = pd.DataFrame({"phrase": found["term"], "display": found["display"],
                          "count": found["cf"], "score": found["term"].map(scores).round(6)})
    return table.sort_values(["count", "phrase"], ascending=[False, True], ignore_index=True)


TOKENS_PART_ROWS = 50_000  # sentences per part file of a partitioned tokens.parquet


def write_outputs(result: TokenizeResult, out_dir: Path, *, partitioned: bool = False) -> None:
    """Write tokens, vocabulary, phrases, stop words and the frozen tokenizer atomically.

    ``partitioned`` writes tokens.parquet as a folder of part files (the dask engine).
    """
    import pyarrow as pa

    from newslens.io import ParquetParts, write_csv, write_parquet, write_text

    if partitioned:
        schema = pa.schema([("doc_id", pa.string()), ("sentence", pa.int32()),
                            ("tokens", pa.list_(pa.string()))])
        with ParquetParts(out_dir / "tokens.parquet", schema, partitioned=True) as parts:
            for start, stop in _part_bounds(result.tokens["doc_id"].to_numpy(), TOKENS_PART_ROWS):
                parts.write(result.tokens.iloc[start:stop])
    else:
        write_parquet(result.tokens, out_dir / "tokens.parquet")
    write_parquet(result.vocabulary, out_dir / "vocabulary.parquet")
    write_csv(result.phrases, out_dir / "phrases.csv")
    write_csv(result.stopword_sources, out_dir / "stopword_sources.csv")
    write_text(out_dir / "stopwords.txt", "\n".join(sorted(result.tokenizer.stopwords)) + "\n")
    write_text(out_dir / "tokenize_stats.json", json.dumps(result.stats, indent=1) + "\n")
    result.tokenizer.save(out_dir)


def _part_bounds(doc_ids, rows: int) -> list[tuple[int, int]]:
    """Row ranges of about ``rows`` rows that never split a document's sentences."""
    import numpy as np

    starts = np.flatnonzero(np.r_[True, doc_ids[1:] != doc_ids[:-1]]) if len(doc_ids) else []
    cuts = [0]
    for start in starts:
        if start - cuts[-1] >= rows:
            cuts.append(int(start))
    cuts.append(len(doc_ids))
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a] or [(0, 0)]


def load_document_tokens(out_dir: Path) -> dict[str, list[str]]:
    """Each document's tokens, sentences concatenated in order, from tokens.parquet."""
    import pandas as pd

    tokens = pd.read_parquet(out_dir / "tokens.parquet")
    by_doc: dict[str, list[str]] = {}
    for doc_id, sentence in zip(tokens["doc_id"], tokens["tokens"]):
        by_doc.setdefault(doc_id, []).extend(sentence.tolist() if hasattr(sentence, "tolist") else sentence)
    return by_doc


def load_analyzer(out_dir: Path) -> tuple[list[str], Callable[[str], list[str]]]:
    """The corpus as doc_ids, and the analyzer scikit-learn vectorizers call on each doc_id.

    >>> doc_ids, analyzer = load_analyzer(run.processed_dir)        # doctest: +SKIP
    >>> TfidfVectorizer(analyzer=analyzer).fit_transform(doc_ids)  # doctest: +SKIP
    """
    by_doc = load_document_tokens(out_dir)
    return list(by_doc), by_doc.__getitem__


def heaps_curve(tokens: pd.DataFrame, points: int = 60) -> tuple[pd.DataFrame, float, float]:
    """Vocabulary growth V(n) over the running token count n, and the fit V = K·n^β.

    The fit is least squares on log V against log n over the sampled points.
    """
    import numpy as np
    import pandas as pd

    seen: set[str] = set()
    total, rows = 0, []
    flat = [t for lst in tokens["tokens"] for t in lst]
    marks = set(np.unique(np.geomspace(1, max(len(flat), 1), points).astype(int)))
    for token in flat:
        total += 1
        seen.add(token)
        if total in marks:
            rows.append((total, len(seen)))
    curve = pd.DataFrame(rows, columns=["tokens", "types"])
    if len(curve) < 3:
        return curve, float("nan"), float("nan")
    beta, log_k = np.polyfit(np.log(curve["tokens"]), np.log(curve["types"]), 1)
    return curve, float(np.exp(log_k)), float(beta)


def tokens_per_document(tokens: pd.DataFrame) -> pd.Series:
    """Kept tokens per document (documents without tokens count 0)."""
    return tokens.assign(n=tokens["tokens"].map(len)).groupby("doc_id", sort=False)["n"].sum()
