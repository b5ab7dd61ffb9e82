"""The topic explorer as a reader sees it: the view, and a static SVG map without JavaScript.

Its data (the map, terms by relevance, top documents) is computed by the topics stage
(:mod:`newslens.analysis.topic_explorer_data`); the page draws it with
``templates/newslens/topic-explorer.js``.
"""

from __future__ import annotations

from typing import Any

from newslens.analysis.topic_explorer_data import MAP_SIZE
from newslens.report.markup import escape


def static_map(data: dict[str, Any]) -> str:
    """The intertopic map as inline SVG: circles with tooltips, topic ids as text, all escaped."""
    circles, labels = [], []
    for t in sorted(data["topics"], key=lambda t: (-t["r"], t["id"])):  # small circles on top
        x, y, r = t["cx"], t["cy"], t["r"]
        tip = escape(f"{t['name']} ({t['prevalence']:.1%} of the topic weight)")
        circles.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="{tint(t)}" fill-opacity="0.55" '
                       f'stroke="#1f2328" stroke-width="0.8"><title>{tip}</title></circle>')
        labels.append(f'<text x="{x}" y="{y}">{int(t["id"])}</text>')
    parts = circles + ['<g text-anchor="middle" dominant-baseline="central" font-size="11" fill="#1f2328" '
                       'stroke="#fff" stroke-width="2.5" paint-order="stroke">', *labels, "</g>"]
    return (f'<svg class="nl-te-map" viewBox="0 0 {MAP_SIZE} {MAP_SIZE}" width="{MAP_SIZE}" height="{MAP_SIZE}" '
            f'role="img" aria-label="Intertopic map: {len(data["topics"])} topics">'
            f'<rect x="0.5" y="0.5" width="{MAP_SIZE - 1}" height="{MAP_SIZE - 1}" fill="none" '
            f'stroke="#d0d7de"></rect>{"".join(parts)}</svg>')


TOPIC_COLOUR = "hsl(212, 62%, 42%)"  # every topic but a mixed one: the page's TOPIC
MIXED_COLOUR = "#8c959f"             # a mixed topic: the page's MIXED


def tint(topic: dict[str, Any]) -> str:
    """A topic's colour, the same as the page's: grey when it is mixed, one colour for every other."""
    return MIXED_COLOUR if topic.get("mixed") else TOPIC_COLOUR


def explorer_html(data: dict[str, Any] | None, *, label: str = "Topic explorer") -> str:
    """The explorer's view (static map and a note as fallback), or "" for a run without a model."""
    from newslens.report.views import view_html

    if data is None:
        return ""
    what = "terms (with a relevance slider) and top documents" if data.get("compact") else \
        "terms (with a relevance slider), top documents, and prevalence by group and over time"
    grey = " Grey circles are mixed topics." if any(t.get("mixed") for t in data["topics"]) else ""
    note = (f'<p class="note nl-static">Intertopic map: distance between circles ≈ how different their terms are '
            f'(classical scaling of the Jensen–Shannon distances); the axes themselves have no meaning. A '
            f"circle's area is the topic's share of the corpus.{grey} With JavaScript on, selecting a topic "
            f"shows its {what}.</p>")
    key = "".join(f'<li>{escape(t["name"])} ({t["prevalence"]:.1%})</li>' for t in data["topics"])
    fallback = (f'<div class="nl-static nl-te-fallback"><div class="nl-te-grid">{static_map(data)}'
                f'<ul class="nl-te-keylist">{key}</ul></div>{note}</div>')
    return view_html("topic-explorer", data, fallback, label=label)


def show(data: dict[str, Any] | None, *, label: str = "Topic explorer") -> None:
    """Display the explorer in a notebook (nothing for a run without a model)."""
    from newslens.report.markup import show_html

    markup = explorer_html(data, label=label)
    if markup:
        show_html(markup)
