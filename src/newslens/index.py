"""reports/index.html: the landing page listing every run and its reports."""

from __future__ import annotations

from newslens import config
from newslens.io import write_text
from newslens.report import escape


def write_index() -> None:
    """Write a minimal landing page listing each run folder under reports/."""
    runs = sorted(p for p in config.REPORTS_DIR.iterdir() if p.is_dir())
    items = []
    for run_dir in runs:
        links = " · ".join(f'<a href="{escape(run_dir.name)}/{escape(p.name)}">{escape(p.stem)}</a>'
                           for p in sorted(run_dir.glob("*.html")))
        items.append(f"<li><strong>{escape(run_dir.name)}</strong>: {links}</li>")
    write_text(config.REPORTS_DIR / "index.html",
               "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>newslens reports</title>"
               f"</head><body><h1>newslens reports</h1><ul>{''.join(items)}</ul></body></html>\n")
