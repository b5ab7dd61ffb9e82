"""The keyness explorer: any group against the rest, or two groups against each other, in the page.

Its data (counts per group, the terms carried, keywords in context) is made by
:func:`newslens.analysis.keyness_data.explorer_data`; this module puts it in the report.
"""

from __future__ import annotations

from newslens.report.markup import escape
from newslens.report.views import view_html
from newslens.wording import Words

NAME = "keyness-explorer"


def explorer_html(data: dict, words: Words | None = None) -> str:
    """The explorer's root: a short no-JavaScript note, and the data."""
    words = words or Words()
    note = (f"The keyness explorer compares any {words.group} with the rest, or two {words.groups} "
            f"with each other, and shows any term's frequency per {words.group} and its keywords "
            f"in context. It needs JavaScript; the charts above show each {words.group} against the rest.")
    fallback = f'<p class="note nl-static">{escape(note)}</p>'
    payload = {**data, "words": {"group": words.group, "groups": words.groups, "unit": words.unit,
                                 "units": words.units}}
    return view_html(NAME, payload, fallback, label=f"Keyness explorer: compare {words.groups}")
