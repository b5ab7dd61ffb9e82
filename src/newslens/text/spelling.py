"""One term per word: damaged words repaired where the corpus holds them intact, and spelling variants unified.

Both give the tokenizer a table of *variants*: a lowercase word (or phrase) and the form it is
counted as. :class:`newslens.text.tokenizer.Tokenizer` looks a token up there before it
lemmatizes it, so the table applies to every text the tokenizer reads, the KWIC lines included.

* **Damaged words** (:func:`repairs`). A character lost upstream shows as U+FFFD, one mark per
  byte of the lost character ("F\ufffd\ufffdil" for "Fáil"). A damaged word is repaired to the one
  intact word of the corpus that it can be (the same letters around the marks, one letter
  outside ASCII for each run of marks); with none, or more than one, it stays as it is, marks
  included, one word (:mod:`newslens.text.words`).
* **Spelling** (:func:`spellings`, English, ``tokenize.spelling: unify``). British and
  American spellings from breame's list (organisation/organization, centre/center, ...) and
  the house styles of ``data/spelling/en.txt`` (per cent/percent, mln/million, U.K./UK). A
  British/American pair is unified only when the corpus uses both forms, into the one it uses
  more (American on a tie); a house-style variant is always counted as its form.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from importlib import resources

from newslens.text.words import DAMAGED

_RUN = re.compile(f"({DAMAGED}+)")


def _pattern(word: str) -> re.Pattern:
    """What the damaged ``word`` can be: its letters, and one letter outside ASCII per run of marks."""
    parts = [r"[^\W\x00-\x7f]" if part.startswith(DAMAGED) else re.escape(part) for part in _RUN.split(word) if part]
    return re.compile("".join(parts))


def repairs(words: Counter) -> dict[str, str]:
    """Each damaged word of ``words`` (lowercase) with exactly one intact form among them.

    >>> repairs(Counter({"f\ufffd\ufffdil": 3, "fáil": 1, "d\ufffd\ufffdil": 2, "sinn": 4}))
    {'f\ufffd\ufffdil': 'fáil'}
    """
    damaged = sorted(w for w in words if DAMAGED in w and not w.startswith(DAMAGED))
    if not damaged:
        return {}
    intact: dict[tuple[str, int], list[str]] = defaultdict(list)
    for word in words:
        if DAMAGED not in word and not word.isascii():
            intact[(word[:1], len(word))].append(word)
    out = {}
    for word in damaged:
        pattern, runs = _pattern(word), _RUN.findall(word)
        length = len(word) - sum(len(run) for run in runs) + len(runs)  # one letter per run
        found = sorted({w for w in intact.get((word[:1], length), ()) if pattern.fullmatch(w)})
        if len(found) == 1:
            out[word] = found[0]
    return out


def _house_styles(language: str) -> dict[str, str]:
    source = resources.files("newslens.text") / "data" / "spelling" / f"{language}.txt"
    if not source.is_file():
        return {}
    pairs = (line.split() for line in source.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#"))
    return {variant: form for variant, form in pairs}


def spellings(words: Counter, language: str) -> dict[str, str]:
    """Spelling variants of ``language`` and the form each is counted as (see the module docstring).

    >>> spellings(Counter({"organisation": 5, "organization": 2, "colour": 1, "mln": 3}), "en")["organization"]
    'organisation'
    >>> sorted(spellings(Counter({"colour": 1}), "en"))[:2]  # one spelling only: nothing to unify
    ['aug', 'bln']
    """
    if language != "en":
        return {}
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    out = dict(_house_styles(language))
    for british, american in BRITISH_ENGLISH_SPELLINGS.items():
        if words.get(british) and words.get(american):
            rare, usual = (american, british) if words[british] > words[american] else (british, american)
            out[rare] = usual
    return out


def variants(words: Counter, language: str, *, unify: bool) -> tuple[dict[str, str], dict[str, int]]:
    """The tokenizer's variants table for a corpus's lowercase ``words``, and how many of each kind."""
    repaired = repairs(words)
    unified = spellings(words, language) if unify else {}
    counts = {"damaged_words_repaired": len(repaired),
              "spellings_unified": sum(1 for w in unified if words.get(w))}
    return {**unified, **repaired}, counts
