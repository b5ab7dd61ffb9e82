"""Plain English for the summary's sentences: lists, counts, dates.

>>> listed(["a", "b", "c"]), counted(1, "input"), counted(11, "exact duplicate")
('a, b and c', '1 input', '11 exact duplicates')
"""

from __future__ import annotations

import pandas as pd

from newslens.wording import plural


def listed(items: list) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def counted(n: int, noun: str) -> str:
    """``n`` and the noun in the right number: "1 input", "11 inputs"."""
    return f"{n:,} {noun if n == 1 else plural(noun)}"


def day(date: pd.Timestamp) -> str:
    """A date as prose: "1 May 2001"."""
    return f"{date.day} {date:%B %Y}"


def capitalized(text: str) -> str:
    """The text with its first letter upper-case, the rest as it is."""
    return text[:1].upper() + text[1:]
