"""reports/index.html: the landing page, one card per run, openable from disk.

A "Comparisons" section links every ``reports/compare/*.html`` (``make compare``).
Each card shows the run's title, corpus size and date range, a thumbnail of the
first figure of its summary report, and links to every report. Facts about a
run are kept in ``reports/<run>/about.json``, so a run built earlier stays
listed even when this build did not process it.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pandas as pd

from newslens import config
from newslens.files import write_text
from newslens.corpus.citations import Citation, run_citations
from newslens.report.distinctive import group_sizes
from newslens.report.markup import citations_html, escape
from newslens.report.navigation import run_pages
from newslens.report.views import finish_page
from newslens.stages import THUMBNAIL_ORDER
from newslens.wording import Words, run_words

THUMBNAIL_WIDTH = 360
_FIRST_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')


def about_run(run: str) -> dict:
    """Title, size and dates of a run, from its processed data (or its saved about.json)."""
    saved = config.reports_dir(run) / "about.json"
    documents_path = config.processed_dir(run) / "documents.parquet"
    params_path = config.PARAMS_DIR / f"{run}.yaml"
    if documents_path.exists() and params_path.exists():
        from newslens.params import load_run

        from newslens.corpus.focus import resolve_focus
        from newslens.report.summary import focus_groups

        documents = pd.read_parquet(documents_path, columns=["doc_id", "parent_id", "location", "group", "date"])
        dates = documents["date"].dropna()
        params = load_run(params_path).params
        # Counted as the summary counts them: named groups, less a group that holds only the focus.
        own = focus_groups(documents, resolve_focus(documents, params.focus))
        words = run_words(params)
        about = {"run": run, "title": params.title, "unit": params.unit,
                 "unit_name": words.unit, "group_name": words.group,
                 "documents": len(documents), "groups": len(group_sizes(documents)[0]) - len(own),
                 "first_date": f"{dates.min():%Y-%m-%d}" if len(dates) else None,
                 "last_date": f"{dates.max():%Y-%m-%d}" if len(dates) else None,
                 "sources": [list(c) for c in run_citations(params.sources)]}
        write_text(saved, json.dumps(about, indent=1, ensure_ascii=False) + "\n")
        return about
    if saved.exists():
        return json.loads(saved.read_text(encoding="utf-8"))
    return {"run": run, "title": run, "unit": "document", "documents": None, "groups": None,
            "first_date": None, "last_date": None}


def thumbnail(report: Path) -> str | None:
    """The report's first PNG figure, shrunk to a thumbnail, as a data URI."""
    from PIL import Image

    if not report.exists():
        return None
    match = _FIRST_PNG.search(report.read_text(encoding="utf-8"))
    if not match:
        return None
    image = Image.open(io.BytesIO(base64.b64decode(match.group(1))))
    image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _card(run_dir: Path) -> str:
    about = about_run(run_dir.name)
    links = "".join(f'<li><a href="{escape(run_dir.name)}/{escape(p.href)}">{escape(p.label)}</a></li>'
                    for p in run_pages(run_dir))
    # An about.json written before runs named their units holds only the unit.
    words = Words(about.get("unit_name") or about.get("unit") or "document", about.get("group_name") or "group")
    size = (f"{words.count(about['documents'])} from {words.count(about['groups'], 'group')}"
            if about["documents"] else "")
    dates = f"{about['first_date']} to {about['last_date']}" if about["first_date"] else "no dates"
    thumb = next(filter(None, (thumbnail(run_dir / f"{stage}.html") for stage in THUMBNAIL_ORDER)), None)
    cited = [Citation(*c) for c in about.get("sources", [])]
    sources = f'<p class="meta">Sources, and what to cite:</p>{citations_html(cited)}' if cited else ""
    image = (f'<img src="{thumb}" alt="First figure of the {escape(about["run"])} summary" width="{THUMBNAIL_WIDTH}">'
             if thumb else "")
    return (f'<section class="card"><div class="thumb">{image}</div><div>'
            f'<h2>{escape(about["title"])}</h2><p class="meta">run <code>{escape(about["run"])}</code> · '
            f'{escape(size)} · {escape(dates)}</p><ul class="pages">{links}</ul>{sources}</div></section>')


COMPARE_DIR = "compare"  # reports/compare/<a>--<b>.html: comparisons of two runs, not a run


def comparisons_html() -> str:
    """The "Comparisons" section: a link to each comparison report, or nothing when there is none."""
    reports = sorted((config.REPORTS_DIR / COMPARE_DIR).glob("*.html"))
    if not reports:
        return ""
    links = "".join(f'<li><a href="{COMPARE_DIR}/{escape(p.name)}">{escape(p.stem.replace("--", " against "))}</a></li>'
                    for p in reports)
    return ("<section><h2>Comparisons</h2><p>Two runs side by side: topics aligned, keyness ranks and "
            f"vocabulary (<code>make compare A=params/x.yaml B=params/y.yaml</code>).</p><ul>{links}</ul></section>")


def write_index() -> Path:
    """Write reports/index.html listing every run folder under reports/, then the comparisons."""
    runs = sorted(p for p in config.REPORTS_DIR.iterdir()
                  if p.is_dir() and p.name != COMPARE_DIR and any(p.glob("*.html")))
    css = ("body{font:16px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2328;"
           "max-width:1000px;margin:0 auto;padding:24px}h1{margin-bottom:0.2em}"
           ".card{display:flex;gap:24px;border:1px solid #d0d7de;border-radius:8px;padding:16px;"
           "margin:16px 0}.card h2{margin:0 0 4px;font-size:1.2em}.meta{color:#59636e;margin:0 0 8px}"
           ".thumb img{border:1px solid #eee}a{color:#0b5cad}ul.pages{display:flex;flex-wrap:wrap;gap:4px 16px;"
           "list-style:none;padding:0;margin:0 0 8px}.sources{font-size:0.9em;margin:0;padding-left:1.2em}")
    body = "".join(_card(run_dir) for run_dir in runs) + comparisons_html()
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>newslens reports</title><style>{css}</style></head><body><main>"
            "<h1>newslens reports</h1><p>Reproducible text analysis. Each run below was "
            "built by <code>make report</code>; every report is a single file that opens offline "
            "and ends with its provenance. Start with a run's <em>05-summary</em>.</p>"
            f"{body}</main></body></html>\n")
    return write_text(config.REPORTS_DIR / "index.html", finish_page(page))
