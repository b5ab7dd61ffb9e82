"""The frozen tokenizer of a run: any text in, the run's tokens out.

:class:`Tokenizer` holds what the tokenize stage learned (the phrase model, the
stop words, the names) and applies, to one lowercase sentence of words
(:mod:`newslens.text.words`):

1. **Phrases** (:mod:`newslens.text.phrases`), joined before any filter.
2. **Lemmas** (option, on by default): simplemma, offline, for the run's
   language (every language of :data:`newslens.params.LANGUAGES` has a simplemma
   dictionary); applied to single words whose usual surface form is lowercase, so
   names (``Reuters``, ``Mattis``) and phrases are left as written. In German that
   spares every noun too (nouns are written capitalised): ``Bürger`` and ``Bürgern``
   stay two terms, but party names (``Grünen``, ``Linke``) are never made adjectives.
3. **Filters** (:meth:`Tokenizer.drop_reason`): stop words
   (:mod:`newslens.text.stopwords`), pure numbers (unless ``keep_numbers``; also
   phrases with a number part, such as dates), tokens longer than
   ``max_token_length`` (URLs, base64 blobs) and tokens shorter than
   ``min_token_length``.

It is saved with the stage's outputs (:meth:`Tokenizer.save`) and loaded by later
stages (:meth:`Tokenizer.load`) to tokenize new text exactly as the stage did.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from newslens.params import TokenizeParams
from newslens.text.phrases import PhraseTable
from newslens.text.stopwords import is_stop_term
from newslens.text.words import JOINER, strip_elision, surface_sentences

_NUMBER = re.compile(r"^[\d.,]+(?:st|nd|rd|th|s)?$")


@lru_cache(maxsize=200_000)
def _lemma(token: str, language: str) -> str:
    import simplemma

    if "-" in token or not token.isalpha():
        return token
    return simplemma.lemmatize(token, lang=language).lower()


@dataclass
class Tokenizer:
    """The frozen tokenization of a run: apply it to any text, get the run's tokens.

    A pickled tokenizer (sent to a worker process) carries its phrases as a
    :class:`~newslens.text.phrases.PhraseTable` instead of the gensim model: it tokenizes
    the same, but cannot be saved.
    """

    settings: TokenizeParams
    language: str
    phraser: object | None  # gensim FrozenPhrases
    stopwords: frozenset[str]
    names: frozenset[str] = field(default_factory=frozenset)  # lowercase forms usually capitalised
    # A word or phrase and the form it is counted as: damaged words repaired, spellings unified
    # (newslens.text.spelling).
    variants: dict[str, str] = field(default_factory=dict)
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
        """Lemmatize a single lowercase word, unless it is a name or a phrase.

        A French or Italian word with its elided article (``l'union``, as KWIC finds it in the
        text) is normalized as the word alone (``union``), as the tokenizer read it.
        """
        cached = self._lemmas.get(token)
        if cached is None and token in self.variants:
            cached = self._lemmas[token] = self.normalize(self.variants[token])
        if cached is None:
            bare = strip_elision(token, self.language)
            if bare != token:
                cached = self.normalize(bare)
            elif not self.settings.lemmatize or JOINER in token or token in self.names:
                cached = token
            else:
                cached = _lemma(token, self.language)
            self._lemmas[token] = cached
        return cached

    def learn_lemmas(self, words: Iterable[str]) -> None:
        """Look up the lemma of every word now (a worker then needs no simplemma)."""
        for word in words:
            self.normalize(word)

    def drop_reason(self, token: str) -> str | None:
        """Why a phrased, lemmatized token is filtered out, or None to keep it."""
        if is_stop_term(token, self.stopwords):
            return "stop word"
        if JOINER in token and not self.settings.keep_numbers and any(map(_NUMBER.match, token.split(JOINER))):
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
        return [self.tokens_of_sentence([t.lower() for t in s]) for s in surface_sentences(text, self.language)]

    def save(self, folder: Path) -> None:
        """Save the phrase model and settings so the same tokens can be made again.

        The stop words are saved by the stage, as ``stopwords.txt``.
        """
        from newslens.files import atomic_path, write_text

        if self.phraser is None and self._phrases is not None:
            raise ValueError("a tokenizer that was pickled (sent to a worker) has no gensim model to save")
        state = {"settings": self.settings.model_dump(), "language": self.language,
                 "names": sorted(self.names), "has_phrases": self.phraser is not None,
                 "variants": sorted(self.variants.items())}
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
                   frozenset(state["names"]), dict(state.get("variants", [])))
