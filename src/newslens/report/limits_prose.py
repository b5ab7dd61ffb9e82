"""The run's limits in plain words: when its documents date from, and whether its neighbours mean anything.

Each function reads the stage-03 limits (:mod:`newslens.analysis.limits`, ``limits.json``) and
returns a sentence in the run's own nouns (:class:`newslens.wording.Words`), or None when
there is nothing to warn about (or nothing measured). :func:`coverage_sentence` is the one the
topics report's charts over time can show.

>>> data = {"span": {"focus_outside_span": True, "side": "after", "gap": {"days": 1747, "months": 57},
...                  "focus": {"first": "2022-01-10"}, "others": {"first": "2016-04-19", "last": "2017-03-30",
...                  "documents": 3780}},
...         "concentration": {"concentrated": True, "span_days": 345, "months": {"first": "2017-02",
...                           "last": "2017-03", "share": 0.92}, "days": None}}
>>> print(span_sentence(data, Words("article", "outlet")))
The focus article is dated 10 January 2022, 4 years and 9 months after the latest other article (30 March 2017); the 3,780 other articles date from 19 April 2016 to 30 March 2017, 92% of them from February and March 2017.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from newslens.analysis.limits import clears_floor
from newslens.report import prose
from newslens.wording import Words

# The similar tables' column that marks a neighbour above the similarity floor.
CLEARS_FLOOR = "closer than chance"
# The distinctive terms get the caveat of a focus from another time when the gap is this long or longer.
CAVEAT_MONTHS = 12
# Below half a year, a concentrated window is said in days ("between 6 February and 30 March 2017"),
# from half a year on in calendar months ("from February and March 2017").
MONTHS_FROM_DAYS = 183


def _day(iso: str) -> str:
    return prose.day(pd.Timestamp(iso))


def _month(iso: str) -> str:
    """ "2017-02" (or a full date) as "February 2017"."""
    return f"{pd.Timestamp(iso[:7] + '-01'):%B %Y}"


def duration(months: int) -> str:
    """A gap in whole months as words: "4 years and 9 months", "1 year", "3 months".

    >>> duration(57), duration(12), duration(1), duration(0)
    ('4 years and 9 months', '1 year', '1 month', 'less than a month')
    """
    years, rest = divmod(int(months), 12)
    parts = [prose.counted(years, "year")] if years else []
    if rest:
        parts.append(prose.counted(rest, "month"))
    return " and ".join(parts) or "less than a month"


def _months_phrase(first: str, last: str) -> str:
    """ "March 2017", "February and March 2017", "from December 2016 to March 2017"."""
    start, end = pd.Timestamp(first + "-01"), pd.Timestamp(last + "-01")
    if start == end:
        return _month(first)
    if start.year == end.year and end.month - start.month == 1:
        return f"{start:%B} and {end:%B %Y}"
    return f"from {_month(first)} to {_month(last)}"


def concentration_clause(data: dict[str, Any]) -> str | None:
    """ "92% of them from February and March 2017" when the corpus is concentrated, else None."""
    found = data["concentration"]
    if not found.get("concentrated"):
        return None
    if found["span_days"] >= MONTHS_FROM_DAYS and found["months"]:
        window = found["months"]
        return f"{window['share']:.0%} of them from {_months_phrase(window['first'], window['last'])}"
    window = found["days"]
    first, last = pd.Timestamp(window["first"]), pd.Timestamp(window["last"])
    start = f"{first.day} {first:%B}" if first.year == last.year else _day(window["first"])
    return f"{window['share']:.0%} of them between {start} and {_day(window['last'])}"


def span_sentence(data: dict[str, Any] | None, words: Words, noun: str | None = None) -> str | None:
    """The focus's date against the others' span, when it lies outside it; None otherwise.

    ``noun`` is what the focus is called (its unit, or "document" when it is several units).
    """
    if data is None or not data["span"].get("focus_outside_span"):
        return None
    span, noun = data["span"], noun or words.unit
    others = span["others"]
    when = "after the latest" if span["side"] == "after" else "before the earliest"
    edge = others["last"] if span["side"] == "after" else others["first"]
    count = prose.counted(others["documents"], f"other {words.unit}")
    said = (f"The focus {noun} is dated {_day(span['focus']['first'])}, {duration(span['gap']['months'])} {when} "
            f"other {words.unit} ({_day(edge)}); the {count} date from {_day(others['first'])} to "
            f"{_day(others['last'])}")
    clause = concentration_clause(data)
    return said + (f", {clause}." if clause else ".")


def terms_caveat(data: dict[str, Any] | None, words: Words, noun: str | None = None) -> str | None:
    """What a focus dated a year or more outside the corpus's span means for its distinctive terms; else None.

    A focus a few days after the latest other unit is said in the corpus section, but its terms
    are of the same time as the corpus's.
    """
    if data is None or not data["span"].get("focus_outside_span") or data["span"]["gap"]["months"] < CAVEAT_MONTHS:
        return None
    span, noun = data["span"], noun or words.unit
    newer = span["side"] == "after"
    edge = _month(span["others"]["last"] if newer else span["others"]["first"])
    return (f"The focus {noun} is {duration(span['gap']['months'])} {'newer' if newer else 'older'} than every other "
            f"{words.unit}, so a term can set it apart because it {'is new since' if newer else 'fell out of use before'} {edge} "
            f"(a name, an event, a word of its time) rather than because the {noun} stresses it.")


def floor_sentence(data: dict[str, Any] | None, words: Words) -> str | None:
    """How many of the listed neighbours are closer than chance pairs of the corpus get; None without a
    floor or without neighbours.

    >>> data = {"similarity": {"floor": 0.24, "one_in": 1000, "shown": 10, "above": 0}}
    >>> print(floor_sentence(data, Words("article", "outlet")))
    None of them is closer than chance: none is above 0.240, a similarity that only 1 in 1,000 pairs of articles of this corpus reach. The table still lists them, so a reader sees how far even the nearest articles are.
    """
    if data is None or data["similarity"].get("floor") is None or not data["similarity"]["shown"]:
        return None
    found = data["similarity"]
    floor = (f"above {found['floor']:.3f}, a similarity that only 1 in {found['one_in']:,} pairs of "
             f"{words.units} of this corpus reach")
    if found["above"] == 0:
        return (f"None of them is closer than chance: none is {floor}. The table still lists them, so a reader "
                f"sees how far even the nearest {words.units} are.")
    if found["above"] == found["shown"]:
        return f"All {found['shown']} are closer than chance: {floor}."
    are = "is" if found["above"] == 1 else "are"
    return (f"Only {found['above']} of the {found['shown']} {are} closer than chance: {floor} (marked in the "
            f"table). The others are no closer than two {words.units} picked at random can be.")


def mark_floor(table: pd.DataFrame, data: dict[str, Any] | None) -> pd.DataFrame:
    """A table of neighbours (with a ``similarity`` column) marked "yes" where one clears the floor.

    Every neighbour stays listed, above the floor or not: a reader sees how far even the nearest
    are, and the mark says which mean more than chance. Without a floor there is no mark.

    >>> table = pd.DataFrame({"similarity": [0.302125, 0.23321]})
    >>> mark_floor(table, {"similarity": {"floor": 0.24}})[CLEARS_FLOOR].tolist()
    ['yes', 'no']
    """
    floor = data["similarity"]["floor"] if data else None
    if floor is None:
        return table
    return table.assign(**{CLEARS_FLOOR: clears_floor(table["similarity"], floor).map({True: "yes", False: "no"})})


def coverage_sentence(data: dict[str, Any] | None, words: Words) -> str | None:
    """Where one group holds nearly every document at the start (or end) of the span; None otherwise.

    For the charts over time: "Before February 2017, europe.chinadaily.com.cn is nearly the only
    outlet (292 of the 309 articles); 99.5% of the other outlets' articles date from February 2017 on."

    >>> lead = {"boundary": "2017-02-01", "group": "China Daily", "group_documents": 292, "documents": 309,
    ...         "other_groups_outside_share": 0.995}
    >>> print(coverage_sentence({"groups": {"lead": lead, "tail": None}}, Words("article", "outlet")))
    Before February 2017, China Daily is nearly the only outlet (292 of the 309 articles); 99.5% of the other outlets' articles date from February 2017 on.
    """
    if data is None:
        return None
    said = []
    for key, opening, after in (("lead", "Before", "date from {month} on"), ("tail", "From {month} on,", "are older")):
        stretch = data["groups"].get(key)
        if not stretch:
            continue
        month = _month(stretch["boundary"])
        only = "the only" if stretch["group_documents"] == stretch["documents"] else "nearly the only"
        start = opening.format(month=month) + ("" if key == "tail" else f" {month},")
        said.append(f"{start} {stretch['group']} is {only} {words.group} ({stretch['group_documents']:,} of the "
                    f"{prose.counted(stretch['documents'], words.unit)}); "
                    f"{_share(stretch['other_groups_outside_share'])} of the other {words.groups}' {words.units} "
                    f"{after.format(month=month)}.")
    return " ".join(said) or None


def _share(share: float) -> str:
    """A share as a percentage, with one decimal only when it is needed ("99.5%", "100%", "92%")."""
    percent = round(share * 100, 1)
    return f"{percent:.0f}%" if percent == int(percent) else f"{percent:.1f}%"
