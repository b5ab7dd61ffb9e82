"""Hostile text on the validation page: shown as text, answered, downloaded and read back unchanged.

Two pages: the hostile run's own (``tests/test_hostile_text.py`` builds the run in a sandbox;
``python -m newslens validate`` writes its page), and one whose items carry markup, quotes,
commas, line breaks and a right-to-left override in every field the page shows or downloads.
Both must fire no dialog, make no request, log no error and run no script but the library.
"""

from __future__ import annotations

import pytest

from newslens.analysis import validation
from newslens.report import validation_form, views

from test_browser import CHROMIUM
from test_hostile_text import IMG, RLO, SCRIPT, hostile_run  # noqa: F401 - hostile_run is a fixture used below

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install "
                                                "chromium); the validation page's browser test is skipped"),
]

ROOT = '[data-view="validation"]'
CURRENT = f'{ROOT} [data-role="item"]:not([hidden])'
ODD = f'a "quoted", comma\nline {SCRIPT}'
TERMS = [f"{IMG}", f"{RLO}mret", "plain", "x,y", '"q"', ODD]
DATA = {
    "run": "hostile", "model": "0123456789ab", "k": 4, "minutes": 1, "unit": f"unit {IMG}",
    "coder": f"{SCRIPT} \"coder\"",
    "topics": {str(t): {"label": f"Topic {t} {SCRIPT}", "terms": [f"{IMG}", f"t{t}"]} for t in (1, 2, 3, 4)},
    "documents": {"d<1>": {"title": f"{SCRIPT} title", "group": f"{IMG} group", "date": "<b>2022</b>",
                           "text": f"Body {RLO}desrever {SCRIPT} </blockquote></section>"}},
    "items": [{"id": "w001", "kind": "word", "topics": [1], "options": TERMS, "intruder": ODD},
              {"id": "t002", "kind": "topic", "topics": [1], "doc_id": "d<1>", "options": [1, 2, 3, 4],
               "intruder": 4}],
}


def watch(context):
    page = context.new_page()
    seen = {"dialogs": [], "errors": [], "requests": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    return page, seen


def assert_inert(page, seen) -> None:
    page.wait_for_timeout(200)
    assert seen["dialogs"] == [] and seen["errors"] == [] and seen["requests"] == [], seen
    kinds = page.evaluate("Array.from(document.scripts).map(s => s.type === 'application/json' "
                          "? 'data' : (s.dataset.newslens === 'library' ? 'library' : 'other'))")
    assert "other" not in kinds and kinds.count("library") == 1, kinds
    assert page.evaluate("document.querySelectorAll('[onerror], [onload], img, iframe, object, embed').length") == 0
    assert page.evaluate("document.querySelectorAll('[data-error]').length") == 0


def test_crafted_hostile_items_are_text_and_download_unchanged(chromium, tmp_path):
    path = tmp_path / "validate.html"
    path.write_text(views.finish_page(validation_form.page_html(DATA, f"Run {SCRIPT}")), encoding="utf-8")
    context = chromium.new_context(offline=True, accept_downloads=True)
    page, seen = watch(context)
    try:
        page.goto(path.as_uri(), wait_until="load")
        assert_inert(page, seen)
        shown = page.locator(CURRENT).locator('button[data-role="option"]').all_inner_texts()
        assert [s.replace("\n", " ") for s in shown] == [t.replace("\n", " ") for t in TERMS]
        page.locator(CURRENT).locator('button[data-role="option"]').nth(5).click()  # the intruder
        doc = page.locator(CURRENT).locator("blockquote").inner_text()
        assert f"{SCRIPT} title" in doc and "</blockquote></section>" in doc
        page.locator(CURRENT).locator('button[data-role="option"]').first.click()  # topic 1: wrong
        with page.expect_download() as info:
            page.locator(f'{ROOT} a[data-role="download"]').click()
        folder = tmp_path / "validation" / "hostile"
        folder.mkdir(parents=True)
        info.value.save_as(folder / "answers.csv")
        assert_inert(page, seen)
    finally:
        context.close()
    answers = validation.read_answers(folder / "answers.csv").set_index("item")
    assert answers.loc["w001", "chosen"] == ODD and answers.loc["w001", "intruder"] == ODD
    assert answers.loc["w001", [f"option_{i}" for i in range(1, 7)]].tolist() == TERMS
    assert answers.loc["t002", "doc_id"] == "d<1>" and answers.loc["t002", "chosen"] == "1"
    assert set(answers["coder"]) == {DATA["coder"]}


@pytest.mark.slow
def test_the_hostile_runs_validation_page_is_inert(chromium, hostile_run, run_pipeline):  # noqa: F811 - the fixture
    done = run_pipeline(hostile_run, "validate", "params/hostile.yaml", "--coder", f"{SCRIPT}")
    assert done.returncode == 0, done.stderr[-3000:]
    path = hostile_run / "reports" / "hostile" / "validate.html"
    context = chromium.new_context(offline=True)
    page, seen = watch(context)
    try:
        page.goto(path.as_uri(), wait_until="load")
        assert_inert(page, seen)
        assert page.evaluate("document.title").startswith("Hostile run <script>")
        count = page.locator(f'{ROOT} [data-role="item"]').count()
        assert count > 0
        for _ in range(count):
            page.locator(f'{CURRENT} button[data-role="option"]').last.click()
        assert page.locator(f'{ROOT} a[data-role="download"]').count() == 1
        assert_inert(page, seen)
    finally:
        context.close()
