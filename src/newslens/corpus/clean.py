"""Text cleaning: small ``str -> str`` steps and the :func:`clean_text` pipeline.

Findings from NewsArticles.csv (3,824 texts; a few hundred contexts sampled
per pattern) that shaped the quote rules:

* Curly punctuation was mangled: the curly quote became ``"`` and the character
  after it (space, nbsp, em dash, digit) became ``?``: 6,046 ``"?``, 527 ``?"``,
  9,433 ``?`` in all.
* letter ``"?`` letter: a closing quote that lost its space (``"safe Sport"?project``),
  or, after ``-s`` with no other ``"`` earlier in the sentence, a possessive
  apostrophe (``DeVos"?highly``, ``teachers"?unions``; 50/50 in a sample).
* ``. , ! ? ' ]`` then ``"?``: closing quote plus lost space (``fulfill."?The``;
  in ``up?"?asked`` the first ``?`` is a real question mark).
* whitespace, or the ``-`` that replaced a space (``Instagram-"?and``), then ``"?``
  then a word: an em dash (``Hey "?wait``, ``WASHINGTON "?House``).
* Left alone, no clear evidence: ``"?`` before a digit (``"?0 Minutes`` lost the 6),
  ``word"? Next`` (as often a real question as a quote), ``?"`` (real questions),
  ``?31,000`` (pound sign), ``Bus ?ireann``, ``RT?'s``, U+FFFD characters.
* Apostrophes inside words became ``"``: ``don"t`` (1,124), ``I"ve`` (67), rare
  ``Sheriff"s`` (but ``"Mania"s a`` is a closing quote that lost `` i``).

Measured on the corpus: 5,900 of the 6,046 ``"?`` repaired (4,162 quotes,
1,511 dashes, 227 possessive apostrophes) plus 1,190 in-word apostrophes;
3,533 ``?`` kept (146 unclear ``"?`` and 3,387 real or otherwise damaged ``?``).

Repairs change punctuation and spacing only, never a word (tested on the corpus).
Counter keys (``counts=`` and :attr:`Cleaned.changes`): ``apostrophe_repaired``
(``"`` -> ``'``), ``quote_repaired`` (``"?`` -> ``" ``), ``dash_repaired``
(``"?`` -> `` — ``), ``question_mark_kept`` (``?`` left as is),
``stray_period_removed`` (``. .`` -> ``.``), ``lowercase_sentence_joined``
(``. for`` -> `` for``), ``period_to_comma`` (``. adding`` -> ``, adding``); and
``damaged_word_kept``, a count of words holding U+FFFD after a letter (a character lost upstream),
left as they are.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import ftfy

_NEWLINES = re.compile(r"\r\n?")
# Text that ftfy leaves as it is: ASCII (so no mojibake, ligature, wide or C1 character),
# with no HTML entity ("&") and no control character but tab and newline.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# C0/C1 controls but \t and \n: no text in them, and they upset tokenizers.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HSPACE = re.compile(r"[^\S\n]+")  # whitespace but newline: tabs, nbsp, ...
_MANY_NEWLINES = re.compile(r"\n{3,}")

_L = r"[^\W\d_]"  # a letter of any script
# The patterns below open with the character every match starts with (a `"` or a
# "."), and check what precedes it with a lookbehind after it: the same matches, but
# `re` jumps from one such character to the next instead of trying the whole pattern at
# every position of the text (a pattern that opens with a lookbehind has no such prefix).
# `WASHINGTON"?House`: the dash of a dateline, without a space before it.
_LEADING_DASH = re.compile(r"\A(?=[A-Z]{3})([A-Z ,.'\-]{2,40}[A-Z.])[ ]?\"\?(?=[A-Z])")
# `n"t`, `"ve`... can only be apostrophes: no word is "t", "ve", "ll", "d" or "m".
_APOS_CONTRACTION = re.compile(r'"(?:(?<=[A-Za-z]n")(?=t\b)|(?<=[A-Za-z]")(?=(?:ve|re|ll|d|m)\b))')
# "s" could be a quote that lost " i" (`"Mania"s a`): see _quote_earlier_in_sentence.
_APOS_S = re.compile(r'"(?<=[A-Za-z]")(?=s\b)')
_POSSESSIVE = re.compile(rf'"(?<=[a-z]s")\?(?={_L})')
_QUOTE_AFTER_LETTER = re.compile(rf'"(?<={_L}")\?(?={_L}|["(\[#@$&])')
# (?<!"\?) leaves the second "? of `."?"?Name` to the dash rule.
_QUOTE_AFTER_PUNCT = re.compile(
    rf'"(?<=[.,!?;:\'\])]")(?<!"\?")\?(?={_L}|["(\[#@$&\-]|\s|$)'
)
_DASH = re.compile(rf'[^\S\n]*(?:(?<=\s)|-)"\?[^\S\n]*(?={_L}|["\'(\[#$\-]|\s)')
_SENTENCE_END = re.compile(r"[.!?]\s|\n")

_STRAY_PERIOD = re.compile(r"\.(?<=[^\W_]\.)[^\S\n]+\.(?=[^\S\n]+[A-Z])")  # not `. . .`
# Not `U.S. officials`, `e.g. the`, e-mails, URLs, #tags nor `. via GIPHY` credits.
_LOWER_AFTER_PERIOD = re.compile(
    r"(?<![\w.@#/&'-])(?P<prev>[A-Za-z]{2,})\.[^\S\n]+(?!via\b)(?P<next>[a-z]{2,})(?=[^\S\n])"
)
_ABBREVIATIONS = frozenset(
    "jr sr inc ltd co corp bros vs etc al eds ed no nos st mr mrs ms dr gen sen rep"
    " gov lt col capt sgt rev prof jan feb mar apr jun jul aug sep sept oct nov dec"
    " approx est cf viz ca fig vol mt ft ave blvd dept univ assn dir app sc rer nat"
    " lb oz min max hr hrs sq pp ch".split()
)
# What every _LOWER_AFTER_PERIOD match holds; most texts have none, and a literal "." is fast to find.
_PERIOD_THEN_LOWER = re.compile(r"\.[^\S\n]+[a-z]{2}")
# A fragment going on with one of these reads on without any punctuation.
_FUNCTION_WORDS = frozenset("for of and or nor in to with on at by from into than as but".split())

_CAPS = r"[A-Z][A-Z'.\-/]*"  # WASHINGTON, N.C., ULAN-UDE, NEW YORK/BOSTON
_DATELINE = re.compile(
    rf"""(?P<place>{_CAPS}(?:,?[ ]{_CAPS}){{0,3}}  # 1-4 all-caps words
        (?:,[ ][A-Z][a-z]+\.?(?:[ ][A-Z][a-z]+)?){{0,2}})  # , Texas / , Ill.
    (?:[ ]\([^()\n]{{1,40}}\)|[ ]/[A-Z][a-z]+/)?  # (India), /Syria/
    (?:,[ ][A-Z][a-z]{{2,8}}\.?[ ]\d{{1,2}}(?:,[ ]\d{{4}})?[.,]?)?  # , Feb. 8, 2017
    (?:[ ]\([A-Z][\w.&' ]{{0,30}}\))?  # (Reuters), (AP), (Variety.com)
    (?P<wire>[ ]?/[A-Za-z][^/\n]{{0,60}}/\.?)?  # /TASS/.  /PRNewswire/.
    (?(wire)[\s\-—–]*|(?:[ ]*:\s+|[ ]+[-—–][\s\-—–]*))  # a wire tag or ':' or a dash""",
    re.VERBOSE,
)
# All-caps labels and acronyms that look like a place but are not one.
_NOT_PLACES = frozenset(
    "BREAKING UPDATE UPDATED WATCH VIDEO PHOTOS PHOTO EXCLUSIVE NOTE EDITOR'S"
    " ANALYSIS OPINION COMMENTARY LIVE READ MORE CORRECTION WARNING ALERT NEWS"
    " NATO FBI CIA NASA WHO EPA GOP CNN BBC ABC NBC CBS FOX".split()
)


@dataclass(frozen=True)
class Cleaned:
    """Result of :func:`clean_text`: text, dateline (or None), repair counts."""

    text: str
    dateline: str | None
    changes: dict[str, int] = field(default_factory=dict)


def normalize_unicode(text: str) -> str:
    """Repair mojibake with ftfy, compose to NFC and drop control characters.

    Curly quotes are kept (``uncurl_quotes=False``): they are real text.  Text that
    ftfy would leave as it is (ASCII without ``&`` or control characters) skips it:
    ftfy reads each line with its mojibake heuristics, a third of the cleaning time.  A lone
    C1 character that ftfy reads as Windows-1252 mojibake becomes that character
    (``\\x85`` -> ``…``); other C0/C1 controls but ``\\n``/``\\t`` are dropped.

    Parameters
    ----------
    text : str
        Raw text.

    Returns
    -------
    str
        Repaired text; letters of any script are kept.

    Raises
    ------
    TypeError
        If ``text`` is not a ``str`` (e.g. a pandas NaN).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    text = _NEWLINES.sub("\n", text)
    if not (text.isascii() and "&" not in text and not _ASCII_CONTROL.search(text)):
        text = ftfy.fix_text(text, uncurl_quotes=False)
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


def normalize_whitespace(text: str) -> str:
    """Use single spaces, strip lines, keep at most one blank line, strip the ends.

    Parameters
    ----------
    text : str
        Text with any spaces, tabs, non-breaking spaces and blank lines.

    Returns
    -------
    str
        Text whose paragraphs are separated by ``\\n\\n``.
    """
    # str.split and the \s of _HSPACE know the same whitespace: split-and-join per line collapses and
    # strips it as _HSPACE.sub then str.strip did, without one regex match per space (twice as fast)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def _quote_earlier_in_sentence(text: str, end: int, ends: list[int] | None = None) -> bool:
    """Tell whether a ``"`` lies between the last sentence end and ``end``.

    ``ends`` (every ``_SENTENCE_END`` match end in ``text``, ascending) makes the lookup a bisection:
    scanning from the start for each call made long texts quadratic (4 MB: 8 s; 100 MB: hours).
    """
    if ends is None:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, end)]
    index = bisect.bisect_right(ends, end)
    return '"' in text[ends[index - 1] if index else 0 : end]


def _sub(pattern: re.Pattern, repl, text: str, counts: Counter, key: str) -> str:
    """``pattern.subn`` that adds the number of replacements to ``counts[key]``."""
    text, n = pattern.subn(repl, text)
    counts[key] += n
    return text


def repair_question_quotes(text: str, *, counts: Counter | None = None) -> str:
    """Repair quotes, apostrophes and dashes damaged into ``"`` or ``"?``.

    The rules of the module docstring run in order; any other ``?`` is kept.

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
        The same words with repaired punctuation and spacing.
    """
    c: Counter = Counter()
    if '"' not in text:  # every rule below needs a damaged quote: skip the regexes
        c["question_mark_kept"] += text.count("?")
        if counts is not None:
            counts.update(c)
        return text
    text = _sub(_LEADING_DASH, r"\1 — ", text, c, "dash_repaired")
    text = _sub(_APOS_CONTRACTION, "'", text, c, "apostrophe_repaired")

    scanned: dict = {"text": None, "ends": []}  # sentence ends of the string being substituted

    def quoted_before(m: re.Match) -> bool:
        if scanned["text"] is not m.string:
            scanned["text"], scanned["ends"] = m.string, [e.end() for e in _SENTENCE_END.finditer(m.string)]
        return _quote_earlier_in_sentence(m.string, m.start(), scanned["ends"])

    def apostrophe_s(m: re.Match) -> str:
        quoted = quoted_before(m)
        c["apostrophe_repaired"] += not quoted
        return '"' if quoted else "'"

    def possessive(m: re.Match) -> str:
        quoted = quoted_before(m)
        c["quote_repaired" if quoted else "apostrophe_repaired"] += 1
        return '" ' if quoted else "' "

    text = _POSSESSIVE.sub(possessive, _APOS_S.sub(apostrophe_s, text))
    text = _sub(_QUOTE_AFTER_LETTER, '" ', text, c, "quote_repaired")
    text = _sub(_QUOTE_AFTER_PUNCT, '" ', text, c, "quote_repaired")
    if '"?' in text:  # in every match; _DASH, which may open with spaces, has no fast prefix
        text = _sub(_DASH, " — ", text, c, "dash_repaired")
    else:
        c["dash_repaired"] += 0
    c["question_mark_kept"] += text.count("?")
    if counts is not None:
        counts.update(c)
    return text


def repair_republication_artifacts(text: str, *, counts: Counter | None = None,
                                   republished: bool = False) -> str:
    """Remove stray periods and rejoin fragments cut off by a full stop.

    ``partners. . He`` -> ``partners. He``; ``Initiative. for global`` ->
    ``Initiative for global`` (function word); ``suggested. adding`` ->
    ``suggested, adding``.  Abbreviations (``U.S.``, ``e.g.``, ``Jr.``), numbers,
    ellipses, URLs and e-mail addresses are left alone.

    Parameters
    ----------
    text : str
        Text, e.g. a republished wire story.
    counts : collections.Counter, optional
        Incremented with ``stray_period_removed``, ``lowercase_sentence_joined``
        and ``period_to_comma``.
    republished : bool
        The text comes from a source of republished copy (the ``news-articles`` builtin):
        rejoin fragments even where the text has no stray period.

    Returns
    -------
    str
        The same words with repaired punctuation and spacing.
    """
    c: Counter = Counter()
    text = _sub(_STRAY_PERIOD, ".", text, c, "stray_period_removed")
    if not (republished or c["stray_period_removed"]):
        # A lower-case word after a full stop is also ordinary prose ("20 per cent. level" in
        # Hansard, a quoted tweet): fragments are rejoined only in a text that shows the
        # republication damage (a stray ". .") or in a source known to be republished copy.
        if counts is not None:
            counts.update(c)
        return text

    def join(m: re.Match) -> str:
        prev, nxt = m["prev"], m["next"]
        if prev.lower() in _ABBREVIATIONS:
            return m[0]
        key = "lowercase_sentence_joined" if nxt in _FUNCTION_WORDS else "period_to_comma"
        c[key] += 1
        return f"{prev} {nxt}" if nxt in _FUNCTION_WORDS else f"{prev}, {nxt}"

    text = sub_lower_after_period(join, text)
    if counts is not None:
        counts.update(c)
    return text


_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def sub_lower_after_period(repl, text: str) -> str:
    """``_LOWER_AFTER_PERIOD.sub(repl, text)``, the pattern tried only where a match can start.

    The pattern opens with a lookbehind, so ``sub`` tried it at every position of the text.
    Every match holds a period that :data:`_PERIOD_THEN_LOWER` finds (fast: it opens with the
    "."), and starts at the first of the ASCII letters just before that period (inside them,
    the lookbehind sees a letter): the pattern is matched there, in order, skipping any start
    inside an earlier match, as ``sub`` does.

    >>> sub_lower_after_period(lambda m: f"{m['prev']}, {m['next']}", "He left. adding more. via X. later ")
    'He left, adding more. via X. later '
    """
    pieces, done = [], 0
    for period in _PERIOD_THEN_LOWER.finditer(text):
        start = period.start()
        while start > 0 and text[start - 1] in _ASCII_LETTERS:
            start -= 1
        if start < done:
            continue
        match = _LOWER_AFTER_PERIOD.match(text, start)
        if match is not None:
            pieces += [text[done:start], repl(match)]
            done = match.end()
    return "".join([*pieces, text[done:]]) if pieces else text


def split_dateline(text: str) -> tuple[str | None, str]:
    """Split a leading dateline such as ``BEIJING:`` off a text.

    PLACE is 1-4 all-caps words at the very start, optionally with ``, Region``;
    it must be followed by ``:``, `` -``/`` —``, ``(AGENCY) -`` or a wire tag as in
    ``MOSCOW, Feb 7. /TASS/.`` (the date and tag are dropped).  Labels
    (``BREAKING:``, ``DW:``) and places of under 3 letters (``US:``) are not
    places; an all-caps speaker label (``TRUMP: ...``) cannot be told apart.

    Parameters
    ----------
    text : str
        Text whose first characters may be a dateline.

    Returns
    -------
    tuple of (str or None, str)
        The place, or ``None`` without a dateline, and the rest of the text.
    """
    m = _DATELINE.match(text)
    if not m or m.end() == len(text):
        return None, text
    place = m["place"]
    label = any(word in _NOT_PLACES for word in re.findall(r"[A-Z'\-]+", place))
    if label or sum(ch.isalpha() for ch in place) < 3:
        return None, text
    return place, text[m.end() :]


def clean_text(text: str, *, republished: bool = False) -> Cleaned:
    """Run the pipeline: unicode, quotes, republication artifacts, whitespace, dateline.

    Parameters
    ----------
    text : str
        Raw text.
    republished : bool
        The source is republished copy: see :func:`repair_republication_artifacts`.

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
    text = repair_republication_artifacts(text, counts=counts, republished=republished)
    dateline, text = split_dateline(normalize_whitespace(text))
    text = _sub(_LOST_AS_QUESTION_MARK, "\ufffd", text, counts, "lost_character_marked")
    damaged = count_damaged_words(text)
    if damaged:  # not a change: counted, so the ingest report says how many words lost a character upstream
        counts["damaged_word_kept"] += damaged
    return Cleaned(text=text, dateline=dateline, changes=dict(+counts))


# A word holding U+FFFD, the replacement character a decoder wrote for a character lost before the
# corpus reached us: kept as it is (the tokens keep it as one word, with its mark).
DAMAGED = "\ufffd"  # the replacement character
_DAMAGED_WORD = re.compile(r"[^\W_]*(?<=[^\W\d_])\ufffd[\w\ufffd]*|\ufffd+[a-zß-öø-ÿ][\w\ufffd]*")
# A "?" that stands for a lost letter, never a question mark: between two letters ("S?ochana"),
# glued to the start of a lowercase word ("Bus ?ireann"), or before a possessive ("RT?'s").
# It becomes U+FFFD, so the word stays one word and says it is damaged.
# Each alternative opens with the "?" and looks behind it from there: the same matches as
# r"(?:(?<=[^\W\d_])|(?<=\s)|^)\?(?=[a-zß-öø-ÿ])|(?<=[^\W\d_])\?(?=['’]s\b)", but `re` jumps from
# one "?" to the next instead of trying the pattern at every position (200× faster on the news run).
_LOST_AS_QUESTION_MARK = re.compile(r"\?(?:(?<=[^\W\d_]\?)|(?<=\s\?)|(?<=^\?))(?=[a-zß-öø-ÿ])"
                                    r"|\?(?<=[^\W\d_]\?)(?=['’]s\b)")


def count_damaged_words(text: str) -> int:
    """How many words of ``text`` hold U+FFFD after a letter (or a lost capital): ``_DAMAGED_WORD`` matches.

    A match is made of word characters and U+FFFD only, so it never crosses whitespace, and
    what it looks behind at is inside it: the matches in the whole text are those in its
    whitespace-separated pieces that hold U+FFFD. Only those pieces are searched (most texts
    have none), instead of trying the pattern at every word of every text.

    >>> count_damaged_words("Fianna F\ufffd\ufffdil and Bus \ufffdireann, \ufffd10 and RT\ufffd")
    3
    """
    if DAMAGED not in text:
        return 0
    return sum(len(_DAMAGED_WORD.findall(piece)) for piece in text.split() if DAMAGED in piece)


def clean_title(title: str | None) -> str | None:
    """A title through the same Unicode, quote and whitespace repairs as the text (no dateline)."""
    if title is None:
        return None
    cleaned = normalize_whitespace(repair_question_quotes(normalize_unicode(title)))
    return cleaned or None


# --------------------------------------------------------------------------- group labels

MISSING_GROUP = "(no group)"  # how every stage shows a document without a group
MISSING_GROUP_LABELS = (MISSING_GROUP, "(none)")  # the labels that mean "no group"


def is_missing_group(label: object) -> bool:
    """True for a unit without a group: no label, an empty one, or a missing-group label.

    The one test every stage and report uses.

    >>> [is_missing_group(x) for x in ("bbc", None, float("nan"), " ", "(no group)", "(none)")]
    [False, True, True, True, True, True]
    """
    return not isinstance(label, str) or not label.strip() or label in MISSING_GROUP_LABELS


def clean_group(value: str | None) -> str:
    """A group label as the reports show it: integer-valued numbers without ``.0``, missing as one label.

    >>> clean_group("2.0"), clean_group(" 1999 "), clean_group(None), clean_group("Labour")
    ('2', '1999', '(no group)', 'Labour')
    """
    if value is None or not str(value).strip():
        return MISSING_GROUP
    text = str(value).strip()
    match = _INTEGRAL.fullmatch(text)
    return match.group(1) if match else text


_INTEGRAL = re.compile(r"([+-]?\d+)\.0+")
