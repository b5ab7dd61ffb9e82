"""The topic explorer as a reader sees it: the view, and a static SVG map without JavaScript.

Its data (the map, terms by relevance, top documents) is computed by the topics stage
(:mod:`newslens.analysis.topic_explorer_data`); the page draws it with
``templates/newslens/topic-explorer.js``.
"""

from __future__ import annotations

import math
from typing import Any

from newslens.analysis.topic_explorer_data import MAP_SIZE
from newslens.report.markup import escape


def static_map(data: dict[str, Any]) -> str:
    """The intertopic map as inline SVG: circles with tooltips, topic ids as text, all escaped."""
    circles, labels = [], []
    for t in sorted(data["topics"], key=lambda t: (-t["r"], t["id"])):  # small circles on top
        x, y, r = t["cx"], t["cy"], t["r"]
        tip = escape(f"{t['name']} ({t['prevalence']:.1%} of the topic weight)")
        circles.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="{colour(t["id"])}" fill-opacity="0.55" '
                       f'stroke="#1f2328" stroke-width="0.8"><title>{tip}</title></circle>')
        labels.append(f'<text x="{x}" y="{y}">{int(t["id"])}</text>')
    parts = circles + ['<g text-anchor="middle" dominant-baseline="central" font-size="11" fill="#1f2328" '
                       'stroke="#fff" stroke-width="2.5" paint-order="stroke">', *labels, "</g>"]
    return (f'<svg class="nl-te-map" viewBox="0 0 {MAP_SIZE} {MAP_SIZE}" width="{MAP_SIZE}" height="{MAP_SIZE}" '
            f'role="img" aria-label="Intertopic map: {len(data["topics"])} topics">'
            f'<rect x="0.5" y="0.5" width="{MAP_SIZE - 1}" height="{MAP_SIZE - 1}" fill="none" '
            f'stroke="#d0d7de"></rect>{"".join(parts)}</svg>')


def colour(topic_id: int) -> str:
    """The stable colour of a topic, the same as the page's ``NL.colour``."""
    hue = math.floor((int(topic_id) * 137.508) % 360 + 0.5)  # JavaScript's Math.round
    return f"hsl({hue}, 62%, 42%)"


def explorer_html(data: dict[str, Any] | None, *, label: str = "Topic explorer") -> str:
    """The explorer's view (static map and a note as fallback), or "" for a run without a model."""
    from newslens.report.views import view_html

    if data is None:
        return ""
    what = "terms (with a relevance slider) and top documents" if data.get("compact") else \
        "terms (with a relevance slider), top documents, and prevalence by group and over time"
    note = (f'<p class="note nl-static">Intertopic map: circles closer together are topics with more '
            f'similar terms (Jensen–Shannon divergence, classical scaling); a circle\'s area shows the '
            f"topic's prevalence. With JavaScript on, selecting a topic shows its {what}.</p>")
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
