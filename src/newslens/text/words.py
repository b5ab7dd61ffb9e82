"""Words of a text: what a word is, what is not text at all, and how a term is written.

* **Not text**: web and e-mail addresses, social-media handles (``@bbchealth``) and
  retweet marks, and outlets' share widgets and source lines are cut (replaced by a
  space) before words are found, so ``dw``, ``com`` or ``Newsvine`` never become terms
  (:func:`strip_non_text`); a ``#tag`` keeps its word. The markers of the medium are
  counted per text (:func:`count_markers`, the rule at :data:`MARKERS`).
* **Words**: runs of letters and digits, with internal hyphens and apostrophes
  kept whole (``China-Belarus``, ``win-win``), dots inside initialisms (``U.S.``)
  and numbers with decimal points or thousands separators (``2.65``, ``19,000``)
  kept whole. A possessive ``'s`` is dropped (``China's`` → ``China``). The pattern is
  Unicode: ß, ñ, ë, Cyrillic are letters like any other. In French and Italian an elided
  article or preposition is dropped the same way (``l'Union`` → ``Union``,
  ``dell'Europa`` → ``Europa``; :data:`ELISIONS`).
  Punctuation is not a token, and no word holds :data:`JOINER`, which joins the
  parts of a phrase.
* **Script**: each text is counted as mostly Latin, other, or without letters
  (:func:`script_of`); no text is dropped for its script.
* **Display forms**: tokens are lowercase; each is shown to readers in its usual
  written form (``Xi Jinping``, not ``xi jinping``), counting uses inside a
  sentence far above sentence-initial ones.

:mod:`newslens.analysis.kwic` finds words in the original text with the same pattern
(:data:`_WORD`), so the two never disagree on what a word is.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Iterable

from newslens.corpus.sentences import split_text_sentences

JOINER = "_"  # joins the parts of a phrase: ``belt_and_road``
# Letters/digits with internal hyphens or apostrophes; dots inside initialisms (U.S.) too.
# Numbers with decimal points or thousands separators (2.65, 19,000) come first, whole:
# otherwise "2.65" would read as "2.6" + "5" and "1,000" as "1" + "000" (and a phrase "1_000").
# The first character is matched once, outside the alternatives, so that `re` skips the
# spaces and punctuation between words with its fast first-character scan (the same
# matches as "\d+(?:[.,]\d+)+…|[^\W_](?:\.[^\W_])+\.?|[^\W_]+(?:[-'’][^\W_]+)*", 40% faster).
# A word character, or U+FFFD (a character lost upstream, "Fianna F\ufffd\ufffdil") after a letter or another
# U+FFFD: a damaged word stays one word, with its replacement marks, instead of breaking into
# fragments ("Fianna F", "il"). A U+FFFD that follows no letter (a damaged quote or currency sign
# before a capitalised word or a number) is not part of a word; before a lowercase letter it is
# the word's lost capital ("Bus \ufffdireann").
DAMAGED = "\ufffd"
_LETTER = r"(?:[^\W_]|(?<=[^\W\d_])\ufffd|(?<=\ufffd)\ufffd)"
_WORD = re.compile(r"(?:\ufffd+(?=[a-zß-öø-ÿ]))?"  # a word whose capital was lost: "\ufffdireann"
                   r"[^\W_](?:(?<=\d)\d*(?:[.,]\d+)+(?:st|nd|rd|th|s)?(?![^\W_])"
                   rf"|(?:\.[^\W_])+\.?|{_LETTER}*(?:[-'’]{_LETTER}+)*)", re.UNICODE)
# _WORD for a text without U+FFFD: the U+FFFD alternatives cannot match there, so it finds the same
# words, and its letters are one character class repeated, which `re` runs far faster than a group
# of alternatives tried at every letter (words() uses it for all but the damaged sentences).
_WORD_UNDAMAGED = re.compile(r"[^\W_](?:(?<=\d)\d*(?:[.,]\d+)+(?:st|nd|rd|th|s)?(?![^\W_])"
                             r"|(?:\.[^\W_])+\.?|[^\W_]*(?:[-'’][^\W_]+)*)", re.UNICODE)
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
# Elided articles, pronouns and prepositions before an apostrophe, dropped from the word they
# lean on: French "l'État", "d'un", "qu'il"; Italian "l'Europa", "dell'Unione", "un'altra".
ELISIONS = {
    "fr": ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"),
    "it": ("l", "d", "c", "s", "v", "m", "t", "n", "un", "dell", "dall", "nell", "sull", "all", "coll",
           "quest", "quell", "tutt", "nessun", "buon", "bell", "sant"),
}
_ELIDED = {language: re.compile(rf"^(?:{'|'.join(prefixes)})['’](?=[^\W\d_])", re.IGNORECASE)
           for language, prefixes in ELISIONS.items()}


def words(sentence: str, language: str = "en") -> list[str]:
    """Surface word tokens of one sentence, with possessive ``'s`` (and French or Italian elisions) removed.

    In English, "US" in capitals is the country, written "U.S." as the dotted form is, so that
    lowercasing does not make it the pronoun "us" (a stop word).

    >>> words("China's win-win cooperation with the U.S. grew 3.5% in 2021.")
    ['China', 'win-win', 'cooperation', 'with', 'the', 'U.S.', 'grew', '3.5', 'in', '2021']
    >>> words("The US told us.")
    ['The', 'U.S.', 'told', 'us']
    >>> words("Fianna F\ufffd\ufffdil and RT\ufffd cost \ufffd10,000 at Bus \ufffdireann, \ufffdOne said.")
    ['Fianna', 'F\ufffd\ufffdil', 'and', 'RT\ufffd', 'cost', '10,000', 'at', 'Bus', '\ufffdireann', 'One', 'said']
    >>> words("Le président de l'Assemblée s'exprime aujourd'hui.", "fr")
    ['Le', 'président', 'de', 'Assemblée', 'exprime', "aujourd'hui"]
    """
    tokens = (_WORD if DAMAGED in sentence else _WORD_UNDAMAGED).findall(sentence)
    if language == "en" and "US" in sentence:
        tokens = ["U.S." if t == "US" else t for t in tokens]
    if "'" not in sentence and "’" not in sentence:
        return tokens
    elided = _ELIDED.get(language)
    if elided is not None:
        tokens = [elided.sub("", t) if "'" in t or "’" in t else t for t in tokens]
    return [_POSSESSIVE.sub("", t) if "'" in t or "’" in t else t for t in tokens]


def strip_elision(word: str, language: str) -> str:
    """A lowercase word without its elided article (French, Italian): ``l'union`` → ``union``."""
    elided = _ELIDED.get(language)
    return elided.sub("", word) if elided is not None and ("'" in word or "’" in word) else word


# Not language: web addresses, e-mail addresses, and outlets' share widgets and
# source lines. They are cut before words are found (the text itself is kept
# whole in documents.parquet), so "dw", "com" or "Newsvine" never become terms.
# Each alternative comes with strings that any text it matches in contains (compared
# case-folded, see _fold): strings of the match itself, or for the retweet mark the "@"
# of the handle it must precede ("rt" is in most English texts: "report", "part").
# Most texts contain none of them, and the rest are searched only with the
# alternatives they can match.
_NON_TEXT_ALTERNATIVES = (
    (r"(?:https?://|www\.|pic\.twitter\.com/)\S+", ("http://", "https://", "www.", "pic.twitter.com/")),
    (r"\b[\w.+-]+@[\w-]+\.[\w.]+\b", ("@",)),
    # Markers of social media (see MARKERS): the retweet mark before a handle, and handles.
    (r"(?-i:\bRT\b):?(?=\s*@[A-Za-z0-9_])", ("@",)),
    # the "@" first, then what precedes it: the matches of (?<![\w.+@-])@[A-Za-z0-9_]+, found by a scan for "@"
    (r"@(?<![\w.+@-]@)[A-Za-z0-9_]+", ("@",)),
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
    if text.isascii():  # none of the three: one pass instead of four
        return text.lower()
    return text.replace("İ", "i").replace("ı", "i").replace("ſ", "s").lower()


@lru_cache(maxsize=None)
def _non_text_pattern(present: tuple[int, ...]) -> re.Pattern:
    """NON_TEXT without the alternatives that cannot match: the same matches, found faster.

    An alternative that matches nowhere in a text changes nothing in its ``sub``;
    ``re`` would still try it at every position, which made this step 4 s of the stage.
    """
    return re.compile("|".join(_NON_TEXT_ALTERNATIVES[i][0] for i in present), re.IGNORECASE)


_EMAIL = 1  # the e-mail alternative of _NON_TEXT_ALTERNATIVES
# What every e-mail address holds around its "@": a character of the name, a domain word, "." and one
# more character. Searched from the "@" (fast), it tells a text whose "@" are handles only (tweets, the
# news outlets' Twitter accounts) that the e-mail alternative, slow to try at every word, cannot match.
_EMAIL_HINT = re.compile(r"@(?<=[\w.+-]@)[\w-]+\.[\w.]", re.IGNORECASE)


def _present(text: str, folded: str, alternatives: Iterable[int]) -> tuple[int, ...]:
    """Those of ``alternatives`` (indices of _NON_TEXT_ALTERNATIVES) that can match somewhere in ``text``."""
    return tuple(i for i in alternatives if any(needle in folded for needle in _NON_TEXT_ALTERNATIVES[i][1])
                 and (i != _EMAIL or _EMAIL_HINT.search(text)))


def strip_non_text(text: str) -> str:
    """Replace URLs, e-mail addresses and share-widget boilerplate by a space.

    >>> strip_non_text("See http://dw.com/p/2Wx5C now. Source: Al Jazeera")
    'See   now.  '
    """
    present = _present(text, _fold(text), range(len(_NON_TEXT_ALTERNATIVES)))
    return _non_text_pattern(present).sub(" ", text) if present else text


# Markers of the medium in social-media posts, counted per text (:func:`count_markers`).
# The rule: a link and a handle (``@bbchealth``) are addresses, not language, and are cut
# like web and e-mail addresses (so an account's own handles never become its keywords);
# ``RT`` before a handle marks a retweet and is cut too (it would lead a topic of its own).
# A ``#tag`` is language: its word stays a term (``#ebola`` is ``ebola``), and is counted.
MARKERS = {
    "link": (re.compile(_NON_TEXT_ALTERNATIVES[0][0], re.IGNORECASE), _NON_TEXT_ALTERNATIVES[0][1]),
    "handle": (re.compile(_NON_TEXT_ALTERNATIVES[3][0]), ("@",)),
    "retweet": (re.compile(_NON_TEXT_ALTERNATIVES[2][0]), ("RT",)),
    "hashtag": (re.compile(r"#(?<![\w&#]#)[^\W\d_]\w*"), ("#",)),  # (?<![\w&#])#…, "#" first (faster)
}


def count_markers(text: str) -> Counter:
    """How many links, handles, retweet marks and hashtags a text holds (see :data:`MARKERS`).

    >>> sorted(count_markers("RT @bbchealth: #Ebola vaccine trial http://bbc.in/x @WHO").items())
    [('handle', 2), ('hashtag', 1), ('link', 1), ('retweet', 1)]
    """
    found = Counter()
    lowered = None
    for name, (pattern, needles) in MARKERS.items():
        if name == "link":
            lowered = lowered if lowered is not None else _fold(text)
            if not any(needle in lowered for needle in needles):
                continue
        elif not any(needle in text for needle in needles):
            continue
        # a handle inside a link or an e-mail address is part of the address, not a handle
        subject = strip_links(text) if name == "handle" else text
        n = len(pattern.findall(subject))
        if n:
            found[name] = n
    return found


def strip_links(text: str) -> str:
    """``text`` with its web and e-mail addresses replaced by a space (the first two non-text alternatives)."""
    present = _present(text, _fold(text), (0, _EMAIL))
    return _non_text_pattern(present).sub(" ", text) if present else text


def surface_sentences(text: str, language: str = "en") -> list[list[str]]:
    """A text as sentences of surface tokens, split by the rules of its language."""
    return [words(s, language) for s in split_text_sentences(strip_non_text(text), language)]


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


# ---------------------------------------------------------------- display forms

def word_display_forms(surface: Counter, initial: Counter) -> dict[str, str]:
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


def usual_forms(counts: dict[str, Counter]) -> dict[str, str]:
    """The most frequent written form of each key; ties go to the first in code-point order."""
    return {key: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for key, c in counts.items()}


def display_form(term: str, forms: dict[str, str]) -> str:
    """How a term is shown to readers: ``xi_jinping`` → ``Xi Jinping``."""
    if term in forms:
        return forms[term]
    return " ".join(forms.get(part, part) for part in term.split(JOINER))
