"""The interactive-view core: inert JSON data, one library per page, a CSP that allows only it.

Unit tests on the Python side (escaping, the page's finishing, the table view's data), a
static check of the library's source (no HTML-parsing sinks), and, in headless Chromium
offline, the table view driven as a reader would: sort, search, download.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse

import pandas as pd
import pytest

from newslens.report import markup, views

HOSTILE = "<script>alert(1)</script> </script> <img src=x onerror=alert(1)> & \u2028 \u2029 \u202egnirts"


def page_with(*markup: str) -> str:
    css = views.report_css()
    body = "".join(views.with_library(m) for m in markup)
    return views.finish_page(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                             f"<title>test</title><style>{css}</style></head><body><main>{body}</main>"
                             "</body></html>\n")


def frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"term": [f"term{i:02d}" for i in range(n)],
                         "count": [(i * 7919) % 101 for i in range(n)],
                         "share": [i / 3 for i in range(n)]})


# ---------------------------------------------------------------- JSON data

def test_json_data_is_sorted_compact_and_cannot_close_its_script():
    text = views.json_data({"b": HOSTILE, "a": [1, 2.5, None]})
    assert text.startswith('{"a":[1,2.5,null],"b":')
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text)["b"] == HOSTILE  # the escapes are JSON: the data is unchanged


def test_json_data_refuses_nan():
    with pytest.raises(ValueError):
        views.json_data({"x": float("nan")})


def test_view_html_keeps_data_inert_and_checks_the_name():
    markup = views.view_html("table", {"t": HOSTILE}, "<p class='nl-static'>fallback</p>", label=HOSTILE)
    assert markup.count("<script") == 1 and '<script type="application/json" data-role="data">' in markup
    assert "<img" not in markup and "</script> </script>" not in markup
    assert 'aria-label="&lt;script&gt;' in markup
    with pytest.raises(ValueError, match="view name"):
        views.view_html("Bad Name", {})


# ---------------------------------------------------------------- the library

SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new Function|"
                   r"setAttribute\(\s*['\"](on|style)|\.srcdoc|createContextualFragment|DOMParser")


def test_library_has_no_html_sinks():
    source = views.library()
    assert [m.group(0) for m in SINKS.finditer(source)] == []
    assert "<script" not in source.lower() and "</script" not in source.lower() and "<!--" not in source
    assert "http://" not in source.replace("http://www.w3.org/2000/svg", "") and "https://" not in source


def test_every_library_file_exists_and_registers_its_view():
    for name in views.LIBRARY_FILES:
        path = views.TEMPLATES_DIR / name
        assert path.exists(), name
        if name != "core.js" and path.read_text(encoding="utf-8").strip().count("\n") > 2:
            view = name.removesuffix(".js")
            assert f'NL.register("{view}"' in path.read_text(encoding="utf-8"), name


# ---------------------------------------------------------------- a finished page

def test_finish_page_keeps_one_library_and_allows_it_by_hash():
    table = markup.table_html(frame())
    page = page_with(table, table, "<p>no view</p>")
    assert page.count(views.LIBRARY_MARK) == 1
    executable = re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.DOTALL)
    assert len(executable) == 1
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    policy = policy.replace("&#x27;", "'")
    digest = base64.b64encode(hashlib.sha256(executable[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in policy
    assert "default-src 'none'" in policy and "connect-src" not in policy  # default-src covers it
    assert "http" not in policy and "unsafe-eval" not in policy and "*" not in policy


def test_a_page_without_views_gets_no_script_at_all():
    page = views.finish_page("<html><head><title>x</title></head><body><p>text</p></body></html>")
    assert "<script" not in page and "script-src 'none'" in page.replace("&#x27;", "'")


def test_finish_page_replaces_a_stale_library_copy():
    stale = markup.table_html(frame()) + '<script data-newslens="library">var old = 1;</script>'
    page = views.finish_page(f"<html><head></head><body>{stale}</body></html>")
    assert "var old" not in page and page.count(views.LIBRARY_MARK) == 1


# ---------------------------------------------------------------- the table view's data

def table_data(markup: str) -> dict:
    raw = re.search(r'<script type="application/json" data-role="data">(.*?)</script>', markup).group(1)
    return json.loads(raw)


def test_short_tables_stay_static():
    html = markup.table_html(frame(15))
    assert "data-view" not in html and html.count("<tr>") == 16


def test_long_tables_show_their_first_rows_and_carry_every_row():
    html = markup.table_html(frame(40), numeric_format={"share": ".2f"}, caption="Terms & counts")
    static = html.split('<script type="application/json"')[0]
    assert static.count("<tr>") == 1 + views.TABLE_ROWS and "The first 15 of 40 rows" in static
    data = table_data(html)
    assert len(data["cells"]) == 40 and data["cells"][39] == ["term39", "84", "13.00"]
    assert data["values"]["1"][39] == 84 and data["values"]["2"][1] == 0.3333  # display precision
    assert "0" not in data["values"] and data["file"] == "terms-counts.csv"
    assert [c["num"] for c in data["columns"]] == [False, True, True]


def test_table_view_bytes_do_not_depend_on_the_last_bits():
    base = frame(30)
    nudged = base.assign(share=base["share"] * (1 + 1e-13))
    assert markup.table_html(base) == markup.table_html(nudged)


def test_hostile_cells_stay_text_in_both_forms():
    hostile = pd.DataFrame({"title": [HOSTILE] * 20, "n": range(20)})
    html = markup.table_html(hostile)
    assert "<img" not in html and "<script>alert" not in html
    assert table_data(html)["cells"][19][0] == HOSTILE


# ---------------------------------------------------------------- in a real browser

@pytest.mark.browser
def test_table_view_sorts_searches_and_downloads_every_row(browser_page, tmp_path):
    rows = frame(120).assign(title=[f"Title {i} {HOSTILE if i == 7 else ''}" for i in range(120)])
    path = tmp_path / "table.html"
    path.write_text(page_with(markup.table_html(rows, caption="All terms")), encoding="utf-8")
    page, seen = browser_page(path)
    view = page.locator('[data-view="table"]')
    assert view.locator("[data-error]").count() == 0 and view.get_attribute("data-error") is None
    assert view.locator("tbody tr").count() == 120  # every row, not the static 15
    assert view.locator(".nl-static").count() == 0
    # Sort by count: descending first for a number, then ascending.
    view.locator("button.nl-sort", has_text="count").click()
    counts = [int(t) for t in view.locator("tbody tr td:nth-child(2)").all_text_contents()]
    assert counts == sorted(counts, reverse=True)
    view.locator("button.nl-sort", has_text="count").click()
    counts = [int(t) for t in view.locator("tbody tr td:nth-child(2)").all_text_contents()]
    assert counts == sorted(counts)
    # Search narrows the rows; the hostile title is text.
    view.locator("input[type=search]").fill("term07")
    assert view.locator("tbody tr").count() == 1
    assert HOSTILE.split(" \u2028")[0] in view.locator("tbody tr td:nth-child(4)").text_content()
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    # The CSV link holds every row, whatever the search.
    href = view.locator("a.nl-csv").get_attribute("href")
    assert href.startswith("data:text/csv;charset=utf-8,")
    csv_text = urllib.parse.unquote(href.split(",", 1)[1]).lstrip("\ufeff")
    parsed = pd.read_csv(__import__("io").StringIO(csv_text))
    assert list(parsed.columns) == ["term", "count", "share", "title"] and len(parsed) == 120
    assert parsed["share"].iloc[1] == 0.3333 and parsed["title"].iloc[7].startswith("Title 7 <script>")
    page.screenshot(path=str(screenshots() / "table-view.png"), full_page=True)
    assert seen["requests"] == [] and seen["errors"] == [] and seen["dialogs"] == []


@pytest.mark.browser
def test_views_render_in_an_output_added_the_way_jupyterlab_adds_one(browser_page, tmp_path):
    """JupyterLab sets a trusted output's HTML on a node, re-creates its scripts so that they
    run, and attaches the node to the page later: the view must come alive all the same."""
    output = views.with_library(markup.table_html(frame(30)))
    path = tmp_path / "lab.html"
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><div id='lab'></div>"
                    "</body></html>", encoding="utf-8")
    page, seen = browser_page(path)
    page.evaluate("""(markup) => {
        const node = document.createElement('div');
        node.innerHTML = markup;                       // what JupyterLab's renderHTML does
        node.querySelectorAll('script').forEach((old) => {
            const script = document.createElement('script');
            for (const a of old.attributes) script.setAttribute(a.name, a.value);
            script.text = old.textContent;
            old.parentNode.replaceChild(script, old);  // evalInnerHTMLScriptTags
        });
        document.getElementById('lab').appendChild(node);
    }""", output)
    assert page.locator('[data-view="table"].nl-live tbody tr').count() == 30
    page.evaluate("(markup) => { const n = document.createElement('div'); n.innerHTML = markup;"
                  " n.querySelectorAll('script').forEach((old) => { const s = document.createElement('script');"
                  " for (const a of old.attributes) s.setAttribute(a.name, a.value); s.text = old.textContent;"
                  " old.parentNode.replaceChild(s, old); }); document.body.appendChild(n); }", output)
    assert page.locator('[data-view="table"].nl-live').count() == 2  # a second output, same library
    assert seen["errors"] == []


def screenshots():
    from newslens import config

    folder = config.BUILD_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.browser
def test_without_javascript_the_first_rows_remain_and_the_page_prints(chromium, tmp_path):
    path = tmp_path / "static.html"
    path.write_text(page_with(markup.table_html(frame(40), caption="All terms")), encoding="utf-8")
    context = chromium.new_context(offline=True, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        assert page.locator("tbody tr").count() == views.TABLE_ROWS
        assert "The first 15 of 40 rows" in page.locator(".nl-static.note").text_content()
        assert len(page.pdf()) > 1000  # it prints (headless Chromium's print to PDF)
    finally:
        context.close()


@pytest.mark.browser
def test_printing_hides_the_controls_and_shows_every_row(browser_page, tmp_path):
    path = tmp_path / "print.html"
    path.write_text(page_with(markup.table_html(frame(200), caption="All terms")), encoding="utf-8")
    page, seen = browser_page(path)
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.nl-toolbar')).display") == "none"
    assert page.evaluate("getComputedStyle(document.querySelector('.nl-scroll')).maxHeight") == "none"
    assert page.locator("tbody tr").count() == 200 and seen["errors"] == []


def test_the_stylesheet_naming_a_view_does_not_pull_in_the_library():
    page = views.finish_page('<html><head><style>.nl-view[data-view="table"] {}</style></head>'
                             "<body><p>no view here</p></body></html>")
    assert views.LIBRARY_MARK not in page


def test_table_floats_show_four_digits_and_from_ten_thousand_whole_numbers():
    """A float cell shows 4 significant digits; one of 10,000 or more (a count a summary made a
    float, as pandas' describe() does) reads as a whole number, never as 2.548e+04."""
    html = markup.table_html(pd.DataFrame({"count": [25_484.0], "mean": [79.1612], "share": [0.5]}))
    assert ">25,484<" in html and ">79.16<" in html and ">0.5<" in html and "e+04" not in html
