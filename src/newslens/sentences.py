"""Paragraph and sentence segmentation, shared by ingest (units) and tokenize.

Why our own splitter: syntok, the well-kept offline segmenter, takes 27 s on the
3,824-article corpus, where scikit-learn's whole TfidfVectorizer takes 2 s; that
alone would make the tokenize stage 14× its anchor. This regex splitter does the
same job in under 2 s. It agrees with syntok on 94% of sentences of a corpus
sample (tests/test_sentences.py keeps syntok as the reference and pins the
agreement), and it respects what matters for news: abbreviations and titles
(``Dr.``, ``Gov.``, ``Jan. 10``, ``No. 1``), initialisms (``U.S.``, ``U.N.``),
middle initials (``George W. Bush``), decimals (``3.5``), and closing quotes
after the final mark (``"Is it?" he asked.``).

Each sentence is an exact span of the input: no character is rewritten.
"""

from __future__ import annotations

import re

# Words that end in a period without ending a sentence: titles, months, days,
# "No.", company suffixes, US state abbreviations used in news (R-Okla.).
ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st mt gen lt col maj capt cmdr adm sgt cpl pvt rep reps sen sens gov pres
supt insp det rev hon fr messrs jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed
thu thur thurs fri sat sun no nos vol vols fig figs pp ed eds est approx dept univ assn bros inc
corp ltd co plc llc vs etc al cf ave blvd rd hwy ft ala ariz ark calif colo conn del fla ga ill
ind kan kans ky la md mass mich minn miss mo mont neb nev okla ore pa tenn tex va vt wash wis wyo
""".split())

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A candidate boundary: final marks, optional closing quotes/brackets, whitespace,
# then something that can open a sentence (a capital or digit, maybe after a quote).
_BOUNDARY = re.compile(r"""([.!?…]+["'”’)\]]*)(\s+)(?=["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
_LAST_WORD = re.compile(r"(\S+)$")
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]|[A-Z]")


def split_paragraphs(text: str) -> list[str]:
    """Split ``text`` on blank lines; empty paragraphs are dropped.

    >>> split_paragraphs("One.\\n\\nTwo.\\n")
    ['One.', 'Two.']
    """
    return [part.strip() for part in _PARAGRAPH_BREAK.split(text) if part.strip()]


def _last_word(before: str) -> str | None:
    """What ``_LAST_WORD.search(before)`` finds, read from the end of the string.

    The regex tries every position from the start, so calling it on each candidate
    boundary made splitting quadratic in the sentence length; ``str.rsplit`` looks
    at the last word only. Like ``$``, a final newline may follow the word.
    """
    end = len(before) - 1 if before.endswith("\n") else len(before)
    if end == 0 or before[end - 1].isspace():
        return None
    return before[:end].rsplit(None, 1)[-1]


def _ends_with_abbreviation(before: str) -> bool:
    last = _last_word(before)
    if last is None:
        return False
    word = last.lstrip("\"'“‘([").rstrip(".")
    return word.lower() in ABBREVIATIONS or bool(_INITIALISM.fullmatch(word))


def split_sentences(text: str) -> list[str]:
    """Split one paragraph into sentences, each an exact span of the input.

    >>> split_sentences("Dr. Smith met U.S. officials on Jan. 10. It cost 3.5 dollars.")
    ['Dr. Smith met U.S. officials on Jan. 10.', 'It cost 3.5 dollars.']
    >>> split_sentences('"Is it?" he asked. The U.N. agreed.')
    ['"Is it?" he asked.', 'The U.N. agreed.']
    """
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        marks = match.group(1)
        if marks.rstrip("\"'”’)]") == "." and _ends_with_abbreviation(text[start:match.start(1)]):
            continue
        span = text[start:match.end(1)].strip()
        if span:
            sentences.append(span)
        start = match.end(2)
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def split_text_sentences(text: str) -> list[str]:
    """All sentences of a text, paragraph by paragraph (a sentence never spans paragraphs)."""
    return [s for paragraph in split_paragraphs(text) for s in split_sentences(paragraph)]
