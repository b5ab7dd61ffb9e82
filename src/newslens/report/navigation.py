"""The header every report page carries: the run's title and a link to each of its pages.

A run's pages are its stage reports (:data:`newslens.stages.STAGES`, in order) and the
pages built beside them when they exist (:data:`EXTRA_PAGES`: the sensitivity grid, a
validation page). Each page opens with the same ``<nav data-role="run-nav">``: a link to
the index, the run's title, and one link per page, the current one marked
``aria-current="page"``. Links are relative, so the reports work from disk.

Pages are written one at a time (a stage renders its page when it finishes), so a page
rendered first cannot know the pages that come after it: :func:`refresh_run` rewrites the
header of every page of a run folder from the pages that are there now, and the renderers
call it after each page they write.

>>> pages = [Page("01-ingest.html", "Ingest"), Page("05-summary.html", "Summary")]
>>> print(header_html("News", pages, "05-summary.html"))  # doctest: +NORMALIZE_WHITESPACE
<nav data-role="run-nav" class="nl-nav" aria-label="Reports of this run"><a class="nl-nav-home"
href="../index.html">All reports</a><span class="nl-nav-title">News</span><ul><li><a
href="01-ingest.html">Ingest</a></li><li><a href="05-summary.html" aria-current="page">Summary</a></li></ul></nav>
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple, Sequence

from newslens.files import write_text
from newslens.report.markup import escape
from newslens.stages import STAGES

INDEX_HREF = "../index.html"  # every page lives one folder below reports/
# Pages a run may have beside its stage reports, in the order the header lists them.
EXTRA_PAGES = (("sensitivity.html", "Sensitivity"), ("validate.html", "Validation"))
NAV_PATTERN = re.compile(r'<nav data-role="run-nav".*?</nav>\n?', re.DOTALL)
_BODY_OPEN = re.compile(r"<body[^>]*>\n?")


class Page(NamedTuple):
    """One page of the header: its file (beside the current page, or a relative path) and its label."""

    href: str
    label: str


def run_pages(run_dir: Path, current: str | None = None) -> list[Page]:
    """The pages of the run whose reports are in ``run_dir``: those there now, and ``current`` (being written)."""
    present = {p.name for p in run_dir.glob("*.html")} | ({current} if current else set())
    known = [(f"{s.name}.html", s.title) for s in STAGES] + list(EXTRA_PAGES)
    return [Page(name, label) for name, label in known if name in present]


def header_html(title: str, pages: Sequence[Page], current: str | None, *, index_href: str = INDEX_HREF) -> str:
    """The header: a link to the index, ``title``, and a link per page (``current`` marked as the page)."""
    marked = ' aria-current="page"'
    items = "".join(f'<li><a href="{escape(p.href)}"{marked if p.href == current else ""}>{escape(p.label)}</a></li>'
                    for p in pages)
    return (f'<nav data-role="run-nav" class="nl-nav" aria-label="Reports of this run">'
            f'<a class="nl-nav-home" href="{escape(index_href)}">All reports</a>'
            f'<span class="nl-nav-title">{escape(title)}</span><ul>{items}</ul></nav>')


def with_header(page: str, header: str) -> str:
    """``page`` with ``header`` as the first thing in its body, replacing the header it had."""
    if NAV_PATTERN.search(page):
        return NAV_PATTERN.sub(lambda _: header + "\n", page, count=1)
    opening = _BODY_OPEN.search(page)
    if opening is None:
        raise ValueError("a report page must have a <body>")
    return page[:opening.end()] + header + "\n" + page[opening.end():]


def run_header(run_dir: Path, title: str, current: str) -> str:
    """The header of page ``current`` of the run in ``run_dir``."""
    return header_html(title, run_pages(run_dir, current), current)


def refresh_run(run_dir: Path, title: str) -> list[Path]:
    """Give every page of the run in ``run_dir`` the header of the pages there now; the pages rewritten."""
    changed = []
    for page in run_pages(run_dir):
        path = run_dir / page.href
        text = path.read_text(encoding="utf-8")
        updated = with_header(text, run_header(run_dir, title, page.href))
        if updated != text:
            write_text(path, updated)
            changed.append(path)
    return changed


def comparison_header(title: str, current: str, sides: Sequence[tuple[str, Path | None]]) -> str:
    """The header of a comparison page: the index, the page itself and each side's summary, when it was built.

    ``sides`` are (label, run folder) pairs; a side whose folder is None (a findings file) or
    holds no summary has no page to link.
    """
    pages = [Page(current, "This comparison")]
    for label, run_dir in sides:
        if run_dir is None:
            continue
        summary = run_dir / f"{STAGES[-1].name}.html"
        href = f"../{run_dir.name}/{summary.name}"
        if summary.exists() and href not in {p.href for p in pages}:
            pages.append(Page(href, f"Summary of {label}"))
    return header_html(title, pages, current)
