"""What notebooks display: escaped tables, text, headings and token lists.

Every string that comes from the corpus passes through :func:`html.escape`
before it reaches a report, and every float at the precision it is shown with
(:func:`newslens.precision.display_values` for what charts draw). Turning executed notebooks into HTML
files, with their provenance, is :mod:`newslens.pipeline.render`.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

import pandas as pd

from newslens.precision import display_value

# ---------------------------------------------------------------- display helpers

def escape(value: object) -> str:
    """HTML-escape any value for display; None and NaN show as an empty cell."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


def _cell_text(frame: pd.DataFrame, column: str, value: object, numeric_format: dict[str, str]) -> str:
    numeric = pd.api.types.is_numeric_dtype(frame[column]) and not isinstance(value, bool)
    if numeric and value == value and value is not None:
        if column in numeric_format:
            return format(value, numeric_format[column])
        if isinstance(value, float):  # 4 significant digits; from 10,000 on, whole numbers (never 2.548e+04)
            return format(value, ",.4g" if abs(value) < 10_000 else ",.0f")
        return format(value, ",")
    return "" if value is None or value is pd.NaT or (isinstance(value, float) and value != value) \
        else str(value)


def _static_table(frame: pd.DataFrame, texts: list[list[str]], numeric: list[bool], *,
                  css_class: str, caption: str | None, column_classes: dict[str, str]) -> str:
    def cls(c: int, column: str) -> str:
        return " ".join(x for x in ("num" if numeric[c] else "", column_classes.get(column, "")) if x)

    head = "".join(f'<th class="{cls(c, col)}">{escape(header(col))}</th>' for c, col in enumerate(frame.columns))
    rows = "".join("<tr>" + "".join(f'<td class="{cls(c, col)}">{escape(text)}</td>'
                                    for c, (col, text) in enumerate(zip(frame.columns, row))) + "</tr>"
                   for row in texts)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (f'<table class="{escape(css_class)}">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table>')


# Column names as a reader reads them: a table's header never shows a stored column name.
HEADER_WORDS = {"doc_id": "document id", "parent_id": "document", "top_terms": "top terms",
                "coherence_sd": "coherence spread (sd)", "docs_elsewhere": "other documents using it",
                "share_elsewhere": "share of the other documents", "n_docs": "documents", "n_tokens": "tokens",
                "log_ratio": "log ratio", "log_ratio_low": "log ratio, 95% low", "log_ratio_high": "log ratio, 95% high",
                "doc_share": "share of its documents", "log_odds_z": "log odds (z)", "date_precision": "date precision"}


def header(column) -> str:
    """A column's header in words: :data:`HEADER_WORDS`, else its name with spaces for underscores.

    >>> header("doc_id"), header("kept_terms"), header("similarity")
    ('document id', 'kept terms', 'similarity')
    """
    column = str(column)
    return HEADER_WORDS.get(column, column.replace("_", " "))


def table_html(frame: pd.DataFrame, *, numeric_format: dict[str, str] | None = None,
               css_class: str = "", caption: str | None = None, name: str | None = None,
               column_classes: dict[str, str] | None = None, static_rows: int | None = None,
               label: str | None = None) -> str:
    """An HTML table of ``frame`` with every cell escaped and numbers right-aligned.

    A frame of more than :data:`newslens.report.views.TABLE_ROWS` rows becomes a table view: its
    first rows stay as static HTML (what prints and what a reader without JavaScript sees),
    and every row travels as JSON data, which the page makes searchable, sortable and
    downloadable as CSV (``name``.csv). Numbers sort and download at display precision.
    """
    from newslens.report import views

    numeric_format = numeric_format or {}
    column_classes = column_classes or {}
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]
    texts = [[_cell_text(frame, column, value, numeric_format) for column, value in zip(frame.columns, row)]
             for row in frame.itertuples(index=False, name=None)]
    limit = views.TABLE_ROWS if static_rows is None else static_rows
    if len(frame) <= views.TABLE_ROWS:
        return _static_table(frame, texts, numeric, css_class=css_class, caption=caption,
                             column_classes=column_classes)
    static = _static_table(frame, texts[:limit], numeric, css_class=css_class, caption=caption,
                           column_classes=column_classes)
    note = (f'<p class="note nl-static">The first {limit:,} of {len(frame):,} rows. With JavaScript on, '
            "the table shows every row, sorts, searches and downloads as CSV.</p>")
    values = {str(c): _sort_values(frame.iloc[:, c]) for c, is_num in enumerate(numeric) if is_num}
    data = {"caption": caption, "table_class": css_class or None,
            "columns": [{"name": header(col), "num": bool(numeric[c]), "cls": column_classes.get(str(col))}
                        for c, col in enumerate(frame.columns)],
            "cells": texts, "values": values, "file": f"{_file_stem(name or caption or 'table')}.csv"}
    return views.view_html("table", data, f'<div class="nl-static">{static}</div>{note}',
                           label=label or caption or name)


def _sort_values(column: pd.Series) -> list:
    """A numeric column as the table view sorts and downloads it: integers exact, floats shown."""
    if pd.api.types.is_integer_dtype(column):
        return [int(v) for v in column.tolist()]
    return [display_value(v) if math.isfinite(v) else None for v in column.astype(float).tolist()]


def _file_stem(text: str) -> str:
    """A download's file name from a caption: lowercase words joined by hyphens."""
    import re

    stem = "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:60].strip("-")
    return stem or "table"


def show_table(frame: pd.DataFrame, **kwargs) -> None:
    """Display :func:`table_html` in a notebook."""
    from IPython.display import HTML, display

    from newslens.report.views import with_library

    display(HTML(with_library(table_html(frame, **kwargs))))


def show_text(text: str, *, tag: str = "p", css_class: str = "") -> None:
    """Display corpus or generated text, escaped, as one paragraph (or other block tag)."""
    from IPython.display import HTML, display

    display(HTML(f'<{tag} class="{escape(css_class)}">{escape(text)}</{tag}>'))


def show_html(markup: str) -> None:
    """Display HTML built by this module's helpers (which escape all corpus text)."""
    from IPython.display import HTML, display

    from newslens.report.views import with_library

    display(HTML(with_library(markup)))


def show_heading(text: str, level: int = 2) -> None:
    """Display an escaped heading; used where the heading carries data (titles, run names)."""
    from IPython.display import HTML, display

    display(HTML(f"<h{level}>{escape(text)}</h{level}>"))


def tokens_html(sentences: Sequence[Sequence[str]], display: dict[str, str]) -> str:
    """Tokenized sentences, one per line, phrases marked; every token escaped."""
    lines = []
    for sentence in sentences:
        parts = [f"<mark>{escape(display.get(t, t))}</mark>" if "_" in t else escape(t) for t in sentence]
        lines.append(f"<li>{' · '.join(parts) or '<em>(no tokens)</em>'}</li>")
    return f'<ol class="tokens">{"".join(lines)}</ol>'


def kwic_html(frame: pd.DataFrame, *, max_rows: int = 25, term: str | None = None, total: int | None = None) -> str:
    """A ``<table class="kwic">``: document (its ``source`` when given, else its id), left context, keyword,
    right context.

    The left context is right-aligned and the keyword centred (``.kwic td.left``,
    ``td.term``, ``td.right`` in the report CSS), so keywords line up in one
    column. Every cell is escaped; a caption says how many rows are kept when the
    frame has more than ``max_rows``. More than 15 rows make a table view
    (:func:`table_html`): the first 15 static, all kept rows searchable,
    so the lines can be filtered by any word of their context or document. ``total``: how many
    matches there are when ``frame`` holds only the first of them (the caption counts them all).
    """
    missing = [c for c in ("doc_id", "left", "keyword", "right") if c not in frame.columns]
    if missing:
        raise ValueError(f"frame: missing KWIC columns {missing}; expected the output of kwic()")
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows: must be a positive integer; got {max_rows!r}")
    # The document as a reader knows it ("outlet · title · date") when the lines carry it.
    where = "source" if "source" in frame.columns else "doc_id"
    shown = frame.head(max_rows)[[where, "left", "keyword", "right"]].rename(columns={where: "document"})
    total = len(frame) if total is None else total
    if total < len(frame):
        raise ValueError(f"total: {total} matches, fewer than the frame's {len(frame)} rows")
    caption = f"{len(shown):,} of {total:,} matches" if total > len(shown) else None
    return table_html(shown.astype(str), css_class="kwic", caption=caption,
                      name=f"kwic-{term}" if term else "kwic",
                      label=f"Keyword in context: {term}" if term else "Keyword in context",
                      column_classes={"document": "doc", "left": "left", "keyword": "term", "right": "right"})


def citations_html(citations) -> str:
    """A run's sources (:func:`newslens.corpus.citations.run_citations`) as a list: each one's name,
    what to cite and its licence, escaped."""
    items = "".join(f"<li><strong>{escape(c.name)}</strong>: {escape(c.cite.rstrip('.'))}. "
                    f"Licence: {escape(c.licence.rstrip('.'))}.</li>" for c in citations)
    return f'<ul class="sources">{items}</ul>'


# Largest file a page carries inside itself (a shared report stays under 3 MB in all).
EMBED_LIMIT = 1_000_000


def download_link(path, label: str, mime: str = "text/plain") -> str:
    """A link that saves the file at ``path`` under its own name, the file inside the page as a data URI.

    For small files a reader of the shared report would otherwise not have (a log, a word list).
    """
    import base64
    from pathlib import Path

    size = Path(path).stat().st_size
    if size > EMBED_LIMIT:  # a page is shared whole: a file this size would make it several megabytes
        return (f"{escape(label)}: {escape(Path(path).name)} ({size / 1000:,.1f} kB) is too large to put inside "
                "this page; it is in the run's folder of processed data")
    payload = Path(path).read_bytes()
    encoded = base64.b64encode(payload).decode("ascii")
    return (f'<a download="{escape(Path(path).name)}" href="data:{mime};charset=utf-8;base64,{encoded}">'
            f"{escape(label)}</a> ({escape(Path(path).name)}, {len(payload) / 1000:,.1f} kB)")


def linked_html(text: str, links: dict[str, str]) -> str:
    """``text`` escaped, with the first occurrence of each phrase of ``links`` a link to its page.

    >>> linked_html("see the ingest report & more", {"the ingest report": "01-ingest.html"})
    'see <a href="01-ingest.html">the ingest report</a> &amp; more'
    """
    out = escape(text)
    for phrase, href in links.items():
        out = out.replace(escape(phrase), f'<a href="{escape(href)}">{escape(phrase)}</a>', 1)
    return out


def show_linked_text(text: str, links: dict[str, str], *, css_class: str = "") -> None:
    """Display ``text`` as :func:`show_text` does, with the pages it names linked (:func:`linked_html`)."""
    from IPython.display import HTML, display

    display(HTML(f'<p class="{escape(css_class)}">{linked_html(text, links)}</p>'))
