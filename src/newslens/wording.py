"""What the reports call the run's units and groups: "3,824 articles from 9 outlets".

A run names its unit (``unit_name``: article, speech, post) and its groups
(``group_name``: outlet, party, account). Without them the words follow
``unit`` (document, paragraph, sentence) and "group", so no report of a
speech corpus talks of articles.

>>> words = Words("speech", "party")
>>> words.units, words.groups, words.count(1), words.count(2_300, "group")
('speeches', 'parties', '1 speech', '2,300 parties')
"""

from __future__ import annotations

from dataclasses import dataclass

_IRREGULAR = {"person": "people", "child": "children", "analysis": "analyses", "thesis": "theses",
              "datum": "data", "medium": "media", "corpus": "corpora"}


def plural(noun: str) -> str:
    """The English plural of a noun: post → posts, speech → speeches, party → parties.

    >>> [plural(w) for w in ("post", "speech", "box", "party", "day", "person", "press release")]
    ['posts', 'speeches', 'boxes', 'parties', 'days', 'people', 'press releases']
    """
    head, space, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in _IRREGULAR:
        word = _IRREGULAR[lower]
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    elif lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return head + space + word


@dataclass(frozen=True)
class Words:
    """The nouns of one run, singular and plural."""

    unit: str = "document"
    group: str = "group"

    @property
    def units(self) -> str:
        return plural(self.unit)

    @property
    def groups(self) -> str:
        return plural(self.group)

    def count(self, n: int, noun: str = "unit") -> str:
        """``n`` with the right form of the unit's (or the group's) noun: "1 post", "62,000 posts"."""
        word = getattr(self, noun)
        return f"{n:,} {word if n == 1 else plural(word)}"


def run_words(params) -> Words:
    """The words of a run (its params or a stage's view of them)."""
    unit = params.unit_name or str(params.unit)
    return Words(unit=unit, group=params.group_name or "group")
