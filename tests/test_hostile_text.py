"""Hostile text in the data reaches the reports as text, never as markup, script or layout.

A sandboxed run (``params/hostile.yaml``) reads a CSV whose titles, bodies, group names and
KWIC contexts carry HTML/JavaScript injections, markdown and LaTeX control characters and a
right-to-left override, beside a few dozen ordinary documents made from the seed article's
sentences, so every stage has real work to do. All five stages are executed and rendered
with the pipeline's command line, then the index. The reports are checked as files (every
hostile string appears escaped, never live) and in headless Chromium (no dialog, no console
error, no script element, no table broken open).
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from newslens import config, stages

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "[x](javascript:alert(1))"
# The only scripts a report holds: view data (inert JSON) and the one library (newslens.report.views);
# nbconvert may reorder their attributes.
LIVE = re.compile(r"<script(?![^>]*\btype=\"application/json\")(?![^>]*\bdata-newslens=\"library\")|<img\b[^>]*\bsrc=x|<[a-z][^>]*\son[a-z]+\s*=|<a\b[^>]*href=[\"']?javascript:|"
                  r"<style>body\{display:none", re.IGNORECASE)
HOSTILE_TITLE = f"Breaking {SCRIPT} {IMG} </table> </style> $x$ **b** `tick` {RLO}eltit desrever"
HOSTILE_GROUP = f"Outlet {IMG} </style> $x$ $\\undefinedcmd$ **b** | a | b | {RLO}puorg"  # on chart axes too
HOSTILE_BODY = (  # each hostile string within kwic_window (8) words after "cooperation"
    f"The cooperation {SCRIPT} between the two sides grew quickly this spring. "
    f"Officials praised cooperation {IMG} in trade and industry. "
    f"Officials praised cooperation {JS_LINK} in trade and industry again. "
    f"Experts said cooperation </table></td></tr></tbody> will deepen </style> further. "
    f"Cooperation in $x$ and $$y$$ and **b** and | a | b | and `code` and \\alpha stays text. "
    f"A reversed cooperation {RLO}gnirts lasts until the end of this sentence.")
HOSTILE_ID = "evil"  # doc_id hostile-evil (file stem + id column)
RUN_TITLE = f"Hostile run {SCRIPT} \"quoted\" </title> $x$"


def seed_sentences() -> list[str]:
    from newslens.corpus.sentences import split_text_sentences

    text = next((config.PROJECT_ROOT / "data" / "raw" / "seed").glob("*.txt")).read_text(encoding="utf-8")
    return [s for s in split_text_sentences(text.strip()) if len(s.split()) > 5]


def hostile_rows() -> pd.DataFrame:
    """A few dozen ordinary rows from the seed sentences, the hostile rows, and a few odd ones."""
    sentences = seed_sentences()
    rows = []
    for i in range(36):  # pairs of sentences in varying combinations: distinct, overlapping texts
        n = len(sentences)
        a, b = sentences[i % n], sentences[(i + 1 + i // n) % n]  # every pair distinct
        rows.append({"id": f"n{i:02d}", "title": f"Normal article {i}", "group": ["Outlet A", "Outlet B"][i % 2],
                     "date": f"2022-01-{1 + i % 28:02d}", "text": f"{a} {b}"})
    rows.append({"id": HOSTILE_ID, "title": HOSTILE_TITLE, "group": HOSTILE_GROUP, "date": "2022-01-10",
                 "text": HOSTILE_BODY})
    rows.append({"id": "evil2", "title": f"{RLO}Second {SCRIPT}", "group": HOSTILE_GROUP,
                 "date": f"{SCRIPT}", "text": f"{sentences[2]} The cooperation {IMG} continued. {sentences[4]}"})
    rows.append({"id": "evil3", "title": "</style><style>body{display:none}</style>", "group": HOSTILE_GROUP,
                 "date": "2022-01-12", "text": f"{sentences[6]} Cooperation `rm -rf /` and $x$. {sentences[8]}"})
    rows.append({"id": "dup", "title": "Exact duplicate", "group": "Outlet A", "date": "2022-01-03",
                 "text": rows[0]["text"]})
    rows.append({"id": "empty", "title": "No text", "group": "Outlet B", "date": "2022-01-04", "text": "  "})
    return pd.DataFrame(rows)


HOSTILE_PARAMS = {
    "title": RUN_TITLE,
    "sources": [{"path": "data/raw/hostile/hostile.csv", "text_column": "text", "id_column": "id",
                 "title_column": "title", "group_column": "group", "date_column": "date"}],
    "unit": "document",
    "focus": f"hostile-{HOSTILE_ID}",
    "tokenize": {"phrase_min_count": 3, "stopword_max_df": 0.9},
    "keywords": {"top_n": 10, "min_df": 1, "max_df": 0.95, "kwic_terms": ["cooperation", "alert"], "kwic_window": 8,
                 "keyness_min_freq": 1},
    "topics": {"k": "auto", "k_min": 2, "k_max": 3, "k_step": 1, "seeds": [0, 1]},
}


@pytest.fixture(scope="module")
def hostile_run(make_sandbox, run_pipeline) -> Path:
    root = make_sandbox("hostile")
    (root / "data" / "raw" / "hostile").mkdir(parents=True)
    hostile_rows().to_csv(root / "data" / "raw" / "hostile" / "hostile.csv", index=False)
    (root / "params" / "hostile.yaml").write_text(yaml.safe_dump(HOSTILE_PARAMS, allow_unicode=True),
                                                  encoding="utf-8")
    for stage in stages.NAMES:  # each stage renders its report as it finishes
        done = run_pipeline(root, "stage", "params/hostile.yaml", stage)
        assert done.returncode == 0, f"stage {stage} failed on hostile text:\n{done.stderr[-4000:]}"
    done = run_pipeline(root, "index")
    assert done.returncode == 0, done.stderr[-4000:]
    return root


def reports(root: Path) -> list[Path]:
    return [root / "reports" / "hostile" / f"{stage}.html" for stage in stages.NAMES] + \
        [root / "reports" / "index.html"]


def visible_text(page: str) -> str:
    """The report's body text: tags dropped, entities decoded (what a reader sees)."""
    body = page.split("<body", 1)[1]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_every_stage_ran_on_hostile_text(hostile_run):
    documents = pd.read_parquet(hostile_run / "data" / "processed" / "hostile" / "documents.parquet")
    hostile = documents.set_index("doc_id").loc[f"hostile-{HOSTILE_ID}"]
    # Stored as data, verbatim: nothing stripped, nothing escaped in the parquet.
    assert hostile["title"] == HOSTILE_TITLE
    assert hostile["group"] == HOSTILE_GROUP
    assert SCRIPT in hostile["text"] and RLO in hostile["text"] and JS_LINK in hostile["text"]
    log = pd.read_csv(hostile_run / "data" / "processed" / "hostile" / "ingest_log.csv")
    assert log["status"].value_counts().to_dict() == {"ingested": 39, "duplicate": 1, "skipped": 1}
    for stage in stages.NAMES:
        assert (hostile_run / "build" / "hostile" / f"{stage}.done").exists(), stage


@pytest.mark.parametrize("name", [*stages.NAMES, "index"])
def test_report_has_no_live_hostile_markup(hostile_run, name):
    path = (hostile_run / "reports" / "hostile" / f"{name}.html" if name != "index"
            else hostile_run / "reports" / "index.html")
    page = path.read_text(encoding="utf-8")
    lowered = page.lower()
    found = LIVE.findall(page)
    assert found == [], f"live markup from the data reached {path.name}: {found}"
    # Every closing tag the data carries is escaped: the page's own tags stay balanced.
    assert lowered.count("</style>") == lowered.count("<style"), "a </style> from the data closed the stylesheet"
    assert lowered.count("</table>") == lowered.count("<table"), "a </table> from the data closed a table"
    # One document title; the static topic map's SVG <title> tooltips are balanced too.
    assert lowered.count("</title>") == lowered.count("<title")
    assert lowered[:lowered.index("</head>")].count("<title") == 1
    # The run title is shown escaped (nbconvert re-serialises &quot; in text as a plain quote,
    # which is equivalent), and appears as text, character for character.
    assert html.escape(RUN_TITLE, quote=False) in page or html.escape(RUN_TITLE) in page
    assert RUN_TITLE in visible_text(page)


def test_hostile_strings_are_shown_escaped_where_the_data_appears(hostile_run):
    pages = {p.stem: p.read_text(encoding="utf-8") for p in reports(hostile_run)}
    escaped_script = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # The focus title (02, 03, 05), the KWIC context (03), the group name (01 tables, 05 summary).
    for stage in ("02-tokenize", "03-keywords", "05-summary"):
        assert escaped_script in pages[stage], stage
        assert HOSTILE_TITLE in visible_text(pages[stage]), f"{stage}: the focus title is not shown verbatim"
    kwic = visible_text(pages["03-keywords"])
    assert "</table></td></tr></tbody>" in kwic and JS_LINK in kwic and "$x$" in kwic and "**b**" in kwic
    assert RLO + "gnirts" in kwic  # the override character is kept as data
    assert "&lt;/table&gt;" in pages["03-keywords"] and "&lt;/style&gt;" in pages["03-keywords"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["05-summary"]  # the group in the outlet table
    assert "index" in pages and escaped_script in pages["index"]  # the run title on its card


def test_summary_of_a_focus_document_without_a_date(hostile_run, run_pipeline):
    """The focus row 'evil2' has the date '<script>…', which is logged as unparseable and left empty."""
    import shutil as sh

    params = {**HOSTILE_PARAMS, "focus": "hostile-evil2"}
    (hostile_run / "params" / "nodate.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    sh.copytree(hostile_run / "data" / "processed" / "hostile", hostile_run / "data" / "processed" / "nodate",
                dirs_exist_ok=True)
    # the model's identities too: the summary scores any answers against the model they record
    (hostile_run / "reports" / "nodate").mkdir(parents=True, exist_ok=True)
    sh.copy(hostile_run / "reports" / "hostile" / "topics.json", hostile_run / "reports" / "nodate" / "topics.json")
    documents = pd.read_parquet(hostile_run / "data" / "processed" / "nodate" / "documents.parquet")
    if documents.set_index("doc_id").loc["hostile-evil2", "date"] is not pd.NaT:
        pytest.fail("premise broken: the focus document should have no date")
    done = run_pipeline(hostile_run, "stage", "params/nodate.yaml", "05-summary")
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    notebook = json.loads((hostile_run / "build" / "nodate" / "05-summary.ipynb").read_text(encoding="utf-8"))
    shown = ["".join(output.get("data", {}).get("text/html", "")) for cell in notebook["cells"]
             for output in cell.get("outputs", [])]
    focus = [text for text in shown if "Focus: “" in text]
    assert len(focus) == 1 and f"{RLO}Second &lt;script&gt;alert(1)&lt;/script&gt;”" in focus[0]
    assert not any("NaT" in text for text in shown)


def test_chart_labels_from_the_data_are_text_not_mathtext():
    """An outlet named ``$\\undefinedcmd$`` used to crash matplotlib's mathtext parser mid-stage."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from newslens.report import chart_style, plots

    labels = ["A $\\undefinedcmd$ B", "cost $5 and $6", "$x$", "\\frac{$"]
    with matplotlib.rc_context():
        chart_style.setup()
        figure = plots.barh(pd.Series([1, 2, 3, 4], index=labels), title="$\\frac{$", xlabel="$x$")
        figure.savefig(io.BytesIO(), format="png")  # raised ValueError (ParseFatalException) before
    shown = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert sorted(shown) == sorted(labels)  # verbatim, dollars included
    assert figure.axes[0].get_title(loc="left") == "$\\frac{$"
    import matplotlib.pyplot as plt

    plt.close(figure)


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's one headless Chromium (conftest): playwright allows one sync instance per process."""
    return chromium




def drive_views(page) -> None:
    """Use every control of every view: each topic, each group choice, and hostile searches."""
    for topic in page.locator('[data-view="topic-explorer"] [data-topic]').all()[:40]:
        topic.dispatch_event("click")
    for select in page.locator('[data-view="keyness-explorer"] select').all():
        for value in select.evaluate("s => Array.from(s.options).map(o => o.value)")[:12]:
            select.select_option(value)
    for box in page.locator(".nl-view input[type=search]").all():
        for text in ("cooperation", "<script>", "img", RLO, ""):
            box.fill(text)
    page.evaluate("document.querySelectorAll('input[type=range]').forEach(s => "
                  "{ s.value = s.min; s.dispatchEvent(new Event('input', {bubbles: true})); })")


@pytest.mark.browser
@pytest.mark.parametrize("name", [*stages.NAMES, "index"])
def test_report_is_inert_in_a_browser(hostile_run, browser, name):
    path = (hostile_run / "reports" / "hostile" / f"{name}.html" if name != "index"
            else hostile_run / "reports" / "index.html")
    context = browser.new_context(offline=True, java_script_enabled=True)
    page = context.new_page()
    seen = {"dialogs": [], "errors": []}

    def on_dialog(dialog) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(200)  # let any onerror handler of a broken image fire
        assert seen["dialogs"] == [], f"a dialog fired: {seen['dialogs']}"
        assert seen["errors"] == [], f"console errors: {seen['errors']}"
        # No script but the view data (never executed) and at most one copy of the library.
        kinds = page.evaluate("Array.from(document.scripts).map(s => s.type === 'application/json' "
                              "? 'data' : (s.dataset.newslens === 'library' ? 'library' : 'other'))")
        assert "other" not in kinds and kinds.count("library") <= 1, kinds
        assert page.evaluate("document.querySelectorAll('[data-error]').length") == 0, "a view failed to draw"
        drive_views(page)  # select every topic, pick every group, search terms: still inert
        assert seen["dialogs"] == [], f"a dialog fired inside a view: {seen['dialogs']}"
        # No layout escapes its box: the page does not scroll sideways, nor does any view.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        overflowing = page.evaluate("Array.from(document.querySelectorAll('.nl-view'))"
                                    ".filter(v => v.scrollWidth > v.clientWidth + 1).map(v => v.dataset.view)")
        assert overflowing == [], f"content escapes the box of {overflowing}"
        assert page.evaluate("document.querySelectorAll('[onerror], [onload], iframe, object, embed').length") == 0
        assert page.evaluate("Array.from(document.querySelectorAll('a[href]'))"
                             ".filter(a => a.href.toLowerCase().startsWith('javascript:')).length") == 0
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        # The page is still visible: no injected stylesheet hid the body.
        assert page.evaluate("getComputedStyle(document.body).display") != "none"
        assert page.evaluate("document.title").startswith("Hostile run" if name != "index" else "newslens")
        if name != "index":  # the provenance block closes every report, so nothing swallowed the rest
            assert page.evaluate("!!document.querySelector('div.provenance table')")
        if name == "03-keywords":
            cells = page.evaluate("Array.from(document.querySelectorAll('table.kwic td'))"
                                  ".filter(td => td.closest('table.kwic') !== null).map(td => td.textContent)")
            assert any("</table></td></tr></tbody>" in c for c in cells), "the literal </table> is not cell text"
            for hostile in (SCRIPT, IMG, JS_LINK, "</style> further", "$x$ and $$y$$ and **b** and | a"):
                assert any(hostile in c for c in cells), f"{hostile!r} is not shown as KWIC cell text"
            assert any(RLO in c for c in cells)
            # Every KWIC row still has its four cells: no cell content broke out of the table.
            widths = page.evaluate("Array.from(document.querySelectorAll('table.kwic tbody tr'))"
                                   ".map(tr => [tr.children.length, tr.closest('table').tHead.rows[0].cells.length])")
            assert widths and all(cells == header for cells, header in widths), widths
        if name == "05-summary":
            cells = page.evaluate("Array.from(document.querySelectorAll('td')).map(td => td.textContent)")
            assert any(HOSTILE_GROUP in c for c in cells), "the hostile group name is not shown as cell text"
    finally:
        context.close()
