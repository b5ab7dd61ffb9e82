"""Interactive views: static HTML first, data as inert JSON, and one small script library.

A view is a ``<div data-view="NAME">`` holding its static fallback (what a reader without
JavaScript, or a printer, sees) and its data as ``<script type="application/json"
data-role="data">``. The library (``templates/newslens/*.js``, vanilla JavaScript, no
dependencies) turns each root into its interactive form, writing corpus text only with
``textContent``. In JupyterLab every output carries the library, marked
``data-newslens="library"``; :func:`finish_page` keeps a single copy per report and adds a
Content-Security-Policy that allows that one script, by its hash, and no network.

Why no charting or table library: Vega-Lite would inline vega 5.33.1 (515 kB minified),
vega-lite 5.23.0 (252 kB) and vega-embed 6.29.0 (61 kB), 828 kB in every report, and vega
compiles its expressions with ``Function``, which a CSP without ``'unsafe-eval'`` forbids.
itables 2.9.1's offline bundle (DataTables with jQuery) is 619 kB, also calls ``eval`` and
``new Function``, and writes cells as HTML. The views need circles, bars, sortable rows and
a slider: the library here does them in 35 kB of script (and 7 kB of CSS), and the build
prints each report's size.

>>> json_data({"b": "</script>", "a": "\\u2028"})
'{"a":"\\\\u2028","b":"\\\\u003c/script\\\\u003e"}'
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates" / "newslens"
# The library, in load order: the core first (each view file registers itself with it).
LIBRARY_FILES = ("core.js", "table.js", "topic-explorer.js", "keyness-explorer.js", "validation.js")
LIBRARY_MARK = 'data-newslens="library"'
LIBRARY_PATTERN = re.compile(r'<script data-newslens="library">.*?</script>\n?', re.DOTALL)
# The views' stylesheet: part of every report's CSS, and carried by each notebook output.
STYLE_FILE = "views.css"
STYLE_PATTERN = re.compile(r'<style data-newslens="style">.*?</style>\n?', re.DOTALL)
MAX_REPORT_BYTES = 3_000_000  # a report larger than this is flagged when it is built
TABLE_ROWS = 15  # a table longer than this is interactive, and shows this many rows without JS

VIEW_ROOT = re.compile(r'<[a-z]+\s[^>]*\bdata-view="')  # an element that is a view's root
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")


def json_data(data: Any) -> str:
    """``data`` as compact JSON with sorted keys, safe inside ``<script>``: ``< > &`` U+2028/9 escaped.

    NaN and infinities are refused (JSON has none): convert them to ``None`` first.
    """
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: _JSON_ESCAPES[m.group()], text)


def library() -> str:
    """The view library's source: every file of :data:`LIBRARY_FILES`, in order."""
    parts = [(TEMPLATES_DIR / name).read_text(encoding="utf-8") for name in LIBRARY_FILES]
    source = "\n".join(part.strip() for part in parts if part.strip()) + "\n"
    if "<script" in source.lower() or "</script" in source.lower() or "<!--" in source:
        raise ValueError("the view library must not contain '<script', '</script' or '<!--'")
    return source


def report_css() -> str:
    """The stylesheet every report carries: the page's (``newslens.css``) and the views' (``views.css``)."""
    return "".join((TEMPLATES_DIR / name).read_text(encoding="utf-8") for name in ("newslens.css", STYLE_FILE))


def library_script() -> str:
    """The library as one ``<script>`` element, marked so that a report keeps one copy."""
    return f"<script {LIBRARY_MARK}>{library()}</script>"


def view_html(name: str, data: Any, fallback: str = "", *, label: str | None = None) -> str:
    """A view's root: ``fallback`` (static HTML, already escaped) and ``data`` as inert JSON."""
    if not re.fullmatch(r"[a-z][a-z-]*", name):
        raise ValueError(f"view name {name!r}: expected lowercase letters and hyphens")
    aria = f' aria-label="{html.escape(label, quote=True)}"' if label else ""
    return (f'<div class="nl-view" data-view="{name}"{aria}>{fallback}'
            f'<script type="application/json" data-role="data">{json_data(data)}</script></div>')


def with_library(markup: str) -> str:
    """``markup`` with the views' stylesheet and library when it holds a view (a notebook output)."""
    if not VIEW_ROOT.search(markup):
        return markup
    style = (TEMPLATES_DIR / STYLE_FILE).read_text(encoding="utf-8")
    return f'<style data-newslens="style">{style}</style>{markup}{library_script()}'



# ---------------------------------------------------------------- a report page

def script_hash(source: str) -> str:
    """The CSP source expression allowing an inline script whose text is ``source``."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(script_sources: list[str]) -> str:
    """No network at all: data: images, inline styles, and only the given inline scripts."""
    scripts = " ".join(script_hash(s) for s in script_sources) or "'none'"
    return ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            f"script-src {scripts}; base-uri 'none'; form-action 'none'")


def finish_page(page: str) -> str:
    """One library copy at the end of the body (if any view uses it), and the CSP meta tag.

    Every library copy the notebook outputs carry is removed; the current library is
    inserted once, so a report built from older outputs still gets today's scripts.
    """
    page = STYLE_PATTERN.sub("", LIBRARY_PATTERN.sub("", page))  # the report's stylesheet has it
    scripts: list[str] = []
    if VIEW_ROOT.search(page):
        source = library()
        scripts.append(source)
        page = page.replace("</body>", f"<script {LIBRARY_MARK}>{source}</script>\n</body>", 1)
    meta = (f'<meta http-equiv="Content-Security-Policy" '
            f'content="{html.escape(content_security_policy(scripts), quote=True)}">')
    if "<head>" not in page:
        raise ValueError("a report page must have a <head>")
    return page.replace("<head>", f"<head>\n{meta}", 1)


DATA_PATTERN = re.compile(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', re.DOTALL)


def page_sizes(page: str) -> dict[str, int]:
    """A finished page's bytes: in total, in the library, and in view data."""
    library_bytes = sum(len(m.group(0).encode("utf-8")) for m in LIBRARY_PATTERN.finditer(page))
    data_bytes = sum(len(m.group(1).encode("utf-8")) for m in DATA_PATTERN.finditer(page))
    return {"total": len(page.encode("utf-8")), "library": library_bytes, "data": data_bytes}
