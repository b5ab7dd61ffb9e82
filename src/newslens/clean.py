"""Text cleaning: small ``str -> str`` steps and the :func:`clean_text` pipeline.

Findings that shaped the rules (NewsArticles.csv, 3,824 texts, studied by
sampling a few hundred contexts per pattern):

* Curly punctuation was mangled: a curly quote became ``"`` and the character
  after it (a space, non-breaking space, em dash or digit) became ``?``.  The
  corpus has 6,046 ``"?``, 527 ``?"`` and 9,433 ``?`` in all.
* ``"?`` between a letter and a letter is a closing quote that lost its space
  (``"safe Sport"?project``); after ``s`` with no other ``"`` earlier in the
  sentence it is a possessive apostrophe (``DeVos"?highly``, ``teachers"?unions``).
* ``"?`` after ``. , ! ? ' ]`` is a closing quote plus lost space
  (``fulfill."?The``, ``up?"?asked``: the first ``?`` is a real one).
* ``"?`` after whitespace (or the ``-`` that replaced a space, ``Instagram-"?and``)
  and before a word is an em dash: ``Hey "?wait``, ``WASHINGTON "?House``.
* ``"?`` before a digit (``"?0 Minutes`` = "60 Minutes") lost a digit, and
  ``word"? Next`` may be a real question: no clear evidence, left alone.
* ``?"`` is nearly always a real question closing a quote; never touched.
* Apostrophes inside words became ``"``: ``don"t`` (1,124), ``I"ve`` (67),
  ``Sheriff"s`` (rare: ``"Mania"s a`` is a quote that lost `` i``).
* Other ``?`` (``?31,000`` for the pound sign, ``Bus ?ireann``, ``RT?'s``) and
  U+FFFD replacement characters are unrecoverable and kept.

Repairs change punctuation and spacing only, never a word; ``tests/test_clean.py``
checks the word sequence over the whole corpus.

Counter keys (``counts`` arguments and :attr:`Cleaned.changes`):
``apostrophe_repaired`` (``"`` -> ``'``), ``quote_repaired`` (``"?`` -> ``" ``),
``dash_repaired`` (``"?`` -> `` — ``), ``question_mark_kept`` (``?`` left as is),
``stray_period_removed`` (``. .`` -> ``.``), ``lowercase_sentence_joined``
(``. for`` -> `` for``), ``period_to_comma`` (``. adding`` -> ``, adding``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import ftfy

# --- unicode and whitespace -------------------------------------------------
_NEWLINES = re.compile(r"\r\n?")
# C0 and C1 controls except \t and \n: they carry no text and break tokenizers.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HSPACE = re.compile(r"[^\S\n]+")  # any whitespace but newline, incl. nbsp
_MANY_NEWLINES = re.compile(r"\n{3,}")

# --- damaged quotes -----------------------------------------------------------
_L = r"[^\W\d_]"  # one letter, any script
_APOS_NT = re.compile(r'(?<=[A-Za-z]n)"(?=t\b)')
_APOS_CONTRACTION = re.compile(r'(?<=[A-Za-z])"(?=(?:ve|re|ll|d|m)\b)')
_APOS_S = re.compile(r'(?<=[A-Za-z])"(?=s\b)')
_POSSESSIVE = re.compile(rf'(?<=[a-z]s)"\?(?={_L})')
_QUOTE_AFTER_LETTER = re.compile(rf'(?<={_L})"\?(?={_L}|["(\[#@$&])')
# (?<!"\?) keeps the second "? of `."?"?Name` for the dash rule.
_QUOTE_AFTER_PUNCT = re.compile(rf'(?<=[.,!?;:\'\])])(?<!"\?)"\?(?={_L}|["(\[#@$&\-]|\s|$)')
_DASH = re.compile(rf'[^\S\n]*(?:(?<=\s)|-)"\?[^\S\n]*(?={_L}|["\'(\[#$\-]|\s)')
_SENTENCE_END = re.compile(r"[.!?]\s|\n")

# --- republication artifacts ----------------------------------------------------
_STRAY_PERIOD = re.compile(r"(?<=[^\W_])\.[^\S\n]+\.(?=[^\S\n]+[A-Z])")
_LOWER_AFTER_PERIOD = re.compile(
    r"(?<![\w.@/&'-])(?P<prev>[A-Za-z]{2,})\.[^\S\n]+(?P<next>[a-z]{2,})(?=[^\S\n])"
)
# Abbreviations that legitimately end in "." before a lowercase word.
_ABBREVIATIONS = frozenset(
    "jr sr inc ltd co corp bros vs etc al eds ed no nos st mr mrs ms dr gen sen rep"
    " gov lt col capt sgt rev prof jan feb mar apr jun jul aug sep sept oct nov dec"
    " approx est cf viz ca fig vol mt ft ave blvd dept univ assn dir app sc rer nat"
    " lb oz min max hr hrs sq pp ch".split()
)
# A fragment continuing with one of these reads on without punctuation.
_FUNCTION_WORDS = frozenset(
    "for of and or nor in to with on at by from into than as but".split()
)

# --- datelines ------------------------------------------------------------------
_CAPS = r"[A-Z][A-Z'.\-/]*"  # WASHINGTON, N.C., ULAN-UDE, NEW YORK/BOSTON
_DATELINE = re.compile(
    rf"""(?P<place>{_CAPS}(?:,?[ ]{_CAPS}){{0,3}}  # 1-4 all-caps words
        (?:,[ ][A-Z][a-z]+\.?(?:[ ][A-Z][a-z]+)?){{0,2}})  # , Texas / , Ill.
    (?:[ ]\([^()\n]{{1,40}}\))?  # (Reuters), (AP), TASS's (India)
    (?:,[ ][A-Z][a-z]{{2,8}}\.?[ ]\d{{1,2}}(?:,[ ]\d{{4}})?\.?)?  # , Feb. 8, 2017
    (?P<wire>[ ]/[A-Za-z]+/\.?)?  # /TASS/.  /PRNewswire/.
    (?P<sep>[ ]*:\s+|[ ]+[-—–][\s\-—–]*|[\s\-—–]+)""",
    re.VERBOSE,
)
# A damaged `WASHINGTON"?House` has no space before its dash.
_LEADING_DASH = re.compile(r"\A(?=[A-Z]{3})([A-Z ,.'\-]{3,40})\"\?(?=[A-Z])")
# All-caps labels that look like a place but are not one.
_NOT_PLACES = frozenset(
    "BREAKING UPDATE UPDATED WATCH VIDEO PHOTOS PHOTO EXCLUSIVE NOTE EDITOR'S"
    " ANALYSIS OPINION COMMENTARY LIVE READ MORE CORRECTION WARNING ALERT NEWS"
    " NATO FBI CIA NASA WHO EPA GOP CNN BBC ABC NBC CBS FOX".split()
)


@dataclass(frozen=True)
class Cleaned:
    """Result of :func:`clean_text`: the text, its dateline and repair counts."""

    text: str
    dateline: str | None
    changes: dict[str, int] = field(default_factory=dict)


def normalize_unicode(text: str) -> str:
    """Repair mojibake with ftfy, compose to NFC and drop control characters.

    Curly quotes are kept (``uncurl_quotes=False``): they are real text and the
    seed relies on them.  Lone C1 characters that ftfy reads as Windows-1252
    mojibake become that character (``\\x85`` -> ``…``); the rest are dropped,
    like C0 controls except ``\\n`` and ``\\t``.  Other scripts are untouched.

    Parameters
    ----------
    text : str
        Raw text.

    Returns
    -------
    str
        The repaired text.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    text = ftfy.fix_text(_NEWLINES.sub("\n", text), uncurl_quotes=False)
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


def normalize_whitespace(text: str) -> str:
    """Collapse spaces, strip lines and keep at most one blank line between paragraphs.

    Parameters
    ----------
    text : str
        Text, possibly with tabs, non-breaking spaces and blank lines.

    Returns
    -------
    str
        Text with single spaces, stripped lines and ``\\n\\n`` paragraph breaks.
    """
    lines = (_HSPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def _has_quote_in_sentence(text: str, end: int) -> bool:
    """Tell whether a ``"`` occurs between the last sentence end and ``end``."""
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, end)]
    return '"' in text[starts[-1] if starts else 0 : end]


def _sub(pattern: re.Pattern, repl, text: str, counts: Counter, key: str) -> str:
    """Apply ``pattern.subn`` and add the number of replacements to ``counts[key]``."""
    text, n = pattern.subn(repl, text)
    counts[key] += n
    return text


def repair_question_quotes(text: str, *, counts: Counter | None = None) -> str:
    """Repair curly quotes, apostrophes and dashes that became ``"`` plus ``?``.

    Rules run in order; each fires only on the evidence described in the
    module docstring, and every other ``?`` is kept and counted.

    Parameters
    ----------
    text : str
        Text from the damaged news corpus.
    counts : collections.Counter, optional
        Incremented with ``apostrophe_repaired``, ``quote_repaired``,
        ``dash_repaired`` and ``question_mark_kept``.

    Returns
    -------
    str
        The text with the same words and repaired punctuation.
    """
    c = Counter()
    text = _sub(_APOS_NT, "'", text, c, "apostrophe_repaired")
    text = _sub(_APOS_CONTRACTION, "'", text, c, "apostrophe_repaired")

    def apostrophe_s(m: re.Match) -> str:
        # `Sheriff"s` but not `"Mania"s` (a closing quote whose ` i` was lost).
        inside_quote = _has_quote_in_sentence(m.string, m.start())
        c["apostrophe_repaired"] += not inside_quote
        return '"' if inside_quote else "'"

    def possessive(m: re.Match) -> str:
        inside_quote = _has_quote_in_sentence(m.string, m.start())
        c["quote_repaired" if inside_quote else "apostrophe_repaired"] += 1
        return '" ' if inside_quote else "' "

    text = _APOS_S.sub(apostrophe_s, text)
    text = _POSSESSIVE.sub(possessive, text)
    text = _sub(_QUOTE_AFTER_LETTER, '" ', text, c, "quote_repaired")
    text = _sub(_QUOTE_AFTER_PUNCT, '" ', text, c, "quote_repaired")
    text = _sub(_DASH, " — ", text, c, "dash_repaired")
    text = _sub(_LEADING_DASH, r"\1 — ", text, c, "dash_repaired")
    c["question_mark_kept"] += text.count("?")
    if counts is not None:
        counts.update(c)
    return text


def repair_republication_artifacts(text: str, *, counts: Counter | None = None) -> str:
    """Remove stray periods and rejoin fragments cut by a full stop.

    ``partners. . He`` -> ``partners. He``; ``Initiative. for global`` ->
    ``Initiative for global`` (function word); ``suggested. adding`` ->
    ``suggested, adding``.  Abbreviations (``U.S.``, ``e.g.``, ``Jr.``),
    numbers, ellipses, URLs and e-mail addresses are left alone.

    Parameters
    ----------
    text : str
        Text, e.g. a republished wire story.
    counts : collections.Counter, optional
        Incremented with ``stray_period_removed``,
        ``lowercase_sentence_joined`` and ``period_to_comma``.

    Returns
    -------
    str
        The text with the same words and repaired punctuation.
    """
    c = Counter()
    text = _sub(_STRAY_PERIOD, ".", text, c, "stray_period_removed")

    def join(m: re.Match) -> str:
        prev, nxt = m["prev"], m["next"]
        if prev.lower() in _ABBREVIATIONS:
            return m[0]
        if nxt in _FUNCTION_WORDS:
            c["lowercase_sentence_joined"] += 1
            return f"{prev} {nxt}"
        c["period_to_comma"] += 1
        return f"{prev}, {nxt}"

    text = _LOWER_AFTER_PERIOD.sub(join, text)
    if counts is not None:
        counts.update(c)
    return text


def _is_place(place: str) -> bool:
    """Tell whether an all-caps prefix can be a dateline place name."""
    words = re.findall(r"[A-Z'\-]+", place)
    first_letters = sum(ch.isalpha() for ch in place.split()[0])
    return first_letters >= 3 and not any(w in _NOT_PLACES for w in words)


def split_dateline(text: str) -> tuple[str | None, str]:
    """Split a leading dateline such as ``BEIJING:`` off a text.

    Recognised: ``PLACE: ...``, ``PLACE - ...``, ``PLACE — ...``,
    ``PLACE (AGENCY) - ...`` and TASS's ``PLACE, Feb 7. /TASS/. ...``, where
    PLACE is 1-4 all-caps words at the very start.  Labels (``BREAKING:``,
    ``DW:``, two-letter ``US:``) are not places.  An all-caps speaker label
    (``TRUMP: ...``) cannot be told apart from a place and is split.

    Parameters
    ----------
    text : str
        Text whose first characters may be a dateline.

    Returns
    -------
    tuple of (str or None, str)
        The place (``None`` if there is no dateline) and the remaining text.
    """
    m = _DATELINE.match(text)
    # Without ':' or a dash only a wire tag (/TASS/.) marks a dateline.
    marked = m and (m["wire"] or re.search(r"[:\-—–]", m["sep"]))
    if marked and m.end() < len(text) and _is_place(m["place"]):
        return m["place"], text[m.end() :]
    return None, text


def clean_text(text: str) -> Cleaned:
    """Run the whole cleaning pipeline on one text.

    ``normalize_unicode`` -> ``repair_question_quotes`` ->
    ``repair_republication_artifacts`` -> ``normalize_whitespace`` ->
    ``split_dateline``.

    Parameters
    ----------
    text : str
        Raw article text.

    Returns
    -------
    Cleaned
        Clean text, dateline and the non-zero repair counts.

    Raises
    ------
    TypeError
        If ``text`` is not a ``str`` (e.g. a pandas NaN).
    """
    counts: Counter = Counter()
    text = normalize_unicode(text)
    text = repair_question_quotes(text, counts=counts)
    text = repair_republication_artifacts(text, counts=counts)
    dateline, text = split_dateline(normalize_whitespace(text))
    return Cleaned(text=text, dateline=dateline, changes=dict(+counts))
