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
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from newslens.params import TokenizeParams
from newslens.sentences import split_text_sentences

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
_LATIN = re.compile(r"[A-Za-zÀ-ɏ]")
_LETTER = re.compile(r"[^\W\d_]")

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


@dataclass
class Tokenizer:
    """The frozen tokenization of a run: apply it to any text, get the run's tokens."""

    settings: TokenizeParams
    language: str
    phraser: object | None  # gensim FrozenPhrases
    stopwords: frozenset[str]
    names: frozenset[str] = field(default_factory=frozenset)  # lowercase forms usually capitalised
    _lemmas: dict = field(default_factory=dict, repr=False, compare=False)

    def phrase(self, sentence: list[str]) -> list[str]:
        """Join collocations in one lowercase sentence."""
        return list(self.phraser[sentence]) if self.phraser is not None and sentence else sentence

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


def _parallel_map(function: Callable, items: list, n_jobs: int) -> list:
    """Map over chunks in order; joblib processes when there is enough work to pay for them."""
    if n_jobs <= 1 or len(items) < 200:
        return [function(chunk) for chunk in _chunks(items, 1)]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs, backend="loky")(delayed(function)(c) for c in _chunks(items, n_jobs * 4))


def _surface_chunk(texts: list[str]) -> tuple[list, dict, int]:
    """Surface tokens of some texts, and their phrase-candidate counts (gensim's first pass)."""
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    surface = [surface_sentences(text) for text in texts]
    lowered = ([t.lower() for t in s] for doc in surface for s in doc)
    _, vocab, total = Phrases._learn_vocab(lowered, max_vocab_size=sys.maxsize, delimiter=JOINER,
                                            connector_words=ENGLISH_CONNECTOR_WORDS, progress_per=10**9)
    return surface, vocab, total


def _normalize_chunk(args) -> list[list[list[str]]]:
    tokenizer, lowered_docs = args
    return [[tokenizer.normalized_sentence(s) for s in doc] for doc in lowered_docs]


def display_forms(surface_docs: Iterable[list[list[str]]]) -> dict[str, str]:
    """The usual written form of each lowercase word, preferring non-sentence-initial uses."""
    inside, initial = Counter(), Counter()
    for doc in surface_docs:
        for sentence in doc:
            if sentence:
                initial[sentence[0]] += 1
                inside.update(sentence[1:])
    forms: dict[str, Counter] = {}
    for counter, weight in ((inside, 1000), (initial, 1)):
        for surface, count in counter.items():
            forms.setdefault(surface.lower(), Counter())[surface] += count * weight
    return {low: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for low, c in forms.items()}


def learn_phrases(counts: list[tuple[dict, int]], settings: TokenizeParams):
    """Score collocations from merged per-chunk counts (npmi, English connector words); freeze.

    The counts are gensim's own first pass (``Phrases._learn_vocab``) run per chunk
    of documents in parallel and summed here in chunk order; summing counts gives
    exactly the model gensim would learn on the whole corpus in one pass.
    """
    if not settings.phrases:
        return None
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    model = Phrases(min_count=settings.phrase_min_count, threshold=settings.phrase_threshold,
                    scoring="npmi", connector_words=ENGLISH_CONNECTOR_WORDS, delimiter=JOINER)
    vocab: dict[str, int] = {}
    for chunk_vocab, total in counts:
        for key, count in chunk_vocab.items():
            vocab[key] = vocab.get(key, 0) + count
        model.corpus_word_count += total
    # Exact pruning: a phrase and its parts each occur at least min_count times,
    # so rarer entries can never score; dropping them makes freezing fast.
    model.vocab = {k: v for k, v in vocab.items() if v >= settings.phrase_min_count}
    frozen = model.freeze()
    frozen.phrasegrams = prune_overlapping(frozen.phrasegrams, JOINER)
    return frozen


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


def build_stopwords(term_docs: list[set[str]], settings: TokenizeParams,
                    language: str) -> pd.DataFrame:
    """The run's stop words with where each came from: standard, boilerplate, corpus, params."""
    rows = [(t, "standard") for t in standard_stopwords(language) - STOPWORD_KEEP]
    rows += [(t, "news boilerplate") for t in NEWS_BOILERPLATE]
    if len(term_docs) >= MIN_DOCS_FOR_CORPUS_STOPWORDS:
        df = Counter(chain.from_iterable(term_docs))
        ceiling = settings.stopword_max_df * len(term_docs)
        rows += [(t, f"corpus (in > {settings.stopword_max_df:.0%} of documents)")
                 for t, n in df.items() if n > ceiling]
    rows += [(t.lower(), "params") for t in settings.extra_stopwords]
    sources = pd.DataFrame(rows, columns=["term", "source"]).drop_duplicates("term", keep="first")
    return sources.sort_values("term", ignore_index=True)


def script_of(text: str) -> str:
    """'latin' when most letters are Latin, else 'other' (counted, never dropped)."""
    if text.isascii():  # the common case, decided without scanning every letter
        return "latin" if re.search("[A-Za-z]", text) else "none"
    letters = _LETTER.findall(text)
    if not letters:
        return "none"
    return "latin" if len(_LATIN.findall(text)) >= 0.5 * len(letters) else "other"


def tokenize_documents(documents: pd.DataFrame, settings: TokenizeParams, language: str,
                       *, n_jobs: int = 2) -> TokenizeResult:
    """Learn the run's tokenizer on ``documents`` and tokenize them with it."""
    texts = documents["text"].tolist()
    chunks = _parallel_map(_surface_chunk, texts, n_jobs)
    surface = [doc for chunk, _, _ in chunks for doc in chunk]
    phraser = learn_phrases([(vocab, total) for _, vocab, total in chunks], settings)
    del chunks
    forms = display_forms(surface)
    lowered = [[[t.lower() for t in s] for s in doc] for doc in surface]
    if phraser is not None:
        forms.update(phrase_display_forms(lowered, surface, frozenset(phraser.phrasegrams)))
    names = frozenset(low for low, form in forms.items() if form[:1].isupper() and JOINER not in low)
    del surface
    draft = Tokenizer(settings, language, phraser, frozenset(), names)
    pieces = _parallel_map(lambda docs: _normalize_chunk((draft, docs)), lowered, 1) if n_jobs <= 1 \
        else _parallel_normalize(draft, lowered, n_jobs)
    normalized = [doc for chunk in pieces for doc in chunk]
    term_docs = [set(t for s in doc for t in s) for doc in normalized]
    stopword_sources = build_stopwords(term_docs, settings, language)
    tokenizer = Tokenizer(settings, language, phraser, frozenset(stopword_sources["term"]), names)
    return _assemble(documents, normalized, term_docs, tokenizer, stopword_sources, forms, texts)


def _parallel_normalize(tokenizer: Tokenizer, lowered: list, n_jobs: int) -> list:
    if len(lowered) < 200:
        return [_normalize_chunk((tokenizer, lowered))]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs, backend="loky")(
        delayed(_normalize_chunk)((tokenizer, chunk)) for chunk in _chunks(lowered, n_jobs * 4))


def _assemble(documents, normalized, term_docs, tokenizer, stopword_sources, forms, texts):
    doc_ids, sentence_ids, token_lists = [], [], []
    dropped = Counter()
    cf = Counter(chain.from_iterable(chain.from_iterable(normalized)))
    keep_cache: dict[str, str | None] = {}
    for doc_id, doc in zip(documents["doc_id"], normalized):
        # A text with no sentence at all (only a URL, say) still gets one empty row, so every
        # document reaches tokens.parquet and the later stages.
        for index, sentence in enumerate(doc or [[]]):
            kept = []
            for token in sentence:
                reason = keep_cache.get(token, "?")
                if reason == "?":
                    reason = keep_cache[token] = tokenizer.drop_reason(token)
                if reason is None:
                    kept.append(token)
                else:
                    dropped[reason] += 1
            doc_ids.append(doc_id)
            sentence_ids.append(index)
            token_lists.append(kept)
    tokens = pd.DataFrame({"doc_id": doc_ids, "sentence": np.array(sentence_ids, dtype="int32"),
                           "tokens": token_lists})
    df = Counter(chain.from_iterable(term_docs))
    vocabulary = pd.DataFrame({"term": list(cf)})
    vocabulary["display"] = [display_form(t, forms) for t in vocabulary["term"]]
    vocabulary["cf"] = vocabulary["term"].map(cf).astype("int64")
    vocabulary["df"] = vocabulary["term"].map(df).astype("int64")
    vocabulary["is_phrase"] = vocabulary["term"].str.contains(JOINER, regex=False)
    vocabulary["is_stopword"] = vocabulary["term"].isin(tokenizer.stopwords)
    vocabulary["kept"] = [keep_cache.get(t, tokenizer.drop_reason(t)) is None for t in vocabulary["term"]]
    vocabulary = vocabulary.sort_values(["cf", "term"], ascending=[False, True], ignore_index=True)
    phrases = _phrase_table(tokenizer, vocabulary)
    per_doc = tokens.groupby("doc_id", sort=False)["tokens"].agg(lambda lists: sum(len(x) for x in lists))
    empty = [d for d in documents["doc_id"] if per_doc.get(d, 0) == 0]
    scripts = Counter(script_of(t) for t in texts)
    stats = {"documents": len(documents), "sentences": sum(map(len, normalized)),
             "tokens": int(per_doc.sum()),
             "documents_without_tokens": len(empty), "documents_without_tokens_ids": empty[:20],
             "documents_other_script": scripts.get("other", 0), "dropped": dict(sorted(dropped.items())),
             "vocabulary": int(vocabulary["kept"].sum()), "phrases": len(phrases)}
    return TokenizeResult(tokens, vocabulary, phrases, stopword_sources, tokenizer, stats)


def display_form(term: str, forms: dict[str, str]) -> str:
    """How a term is shown to readers: ``xi_jinping`` → ``Xi Jinping``."""
    if term in forms:
        return forms[term]
    return " ".join(forms.get(part, part) for part in term.split(JOINER))


def phrase_display_forms(lowered_docs: list, surface_docs: list, phrases: frozenset[str],
                         longest: int = 4) -> dict[str, str]:
    """The usual written form of each phrase, e.g. ``new_york`` → ``New York``."""
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
    return {k: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for k, c in counts.items()}


def _phrase_table(tokenizer: Tokenizer, vocabulary: pd.DataFrame) -> pd.DataFrame:
    columns = ["phrase", "display", "count", "score"]
    if tokenizer.phraser is None:
        return pd.DataFrame(columns=columns)
    scores = tokenizer.phraser.phrasegrams
    found = vocabulary[vocabulary["is_phrase"] & vocabulary["term"].isin(scores)]
    table = pd.DataFrame({"phrase": found["term"], "display": found["display"],
                          "count": found["cf"], "score": found["term"].map(scores).round(6)})
    return table.sort_values(["count", "phrase"], ascending=[False, True], ignore_index=True)


def write_outputs(result: TokenizeResult, out_dir: Path) -> None:
    """Write tokens, vocabulary, phrases, stop words and the frozen tokenizer atomically."""
    from newslens.io import write_csv, write_parquet, write_text

    write_parquet(result.tokens, out_dir / "tokens.parquet")
    write_parquet(result.vocabulary, out_dir / "vocabulary.parquet")
    write_csv(result.phrases, out_dir / "phrases.csv")
    write_csv(result.stopword_sources, out_dir / "stopword_sources.csv")
    write_text(out_dir / "stopwords.txt", "\n".join(sorted(result.tokenizer.stopwords)) + "\n")
    write_text(out_dir / "tokenize_stats.json", json.dumps(result.stats, indent=1) + "\n")
    result.tokenizer.save(out_dir)


def load_document_tokens(out_dir: Path) -> dict[str, list[str]]:
    """Each document's tokens, sentences concatenated in order, from tokens.parquet."""
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
